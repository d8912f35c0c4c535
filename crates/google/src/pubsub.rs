//! Cloud Pub/Sub v1 wire types (`contracts/pubsub.v1.json`) for the calls playbill and the
//! sandbox use: topics, subscriptions, publish, pull, acknowledge, modifyAckDeadline, and the
//! wrapped push envelope. `data` is standard base64, as the contract's `format: byte` says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PubsubMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedMessage {
    pub ack_id: String,
    pub message: PubsubMessage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_attempt: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_messages: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_immediately: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub received_messages: Vec<ReceivedMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcknowledgeRequest {
    #[serde(default)]
    pub ack_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifyAckDeadlineRequest {
    /// 0 (a nack) is left out by protobuf JSON encoders.
    #[serde(default)]
    pub ack_deadline_seconds: i32,
    #[serde(default)]
    pub ack_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishRequest {
    #[serde(default)]
    pub messages: Vec<PubsubMessage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishResponse {
    #[serde(default)]
    pub message_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topic {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub topic: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_config: Option<PushConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_deadline_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_retention_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
}

/// Backoff between push redeliveries (`google-duration` strings such as `"10s"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_backoff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_backoff: Option<String>,
}

/// Parses a `google-duration` (`"10s"`, `"3.5s"`) into milliseconds.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && (0.0..=1e9).contains(&secs)).then(|| (secs * 1000.0).round() as i64)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_token: Option<OidcToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OidcToken {
    #[serde(default)]
    pub service_account_email: String,
    /// Empty means the push endpoint (and is left out on the wire).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
}

/// The body of a wrapped push delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushEnvelope {
    pub message: PubsubMessage,
    pub subscription: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_attempt: Option<i32>,
}
