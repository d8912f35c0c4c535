//! `GET /v1/apps/{package}/users/{user_id}/entitlements`: what the user may use right now.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use playbill_core::UserId;
use serde_json::{Value, json};

use super::views;
use crate::auth::AppKey;
use crate::error::ApiError;
use crate::state::AppState;
use crate::verification;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/apps/{package}/users/{user_id}/entitlements",
        get(entitlements),
    )
}

async fn entitlements(
    _caller: AppKey,
    State(state): State<AppState>,
    Path((package, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let user = UserId::parse(user_id).map_err(|e| ApiError::BadRequest(format!("user_id: {e}")))?;
    let list = verification::current_entitlements(&state, &app, &user).await?;
    Ok(Json(json!({
        "user_id": user.as_str(),
        "entitlements": views::rights(&list),
    })))
}
