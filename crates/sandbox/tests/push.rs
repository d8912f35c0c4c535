//! Pub/Sub push from the sandbox: wrapped envelopes, OIDC tokens that verify against the
//! sandbox's JWKS, redelivery after failures, and the duplicate / out-of-order switches.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Harness;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

const PKG: &str = "com.example.push";
const TOPIC: &str = "projects/playbill-tests/topics/play-billing";
const PUSHER: &str = "pusher@playbill-tests.iam.gserviceaccount.com";
const AUDIENCE: &str = "https://backend.example/rtdn";

/// Each delivery: its Authorization header and its body.
type Deliveries = Arc<Mutex<Vec<(Option<String>, Value)>>>;

#[derive(Clone, Default)]
struct Receiver {
    got: Deliveries,
    fail_first: Arc<Mutex<usize>>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    r.got.lock().unwrap().push((auth, body));
    let mut fail = r.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rtdn", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/rtdn", post(receive))
        .with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (r, url)
}

impl Receiver {
    /// Waits until `n` deliveries arrived (10 s at most).
    async fn wait_for(&self, n: usize) -> Vec<(Option<String>, Value)> {
        let started = Instant::now();
        while self.got.lock().unwrap().len() < n && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.got.lock().unwrap().clone()
    }
}

async fn setup(endpoint: &str) -> Harness {
    let h = common::start().await;
    h.control(
        &format!("apps/{PKG}/products"),
        json!({"product_id": "pro", "type": "subscription"}),
    )
    .await;
    let r = h
        .http
        .put(format!(
            "{}/v1/projects/playbill-tests/subscriptions/push-sub",
            h.base
        ))
        .json(&json!({
            "topic": TOPIC,
            "pushConfig": {"pushEndpoint": endpoint,
                           "oidcToken": {"serviceAccountEmail": PUSHER, "audience": AUDIENCE}},
            "retryPolicy": {"minimumBackoff": "0.05s", "maximumBackoff": "0.2s"}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    h
}

fn token_of(body: &Value) -> String {
    let data = STANDARD
        .decode(body["message"]["data"].as_str().unwrap())
        .unwrap();
    let n: Value = serde_json::from_slice(&data).unwrap();
    n["subscriptionNotification"]["purchaseToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn code_of(body: &Value) -> i64 {
    let data = STANDARD
        .decode(body["message"]["data"].as_str().unwrap())
        .unwrap();
    let n: Value = serde_json::from_slice(&data).unwrap();
    n["subscriptionNotification"]["notificationType"]
        .as_i64()
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_wrapped_envelopes_with_verifiable_oidc_tokens() {
    let (rx, url) = receiver().await;
    let h = setup(&url).await;
    h.buy(PKG, json!({"product_id": "pro"})).await;
    let got = rx.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let (auth, body) = &got[0];
    assert_eq!(
        body["subscription"],
        "projects/playbill-tests/subscriptions/push-sub"
    );
    assert_eq!(code_of(body), 4);
    assert_eq!(body["message"]["messageId"], body["message"]["message_id"]);
    assert!(body["message"]["publishTime"].is_string());

    let certs = h
        .http
        .get(format!("{}/oauth2/v3/certs", h.base))
        .send()
        .await
        .unwrap();
    let cache = certs.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cache.contains("max-age="), "{cache}");
    let jwks: JwkSet = certs.json().await.unwrap();
    let token = auth.as_deref().unwrap().strip_prefix("Bearer ").unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks.find(&kid).expect("the signing key is in the JWKS");
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&["https://accounts.google.com"]);
    let claims = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .expect("the push token verifies")
        .claims;
    assert_eq!(claims["email"], PUSHER);
    assert_eq!(claims["email_verified"], true);
    let mut wrong = Validation::new(Algorithm::RS256);
    wrong.set_audience(&["https://elsewhere.example"]);
    assert!(
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &wrong).is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_pushes_are_redelivered() {
    let (rx, url) = receiver().await;
    *rx.fail_first.lock().unwrap() = 2;
    let h = setup(&url).await;
    h.buy(PKG, json!({"product_id": "pro"})).await;
    let got = rx.wait_for(3).await;
    assert_eq!(got.len(), 3, "two failures, then success");
    let ids: Vec<&Value> = got
        .iter()
        .map(|(_, b)| &b["message"]["messageId"])
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "the same message each time"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        rx.got.lock().unwrap().len(),
        3,
        "acknowledged by the 204: no more deliveries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_switches() {
    let (rx, url) = receiver().await;
    let h = setup(&url).await;
    let put = |body: Value| {
        let req = h
            .http
            .put(format!("{}/sandbox/v1/delivery", h.base))
            .json(&body);
        async move { assert!(req.send().await.unwrap().status().is_success()) }
    };
    put(json!({"duplicate": true})).await;
    let first = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &first)
        .await
        .unwrap();
    let got = rx.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].1["message"]["messageId"],
        got[1].1["message"]["messageId"]
    );

    put(json!({"out_of_order": true})).await;
    let token = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &token)
        .await
        .unwrap();
    h.control(
        &format!("apps/{PKG}/purchases/{token}:decline_payment"),
        json!({}),
    )
    .await;
    // One clock move publishes grace (6), hold (5), cancel (3) and expiry (13) together.
    h.control("clock:advance", json!({"duration": "P3M"})).await;
    // (The first subscription renews meanwhile: only this token's notifications count.)
    let mine = || {
        rx.got
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, b)| token_of(b) == token)
            .map(|(_, b)| code_of(b))
            .filter(|c| [6, 5, 3, 13].contains(c))
            .collect::<Vec<i64>>()
    };
    let started = Instant::now();
    while mine().len() < 4 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(mine(), [13, 3, 5, 6], "held, then the newest first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_push_configuration_is_400() {
    let h = common::start().await;
    for sub in [
        json!({"topic": TOPIC, "pushConfig": {"pushEndpoint": "ftp://x"}}),
        json!({"topic": TOPIC, "pushConfig": {"pushEndpoint": "http://x", "oidcToken": {"audience": "a"}}}),
        json!({"topic": TOPIC, "retryPolicy": {"minimumBackoff": "700s"}}),
        json!({"topic": TOPIC, "retryPolicy": {"maximumBackoff": "soon"}}),
    ] {
        let r = h
            .http
            .put(format!(
                "{}/v1/projects/playbill-tests/subscriptions/bad-sub",
                h.base
            ))
            .json(&sub)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{sub}");
    }
    let r = h
        .http
        .put(format!("{}/sandbox/v1/delivery", h.base))
        .json(&json!({"duplicates": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "unknown switch");
}
