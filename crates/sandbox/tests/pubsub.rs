//! The sandbox's Cloud Pub/Sub over its v1 REST API: RTDNs reach subscriptions of the
//! play-billing topic; pull, acknowledge, ack deadlines, redelivery and nacks behave as
//! Pub/Sub does; bad input is a clear 4xx.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::Harness;
use playbill_google::pubsub::PullResponse;
use playbill_google::rtdn::DeveloperNotification;
use serde_json::{Value, json};

const PKG: &str = "com.example.pubsub";
const TOPIC: &str = "projects/playbill-tests/topics/play-billing";

async fn call(h: &Harness, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let r = h
        .http
        .request(method, format!("{}/v1/{path}", h.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn subscribe(h: &Harness, name: &str) {
    let (status, body) = call(
        h,
        reqwest::Method::PUT,
        &format!("projects/playbill-tests/subscriptions/{name}"),
        json!({"topic": TOPIC, "ackDeadlineSeconds": 10}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["name"],
        format!("projects/playbill-tests/subscriptions/{name}")
    );
}

async fn pull(h: &Harness, sub: &str) -> PullResponse {
    let (status, body) = call(
        h,
        reqwest::Method::POST,
        &format!("projects/playbill-tests/subscriptions/{sub}:pull"),
        json!({"maxMessages": 10, "returnImmediately": true}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

async fn post(h: &Harness, sub: &str, verb: &str, body: Value) -> u16 {
    call(
        h,
        reqwest::Method::POST,
        &format!("projects/playbill-tests/subscriptions/{sub}:{verb}"),
        body,
    )
    .await
    .0
}

fn decode(r: &PullResponse) -> Vec<DeveloperNotification> {
    r.received_messages
        .iter()
        .map(|m| {
            let data = STANDARD.decode(m.message.data.as_deref().unwrap()).unwrap();
            serde_json::from_slice(&data).unwrap()
        })
        .collect()
}

async fn setup() -> Harness {
    let h = common::start().await;
    h.control(
        &format!("apps/{PKG}/products"),
        json!({"product_id": "pro", "type": "subscription"}),
    )
    .await;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_pulled_acknowledged_and_gone() {
    let h = setup().await;
    subscribe(&h, "rtdn").await;
    let token = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.control(&format!("apps/{PKG}/purchases/{token}:cancel"), json!({}))
        .await;

    let got = pull(&h, "rtdn").await;
    let notes = decode(&got);
    let codes: Vec<i32> = notes
        .iter()
        .map(|n| {
            n.subscription_notification
                .as_ref()
                .unwrap()
                .notification_type
        })
        .collect();
    assert_eq!(codes, [4, 3]);
    assert!(notes.iter().all(|n| n.package_name == PKG));
    let first = &got.received_messages[0].message;
    assert!(
        first
            .message_id
            .as_deref()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert!(first.publish_time.as_deref().unwrap().ends_with('Z'));

    let ids: Vec<&str> = got
        .received_messages
        .iter()
        .map(|m| m.ack_id.as_str())
        .collect();
    assert_eq!(
        post(&h, "rtdn", "acknowledge", json!({"ackIds": ids})).await,
        200
    );
    assert!(
        pull(&h, "rtdn").await.received_messages.is_empty(),
        "acked: not redelivered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacked_messages_come_back_after_their_deadline_or_a_nack() {
    let h = setup().await;
    subscribe(&h, "slow").await;
    h.buy(PKG, json!({"product_id": "pro"})).await;

    let first = pull(&h, "slow").await;
    assert_eq!(first.received_messages.len(), 1);
    assert!(
        pull(&h, "slow").await.received_messages.is_empty(),
        "outstanding, not redelivered"
    );

    // A nack (deadline 0) redelivers at once, with a new ack id and the same message id.
    let ack = first.received_messages[0].ack_id.clone();
    assert_eq!(
        post(
            &h,
            "slow",
            "modifyAckDeadline",
            // Protobuf JSON encoders (Google's clients) leave a zero deadline out.
            json!({"ackIds": [ack]})
        )
        .await,
        200
    );
    let again = pull(&h, "slow").await;
    assert_eq!(again.received_messages.len(), 1);
    assert_ne!(again.received_messages[0].ack_id, ack);
    assert_eq!(
        again.received_messages[0].message.message_id,
        first.received_messages[0].message.message_id
    );

    // A short deadline expires and the message comes back.
    let ack = again.received_messages[0].ack_id.clone();
    assert_eq!(
        post(
            &h,
            "slow",
            "modifyAckDeadline",
            json!({"ackIds": [ack.clone()], "ackDeadlineSeconds": 1})
        )
        .await,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let third = pull(&h, "slow").await;
    assert_eq!(
        third.received_messages.len(),
        1,
        "redelivered after the deadline"
    );
    // The expired ack id no longer acknowledges anything (and is not an error).
    assert_eq!(
        post(&h, "slow", "acknowledge", json!({"ackIds": [ack]})).await,
        200
    );
    assert_eq!(
        post(
            &h,
            "slow",
            "acknowledge",
            json!({"ackIds": [third.received_messages[0].ack_id]})
        )
        .await,
        200
    );
    assert!(pull(&h, "slow").await.received_messages.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_subscription_gets_its_own_copy_and_only_later_messages() {
    let h = setup().await;
    subscribe(&h, "sub-a").await;
    let early = h.buy(PKG, json!({"product_id": "pro"})).await;
    subscribe(&h, "sub-b").await;
    let late = h.buy(PKG, json!({"product_id": "pro"})).await;
    let token_of = |n: &DeveloperNotification| {
        n.subscription_notification
            .as_ref()
            .unwrap()
            .purchase_token
            .clone()
    };
    let a: Vec<String> = decode(&pull(&h, "sub-a").await)
        .iter()
        .map(token_of)
        .collect();
    let b: Vec<String> = decode(&pull(&h, "sub-b").await)
        .iter()
        .map(token_of)
        .collect();
    assert_eq!(a, [early, late.clone()]);
    assert_eq!(
        b,
        [late],
        "a subscription sees messages published after it was created"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_publish_and_bad_input() {
    let h = setup().await;
    use reqwest::Method;
    assert_eq!(
        call(
            &h,
            Method::PUT,
            "projects/playbill-tests/topics/mine",
            json!({})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        call(
            &h,
            Method::PUT,
            "projects/playbill-tests/topics/mine",
            json!({})
        )
        .await
        .0,
        409
    );
    assert_eq!(
        call(
            &h,
            Method::GET,
            "projects/playbill-tests/topics/mine",
            json!(null)
        )
        .await
        .0,
        200
    );
    let (s, _) = call(
        &h,
        Method::PUT,
        "projects/playbill-tests/subscriptions/mine-sub",
        json!({"topic": "projects/playbill-tests/topics/mine", "ackDeadlineSeconds": 30}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &h,
        Method::POST,
        "projects/playbill-tests/topics/mine:publish",
        json!({"messages": [{"data": STANDARD.encode("hello"), "attributes": {"k": "v"}}]}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["messageIds"].as_array().unwrap().len(), 1);
    let got = pull(&h, "mine-sub").await;
    assert_eq!(
        got.received_messages[0].message.data.as_deref(),
        Some(STANDARD.encode("hello").as_str())
    );

    let cases = [
        (
            Method::POST,
            "projects/playbill-tests/subscriptions/nope:pull",
            json!({"maxMessages": 1}),
            404,
        ),
        (
            Method::PUT,
            "projects/playbill-tests/subscriptions/orphan",
            json!({"topic": "projects/playbill-tests/topics/none"}),
            404,
        ),
        (
            Method::PUT,
            "projects/playbill-tests/subscriptions/short",
            json!({"topic": TOPIC, "ackDeadlineSeconds": 5}),
            400,
        ),
        (
            Method::PUT,
            "projects/playbill-tests/topics/9bad",
            json!({}),
            400,
        ),
        (
            Method::POST,
            "projects/playbill-tests/subscriptions/mine-sub:modifyAckDeadline",
            json!({"ackIds": [], "ackDeadlineSeconds": 601}),
            400,
        ),
        (
            Method::POST,
            "projects/playbill-tests/subscriptions/mine-sub:pull",
            json!({"maxMessages": "ten"}),
            400,
        ),
        (
            Method::POST,
            "projects/playbill-tests/topics/mine:publish",
            json!({"messages": []}),
            400,
        ),
        (
            Method::POST,
            "projects/playbill-tests/topics/mine:publish",
            json!({"messages": [{"data": "***"}]}),
            400,
        ),
        (
            Method::POST,
            "projects/playbill-tests/topics/mine:explode",
            json!({}),
            404,
        ),
    ];
    for (method, path, body, status) in cases {
        let (got, err) = call(&h, method.clone(), path, body.clone()).await;
        assert_eq!(got, status, "{method} {path} {body}: {err}");
        assert!(err["error"]["message"].is_string(), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_and_subscriptions_are_listed_in_pages() {
    let h = setup().await;
    for name in ["list-a", "list-b", "list-c"] {
        subscribe(&h, name).await;
    }
    let get = |path: String| {
        let h = &h;
        async move { call(h, reqwest::Method::GET, &path, Value::Null).await }
    };
    let (status, first) = get("projects/playbill-tests/subscriptions?pageSize=2".into()).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["subscriptions"].as_array().unwrap().len(), 2);
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second) = get(format!(
        "projects/playbill-tests/subscriptions?pageSize=2&pageToken={token}"
    ))
    .await;
    assert_eq!(
        second["subscriptions"][0]["name"],
        "projects/playbill-tests/subscriptions/list-c"
    );
    assert!(second["nextPageToken"].is_null());
    let (_, names) = get("projects/playbill-tests/topics/play-billing/subscriptions".into()).await;
    assert_eq!(names["subscriptions"].as_array().unwrap().len(), 3);
    let (_, topics) = get("projects/playbill-tests/topics".into()).await;
    assert_eq!(topics["topics"][0]["name"], TOPIC);
    let (status, err) = get("projects/playbill-tests/topics?pageToken=zz".into()).await;
    assert_eq!(status, 400, "{err}");
    // A known path with a method Pub/Sub has no handler for: Google's 404, not a bare 405.
    let (status, err) = call(
        &h,
        reqwest::Method::PATCH,
        "projects/playbill-tests/subscriptions/list-a",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["message"], "Method not found.");
}
