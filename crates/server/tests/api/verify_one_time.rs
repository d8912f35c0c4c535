//! One-time products: acknowledge non-consumables, consume consumables, pending payments.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

api_test!(non_consumable_is_granted_and_acknowledged, |app| {
    let token = app.buy(PKG, json!({"product_id": "gems"})).await;
    let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["purchase"]["state"], "PURCHASED");
    assert_eq!(r.body["purchase"]["acknowledged"], true);
    assert_eq!(r.body["purchase"]["consumed"], false);
    let e = &r.body["entitlements"][0];
    assert_eq!(
        e["entitlement"], "gems",
        "unmapped products grant their own id"
    );
    assert_eq!(e["expires_at"], json!(null));
    assert_eq!(e["auto_renewing"], false);
    assert_eq!(
        app.google_calls(
            "POST",
            &format!("/products/gems/tokens/{token}:acknowledge")
        )
        .await,
        1
    );
    assert_eq!(
        app.google_calls("POST", ":consume").await,
        0,
        "never consume a non-consumable"
    );

    let again = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(again.body, r.body);
    assert_eq!(app.google_calls("POST", ":acknowledge").await, 1);
});

api_test!(consumable_is_consumed_once_with_its_quantity, |app| {
    let token = app
        .buy(PKG, json!({"product_id": "coins", "quantity": 3}))
        .await;
    let r = app.verify(PKG, "alice", "coins", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["purchase"]["quantity"], 3);
    assert_eq!(r.body["purchase"]["consumed"], true);
    assert_eq!(r.body["purchase"]["acknowledged"], true);
    assert_eq!(
        app.google_calls("POST", &format!("/products/coins/tokens/{token}:consume"))
            .await,
        1
    );
    assert_eq!(
        app.google_calls("POST", ":acknowledge").await,
        0,
        "consuming acknowledges"
    );
    // Delivered goods are a record, not a standing right.
    assert!(app.entitlement_names(PKG, "alice").await.is_empty());
    assert_eq!(app.events(PKG, &token).await, ["verified", "consumed"]);

    let again = app.verify(PKG, "alice", "coins", &token, "one_time").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, r.body, "same answer");
    assert_eq!(
        app.google_calls("POST", ":consume").await,
        1,
        "no second consume"
    );
});

api_test!(pending_payment_then_completed, |app| {
    let token = app
        .buy(PKG, json!({"product_id": "gems", "pending": true}))
        .await;
    let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["purchase"]["state"], "PENDING");
    assert_eq!(
        r.body["purchase"]["user_id"], "alice",
        "bound, so the later notification finds the user"
    );
    assert_eq!(r.body["entitlements"], json!([]));
    assert_eq!(app.google_calls("POST", ":acknowledge").await, 0);

    app.control(&format!("apps/{PKG}/purchases/{token}:complete"), json!({}))
        .await;
    let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["gems"]);
    assert_eq!(app.google_calls("POST", ":acknowledge").await, 1);
});
