//! Real-time developer notifications (reference sections 2, 3, 5): take a Pub/Sub message
//! in durably, then re-read the purchase from Google and store what Google says now.
//!
//! Intake ([`take_in`]): a body that can never succeed (bad JSON, bad base64, an app we do
//! not serve) is quarantined and answered as handled, so Pub/Sub stops retrying. Anything
//! else is processed first and answered as handled only once its result is durable: the
//! message is recorded as processed (once per `messageId`: later copies stop at that record)
//! in the very transaction that saves the purchase when nothing else is left to do, else
//! right after. A transient failure (Google or the database unavailable) is recorded with
//! the message as pending and not answered as handled, so Pub/Sub delivers it again.
//!
//! Processing ([`process`]) never trusts the notification type: it names a token to re-read.
//! The owner comes from the stored purchase, the predecessor (`linkedPurchaseToken`, or the
//! expired token of an out-of-app resubscription), or a raw account id
//! ([`playbill_core::lifecycle::owner`]); a token nobody is known to own waits as an orphan
//! until its predecessor gets an owner. A replaced token loses access at once and for good.

use std::future::Future;
use std::pin::Pin;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use playbill_core::lifecycle::{self, Context};
use playbill_core::verify::VerifyRequest;
use playbill_core::{ProductKind, PurchaseToken};
use playbill_google::rtdn::DeveloperNotification;
use playbill_store::notifications::InboxMessage;
use playbill_store::{EventKind, NewEvent};
use serde_json::json;

use crate::error::ApiError;
use crate::state::{App, AppState};
use crate::verification::{self, Fresh};

/// Why a message was not processed this time.
#[derive(Debug, thiserror::Error)]
pub enum NotProcessed {
    /// It can never succeed: quarantined, and answered as handled.
    #[error("quarantined: {0}")]
    Quarantined(String),
    /// Try again later (Google or the database unavailable): not answered as handled.
    #[error("transient: {0}")]
    Transient(String),
}

/// The `source` of an operator's replay of a quarantined body.
pub const REPLAY: &str = "replay";

/// One Pub/Sub message as it arrived (push envelope or pull).
pub struct Incoming<'a> {
    pub source: &'static str,
    pub subscription: &'a str,
    pub message_id: Option<&'a str>,
    pub data: Option<&'a str>,
    pub published_at: Option<&'a str>,
    /// The whole body, kept verbatim if it must be quarantined.
    pub body: &'a str,
}

/// Takes one message in: quarantine, de-duplicate, store, process. `Ok` means it is handled
/// (processed now or before, or quarantined for good) and may be acknowledged.
pub async fn take_in(state: &AppState, m: Incoming<'_>) -> Result<(), NotProcessed> {
    let now = state.clock.now_ms();
    let quarantine = |reason: String| async move {
        if m.source == REPLAY {
            // Replaying a quarantined body that still cannot succeed: it stays where it is.
            return Err(NotProcessed::Quarantined(reason));
        }
        tracing::warn!(source = m.source, %reason, "RTDN quarantined");
        crate::metrics::Metrics::add(&state.metrics.rtdn_quarantined);
        match state.store.quarantine(m.source, &reason, m.body, now).await {
            Ok(_) => Err(NotProcessed::Quarantined(reason)),
            Err(e) => Err(NotProcessed::Transient(format!("cannot quarantine: {e}"))),
        }
    };
    let Some(message_id) = m.message_id.filter(|id| !id.is_empty()) else {
        return quarantine("the message has no messageId".into()).await;
    };
    let Some(bytes) = m.data.and_then(|d| STANDARD.decode(d).ok()) else {
        return quarantine("message.data is missing or not base64".into()).await;
    };
    let n: DeveloperNotification = match serde_json::from_slice(&bytes) {
        Ok(n) => n,
        Err(e) => return quarantine(format!("message.data is not a notification: {e}")).await,
    };
    let Some(app) = state.apps.get(&n.package_name).cloned() else {
        return quarantine(format!("app {:?} is not served here", n.package_name)).await;
    };
    // Whether it was processed before; for a purchase's notification, in the same read, what
    // is stored for the token.
    let (done, known) = match notified_token(&n) {
        Some(token) => state
            .store
            .message_and_purchase(message_id, &n.package_name, token)
            .await
            .map(|(done, stored, successor)| (done, Some(Known { stored, successor }))),
        None => state
            .store
            .message_done(message_id)
            .await
            .map(|d| (d, None)),
    }
    .map_err(|e| NotProcessed::Transient(format!("cannot read the log: {e}")))?;
    if done {
        tracing::debug!(message_id, "duplicate RTDN ignored");
        return Ok(());
    }
    let notification = String::from_utf8_lossy(&bytes);
    let message = InboxMessage {
        message_id,
        subscription: m.subscription,
        package: &n.package_name,
        notification: &notification,
        published_at: m.published_at,
        received_at: now,
    };
    let result = process(state, &app, &n, Some(&message), known).await;
    if result.is_ok() {
        crate::metrics::Metrics::add(&state.metrics.rtdn_processed);
    }
    if matches!(result, Ok(Recorded::WithTheSave)) {
        return Ok(());
    }
    let error = result.as_ref().err().map(ToString::to_string);
    if let Err(e) = state
        .store
        .finish_message(&message, error.as_deref(), state.clock.now_ms())
        .await
    {
        tracing::error!(error = %e, message_id, "cannot record the outcome of an RTDN");
        return Err(NotProcessed::Transient(e.to_string()));
    }
    result.map(|_| ())
}

/// The token a purchase's notification names, unparsed.
fn notified_token(n: &DeveloperNotification) -> Option<&str> {
    n.subscription_notification
        .as_ref()
        .map(|s| s.purchase_token.as_str())
        .or_else(|| {
            n.one_time_product_notification
                .as_ref()
                .map(|o| o.purchase_token.as_str())
        })
}

/// What the store held for a notification's token when the message was taken in (read with
/// the duplicate check, before Google is asked). A successor stored after this read is
/// still found: it marks this token replaced when it settles its own chain.
pub struct Known {
    pub stored: Option<playbill_core::PurchaseRecord>,
    pub successor: Option<String>,
}

/// Whether processing recorded the message as processed itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// In the transaction that saved the purchase: nothing is left to write.
    WithTheSave,
    /// Not yet: the caller records it.
    No,
}

/// Applies one notification: the token it names is re-read and stored.
/// `message`: the Pub/Sub message it came in, which the purchase's save records as processed
/// when nothing is left to do after it (the common case: one transaction per notification).
/// `known`: the store's answer for its token, if the caller read it already.
pub async fn process(
    state: &AppState,
    app: &App,
    n: &DeveloperNotification,
    message: Option<&InboxMessage<'_>>,
    known: Option<Known>,
) -> Result<Recorded, NotProcessed> {
    let token = |t: &str| {
        PurchaseToken::parse(t).map_err(|e| NotProcessed::Quarantined(format!("token: {e}")))
    };
    if let Some(s) = &n.subscription_notification {
        tracing::info!(code = s.notification_type, "subscription notification");
        return refresh(
            state,
            app,
            token(&s.purchase_token)?,
            ProductKind::Subscription,
            message,
            known,
        )
        .await;
    }
    if let Some(o) = &n.one_time_product_notification {
        tracing::info!(code = o.notification_type, "one-time product notification");
        return refresh(
            state,
            app,
            token(&o.purchase_token)?,
            ProductKind::OneTime,
            message,
            known,
        )
        .await;
    }
    if let Some(v) = &n.voided_purchase_notification {
        tracing::info!(order = %v.order_id, refund_type = v.refund_type, "voided purchase");
        let kind = if v.product_type == playbill_google::rtdn::voided::PRODUCT_TYPE_SUBSCRIPTION {
            ProductKind::Subscription
        } else {
            ProductKind::OneTime
        };
        let voided = token(&v.purchase_token)?;
        refresh(state, app, voided.clone(), kind, None, None).await?;
        // A voided subscription ends now, even while Google's read still says ACTIVE for a
        // while (reference 2.6): the void itself is authoritative. (A one-time purchase's
        // read already shows the refund: CANCELLED, or fewer refundable units.)
        if kind == ProductKind::Subscription {
            let event = NewEvent {
                kind: EventKind::Revoked,
                package: app.package.to_string(),
                token: voided.as_str().to_owned(),
                user_id: None,
                detail: json!({"order_id": v.order_id, "refund_type": v.refund_type}),
                at: state.clock.now_ms(),
            };
            state
                .store
                .revoke(app.package.as_str(), voided.as_str(), &event)
                .await
                .map_err(|e| NotProcessed::Transient(e.to_string()))?;
        }
        return Ok(Recorded::No);
    }
    if let Some(r) = &n.pending_refund_review_notification {
        // A question, not a refund: access changes only when a void arrives (reference 2.7).
        let at = n.event_time_millis.map(|t| t.0);
        return crate::reviews::on_notification(state, app, r, at)
            .await
            .map(|()| Recorded::No);
    }
    if n.test_notification.is_some() {
        tracing::info!(package = %n.package_name, "test notification received");
        crate::metrics::Metrics::add(&state.metrics.rtdn_test_notifications);
        return Ok(Recorded::No);
    }
    tracing::warn!(package = %n.package_name, "a notification of an unknown kind: nothing to re-read");
    Ok(Recorded::No)
}

/// Re-reads `token` from Google and stores it for its owner; then settles the chain around
/// it: the token it replaced loses access, and orphans that continue it inherit its owner.
/// `message`, `known`: as for [`process`].
pub fn refresh<'a>(
    state: &'a AppState,
    app: &'a App,
    token: PurchaseToken,
    kind: ProductKind,
    message: Option<&'a InboxMessage<'a>>,
    known: Option<Known>,
) -> Pin<Box<dyn Future<Output = Result<Recorded, NotProcessed>> + Send + 'a>> {
    Box::pin(async move {
        let package = app.package.as_str();
        let transient = |e: &dyn std::fmt::Display| NotProcessed::Transient(e.to_string());
        let observed_at = state.clock.now_ms();
        let (seen, raw) = match verification::observe(app, package, token.as_str(), kind).await {
            Ok(x) => x,
            Err(e) => {
                let e = ApiError::from(e);
                if is_transient(&e) {
                    return Err(transient(&e));
                }
                // Google does not know it, or no longer: nothing to store.
                tracing::warn!(error = %e, "a notified purchase cannot be read from Google");
                return Ok(Recorded::No);
            }
        };
        let (stored, successor) = match known {
            Some(k) => (k.stored, k.successor),
            None => state
                .store
                .purchase_and_successor(package, token.as_str())
                .await
                .map_err(|e| transient(&e))?,
        };
        let predecessor = seen
            .linked_purchase_token
            .clone()
            .or_else(|| seen.out_of_app_expired_token.clone());
        // (Needed only while the token has no owner of its own.)
        let predecessor_owner = match predecessor.as_ref().filter(|_| stored.is_none()) {
            Some(p) => state
                .store
                .find_purchase(package, p.as_str())
                .await
                .map_err(|e| transient(&e))?
                .map(|r| r.user_id),
            None => None,
        };
        let ctx = Context {
            stored: stored.as_ref(),
            predecessor_owner: predecessor_owner.as_ref(),
            superseded: successor.is_some(),
        };
        let now = state.clock.now_ms();
        let event = |kind: EventKind, user: Option<String>, detail| NewEvent {
            kind,
            package: package.to_owned(),
            token: token.as_str().to_owned(),
            user_id: user,
            detail,
            at: now,
        };
        let Some(user_id) = lifecycle::owner(&ctx, &seen, &app.policy) else {
            let linked = seen
                .linked_purchase_token
                .as_ref()
                .map(PurchaseToken::as_str);
            state
                .store
                .put_orphan(package, token.as_str(), kind.as_str(), linked, now)
                .await
                .map_err(|e| transient(&e))?;
            // The predecessor may have been stored for its owner since it was read above, and
            // have looked for its orphans before this one was put: look once more, now that
            // the orphan is visible, so one of the two always finds the other.
            if let Some(p) = &predecessor
                && state
                    .store
                    .find_purchase(package, p.as_str())
                    .await
                    .map_err(|e| transient(&e))?
                    .is_some()
            {
                return refresh(state, app, token, kind, message, None).await;
            }
            let _ = state
                .store
                .append_event(&event(
                    EventKind::AwaitingOwner,
                    None,
                    json!({"state": seen.state.as_str()}),
                ))
                .await;
            tracing::info!("no user is known for this token yet: it waits for a verification");
            return Ok(Recorded::No);
        };
        let product_id = match (&stored, seen.items.first()) {
            (Some(s), _) => s.product_id.clone(),
            (None, Some(item)) => item.product_id.clone(),
            (None, None) => return Ok(Recorded::No),
        };
        let req = VerifyRequest {
            package: app.package.clone(),
            user_id: user_id.clone(),
            product_id,
            token: token.clone(),
            kind,
        };
        let fresh = Fresh {
            seen: seen.clone(),
            raw,
            observed_at,
            stored: Some(stored.clone()),
        };
        let linked = seen
            .linked_purchase_token
            .as_ref()
            .filter(|_| lifecycle::replaces_predecessor(&seen.state));
        // Nothing to end around it, no orphan continues it: the save records the message,
        // and that one transaction is the whole of the notification's writes.
        let alone = linked.is_none() && successor.is_none();
        let recorded = match verification::commit(
            state,
            app,
            req,
            fresh,
            ctx.superseded,
            EventKind::Notified,
            message.filter(|_| alone),
        )
        .await
        {
            Ok(v) if v.message_recorded => Recorded::WithTheSave,
            Ok(_) => Recorded::No,
            Err(e) if is_transient(&e) => return Err(transient(&e)),
            Err(e) => {
                tracing::warn!(error = %e, "the notified purchase contradicts what we hold");
                let _ = state
                    .store
                    .append_event(&event(
                        EventKind::NotificationRefused,
                        Some(user_id.to_string()),
                        json!({"reason": e.to_string()}),
                    ))
                    .await;
                return Ok(Recorded::No);
            }
        };
        if alone {
            // No orphan named it when its successor was looked for (the same read): one that
            // arrives meanwhile finds it stored when it looks again, or the sweep adopts it.
            return Ok(recorded);
        }
        settle_chain(state, app, &token, linked, successor.as_deref()).await?;
        Ok(recorded)
    })
}

/// Once `token` is stored for its owner: the token it replaced (`linked`) loses access now; its
/// known replacement (`successor`, as the caller read it from the store) ends it; orphans that continue `token` inherit its owner and
/// are refreshed in turn (chains of any length, in any arrival order). Called after a
/// notification and after an app's verification.
pub fn settle_chain<'a>(
    state: &'a AppState,
    app: &'a App,
    token: &'a PurchaseToken,
    linked: Option<&'a PurchaseToken>,
    successor: Option<&'a str>,
) -> Pin<Box<dyn Future<Output = Result<(), NotProcessed>> + Send + 'a>> {
    Box::pin(async move {
        let package = app.package.as_str();
        let transient = |e: &dyn std::fmt::Display| NotProcessed::Transient(e.to_string());
        if let Some(linked) = linked {
            supersede(state, package, linked.as_str(), token.as_str()).await?;
        }
        if let Some(successor) = successor {
            supersede(state, package, token.as_str(), successor).await?;
        }
        for (orphan, orphan_kind) in state
            .store
            .orphans_of(package, token.as_str())
            .await
            .map_err(|e| transient(&e))?
        {
            let (Ok(orphan), Some(orphan_kind)) = (
                PurchaseToken::parse(orphan),
                ProductKind::parse(&orphan_kind),
            ) else {
                continue;
            };
            refresh(state, app, orphan, orphan_kind, None, None).await?;
        }
        Ok(())
    })
}

/// Orphans that wait although their predecessor has an owner by now (its adoption after its
/// own save failed, or raced with the orphan's arrival) are refreshed for that owner. Run by
/// the sweeper.
pub async fn adopt_orphans(state: &AppState) {
    let waiting = match state.store.adoptable_orphans(ORPHANS_PER_SWEEP).await {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list orphans to adopt");
            return;
        }
    };
    for (package, token, kind) in waiting {
        let (Some(app), Ok(token), Some(kind)) = (
            state.apps.get(&package),
            PurchaseToken::parse(token),
            ProductKind::parse(&kind),
        ) else {
            continue;
        };
        if let Err(e) = refresh(state, app, token, kind, None, None).await {
            tracing::warn!(error = %e, "an orphan is not adopted yet; the next sweep tries again");
        }
    }
}

/// Orphans adopted by one sweep at most.
const ORPHANS_PER_SWEEP: i64 = 100;

/// An app's verification of a token; then, the token having an owner, its chain is
/// settled (a replaced predecessor, a known replacement, notifications that waited for it).
pub async fn verify_and_link(
    state: &AppState,
    app: &App,
    req: VerifyRequest,
) -> Result<verification::Verified, ApiError> {
    let token = req.token.clone();
    let verified = verification::verify(state, app, req).await?;
    let record = &verified.decision.record;
    let linked = record
        .linked_purchase_token
        .clone()
        .filter(|_| lifecycle::replaces_predecessor(&record.state));
    let settled = async {
        let successor = state
            .store
            .successor(app.package.as_str(), token.as_str())
            .await
            .map_err(|e| NotProcessed::Transient(e.to_string()))?;
        settle_chain(state, app, &token, linked.as_ref(), successor.as_deref()).await
    };
    if let Err(e) = settled.await {
        tracing::warn!(error = %e, "linked tokens not settled yet; the next notification or verification does it");
    }
    Ok(verified)
}

async fn supersede(
    state: &AppState,
    package: &str,
    old: &str,
    by: &str,
) -> Result<(), NotProcessed> {
    let event = NewEvent {
        kind: EventKind::Superseded,
        package: package.to_owned(),
        token: old.to_owned(),
        user_id: None,
        detail: json!({"by": PurchaseToken::parse(by).map(|t| t.to_string()).unwrap_or_default()}),
        at: state.clock.now_ms(),
    };
    state
        .store
        .supersede(package, old, by, &event)
        .await
        .map_err(|e| NotProcessed::Transient(e.to_string()))?;
    Ok(())
}

/// Whether trying again later may succeed.
fn is_transient(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Unavailable { .. } | ApiError::Internal(_) | ApiError::BadGateway(_)
    )
}
