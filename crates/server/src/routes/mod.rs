//! The HTTP API: one module per resource, each with its `router()`, merged here.

mod admin;
mod catalog;
mod entitlements;
mod external;
mod grants;
mod health;
mod history;
mod purchases;
mod reports;
mod reviews;
mod rtdn;
pub mod views;

use axum::Router;
use axum::extract::FromRequest;
use axum::extract::Request;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// Every route; the RTDN push endpoint at `push_path` when notifications are configured.
pub fn router(push_path: Option<&str>) -> Router<AppState> {
    let mut router = Router::new()
        .merge(health::router())
        .merge(purchases::router())
        .merge(entitlements::router())
        .merge(grants::router())
        .merge(admin::router())
        .merge(external::router())
        .merge(reports::router())
        .merge(catalog::router())
        .merge(history::router())
        .merge(reviews::router())
        .merge(rtdn::router());
    if let Some(path) = push_path {
        router = router.route(path, axum::routing::post(rtdn::push));
    }
    router
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// `Json` whose rejections are [`ApiError`]s (so bad bodies get our JSON error shape).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(t) = axum::Json::<T>::from_request(req, state).await?;
        Ok(JsonBody(t))
    }
}
