//! One error type for everything that can go wrong talking to Google, classified so callers
//! can tell "the token is bad" from "try again later" from "our configuration is wrong".

use std::time::Duration;

/// A failed Google call, after retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoogleError {
    /// 404: unknown token, order or package.
    #[error("not found at Google: {message}")]
    NotFound { message: String },
    /// 410: the token is too old (more than 60 days past expiry) or superseded.
    #[error("no longer available at Google: {message}")]
    Gone { message: String },
    /// 400: invalid input, e.g. token for another package or product.
    #[error("Google refused the request ({reason}): {message}")]
    InvalidArgument { reason: String, message: String },
    /// 403: our service account lacks permission, or the project is not linked.
    #[error("permission denied by Google: {message}")]
    PermissionDenied { message: String },
    /// 401 after a token refresh, or the token endpoint refused our assertion.
    #[error("Google did not accept our credentials: {message}")]
    Unauthenticated { message: String },
    /// 409: concurrent modification.
    #[error("conflict at Google: {message}")]
    Conflict { message: String },
    /// 429 after retries.
    #[error("rate limited by Google: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// 5xx or a network failure, after retries.
    #[error("Google unavailable: {message}")]
    Unavailable {
        retry_after: Option<Duration>,
        message: String,
    },
    /// Google answered 2xx with a body we could not read.
    #[error("unreadable answer from Google: {0}")]
    Decode(String),
    /// Local configuration problem (unreadable key file, bad private key).
    #[error("Google client configuration: {0}")]
    Config(String),
}

impl GoogleError {
    /// Whether the same call may succeed if repeated later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            GoogleError::RateLimited { .. } | GoogleError::Unavailable { .. }
        )
    }

    /// The delay Google asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GoogleError::RateLimited { retry_after, .. }
            | GoogleError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Classifies an HTTP error answer from Google.
    pub fn from_status(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let parsed = serde_json::from_slice::<crate::wire::ErrorEnvelope>(body).ok();
        let message = parsed
            .as_ref()
            .map(|e| e.error.message.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("HTTP {status}"));
        let reason = parsed
            .as_ref()
            .and_then(|e| e.error.errors.first().map(|i| i.reason.clone()))
            .unwrap_or_default();
        match status {
            400 => GoogleError::InvalidArgument { reason, message },
            401 => GoogleError::Unauthenticated { message },
            403 => GoogleError::PermissionDenied { message },
            404 => GoogleError::NotFound { message },
            409 => GoogleError::Conflict { message },
            410 => GoogleError::Gone { message },
            429 => GoogleError::RateLimited {
                retry_after,
                message,
            },
            500..=599 => GoogleError::Unavailable {
                retry_after,
                message,
            },
            _ => GoogleError::InvalidArgument { reason, message },
        }
    }
}
