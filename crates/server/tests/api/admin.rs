//! Operator routes (admin key only) and rights granted outside Google Play, merged with
//! Play's in the entitlements every device reads.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

/// (source, entitlement) of each right the user has now, sorted.
async fn rights(app: &TestApp, base: &str, user: &str) -> Vec<(String, String)> {
    let r = app
        .call(
            base,
            Method::GET,
            &format!("/v1/apps/{PKG}/users/{user}/entitlements"),
            Some(KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut out: Vec<(String, String)> = r.body["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_owned(),
                e["entitlement"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn pair(source: &str, name: &str) -> (String, String) {
    (source.to_owned(), name.to_owned())
}

api_test!(app_keys_cannot_reach_operator_routes, |app| {
    let grants = format!("/v1/apps/{PKG}/users/alice/grants");
    let routes = [
        (
            Method::POST,
            grants.clone(),
            Some(json!({"entitlement": "pro", "source": "stripe"})),
        ),
        (Method::GET, grants.clone(), None),
        (Method::DELETE, format!("{grants}/some-grant"), None),
        (Method::GET, format!("/v1/apps/{PKG}/refund-reviews"), None),
        (Method::GET, "/v1/rtdn/quarantine".to_owned(), None),
        (
            Method::POST,
            "/v1/rtdn/quarantine/x:replay".to_owned(),
            None,
        ),
    ];
    for (method, path, body) in &routes {
        let r = app
            .call(&app.api, method.clone(), path, Some(KEY), body.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.body["error"]["status"], "PERMISSION_DENIED");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("admin key"),
            "{}",
            r.body
        );
        let r = app
            .call(&app.api, method.clone(), path, None, body.clone())
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    assert!(
        app.store
            .grants_for_user(PKG, "alice")
            .await
            .unwrap()
            .is_empty(),
        "nothing was granted by the refused calls"
    );
    // The admin key reaches them, and the app routes too.
    let r = app
        .call(&app.api, Method::GET, &grants, Some(ADMIN_KEY), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["grants"], json!([]));
    let r = app
        .call(
            &app.api,
            Method::GET,
            &format!("/v1/apps/{PKG}/users/alice/entitlements"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
});

api_test!(grants_from_other_sources_merge_with_play_rights, |app| {
    let token = app.buy(PKG, json!({"product_id": "premium"})).await;
    let r = app
        .verify(PKG, "alice", "premium", &token, "subscription")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let play = vec![pair("google_play", "no_ads"), pair("google_play", "pro")];
    assert_eq!(rights(&app, &app.api, "alice").await, play);

    // Another instance caches alice's rights now; a grant through this one must reach it.
    let other = app.another_instance("admin-other").await;
    assert_eq!(rights(&app, &other, "alice").await, play);

    let grants = format!("/v1/apps/{PKG}/users/alice/grants");
    let r = app
        .call(
            &app.api,
            Method::POST,
            &grants,
            Some(ADMIN_KEY),
            Some(json!({"entitlement": "pro", "source": "app_store", "note": "bought on iOS"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["source"], "app_store");
    assert_eq!(r.body["expires_at"], Value::Null);
    let ios = r.body["grant_id"].as_str().unwrap().to_owned();
    let now = app.clock.now_ms();
    let in_a_day = playbill_google::observe::format_time(now + 86_400_000);
    let r = app
        .call(
            &app.api,
            Method::POST,
            &grants,
            Some(ADMIN_KEY),
            Some(json!({"entitlement": "bonus_level", "source": "promotional", "expires_at": in_a_day})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["expires_at"], json!(in_a_day));

    let merged = vec![
        pair("app_store", "pro"),
        pair("google_play", "no_ads"),
        pair("google_play", "pro"),
        pair("promotional", "bonus_level"),
    ];
    assert_eq!(rights(&app, &app.api, "alice").await, merged);
    assert_eq!(
        rights(&app, &other, "alice").await,
        merged,
        "the other instance sees the grants at once"
    );
    assert!(
        rights(&app, &app.api, "bob").await.is_empty(),
        "only alice's"
    );

    // Revoked: gone at once, everywhere; revoking again changes nothing.
    for _ in 0..2 {
        let r = app
            .call(
                &app.api,
                Method::DELETE,
                &format!("{grants}/{ios}"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body["revoked_at"].is_string(), "{}", r.body);
    }
    let without_ios = vec![
        pair("google_play", "no_ads"),
        pair("google_play", "pro"),
        pair("promotional", "bonus_level"),
    ];
    assert_eq!(rights(&app, &app.api, "alice").await, without_ios);
    assert_eq!(rights(&app, &other, "alice").await, without_ios);
    let r = app
        .call(
            &app.api,
            Method::DELETE,
            &format!("{grants}/no-such-grant"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .call(
            &app.api,
            Method::DELETE,
            &format!("/v1/apps/{PKG}/users/bob/grants/{ios}"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another user's grant: {}",
        r.body
    );

    // The promotion ends with its expiry; the history keeps both grants.
    app.advance(json!({"seconds": 2 * 86_400})).await;
    let left = rights(&app, &app.api, "alice").await;
    assert!(
        !left.contains(&pair("promotional", "bonus_level")),
        "expired: {left:?}"
    );
    let r = app
        .call(&app.api, Method::GET, &grants, Some(ADMIN_KEY), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let listed = r.body["grants"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["grant_id"], json!(ios));
    assert!(listed[0]["revoked_at"].is_string());
    assert_eq!(listed[0]["note"], "bought on iOS");
});

api_test!(bad_grants_are_400_naming_the_field, |app| {
    let grants = format!("/v1/apps/{PKG}/users/alice/grants");
    let past = playbill_google::observe::format_time(app.clock.now_ms() - 1000);
    let cases = [
        (
            json!({"entitlement": "pro", "source": "google_play"}),
            "source",
        ),
        (
            json!({"entitlement": "pro", "source": "App Store"}),
            "source",
        ),
        (
            json!({"entitlement": "", "source": "stripe"}),
            "entitlement",
        ),
        (
            json!({"entitlement": "pro", "source": "stripe", "expires_at": "tomorrow"}),
            "expires_at",
        ),
        (
            json!({"entitlement": "pro", "source": "stripe", "expires_at": past}),
            "expires_at",
        ),
        (
            json!({"entitlement": "pro", "source": "stripe", "price": 3}),
            "price",
        ),
        (json!({"source": "stripe"}), "entitlement"),
    ];
    for (body, needle) in cases {
        let r = app
            .call(
                &app.api,
                Method::POST,
                &grants,
                Some(ADMIN_KEY),
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let r = app
        .call(
            &app.api,
            Method::POST,
            "/v1/apps/com.unknown/users/alice/grants",
            Some(ADMIN_KEY),
            Some(json!({"entitlement": "pro", "source": "stripe"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert!(
        app.store
            .grants_for_user(PKG, "alice")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(rights(&app, &app.api, "alice").await.is_empty());
});

/// POSTs an admin action; returns the reply.
async fn act(app: &TestApp, path: &str, key: &str, body: Value) -> Reply {
    app.call(
        &app.api,
        Method::POST,
        &format!("/v1/apps/{PKG}/{path}"),
        Some(key),
        Some(body),
    )
    .await
}

/// alice buys and verifies `product` (`kind`); returns the token and the stored order id.
async fn bought(app: &TestApp, product: &str, kind: &str) -> (String, String) {
    let token = app.buy(PKG, json!({"product_id": product})).await;
    let r = app.verify(PKG, "alice", product, &token, kind).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let order = r.body["purchase"]["order_id"].as_str().unwrap().to_owned();
    (token, order)
}

api_test!(admin_actions_on_subscriptions_go_through_google, |app| {
    let (token, _) = bought(&app, "premium", "subscription").await;
    let expiry = |r: &Reply| {
        playbill_google::observe::parse_time("", r.body["purchase"]["expires_at"].as_str().unwrap())
            .unwrap()
    };
    let path = |verb: &str| format!("subscriptions/{token}:{verb}");

    // An app key cannot; an unknown token is 404; bad bodies are 400 and change nothing.
    let r = act(&app, &path("cancel"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = act(
        &app,
        "subscriptions/unknown-token:cancel",
        ADMIN_KEY,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    for (verb, body, needle) in [
        ("defer", json!({"days": 0}), "days"),
        ("defer", json!({}), "days"),
        ("revoke", json!({"refund": "half"}), "refund"),
        (
            "cancel",
            json!({"cancellation_type": "NOW"}),
            "cancellation_type",
        ),
        ("pause", json!({}), "pause"),
    ] {
        let r = act(&app, &path(verb), ADMIN_KEY, body.clone()).await;
        assert!(r.status.is_client_error(), "{verb} {body}: {}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{}",
            r.body
        );
    }
    assert_eq!(
        app.stored_state(PKG, &token).await.as_deref(),
        Some("ACTIVE")
    );
    assert_eq!(
        app.google_calls("POST", ":cancel").await + app.google_calls("POST", ":defer").await,
        0,
        "nothing refused reached Google"
    );

    // Defer: 30 days later, at Google and here.
    let before = app
        .store
        .find_purchase(PKG, &token)
        .await
        .unwrap()
        .unwrap()
        .expires_at
        .unwrap();
    let r = act(&app, &path("defer"), ADMIN_KEY, json!({"days": 30})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(expiry(&r), before + 30 * 86_400_000);

    // Cancel: renewals stop, access lasts until the paid period ends.
    let r = act(&app, &path("cancel"), ADMIN_KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["purchase"]["state"], "CANCELED");
    assert_eq!(r.body["purchase"]["auto_renewing"], false);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["no_ads", "pro"]);

    // Revoke: access ends now, and never comes back from a late read.
    let r = act(
        &app,
        &path("revoke"),
        ADMIN_KEY,
        json!({"refund": "prorated"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(app.entitlement_names(PKG, "alice").await.is_empty());
    let kinds = app.events(PKG, &token).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| k.as_str() == "admin_action")
            .count(),
        3,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"revoked".to_owned()), "{kinds:?}");
    let history = app.store.events_for_token(PKG, &token).await.unwrap();
    let actions: Vec<&Value> = history
        .iter()
        .filter(|e| e.kind == "admin_action")
        .map(|e| &e.detail["action"])
        .collect();
    assert_eq!(
        actions,
        [&json!("defer"), &json!("cancel"), &json!("revoke")]
    );
    assert!(
        history
            .iter()
            .all(|e| e.kind != "admin_action" || e.detail["by"] == "operator")
    );
});

api_test!(refunding_an_order_keeps_or_revokes_access, |app| {
    let (gems, gems_order) = bought(&app, "gems", "one_time").await;
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["gems"]);

    let r = act(&app, "orders/GPA.0000-no-such:refund", ADMIN_KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = act(&app, &format!("orders/{gems_order}:refund"), KEY, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = act(
        &app,
        &format!("subscriptions/{gems}:cancel"),
        ADMIN_KEY,
        json!({}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a one-time purchase: {}",
        r.body
    );

    // Money back, goods kept.
    let r = act(
        &app,
        &format!("orders/{gems_order}:refund"),
        ADMIN_KEY,
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["done"]["revoke"], false);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["gems"]);
    // Google refuses a second full refund; its refusal comes back as a client error.
    let r = act(
        &app,
        &format!("orders/{gems_order}:refund"),
        ADMIN_KEY,
        json!({"revoke": true}),
    )
    .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["gems"]);

    // A subscription's order refunded with revoke: access ends now.
    let (sub, sub_order) = bought(&app, "premium", "subscription").await;
    assert_eq!(
        app.entitlement_names(PKG, "alice").await,
        ["gems", "no_ads", "pro"]
    );
    let r = act(
        &app,
        &format!("orders/{sub_order}:refund"),
        ADMIN_KEY,
        json!({"revoke": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.entitlement_names(PKG, "alice").await, ["gems"]);
    assert!(app.events(PKG, &sub).await.contains(&"revoked".to_owned()));
});
