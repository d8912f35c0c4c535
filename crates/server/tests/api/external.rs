//! External (alternative-billing) transactions: accepted and stored, reported to Google
//! (the sandbox) from the outbox, refunds within Google's rules, clear 4xx otherwise.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::helpers::*;

async fn post(app: &TestApp, path: &str, body: Value) -> Reply {
    app.call(
        &app.api,
        Method::POST,
        &format!("/v1/apps/{PKG}/external-transactions{path}"),
        Some(ADMIN_KEY),
        Some(body),
    )
    .await
}

async fn token(app: &TestApp) -> String {
    app.control(
        &format!("apps/{PKG}/external-transaction-tokens"),
        json!({}),
    )
    .await["external_transaction_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What the sandbox (Google) holds: id → (state, current pre-tax micros, refunds).
async fn at_google(app: &TestApp) -> Vec<(String, String, String, usize)> {
    let list: Value = app
        .http
        .get(format!(
            "{}/sandbox/v1/apps/{PKG}/external-transactions",
            app.sandbox
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out: Vec<_> = list["external_transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["transaction"]["externalTransactionId"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                t["transaction"]["transactionState"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                t["transaction"]["currentPreTaxAmount"]["priceMicros"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                t["refunds"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    out.sort();
    out
}

fn one_time(id: &str, token: &str) -> Value {
    json!({
        "external_transaction_id": id, "type": "one_time", "external_transaction_token": token,
        "currency": "EUR", "pre_tax_amount_micros": 10_000_000, "tax_amount_micros": 2_000_000,
        "region_code": "DE",
    })
}

fn g(id: &str, state: &str, micros: &str, refunds: usize) -> (String, String, String, usize) {
    (id.into(), state.into(), micros.into(), refunds)
}

api_test!(transactions_and_refunds_reach_google, |app| {
    let t = token(&app).await;
    let r = post(&app, "", one_time("order-1", &t)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["current_pre_tax_amount_micros"], 10_000_000);
    // The same report again: 200, nothing new; other details under the same id: 409.
    let again = post(&app, "", one_time("order-1", &t)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let mut other = one_time("order-1", &t);
    other["pre_tax_amount_micros"] = json!(1);
    let r = post(&app, "", other).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // A recurring series: the first carries the token, a renewal names the first.
    let s = token(&app).await;
    let mut first = one_time("sub-1", &s);
    first["type"] = json!("recurring");
    assert_eq!(post(&app, "", first).await.status, StatusCode::ACCEPTED);
    let renewal = json!({
        "external_transaction_id": "sub-1-r1", "type": "recurring",
        "initial_external_transaction_id": "sub-1",
        "currency": "EUR", "pre_tax_amount_micros": 10_000_000, "tax_amount_micros": 2_000_000,
        "region_code": "DE",
    });
    let r = post(&app, "", renewal).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);

    app.eventually("the three reach Google", || async {
        at_google(&app).await.len() == 3
    })
    .await;

    // Refunds: partial, within what remains, each id once; then full; then nothing.
    let partial = |id: &str, micros: i64| json!({"refund_id": id, "pre_tax_amount_micros": micros});
    let r = post(&app, "/order-1:refund", partial("r1", 4_000_000)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["current_pre_tax_amount_micros"], 6_000_000);
    assert_eq!(
        r.body["current_tax_amount_micros"], 1_200_000,
        "tax in proportion"
    );
    let r = post(&app, "/order-1:refund", partial("r1", 1_000_000)).await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a reused refund id: {}",
        r.body
    );
    let r = post(&app, "/order-1:refund", partial("r2", 6_000_000)).await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "not below what remains: {}",
        r.body
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("6000000"),
        "{}",
        r.body
    );
    let r = post(&app, "/sub-1:refund", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    assert_eq!(r.body["state"], "canceled");
    let r = post(&app, "/sub-1:refund", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = post(&app, "/nope:refund", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    app.eventually("the refunds reach Google", || async {
        at_google(&app).await
            == vec![
                g("order-1", "TRANSACTION_REPORTED", "6000000", 1),
                g("sub-1", "TRANSACTION_CANCELED", "0", 1),
                g("sub-1-r1", "TRANSACTION_REPORTED", "10000000", 0),
            ]
    })
    .await;
    let r = app
        .call(
            &app.api,
            Method::GET,
            &format!("/v1/apps/{PKG}/external-transactions/order-1"),
            Some(ADMIN_KEY),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let reports = r.body["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().all(|d| d["state"] == "delivered"),
        "{reports:?}"
    );
});

api_test!(what_google_forbids_is_a_clear_4xx, |app| {
    let t = token(&app).await;
    let now = app.clock.now_ms();
    let old = playbill_google::observe::format_time(now - 25 * 3_600_000);
    let later = playbill_google::observe::format_time(now + 3_600_000);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"external_transaction_id": "x", "type": "one_time", "currency": "EUR",
                "pre_tax_amount_micros": 1, "tax_amount_micros": 0, "region_code": "DE"}),
            "external_transaction_token",
        ),
        (
            json!({"external_transaction_id": "x", "type": "recurring", "initial_external_transaction_id": "none",
                "currency": "EUR", "pre_tax_amount_micros": 1, "tax_amount_micros": 0, "region_code": "DE"}),
            "initial_external_transaction_id",
        ),
        (
            {
                let mut b = one_time("x", &t);
                b["transaction_time"] = json!(old);
                b
            },
            "24 hours",
        ),
        (
            {
                let mut b = one_time("x", &t);
                b["transaction_time"] = json!(later);
                b
            },
            "future",
        ),
        (
            {
                let mut b = one_time("bad id!", &t);
                b["type"] = json!("one_time");
                b
            },
            "external_transaction_id",
        ),
        (
            {
                let mut b = one_time("x", &t);
                b["currency"] = json!("euro");
                b
            },
            "currency",
        ),
        (
            {
                let mut b = one_time("x", &t);
                b["pre_tax_amount_micros"] = json!(-1);
                b
            },
            "pre_tax_amount_micros",
        ),
        (
            {
                let mut b = one_time("x", &t);
                b["type"] = json!("lifetime");
                b
            },
            "type",
        ),
        (
            {
                let mut b = one_time("x", &t);
                b["price"] = json!(1);
                b
            },
            "price",
        ),
    ];
    for (body, needle) in cases {
        let r = post(&app, "", body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        let msg = r.body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: {msg}");
    }
    let r = app
        .call(
            &app.api,
            Method::POST,
            &format!("/v1/apps/{PKG}/external-transactions"),
            Some(KEY),
            Some(one_time("x", &t)),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "an app key: {}", r.body);
    assert!(app.store.find_external(PKG, "x").await.unwrap().is_none());
    assert!(at_google(&app).await.is_empty(), "nothing was reported");
});

api_test!(a_report_google_cannot_take_now_is_retried, |app| {
    // Google fails every call of the first delivery (the client's own retries included):
    // the report stays pending, and a later delivery gets it through.
    app.control(
        "faults",
        json!({"path_contains": "externalTransactions", "status": 503, "count": MAX_ATTEMPTS}),
    )
    .await;
    let t = token(&app).await;
    let r = post(&app, "", one_time("order-9", &t)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    app.eventually("delivered after the faults", || async {
        at_google(&app).await == vec![g("order-9", "TRANSACTION_REPORTED", "10000000", 0)]
    })
    .await;
    let stored = app
        .store
        .find_external(PKG, "order-9")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.deliveries[0].state, "delivered");
    assert!(
        stored.deliveries[0].attempts >= 2,
        "{:?}",
        stored.deliveries
    );
});
