//! Financial reports (admin key):
//! `POST /v1/reports:import` — imports the bucket's new or rewritten report files now (the
//! background job does so at its interval); answers what it imported;
//! `GET /v1/apps/{package}/reports/reconciliation?month=YYYY-MM` — the month reconciled with
//! what playbill recorded.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/reports:import", post(import))
        .route(
            "/v1/apps/{package}/reports/reconciliation",
            get(reconciliation),
        )
}

async fn import(_caller: AdminKey, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let s = crate::reports::import(&state).await?;
    Ok(Json(json!({
        "imported": s.imported,
        "unchanged": s.unchanged,
        "failed": s.failed.iter().map(|(f, e)| json!({"file": f, "error": e})).collect::<Vec<_>>(),
        "lines": s.lines,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    month: String,
}

async fn reconciliation(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
    query: Result<Query<MonthQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query
        .map_err(|e| ApiError::BadRequest(format!("{}; e.g. ?month=2026-11", e.body_text())))?;
    let app = state.app(&package)?;
    let r = crate::reports::reconcile(&state, &app, &q.month).await?;
    Ok(Json(json!({
        "month": r.month,
        "clean": r.is_clean(),
        "charged_not_recorded": r.charged_not_recorded,
        "granted_not_charged": r.granted_not_charged.iter()
            .map(|(order, token)| json!({"order_id": order, "purchase_token": token}))
            .collect::<Vec<_>>(),
        "refunded_not_revoked": r.refunded_not_revoked,
        "totals": r.totals.iter().map(|(currency, t)| (currency.clone(), json!({
            "gross_micros": t.gross_micros,
            "fees_micros": t.fees_micros,
            "tax_micros": t.tax_micros,
            "net_micros": t.net_micros,
        }))).collect::<serde_json::Map<_, _>>(),
    })))
}
