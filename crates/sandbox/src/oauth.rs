//! The OAuth 2.0 token endpoint (`POST /token`), JWT-bearer grant as Google implements it:
//! the assertion must be signed by a key the sandbox issued, name that key's service account
//! as `iss`, be addressed to this endpoint (or to `https://oauth2.googleapis.com/token`,
//! which Google's Python google-auth always sends) and be unexpired.

use std::collections::HashSet;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::json;

use crate::state::{AccessToken, Shared, random_token, wall_ms};

pub const GOOGLE_TOKEN_AUDIENCE: &str = "https://oauth2.googleapis.com/token";
const TOKEN_LIFETIME_S: i64 = 3599;

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    assertion: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    #[serde(default)]
    scope: String,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

pub async fn token(State(shared): State<Shared>, Form(form): Form<TokenForm>) -> Response {
    if form.grant_type != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
        return oauth_error(
            "unsupported_grant_type",
            "Invalid grant_type: only urn:ietf:params:oauth:grant-type:jwt-bearer is supported",
        );
    }
    let Ok(header) = jsonwebtoken::decode_header(&form.assertion) else {
        return oauth_error("invalid_grant", "Invalid JWT: malformed assertion");
    };
    let mut world = shared.lock();
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| world.keys.get(kid))
        .cloned();
    let Some(key) = key else {
        return oauth_error("invalid_grant", "Invalid JWT Signature.");
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.leeway = 60;
    v.set_audience(&[
        format!("{}/token", world.base_url).as_str(),
        GOOGLE_TOKEN_AUDIENCE,
    ]);
    v.set_issuer(&[key.client_email.as_str()]);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = match jsonwebtoken::decode::<Claims>(&form.assertion, &key.public_key, &v) {
        Ok(data) => data.claims,
        Err(e) => {
            use jsonwebtoken::errors::ErrorKind as K;
            let why = match e.kind() {
                K::InvalidSignature => "Invalid JWT Signature.".to_owned(),
                K::ExpiredSignature => "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.".to_owned(),
                K::InvalidAudience => "Invalid JWT: audience is not this token endpoint".to_owned(),
                K::InvalidIssuer => "Invalid JWT: iss is not the key's service account".to_owned(),
                other => format!("Invalid JWT: {other:?}"),
            };
            return oauth_error("invalid_grant", &why);
        }
    };
    let _ = claims.iss;
    let scopes: Vec<String> = claims
        .scope
        .split_whitespace()
        .map(str::to_owned)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if scopes.is_empty() {
        return oauth_error(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    let access = random_token("ya29.sandbox-", 64);
    world.access_tokens.insert(
        access.clone(),
        AccessToken {
            scopes,
            expires_at_wall_ms: wall_ms() + TOKEN_LIFETIME_S * 1000,
        },
    );
    Json(json!({
        "access_token": access,
        "expires_in": TOKEN_LIFETIME_S,
        "token_type": "Bearer"
    }))
    .into_response()
}
