//! Pub/Sub push authentication (`playbill_server::oidc`): tokens signed like Google's, checked
//! against a JWKS served by a tiny local server whose answers (keys, Cache-Control, failures,
//! delay) each test controls and whose hits it counts.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use playbill_sandbox::keys::IssuedKey;
use playbill_sandbox::push::{GOOGLE_ISSUER, OidcSigner};
use playbill_server::oidc::{PushAuthError, PushAuthSettings, PushClaims, PushVerifier};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://playbill.example/v1/pubsub/push";
const EMAIL: &str = "rtdn-push@my-project.iam.gserviceaccount.com";

// ---------------------------------------------------------------------------------------------
// The JWKS server.

struct JwksState {
    jwks: Value,
    cache_control: Option<String>,
    fail: bool,
    delay: Duration,
}

#[derive(Clone)]
struct Jwks {
    url: String,
    hits: Arc<AtomicUsize>,
    state: Arc<Mutex<JwksState>>,
}

impl Jwks {
    async fn serve(jwks: Value, cache_control: Option<&str>) -> Self {
        let this = Self {
            url: String::new(),
            hits: Arc::new(AtomicUsize::new(0)),
            state: Arc::new(Mutex::new(JwksState {
                jwks,
                cache_control: cache_control.map(str::to_owned),
                fail: false,
                delay: Duration::ZERO,
            })),
        };
        let app = Router::new()
            .route("/oauth2/v3/certs", get(certs))
            .with_state(this.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/oauth2/v3/certs"),
            ..this
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    fn set_keys(&self, jwks: Value) {
        self.state.lock().unwrap().jwks = jwks;
    }

    fn set_fail(&self, fail: bool) {
        self.state.lock().unwrap().fail = fail;
    }

    fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    fn verifier(&self) -> PushVerifier {
        PushVerifier::new(settings(&self.url), reqwest::Client::new())
    }
}

async fn certs(State(jwks): State<Jwks>) -> Response {
    jwks.hits.fetch_add(1, Ordering::SeqCst);
    let (body, cache_control, fail, delay) = {
        let s = jwks.state.lock().unwrap();
        (s.jwks.clone(), s.cache_control.clone(), s.fail, s.delay)
    };
    tokio::time::sleep(delay).await;
    if fail {
        return (StatusCode::INTERNAL_SERVER_ERROR, "backend error").into_response();
    }
    match cache_control {
        Some(cc) => ([(header::CACHE_CONTROL, cc)], Json(body)).into_response(),
        None => Json(body).into_response(),
    }
}

fn settings(jwks_url: &str) -> PushAuthSettings {
    PushAuthSettings {
        jwks_url: jwks_url.into(),
        audience: AUDIENCE.into(),
        service_account_email: EMAIL.into(),
        ..PushAuthSettings::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Keys and tokens.

/// An RSA key of our own, for tokens with any claims, header or algorithm.
struct TestKey {
    kid: String,
    key: EncodingKey,
    jwk: Jwk,
}

impl TestKey {
    fn generate() -> Self {
        let issued = IssuedKey::generate("oidc-test@sandbox").unwrap();
        let key = EncodingKey::from_rsa_pem(issued.private_key_pem.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(issued.kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Self {
            kid: issued.kid,
            key,
            jwk,
        }
    }

    /// An RS256 token naming this key, with Google's claims changed by `changes` (a `null`
    /// value removes the claim).
    fn token(&self, changes: Value) -> String {
        self.sign(Algorithm::RS256, Some(&self.kid), changes)
    }

    fn sign(&self, alg: Algorithm, kid: Option<&str>, changes: Value) -> String {
        sign_with(&self.key, alg, kid, changes)
    }
}

fn sign_with(key: &EncodingKey, alg: Algorithm, kid: Option<&str>, changes: Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, &google_claims(changes), key).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The claims of a Google push token for our audience and account, then `changes`.
fn google_claims(changes: Value) -> Value {
    let iat = now();
    let mut claims = json!({
        "aud": AUDIENCE,
        "azp": "112233445566778899000",
        "email": EMAIL,
        "email_verified": true,
        "exp": iat + 3600,
        "iat": iat,
        "iss": GOOGLE_ISSUER,
        "sub": "112233445566778899000",
    });
    let map = claims.as_object_mut().unwrap();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    claims
}

fn jwks_of(keys: &[&TestKey]) -> Value {
    serde_json::to_value(JwkSet {
        keys: keys.iter().map(|k| k.jwk.clone()).collect(),
    })
    .unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn verify(v: &PushVerifier, token: &str) -> Result<PushClaims, PushAuthError> {
    v.verify(Some(&bearer(token))).await
}

/// Asserts a refusal with `status` whose message contains `says` and not the token.
#[track_caller]
fn assert_refused(
    result: Result<PushClaims, PushAuthError>,
    status: StatusCode,
    says: &str,
    token: &str,
) {
    let err = match result {
        Ok(claims) => panic!("accepted, expected {status} ({says}): {claims:?}"),
        Err(e) => e,
    };
    let message = err.to_string();
    assert_eq!(err.status(), status, "{message}");
    assert!(message.contains(says), "{message:?} should say {says:?}");
    if !token.is_empty() {
        assert!(!message.contains(token), "the message echoes the token");
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !message.contains(signature),
            "the message echoes the signature"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Accepted.

#[tokio::test]
async fn a_google_signed_token_passes_and_yields_its_claims() {
    let signer = OidcSigner::generate().unwrap();
    let jwks = Jwks::serve(
        serde_json::to_value(&signer.jwks).unwrap(),
        Some("public, max-age=3600"),
    )
    .await;
    let v = jwks.verifier();

    for issuer in ["https://accounts.google.com", "accounts.google.com"] {
        let before = now();
        let claims = verify(&v, &signer.token(issuer, EMAIL, AUDIENCE))
            .await
            .unwrap();
        assert_eq!(claims.email, EMAIL);
        assert_eq!(claims.subject, "112233445566778899000");
        assert!((before..=now()).contains(&claims.issued_at), "{claims:?}");
        assert_eq!(claims.expires_at, claims.issued_at + 3600);
    }
    // The scheme is case-insensitive.
    let token = signer.token(GOOGLE_ISSUER, EMAIL, AUDIENCE);
    assert!(v.verify(Some(&format!("bearer {token}"))).await.is_ok());
    assert_eq!(jwks.hits(), 1);
}

#[tokio::test]
async fn clock_skew_within_the_leeway_is_allowed() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();
    let t = now();
    // Expired 30 s ago, issued 30 s ahead of our clock, usable 30 s from now: within 60 s.
    verify(&v, &key.token(json!({"exp": t - 30, "iat": t - 3630})))
        .await
        .unwrap();
    verify(&v, &key.token(json!({"iat": t + 30, "exp": t + 3630})))
        .await
        .unwrap();
    verify(&v, &key.token(json!({"nbf": t + 30})))
        .await
        .unwrap();
    // Google has sent email_verified as a string.
    verify(&v, &key.token(json!({"email_verified": "true"})))
        .await
        .unwrap();

    // With no leeway the same tokens are refused.
    let strict = PushVerifier::new(
        PushAuthSettings {
            leeway_seconds: 0,
            ..settings(&jwks.url)
        },
        reqwest::Client::new(),
    );
    let token = key.token(json!({"exp": t - 30, "iat": t - 3630}));
    assert_refused(
        verify(&strict, &token).await,
        StatusCode::UNAUTHORIZED,
        "expired",
        &token,
    );
}

// ---------------------------------------------------------------------------------------------
// Refused: 401.

#[tokio::test]
async fn a_missing_or_non_bearer_header_is_401_without_fetching_keys() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();
    let token = key.token(json!({}));

    assert_refused(
        v.verify(None).await,
        StatusCode::UNAUTHORIZED,
        "missing Authorization",
        "",
    );
    assert_refused(
        v.verify(Some("")).await,
        StatusCode::UNAUTHORIZED,
        "missing Authorization",
        "",
    );
    assert_refused(
        v.verify(Some(&token)).await,
        StatusCode::UNAUTHORIZED,
        "not a Bearer",
        &token,
    );
    assert_refused(
        v.verify(Some(&format!("Basic {token}"))).await,
        StatusCode::UNAUTHORIZED,
        "not a Bearer",
        &token,
    );
    assert_eq!(jwks.hits(), 0);
}

#[tokio::test]
async fn a_malformed_jwt_is_401() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();

    for junk in [
        "abc",
        "a.b.c",
        "eyJhbGciOiJSUzI1NiJ9.e30",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        assert_refused(
            verify(&v, junk).await,
            StatusCode::UNAUTHORIZED,
            "malformed",
            "",
        );
    }
    // A valid signature over claims that are not a JSON object.
    let token = {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &json!("hello"), &key.key).unwrap()
    };
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "malformed",
        &token,
    );
    // Without the claims Google always sends.
    for claim in ["exp", "iat", "sub"] {
        let token = key.token(json!({ claim: null }));
        assert_refused(
            verify(&v, &token).await,
            StatusCode::UNAUTHORIZED,
            claim,
            &token,
        );
    }
}

#[tokio::test]
async fn an_algorithm_other_than_rs256_is_401() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();

    // A valid token first, so the key is known.
    verify(&v, &key.token(json!({}))).await.unwrap();
    // The same key, RS384 and PS256.
    for alg in [Algorithm::RS384, Algorithm::PS256] {
        let token = key.sign(alg, Some(&key.kid), json!({}));
        assert_refused(
            verify(&v, &token).await,
            StatusCode::UNAUTHORIZED,
            "RS256 only",
            &token,
        );
    }
    // HS256 keyed with something public (the key confusion attack).
    let token = sign_with(
        &EncodingKey::from_secret(key.kid.as_bytes()),
        Algorithm::HS256,
        Some(&key.kid),
        json!({}),
    );
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "RS256 only",
        &token,
    );
    // Refused from the header alone: no refetch for the unknown kid it names.
    let token = key.sign(Algorithm::RS384, Some("some-other-kid"), json!({}));
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "RS256 only",
        &token,
    );
    assert_eq!(jwks.hits(), 1);
}

#[tokio::test]
async fn a_bad_signature_is_401() {
    let key = TestKey::generate();
    let impostor = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();

    // Another key, naming ours.
    let token = impostor.sign(Algorithm::RS256, Some(&key.kid), json!({}));
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "signature is invalid",
        &token,
    );
    // Our signature, over other claims.
    let genuine = key.token(json!({"email": "someone@else.example"}));
    let forged_claims = key.token(json!({}));
    let mut parts: Vec<&str> = forged_claims.split('.').collect();
    parts[2] = genuine.rsplit('.').next().unwrap();
    let token = parts.join(".");
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "signature is invalid",
        &token,
    );
}

#[tokio::test]
async fn an_expired_or_not_yet_valid_token_is_401() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();
    let t = now();

    let cases = [
        (json!({"exp": t - 120, "iat": t - 3720}), "expired"),
        (json!({"nbf": t + 300}), "not valid yet"),
        (
            json!({"iat": t + 300, "exp": t + 3900}),
            "issued in the future",
        ),
    ];
    for (changes, says) in cases {
        let token = key.token(changes);
        assert_refused(
            verify(&v, &token).await,
            StatusCode::UNAUTHORIZED,
            says,
            &token,
        );
    }
}

#[tokio::test]
async fn an_issuer_not_configured_is_401() {
    let signer = OidcSigner::generate().unwrap();
    let key = TestKey::generate();
    let mut jwks = serde_json::to_value(&signer.jwks).unwrap();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::to_value(&key.jwk).unwrap());
    let jwks = Jwks::serve(jwks, None).await;
    let v = jwks.verifier();

    for token in [
        signer.token("https://accounts.google.com.evil.example", EMAIL, AUDIENCE),
        signer.token("http://accounts.google.com", EMAIL, AUDIENCE),
        key.token(json!({"iss": null})),
        key.token(json!({"iss": ["https://accounts.google.com"]})),
    ] {
        assert_refused(
            verify(&v, &token).await,
            StatusCode::UNAUTHORIZED,
            "issuer",
            &token,
        );
    }

    // Issuers are configurable: the sandbox's own, say.
    let custom = PushVerifier::new(
        PushAuthSettings {
            issuers: vec!["http://127.0.0.1:8090".into()],
            ..settings(&jwks.url)
        },
        reqwest::Client::new(),
    );
    verify(
        &custom,
        &signer.token("http://127.0.0.1:8090", EMAIL, AUDIENCE),
    )
    .await
    .unwrap();
    let token = signer.token(GOOGLE_ISSUER, EMAIL, AUDIENCE);
    assert_refused(
        verify(&custom, &token).await,
        StatusCode::UNAUTHORIZED,
        "issuer",
        &token,
    );
}

#[tokio::test]
async fn an_unknown_kid_is_401_after_one_refetch() {
    let key = TestKey::generate();
    let stranger = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("max-age=3600")).await;
    let v = jwks.verifier();

    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 1);
    let token = stranger.token(json!({}));
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "signing key is unknown",
        &token,
    );
    assert_eq!(jwks.hits(), 2, "an unknown kid refetches once");

    let token = key.sign(Algorithm::RS256, None, json!({}));
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "names no signing key",
        &token,
    );
    assert_eq!(jwks.hits(), 2, "no kid, nothing to refetch for");
}

// ---------------------------------------------------------------------------------------------
// Refused: 403.

#[tokio::test]
async fn a_token_for_another_audience_is_403() {
    let signer = OidcSigner::generate().unwrap();
    let key = TestKey::generate();
    let mut jwks = serde_json::to_value(&signer.jwks).unwrap();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::to_value(&key.jwk).unwrap());
    let jwks = Jwks::serve(jwks, None).await;
    let v = jwks.verifier();

    for token in [
        signer.token(GOOGLE_ISSUER, EMAIL, "https://other.example/push"),
        // Exact match only: no prefix, suffix or case games.
        signer.token(GOOGLE_ISSUER, EMAIL, &format!("{AUDIENCE}/")),
        signer.token(GOOGLE_ISSUER, EMAIL, "https://playbill.example"),
        signer.token(GOOGLE_ISSUER, EMAIL, &AUDIENCE.to_uppercase()),
        key.token(json!({"aud": null})),
        key.token(json!({"aud": [AUDIENCE, "https://other.example"]})),
    ] {
        assert_refused(
            verify(&v, &token).await,
            StatusCode::FORBIDDEN,
            "audience does not match",
            &token,
        );
    }
}

#[tokio::test]
async fn a_token_of_another_or_unverified_account_is_403() {
    let signer = OidcSigner::generate().unwrap();
    let key = TestKey::generate();
    let mut jwks = serde_json::to_value(&signer.jwks).unwrap();
    jwks["keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::to_value(&key.jwk).unwrap());
    let jwks = Jwks::serve(jwks, None).await;
    let v = jwks.verifier();

    for token in [
        signer.token(
            GOOGLE_ISSUER,
            "attacker@evil-project.iam.gserviceaccount.com",
            AUDIENCE,
        ),
        key.token(json!({"email": null})),
        key.token(json!({"email": [EMAIL]})),
    ] {
        assert_refused(
            verify(&v, &token).await,
            StatusCode::FORBIDDEN,
            "not the push service account",
            &token,
        );
    }
    for verified in [json!(false), json!("false"), Value::Null, json!(1)] {
        let token = key.token(json!({ "email_verified": verified }));
        assert_refused(
            verify(&v, &token).await,
            StatusCode::FORBIDDEN,
            "email is not verified",
            &token,
        );
    }
}

#[tokio::test]
async fn an_empty_audience_or_email_refuses_every_push() {
    let signer = OidcSigner::generate().unwrap();
    let jwks = Jwks::serve(serde_json::to_value(&signer.jwks).unwrap(), None).await;

    let cases = [
        (
            PushAuthSettings {
                audience: String::new(),
                ..settings(&jwks.url)
            },
            signer.token(GOOGLE_ISSUER, EMAIL, ""),
        ),
        (
            PushAuthSettings {
                service_account_email: String::new(),
                ..settings(&jwks.url)
            },
            signer.token(GOOGLE_ISSUER, "", AUDIENCE),
        ),
        (
            PushAuthSettings {
                jwks_url: jwks.url.clone(),
                ..PushAuthSettings::default()
            },
            signer.token(GOOGLE_ISSUER, "", ""),
        ),
    ];
    for (settings, token) in cases {
        let v = PushVerifier::new(settings, reqwest::Client::new());
        assert_refused(
            verify(&v, &token).await,
            StatusCode::FORBIDDEN,
            "not configured",
            &token,
        );
        assert_refused(
            v.verify(None).await,
            StatusCode::FORBIDDEN,
            "not configured",
            "",
        );
    }
    assert_eq!(jwks.hits(), 0);
}

// ---------------------------------------------------------------------------------------------
// Refused: 503.

#[tokio::test]
async fn unreachable_keys_with_nothing_cached_is_503() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    jwks.set_fail(true);
    let token = key.token(json!({}));

    assert_refused(
        verify(&jwks.verifier(), &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        &token,
    );
    assert_eq!(jwks.hits(), 1);

    // Nothing listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let v = PushVerifier::new(
        settings(&format!("http://127.0.0.1:{port}/certs")),
        reqwest::Client::new(),
    );
    assert_refused(
        verify(&v, &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        &token,
    );

    // A JWKS without a usable key is no better than none.
    jwks.set_fail(false);
    jwks.set_keys(json!({"keys": []}));
    assert_refused(
        verify(&jwks.verifier(), &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        &token,
    );
}

// ---------------------------------------------------------------------------------------------
// The key cache.

#[tokio::test]
async fn an_unknown_kid_refetches_once_and_passes_after_key_rotation() {
    let old = TestKey::generate();
    let new = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&old]), Some("public, max-age=3600")).await;
    let v = jwks.verifier();

    verify(&v, &old.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 1);

    // Google rotates: the new key is published and signs; the cache does not know it yet.
    jwks.set_keys(jwks_of(&[&new, &old]));
    let claims = verify(&v, &new.token(json!({}))).await.unwrap();
    assert_eq!(claims.email, EMAIL);
    assert_eq!(jwks.hits(), 2, "exactly one refetch");

    // Both are cached now.
    verify(&v, &old.token(json!({}))).await.unwrap();
    verify(&v, &new.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn keys_are_cached_for_max_age() {
    let key = TestKey::generate();

    // max-age=3600: many verifications, one fetch.
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("public, max-age=3600")).await;
    let v = jwks.verifier();
    for _ in 0..20 {
        verify(&v, &key.token(json!({}))).await.unwrap();
    }
    assert_eq!(jwks.hits(), 1);

    // No Cache-Control: an hour by default.
    let jwks = Jwks::serve(jwks_of(&[&key]), None).await;
    let v = jwks.verifier();
    for _ in 0..5 {
        verify(&v, &key.token(json!({}))).await.unwrap();
    }
    assert_eq!(jwks.hits(), 1);

    // max-age=2: fresh for two seconds, refetched after.
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("public, max-age=2, must-revalidate")).await;
    let v = jwks.verifier();
    verify(&v, &key.token(json!({}))).await.unwrap();
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 2);

    // max-age=0: every verification fetches.
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("max-age=0")).await;
    let v = jwks.verifier();
    for _ in 0..3 {
        verify(&v, &key.token(json!({}))).await.unwrap();
    }
    assert_eq!(jwks.hits(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_verifications_share_one_fetch() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("max-age=3600")).await;
    jwks.set_delay(Duration::from_millis(200));
    let v = jwks.verifier();

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let v = v.clone();
            let token = key.token(json!({}));
            tokio::spawn(async move { verify(&v, &token).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(jwks.hits(), 1);

    // Likewise a flood of one unknown kid after a rotation.
    let new = TestKey::generate();
    jwks.set_keys(jwks_of(&[&new, &key]));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let v = v.clone();
            let token = new.token(json!({}));
            tokio::spawn(async move { verify(&v, &token).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_the_old_keys() {
    let key = TestKey::generate();
    let new = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("max-age=1")).await;
    let v = jwks.verifier();
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 1);

    // The keys go stale; Google fails the refresh.
    jwks.set_fail(true);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(
        jwks.hits(),
        2,
        "the stale keys were refreshed, and that failed"
    );
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 2, "no retry straight after a failure");

    // A key the cache does not hold cannot be checked while Google is down: retry later.
    let token = new.token(json!({}));
    assert_refused(
        verify(&v, &token).await,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        &token,
    );

    // Google is back (and rotated); after the back-off the refresh goes through.
    jwks.set_fail(false);
    jwks.set_keys(jwks_of(&[&new, &key]));
    tokio::time::sleep(playbill_server::oidc::FAILED_FETCH_BACKOFF + Duration::from_millis(100))
        .await;
    verify(&v, &new.token(json!({}))).await.unwrap();
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 3);
}

#[tokio::test]
async fn forced_refetches_are_rate_limited() {
    let key = TestKey::generate();
    let jwks = Jwks::serve(jwks_of(&[&key]), Some("max-age=3600")).await;
    let v = jwks.verifier();
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 1);

    // A flood of made-up kids: one refetch, then 401s from the cache.
    for i in 0..10 {
        let token = key.sign(Algorithm::RS256, Some(&format!("made-up-{i}")), json!({}));
        assert_refused(
            verify(&v, &token).await,
            StatusCode::UNAUTHORIZED,
            "signing key is unknown",
            &token,
        );
    }
    assert_eq!(jwks.hits(), 2);

    // Within the interval even a genuinely new key waits (Pub/Sub will retry the push).
    let new = TestKey::generate();
    jwks.set_keys(jwks_of(&[&new, &key]));
    let token = new.token(json!({}));
    assert_refused(
        verify(&v, &token).await,
        StatusCode::UNAUTHORIZED,
        "signing key is unknown",
        &token,
    );
    assert_eq!(jwks.hits(), 2);
    // Known keys keep working meanwhile.
    verify(&v, &key.token(json!({}))).await.unwrap();
    assert_eq!(jwks.hits(), 2);
}

// ---------------------------------------------------------------------------------------------
// Settings.

#[test]
fn settings_default_to_google_and_reject_unknown_fields() {
    let d = PushAuthSettings::default();
    assert_eq!(d.jwks_url, "https://www.googleapis.com/oauth2/v3/certs");
    assert_eq!(
        d.issuers,
        vec!["https://accounts.google.com", "accounts.google.com"]
    );
    assert_eq!(d.leeway_seconds, 60);
    assert!(d.audience.is_empty() && d.service_account_email.is_empty());

    let s: PushAuthSettings =
        serde_json::from_value(json!({"audience": AUDIENCE, "service_account_email": EMAIL}))
            .unwrap();
    assert_eq!(
        s,
        PushAuthSettings {
            audience: AUDIENCE.into(),
            service_account_email: EMAIL.into(),
            ..d
        }
    );
    assert!(serde_json::from_value::<PushAuthSettings>(json!({"audiance": AUDIENCE})).is_err());
}
