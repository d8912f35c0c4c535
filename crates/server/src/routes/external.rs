//! External (alternative-billing) transactions (admin key: the app's backend reports them):
//! `POST /v1/apps/{package}/external-transactions` — 202 once stored (reported to Google
//! from the outbox), 200 for a repeat of the same transaction, 409 for the same id with
//! other details; `POST …/external-transactions/{id}:refund` — 202 once stored;
//! `GET …/external-transactions/{id}` — amounts, refunds and the state of each report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use playbill_google::observe::format_time;
use playbill_store::external::ExternalRecord;
use serde_json::{Value, json};

use super::JsonBody;
use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::external::{self, RefundBody, TransactionBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/apps/{package}/external-transactions", post(create))
        .route(
            "/v1/apps/{package}/external-transactions/{segment}",
            get(show).post(refund),
        )
}

fn view(t: &ExternalRecord) -> Value {
    json!({
        "external_transaction_id": t.transaction_id,
        "type": t.kind,
        "initial_external_transaction_id": t.series_id,
        "state": t.state,
        "transaction_time": format_time(t.transaction_time),
        "currency": t.currency,
        "original_pre_tax_amount_micros": t.original_pre_tax_micros,
        "original_tax_amount_micros": t.original_tax_micros,
        "current_pre_tax_amount_micros": t.current_pre_tax_micros,
        "current_tax_amount_micros": t.current_tax_micros,
        "refunds": t.refunds.iter().map(|r| json!({
            "refund_id": r.refund_id,
            "pre_tax_amount_micros": r.pre_tax_micros,
            "refund_time": format_time(r.refund_time),
        })).collect::<Vec<_>>(),
        "reports": t.deliveries.iter().map(|d| json!({
            "action": d.action,
            "refund_id": d.refund_id,
            "state": d.state,
            "attempts": d.attempts,
            "last_error": d.last_error,
            "deadline": format_time(d.deadline),
            "delivered_at": d.delivered_at.map(format_time),
        })).collect::<Vec<_>>(),
    })
}

async fn current(state: &AppState, package: &str, id: &str) -> Result<Value, ApiError> {
    let t = state
        .store
        .find_external(package, id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("no external transaction {id} is reported here"))
        })?;
    Ok(view(&t))
}

async fn create(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
    JsonBody(body): JsonBody<TransactionBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let app = state.app(&package)?;
    let new = external::accept(&state, &app, &body).await?;
    let view = current(&state, app.package.as_str(), &body.external_transaction_id).await?;
    let status = if new {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)))
}

async fn refund(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path((package, segment)): Path<(String, String)>,
    JsonBody(body): JsonBody<RefundBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(id) = segment.strip_suffix(":refund") else {
        return Err(ApiError::NotFound(
            "expected /external-transactions/{id}:refund".into(),
        ));
    };
    let app = state.app(&package)?;
    external::refund(&state, &app, id, &body).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(current(&state, app.package.as_str(), id).await?),
    ))
}

async fn show(
    _caller: AdminKey,
    State(state): State<AppState>,
    Path((package, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    Ok(Json(current(&state, app.package.as_str(), &id).await?))
}
