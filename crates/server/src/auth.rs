//! API-key authentication as extractors: a handler that takes [`AppKey`] only runs for a
//! request carrying `Authorization: Bearer <configured key>`; one that takes [`AdminKey`]
//! only for an admin key (an app key gets 403, no key 401).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::config::{ApiKeySetting, KeyRole};
use crate::error::ApiError;
use crate::state::AppState;

/// The caller presented a configured API key (any role); holds the key's name.
#[derive(Debug, Clone)]
pub struct AppKey(pub String);

/// The caller presented a configured admin key; holds the key's name.
#[derive(Debug, Clone)]
pub struct AdminKey(pub String);

/// The configured key the request presents.
fn presented_key<'s>(parts: &Parts, state: &'s AppState) -> Result<&'s ApiKeySetting, ApiError> {
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
        .ok_or(ApiError::Unauthenticated)
}

impl FromRequestParts<AppState> for AppKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        presented_key(parts, state).map(|k| AppKey(k.name.clone()))
    }
}

impl FromRequestParts<AppState> for AdminKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts, state)?;
        match key.role {
            KeyRole::Admin => Ok(AdminKey(key.name.clone())),
            KeyRole::App => Err(ApiError::PermissionDenied(format!(
                "this route needs an admin key; the key {:?} is an app key",
                key.name
            ))),
        }
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
