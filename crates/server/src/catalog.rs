//! The catalog (mission point 1): Google's products mirrored into the store — in-app
//! products, one-time products, subscriptions with their base plans, and offers — on demand
//! and on a schedule, a sync replacing the app's mirror so that what Google removed is gone;
//! and what app clients may show: only what is active, priced for a region, with the
//! entitlements each product grants.

use std::collections::BTreeMap;

use playbill_google::catalog::{
    ActivateBasePlanRequest, AutoRenewingBasePlanType, BasePlan, BasePlanState,
    BatchUpdateSubscriptionsRequest, ConvertRegionPricesRequest, InAppProduct, InAppProductListing,
    InAppProductPurchaseType, InAppProductStatus, InappproductsBatchUpdateRequest,
    InappproductsUpdateRequest, LatencyTolerance, OneTimeProduct, PrepaidBasePlanType, Price,
    PurchaseOptionAvailability, PurchaseOptionState, RegionalBasePlanConfig, RegionsVersion,
    Subscription, SubscriptionListing, SubscriptionOffer, SubscriptionOfferState,
    UpdateSubscriptionRequest,
};
use playbill_google::wire::Money;
use playbill_store::catalog::{CatalogChange, CatalogItem};
use serde_json::{Value, json};

use playbill_core::verify::AppPolicy;

use crate::error::ApiError;
use crate::state::{App, AppState};

fn json_of<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// Reads the app's whole catalog from Google (every page of every list) and replaces the
/// mirror with it. Nothing is replaced unless every list was read.
pub async fn sync(state: &AppState, app: &App) -> Result<CatalogChange, ApiError> {
    let package = app.package.as_str();
    let play = &app.play;
    let mut items = Vec::new();
    for p in every_inapp_product(app).await? {
        let Some(sku) = p.sku.clone() else { continue };
        items.push(CatalogItem {
            item_id: format!("inapp:{sku}"),
            kind: "inapp".into(),
            body: json_of(&p)?,
        });
    }
    let mut token: Option<String> = None;
    loop {
        let page = play
            .list_onetime_products(package, token.as_deref())
            .await?;
        for p in page.one_time_products.unwrap_or_default() {
            let Some(id) = p.product_id.clone() else {
                continue;
            };
            items.push(CatalogItem {
                item_id: format!("onetime:{id}"),
                kind: "onetime".into(),
                body: json_of(&p)?,
            });
        }
        token = page.next_page_token;
        if token.is_none() {
            break;
        }
    }
    let mut subscriptions = Vec::new();
    for s in every_subscription(app).await? {
        let Some(id) = s.product_id.clone() else {
            continue;
        };
        items.push(CatalogItem {
            item_id: format!("subscription:{id}"),
            kind: "subscription".into(),
            body: json_of(&s)?,
        });
        subscriptions.push(id);
    }
    for id in subscriptions {
        loop {
            let page = play
                .list_offers(package, &id, "-", token.as_deref())
                .await?;
            for o in page.subscription_offers.unwrap_or_default() {
                let (Some(plan), Some(offer)) = (o.base_plan_id.clone(), o.offer_id.clone()) else {
                    continue;
                };
                items.push(CatalogItem {
                    item_id: format!("offer:{id}/{plan}/{offer}"),
                    kind: "offer".into(),
                    body: json_of(&o)?,
                });
            }
            token = page.next_page_token;
            if token.is_none() {
                break;
            }
        }
    }
    let change = state
        .store
        .replace_catalog(package, &items, state.clock.now_ms())
        .await?;
    tracing::info!(
        package,
        total = change.total,
        added = change.added.len(),
        removed = change.removed.len(),
        updated = change.updated.len(),
        "catalog synced"
    );
    Ok(change)
}

/// Every in-app product of the app at Google (all pages).
async fn every_inapp_product(app: &App) -> Result<Vec<InAppProduct>, ApiError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = app
            .play
            .list_inapp_products(app.package.as_str(), token.as_deref())
            .await?;
        all.extend(page.inappproduct.unwrap_or_default());
        token = page.token_pagination.and_then(|t| t.next_page_token);
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// Every subscription of the app at Google, with its base plans (all pages).
async fn every_subscription(app: &App) -> Result<Vec<Subscription>, ApiError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = app
            .play
            .list_subscriptions(app.package.as_str(), token.as_deref())
            .await?;
        all.extend(page.subscriptions.unwrap_or_default());
        token = page.next_page_token;
        if token.is_none() {
            return Ok(all);
        }
    }
}

/// A `Money` as `{"currency", "micros"}`.
fn money(m: &Money) -> Value {
    let units = m.units.map_or(0, |u| u.0);
    let micros = units * 1_000_000 + i64::from(m.nanos.unwrap_or(0)) / 1_000;
    json!({"currency": m.currency_code, "micros": micros})
}

/// What app clients may show: the active products, base plans and offers of the mirror,
/// priced for `region` (an ISO 3166-1 code; without one, prices are left out except an
/// in-app product's default), each with the entitlements it grants. With a region, what is
/// not sold there is left out.
pub fn active_view(items: &[CatalogItem], region: Option<&str>, policy: &AppPolicy) -> Value {
    let grants = |id: &str| match playbill_core::ProductId::parse(id) {
        Ok(p) => policy.entitlement_names(&p),
        Err(_) => vec![id.to_owned()],
    };
    let parse = |i: &CatalogItem| serde_json::from_str::<Value>(&i.body).ok();
    let mut one_time: BTreeMap<String, Value> = BTreeMap::new();
    let mut subscriptions = Vec::new();
    let offers: Vec<SubscriptionOffer> = items
        .iter()
        .filter(|i| i.kind == "offer")
        .filter_map(|i| serde_json::from_str(&i.body).ok())
        .collect();
    for i in items {
        match i.kind.as_str() {
            "inapp" => {
                let Some(p) = parse(i).and_then(|v| serde_json::from_value::<InAppProduct>(v).ok())
                else {
                    continue;
                };
                let (Some(sku), Some(InAppProductStatus::Active)) = (p.sku.clone(), &p.status)
                else {
                    continue;
                };
                let price = match region {
                    Some(r) => match p.prices.as_ref().and_then(|m| m.get(r)) {
                        Some(price) => Some(price),
                        None => continue,
                    },
                    None => p.default_price.as_ref(),
                };
                let title = p
                    .listings
                    .as_ref()
                    .and_then(|l| l.get(p.default_language.as_deref().unwrap_or("")))
                    .and_then(|l| l.title.clone());
                one_time.insert(
                    sku.clone(),
                    json!({
                        "product_id": sku,
                        "title": title,
                        "price": price.map(|p| json!({
                            "currency": p.currency,
                            "micros": p.price_micros.map(|m| m.0),
                        })),
                        "entitlements": grants(&sku),
                    }),
                );
            }
            "onetime" => {
                let Some(p) =
                    parse(i).and_then(|v| serde_json::from_value::<OneTimeProduct>(v).ok())
                else {
                    continue;
                };
                let Some(id) = p.product_id.clone() else {
                    continue;
                };
                if one_time.contains_key(&id) {
                    continue; // the same product, seen through the in-app products API
                }
                let options: Vec<_> = p
                    .purchase_options
                    .iter()
                    .flatten()
                    .filter(|o| o.state == Some(PurchaseOptionState::Active))
                    .collect();
                let price = match region {
                    Some(r) => {
                        let found = options.iter().find_map(|o| {
                            o.regional_pricing_and_availability_configs
                                .iter()
                                .flatten()
                                .find(|c| {
                                    c.region_code.as_deref() == Some(r)
                                        && c.availability
                                            == Some(PurchaseOptionAvailability::Available)
                                })
                                .and_then(|c| c.price.as_ref())
                        });
                        match found {
                            Some(m) => Some(money(m)),
                            None => continue,
                        }
                    }
                    None if options.is_empty() => continue,
                    None => None,
                };
                let title = p.listings.iter().flatten().find_map(|l| l.title.clone());
                one_time.insert(
                    id.clone(),
                    json!({"product_id": id, "title": title, "price": price,
                           "entitlements": grants(&id)}),
                );
            }
            "subscription" => {
                let Some(s) = parse(i).and_then(|v| serde_json::from_value::<Subscription>(v).ok())
                else {
                    continue;
                };
                let Some(id) = s.product_id.clone() else {
                    continue;
                };
                if s.archived == Some(true) {
                    continue;
                }
                let plans: Vec<Value> = s
                    .base_plans
                    .iter()
                    .flatten()
                    .filter(|b| b.state == Some(BasePlanState::Active))
                    .filter_map(|b| base_plan(&id, b, region, &offers))
                    .collect();
                if plans.is_empty() {
                    continue;
                }
                let title = s.listings.iter().flatten().find_map(|l| l.title.clone());
                subscriptions.push(json!({
                    "product_id": id, "title": title, "entitlements": grants(&id),
                    "base_plans": plans,
                }));
            }
            _ => {}
        }
    }
    json!({
        "region": region,
        "one_time_products": one_time.into_values().collect::<Vec<_>>(),
        "subscriptions": subscriptions,
    })
}

/// An active base plan for `region` (`None` if not sold there), with its active offers.
fn base_plan(
    product: &str,
    b: &BasePlan,
    region: Option<&str>,
    offers: &[SubscriptionOffer],
) -> Option<Value> {
    let plan_id = b.base_plan_id.clone()?;
    let price = match region {
        Some(r) => {
            let c = b
                .regional_configs
                .iter()
                .flatten()
                .find(|c| c.region_code.as_deref() == Some(r))?;
            c.price.as_ref().map(money)
        }
        None => None,
    };
    let (kind, period) = if let Some(t) = &b.auto_renewing_base_plan_type {
        ("auto_renewing", t.billing_period_duration.clone())
    } else if let Some(t) = &b.prepaid_base_plan_type {
        ("prepaid", t.billing_period_duration.clone())
    } else if let Some(t) = &b.installments_base_plan_type {
        ("installments", t.billing_period_duration.clone())
    } else {
        ("unknown", None)
    };
    let offers: Vec<Value> = offers
        .iter()
        .filter(|o| {
            o.product_id.as_deref() == Some(product)
                && o.base_plan_id.as_deref() == Some(plan_id.as_str())
                && o.state == Some(SubscriptionOfferState::Active)
                && region.is_none_or(|r| {
                    o.regional_configs
                        .iter()
                        .flatten()
                        .any(|c| c.region_code.as_deref() == Some(r))
                })
        })
        .map(|o| {
            json!({
                "offer_id": o.offer_id,
                "tags": o.offer_tags.iter().flatten().filter_map(|t| t.tag.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Some(json!({
        "base_plan_id": plan_id,
        "type": kind,
        "billing_period": period,
        "price": price,
        "offers": offers,
    }))
}

/// A catalog file (the repository's format; JSON, or TOML through `playbill catalog push`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default)]
    pub one_time_products: Vec<OneTimeSpec>,
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// A subscription as we want it at Google: its listing and base plans (base plans at Google
/// that the file does not name are kept as they are).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    pub product_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_language")]
    pub language: String,
    pub base_plans: Vec<BasePlanSpec>,
}

/// An auto-renewing (or, with `prepaid`, prepaid) base plan, priced once in one currency.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasePlanSpec {
    pub base_plan_id: String,
    /// ISO 8601, e.g. `P1M`, `P1Y`.
    pub billing_period: String,
    pub currency: String,
    pub price_micros: i64,
    #[serde(default)]
    pub prepaid: bool,
}

/// One in-app (one-time) product as we want it at Google. Its price is given once, in one
/// currency; Google's `convertRegionPrices` sets every region's.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OneTimeSpec {
    pub product_id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// BCP-47 language of the title and description.
    #[serde(default = "default_language")]
    pub language: String,
    pub currency: String,
    pub price_micros: i64,
    #[serde(default = "default_true")]
    pub active: bool,
}

fn default_language() -> String {
    "en-US".into()
}

fn default_true() -> bool {
    true
}

/// What a push does (or would do) to one product.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct PushChange {
    pub product_id: String,
    /// `create`, `update` or `unchanged`.
    pub action: &'static str,
    /// The fields that differ (an update).
    pub fields: Vec<String>,
}

/// Google's limit on one `inappproducts.batchUpdate`.
const BATCH: usize = 100;

/// Compares `file` with the app's in-app products at Google (read now, not the mirror) and,
/// with `apply`, writes the differences in batches (latency-tolerant, as bulk changes should
/// be), then syncs the mirror. Without `apply` nothing is written: the answer is the diff.
pub async fn push(
    state: &AppState,
    app: &App,
    file: &CatalogFile,
    apply: bool,
) -> Result<Vec<PushChange>, ApiError> {
    let bad = |m: String| ApiError::BadRequest(m);
    let mut seen = std::collections::BTreeSet::new();
    for (i, p) in file.one_time_products.iter().enumerate() {
        let at = |m: &str| bad(format!("one_time_products[{i}] ({}): {m}", p.product_id));
        playbill_core::ProductId::parse(p.product_id.as_str()).map_err(|e| at(&e.to_string()))?;
        if !seen.insert(p.product_id.as_str()) {
            return Err(at("listed twice"));
        }
        if p.title.trim().is_empty() || p.title.chars().count() > 55 {
            return Err(at("title: 1 to 55 characters"));
        }
        if !crate::is_code(&p.currency, 3) {
            return Err(at("currency: an ISO 4217 code such as USD"));
        }
        if p.price_micros <= 0 {
            return Err(at("price_micros: must be above zero"));
        }
    }
    for (i, s) in file.subscriptions.iter().enumerate() {
        let at = |m: &str| bad(format!("subscriptions[{i}] ({}): {m}", s.product_id));
        playbill_core::ProductId::parse(s.product_id.as_str()).map_err(|e| at(&e.to_string()))?;
        if !seen.insert(s.product_id.as_str()) {
            return Err(at("listed twice"));
        }
        if s.title.trim().is_empty() || s.title.chars().count() > 55 {
            return Err(at("title: 1 to 55 characters"));
        }
        if s.base_plans.is_empty() {
            return Err(at("base_plans: at least one"));
        }
        let mut plans = std::collections::BTreeSet::new();
        for p in &s.base_plans {
            let ok_id = !p.base_plan_id.is_empty()
                && p.base_plan_id.len() <= 63
                && p.base_plan_id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok_id || !plans.insert(p.base_plan_id.as_str()) {
                return Err(at(&format!(
                    "base_plans: {:?} must be unique, 1 to 63 of a-z, 0-9 and -",
                    p.base_plan_id
                )));
            }
            if !p.billing_period.starts_with('P') || p.billing_period.len() < 3 {
                return Err(at("billing_period: an ISO 8601 period such as P1M"));
            }
            if !crate::is_code(&p.currency, 3) {
                return Err(at("currency: an ISO 4217 code such as USD"));
            }
            if p.price_micros <= 0 {
                return Err(at("price_micros: must be above zero"));
            }
        }
    }
    let package = app.package.as_str();
    let current: BTreeMap<String, InAppProduct> = every_inapp_product(app)
        .await?
        .into_iter()
        .filter_map(|p| Some((p.sku.clone()?, p)))
        .collect();
    let mut changes = Vec::new();
    let mut writes = Vec::new();
    for (n, spec) in file.one_time_products.iter().enumerate() {
        let wanted = desired(app, spec).await?;
        let change = match current.get(&spec.product_id) {
            None => PushChange {
                product_id: spec.product_id.clone(),
                action: "create",
                fields: vec![],
            },
            Some(now) => {
                let fields = differences(now, &wanted);
                PushChange {
                    product_id: spec.product_id.clone(),
                    action: if fields.is_empty() {
                        "unchanged"
                    } else {
                        "update"
                    },
                    fields,
                }
            }
        };
        tracing::info!(product = %spec.product_id, action = change.action,
            done = n + 1, of = file.one_time_products.len(), "catalog push");
        if change.action != "unchanged" {
            writes.push(wanted);
        }
        changes.push(change);
    }
    let (sub_changes, sub_writes) = subscription_changes(app, &file.subscriptions).await?;
    changes.extend(sub_changes);
    if apply && (!writes.is_empty() || !sub_writes.is_empty()) {
        for chunk in writes.chunks(BATCH) {
            let request = InappproductsBatchUpdateRequest {
                requests: Some(
                    chunk
                        .iter()
                        .map(|p| InappproductsUpdateRequest {
                            allow_missing: Some(true),
                            auto_convert_missing_prices: Some(false),
                            inappproduct: Some(p.clone()),
                            latency_tolerance: Some(LatencyTolerance::LatencyTolerant),
                            package_name: Some(package.to_owned()),
                            sku: p.sku.clone(),
                        })
                        .collect(),
                ),
            };
            app.play
                .batch_update_inapp_products(package, &request)
                .await?;
        }
        for chunk in sub_writes.chunks(BATCH) {
            write_subscriptions(app, chunk).await?;
        }
        sync(state, app).await?;
    }
    Ok(changes)
}

/// The product as `spec` wants it, its regional prices converted by Google.
async fn desired(app: &App, spec: &OneTimeSpec) -> Result<InAppProduct, ApiError> {
    let prices: BTreeMap<String, Price> = regional_prices(app, &spec.currency, spec.price_micros)
        .await?
        .into_iter()
        .map(|(region, m)| {
            let price = Price {
                price_micros: Some(playbill_google::wire::Int64(micros_of(&m))),
                currency: m.currency_code,
            };
            (region, price)
        })
        .collect();
    Ok(InAppProduct {
        sku: Some(spec.product_id.clone()),
        package_name: Some(app.package.to_string()),
        purchase_type: Some(InAppProductPurchaseType::ManagedUser),
        status: Some(if spec.active {
            InAppProductStatus::Active
        } else {
            InAppProductStatus::Inactive
        }),
        default_language: Some(spec.language.clone()),
        listings: Some(BTreeMap::from([(
            spec.language.clone(),
            InAppProductListing {
                title: Some(spec.title.clone()),
                description: Some(spec.description.clone()),
                ..InAppProductListing::default()
            },
        )])),
        default_price: Some(Price {
            currency: Some(spec.currency.clone()),
            price_micros: Some(playbill_google::wire::Int64(spec.price_micros)),
        }),
        prices: Some(prices),
        ..InAppProduct::default()
    })
}

/// The regions version prices are given for (Google's current one).
const REGIONS_VERSION: &str = "2022/02";

/// `micros` of `currency` in every region Play sells in, converted by Google.
async fn regional_prices(
    app: &App,
    currency: &str,
    micros: i64,
) -> Result<BTreeMap<String, Money>, ApiError> {
    let base = Money {
        currency_code: Some(currency.to_owned()),
        units: Some(playbill_google::wire::Int64(micros / 1_000_000)),
        nanos: Some(i32::try_from((micros % 1_000_000) * 1_000).unwrap_or(0)),
    };
    let request = ConvertRegionPricesRequest {
        price: Some(base),
        product_tax_category_code: None,
    };
    let converted = app
        .play
        .convert_region_prices(app.package.as_str(), &request)
        .await?;
    Ok(converted
        .converted_region_prices
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(region, c)| Some((region, c.price?)))
        .collect())
}

fn micros_of(m: &Money) -> i64 {
    m.units.map_or(0, |u| u.0) * 1_000_000 + i64::from(m.nanos.unwrap_or(0)) / 1_000
}

/// Writes subscriptions (listings and base plans), then puts their new (draft) base plans on
/// sale.
async fn write_subscriptions(app: &App, subs: &[Subscription]) -> Result<(), ApiError> {
    let package = app.package.as_str();
    let request = BatchUpdateSubscriptionsRequest {
        requests: Some(
            subs.iter()
                .map(|s| UpdateSubscriptionRequest {
                    allow_missing: Some(true),
                    latency_tolerance: Some(LatencyTolerance::LatencyTolerant),
                    regions_version: Some(RegionsVersion {
                        version: Some(REGIONS_VERSION.into()),
                    }),
                    subscription: Some(s.clone()),
                    update_mask: Some("listings,basePlans".into()),
                })
                .collect(),
        ),
    };
    let written = app
        .play
        .batch_update_subscriptions(package, &request)
        .await?;
    for s in written.subscriptions.unwrap_or_default() {
        let Some(id) = s.product_id.clone() else {
            continue;
        };
        for plan in s.base_plans.iter().flatten() {
            let Some(plan_id) = plan.base_plan_id.clone() else {
                continue;
            };
            if plan.state == Some(BasePlanState::Draft) {
                let request = ActivateBasePlanRequest {
                    base_plan_id: Some(plan_id.clone()),
                    latency_tolerance: Some(LatencyTolerance::LatencyTolerant),
                    package_name: Some(package.to_owned()),
                    product_id: Some(id.clone()),
                };
                app.play
                    .activate_base_plan(package, &id, &plan_id, &request)
                    .await?;
            }
        }
    }
    Ok(())
}

/// A base plan's regional prices, comparable.
fn price_key(c: &[RegionalBasePlanConfig]) -> Vec<(Option<String>, Option<i64>, Option<String>)> {
    let mut k: Vec<_> = c
        .iter()
        .map(|c| {
            (
                c.region_code.clone(),
                c.price.as_ref().map(micros_of),
                c.price.as_ref().and_then(|m| m.currency_code.clone()),
            )
        })
        .collect();
    k.sort();
    k
}

/// Each subscription of the file against Google's: the change, and what to write.
async fn subscription_changes(
    app: &App,
    specs: &[SubscriptionSpec],
) -> Result<(Vec<PushChange>, Vec<Subscription>), ApiError> {
    if specs.is_empty() {
        return Ok((vec![], vec![]));
    }
    let package = app.package.as_str();
    let current: BTreeMap<String, Subscription> = every_subscription(app)
        .await?
        .into_iter()
        .filter_map(|s| Some((s.product_id.clone()?, s)))
        .collect();
    let mut changes = Vec::new();
    let mut writes = Vec::new();
    for spec in specs {
        let now = current.get(&spec.product_id);
        let mut wanted = now.cloned().unwrap_or_else(|| Subscription {
            product_id: Some(spec.product_id.clone()),
            package_name: Some(package.to_owned()),
            ..Subscription::default()
        });
        let mut fields = Vec::new();
        let listing = SubscriptionListing {
            language_code: Some(spec.language.clone()),
            title: Some(spec.title.clone()),
            description: Some(spec.description.clone()),
            ..SubscriptionListing::default()
        };
        let mut listings = wanted.listings.take().unwrap_or_default();
        let same_language =
            |l: &SubscriptionListing| l.language_code.as_deref() == Some(spec.language.as_str());
        match listings.iter_mut().find(|l| same_language(l)) {
            Some(l)
                if l.title == listing.title
                    && l.description.clone().unwrap_or_default() == spec.description => {}
            Some(l) => {
                *l = listing;
                fields.push("listing".to_owned());
            }
            None => {
                listings.push(listing);
                fields.push("listing".to_owned());
            }
        }
        wanted.listings = Some(listings);
        let mut plans = wanted.base_plans.take().unwrap_or_default();
        for p in &spec.base_plans {
            let regional: Vec<RegionalBasePlanConfig> =
                regional_prices(app, &p.currency, p.price_micros)
                    .await?
                    .into_iter()
                    .map(|(region, price)| RegionalBasePlanConfig {
                        new_subscriber_availability: Some(true),
                        price: Some(price),
                        region_code: Some(region),
                    })
                    .collect();
            let existing = plans
                .iter_mut()
                .find(|b| b.base_plan_id.as_deref() == Some(p.base_plan_id.as_str()));
            match existing {
                Some(b) => {
                    let period = b
                        .auto_renewing_base_plan_type
                        .as_ref()
                        .and_then(|t| t.billing_period_duration.clone())
                        .or_else(|| {
                            b.prepaid_base_plan_type
                                .as_ref()
                                .and_then(|t| t.billing_period_duration.clone())
                        });
                    if period.as_deref() != Some(p.billing_period.as_str())
                        || b.prepaid_base_plan_type.is_some() != p.prepaid
                    {
                        return Err(ApiError::BadRequest(format!(
                            "subscriptions ({}): base plan {:?}: its billing period and type cannot change at Google; add a new base plan",
                            spec.product_id, p.base_plan_id
                        )));
                    }
                    if price_key(b.regional_configs.as_deref().unwrap_or_default())
                        != price_key(&regional)
                    {
                        b.regional_configs = Some(regional);
                        fields.push(format!("price:{}", p.base_plan_id));
                    }
                }
                None => {
                    let mut b = BasePlan {
                        base_plan_id: Some(p.base_plan_id.clone()),
                        regional_configs: Some(regional),
                        ..BasePlan::default()
                    };
                    let period = Some(p.billing_period.clone());
                    if p.prepaid {
                        b.prepaid_base_plan_type = Some(PrepaidBasePlanType {
                            billing_period_duration: period,
                            ..PrepaidBasePlanType::default()
                        });
                    } else {
                        b.auto_renewing_base_plan_type = Some(AutoRenewingBasePlanType {
                            billing_period_duration: period,
                            ..AutoRenewingBasePlanType::default()
                        });
                    }
                    plans.push(b);
                    fields.push(format!("base_plan:{}", p.base_plan_id));
                }
            }
        }
        wanted.base_plans = Some(plans);
        let action = match (now, fields.is_empty()) {
            (None, _) => "create",
            (Some(_), true) => "unchanged",
            (Some(_), false) => "update",
        };
        if action != "unchanged" {
            writes.push(wanted);
        }
        changes.push(PushChange {
            product_id: spec.product_id.clone(),
            action,
            fields: if action == "create" { vec![] } else { fields },
        });
    }
    Ok((changes, writes))
}

/// The fields in which Google's product differs from the wanted one.
fn differences(now: &InAppProduct, wanted: &InAppProduct) -> Vec<String> {
    let listing = |p: &InAppProduct| {
        p.listings
            .as_ref()
            .and_then(|l| l.get(wanted.default_language.as_deref().unwrap_or("")))
            .map(|l| (l.title.clone(), l.description.clone().unwrap_or_default()))
    };
    let mut out = Vec::new();
    if now.status != wanted.status {
        out.push("status");
    }
    let (a, b) = (listing(now), listing(wanted));
    if a.as_ref().map(|l| &l.0) != b.as_ref().map(|l| &l.0) {
        out.push("title");
    }
    if a.as_ref().map(|l| &l.1) != b.as_ref().map(|l| &l.1) {
        out.push("description");
    }
    if now.default_price != wanted.default_price {
        out.push("default_price");
    }
    if now.prices.clone().unwrap_or_default() != wanted.prices.clone().unwrap_or_default() {
        out.push("prices");
    }
    out.into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: &str, id: &str, body: Value) -> CatalogItem {
        CatalogItem {
            item_id: format!("{kind}:{id}"),
            kind: kind.into(),
            body: body.to_string(),
        }
    }

    #[test]
    fn only_what_is_active_and_sold_in_the_region() {
        let usd =
            |units: &str| json!({"currencyCode": "USD", "units": units, "nanos": 990_000_000});
        let plan = |id: &str, state: &str| {
            json!({
                "basePlanId": id, "state": state,
                "autoRenewingBasePlanType": {"billingPeriodDuration": "P1M"},
                "regionalConfigs": [{"regionCode": "US", "price": usd("4")}],
            })
        };
        let items = vec![
            item(
                "inapp",
                "gems",
                json!({"sku": "gems", "status": "active", "defaultLanguage": "en-US",
                "listings": {"en-US": {"title": "Gems"}},
                "defaultPrice": {"currency": "USD", "priceMicros": "990000"},
                "prices": {"US": {"currency": "USD", "priceMicros": "990000"}}}),
            ),
            item(
                "inapp",
                "old",
                json!({"sku": "old", "status": "inactive",
                "prices": {"US": {"currency": "USD", "priceMicros": "1"}}}),
            ),
            item(
                "subscription",
                "premium",
                json!({"productId": "premium",
                "basePlans": [plan("monthly", "ACTIVE"), plan("yearly", "INACTIVE")]}),
            ),
            item(
                "subscription",
                "retired",
                json!({"productId": "retired",
                "basePlans": [plan("monthly", "INACTIVE")]}),
            ),
            item(
                "offer",
                "premium/monthly/trial",
                json!({"productId": "premium",
                "basePlanId": "monthly", "offerId": "trial", "state": "ACTIVE",
                "offerTags": [{"tag": "intro"}], "regionalConfigs": [{"regionCode": "US"}]}),
            ),
            item(
                "offer",
                "premium/monthly/draft",
                json!({"productId": "premium",
                "basePlanId": "monthly", "offerId": "draft", "state": "DRAFT",
                "regionalConfigs": [{"regionCode": "US"}]}),
            ),
        ];
        let policy = AppPolicy {
            account_id_rule: Default::default(),
            consumables: Default::default(),
            entitlements: [("premium".to_owned(), vec!["pro".to_owned()])].into(),
        };
        let us = active_view(&items, Some("US"), &policy);
        assert_eq!(
            us["one_time_products"],
            json!([{"product_id": "gems", "title": "Gems",
                    "price": {"currency": "USD", "micros": 990000}, "entitlements": ["gems"]}])
        );
        let subs = us["subscriptions"].as_array().unwrap();
        assert_eq!(subs.len(), 1, "{subs:?}");
        assert_eq!(subs[0]["entitlements"], json!(["pro"]));
        let plans = subs[0]["base_plans"].as_array().unwrap();
        assert_eq!(plans.len(), 1);
        assert_eq!(
            plans[0]["price"],
            json!({"currency": "USD", "micros": 4_990_000})
        );
        assert_eq!(
            plans[0]["offers"],
            json!([{"offer_id": "trial", "tags": ["intro"]}])
        );
        let jp = active_view(&items, Some("JP"), &policy);
        assert_eq!(jp["one_time_products"], json!([]));
        assert_eq!(jp["subscriptions"], json!([]));
    }
}
