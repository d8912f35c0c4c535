//! OAuth 2.0 for service accounts (JWT-bearer grant, RFC 7523), as Google documents it:
//! sign a short JWT with the key file's private key, post it to the key file's `token_uri`,
//! cache the access token and refresh it a few minutes before it expires.
//!
//! Hand-written (about a page) rather than a crate because it must talk to whatever
//! `token_uri` says — Google in production, the sandbox in tests — and stay small.

use std::path::Path;
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::GoogleError;

/// The fields of a Google service-account JSON key file that the flow uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    pub client_email: String,
    pub private_key: String,
    pub private_key_id: String,
    pub token_uri: String,
    #[serde(default)]
    pub project_id: Option<String>,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    pub fn from_json(json: &str) -> Result<Self, GoogleError> {
        serde_json::from_str(json)
            .map_err(|e| GoogleError::Config(format!("service-account key is not valid: {e}")))
    }

    pub fn from_file(path: &Path) -> Result<Self, GoogleError> {
        let json = std::fs::read_to_string(path).map_err(|e| {
            GoogleError::Config(format!(
                "cannot read service-account key {}: {e}",
                path.display()
            ))
        })?;
        Self::from_json(&json)
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Refresh this long before Google's stated expiry.
const EARLY_REFRESH: Duration = Duration::from_secs(300);

/// Hands out access tokens for one service account and one set of scopes.
pub struct TokenSource {
    key: ServiceAccountKey,
    signer: EncodingKey,
    scope: String,
    http: reqwest::Client,
    cached: Mutex<Option<(String, Instant)>>,
}

impl TokenSource {
    pub fn new(
        key: ServiceAccountKey,
        scopes: &[&str],
        http: reqwest::Client,
    ) -> Result<Self, GoogleError> {
        let signer = EncodingKey::from_rsa_pem(key.private_key.as_bytes()).map_err(|e| {
            GoogleError::Config(format!(
                "private_key of {} is not an RSA PEM key: {e}",
                key.client_email
            ))
        })?;
        Ok(Self {
            key,
            signer,
            scope: scopes.join(" "),
            http,
            cached: Mutex::new(None),
        })
    }

    pub fn client_email(&self) -> &str {
        &self.key.client_email
    }

    /// A valid access token, fetched only when the cached one is missing or about to expire.
    /// Concurrent callers wait for one fetch instead of each starting their own.
    pub async fn token(&self) -> Result<String, GoogleError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, refresh_at)) = cached.as_ref()
            && Instant::now() < *refresh_at
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        let refresh_at = Instant::now() + lifetime.saturating_sub(EARLY_REFRESH);
        *cached = Some((token.clone(), refresh_at));
        Ok(token)
    }

    /// Forgets the cached token (after Google answered 401 with it).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn fetch(&self) -> Result<(String, Duration), GoogleError> {
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = Claims {
            iss: &self.key.client_email,
            scope: &self.scope,
            aud: &self.key.token_uri,
            iat,
            exp: iat + 3600,
        };
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key.private_key_id.clone());
        let assertion = jsonwebtoken::encode(&header, &claims, &self.signer)
            .map_err(|e| GoogleError::Config(format!("cannot sign token request: {e}")))?;
        let resp = self
            .http
            .post(&self.key.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(|e| GoogleError::Unavailable {
                retry_after: None,
                message: format!("token endpoint unreachable: {e}"),
            })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap_or_default();
        if status >= 500 || status == 429 {
            return Err(GoogleError::Unavailable {
                retry_after: None,
                message: format!("token endpoint answered HTTP {status}"),
            });
        }
        if !(200..300).contains(&status) {
            return Err(GoogleError::Unauthenticated {
                message: format!(
                    "token endpoint refused the service account {} (HTTP {status}): {}",
                    self.key.client_email,
                    String::from_utf8_lossy(&body)
                ),
            });
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| GoogleError::Decode(format!("token endpoint answer: {e}")))?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        Ok((parsed.access_token, lifetime))
    }
}
