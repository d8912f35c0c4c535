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
    let key = ServiceAccountKey::from_file(sb.key_file()).unwrap();
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

    /// Every RTDN the sandbox published, oldest first: `{message_id, publish_time_ms,
    /// notification}`.
    pub async fn notifications(&self) -> Vec<Value> {
        let all: Value = self
            .http
            .get(format!("{}/sandbox/v1/notifications", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
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
