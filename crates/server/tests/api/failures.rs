//! Google says no, or cannot be reached: clear errors, nothing stored but an event.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

api_test!(unknown_token_is_404, |app| {
    let r = app
        .verify(PKG, "alice", "gems", "no-such-token", "one_time")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.body["error"]["status"], "NOT_FOUND");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Google does not know")
    );
    assert!(
        app.store
            .find_purchase(PKG, "no-such-token")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        app.events(PKG, "no-such-token").await,
        ["verification_failed"]
    );
});

api_test!(product_or_package_mismatch_is_422, |app| {
    let gems = app.buy(PKG, json!({"product_id": "gems"})).await;
    // The token is for "gems", the app claims "coins".
    let r = app.verify(PKG, "alice", "coins", &gems, "one_time").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gems"),
        "{}",
        r.body
    );
    // A one-time token verified as a subscription.
    let r = app
        .verify(PKG, "alice", "gems", &gems, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // A token of another app.
    let r = app
        .verify(RAW_PKG, "alice", "gems", &gems, "one_time")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("purchaseTokenDoesNotMatchPackageName")
    );
    assert!(
        app.store.find_purchase(PKG, &gems).await.unwrap().is_none(),
        "nothing stored"
    );
    assert_eq!(
        app.events(PKG, &gems).await,
        ["verification_failed", "verification_failed"]
    );
    assert_eq!(app.events(RAW_PKG, &gems).await, ["verification_failed"]);
    assert_eq!(app.google_calls("POST", ":acknowledge").await, 0);
});

api_test!(google_down_after_retries_is_503_with_retry_after, |app| {
    let token = app.buy(PKG, json!({"product_id": "gems"})).await;
    app.control(
        "faults",
        json!({"path_contains": "/productsv2/", "status": 503, "count": 100, "retry_after_seconds": 7}),
    )
    .await;
    let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.body["error"]["status"], "UNAVAILABLE");
    assert_eq!(
        r.retry_after.as_deref(),
        Some("7"),
        "Google's Retry-After is passed on"
    );
    assert_eq!(
        app.google_calls("GET", &format!("/productsv2/tokens/{token}"))
            .await,
        MAX_ATTEMPTS as usize,
        "retried up to the configured attempts"
    );
    assert!(
        app.store
            .find_purchase(PKG, &token)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.events(PKG, &token).await, ["verification_failed"]);
});

api_test!(transient_google_errors_are_retried, |app| {
    let token = app.buy(PKG, json!({"product_id": "gems"})).await;
    app.control(
        "faults",
        json!({"path_contains": "/productsv2/", "status": 500, "count": 1}),
    )
    .await;
    app.control(
        "faults",
        json!({"path_contains": "/productsv2/", "status": 429, "count": 1}),
    )
    .await;
    let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        app.google_calls("GET", &format!("/productsv2/tokens/{token}"))
            .await,
        3
    );
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_unreachable_is_503() {
    // Play API on a port nobody listens on (the token endpoint still works).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(playbill_store::Backend::Sqlite, |s| {
        s.google.androidpublisher_url = format!("http://{closed}/");
    })
    .await;
    let token = app.buy(PKG, json!({"product_id": "gems"})).await;
    let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(
        r.retry_after.as_deref(),
        Some("30"),
        "a default Retry-After when Google gave none"
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unavailable"),
        "{}",
        r.body
    );
    assert!(
        !r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&token),
        "token not echoed"
    );
    assert!(
        app.store
            .find_purchase(PKG, &token)
            .await
            .unwrap()
            .is_none()
    );
}

api_test!(
    acknowledge_failure_keeps_grant_and_is_retried_next_time,
    |app| {
        let token = app.buy(PKG, json!({"product_id": "gems"})).await;
        app.control(
            "faults",
            json!({"path_contains": ":acknowledge", "status": 503, "count": 100}),
        )
        .await;
        let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "the grant is committed: {}",
            r.body
        );
        assert_eq!(
            r.body["purchase"]["acknowledged"], false,
            "never reported as acknowledged"
        );
        assert_eq!(
            app.events(PKG, &token).await,
            ["verified", "acknowledge_failed"]
        );
        let stored = app.store.find_purchase(PKG, &token).await.unwrap().unwrap();
        assert!(!stored.acknowledged);

        app.http
            .delete(format!("{}/sandbox/v1/faults", app.sandbox))
            .send()
            .await
            .unwrap();
        let r = app.verify(PKG, "alice", "gems", &token, "one_time").await;
        assert_eq!(
            r.body["purchase"]["acknowledged"], true,
            "retried on the next verification"
        );
        assert!(
            app.store
                .find_purchase(PKG, &token)
                .await
                .unwrap()
                .unwrap()
                .acknowledged
        );
    }
);
