//! `ApiError`: the one error type of the HTTP API. The variant decides the status; the body
//! is always `{"error": {"code", "status", "message"}}`. Internal causes are logged, never
//! returned. The conversions from core, store and google errors live here only.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playbill_core::verify::Rejection;
use playbill_google::GoogleError;
use playbill_store::StoreError;
use serde_json::json;

/// Retry-After sent with 503 when Google gave none.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or unknown API key: send Authorization: Bearer <key>")]
    Unauthenticated,
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("request body larger than {} bytes", crate::startup::MAX_BODY_BYTES)]
    TooLarge,
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// Google refused our own credentials or answered nonsense: an operator must look.
    #[error("{0}")]
    BadGateway(String),
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after: Duration,
    },
    /// Details are logged; the client sees a generic message.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The canonical status name in the body.
    pub fn canonical(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) | ApiError::Unprocessable(_) | ApiError::TooLarge => {
                "INVALID_ARGUMENT"
            }
            ApiError::MethodNotAllowed => "UNIMPLEMENTED",
            ApiError::Unauthenticated => "UNAUTHENTICATED",
            ApiError::PermissionDenied(_) => "PERMISSION_DENIED",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict(_) => "ALREADY_EXISTS",
            ApiError::Gone(_) => "GONE",
            ApiError::BadGateway(_) | ApiError::Internal(_) => "INTERNAL",
            ApiError::Unavailable { .. } => "UNAVAILABLE",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                "internal error; the server log has the details".to_owned()
            }
            ApiError::BadGateway(detail) => {
                // The detail may name our service account or quote the token endpoint: log it.
                tracing::error!(%detail, "Google refused or garbled a call");
                "Google refused playbill's credentials or answered unusably; the server log has the details".to_owned()
            }
            ApiError::Unavailable { message, .. } if message.starts_with("database") => {
                tracing::error!(%message, "database unavailable");
                "database unavailable; try again later".to_owned()
            }
            other => other.to_string(),
        };
        let body = json!({"error": {"code": status.as_u16(), "status": self.canonical(), "message": message}});
        let mut resp = (status, Json(body)).into_response();
        match &self {
            ApiError::Unavailable { retry_after, .. } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Unauthenticated => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}

impl From<GoogleError> for ApiError {
    fn from(e: GoogleError) -> Self {
        match e {
            GoogleError::NotFound { message } => ApiError::NotFound(format!(
                "Google does not know this purchase token for this app: {message}"
            )),
            GoogleError::Gone { message } => ApiError::Gone(format!(
                "the purchase token is too old to be verified (more than 60 days past expiry) or was superseded: {message}"
            )),
            GoogleError::InvalidArgument { reason, message } => ApiError::Unprocessable(format!(
                "Google refused the token for this app or product ({reason}): {message}"
            )),
            GoogleError::Conflict { message } => ApiError::Conflict(message),
            GoogleError::RateLimited {
                retry_after,
                message,
            }
            | GoogleError::Unavailable {
                retry_after,
                message,
            } => ApiError::Unavailable {
                message: format!("Google Play is unavailable, try again later: {message}"),
                retry_after: retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
            },
            GoogleError::PermissionDenied { message }
            | GoogleError::Unauthenticated { message } => ApiError::BadGateway(format!(
                "Google refused playbill's service account; check its access in Play Console: {message}"
            )),
            GoogleError::Decode(m) | GoogleError::Config(m) => {
                ApiError::BadGateway(format!("cannot use Google's answer: {m}"))
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable {
                message: format!("database unavailable: {m}"),
                retry_after: Duration::from_secs(5),
            },
            StoreError::Conflict(c) => ApiError::Conflict(format!("conflicting write ({c})")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        match r {
            Rejection::ProductMismatch { .. } => ApiError::Unprocessable(r.to_string()),
            Rejection::BoundToOtherUser => ApiError::Conflict(r.to_string()),
            Rejection::AccountMismatch => ApiError::PermissionDenied(r.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::TooLarge;
        }
        ApiError::BadRequest(format!("invalid JSON body: {}", r.body_text()))
    }
}
