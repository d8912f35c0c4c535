//! Pub/Sub push delivery as Google does it: each message of a push subscription is POSTed to
//! its endpoint in the wrapped JSON envelope, with `Authorization: Bearer <OIDC JWT>` signed by
//! the sandbox's own key (JWKS at `/oauth2/v3/certs`, cached per `Cache-Control`) when the
//! subscription asks for one. 102/200/201/202/204 acknowledge; anything else, a connection
//! error or no answer within the ack deadline is retried with exponential backoff between the
//! subscription's `retryPolicy` bounds (default 1 s to 60 s here). Switches make every message
//! arrive twice, or hold messages briefly and deliver the newest first.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::header;
use axum::response::IntoResponse;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use playbill_google::pubsub::{PubsubMessage, PushEnvelope};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::GoogleApiError;
use crate::keys::IssuedKey;
use crate::state::{Shared, wall_ms};

/// The issuer Google puts in push tokens.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// Signs the OIDC tokens of push requests, as Google's accounts service does.
pub struct OidcSigner {
    kid: String,
    key: EncodingKey,
    pub jwks: JwkSet,
    /// Tokens signed lately, by (issuer, email, audience), with their `iat`: Pub/Sub reuses a
    /// push token for a while rather than signing one per message, so a receiver must take a
    /// token it has seen before (and an RSA signature per message would cost more than the
    /// delivery itself).
    recent: std::sync::Mutex<std::collections::HashMap<TokenFor, (i64, String)>>,
}

/// Whom a push token is for: (issuer, email, audience).
type TokenFor = (String, String, String);

/// How long a signed push token is reused (it is valid for an hour).
const TOKEN_REUSE_SECS: i64 = 300;

impl OidcSigner {
    pub fn generate() -> Result<Self, String> {
        let issued = IssuedKey::generate("oidc-signer@sandbox")?;
        let key = EncodingKey::from_rsa_pem(issued.private_key_pem.as_bytes())
            .map_err(|e| format!("OIDC key: {e}"))?;
        let mut jwk =
            Jwk::from_encoding_key(&key, Algorithm::RS256).map_err(|e| format!("OIDC JWK: {e}"))?;
        jwk.common.key_id = Some(issued.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self {
            kid: issued.kid,
            key,
            jwks: JwkSet { keys: vec![jwk] },
            recent: Default::default(),
        })
    }

    /// A push token for `audience`, signed as `email`: a recent one, or a new one.
    pub fn token(&self, issuer: &str, email: &str, audience: &str) -> String {
        let now = wall_ms() / 1000;
        let key = (issuer.to_owned(), email.to_owned(), audience.to_owned());
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((iat, token)) = recent.get(&key)
            && now.saturating_sub(*iat) < TOKEN_REUSE_SECS
        {
            return token.clone();
        }
        let token = self.sign(issuer, email, audience, now);
        if !token.is_empty() {
            recent.insert(key, (now, token.clone()));
        }
        token
    }

    fn sign(&self, issuer: &str, email: &str, audience: &str, iat: i64) -> String {
        let claims = json!({
            "aud": audience,
            "azp": "112233445566778899000",
            "email": email,
            "email_verified": true,
            "exp": iat + 3600,
            "iat": iat,
            "iss": issuer,
            "sub": "112233445566778899000",
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap_or_default()
    }
}

/// `GET /oauth2/v3/certs`: the JWKS push tokens verify against.
pub async fn certs(State(shared): State<Shared>) -> impl IntoResponse {
    let jwks = serde_json::to_value(&shared.lock().oidc.jwks).unwrap_or_default();
    (
        [(
            header::CACHE_CONTROL,
            "public, max-age=3600, must-revalidate, no-transform",
        )],
        Json(jwks),
    )
}

/// How push deliveries misbehave on purpose, to rehearse a backend's idempotency.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    /// Deliver every message twice.
    #[serde(default)]
    pub duplicate: bool,
    /// Hold each burst of messages until it has been quiet for a moment, then deliver the
    /// newest first.
    #[serde(default)]
    pub out_of_order: bool,
    /// `iss` of push tokens.
    #[serde(default = "google_issuer")]
    pub issuer: String,
    /// Deliveries a push subscription may have under way at once. 1 (the default) keeps
    /// publish order; Pub/Sub itself pushes many at once, in no promised order.
    #[serde(default = "one")]
    pub max_outstanding: usize,
}

fn one() -> usize {
    1
}

fn google_issuer() -> String {
    GOOGLE_ISSUER.into()
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            duplicate: false,
            out_of_order: false,
            issuer: google_issuer(),
            max_outstanding: 1,
        }
    }
}

/// `GET /sandbox/v1/delivery`
pub async fn get_delivery(State(shared): State<Shared>) -> Json<DeliverySettings> {
    Json(shared.lock().delivery.clone())
}

/// `PUT /sandbox/v1/delivery` with `{"duplicate", "out_of_order", "issuer"}`.
pub async fn put_delivery(
    State(shared): State<Shared>,
    b: Result<Json<DeliverySettings>, JsonRejection>,
) -> Result<Json<DeliverySettings>, GoogleApiError> {
    let d = crate::error::json_body(b)?;
    if !(1..=1000).contains(&d.max_outstanding) {
        return Err(GoogleApiError::invalid(
            "invalid",
            "max_outstanding must be between 1 and 1000",
        ));
    }
    shared.lock().delivery = d.clone();
    Ok(Json(d))
}

/// One push attempt, taken from a subscription's queue.
pub struct Job {
    pub subscription: String,
    pub endpoint: String,
    pub oidc: Option<(String, String)>,
    pub message: PubsubMessage,
    pub attempt: i32,
    pub duplicate: bool,
    pub timeout: Duration,
}

/// Runs push delivery until the process ends.
pub async fn run(shared: Shared) {
    let http = reqwest::Client::builder().build().unwrap_or_default();
    let mut busy = false;
    loop {
        // Look again at once while there is work, every few milliseconds otherwise.
        tokio::time::sleep(Duration::from_millis(if busy { 1 } else { 5 })).await;
        let jobs = {
            let mut world = shared.lock();
            let out_of_order = world.delivery.out_of_order;
            let max = world.delivery.max_outstanding;
            world.pubsub.take_push_jobs(wall_ms(), out_of_order, max)
        };
        busy = !jobs.is_empty();
        for job in jobs {
            let shared = shared.clone();
            let http = http.clone();
            tokio::spawn(async move {
                let ok = deliver(&shared, &http, &job).await;
                let mut world = shared.lock();
                let duplicate = world.delivery.duplicate;
                world.pubsub.push_done(job, ok, duplicate, wall_ms());
            });
        }
    }
}

async fn deliver(shared: &Shared, http: &reqwest::Client, job: &Job) -> bool {
    let envelope = PushEnvelope {
        message: job.message.clone(),
        subscription: job.subscription.clone(),
        delivery_attempt: None,
    };
    let mut body = serde_json::to_value(&envelope).unwrap_or(Value::Null);
    // Pub/Sub also sends the legacy snake_case copies.
    if let Some(m) = body.get_mut("message").and_then(Value::as_object_mut) {
        if let Some(id) = m.get("messageId").cloned() {
            m.insert("message_id".into(), id);
        }
        if let Some(t) = m.get("publishTime").cloned() {
            m.insert("publish_time".into(), t);
        }
    }
    let mut req = http.post(&job.endpoint).timeout(job.timeout).json(&body);
    if let Some((email, audience)) = &job.oidc {
        let (oidc, issuer) = {
            let world = shared.lock();
            (world.oidc.clone(), world.delivery.issuer.clone())
        };
        // Signed outside the world's lock: it is the slowest step of a delivery.
        let token = oidc.token(&issuer, email, audience);
        req = req.bearer_auth(token);
    }
    match req.send().await {
        Ok(r) => matches!(r.status().as_u16(), 102 | 200 | 201 | 202 | 204),
        Err(_) => false,
    }
}
