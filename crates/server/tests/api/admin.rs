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
