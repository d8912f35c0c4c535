//! Forwarding RTDNs to an external Pub/Sub topic through the v1 REST API — e.g. Google's own
//! Pub/Sub emulator, or a real topic — so a backend can consume them exactly as it would in
//! production. Messages leave in publication order; a failed publish is retried with backoff
//! and then dropped with an error log (the sandbox is a test double, not a broker).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use playbill_google::pubsub::{PublishRequest, PubsubMessage};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// Where to forward: a Pub/Sub root URL (`http://127.0.0.1:8085` for the emulator) and a
/// full topic name (`projects/P/topics/T`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardTarget {
    pub pubsub_url: String,
    pub topic: String,
}

impl ForwardTarget {
    pub fn validate(&self) -> Result<(), String> {
        if !(self.pubsub_url.starts_with("http://") || self.pubsub_url.starts_with("https://")) {
            return Err("pubsub_url must be an http(s) URL".into());
        }
        let parts: Vec<&str> = self.topic.split('/').collect();
        if parts.len() != 4 || parts[0] != "projects" || parts[2] != "topics" || parts[1].len() < 6
        {
            return Err(
                "topic must be projects/PROJECT/topics/TOPIC (project id of 6+ characters)".into(),
            );
        }
        Ok(())
    }
}

/// One message to forward.
pub struct Outgoing {
    pub target: ForwardTarget,
    pub data: Vec<u8>,
}

pub type Sender = mpsc::UnboundedSender<Outgoing>;

/// Runs until the sender side is dropped.
pub async fn run(mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    while let Some(out) = rx.recv().await {
        let url = format!(
            "{}/v1/{}:publish",
            out.target.pubsub_url.trim_end_matches('/'),
            out.target.topic
        );
        let body = PublishRequest {
            messages: vec![PubsubMessage {
                data: Some(STANDARD.encode(&out.data)),
                ..PubsubMessage::default()
            }],
        };
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=5 {
            match http.post(&url).json(&body).send().await {
                Ok(r) if r.status().is_success() => break,
                Ok(r) => {
                    tracing::warn!(status = %r.status(), attempt, %url, "forwarding an RTDN failed")
                }
                Err(e) => {
                    tracing::warn!(error = %e.without_url(), attempt, %url, "forwarding an RTDN failed")
                }
            }
            if attempt == 5 {
                tracing::error!(%url, "dropping an RTDN that could not be forwarded");
            } else {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}
