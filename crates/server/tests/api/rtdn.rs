//! Real-time developer notifications, end to end: the sandbox's Pub/Sub pushes (with OIDC
//! tokens) to the server, which re-reads Google and keeps entitlements current.

use crate::api_test;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn act(app: &TestApp, token: &str, action: &str, body: Value) -> Value {
    app.control(&format!("apps/{PKG}/purchases/{token}:{action}"), body)
        .await
}

/// Buys `product` for alice and verifies it through the API (alice owns the token).
async fn owned_subscription(app: &TestApp, product: &str) -> String {
    let token = app.buy(PKG, json!({"product_id": product})).await;
    let r = app
        .verify(PKG, "alice", product, &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    token
}

async fn names_are(app: &TestApp, want: &[&str]) -> bool {
    app.entitlement_names(PKG, "alice").await == want
}

api_test!(
    cancel_keeps_access_until_expiry_then_expiry_removes_it,
    |app| {
        let token = owned_subscription(&app, "premium").await;
        app.push_notifications().await;
        act(&app, &token, "cancel", json!({})).await;
        app.eventually("the cancellation is stored", || async {
            app.stored_state(PKG, &token).await.as_deref() == Some("CANCELED")
        })
        .await;
        assert_eq!(
            app.entitlement_names(PKG, "alice").await,
            ["no_ads", "pro"],
            "canceled is not expired: access until the expiry"
        );
        act(&app, &token, "expire", json!({})).await;
        app.eventually("the expiry removes access", || names_are(&app, &[]))
            .await;
        assert_eq!(
            app.stored_state(PKG, &token).await.as_deref(),
            Some("EXPIRED")
        );
        assert!(
            app.events(PKG, &token)
                .await
                .contains(&"notified".to_owned())
        );
    }
);

api_test!(an_upgrade_chain_moves_access_to_the_newest_token, |app| {
    app.product(PKG, "premium_plus", "subscription").await;
    let a = owned_subscription(&app, "premium").await;
    app.push_notifications().await;
    let b = act(
        &app,
        &a,
        "change_plan",
        json!({"product_id": "premium_plus"}),
    )
    .await["new_purchase_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.eventually("B grants premium_plus to alice, A nothing", || {
        names_are(&app, &["premium_plus"])
    })
    .await;
    // B was acknowledged by the server (Google blocks the next change otherwise).
    app.eventually("B is acknowledged", || acknowledged(&app, &b))
        .await;
    let c =
        act(&app, &b, "change_plan", json!({"product_id": "premium"})).await["new_purchase_token"]
            .as_str()
            .unwrap()
            .to_owned();
    app.eventually("C grants premium's entitlements, A and B nothing", || {
        names_are(&app, &["no_ads", "pro"])
    })
    .await;
    for old in [&a, &b] {
        assert!(
            app.events(PKG, old)
                .await
                .contains(&"superseded".to_owned()),
            "{old} superseded"
        );
    }
    // A late verification of the replaced token grants nothing again.
    let r = app
        .verify(PKG, "alice", "premium", &a, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);
    assert_eq!(
        app.store
            .find_purchase(PKG, &c)
            .await
            .unwrap()
            .unwrap()
            .user_id
            .as_str(),
        "alice"
    );
    // The user's purchases, active or not, and their history, through the API.
    let get = |path: String| {
        let app = &app;
        async move {
            let r = app
                .http
                .get(format!("{}/v1/apps/{PKG}/users/alice/{path}", app.api))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, purchases) = get("purchases".into()).await;
    assert_eq!(status, StatusCode::OK);
    let by_token = |t: &str| {
        purchases["purchases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["purchase_token"] == t)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_token(&a)["replaced_by"], b.as_str());
    assert_eq!(by_token(&b)["replaced_by"], c.as_str());
    assert_eq!(by_token(&c)["replaced_by"], Value::Null);
    assert_eq!(by_token(&c)["linked_purchase_token"], b.as_str());
    assert_eq!(by_token(&c)["state"], "ACTIVE");
    let (_, events) = get("events?limit=50".into()).await;
    let kinds: Vec<(&str, &str)> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap(),
                e["purchase_token"].as_str().unwrap(),
            )
        })
        .collect();
    for (kind, token) in [
        ("superseded", &a),
        ("superseded", &b),
        ("notified", &c),
        ("verified", &a),
    ] {
        assert!(kinds.contains(&(kind, token.as_str())), "{kind}: {kinds:?}");
    }
    let (status, _) = get("events?limit=0".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
});

api_test!(a_token_nobody_owns_waits_for_its_verification, |app| {
    app.push_notifications().await;
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    app.eventually("the token waits for an owner", || async {
        app.events(PKG, &token)
            .await
            .contains(&"awaiting_owner".to_owned())
    })
    .await;
    assert_eq!(app.stored_state(PKG, &token).await, None);
    assert_eq!(
        app.google_calls("POST", ":acknowledge").await,
        0,
        "nothing granted, nothing acknowledged"
    );
    let r = app
        .verify(PKG, "bob", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.entitlement_names(PKG, "bob").await, ["no_ads", "pro"]);
});

api_test!(duplicate_deliveries_are_processed_once, |app| {
    let token = owned_subscription(&app, "premium").await;
    let r = app
        .http
        .put(format!("{}/sandbox/v1/delivery", app.sandbox))
        .json(&json!({"duplicate": true}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    app.push_notifications().await;
    let reads_before = app.google_calls("GET", &format!("/tokens/{token}")).await;
    act(&app, &token, "cancel", json!({})).await;
    app.eventually("the cancellation is stored", || async {
        app.stored_state(PKG, &token).await.as_deref() == Some("CANCELED")
    })
    .await;
    // Let the second copy arrive too.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.google_calls("GET", &format!("/tokens/{token}")).await - reads_before,
        1,
        "one Google read for one notification delivered twice"
    );
});

api_test!(
    pushes_without_a_valid_token_are_refused_and_change_nothing,
    |app| {
        for auth in [None, Some("Bearer not-a-jwt"), Some("Basic dXNlcjpwYXNz")] {
            let mut req = app
                .http
                .post(format!("{}/v1/rtdn", app.api))
                .json(&json!({"message": {"data": "e30=", "messageId": "1"},
                          "subscription": PUSH_SUBSCRIPTION}));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
            let body: Value = r.json().await.unwrap();
            assert!(body["error"]["message"].is_string(), "{body}");
        }
        assert!(
            app.store.quarantined(10).await.unwrap().is_empty(),
            "nothing stored"
        );
    }
);

api_test!(
    bodies_that_can_never_succeed_are_quarantined_and_acknowledged,
    |app| {
        app.push_notifications().await;
        // Publish junk to the RTDN topic: the sandbox pushes it with a valid token.
        let r = app
            .http
            .post(format!(
                "{}/v1/projects/playbill-test/topics/play-billing:publish",
                app.sandbox
            ))
            .json(&json!({"messages": [
                {"data": "bm90IGpzb24="},
                {"data": "eyJ2ZXJzaW9uIjoiMS4wIiwicGFja2FnZU5hbWUiOiJjb20ub3RoZXIuYXBwIn0="}
            ]}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        app.eventually("both are quarantined", || async {
            app.store.quarantined(10).await.unwrap().len() == 2
        })
        .await;
        let listed = app
            .http
            .get(format!("{}/v1/rtdn/quarantine", app.api))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), StatusCode::OK);
        let body: Value = listed.json().await.unwrap();
        let reasons: Vec<&str> = body["quarantine"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["reason"].as_str().unwrap())
            .collect();
        assert!(
            reasons.iter().any(|r| r.contains("not a notification")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("com.other.app")),
            "{reasons:?}"
        );
        // Answered 2xx: Pub/Sub does not push them again.
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        assert_eq!(app.store.quarantined(10).await.unwrap().len(), 2);
        // A replay of what still cannot succeed is refused and leaves it in place.
        let id = body["quarantine"][0]["id"].as_str().unwrap().to_owned();
        for (segment, status) in [
            (format!("{id}:replay"), StatusCode::UNPROCESSABLE_ENTITY),
            ("nope:replay".to_owned(), StatusCode::NOT_FOUND),
            (id.clone(), StatusCode::NOT_FOUND),
        ] {
            let r = app
                .http
                .post(format!("{}/v1/rtdn/quarantine/{segment}", app.api))
                .bearer_auth(ADMIN_KEY)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), status, "{segment}");
        }
        let left = app.store.quarantined(10).await.unwrap();
        assert_eq!(left.len(), 2);
        assert!(left.iter().all(|q| q.replayed_at.is_none()));
    }
);

/// A body quarantined because its app was not served is replayed once the app is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_body_is_replayed_once_its_app_is_served() {
    let app = spawn_app_with(playbill_store::Backend::Sqlite, |s| {
        s.apps.retain(|a| a.package_name == PKG)
    })
    .await;
    app.push_notifications().await;
    let token = app
        .buy(
            RAW_PKG,
            json!({"product_id": "premium", "obfuscated_account_id": "dora"}),
        )
        .await;
    app.eventually("quarantined: the app is not served", || async {
        app.store.quarantined(10).await.unwrap().len() == 1
    })
    .await;
    // The operator adds the app (here: another instance configured with it) and replays.
    let mut settings = app.settings.clone();
    let mut raw = settings.apps[0].clone();
    raw.package_name = RAW_PKG.into();
    raw.account_id_rule = playbill_core::AccountIdRule::Raw;
    settings.apps.push(raw);
    let second = playbill_server::Application::build_with_clock(settings, app.clock.clone())
        .await
        .unwrap();
    let api = format!("http://{}", second.local_addr());
    tokio::spawn(second.run_until_stopped(std::future::pending()));
    let id = app.store.quarantined(10).await.unwrap()[0]
        .quarantine_id
        .clone();
    let r = app
        .http
        .post(format!("{api}/v1/rtdn/quarantine/{id}:replay"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert!(
        app.store.quarantined(10).await.unwrap()[0]
            .replayed_at
            .is_some()
    );
    // Processed for real: the raw account id names the owner.
    let stored = app.store.find_purchase(RAW_PKG, &token).await.unwrap();
    assert_eq!(stored.unwrap().user_id.as_str(), "dora");
}

/// The acknowledgement sweeper retries what failed, well before Google's 3-day refund.
async fn failed_acknowledgements_are_retried_by_the_sweeper(backend: playbill_store::Backend) {
    let app = spawn_app_with(backend, |s| s.jobs.ack_sweep_interval_ms = 200).await;
    // Every attempt of the verification's acknowledgement fails.
    app.control(
        "faults",
        json!({"path_contains": ":acknowledge", "status": 503, "count": MAX_ATTEMPTS}),
    )
    .await;
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["purchase"]["acknowledged"], false, "{}", r.body);
    app.eventually("the sweeper acknowledged it", || acknowledged(&app, &token))
        .await;
    // Three days later Google has refunded nothing: the grant stands.
    app.advance(json!({"duration": "P3D"})).await;
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);
    let metrics = app
        .http
        .get(format!("{}/metrics", app.api))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("playbill_ack_deadline_alerts_total 0"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_acknowledgements_are_retried_by_the_sweeper_sqlite() {
    failed_acknowledgements_are_retried_by_the_sweeper(playbill_store::Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_acknowledgements_are_retried_by_the_sweeper_postgres() {
    failed_acknowledgements_are_retried_by_the_sweeper(playbill_store::Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_near_its_deadline_raises_an_alert() {
    let app = spawn_app_with(playbill_store::Backend::Sqlite, |s| {
        s.jobs.ack_sweep_interval_ms = 200
    })
    .await;
    app.control(
        "faults",
        json!({"path_contains": ":acknowledge", "status": 503, "count": 100_000}),
    )
    .await;
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.advance(json!({"seconds": 2 * 86_400 + 3_600})).await;
    app.eventually("the alert counter moves", || async {
        let m = app
            .http
            .get(format!("{}/metrics", app.api))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        !m.contains("playbill_ack_deadline_alerts_total 0")
            && m.contains("playbill_ack_deadline_alerts_total ")
    })
    .await;
}

/// The voided-purchases sync revokes refunds even when no notification arrives.
async fn voided_purchases_are_synced_without_notifications(backend: playbill_store::Backend) {
    let app = spawn_app_with(backend, |s| s.jobs.voided_sync_interval_ms = 200).await;
    let gems = app
        .buy(PKG, json!({"product_id": "gems", "quantity": 3}))
        .await;
    let r = app.verify(PKG, "alice", "gems", &gems, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sub = owned_subscription(&app, "premium").await;
    assert_eq!(gems_quantity(&app).await, Some(3));
    // A partial refund of one unit, then a chargeback of the subscription.
    app.control(
        &format!("apps/{PKG}/purchases/{gems}:refund"),
        json!({"quantity": 1}),
    )
    .await;
    app.control(
        &format!("apps/{PKG}/purchases/{sub}:refund"),
        json!({"reason": 7}),
    )
    .await;
    app.eventually("the partial refund leaves 2 units", || async {
        gems_quantity(&app).await == Some(2)
    })
    .await;
    app.eventually("the chargeback revokes the subscription", || async {
        app.entitlement_names(PKG, "alice").await == ["gems"]
    })
    .await;
    assert!(app.events(PKG, &sub).await.contains(&"revoked".to_owned()));
    let mark = app.store.sync_mark(&format!("voided:{PKG}")).await.unwrap();
    assert!(mark.is_some(), "the high-water mark is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voided_purchases_are_synced_without_notifications_sqlite() {
    voided_purchases_are_synced_without_notifications(playbill_store::Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voided_purchases_are_synced_without_notifications_postgres() {
    voided_purchases_are_synced_without_notifications(playbill_store::Backend::Postgres).await
}

/// Units of `gems` alice holds, if any.
async fn gems_quantity(app: &TestApp) -> Option<i64> {
    app.entitlements(PKG, "alice").await["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entitlement"] == "gems")
        .map(|e| e["quantity"].as_i64().unwrap())
}

async fn reviews(app: &TestApp) -> Vec<Value> {
    let r = app
        .http
        .get(format!("{}/v1/apps/{PKG}/refund-reviews", app.api))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["refund_reviews"]
        .as_array()
        .unwrap()
        .clone()
}

api_test!(refund_reviews_are_answered_by_policy, |app| {
    app.push_notifications().await;
    // Consumed goods: the policy declines; the charge stands.
    let coins = app.buy(PKG, json!({"product_id": "coins"})).await;
    let r = app.verify(PKG, "alice", "coins", &coins, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    act(&app, &coins, "request_refund", json!({})).await;
    // Goods not consumed: neutral; Google then refunds at the deadline.
    let gems = app.buy(PKG, json!({"product_id": "gems"})).await;
    let r = app.verify(PKG, "alice", "gems", &gems, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    act(&app, &gems, "request_refund", json!({})).await;
    app.eventually("both answered", || async {
        let list = reviews(&app).await;
        list.len() == 2 && list.iter().all(|r| r["answered_at"].is_string())
    })
    .await;
    let list = reviews(&app).await;
    let by = |t: &str| {
        list.iter()
            .find(|r| r["purchase_token"] == t)
            .cloned()
            .unwrap()
    };
    assert_eq!(by(&coins)["preference"], "DECLINE");
    assert_eq!(by(&gems)["preference"], "NEUTRAL");
    assert_eq!(by(&gems)["decided_by"], "policy");
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["gems"]);
    app.advance(json!({"duration": "P1D"})).await;
    app.eventually(
        "Google refunded the neutral one, which revokes it",
        || async { app.entitlement_names(PKG, "alice").await.is_empty() },
    )
    .await;
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_reviews_can_be_answered_by_an_operator() {
    let app = spawn_app_with(playbill_store::Backend::Sqlite, |s| {
        s.apps[0].refund_reviews = playbill_server::config::RefundReviewPolicy::Manual
    })
    .await;
    app.push_notifications().await;
    let gems = app.buy(PKG, json!({"product_id": "gems"})).await;
    let r = app.verify(PKG, "alice", "gems", &gems, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    act(&app, &gems, "request_refund", json!({})).await;
    app.eventually("the review is listed, undecided", || async {
        reviews(&app).await.len() == 1
    })
    .await;
    let review = reviews(&app).await[0].clone();
    assert_eq!(review["preference"], Value::Null);
    let order = review["order_id"].as_str().unwrap().to_owned();
    let answer = |order: String, body: Value| {
        let app = &app;
        async move {
            app.http
                .post(format!(
                    "{}/v1/apps/{PKG}/refund-reviews/{order}:answer",
                    app.api
                ))
                .bearer_auth(ADMIN_KEY)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        answer(order.clone(), json!({"preference": "MAYBE"})).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        answer("GPA.none".into(), json!({"preference": "APPROVE"})).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        answer(order.clone(), json!({"preference": "APPROVE"})).await,
        StatusCode::OK
    );
    assert_eq!(
        answer(order.clone(), json!({"preference": "DECLINE"})).await,
        StatusCode::CONFLICT,
        "answered once"
    );
    app.eventually("the approved refund revokes the gems", || async {
        app.entitlement_names(PKG, "alice").await.is_empty()
    })
    .await;
}

/// Two instances on one PostgreSQL receive every notification at the same time: one grant
/// and one acknowledgement per purchase, and the right final state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_grant_and_acknowledge_once() {
    let app = spawn_app(playbill_store::Backend::Postgres).await;
    app.product(PKG, "premium_plus", "subscription").await;
    let a = owned_subscription(&app, "premium").await;
    app.push_notifications().await;
    let _second = app.another_instance("playbill-push-2").await;
    let b = act(
        &app,
        &a,
        "change_plan",
        json!({"product_id": "premium_plus"}),
    )
    .await["new_purchase_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let gems = app
        .buy(PKG, json!({"product_id": "gems", "quantity": 2}))
        .await;
    app.eventually("B grants premium_plus, A nothing", || {
        names_are(&app, &["premium_plus"])
    })
    .await;
    app.eventually("B is acknowledged", || acknowledged(&app, &b))
        .await;
    // Both instances got every message; let the slower one finish too.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(
        app.google_calls("POST", &format!("/tokens/{b}:acknowledge"))
            .await,
        1,
        "one acknowledgement for B"
    );
    let purchases = app.store.purchases_for_user(PKG, "alice").await.unwrap();
    assert_eq!(purchases.len(), 2, "A and B, once each");
    let events = app.events(PKG, &b).await;
    assert_eq!(
        events.iter().filter(|e| *e == "acknowledged").count(),
        1,
        "{events:?}"
    );
    // The unowned one-time purchase waits once, whatever instance saw it.
    assert_eq!(app.stored_state(PKG, &gems).await, None);
}

/// Property: whatever the order, duplication and interleaving of one scenario's
/// notifications (and of the app's verification of the first token), the user ends with the
/// same entitlements as with in-order delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_order_of_notifications_ends_in_the_same_entitlements() {
    use playbill_core::verify::VerifyRequest;
    use playbill_server::rtdn::{Incoming, take_in};

    let app = spawn_app(playbill_store::Backend::Sqlite).await;
    app.product(PKG, "premium_plus", "subscription").await;
    // The scenario, at Google: A → B → C (the live server acknowledges B so Google lets the
    // second change happen), then C is canceled (it keeps access until its expiry).
    let a = owned_subscription(&app, "premium").await;
    app.push_notifications().await;
    let b = act(
        &app,
        &a,
        "change_plan",
        json!({"product_id": "premium_plus"}),
    )
    .await["new_purchase_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.eventually("B is acknowledged", || acknowledged(&app, &b))
        .await;
    let c =
        act(&app, &b, "change_plan", json!({"product_id": "premium"})).await["new_purchase_token"]
            .as_str()
            .unwrap()
            .to_owned();
    act(&app, &c, "cancel", json!({})).await;
    let published: Vec<Value> = app
        .http
        .get(format!("{}/sandbox/v1/notifications", app.sandbox))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["notifications"]
        .as_array()
        .unwrap()
        .clone();
    // Each delivery: Pub/Sub's message id and the base64 data.
    use base64::Engine;
    let messages: Vec<(String, String)> = published
        .iter()
        .map(|n| {
            (
                n["message_id"].as_str().unwrap().to_owned(),
                base64::engine::general_purpose::STANDARD
                    .encode(serde_json::to_vec(&n["notification"]).unwrap()),
            )
        })
        .collect();
    assert!(messages.len() >= 3, "{published:?}");

    /// Runs one delivery order on a fresh database; returns alice's active entitlements.
    async fn run(app: &TestApp, a: &str, order: &[Option<(String, String)>]) -> Vec<String> {
        let (state, _db) = app.fresh_state().await;
        let server_app = state.apps.get(PKG).unwrap().clone();
        for step in order {
            match step {
                // The app verifies the first token (Google's answer as of now).
                None => {
                    let req = VerifyRequest {
                        package: server_app.package.clone(),
                        user_id: playbill_core::UserId::parse("alice").unwrap(),
                        product_id: playbill_core::ProductId::parse("premium").unwrap(),
                        token: playbill_core::PurchaseToken::parse(a).unwrap(),
                        kind: playbill_core::ProductKind::Subscription,
                    };
                    let _ = playbill_server::rtdn::verify_and_link(&state, &server_app, req).await;
                }
                Some((id, data)) => {
                    let body = json!({"message": {"messageId": id, "data": data}}).to_string();
                    take_in(
                        &state,
                        Incoming {
                            source: "push",
                            subscription: PUSH_SUBSCRIPTION,
                            message_id: Some(id),
                            data: Some(data),
                            published_at: None,
                            body: &body,
                        },
                    )
                    .await
                    .unwrap();
                }
            }
        }
        let mut names: Vec<String> = state
            .store
            .active_entitlements(PKG, "alice", state.clock.now_ms())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        names.sort();
        names
    }

    let mut in_order: Vec<Option<(String, String)>> = vec![None];
    in_order.extend(messages.iter().cloned().map(Some));
    let expected = run(&app, &a, &in_order).await;
    // A tiny deterministic generator: the same orders on every run.
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    for round in 0..12 {
        let mut order = in_order.clone();
        for i in (1..order.len()).rev() {
            let j = next(i + 1);
            order.swap(i, j);
        }
        // Duplicates: some deliveries come again, anywhere.
        for _ in 0..next(4) {
            let dup = order[next(order.len())].clone();
            let at = next(order.len() + 1);
            order.insert(at, dup);
        }
        let got = run(&app, &a, &order).await;
        assert_eq!(got, expected, "round {round}: {order:?}");
    }
    // The outcome itself: only C grants (canceled, until its expiry); A and B were replaced.
    assert_eq!(expected, ["no_ads", "pro"]);
}

api_test!(
    resubscribing_in_the_play_store_goes_to_the_expired_tokens_user,
    |app| {
        let a = owned_subscription(&app, "premium").await;
        app.push_notifications().await;
        act(&app, &a, "expire", json!({})).await;
        app.eventually("the expiry removes access", || names_are(&app, &[]))
            .await;
        let b = act(&app, &a, "resubscribe", json!({})).await["new_purchase_token"]
            .as_str()
            .unwrap()
            .to_owned();
        app.eventually("the resubscription is alice's", || {
            names_are(&app, &["no_ads", "pro"])
        })
        .await;
        let stored = app.store.find_purchase(PKG, &b).await.unwrap().unwrap();
        assert_eq!(stored.user_id.as_str(), "alice");
        // (Acknowledged once the grant is durable: just after the rights appear.)
        app.eventually("the new token is acknowledged", || acknowledged(&app, &b))
            .await;
    }
);

api_test!(prepaid_top_ups_carry_the_user_and_add_time, |app| {
    app.control(
        &format!("apps/{PKG}/products"),
        json!({"product_id": "pass", "type": "subscription", "prepaid": true}),
    )
    .await;
    let a = owned_subscription(&app, "pass").await;
    app.push_notifications().await;
    let b = act(&app, &a, "top_up", json!({})).await["new_purchase_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.eventually("the top-up is alice's and acknowledged", || async {
        app.store
            .find_purchase(PKG, &b)
            .await
            .unwrap()
            .is_some_and(|p| p.user_id.as_str() == "alice" && p.acknowledged)
    })
    .await;
    let old = app.store.find_purchase(PKG, &a).await.unwrap().unwrap();
    let new = app.store.find_purchase(PKG, &b).await.unwrap().unwrap();
    assert!(new.expires_at > old.expires_at, "time added on top");
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["pass"]);
    // (The replaced token is marked just after its successor is stored and acknowledged.)
    app.eventually("A is marked replaced", || async {
        app.events(PKG, &a).await.contains(&"superseded".to_owned())
    })
    .await;
});

api_test!(a_voided_subscription_is_revoked_at_once, |app| {
    let token = owned_subscription(&app, "premium").await;
    app.push_notifications().await;
    app.control(
        &format!("apps/{PKG}/purchases/{token}:refund"),
        json!({"reason": 7}),
    )
    .await;
    app.eventually("the chargeback revokes access", || names_are(&app, &[]))
        .await;
    app.eventually("the void is recorded", || async {
        app.events(PKG, &token)
            .await
            .contains(&"revoked".to_owned())
    })
    .await;
});

/// How notifications reach the server in a scenario.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    Push,
    /// The server's own puller, on a pull subscription of the sandbox's Pub/Sub.
    Pull,
}

async fn app_receiving(delivery: Delivery) -> TestApp {
    match delivery {
        Delivery::Push => spawn_app(playbill_store::Backend::Sqlite).await,
        Delivery::Pull => {
            spawn_app_with(playbill_store::Backend::Sqlite, |s| {
                let mut pull = playbill_server::pull::PullSettings::new(
                    "projects/playbill-test/subscriptions/pulled",
                );
                pull.pubsub_url = s
                    .google
                    .androidpublisher_url
                    .trim_end_matches('/')
                    .to_owned();
                s.rtdn_pull = Some(pull);
            })
            .await
        }
    }
}

async fn start_delivery(app: &TestApp, delivery: Delivery) {
    match delivery {
        Delivery::Push => app.push_notifications().await,
        Delivery::Pull => {
            let r = app
                .http
                .put(format!(
                    "{}/v1/projects/playbill-test/subscriptions/pulled",
                    app.sandbox
                ))
                .json(&json!({"topic": "projects/playbill-test/topics/play-billing"}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    }
}

/// Lifecycle rows end to end (reference sections 7 and 8): the steps in the sandbox, then
/// alice's entitlements and the stored state, as the server keeps them.
async fn lifecycle_row(
    delivery: Delivery,
    product: &str,
    steps: &[&str],
    state: &str,
    names: &[&str],
) {
    let app = app_receiving(delivery).await;
    let kind = if product == "premium" {
        "subscription"
    } else {
        "one_time"
    };
    let token = app.buy(PKG, json!({"product_id": product})).await;
    let r = app.verify(PKG, "alice", product, &token, kind).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    start_delivery(&app, delivery).await;
    for step in steps {
        match step.strip_prefix('+') {
            Some(d) => app.advance(json!({"duration": d})).await,
            None => {
                let body = if *step == "defer" {
                    json!({"duration": "P7D"})
                } else {
                    json!({})
                };
                act(&app, &token, step, body).await;
            }
        }
    }
    app.eventually(&format!("{delivery:?} {steps:?} → {state}"), || async {
        app.stored_state(PKG, &token).await.as_deref() == Some(state)
    })
    .await;
    assert_eq!(
        app.entitlement_names(PKG, "alice").await,
        names,
        "{delivery:?} {steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_rows_by_push_and_by_pull() {
    let both: &[&str] = &["no_ads", "pro"];
    let none: &[&str] = &[];
    let rows: &[(&str, &[&str], &str, &[&str])] = &[
        ("premium", &["+P1M"], "ACTIVE", both),
        ("premium", &["cancel"], "CANCELED", both),
        ("premium", &["cancel", "+P1M"], "EXPIRED", none),
        (
            "premium",
            &["decline_payment", "+P1M"],
            "IN_GRACE_PERIOD",
            both,
        ),
        (
            "premium",
            &["decline_payment", "+P1M", "+P7D"],
            "ON_HOLD",
            none,
        ),
        (
            "premium",
            &["decline_payment", "+P1M", "+P7D", "fix_payment"],
            "ACTIVE",
            both,
        ),
        (
            "premium",
            &["decline_payment", "+P1M", "+P7D", "+P53D"],
            "EXPIRED",
            none,
        ),
        ("premium", &["pause", "+P1M"], "PAUSED", none),
        ("premium", &["pause", "+P1M", "resume"], "ACTIVE", both),
        ("premium", &["cancel", "restore"], "ACTIVE", both),
        ("premium", &["defer"], "ACTIVE", both),
        ("premium", &["revoke"], "EXPIRED", none),
        ("premium", &["expire"], "EXPIRED", none),
        ("gems", &["refund"], "CANCELLED", none),
    ];
    for delivery in [Delivery::Push, Delivery::Pull] {
        for (product, steps, state, names) in rows {
            lifecycle_row(delivery, product, steps, state, names).await;
        }
    }
}

/// Whether the server stored the token as acknowledged at Google.
async fn acknowledged(app: &TestApp, token: &str) -> bool {
    app.store
        .find_purchase(PKG, token)
        .await
        .unwrap()
        .is_some_and(|p| p.acknowledged)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_left_waiting_is_adopted_by_the_sweeper() {
    let app = spawn_app_with(playbill_store::Backend::Postgres, |s| {
        s.jobs.ack_sweep_interval_ms = 200
    })
    .await;
    app.product(PKG, "premium_plus", "subscription").await;
    let a = owned_subscription(&app, "premium").await;
    // No notification is delivered here. B waits as an orphan as if its notification had come
    // before A had an owner and A's own look for orphans had missed it.
    let b = act(
        &app,
        &a,
        "change_plan",
        json!({"product_id": "premium_plus"}),
    )
    .await["new_purchase_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.store
        .put_orphan(PKG, &b, "subscription", Some(&a), 0)
        .await
        .unwrap();
    app.eventually("the sweeper stores B for alice", || async {
        app.store
            .find_purchase(PKG, &b)
            .await
            .unwrap()
            .is_some_and(|p| p.user_id.as_str() == "alice" && p.acknowledged)
    })
    .await;
    app.eventually("A is marked replaced", || async {
        app.events(PKG, &a).await.contains(&"superseded".to_owned())
    })
    .await;
    let held = app.entitlements(PKG, "alice").await;
    assert!(
        held["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["product_id"] != "premium"),
        "A's rights ended with its replacement: {held}"
    );
}
