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

use crate::error::{GoogleApiError, json_body as body};
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

/// A message waiting in a subscription.
struct Queued {
    message: PubsubMessage,
    attempt: i32,
    /// Push: not before this wall time (backoff after a failed attempt).
    not_before: i64,
    /// Push: when it was queued (the out-of-order switch holds a burst briefly).
    queued_at: i64,
    /// Push: the extra copy the duplicate switch adds.
    duplicate: bool,
}

impl Queued {
    fn new(message: PubsubMessage, attempt: i32, now: i64) -> Self {
        Self {
            message,
            attempt,
            not_before: now,
            queued_at: now,
            duplicate: false,
        }
    }
}

/// The out-of-order switch holds a subscription's queue until nothing new has come for this
/// long, then delivers the newest first: a burst is reordered as a whole however long it took
/// to publish. A queue whose oldest message has waited ten times this goes anyway, so steady
/// traffic is not held for ever.
const REORDER_HOLD_MS: i64 = 300;

struct SubState {
    config: Subscription,
    queue: VecDeque<Queued>,
    outstanding: HashMap<String, Outstanding>,
    /// Push deliveries under way.
    push_in_flight: usize,
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
                self.queue
                    .push_front(Queued::new(o.message, o.attempt + 1, now));
            }
        }
    }

    fn push_endpoint(&self) -> Option<&str> {
        self.config
            .push_config
            .as_ref()
            .and_then(|p| p.push_endpoint.as_deref())
            .filter(|e| !e.is_empty())
    }

    /// Backoff before push attempt `attempt + 1`, within the subscription's retry policy.
    fn backoff_ms(&self, attempt: i32) -> i64 {
        let policy = self.config.retry_policy.as_ref();
        let bound = |v: Option<&String>, default: i64| {
            v.and_then(|d| playbill_google::pubsub::parse_duration_ms(d))
                .unwrap_or(default)
        };
        let min = bound(policy.and_then(|p| p.minimum_backoff.as_ref()), 1_000);
        let max = bound(policy.and_then(|p| p.maximum_backoff.as_ref()), 60_000).max(min);
        min.saturating_mul(1i64 << (attempt - 1).clamp(0, 20))
            .min(max)
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
        let now = wall_ms();
        for sub in self.subscriptions.values_mut() {
            if sub.config.topic == topic {
                sub.queue.push_back(Queued::new(message.clone(), 1, now));
            }
        }
        Some(id)
    }

    /// The next push attempt of each push subscription that has none in flight.
    pub fn take_push_jobs(
        &mut self,
        now: i64,
        out_of_order: bool,
        max_outstanding: usize,
    ) -> Vec<crate::push::Job> {
        let mut jobs = Vec::new();
        for (name, s) in &mut self.subscriptions {
            let Some(endpoint) = s.push_endpoint().map(str::to_owned) else {
                continue;
            };
            let held = out_of_order && {
                let queued = s.queue.iter().map(|q| q.queued_at);
                let (newest, oldest) = (queued.clone().max(), queued.min());
                newest.is_some_and(|t| t + REORDER_HOLD_MS > now)
                    && oldest.is_some_and(|t| t + 10 * REORDER_HOLD_MS > now)
            };
            while !held && s.push_in_flight < max_outstanding {
                let eligible = |q: &Queued| q.not_before <= now;
                let index = if out_of_order {
                    s.queue.iter().rposition(eligible)
                } else {
                    s.queue.iter().position(eligible)
                };
                let Some(q) = index.and_then(|i| s.queue.remove(i)) else {
                    break;
                };
                let oidc = s
                    .config
                    .push_config
                    .as_ref()
                    .and_then(|p| p.oidc_token.as_ref())
                    .map(|o| {
                        let audience = if o.audience.is_empty() {
                            endpoint.clone()
                        } else {
                            o.audience.clone()
                        };
                        (o.service_account_email.clone(), audience)
                    });
                s.push_in_flight += 1;
                jobs.push(crate::push::Job {
                    subscription: name.clone(),
                    endpoint: endpoint.clone(),
                    oidc,
                    message: q.message,
                    attempt: q.attempt,
                    duplicate: q.duplicate,
                    timeout: Duration::from_millis(s.ack_deadline_ms() as u64),
                });
            }
        }
        jobs
    }

    /// Records a push attempt's outcome: done (plus the duplicate copy if that switch is on),
    /// or queued again after the backoff.
    pub fn push_done(&mut self, job: crate::push::Job, ok: bool, duplicate: bool, now: i64) {
        let Some(s) = self.subscriptions.get_mut(&job.subscription) else {
            return;
        };
        s.push_in_flight = s.push_in_flight.saturating_sub(1);
        if ok {
            if duplicate && !job.duplicate {
                let mut copy = Queued::new(job.message, job.attempt, now - REORDER_HOLD_MS);
                copy.duplicate = true;
                s.queue.push_front(copy);
            }
        } else {
            let mut again = Queued::new(job.message, job.attempt + 1, now);
            again.not_before = now + s.backoff_ms(job.attempt);
            again.duplicate = job.duplicate;
            s.queue.push_back(again);
        }
    }
}

/// Errors in Pub/Sub's domain (`errors[].domain` is `global`, not androidpublisher's).
fn err(status: StatusCode, reason: &'static str, message: impl Into<String>) -> GoogleApiError {
    GoogleApiError::new(status, reason, message).in_domain("global")
}

fn bad(reason: &'static str, message: impl Into<String>) -> GoogleApiError {
    err(StatusCode::BAD_REQUEST, reason, message)
}

fn missing_method() -> GoogleApiError {
    err(StatusCode::NOT_FOUND, "notFound", "Method not found.")
}

/// A resource path whose id carries `:verb`: a method this sandbox does not serve.
fn plain(id: &str) -> ApiResult<()> {
    if id.contains(':') {
        Err(missing_method())
    } else {
        Ok(())
    }
}

fn not_found(what: &str, name: &str) -> GoogleApiError {
    err(
        StatusCode::NOT_FOUND,
        "notFound",
        format!("Resource not found ({what}={name})."),
    )
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
        Err(bad(
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
        return Err(err(
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
    plain(&topic)?;
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
        return Err(missing_method());
    };
    let req = body(b)?;
    let name = format!("projects/{project}/topics/{topic}");
    if req.messages.is_empty() {
        return Err(bad("badRequest", "The request contains no messages."));
    }
    let mut decoded = Vec::new();
    for m in &req.messages {
        let data = match &m.data {
            Some(d) => STANDARD
                .decode(d)
                .map_err(|_| bad("badRequest", "data is not valid base64"))?,
            None => Vec::new(),
        };
        if data.is_empty() && m.attributes.as_ref().is_none_or(|a| a.is_empty()) {
            return Err(bad("badRequest", "A message must have data or attributes."));
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

/// `pubsub.projects.topics.delete`
pub async fn delete_topic(
    State(shared): State<Shared>,
    Path((project, topic)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    plain(&topic)?;
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
        return Err(bad(
            "badRequest",
            "ackDeadlineSeconds must be between 10 and 600.",
        ));
    }
    if let Some(push) = &config.push_config {
        let endpoint = push.push_endpoint.as_deref().unwrap_or_default();
        if !endpoint.is_empty()
            && !endpoint.starts_with("http://")
            && !endpoint.starts_with("https://")
        {
            return Err(bad("badRequest", "pushEndpoint must be an http(s) URL."));
        }
        if push
            .oidc_token
            .as_ref()
            .is_some_and(|o| o.service_account_email.is_empty())
        {
            return Err(bad(
                "badRequest",
                "oidcToken.serviceAccountEmail is required.",
            ));
        }
    }
    if let Some(policy) = &config.retry_policy {
        for d in [&policy.minimum_backoff, &policy.maximum_backoff]
            .into_iter()
            .flatten()
        {
            if playbill_google::pubsub::parse_duration_ms(d).is_none_or(|ms| ms > 600_000) {
                return Err(bad(
                    "badRequest",
                    "retryPolicy backoffs must be durations between 0s and 600s.",
                ));
            }
        }
    }
    if config.topic.is_empty() {
        return Err(bad(
            "badRequest",
            "topic is required: projects/{project}/topics/{topic}.",
        ));
    }
    let mut world = shared.lock();
    if !world.pubsub.topics.contains_key(&config.topic) {
        return Err(not_found("topic", &config.topic));
    }
    if world.pubsub.subscriptions.contains_key(&name) {
        return Err(err(
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
            push_in_flight: 0,
        },
    );
    Ok(Json(config))
}

/// `pubsub.projects.subscriptions.get`
pub async fn get_subscription(
    State(shared): State<Shared>,
    Path((project, sub)): Path<(String, String)>,
) -> ApiResult<Json<Subscription>> {
    plain(&sub)?;
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
    plain(&sub)?;
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
        return Err(missing_method());
    };
    let name = format!("projects/{project}/subscriptions/{sub}");
    let raw = body(b)?;
    let parse = |what: &str| bad("badRequest", format!("Invalid {what} request body"));
    match verb {
        "pull" => {
            let req: PullRequest = serde_json::from_value(raw).map_err(|_| parse("pull"))?;
            let max = req.max_messages.unwrap_or(100);
            if max < 1 {
                return Err(bad("badRequest", "maxMessages must be positive."));
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
                return Err(bad(
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
                        s.queue
                            .push_front(Queued::new(o.message, o.attempt + 1, now));
                    }
                } else if let Some(o) = s.outstanding.get_mut(&id) {
                    o.deadline_wall_ms = now + i64::from(req.ack_deadline_seconds) * 1000;
                }
            }
            Ok(Json(json!({})))
        }
        _ => Err(missing_method()),
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
        let Some(Queued {
            message, attempt, ..
        }) = s.queue.pop_front()
        else {
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

/// `pageSize` / `pageToken` of the list methods.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    page_size: Option<String>,
    page_token: Option<String>,
}

/// One page of `names` (already sorted): the page and the next token, if any.
fn page<T: Clone>(items: &[T], q: &ListQuery) -> ApiResult<(Vec<T>, Option<String>)> {
    let size = match q.page_size.as_deref() {
        None | Some("") | Some("0") => 100,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 1000)
            .ok_or_else(|| bad("badRequest", format!("Invalid pageSize {v:?}.")))?,
    };
    let start = match q.page_token.as_deref() {
        None | Some("") => 0,
        Some(t) => t
            .strip_prefix("p")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| bad("badRequest", "Invalid pageToken."))?,
    };
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| format!("p{end}"));
    Ok((items[start..end].to_vec(), next))
}

/// A list answer: `{key: items}` (left out when empty) and `nextPageToken` when there is more.
fn list_body<T: serde::Serialize>(key: &str, items: &[T], next: Option<String>) -> Json<Value> {
    let mut body = json!({});
    if !items.is_empty() {
        body[key] = json!(items);
    }
    if let Some(n) = next {
        body["nextPageToken"] = json!(n);
    }
    Json(body)
}

fn list_query(
    q: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<ListQuery> {
    q.map(|axum::extract::Query(q)| q)
        .map_err(|e| bad("badRequest", e.body_text()))
}

/// `pubsub.projects.topics.list`
pub async fn list_topics(
    State(shared): State<Shared>,
    Path(project): Path<String>,
    q: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = list_query(q)?;
    let prefix = format!("projects/{project}/topics/");
    let world = shared.lock();
    let topics: Vec<Topic> = world
        .pubsub
        .topics
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(_, t)| t.clone())
        .collect();
    let (items, next) = page(&topics, &q)?;
    Ok(list_body("topics", &items, next))
}

/// `pubsub.projects.subscriptions.list`
pub async fn list_subscriptions(
    State(shared): State<Shared>,
    Path(project): Path<String>,
    q: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = list_query(q)?;
    let prefix = format!("projects/{project}/subscriptions/");
    let world = shared.lock();
    let subs: Vec<Subscription> = world
        .pubsub
        .subscriptions
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(_, s)| s.config.clone())
        .collect();
    let (items, next) = page(&subs, &q)?;
    Ok(list_body("subscriptions", &items, next))
}

/// `pubsub.projects.topics.subscriptions.list`: the names of a topic's subscriptions.
pub async fn list_topic_subscriptions(
    State(shared): State<Shared>,
    Path((project, topic)): Path<(String, String)>,
    q: Result<axum::extract::Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let q = list_query(q)?;
    plain(&topic)?;
    let name = format!("projects/{project}/topics/{topic}");
    let world = shared.lock();
    if !world.pubsub.topics.contains_key(&name) {
        return Err(not_found("topic", &name));
    }
    let names: Vec<String> = world
        .pubsub
        .subscriptions
        .iter()
        .filter(|(_, s)| s.config.topic == name)
        .map(|(n, _)| n.clone())
        .collect();
    let (items, next) = page(&names, &q)?;
    Ok(list_body("subscriptions", &items, next))
}
