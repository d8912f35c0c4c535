//! Financial reports: a month of sandbox orders imported from the sandbox's bucket and
//! reconciled with what playbill recorded — one seeded discrepancy of each kind is found,
//! and nothing else.

use playbill_core::{
    Entitlement, EntitlementState, PackageName, ProductId, ProductKind, PurchaseRecord,
    PurchaseState, PurchaseToken, Source, UserId,
};
use playbill_server::config::ReportsSettings;
use playbill_store::Backend;
use playbill_store::purchases::SavePurchase;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_with(backend, |s| {
        s.reports = Some(ReportsSettings {
            bucket: playbill_sandbox::storage::DEFAULT_BUCKET.into(),
            service_account_key: s.apps[0].service_account_key.clone(),
            storage_url: s.google.androidpublisher_url.clone(),
            import_interval_ms: 3_600_000,
        });
    })
    .await
}

async fn admin(app: &TestApp, method: Method, path: &str) -> Reply {
    app.call(&app.api, method, path, Some(ADMIN_KEY), None)
        .await
}

/// Buys `product` for `user` in the sandbox; returns (token, order id).
async fn buy(app: &TestApp, user: &str, product: &str, verify: bool) -> (String, String) {
    let got = app
        .control(
            &format!("apps/{PKG}/purchases"),
            json!({"product_id": product}),
        )
        .await;
    let token = got["purchase_token"].as_str().unwrap().to_owned();
    let order = got["order_id"].as_str().unwrap().to_owned();
    if verify {
        let r = app.verify(PKG, user, product, &token, "one_time").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    (token, order)
}

async fn month_reconciled(backend: Backend) {
    let app = spawn(backend).await;
    let (_, _) = buy(&app, "alice", "gems", true).await;
    // Charged by Google, never recorded here (the app never sent the token).
    let (_, unrecorded) = buy(&app, "carol", "gems", false).await;
    // Refunded by Google without revoking: we still grant.
    let (_, kept) = buy(&app, "dave", "gems", true).await;
    let r = app
        .call(
            &app.api,
            Method::POST,
            &format!("/v1/apps/{PKG}/orders/{kept}:refund"),
            Some(ADMIN_KEY),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Refunded with revoke: access ended, nothing to report.
    let (_, revoked) = buy(&app, "eve", "gems", true).await;
    let r = app
        .call(
            &app.api,
            Method::POST,
            &format!("/v1/apps/{PKG}/orders/{revoked}:refund"),
            Some(ADMIN_KEY),
            Some(json!({"revoke": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Granted here with an order Google never charged (seeded straight into the store).
    let now = app.clock.now_ms();
    let ghost = PurchaseRecord {
        package: PackageName::parse(PKG).unwrap(),
        token: PurchaseToken::parse("ghost-token").unwrap(),
        kind: ProductKind::OneTime,
        user_id: UserId::parse("mallory").unwrap(),
        product_id: ProductId::parse("gems").unwrap(),
        state: PurchaseState::Purchased,
        acknowledged: true,
        consumed: false,
        quantity: 1,
        order_id: Some("GPA.0000-0000-0000-99999".into()),
        linked_purchase_token: None,
        expires_at: None,
        auto_renewing: false,
        test_purchase: false,
        started_at: Some(now),
    };
    let right = Entitlement {
        name: "gems".into(),
        product_id: ProductId::parse("gems").unwrap(),
        source: Source::GooglePlay,
        state: EntitlementState::Active,
        expires_at: None,
        auto_renewing: false,
        quantity: 1,
        test_purchase: false,
    };
    app.store
        .save_purchase(SavePurchase {
            record: &ghost,
            entitlements: &[right],
            google_raw: &json!({}),
            events: &[],
            is_new: true,
            observed_at: now,
            now,
            message: None,
        })
        .await
        .unwrap();

    let r = admin(&app, Method::POST, "/v1/reports:import").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let imported: Vec<&str> = r.body["imported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        imported.len(),
        2,
        "one earnings and one sales file: {}",
        r.body
    );
    let (_, month) = playbill_google::reports::classify(imported[0]).unwrap();
    let again = admin(&app, Method::POST, "/v1/reports:import").await;
    assert_eq!(
        again.body["imported"],
        json!([]),
        "same generation: skipped"
    );
    assert_eq!(again.body["unchanged"], 2);

    let r = admin(
        &app,
        Method::GET,
        &format!("/v1/apps/{PKG}/reports/reconciliation?month={month}"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        r.body["charged_not_recorded"],
        json!([unrecorded]),
        "{}",
        r.body
    );
    assert_eq!(
        r.body["granted_not_charged"],
        json!([{"order_id": "GPA.0000-0000-0000-99999", "purchase_token": "ghost-token"}]),
        "{}",
        r.body
    );
    assert_eq!(r.body["refunded_not_revoked"], json!([kept]), "{}", r.body);
    assert_eq!(r.body["clean"], false);
    let totals = r.body["totals"].as_object().unwrap();
    assert_eq!(totals.len(), 1, "{totals:?}");
    let t: &Value = totals.values().next().unwrap();
    let n = |k: &str| t[k].as_i64().unwrap();
    assert!(
        n("gross_micros") > 0 && n("fees_micros") < 0 && n("tax_micros") < 0,
        "{t}"
    );
    assert_eq!(
        n("net_micros"),
        n("gross_micros") + n("fees_micros") + n("tax_micros")
    );

    // Bad input.
    let r = admin(
        &app,
        Method::GET,
        &format!("/v1/apps/{PKG}/reports/reconciliation?month=2026-13"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = admin(
        &app,
        Method::GET,
        &format!("/v1/apps/{PKG}/reports/reconciliation"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = app
        .call(
            &app.api,
            Method::POST,
            "/v1/reports:import",
            Some(KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_is_imported_and_reconciled_sqlite() {
    month_reconciled(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_month_is_imported_and_reconciled_postgres() {
    month_reconciled(Backend::Postgres).await;
}

/// UTF-16 files with renamed and extra columns are read the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_and_renamed_columns_are_read() {
    let app = spawn(Backend::Sqlite).await;
    let r = app
        .http
        .put(format!("{}/sandbox/v1/reports", app.sandbox))
        .json(&json!({"utf16": true, "renamed_columns": true}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let (_, unrecorded) = buy(&app, "carol", "gems", false).await;
    let r = admin(&app, Method::POST, "/v1/reports:import").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["failed"], json!([]), "{}", r.body);
    let name = r.body["imported"][0].as_str().unwrap().to_owned();
    let (_, month) = playbill_google::reports::classify(&name).unwrap();
    let r = admin(
        &app,
        Method::GET,
        &format!("/v1/apps/{PKG}/reports/reconciliation?month={month}"),
    )
    .await;
    assert_eq!(
        r.body["charged_not_recorded"],
        json!([unrecorded]),
        "{}",
        r.body
    );
}
