//! The catalog mirrored from Google (the sandbox) and shown to app clients.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

async fn catalog(app: &TestApp, query: &str) -> Value {
    let r = app
        .call(
            &app.api,
            Method::GET,
            &format!("/v1/apps/{PKG}/catalog{query}"),
            Some(KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["product_id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

api_test!(a_sync_mirrors_google_and_sees_a_product_removed, |app| {
    let sync = |key: &'static str| {
        let app = &app;
        async move {
            app.call(
                &app.api,
                Method::POST,
                &format!("/v1/apps/{PKG}/catalog:sync"),
                Some(key),
                None,
            )
            .await
        }
    };
    assert_eq!(
        sync(KEY).await.status,
        StatusCode::FORBIDDEN,
        "an app key cannot sync"
    );
    let before = catalog(&app, "").await;
    assert_eq!(
        before["one_time_products"],
        json!([]),
        "nothing mirrored yet"
    );

    let r = sync(ADMIN_KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["added"]
            .as_array()
            .unwrap()
            .contains(&json!("subscription:premium")),
        "{}",
        r.body
    );

    let us = catalog(&app, "?region=US").await;
    assert_eq!(ids(&us["one_time_products"]), ["coins", "gems"]);
    let gems = us["one_time_products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == "gems")
        .unwrap();
    assert_eq!(gems["price"]["currency"], "USD");
    assert!(gems["price"]["micros"].as_i64().unwrap() > 0);
    assert_eq!(gems["entitlements"], json!(["gems"]));
    let subs = us["subscriptions"].as_array().unwrap();
    assert_eq!(ids(&us["subscriptions"]), ["premium"]);
    assert_eq!(subs[0]["entitlements"], json!(["pro", "no_ads"]));
    assert_eq!(subs[0]["base_plans"][0]["price"]["currency"], "USD");
    let elsewhere = catalog(&app, "?region=JP").await;
    assert_eq!(
        elsewhere["one_time_products"],
        json!([]),
        "not sold in JP: {elsewhere}"
    );

    // Google removes gems; the next sync removes it here.
    let (state, _db) = app.fresh_state().await;
    state.apps[PKG]
        .play
        .delete_inapp_product(PKG, "gems")
        .await
        .unwrap();
    let r = sync(ADMIN_KEY).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["removed"]
            .as_array()
            .unwrap()
            .contains(&json!("inapp:gems")),
        "{}",
        r.body
    );
    assert_eq!(
        ids(&catalog(&app, "?region=US").await["one_time_products"]),
        ["coins"]
    );
    // A second sync with nothing new changes nothing.
    let r = sync(ADMIN_KEY).await;
    assert_eq!(
        (
            r.body["added"].clone(),
            r.body["removed"].clone(),
            r.body["updated"].clone()
        ),
        (json!([]), json!([]), json!([])),
        "{}",
        r.body
    );

    let r = app
        .call(
            &app.api,
            Method::GET,
            &format!("/v1/apps/{PKG}/catalog?region=usa"),
            Some(KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("region")
    );
});

api_test!(a_catalog_file_is_diffed_then_applied, |app| {
    let push = |apply: bool, file: Value| {
        let app = &app;
        async move {
            app.call(
                &app.api,
                Method::POST,
                &format!("/v1/apps/{PKG}/catalog:push?apply={apply}"),
                Some(ADMIN_KEY),
                Some(file),
            )
            .await
        }
    };
    let file = json!({"one_time_products": [
        {"product_id": "gems", "title": "A pile of gems", "currency": "USD", "price_micros": 1_990_000},
        {"product_id": "stars", "title": "Stars", "description": "Shiny", "currency": "USD", "price_micros": 990_000},
    ]});
    let sync = || async {
        let r = app
            .call(
                &app.api,
                Method::POST,
                &format!("/v1/apps/{PKG}/catalog:sync"),
                Some(ADMIN_KEY),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    };
    sync().await;

    // The diff first: nothing changes at Google.
    let r = push(false, file.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["applied"], false);
    let changes = r.body["changes"].as_array().unwrap();
    assert_eq!(changes[0]["product_id"], "gems");
    assert_eq!(changes[0]["action"], "update");
    let fields: Vec<&str> = changes[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"title")
            && fields.contains(&"default_price")
            && fields.contains(&"prices"),
        "{fields:?}"
    );
    assert_eq!(
        changes[1],
        json!({"product_id": "stars", "action": "create", "fields": []})
    );
    sync().await;
    assert_eq!(
        ids(&catalog(&app, "?region=US").await["one_time_products"]),
        ["coins", "gems"],
        "a dry run writes nothing"
    );

    // Applied: Google has it, the mirror follows, and the same file is now a no-op.
    let r = push(true, file.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let us = catalog(&app, "?region=US").await;
    assert_eq!(ids(&us["one_time_products"]), ["coins", "gems", "stars"]);
    let gems = us["one_time_products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == "gems")
        .unwrap()
        .clone();
    assert_eq!(gems["title"], "A pile of gems");
    assert_eq!(gems["price"]["micros"], 1_990_000);
    let r = push(false, file).await;
    let actions: Vec<&str> = r.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unchanged", "unchanged"], "{}", r.body);

    // Bad files are 400 and name the product and field.
    let r = push(true, json!({"one_time_products": [{"product_id": "x", "title": "", "currency": "USD", "price_micros": 1}]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("title"),
        "{}",
        r.body
    );
    let r = push(true, json!({"one_time_products": [{"product_id": "x", "title": "X", "currency": "USD", "price_micros": 0}]})).await;
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("price_micros"),
        "{}",
        r.body
    );
    let r = app
        .call(
            &app.api,
            Method::POST,
            &format!("/v1/apps/{PKG}/catalog:push"),
            Some(KEY),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
});

api_test!(subscriptions_and_base_plans_are_pushed_from_a_file, |app| {
    let push = |apply: bool, file: Value| {
        let app = &app;
        async move {
            app.call(
                &app.api,
                Method::POST,
                &format!("/v1/apps/{PKG}/catalog:push?apply={apply}"),
                Some(ADMIN_KEY),
                Some(file),
            )
            .await
        }
    };
    let file = json!({"subscriptions": [
        {"product_id": "premium", "title": "Premium", "base_plans": [
            {"base_plan_id": "monthly", "billing_period": "P1M", "currency": "USD", "price_micros": 6_990_000},
            {"base_plan_id": "yearly", "billing_period": "P1Y", "currency": "USD", "price_micros": 59_990_000},
        ]},
        {"product_id": "vip", "title": "VIP", "base_plans": [
            {"base_plan_id": "weekly", "billing_period": "P1W", "currency": "USD", "price_micros": 1_990_000},
        ]},
    ]});
    let r = push(false, file.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let changes = r.body["changes"].as_array().unwrap();
    assert_eq!(changes[0]["product_id"], "premium");
    assert_eq!(changes[0]["action"], "update");
    let fields: Vec<&str> = changes[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"price:monthly") && fields.contains(&"base_plan:yearly"),
        "{fields:?}"
    );
    assert_eq!(changes[1]["action"], "create");

    let r = push(true, file.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let us = catalog(&app, "?region=US").await;
    assert_eq!(ids(&us["subscriptions"]), ["premium", "vip"], "{us}");
    let premium = us["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["product_id"] == "premium")
        .unwrap()
        .clone();
    let plans: Vec<(String, i64)> = premium["base_plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["base_plan_id"].as_str().unwrap().to_owned(),
                b["price"]["micros"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        plans,
        [
            ("monthly".to_owned(), 6_990_000),
            ("yearly".to_owned(), 59_990_000)
        ],
        "both on sale: {premium}"
    );
    let r = push(false, file).await;
    let actions: Vec<&str> = r.body["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["unchanged", "unchanged"], "{}", r.body);

    // A base plan's billing period cannot change at Google: refused before anything is written.
    let r = push(true, json!({"subscriptions": [{"product_id": "premium", "title": "Premium", "base_plans": [
        {"base_plan_id": "monthly", "billing_period": "P3M", "currency": "USD", "price_micros": 1}]}]})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("billing period"),
        "{}",
        r.body
    );
});
