//! The verification flow: ask Google, decide (pure, in core), commit, then pay what we owe
//! Google (acknowledge / consume) and record the result. The order matters: the grant is
//! durable before we acknowledge, so a crash never leaves an acknowledged purchase ungranted.
//! An acknowledgement failure is never swallowed: it is logged at error level, recorded as
//! an event, and the purchase stays `acknowledged = false` at Google and in the store, so a
//! later verification (and the sweeper of a later issue) retries it well inside 3 days.

use playbill_core::verify::{self, Action, Decision, Outcome, VerifyRequest};
use playbill_core::{Holding, Observation, ProductKind, PurchaseRecord, UserId};
use playbill_google::GoogleError;
use playbill_google::observe::{observe_product, observe_subscription};
use playbill_store::notifications::InboxMessage;
use playbill_store::purchases::{SavePurchase, Settlement};
use playbill_store::{EventKind, NewEvent, StoreError};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::settle;
use crate::state::{App, AppState};

/// A committed verification.
pub struct Verified {
    pub decision: Decision,
    /// The notification the save answered was recorded as processed with it.
    pub message_recorded: bool,
}

impl Verified {
    pub fn outcome(&self) -> Outcome {
        self.decision.outcome
    }
}

fn event(state: &AppState, req: &VerifyRequest, kind: EventKind, detail: Value) -> NewEvent {
    NewEvent {
        kind,
        package: req.package.to_string(),
        token: req.token.as_str().to_owned(),
        user_id: Some(req.user_id.to_string()),
        detail,
        at: state.clock.now_ms(),
    }
}

/// Records a refused verification: an event and nothing else.
async fn refuse(state: &AppState, req: &VerifyRequest, err: ApiError) -> ApiError {
    let detail = json!({"status": err.status().as_u16(), "reason": err.to_string()});
    if let Err(e) = state
        .store
        .append_event(&event(state, req, EventKind::VerificationFailed, detail))
        .await
    {
        tracing::warn!(error = %e, "could not record a failed verification");
    }
    err
}

/// Reads the purchase from Google: the observation and Google's raw answer.
pub(crate) async fn observe(
    app: &App,
    package: &str,
    token: &str,
    kind: ProductKind,
) -> Result<(Observation, Value), GoogleError> {
    match kind {
        ProductKind::OneTime => {
            let got = app.play.get_product_v2(package, token).await?;
            Ok((observe_product(&got.value)?, got.raw))
        }
        ProductKind::Subscription => {
            let got = app.play.get_subscription_v2(package, token).await?;
            Ok((observe_subscription(&got.value)?, got.raw))
        }
    }
}

#[tracing::instrument(skip_all, fields(package = %req.package, token = %req.token, kind = req.kind.as_str()))]
pub async fn verify(state: &AppState, app: &App, req: VerifyRequest) -> Result<Verified, ApiError> {
    let observed_at = state.clock.now_ms();
    let (seen, raw) = match observe(app, req.package.as_str(), req.token.as_str(), req.kind).await {
        Ok(x) => x,
        Err(e) => return Err(refuse(state, &req, e.into()).await),
    };
    commit(
        state,
        app,
        req,
        Fresh {
            seen,
            raw,
            observed_at,
            stored: None,
        },
        false,
        EventKind::Verified,
        None,
    )
    .await
}

/// A read of the purchase from Google, begun at `observed_at`.
pub(crate) struct Fresh {
    pub seen: Observation,
    pub raw: Value,
    pub observed_at: i64,
    /// The stored row as the caller read it after Google's answer (`Some(None)`: none is
    /// stored), which spares the first attempt a read; `None`: not read yet.
    pub stored: Option<Option<PurchaseRecord>>,
}

/// Decides on Google's fresh answer for the request's user, commits it, then settles what
/// we owe Google. `superseded`: a newer token replaced this one, which then grants nothing.
/// `kind`: the event recorded with the save (a verification, or a notification).
/// `message`: the notification this save answers, recorded as processed in its transaction.
pub(crate) async fn commit(
    state: &AppState,
    app: &App,
    req: VerifyRequest,
    fresh: Fresh,
    superseded: bool,
    kind: EventKind,
    message: Option<&InboxMessage<'_>>,
) -> Result<Verified, ApiError> {
    let Fresh {
        seen,
        raw,
        observed_at,
        stored: mut known,
    } = fresh;

    // Decide and commit. A conflict means another request got there first: it bound the
    // token (the next decision sees the owner and refuses), or it stored a fresher Google
    // read, which then stands and this request answers from it.
    let mut decision = None;
    let mut message_recorded = false;
    for attempt in 0..3 {
        let stored = match known.take() {
            Some(stored) => stored,
            None => {
                state
                    .store
                    .find_purchase(req.package.as_str(), req.token.as_str())
                    .await?
            }
        };
        let now = state.clock.now_ms();
        let mut d = match verify::decide(stored.as_ref(), &req, &seen, &app.policy, now) {
            Ok(d) => d,
            Err(rejection) => return Err(refuse(state, &req, rejection.into()).await),
        };
        if superseded {
            playbill_core::lifecycle::supersede(&mut d);
        }
        // (The first attempt saves without looking: the save itself refuses to overwrite a
        // fresher read, and the next attempt then finds it here.)
        if attempt > 0
            && let Some(stored) = stored.as_ref()
            && fresher_than(state, &req, observed_at).await?
        {
            d.actions.retain(|a| match a {
                Action::Acknowledge { .. } => !stored.acknowledged,
                Action::Consume { .. } => !stored.consumed,
            });
            d.record = stored.clone();
            decision = Some(d);
            break;
        }
        let verified = event(
            state,
            &req,
            kind,
            json!({"state": d.record.state.as_str(), "newly_bound": d.newly_bound,
                   "acknowledged": d.record.acknowledged}),
        );
        let saved = state
            .store
            .save_purchase(SavePurchase {
                record: &d.record,
                entitlements: &d.entitlements,
                google_raw: &raw,
                events: &[verified],
                is_new: stored.is_none(),
                observed_at,
                now,
                message,
            })
            .await;
        match saved {
            Ok(_) => {
                decision = Some(d);
                message_recorded = message.is_some();
                break;
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let Some(mut decision) = decision else {
        return Err(refuse(state, &req, verify::Rejection::BoundToOtherUser.into()).await);
    };
    settle_owed(state, app, &req, &mut decision).await;
    Ok(Verified {
        decision,
        message_recorded,
    })
}

/// Whether the stored row holds a Google read that began after ours.
async fn fresher_than(
    state: &AppState,
    req: &VerifyRequest,
    observed_at: i64,
) -> Result<bool, ApiError> {
    let at = state
        .store
        .purchase_observed_at(req.package.as_str(), req.token.as_str())
        .await?;
    Ok(at.is_some_and(|at| at > observed_at))
}

/// How long one instance may hold the right to acknowledge/consume a purchase; longer than
/// the whole retry budget of a Google call. An abandoned claim (a crash) lapses after it.
const SETTLE_CLAIM_MS: i64 = 5 * 60 * 1000;

/// Pays what we owe Google, now that the grant is durable: claims the purchase (so
/// concurrent requests and instances acknowledge once), performs the actions, records the
/// outcome. A failure is logged at error level and recorded, never swallowed; the purchase
/// stays unacknowledged so the next verification retries it.
async fn settle_owed(state: &AppState, app: &App, req: &VerifyRequest, decision: &mut Decision) {
    if decision.actions.is_empty() {
        return;
    }
    let (package, token) = (req.package.as_str(), req.token.as_str());
    let now = state.clock.now_ms();
    match state
        .store
        .claim_settlement(package, token, now + SETTLE_CLAIM_MS, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!("another request is settling this purchase");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot claim the purchase to acknowledge it; a later verification retries");
            return;
        }
    }
    // Under the claim, drop what another request already settled.
    match state.store.find_purchase(package, token).await {
        Ok(Some(stored)) => {
            decision.actions.retain(|a| match a {
                Action::Acknowledge { .. } => !stored.acknowledged,
                Action::Consume { .. } => !stored.consumed,
            });
            if stored.acknowledged {
                decision.record.acknowledged = true;
            }
            if stored.consumed {
                decision.completed(&Action::Consume {
                    product_id: decision.record.product_id.clone(),
                });
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot re-read the purchase under the claim"),
    }
    let mut events = Vec::new();
    let mut acknowledged = false;
    let mut consumed = None;
    for action in decision.actions.clone() {
        match settle::perform(&app.play, &req.package, &req.token, &action).await {
            Ok(()) => {
                decision.completed(&action);
                match &action {
                    Action::Acknowledge { .. } => acknowledged = true,
                    Action::Consume { product_id } => consumed = Some(product_id.to_string()),
                }
                events.push(event(
                    state,
                    req,
                    settle::outcome_event(&action, true),
                    json!({}),
                ));
            }
            Err(e) => {
                tracing::error!(error = %e, action = ?action,
                    "Google call after grant failed; Google refunds unacknowledged purchases after 3 days");
                let detail = json!({"error": e.to_string()});
                events.push(event(
                    state,
                    req,
                    settle::outcome_event(&action, false),
                    detail,
                ));
            }
        }
    }
    let settlement = Settlement {
        acknowledged,
        consumed_product: consumed.as_deref(),
        events: &events,
        now: state.clock.now_ms(),
    };
    if let Err(e) = state
        .store
        .record_settlement(package, token, settlement)
        .await
    {
        // Google has the truth; the next read of this purchase brings it back.
        tracing::error!(error = %e, "cannot record the outcome of acknowledge/consume");
    }
}

/// The user's entitlements now. Subscriptions that still grant by their stored state but
/// whose expiry has passed (a renewal or a lapse we have not heard of) are re-read from Google
/// first, through the same flow as a verification; one Google no longer knows (410) is marked
/// expired. If Google cannot be reached, the last known state stands and a warning is logged.
pub async fn current_entitlements(
    state: &AppState,
    app: &App,
    user: &UserId,
) -> Result<playbill_core::Rights, ApiError> {
    let package = app.package.as_str();
    // One read in the common case; a second only after re-reading stale subscriptions.
    let held = state
        .store
        .held_entitlements(package, user.as_str())
        .await?;
    let now = state.clock.now_ms();
    let stale: Vec<Holding> = playbill_core::to_refresh(&held.play, now)
        .into_iter()
        .cloned()
        .collect();
    if stale.is_empty() {
        return Ok(held.rights(now));
    }
    for stale in stale {
        let req = VerifyRequest {
            package: app.package.clone(),
            user_id: user.clone(),
            product_id: stale.product_id.clone(),
            token: stale.token.clone(),
            kind: stale.kind,
        };
        match verify(state, app, req.clone()).await {
            Ok(_) => {}
            Err(ApiError::Gone(_)) => {
                let gone = event(state, &req, EventKind::ExpiredAtGoogle, json!({}));
                state.store.expire_purchase(&gone).await?;
            }
            Err(e) => tracing::warn!(error = %e, token = %stale.token,
                "could not refresh a lapsed subscription; its last known state stands"),
        }
    }
    let held = state
        .store
        .held_entitlements(package, user.as_str())
        .await?;
    Ok(held.rights(state.clock.now_ms()))
}
