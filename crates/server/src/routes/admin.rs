//! Operators' actions on purchases, through Google (admin key only). Each is done at Google
//! first; then the purchase is re-read and stored (Google is the source of truth), and the
//! action joins the purchase's history as an `admin_action` event.
//!
//! - `POST /v1/apps/{package}/subscriptions/{token}:cancel` `{"cancellation_type"?}` —
//!   `USER_REQUESTED_STOP_RENEWALS` (default: as if the user canceled; access lasts until the
//!   paid period ends) or `DEVELOPER_REQUESTED_STOP_PAYMENTS`;
//! - `POST …/subscriptions/{token}:defer` `{"days": 1..=365}` — expiry and next charge later;
//! - `POST …/subscriptions/{token}:revoke` `{"refund": "full" | "prorated"}` — access ends now;
//! - `POST /v1/apps/{package}/orders/{order_id}:refund` `{"revoke"?: bool}` — a full refund of
//!   the order; with `revoke`, access ends now too.
//!
//! 404 when the token or order is not stored here; 400 for a bad body; Google's refusals
//! keep their meaning (e.g. 400 for a subscription already canceled).

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use playbill_core::{ProductKind, PurchaseRecord, PurchaseToken};
use playbill_google::wire::{
    CancelSubscriptionPurchaseRequest, CancellationContext, DeferSubscriptionPurchaseRequest,
    DeferralContext, Empty, RevocationContext, RevokeSubscriptionPurchaseRequest,
};
use playbill_store::{EventKind, NewEvent};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{JsonBody, views};
use crate::auth::AdminKey;
use crate::error::ApiError;
use crate::state::{App, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/apps/{package}/subscriptions/{segment}",
            post(subscription),
        )
        .route("/v1/apps/{package}/orders/{segment}", post(order))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SubscriptionAction {
    #[serde(default)]
    cancellation_type: Option<String>,
    #[serde(default)]
    days: Option<i64>,
    #[serde(default)]
    refund: Option<String>,
}

async fn subscription(
    caller: AdminKey,
    State(state): State<AppState>,
    Path((package, segment)): Path<(String, String)>,
    JsonBody(body): JsonBody<SubscriptionAction>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let Some((token, verb)) = segment.rsplit_once(':') else {
        return Err(ApiError::NotFound(
            "expected /subscriptions/{token}:cancel, :defer or :revoke".into(),
        ));
    };
    let token = PurchaseToken::parse(token.to_owned())
        .map_err(|e| ApiError::BadRequest(format!("token: {e}")))?;
    let stored = stored(&state, &app, &token).await?;
    if stored.kind != ProductKind::Subscription {
        return Err(ApiError::BadRequest(format!(
            "{verb}: the token is a one-time purchase; refund its order instead"
        )));
    }
    let play = &app.play;
    let pkg = app.package.as_str();
    let detail = match verb {
        "cancel" => {
            let kind = body
                .cancellation_type
                .unwrap_or_else(|| "USER_REQUESTED_STOP_RENEWALS".into());
            if !matches!(
                kind.as_str(),
                "USER_REQUESTED_STOP_RENEWALS" | "DEVELOPER_REQUESTED_STOP_PAYMENTS"
            ) {
                return Err(ApiError::BadRequest(
                    "cancellation_type: must be USER_REQUESTED_STOP_RENEWALS or DEVELOPER_REQUESTED_STOP_PAYMENTS".into(),
                ));
            }
            let request = CancelSubscriptionPurchaseRequest {
                cancellation_context: Some(CancellationContext {
                    cancellation_type: Some(kind.clone()),
                }),
            };
            play.cancel_subscription_v2(pkg, token.as_str(), &request)
                .await?;
            json!({"action": "cancel", "cancellation_type": kind})
        }
        "defer" => {
            let days = body
                .days
                .filter(|d| (1..=365).contains(d))
                .ok_or_else(|| ApiError::BadRequest("days: must be 1 to 365".into()))?;
            // Google defers only against the subscription as last read (its etag).
            let current = play.get_subscription_v2(pkg, token.as_str()).await?;
            let request = DeferSubscriptionPurchaseRequest {
                deferral_context: Some(DeferralContext {
                    defer_duration: Some(format!("{}s", days * 86_400)),
                    etag: current.value.etag.clone(),
                    validate_only: Some(false),
                }),
            };
            let answer = play
                .defer_subscription_v2(pkg, token.as_str(), &request)
                .await?;
            json!({"action": "defer", "days": days, "items": answer.item_expiry_time_details})
        }
        "revoke" => {
            let refund = body.refund.unwrap_or_default();
            let context = match refund.as_str() {
                "full" => RevocationContext {
                    full_refund: Some(Empty {}),
                    ..RevocationContext::default()
                },
                "prorated" => RevocationContext {
                    prorated_refund: Some(Empty {}),
                    ..RevocationContext::default()
                },
                _ => {
                    return Err(ApiError::BadRequest(
                        "refund: must be \"full\" or \"prorated\"".into(),
                    ));
                }
            };
            let request = RevokeSubscriptionPurchaseRequest {
                revocation_context: Some(context),
            };
            play.revoke_subscription_v2(pkg, token.as_str(), &request)
                .await?;
            json!({"action": "revoke", "refund": refund})
        }
        other => {
            return Err(ApiError::NotFound(format!(
                "no action {other:?} on subscriptions: cancel, defer or revoke"
            )));
        }
    };
    let revoked = verb == "revoke";
    done(&state, &app, &caller, stored, detail, revoked).await
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RefundBody {
    #[serde(default)]
    revoke: bool,
}

async fn order(
    caller: AdminKey,
    State(state): State<AppState>,
    Path((package, segment)): Path<(String, String)>,
    JsonBody(body): JsonBody<RefundBody>,
) -> Result<Json<Value>, ApiError> {
    let app = state.app(&package)?;
    let Some(order_id) = segment.strip_suffix(":refund") else {
        return Err(ApiError::NotFound(
            "expected /orders/{order_id}:refund".into(),
        ));
    };
    if order_id.is_empty() || order_id.len() > 200 {
        return Err(ApiError::BadRequest(
            "order_id: must be 1 to 200 characters".into(),
        ));
    }
    let stored = state
        .store
        .find_purchase_by_order(app.package.as_str(), order_id)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!("no purchase with order {order_id} is stored"))
        })?;
    app.play
        .refund_order(app.package.as_str(), order_id, body.revoke)
        .await?;
    let detail = json!({"action": "refund", "order_id": order_id, "revoke": body.revoke});
    done(&state, &app, &caller, stored, detail, body.revoke).await
}

async fn stored(
    state: &AppState,
    app: &App,
    token: &PurchaseToken,
) -> Result<PurchaseRecord, ApiError> {
    state
        .store
        .find_purchase(app.package.as_str(), token.as_str())
        .await?
        .ok_or_else(|| ApiError::NotFound("no purchase with this token is stored here".into()))
}

/// After Google took the action: the event; a revocation ends access now and for good (as a
/// void does: Google's read may lag); the purchase re-read and stored. Answers the purchase as
/// stored now.
async fn done(
    state: &AppState,
    app: &App,
    caller: &AdminKey,
    stored: PurchaseRecord,
    mut detail: Value,
    revoked: bool,
) -> Result<Json<Value>, ApiError> {
    let package = app.package.as_str();
    let now = state.clock.now_ms();
    detail["by"] = json!(caller.0);
    let event = |kind| NewEvent {
        kind,
        package: package.to_owned(),
        token: stored.token.as_str().to_owned(),
        user_id: Some(stored.user_id.as_str().to_owned()),
        detail: detail.clone(),
        at: now,
    };
    tracing::info!(action = %detail["action"], caller = %caller.0, "admin action taken at Google");
    state
        .store
        .append_event(&event(EventKind::AdminAction))
        .await?;
    if revoked {
        state
            .store
            .revoke(package, stored.token.as_str(), &event(EventKind::Revoked))
            .await?;
    }
    if let Err(e) =
        crate::rtdn::refresh(state, app, stored.token.clone(), stored.kind, None, None).await
    {
        // Done at Google; its notification (or the next read) brings the new state.
        tracing::warn!(error = %e, "the purchase could not be re-read after an admin action");
    }
    let now_stored = state
        .store
        .find_purchase(package, stored.token.as_str())
        .await?
        .unwrap_or(stored);
    Ok(Json(json!({
        "done": detail,
        "purchase": views::purchase(&now_stored),
    })))
}
