//! The sandbox's notifications through Google's own Pub/Sub emulator: forwarded to a topic
//! there and read back by pull, byte for byte what the sandbox published. Needs the emulator
//! at PUBSUB_EMULATOR_HOST (default 127.0.0.1:8085; `scripts/test` starts it with
//! `gcloud beta emulators pubsub start`). Without it this test fails: it does not skip.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

fn emulator() -> String {
    format!(
        "http://{}",
        std::env::var("PUBSUB_EMULATOR_HOST").unwrap_or_else(|_| "127.0.0.1:8085".into())
    )
}

async fn put(http: &reqwest::Client, url: String, body: Value) {
    let r = http.put(&url).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
}

/// Pulls until `n` messages arrived (or 20 s passed); acknowledges them; returns their data.
async fn pull_n(http: &reqwest::Client, base: &str, sub: &str, n: usize) -> Vec<Vec<u8>> {
    let started = Instant::now();
    let mut out = Vec::new();
    while out.len() < n && started.elapsed() < Duration::from_secs(20) {
        let r: Value = http
            .post(format!("{base}/v1/{sub}:pull"))
            .json(&json!({"maxMessages": 10}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let msgs = r["receivedMessages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ack_ids: Vec<Value> = msgs.iter().map(|m| m["ackId"].clone()).collect();
        for m in msgs {
            out.push(
                STANDARD
                    .decode(m["message"]["data"].as_str().unwrap())
                    .unwrap(),
            );
        }
        if !ack_ids.is_empty() {
            http.post(format!("{base}/v1/{sub}:acknowledge"))
                .json(&json!({"ackIds": ack_ids}))
                .send()
                .await
                .unwrap();
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_pass_through_googles_pubsub_emulator_unchanged() {
    let emu = emulator();
    let http = reqwest::Client::new();
    let up = http.get(&emu).send().await.map(|r| r.status().is_success());
    assert!(
        matches!(up, Ok(true)),
        "Google's Pub/Sub emulator is not answering at {emu}: start it with \
         `gcloud beta emulators pubsub start --host-port=127.0.0.1:8085` (scripts/test does)"
    );
    let run = format!(
        "{:x}",
        std::process::id() ^ (Instant::now().elapsed().as_nanos() as u32)
    );
    let topic = format!("projects/playbill-emulator/topics/rtdn-{run}");
    let sub = format!("projects/playbill-emulator/subscriptions/rtdn-{run}");
    put(&http, format!("{emu}/v1/{topic}"), json!({})).await;
    put(&http, format!("{emu}/v1/{sub}"), json!({"topic": topic})).await;

    let h = common::start().await;
    let local = "projects/playbill-tests/subscriptions/local-copy";
    put(
        &http,
        format!("{}/v1/{local}", h.base),
        json!({"topic": "projects/playbill-tests/topics/play-billing"}),
    )
    .await;
    let r = h
        .http
        .put(format!("{}/sandbox/v1/rtdn", h.base))
        .json(&json!({"forward": {"pubsub_url": emu, "topic": topic}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let pkg = "com.example.emulator";
    h.control(
        &format!("apps/{pkg}/products"),
        json!({"product_id": "pro", "type": "subscription"}),
    )
    .await;
    let token = h.buy(pkg, json!({"product_id": "pro"})).await;
    h.control(&format!("apps/{pkg}/purchases/{token}:cancel"), json!({}))
        .await;

    let via_emulator = pull_n(&http, &emu, &sub, 2).await;
    let via_sandbox = pull_n(&h.http, &h.base, local, 2).await;
    assert_eq!(
        via_emulator.len(),
        2,
        "both notifications reached the emulator"
    );
    assert_eq!(via_emulator, via_sandbox, "unchanged, in order");
    let first: Value = serde_json::from_slice(&via_emulator[0]).unwrap();
    assert_eq!(first["packageName"], pkg);
    assert_eq!(first["subscriptionNotification"]["notificationType"], 4);
    assert_eq!(
        first["subscriptionNotification"]["purchaseToken"],
        token.as_str()
    );

    let bad = h
        .http
        .put(format!("{}/sandbox/v1/rtdn", h.base))
        .json(&json!({"forward": {"pubsub_url": emu, "topic": "projects/x/topics/y"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400, "project ids need 6+ characters");
}
