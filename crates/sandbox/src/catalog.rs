//! Catalog APIs of the Play Developer API, per `contracts/androidpublisher.v3.json`
//! (paths are the methods' `flatPath`s, bodies the wire types of `playbill_google::catalog`):
//! - `inappproducts.*`: list, get, insert, update, patch, delete, batchGet, batchUpdate,
//!   batchDelete, for managed products (subscriptions are refused: the contract says this
//!   API no longer handles them);
//! - `monetization.subscriptions.*`: list, get, create, patch, delete, batchGet,
//!   batchUpdate, archive (answers 400: the contract says archiving is not supported);
//!   `basePlans`: activate, deactivate, delete, batchUpdateStates, and migratePrices /
//!   batchMigratePrices, which move existing subscribers of the listed regions to the
//!   current price through the lifecycle's price change (RTDN 19); `basePlans.offers`: list, get, create, patch, delete, activate,
//!   deactivate, batchGet, batchUpdate, batchUpdateStates;
//! - `monetization.onetimeproducts.*`: list, get, patch (its `flatPath` is the lowercase
//!   `onetimeproducts/{productId}`), delete, batchGet, batchUpdate, batchDelete;
//!   `purchaseOptions`: batchUpdateStates, batchDelete; `purchaseOptions.offers`: list,
//!   activate, deactivate, cancel, batchGet, batchUpdate, batchUpdateStates, batchDelete;
//! - `monetization.convertRegionPrices`, from a fixed table of sandbox exchange and tax
//!   rates ([`REGIONS`], [`USD_RATES`]).
//!
//! The rules Google enforces answer in its error envelope: 404 for an unknown product,
//! base plan, purchase option or offer; 409 for an id already taken (subscriptions and
//! one-time products share one id space per app); 400 for ids that break the contract's
//! rules, a body id that differs from the path's, a missing required field, a missing
//! `updateMask` or `regionsVersion.version`, an unknown query parameter, malformed JSON,
//! or a state change the contract does not allow. Base plans, subscription offers and
//! purchase options are created DRAFT and change state only through their
//! activate/deactivate methods (DRAFT or INACTIVE → ACTIVE → INACTIVE; one-time pre-order
//! offers are cancelled instead); only DRAFT base plans and offers can be deleted, and a
//! subscription only while none of its base plans was ever activated. Batch methods change
//! all or nothing.
//!
//! A managed product has both views Google gives it: the `inappproducts` one and the
//! `onetimeproducts` one, whose legacy-compatible buy purchase option (created as
//! `legacy-base`, a sandbox choice) carries the in-app product's prices and status. A write
//! through either API stores what was sent and derives the other view from it.
//!
//! Tie-in with the rest of the sandbox: [`Catalog::sync_from_control`] shows products made
//! by the control API in the catalog (a subscription with one ACTIVE base plan, or both
//! views of a managed product), and a product created here is added to `World::products`,
//! so it can be bought through the control API; deleting it here removes it there unless a
//! purchase uses it.
//!
//! Sandbox choices and gaps: `inappproducts.list` pages hold [`INAPP_PAGE_SIZE`] products
//! (the contract leaves the size to the server); `fields` (partial responses) and
//! `latencyTolerance` are accepted and ignored; prices are checked against a region's
//! currency only for the regions of [`REGIONS`], and conversions have no pricing patterns
//! (`.99` endings); base plan, offer and purchase option states do not restrict what the
//! control API lets users buy; a product created here enters `World::products` once (a
//! subscription when it has a base plan), with the base plan and price it had then.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::MutexGuard;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use playbill_google::catalog as cat;
use playbill_google::wire::{Empty, Int64, Money, TokenPagination};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{GoogleApiError, json_body};
use crate::period::Period;
use crate::play::split_verb;
use crate::quota::Bucket;
use crate::state::{DAY_MS, Kind, Product, Shared, World};

type ApiResult<T> = Result<T, GoogleApiError>;

/// The purchase option a managed product gets from its `inappproducts` view.
pub const LEGACY_PURCHASE_OPTION: &str = "legacy-base";

/// The regions version the sandbox reports (any non-empty version is accepted).
pub const REGIONS_VERSION: &str = "2022/02";

/// Page size of `inappproducts.list`, which the contract leaves to the server.
pub const INAPP_PAGE_SIZE: usize = 100;

/// The catalog Google holds for every app.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    /// Managed products by (package, product id).
    managed: BTreeMap<(String, String), Managed>,
    /// Subscriptions by (package, product id).
    subscriptions: BTreeMap<(String, String), Subs>,
}

/// One managed product in its two views.
#[derive(Debug, Clone)]
struct Managed {
    /// The `inappproducts` view; `None` while no legacy-compatible buy option backs it.
    inapp: Option<cat::InAppProduct>,
    /// The `onetimeproducts` view.
    otp: cat::OneTimeProduct,
    /// Offers by (purchase option id, offer id).
    offers: BTreeMap<(String, String), cat::OneTimeProductOffer>,
}

/// One subscription, its offers, and whether it can still be deleted.
#[derive(Debug, Clone)]
struct Subs {
    sub: cat::Subscription,
    /// Offers by (base plan id, offer id).
    offers: BTreeMap<(String, String), cat::SubscriptionOffer>,
    /// A base plan was activated once: Google no longer deletes the subscription.
    published: bool,
}

fn key(package: &str, id: &str) -> (String, String) {
    (package.to_owned(), id.to_owned())
}

impl Catalog {
    /// Makes a product of the control API visible in the catalog: both views of a managed
    /// product (`Kind::OneTime`), or a subscription whose base plan `product.base_plan_id`
    /// is ACTIVE with the product's billing period, grace, hold and price (`Kind::Subscription`).
    /// What the catalog API added to the same product (listings, other base plans, offers)
    /// stays.
    pub fn sync_from_control(&mut self, product: &Product) {
        let k = key(&product.package_name, &product.product_id);
        let listing_title = product.product_id.clone();
        match product.kind {
            Kind::OneTime => {
                self.subscriptions.remove(&k);
                let old = self.managed.remove(&k);
                let price = cat::Price {
                    currency: Some(product.currency.clone()),
                    price_micros: Some(Int64(product.price_micros)),
                };
                let mut inapp = old
                    .as_ref()
                    .and_then(|m| m.inapp.clone())
                    .unwrap_or_default();
                inapp.package_name = Some(product.package_name.clone());
                inapp.sku = Some(product.product_id.clone());
                inapp.purchase_type = Some(cat::InAppProductPurchaseType::ManagedUser);
                inapp.status = Some(cat::InAppProductStatus::Active);
                inapp.default_language.get_or_insert_with(|| "en-US".into());
                let language = inapp.default_language.clone().unwrap_or_default();
                inapp
                    .listings
                    .get_or_insert_with(BTreeMap::new)
                    .entry(language)
                    .or_insert_with(|| cat::InAppProductListing {
                        title: Some(listing_title),
                        description: Some(String::new()),
                        ..Default::default()
                    });
                inapp.default_price = Some(price.clone());
                inapp.prices =
                    home_region(&product.currency).map(|r| BTreeMap::from([(r.to_owned(), price)]));
                let mut otp = otp_from_inapp(&inapp, old.as_ref().map(|m| &m.otp));
                if let Some(o) = legacy_option_mut(&mut otp) {
                    o.state = Some(cat::PurchaseOptionState::Active);
                }
                self.managed.insert(
                    k,
                    Managed {
                        inapp: Some(inapp),
                        otp,
                        offers: old.map(|m| m.offers).unwrap_or_default(),
                    },
                );
            }
            Kind::Subscription => {
                self.managed.remove(&k);
                let entry = self.subscriptions.entry(k).or_insert_with(|| Subs {
                    sub: cat::Subscription {
                        package_name: Some(product.package_name.clone()),
                        product_id: Some(product.product_id.clone()),
                        listings: Some(vec![cat::SubscriptionListing {
                            language_code: Some("en-US".into()),
                            title: Some(listing_title),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    },
                    offers: BTreeMap::new(),
                    published: false,
                });
                let plan = control_base_plan(product);
                let plans = entry.sub.base_plans.get_or_insert_with(Vec::new);
                match plans
                    .iter_mut()
                    .find(|p| p.base_plan_id.as_deref() == Some(&product.base_plan_id))
                {
                    Some(p) => *p = plan,
                    None => plans.push(plan),
                }
                entry.published = true;
            }
        }
    }

    fn taken(&self, package: &str, id: &str) -> bool {
        let k = key(package, id);
        self.managed.contains_key(&k) || self.subscriptions.contains_key(&k)
    }

    fn sub(&self, package: &str, id: &str) -> ApiResult<&Subs> {
        self.subscriptions
            .get(&key(package, id))
            .ok_or_else(|| no_subscription(package, id))
    }

    fn sub_mut(&mut self, package: &str, id: &str) -> ApiResult<&mut Subs> {
        self.subscriptions
            .get_mut(&key(package, id))
            .ok_or_else(|| no_subscription(package, id))
    }

    fn managed(&self, package: &str, id: &str) -> ApiResult<&Managed> {
        self.managed
            .get(&key(package, id))
            .ok_or_else(|| no_product(package, id))
    }

    fn managed_mut(&mut self, package: &str, id: &str) -> ApiResult<&mut Managed> {
        self.managed
            .get_mut(&key(package, id))
            .ok_or_else(|| no_product(package, id))
    }

    fn inapp(&self, package: &str, sku: &str) -> ApiResult<&cat::InAppProduct> {
        self.managed
            .get(&key(package, sku))
            .and_then(|m| m.inapp.as_ref())
            .ok_or_else(|| no_product(package, sku))
    }
}

fn no_subscription(package: &str, id: &str) -> GoogleApiError {
    GoogleApiError::not_found(format!(
        "Subscription {id:?} was not found in app {package:?}."
    ))
}

fn no_product(package: &str, id: &str) -> GoogleApiError {
    GoogleApiError::not_found(format!("Product {id:?} was not found in app {package:?}."))
}

fn no_base_plan(id: &str, plan: &str) -> GoogleApiError {
    GoogleApiError::not_found(format!(
        "Base plan {plan:?} was not found in subscription {id:?}."
    ))
}

fn already_exists(what: String) -> GoogleApiError {
    GoogleApiError::new(
        StatusCode::CONFLICT,
        "alreadyExists",
        format!("{what} already exists."),
    )
}

fn invalid(message: impl Into<String>) -> GoogleApiError {
    GoogleApiError::invalid("invalid", message)
}

fn required(field: &str) -> GoogleApiError {
    GoogleApiError::invalid("required", format!("{field} is required."))
}

fn precondition(message: impl Into<String>) -> GoogleApiError {
    GoogleApiError::invalid("failedPrecondition", message)
}

// ---- the World: auth, quota, and World::products ---------------------------------------

/// Locks the world for a catalog call of `package`: credentials, then quota.
fn open<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
    package: &str,
) -> ApiResult<MutexGuard<'a, World>> {
    crate::play::open(shared, headers, package, Bucket::Catalog)
}

/// A product with the control API's defaults, to be filled from the catalog.
fn new_product(package: &str, id: &str, kind: Kind) -> Product {
    Product {
        package_name: package.to_owned(),
        product_id: id.to_owned(),
        kind,
        base_plan_id: "monthly".into(),
        billing_period: Period {
            years: 0,
            months: 1,
            days: 0,
        },
        grace_days: crate::control::DEFAULT_GRACE_DAYS,
        hold_days: 60 - crate::control::DEFAULT_GRACE_DAYS,
        price_micros: crate::state::DEFAULT_PRICE_MICROS,
        currency: "USD".into(),
        prepaid: false,
        installments: None,
    }
}

/// The purchasable product of a catalog subscription: its first ACTIVE base plan (else its
/// first one); `None` while it has no base plan.
fn product_of_subscription(package: &str, sub: &cat::Subscription) -> Option<Product> {
    let plans = sub.base_plans.as_deref().unwrap_or_default();
    let plan = plans
        .iter()
        .find(|p| p.state == Some(cat::BasePlanState::Active))
        .or_else(|| plans.first())?;
    let mut p = new_product(
        package,
        sub.product_id.as_deref().unwrap_or_default(),
        Kind::Subscription,
    );
    p.base_plan_id = plan.base_plan_id.clone().unwrap_or_default();
    p.prepaid = plan.prepaid_base_plan_type.is_some();
    p.installments = plan
        .installments_base_plan_type
        .as_ref()
        .and_then(|i| i.committed_payments_count)
        .map(|n| n.max(0) as u32);
    let (billing, grace, hold) = if let Some(a) = &plan.auto_renewing_base_plan_type {
        (
            a.billing_period_duration.as_deref(),
            a.grace_period_duration.as_deref(),
            a.account_hold_duration.as_deref(),
        )
    } else if let Some(i) = &plan.installments_base_plan_type {
        (
            i.billing_period_duration.as_deref(),
            i.grace_period_duration.as_deref(),
            i.account_hold_duration.as_deref(),
        )
    } else {
        let prepaid = plan.prepaid_base_plan_type.as_ref();
        (
            prepaid.and_then(|p| p.billing_period_duration.as_deref()),
            Some("P0D"),
            Some("P0D"),
        )
    };
    if let Some(period) = billing.and_then(|b| Period::parse(b).ok()) {
        p.billing_period = period;
    }
    if let Some(g) = grace.and_then(days) {
        p.grace_days = g;
    }
    p.hold_days = hold.and_then(days).unwrap_or(60 - p.grace_days.min(60));
    let configs = plan.regional_configs.as_deref().unwrap_or_default();
    let priced = configs
        .iter()
        .find(|c| c.region_code.as_deref() == Some("US") && c.price.is_some())
        .or_else(|| configs.iter().find(|c| c.price.is_some()));
    if let Some(m) = priced.and_then(|c| c.price.as_ref())
        && let (Some(micros), Some(currency)) = (micros_of(m), m.currency_code.clone())
    {
        p.price_micros = micros;
        p.currency = currency;
    }
    Some(p)
}

/// The purchasable product of a managed product: its in-app default price, else the price
/// of its legacy-compatible (else first) buy option, in the US if it sells there.
fn product_of_managed(package: &str, m: &Managed) -> Product {
    let otp = &m.otp;
    let mut p = new_product(
        package,
        otp.product_id.as_deref().unwrap_or_default(),
        Kind::OneTime,
    );
    let default = m.inapp.as_ref().and_then(|i| i.default_price.as_ref());
    if let Some(cat::Price {
        currency: Some(currency),
        price_micros: Some(micros),
    }) = default
    {
        p.price_micros = micros.0;
        p.currency = currency.clone();
        return p;
    }
    let options = otp.purchase_options.as_deref().unwrap_or_default();
    let option = options
        .iter()
        .find(|o| is_legacy(o))
        .or_else(|| options.iter().find(|o| o.buy_option.is_some()));
    let configs = option
        .and_then(|o| o.regional_pricing_and_availability_configs.as_deref())
        .unwrap_or_default();
    let priced = configs
        .iter()
        .find(|c| c.region_code.as_deref() == Some("US") && c.price.is_some())
        .or_else(|| configs.iter().find(|c| c.price.is_some()));
    if let Some(m) = priced.and_then(|c| c.price.as_ref())
        && let (Some(micros), Some(currency)) = (micros_of(m), m.currency_code.clone())
    {
        p.price_micros = micros;
        p.currency = currency;
    }
    p
}

/// Adds the purchasable product of catalog product `id` to `World::products`, if absent.
fn ensure_product(world: &mut World, package: &str, id: &str) {
    let k = key(package, id);
    if world.products.contains_key(&k) {
        return;
    }
    let product = if let Some(s) = world.catalog.subscriptions.get(&k) {
        product_of_subscription(package, &s.sub)
    } else {
        world
            .catalog
            .managed
            .get(&k)
            .map(|m| product_of_managed(package, m))
    };
    if let Some(p) = product {
        world.products.insert(k, p);
    }
}

/// Removes a deleted catalog product from `World::products`, unless a purchase uses it.
fn forget_product(world: &mut World, package: &str, id: &str) {
    let used = world
        .purchases
        .values()
        .any(|p| p.package_name == package && p.product_id == id);
    if !used && !world.catalog.taken(package, id) {
        world.products.remove(&key(package, id));
    }
}

/// The base plan of a control-API subscription product: prepaid, installments (which
/// renew with a new commitment, as the sandbox's lifecycle does) or auto-renewing.
fn control_base_plan(product: &Product) -> cat::BasePlan {
    let billing = Some(product.billing_period.to_string());
    let grace = Some(format!("P{}D", product.grace_days));
    let hold = Some(format!("P{}D", product.hold_days));
    let mut plan = cat::BasePlan {
        base_plan_id: Some(product.base_plan_id.clone()),
        state: Some(cat::BasePlanState::Active),
        regional_configs: home_region(&product.currency).map(|region| {
            vec![cat::RegionalBasePlanConfig {
                region_code: Some(region.to_owned()),
                new_subscriber_availability: Some(true),
                price: Some(money(product.price_micros, &product.currency)),
            }]
        }),
        ..Default::default()
    };
    if product.prepaid {
        plan.prepaid_base_plan_type = Some(cat::PrepaidBasePlanType {
            billing_period_duration: billing,
            time_extension: Some(cat::TimeExtension::Active),
        });
    } else if let Some(n) = product.installments {
        plan.installments_base_plan_type = Some(cat::InstallmentsBasePlanType {
            billing_period_duration: billing,
            committed_payments_count: Some(n as i32),
            renewal_type: Some(cat::InstallmentsRenewalType::RenewsWithCommitment),
            grace_period_duration: grace,
            account_hold_duration: hold,
            resubscribe_state: Some(cat::ResubscribeState::Active),
            ..Default::default()
        });
    } else {
        plan.auto_renewing_base_plan_type = Some(cat::AutoRenewingBasePlanType {
            billing_period_duration: billing,
            grace_period_duration: grace,
            account_hold_duration: hold,
            resubscribe_state: Some(cat::ResubscribeState::Active),
            legacy_compatible: Some(true),
            ..Default::default()
        });
    }
    plan
}

// ---- the two views of a managed product ------------------------------------------------

fn is_legacy(o: &cat::OneTimeProductPurchaseOption) -> bool {
    o.buy_option
        .as_ref()
        .is_some_and(|b| b.legacy_compatible == Some(true))
}

fn legacy_option_mut(
    otp: &mut cat::OneTimeProduct,
) -> Option<&mut cat::OneTimeProductPurchaseOption> {
    otp.purchase_options
        .as_mut()?
        .iter_mut()
        .find(|o| is_legacy(o))
}

/// The `onetimeproducts` view of an in-app product: `old`'s other purchase options, offer
/// tags and restrictions stay; the legacy-compatible buy option takes the prices and status.
fn otp_from_inapp(
    inapp: &cat::InAppProduct,
    old: Option<&cat::OneTimeProduct>,
) -> cat::OneTimeProduct {
    let mut otp = old.cloned().unwrap_or_default();
    otp.package_name = inapp.package_name.clone();
    otp.product_id = inapp.sku.clone();
    otp.regions_version
        .get_or_insert_with(|| cat::RegionsVersion {
            version: Some(REGIONS_VERSION.into()),
        });
    otp.listings = inapp.listings.as_ref().map(|ls| {
        ls.iter()
            .map(|(language, l)| cat::OneTimeProductListing {
                language_code: Some(language.clone()),
                title: l.title.clone(),
                description: l.description.clone(),
            })
            .collect()
    });
    let taxes = inapp.managed_product_taxes_and_compliance_settings.as_ref();
    if let Some(t) = taxes {
        otp.tax_and_compliance_settings = Some(cat::OneTimeProductTaxAndComplianceSettings {
            is_tokenized_digital_asset: t.is_tokenized_digital_asset,
            product_tax_category_code: t.product_tax_category_code.clone(),
            regional_product_age_rating_infos: t.regional_product_age_rating_infos.clone(),
            regional_tax_configs: t.tax_rate_info_by_region_code.as_ref().map(|m| {
                m.iter()
                    .map(|(region, r)| cat::RegionalTaxConfig {
                        region_code: Some(region.clone()),
                        eligible_for_streaming_service_tax_rate: r
                            .eligible_for_streaming_service_tax_rate,
                        streaming_tax_type: r.streaming_tax_type.clone(),
                        tax_tier: r.tax_tier.clone(),
                    })
                    .collect()
            }),
        });
    }
    let configs = inapp.prices.as_ref().map(|prices| {
        prices
            .iter()
            .map(|(region, p)| {
                cat::OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig {
                    region_code: Some(region.clone()),
                    price: p
                        .currency
                        .as_deref()
                        .map(|c| money(p.price_micros.map_or(0, |m| m.0), c)),
                    availability: Some(cat::PurchaseOptionAvailability::Available),
                }
            })
            .collect()
    });
    let active = inapp.status == Some(cat::InAppProductStatus::Active);
    let options = otp.purchase_options.get_or_insert_with(Vec::new);
    let option = match options.iter().position(is_legacy) {
        Some(i) => &mut options[i],
        None => {
            options.insert(
                0,
                cat::OneTimeProductPurchaseOption {
                    purchase_option_id: Some(LEGACY_PURCHASE_OPTION.into()),
                    buy_option: Some(cat::OneTimeProductBuyPurchaseOption {
                        legacy_compatible: Some(true),
                        multi_quantity_enabled: Some(false),
                    }),
                    state: Some(cat::PurchaseOptionState::Draft),
                    ..Default::default()
                },
            );
            &mut options[0]
        }
    };
    option.regional_pricing_and_availability_configs = configs;
    option.state = Some(match (active, &option.state) {
        (true, _) => cat::PurchaseOptionState::Active,
        (false, Some(cat::PurchaseOptionState::Draft)) => cat::PurchaseOptionState::Draft,
        (false, _) => cat::PurchaseOptionState::Inactive,
    });
    if let Some(w) = taxes.and_then(|t| t.eea_withdrawal_right_type.clone()) {
        option.tax_and_compliance_settings = Some(cat::PurchaseOptionTaxAndComplianceSettings {
            withdrawal_right_type: Some(w),
        });
    }
    otp
}

/// The `inappproducts` view of a one-time product, from its legacy-compatible buy option;
/// `None` without one. What only the in-app view has (default price and language) stays.
fn inapp_from_otp(
    otp: &cat::OneTimeProduct,
    old: Option<&cat::InAppProduct>,
) -> Option<cat::InAppProduct> {
    let option = otp
        .purchase_options
        .as_deref()?
        .iter()
        .find(|o| is_legacy(o))?;
    let mut inapp = old.cloned().unwrap_or_default();
    inapp.package_name = otp.package_name.clone();
    inapp.sku = otp.product_id.clone();
    inapp.purchase_type = Some(cat::InAppProductPurchaseType::ManagedUser);
    inapp.status = Some(if option.state == Some(cat::PurchaseOptionState::Active) {
        cat::InAppProductStatus::Active
    } else {
        cat::InAppProductStatus::Inactive
    });
    let listings: BTreeMap<String, cat::InAppProductListing> = otp
        .listings
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|l| {
            (
                l.language_code.clone().unwrap_or_default(),
                cat::InAppProductListing {
                    title: l.title.clone(),
                    description: l.description.clone(),
                    ..Default::default()
                },
            )
        })
        .collect();
    if inapp
        .default_language
        .as_ref()
        .is_none_or(|d| !listings.contains_key(d))
    {
        inapp.default_language = listings.keys().next().cloned();
    }
    inapp.listings = Some(listings);
    let prices: BTreeMap<String, cat::Price> = option
        .regional_pricing_and_availability_configs
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let m = c.price.as_ref()?;
            Some((
                c.region_code.clone()?,
                cat::Price {
                    currency: m.currency_code.clone(),
                    price_micros: micros_of(m).map(Int64),
                },
            ))
        })
        .collect();
    let default_currency = inapp
        .default_price
        .as_ref()
        .and_then(|p| p.currency.clone());
    let default = prices
        .values()
        .find(|p| p.currency.is_some() && p.currency == default_currency)
        .or_else(|| prices.get("US"))
        .or_else(|| prices.values().next())
        .cloned();
    if default.is_some() {
        inapp.default_price = default;
    }
    inapp.prices = (!prices.is_empty()).then_some(prices);
    if let Some(t) = &otp.tax_and_compliance_settings {
        let withdrawal = option
            .tax_and_compliance_settings
            .as_ref()
            .and_then(|t| t.withdrawal_right_type.clone());
        inapp.managed_product_taxes_and_compliance_settings =
            Some(cat::ManagedProductTaxAndComplianceSettings {
                eea_withdrawal_right_type: withdrawal,
                is_tokenized_digital_asset: t.is_tokenized_digital_asset,
                product_tax_category_code: t.product_tax_category_code.clone(),
                regional_product_age_rating_infos: t.regional_product_age_rating_infos.clone(),
                tax_rate_info_by_region_code: t.regional_tax_configs.as_ref().map(|rs| {
                    rs.iter()
                        .map(|r| {
                            (
                                r.region_code.clone().unwrap_or_default(),
                                cat::RegionalTaxRateInfo {
                                    eligible_for_streaming_service_tax_rate: r
                                        .eligible_for_streaming_service_tax_rate,
                                    streaming_tax_type: r.streaming_tax_type.clone(),
                                    tax_tier: r.tax_tier.clone(),
                                },
                            )
                        })
                        .collect()
                }),
            });
    }
    Some(inapp)
}

// ---- query strings ---------------------------------------------------------------------

/// Google's standard query parameters, accepted by every method (`fields` is ignored).
const STANDARD_PARAMS: &[&str] = &[
    "$.xgafv",
    "access_token",
    "alt",
    "callback",
    "fields",
    "key",
    "oauth_token",
    "prettyPrint",
    "quotaUser",
    "uploadType",
    "upload_protocol",
];

/// A call's query parameters: the method's own and the standard ones; any other is a 400,
/// as Google cannot bind it.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>, allowed: &[&str]) -> ApiResult<Self> {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let (k, v) = (percent_decode(k)?, percent_decode(v)?);
            if !allowed.contains(&k.as_str()) && !STANDARD_PARAMS.contains(&k.as_str()) {
                return Err(invalid(format!(
                    "Invalid JSON payload received. Unknown name {k:?}: Cannot bind query \
                     parameter. Field {k:?} could not be found in request message."
                )));
            }
            pairs.push((k, v));
        }
        Ok(Self(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn flag(&self, name: &str) -> ApiResult<bool> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(invalid(format!(
                "Invalid value for {name}: {other:?} is not a boolean"
            ))),
        }
    }

    fn int(&self, name: &str) -> ApiResult<Option<i64>> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| invalid(format!("Invalid value for {name}: {v:?}")))
            })
            .transpose()
    }

    /// `regionsVersion.version`, which the create and patch methods require.
    fn regions_version(&self) -> ApiResult<String> {
        match self.get("regionsVersion.version") {
            Some(v) if !v.is_empty() => Ok(v.to_owned()),
            _ => Err(required("regionsVersion.version")),
        }
    }

    /// `updateMask`, required unless `allowMissing` creates the resource.
    fn update_mask(&self) -> Option<String> {
        self.get("updateMask").map(str::to_owned)
    }
}

fn percent_decode(s: &str) -> ApiResult<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| invalid("Malformed percent-encoding in the query string"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| invalid("The query string is not UTF-8"))
}

/// A JSON body whose fields are all optional: empty means `{}`.
fn optional_body<T: DeserializeOwned + Default>(bytes: &Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(Json::<T>::from_bytes(bytes))
}

// ---- paging ----------------------------------------------------------------------------

fn encode_token(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_token(token: &str) -> ApiResult<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| invalid("Invalid page token."))
}

/// One page of `items` (sorted by `key`) from `token` on, and the next page's token.
fn page<T>(
    items: Vec<(String, T)>,
    size: usize,
    token: Option<&str>,
) -> ApiResult<(Vec<T>, Option<String>)> {
    let start = match token.filter(|t| !t.is_empty()) {
        Some(t) => decode_token(t)?,
        None => String::new(),
    };
    let mut rest = items.into_iter().filter(|(k, _)| *k >= start).peekable();
    let mut out = Vec::new();
    while out.len() < size {
        match rest.next() {
            Some((_, item)) => out.push(item),
            None => break,
        }
    }
    let next = rest.peek().map(|(k, _)| encode_token(k));
    Ok((out, next))
}

/// `pageSize` of the monetization list methods: 50 when unset or 0, at most 1000.
fn page_size(q: &Query) -> ApiResult<usize> {
    match q.int("pageSize")? {
        None | Some(0) => Ok(50),
        Some(n) if n < 0 => Err(invalid("pageSize must not be negative.")),
        Some(n) => Ok(n.min(1000) as usize),
    }
}

// ---- field masks -----------------------------------------------------------------------

fn camel(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut upper = false;
    for c in segment.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `old` with the fields named by `mask` (comma-separated paths, camelCase or snake_case)
/// taken from `new`. Each path must start with one of `fields`.
fn apply_mask<T: Serialize + DeserializeOwned>(
    old: &T,
    new: &T,
    mask: &str,
    fields: &[&str],
) -> ApiResult<T> {
    let paths: Vec<Vec<String>> = mask
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split('.').map(camel).collect())
        .collect();
    if paths.is_empty() {
        return Err(required("updateMask"));
    }
    let mut target = serde_json::to_value(old).map_err(|e| invalid(e.to_string()))?;
    let source = serde_json::to_value(new).map_err(|e| invalid(e.to_string()))?;
    for path in &paths {
        if !fields.contains(&path[0].as_str()) || path.iter().any(String::is_empty) {
            return Err(invalid(format!(
                "Invalid update mask path {:?}.",
                path.join(".")
            )));
        }
        let value = path
            .iter()
            .try_fold(&source, |v, seg| v.get(seg.as_str()))
            .cloned();
        let (last, parents) = path.split_last().unwrap_or((&path[0], &[]));
        let mut slot = &mut target;
        for seg in parents {
            let obj = slot
                .as_object_mut()
                .ok_or_else(|| invalid(format!("Invalid update mask path {seg:?}.")))?;
            slot = obj
                .entry(seg.clone())
                .or_insert_with(|| Value::Object(Default::default()));
        }
        let obj = slot
            .as_object_mut()
            .ok_or_else(|| invalid(format!("Invalid update mask path {last:?}.")))?;
        match value {
            Some(v) => obj.insert(last.clone(), v),
            None => obj.remove(last),
        };
    }
    serde_json::from_value(target).map_err(|e| invalid(format!("Invalid update: {e}")))
}

/// `old` with every top-level field present in `new` replaced (the `inappproducts.patch`
/// semantics).
fn merge_top<T: Serialize + DeserializeOwned>(old: &T, new: &T) -> ApiResult<T> {
    let mut target = serde_json::to_value(old).map_err(|e| invalid(e.to_string()))?;
    if let (Some(t), Value::Object(n)) = (
        target.as_object_mut(),
        serde_json::to_value(new).map_err(|e| invalid(e.to_string()))?,
    ) {
        t.extend(n);
    }
    serde_json::from_value(target).map_err(|e| invalid(format!("Invalid update: {e}")))
}

// ---- ids, money, durations -------------------------------------------------------------

/// Product ids: a lowercase letter or digit, then lowercase letters, digits, `_` and `.`.
fn check_product_id(id: &str, max_len: Option<usize>) -> ApiResult<()> {
    let ok = id
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
        && max_len.is_none_or(|m| id.len() <= m);
    if ok {
        return Ok(());
    }
    Err(invalid(format!(
        "Product id {id:?} is invalid: it must start with a lowercase letter or a number and \
         contain only lowercase letters (a-z), numbers (0-9), underscores (_) and periods (.){}.",
        max_len.map_or(String::new(), |m| format!(", at most {m} characters"))
    )))
}

/// RFC-1034 labels (base plans, offers, purchase options, tags): lowercase letters,
/// digits and hyphens, starting with a letter or digit.
fn check_label(id: &str, what: &str, max_len: usize) -> ApiResult<()> {
    let ok = id
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && id.len() <= max_len;
    if ok {
        return Ok(());
    }
    Err(invalid(format!(
        "{what} {id:?} is invalid: it must start with a lowercase letter or a number, contain \
         only lowercase letters (a-z), numbers (0-9) and hyphens (-), and be at most \
         {max_len} characters."
    )))
}

fn check_tags(tags: Option<&Vec<cat::OfferTag>>) -> ApiResult<()> {
    let tags = tags.map(Vec::as_slice).unwrap_or_default();
    if tags.len() > 20 {
        return Err(invalid("At most 20 offer tags are allowed."));
    }
    for t in tags {
        check_label(t.tag.as_deref().unwrap_or_default(), "Offer tag", 20)?;
    }
    Ok(())
}

/// Body ids must match the path's; absent ones are filled in.
fn match_id(body: &mut Option<String>, path: &str, field: &str) -> ApiResult<()> {
    match body {
        Some(b) if b != path => Err(invalid(format!(
            "{field} {b:?} in the request body does not match {path:?} in the request."
        ))),
        _ => {
            *body = Some(path.to_owned());
            Ok(())
        }
    }
}

fn money(micros: i64, currency: &str) -> Money {
    Money {
        currency_code: Some(currency.to_owned()),
        units: Some(Int64(micros / 1_000_000)),
        nanos: Some(((micros % 1_000_000) * 1_000) as i32),
    }
}

fn micros_of(m: &Money) -> Option<i64> {
    let units = m.units.map_or(0, |u| u.0);
    let nanos = i64::from(m.nanos.unwrap_or(0));
    units.checked_mul(1_000_000)?.checked_add(nanos / 1_000)
}

/// A positive amount of money, in `expected` currency when that is known; its micros.
fn check_money(m: &Money, what: &str, expected: Option<&str>) -> ApiResult<i64> {
    let currency = m.currency_code.as_deref().unwrap_or_default();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "{what}: currencyCode {currency:?} is not an ISO 4217 code."
        )));
    }
    if let Some(e) = expected
        && e != currency
    {
        return Err(invalid(format!(
            "{what}: the price must be in {e}, the currency of its region, not {currency}."
        )));
    }
    let nanos = m.nanos.unwrap_or(0);
    let units = m.units.map_or(0, |u| u.0);
    if !(-999_999_999..=999_999_999).contains(&nanos)
        || (units > 0 && nanos < 0)
        || (units < 0 && nanos > 0)
    {
        return Err(invalid(format!("{what}: invalid nanos {nanos}.")));
    }
    match micros_of(m) {
        Some(v) if v > 0 => Ok(v),
        _ => Err(invalid(format!("{what}: the price must be positive."))),
    }
}

/// Days of a `PnD` duration (grace and account hold are whole days).
fn days(s: &str) -> Option<u32> {
    s.strip_prefix('P')?.strip_suffix('D')?.parse().ok()
}

/// A billing period or phase duration: an ISO 8601 period Play accepts.
fn check_period(s: Option<&str>, field: &str) -> ApiResult<Period> {
    let s = s.filter(|s| !s.is_empty()).ok_or_else(|| required(field))?;
    Period::parse(s).map_err(|e| invalid(format!("{field}: {e}")))
}

fn check_region(code: Option<&str>) -> ApiResult<&str> {
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| required("regionCode"))?;
    if code.len() != 2 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "regionCode {code:?} is not an ISO 3166-2 region code."
        )));
    }
    Ok(code)
}

// ---- sandbox prices --------------------------------------------------------------------

/// The regions the sandbox prices in: (region, currency, tax in basis points). These are
/// fixed sandbox numbers, not Google's: prices are converted with [`USD_RATES`] and taxed
/// with these rates.
pub const REGIONS: &[(&str, &str, i64)] = &[
    ("AU", "AUD", 1_000),
    ("BR", "BRL", 0),
    ("CA", "CAD", 0),
    ("CH", "CHF", 810),
    ("DE", "EUR", 1_900),
    ("ES", "EUR", 2_100),
    ("FR", "EUR", 2_000),
    ("GB", "GBP", 2_000),
    ("ID", "IDR", 1_100),
    ("IE", "EUR", 2_300),
    ("IN", "INR", 1_800),
    ("IT", "EUR", 2_200),
    ("JP", "JPY", 1_000),
    ("KR", "KRW", 1_000),
    ("MX", "MXN", 1_600),
    ("NL", "EUR", 2_100),
    ("PL", "PLN", 2_300),
    ("SE", "SEK", 2_500),
    ("TR", "TRY", 2_000),
    ("US", "USD", 0),
];

/// Fixed sandbox exchange rates: micros of each currency that one US dollar buys. They do
/// not follow the markets; tests can rely on them.
pub const USD_RATES: &[(&str, i64)] = &[
    ("AUD", 1_520_000),
    ("BRL", 5_000_000),
    ("CAD", 1_360_000),
    ("CHF", 880_000),
    ("EUR", 920_000),
    ("GBP", 790_000),
    ("IDR", 15_700_000_000),
    ("INR", 83_000_000),
    ("JPY", 150_000_000),
    ("KRW", 1_330_000_000),
    ("MXN", 17_000_000),
    ("PLN", 4_000_000),
    ("SEK", 10_500_000),
    ("TRY", 32_000_000),
    ("USD", 1_000_000),
];

/// The currency a region's prices must be in, for the regions the sandbox knows.
fn region_currency(region: &str) -> Option<&'static str> {
    REGIONS.iter().find(|r| r.0 == region).map(|r| r.1)
}

/// The region whose currency `currency` is (EUR: DE).
fn home_region(currency: &str) -> Option<&'static str> {
    match currency {
        "EUR" => Some("DE"),
        c => REGIONS.iter().find(|r| r.1 == c).map(|r| r.0),
    }
}

fn usd_rate(currency: &str) -> Option<i64> {
    USD_RATES.iter().find(|r| r.0 == currency).map(|r| r.1)
}

/// Micros of the smallest unit Play prices `currency` in.
fn minor_unit(currency: &str) -> i128 {
    match currency {
        "JPY" | "KRW" | "IDR" => 1_000_000,
        _ => 10_000,
    }
}

fn round_to(micros: i128, unit: i128) -> i64 {
    (((micros + unit / 2).div_euclid(unit)) * unit) as i64
}

/// `micros` of `from` in `to`, rounded to `to`'s smallest unit.
fn convert(micros: i64, from: &str, to: &str) -> Option<i64> {
    let (f, t) = (usd_rate(from)?, usd_rate(to)?);
    let exact = i128::from(micros) * i128::from(t) / i128::from(f);
    Some(round_to(exact, minor_unit(to)))
}

/// A region's converted price: (tax-inclusive price, tax), in micros of its currency.
fn regional_price(micros: i64, from: &str, region: &(&str, &str, i64)) -> Option<(i64, i64)> {
    let net = convert(micros, from, region.1)?;
    let gross = round_to(
        i128::from(net) * i128::from(10_000 + region.2) / 10_000,
        minor_unit(region.1),
    );
    Some((gross, gross - net))
}

// ---- validation of written resources ---------------------------------------------------

/// Checks an in-app product written at `package`/`sku` and fills in Google's defaults:
/// package name and sku, `managedUser`, `active`, the default language, and with
/// `auto_convert` the prices of every sandbox region it has none for.
fn normalize_inapp(
    package: &str,
    sku: &str,
    p: &mut cat::InAppProduct,
    auto_convert: bool,
) -> ApiResult<()> {
    match_id(&mut p.package_name, package, "packageName")?;
    match_id(&mut p.sku, sku, "sku")?;
    check_product_id(sku, None)?;
    if p.purchase_type == Some(cat::InAppProductPurchaseType::Subscription)
        || p.subscription_period.is_some()
        || p.trial_period.is_some()
        || p.grace_period.is_some()
        || p.subscription_taxes_and_compliance_settings.is_some()
    {
        return Err(invalid(
            "Subscriptions are no longer supported in the InAppProducts API: use the \
             monetization.subscriptions methods.",
        ));
    }
    p.purchase_type = Some(cat::InAppProductPurchaseType::ManagedUser);
    if !matches!(
        p.status,
        None | Some(cat::InAppProductStatus::Active) | Some(cat::InAppProductStatus::Inactive)
    ) {
        return Err(invalid("status must be active or inactive."));
    }
    p.status.get_or_insert(cat::InAppProductStatus::Active);
    let default = p
        .default_price
        .as_ref()
        .ok_or_else(|| required("defaultPrice"))?;
    let default_micros = check_price(default, "defaultPrice", None)?;
    let default_currency = default.currency.clone().unwrap_or_default();
    let listings = p.listings.as_ref().filter(|l| !l.is_empty());
    let listings = listings.ok_or_else(|| required("listings"))?;
    for (language, l) in listings {
        if language.is_empty() || l.title.as_deref().is_none_or(str::is_empty) {
            return Err(required(&format!("listings[{language:?}].title")));
        }
    }
    match &p.default_language {
        Some(d) if !listings.contains_key(d) => {
            return Err(invalid(format!(
                "There is no listing for the default language {d:?}."
            )));
        }
        Some(_) => {}
        None => {
            p.default_language = listings
                .keys()
                .find(|k| *k == "en-US")
                .or_else(|| listings.keys().next())
                .cloned();
        }
    }
    for (region, price) in p.prices.iter().flatten() {
        check_region(Some(region))?;
        check_price(price, &format!("prices[{region}]"), region_currency(region))?;
    }
    if auto_convert {
        let prices = p.prices.get_or_insert_with(BTreeMap::new);
        for region in REGIONS {
            if prices.contains_key(region.0) {
                continue;
            }
            if let Some((gross, _)) = regional_price(default_micros, &default_currency, region) {
                prices.insert(
                    region.0.to_owned(),
                    cat::Price {
                        currency: Some(region.1.to_owned()),
                        price_micros: Some(Int64(gross)),
                    },
                );
            }
        }
    }
    Ok(())
}

fn check_price(p: &cat::Price, what: &str, expected: Option<&str>) -> ApiResult<i64> {
    let currency = p
        .currency
        .as_deref()
        .ok_or_else(|| required(&format!("{what}.currency")))?;
    let micros = p
        .price_micros
        .ok_or_else(|| required(&format!("{what}.priceMicros")))?;
    check_money(&money(micros.0, currency), what, expected)
}

fn check_restricted(r: Option<&cat::RestrictedPaymentCountries>) -> ApiResult<()> {
    if let Some(r) = r {
        let codes = r.region_codes.as_deref().unwrap_or_default();
        if codes.is_empty() {
            return Err(required("restrictedPaymentCountries.regionCodes"));
        }
        for c in codes {
            check_region(Some(c))?;
        }
    }
    Ok(())
}

/// Which kind of base plan, and its billing period.
fn plan_kind(p: &cat::BasePlan) -> (&'static str, Option<&str>) {
    if let Some(a) = &p.auto_renewing_base_plan_type {
        (
            "autoRenewingBasePlanType",
            a.billing_period_duration.as_deref(),
        )
    } else if let Some(pp) = &p.prepaid_base_plan_type {
        ("prepaidBasePlanType", pp.billing_period_duration.as_deref())
    } else if let Some(i) = &p.installments_base_plan_type {
        (
            "installmentsBasePlanType",
            i.billing_period_duration.as_deref(),
        )
    } else {
        ("", None)
    }
}

/// Grace and account hold of a renewing base plan, per `AutoRenewingBasePlanType`.
fn check_grace_and_hold(grace: Option<&str>, hold: Option<&str>, period: Period) -> ApiResult<()> {
    let period_days = (period.add_to(0) / DAY_MS) as u32;
    let g = grace
        .map(|g| {
            days(g).ok_or_else(|| {
                invalid(format!(
                    "gracePeriodDuration {g:?} must be in days, e.g. P7D."
                ))
            })
        })
        .transpose()?;
    let h = hold
        .map(|h| {
            days(h).ok_or_else(|| {
                invalid(format!(
                    "accountHoldDuration {h:?} must be in days, e.g. P30D."
                ))
            })
        })
        .transpose()?;
    if let Some(g) = g
        && g > 30.min(period_days)
    {
        return Err(invalid(
            "gracePeriodDuration must be between P0D and the lesser of P30D and the billing period.",
        ));
    }
    if let Some(h) = h
        && h > 60
    {
        return Err(invalid("accountHoldDuration must be between P0D and P60D."));
    }
    if let (Some(g), Some(h)) = (g, h)
        && !(30..=60).contains(&(g + h))
    {
        return Err(invalid(
            "The sum of gracePeriodDuration and accountHoldDuration must be between P30D and P60D.",
        ));
    }
    Ok(())
}

fn check_base_plan(p: &cat::BasePlan) -> ApiResult<()> {
    let id = p
        .base_plan_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required("basePlans.basePlanId"))?;
    check_label(id, "Base plan id", 63)?;
    let kinds = usize::from(p.auto_renewing_base_plan_type.is_some())
        + usize::from(p.prepaid_base_plan_type.is_some())
        + usize::from(p.installments_base_plan_type.is_some());
    if kinds == 0 {
        return Err(GoogleApiError::invalid(
            "required",
            format!(
                "Base plan {id:?} needs a billing period: set autoRenewingBasePlanType, \
                 prepaidBasePlanType or installmentsBasePlanType with billingPeriodDuration."
            ),
        ));
    }
    if kinds > 1 {
        return Err(invalid(format!(
            "Base plan {id:?} must be exactly one of auto-renewing, prepaid or installments."
        )));
    }
    let (kind, billing) = plan_kind(p);
    let period = check_period(billing, &format!("{kind}.billingPeriodDuration"))?;
    if let Some(a) = &p.auto_renewing_base_plan_type {
        check_grace_and_hold(
            a.grace_period_duration.as_deref(),
            a.account_hold_duration.as_deref(),
            period,
        )?;
    }
    if let Some(i) = &p.installments_base_plan_type {
        check_grace_and_hold(
            i.grace_period_duration.as_deref(),
            i.account_hold_duration.as_deref(),
            period,
        )?;
        if i.committed_payments_count.is_none_or(|n| n < 1) {
            return Err(required("installmentsBasePlanType.committedPaymentsCount"));
        }
        if i.renewal_type.is_none() {
            return Err(required("installmentsBasePlanType.renewalType"));
        }
    }
    check_tags(p.offer_tags.as_ref())?;
    let mut regions = BTreeSet::new();
    for c in p.regional_configs.iter().flatten() {
        let region = check_region(c.region_code.as_deref())?;
        if !regions.insert(region) {
            return Err(invalid(format!(
                "Base plan {id:?} has two configurations for region {region}."
            )));
        }
        match &c.price {
            Some(m) => {
                check_money(
                    m,
                    &format!("regionalConfigs[{region}].price"),
                    region_currency(region),
                )?;
            }
            None if c.new_subscriber_availability == Some(true) => {
                return Err(required(&format!("regionalConfigs[{region}].price")));
            }
            None => {}
        }
    }
    if let Some(o) = &p.other_regions_config {
        let usd = o
            .usd_price
            .as_ref()
            .ok_or_else(|| required("otherRegionsConfig.usdPrice"))?;
        let eur = o
            .eur_price
            .as_ref()
            .ok_or_else(|| required("otherRegionsConfig.eurPrice"))?;
        check_money(usd, "otherRegionsConfig.usdPrice", Some("USD"))?;
        check_money(eur, "otherRegionsConfig.eurPrice", Some("EUR"))?;
    }
    Ok(())
}

/// Checks a subscription written at `package`/`id` (replacing `old`, if any): ids,
/// listings, base plans. Base plans keep their state (new ones are DRAFT) and their
/// billing period; only DRAFT ones may disappear. Answers the ids of those that did.
fn normalize_subscription(
    package: &str,
    id: &str,
    s: &mut cat::Subscription,
    old: Option<&cat::Subscription>,
) -> ApiResult<Vec<String>> {
    match_id(&mut s.package_name, package, "packageName")?;
    match_id(&mut s.product_id, id, "productId")?;
    check_product_id(id, Some(40))?;
    s.archived = None;
    let listings = s.listings.as_deref().unwrap_or_default();
    if listings.is_empty() {
        return Err(required("listings"));
    }
    let mut languages = BTreeSet::new();
    for l in listings {
        let language = l
            .language_code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| required("listings.languageCode"))?;
        if l.title.as_deref().is_none_or(str::is_empty) {
            return Err(required(&format!("listings[{language}].title")));
        }
        if l.description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 200)
        {
            return Err(invalid("A listing description is at most 200 characters."));
        }
        if l.benefits.as_ref().is_some_and(|b| b.len() > 4) {
            return Err(invalid("A listing has at most four benefits."));
        }
        if !languages.insert(language) {
            return Err(invalid(format!("Two listings for language {language}.")));
        }
    }
    check_restricted(s.restricted_payment_countries.as_ref())?;
    let old_plans = old
        .and_then(|o| o.base_plans.as_deref())
        .unwrap_or_default();
    let mut ids = BTreeSet::new();
    for p in s.base_plans.iter_mut().flatten() {
        check_base_plan(p)?;
        let plan_id = p.base_plan_id.clone().unwrap_or_default();
        if !ids.insert(plan_id.clone()) {
            return Err(invalid(format!("Two base plans with id {plan_id:?}.")));
        }
        match old_plans.iter().find(|o| o.base_plan_id == p.base_plan_id) {
            Some(o) => {
                if plan_kind(o) != plan_kind(p) {
                    return Err(invalid(format!(
                        "The billing period and type of base plan {plan_id:?} are immutable."
                    )));
                }
                p.state = o.state.clone();
            }
            None => p.state = Some(cat::BasePlanState::Draft),
        }
    }
    let mut removed = Vec::new();
    for o in old_plans {
        let plan_id = o.base_plan_id.clone().unwrap_or_default();
        if ids.contains(&plan_id) {
            continue;
        }
        if o.state != Some(cat::BasePlanState::Draft) {
            return Err(precondition(format!(
                "Base plan {plan_id:?} is {}: only draft base plans can be removed.",
                o.state.as_ref().map_or("STATE_UNSPECIFIED", |s| s.as_str())
            )));
        }
        removed.push(plan_id);
    }
    Ok(removed)
}

/// Checks an offer of `plan`: phases, regions (the base plan's), prices, tags.
fn check_offer(o: &cat::SubscriptionOffer, plan: &cat::BasePlan) -> ApiResult<()> {
    if plan.auto_renewing_base_plan_type.is_none() {
        return Err(precondition(
            "Only auto-renewing base plans can have subscription offers.",
        ));
    }
    check_tags(o.offer_tags.as_ref())?;
    let plan_regions: BTreeSet<&str> = plan
        .regional_configs
        .iter()
        .flatten()
        .filter_map(|c| c.region_code.as_deref())
        .collect();
    let configs = o.regional_configs.as_deref().unwrap_or_default();
    if configs.is_empty() {
        return Err(required("regionalConfigs"));
    }
    let mut regions = BTreeSet::new();
    for c in configs {
        let region = check_region(c.region_code.as_deref())?;
        if !regions.insert(region) {
            return Err(invalid(format!(
                "Two offer configurations for region {region}."
            )));
        }
        if !plan_regions.contains(region) {
            return Err(invalid(format!(
                "Region {region} is not a region of base plan {:?}.",
                plan.base_plan_id.as_deref().unwrap_or_default()
            )));
        }
    }
    let phases = o.phases.as_deref().unwrap_or_default();
    if phases.is_empty() || phases.len() > 2 {
        return Err(invalid("An offer has one or two phases."));
    }
    for ph in phases {
        check_period(ph.duration.as_deref(), "phases.duration")?;
        if ph.recurrence_count.is_none_or(|n| n < 1) {
            return Err(required("phases.recurrenceCount"));
        }
        let mut seen = BTreeSet::new();
        for c in ph.regional_configs.iter().flatten() {
            let region = check_region(c.region_code.as_deref())?;
            if !regions.contains(region) || !seen.insert(region) {
                return Err(invalid(format!(
                    "Each phase needs exactly one configuration per offer region; {region} \
                     is not one or comes twice."
                )));
            }
            let kinds = usize::from(c.free.is_some())
                + usize::from(c.price.is_some())
                + usize::from(c.absolute_discount.is_some())
                + usize::from(c.relative_discount.is_some());
            if kinds != 1 {
                return Err(invalid(format!(
                    "Phase configuration of {region} needs exactly one of free, price, \
                     absoluteDiscount or relativeDiscount."
                )));
            }
            for m in [&c.price, &c.absolute_discount].into_iter().flatten() {
                check_money(
                    m,
                    &format!("phase price in {region}"),
                    region_currency(region),
                )?;
            }
            if c.relative_discount.is_some_and(|d| !(d > 0.0 && d < 1.0)) {
                return Err(invalid(
                    "relativeDiscount must be strictly between 0 and 1.",
                ));
            }
        }
        if seen.len() != regions.len() {
            return Err(invalid(
                "Each phase needs exactly one configuration per offer region.",
            ));
        }
    }
    Ok(())
}

/// Checks a one-time product written at `package`/`id` (replacing `old`): ids, listings,
/// purchase options. Options keep their state (new ones are DRAFT); one with offers cannot
/// disappear. Answers the ids of the options that did.
fn normalize_otp(
    package: &str,
    id: &str,
    p: &mut cat::OneTimeProduct,
    old: Option<&Managed>,
    regions_version: &str,
) -> ApiResult<Vec<String>> {
    match_id(&mut p.package_name, package, "packageName")?;
    match_id(&mut p.product_id, id, "productId")?;
    check_product_id(id, None)?;
    p.regions_version = Some(cat::RegionsVersion {
        version: Some(regions_version.to_owned()),
    });
    let listings = p.listings.as_deref().unwrap_or_default();
    if listings.is_empty() {
        return Err(required("listings"));
    }
    let mut languages = BTreeSet::new();
    for l in listings {
        let language = l
            .language_code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| required("listings.languageCode"))?;
        let title = l.title.as_deref().filter(|t| !t.is_empty());
        let title = title.ok_or_else(|| required(&format!("listings[{language}].title")))?;
        let description = l.description.as_deref();
        let description =
            description.ok_or_else(|| required(&format!("listings[{language}].description")))?;
        if title.chars().count() > 55 || description.chars().count() > 200 {
            return Err(invalid(
                "A listing title is at most 55 characters and its description at most 200.",
            ));
        }
        if !languages.insert(language) {
            return Err(invalid(format!("Two listings for language {language}.")));
        }
    }
    check_tags(p.offer_tags.as_ref())?;
    check_restricted(p.restricted_payment_countries.as_ref())?;
    let options = p.purchase_options.as_deref().unwrap_or_default();
    if options.is_empty() {
        return Err(required("purchaseOptions"));
    }
    if options.iter().filter(|o| is_legacy(o)).count() > 1 {
        return Err(invalid(
            "Up to one buy purchase option can be marked as legacy compatible.",
        ));
    }
    let old_options = old
        .and_then(|m| m.otp.purchase_options.as_deref())
        .unwrap_or_default();
    let mut ids = BTreeSet::new();
    for o in p.purchase_options.iter_mut().flatten() {
        let option_id = o
            .purchase_option_id
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| required("purchaseOptions.purchaseOptionId"))?;
        check_label(&option_id, "Purchase option id", 63)?;
        if !ids.insert(option_id.clone()) {
            return Err(invalid(format!(
                "Two purchase options with id {option_id:?}."
            )));
        }
        if o.buy_option.is_some() == o.rent_option.is_some() {
            return Err(invalid(format!(
                "Purchase option {option_id:?} needs exactly one of buyOption and rentOption."
            )));
        }
        if let Some(r) = &o.rent_option {
            check_period(r.rental_period.as_deref(), "rentOption.rentalPeriod")?;
        }
        check_tags(o.offer_tags.as_ref())?;
        let mut regions = BTreeSet::new();
        for c in o.regional_pricing_and_availability_configs.iter().flatten() {
            let region = check_region(c.region_code.as_deref())?;
            if !regions.insert(region) {
                return Err(invalid(format!(
                    "Purchase option {option_id:?} has two configurations for {region}."
                )));
            }
            if let Some(m) = &c.price {
                check_money(m, &format!("price in {region}"), region_currency(region))?;
            }
        }
        if let Some(n) = &o.new_regions_config {
            let usd = n
                .usd_price
                .as_ref()
                .ok_or_else(|| required("newRegionsConfig.usdPrice"))?;
            let eur = n
                .eur_price
                .as_ref()
                .ok_or_else(|| required("newRegionsConfig.eurPrice"))?;
            check_money(usd, "newRegionsConfig.usdPrice", Some("USD"))?;
            check_money(eur, "newRegionsConfig.eurPrice", Some("EUR"))?;
            if n.availability.is_none() {
                return Err(required("newRegionsConfig.availability"));
            }
        }
        o.state = match old_options
            .iter()
            .find(|x| x.purchase_option_id == o.purchase_option_id)
        {
            Some(x) => x.state.clone(),
            None => Some(cat::PurchaseOptionState::Draft),
        };
    }
    let mut removed = Vec::new();
    for o in old_options {
        let option_id = o.purchase_option_id.clone().unwrap_or_default();
        if ids.contains(&option_id) {
            continue;
        }
        if old.is_some_and(|m| m.offers.keys().any(|(opt, _)| *opt == option_id)) {
            return Err(precondition(format!(
                "Purchase option {option_id:?} has offers: delete them first."
            )));
        }
        removed.push(option_id);
    }
    Ok(removed)
}

/// Checks a one-time product offer: exactly one kind, its regions and discounts.
fn check_otp_offer(o: &cat::OneTimeProductOffer) -> ApiResult<()> {
    let kinds = usize::from(o.discounted_offer.is_some())
        + usize::from(o.game_reward_offer.is_some())
        + usize::from(o.pre_order_offer.is_some());
    if kinds != 1 {
        return Err(invalid(
            "An offer needs exactly one of discountedOffer, gameRewardOffer and preOrderOffer.",
        ));
    }
    if let Some(p) = &o.pre_order_offer {
        for (field, v) in [
            ("preOrderOffer.startTime", &p.start_time),
            ("preOrderOffer.endTime", &p.end_time),
            ("preOrderOffer.releaseTime", &p.release_time),
        ] {
            if v.is_none() {
                return Err(required(field));
            }
        }
        if p.price_change_behavior.is_none() {
            return Err(required("preOrderOffer.priceChangeBehavior"));
        }
    }
    check_tags(o.offer_tags.as_ref())?;
    let mut regions = BTreeSet::new();
    for c in o.regional_pricing_and_availability_configs.iter().flatten() {
        let region = check_region(c.region_code.as_deref())?;
        if !regions.insert(region) {
            return Err(invalid(format!(
                "Two offer configurations for region {region}."
            )));
        }
        if c.availability.is_none() {
            return Err(required(&format!("availability of {region}")));
        }
        if let Some(m) = &c.absolute_discount {
            check_money(
                m,
                &format!("absoluteDiscount in {region}"),
                region_currency(region),
            )?;
        }
        if c.relative_discount.is_some_and(|d| !(d > 0.0 && d < 1.0)) {
            return Err(invalid(
                "relativeDiscount must be strictly between 0 and 1.",
            ));
        }
    }
    Ok(())
}

// ---- catalog operations (all-or-nothing units the handlers and batches use) -------------

/// How a write treats a missing or existing resource.
#[derive(Debug, Clone)]
enum Write {
    /// Create; 409 if the id is taken.
    Create,
    /// Replace (`inappproducts.update`), creating it with `allow_missing`.
    Replace { allow_missing: bool },
    /// Update the fields of `mask` (the top-level fields of the body when `None`), creating
    /// it with `allow_missing` (the mask is then ignored).
    Update {
        mask: Option<String>,
        allow_missing: bool,
    },
}

const SUBSCRIPTION_FIELDS: &[&str] = &[
    "basePlans",
    "listings",
    "packageName",
    "productId",
    "restrictedPaymentCountries",
    "taxAndComplianceSettings",
];
const OFFER_FIELDS: &[&str] = &[
    "basePlanId",
    "offerId",
    "offerTags",
    "otherRegionsConfig",
    "packageName",
    "phases",
    "productId",
    "regionalConfigs",
    "targeting",
];
const OTP_FIELDS: &[&str] = &[
    "listings",
    "offerTags",
    "packageName",
    "productId",
    "purchaseOptions",
    "restrictedPaymentCountries",
    "taxAndComplianceSettings",
];
const OTP_OFFER_FIELDS: &[&str] = &[
    "discountedOffer",
    "gameRewardOffer",
    "offerId",
    "offerTags",
    "packageName",
    "preOrderOffer",
    "productId",
    "purchaseOptionId",
    "regionalPricingAndAvailabilityConfigs",
];

/// An activate / deactivate / cancel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transition {
    Activate,
    Deactivate,
    Cancel,
}

impl Catalog {
    fn inapp_write(
        &mut self,
        package: &str,
        sku: &str,
        mut body: cat::InAppProduct,
        how: Write,
        auto_convert: bool,
    ) -> ApiResult<cat::InAppProduct> {
        let k = key(package, sku);
        let current = self.managed.get(&k).and_then(|m| m.inapp.as_ref());
        match (&how, current) {
            (Write::Create, _) if self.taken(package, sku) => {
                return Err(already_exists(format!("Product {sku:?}")));
            }
            (
                Write::Replace {
                    allow_missing: true,
                },
                None,
            ) if self.taken(package, sku) => {
                return Err(already_exists(format!("Product {sku:?}")));
            }
            (
                Write::Replace {
                    allow_missing: false,
                }
                | Write::Update { .. },
                None,
            ) => {
                return Err(no_product(package, sku));
            }
            (Write::Update { .. }, Some(old)) => body = merge_top(old, &body)?,
            _ => {}
        }
        normalize_inapp(package, sku, &mut body, auto_convert)?;
        let old = self.managed.remove(&k);
        let otp = otp_from_inapp(&body, old.as_ref().map(|m| &m.otp));
        self.managed.insert(
            k,
            Managed {
                inapp: Some(body.clone()),
                otp,
                offers: old.map(|m| m.offers).unwrap_or_default(),
            },
        );
        Ok(body)
    }

    fn inapp_delete(&mut self, package: &str, sku: &str) -> ApiResult<()> {
        self.inapp(package, sku)?;
        self.managed.remove(&key(package, sku));
        Ok(())
    }

    fn sub_write(
        &mut self,
        package: &str,
        id: &str,
        mut body: cat::Subscription,
        how: Write,
    ) -> ApiResult<cat::Subscription> {
        let k = key(package, id);
        let (mut sub, old) = match (how, self.subscriptions.get(&k)) {
            (Write::Create, _) if self.taken(package, id) => {
                return Err(already_exists(format!("Product {id:?}")));
            }
            (
                Write::Update {
                    allow_missing: true,
                    ..
                },
                None,
            ) if self.taken(package, id) => {
                return Err(already_exists(format!("Product {id:?}")));
            }
            (
                Write::Create
                | Write::Update {
                    allow_missing: true,
                    ..
                },
                None,
            ) => (body, None),
            (Write::Update { mask, .. }, Some(old)) => {
                match_id(&mut body.package_name, package, "packageName")?;
                match_id(&mut body.product_id, id, "productId")?;
                let mask = mask.ok_or_else(|| required("updateMask"))?;
                (
                    apply_mask(&old.sub, &body, &mask, SUBSCRIPTION_FIELDS)?,
                    Some(old),
                )
            }
            _ => return Err(no_subscription(package, id)),
        };
        let removed = normalize_subscription(package, id, &mut sub, old.map(|o| &o.sub))?;
        let entry = self.subscriptions.entry(k).or_insert_with(|| Subs {
            sub: cat::Subscription::default(),
            offers: BTreeMap::new(),
            published: false,
        });
        entry.sub = sub.clone();
        entry.offers.retain(|(plan, _), _| !removed.contains(plan));
        Ok(sub)
    }

    fn sub_delete(&mut self, package: &str, id: &str) -> ApiResult<()> {
        if self.sub(package, id)?.published {
            return Err(precondition(format!(
                "Subscription {id:?} cannot be deleted: a subscription can only be deleted if \
                 it has never had a base plan published."
            )));
        }
        self.subscriptions.remove(&key(package, id));
        Ok(())
    }

    fn plan_state(
        &mut self,
        package: &str,
        id: &str,
        plan_id: &str,
        t: Transition,
    ) -> ApiResult<cat::Subscription> {
        use cat::BasePlanState as S;
        let s = self.sub_mut(package, id)?;
        let plan = s
            .sub
            .base_plans
            .iter_mut()
            .flatten()
            .find(|p| p.base_plan_id.as_deref() == Some(plan_id))
            .ok_or_else(|| no_base_plan(id, plan_id))?;
        match (t, &plan.state) {
            (Transition::Activate, _) => {
                let priced = plan
                    .regional_configs
                    .iter()
                    .flatten()
                    .any(|c| c.price.is_some())
                    || plan.other_regions_config.is_some();
                if !priced {
                    return Err(precondition(format!(
                        "Base plan {plan_id:?} needs a price in at least one region before \
                         it can be activated."
                    )));
                }
                plan.state = Some(S::Active);
                s.published = true;
            }
            (Transition::Deactivate, Some(S::Active | S::Inactive)) => {
                plan.state = Some(S::Inactive)
            }
            (Transition::Deactivate, _) => {
                return Err(precondition(format!(
                    "Base plan {plan_id:?} is not active: only active base plans can be \
                     deactivated."
                )));
            }
            (Transition::Cancel, _) => return Err(invalid("Base plans cannot be canceled.")),
        }
        Ok(s.sub.clone())
    }

    fn plan_delete(&mut self, package: &str, id: &str, plan_id: &str) -> ApiResult<()> {
        let s = self.sub_mut(package, id)?;
        let plans = s.sub.base_plans.get_or_insert_with(Vec::new);
        let i = plans
            .iter()
            .position(|p| p.base_plan_id.as_deref() == Some(plan_id))
            .ok_or_else(|| no_base_plan(id, plan_id))?;
        if plans[i].state != Some(cat::BasePlanState::Draft) {
            return Err(precondition(format!(
                "Base plan {plan_id:?} cannot be deleted: only draft base plans can be deleted."
            )));
        }
        plans.remove(i);
        s.offers.retain(|(plan, _), _| plan != plan_id);
        Ok(())
    }

    fn plan(&self, package: &str, id: &str, plan_id: &str) -> ApiResult<&cat::BasePlan> {
        self.sub(package, id)?
            .sub
            .base_plans
            .iter()
            .flatten()
            .find(|p| p.base_plan_id.as_deref() == Some(plan_id))
            .ok_or_else(|| no_base_plan(id, plan_id))
    }

    fn offer(
        &self,
        package: &str,
        id: &str,
        plan_id: &str,
        offer_id: &str,
    ) -> ApiResult<&cat::SubscriptionOffer> {
        self.plan(package, id, plan_id)?;
        self.sub(package, id)?
            .offers
            .get(&(plan_id.to_owned(), offer_id.to_owned()))
            .ok_or_else(|| {
                GoogleApiError::not_found(format!(
                    "Offer {offer_id:?} was not found in base plan {plan_id:?} of {id:?}."
                ))
            })
    }

    #[allow(clippy::too_many_arguments)]
    fn offer_write(
        &mut self,
        package: &str,
        id: &str,
        plan_id: &str,
        offer_id: &str,
        mut body: cat::SubscriptionOffer,
        how: Write,
    ) -> ApiResult<cat::SubscriptionOffer> {
        let plan = self.plan(package, id, plan_id)?.clone();
        match_id(&mut body.package_name, package, "packageName")?;
        match_id(&mut body.product_id, id, "productId")?;
        match_id(&mut body.base_plan_id, plan_id, "basePlanId")?;
        match_id(&mut body.offer_id, offer_id, "offerId")?;
        check_label(offer_id, "Offer id", 63)?;
        let s = self.sub_mut(package, id)?;
        let k = (plan_id.to_owned(), offer_id.to_owned());
        let (mut offer, state) = match (how, s.offers.get(&k)) {
            (Write::Create, Some(_)) => {
                return Err(already_exists(format!("Offer {offer_id:?}")));
            }
            (
                Write::Create
                | Write::Update {
                    allow_missing: true,
                    ..
                },
                None,
            ) => (body, cat::SubscriptionOfferState::Draft),
            (Write::Update { mask, .. }, Some(old)) => {
                let mask = mask.ok_or_else(|| required("updateMask"))?;
                let state = old
                    .state
                    .clone()
                    .unwrap_or(cat::SubscriptionOfferState::Draft);
                (apply_mask(old, &body, &mask, OFFER_FIELDS)?, state)
            }
            _ => {
                return Err(GoogleApiError::not_found(format!(
                    "Offer {offer_id:?} was not found in base plan {plan_id:?} of {id:?}."
                )));
            }
        };
        check_offer(&offer, &plan)?;
        offer.state = Some(state);
        s.offers.insert(k, offer.clone());
        Ok(offer)
    }

    fn offer_state(
        &mut self,
        package: &str,
        id: &str,
        plan_id: &str,
        offer_id: &str,
        t: Transition,
    ) -> ApiResult<cat::SubscriptionOffer> {
        use cat::SubscriptionOfferState as S;
        self.offer(package, id, plan_id, offer_id)?;
        let s = self.sub_mut(package, id)?;
        let offer = s
            .offers
            .get_mut(&(plan_id.to_owned(), offer_id.to_owned()))
            .ok_or_else(|| no_base_plan(id, plan_id))?;
        offer.state = Some(match (t, &offer.state) {
            (Transition::Activate, _) => S::Active,
            (Transition::Deactivate, Some(S::Active | S::Inactive)) => S::Inactive,
            (Transition::Deactivate, _) => {
                return Err(precondition(format!(
                    "Offer {offer_id:?} is not active: only active offers can be deactivated."
                )));
            }
            (Transition::Cancel, _) => {
                return Err(invalid("Subscription offers cannot be canceled."));
            }
        });
        Ok(offer.clone())
    }

    fn offer_delete(
        &mut self,
        package: &str,
        id: &str,
        plan_id: &str,
        offer_id: &str,
    ) -> ApiResult<()> {
        if self.offer(package, id, plan_id, offer_id)?.state
            != Some(cat::SubscriptionOfferState::Draft)
        {
            return Err(precondition(format!(
                "Offer {offer_id:?} cannot be deleted: only draft offers can be deleted."
            )));
        }
        self.sub_mut(package, id)?
            .offers
            .remove(&(plan_id.to_owned(), offer_id.to_owned()));
        Ok(())
    }

    fn otp_write(
        &mut self,
        package: &str,
        id: &str,
        mut body: cat::OneTimeProduct,
        how: Write,
        regions_version: &str,
    ) -> ApiResult<cat::OneTimeProduct> {
        let k = key(package, id);
        let (mut otp, old) = match (how, self.managed.get(&k)) {
            (
                Write::Update {
                    allow_missing: true,
                    ..
                },
                None,
            ) if self.taken(package, id) => {
                return Err(already_exists(format!("Product {id:?}")));
            }
            (
                Write::Update {
                    allow_missing: true,
                    ..
                },
                None,
            ) => (body, None),
            (Write::Update { mask, .. }, Some(old)) => {
                match_id(&mut body.package_name, package, "packageName")?;
                match_id(&mut body.product_id, id, "productId")?;
                let mask = mask.ok_or_else(|| required("updateMask"))?;
                (apply_mask(&old.otp, &body, &mask, OTP_FIELDS)?, Some(old))
            }
            _ => return Err(no_product(package, id)),
        };
        let removed = normalize_otp(package, id, &mut otp, old, regions_version)?;
        let inapp = inapp_from_otp(&otp, old.and_then(|m| m.inapp.as_ref()));
        let mut offers = old.map(|m| m.offers.clone()).unwrap_or_default();
        offers.retain(|(option, _), _| !removed.contains(option));
        self.managed.insert(
            k,
            Managed {
                inapp,
                otp: otp.clone(),
                offers,
            },
        );
        Ok(otp)
    }

    fn otp_delete(&mut self, package: &str, id: &str) -> ApiResult<()> {
        self.managed(package, id)?;
        self.managed.remove(&key(package, id));
        Ok(())
    }

    fn option_state(
        &mut self,
        package: &str,
        id: &str,
        option_id: &str,
        t: Transition,
    ) -> ApiResult<cat::OneTimeProduct> {
        use cat::PurchaseOptionState as S;
        let m = self.managed_mut(package, id)?;
        let option = m
            .otp
            .purchase_options
            .iter_mut()
            .flatten()
            .find(|o| o.purchase_option_id.as_deref() == Some(option_id))
            .ok_or_else(|| no_option(id, option_id))?;
        option.state = Some(match (t, &option.state) {
            (Transition::Activate, _) => S::Active,
            (Transition::Deactivate, Some(S::Active | S::Inactive | S::InactivePublished)) => {
                S::Inactive
            }
            (Transition::Deactivate, _) => {
                return Err(precondition(format!(
                    "Purchase option {option_id:?} is not active."
                )));
            }
            (Transition::Cancel, _) => return Err(invalid("Purchase options cannot be canceled.")),
        });
        m.inapp = inapp_from_otp(&m.otp, m.inapp.as_ref());
        Ok(m.otp.clone())
    }

    fn option_delete(
        &mut self,
        package: &str,
        id: &str,
        option_id: &str,
        force: bool,
    ) -> ApiResult<()> {
        let m = self.managed_mut(package, id)?;
        let options = m.otp.purchase_options.get_or_insert_with(Vec::new);
        let i = options
            .iter()
            .position(|o| o.purchase_option_id.as_deref() == Some(option_id))
            .ok_or_else(|| no_option(id, option_id))?;
        if options.len() == 1 {
            return Err(precondition(
                "A one-time product needs at least one purchase option.",
            ));
        }
        let has_offers = m.offers.keys().any(|(o, _)| o == option_id);
        if has_offers && !force {
            return Err(precondition(format!(
                "Purchase option {option_id:?} has offers: delete them first or set force."
            )));
        }
        options.remove(i);
        m.offers.retain(|(o, _), _| o != option_id);
        m.inapp = inapp_from_otp(&m.otp, m.inapp.as_ref());
        Ok(())
    }

    fn otp_offer(
        &self,
        package: &str,
        id: &str,
        option_id: &str,
        offer_id: &str,
    ) -> ApiResult<&cat::OneTimeProductOffer> {
        let m = self.managed(package, id)?;
        has_option(&m.otp, id, option_id)?;
        m.offers
            .get(&(option_id.to_owned(), offer_id.to_owned()))
            .ok_or_else(|| {
                GoogleApiError::not_found(format!(
                    "Offer {offer_id:?} was not found in purchase option {option_id:?} of {id:?}."
                ))
            })
    }

    fn otp_offer_write(
        &mut self,
        package: &str,
        mut body: cat::OneTimeProductOffer,
        how: Write,
        regions_version: &str,
    ) -> ApiResult<cat::OneTimeProductOffer> {
        let id = body
            .product_id
            .clone()
            .ok_or_else(|| required("productId"))?;
        let option_id = body
            .purchase_option_id
            .clone()
            .ok_or_else(|| required("purchaseOptionId"))?;
        let offer_id = body.offer_id.clone().ok_or_else(|| required("offerId"))?;
        match_id(&mut body.package_name, package, "packageName")?;
        check_label(&offer_id, "Offer id", 63)?;
        let m = self.managed_mut(package, &id)?;
        has_option(&m.otp, &id, &option_id)?;
        let k = (option_id.clone(), offer_id.clone());
        let (mut offer, state) = match (how, m.offers.get(&k)) {
            (
                Write::Update {
                    allow_missing: true,
                    ..
                },
                None,
            ) => (body, cat::OneTimeProductOfferState::Draft),
            (Write::Update { mask, .. }, Some(old)) => {
                let mask = mask.ok_or_else(|| required("updateMask"))?;
                let state = old
                    .state
                    .clone()
                    .unwrap_or(cat::OneTimeProductOfferState::Draft);
                (apply_mask(old, &body, &mask, OTP_OFFER_FIELDS)?, state)
            }
            _ => {
                return Err(GoogleApiError::not_found(format!(
                    "Offer {offer_id:?} was not found in purchase option {option_id:?} of {id:?}."
                )));
            }
        };
        check_otp_offer(&offer)?;
        offer.state = Some(state);
        offer.regions_version = Some(cat::RegionsVersion {
            version: Some(regions_version.to_owned()),
        });
        m.offers.insert(k, offer.clone());
        Ok(offer)
    }

    fn otp_offer_state(
        &mut self,
        package: &str,
        id: &str,
        option_id: &str,
        offer_id: &str,
        t: Transition,
    ) -> ApiResult<cat::OneTimeProductOffer> {
        use cat::OneTimeProductOfferState as S;
        self.otp_offer(package, id, option_id, offer_id)?;
        let m = self.managed_mut(package, id)?;
        let offer = m
            .offers
            .get_mut(&(option_id.to_owned(), offer_id.to_owned()))
            .ok_or_else(|| no_option(id, option_id))?;
        let pre_order = offer.pre_order_offer.is_some();
        offer.state = Some(match (t, &offer.state) {
            (_, Some(S::Cancelled)) => {
                return Err(precondition(format!("Offer {offer_id:?} is cancelled.")));
            }
            (Transition::Activate, _) => S::Active,
            (Transition::Deactivate, _) if pre_order => {
                return Err(precondition(
                    "Pre-order offers are cancelled, not deactivated.",
                ));
            }
            (Transition::Deactivate, Some(S::Active | S::Inactive)) => S::Inactive,
            (Transition::Deactivate, _) => {
                return Err(precondition(format!("Offer {offer_id:?} is not active.")));
            }
            (Transition::Cancel, _) if !pre_order => {
                return Err(precondition("Only pre-order offers can be cancelled."));
            }
            (Transition::Cancel, _) => S::Cancelled,
        });
        Ok(offer.clone())
    }

    fn otp_offer_delete(
        &mut self,
        package: &str,
        id: &str,
        option_id: &str,
        offer_id: &str,
    ) -> ApiResult<()> {
        self.otp_offer(package, id, option_id, offer_id)?;
        self.managed_mut(package, id)?
            .offers
            .remove(&(option_id.to_owned(), offer_id.to_owned()));
        Ok(())
    }
}

fn no_option(id: &str, option_id: &str) -> GoogleApiError {
    GoogleApiError::not_found(format!(
        "Purchase option {option_id:?} was not found in product {id:?}."
    ))
}

fn has_option(otp: &cat::OneTimeProduct, id: &str, option_id: &str) -> ApiResult<()> {
    otp.purchase_options
        .iter()
        .flatten()
        .any(|o| o.purchase_option_id.as_deref() == Some(option_id))
        .then_some(())
        .ok_or_else(|| no_option(id, option_id))
}

// ---- batches ---------------------------------------------------------------------------

/// The requests of a batch: 1 to 100, each for a different resource (`key`).
fn batch<T, K: Ord>(requests: Option<Vec<T>>, key: impl Fn(&T) -> K) -> ApiResult<Vec<T>> {
    let requests = requests.unwrap_or_default();
    if requests.is_empty() {
        return Err(required("requests"));
    }
    if requests.len() > 100 {
        return Err(invalid("A batch holds at most 100 requests."));
    }
    let mut seen = BTreeSet::new();
    if !requests.iter().all(|r| seen.insert(key(r))) {
        return Err(invalid(
            "All requests of a batch must be for different resources.",
        ));
    }
    Ok(requests)
}

/// Up to 100 different ids of a `batchGet` query.
fn batch_ids(ids: Vec<String>, name: &str) -> ApiResult<Vec<String>> {
    if ids.is_empty() {
        return Err(required(name));
    }
    let distinct: BTreeSet<&String> = ids.iter().collect();
    if ids.len() > 100 || distinct.len() != ids.len() {
        return Err(invalid(format!("{name}: up to 100 ids, all different.")));
    }
    Ok(ids)
}

/// A batch request's own id, checked against the path's (`-` in the path: any).
fn batch_id(value: Option<&String>, path: &str, field: &str) -> ApiResult<String> {
    let v = value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| required(field))?;
    if path != "-" && v != path {
        return Err(invalid(format!(
            "{field} {v:?} of a request does not match {path:?} in the request URL."
        )));
    }
    Ok(v.clone())
}

fn batch_package(value: Option<&String>, package: &str) -> ApiResult<()> {
    batch_id(value, package, "packageName").map(|_| ())
}

fn regions_version_of(v: Option<&cat::RegionsVersion>) -> ApiResult<String> {
    v.and_then(|v| v.version.clone())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| required("regionsVersion.version"))
}

// ---- androidpublisher.inappproducts ----------------------------------------------------

/// `androidpublisher.inappproducts.list`: by sku, [`INAPP_PAGE_SIZE`] a page
/// (`maxResults` and `startIndex` are deprecated and ignored, as the contract says).
async fn inapp_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::InappproductsListResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["maxResults", "startIndex", "token"])?;
    q.int("maxResults")?;
    q.int("startIndex")?;
    let items = world
        .catalog
        .managed
        .iter()
        .filter(|((p, _), _)| *p == package)
        .filter_map(|((_, id), m)| Some((id.clone(), m.inapp.clone()?)))
        .collect();
    let (items, next) = page(items, INAPP_PAGE_SIZE, q.get("token"))?;
    Ok(Json(cat::InappproductsListResponse {
        inappproduct: (!items.is_empty()).then_some(items),
        kind: Some("androidpublisher#inappproductsListResponse".into()),
        page_info: None,
        token_pagination: next.map(|t| TokenPagination {
            next_page_token: Some(t),
            previous_page_token: None,
        }),
    }))
}

/// `androidpublisher.inappproducts.get`
async fn inapp_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, sku)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::InAppProduct>> {
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    Ok(Json(world.catalog.inapp(&package, &sku)?.clone()))
}

/// `androidpublisher.inappproducts.insert`
async fn inapp_insert(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::InAppProduct>, JsonRejection>,
) -> ApiResult<Json<cat::InAppProduct>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["autoConvertMissingPrices"])?;
    let body = json_body(b)?;
    let sku = body.sku.clone().filter(|s| !s.is_empty());
    let sku = sku.ok_or_else(|| required("sku"))?;
    let auto = q.flag("autoConvertMissingPrices")?;
    let out = world
        .catalog
        .inapp_write(&package, &sku, body, Write::Create, auto)?;
    ensure_product(&mut world, &package, &sku);
    Ok(Json(out))
}

/// `androidpublisher.inappproducts.update`
async fn inapp_update(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, sku)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::InAppProduct>, JsonRejection>,
) -> ApiResult<Json<cat::InAppProduct>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(
        raw.as_deref(),
        &[
            "allowMissing",
            "autoConvertMissingPrices",
            "latencyTolerance",
        ],
    )?;
    let body = json_body(b)?;
    let how = Write::Replace {
        allow_missing: q.flag("allowMissing")?,
    };
    let auto = q.flag("autoConvertMissingPrices")?;
    let out = world.catalog.inapp_write(&package, &sku, body, how, auto)?;
    ensure_product(&mut world, &package, &sku);
    Ok(Json(out))
}

/// `androidpublisher.inappproducts.patch`: the fields present in the body replace the
/// product's.
async fn inapp_patch(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, sku)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::InAppProduct>, JsonRejection>,
) -> ApiResult<Json<cat::InAppProduct>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(
        raw.as_deref(),
        &["autoConvertMissingPrices", "latencyTolerance"],
    )?;
    let body = json_body(b)?;
    let how = Write::Update {
        mask: None,
        allow_missing: false,
    };
    let auto = q.flag("autoConvertMissingPrices")?;
    let out = world.catalog.inapp_write(&package, &sku, body, how, auto)?;
    ensure_product(&mut world, &package, &sku);
    Ok(Json(out))
}

/// `androidpublisher.inappproducts.delete` (both views of the product go).
async fn inapp_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, sku)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<StatusCode> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &["latencyTolerance"])?;
    world.catalog.inapp_delete(&package, &sku)?;
    forget_product(&mut world, &package, &sku);
    Ok(StatusCode::NO_CONTENT)
}

/// `androidpublisher.inappproducts.batchGet` (`sku` repeated), in the order asked.
async fn inapp_batch_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::InappproductsBatchGetResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["sku"])?;
    let products = q
        .all("sku")
        .iter()
        .map(|sku| world.catalog.inapp(&package, sku).cloned())
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(cat::InappproductsBatchGetResponse {
        inappproduct: (!products.is_empty()).then_some(products),
    }))
}

/// `androidpublisher.inappproducts.batchUpdate`
async fn inapp_batch_update(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::InappproductsBatchUpdateRequest>, JsonRejection>,
) -> ApiResult<Json<cat::InappproductsBatchUpdateResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| r.sku.clone())?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in requests {
        if let Some(p) = &r.package_name {
            batch_package(Some(p), &package)?;
        }
        let sku = batch_id(r.sku.as_ref(), "-", "sku")?;
        let body = r.inappproduct.ok_or_else(|| required("inappproduct"))?;
        let how = Write::Replace {
            allow_missing: r.allow_missing.unwrap_or(false),
        };
        let auto = r.auto_convert_missing_prices.unwrap_or(false);
        out.push(scratch.inapp_write(&package, &sku, body, how, auto)?);
    }
    world.catalog = scratch;
    for p in &out {
        ensure_product(&mut world, &package, p.sku.as_deref().unwrap_or_default());
    }
    Ok(Json(cat::InappproductsBatchUpdateResponse {
        inappproducts: Some(out),
    }))
}

/// `androidpublisher.inappproducts.batchDelete`
async fn inapp_batch_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::InappproductsBatchDeleteRequest>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| r.sku.clone())?;
    let mut scratch = world.catalog.clone();
    let mut skus = Vec::new();
    for r in requests {
        if let Some(p) = &r.package_name {
            batch_package(Some(p), &package)?;
        }
        let sku = batch_id(r.sku.as_ref(), "-", "sku")?;
        scratch.inapp_delete(&package, &sku)?;
        skus.push(sku);
    }
    world.catalog = scratch;
    for sku in skus {
        forget_product(&mut world, &package, &sku);
    }
    Ok(StatusCode::NO_CONTENT)
}

// ---- androidpublisher.monetization.subscriptions ---------------------------------------

/// `androidpublisher.monetization.subscriptions.list` (`showArchived` is accepted: nothing
/// is ever archived).
async fn subs_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::ListSubscriptionsResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["pageSize", "pageToken", "showArchived"])?;
    q.flag("showArchived")?;
    let items = world
        .catalog
        .subscriptions
        .iter()
        .filter(|((p, _), _)| *p == package)
        .map(|((_, id), s)| (id.clone(), s.sub.clone()))
        .collect();
    let (items, next) = page(items, page_size(&q)?, q.get("pageToken"))?;
    Ok(Json(cat::ListSubscriptionsResponse {
        subscriptions: (!items.is_empty()).then_some(items),
        next_page_token: next,
    }))
}

/// `androidpublisher.monetization.subscriptions.get`
async fn subs_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::Subscription>> {
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    Ok(Json(world.catalog.sub(&package, &id)?.sub.clone()))
}

/// `androidpublisher.monetization.subscriptions.create`: its base plans start DRAFT.
async fn subs_create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::Subscription>, JsonRejection>,
) -> ApiResult<Json<cat::Subscription>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["productId", "regionsVersion.version"])?;
    let body = json_body(b)?;
    let id = q.get("productId").filter(|s| !s.is_empty());
    let id = id.ok_or_else(|| required("productId"))?.to_owned();
    q.regions_version()?;
    let out = world
        .catalog
        .sub_write(&package, &id, body, Write::Create)?;
    ensure_product(&mut world, &package, &id);
    Ok(Json(out))
}

/// `androidpublisher.monetization.subscriptions.patch`
async fn subs_patch(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::Subscription>, JsonRejection>,
) -> ApiResult<Json<cat::Subscription>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(
        raw.as_deref(),
        &[
            "allowMissing",
            "latencyTolerance",
            "regionsVersion.version",
            "updateMask",
        ],
    )?;
    let body = json_body(b)?;
    q.regions_version()?;
    let how = Write::Update {
        mask: q.update_mask(),
        allow_missing: q.flag("allowMissing")?,
    };
    let out = world.catalog.sub_write(&package, &id, body, how)?;
    ensure_product(&mut world, &package, &id);
    Ok(Json(out))
}

/// `androidpublisher.monetization.subscriptions.delete`: only while no base plan was ever
/// activated.
async fn subs_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    world.catalog.sub_delete(&package, &id)?;
    forget_product(&mut world, &package, &id);
    Ok(Json(Empty {}))
}

/// `androidpublisher.monetization.subscriptions.archive`: the contract says archiving is
/// not supported, so a known subscription gets a 400.
async fn subs_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, segment)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<cat::Subscription>> {
    let (id, _verb) = split_verb(&segment, &["archive"])?;
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    optional_body::<cat::ArchiveSubscriptionRequest>(&body)?;
    world.catalog.sub(&package, id)?;
    Err(precondition("Subscription archiving is not supported."))
}

/// `androidpublisher.monetization.subscriptions.batchGet` (`productIds` repeated).
async fn subs_batch_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::BatchGetSubscriptionsResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["productIds"])?;
    let subs = batch_ids(q.all("productIds"), "productIds")?
        .iter()
        .map(|id| Ok(world.catalog.sub(&package, id)?.sub.clone()))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(cat::BatchGetSubscriptionsResponse {
        subscriptions: Some(subs),
    }))
}

/// `androidpublisher.monetization.subscriptions.batchUpdate`
async fn subs_batch_update(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateSubscriptionsRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateSubscriptionsResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        r.subscription.as_ref().and_then(|s| s.product_id.clone())
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in requests {
        let sub = r.subscription.ok_or_else(|| required("subscription"))?;
        let id = batch_id(sub.product_id.as_ref(), "-", "subscription.productId")?;
        regions_version_of(r.regions_version.as_ref())?;
        let how = Write::Update {
            mask: r.update_mask,
            allow_missing: r.allow_missing.unwrap_or(false),
        };
        out.push(scratch.sub_write(&package, &id, sub, how)?);
    }
    world.catalog = scratch;
    for s in &out {
        ensure_product(
            &mut world,
            &package,
            s.product_id.as_deref().unwrap_or_default(),
        );
    }
    Ok(Json(cat::BatchUpdateSubscriptionsResponse {
        subscriptions: Some(out),
    }))
}

// ---- androidpublisher.monetization.subscriptions.basePlans -----------------------------

/// The ids a state request names; those present must match the path's.
fn check_state_ids(ids: &[(Option<&String>, &str, &str)]) -> ApiResult<()> {
    for &(value, path, field) in ids {
        if let Some(v) = value
            && v != path
        {
            return Err(invalid(format!(
                "{field} {v:?} in the request body does not match {path:?} in the request."
            )));
        }
    }
    Ok(())
}

/// `androidpublisher.monetization.subscriptions.basePlans.activate`, `.deactivate` and
/// `.migratePrices` (existing subscribers move to the current price: RTDN 19).
async fn plan_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, segment)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (plan_id, verb) = split_verb(&segment, &["activate", "deactivate", "migratePrices"])?;
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let answer = match verb {
        "migratePrices" => {
            let r: cat::MigrateBasePlanPricesRequest = optional_body(&body)?;
            check_state_ids(&[
                (r.package_name.as_ref(), &package, "packageName"),
                (r.product_id.as_ref(), &id, "productId"),
                (r.base_plan_id.as_ref(), plan_id, "basePlanId"),
            ])?;
            check_migration(&world.catalog, &package, &id, plan_id, &r)?;
            migrate_subscribers(&mut world, &package, &id, plan_id, &r);
            serde_json::to_value(cat::MigrateBasePlanPricesResponse {})
        }
        _ => {
            let r: cat::ActivateBasePlanRequest = optional_body(&body)?;
            check_state_ids(&[
                (r.package_name.as_ref(), &package, "packageName"),
                (r.product_id.as_ref(), &id, "productId"),
                (r.base_plan_id.as_ref(), plan_id, "basePlanId"),
            ])?;
            let t = if verb == "activate" {
                Transition::Activate
            } else {
                Transition::Deactivate
            };
            let sub = world.catalog.plan_state(&package, &id, plan_id, t)?;
            ensure_product(&mut world, &package, &id);
            serde_json::to_value(sub)
        }
    };
    answer.map(Json).map_err(|e| invalid(e.to_string()))
}

/// Moves existing subscribers of the base plan in the listed regions whose subscription
/// started before `oldestAllowedPriceVersionTime` to the base plan's current regional price:
/// the price change of the subscription lifecycle (RTDN 19), opt-in or opt-out as asked for
/// an increase.
fn migrate_subscribers(
    world: &mut World,
    package: &str,
    id: &str,
    plan_id: &str,
    r: &cat::MigrateBasePlanPricesRequest,
) {
    let Ok(plan) = world.catalog.plan(package, id, plan_id) else {
        return;
    };
    let prices: Vec<(String, i64, String, cat::PriceIncreaseType, i64)> = r
        .regional_price_migrations
        .iter()
        .flatten()
        .filter_map(|m| {
            let region = m.region_code.clone()?;
            let config = plan
                .regional_configs
                .iter()
                .flatten()
                .find(|c| c.region_code.as_deref() == Some(region.as_str()))?;
            let price = config.price.as_ref()?;
            let cutoff = m
                .oldest_allowed_price_version_time
                .as_deref()
                .and_then(|t| playbill_google::observe::parse_time("time", t).ok())
                .unwrap_or(i64::MAX);
            Some((
                region,
                micros_of(price)?,
                price.currency_code.clone().unwrap_or_default(),
                m.price_increase_type
                    .clone()
                    .unwrap_or(cat::PriceIncreaseType::OptIn),
                cutoff,
            ))
        })
        .collect();
    let now = world.now();
    let mut moves = Vec::new();
    for (token, p) in &world.purchases {
        let crate::state::Detail::Subscription(s) = &p.detail else {
            continue;
        };
        if p.package_name != package || p.product_id != id || s.base_plan_id != plan_id {
            continue;
        }
        for (region, micros, currency, increase, cutoff) in &prices {
            if &p.region_code == region
                && &s.currency == currency
                && s.price_micros != *micros
                && s.start_ms < *cutoff
            {
                let mode = (*micros > s.price_micros).then(|| match increase {
                    cat::PriceIncreaseType::OptOut => "OPT_OUT_PRICE_INCREASE".to_owned(),
                    _ => "PRICE_INCREASE".to_owned(),
                });
                moves.push((token.clone(), *micros, mode));
            }
        }
    }
    for (token, micros, mode) in moves {
        let details = crate::state::ActionDetails {
            price_micros: Some(micros),
            mode,
            ..Default::default()
        };
        // A subscription that cannot change price now (paused, ended) keeps its price.
        let _ = world.change_price(&token, &details, now);
    }
}

fn check_migration(
    catalog: &Catalog,
    package: &str,
    id: &str,
    plan_id: &str,
    r: &cat::MigrateBasePlanPricesRequest,
) -> ApiResult<()> {
    catalog.plan(package, id, plan_id)?;
    regions_version_of(r.regions_version.as_ref())?;
    let migrations = r.regional_price_migrations.as_deref().unwrap_or_default();
    if migrations.is_empty() {
        return Err(required("regionalPriceMigrations"));
    }
    for m in migrations {
        check_region(m.region_code.as_deref())?;
        let t = m
            .oldest_allowed_price_version_time
            .as_deref()
            .ok_or_else(|| required("oldestAllowedPriceVersionTime"))?;
        playbill_google::observe::parse_time("oldestAllowedPriceVersionTime", t).map_err(|_| {
            invalid(format!(
                "oldestAllowedPriceVersionTime {t:?} is not RFC 3339."
            ))
        })?;
    }
    Ok(())
}

/// `androidpublisher.monetization.subscriptions.basePlans.delete`: draft base plans only.
async fn plan_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    world.catalog.plan_delete(&package, &id, &plan_id)?;
    Ok(Json(Empty {}))
}

/// `androidpublisher.monetization.subscriptions.basePlans.batchUpdateStates`
async fn plans_batch_update_states(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateBasePlanStatesRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateBasePlanStatesResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        let (p, b) = match (
            &r.activate_base_plan_request,
            &r.deactivate_base_plan_request,
        ) {
            (Some(a), _) => (a.product_id.clone(), a.base_plan_id.clone()),
            (_, Some(d)) => (d.product_id.clone(), d.base_plan_id.clone()),
            _ => (None, None),
        };
        (p, b)
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in requests {
        let (t, p, product, plan) =
            match (r.activate_base_plan_request, r.deactivate_base_plan_request) {
                (Some(a), None) => (
                    Transition::Activate,
                    a.package_name,
                    a.product_id,
                    a.base_plan_id,
                ),
                (None, Some(d)) => (
                    Transition::Deactivate,
                    d.package_name,
                    d.product_id,
                    d.base_plan_id,
                ),
                _ => {
                    return Err(invalid(
                        "Each request needs exactly one of activateBasePlanRequest and \
                     deactivateBasePlanRequest.",
                    ));
                }
            };
        batch_package(p.as_ref(), &package)?;
        let product = batch_id(product.as_ref(), &id, "productId")?;
        let plan = batch_id(plan.as_ref(), "-", "basePlanId")?;
        out.push(scratch.plan_state(&package, &product, &plan, t)?);
    }
    world.catalog = scratch;
    for s in &out {
        ensure_product(
            &mut world,
            &package,
            s.product_id.as_deref().unwrap_or_default(),
        );
    }
    Ok(Json(cat::BatchUpdateBasePlanStatesResponse {
        subscriptions: Some(out),
    }))
}

/// `androidpublisher.monetization.subscriptions.basePlans.batchMigratePrices`: every
/// request checked, then every migration made; one empty response per request.
async fn plans_batch_migrate_prices(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchMigrateBasePlanPricesRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchMigrateBasePlanPricesResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        (r.product_id.clone(), r.base_plan_id.clone())
    })?;
    let mut checked = Vec::new();
    for r in &requests {
        batch_package(r.package_name.as_ref(), &package)?;
        let product = batch_id(r.product_id.as_ref(), &id, "productId")?;
        let plan = batch_id(r.base_plan_id.as_ref(), "-", "basePlanId")?;
        check_migration(&world.catalog, &package, &product, &plan, r)?;
        checked.push((product, plan));
    }
    // All checked: only now does anyone's price change (all or nothing).
    for (r, (product, plan)) in requests.iter().zip(&checked) {
        migrate_subscribers(&mut world, &package, product, plan, r);
    }
    Ok(Json(cat::BatchMigrateBasePlanPricesResponse {
        responses: Some(vec![Empty {}; requests.len()]),
    }))
}

// ---- androidpublisher.monetization.subscriptions.basePlans.offers ----------------------

/// `androidpublisher.monetization.subscriptions.basePlans.offers.list`; `-` as product id
/// reads all offers of the app (then the base plan id must be `-` too), `-` as base plan
/// id all offers of the subscription.
async fn offers_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::ListSubscriptionOffersResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["pageSize", "pageToken"])?;
    if id == "-" && plan_id != "-" {
        return Err(invalid("basePlanId must be \"-\" when productId is \"-\"."));
    }
    if id != "-" {
        world.catalog.sub(&package, &id)?;
        if plan_id != "-" {
            world.catalog.plan(&package, &id, &plan_id)?;
        }
    }
    let items = world
        .catalog
        .subscriptions
        .iter()
        .filter(|((p, s), _)| *p == package && (id == "-" || *s == id))
        .flat_map(|((_, s), entry)| {
            entry
                .offers
                .iter()
                .filter(|((b, _), _)| plan_id == "-" || *b == plan_id)
                .map(move |((b, o), offer)| (format!("{s}/{b}/{o}"), offer.clone()))
        })
        .collect();
    let (items, next) = page(items, page_size(&q)?, q.get("pageToken"))?;
    Ok(Json(cat::ListSubscriptionOffersResponse {
        subscription_offers: (!items.is_empty()).then_some(items),
        next_page_token: next,
    }))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.create`: DRAFT, and only
/// on auto-renewing base plans.
async fn offers_create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::SubscriptionOffer>, JsonRejection>,
) -> ApiResult<Json<cat::SubscriptionOffer>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["offerId", "regionsVersion.version"])?;
    let body = json_body(b)?;
    let offer_id = q.get("offerId").filter(|s| !s.is_empty());
    let offer_id = offer_id.ok_or_else(|| required("offerId"))?.to_owned();
    q.regions_version()?;
    let out = world
        .catalog
        .offer_write(&package, &id, &plan_id, &offer_id, body, Write::Create)?;
    Ok(Json(out))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.get`
async fn offer_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id, offer_id)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::SubscriptionOffer>> {
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    Ok(Json(
        world
            .catalog
            .offer(&package, &id, &plan_id, &offer_id)?
            .clone(),
    ))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.patch`
async fn offer_patch(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id, offer_id)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::SubscriptionOffer>, JsonRejection>,
) -> ApiResult<Json<cat::SubscriptionOffer>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(
        raw.as_deref(),
        &[
            "allowMissing",
            "latencyTolerance",
            "regionsVersion.version",
            "updateMask",
        ],
    )?;
    let body = json_body(b)?;
    q.regions_version()?;
    let how = Write::Update {
        mask: q.update_mask(),
        allow_missing: q.flag("allowMissing")?,
    };
    let out = world
        .catalog
        .offer_write(&package, &id, &plan_id, &offer_id, body, how)?;
    Ok(Json(out))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.delete`: draft offers only.
async fn offer_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id, offer_id)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    world
        .catalog
        .offer_delete(&package, &id, &plan_id, &offer_id)?;
    Ok(Json(Empty {}))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.activate` and
/// `.deactivate`.
async fn offer_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id, segment)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<cat::SubscriptionOffer>> {
    let (offer_id, verb) = split_verb(&segment, &["activate", "deactivate"])?;
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let r: cat::ActivateSubscriptionOfferRequest = optional_body(&body)?;
    check_state_ids(&[
        (r.package_name.as_ref(), &package, "packageName"),
        (r.product_id.as_ref(), &id, "productId"),
        (r.base_plan_id.as_ref(), &plan_id, "basePlanId"),
        (r.offer_id.as_ref(), offer_id, "offerId"),
    ])?;
    let t = if verb == "activate" {
        Transition::Activate
    } else {
        Transition::Deactivate
    };
    let out = world
        .catalog
        .offer_state(&package, &id, &plan_id, offer_id, t)?;
    Ok(Json(out))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.batchGet`
async fn offers_batch_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchGetSubscriptionOffersRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchGetSubscriptionOffersResponse>> {
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        (
            r.product_id.clone(),
            r.base_plan_id.clone(),
            r.offer_id.clone(),
        )
    })?;
    let mut out = Vec::new();
    for r in requests {
        batch_package(r.package_name.as_ref(), &package)?;
        let product = batch_id(r.product_id.as_ref(), &id, "productId")?;
        let plan = batch_id(r.base_plan_id.as_ref(), &plan_id, "basePlanId")?;
        let offer = batch_id(r.offer_id.as_ref(), "-", "offerId")?;
        out.push(
            world
                .catalog
                .offer(&package, &product, &plan, &offer)?
                .clone(),
        );
    }
    Ok(Json(cat::BatchGetSubscriptionOffersResponse {
        subscription_offers: Some(out),
    }))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdate`
async fn offers_batch_update(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateSubscriptionOffersRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateSubscriptionOffersResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        r.subscription_offer.as_ref().map(|o| {
            (
                o.product_id.clone(),
                o.base_plan_id.clone(),
                o.offer_id.clone(),
            )
        })
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in requests {
        let offer = r
            .subscription_offer
            .ok_or_else(|| required("subscriptionOffer"))?;
        regions_version_of(r.regions_version.as_ref())?;
        let product = batch_id(offer.product_id.as_ref(), &id, "productId")?;
        let plan = batch_id(offer.base_plan_id.as_ref(), &plan_id, "basePlanId")?;
        let offer_id = batch_id(offer.offer_id.as_ref(), "-", "offerId")?;
        let how = Write::Update {
            mask: r.update_mask,
            allow_missing: r.allow_missing.unwrap_or(false),
        };
        out.push(scratch.offer_write(&package, &product, &plan, &offer_id, offer, how)?);
    }
    world.catalog = scratch;
    Ok(Json(cat::BatchUpdateSubscriptionOffersResponse {
        subscription_offers: Some(out),
    }))
}

/// `androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdateStates`
async fn offers_batch_update_states(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, plan_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateSubscriptionOfferStatesRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateSubscriptionOfferStatesResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    fn ids(
        r: &cat::UpdateSubscriptionOfferStateRequest,
    ) -> Option<(Transition, cat::ActivateSubscriptionOfferRequest)> {
        match (
            &r.activate_subscription_offer_request,
            &r.deactivate_subscription_offer_request,
        ) {
            (Some(a), None) => Some((Transition::Activate, a.clone())),
            (None, Some(d)) => Some((
                Transition::Deactivate,
                cat::ActivateSubscriptionOfferRequest {
                    base_plan_id: d.base_plan_id.clone(),
                    latency_tolerance: d.latency_tolerance.clone(),
                    offer_id: d.offer_id.clone(),
                    package_name: d.package_name.clone(),
                    product_id: d.product_id.clone(),
                },
            )),
            _ => None,
        }
    }
    let requests = batch(json_body(b)?.requests, |r| {
        ids(r).map(|(_, a)| (a.product_id, a.base_plan_id, a.offer_id))
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in &requests {
        let (t, a) = ids(r).ok_or_else(|| {
            invalid(
                "Each request needs exactly one of activateSubscriptionOfferRequest and \
                 deactivateSubscriptionOfferRequest.",
            )
        })?;
        batch_package(a.package_name.as_ref(), &package)?;
        let product = batch_id(a.product_id.as_ref(), &id, "productId")?;
        let plan = batch_id(a.base_plan_id.as_ref(), &plan_id, "basePlanId")?;
        let offer = batch_id(a.offer_id.as_ref(), "-", "offerId")?;
        out.push(scratch.offer_state(&package, &product, &plan, &offer, t)?);
    }
    world.catalog = scratch;
    Ok(Json(cat::BatchUpdateSubscriptionOfferStatesResponse {
        subscription_offers: Some(out),
    }))
}

// ---- androidpublisher.monetization.onetimeproducts -------------------------------------

/// `androidpublisher.monetization.onetimeproducts.list`
async fn otp_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::ListOneTimeProductsResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["pageSize", "pageToken"])?;
    let items = world
        .catalog
        .managed
        .iter()
        .filter(|((p, _), _)| *p == package)
        .map(|((_, id), m)| (id.clone(), m.otp.clone()))
        .collect();
    let (items, next) = page(items, page_size(&q)?, q.get("pageToken"))?;
    Ok(Json(cat::ListOneTimeProductsResponse {
        one_time_products: (!items.is_empty()).then_some(items),
        next_page_token: next,
    }))
}

/// `androidpublisher.monetization.onetimeproducts.get`
async fn otp_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::OneTimeProduct>> {
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    Ok(Json(world.catalog.managed(&package, &id)?.otp.clone()))
}

/// `androidpublisher.monetization.onetimeproducts.patch` (served at the contract's
/// lowercase `onetimeproducts/{productId}`): creates with `allowMissing`.
async fn otp_patch(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::OneTimeProduct>, JsonRejection>,
) -> ApiResult<Json<cat::OneTimeProduct>> {
    let mut world = open(&shared, &headers, &package)?;
    let q = Query::parse(
        raw.as_deref(),
        &[
            "allowMissing",
            "latencyTolerance",
            "regionsVersion.version",
            "updateMask",
        ],
    )?;
    let body = json_body(b)?;
    let version = q.regions_version()?;
    let how = Write::Update {
        mask: q.update_mask(),
        allow_missing: q.flag("allowMissing")?,
    };
    let out = world
        .catalog
        .otp_write(&package, &id, body, how, &version)?;
    ensure_product(&mut world, &package, &id);
    Ok(Json(out))
}

/// `androidpublisher.monetization.onetimeproducts.delete` (both views of the product go).
async fn otp_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &["latencyTolerance"])?;
    world.catalog.otp_delete(&package, &id)?;
    forget_product(&mut world, &package, &id);
    Ok(Json(Empty {}))
}

/// `androidpublisher.monetization.onetimeproducts.batchGet` (`productIds` repeated).
async fn otp_batch_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::BatchGetOneTimeProductsResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["productIds"])?;
    let products = batch_ids(q.all("productIds"), "productIds")?
        .iter()
        .map(|id| Ok(world.catalog.managed(&package, id)?.otp.clone()))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(cat::BatchGetOneTimeProductsResponse {
        one_time_products: Some(products),
    }))
}

/// `androidpublisher.monetization.onetimeproducts.batchUpdate`
async fn otp_batch_update(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateOneTimeProductsRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateOneTimeProductsResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        r.one_time_product
            .as_ref()
            .and_then(|p| p.product_id.clone())
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in requests {
        let otp = r
            .one_time_product
            .ok_or_else(|| required("oneTimeProduct"))?;
        let id = batch_id(otp.product_id.as_ref(), "-", "oneTimeProduct.productId")?;
        let version = regions_version_of(r.regions_version.as_ref())?;
        let how = Write::Update {
            mask: r.update_mask,
            allow_missing: r.allow_missing.unwrap_or(false),
        };
        out.push(scratch.otp_write(&package, &id, otp, how, &version)?);
    }
    world.catalog = scratch;
    for p in &out {
        ensure_product(
            &mut world,
            &package,
            p.product_id.as_deref().unwrap_or_default(),
        );
    }
    Ok(Json(cat::BatchUpdateOneTimeProductsResponse {
        one_time_products: Some(out),
    }))
}

/// `androidpublisher.monetization.onetimeproducts.batchDelete`
async fn otp_batch_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchDeleteOneTimeProductsRequest>, JsonRejection>,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| r.product_id.clone())?;
    let mut scratch = world.catalog.clone();
    let mut ids = Vec::new();
    for r in requests {
        batch_package(r.package_name.as_ref(), &package)?;
        let id = batch_id(r.product_id.as_ref(), "-", "productId")?;
        scratch.otp_delete(&package, &id)?;
        ids.push(id);
    }
    world.catalog = scratch;
    for id in ids {
        forget_product(&mut world, &package, &id);
    }
    Ok(Json(Empty {}))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.batchUpdateStates`
async fn options_batch_update_states(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdatePurchaseOptionStatesRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdatePurchaseOptionStatesResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    /// The transition, package, product and purchase option of a request.
    type Ids = (Transition, Option<String>, Option<String>, Option<String>);
    fn ids(r: &cat::UpdatePurchaseOptionStateRequest) -> Option<Ids> {
        match (
            &r.activate_purchase_option_request,
            &r.deactivate_purchase_option_request,
        ) {
            (Some(a), None) => Some((
                Transition::Activate,
                a.package_name.clone(),
                a.product_id.clone(),
                a.purchase_option_id.clone(),
            )),
            (None, Some(d)) => Some((
                Transition::Deactivate,
                d.package_name.clone(),
                d.product_id.clone(),
                d.purchase_option_id.clone(),
            )),
            _ => None,
        }
    }
    let requests = batch(json_body(b)?.requests, |r| {
        ids(r).map(|(_, _, p, o)| (p, o))
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in &requests {
        let (t, pkg, product, option) = ids(r).ok_or_else(|| {
            invalid(
                "Each request needs exactly one of activatePurchaseOptionRequest and \
                 deactivatePurchaseOptionRequest.",
            )
        })?;
        batch_package(pkg.as_ref(), &package)?;
        let product = batch_id(product.as_ref(), &id, "productId")?;
        let option = batch_id(option.as_ref(), "-", "purchaseOptionId")?;
        out.push(scratch.option_state(&package, &product, &option, t)?);
    }
    world.catalog = scratch;
    Ok(Json(cat::BatchUpdatePurchaseOptionStatesResponse {
        one_time_products: Some(out),
    }))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.batchDelete`: refused
/// for options with offers unless `force`, and for a product's last option.
async fn options_batch_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchDeletePurchaseOptionsRequest>, JsonRejection>,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    // The contract: "All requests must delete purchase options from different one-time
    // products."
    let requests = batch(json_body(b)?.requests, |r| r.product_id.clone())?;
    let mut scratch = world.catalog.clone();
    for r in requests {
        batch_package(r.package_name.as_ref(), &package)?;
        let product = batch_id(r.product_id.as_ref(), &id, "productId")?;
        let option = batch_id(r.purchase_option_id.as_ref(), "-", "purchaseOptionId")?;
        scratch.option_delete(&package, &product, &option, r.force.unwrap_or(false))?;
    }
    world.catalog = scratch;
    Ok(Json(Empty {}))
}

// ---- androidpublisher.monetization.onetimeproducts.purchaseOptions.offers --------------

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.list`; `-` as
/// product id reads the app's offers (the purchase option id must be `-` too), `-` as
/// purchase option id those of the product.
async fn otp_offers_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, option_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Json<cat::ListOneTimeProductOffersResponse>> {
    let world = open(&shared, &headers, &package)?;
    let q = Query::parse(raw.as_deref(), &["pageSize", "pageToken"])?;
    if id == "-" && option_id != "-" {
        return Err(invalid(
            "purchaseOptionId must be \"-\" when productId is \"-\".",
        ));
    }
    if id != "-" {
        let m = world.catalog.managed(&package, &id)?;
        if option_id != "-" {
            has_option(&m.otp, &id, &option_id)?;
        }
    }
    let items = world
        .catalog
        .managed
        .iter()
        .filter(|((p, m), _)| *p == package && (id == "-" || *m == id))
        .flat_map(|((_, m), entry)| {
            entry
                .offers
                .iter()
                .filter(|((o, _), _)| option_id == "-" || *o == option_id)
                .map(move |((o, f), offer)| (format!("{m}/{o}/{f}"), offer.clone()))
        })
        .collect();
    let (items, next) = page(items, page_size(&q)?, q.get("pageToken"))?;
    Ok(Json(cat::ListOneTimeProductOffersResponse {
        one_time_product_offers: (!items.is_empty()).then_some(items),
        next_page_token: next,
    }))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.activate`,
/// `.deactivate` and `.cancel`.
async fn otp_offer_post(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, option_id, segment)): Path<(String, String, String, String)>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> ApiResult<Json<cat::OneTimeProductOffer>> {
    let (offer_id, verb) = split_verb(&segment, &["activate", "deactivate", "cancel"])?;
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let r: cat::ActivateOneTimeProductOfferRequest = optional_body(&body)?;
    check_state_ids(&[
        (r.package_name.as_ref(), &package, "packageName"),
        (r.product_id.as_ref(), &id, "productId"),
        (
            r.purchase_option_id.as_ref(),
            &option_id,
            "purchaseOptionId",
        ),
        (r.offer_id.as_ref(), offer_id, "offerId"),
    ])?;
    let t = match verb {
        "activate" => Transition::Activate,
        "deactivate" => Transition::Deactivate,
        _ => Transition::Cancel,
    };
    let out = world
        .catalog
        .otp_offer_state(&package, &id, &option_id, offer_id, t)?;
    Ok(Json(out))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchGet`
async fn otp_offers_batch_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, option_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchGetOneTimeProductOffersRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchGetOneTimeProductOffersResponse>> {
    let world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        (
            r.product_id.clone(),
            r.purchase_option_id.clone(),
            r.offer_id.clone(),
        )
    })?;
    let mut out = Vec::new();
    for r in requests {
        batch_package(r.package_name.as_ref(), &package)?;
        let product = batch_id(r.product_id.as_ref(), &id, "productId")?;
        let option = batch_id(
            r.purchase_option_id.as_ref(),
            &option_id,
            "purchaseOptionId",
        )?;
        let offer = batch_id(r.offer_id.as_ref(), "-", "offerId")?;
        out.push(
            world
                .catalog
                .otp_offer(&package, &product, &option, &offer)?
                .clone(),
        );
    }
    Ok(Json(cat::BatchGetOneTimeProductOffersResponse {
        one_time_product_offers: Some(out),
    }))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdate`:
/// creates with `allowMissing` (DRAFT).
async fn otp_offers_batch_update(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, option_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateOneTimeProductOffersRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateOneTimeProductOffersResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        r.one_time_product_offer.as_ref().map(|o| {
            (
                o.product_id.clone(),
                o.purchase_option_id.clone(),
                o.offer_id.clone(),
            )
        })
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in requests {
        let offer = r
            .one_time_product_offer
            .ok_or_else(|| required("oneTimeProductOffer"))?;
        batch_id(offer.product_id.as_ref(), &id, "productId")?;
        batch_id(
            offer.purchase_option_id.as_ref(),
            &option_id,
            "purchaseOptionId",
        )?;
        let version = regions_version_of(r.regions_version.as_ref())?;
        let how = Write::Update {
            mask: r.update_mask,
            allow_missing: r.allow_missing.unwrap_or(false),
        };
        out.push(scratch.otp_offer_write(&package, offer, how, &version)?);
    }
    world.catalog = scratch;
    Ok(Json(cat::BatchUpdateOneTimeProductOffersResponse {
        one_time_product_offers: Some(out),
    }))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdateStates`
async fn otp_offers_batch_update_states(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, option_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchUpdateOneTimeProductOfferStatesRequest>, JsonRejection>,
) -> ApiResult<Json<cat::BatchUpdateOneTimeProductOfferStatesResponse>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    type Ids = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    fn ids(r: &cat::UpdateOneTimeProductOfferStateRequest) -> Option<(Transition, Ids)> {
        let a = r.activate_one_time_product_offer_request.as_ref().map(|a| {
            let ids = (
                a.package_name.clone(),
                a.product_id.clone(),
                a.purchase_option_id.clone(),
                a.offer_id.clone(),
            );
            (Transition::Activate, ids)
        });
        let d = r
            .deactivate_one_time_product_offer_request
            .as_ref()
            .map(|d| {
                let ids = (
                    d.package_name.clone(),
                    d.product_id.clone(),
                    d.purchase_option_id.clone(),
                    d.offer_id.clone(),
                );
                (Transition::Deactivate, ids)
            });
        let c = r.cancel_one_time_product_offer_request.as_ref().map(|c| {
            let ids = (
                c.package_name.clone(),
                c.product_id.clone(),
                c.purchase_option_id.clone(),
                c.offer_id.clone(),
            );
            (Transition::Cancel, ids)
        });
        match (a, d, c) {
            (Some(x), None, None) | (None, Some(x), None) | (None, None, Some(x)) => Some(x),
            _ => None,
        }
    }
    let requests = batch(json_body(b)?.requests, |r| {
        ids(r).map(|(_, (_, p, o, f))| (p, o, f))
    })?;
    let mut scratch = world.catalog.clone();
    let mut out = Vec::new();
    for r in &requests {
        let (t, (pkg, product, option, offer)) = ids(r).ok_or_else(|| {
            invalid(
                "Each request needs exactly one of activateOneTimeProductOfferRequest, \
                 deactivateOneTimeProductOfferRequest and cancelOneTimeProductOfferRequest.",
            )
        })?;
        batch_package(pkg.as_ref(), &package)?;
        let product = batch_id(product.as_ref(), &id, "productId")?;
        let option = batch_id(option.as_ref(), &option_id, "purchaseOptionId")?;
        let offer = batch_id(offer.as_ref(), "-", "offerId")?;
        out.push(scratch.otp_offer_state(&package, &product, &option, &offer, t)?);
    }
    world.catalog = scratch;
    Ok(Json(cat::BatchUpdateOneTimeProductOfferStatesResponse {
        one_time_product_offers: Some(out),
    }))
}

/// `androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchDelete`
async fn otp_offers_batch_delete(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, id, option_id)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::BatchDeleteOneTimeProductOffersRequest>, JsonRejection>,
) -> ApiResult<Json<Empty>> {
    let mut world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let requests = batch(json_body(b)?.requests, |r| {
        (
            r.product_id.clone(),
            r.purchase_option_id.clone(),
            r.offer_id.clone(),
        )
    })?;
    let mut scratch = world.catalog.clone();
    for r in requests {
        batch_package(r.package_name.as_ref(), &package)?;
        let product = batch_id(r.product_id.as_ref(), &id, "productId")?;
        let option = batch_id(
            r.purchase_option_id.as_ref(),
            &option_id,
            "purchaseOptionId",
        )?;
        let offer = batch_id(r.offer_id.as_ref(), "-", "offerId")?;
        scratch.otp_offer_delete(&package, &product, &option, &offer)?;
    }
    world.catalog = scratch;
    Ok(Json(Empty {}))
}

// ---- androidpublisher.monetization.convertRegionPrices ---------------------------------

/// `androidpublisher.monetization.convertRegionPrices`: the price in every sandbox region
/// ([`REGIONS`]) with its tax, converted at the fixed [`USD_RATES`], and the USD / EUR
/// prices for other regions (tax exclusive).
async fn convert_region_prices(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    RawQuery(raw): RawQuery,
    b: Result<Json<cat::ConvertRegionPricesRequest>, JsonRejection>,
) -> ApiResult<Json<cat::ConvertRegionPricesResponse>> {
    let _world = open(&shared, &headers, &package)?;
    Query::parse(raw.as_deref(), &[])?;
    let r = json_body(b)?;
    let price = r.price.ok_or_else(|| required("price"))?;
    let micros = check_money(&price, "price", None)?;
    let from = price.currency_code.unwrap_or_default();
    if usd_rate(&from).is_none() {
        return Err(invalid(format!(
            "Currency {from} cannot be converted: the sandbox converts {}.",
            USD_RATES.iter().map(|r| r.0).collect::<Vec<_>>().join(", ")
        )));
    }
    let converted = REGIONS
        .iter()
        .filter_map(|region| {
            let (gross, tax) = regional_price(micros, &from, region)?;
            Some((
                region.0.to_owned(),
                cat::ConvertedRegionPrice {
                    region_code: Some(region.0.to_owned()),
                    price: Some(money(gross, region.1)),
                    tax_amount: Some(money(tax, region.1)),
                },
            ))
        })
        .collect();
    let other = |currency: &str| convert(micros, &from, currency).map(|m| money(m, currency));
    Ok(Json(cat::ConvertRegionPricesResponse {
        converted_region_prices: Some(converted),
        region_version: Some(cat::RegionsVersion {
            version: Some(REGIONS_VERSION.into()),
        }),
        converted_other_regions_price: Some(cat::ConvertedOtherRegionsPrice {
            usd_price: other("USD"),
            eur_price: other("EUR"),
        }),
    }))
}

// ---- routes ----------------------------------------------------------------------------

/// The catalog routes, under `/androidpublisher/v3/applications/{packageName}/`. Custom
/// verbs after an id (`{productId}:archive`) share its path segment, so those handlers
/// split `id:verb` themselves; verbs after a collection (`subscriptions:batchGet`) are
/// plain routes.
pub fn routes() -> Router<Shared> {
    let app = "/androidpublisher/v3/applications/{packageName}";
    let iap = format!("{app}/inappproducts");
    let subs = format!("{app}/subscriptions");
    let plans = format!("{subs}/{{productId}}/basePlans");
    let offers = format!("{plans}/{{basePlanId}}/offers");
    let otps = format!("{app}/oneTimeProducts");
    let options = format!("{otps}/{{productId}}/purchaseOptions");
    let otp_offers = format!("{options}/{{purchaseOptionId}}/offers");
    Router::new()
        .route(&iap, get(inapp_list).post(inapp_insert))
        .route(
            &format!("{iap}/{{sku}}"),
            get(inapp_get)
                .put(inapp_update)
                .patch(inapp_patch)
                .delete(inapp_delete),
        )
        .route(&format!("{iap}:batchGet"), get(inapp_batch_get))
        .route(&format!("{iap}:batchUpdate"), post(inapp_batch_update))
        .route(&format!("{iap}:batchDelete"), post(inapp_batch_delete))
        .route(&subs, get(subs_list).post(subs_create))
        .route(&format!("{subs}:batchGet"), get(subs_batch_get))
        .route(&format!("{subs}:batchUpdate"), post(subs_batch_update))
        .route(
            &format!("{subs}/{{productId}}"),
            get(subs_get)
                .patch(subs_patch)
                .delete(subs_delete)
                .post(subs_post),
        )
        .route(
            &format!("{plans}:batchUpdateStates"),
            post(plans_batch_update_states),
        )
        .route(
            &format!("{plans}:batchMigratePrices"),
            post(plans_batch_migrate_prices),
        )
        .route(
            &format!("{plans}/{{basePlanId}}"),
            post(plan_post).delete(plan_delete),
        )
        .route(&offers, get(offers_list).post(offers_create))
        .route(&format!("{offers}:batchGet"), post(offers_batch_get))
        .route(&format!("{offers}:batchUpdate"), post(offers_batch_update))
        .route(
            &format!("{offers}:batchUpdateStates"),
            post(offers_batch_update_states),
        )
        .route(
            &format!("{offers}/{{offerId}}"),
            get(offer_get)
                .patch(offer_patch)
                .delete(offer_delete)
                .post(offer_post),
        )
        .route(&otps, get(otp_list))
        .route(&format!("{otps}:batchGet"), get(otp_batch_get))
        .route(&format!("{otps}:batchUpdate"), post(otp_batch_update))
        .route(&format!("{otps}:batchDelete"), post(otp_batch_delete))
        .route(
            &format!("{otps}/{{productId}}"),
            get(otp_get).delete(otp_delete),
        )
        .route(
            &format!("{app}/onetimeproducts/{{productId}}"),
            axum::routing::patch(otp_patch),
        )
        .route(
            &format!("{options}:batchUpdateStates"),
            post(options_batch_update_states),
        )
        .route(
            &format!("{options}:batchDelete"),
            post(options_batch_delete),
        )
        .route(&otp_offers, get(otp_offers_list))
        .route(
            &format!("{otp_offers}:batchGet"),
            post(otp_offers_batch_get),
        )
        .route(
            &format!("{otp_offers}:batchUpdate"),
            post(otp_offers_batch_update),
        )
        .route(
            &format!("{otp_offers}:batchUpdateStates"),
            post(otp_offers_batch_update_states),
        )
        .route(
            &format!("{otp_offers}:batchDelete"),
            post(otp_offers_batch_delete),
        )
        .route(&format!("{otp_offers}/{{offerId}}"), post(otp_offer_post))
        .route(
            &format!("{app}/pricing:convertRegionPrices"),
            post(convert_region_prices),
        )
}
