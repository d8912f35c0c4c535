//! Refunds and voided purchases: the refund action (full, partial quantity), the 3-day
//! auto-refund of unacknowledged purchases, the voided RTDNs, and voidedpurchases.list.

mod common;

use common::Harness;
use serde_json::{Value, json};

const PKG: &str = "com.example.voided";

async fn setup() -> Harness {
    let h = common::start().await;
    for (id, kind) in [("gems", "one_time"), ("pro", "subscription")] {
        h.control(
            &format!("apps/{PKG}/products"),
            json!({"product_id": id, "type": kind}),
        )
        .await;
    }
    h
}

/// Voided notifications for a token: (productType, refundType).
async fn voided_notes(h: &Harness, token: &str) -> Vec<(i64, i64)> {
    h.notifications()
        .await
        .iter()
        .filter_map(|n| {
            let v = n["notification"].get("voidedPurchaseNotification")?;
            (v["purchaseToken"] == token).then(|| {
                (
                    v["productType"].as_i64().unwrap(),
                    v["refundType"].as_i64().unwrap(),
                )
            })
        })
        .collect()
}

async fn list(h: &Harness, query: &[(&str, &str)]) -> Value {
    let q: Vec<(&str, String)> = query.iter().map(|(k, v)| (*k, v.to_string())).collect();
    h.play.list_voided(PKG, &q).await.unwrap().raw
}

fn tokens(list: &Value) -> Vec<String> {
    list["voidedPurchases"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v["purchaseToken"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_and_partial_refunds() {
    let h = setup().await;
    let taps = h.taps().await;
    let full = h.buy(PKG, json!({"product_id": "gems"})).await;
    h.play
        .acknowledge_product(PKG, "gems", &full)
        .await
        .unwrap();
    h.control(
        &format!("apps/{PKG}/purchases/{full}:refund"),
        json!({"reason": 1}),
    )
    .await;
    let p = h.play.get_product_v2(PKG, &full).await.unwrap().raw;
    assert_eq!(p["purchaseStateContext"]["purchaseState"], "CANCELLED");
    assert_eq!(voided_notes(&h, &full).await, [(2, 1)]);

    let multi = h
        .buy(PKG, json!({"product_id": "gems", "quantity": 3}))
        .await;
    h.play
        .acknowledge_product(PKG, "gems", &multi)
        .await
        .unwrap();
    h.control(
        &format!("apps/{PKG}/purchases/{multi}:refund"),
        json!({"quantity": 1}),
    )
    .await;
    let p = h.play.get_product_v2(PKG, &multi).await.unwrap().raw;
    assert_eq!(
        p["productLineItem"][0]["productOfferDetails"]["refundableQuantity"],
        2
    );
    assert_eq!(
        p["purchaseStateContext"]["purchaseState"], "PURCHASED",
        "2 units remain"
    );
    h.control(
        &format!("apps/{PKG}/purchases/{multi}:refund"),
        json!({"quantity": 2}),
    )
    .await;
    assert_eq!(
        voided_notes(&h, &multi).await,
        [(2, 2), (2, 1)],
        "the last units are a full refund"
    );

    let without = list(&h, &[]).await;
    assert_eq!(
        tokens(&without),
        [full.clone(), multi.clone()],
        "partial refunds hidden by default"
    );
    assert_eq!(without["voidedPurchases"][0]["voidedReason"], 1);
    assert_eq!(without["voidedPurchases"][0]["voidedSource"], 0);
    assert!(without["voidedPurchases"][0]["voidedTimeMillis"].is_string());
    let with = list(&h, &[("includeQuantityBasedPartialRefund", "true")]).await;
    assert_eq!(tokens(&with), [full, multi.clone(), multi]);
    assert_eq!(with["voidedPurchases"][1]["voidedQuantity"], 1);

    // Nothing left to refund.
    let (status, _) = h
        .try_control(
            &format!("apps/{PKG}/purchases/{}:refund", tokens(&with)[0]),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_refund_revokes_and_lists_with_type_1() {
    let h = setup().await;
    let taps = h.taps().await;
    let token = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &token)
        .await
        .unwrap();
    h.control(
        &format!("apps/{PKG}/purchases/{token}:refund"),
        json!({"reason": 7, "source": 2}),
    )
    .await;
    let s = h.play.get_subscription_v2(PKG, &token).await.unwrap().raw;
    assert_eq!(s["subscriptionState"], "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(h.codes(&token).await, [4, 12]);
    assert_eq!(voided_notes(&h, &token).await, [(1, 1)]);
    assert!(
        tokens(&list(&h, &[]).await).is_empty(),
        "type 0: one-time only"
    );
    let all = list(&h, &[("type", "1")]).await;
    assert_eq!(tokens(&all), [token]);
    assert_eq!(all["voidedPurchases"][0]["voidedReason"], 7, "chargeback");
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_purchases_are_refunded_after_three_days() {
    let h = setup().await;
    let taps = h.taps().await;
    let forgotten = h.buy(PKG, json!({"product_id": "gems"})).await;
    let acked = h.buy(PKG, json!({"product_id": "gems"})).await;
    h.play
        .acknowledge_product(PKG, "gems", &acked)
        .await
        .unwrap();
    let sub = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.control("clock:advance", json!({"duration": "P2D"})).await;
    assert!(
        tokens(&list(&h, &[("type", "1")]).await).is_empty(),
        "not yet"
    );
    h.control("clock:advance", json!({"duration": "P1D"})).await;

    let voided = list(&h, &[("type", "1")]).await;
    let mut got = tokens(&voided);
    got.sort();
    let mut want = vec![forgotten.clone(), sub.clone()];
    want.sort();
    assert_eq!(got, want, "the acknowledged one is kept");
    for v in voided["voidedPurchases"].as_array().unwrap() {
        assert_eq!(v["voidedReason"], 8, "Unacknowledged_purchase");
        assert_eq!(v["voidedSource"], 2, "by Google");
    }
    let s = h.play.get_subscription_v2(PKG, &sub).await.unwrap().raw;
    assert_eq!(s["subscriptionState"], "SUBSCRIPTION_STATE_EXPIRED");
    let p = h.play.get_product_v2(PKG, &acked).await.unwrap().raw;
    assert_eq!(p["purchaseStateContext"]["purchaseState"], "PURCHASED");
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voided_list_pages_and_refuses_bad_parameters() {
    let h = setup().await;
    let mut all = Vec::new();
    for _ in 0..3 {
        let t = h.buy(PKG, json!({"product_id": "gems"})).await;
        h.control(&format!("apps/{PKG}/purchases/{t}:refund"), json!({}))
            .await;
        all.push(t);
    }
    let first = list(&h, &[("maxResults", "2")]).await;
    assert_eq!(tokens(&first), all[..2]);
    assert_eq!(first["pageInfo"]["totalResults"], 3);
    let next = first["tokenPagination"]["nextPageToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = list(&h, &[("maxResults", "2"), ("token", &next)]).await;
    assert_eq!(tokens(&second), all[2..]);
    assert!(second.get("tokenPagination").is_none(), "last page");

    for bad in [
        // 1970: older than 30 days.
        vec![("startTime", "1000")],
        vec![("maxResults", "0")],
        vec![("type", "2")],
        vec![("token", "garbage")],
        vec![("startTime", "soon")],
        vec![("includeQuantityBasedPartialRefund", "maybe")],
    ] {
        let q: Vec<(&str, String)> = bad.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let err = h.play.list_voided(PKG, &q).await.unwrap_err();
        assert!(
            matches!(err, playbill_google::GoogleError::InvalidArgument { .. }),
            "{bad:?}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_buckets_answer_429_independently() {
    let h = setup().await;
    let put = |body: Value| put_quotas(&h, body);
    assert_eq!(put(json!({"per_minute": 0})).await, 400);
    assert_eq!(
        put(json!({"per_minute": 2, "voided_per_30s": 1})).await,
        200
    );
    let sub = h.buy(PKG, json!({"product_id": "pro"})).await;
    let gem = h.buy(PKG, json!({"product_id": "gems"})).await;
    for _ in 0..2 {
        h.play.get_subscription_v2(PKG, &sub).await.unwrap();
    }
    let err = h.play.get_subscription_v2(PKG, &sub).await.unwrap_err();
    assert!(
        matches!(err, playbill_google::GoogleError::RateLimited { .. }),
        "{err}"
    );
    // Another bucket is not affected.
    h.play.get_product_v2(PKG, &gem).await.unwrap();
    // Voided purchases: 1 per 30 s here.
    list(&h, &[]).await;
    let err = h.play.list_voided(PKG, &[]).await.unwrap_err();
    assert!(
        matches!(err, playbill_google::GoogleError::RateLimited { .. }),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voided_purchases_have_a_daily_quota_too() {
    let h = setup().await;
    let put = |body: Value| put_quotas(&h, body);
    assert_eq!(put(json!({"voided_per_day": 0})).await, 400);
    assert_eq!(put(json!({"voided_per_day": 3})).await, 200);
    for _ in 0..3 {
        list(&h, &[]).await;
    }
    let err = h.play.list_voided(PKG, &[]).await.unwrap_err();
    assert!(
        matches!(err, playbill_google::GoogleError::RateLimited { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("per day"), "{err}");
    // Another package has its own count.
    h.play.list_voided("com.example.other", &[]).await.unwrap();
}

/// `PUT /sandbox/v1/quotas`; returns the status.
async fn put_quotas(h: &Harness, body: Value) -> u16 {
    h.http
        .put(format!("{}/sandbox/v1/quotas", h.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_order_can_be_refunded() {
    let h = setup().await;
    let taps = h.taps().await;
    let bought = h
        .control(
            &format!("apps/{PKG}/purchases"),
            json!({"product_id": "pro"}),
        )
        .await;
    let token = bought["purchase_token"].as_str().unwrap().to_owned();
    let first_order = bought["order_id"].as_str().unwrap().to_owned();
    h.play
        .acknowledge_subscription(PKG, "pro", &token)
        .await
        .unwrap();
    h.control("clock:advance", json!({"duration": "P1M"})).await;
    let path = format!("apps/{PKG}/purchases/{token}:refund");
    for bad in [
        json!({"order_id": "GPA.nope"}),
        json!({"order_id": format!("{first_order}..7")}),
    ] {
        let (status, err) = h.try_control(&path, bad.clone()).await;
        assert_eq!(status, 409, "{bad}: {err}");
    }
    h.control(&path, json!({"order_id": first_order})).await;
    let all = list(&h, &[("type", "1")]).await;
    assert_eq!(all["voidedPurchases"][0]["orderId"], first_order.as_str());
    let (status, _) = h.try_control(&path, json!({"order_id": first_order})).await;
    assert_eq!(status, 409, "refunded once");
    taps.assert_delivered_as_published(&h).await;
}
