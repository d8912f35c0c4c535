//! `GET /v1/apps/{package}/users/{user_id}/entitlements`: what the user may use right now.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use playbill_core::UserId;
use serde::Serialize;

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

/// The answer: built from borrowed values and written once.
#[derive(Serialize)]
struct Body<'a> {
    user_id: &'a str,
    entitlements: Vec<views::Right<'a>>,
}

async fn entitlements(
    _caller: AppKey,
    State(state): State<AppState>,
    Path((package, user_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let app = state.app(&package)?;
    let user = UserId::parse(user_id).map_err(|e| ApiError::BadRequest(format!("user_id: {e}")))?;
    let list = verification::current_entitlements(&state, &app, &user).await?;
    Ok(Json(Body {
        user_id: user.as_str(),
        entitlements: views::rights(&list),
    })
    .into_response())
}
