//! Cloud Pub/Sub v1 as the sandbox serves it: topics and subscriptions created over the REST
//! API, publish, and pull / acknowledge / modifyAckDeadline with ack deadlines and
//! redelivery. Every RTDN the sandbox's Play publishes goes to a topic here
//! (`projects/<project>/topics/play-billing` by default), as Play Console's RTDN setting does.
//! Like Google's own emulator, these routes need no credentials. Ack deadlines follow the
//! wall clock (they are about delivery, not billing).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use playbill_google::observe::format_time;
use playbill_google::pubsub::{
    AcknowledgeRequest, ModifyAckDeadlineRequest, PublishRequest, PublishResponse, PubsubMessage,
    PullRequest, PullResponse, ReceivedMessage, Subscription, Topic,
};
use serde_json::{Value, json};

use crate::error::GoogleApiError;
use crate::state::{Shared, random_token, wall_ms};

type ApiResult<T> = Result<T, GoogleApiError>;

/// The topic every app's notifications go to unless configured otherwise.
pub fn default_topic(project: &str) -> String {
    format!("projects/{project}/topics/play-billing")
}

struct Outstanding {
    message: PubsubMessage,
    attempt: i32,
    deadline_wall_ms: i64,
}

struct SubState {
    config: Subscription,
    queue: VecDeque<(PubsubMessage, i32)>,
    outstanding: HashMap<String, Outstanding>,
}

impl SubState {
    fn ack_deadline_ms(&self) -> i64 {
        i64::from(self.config.ack_deadline_seconds.unwrap_or(10)) * 1000
    }

    /// Messages whose ack deadline passed go back to the front of the queue.
    fn expire(&mut self, now: i64) {
        let expired: Vec<String> = self
            .outstanding
            .iter()
            .filter(|(_, o)| o.deadline_wall_ms <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            if let Some(o) = self.outstanding.remove(&id) {
                self.queue.push_front((o.message, o.attempt + 1));
            }
        }
    }
}

#[derive(Default)]
pub struct PubSub {
    topics: BTreeMap<String, Topic>,
    subscriptions: BTreeMap<String, SubState>,
    next_message_id: u64,
}

impl PubSub {
    pub fn ensure_topic(&mut self, name: &str) {
        self.topics.entry(name.to_owned()).or_insert_with(|| Topic {
            name: name.to_owned(),
            labels: None,
        });
    }

    /// Publishes one message to `topic` (fanned out to its subscriptions); returns its id.
    pub fn publish(
        &mut self,
        topic: &str,
        data: &[u8],
        attributes: Option<BTreeMap<String, String>>,
        publish_time_ms: i64,
    ) -> Option<String> {
        if !self.topics.contains_key(topic) {
            return None;
        }
        self.next_message_id += 1;
        let id = (self.next_message_id + 2_000_000_000_000).to_string();
        let message = PubsubMessage {
            attributes: attributes.filter(|a| !a.is_empty()),
            data: Some(STANDARD.encode(data)),
            message_id: Some(id.clone()),
            ordering_key: None,
            publish_time: Some(format_time(publish_time_ms)),
        };
        for sub in self.subscriptions.values_mut() {
            if sub.config.topic == topic {
                sub.queue.push_back((message.clone(), 1));
            }
        }
        Some(id)
    }
}

fn not_found(what: &str, name: &str) -> GoogleApiError {
    GoogleApiError::new(
        StatusCode::NOT_FOUND,
        "notFound",
        format!("Resource not found ({what}={name})."),
    )
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(t)| t).map_err(|e| {
        GoogleApiError::invalid(
            "badRequest",
            format!("Invalid JSON payload: {}", e.body_text()),
        )
    })
}

/// Resource ids: start with a letter, 3–255 of `[A-Za-z0-9-_.~+%]`.
fn check_id(kind: &str, id: &str) -> ApiResult<()> {
    let ok = (3..=255).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.~+%".contains(c));
    if ok {
        Ok(())
    } else {
        Err(GoogleApiError::invalid(
            "badRequest",
            format!("Invalid {kind} id {id:?}: 3-255 characters, starting with a letter."),
        ))
    }
}

/// `pubsub.projects.topics.create`
pub async fn create_topic(
    State(shared): State<Shared>,
    Path((project, topic)): Path<(String, String)>,
    b: Option<Json<Value>>,
) -> ApiResult<Json<Topic>> {
    let _ = b;
    check_id("topic", &topic)?;
    let name = format!("projects/{project}/topics/{topic}");
    let mut world = shared.lock();
    if world.pubsub.topics.contains_key(&name) {
        return Err(GoogleApiError::new(
            StatusCode::CONFLICT,
            "alreadyExists",
            "Topic already exists",
        ));
    }
    world.pubsub.ensure_topic(&name);
    Ok(Json(world.pubsub.topics[&name].clone()))
}

/// `pubsub.projects.topics.get`
pub async fn get_topic(
    State(shared): State<Shared>,
    Path((project, topic)): Path<(String, String)>,
) -> ApiResult<Json<Topic>> {
    let name = format!("projects/{project}/topics/{topic}");
    let world = shared.lock();
    world
        .pubsub
        .topics
        .get(&name)
        .cloned()
        .map(Json)
        .ok_or_else(|| not_found("topic", &name))
}

/// `pubsub.projects.topics.publish`
pub async fn topic_action(
    State(shared): State<Shared>,
    Path((project, segment)): Path<(String, String)>,
    b: Result<Json<PublishRequest>, JsonRejection>,
) -> ApiResult<Json<PublishResponse>> {
    let Some((topic, "publish")) = segment.rsplit_once(':') else {
        return Err(GoogleApiError::not_found("Method not found."));
    };
    let req = body(b)?;
    let name = format!("projects/{project}/topics/{topic}");
    if req.messages.is_empty() {
        return Err(GoogleApiError::invalid(
            "badRequest",
            "The request contains no messages.",
        ));
    }
    let mut decoded = Vec::new();
    for m in &req.messages {
        let data = match &m.data {
            Some(d) => STANDARD
                .decode(d)
                .map_err(|_| GoogleApiError::invalid("badRequest", "data is not valid base64"))?,
            None => Vec::new(),
        };
        if data.is_empty() && m.attributes.as_ref().is_none_or(|a| a.is_empty()) {
            return Err(GoogleApiError::invalid(
                "badRequest",
                "A message must have data or attributes.",
            ));
        }
        decoded.push((data, m.attributes.clone()));
    }
    let mut world = shared.lock();
    let now = world.now();
    let mut ids = Vec::new();
    for (data, attributes) in decoded {
        let id = world
            .pubsub
            .publish(&name, &data, attributes, now)
            .ok_or_else(|| not_found("topic", &name))?;
        ids.push(id);
    }
    Ok(Json(PublishResponse { message_ids: ids }))
}

/// `pubsub.projects.topics.delete` / `pubsub.projects.subscriptions.delete`
pub async fn delete_topic(
    State(shared): State<Shared>,
    Path((project, topic)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let name = format!("projects/{project}/topics/{topic}");
    let mut world = shared.lock();
    world
        .pubsub
        .topics
        .remove(&name)
        .ok_or_else(|| not_found("topic", &name))?;
    Ok(Json(json!({})))
}

/// `pubsub.projects.subscriptions.create`
pub async fn create_subscription(
    State(shared): State<Shared>,
    Path((project, sub)): Path<(String, String)>,
    b: Result<Json<Subscription>, JsonRejection>,
) -> ApiResult<Json<Subscription>> {
    check_id("subscription", &sub)?;
    let mut config = body(b)?;
    let name = format!("projects/{project}/subscriptions/{sub}");
    let deadline = config.ack_deadline_seconds.unwrap_or(10);
    if !(10..=600).contains(&deadline) {
        return Err(GoogleApiError::invalid(
            "badRequest",
            "ackDeadlineSeconds must be between 10 and 600.",
        ));
    }
    let mut world = shared.lock();
    if !world.pubsub.topics.contains_key(&config.topic) {
        return Err(not_found("topic", &config.topic));
    }
    if world.pubsub.subscriptions.contains_key(&name) {
        return Err(GoogleApiError::new(
            StatusCode::CONFLICT,
            "alreadyExists",
            "Subscription already exists",
        ));
    }
    config.name = name.clone();
    config.ack_deadline_seconds = Some(deadline);
    config.push_config.get_or_insert_with(Default::default);
    config.message_retention_duration = Some("604800s".into());
    config.state = Some("ACTIVE".into());
    world.pubsub.subscriptions.insert(
        name,
        SubState {
            config: config.clone(),
            queue: VecDeque::new(),
            outstanding: HashMap::new(),
        },
    );
    Ok(Json(config))
}

/// `pubsub.projects.subscriptions.get`
pub async fn get_subscription(
    State(shared): State<Shared>,
    Path((project, sub)): Path<(String, String)>,
) -> ApiResult<Json<Subscription>> {
    let name = format!("projects/{project}/subscriptions/{sub}");
    let world = shared.lock();
    world
        .pubsub
        .subscriptions
        .get(&name)
        .map(|s| Json(s.config.clone()))
        .ok_or_else(|| not_found("subscription", &name))
}

/// `pubsub.projects.subscriptions.delete`
pub async fn delete_subscription(
    State(shared): State<Shared>,
    Path((project, sub)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let name = format!("projects/{project}/subscriptions/{sub}");
    let mut world = shared.lock();
    world
        .pubsub
        .subscriptions
        .remove(&name)
        .ok_or_else(|| not_found("subscription", &name))?;
    Ok(Json(json!({})))
}

/// How long a pull with no messages waits for one before answering empty.
const PULL_WAIT: Duration = Duration::from_secs(2);

/// `pubsub.projects.subscriptions.pull`, `.acknowledge`, `.modifyAckDeadline`
pub async fn subscription_action(
    State(shared): State<Shared>,
    Path((project, segment)): Path<(String, String)>,
    b: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let Some((sub, verb)) = segment.rsplit_once(':') else {
        return Err(GoogleApiError::not_found("Method not found."));
    };
    let name = format!("projects/{project}/subscriptions/{sub}");
    let raw = body(b)?;
    let parse =
        |what: &str| GoogleApiError::invalid("badRequest", format!("Invalid {what} request body"));
    match verb {
        "pull" => {
            let req: PullRequest = serde_json::from_value(raw).map_err(|_| parse("pull"))?;
            let max = req.max_messages.unwrap_or(100);
            if max < 1 {
                return Err(GoogleApiError::invalid(
                    "badRequest",
                    "maxMessages must be positive.",
                ));
            }
            let started = std::time::Instant::now();
            loop {
                let got = pull_now(&shared, &name, max as usize)?;
                if !got.is_empty()
                    || req.return_immediately == Some(true)
                    || started.elapsed() >= PULL_WAIT
                {
                    let resp = PullResponse {
                        received_messages: got,
                    };
                    return Ok(Json(serde_json::to_value(resp).unwrap_or_default()));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        "acknowledge" => {
            let req: AcknowledgeRequest =
                serde_json::from_value(raw).map_err(|_| parse("acknowledge"))?;
            let mut world = shared.lock();
            let s = world
                .pubsub
                .subscriptions
                .get_mut(&name)
                .ok_or_else(|| not_found("subscription", &name))?;
            // Unknown or expired ack ids are ignored, as Pub/Sub does.
            for id in req.ack_ids {
                s.outstanding.remove(&id);
            }
            Ok(Json(json!({})))
        }
        "modifyAckDeadline" => {
            let req: ModifyAckDeadlineRequest =
                serde_json::from_value(raw).map_err(|_| parse("modifyAckDeadline"))?;
            if !(0..=600).contains(&req.ack_deadline_seconds) {
                return Err(GoogleApiError::invalid(
                    "badRequest",
                    "ackDeadlineSeconds must be between 0 and 600.",
                ));
            }
            let mut world = shared.lock();
            let s = world
                .pubsub
                .subscriptions
                .get_mut(&name)
                .ok_or_else(|| not_found("subscription", &name))?;
            let now = wall_ms();
            for id in req.ack_ids {
                if req.ack_deadline_seconds == 0 {
                    if let Some(o) = s.outstanding.remove(&id) {
                        s.queue.push_front((o.message, o.attempt + 1));
                    }
                } else if let Some(o) = s.outstanding.get_mut(&id) {
                    o.deadline_wall_ms = now + i64::from(req.ack_deadline_seconds) * 1000;
                }
            }
            Ok(Json(json!({})))
        }
        _ => Err(GoogleApiError::not_found("Method not found.")),
    }
}

fn pull_now(shared: &Shared, name: &str, max: usize) -> ApiResult<Vec<ReceivedMessage>> {
    let mut world = shared.lock();
    let now_billing = world.now();
    world.run_until(now_billing);
    let s = world
        .pubsub
        .subscriptions
        .get_mut(name)
        .ok_or_else(|| not_found("subscription", name))?;
    let now = wall_ms();
    s.expire(now);
    let deadline = now + s.ack_deadline_ms();
    let mut out = Vec::new();
    while out.len() < max {
        let Some((message, attempt)) = s.queue.pop_front() else {
            break;
        };
        let ack_id = random_token("ack-", 32);
        s.outstanding.insert(
            ack_id.clone(),
            Outstanding {
                message: message.clone(),
                attempt,
                deadline_wall_ms: deadline,
            },
        );
        out.push(ReceivedMessage {
            ack_id,
            message,
            delivery_attempt: None,
        });
    }
    Ok(out)
}
