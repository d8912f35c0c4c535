//! Subscriptions: grant, acknowledge once, answer the same again, states over time.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

const ACK: &str = ":acknowledge";

api_test!(grants_acknowledges_and_lists, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = &r.body["purchase"];
    assert_eq!(p["state"], "ACTIVE");
    assert_eq!(p["acknowledged"], true);
    assert_eq!(p["auto_renewing"], true);
    assert_eq!(p["user_id"], "alice");
    assert!(p["expires_at"].as_str().unwrap().ends_with('Z'));
    let ents = r.body["entitlements"].as_array().unwrap();
    assert_eq!(ents.len(), 2, "premium maps to pro and no_ads: {ents:?}");
    for e in ents {
        assert_eq!(e["source"], "google_play");
        assert_eq!(e["state"], "active");
        assert_eq!(e["product_id"], "premium");
        assert_eq!(e["auto_renewing"], true);
        assert_eq!(e["expires_at"], p["expires_at"]);
    }
    assert_eq!(
        app.google_calls(
            "POST",
            &format!("/subscriptions/premium/tokens/{token}{ACK}")
        )
        .await,
        1
    );
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);
    assert!(app.entitlement_names(PKG, "bob").await.is_empty());
    assert_eq!(app.events(PKG, &token).await, ["verified", "acknowledged"]);
});

api_test!(same_user_again_same_answer_no_second_ack, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let first = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    let second = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(first.body, second.body, "same answer");
    assert_eq!(
        app.google_calls("POST", ACK).await,
        1,
        "no second acknowledge"
    );
    assert_eq!(
        app.google_calls("GET", &format!("/subscriptionsv2/tokens/{token}"))
            .await,
        2,
        "re-read each time"
    );
    assert_eq!(
        app.entitlement_names(PKG, "alice").await,
        ["no_ads", "pro"],
        "no second grant"
    );
});

api_test!(
    canceled_keeps_access_until_expiry_then_expired_then_gone,
    |app| {
        let token = app.buy(PKG, json!({"product_id": "premium"})).await;
        app.control(&format!("apps/{PKG}/purchases/{token}:cancel"), json!({}))
            .await;
        let r = app
            .verify(PKG, "alice", "premium", &token, "subscription")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["purchase"]["state"], "CANCELED");
        assert_eq!(r.body["purchase"]["auto_renewing"], false);
        assert_eq!(
            app.entitlement_names(PKG, "alice").await,
            ["no_ads", "pro"],
            "canceled is not expired"
        );

        app.advance(json!({"duration": "P32D"})).await;
        let r = app
            .verify(PKG, "alice", "premium", &token, "subscription")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["purchase"]["state"], "EXPIRED");
        assert_eq!(r.body["entitlements"], json!([]));
        assert!(app.entitlement_names(PKG, "alice").await.is_empty());

        app.advance(json!({"duration": "P61D"})).await;
        let r = app
            .verify(PKG, "alice", "premium", &token, "subscription")
            .await;
        assert_eq!(r.status, StatusCode::GONE, "{}", r.body);
        assert_eq!(r.body["error"]["code"], 410);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("too old"),
            "{}",
            r.body
        );
    }
);

api_test!(renewing_subscription_stays_active_across_periods, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let first = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    app.advance(json!({"duration": "P1M"})).await;
    let later = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(later.body["purchase"]["state"], "ACTIVE");
    assert!(
        later.body["purchase"]["expires_at"].as_str()
            > first.body["purchase"]["expires_at"].as_str()
    );
    assert_ne!(
        later.body["purchase"]["order_id"], first.body["purchase"]["order_id"],
        "renewal order"
    );
    assert_eq!(
        app.google_calls("POST", ACK).await,
        1,
        "renewals need no acknowledgement"
    );
});

api_test!(pending_subscription_is_accepted_not_granted, |app| {
    let token = app
        .buy(PKG, json!({"product_id": "premium", "pending": true}))
        .await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["purchase"]["state"], "PENDING");
    assert_eq!(r.body["entitlements"], json!([]));
    assert_eq!(
        app.google_calls("POST", ACK).await,
        0,
        "nothing to acknowledge while pending"
    );

    app.control(&format!("apps/{PKG}/purchases/{token}:complete"), json!({}))
        .await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["purchase"]["acknowledged"], true);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);
});

api_test!(test_purchases_are_flagged, |app| {
    let token = app
        .buy(PKG, json!({"product_id": "premium", "test_purchase": true}))
        .await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.body["purchase"]["test_purchase"], true);
    let ents = app.entitlements(PKG, "alice").await;
    assert!(
        ents["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["test_purchase"] == true)
    );
});

api_test!(renewal_is_picked_up_when_entitlements_are_read, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let first = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    app.advance(json!({"duration": "P1M"})).await;
    app.advance(json!({"seconds": 3600})).await;
    let ents = app.entitlements(PKG, "alice").await;
    let list = ents["entitlements"].as_array().unwrap();
    assert_eq!(list.len(), 2, "still premium after the renewal: {ents}");
    assert!(
        list[0]["expires_at"].as_str() > first.body["purchase"]["expires_at"].as_str(),
        "the renewed expiry was read from Google"
    );
    let reads = app
        .google_calls("GET", &format!("/subscriptionsv2/tokens/{token}"))
        .await;
    assert_eq!(
        reads, 2,
        "one read at verify, one to refresh the lapsed expiry"
    );
    app.entitlements(PKG, "alice").await;
    assert_eq!(
        app.google_calls("GET", &format!("/subscriptionsv2/tokens/{token}"))
            .await,
        reads,
        "fresh again: no further reads"
    );
});

api_test!(lapses_are_picked_up_when_entitlements_are_read, |app| {
    // Declined payment: grace keeps access, hold removes it.
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    app.verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    app.control(
        &format!("apps/{PKG}/purchases/{token}:decline_payment"),
        json!({}),
    )
    .await;
    app.advance(json!({"duration": "P1M"})).await;
    app.advance(json!({"seconds": 60})).await;
    assert_eq!(
        app.entitlement_names(PKG, "alice").await,
        ["no_ads", "pro"],
        "grace keeps access"
    );
    app.advance(json!({"duration": "P8D"})).await;
    let names = app.entitlement_names(PKG, "alice").await;
    let evs = app.store.events_for_token(PKG, &token).await.unwrap();
    let st = app.store.find_purchase(PKG, &token).await.unwrap();
    assert!(
        names.is_empty(),
        "hold removes it: {names:?} {evs:#?} {st:?}"
    );
    let stored = app.store.find_purchase(PKG, &token).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "ON_HOLD");

    // Canceled, then long gone at Google (410): marked expired.
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    app.control(&format!("apps/{PKG}/purchases/{token}:cancel"), json!({}))
        .await;
    app.verify(PKG, "bob", "premium", &token, "subscription")
        .await;
    assert_eq!(app.entitlement_names(PKG, "bob").await, ["no_ads", "pro"]);
    app.advance(json!({"duration": "P100D"})).await;
    assert!(app.entitlement_names(PKG, "bob").await.is_empty());
    let stored = app.store.find_purchase(PKG, &token).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "EXPIRED");
    assert!(
        app.events(PKG, &token)
            .await
            .contains(&"expired_at_google".to_owned())
    );
});
