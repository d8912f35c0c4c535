//! The control API (`/sandbox/v1/...`): what Google has no API for — creating products and
//! purchases as if a user bought them, moving billing time, injecting faults, and reading
//! the log of calls the sandbox answered. Documented in the README.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{GoogleApiError, json_body as body};
use crate::lifecycle::Subscription;
use crate::period::Period;
use crate::state::{
    ActionDetails, DAY_MS, Detail, Fault, Kind, OneTime, OneTimeState, Product, Purchase, Shared,
    TransitionError, random_token,
};
use playbill_google::rtdn::{one_time_type, subscription_type};

/// Grace period of a base plan unless the product says otherwise.
pub const DEFAULT_GRACE_DAYS: u32 = 7;

type ApiResult<T> = Result<T, GoogleApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    product_id: String,
    #[serde(rename = "type")]
    kind: Kind,
    #[serde(default)]
    base_plan_id: Option<String>,
    #[serde(default)]
    billing_period: Option<Period>,
    /// Days of grace after a declined renewal (0: none; default 7).
    #[serde(default)]
    grace_days: Option<u32>,
    /// Days of account hold after grace (default 60 minus grace).
    #[serde(default)]
    hold_days: Option<u32>,
    /// Pre-tax price of one unit or billing period, in micros (default 4 990 000).
    #[serde(default)]
    price_micros: Option<i64>,
    /// ISO 4217 currency of the price (default USD).
    #[serde(default)]
    currency: Option<String>,
    /// Subscriptions: a prepaid base plan (no renewals; extended by top-ups).
    #[serde(default)]
    prepaid: bool,
    /// Subscriptions: an installment base plan with this many committed payments (2-24).
    #[serde(default)]
    installments: Option<u32>,
}

/// `POST /sandbox/v1/apps/{package}/products`: creates or replaces a product.
pub async fn create_product(
    State(shared): State<Shared>,
    Path(package): Path<String>,
    b: Result<Json<NewProduct>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Product>)> {
    let b = body(b)?;
    if b.product_id.is_empty() || package.is_empty() {
        return Err(GoogleApiError::invalid(
            "required",
            "product_id must not be empty",
        ));
    }
    let grace_days = b.grace_days.unwrap_or(DEFAULT_GRACE_DAYS);
    if grace_days > 30 {
        return Err(GoogleApiError::invalid(
            "invalid",
            "grace_days must be between 0 and 30",
        ));
    }
    let hold_days = b.hold_days.unwrap_or(60 - grace_days);
    if hold_days > 60 {
        return Err(GoogleApiError::invalid(
            "invalid",
            "hold_days must be between 0 and 60",
        ));
    }
    let price_micros = b.price_micros.unwrap_or(crate::state::DEFAULT_PRICE_MICROS);
    if !(0..=1_000_000_000_000).contains(&price_micros) || price_micros % 10_000 != 0 {
        return Err(GoogleApiError::invalid(
            "invalid",
            "price_micros must be a whole number of cents between 0 and 1 000 000 units",
        ));
    }
    let currency = b.currency.unwrap_or_else(|| "USD".into());
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "currency must be an ISO 4217 code such as USD",
        ));
    }
    if b.kind != Kind::Subscription && (b.prepaid || b.installments.is_some()) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "prepaid and installments apply to subscriptions",
        ));
    }
    if b.prepaid && b.installments.is_some() {
        return Err(GoogleApiError::invalid(
            "invalid",
            "a base plan is prepaid or has installments, not both",
        ));
    }
    if b.installments.is_some_and(|n| !(2..=24).contains(&n)) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "installments must be between 2 and 24 committed payments",
        ));
    }
    let product = Product {
        prepaid: b.prepaid,
        installments: b.installments,
        price_micros,
        currency,
        grace_days,
        hold_days,
        package_name: package.clone(),
        product_id: b.product_id.clone(),
        kind: b.kind,
        base_plan_id: b.base_plan_id.unwrap_or_else(|| "monthly".into()),
        billing_period: b.billing_period.unwrap_or(Period {
            years: 0,
            months: 1,
            days: 0,
        }),
    };
    let mut world = shared.lock();
    world
        .products
        .insert((package, b.product_id), product.clone());
    // The catalog APIs show it too.
    world.catalog.sync_from_control(&product);
    Ok((StatusCode::CREATED, Json(product)))
}

/// `GET /sandbox/v1/apps/{package}/products`
pub async fn list_products(
    State(shared): State<Shared>,
    Path(package): Path<String>,
) -> Json<Value> {
    let world = shared.lock();
    let mut products: Vec<&Product> = world
        .products
        .values()
        .filter(|p| p.package_name == package)
        .collect();
    products.sort_by(|a, b| a.product_id.cmp(&b.product_id));
    Json(json!({ "products": products }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPurchase {
    product_id: String,
    /// Payment not completed yet (cash, slow payment methods).
    #[serde(default)]
    pending: bool,
    #[serde(default)]
    obfuscated_account_id: Option<String>,
    #[serde(default)]
    obfuscated_profile_id: Option<String>,
    /// Made by a license tester: no money moves.
    #[serde(default)]
    test_purchase: bool,
    /// One-time products only; 1 when absent.
    #[serde(default)]
    quantity: Option<i32>,
    #[serde(default)]
    region_code: Option<String>,
    /// Choose the token instead of a random one.
    #[serde(default)]
    purchase_token: Option<String>,
}

/// `POST /sandbox/v1/apps/{package}/purchases`: a user buys a product.
pub async fn create_purchase(
    State(shared): State<Shared>,
    Path(package): Path<String>,
    b: Result<Json<NewPurchase>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let b = body(b)?;
    let mut world = shared.lock();
    let product = world
        .products
        .get(&(package.clone(), b.product_id.clone()))
        .cloned()
        .ok_or_else(|| {
            GoogleApiError::not_found(format!(
                "product {:?} does not exist in app {package:?}: create it first with POST /sandbox/v1/apps/{package}/products",
                b.product_id
            ))
        })?;
    let quantity = b.quantity.unwrap_or(1);
    if product.kind == Kind::Subscription && quantity != 1 {
        return Err(GoogleApiError::invalid(
            "invalid",
            "quantity applies to one-time products only",
        ));
    }
    if !(1..=100).contains(&quantity) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "quantity must be between 1 and 100",
        ));
    }
    for (name, v) in [
        ("obfuscated_account_id", &b.obfuscated_account_id),
        ("obfuscated_profile_id", &b.obfuscated_profile_id),
    ] {
        if v.as_ref().is_some_and(|v| v.len() > 64) {
            return Err(GoogleApiError::invalid(
                "invalid",
                format!("{name} is longer than 64 characters"),
            ));
        }
    }
    let token = b.purchase_token.unwrap_or_else(|| random_token("sbx.", 96));
    if token.is_empty() || !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "purchase_token must be printable ASCII",
        ));
    }
    if world.purchases.contains_key(&token) {
        return Err(GoogleApiError::new(
            StatusCode::CONFLICT,
            "duplicate",
            "purchase_token already exists",
        ));
    }
    let now = world.now();
    let order_id = world.next_order_id();
    let detail = match product.kind {
        Kind::OneTime => Detail::OneTime(OneTime {
            state: if b.pending {
                OneTimeState::Pending
            } else {
                OneTimeState::Purchased
            },
            acknowledged: false,
            consumed: false,
            quantity,
            refundable_quantity: quantity,
            purchase_time_ms: now,
            completion_time_ms: (!b.pending).then_some(now),
        }),
        Kind::Subscription => {
            Detail::Subscription(Subscription::for_product(&product, now, b.pending))
        }
    };
    let is_subscription = product.kind == Kind::Subscription;
    world.purchases.insert(
        token.clone(),
        Purchase {
            package_name: package.clone(),
            product_id: product.product_id.clone(),
            token: token.clone(),
            order_id: order_id.clone(),
            obfuscated_account_id: b.obfuscated_account_id,
            obfuscated_profile_id: b.obfuscated_profile_id,
            test_purchase: b.test_purchase,
            region_code: b.region_code.unwrap_or_else(|| "US".into()),
            detail,
        },
    );
    // What Google publishes for a new purchase (a pending subscription publishes nothing
    // until it is paid or abandoned).
    if !is_subscription {
        world.publish_one_time(
            &package,
            &token,
            &product.product_id,
            one_time_type::PURCHASED,
            now,
        );
    } else if !b.pending {
        world.publish_subscription(&package, &token, subscription_type::PURCHASED, now);
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "package_name": package,
            "product_id": product.product_id,
            "type": product.kind,
            "purchase_token": token,
            "order_id": order_id,
        })),
    ))
}

/// Every lifecycle action of `POST …/purchases/{token}:{action}` (the README's table).
pub const ACTIONS: &[&str] = &[
    "complete",
    "pending_cancel",
    "decline_payment",
    "fix_payment",
    "cancel",
    "restore",
    "defer",
    "pause",
    "resume",
    "revoke",
    "expire",
    "price_change",
    "confirm_price",
    "add_item",
    "remove_item",
    "change_plan",
    "resignup",
    "top_up",
    "resubscribe",
    "refund",
    "request_refund",
];

/// `POST /sandbox/v1/apps/{package}/purchases/{token}:{action}` — a lifecycle transition
/// (see the README's table). Impossible transitions are 409 and change nothing.
pub async fn purchase_action(
    State(shared): State<Shared>,
    Path((package, segment)): Path<(String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let Some((token, action)) = segment.rsplit_once(':') else {
        return Err(GoogleApiError::not_found("expected {token}:{action}"));
    };
    // Details are optional: an empty body (or `{}`) means none.
    let details: ActionDetails = if raw.iter().all(u8::is_ascii_whitespace) {
        ActionDetails::default()
    } else {
        serde_json::from_slice(&raw)
            .map_err(|e| GoogleApiError::invalid("invalid", format!("invalid JSON body: {e}")))?
    };
    let mut world = shared.lock();
    world.last_new_token = None;
    match world.transition(&package, token, action, &details) {
        Ok(()) => {
            let mut answer = json!({"purchase_token": token, "done": action});
            if let Some(new) = world.last_new_token.take() {
                let key = if action == "request_refund" {
                    "pending_refund_token"
                } else {
                    "new_purchase_token"
                };
                answer[key] = json!(new);
            }
            Ok(Json(answer))
        }
        Err(TransitionError::NoSuchPurchase) => Err(GoogleApiError::not_found(
            "no such purchase token in this app",
        )),
        Err(TransitionError::UnknownAction(a)) => Err(GoogleApiError::not_found(format!(
            "unknown action {a:?}: use one of {}",
            ACTIONS.join(", ")
        ))),
        Err(TransitionError::NotAllowed(m)) => {
            Err(GoogleApiError::new(StatusCode::CONFLICT, "invalidState", m))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    #[serde(default)]
    seconds: Option<i64>,
    #[serde(default)]
    duration: Option<Period>,
}

fn clock_json(world: &crate::state::World) -> Value {
    let now = world.now();
    json!({
        "now": playbill_google::observe::format_time(now),
        "now_millis": now,
        "offset_millis": world.clock_offset_ms,
    })
}

/// `GET /sandbox/v1/clock`
pub async fn get_clock(State(shared): State<Shared>) -> Json<Value> {
    Json(clock_json(&shared.lock()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// RFC 3339, e.g. `2027-01-01T00:00:00Z`.
    time: String,
}

/// `POST /sandbox/v1/clock:set` with `{"time": "2027-01-01T00:00:00Z"}`: billing time jumps
/// there, everything due on the way happening at its own time. Time only moves forward.
pub async fn set_clock(
    State(shared): State<Shared>,
    b: Result<Json<SetClock>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let b = body(b)?;
    let target = playbill_google::observe::parse_time("time", &b.time)
        .map_err(|e| GoogleApiError::invalid("invalid", e.to_string()))?;
    let mut world = shared.lock();
    if target < world.now() {
        return Err(GoogleApiError::invalid(
            "invalid",
            "time must not be before the current billing time: the clock only moves forward",
        ));
    }
    world.advance_to(target);
    Ok(Json(clock_json(&world)))
}

/// `POST /sandbox/v1/clock:advance` with `{"seconds": N}` or `{"duration": "P1M"}`.
pub async fn advance_clock(
    State(shared): State<Shared>,
    b: Result<Json<Advance>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let b = body(b)?;
    let mut world = shared.lock();
    let now = world.now();
    let target = match (b.seconds, b.duration) {
        (Some(s), None) if (0..=3650 * DAY_MS / 1000).contains(&s) => now + s * 1000,
        (None, Some(p)) => p.add_to(now),
        (Some(_), None) => {
            return Err(GoogleApiError::invalid(
                "invalid",
                "seconds must be between 0 and ten years",
            ));
        }
        _ => {
            return Err(GoogleApiError::invalid(
                "invalid",
                "give exactly one of seconds or duration",
            ));
        }
    };
    world.advance_to(target);
    Ok(Json(clock_json(&world)))
}

/// `POST /sandbox/v1/faults`: the next matching Google calls fail with the given status.
pub async fn add_fault(
    State(shared): State<Shared>,
    b: Result<Json<Fault>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Fault>)> {
    let f = body(b)?;
    if !(400..=599).contains(&f.status) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "status must be an HTTP error status (400-599)",
        ));
    }
    shared.lock().faults.push(f.clone());
    Ok((StatusCode::CREATED, Json(f)))
}

/// `DELETE /sandbox/v1/faults`
pub async fn clear_faults(State(shared): State<Shared>) -> StatusCode {
    shared.lock().faults.clear();
    StatusCode::NO_CONTENT
}

/// `GET /sandbox/v1/requests`: the Google calls answered so far, oldest first.
pub async fn requests(State(shared): State<Shared>) -> Json<Value> {
    Json(json!({ "requests": shared.lock().requests }))
}

/// `GET /sandbox/v1/notifications`: every RTDN published so far, oldest first, decoded.
pub async fn notifications(State(shared): State<Shared>) -> Json<Value> {
    let mut world = shared.lock();
    let now = world.now();
    world.run_until(now);
    Json(json!({ "notifications": world.notifications }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RtdnSettings {
    /// Also forward every RTDN to this external Pub/Sub topic (null: stop forwarding).
    forward: Option<crate::forward::ForwardTarget>,
}

fn rtdn_json(world: &crate::state::World) -> Value {
    json!({"topic": world.rtdn_topic, "forward": world.forward_target})
}

/// `GET /sandbox/v1/rtdn`: where notifications go.
pub async fn get_rtdn(State(shared): State<Shared>) -> Json<Value> {
    Json(rtdn_json(&shared.lock()))
}

/// `PUT /sandbox/v1/rtdn` with `{"forward": {"pubsub_url", "topic"} | null}`.
pub async fn put_rtdn(
    State(shared): State<Shared>,
    b: Result<Json<RtdnSettings>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let b = body(b)?;
    if let Some(f) = &b.forward {
        f.validate()
            .map_err(|m| GoogleApiError::invalid("invalid", m))?;
    }
    let mut world = shared.lock();
    world.forward_target = b.forward;
    Ok(Json(rtdn_json(&world)))
}
