//! Background jobs, each run by one instance at a time (a lease in the shared database).
//!
//! The acknowledgement sweeper: Google refunds a purchase not acknowledged within 3 days.
//! Every paid, unacknowledged purchase is re-read and settled through the verification path
//! (which acknowledges or consumes it once its grant is stored); one within 24 hours of the
//! deadline raises an alert (an error log and `playbill_ack_deadline_alerts_total`).

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

/// Runs the jobs every `interval` until `shutdown` resolves.
pub async fn run(state: AppState, interval: Duration, shutdown: impl Future<Output = ()>) {
    let holder = uuid::Uuid::now_v7().to_string();
    let lease_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX / 4) * 2;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let now = state.clock.now_ms();
        match state
            .store
            .try_lease("ack_sweeper", &holder, now, lease_ms)
            .await
        {
            Ok(true) => sweep_acknowledgements(&state).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot take the sweeper's lease"),
        }
    }
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
