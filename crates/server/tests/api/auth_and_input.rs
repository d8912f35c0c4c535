//! API keys, health, and bad input: always a status plus a JSON error that says what was wrong.

use reqwest::StatusCode;
use serde_json::json;

use crate::api_test;
use crate::helpers::*;

api_test!(api_key_required, |app| {
    let body =
        json!({"user_id": "a", "product_id": "gems", "purchase_token": "t", "type": "one_time"});
    for key in [None, Some("wrong-key-0123456789")] {
        let r = app.verify_raw(PKG, body.clone(), key).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(r.body["error"]["code"], 401);
        assert_eq!(r.body["error"]["status"], "UNAUTHENTICATED");
    }
    let r = app
        .http
        .get(format!(
            "{}/v1/apps/{PKG}/users/alice/entitlements",
            app.api
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.google_calls("GET", "").await,
        0,
        "nothing reached Google"
    );
});

api_test!(healthz_and_livez_answer_without_a_key, |app| {
    for path in ["/healthz", "/livez"] {
        let r = app
            .http
            .get(format!("{}{path}", app.api))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    }
});

api_test!(bad_bodies_are_400_naming_the_problem, |app| {
    let cases = [
        (
            json!({"user_id": "a", "product_id": "gems", "purchase_token": "t"}),
            "type",
        ),
        (
            json!({"user_id": "a", "product_id": "gems", "purchase_token": "t", "type": "lifetime"}),
            "type",
        ),
        (
            json!({"user_id": "", "product_id": "gems", "purchase_token": "t", "type": "one_time"}),
            "user_id",
        ),
        (
            json!({"user_id": "a", "product_id": "ge/ms", "purchase_token": "t", "type": "one_time"}),
            "product_id",
        ),
        (
            json!({"user_id": "a", "product_id": "gems", "purchase_token": "t t", "type": "one_time"}),
            "purchase_token",
        ),
        (
            json!({"user_id": "a", "product_id": "gems", "purchase_token": "t", "type": "one_time", "extra": 1}),
            "extra",
        ),
        (json!(["not", "an", "object"]), "invalid JSON body"),
    ];
    for (body, needle) in cases {
        let r = app.verify_raw(PKG, body.clone(), Some(KEY)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.body["error"]["status"], "INVALID_ARGUMENT");
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body} -> {msg}");
    }
    let r = app
        .http
        .post(format!("{}/v1/apps/{PKG}/purchases:verify", app.api))
        .bearer_auth(KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 400);
    assert_eq!(
        app.google_calls("GET", "").await,
        0,
        "bad input never reaches Google"
    );
});

api_test!(wrong_method_and_huge_body_get_json_errors, |app| {
    let r = app
        .http
        .get(format!("{}/v1/apps/{PKG}/purchases:verify", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 405);
    let huge = "x".repeat(100 * 1024);
    let r = app
        .verify_raw(PKG, json!({"user_id": huge, "product_id": "gems", "purchase_token": "t", "type": "one_time"}), Some(KEY))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
    assert_eq!(r.body["error"]["code"], 413);
});

api_test!(unknown_app_and_route_are_404, |app| {
    let r = app
        .verify("com.unknown.app", "a", "gems", "t", "one_time")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not configured")
    );
    let r = app
        .http
        .get(format!("{}/v1/nope", app.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["status"], "NOT_FOUND");
});
