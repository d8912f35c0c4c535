//! External (alternative-billing) transactions, reference section 12: the app reports a
//! transaction or a refund; playbill checks what Google's rules allow, stores it with its
//! report in one transaction (answering 202), and delivers the report to Google from a
//! durable outbox — at once, and again with backoff after a failure or a restart, until
//! Google takes it or its 24 hours pass (then it is failed, logged at error level and
//! counted). Reports of one series reach Google in order.

use playbill_google::GoogleError;
use playbill_google::external::{
    ExternalSubscription, ExternalTransaction, ExternalTransactionAddress,
    OneTimeExternalTransaction, PartialRefund, Price, RecurringExternalTransaction,
    RefundExternalTransactionRequest,
};
use playbill_google::observe::{format_time, parse_time};
use playbill_google::wire::Empty;
use playbill_store::external::{NewExternal, NewExternalRefund, OutboxItem, RefundRefused};
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::{App, AppState};

/// Google takes a transaction, and a refund, only within 24 hours of it.
pub const REPORT_WINDOW_MS: i64 = 24 * 3_600_000;
/// Clock skew tolerated for times a little ahead of ours.
const SKEW_MS: i64 = 60_000;
/// How long one delivery may hold its report: longer than any attempt with the client's
/// retries, so that two instances never send one report at once. (A report whose instance
/// died mid-delivery waits this long, well inside its 24 hours.)
const CLAIM_MS: i64 = 10 * 60_000;
/// The refund id of a transaction's full refund.
pub const FULL_REFUND_ID: &str = "full";

/// `POST /v1/apps/{package}/external-transactions`.
#[derive(Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TransactionBody {
    pub external_transaction_id: String,
    /// `one_time` or `recurring`.
    #[serde(rename = "type")]
    pub kind: String,
    /// From the Play Billing Library; required for a one-time transaction and the first of a
    /// recurring series, absent on renewals.
    #[serde(default)]
    pub external_transaction_token: Option<String>,
    /// A renewal names its series' first transaction (default: itself, a new series).
    #[serde(default)]
    pub initial_external_transaction_id: Option<String>,
    /// `RECURRING` (default) or `PREPAID`, for recurring transactions.
    #[serde(default)]
    pub subscription_type: Option<String>,
    /// RFC 3339; default now. Within the last 24 hours.
    #[serde(default)]
    pub transaction_time: Option<String>,
    pub currency: String,
    pub pre_tax_amount_micros: i64,
    pub tax_amount_micros: i64,
    pub region_code: String,
    #[serde(default)]
    pub administrative_area: Option<String>,
}

/// `POST …/external-transactions/{id}:refund`: full without `pre_tax_amount_micros`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    #[serde(default)]
    pub refund_id: Option<String>,
    #[serde(default)]
    pub pre_tax_amount_micros: Option<i64>,
    #[serde(default)]
    pub refund_time: Option<String>,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::BadRequest(msg.into())
}

/// Google's id rule: 1 to 63 of `[a-zA-Z0-9_-]`.
fn check_id(field: &str, id: &str) -> Result<(), ApiError> {
    let ok = (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "{field}: must be 1 to 63 letters, digits, - or _"
        )))
    }
}

/// A time the report window allows: not ahead of now (beyond skew), not over 24 hours old.
fn reportable_time(field: &str, given: Option<&str>, now: i64) -> Result<i64, ApiError> {
    let Some(given) = given else { return Ok(now) };
    let t = parse_time(field, given).map_err(|e| bad(e.to_string()))?;
    if t > now + SKEW_MS {
        return Err(bad(format!("{field}: is in the future")));
    }
    if t < now - REPORT_WINDOW_MS {
        return Err(bad(format!(
            "{field}: is more than 24 hours ago; Google takes reports only within 24 hours"
        )));
    }
    Ok(t)
}

/// Checks a transaction, stores it with its report, and starts delivering it. `Ok(false)`:
/// the same transaction was accepted before (a repeat).
pub async fn accept(state: &AppState, app: &App, body: &TransactionBody) -> Result<bool, ApiError> {
    let package = app.package.as_str();
    let now = state.clock.now_ms();
    let id = body.external_transaction_id.as_str();
    check_id("external_transaction_id", id)?;
    let request = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(existing) = state.store.find_external(package, id).await? {
        return if existing.request == request {
            Ok(false)
        } else {
            Err(ApiError::Conflict(format!(
                "external_transaction_id {id} was already reported with other details"
            )))
        };
    }
    if !crate::is_code(&body.currency, 3) {
        return Err(bad("currency: an ISO 4217 code such as USD"));
    }
    if !crate::is_code(&body.region_code, 2) {
        return Err(bad("region_code: an ISO 3166-1 alpha-2 code such as US"));
    }
    if body.pre_tax_amount_micros < 0 || body.tax_amount_micros < 0 {
        return Err(bad(
            "pre_tax_amount_micros and tax_amount_micros: must not be negative",
        ));
    }
    let time = reportable_time("transaction_time", body.transaction_time.as_deref(), now)?;
    let token = body.external_transaction_token.clone();
    let (series, one_time, recurring) = match body.kind.as_str() {
        "one_time" => {
            if body.initial_external_transaction_id.is_some() || body.subscription_type.is_some() {
                return Err(bad(
                    "initial_external_transaction_id and subscription_type: only for recurring transactions",
                ));
            }
            if token.is_none() {
                return Err(bad(
                    "external_transaction_token: required for a one-time transaction",
                ));
            }
            let one = OneTimeExternalTransaction {
                external_transaction_token: token,
            };
            (id.to_owned(), Some(one), None)
        }
        "recurring" => {
            let initial = body
                .initial_external_transaction_id
                .as_deref()
                .unwrap_or(id);
            check_id("initial_external_transaction_id", initial)?;
            let first = initial == id;
            match (first, token.is_some()) {
                (true, false) => {
                    return Err(bad(
                        "external_transaction_token: required for the first transaction of a series",
                    ));
                }
                (false, true) => {
                    return Err(bad(
                        "external_transaction_token: a renewal carries none (it names initial_external_transaction_id)",
                    ));
                }
                _ => {}
            }
            if !first {
                match state.store.find_external(package, initial).await? {
                    Some(s) if s.kind == "recurring" && s.series_id == initial => {}
                    _ => {
                        return Err(bad(format!(
                            "initial_external_transaction_id: {initial} is not the first transaction of a recurring series reported here"
                        )));
                    }
                }
            }
            let kind = body.subscription_type.as_deref().unwrap_or("RECURRING");
            if !matches!(kind, "RECURRING" | "PREPAID") {
                return Err(bad("subscription_type: must be RECURRING or PREPAID"));
            }
            let rec = RecurringExternalTransaction {
                external_subscription: Some(ExternalSubscription {
                    subscription_type: Some(kind.to_owned()),
                }),
                external_transaction_token: token,
                initial_external_transaction_id: Some(initial.to_owned()),
                ..RecurringExternalTransaction::default()
            };
            (initial.to_owned(), None, Some(rec))
        }
        other => {
            return Err(bad(format!(
                "type: must be \"one_time\" or \"recurring\", not {other:?}"
            )));
        }
    };
    let google = ExternalTransaction {
        original_pre_tax_amount: Some(Price::new(body.pre_tax_amount_micros, &body.currency)),
        original_tax_amount: Some(Price::new(body.tax_amount_micros, &body.currency)),
        one_time_transaction: one_time,
        recurring_transaction: recurring,
        transaction_time: Some(format_time(time)),
        user_tax_address: Some(ExternalTransactionAddress {
            region_code: Some(body.region_code.clone()),
            administrative_area: body.administrative_area.clone(),
        }),
        ..ExternalTransaction::default()
    };
    let google_body =
        serde_json::to_string(&google).map_err(|e| ApiError::Internal(e.to_string()))?;
    let accepted = state
        .store
        .accept_external(&NewExternal {
            package,
            transaction_id: id,
            kind: &body.kind,
            series_id: &series,
            currency: &body.currency,
            pre_tax_micros: body.pre_tax_amount_micros,
            tax_micros: body.tax_amount_micros,
            transaction_time: time,
            request: &request,
            google_body: &google_body,
            deadline: time + REPORT_WINDOW_MS,
            now,
        })
        .await;
    match accepted {
        Ok(()) => {}
        // A concurrent request with the same id came first.
        Err(playbill_store::StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict(format!(
                "external_transaction_id {id} was already reported"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    kick(state);
    Ok(true)
}

/// Checks a refund against the stored transaction, stores it with its report, and starts
/// delivering it.
pub async fn refund(
    state: &AppState,
    app: &App,
    transaction_id: &str,
    body: &RefundBody,
) -> Result<(), ApiError> {
    let package = app.package.as_str();
    let now = state.clock.now_ms();
    let time = reportable_time("refund_time", body.refund_time.as_deref(), now)?;
    let Some(stored) = state.store.find_external(package, transaction_id).await? else {
        return Err(ApiError::NotFound(format!(
            "no external transaction {transaction_id} is reported here"
        )));
    };
    if time < stored.transaction_time {
        return Err(bad("refund_time: is before the transaction"));
    }
    let (refund_id, google) = match body.pre_tax_amount_micros {
        None => {
            if body.refund_id.is_some() {
                return Err(bad(
                    "refund_id: only for a partial refund (with pre_tax_amount_micros)",
                ));
            }
            let google = RefundExternalTransactionRequest {
                full_refund: Some(Empty {}),
                refund_time: Some(format_time(time)),
                ..RefundExternalTransactionRequest::default()
            };
            (FULL_REFUND_ID.to_owned(), google)
        }
        Some(amount) => {
            let refund_id = body
                .refund_id
                .clone()
                .ok_or_else(|| bad("refund_id: required for a partial refund"))?;
            check_id("refund_id", &refund_id)?;
            if refund_id == FULL_REFUND_ID {
                return Err(bad(
                    "refund_id: \"full\" names the full refund; choose another",
                ));
            }
            if amount <= 0 {
                return Err(bad("pre_tax_amount_micros: must be above zero"));
            }
            let google = RefundExternalTransactionRequest {
                partial_refund: Some(PartialRefund {
                    refund_id: Some(refund_id.clone()),
                    refund_pre_tax_amount: Some(Price::new(amount, &stored.currency)),
                }),
                refund_time: Some(format_time(time)),
                ..RefundExternalTransactionRequest::default()
            };
            (refund_id, google)
        }
    };
    let google_body =
        serde_json::to_string(&google).map_err(|e| ApiError::Internal(e.to_string()))?;
    let outcome = state
        .store
        .refund_external(&NewExternalRefund {
            package,
            transaction_id,
            refund_id: &refund_id,
            pre_tax_micros: body.pre_tax_amount_micros,
            refund_time: time,
            google_body: &google_body,
            deadline: time + REPORT_WINDOW_MS,
            now,
        })
        .await?;
    match outcome {
        Ok(()) => {
            kick(state);
            Ok(())
        }
        Err(RefundRefused::NoSuchTransaction) => Err(ApiError::NotFound(format!(
            "no external transaction {transaction_id} is reported here"
        ))),
        Err(RefundRefused::Canceled) => Err(ApiError::Conflict(format!(
            "external transaction {transaction_id} is fully refunded: nothing remains to refund"
        ))),
        Err(RefundRefused::AboveRemaining { remaining }) => Err(bad(format!(
            "pre_tax_amount_micros: a partial refund must be below the remaining {remaining} (refund it fully instead)"
        ))),
        Err(RefundRefused::RefundIdUsed) => Err(ApiError::Conflict(format!(
            "refund_id {refund_id} was already used for this transaction"
        ))),
    }
}

/// Delivers what is due now, in the background.
fn kick(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move { deliver_due(&state).await });
}

/// Delivers every report that is due (the outbox job, and after each acceptance).
pub async fn deliver_due(state: &AppState) {
    loop {
        let now = state.clock.now_ms();
        let due = match state.store.due_reports(now, 50).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the external-transaction outbox");
                return;
            }
        };
        if due.is_empty() {
            return;
        }
        let mut progressed = false;
        for item in due {
            match state
                .store
                .claim_report(&item.outbox_id, now + CLAIM_MS, now)
                .await
            {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim an external-transaction report");
                    return;
                }
            }
            progressed |= deliver(state, &item).await;
        }
        if !progressed {
            return;
        }
    }
}

/// One attempt at one report; whether it left the outbox (delivered or failed for good).
async fn deliver(state: &AppState, item: &OutboxItem) -> bool {
    let Some(app) = state.apps.get(&item.package) else {
        tracing::warn!(package = %item.package, "an external-transaction report of an app no longer served waits");
        let _ = state
            .store
            .record_report(
                &item.outbox_id,
                "pending",
                Some("app not served"),
                state.clock.now_ms() + 60_000,
                state.clock.now_ms(),
            )
            .await;
        return false;
    };
    let result = match item.action.as_str() {
        "create" => match serde_json::from_str::<ExternalTransaction>(&item.body) {
            Ok(body) => {
                app.play
                    .create_external_transaction(&item.package, &item.transaction_id, &body)
                    .await
            }
            Err(e) => Err(GoogleError::Decode(e.to_string())),
        },
        _ => match serde_json::from_str::<RefundExternalTransactionRequest>(&item.body) {
            Ok(body) => {
                app.play
                    .refund_external_transaction(&item.package, &item.transaction_id, &body)
                    .await
            }
            Err(e) => Err(GoogleError::Decode(e.to_string())),
        },
    };
    let now = state.clock.now_ms();
    let (outcome, error, next) = match result {
        Ok(()) => ("delivered", None, now),
        // Google has it already (an earlier attempt's answer was lost).
        Err(GoogleError::Conflict { .. }) if item.action == "create" => ("delivered", None, now),
        Err(e) if e.is_retryable() && now < item.deadline => {
            let backoff = 1_000i64 << item.attempts.clamp(0, 8);
            let wait = e
                .retry_after()
                .map_or(backoff, |d| i64::try_from(d.as_millis()).unwrap_or(backoff));
            tracing::warn!(error = %e, action = %item.action, attempts = item.attempts + 1,
                "an external-transaction report failed; it will be retried");
            ("pending", Some(e.to_string()), now + wait.min(300_000))
        }
        Err(e) => {
            tracing::error!(error = %e, action = %item.action, transaction = %item.transaction_id,
                "Google did not take an external-transaction report; an operator must look");
            crate::metrics::Metrics::add(&state.metrics.external_reports_failed);
            ("failed", Some(e.to_string()), now)
        }
    };
    if let Err(e) = state
        .store
        .record_report(&item.outbox_id, outcome, error.as_deref(), next, now)
        .await
    {
        // The claim lapses and the report is tried again: Google answers a repeated create
        // with a conflict, which counts as delivered.
        tracing::warn!(error = %e, "cannot record an external-transaction report");
        return false;
    }
    outcome != "pending"
}
