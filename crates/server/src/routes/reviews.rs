//! Refund reviews for operators:
//! `GET /v1/apps/{package}/refund-reviews` — every review, newest first, with its deadline,
//! decision and whether Google took the answer;
//! `POST /v1/apps/{package}/refund-reviews/{order_id}:answer` with
//! `{"preference": "APPROVE" | "DECLINE" | "NEUTRAL"}` — an operator's answer, sent now (and
//! retried by the background jobs if Google does not take it).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use playbill_google::observe::format_time;
use playbill_store::reviews::RefundReview;
use serde::Deserialize;
use serde_json::{Value, json};

use super::JsonBody;
use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/apps/{package}/refund-reviews", get(list))
        .route("/v1/apps/{package}/refund-reviews/{segment}", post(answer))
}

fn view(r: &RefundReview) -> Value {
    json!({
        "order_id": r.order_id,
        "purchase_token": r.purchase_token,
        "received_at": format_time(r.received_at),
        "deadline": format_time(r.deadline),
        "preference": r.preference,
        "decided_by": r.decided_by,
        "answered_at": r.answered_at.map(format_time),
        "last_error": r.last_error,
    })
}

async fn list(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let reviews = state.store.refund_reviews(app.package.as_str()).await?;
    Ok(Json(
        json!({"refund_reviews": reviews.iter().map(view).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    preference: String,
}

async fn answer(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path((package, segment)): Path<(String, String)>,
    JsonBody(body): JsonBody<Answer>,
) -> Result<Json<Value>, ApiError> {
    let Some(order_id) = segment.strip_suffix(":answer") else {
        return Err(ApiError::NotFound(
            "expected /refund-reviews/{order_id}:answer".into(),
        ));
    };
    if !matches!(body.preference.as_str(), "APPROVE" | "DECLINE" | "NEUTRAL") {
        return Err(ApiError::BadRequest(
            "preference: must be APPROVE, DECLINE or NEUTRAL".into(),
        ));
    }
    let app = state.app(&package)?;
    let reviews = state.store.refund_reviews(app.package.as_str()).await?;
    let Some(review) = reviews.iter().find(|r| r.order_id == order_id) else {
        return Err(ApiError::NotFound(format!(
            "no refund review for order {order_id}"
        )));
    };
    if review.answered_at.is_some() {
        return Err(ApiError::Conflict(
            "Google already has an answer to this review".into(),
        ));
    }
    if review.deadline <= state.clock.now_ms() {
        return Err(ApiError::Conflict(
            "the 24-hour window to answer this review has closed".into(),
        ));
    }
    state
        .store
        .decide_refund_review(app.package.as_str(), order_id, &body.preference, "operator")
        .await?;
    let mut decided = review.clone();
    decided.preference = Some(body.preference.clone());
    decided.decided_by = Some("operator".into());
    if let Some(e) = crate::reviews::send(&state, &app, &decided).await {
        return Err(ApiError::Unavailable {
            message: format!(
                "the answer is recorded; Google did not take it yet and it is retried: {e}"
            ),
            retry_after: std::time::Duration::from_secs(60),
        });
    }
    let now = state.store.refund_reviews(app.package.as_str()).await?;
    let stored = now
        .iter()
        .find(|r| r.order_id == order_id)
        .map(view)
        .unwrap_or(Value::Null);
    Ok(Json(stored))
}
