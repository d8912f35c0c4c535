//! Notifications by Pub/Sub pull (`playbill_server::pull::Puller`), end to end: the sandbox
//! publishes RTDNs, the puller takes them from a pull subscription and the server's
//! entitlements follow. Every scenario runs against the sandbox's own Pub/Sub and against
//! Google's Pub/Sub emulator (the sandbox forwards its RTDNs to a topic there), on SQLite and
//! on PostgreSQL.
//!
//! The puller talks to the broker through a small recording relay, so a test can tell which
//! deliveries were acknowledged and which nacked. Subscriptions are made with a 60 s ack
//! deadline: a message seen again within a test's 10 s waits came back because it was
//! nacked, not because its lease ran out.
//!
//! The emulator is expected at `PUBSUB_EMULATOR_HOST` (default `127.0.0.1:8085`); its tests
//! fail, not skip, when it does not answer.

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use helpers::*;
use playbill_google::pubsub_client::PubSubClient;
use playbill_server::Settings;
use playbill_server::pull::{PullSettings, Puller};
use playbill_store::Backend;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The emulator project the sandbox forwards to (ids of 6+ characters).
const EMULATOR_PROJECT: &str = "playbill-pull-tests";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sandbox,
    Emulator,
}

// ---------------------------------------------------------------------------------------------
// The recording relay between the puller and the broker.

#[derive(Debug, Clone)]
struct Call {
    /// `pull`, `acknowledge` or `modifyAckDeadline`.
    verb: String,
    started: Instant,
    request: Value,
    response: Value,
}

struct Recorder {
    upstream: String,
    http: reqwest::Client,
    calls: Mutex<Vec<Call>>,
}

async fn relay(State(r): State<Arc<Recorder>>, uri: Uri, body: Bytes) -> Response {
    let started = Instant::now();
    let path = uri.path().to_owned();
    let verb = path
        .rsplit_once(':')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let upstream = r
        .http
        .post(format!("{}{path}", r.upstream))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.clone())
        .send()
        .await;
    let resp = match upstream {
        Ok(resp) => resp,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
    let answer = resp.bytes().await.unwrap_or_default();
    r.calls.lock().unwrap().push(Call {
        verb,
        started,
        request: serde_json::from_slice(&body).unwrap_or(Value::Null),
        response: serde_json::from_slice(&answer).unwrap_or(Value::Null),
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_vec(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// A pull subscription on one broker, seen through the relay.

struct Broker {
    /// The relay's root URL: what the puller is given.
    url: String,
    /// The broker's root URL.
    upstream: String,
    subscription: String,
    recorder: Arc<Recorder>,
    http: reqwest::Client,
}

async fn put(http: &reqwest::Client, url: String, body: Value) {
    let r = http.put(&url).json(&body).send().await.unwrap();
    let status = r.status();
    assert!(
        status.is_success(),
        "PUT {url}: {status} {}",
        r.text().await.unwrap()
    );
}

impl Broker {
    /// A pull subscription receiving the sandbox's RTDNs from now on.
    async fn attach(app: &TestApp, kind: Kind) -> Broker {
        Self::attach_with_deadline(app, kind, 60).await
    }

    /// Like [`Broker::attach`], with the subscription's ack deadline in seconds.
    async fn attach_with_deadline(app: &TestApp, kind: Kind, ack_deadline: i32) -> Broker {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(150))
            .build()
            .unwrap();
        let (upstream, subscription) = match kind {
            Kind::Sandbox => {
                let sub = "projects/playbill-test/subscriptions/playbill-pull";
                put(
                    &http,
                    format!("{}/v1/{sub}", app.sandbox),
                    json!({"topic": "projects/playbill-test/topics/play-billing",
                           "ackDeadlineSeconds": ack_deadline}),
                )
                .await;
                (app.sandbox.clone(), sub.to_owned())
            }
            Kind::Emulator => {
                let host = std::env::var("PUBSUB_EMULATOR_HOST")
                    .ok()
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "127.0.0.1:8085".into());
                let root = format!("http://{host}");
                if let Err(e) = http
                    .get(format!("{root}/"))
                    .timeout(Duration::from_secs(3))
                    .send()
                    .await
                {
                    panic!(
                        "Google's Pub/Sub emulator does not answer at {root} ({e}); start it with \
                         `setsid gcloud beta emulators pubsub start --host-port={host} &`"
                    );
                }
                // One topic per test: tests run in parallel and a topic fans out to all.
                let id = uuid::Uuid::new_v4().simple().to_string();
                let topic = format!("projects/{EMULATOR_PROJECT}/topics/rtdn-{id}");
                let sub = format!("projects/{EMULATOR_PROJECT}/subscriptions/pull-{id}");
                put(&http, format!("{root}/v1/{topic}"), json!({})).await;
                put(
                    &http,
                    format!("{root}/v1/{sub}"),
                    json!({"topic": topic, "ackDeadlineSeconds": ack_deadline}),
                )
                .await;
                put(
                    &http,
                    format!("{}/sandbox/v1/rtdn", app.sandbox),
                    json!({"forward": {"pubsub_url": root, "topic": topic}}),
                )
                .await;
                (root, sub)
            }
        };
        let recorder = Arc::new(Recorder {
            upstream: upstream.clone(),
            http: http.clone(),
            calls: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new().fallback(relay).with_state(recorder.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Broker {
            url,
            upstream,
            subscription,
            recorder,
            http,
        }
    }

    fn puller(&self, app: &TestApp, workers: usize) -> Puller {
        self.puller_with_deadline(app, workers, 60)
    }

    fn puller_with_deadline(&self, app: &TestApp, workers: usize, ack_deadline: i32) -> Puller {
        let settings = PullSettings {
            subscription: self.subscription.clone(),
            pubsub_url: self.url.clone(),
            service_account_key: None,
            workers,
            max_messages: 10,
            ack_deadline_seconds: ack_deadline,
        };
        settings.validate("pull").unwrap();
        let client = PubSubClient::new(reqwest::Client::new(), &self.url, None);
        Puller::new(app.state.clone(), settings, client)
    }

    fn calls(&self) -> Vec<Call> {
        self.recorder.calls.lock().unwrap().clone()
    }

    /// Every delivery since `from` (an index into the calls): (messageId, ackId), in order.
    fn deliveries(&self, from: usize) -> Vec<(String, String)> {
        let calls = self.calls();
        calls
            .get(from..)
            .unwrap_or_default()
            .iter()
            .filter(|c| c.verb == "pull")
            .flat_map(|c| {
                c.response["receivedMessages"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|m| {
                (
                    m["message"]["messageId"].as_str().unwrap().to_owned(),
                    m["ackId"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Ack ids acknowledged, and those nacked (`modifyAckDeadline` to 0).
    fn answers(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let ids = |c: &Call| -> Vec<String> {
            c.request["ackIds"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let mut acked = BTreeSet::new();
        let mut nacked = BTreeSet::new();
        for c in self.calls() {
            match c.verb.as_str() {
                "acknowledge" => acked.extend(ids(&c)),
                "modifyAckDeadline" if c.request["ackDeadlineSeconds"].as_i64() == Some(0) => {
                    nacked.extend(ids(&c))
                }
                _ => {}
            }
        }
        (acked, nacked)
    }

    /// Waits until every delivery since `from` was answered (acknowledged or nacked) and
    /// every message delivered was acknowledged once; returns the deliveries.
    async fn all_answered(&self, app: &TestApp, from: usize) -> Vec<(String, String)> {
        app.eventually("every message is acknowledged", || async {
            let (acked, nacked) = self.answers();
            let delivered = self.deliveries(from);
            delivered
                .iter()
                .all(|(_, ack)| acked.contains(ack) || nacked.contains(ack))
                && delivered.iter().all(|(m, _)| {
                    delivered
                        .iter()
                        .any(|(m2, ack)| m2 == m && acked.contains(ack))
                })
        })
        .await;
        self.deliveries(from)
    }

    /// Nothing is left in the subscription (asked directly, without waiting).
    async fn assert_empty(&self) {
        let r: Value = self
            .http
            .post(format!("{}/v1/{}:pull", self.upstream, self.subscription))
            .json(&json!({"maxMessages": 100, "returnImmediately": true}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            r.get("receivedMessages")
                .and_then(Value::as_array)
                .is_none_or(|m| m.is_empty()),
            "the subscription still holds messages: {r}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// A running puller.

struct Running {
    stop: oneshot::Sender<()>,
    done: JoinHandle<()>,
}

fn start(puller: Puller) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let done = tokio::spawn(puller.run(async move {
        let _ = stopped.await;
    }));
    Running { stop, done }
}

impl Running {
    /// Signals shutdown; returns when `run` did, with the moment shutdown began and how long
    /// it took.
    async fn stop(self) -> (Instant, Duration) {
        let at = Instant::now();
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(90), self.done)
            .await
            .expect("the puller stops")
            .expect("the puller does not panic");
        (at, at.elapsed())
    }
}

// ---------------------------------------------------------------------------------------------
// The sandbox side.

async fn act(app: &TestApp, token: &str, action: &str) {
    app.control(&format!("apps/{PKG}/purchases/{token}:{action}"), json!({}))
        .await;
}

/// Buys premium for `user` and verifies it through the API (`user` owns the token).
async fn owned_subscription(app: &TestApp, user: &str) -> String {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let r = app
        .verify(PKG, user, "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, reqwest::StatusCode::OK, "{}", r.body);
    token
}

/// Google calls on subscriptionsv2 the sandbox failed (injected faults).
async fn failed_reads(app: &TestApp) -> usize {
    let log: Value = app
        .http
        .get(format!("{}/sandbox/v1/requests", app.sandbox))
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
        .filter(|r| r["status"] != 200 && r["path"].as_str().unwrap().contains("/subscriptionsv2/"))
        .count()
}

async fn state_is(app: &TestApp, token: &str, want: &str) -> bool {
    app.stored_state(PKG, token).await.as_deref() == Some(want)
}

fn no_tweak(_: &mut Settings) {}

/// Lets the Play client honour a `Retry-After` of a second or two, so processing can be
/// made slow on purpose.
fn honour_retry_after(s: &mut Settings) {
    s.google.retry.max_backoff_ms = 2_000;
}

/// Runs `$scenario(app, kind)` on both brokers and both databases.
macro_rules! pull_test {
    ($scenario:ident, $tweak:expr) => {
        mod $scenario {
            use super::*;

            async fn on(kind: Kind, backend: Backend) {
                super::$scenario(spawn_app_with(backend, $tweak).await, kind).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sandbox_sqlite() {
                on(Kind::Sandbox, Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sandbox_postgres() {
                on(Kind::Sandbox, Backend::Postgres).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn emulator_sqlite() {
                on(Kind::Emulator, Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn emulator_postgres() {
                on(Kind::Emulator, Backend::Postgres).await
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// (a) Entitlements follow the notifications; every message is acknowledged.

pull_test!(cancel_then_expiry_are_pulled_and_acknowledged, no_tweak);

async fn cancel_then_expiry_are_pulled_and_acknowledged(app: TestApp, kind: Kind) {
    let token = owned_subscription(&app, "alice").await;
    let broker = Broker::attach(&app, kind).await;
    let puller = start(broker.puller(&app, 2));

    act(&app, &token, "cancel").await;
    app.eventually("the cancellation is stored", || {
        state_is(&app, &token, "CANCELED")
    })
    .await;
    assert_eq!(
        app.entitlement_names(PKG, "alice").await,
        ["no_ads", "pro"],
        "canceled is not expired: access until the expiry"
    );
    act(&app, &token, "expire").await;
    app.eventually("the expiry removes access", || async {
        app.entitlement_names(PKG, "alice").await.is_empty()
    })
    .await;
    assert!(state_is(&app, &token, "EXPIRED").await);
    assert!(
        app.events(PKG, &token)
            .await
            .contains(&"notified".to_owned())
    );

    let delivered = broker.all_answered(&app, 0).await;
    let messages: BTreeSet<&str> = delivered.iter().map(|(m, _)| m.as_str()).collect();
    assert!(
        messages.len() >= 2,
        "the cancellation and the expiry were pulled: {delivered:?}"
    );
    let (_, nacked) = broker.answers();
    assert!(
        nacked.is_empty(),
        "nothing failed, nothing nacked: {nacked:?}"
    );

    let (_, took) = puller.stop().await;
    assert!(
        took < Duration::from_secs(1),
        "an idle puller stops at once (its long poll is dropped), took {took:?}"
    );
    broker.assert_empty().await;
}

// ---------------------------------------------------------------------------------------------
// (b) A transient failure: the message is nacked, comes back, and is processed.

pull_test!(a_transient_failure_is_nacked_and_processed_again, no_tweak);

async fn a_transient_failure_is_nacked_and_processed_again(app: TestApp, kind: Kind) {
    let token = owned_subscription(&app, "alice").await;
    let broker = Broker::attach(&app, kind).await;
    // 3 attempts (MAX_ATTEMPTS) fail the first processing; the second gets through on its
    // third attempt.
    app.control(
        "faults",
        json!({"path_contains": "subscriptionsv2", "status": 503, "count": 5}),
    )
    .await;
    let puller = start(broker.puller(&app, 2));

    act(&app, &token, "cancel").await;
    // Within 10 s, while the lease is 60 s: only a nack brings it back this soon.
    app.eventually("the cancellation is stored once Google answers", || {
        state_is(&app, &token, "CANCELED")
    })
    .await;
    assert_eq!(
        failed_reads(&app).await,
        5,
        "every injected failure was met"
    );

    let delivered = broker.all_answered(&app, 0).await;
    let mut by_message: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (m, ack) in &delivered {
        by_message.entry(m).or_default().push(ack);
    }
    assert_eq!(by_message.len(), 1, "one notification: {delivered:?}");
    let acks = by_message.values().next().unwrap();
    assert!(
        acks.len() >= 2,
        "delivered again after the failure: {acks:?}"
    );
    let (acked, nacked) = broker.answers();
    assert!(
        nacked.contains(acks[0]) && !acked.contains(acks[0]),
        "the failed delivery was nacked, not acknowledged"
    );
    assert!(acked.contains(acks[acks.len() - 1]));
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);

    puller.stop().await;
    broker.assert_empty().await;
}

// ---------------------------------------------------------------------------------------------
// (c) Shutdown while messages are in hand: they finish, or are nacked and processed after
// the restart.

pull_test!(
    shutdown_with_messages_in_hand_loses_nothing,
    honour_retry_after
);

async fn shutdown_with_messages_in_hand_loses_nothing(app: TestApp, kind: Kind) {
    let first = owned_subscription(&app, "alice").await;
    let second = owned_subscription(&app, "bob").await;
    let broker = Broker::attach(&app, kind).await;
    let slow_reads = |count: u32| {
        app.control(
            "faults",
            json!({"path_contains": "subscriptionsv2", "status": 503, "count": count,
                   "retry_after_seconds": 1}),
        )
    };

    // 1. Shutdown while the first cancellation is processed (a second, for Google's
    //    Retry-After): it finishes and is acknowledged before `run` returns.
    slow_reads(1).await;
    act(&app, &first, "cancel").await;
    // One worker: at shutdown it holds the batch and has no pull open.
    let puller = start(broker.puller(&app, 1));
    app.eventually("the first cancellation is being processed", || async {
        failed_reads(&app).await == 1
    })
    .await;
    let (stopped_at, _) = puller.stop().await;
    assert!(
        state_is(&app, &first, "CANCELED").await,
        "the message in hand was processed before the puller stopped"
    );
    let delivered = broker.deliveries(0);
    let (acked, nacked) = broker.answers();
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert!(acked.contains(&delivered[0].1) && nacked.is_empty());
    assert!(
        broker
            .calls()
            .iter()
            .all(|c| c.verb != "pull" || c.started < stopped_at),
        "no pull after shutdown began"
    );

    // 2. Shutdown while the second is processed, with a grace shorter than its two seconds:
    //    it is nacked, not acknowledged, and not processed yet.
    let mark = broker.calls().len();
    slow_reads(2).await;
    act(&app, &second, "cancel").await;
    let puller = start(
        broker
            .puller(&app, 1)
            .with_shutdown_grace(Duration::from_millis(200)),
    );
    app.eventually("the second cancellation is being processed", || async {
        failed_reads(&app).await == 2
    })
    .await;
    let (_, took) = puller.stop().await;
    assert!(
        took < Duration::from_millis(900),
        "the grace bounds the shutdown, took {took:?}"
    );
    assert!(!state_is(&app, &second, "CANCELED").await);
    let delivered = broker.deliveries(mark);
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let (acked, nacked) = broker.answers();
    assert!(
        nacked.contains(&delivered[0].1) && !acked.contains(&delivered[0].1),
        "the unfinished message was nacked, not acknowledged"
    );

    // 3. After a restart it comes back at once (its lease is 60 s) and is processed.
    let puller = start(broker.puller(&app, 2));
    app.eventually(
        "the second cancellation is stored after the restart",
        || state_is(&app, &second, "CANCELED"),
    )
    .await;
    let redelivered = broker.all_answered(&app, mark).await;
    assert!(
        redelivered.len() >= 2 && redelivered.iter().all(|(m, _)| *m == delivered[0].0),
        "the same message came back: {redelivered:?}"
    );
    puller.stop().await;
    broker.assert_empty().await;
    for user in ["alice", "bob"] {
        assert_eq!(
            app.entitlement_names(PKG, user).await,
            ["no_ads", "pro"],
            "{user}: canceled keeps access until the expiry"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (d) A message processed for longer than the subscription's ack deadline keeps its lease.

pull_test!(a_slow_message_keeps_its_lease, honour_a_long_retry_after);

/// Lets the Play client wait out a `Retry-After` of 6 s.
fn honour_a_long_retry_after(s: &mut Settings) {
    s.google.retry.max_backoff_ms = 7_000;
}

async fn a_slow_message_keeps_its_lease(app: TestApp, kind: Kind) {
    let token = owned_subscription(&app, "alice").await;
    // The shortest deadline Pub/Sub allows: processing takes longer.
    let broker = Broker::attach_with_deadline(&app, kind, 10).await;
    app.control(
        "faults",
        json!({"path_contains": "subscriptionsv2", "status": 503, "count": 2,
               "retry_after_seconds": 6}),
    )
    .await;
    // Two workers: a lease that lapsed would hand the message to the idle one.
    let puller = start(broker.puller_with_deadline(&app, 2, 10));
    act(&app, &token, "cancel").await;
    let started = Instant::now();
    while !state_is(&app, &token, "CANCELED").await {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the slow cancellation is stored"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() > Duration::from_secs(10),
        "processing outlasted the 10 s deadline ({:?})",
        started.elapsed()
    );
    let delivered = broker.all_answered(&app, 0).await;
    assert_eq!(
        delivered.len(),
        1,
        "delivered once, never again: {delivered:?}"
    );
    let ack_id = &delivered[0].1;
    let extended = broker.calls().iter().any(|c| {
        c.verb == "modifyAckDeadline"
            && c.request["ackDeadlineSeconds"] == 10
            && c.request["ackIds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|id| id == ack_id.as_str())
    });
    assert!(extended, "the lease was extended while the work ran");
    puller.stop().await;
    broker.assert_empty().await;
}
