//! A running sandbox and a Play client authenticated with the key file it wrote.
//! Each test binary uses a different part of it.
#![allow(dead_code)]

use std::sync::Arc;

use playbill_google::methods::ANDROIDPUBLISHER_SCOPE;
use playbill_google::{PlayClient, RetryPolicy, ServiceAccountKey, TokenSource};
use playbill_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub struct Harness {
    pub base: String,
    pub http: reqwest::Client,
    pub play: PlayClient,
    /// Access tokens for the androidpublisher scope, for raw calls ([`Harness::google`]).
    pub auth: Arc<TokenSource>,
    /// The service-account key file the sandbox wrote (for tokens with other scopes).
    pub key_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn start() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::bind(SandboxConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        key_file: dir.path().join("key.json"),
        project_id: "playbill-tests".into(),
        forward: None,
    })
    .await
    .unwrap();
    let base = sb.base_url().to_owned();
    let key_file = sb.key_file().to_path_buf();
    let key = ServiceAccountKey::from_file(&key_file).unwrap();
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sb.run_until_stopped(async move {
        let _ = stop_rx.await;
    }));
    let http = reqwest::Client::new();
    let auth = Arc::new(TokenSource::new(key, &[ANDROIDPUBLISHER_SCOPE], http.clone()).unwrap());
    // One attempt: these tests look at Google's answers themselves, 429s included.
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let play = PlayClient::new(http.clone(), &base, auth.clone(), once);
    Harness {
        base,
        http,
        play,
        auth,
        key_file,
        _dir: dir,
        _stop: stop,
    }
}

impl Harness {
    /// POSTs to the control API; returns (status, body).
    pub async fn try_control(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/sandbox/v1/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// An access token for other scopes (Cloud Storage, Pub/Sub) from the same key file.
    pub async fn token_for(&self, scopes: &[&str]) -> String {
        let key = ServiceAccountKey::from_file(&self.key_file).unwrap();
        TokenSource::new(key, scopes, self.http.clone())
            .unwrap()
            .token()
            .await
            .unwrap()
    }

    /// Calls a Google path (`androidpublisher/v3/...`, no leading slash) with an access
    /// token; returns (status, body). `body: None` sends no body.
    pub async fn google(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.auth.token().await.unwrap();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}/{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn control(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.try_control(path, body).await;
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body
    }

    pub async fn buy(&self, pkg: &str, body: Value) -> String {
        let got = self.control(&format!("apps/{pkg}/purchases"), body).await;
        got["purchase_token"].as_str().unwrap().to_owned()
    }

    /// GETs from the control API (`path` after `/sandbox/v1/`).
    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/sandbox/v1/{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The billing clock now, RFC 3339.
    pub async fn now(&self) -> String {
        self.control_get("clock").await["now"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Every RTDN the sandbox published, oldest first: `{message_id, publish_time_ms,
    /// notification}`.
    pub async fn notifications(&self) -> Vec<Value> {
        let all = self.control_get("notifications").await;
        all["notifications"].as_array().cloned().unwrap_or_default()
    }

    /// Notification codes published for a token, oldest first (subscription or one-time).
    pub async fn codes(&self, token: &str) -> Vec<i64> {
        self.notifications()
            .await
            .iter()
            .map(|n| &n["notification"])
            .filter_map(|n| {
                let inner = n
                    .get("subscriptionNotification")
                    .or_else(|| n.get("oneTimeProductNotification"))?;
                (inner["purchaseToken"] == token)
                    .then(|| inner["notificationType"].as_i64().unwrap())
            })
            .collect()
    }
}

/// Subscribers on the RTDN topic, made before a scenario: one pull subscription and one push
/// subscription delivering to a local receiver, so a scenario can check what was *delivered*,
/// not just published.
pub struct Taps {
    pull_subscription: String,
    pushed: Arc<std::sync::Mutex<Vec<Value>>>,
}

const RTDN_TOPIC: &str = "projects/playbill-tests/topics/play-billing";

impl Harness {
    pub async fn taps(&self) -> Taps {
        use axum::routing::post;
        let pushed = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = pushed.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/push", listener.local_addr().unwrap());
        let app = axum::Router::new().route(
            "/push",
            post(move |axum::Json(body): axum::Json<Value>| {
                let sink = sink.clone();
                async move {
                    sink.lock().unwrap().push(body);
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let put = |name: &str, body: Value| {
            let req = self
                .http
                .put(format!(
                    "{}/v1/projects/playbill-tests/subscriptions/{name}",
                    self.base
                ))
                .json(&body);
            async move {
                let r = req.send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
            }
        };
        put("taps-pull", serde_json::json!({"topic": RTDN_TOPIC})).await;
        put(
            "taps-push",
            serde_json::json!({"topic": RTDN_TOPIC, "pushConfig": {"pushEndpoint": endpoint}}),
        )
        .await;
        Taps {
            pull_subscription: "projects/playbill-tests/subscriptions/taps-pull".into(),
            pushed,
        }
    }
}

/// The decoded RTDN of a Pub/Sub message (`{"data": base64, ...}`).
pub fn decode_message(message: &Value) -> Value {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD
        .decode(message["data"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&data).unwrap()
}

/// Subscription or one-time notification codes for `token`, in order.
pub fn codes_for(notifications: &[Value], token: &str) -> Vec<i64> {
    notifications
        .iter()
        .filter_map(|n| {
            let inner = n
                .get("subscriptionNotification")
                .or_else(|| n.get("oneTimeProductNotification"))?;
            (inner["purchaseToken"] == token).then(|| inner["notificationType"].as_i64().unwrap())
        })
        .collect()
}

impl Taps {
    /// Pulls (and acknowledges) everything waiting; returns the decoded RTDNs in order.
    pub async fn pull_all(&self, h: &Harness) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let url = format!("{}/v1/{}:pull", h.base, self.pull_subscription);
            let got: Value = h
                .http
                .post(&url)
                .json(&serde_json::json!({"maxMessages": 100, "returnImmediately": true}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let msgs = got["receivedMessages"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            let ack_ids: Vec<Value> = msgs.iter().map(|m| m["ackId"].clone()).collect();
            out.extend(msgs.iter().map(|m| decode_message(&m["message"])));
            let r = h
                .http
                .post(format!(
                    "{}/v1/{}:acknowledge",
                    h.base, self.pull_subscription
                ))
                .json(&serde_json::json!({"ackIds": ack_ids}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
    }

    /// Waits (10 s at most) until push delivered `n` messages for `token`, then a moment more
    /// for anything extra; returns every delivered RTDN, in delivery order.
    pub async fn pushed_for(&self, token: &str, n: usize) -> Vec<Value> {
        self.pushed_until(|all| codes_for(all, token).len() >= n)
            .await
    }

    async fn pushed_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = std::time::Instant::now();
        let decoded = || {
            self.pushed
                .lock()
                .unwrap()
                .iter()
                .map(|b| decode_message(&b["message"]))
                .collect::<Vec<Value>>()
        };
        while !done(&decoded()) && started.elapsed() < std::time::Duration::from_secs(10) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        decoded()
    }

    /// Every RTDN published so far reached both subscribers unchanged and in order: the
    /// pull subscription and the push endpoint.
    pub async fn assert_delivered_as_published(&self, h: &Harness) {
        let published: Vec<Value> = h
            .notifications()
            .await
            .iter()
            .map(|n| n["notification"].clone())
            .collect();
        assert!(!published.is_empty(), "nothing was published");
        assert_eq!(self.pull_all(h).await, published, "pulled");
        let pushed = self.pushed_until(|all| all.len() >= published.len()).await;
        assert_eq!(pushed, published, "pushed");
    }
}
