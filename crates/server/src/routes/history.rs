//! A user's purchases and their history:
//! `GET /v1/apps/{package}/users/{user_id}/purchases` — every purchase, active or not, with
//! Google's last known state (and the token that replaced it, if one did);
//! `GET /v1/apps/{package}/users/{user_id}/events?limit=N` — what happened to them, newest
//! first.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use playbill_core::UserId;
use playbill_google::observe::format_time;
use serde::Deserialize;
use serde_json::{Value, json};

use super::views;
use crate::auth::AppKey;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/apps/{package}/users/{user_id}/purchases",
            get(purchases),
        )
        .route("/v1/apps/{package}/users/{user_id}/events", get(events))
}

fn user(user_id: String) -> Result<UserId, ApiError> {
    UserId::parse(user_id).map_err(|e| ApiError::BadRequest(format!("user_id: {e}")))
}

async fn purchases(
    _caller: AppKey,
    State(state): State<AppState>,
    Path((package, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let user = user(user_id)?;
    let list = state
        .store
        .purchases_for_user(app.package.as_str(), user.as_str())
        .await?;
    Ok(Json(json!({
        "user_id": user.as_str(),
        "purchases": list.iter().map(|(p, replaced_by)| {
            let mut v = views::purchase(p);
            v["purchase_token"] = json!(p.token.as_str());
            v["linked_purchase_token"] = json!(p.linked_purchase_token.as_ref().map(|t| t.as_str()));
            v["replaced_by"] = json!(replaced_by);
            v
        }).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    #[serde(default)]
    limit: Option<i64>,
}

async fn events(
    _caller: AppKey,
    State(state): State<AppState>,
    Path((package, user_id)): Path<(String, String)>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit: must be between 1 and 1000".into(),
        ));
    }
    let app = state.app(&package)?;
    let user = user(user_id)?;
    let list = state
        .store
        .events_for_user(app.package.as_str(), user.as_str(), limit)
        .await?;
    Ok(Json(json!({
        "user_id": user.as_str(),
        "events": list.iter().map(|e| json!({
            "kind": e.kind,
            "purchase_token": e.token,
            "detail": e.detail,
            "at": format_time(e.created_at),
        })).collect::<Vec<_>>(),
    })))
}
