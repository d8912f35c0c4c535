//! `externaltransactions` of the Play Developer API: alternative-billing transactions
//! reported by the developer (reference section 12).
//!
//! - `androidpublisher.externaltransactions.createexternaltransaction`:
//!   `POST …/applications/{pkg}/externalTransactions?externalTransactionId=ID`
//! - `.getexternaltransaction`: `GET …/applications/{pkg}/externalTransactions/{ID}`
//! - `.refundexternaltransaction`: `POST …/applications/{pkg}/externalTransactions/{ID}:refund`
//!
//! Rules enforced (each failure is a 400 in Google's envelope unless said otherwise, and
//! changes nothing): the id is 1–63 characters of `[a-zA-Z0-9_-]` and unique per app (409
//! on reuse); the body has no field the contract does not know; exactly one of
//! `oneTimeTransaction` / `recurringTransaction`; a one-time transaction and the first
//! transaction of a recurring series (whose `initialExternalTransactionId` is its own id)
//! carry an `externalTransactionToken` (a migrated series, `migratedTransactionProgram`, may
//! not); a renewal names the initial transaction of an existing series of the app and
//! carries no token; a recurring transaction has exactly one of `externalSubscription`
//! (`subscriptionType` RECURRING or PREPAID) / `otherRecurringProduct`; `transactionTime` is
//! RFC 3339, not in the future (a minute of clock skew is tolerated) and at most 24 hours old
//! (Google requires every transaction, refunds included, to be reported within 24 hours);
//! `userTaxAddress.regionCode` is one of [`ELIGIBLE_REGIONS`] and India needs a valid
//! `administrativeArea`; `originalPreTaxAmount` and `originalTaxAmount` are present,
//! non-negative, in one currency; enum values come from the contract;
//! `transactionProgramCode` is not combined with `externalOfferDetails`;
//! `externalContentLinkDetails` has a `linkType`, and app-download links name the app.
//!
//! Refunds: `refundTime` (same time rules, not before the transaction) and exactly one of
//! `fullRefund` / `partialRefund{refundId, refundPreTaxAmount}`. A partial refund is in the
//! transaction's currency, above zero and below the remaining pre-tax amount; its `refundId`
//! is new for the transaction; the tax goes down in proportion. A full refund zeroes both
//! amounts and sets `TRANSACTION_CANCELED`, after which no refund is possible.
//!
//! The billing clock is [`World::now`]. Every call is charged to the package's
//! ExternalTransactions quota bucket. Packages are not checked (any package is an app).
//!
//! Control API: `POST /sandbox/v1/apps/{package}/external-transaction-tokens` issues a token
//! as the Play Billing Library would hand one to the app (`{"test_purchase": true}` for a
//! license tester: transactions made with it carry `testPurchase`, as do their renewals);
//! tokens the sandbox did not issue are accepted as ordinary users' tokens.
//! `GET /sandbox/v1/apps/{package}/external-transactions` lists what was reported.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use playbill_google::external::{
    ExternalTransaction, Price, RefundExternalTransactionRequest, app_category, link_type,
    subscription_type, transaction_program, transaction_state,
};
use playbill_google::observe::{format_time, parse_time};
use playbill_google::wire::Empty;

use crate::error::GoogleApiError;
use crate::quota::Bucket;
use crate::state::{DAY_MS, Shared, World, random_token};

type ApiResult<T> = Result<T, GoogleApiError>;

/// Countries where the sandbox accepts external transactions: the user choice billing
/// countries (Australia, Brazil, Indonesia, Japan, South Africa, the United States, the
/// United Kingdom and the EEA), India and South Korea. Google decides per app and program;
/// this is the sandbox's fixed approximation.
pub const ELIGIBLE_REGIONS: &[&str] = &[
    "AU", "BR", "ID", "IN", "JP", "KR", "ZA", "US", "GB", // outside the EEA
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IS", "IE", "IT",
    "LV", "LI", "LT", "LU", "MT", "NL", "NO", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// `administrativeArea` values the contract allows for India.
const INDIA_AREAS: &[&str] = &[
    "ANDAMAN AND NICOBAR ISLANDS",
    "ANDHRA PRADESH",
    "ARUNACHAL PRADESH",
    "ASSAM",
    "BIHAR",
    "CHANDIGARH",
    "CHHATTISGARH",
    "DADRA AND NAGAR HAVELI",
    "DADRA AND NAGAR HAVELI AND DAMAN AND DIU",
    "DAMAN AND DIU",
    "DELHI",
    "GOA",
    "GUJARAT",
    "HARYANA",
    "HIMACHAL PRADESH",
    "JAMMU AND KASHMIR",
    "JHARKHAND",
    "KARNATAKA",
    "KERALA",
    "LADAKH",
    "LAKSHADWEEP",
    "MADHYA PRADESH",
    "MAHARASHTRA",
    "MANIPUR",
    "MEGHALAYA",
    "MIZORAM",
    "NAGALAND",
    "ODISHA",
    "PUDUCHERRY",
    "PUNJAB",
    "RAJASTHAN",
    "SIKKIM",
    "TAMIL NADU",
    "TELANGANA",
    "TRIPURA",
    "UTTAR PRADESH",
    "UTTARAKHAND",
    "WEST BENGAL",
];

/// Transactions must be reported this soon after they happen.
pub const REPORTING_WINDOW_MS: i64 = DAY_MS;
/// How far in the future a reported time may be (clock skew).
const SKEW_MS: i64 = 60_000;

/// Every external transaction reported to the sandbox, and the tokens it issued.
#[derive(Debug, Default)]
pub struct ExternalTransactions {
    /// Per package, in the order they were reported.
    apps: HashMap<String, Vec<Stored>>,
    /// Tokens issued by the control API: token → (package, test purchase).
    tokens: HashMap<String, (String, bool)>,
}

impl ExternalTransactions {
    fn find(&self, package: &str, id: &str) -> Option<&Stored> {
        self.apps.get(package)?.iter().find(|s| s.id == id)
    }
    fn find_mut(&mut self, package: &str, id: &str) -> Option<&mut Stored> {
        self.apps.get_mut(package)?.iter_mut().find(|s| s.id == id)
    }
}

/// One reported transaction: Google's answer for it, and the refunds made against it.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    tx: ExternalTransaction,
    currency: String,
    pre_tax_micros: i64,
    tax_micros: i64,
    transaction_ms: i64,
    /// Pre-tax micros refunded so far.
    refunded_micros: i64,
    refunds: Vec<RefundRecord>,
    /// The first transaction of a recurring series (its initial id is its own).
    series_initial: bool,
}

/// A refund, as the control API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RefundRecord {
    /// Set for partial refunds.
    pub refund_id: Option<String>,
    pub full: bool,
    pub refund_time: String,
    pub reported_time: String,
    pub pre_tax_micros: i64,
    pub tax_micros: i64,
}

/// The external-transaction routes, under `/androidpublisher/v3/applications/{packageName}/`.
pub fn routes() -> Router<Shared> {
    let base = "/androidpublisher/v3/applications/{packageName}/externalTransactions";
    Router::new()
        .route(base, post(create))
        .route(&format!("{base}/{{segment}}"), get(get_one).post(refund))
}

/// The control routes, under `/sandbox/v1/apps/{package}/`.
pub fn control_routes() -> Router<Shared> {
    Router::new()
        .route(
            "/sandbox/v1/apps/{package}/external-transactions",
            get(control_list),
        )
        .route(
            "/sandbox/v1/apps/{package}/external-transaction-tokens",
            post(control_issue_token),
        )
}

fn invalid(message: impl Into<String>) -> GoogleApiError {
    GoogleApiError::invalid("invalid", message)
}

fn required(field: &str) -> GoogleApiError {
    GoogleApiError::invalid("required", format!("{field} is required."))
}

/// Parses a JSON body into `T`, refusing fields `T` does not know, as Google's JSON front
/// end does (`Unknown name "x"`).
fn parse_strict<T: DeserializeOwned + Serialize>(raw: &[u8], what: &str) -> ApiResult<T> {
    let text = if raw.iter().all(u8::is_ascii_whitespace) {
        &b"{}"[..]
    } else {
        raw
    };
    let value: Value = serde_json::from_slice(text)
        .map_err(|e| invalid(format!("Invalid JSON payload received. {e}")))?;
    let typed: T = serde_json::from_value(value.clone())
        .map_err(|e| invalid(format!("Invalid JSON payload received at '{what}': {e}")))?;
    let known = serde_json::to_value(&typed).unwrap_or(Value::Null);
    if let Some(path) = unknown_field(&value, &known, what) {
        return Err(invalid(format!(
            "Invalid JSON payload received. Unknown name {path}: Cannot find field."
        )));
    }
    Ok(typed)
}

/// The first member of `input` that the typed round trip `known` lost (nulls are unset).
fn unknown_field(input: &Value, known: &Value, at: &str) -> Option<String> {
    let (Value::Object(i), Value::Object(k)) = (input, known) else {
        return None;
    };
    for (name, v) in i {
        if v.is_null() {
            continue;
        }
        match k.get(name) {
            None => return Some(format!("\"{name}\" at '{at}'")),
            Some(kv) => {
                if let Some(p) = unknown_field(v, kv, &format!("{at}.{name}")) {
                    return Some(p);
                }
            }
        }
    }
    None
}

fn valid_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A `google-datetime` that is reported in time: not in the future, at most 24 h old.
fn reported_time(field: &str, value: Option<&String>, now: i64) -> ApiResult<i64> {
    let s = value.ok_or_else(|| required(field))?;
    let t = parse_time(field, s).map_err(|_| {
        invalid(format!(
            "{field} must be an RFC 3339 timestamp such as 2026-10-01T12:00:00Z, got {s:?}."
        ))
    })?;
    if t > now + SKEW_MS {
        return Err(invalid(format!(
            "{field} {s} is in the future (now is {}).",
            format_time(now)
        )));
    }
    if t < now - REPORTING_WINDOW_MS {
        return Err(invalid(format!(
            "{field} {s} is more than 24 hours ago (now is {}): transactions must be reported within 24 hours.",
            format_time(now)
        )));
    }
    Ok(t)
}

/// `(micros, currency)` of a required `Price`.
fn price(field: &str, p: Option<&Price>) -> ApiResult<(i64, String)> {
    let p = p.ok_or_else(|| required(field))?;
    let currency = p
        .currency
        .as_deref()
        .ok_or_else(|| required(&format!("{field}.currency")))?;
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "{field}.currency must be an ISO 4217 code such as EUR, got {currency:?}."
        )));
    }
    let micros = p
        .price_micros
        .as_deref()
        .ok_or_else(|| required(&format!("{field}.priceMicros")))?;
    let micros: i64 = micros.trim().parse().map_err(|_| {
        invalid(format!(
            "{field}.priceMicros must be a whole number of micros, got {micros:?}."
        ))
    })?;
    if micros < 0 {
        return Err(invalid(format!(
            "{field}.priceMicros must not be negative."
        )));
    }
    Ok((micros, currency.to_owned()))
}

fn one_of(field: &str, value: Option<&String>, allowed: &[&str]) -> ApiResult<()> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(invalid(format!(
            "{field} must be one of {allowed:?}, got {v:?}."
        ))),
        _ => Ok(()),
    }
}

/// What a valid create request makes: the transaction as Google answers it.
fn validate_new(
    world: &World,
    package: &str,
    id: &str,
    mut t: ExternalTransaction,
) -> ApiResult<Stored> {
    let now = world.now();
    let store = &world.external;
    let transaction_ms = reported_time("transactionTime", t.transaction_time.as_ref(), now)?;

    let address = t
        .user_tax_address
        .as_ref()
        .ok_or_else(|| required("userTaxAddress"))?;
    let region = address
        .region_code
        .as_deref()
        .ok_or_else(|| required("userTaxAddress.regionCode"))?;
    if region.len() != 2 || !region.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(format!(
            "userTaxAddress.regionCode must be an ISO 3166-1 alpha-2 code such as KR, got {region:?}."
        )));
    }
    if !ELIGIBLE_REGIONS.contains(&region) {
        return Err(invalid(format!(
            "Region {region} is not eligible for external transactions."
        )));
    }
    if region == "IN" {
        let area = address
            .administrative_area
            .as_deref()
            .ok_or_else(|| required("userTaxAddress.administrativeArea (for India)"))?;
        if !INDIA_AREAS.contains(&area) {
            return Err(invalid(format!(
                "userTaxAddress.administrativeArea {area:?} is not a state or union territory of India."
            )));
        }
    }

    let (pre_tax_micros, currency) =
        price("originalPreTaxAmount", t.original_pre_tax_amount.as_ref())?;
    let (tax_micros, tax_currency) = price("originalTaxAmount", t.original_tax_amount.as_ref())?;
    if tax_currency != currency {
        return Err(invalid(format!(
            "originalTaxAmount is in {tax_currency} but originalPreTaxAmount is in {currency}: use one currency."
        )));
    }

    if let Some(o) = &t.external_offer_details {
        if t.transaction_program_code.is_some() {
            return Err(invalid(
                "transactionProgramCode cannot be used for external offers transactions.",
            ));
        }
        one_of(
            "externalOfferDetails.linkType",
            o.link_type.as_ref(),
            &[
                link_type::LINK_TO_DIGITAL_CONTENT_OFFER,
                link_type::LINK_TO_APP_DOWNLOAD,
            ],
        )?;
        one_of(
            "externalOfferDetails.installedAppCategory",
            o.installed_app_category.as_ref(),
            &[app_category::APP, app_category::GAME],
        )?;
        if o.link_type.as_deref() == Some(link_type::LINK_TO_APP_DOWNLOAD)
            && o.installed_app_package.as_deref().is_none_or(str::is_empty)
        {
            return Err(required("externalOfferDetails.installedAppPackage"));
        }
    }
    if let Some(c) = &t.external_content_link_details {
        let link = c
            .link_type
            .as_ref()
            .ok_or_else(|| required("externalContentLinkDetails.linkType"))?;
        one_of(
            "externalContentLinkDetails.linkType",
            Some(link),
            &[
                link_type::LINK_TO_DIGITAL_CONTENT_OFFER,
                link_type::LINK_TO_APP_DOWNLOAD,
            ],
        )?;
        one_of(
            "externalContentLinkDetails.externalAppCategory",
            c.external_app_category.as_ref(),
            &[app_category::APP, app_category::GAME],
        )?;
    }

    let token_test = |token: &str| {
        store
            .tokens
            .get(token)
            .is_some_and(|(p, test)| p == package && *test)
    };
    let (test, series_initial) = match (&mut t.one_time_transaction, &mut t.recurring_transaction) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(invalid(
                "Exactly one of oneTimeTransaction and recurringTransaction must be set.",
            ));
        }
        (Some(o), None) => {
            let token = o
                .external_transaction_token
                .take()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| required("oneTimeTransaction.externalTransactionToken"))?;
            (token_test(&token), false)
        }
        (None, Some(r)) => {
            let initial = r
                .initial_external_transaction_id
                .clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| required("recurringTransaction.initialExternalTransactionId"))?;
            match (&r.external_subscription, &r.other_recurring_product) {
                (Some(s), None) => {
                    let ty = s
                        .subscription_type
                        .as_ref()
                        .ok_or_else(|| required("externalSubscription.subscriptionType"))?;
                    one_of(
                        "externalSubscription.subscriptionType",
                        Some(ty),
                        &[subscription_type::RECURRING, subscription_type::PREPAID],
                    )?;
                }
                (None, Some(_)) => {}
                _ => {
                    return Err(invalid(
                        "Exactly one of recurringTransaction.externalSubscription and recurringTransaction.otherRecurringProduct must be set.",
                    ));
                }
            }
            let migrated = r.migrated_transaction_program.take();
            one_of(
                "recurringTransaction.migratedTransactionProgram",
                migrated.as_ref(),
                &[
                    transaction_program::USER_CHOICE_BILLING,
                    transaction_program::ALTERNATIVE_BILLING_ONLY,
                ],
            )?;
            let token = r
                .external_transaction_token
                .take()
                .filter(|s| !s.is_empty());
            if initial == id {
                // The first transaction of a series.
                match token {
                    Some(token) => (token_test(&token), true),
                    None if migrated.is_some() => (false, true),
                    None => {
                        return Err(required(
                            "recurringTransaction.externalTransactionToken (for the initial transaction of a series)",
                        ));
                    }
                }
            } else {
                if token.is_some() {
                    return Err(invalid(
                        "recurringTransaction.externalTransactionToken is only sent with the initial transaction of a series; renewals name it in initialExternalTransactionId.",
                    ));
                }
                let first = store.find(package, &initial).ok_or_else(|| {
                    invalid(format!(
                        "initialExternalTransactionId {initial:?} is not a transaction of {package}."
                    ))
                })?;
                if !first.series_initial {
                    return Err(invalid(format!(
                        "initialExternalTransactionId {initial:?} is not the initial transaction of a recurring series."
                    )));
                }
                (first.tx.test_purchase.is_some(), false)
            }
        }
    };

    let create_time = format_time(now);
    t.create_time = Some(create_time);
    t.package_name = Some(package.to_owned());
    t.external_transaction_id = Some(id.to_owned());
    t.transaction_time = Some(format_time(transaction_ms));
    t.original_pre_tax_amount = Some(Price::new(pre_tax_micros, &currency));
    t.original_tax_amount = Some(Price::new(tax_micros, &currency));
    t.current_pre_tax_amount = Some(Price::new(pre_tax_micros, &currency));
    t.current_tax_amount = Some(Price::new(tax_micros, &currency));
    t.transaction_state = Some(transaction_state::REPORTED.into());
    t.test_purchase = test.then_some(Empty {});
    Ok(Stored {
        id: id.to_owned(),
        tx: t,
        currency,
        pre_tax_micros,
        tax_micros,
        transaction_ms,
        refunded_micros: 0,
        refunds: Vec::new(),
        series_initial,
    })
}

/// `androidpublisher.externaltransactions.createexternaltransaction`
pub async fn create(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(package): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<Json<ExternalTransaction>> {
    let mut world = crate::play::open(&shared, &headers, &package, Bucket::ExternalTransactions)?;
    let id = q
        .get("externalTransactionId")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required("externalTransactionId"))?;
    if !valid_id(id) {
        return Err(invalid(format!(
            "externalTransactionId must be 1-63 characters of a-z, A-Z, 0-9, _ and -, got {id:?}."
        )));
    }
    let t: ExternalTransaction = parse_strict(&body, "external_transaction")?;
    let stored = validate_new(&world, &package, id, t)?;
    if world.external.find(&package, id).is_some() {
        return Err(GoogleApiError::new(
            StatusCode::CONFLICT,
            "alreadyExists",
            format!("An external transaction with id {id} already exists for {package}."),
        ));
    }
    let answer = stored.tx.clone();
    world.external.apps.entry(package).or_default().push(stored);
    Ok(Json(answer))
}

fn not_found(package: &str, id: &str) -> GoogleApiError {
    GoogleApiError::not_found(format!(
        "External transaction {id} of {package} was not found."
    ))
}

/// `androidpublisher.externaltransactions.getexternaltransaction`
pub async fn get_one(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, segment)): Path<(String, String)>,
) -> ApiResult<Json<ExternalTransaction>> {
    if segment.contains(':') {
        return Err(GoogleApiError::not_found("Method not found."));
    }
    let world = crate::play::open(&shared, &headers, &package, Bucket::ExternalTransactions)?;
    world
        .external
        .find(&package, &segment)
        .map(|s| Json(s.tx.clone()))
        .ok_or_else(|| not_found(&package, &segment))
}

/// `androidpublisher.externaltransactions.refundexternaltransaction` (`{id}:refund`).
pub async fn refund(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((package, segment)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<ExternalTransaction>> {
    let id = match segment.rsplit_once(':') {
        Some((id, "refund")) => id.to_owned(),
        _ => {
            return Err(GoogleApiError::not_found(
                "Method not found: expected {externalTransactionId}:refund.",
            ));
        }
    };
    let mut world = crate::play::open(&shared, &headers, &package, Bucket::ExternalTransactions)?;
    let req: RefundExternalTransactionRequest =
        parse_strict(&body, "refund_external_transaction_request")?;
    let now = world.now();
    let s = world
        .external
        .find_mut(&package, &id)
        .ok_or_else(|| not_found(&package, &id))?;
    let refund_ms = reported_time("refundTime", req.refund_time.as_ref(), now)?;
    if refund_ms < s.transaction_ms {
        return Err(invalid(format!(
            "refundTime is before the transaction's transactionTime {}.",
            format_time(s.transaction_ms)
        )));
    }
    if s.tx.transaction_state.as_deref() == Some(transaction_state::CANCELED) {
        return Err(invalid(format!(
            "External transaction {id} has already been fully refunded."
        )));
    }
    let remaining = s.pre_tax_micros - s.refunded_micros;
    let record = match (&req.full_refund, &req.partial_refund) {
        (Some(_), None) => RefundRecord {
            refund_id: None,
            full: true,
            refund_time: format_time(refund_ms),
            reported_time: format_time(now),
            pre_tax_micros: remaining,
            tax_micros: s.tax_micros - tax_share(s, s.refunded_micros),
        },
        (None, Some(p)) => {
            let refund_id = p
                .refund_id
                .clone()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| required("partialRefund.refundId"))?;
            if s.refunds
                .iter()
                .any(|r| r.refund_id.as_deref() == Some(refund_id.as_str()))
            {
                return Err(invalid(format!(
                    "A refund with refundId {refund_id} was already made for external transaction {id}."
                )));
            }
            let (micros, currency) = price(
                "partialRefund.refundPreTaxAmount",
                p.refund_pre_tax_amount.as_ref(),
            )?;
            if currency != s.currency {
                return Err(invalid(format!(
                    "partialRefund.refundPreTaxAmount is in {currency} but the transaction is in {}.",
                    s.currency
                )));
            }
            if micros == 0 || micros >= remaining {
                return Err(invalid(format!(
                    "partialRefund.refundPreTaxAmount must be above 0 and below the remaining pre-tax amount ({remaining} micros); use fullRefund to refund all of it."
                )));
            }
            RefundRecord {
                refund_id: Some(refund_id),
                full: false,
                refund_time: format_time(refund_ms),
                reported_time: format_time(now),
                pre_tax_micros: micros,
                tax_micros: tax_share(s, s.refunded_micros + micros)
                    - tax_share(s, s.refunded_micros),
            }
        }
        _ => {
            return Err(invalid(
                "Exactly one of fullRefund and partialRefund must be set.",
            ));
        }
    };
    s.refunded_micros += record.pre_tax_micros;
    let current_tax = s.tax_micros - tax_share(s, s.refunded_micros);
    let full = record.full;
    s.refunds.push(record);
    s.tx.current_pre_tax_amount = Some(Price::new(
        s.pre_tax_micros - s.refunded_micros,
        &s.currency,
    ));
    s.tx.current_tax_amount = Some(Price::new(if full { 0 } else { current_tax }, &s.currency));
    if full {
        s.tx.transaction_state = Some(transaction_state::CANCELED.into());
    }
    Ok(Json(s.tx.clone()))
}

/// The tax refunded along with the first `refunded` pre-tax micros (proportional, rounded
/// down to the micro; all of it once everything is refunded).
fn tax_share(s: &Stored, refunded: i64) -> i64 {
    if refunded <= 0 {
        0
    } else if refunded >= s.pre_tax_micros {
        s.tax_micros
    } else {
        (i128::from(s.tax_micros) * i128::from(refunded) / i128::from(s.pre_tax_micros)) as i64
    }
}

/// `GET /sandbox/v1/apps/{package}/external-transactions`: every transaction reported for
/// the app, oldest first, with its refunds.
pub async fn control_list(
    State(shared): State<Shared>,
    Path(package): Path<String>,
) -> Json<Value> {
    let world = shared.lock();
    let list: Vec<Value> = world
        .external
        .apps
        .get(&package)
        .map(|v| {
            v.iter()
                .map(|s| json!({"transaction": s.tx, "refunds": s.refunds}))
                .collect()
        })
        .unwrap_or_default();
    Json(json!({ "external_transactions": list }))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    test_purchase: bool,
}

/// `POST /sandbox/v1/apps/{package}/external-transaction-tokens` with an optional
/// `{"test_purchase": true}`: a token as the app would get from the Play Billing Library.
pub async fn control_issue_token(
    State(shared): State<Shared>,
    Path(package): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let b: NewToken = if body.iter().all(u8::is_ascii_whitespace) {
        NewToken::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| invalid(format!("invalid JSON body: {e}")))?
    };
    let token = random_token("ext.", 64);
    shared
        .lock()
        .external
        .tokens
        .insert(token.clone(), (package.clone(), b.test_purchase));
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "package_name": package,
            "external_transaction_token": token,
            "test_purchase": b.test_purchase,
        })),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("a"));
        assert!(valid_id("order_2026-10-01_ABC"));
        assert!(valid_id(&"x".repeat(63)));
        assert!(!valid_id(&"x".repeat(64)));
        assert!(!valid_id(""));
        assert!(!valid_id("a.b"));
        assert!(!valid_id("user@example.com"));
    }

    #[test]
    fn unknown_fields_are_found_at_any_depth() {
        let t: ExternalTransaction = parse_strict(
            br#"{"userTaxAddress":{"regionCode":"KR"},"testPurchase":{},"packageName":null}"#,
            "external_transaction",
        )
        .unwrap();
        assert_eq!(t.test_purchase, Some(Empty {}));
        let e = parse_strict::<ExternalTransaction>(
            br#"{"userTaxAddress":{"regionCode":"KR","city":"Seoul"}}"#,
            "external_transaction",
        )
        .unwrap_err();
        assert!(e.message.contains("\"city\""), "{}", e.message);
        assert!(
            parse_strict::<ExternalTransaction>(br#"{"oneTimeTransaction":"x"}"#, "t").is_err()
        );
        assert!(parse_strict::<ExternalTransaction>(b"{", "t").is_err());
    }

    #[test]
    fn tax_goes_down_in_proportion() {
        let s = Stored {
            id: "t".into(),
            tx: ExternalTransaction::default(),
            currency: "EUR".into(),
            pre_tax_micros: 9_990_000,
            tax_micros: 1_900_000,
            transaction_ms: 0,
            refunded_micros: 0,
            refunds: Vec::new(),
            series_initial: false,
        };
        assert_eq!(tax_share(&s, 0), 0);
        assert_eq!(tax_share(&s, 4_995_000), 950_000);
        assert_eq!(tax_share(&s, 9_990_000), 1_900_000);
    }
}
