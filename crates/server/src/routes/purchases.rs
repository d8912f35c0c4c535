//! `POST /v1/apps/{package}/purchases:verify`: an app hands over a purchase token for a user.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use playbill_core::verify::{Outcome, VerifyRequest};
use playbill_core::{ProductId, ProductKind, PurchaseToken, UserId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{JsonBody, views};
use crate::auth::AppKey;
use crate::error::ApiError;
use crate::state::AppState;
use crate::verification;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/apps/{package}/purchases:verify", post(verify))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    user_id: String,
    product_id: String,
    purchase_token: String,
    #[serde(rename = "type")]
    kind: String,
}

fn field<T, E: std::fmt::Display>(name: &str, r: Result<T, E>) -> Result<T, ApiError> {
    r.map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
}

#[tracing::instrument(skip_all, fields(package = %package, caller = %caller.0))]
async fn verify(
    caller: AppKey,
    State(state): State<AppState>,
    Path(package): Path<String>,
    JsonBody(body): JsonBody<VerifyBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let app = state.app(&package)?;
    let req = VerifyRequest {
        package: app.package.clone(),
        user_id: field("user_id", UserId::parse(body.user_id))?,
        product_id: field("product_id", ProductId::parse(body.product_id))?,
        token: field("purchase_token", PurchaseToken::parse(body.purchase_token))?,
        kind: ProductKind::parse(&body.kind).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "type: must be \"subscription\" or \"one_time\", not {:?}",
                body.kind
            ))
        })?,
    };
    let user = req.user_id.clone();
    let verified = crate::rtdn::verify_and_link(&state, &app, req).await?;
    let entitlements = verification::current_entitlements(&state, &app, &user).await?;
    let status = match verified.outcome() {
        Outcome::Pending => StatusCode::ACCEPTED,
        Outcome::Entitled | Outcome::NotEntitled => StatusCode::OK,
    };
    Ok((
        status,
        Json(json!({
            "purchase": views::purchase(&verified.decision.record),
            "entitlements": views::rights(&entitlements),
        })),
    ))
}
