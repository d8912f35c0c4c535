//! Authentication of Cloud Pub/Sub push requests: each push carries `Authorization: Bearer
//! <JWT>`, an OIDC ID token Google signed (RS256) for the subscription's service account.
//!
//! [`PushVerifier::verify`] checks, in order: the configuration names an audience and an email
//! (else every push is refused, 403); the header is a Bearer token; the JWT header says RS256
//! and names a `kid`; the signature verifies against Google's key of that `kid` (JWKS from
//! [`PushAuthSettings::jwks_url`]); `exp`, `nbf` and `iat` are within
//! [`PushAuthSettings::leeway_seconds`]; `iss` is one of the configured issuers (all 401 when
//! wrong); `aud` is exactly the configured audience, `email` the configured service account
//! and `email_verified` true (403 when wrong). Signing keys that cannot be fetched, with no
//! cached key that fits, are a 503: a transient failure Pub/Sub retries.
//!
//! Keys are cached for the JWKS response's `Cache-Control: max-age` (one hour without it). A
//! `kid` missing from the cache forces one refetch, at most one per [`FORCED_REFETCH_INTERVAL`]
//! so a flood of made-up `kid`s cannot hammer Google. A failed fetch keeps the old keys in
//! service and is not retried for [`FAILED_FETCH_BACKOFF`]. Fetches are serialized: concurrent
//! verifications wait for the one in flight instead of starting their own.
//!
//! Tokens are never logged; the `kid` and the failure reason are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

/// Google's JWKS for OIDC ID tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// The issuers Google puts in ID tokens.
pub const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// How long keys stay fresh when the JWKS response has no `Cache-Control: max-age`.
pub const DEFAULT_KEY_LIFETIME: Duration = Duration::from_secs(3600);
/// Upper bound on a `max-age`, whatever the response says.
pub const MAX_KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// At most one refetch forced by an unknown `kid` per this interval.
pub const FORCED_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// After a failed fetch, no other fetch is tried for this long (old keys stay in service).
pub const FAILED_FETCH_BACKOFF: Duration = Duration::from_secs(2);
/// Timeout of one JWKS fetch.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest token accepted (Google's are about 1 KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What a push must prove (all configurable; production defaults in `Default`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PushAuthSettings {
    /// Where Google's signing keys are published (a JWKS).
    pub jwks_url: String,
    /// Accepted `iss` values.
    pub issuers: Vec<String>,
    /// The `aud` the push subscription's `oidcToken.audience` sets; matched exactly. Empty
    /// refuses every push.
    pub audience: String,
    /// The push subscription's `oidcToken.serviceAccountEmail`; matched exactly. Empty refuses
    /// every push.
    pub service_account_email: String,
    /// Clock skew allowed on `exp`, `iat` and `nbf`.
    pub leeway_seconds: u64,
}

impl Default for PushAuthSettings {
    fn default() -> Self {
        Self {
            jwks_url: GOOGLE_JWKS_URL.into(),
            issuers: GOOGLE_ISSUERS.iter().map(|s| (*s).to_owned()).collect(),
            audience: String::new(),
            service_account_email: String::new(),
            leeway_seconds: 60,
        }
    }
}

/// What a verified push token says.
#[derive(Debug, Clone, PartialEq)]
pub struct PushClaims {
    /// The service account that signed the push (`email`).
    pub email: String,
    /// Its unique id (`sub`).
    pub subject: String,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// `exp`, Unix seconds.
    pub expires_at: i64,
}

/// Why a push was refused. Messages are safe to return to the caller: they never echo the
/// token.
#[derive(Debug, thiserror::Error)]
pub enum PushAuthError {
    #[error(
        "push authentication is not configured: an audience and a service account email are required"
    )]
    NotConfigured,
    #[error("missing Authorization header: send Authorization: Bearer <OIDC token>")]
    MissingToken,
    #[error("Authorization header is not a Bearer token")]
    NotBearer,
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    #[error("token algorithm {0} is not accepted: RS256 only")]
    Algorithm(String),
    #[error("token names no signing key (kid)")]
    MissingKeyId,
    #[error("token signing key is unknown")]
    UnknownKey,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued in the future")]
    IssuedInFuture,
    #[error("token issuer is not accepted")]
    Issuer,
    #[error("token audience does not match")]
    Audience,
    #[error("token email is not the push service account")]
    Email,
    #[error("token email is not verified")]
    EmailNotVerified,
    #[error("Google's signing keys are unavailable; try again later")]
    KeysUnavailable,
}

impl PushAuthError {
    /// 401 for a missing or invalid token, 403 for a valid token that is not ours (or when
    /// nothing is configured to accept), 503 when Google's keys cannot be fetched.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotConfigured | Self::Audience | Self::Email | Self::EmailNotVerified => {
                StatusCode::FORBIDDEN
            }
            Self::KeysUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::MissingToken
            | Self::NotBearer
            | Self::Malformed(_)
            | Self::Algorithm(_)
            | Self::MissingKeyId
            | Self::UnknownKey
            | Self::BadSignature
            | Self::Expired
            | Self::NotYetValid
            | Self::IssuedInFuture
            | Self::Issuer => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Verifies push tokens; holds the key cache. Cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct PushVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PushAuthSettings,
    http: reqwest::Client,
    cache: Mutex<KeyCache>,
    /// Held for the whole of a fetch: one fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    /// Keys are fresh until then; `None` before the first successful fetch.
    fresh_until: Option<Instant>,
    /// No fetch before then (set by a failed fetch).
    retry_at: Option<Instant>,
    /// Whether the latest fetch failed.
    unreachable: bool,
    last_forced: Option<Instant>,
}

impl KeyCache {
    fn is_fresh(&self, now: Instant) -> bool {
        self.fresh_until.is_some_and(|t| now < t)
    }
    fn may_fetch(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|t| now >= t)
    }
    fn may_force(&self, now: Instant) -> bool {
        self.last_forced
            .is_none_or(|t| now.duration_since(t) >= FORCED_REFETCH_INTERVAL)
    }
}

impl std::fmt::Debug for PushVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushVerifier")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// The claims read from a token whose signature verified. Loosely typed: each is checked by
/// hand so that a wrong claim gets its own error.
#[derive(Deserialize)]
struct RawClaims {
    #[serde(default)]
    iss: Option<Value>,
    #[serde(default)]
    aud: Option<Value>,
    #[serde(default)]
    email: Option<Value>,
    #[serde(default)]
    email_verified: Option<Value>,
    #[serde(default)]
    sub: Option<Value>,
    #[serde(default)]
    iat: Option<Value>,
    #[serde(default)]
    exp: Option<Value>,
}

impl PushVerifier {
    pub fn new(settings: PushAuthSettings, http: reqwest::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                http,
                cache: Mutex::new(KeyCache {
                    keys: HashMap::new(),
                    fresh_until: None,
                    retry_at: None,
                    unreachable: false,
                    last_forced: None,
                }),
                fetching: tokio::sync::Mutex::new(()),
            }),
        }
    }

    pub fn settings(&self) -> &PushAuthSettings {
        &self.inner.settings
    }

    /// `authorization`: the raw Authorization header value, if any.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<PushClaims, PushAuthError> {
        let result = self.verify_inner(authorization).await;
        if let Err(e) = &result {
            tracing::debug!(error = %e, "push authentication refused");
        }
        result
    }

    async fn verify_inner(&self, authorization: Option<&str>) -> Result<PushClaims, PushAuthError> {
        let s = &self.inner.settings;
        if s.audience.is_empty() || s.service_account_email.is_empty() {
            return Err(PushAuthError::NotConfigured);
        }
        let token = bearer_token(authorization)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| PushAuthError::Malformed("the JWT header cannot be read"))?;
        if header.alg != Algorithm::RS256 {
            return Err(PushAuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let kid = header
            .kid
            .filter(|k| !k.is_empty())
            .ok_or(PushAuthError::MissingKeyId)?;
        let key = self.key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = s.leeway_seconds;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        // `iss` and `aud` are checked by hand below: exact strings, and their own errors.
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        let data = jsonwebtoken::decode::<RawClaims>(token, &key, &validation)
            .map_err(|e| map_jwt_error(&e))?;
        let claims = data.claims;

        let now = i64::try_from(jsonwebtoken::get_current_timestamp()).unwrap_or(i64::MAX);
        let leeway = i64::try_from(s.leeway_seconds).unwrap_or(i64::MAX);
        let expires_at = claims
            .exp
            .as_ref()
            .and_then(Value::as_i64)
            .ok_or(PushAuthError::Malformed("exp is not a number"))?;
        let issued_at = claims
            .iat
            .as_ref()
            .and_then(Value::as_i64)
            .ok_or(PushAuthError::Malformed("iat is missing or not a number"))?;
        if issued_at > now.saturating_add(leeway) {
            return Err(PushAuthError::IssuedInFuture);
        }
        let iss = claims.iss.as_ref().and_then(Value::as_str);
        if !iss.is_some_and(|iss| s.issuers.iter().any(|ok| ok == iss)) {
            return Err(PushAuthError::Issuer);
        }
        if claims.aud.as_ref().and_then(Value::as_str) != Some(s.audience.as_str()) {
            return Err(PushAuthError::Audience);
        }
        let email = claims.email.as_ref().and_then(Value::as_str);
        if email != Some(s.service_account_email.as_str()) {
            return Err(PushAuthError::Email);
        }
        // Google has sent `email_verified` both as a boolean and as the string "true".
        let verified = match &claims.email_verified {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(v)) => v == "true",
            _ => false,
        };
        if !verified {
            return Err(PushAuthError::EmailNotVerified);
        }
        let subject = claims
            .sub
            .as_ref()
            .and_then(Value::as_str)
            .ok_or(PushAuthError::Malformed("sub is missing"))?
            .to_owned();
        Ok(PushClaims {
            email: s.service_account_email.clone(),
            subject,
            issued_at,
            expires_at,
        })
    }

    fn cache(&self) -> MutexGuard<'_, KeyCache> {
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key of `kid`: from the cache while fresh, else after a refresh; an unknown `kid`
    /// forces one refetch (rate-limited).
    async fn key(&self, kid: &str) -> Result<DecodingKey, PushAuthError> {
        {
            let cache = self.cache();
            if cache.is_fresh(Instant::now())
                && let Some(k) = cache.keys.get(kid)
            {
                return Ok(k.clone());
            }
        }
        let _fetching = self.inner.fetching.lock().await;
        // Another verification may have fetched while this one waited: look again.
        let now = Instant::now();
        let (stale, may_fetch) = {
            let cache = self.cache();
            (!cache.is_fresh(now), cache.may_fetch(now))
        };
        let mut fetched = false;
        if stale && may_fetch {
            self.refresh(now).await;
            fetched = true;
        }
        let now = Instant::now();
        let force = {
            let mut cache = self.cache();
            if let Some(k) = cache.keys.get(kid) {
                return Ok(k.clone());
            }
            let force = !fetched && cache.may_fetch(now) && cache.may_force(now);
            if force {
                cache.last_forced = Some(now);
            }
            force
        };
        if force {
            tracing::info!(
                kid,
                "push token names an unknown key: refetching Google's keys"
            );
            self.refresh(now).await;
        }
        let cache = self.cache();
        if let Some(k) = cache.keys.get(kid) {
            return Ok(k.clone());
        }
        if cache.unreachable {
            Err(PushAuthError::KeysUnavailable)
        } else {
            tracing::warn!(kid, "push token names a key Google does not publish");
            Err(PushAuthError::UnknownKey)
        }
    }

    /// Fetches the JWKS and replaces the cached keys; on failure keeps them and backs off.
    async fn refresh(&self, now: Instant) {
        match self.fetch().await {
            Ok((keys, lifetime)) => {
                tracing::debug!(
                    keys = keys.len(),
                    ?lifetime,
                    "fetched Google's signing keys"
                );
                let mut cache = self.cache();
                cache.keys = keys;
                cache.fresh_until = Some(Instant::now() + lifetime);
                cache.retry_at = None;
                cache.unreachable = false;
            }
            Err(reason) => {
                let mut cache = self.cache();
                tracing::warn!(
                    url = %self.inner.settings.jwks_url,
                    cached_keys = cache.keys.len(),
                    %reason,
                    "cannot fetch Google's signing keys; keeping the cached ones"
                );
                cache.retry_at = Some(now + FAILED_FETCH_BACKOFF);
                cache.unreachable = true;
            }
        }
    }

    async fn fetch(&self) -> Result<(HashMap<String, DecodingKey>, Duration), String> {
        let response = self
            .inner
            .http
            .get(&self.inner.settings.jwks_url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("answered HTTP {status}"));
        }
        let lifetime = key_lifetime(response.headers());
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("body is not JSON: {e}"))?;
        let keys = parse_jwks(&body)?;
        Ok((keys, lifetime))
    }
}

/// The token of `Bearer <token>` (scheme case-insensitive).
fn bearer_token(authorization: Option<&str>) -> Result<&str, PushAuthError> {
    let value = authorization
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(PushAuthError::MissingToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(PushAuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(PushAuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(PushAuthError::Malformed("empty"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(PushAuthError::Malformed("too long"));
    }
    Ok(token)
}

fn map_jwt_error(e: &jsonwebtoken::errors::Error) -> PushAuthError {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => PushAuthError::BadSignature,
        ErrorKind::ExpiredSignature => PushAuthError::Expired,
        ErrorKind::ImmatureSignature => PushAuthError::NotYetValid,
        ErrorKind::InvalidAlgorithm => PushAuthError::Algorithm("not RS256".into()),
        ErrorKind::MissingRequiredClaim(_) => PushAuthError::Malformed("exp is missing"),
        ErrorKind::InvalidClaimFormat(_) => PushAuthError::Malformed("exp or nbf is not a number"),
        ErrorKind::Json(_) => PushAuthError::Malformed("claims are not a JSON object"),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) => {
            PushAuthError::Malformed("not base64url-encoded JSON")
        }
        ErrorKind::InvalidToken => PushAuthError::Malformed("not a JWT"),
        _ => PushAuthError::BadSignature,
    }
}

/// Freshness from `Cache-Control: max-age` (less `Age`), else [`DEFAULT_KEY_LIFETIME`];
/// `no-cache`/`no-store` mean zero.
fn key_lifetime(headers: &HeaderMap) -> Duration {
    let mut max_age = None;
    for value in headers.get_all(header::CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let directive = directive.trim();
            let (name, arg) = match directive.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim().trim_matches('"'))),
                None => (directive, None),
            };
            if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
                return Duration::ZERO;
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Some(secs) = arg.and_then(|a| a.parse::<u64>().ok())
            {
                max_age = Some(secs);
            }
        }
    }
    let Some(max_age) = max_age else {
        return DEFAULT_KEY_LIFETIME;
    };
    let age = headers
        .get(header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Duration::from_secs(max_age.saturating_sub(age)).min(MAX_KEY_LIFETIME)
}

/// The RSA signing keys of a JWKS, by `kid`. Keys of other types or uses, or that do not
/// parse, are skipped; a JWKS with none usable is an error.
fn parse_jwks(body: &Value) -> Result<HashMap<String, DecodingKey>, String> {
    let entries = body
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("JWKS has no \"keys\" array")?;
    let mut keys = HashMap::new();
    for entry in entries {
        let Ok(jwk) = serde_json::from_value::<Jwk>(entry.clone()) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone().filter(|k| !k.is_empty()) else {
            continue;
        };
        if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_))
            || !matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256))
            || !matches!(
                jwk.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            )
        {
            continue;
        }
        if let Ok(key) = DecodingKey::from_jwk(&jwk) {
            keys.insert(kid, key);
        }
    }
    if keys.is_empty() {
        return Err("JWKS holds no RS256 signing key".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn key_lifetime_follows_cache_control() {
        assert_eq!(key_lifetime(&headers(&[])), DEFAULT_KEY_LIFETIME);
        assert_eq!(
            key_lifetime(&headers(&[(
                header::CACHE_CONTROL,
                "public, max-age=19766, must-revalidate, no-transform"
            )])),
            Duration::from_secs(19766)
        );
        assert_eq!(
            key_lifetime(&headers(&[
                (header::CACHE_CONTROL, "public, max-age=100"),
                (header::AGE, "40"),
            ])),
            Duration::from_secs(60)
        );
        assert_eq!(
            key_lifetime(&headers(&[(header::CACHE_CONTROL, "public, s-maxage=50")])),
            DEFAULT_KEY_LIFETIME
        );
        assert_eq!(
            key_lifetime(&headers(&[(header::CACHE_CONTROL, "no-store")])),
            Duration::ZERO
        );
        assert_eq!(
            key_lifetime(&headers(&[(header::CACHE_CONTROL, "max-age=999999999")])),
            MAX_KEY_LIFETIME
        );
    }

    #[test]
    fn bearer_header_forms() {
        assert!(matches!(
            bearer_token(None),
            Err(PushAuthError::MissingToken)
        ));
        assert!(matches!(
            bearer_token(Some("  ")),
            Err(PushAuthError::MissingToken)
        ));
        assert!(matches!(
            bearer_token(Some("Basic abc")),
            Err(PushAuthError::NotBearer)
        ));
        assert!(matches!(
            bearer_token(Some("abc.def.ghi")),
            Err(PushAuthError::NotBearer)
        ));
        assert!(matches!(
            bearer_token(Some("Bearer  ")),
            Err(PushAuthError::NotBearer)
        ));
        assert_eq!(bearer_token(Some("bearer a.b.c")).unwrap(), "a.b.c");
        assert_eq!(bearer_token(Some("Bearer a.b.c")).unwrap(), "a.b.c");
    }

    #[test]
    fn jwks_skips_unusable_keys() {
        let body = serde_json::json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "ec"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "enc", "use": "enc"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "ps", "alg": "PS256"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "ok", "alg": "RS256", "use": "sig"},
            {"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "weird", "alg": "XX999"},
        ]});
        let keys = parse_jwks(&body).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["ok"]);
        assert!(parse_jwks(&serde_json::json!({"keys": []})).is_err());
        assert!(parse_jwks(&serde_json::json!({})).is_err());
    }

    #[test]
    fn statuses() {
        assert_eq!(PushAuthError::Expired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(PushAuthError::Audience.status(), StatusCode::FORBIDDEN);
        assert_eq!(PushAuthError::NotConfigured.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            PushAuthError::KeysUnavailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
