//! Notifications by Pub/Sub push (`POST` at the configured path, default `/v1/rtdn`) and the
//! quarantine operators read (`GET /v1/rtdn/quarantine`).
//!
//! Push answers: 204 once the message is handled (processed now or before, or quarantined
//! for good); 401/403 when the push's OIDC token or subscription is wrong (nothing is
//! stored); 503 when processing failed for a reason that may pass (Pub/Sub delivers again).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use playbill_google::pubsub::PushEnvelope;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::rtdn::{Incoming, NotProcessed, take_in};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/rtdn/quarantine", get(quarantine))
        .route("/v1/rtdn/quarantine/{segment}", axum::routing::post(replay))
}

/// `POST /v1/rtdn/quarantine/{id}:replay`: takes a quarantined body in again (after the
/// cause was fixed, e.g. the app was added to the configuration). 200 with the outcome; 422
/// when it still cannot succeed (it stays quarantined); 503 on a transient failure.
async fn replay(
    _caller: AdminKey,
    State(state): State<AppState>,
    axum::extract::Path(segment): axum::extract::Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Some(id) = segment.strip_suffix(":replay") else {
        return Err(ApiError::NotFound(
            "expected /v1/rtdn/quarantine/{id}:replay".into(),
        ));
    };
    let Some(q) = state.store.quarantined_body(id).await? else {
        return Err(ApiError::NotFound(format!("no quarantined body {id}")));
    };
    let envelope: Option<PushEnvelope> = serde_json::from_str(&q.body).ok();
    // A pulled message is kept as the message itself.
    let message: Option<playbill_google::pubsub::PubsubMessage> = envelope
        .map(|e| e.message)
        .or_else(|| serde_json::from_str(&q.body).ok());
    let subscription = state
        .rtdn
        .as_ref()
        .map(|r| r.subscription.clone())
        .unwrap_or_default();
    let incoming = Incoming {
        source: crate::rtdn::REPLAY,
        subscription: &subscription,
        message_id: message.as_ref().and_then(|m| m.message_id.as_deref()),
        data: message.as_ref().and_then(|m| m.data.as_deref()),
        published_at: message.as_ref().and_then(|m| m.publish_time.as_deref()),
        body: &q.body,
    };
    match take_in(&state, incoming).await {
        Ok(()) => {
            state.store.mark_replayed(id, state.clock.now_ms()).await?;
            Ok(Json(json!({"id": id, "replayed": true})))
        }
        Err(NotProcessed::Quarantined(reason)) => Err(ApiError::Unprocessable(format!(
            "it still cannot be processed: {reason}"
        ))),
        Err(NotProcessed::Transient(reason)) => Err(ApiError::Unavailable {
            message: format!("try again later: {reason}"),
            retry_after: std::time::Duration::from_secs(10),
        }),
    }
}

/// The push endpoint.
pub async fn push(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(rtdn) = state.rtdn.clone() else {
        return ApiError::NotFound("notifications are not configured".into()).into_response();
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = rtdn.verifier.verify(authorization).await {
        tracing::warn!(error = %e, "push refused");
        let status = e.status();
        return (
            status,
            Json(json!({"error": {"code": status.as_u16(), "message": e.to_string()}})),
        )
            .into_response();
    }
    let text = String::from_utf8_lossy(&body);
    let envelope: Option<PushEnvelope> = serde_json::from_slice(&body).ok();
    if let Some(env) = &envelope
        && env.subscription != rtdn.subscription
    {
        tracing::warn!(subscription = %env.subscription, "push from another subscription refused");
        return ApiError::PermissionDenied(format!(
            "pushes are taken from {} only",
            rtdn.subscription
        ))
        .into_response();
    }
    let message = envelope.as_ref().map(|e| &e.message);
    let incoming = Incoming {
        source: "push",
        subscription: &rtdn.subscription,
        message_id: message.and_then(|m| m.message_id.as_deref()),
        data: message.and_then(|m| m.data.as_deref()),
        published_at: message.and_then(|m| m.publish_time.as_deref()),
        body: &text,
    };
    match take_in(&state, incoming).await {
        Ok(()) | Err(NotProcessed::Quarantined(_)) => StatusCode::NO_CONTENT.into_response(),
        Err(NotProcessed::Transient(reason)) => {
            tracing::warn!(%reason, "notification not processed; Pub/Sub will deliver it again");
            ApiError::Unavailable {
                message: "the notification could not be processed now; deliver it again".into(),
                retry_after: std::time::Duration::from_secs(10),
            }
            .into_response()
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuarantineQuery {
    #[serde(default)]
    limit: Option<i64>,
}

/// `GET /v1/rtdn/quarantine?limit=N`: bodies that could never be processed, newest first.
async fn quarantine(
    _caller: AdminKey,
    State(state): State<AppState>,
    query: Result<Query<QuarantineQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit: must be between 1 and 1000".into(),
        ));
    }
    let items = state.store.quarantined(limit).await?;
    Ok(Json(json!({
        "quarantine": items.iter().map(|q| json!({
            "id": q.quarantine_id,
            "source": q.source,
            "reason": q.reason,
            "body": q.body,
            "received_at": playbill_google::observe::format_time(q.received_at),
            "replayed_at": q.replayed_at.map(playbill_google::observe::format_time),
        })).collect::<Vec<_>>(),
    })))
}
