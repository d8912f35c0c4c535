//! Rights from other platforms and promotions (admin key only):
//! `POST /v1/apps/{package}/users/{user_id}/grants` with `{"entitlement", "source",
//! "expires_at"?, "note"?}` — 201 with the grant; the user's entitlements list it at once;
//! `GET /v1/apps/{package}/users/{user_id}/grants` — every grant, revoked ones included;
//! `DELETE /v1/apps/{package}/users/{user_id}/grants/{grant_id}` — revokes it now (again:
//! no change), 404 if the user has no such grant.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use playbill_core::UserId;
use playbill_google::observe::parse_time;
use playbill_store::grants::NewGrant;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{JsonBody, views};
use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/apps/{package}/users/{user_id}/grants",
            get(list).post(create),
        )
        .route(
            "/v1/apps/{package}/users/{user_id}/grants/{grant_id}",
            delete(revoke),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    entitlement: String,
    source: String,
    /// RFC 3339; absent or null: until revoked.
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

fn user(user_id: String) -> Result<UserId, ApiError> {
    UserId::parse(user_id).map_err(|e| ApiError::BadRequest(format!("user_id: {e}")))
}

async fn create(
    caller: AdminKey,
    State(state): State<AppState>,
    Path((package, user_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<GrantBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let app = state.app(&package)?;
    let user = user(user_id)?;
    let entitlement = body.entitlement.trim();
    if entitlement.is_empty() || entitlement.len() > 100 {
        return Err(ApiError::BadRequest(
            "entitlement: must be 1 to 100 characters".into(),
        ));
    }
    playbill_core::check_grant_source(&body.source)
        .map_err(|e| ApiError::BadRequest(format!("source: {e}")))?;
    if body.note.as_ref().is_some_and(|n| n.len() > 1000) {
        return Err(ApiError::BadRequest("note: at most 1000 characters".into()));
    }
    let now = state.clock.now_ms();
    let expires_at = body
        .expires_at
        .as_deref()
        .map(|t| parse_time("expires_at", t))
        .transpose()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::BadRequest(
            "expires_at: is not in the future (a grant that never gives access)".into(),
        ));
    }
    let grant = state
        .store
        .add_grant(&NewGrant {
            package: app.package.as_str(),
            user_id: user.as_str(),
            entitlement,
            source: &body.source,
            expires_at,
            note: body.note.as_deref(),
            by: &caller.0,
            now,
        })
        .await?;
    tracing::info!(grant = %grant.grant_id, source = %grant.source, caller = %caller.0, "grant recorded");
    Ok((StatusCode::CREATED, Json(views::grant(&grant))))
}

async fn list(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path((package, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let user = user(user_id)?;
    let grants = state
        .store
        .grants_for_user(app.package.as_str(), user.as_str())
        .await?;
    Ok(Json(json!({
        "user_id": user.as_str(),
        "grants": grants.iter().map(views::grant).collect::<Vec<_>>(),
    })))
}

async fn revoke(
    caller: AdminKey,
    State(state): State<AppState>,
    Path((package, user_id, grant_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let user = user(user_id)?;
    let revoked = state
        .store
        .revoke_grant(
            app.package.as_str(),
            user.as_str(),
            &grant_id,
            &caller.0,
            state.clock.now_ms(),
        )
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("user {} has no grant {grant_id}", user.as_str()))
        })?;
    tracing::info!(grant = %grant_id, caller = %caller.0, "grant revoked");
    Ok(Json(views::grant(&revoked)))
}
