//! `spawn_app`: the sandbox and the real server on random ports, a fresh database each
//! (SQLite file or PostgreSQL database), talking over HTTP like in production.

use std::net::SocketAddr;

use playbill_core::AccountIdRule;
use playbill_sandbox::{Sandbox, SandboxConfig};
use playbill_server::config::{
    ApiKeySetting, AppSetting, GoogleSettings, JobSettings, KeyRole, RetrySettings, RtdnSettings,
};
use playbill_server::oidc::PushAuthSettings;
use playbill_server::{Application, Clock, Settings};
use playbill_store::testing::TestDb;
use playbill_store::{Backend, Store};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

pub const PKG: &str = "com.example.game";
/// An app whose obfuscated account ids are raw user ids.
pub const RAW_PKG: &str = "com.example.raw";
pub const KEY: &str = "test-api-key-0123456789";
/// An operator's key (role admin).
pub const ADMIN_KEY: &str = "test-admin-key-0123456789";
pub const MAX_ATTEMPTS: u32 = 3;
/// The push subscription the server takes notifications from, and what its tokens carry.
pub const PUSH_SUBSCRIPTION: &str = "projects/playbill-test/subscriptions/playbill-push";
pub const PUSHER: &str = "pubsub-push@playbill-test.iam.gserviceaccount.com";
pub const AUDIENCE: &str = "https://playbill.test/v1/rtdn";

pub struct TestApp {
    pub api: String,
    pub sandbox: String,
    pub http: reqwest::Client,
    pub store: Store,
    /// The server's clock, moved together with the sandbox's by [`TestApp::advance`].
    pub clock: Clock,
    /// The server's shared state, for workers a test runs beside it (`tests/pull.rs`).
    #[allow(dead_code)]
    pub state: playbill_server::state::AppState,
    /// The settings the server started with (for a second instance on the same database).
    pub settings: Settings,
    _db: TestDb,
    _dir: tempfile::TempDir,
    _stop: watch::Sender<bool>,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub retry_after: Option<String>,
}

fn addr0() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with a last word on the server's settings.
pub async fn spawn_app_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (stop, _) = watch::channel(false);
    let stopped = |tx: &watch::Sender<bool>| {
        let mut rx = tx.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let sb = Sandbox::bind(SandboxConfig {
        listen: addr0(),
        key_file: dir.path().join("key.json"),
        project_id: "playbill-test".into(),
        forward: None,
    })
    .await
    .expect("sandbox binds");
    let sandbox = sb.base_url().to_owned();
    let key_file = sb.key_file().to_path_buf();
    tokio::spawn(sb.run_until_stopped(stopped(&stop)));

    let db = TestDb::new(backend).await;
    let app_setting = |package: &str, rule| AppSetting {
        package_name: package.into(),
        service_account_key: key_file.clone(),
        account_id_rule: rule,
        consumables: vec!["coins".into()],
        entitlements: [(
            "premium".to_owned(),
            vec!["pro".to_owned(), "no_ads".to_owned()],
        )]
        .into_iter()
        .collect(),
        refund_reviews: Default::default(),
    };
    let mut settings = Settings {
        listen: addr0(),
        database_url: db.url.clone(),
        google: GoogleSettings {
            androidpublisher_url: format!("{sandbox}/"),
            request_timeout_ms: 5_000,
            retry: RetrySettings {
                max_attempts: MAX_ATTEMPTS,
                initial_backoff_ms: 10,
                max_backoff_ms: 50,
            },
        },
        api_keys: vec![
            ApiKeySetting {
                name: "tests".into(),
                key: KEY.into(),
                role: KeyRole::App,
            },
            ApiKeySetting {
                name: "operator".into(),
                key: ADMIN_KEY.into(),
                role: KeyRole::Admin,
            },
        ],
        apps: vec![
            app_setting(PKG, AccountIdRule::Sha256),
            app_setting(RAW_PKG, AccountIdRule::Raw),
        ],
        rtdn: Some(RtdnSettings {
            subscription: PUSH_SUBSCRIPTION.into(),
            push_path: "/v1/rtdn".into(),
            push_auth: PushAuthSettings {
                jwks_url: format!("{sandbox}/oauth2/v3/certs"),
                audience: AUDIENCE.into(),
                service_account_email: PUSHER.into(),
                ..PushAuthSettings::default()
            },
        }),
        rtdn_pull: None,
        reports: None,
        jobs: JobSettings {
            external_outbox_interval_ms: 200,
            ..JobSettings::default()
        },
    };
    tweak(&mut settings);
    let clock = Clock::system();
    let app = Application::build_with_clock(settings.clone(), clock.clone())
        .await
        .expect("server builds");
    let api = format!("http://{}", app.local_addr());
    let state = app.state();
    tokio::spawn(app.run_until_stopped(stopped(&stop)));
    let store = Store::connect(&db.url).await.unwrap();

    let t = TestApp {
        api,
        sandbox,
        http: reqwest::Client::new(),
        store,
        clock,
        state,
        settings,
        _db: db,
        _dir: dir,
        _stop: stop,
    };
    for pkg in [PKG, RAW_PKG] {
        t.product(pkg, "premium", "subscription").await;
        t.product(pkg, "gems", "one_time").await;
        t.product(pkg, "coins", "one_time").await;
    }
    t
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    Reply {
        status,
        body,
        retry_after,
    }
}

impl TestApp {
    /// POST to the sandbox control API; panics unless 2xx.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = reply(
            self.http
                .post(format!("{}/sandbox/v1/{path}", self.sandbox))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(
            r.status.is_success(),
            "control {path}: {} {}",
            r.status,
            r.body
        );
        r.body
    }

    /// Moves billing time at the sandbox (`{"duration": "P1M"}` or `{"seconds": N}`) and the
    /// server's clock with it.
    pub async fn advance(&self, by: Value) {
        let clock = self.control("clock:advance", by).await;
        self.clock
            .set_offset_ms(clock["offset_millis"].as_i64().expect("offset_millis"));
    }

    pub async fn product(&self, pkg: &str, id: &str, kind: &str) {
        self.control(
            &format!("apps/{pkg}/products"),
            json!({"product_id": id, "type": kind}),
        )
        .await;
    }

    /// A user buys in the sandbox; returns the purchase token.
    pub async fn buy(&self, pkg: &str, purchase: Value) -> String {
        let got = self
            .control(&format!("apps/{pkg}/purchases"), purchase)
            .await;
        got["purchase_token"].as_str().unwrap().to_owned()
    }

    /// Any call to the API at `base` (this instance's `api`, or another's) with `key`.
    pub async fn call(
        &self,
        base: &str,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{base}{path}"));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn verify_raw(&self, pkg: &str, body: Value, key: Option<&str>) -> Reply {
        let mut req = self
            .http
            .post(format!("{}/v1/apps/{pkg}/purchases:verify", self.api))
            .json(&body);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn verify(
        &self,
        pkg: &str,
        user: &str,
        product: &str,
        token: &str,
        kind: &str,
    ) -> Reply {
        self.verify_raw(
            pkg,
            json!({"user_id": user, "product_id": product, "purchase_token": token, "type": kind}),
            Some(KEY),
        )
        .await
    }

    pub async fn entitlements(&self, pkg: &str, user: &str) -> Value {
        let r = reply(
            self.http
                .get(format!(
                    "{}/v1/apps/{pkg}/users/{user}/entitlements",
                    self.api
                ))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    /// Active entitlement names of a user, sorted.
    pub async fn entitlement_names(&self, pkg: &str, user: &str) -> Vec<String> {
        let mut names: Vec<String> = self.entitlements(pkg, user).await["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["entitlement"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        names
    }

    /// How many Google calls the sandbox answered whose path ends with `suffix`.
    pub async fn google_calls(&self, method: &str, suffix: &str) -> usize {
        let log: Value = self
            .http
            .get(format!("{}/sandbox/v1/requests", self.sandbox))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == method && r["path"].as_str().unwrap().ends_with(suffix))
            .count()
    }

    /// Makes the sandbox push every notification to the server from now on, as Google's
    /// Pub/Sub would: the configured subscription, OIDC tokens for the configured service
    /// account and audience, quick redelivery.
    pub async fn push_notifications(&self) {
        self.push_to(PUSH_SUBSCRIPTION, &self.api).await;
    }

    /// Creates the sandbox push subscription `subscription`, delivering to `api`'s
    /// `/v1/rtdn` with OIDC tokens for the configured service account and audience.
    async fn push_to(&self, subscription: &str, api: &str) {
        let r = self
            .http
            .put(format!("{}/v1/{subscription}", self.sandbox))
            .json(&json!({
                "topic": "projects/playbill-test/topics/play-billing",
                "pushConfig": {"pushEndpoint": format!("{api}/v1/rtdn"),
                               "oidcToken": {"serviceAccountEmail": PUSHER, "audience": AUDIENCE}},
                "retryPolicy": {"minimumBackoff": "0.05s", "maximumBackoff": "0.5s"}
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// Starts another instance of the server on the same database and sandbox (same clock),
    /// taking pushes from its own subscription `name` (which the sandbox then pushes to);
    /// returns its base URL.
    pub async fn another_instance(&self, name: &str) -> String {
        let mut settings = self.settings.clone();
        let subscription = format!("projects/playbill-test/subscriptions/{name}");
        if let Some(r) = &mut settings.rtdn {
            r.subscription = subscription.clone();
        }
        let app = Application::build_with_clock(settings, self.clock.clone())
            .await
            .expect("second instance builds");
        let api = format!("http://{}", app.local_addr());
        let mut stop = self._stop.subscribe();
        tokio::spawn(app.run_until_stopped(async move {
            let _ = stop.wait_for(|s| *s).await;
        }));
        self.push_to(&subscription, &api).await;
        api
    }

    /// A server's state on a fresh SQLite database, against the same sandbox (not serving
    /// HTTP): for tests that feed notifications straight into the intake.
    pub async fn fresh_state(&self) -> (playbill_server::state::AppState, TestDb) {
        let db = TestDb::new(Backend::Sqlite).await;
        let mut settings = self.settings.clone();
        settings.database_url = db.url.clone();
        let app = Application::build_with_clock(settings, self.clock.clone())
            .await
            .expect("fresh instance builds");
        (app.state(), db)
    }

    /// Waits (10 s at most) until `check` holds; panics with `what` otherwise.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(10) {
            if check().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out waiting until {what}");
    }

    /// The stored purchase's state, if any.
    pub async fn stored_state(&self, pkg: &str, token: &str) -> Option<String> {
        self.store
            .find_purchase(pkg, token)
            .await
            .unwrap()
            .map(|p| p.state.as_str().to_owned())
    }

    /// Event kinds recorded for a token, oldest first.
    pub async fn events(&self, pkg: &str, token: &str) -> Vec<String> {
        self.store
            .events_for_token(pkg, token)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

/// Runs an API test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! api_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: $crate::helpers::TestApp) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::spawn_app(playbill_store::Backend::Sqlite).await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::helpers::spawn_app(playbill_store::Backend::Postgres).await).await
            }
        }
    };
}
