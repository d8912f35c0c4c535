//! Notifications by Pub/Sub pull (reference 3.3), the alternative to push for a backend that
//! cannot be reached from the internet: `workers` loops each pull a batch, hand every message
//! to the same intake as push ([`crate::rtdn::take_in`]) and answer Pub/Sub only then.
//!
//! Nothing is lost:
//! - a message is acknowledged only once `take_in` handled it (processed now or before, or
//!   quarantined for good); one not processed for a passing reason is nacked
//!   (`modifyAckDeadline 0`) and so delivered again at once;
//! - while a batch is in hand its leases are extended to `ack_deadline_seconds`: first 5 s
//!   after the pull (half of the shortest deadline a subscription can have, 10 s, since ours
//!   is not known), then every half `ack_deadline_seconds`;
//! - a failed acknowledgement means a later redelivery, which the inbox recognises by its
//!   `messageId`;
//! - on shutdown the workers stop pulling at once (an open long poll is dropped), let the
//!   messages in hand finish for at most the grace period (`ack_deadline_seconds` unless
//!   [`Puller::with_shutdown_grace`] says otherwise), then nack those that did not. A message
//!   Pub/Sub handed to a pull we dropped comes back when its lease runs out.
//!
//! Failed pulls are logged at warn and retried after 100 ms, doubling to 10 s, reset by the
//! next successful pull; a batch with a nacked message is followed by the same kind of pause,
//! so a Google outage does not spin the loop. Message data is never logged.
//!
//! The store must stay open until [`Puller::run`] has returned.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use playbill_google::pubsub::ReceivedMessage;
use playbill_google::pubsub_client::{PUBSUB_SCOPE, PUBSUB_URL, PubSubClient};
use playbill_google::{ServiceAccountKey, TokenSource};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::ConfigError;
use crate::rtdn::{Incoming, NotProcessed, take_in};
use crate::state::AppState;

/// Where and how to pull notifications.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PullSettings {
    /// The pull subscription, `projects/P/subscriptions/S`.
    pub subscription: String,
    /// Pub/Sub's root URL (the emulator's, e.g. `http://127.0.0.1:8085`, in tests).
    #[serde(default = "default_pubsub_url")]
    pub pubsub_url: String,
    /// Key of the service account that pulls (needs `roles/pubsub.subscriber`); none: no
    /// credentials are sent (the emulator).
    #[serde(default)]
    pub service_account_key: Option<std::path::PathBuf>,
    /// Concurrent pull loops.
    #[serde(default = "default_workers")]
    pub workers: usize,
    /// Messages asked for per pull.
    #[serde(default = "default_max_messages")]
    pub max_messages: i32,
    /// Lease asked for while messages are processed (extended as long as work runs), and the
    /// default shutdown grace.
    #[serde(default = "default_ack_deadline_seconds")]
    pub ack_deadline_seconds: i32,
}

fn default_pubsub_url() -> String {
    PUBSUB_URL.into()
}

fn default_workers() -> usize {
    2
}

fn default_max_messages() -> i32 {
    10
}

fn default_ack_deadline_seconds() -> i32 {
    60
}

impl PullSettings {
    /// The defaults for `subscription`.
    pub fn new(subscription: impl Into<String>) -> Self {
        Self {
            subscription: subscription.into(),
            pubsub_url: default_pubsub_url(),
            service_account_key: None,
            workers: default_workers(),
            max_messages: default_max_messages(),
            ack_deadline_seconds: default_ack_deadline_seconds(),
        }
    }

    /// Checks what serde cannot; messages name the field under `prefix` (e.g. `rtdn.pull`).
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let err = |m: &str| Err(ConfigError(format!("{prefix}.{m}")));
        let parts: Vec<&str> = self.subscription.split('/').collect();
        if !(parts.len() == 4
            && parts[0] == "projects"
            && parts[2] == "subscriptions"
            && !parts[1].is_empty()
            && !parts[3].is_empty())
        {
            return err("subscription: must be projects/PROJECT/subscriptions/NAME");
        }
        if !(self.pubsub_url.starts_with("http://") || self.pubsub_url.starts_with("https://")) {
            return err("pubsub_url: must be an http(s) URL");
        }
        if !(1..=64).contains(&self.workers) {
            return err("workers: must be between 1 and 64");
        }
        if !(1..=1000).contains(&self.max_messages) {
            return err("max_messages: must be between 1 and 1000");
        }
        if !(1..=600).contains(&self.ack_deadline_seconds) {
            return err("ack_deadline_seconds: must be between 1 and 600");
        }
        if let Some(key) = &self.service_account_key {
            ServiceAccountKey::from_file(key)
                .map_err(|e| ConfigError(format!("{prefix}.service_account_key: {e}")))?;
        }
        Ok(())
    }

    /// A client for these settings: authenticated with `service_account_key` (scope
    /// `pubsub`) when one is set.
    pub fn client(&self, http: reqwest::Client) -> Result<PubSubClient, ConfigError> {
        let auth = match &self.service_account_key {
            Some(path) => {
                let key = ServiceAccountKey::from_file(path)
                    .map_err(|e| ConfigError(format!("service_account_key: {e}")))?;
                let source = TokenSource::new(key, &[PUBSUB_SCOPE], http.clone())
                    .map_err(|e| ConfigError(format!("service_account_key: {e}")))?;
                Some(Arc::new(source))
            }
            None => None,
        };
        Ok(PubSubClient::new(http, &self.pubsub_url, auth))
    }
}

/// The pull workers of one subscription.
pub struct Puller {
    state: AppState,
    settings: PullSettings,
    client: PubSubClient,
    grace: Option<Duration>,
}

/// First pause after a failure, and the longest.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Attempts at an acknowledgement or a nack before leaving the message to its lease.
const ANSWER_ATTEMPTS: u32 = 3;
/// The shortest ack deadline a subscription can have.
const MIN_SUBSCRIPTION_DEADLINE_SECONDS: i32 = 10;

impl Puller {
    pub fn new(state: AppState, settings: PullSettings, client: PubSubClient) -> Self {
        Self {
            state,
            settings,
            client,
            grace: None,
        }
    }

    /// How long the messages in hand may still take once shutdown began (default:
    /// `ack_deadline_seconds`); those not finished by then are nacked.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = Some(grace);
        self
    }

    /// Runs `workers` pull loops until `shutdown` resolves; then stops pulling, finishes
    /// the messages in hand (or nacks them), and returns. Nothing is acked before `take_in`
    /// returned Ok.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let mut settings = self.settings;
        settings.workers = settings.workers.clamp(1, 64);
        settings.max_messages = settings.max_messages.clamp(1, 1000);
        settings.ack_deadline_seconds = settings.ack_deadline_seconds.clamp(1, 600);
        let deadline = secs(settings.ack_deadline_seconds);
        let shared = Arc::new(Shared {
            state: self.state,
            client: self.client,
            grace: self.grace.unwrap_or(deadline),
            settings,
        });
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut workers = JoinSet::new();
        for id in 0..shared.settings.workers {
            workers.spawn(worker(shared.clone(), id, stop_rx.clone()));
        }
        tracing::info!(
            subscription = %shared.settings.subscription,
            workers = shared.settings.workers,
            "pulling notifications"
        );
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(ended) = workers.join_next() => {
                    // A worker returns only when stopped: this one panicked. Its messages
                    // come back when their leases run out; a fresh worker takes its place.
                    let error = ended.err().map(|e| e.to_string()).unwrap_or_default();
                    tracing::error!(%error, "a pull worker ended unexpectedly; starting another");
                    workers.spawn(worker(shared.clone(), shared.settings.workers, stop_rx.clone()));
                }
            }
        }
        tracing::info!("stopping the pull workers");
        stop_tx.send_replace(true);
        while let Some(ended) = workers.join_next().await {
            if let Err(e) = ended {
                tracing::error!(error = %e, "a pull worker failed while stopping");
            }
        }
        tracing::info!("pull workers stopped");
    }
}

struct Shared {
    state: AppState,
    settings: PullSettings,
    client: PubSubClient,
    grace: Duration,
}

fn secs(s: i32) -> Duration {
    Duration::from_secs(u64::try_from(s).unwrap_or(1))
}

/// 100 ms doubling to 10 s.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(BACKOFF_FIRST)
    }

    fn next(&mut self) -> Duration {
        let d = self.0;
        self.0 = (d * 2).min(BACKOFF_MAX);
        d
    }

    fn reset(&mut self) {
        self.0 = BACKOFF_FIRST;
    }
}

/// Resolves once shutdown began (or the puller is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Sleeps for `d`; `false` if shutdown began meanwhile.
async fn pause(d: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = stopped(stop) => false,
        _ = tokio::time::sleep(d) => true,
    }
}

async fn worker(shared: Arc<Shared>, id: usize, mut stop: watch::Receiver<bool>) {
    let settings = &shared.settings;
    let mut pull_backoff = Backoff::new();
    let mut nack_backoff = Backoff::new();
    loop {
        if *stop.borrow() {
            return;
        }
        let pulled = tokio::select! {
            biased;
            _ = stopped(&mut stop) => return,
            r = shared.client.pull(&settings.subscription, settings.max_messages) => r,
        };
        let messages = match pulled {
            Ok(m) => {
                pull_backoff.reset();
                m
            }
            Err(e) => {
                let delay = pull_backoff.next();
                tracing::warn!(worker = id, error = %e, ?delay, "pull failed; trying again");
                if !pause(delay, &mut stop).await {
                    return;
                }
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        if handle_batch(&shared, id, messages, &mut stop).await {
            nack_backoff.reset();
        } else {
            let delay = nack_backoff.next();
            if !pause(delay, &mut stop).await {
                return;
            }
        }
    }
}

/// Processes one pulled batch, one message after the other, extending the leases of those
/// not yet answered. `true` if every message was handled (none nacked).
async fn handle_batch(
    shared: &Shared,
    worker: usize,
    messages: Vec<ReceivedMessage>,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let sub = shared.settings.subscription.as_str();
    // Ack ids in hand and not answered yet.
    let in_hand = Mutex::new(
        messages
            .iter()
            .map(|m| m.ack_id.clone())
            .collect::<Vec<_>>(),
    );
    let answered = |ack_id: &str| {
        in_hand
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id| id != ack_id);
    };
    let work = async {
        let mut all_handled = true;
        for m in &messages {
            let handled = handle_one(shared, worker, m).await;
            let seconds = if handled { None } else { Some(0) };
            answer(shared, m, seconds).await;
            answered(&m.ack_id);
            all_handled &= handled;
        }
        all_handled
    };
    let grace_over = async {
        stopped(stop).await;
        tokio::time::sleep(shared.grace).await;
    };
    let outcome = tokio::select! {
        all_handled = work => Some(all_handled),
        _ = extend_leases(shared, &in_hand) => None,
        _ = grace_over => None,
    };
    if let Some(all_handled) = outcome {
        return all_handled;
    }
    let left = std::mem::take(&mut *in_hand.lock().unwrap_or_else(|e| e.into_inner()));
    tracing::warn!(
        worker,
        messages = left.len(),
        "shutdown grace over: nacking the messages not finished; Pub/Sub delivers them again"
    );
    if let Err(e) = shared.client.modify_ack_deadline(sub, &left, 0).await {
        tracing::warn!(error = %e, "cannot nack; the messages come back when their leases run out");
    }
    false
}

/// Takes one message in; `true` if it is handled (may be acknowledged).
async fn handle_one(shared: &Shared, worker: usize, m: &ReceivedMessage) -> bool {
    let message_id = m.message.message_id.as_deref();
    // Kept verbatim if the intake quarantines it.
    let body = serde_json::to_string(m).unwrap_or_default();
    let incoming = Incoming {
        source: "pull",
        subscription: &shared.settings.subscription,
        message_id,
        data: m.message.data.as_deref(),
        published_at: m.message.publish_time.as_deref(),
        body: &body,
    };
    match take_in(&shared.state, incoming).await {
        Ok(()) => {
            tracing::debug!(worker, message_id, "notification handled");
            true
        }
        // take_in logged the reason.
        Err(NotProcessed::Quarantined(_)) => true,
        Err(NotProcessed::Transient(reason)) => {
            tracing::warn!(
                worker,
                message_id,
                delivery_attempt = m.delivery_attempt,
                %reason,
                "notification not processed; nacked so Pub/Sub delivers it again"
            );
            false
        }
    }
}

/// Acknowledges (`nack_seconds` none) or nacks one message, trying a few times.
async fn answer(shared: &Shared, m: &ReceivedMessage, nack_seconds: Option<i32>) {
    let sub = shared.settings.subscription.as_str();
    let ids = std::slice::from_ref(&m.ack_id);
    let mut delay = BACKOFF_FIRST;
    for attempt in 1..=ANSWER_ATTEMPTS {
        let result = match nack_seconds {
            None => shared.client.acknowledge(sub, ids).await,
            Some(s) => shared.client.modify_ack_deadline(sub, ids, s).await,
        };
        match result {
            Ok(()) => return,
            Err(e) if e.is_retryable() && attempt < ANSWER_ATTEMPTS => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => {
                tracing::warn!(
                    message_id = m.message.message_id.as_deref(),
                    ack = nack_seconds.is_none(),
                    error = %e,
                    "cannot answer Pub/Sub; the message comes back when its lease runs out"
                );
                return;
            }
        }
    }
}

/// Extends the leases of the messages in hand while they are (never returns).
async fn extend_leases(shared: &Shared, in_hand: &Mutex<Vec<String>>) {
    let seconds = shared.settings.ack_deadline_seconds;
    let first = secs(seconds.min(MIN_SUBSCRIPTION_DEADLINE_SECONDS)) / 2;
    let every = secs(seconds) / 2;
    tokio::time::sleep(first).await;
    loop {
        let ids = in_hand.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if !ids.is_empty() {
            match shared
                .client
                .modify_ack_deadline(&shared.settings.subscription, &ids, seconds)
                .await
            {
                Ok(()) => tracing::debug!(messages = ids.len(), seconds, "leases extended"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot extend the leases of messages in hand")
                }
            }
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_and_refuse_unknown_fields() {
        let s: PullSettings =
            serde_json::from_str(r#"{"subscription": "projects/p/subscriptions/s"}"#).unwrap();
        assert_eq!(s, PullSettings::new("projects/p/subscriptions/s"));
        assert_eq!(s.pubsub_url, "https://pubsub.googleapis.com");
        assert_eq!(
            (s.workers, s.max_messages, s.ack_deadline_seconds),
            (2, 10, 60)
        );
        assert!(s.validate("rtdn.pull").is_ok());
        assert!(
            serde_json::from_str::<PullSettings>(
                r#"{"subscription": "projects/p/subscriptions/s", "worker": 3}"#
            )
            .is_err()
        );
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |f: fn(&mut PullSettings)| {
            let mut s = PullSettings::new("projects/p/subscriptions/s");
            f(&mut s);
            s.validate("rtdn.pull").unwrap_err().0
        };
        assert!(bad(|s| s.subscription = "projects/p/topics/t".into()).contains("subscription"));
        assert!(bad(|s| s.pubsub_url = "pubsub.googleapis.com".into()).contains("pubsub_url"));
        assert!(bad(|s| s.workers = 0).contains("rtdn.pull.workers"));
        assert!(bad(|s| s.max_messages = 0).contains("max_messages"));
        assert!(bad(|s| s.ack_deadline_seconds = 601).contains("ack_deadline_seconds"));
        assert!(
            bad(|s| s.service_account_key = Some("/nonexistent/key.json".into()))
                .contains("service_account_key")
        );
    }

    #[test]
    fn backoff_doubles_to_ten_seconds_and_resets() {
        let mut b = Backoff::new();
        let seen: Vec<u128> = (0..9).map(|_| b.next().as_millis()).collect();
        assert_eq!(seen, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(100));
    }
}
