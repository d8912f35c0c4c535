//! API-key authentication as an extractor: a handler that takes [`AppKey`] only runs for a
//! request carrying `Authorization: Bearer <configured key>`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// The caller presented a configured API key; holds the key's name.
#[derive(Debug, Clone)]
pub struct AppKey(pub String);

impl FromRequestParts<AppState> for AppKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        state
            .api_keys
            .iter()
            .find(|k| constant_time_eq(k.key.as_bytes(), presented.as_bytes()))
            .map(|k| AppKey(k.name.clone()))
            .ok_or(ApiError::Unauthenticated)
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
