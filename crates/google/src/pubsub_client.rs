//! `PubSubClient`: the three Cloud Pub/Sub v1 calls a subscriber makes (reference 3.3) —
//! `pull`, `acknowledge`, `modifyAckDeadline` — over REST, authenticated as a service account
//! (scope [`PUBSUB_SCOPE`]) or not at all (Google's Pub/Sub emulator, the sandbox).
//!
//! One attempt per call (plus one token refresh on 401): the caller decides how to retry,
//! since a pull loop backs off differently from an acknowledgement. Errors are classified by
//! [`GoogleError::from_status`], as the Play client's are.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::pubsub::{
    AcknowledgeRequest, ModifyAckDeadlineRequest, PullRequest, PullResponse, ReceivedMessage,
};
use crate::{GoogleError, TokenSource};

/// OAuth scope of the Pub/Sub API.
pub const PUBSUB_SCOPE: &str = "https://www.googleapis.com/auth/pubsub";
/// Pub/Sub's root URL in production.
pub const PUBSUB_URL: &str = "https://pubsub.googleapis.com";
/// How long a pull may stay open. Pub/Sub (and its emulator) hold a pull that finds no
/// message for about 90 s before answering `{}`; this must be longer than that.
pub const PULL_TIMEOUT: Duration = Duration::from_secs(120);

/// Client for one Pub/Sub endpoint; cheap to clone.
#[derive(Clone)]
pub struct PubSubClient {
    http: reqwest::Client,
    base_url: String,
    auth: Option<Arc<TokenSource>>,
}

impl std::fmt::Debug for PubSubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubClient")
            .field("base_url", &self.base_url)
            .field("authenticated", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

impl PubSubClient {
    /// `base_url` is the API's root ([`PUBSUB_URL`], or `http://127.0.0.1:8085` for the
    /// emulator); `auth` is `None` where no credentials are needed (emulator, sandbox). A
    /// token source given here should carry [`PUBSUB_SCOPE`].
    pub fn new(http: reqwest::Client, base_url: &str, auth: Option<Arc<TokenSource>>) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            auth,
        }
    }

    /// `pubsub.projects.subscriptions.pull`: up to `max_messages` messages, waiting (a long
    /// poll, up to [`PULL_TIMEOUT`]) while there are none; may answer with none.
    /// `subscription` is `projects/P/subscriptions/S`.
    pub async fn pull(
        &self,
        subscription: &str,
        max_messages: i32,
    ) -> Result<Vec<ReceivedMessage>, GoogleError> {
        let body = PullRequest {
            max_messages: Some(max_messages),
            return_immediately: Some(false),
        };
        let bytes = self
            .call(subscription, "pull", &body, Some(PULL_TIMEOUT))
            .await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        let resp: PullResponse = serde_json::from_slice(&bytes)
            .map_err(|e| GoogleError::Decode(format!("pubsub pull: {e}")))?;
        Ok(resp.received_messages)
    }

    /// `pubsub.projects.subscriptions.acknowledge`. No call is made for no ids.
    pub async fn acknowledge(
        &self,
        subscription: &str,
        ack_ids: &[String],
    ) -> Result<(), GoogleError> {
        if ack_ids.is_empty() {
            return Ok(());
        }
        let body = AcknowledgeRequest {
            ack_ids: ack_ids.to_vec(),
        };
        self.call(subscription, "acknowledge", &body, None)
            .await
            .map(|_| ())
    }

    /// `pubsub.projects.subscriptions.modifyAckDeadline`: the messages are due `seconds`
    /// from now (0–600); 0 is a nack (delivered again at once). No call is made for no ids.
    pub async fn modify_ack_deadline(
        &self,
        subscription: &str,
        ack_ids: &[String],
        seconds: i32,
    ) -> Result<(), GoogleError> {
        if ack_ids.is_empty() {
            return Ok(());
        }
        let body = ModifyAckDeadlineRequest {
            ack_deadline_seconds: seconds,
            ack_ids: ack_ids.to_vec(),
        };
        self.call(subscription, "modifyAckDeadline", &body, None)
            .await
            .map(|_| ())
    }

    /// `POST {base}/v1/{subscription}:{verb}`, refreshing the token once on 401.
    async fn call<B: Serialize>(
        &self,
        subscription: &str,
        verb: &str,
        body: &B,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, GoogleError> {
        let url = format!("{}/v1/{subscription}:{verb}", self.base_url);
        let mut refreshed = false;
        loop {
            match self.attempt(verb, &url, body, timeout).await {
                Err(GoogleError::Unauthenticated { .. }) if !refreshed && self.auth.is_some() => {
                    refreshed = true;
                    if let Some(auth) = &self.auth {
                        auth.invalidate().await;
                    }
                }
                result => return result,
            }
        }
    }

    async fn attempt<B: Serialize>(
        &self,
        verb: &str,
        url: &str,
        body: &B,
        timeout: Option<Duration>,
    ) -> Result<Vec<u8>, GoogleError> {
        let mut req = self.http.post(url).json(body);
        if let Some(auth) = &self.auth {
            req = req.bearer_auth(auth.token().await?);
        }
        if let Some(timeout) = timeout {
            req = req.timeout(timeout);
        }
        let unavailable = |what: &str, e: reqwest::Error| GoogleError::Unavailable {
            retry_after: None,
            message: format!("pubsub {verb} {what}: {}", e.without_url()),
        };
        let resp = req.send().await.map_err(|e| unavailable("failed", e))?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp.bytes().await.map_err(|e| unavailable("body", e))?;
        if (200..300).contains(&status) {
            Ok(bytes.to_vec())
        } else {
            Err(GoogleError::from_status(status, &bytes, retry_after))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_loses_its_trailing_slash() {
        let c = PubSubClient::new(reqwest::Client::new(), "http://127.0.0.1:8085/", None);
        assert_eq!(c.base_url, "http://127.0.0.1:8085");
    }

    #[tokio::test]
    async fn no_ids_make_no_call() {
        // Port 9 (discard) is never served in tests: a call would fail.
        let c = PubSubClient::new(reqwest::Client::new(), "http://127.0.0.1:9", None);
        let sub = "projects/p-123456/subscriptions/s";
        assert_eq!(c.acknowledge(sub, &[]).await, Ok(()));
        assert_eq!(c.modify_ack_deadline(sub, &[], 0).await, Ok(()));
        assert!(matches!(
            c.acknowledge(sub, &["x".into()]).await,
            Err(GoogleError::Unavailable { .. })
        ));
    }
}
