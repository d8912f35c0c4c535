//! Background jobs, each run by one instance at a time (a lease in the shared database).
//!
//! The acknowledgement sweeper: Google refunds a purchase not acknowledged within 3 days.
//! Every paid, unacknowledged purchase is re-read and settled through the verification path
//! (which acknowledges or consumes it once its grant is stored); one within 24 hours of the
//! deadline raises an alert (an error log and `playbill_ack_deadline_alerts_total`).
//!
//! The same run adopts orphans whose predecessor has an owner by now (the safety net behind
//! a notification's own adoption, which may fail or race).
//!
//! The external-transaction outbox (see `external.rs`): reports owed to Google, on start-up
//! and at its interval; each report is claimed, so instances share it without a lease.
//!
//! The catalog sync: every app's catalog mirrored from Google (a minute after start at most,
//! then at its interval).
//!
//! The voided-purchases sync: the safety net behind notifications. Per app, it lists what
//! Google voided since its high-water mark (`voidedpurchases.list`, type 1 with quantity-based
//! partial refunds, at most a few pages a run to stay far inside the API's 30 calls per 30 s
//! and 6000 a day) and re-reads each voided purchase we hold, which revokes what was
//! refunded. The mark is stored, so a restart resumes where it stopped.

use std::future::Future;
use std::time::Duration;

use playbill_core::verify::VerifyRequest;

use crate::metrics::Metrics;
use crate::state::AppState;
use crate::verification;

const DAY_MS: i64 = 86_400_000;
/// Google's deadline for acknowledging a purchase.
const ACK_DEADLINE_MS: i64 = 3 * DAY_MS;
/// How close to the deadline an unacknowledged purchase raises an alert.
const ALERT_WINDOW_MS: i64 = DAY_MS;

/// How often each job runs.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub ack_sweep: Duration,
    pub voided_sync: Duration,
    pub external_outbox: Duration,
    pub catalog_sync: Duration,
}

/// Runs the jobs until `shutdown` resolves.
pub async fn run(state: AppState, intervals: Intervals, shutdown: impl Future<Output = ()>) {
    let holder = uuid::Uuid::now_v7().to_string();
    tokio::pin!(shutdown);
    let mut next_ack = tokio::time::Instant::now() + intervals.ack_sweep;
    let mut next_voided = tokio::time::Instant::now() + intervals.voided_sync;
    // At once: reports accepted before a restart go out now.
    let mut next_outbox = tokio::time::Instant::now();
    let reports_every = state.reports.as_ref().map(|r| r.interval);
    let far = Duration::from_secs(365 * 86_400);
    let mut next_reports = tokio::time::Instant::now() + reports_every.unwrap_or(far);
    // A minute after start (at most): a fresh deployment gets its catalog without waiting a
    // whole interval.
    let mut next_catalog =
        tokio::time::Instant::now() + intervals.catalog_sync.min(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep_until(
                next_ack.min(next_voided).min(next_outbox).min(next_reports).min(next_catalog),
            ) => {}
        }
        let now = tokio::time::Instant::now();
        if let Some(every) = reports_every
            && now >= next_reports
        {
            next_reports = now + every;
            if leased(&state, "reports_import", &holder, every).await {
                match crate::reports::import(&state).await {
                    Ok(s) => tracing::info!(
                        files = s.imported.len(),
                        lines = s.lines,
                        "reports imported"
                    ),
                    Err(e) => {
                        tracing::warn!(error = %e, "reports could not be imported; the next run tries again")
                    }
                }
            }
        }
        if now >= next_catalog {
            next_catalog = now + intervals.catalog_sync;
            if leased(&state, "catalog_sync", &holder, intervals.catalog_sync).await {
                for app in state.apps.values() {
                    if let Err(e) = crate::catalog::sync(&state, app).await {
                        tracing::warn!(package = %app.package, error = %e,
                            "the catalog could not be synced; the next run tries again");
                    }
                }
            }
        }
        if now >= next_outbox {
            next_outbox = now + intervals.external_outbox;
            // No lease: each report is claimed on its own, so instances share the work.
            crate::external::deliver_due(&state).await;
        }
        if now >= next_ack {
            next_ack = now + intervals.ack_sweep;
            if leased(&state, "ack_sweeper", &holder, intervals.ack_sweep).await {
                sweep_acknowledgements(&state).await;
                crate::reviews::resend(&state).await;
                crate::rtdn::adopt_orphans(&state).await;
            }
        }
        if now >= next_voided {
            next_voided = now + intervals.voided_sync;
            if leased(&state, "voided_sync", &holder, intervals.voided_sync).await {
                sync_voided(&state).await;
            }
        }
    }
}

/// Whether this instance holds the job's lease (for twice its interval).
async fn leased(state: &AppState, job: &str, holder: &str, interval: Duration) -> bool {
    let ttl = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX / 4) * 2;
    match state
        .store
        .try_lease(job, holder, state.clock.now_ms(), ttl)
        .await
    {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(error = %e, job, "cannot take the job's lease");
            false
        }
    }
}

/// Voided purchases are listed for at most this long back (Google keeps 30 days).
const VOIDED_WINDOW_MS: i64 = 30 * DAY_MS - 60_000;
/// Pages per app per run: a few calls, far inside the 30-per-30-seconds quota.
const VOIDED_PAGES_PER_RUN: usize = 5;

/// One pass of the voided-purchases sync, app by app.
pub async fn sync_voided(state: &AppState) {
    for app in state.apps.values() {
        if let Err(e) = sync_voided_app(state, app).await {
            tracing::warn!(error = %e, package = %app.package, "voided-purchases sync failed; the next run resumes from the mark");
        }
    }
}

async fn sync_voided_app(state: &AppState, app: &crate::state::App) -> Result<(), String> {
    let package = app.package.as_str();
    let mark_name = format!("voided:{package}");
    let now = state.clock.now_ms();
    let mark = state
        .store
        .sync_mark(&mark_name)
        .await
        .map_err(|e| e.to_string())?;
    let start = mark.unwrap_or(0).max(now - VOIDED_WINDOW_MS);
    let mut page_token: Option<String> = None;
    let mut newest = start;
    for _ in 0..VOIDED_PAGES_PER_RUN {
        let mut query = vec![
            ("startTime", start.to_string()),
            ("type", "1".to_owned()),
            ("includeQuantityBasedPartialRefund", "true".to_owned()),
        ];
        if let Some(t) = &page_token {
            query.push(("token", t.clone()));
        }
        let page = app
            .play
            .list_voided(package, &query)
            .await
            .map_err(|e| e.to_string())?
            .value;
        for v in page.voided_purchases.iter().flatten() {
            let (Some(token), Some(at)) = (&v.purchase_token, v.voided_time_millis) else {
                continue;
            };
            let Ok(token) = playbill_core::PurchaseToken::parse(token.clone()) else {
                continue;
            };
            if let Some(stored) = state
                .store
                .find_purchase(package, token.as_str())
                .await
                .map_err(|e| e.to_string())?
            {
                crate::rtdn::refresh(state, app, token.clone(), stored.kind, None, None)
                    .await
                    .map_err(|e| e.to_string())?;
                if stored.kind == playbill_core::ProductKind::Subscription {
                    // The void is authoritative even while Google's read lags (reference 2.6).
                    let event = playbill_store::NewEvent {
                        kind: playbill_store::EventKind::Revoked,
                        package: package.to_owned(),
                        token: token.as_str().to_owned(),
                        user_id: None,
                        detail: serde_json::json!({"order_id": v.order_id, "source": "voided_sync"}),
                        at: state.clock.now_ms(),
                    };
                    state
                        .store
                        .revoke(package, token.as_str(), &event)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            newest = newest.max(at.0);
        }
        page_token = page
            .token_pagination
            .and_then(|p| p.next_page_token)
            .filter(|t| !t.is_empty());
        if page_token.is_none() {
            // Everything up to now is seen: the next run starts at the newest void (a void
            // at that very millisecond is re-read once more, which is harmless).
            state
                .store
                .set_sync_mark(&mark_name, newest, now)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
    }
    // More pages than one run takes: the mark moves to what was seen; the next run goes on.
    state
        .store
        .set_sync_mark(&mark_name, newest, now)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// One pass of the acknowledgement sweeper.
pub async fn sweep_acknowledgements(state: &AppState) {
    let pending = match state.store.unacknowledged(100).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list unacknowledged purchases");
            return;
        }
    };
    for (record, stored_at) in pending {
        let Some(app) = state.apps.get(record.package.as_str()).cloned() else {
            continue;
        };
        let now = state.clock.now_ms();
        let deadline = record.started_at.unwrap_or(stored_at) + ACK_DEADLINE_MS;
        if now >= deadline - ALERT_WINDOW_MS {
            Metrics::add(&state.metrics.ack_deadline_alerts);
            tracing::error!(token = %record.token, deadline_in_ms = deadline - now,
                "purchase still unacknowledged close to Google's 3-day refund deadline");
        }
        let req = VerifyRequest {
            package: record.package.clone(),
            user_id: record.user_id.clone(),
            product_id: record.product_id.clone(),
            token: record.token.clone(),
            kind: record.kind,
        };
        if let Err(e) = verification::verify(state, &app, req).await {
            tracing::warn!(error = %e, token = %record.token, "acknowledgement retry failed; the next sweep tries again");
        }
    }
}
