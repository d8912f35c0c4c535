//! The Play Developer API (androidpublisher v3) methods of this slice, answering with the
//! shared wire types of `playbill-google`. Each handler names its discovery method id.
//!
//! Routing note: the contract's custom verbs (`…/tokens/{token}:acknowledge`) share a path
//! segment with the token, which the router cannot split, so POST handlers split
//! `{token}:{verb}` themselves.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use playbill_google::methods::ANDROIDPUBLISHER_SCOPE;
use playbill_google::observe::format_time;
use playbill_google::wire::{
    AcknowledgementState, AutoRenewingPlan, CanceledStateContext, ConsumptionState, Empty,
    ExternalAccountIdentifiers, FopType, Int64, OfferDetails, OfferPhase, OutOfAppPurchaseContext,
    PausedStateContext, ProductLineItem, ProductOfferDetails, ProductPurchase,
    ProductPurchaseState, ProductPurchaseV2, PurchaseStateContext, RenewalDeclinedContext,
    RenewalDeclinedHolder, SubscriptionPurchaseLineItem, SubscriptionPurchaseV2,
    TestPurchaseContext, UserInitiatedCancellation,
};

use crate::error::GoogleApiError;
use crate::lifecycle::{CancelKind, SubStatus, Subscription};
use crate::manage::{CancelBy, RevokeRefund};
use crate::quota::Bucket;
use crate::state::{
    Detail, OneTime, OneTimeState, Purchase, Shared, TOKEN_RETENTION_MS, TransitionError, World,
    wall_ms,
};
use playbill_google::wire::{
    CancelSubscriptionPurchaseRequest, DeferSubscriptionPurchaseRequest,
    DeferSubscriptionPurchaseResponse, ItemExpiryTimeDetails, RevokeSubscriptionPurchaseRequest,
    SubscriptionPurchasesDeferRequest, SubscriptionPurchasesDeferResponse,
};

type ApiResult<T> = Result<T, GoogleApiError>;

/// Checks the bearer access token and its scopes, as Google's front end does.
pub fn authorize(world: &World, headers: &HeaderMap, scope: &str) -> ApiResult<()> {
    let unauthenticated = || {
        GoogleApiError::new(
            StatusCode::UNAUTHORIZED,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential.",
        )
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthenticated)?;
    let access = world.access_tokens.get(token).ok_or_else(unauthenticated)?;
    if access.expires_at_wall_ms <= wall_ms() {
        return Err(unauthenticated());
    }
    let cloud_platform = "https://www.googleapis.com/auth/cloud-platform";
    if !access
        .scopes
        .iter()
        .any(|s| s == scope || s == cloud_platform)
    {
        return Err(GoogleApiError::new(
            StatusCode::FORBIDDEN,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        ));
    }
    Ok(())
}

/// Google's front door for a Play API call: the world, once the caller's access token has
/// the androidpublisher scope and the package's `bucket` has quota left.
pub(crate) fn open<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
    package: &str,
    bucket: Bucket,
) -> ApiResult<std::sync::MutexGuard<'a, World>> {
    let mut world = shared.lock();
    authorize(&world, headers, ANDROIDPUBLISHER_SCOPE)?;
    world.quotas.charge(package, bucket)?;
    Ok(world)
}

/// Splits `TOKEN:verb`; the verb must be one of `verbs`.
pub(crate) fn split_verb<'a>(segment: &'a str, verbs: &[&str]) -> ApiResult<(&'a str, &'a str)> {
    match segment.rsplit_once(':') {
        Some((token, verb)) if verbs.contains(&verb) => Ok((token, verb)),
        _ => Err(GoogleApiError::not_found(format!(
            "Method not found: expected one of {verbs:?} after the token"
        ))),
    }
}

/// Looks a token up for `package`, letting billing time catch up first.
fn find<'w>(world: &'w mut World, package: &str, token: &str) -> ApiResult<&'w mut Purchase> {
    let now = world.now();
    let p = world
        .purchases
        .get_mut(token)
        .ok_or_else(|| GoogleApiError::not_found("The purchase token was not found."))?;
    if p.package_name != package {
        return Err(GoogleApiError::invalid(
            "purchaseTokenDoesNotMatchPackageName",
            "The purchase token does not match the package name.",
        ));
    }
    if let Detail::Subscription(s) = &p.detail
        && s.status == SubStatus::Expired
        && now > s.expiry_ms + TOKEN_RETENTION_MS
    {
        return Err(GoogleApiError::new(
            StatusCode::GONE,
            "subscriptionPurchaseNoLongerAvailable",
            "The subscription purchase is no longer available for query because it has \
             been expired for too long.",
        ));
    }
    Ok(p)
}

fn one_time(p: &mut Purchase) -> ApiResult<&mut OneTime> {
    match &mut p.detail {
        Detail::OneTime(o) => Ok(o),
        Detail::Subscription(_) => Err(GoogleApiError::invalid(
            "invalid",
            "The purchase token is for a subscription, not a one-time product.",
        )),
    }
}

fn subscription(p: &mut Purchase) -> ApiResult<&mut Subscription> {
    match &mut p.detail {
        Detail::Subscription(s) => Ok(s),
        Detail::OneTime(_) => Err(GoogleApiError::invalid(
            "invalid",
            "The purchase token is for a one-time product, not a subscription.",
        )),
    }
}

fn check_product(p: &Purchase, product_id: &str, reason: &'static str) -> ApiResult<()> {
    if p.product_id == product_id {
        Ok(())
    } else {
        Err(GoogleApiError::invalid(
            reason,
            "The purchase token does not match the product ID.",
        ))
    }
}

fn invalid_state() -> GoogleApiError {
    GoogleApiError::invalid(
        "invalidPurchaseState",
        "The purchase is not in a valid state to perform the desired operation.",
    )
}

/// `androidpublisher.purchases.products.get`
pub async fn products_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, product_id, token)): Path<(String, String, String)>,
) -> ApiResult<Json<ProductPurchase>> {
    let mut world = open(&shared, &headers, &package, Bucket::OneTimePurchases)?;
    let p = find(&mut world, &package, &token)?;
    check_product(p, &product_id, "purchaseTokenDoesNotMatchProductId")?;
    let o = one_time(p)?.clone();
    Ok(Json(ProductPurchase {
        acknowledgement_state: Some(i32::from(o.acknowledged)),
        consumption_state: Some(i32::from(o.consumed)),
        developer_payload: None,
        kind: Some("androidpublisher#productPurchase".into()),
        obfuscated_external_account_id: p.obfuscated_account_id.clone(),
        obfuscated_external_profile_id: p.obfuscated_profile_id.clone(),
        order_id: Some(p.order_id.clone()),
        product_id: Some(p.product_id.clone()),
        purchase_state: Some(match o.state {
            OneTimeState::Purchased => 0,
            OneTimeState::Cancelled => 1,
            OneTimeState::Pending => 2,
        }),
        purchase_time_millis: Some(Int64(o.purchase_time_ms)),
        purchase_token: None,
        purchase_type: p.test_purchase.then_some(0),
        quantity: Some(o.quantity),
        refundable_quantity: Some(o.refundable_quantity),
        region_code: Some(p.region_code.clone()),
    }))
}

/// `androidpublisher.purchases.products.acknowledge` and `.consume`
pub async fn products_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, product_id, segment)): Path<(String, String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult<StatusCode> {
    let (token, verb) = split_verb(&segment, &["acknowledge", "consume"])?;
    if verb == "acknowledge" {
        let _: playbill_google::wire::ProductPurchasesAcknowledgeRequest = request_body(&raw)?;
    }
    let mut world = open(&shared, &headers, &package, Bucket::OneTimePurchases)?;
    let p = find(&mut world, &package, token)?;
    check_product(p, &product_id, "purchaseTokenDoesNotMatchProductId")?;
    let o = one_time(p)?;
    if o.state != OneTimeState::Purchased {
        return Err(invalid_state());
    }
    o.acknowledged = true;
    if verb == "consume" {
        o.consumed = true;
    }
    Ok(StatusCode::OK)
}

/// `androidpublisher.purchases.productsv2.getproductpurchasev2`
pub async fn productsv2_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, token)): Path<(String, String)>,
) -> ApiResult<Json<ProductPurchaseV2>> {
    let mut world = open(&shared, &headers, &package, Bucket::OneTimePurchases)?;
    let p = find(&mut world, &package, &token)?;
    let o = one_time(p)?.clone();
    Ok(Json(ProductPurchaseV2 {
        acknowledgement_state: Some(if o.acknowledged {
            AcknowledgementState::Acknowledged
        } else {
            AcknowledgementState::Pending
        }),
        kind: Some("androidpublisher#productPurchaseV2".into()),
        obfuscated_external_account_id: p.obfuscated_account_id.clone(),
        obfuscated_external_profile_id: p.obfuscated_profile_id.clone(),
        order_id: Some(p.order_id.clone()),
        product_line_item: Some(vec![ProductLineItem {
            product_id: Some(p.product_id.clone()),
            product_offer_details: Some(ProductOfferDetails {
                consumption_state: Some(if o.consumed {
                    ConsumptionState::Consumed
                } else {
                    ConsumptionState::YetToBeConsumed
                }),
                offer_id: None,
                offer_tags: None,
                offer_token: None,
                preorder_offer_details: None,
                purchase_option_id: Some("legacy-base".into()),
                quantity: Some(o.quantity),
                refundable_quantity: Some(o.refundable_quantity),
                rent_offer_details: None,
            }),
        }]),
        purchase_completion_time: o.completion_time_ms.map(format_time),
        purchase_state_context: Some(PurchaseStateContext {
            purchase_state: Some(match o.state {
                OneTimeState::Purchased => ProductPurchaseState::Purchased,
                OneTimeState::Cancelled => ProductPurchaseState::Cancelled,
                OneTimeState::Pending => ProductPurchaseState::Pending,
            }),
        }),
        region_code: Some(p.region_code.clone()),
        test_purchase_context: p.test_purchase.then_some(TestPurchaseContext {
            fop_type: Some(FopType::Test),
        }),
    }))
}

/// `androidpublisher.purchases.subscriptionsv2.get`
pub async fn subscriptionsv2_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, token)): Path<(String, String)>,
) -> ApiResult<Json<SubscriptionPurchaseV2>> {
    let mut world = open(&shared, &headers, &package, Bucket::Subscriptions)?;
    let now = world.now();
    let p = find(&mut world, &package, &token)?;
    let s = subscription(p)?.clone();
    Ok(Json(render_subscription(p, &s, now)))
}

fn render_subscription(p: &Purchase, s: &Subscription, now: i64) -> SubscriptionPurchaseV2 {
    let pending = matches!(
        s.status,
        SubStatus::Pending | SubStatus::PendingPurchaseCanceled
    );
    let ended = matches!(s.status, SubStatus::Canceled | SubStatus::Expired);
    let has_ids = p.obfuscated_account_id.is_some() || p.obfuscated_profile_id.is_some();
    SubscriptionPurchaseV2 {
        acknowledgement_state: Some(if s.acknowledged {
            AcknowledgementState::Acknowledged
        } else {
            AcknowledgementState::Pending
        }),
        canceled_state_context: s.cancel.filter(|_| ended).map(|c| match c {
            CancelKind::User { at } => CanceledStateContext {
                user_initiated_cancellation: Some(UserInitiatedCancellation {
                    cancel_survey_result: None,
                    cancel_time: Some(format_time(at)),
                }),
                ..CanceledStateContext::default()
            },
            CancelKind::System => CanceledStateContext {
                system_initiated_cancellation: Some(Empty {}),
                ..CanceledStateContext::default()
            },
            CancelKind::Developer => CanceledStateContext {
                developer_initiated_cancellation: Some(Empty {}),
                ..CanceledStateContext::default()
            },
            CancelKind::Replacement => CanceledStateContext {
                replacement_cancellation: Some(Empty {}),
                ..CanceledStateContext::default()
            },
        }),
        linked_purchase_token: s.linked_purchase_token.clone(),
        etag: Some(format!(
            "sbx-{}-{}-{}",
            s.expiry_ms,
            s.renewals,
            u8::from(s.auto_renew)
        )),
        external_account_identifiers: has_ids.then(|| ExternalAccountIdentifiers {
            external_account_id: None,
            obfuscated_external_account_id: p.obfuscated_account_id.clone(),
            obfuscated_external_profile_id: p.obfuscated_profile_id.clone(),
        }),
        kind: Some("androidpublisher#subscriptionPurchaseV2".into()),
        line_items: Some(line_items(p, s, pending, ended, now)),
        out_of_app_purchase_context: s
            .out_of_app_expired_token
            .as_ref()
            .filter(|_| !s.acknowledged)
            .map(|t| OutOfAppPurchaseContext {
                expired_external_account_identifiers: has_ids.then(|| ExternalAccountIdentifiers {
                    external_account_id: None,
                    obfuscated_external_account_id: p.obfuscated_account_id.clone(),
                    obfuscated_external_profile_id: p.obfuscated_profile_id.clone(),
                }),
                expired_purchase_token: Some(t.clone()),
            }),
        region_code: Some(p.region_code.clone()),
        start_time: (!pending).then(|| format_time(s.start_ms)),
        in_grace_period_state_context: (s.status == SubStatus::InGracePeriod)
            .then(|| renewal_declined(p)),
        on_hold_state_context: (s.status == SubStatus::OnHold).then(|| renewal_declined(p)),
        paused_state_context: s.resume_at_ms.map(|t| PausedStateContext {
            auto_resume_time: Some(format_time(t)),
        }),
        subscription_state: Some(s.google_state()),
        test_purchase: p.test_purchase.then_some(Empty {}),
        ..SubscriptionPurchaseV2::default()
    }
}

/// A refused lifecycle change, as the Play API reports it.
fn refused(e: TransitionError) -> GoogleApiError {
    match e {
        TransitionError::NoSuchPurchase => {
            GoogleApiError::not_found("The purchase token was not found.")
        }
        TransitionError::NotAllowed(m) | TransitionError::UnknownAction(m) => {
            GoogleApiError::invalid("invalidPurchaseState", m)
        }
    }
}

/// A JSON request body (an empty body reads as `{}`), or Google's 400.
fn request_body<T: serde::de::DeserializeOwned + Default>(raw: &[u8]) -> ApiResult<T> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(raw)
        .map_err(|e| GoogleApiError::invalid("invalid", format!("Invalid JSON payload: {e}")))
}

/// `androidpublisher.purchases.subscriptions.acknowledge`, `.cancel` and `.defer` (v1).
pub async fn subscriptions_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, subscription_id, segment)): Path<(String, String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (token, verb) = split_verb(&segment, &["acknowledge", "cancel", "defer"])?;
    let mut world = open(&shared, &headers, &package, Bucket::Subscriptions)?;
    let now = world.now();
    let p = find(&mut world, &package, token)?;
    check_product(
        p,
        &subscription_id,
        "purchaseTokenDoesNotMatchSubscriptionId",
    )?;
    let s = subscription(p)?;
    match verb {
        "acknowledge" => {
            let req: playbill_google::wire::SubscriptionPurchasesAcknowledgeRequest =
                request_body(&raw)?;
            if matches!(
                s.status,
                SubStatus::Pending | SubStatus::Expired | SubStatus::PendingPurchaseCanceled
            ) {
                return Err(invalid_state());
            }
            if let Some(ids) = &req.external_account_ids {
                // Settable only for a resubscription bought outside the app (reference 4.3).
                if s.out_of_app_expired_token.is_none() || s.acknowledged {
                    return Err(GoogleApiError::invalid(
                        "invalid",
                        "externalAccountIds can only be set when acknowledging a resubscription \
                         purchase made outside the app.",
                    ));
                }
                let too_long = [&ids.obfuscated_account_id, &ids.obfuscated_profile_id]
                    .iter()
                    .any(|v| v.as_ref().is_some_and(|v| v.len() > 64));
                if too_long {
                    return Err(GoogleApiError::invalid(
                        "invalid",
                        "externalAccountIds values are at most 64 characters.",
                    ));
                }
            }
            s.acknowledged = true;
            if let Some(ids) = req.external_account_ids {
                let p = find(&mut world, &package, token)?;
                if ids.obfuscated_account_id.is_some() {
                    p.obfuscated_account_id = ids.obfuscated_account_id;
                }
                if ids.obfuscated_profile_id.is_some() {
                    p.obfuscated_profile_id = ids.obfuscated_profile_id;
                }
            }
            Ok(StatusCode::OK.into_response())
        }
        // The v1 call is the developer's (legacy `cancelReason` 3, "canceled by the
        // developer").
        "cancel" => {
            world
                .cancel_subscription(token, CancelBy::Developer, now)
                .map_err(refused)?;
            Ok(StatusCode::OK.into_response())
        }
        _ => {
            let req: SubscriptionPurchasesDeferRequest = request_body(&raw)?;
            let info = req.deferral_info.unwrap_or_default();
            let (Some(expected), Some(desired)) = (
                info.expected_expiry_time_millis,
                info.desired_expiry_time_millis,
            ) else {
                return Err(GoogleApiError::invalid(
                    "required",
                    "deferralInfo.expectedExpiryTimeMillis and desiredExpiryTimeMillis are required.",
                ));
            };
            if expected.0 != s.expiry_ms {
                return Err(GoogleApiError::invalid(
                    "expiryTimeMismatch",
                    "expectedExpiryTimeMillis does not match the subscription's current expiry time.",
                ));
            }
            let new_expiry = world
                .defer_subscription(token, desired.0, false, now)
                .map_err(refused)?;
            Ok(Json(SubscriptionPurchasesDeferResponse {
                new_expiry_time_millis: Some(Int64(new_expiry)),
            })
            .into_response())
        }
    }
}

/// `androidpublisher.purchases.subscriptionsv2.cancel`, `.defer` and `.revoke`.
pub async fn subscriptionsv2_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, segment)): Path<(String, String)>,
    raw: axum::body::Bytes,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let (token, verb) = split_verb(&segment, &["cancel", "defer", "revoke"])?;
    let mut world = open(&shared, &headers, &package, Bucket::Subscriptions)?;
    let now = world.now();
    let p = find(&mut world, &package, token)?;
    let s = subscription(p)?.clone();
    let etag = render_subscription(p, &s, now).etag;
    match verb {
        "cancel" => {
            let req: CancelSubscriptionPurchaseRequest = request_body(&raw)?;
            let by = match req
                .cancellation_context
                .and_then(|c| c.cancellation_type)
                .as_deref()
            {
                None | Some("USER_REQUESTED_STOP_RENEWALS") => CancelBy::User,
                Some("DEVELOPER_REQUESTED_STOP_PAYMENTS") => CancelBy::Developer,
                Some(other) => {
                    return Err(GoogleApiError::invalid(
                        "invalid",
                        format!(
                            "Invalid value for cancellationContext.cancellationType: {other:?}"
                        ),
                    ));
                }
            };
            world.cancel_subscription(token, by, now).map_err(refused)?;
            Ok(Json(Empty {}).into_response())
        }
        "defer" => {
            let req: DeferSubscriptionPurchaseRequest = request_body(&raw)?;
            let ctx = req.deferral_context.unwrap_or_default();
            let by = ctx
                .defer_duration
                .as_deref()
                .and_then(playbill_google::pubsub::parse_duration_ms)
                .ok_or_else(|| {
                    GoogleApiError::invalid(
                        "required",
                        "deferralContext.deferDuration is required, e.g. \"604800s\".",
                    )
                })?;
            if ctx.etag.is_none() || ctx.etag != etag {
                return Err(GoogleApiError::invalid(
                    "etagMismatch",
                    "deferralContext.etag does not match the latest etag of this subscription.",
                ));
            }
            let new_expiry = world
                .defer_subscription(
                    token,
                    s.expiry_ms + by,
                    ctx.validate_only.unwrap_or(false),
                    now,
                )
                .map_err(refused)?;
            let product_id = world.purchases[token].product_id.clone();
            let mut items = vec![ItemExpiryTimeDetails {
                expiry_time: Some(format_time(new_expiry)),
                product_id: Some(product_id),
            }];
            items.extend(s.add_ons.iter().map(|a| ItemExpiryTimeDetails {
                expiry_time: Some(format_time(new_expiry)),
                product_id: Some(a.product_id.clone()),
            }));
            Ok(Json(DeferSubscriptionPurchaseResponse {
                item_expiry_time_details: Some(items),
            })
            .into_response())
        }
        _ => {
            let req: RevokeSubscriptionPurchaseRequest = request_body(&raw)?;
            let ctx = req.revocation_context.unwrap_or_default();
            let refund = match (ctx.full_refund, ctx.prorated_refund, ctx.item_based_refund) {
                (Some(_), None, None) => RevokeRefund::Full,
                (None, Some(_), None) => RevokeRefund::Prorated,
                (None, None, Some(item)) => {
                    RevokeRefund::Item(item.product_id.ok_or_else(|| {
                        GoogleApiError::invalid(
                            "required",
                            "revocationContext.itemBasedRefund.productId is required.",
                        )
                    })?)
                }
                _ => {
                    return Err(GoogleApiError::invalid(
                        "invalid",
                        "revocationContext needs exactly one of fullRefund, proratedRefund or \
                         itemBasedRefund.",
                    ));
                }
            };
            world
                .revoke_subscription(token, refund, now)
                .map_err(refused)?;
            Ok(Json(Empty {}).into_response())
        }
    }
}

/// The base item and each add-on, as `lineItems` shows them.
fn line_items(
    p: &Purchase,
    s: &Subscription,
    pending: bool,
    ended: bool,
    now: i64,
) -> Vec<SubscriptionPurchaseLineItem> {
    use crate::lifecycle::{PriceChangeMode as M, PriceChangeState as S};
    use playbill_google::wire::{
        DeferredItemReplacement, InstallmentPlan, ItemReplacement, Money, PrepaidPlan,
        PriceChangeMode, PriceChangeState, SubscriptionItemPriceChangeDetails,
    };
    let money = |m: i64| Some(Money::from_micros(m, &s.currency));
    let auto_renewing = |price: i64, base: bool| {
        (!s.prepaid).then(|| AutoRenewingPlan {
            auto_renew_enabled: Some(s.auto_renew && !ended),
            recurring_price: money(price),
            installment_details: s.installments.as_ref().filter(|_| base).map(|i| {
                InstallmentPlan {
                    initial_committed_payments_count: Some(i.committed as i32),
                    subsequent_committed_payments_count: Some(i.committed as i32),
                    remaining_committed_payments_count: Some(i.remaining as i32),
                    pending_cancellation: i.pending_cancellation.then_some(Empty {}),
                }
            }),
            price_change_details: s.price_change.as_ref().filter(|_| base).map(|pc| {
                SubscriptionItemPriceChangeDetails {
                    expected_new_price_charge_time: Some(format_time(pc.charge_at_ms)),
                    new_price: money(pc.new_price_micros),
                    price_change_mode: Some(match pc.mode {
                        M::Decrease => PriceChangeMode::PriceDecrease,
                        M::Increase => PriceChangeMode::PriceIncrease,
                        M::OptOutIncrease => PriceChangeMode::OptOutPriceIncrease,
                    }),
                    price_change_state: Some(match pc.state {
                        S::Outstanding => PriceChangeState::Outstanding,
                        S::Confirmed => PriceChangeState::Confirmed,
                        S::Applied => PriceChangeState::Applied,
                        S::Canceled => PriceChangeState::Canceled,
                    }),
                }
            }),
            ..AutoRenewingPlan::default()
        })
    };
    let item = |product_id: &str, base_plan_id: &str, price: i64, base: bool| {
        SubscriptionPurchaseLineItem {
            auto_renewing_plan: auto_renewing(price, base),
            prepaid_plan: s.prepaid.then(|| PrepaidPlan {
                allow_extend_after_time: Some(format_time(s.start_ms)),
            }),
            expiry_time: (!pending).then(|| format_time(s.expiry_ms)),
            latest_successful_order_id: (!pending && s.owned).then(|| p.latest_order_id()),
            offer_details: Some(OfferDetails {
                base_plan_id: Some(base_plan_id.to_owned()),
                offer_id: None,
                offer_tags: None,
            }),
            offer_phase: (!pending).then(|| OfferPhase {
                base_price: Some(Empty {}),
                ..OfferPhase::default()
            }),
            product_id: Some(product_id.to_owned()),
            ..SubscriptionPurchaseLineItem::default()
        }
    };
    let mut base = item(&p.product_id, &s.base_plan_id, s.price_micros, true);
    base.deferred_item_replacement =
        s.deferred_replacement
            .as_ref()
            .map(|product| DeferredItemReplacement {
                product_id: Some(product.clone()),
            });
    base.item_replacement = s
        .item_replacement
        .as_ref()
        // Shown for 60 days after the plan change.
        .filter(|r| now < r.at_ms + 60 * crate::state::DAY_MS)
        .map(|r| ItemReplacement {
            base_plan_id: Some(r.base_plan_id.clone()),
            offer_id: None,
            product_id: Some(r.product_id.clone()),
            replacement_mode: Some(r.mode.clone()),
        });
    let mut items = vec![base];
    for a in &s.add_ons {
        let mut li = item(&a.product_id, &a.base_plan_id, a.price_micros, false);
        li.deferred_item_removal = a.removal_deferred.then_some(Empty {});
        items.push(li);
    }
    items
}

/// The `renewalDeclined` context of grace and hold: the order that could not be charged.
fn renewal_declined(p: &Purchase) -> RenewalDeclinedHolder {
    let pending_order = match &p.detail {
        Detail::Subscription(s) => format!("{}..{}", p.order_id, s.renewals),
        Detail::OneTime(_) => p.order_id.clone(),
    };
    RenewalDeclinedHolder {
        renewal_declined: Some(RenewalDeclinedContext {
            pending_order_id: Some(pending_order),
        }),
    }
}

/// Query parameters of `purchases.voidedpurchases.list` (int64 values arrive as strings).
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct VoidedQuery {
    start_time: Option<String>,
    end_time: Option<String>,
    max_results: Option<String>,
    token: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    include_quantity_based_partial_refund: Option<String>,
    start_index: Option<String>,
}

/// `androidpublisher.purchases.voidedpurchases.list`: voids of the last 30 days, oldest first,
/// by `type` (0: one-time only, 1: with subscriptions), with token paging.
pub async fn voided_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    query: Result<axum::extract::Query<VoidedQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<playbill_google::wire::VoidedPurchasesListResponse>> {
    use playbill_google::wire::{
        PageInfo, TokenPagination, VoidedPurchase, VoidedPurchasesListResponse,
    };
    let axum::extract::Query(q) =
        query.map_err(|e| GoogleApiError::invalid("invalid", e.body_text()))?;
    let int = |name: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
        v.as_deref()
            .map(|s| {
                s.parse::<i64>().map_err(|_| {
                    GoogleApiError::invalid("invalid", format!("Invalid value for {name}: {s:?}"))
                })
            })
            .transpose()
    };
    let world = open(&shared, &headers, &package, Bucket::VoidedPurchases)?;
    let now = world.now();
    let month_ago = now - 30 * crate::state::DAY_MS;
    let start = int("startTime", &q.start_time)?.unwrap_or(month_ago);
    let end = int("endTime", &q.end_time)?.unwrap_or(now);
    let max = int("maxResults", &q.max_results)?.unwrap_or(1000);
    let kind = int("type", &q.kind)?.unwrap_or(0);
    let partial = match q.include_quantity_based_partial_refund.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(GoogleApiError::invalid(
                "invalid",
                format!("Invalid value for includeQuantityBasedPartialRefund: {other:?}"),
            ));
        }
    };
    if q.start_index.is_some() {
        return Err(GoogleApiError::invalid(
            "invalid",
            "startIndex is not supported: use token paging",
        ));
    }
    if start < month_ago {
        return Err(GoogleApiError::invalid(
            "invalid",
            "startTime cannot be older than 30 days",
        ));
    }
    if end > now || start > end {
        return Err(GoogleApiError::invalid(
            "invalid",
            "endTime cannot be in the future or before startTime",
        ));
    }
    if !(1..=1000).contains(&max) || !(0..=1).contains(&kind) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "maxResults must be 1-1000 and type 0 or 1",
        ));
    }
    let offset = match q.token.as_deref() {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("vp-")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| GoogleApiError::invalid("invalid", "Invalid page token"))?,
    };
    let matching: Vec<_> = world
        .voided
        .iter()
        .filter(|v| v.package == package)
        .filter(|v| (start..=end).contains(&v.voided_time_ms))
        .filter(|v| kind == 1 || !v.subscription)
        .filter(|v| partial || v.partial_quantity.is_none())
        .collect();
    let page: Vec<VoidedPurchase> = matching
        .iter()
        .skip(offset)
        .take(max as usize)
        .map(|v| VoidedPurchase {
            kind: Some("androidpublisher#voidedPurchase".into()),
            order_id: Some(v.order_id.clone()),
            purchase_time_millis: Some(Int64(v.purchase_time_ms)),
            purchase_token: Some(v.token.clone()),
            voided_quantity: v.partial_quantity,
            voided_reason: Some(v.reason),
            voided_source: Some(v.source),
            voided_time_millis: Some(Int64(v.voided_time_ms)),
        })
        .collect();
    let next = offset + page.len();
    Ok(Json(VoidedPurchasesListResponse {
        page_info: Some(PageInfo {
            result_per_page: Some(page.len() as i32),
            start_index: Some(offset as i32),
            total_results: Some(matching.len() as i32),
        }),
        token_pagination: (next < matching.len()).then(|| TokenPagination {
            next_page_token: Some(format!("vp-{next}")),
            previous_page_token: None,
        }),
        voided_purchases: (!page.is_empty()).then_some(page),
    }))
}
