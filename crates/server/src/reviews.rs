//! Refund reviews (reference section 2.7): a user asked Google for a refund. It is a
//! question, not a refund — access changes only if a void follows. We answer
//! `orders:reviewrefund` within 24 hours: by the app's policy (`auto`: decline when the goods
//! were consumed, neutral otherwise) or by an operator (`manual`, through the API). An answer
//! Google did not take is retried by the background jobs until the deadline.

use playbill_google::rtdn::PendingRefundReviewNotification;
use playbill_google::wire::{OrdersReviewRefundRequest, RefundPreference};
use playbill_store::reviews::RefundReview;

use crate::config::RefundReviewPolicy;
use crate::rtdn::NotProcessed;
use crate::state::{App, AppState};

/// How long Google gives us to answer.
pub const REVIEW_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// Records the review and, under the `auto` policy, decides and answers it now.
pub async fn on_notification(
    state: &AppState,
    app: &App,
    n: &PendingRefundReviewNotification,
    event_time: Option<i64>,
) -> Result<(), NotProcessed> {
    let (Some(order_id), Some(token)) = (&n.order_id, &n.pending_refund_token) else {
        tracing::warn!("a refund review without orderId or pendingRefundToken: nothing to answer");
        return Ok(());
    };
    let transient = |e: &dyn std::fmt::Display| NotProcessed::Transient(e.to_string());
    let now = state.clock.now_ms();
    let purchase = state
        .store
        .purchase_by_order(app.package.as_str(), order_id)
        .await
        .map_err(|e| transient(&e))?;
    let preference = match app.refund_reviews {
        RefundReviewPolicy::Manual => None,
        RefundReviewPolicy::Auto => Some(if purchase.as_ref().is_some_and(|p| p.consumed) {
            "DECLINE"
        } else {
            "NEUTRAL"
        }),
    };
    let received = event_time.unwrap_or(now);
    let review = RefundReview {
        package: app.package.to_string(),
        order_id: order_id.clone(),
        pending_refund_token: token.clone(),
        purchase_token: purchase.as_ref().map(|p| p.token.as_str().to_owned()),
        received_at: received,
        deadline: received + REVIEW_WINDOW_MS,
        preference: preference.map(str::to_owned),
        decided_by: preference.map(|_| "policy".to_owned()),
        answered_at: None,
        last_error: None,
    };
    state
        .store
        .record_refund_review(&review)
        .await
        .map_err(|e| transient(&e))?;
    tracing::warn!(order = %order_id, ?preference, "a user asked for a refund; answer due within 24 h");
    if preference.is_some() {
        send(state, app, &review).await;
    }
    Ok(())
}

/// Sends a decided review to Google and records the outcome (a failure is retried later).
pub async fn send(state: &AppState, app: &App, review: &RefundReview) -> Option<String> {
    let preference = review.preference.as_deref()?;
    let request = OrdersReviewRefundRequest {
        pending_refund_token: Some(review.pending_refund_token.clone()),
        refund_preference: Some(RefundPreference::from(preference)),
        sample_content_provided: Some(false),
        consumption_percentage_milliunits: None,
        consumption_usage_events: None,
    };
    let outcome = app
        .play
        .review_refund(app.package.as_str(), &review.order_id, &request)
        .await;
    let error = outcome.err().map(|e| e.to_string());
    if let Some(e) = &error {
        tracing::error!(error = %e, order = %review.order_id, "Google did not take our refund-review answer; retrying before the deadline");
    }
    if let Err(e) = state
        .store
        .refund_review_sent(review, error.as_deref(), state.clock.now_ms())
        .await
    {
        tracing::error!(error = %e, "cannot record a refund-review answer");
    }
    error
}

/// Retries every decided answer Google has not taken yet (a background job).
pub async fn resend(state: &AppState) {
    let pending = match state
        .store
        .refund_reviews_to_send(state.clock.now_ms())
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list refund reviews to answer");
            return;
        }
    };
    for review in pending {
        if let Some(app) = state.apps.get(&review.package).cloned() {
            send(state, &app, &review).await;
        }
    }
}
