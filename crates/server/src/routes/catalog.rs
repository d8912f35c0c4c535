//! The catalog:
//! `GET /v1/apps/{package}/catalog?region=US` (any key) — what app clients may show: active
//! products, base plans and offers, priced for the region, with the entitlements each grants;
//! `POST /v1/apps/{package}/catalog:sync` (admin key) — mirrors Google's catalog now (the
//! background job also does, at its interval); answers what changed;
//! `POST /v1/apps/{package}/catalog:push[?apply=true]` (admin key) with a catalog file — the
//! diff against Google, written only with `apply`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::JsonBody;
use crate::auth::{AdminKey, AppKey};
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/apps/{package}/catalog", get(show))
        .route("/v1/apps/{package}/catalog:sync", post(sync))
        .route("/v1/apps/{package}/catalog:push", post(push))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PushQuery {
    #[serde(default)]
    apply: bool,
}

async fn push(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
    query: Result<Query<PushQuery>, QueryRejection>,
    JsonBody(file): JsonBody<crate::catalog::CatalogFile>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let app = state.app(&package)?;
    let changes = crate::catalog::push(&state, &app, &file, q.apply).await?;
    Ok(Json(json!({"applied": q.apply, "changes": changes})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionQuery {
    #[serde(default)]
    region: Option<String>,
}

async fn show(
    _caller: AppKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
    query: Result<Query<RegionQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if let Some(r) = &q.region
        && !crate::is_code(r, 2)
    {
        return Err(ApiError::BadRequest(format!(
            "region: an ISO 3166-1 alpha-2 code such as US, not {r:?}"
        )));
    }
    let app = state.app(&package)?;
    let items = state.store.catalog(app.package.as_str()).await?;
    Ok(Json(crate::catalog::active_view(
        &items,
        q.region.as_deref(),
        &app.policy,
    )))
}

async fn sync(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let c = crate::catalog::sync(&state, &app).await?;
    Ok(Json(json!({
        "total": c.total,
        "added": c.added,
        "removed": c.removed,
        "updated": c.updated,
    })))
}
