//! Errors in Google's envelope: `{"error": {"code", "message", "status", "errors": [...]}}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use playbill_google::wire::{ErrorBody, ErrorEnvelope, ErrorItem};

/// An error answer as Google would give it.
#[derive(Debug, Clone)]
pub struct GoogleApiError {
    pub status: StatusCode,
    pub reason: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
    /// `errors[].domain`; by default chosen from the status (androidpublisher's own).
    pub domain: Option<&'static str>,
}

impl GoogleApiError {
    pub fn new(status: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            message: message.into(),
            retry_after: None,
            domain: None,
        }
    }
    /// The same error in another API's `errors[].domain` (Pub/Sub and Storage say `global`).
    pub fn in_domain(mut self, domain: &'static str) -> Self {
        self.domain = Some(domain);
        self
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "notFound", message)
    }
    pub fn invalid(reason: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, reason, message)
    }
}

/// Google's canonical status name for an HTTP status.
pub fn canonical(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        410 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ if status.is_server_error() => "INTERNAL",
        _ => "FAILED_PRECONDITION",
    }
}

impl IntoResponse for GoogleApiError {
    fn into_response(self) -> Response {
        let domain = self.domain.unwrap_or(match self.status.as_u16() {
            429 => "usageLimits",
            401 | 403 => "global",
            _ => "androidpublisher",
        });
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.status.as_u16(),
                message: self.message.clone(),
                status: Some(canonical(self.status).to_owned()),
                errors: vec![ErrorItem {
                    domain: domain.into(),
                    reason: self.reason.into(),
                    message: self.message,
                    location: None,
                    location_type: None,
                }],
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// A JSON request body, or Google's 400 saying what is wrong with it.
pub fn json_body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, GoogleApiError> {
    b.map(|Json(t)| t).map_err(|e| {
        GoogleApiError::invalid(
            "invalid",
            format!("Invalid JSON payload: {}", e.body_text()),
        )
    })
}
