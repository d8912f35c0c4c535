//! One token, one user; obfuscated account ids must match the verifying user.

use playbill_core::account::sha256_hex;
use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

api_test!(token_bound_to_another_user_is_409, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    assert_eq!(
        app.verify(PKG, "alice", "premium", &token, "subscription")
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .verify(PKG, "mallory", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.body["error"]["status"], "ALREADY_EXISTS");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("another user")
    );
    assert!(app.entitlement_names(PKG, "mallory").await.is_empty());
    assert_eq!(
        app.entitlement_names(PKG, "alice").await,
        ["no_ads", "pro"],
        "owner keeps it"
    );
    let owner = app.store.find_purchase(PKG, &token).await.unwrap().unwrap();
    assert_eq!(owner.user_id.as_str(), "alice");
    assert_eq!(
        app.events(PKG, &token).await,
        ["verified", "acknowledged", "verification_failed"]
    );
});

api_test!(concurrent_first_verifications_bind_one_user, |app| {
    let token = app.buy(PKG, json!({"product_id": "gems"})).await;
    let v = |user: &'static str| app.verify(PKG, user, "gems", &token, "one_time");
    let (a, b, c, d) = tokio::join!(v("u1"), v("u2"), v("u3"), v("u4"));
    let statuses = [a.status, b.status, c.status, d.status];
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        app.google_calls("POST", ":acknowledge").await,
        1,
        "only the winner acknowledges"
    );
});

api_test!(obfuscated_account_id_must_match_the_user, |app| {
    // Default rule: the app sends SHA-256(user id) as obfuscatedAccountId.
    let token = app
        .buy(
            PKG,
            json!({"product_id": "premium", "obfuscated_account_id": sha256_hex("alice")}),
        )
        .await;
    let r = app
        .verify(PKG, "mallory", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["error"]["status"], "PERMISSION_DENIED");
    assert!(
        app.store
            .find_purchase(PKG, &token)
            .await
            .unwrap()
            .is_none(),
        "nothing stored"
    );
    assert_eq!(app.events(PKG, &token).await, ["verification_failed"]);
    assert_eq!(app.google_calls("POST", ":acknowledge").await, 0);
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Raw rule: the obfuscated id is the user id itself.
    let token = app
        .buy(
            RAW_PKG,
            json!({"product_id": "gems", "obfuscated_account_id": "bob"}),
        )
        .await;
    assert_eq!(
        app.verify(RAW_PKG, "eve", "gems", &token, "one_time")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.verify(RAW_PKG, "bob", "gems", &token, "one_time")
            .await
            .status,
        StatusCode::OK
    );
});

api_test!(concurrent_verifications_by_the_owner_settle_once, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let v = || app.verify(PKG, "alice", "premium", &token, "subscription");
    let (a, b, c, d) = tokio::join!(v(), v(), v(), v());
    for r in [&a, &b, &c, &d] {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(
        app.google_calls("POST", ":acknowledge").await,
        1,
        "one acknowledge"
    );
    assert!(
        app.store
            .find_purchase(PKG, &token)
            .await
            .unwrap()
            .unwrap()
            .acknowledged
    );
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);

    let coins = app
        .buy(PKG, json!({"product_id": "coins", "quantity": 2}))
        .await;
    let v = || app.verify(PKG, "alice", "coins", &coins, "one_time");
    let (a, b, c, d) = tokio::join!(v(), v(), v(), v());
    for r in [&a, &b, &c, &d] {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    assert_eq!(app.google_calls("POST", ":consume").await, 1, "one consume");
    let stored = app.store.find_purchase(PKG, &coins).await.unwrap().unwrap();
    assert!(stored.consumed, "no lost update: {stored:?}");
});
