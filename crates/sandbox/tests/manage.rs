//! Developer actions through the Play API (subscriptionsv2 cancel / defer / revoke, the v1
//! subscriptions cancel / defer, orders get / batchGet / refund / reviewrefund) and the
//! newer lifecycles driven through the control API (price changes, installments, prepaid
//! top-ups, add-ons, DEFERRED plan changes, resubscribing from the Play Store). Each is
//! checked through Google's answers and the exact notifications published.

mod common;

use common::{Harness, Taps};
use serde_json::{Value, json};

const PKG: &str = "com.example.manage";
const AP: &str = "androidpublisher/v3/applications/com.example.manage";

async fn setup() -> (Harness, Taps) {
    let h = common::start().await;
    let taps = h.taps().await;
    for body in [
        json!({"product_id": "pro", "type": "subscription", "price_micros": 5_000_000}),
        json!({"product_id": "max", "type": "subscription", "price_micros": 9_000_000}),
        json!({"product_id": "extra", "type": "subscription", "price_micros": 1_000_000}),
        json!({"product_id": "pass", "type": "subscription", "prepaid": true}),
        json!({"product_id": "plan3", "type": "subscription", "installments": 3}),
        json!({"product_id": "gems", "type": "one_time", "price_micros": 2_000_000}),
    ] {
        h.control(&format!("apps/{PKG}/products"), body).await;
    }
    (h, taps)
}

/// Buys and acknowledges a subscription; returns its token.
async fn subscribe(h: &Harness, product: &str) -> String {
    let token = h.buy(PKG, json!({"product_id": product})).await;
    h.play
        .acknowledge_subscription(PKG, product, &token)
        .await
        .unwrap();
    token
}

async fn sub(h: &Harness, token: &str) -> Value {
    let (status, body) = h
        .google(
            "GET",
            &format!("{AP}/purchases/subscriptionsv2/tokens/{token}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn action(h: &Harness, token: &str, action: &str, body: Value) -> (u16, Value) {
    h.try_control(&format!("apps/{PKG}/purchases/{token}:{action}"), body)
        .await
}

async fn advance(h: &Harness, duration: &str) {
    h.control("clock:advance", json!({"duration": duration}))
        .await;
}

async fn order(h: &Harness, order_id: &str) -> Value {
    let (status, body) = h
        .google("GET", &format!("{AP}/orders/{order_id}"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn expiry(s: &Value) -> String {
    s["lineItems"][0]["expiryTime"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptionsv2_cancel_by_user_or_developer() {
    let (h, taps) = setup().await;
    let a = subscribe(&h, "pro").await;
    let path = format!("{AP}/purchases/subscriptionsv2/tokens/{a}:cancel");
    let (status, err) = h
        .google(
            "POST",
            &path,
            Some(json!({"cancellationContext": {"cancellationType": "NOPE"}})),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        sub(&h, &a).await["subscriptionState"],
        "SUBSCRIPTION_STATE_ACTIVE"
    );

    let (status, body) = h
        .google(
            "POST",
            &path,
            Some(json!({"cancellationContext": {"cancellationType": "USER_REQUESTED_STOP_RENEWALS"}})),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let s = sub(&h, &a).await;
    assert_eq!(s["subscriptionState"], "SUBSCRIPTION_STATE_CANCELED");
    assert!(s["canceledStateContext"]["userInitiatedCancellation"]["cancelTime"].is_string());
    assert_eq!(h.codes(&a).await, [4, 3]);
    let (status, err) = h.google("POST", &path, Some(json!({}))).await;
    assert_eq!(
        status, 400,
        "a canceled subscription cannot be canceled again: {err}"
    );
    assert_eq!(
        action(&h, &a, "restore", json!({})).await.0,
        200,
        "restorable"
    );

    let b = subscribe(&h, "pro").await;
    let path = format!("{AP}/purchases/subscriptionsv2/tokens/{b}:cancel");
    let body =
        json!({"cancellationContext": {"cancellationType": "DEVELOPER_REQUESTED_STOP_PAYMENTS"}});
    assert_eq!(h.google("POST", &path, Some(body)).await.0, 200);
    let s = sub(&h, &b).await;
    assert_eq!(
        s["canceledStateContext"],
        json!({"developerInitiatedCancellation": {}})
    );
    let (status, _) = action(&h, &b, "restore", json!({})).await;
    assert_eq!(
        status, 409,
        "a developer's stop of payments is not restorable"
    );
    advance(&h, "P1M").await;
    assert_eq!(h.codes(&b).await, [4, 3, 13]);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptionsv2_defer_needs_the_latest_etag() {
    let (h, _taps) = setup().await;
    let a = subscribe(&h, "pro").await;
    let before = sub(&h, &a).await;
    let path = format!("{AP}/purchases/subscriptionsv2/tokens/{a}:defer");
    for ctx in [
        json!({"deferDuration": "604800s", "etag": "stale"}),
        json!({"deferDuration": "604800s"}),
        json!({"etag": before["etag"]}),
        json!({"deferDuration": "60s", "etag": before["etag"]}),
    ] {
        let (status, err) = h
            .google("POST", &path, Some(json!({"deferralContext": ctx})))
            .await;
        assert_eq!(status, 400, "{ctx}: {err}");
    }
    let (status, dry) = h
        .google(
            "POST",
            &path,
            Some(json!({"deferralContext": {"deferDuration": "604800s", "etag": before["etag"], "validateOnly": true}})),
        )
        .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(
        expiry(&sub(&h, &a).await),
        expiry(&before),
        "a dry run changes nothing"
    );
    assert_eq!(h.codes(&a).await, [4]);

    let (status, got) = h
        .google(
            "POST",
            &path,
            Some(json!({"deferralContext": {"deferDuration": "604800s", "etag": before["etag"]}})),
        )
        .await;
    assert_eq!(status, 200, "{got}");
    let after = sub(&h, &a).await;
    assert_eq!(got["itemExpiryTimeDetails"][0]["productId"], "pro");
    assert_eq!(
        got["itemExpiryTimeDetails"][0]["expiryTime"],
        after["lineItems"][0]["expiryTime"]
    );
    let old = time::OffsetDateTime::parse(
        &expiry(&before),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let new = time::OffsetDateTime::parse(
        &expiry(&after),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(new - old, time::Duration::days(7));
    assert_ne!(
        after["etag"], before["etag"],
        "the etag moves with the subscription"
    );
    assert_eq!(h.codes(&a).await, [4, 9]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_v1_cancel_and_defer() {
    let (h, _taps) = setup().await;
    let a = subscribe(&h, "pro").await;
    let base = format!("{AP}/purchases/subscriptions/pro/tokens/{a}");
    let s = sub(&h, &a).await;
    let expiry_ms =
        time::OffsetDateTime::parse(&expiry(&s), &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp_nanos() as i64
            / 1_000_000;
    let (status, err) = h
        .google(
            "POST",
            &format!("{base}:defer"),
            Some(json!({"deferralInfo": {"expectedExpiryTimeMillis": "1", "desiredExpiryTimeMillis": (expiry_ms + 86_400_000).to_string()}})),
        )
        .await;
    assert_eq!(status, 400, "expected expiry must match: {err}");
    let desired = expiry_ms + 2 * 86_400_000;
    let (status, got) = h
        .google(
            "POST",
            &format!("{base}:defer"),
            Some(json!({"deferralInfo": {"expectedExpiryTimeMillis": expiry_ms.to_string(), "desiredExpiryTimeMillis": desired.to_string()}})),
        )
        .await;
    assert_eq!(
        (status, got),
        (200, json!({"newExpiryTimeMillis": desired.to_string()}))
    );
    let (status, _) = h
        .google(
            "POST",
            &format!("{AP}/purchases/subscriptions/max/tokens/{a}:cancel"),
            None,
        )
        .await;
    assert_eq!(status, 400, "the subscription id must match the token");
    assert_eq!(
        h.google("POST", &format!("{base}:cancel"), None).await.0,
        200
    );
    assert_eq!(
        sub(&h, &a).await["subscriptionState"],
        "SUBSCRIPTION_STATE_CANCELED"
    );
    assert_eq!(h.codes(&a).await, [4, 9, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptionsv2_revoke_refunds_as_asked() {
    let (h, _taps) = setup().await;
    let a = subscribe(&h, "pro").await;
    let path = |t: &str| format!("{AP}/purchases/subscriptionsv2/tokens/{t}:revoke");
    for ctx in [json!({}), json!({"fullRefund": {}, "proratedRefund": {}})] {
        let (status, err) = h
            .google("POST", &path(&a), Some(json!({"revocationContext": ctx})))
            .await;
        assert_eq!(status, 400, "{ctx}: {err}");
    }
    assert_eq!(
        h.codes(&a).await,
        [4],
        "refused revocations publish nothing"
    );
    let (status, body) = h
        .google(
            "POST",
            &path(&a),
            Some(json!({"revocationContext": {"fullRefund": {}}})),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let s = sub(&h, &a).await;
    assert_eq!(s["subscriptionState"], "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(h.codes(&a).await, [4, 12]);
    let order_id = s["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = order(&h, &order_id).await;
    assert_eq!(o["state"], "REFUNDED");
    assert_eq!(
        o["orderHistory"]["refundEvent"]["refundDetails"]["total"]["units"],
        "5"
    );
    let voided = h
        .play
        .list_voided(PKG, &[("type", "1".to_owned())])
        .await
        .unwrap();
    assert_eq!(
        voided.raw["voidedPurchases"][0]["orderId"],
        order_id.as_str()
    );
    assert_eq!(voided.raw["voidedPurchases"][0]["voidedSource"], 1);

    // Prorated: half a month unused, about half of the price back.
    let b = subscribe(&h, "pro").await;
    advance(&h, "P15D").await;
    let (status, _) = h
        .google(
            "POST",
            &path(&b),
            Some(json!({"revocationContext": {"proratedRefund": {}}})),
        )
        .await;
    assert_eq!(status, 200);
    let order_id = sub(&h, &b).await["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = order(&h, &order_id).await;
    assert_eq!(o["state"], "PARTIALLY_REFUNDED", "{o}");
    let refunded = &o["orderHistory"]["partialRefundEvents"][0]["refundDetails"]["total"];
    let units: i64 = refunded["units"].as_str().unwrap().parse().unwrap();
    assert!((2..=3).contains(&units), "about half of 5.50: {refunded}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_get_batch_get_and_refund() {
    let (h, _taps) = setup().await;
    let bought = h
        .control(
            &format!("apps/{PKG}/purchases"),
            json!({"product_id": "gems", "quantity": 3}),
        )
        .await;
    let gems = bought["order_id"].as_str().unwrap().to_owned();
    let token = bought["purchase_token"].as_str().unwrap().to_owned();
    let o = order(&h, &gems).await;
    assert_eq!(o["state"], "PROCESSED");
    assert_eq!(o["purchaseToken"], token.as_str());
    assert_eq!(
        o["total"],
        json!({"currencyCode": "USD", "units": "6", "nanos": 600_000_000}),
        "3 × 2.00 + 10 % tax"
    );
    assert_eq!(o["lineItems"][0]["oneTimePurchaseDetails"]["quantity"], 3);
    assert_eq!(o["buyerAddress"]["buyerCountry"], "US");

    let pending = h
        .control(
            &format!("apps/{PKG}/purchases"),
            json!({"product_id": "gems", "pending": true}),
        )
        .await;
    let pending_order = pending["order_id"].as_str().unwrap().to_owned();
    assert_eq!(order(&h, &pending_order).await["state"], "PENDING");

    let (status, got) = h
        .google(
            "GET",
            &format!("{AP}/orders:batchGet?orderIds={gems}&orderIds={pending_order}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["orders"][1]["orderId"], pending_order.as_str());
    for q in [
        format!("orderIds={gems}&orderIds=GPA.0000-0000-0000-00000"),
        format!("orderIds={gems}&orderIds={gems}"),
        String::new(),
    ] {
        let (status, err) = h
            .google("GET", &format!("{AP}/orders:batchGet?{q}"), None)
            .await;
        assert!(status == 400 || status == 404, "{q}: {status} {err}");
    }
    assert_eq!(
        h.google("GET", &format!("{AP}/orders/GPA.nope"), None)
            .await
            .0,
        404
    );

    // Refund without revoke: money back, the purchase stays, nothing voided.
    let (status, _) = h
        .google("POST", &format!("{AP}/orders/{gems}:refund"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(order(&h, &gems).await["state"], "REFUNDED");
    let p = h.play.get_product_v2(PKG, &token).await.unwrap().raw;
    assert_eq!(p["purchaseStateContext"]["purchaseState"], "PURCHASED");
    let voided = h.play.list_voided(PKG, &[]).await.unwrap();
    assert!(voided.raw["voidedPurchases"].is_null(), "{}", voided.raw);
    let (status, err) = h
        .google("POST", &format!("{AP}/orders/{gems}:refund"), None)
        .await;
    assert_eq!(status, 400, "refunded twice: {err}");

    // Refund with revoke: the subscription ends and the order is voided.
    let a = subscribe(&h, "pro").await;
    let order_id = sub(&h, &a).await["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = h
        .google(
            "POST",
            &format!("{AP}/orders/{order_id}:refund?revoke=true"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sub(&h, &a).await["subscriptionState"],
        "SUBSCRIPTION_STATE_EXPIRED"
    );
    assert_eq!(h.codes(&a).await, [4, 12]);
    let (status, _) = h
        .google(
            "POST",
            &format!("{AP}/orders/{order_id}:refund?revoke=maybe"),
            None,
        )
        .await;
    assert_eq!(status, 400);
}

/// Refund reviews: the notification, the developer's answer, Google's decision.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_reviews_follow_the_developers_answer() {
    let (h, _taps) = setup().await;
    let review = |token: String| {
        let h = &h;
        async move {
            let (status, r) = action(h, &token, "request_refund", json!({})).await;
            assert_eq!(status, 200, "{r}");
            let n = h.notifications().await;
            let last = &n.last().unwrap()["notification"]["pendingRefundReviewNotification"];
            assert_eq!(last["pendingRefundToken"], r["pending_refund_token"]);
            (
                last["orderId"].as_str().unwrap().to_owned(),
                last["pendingRefundToken"].as_str().unwrap().to_owned(),
            )
        }
    };
    let answer = |order_id: String, body: Value| {
        let h = &h;
        async move {
            h.google(
                "POST",
                &format!("{AP}/orders/{order_id}:reviewrefund"),
                Some(body),
            )
            .await
        }
    };

    // DECLINE: no refund.
    let a = h.buy(PKG, json!({"product_id": "gems"})).await;
    let (order_id, rt) = review(a.clone()).await;
    assert_eq!(order(&h, &order_id).await["state"], "PENDING_REFUND");
    assert_eq!(
        action(&h, &a, "request_refund", json!({})).await.0,
        409,
        "one open review"
    );
    for bad in [
        json!({"pendingRefundToken": "wrong", "refundPreference": "DECLINE", "sampleContentProvided": false}),
        json!({"pendingRefundToken": rt, "refundPreference": "MAYBE", "sampleContentProvided": false}),
        json!({"pendingRefundToken": rt, "refundPreference": "DECLINE"}),
        json!({"pendingRefundToken": rt, "refundPreference": "DECLINE", "sampleContentProvided": false, "consumptionPercentageMilliunits": 100_001}),
    ] {
        let (status, err) = answer(order_id.clone(), bad.clone()).await;
        assert!(status == 400 || status == 404, "{bad}: {status} {err}");
    }
    assert_eq!(
        order(&h, &order_id).await["state"],
        "PENDING_REFUND",
        "bad answers change nothing"
    );
    let decline = json!({"pendingRefundToken": rt, "refundPreference": "DECLINE", "sampleContentProvided": true, "consumptionPercentageMilliunits": 45_200});
    assert_eq!(
        answer(order_id.clone(), decline.clone()).await,
        (200, json!({}))
    );
    assert_eq!(order(&h, &order_id).await["state"], "PROCESSED");
    assert_eq!(
        answer(order_id.clone(), decline).await.0,
        400,
        "answered once"
    );

    // APPROVE: refunded as a chargeback, now.
    let b = h.buy(PKG, json!({"product_id": "gems"})).await;
    let (order_id, rt) = review(b.clone()).await;
    let approve = json!({"pendingRefundToken": rt, "refundPreference": "APPROVE", "sampleContentProvided": false});
    assert_eq!(answer(order_id.clone(), approve).await.0, 200);
    assert_eq!(order(&h, &order_id).await["state"], "REFUNDED");
    let voided = h.play.list_voided(PKG, &[]).await.unwrap();
    assert_eq!(
        voided.raw["voidedPurchases"][0]["orderId"],
        order_id.as_str()
    );
    assert_eq!(voided.raw["voidedPurchases"][0]["voidedReason"], 7);

    // No answer within 24 hours: Google refunds; a late answer is refused.
    let c = subscribe(&h, "pro").await;
    let (order_id, rt) = review(c.clone()).await;
    advance(&h, "P1D").await;
    assert_eq!(order(&h, &order_id).await["state"], "REFUNDED");
    assert_eq!(
        sub(&h, &c).await["subscriptionState"],
        "SUBSCRIPTION_STATE_EXPIRED"
    );
    let late = json!({"pendingRefundToken": rt, "refundPreference": "DECLINE", "sampleContentProvided": false});
    assert_eq!(answer(order_id, late).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn price_changes_publish_19_and_apply_at_renewal() {
    let (h, taps) = setup().await;
    // A decrease applies at the next renewal.
    let a = subscribe(&h, "pro").await;
    assert_eq!(
        action(&h, &a, "price_change", json!({"price_micros": 4_000_000}))
            .await
            .0,
        200
    );
    let pc = &sub(&h, &a).await["lineItems"][0]["autoRenewingPlan"]["priceChangeDetails"];
    assert_eq!(pc["priceChangeMode"], "PRICE_DECREASE");
    assert_eq!(pc["priceChangeState"], "OUTSTANDING");
    assert_eq!(pc["newPrice"]["units"], "4");
    advance(&h, "P1M").await;
    let s = sub(&h, &a).await;
    let plan = &s["lineItems"][0]["autoRenewingPlan"];
    assert_eq!(plan["priceChangeDetails"]["priceChangeState"], "APPLIED");
    assert_eq!(plan["recurringPrice"]["units"], "4");
    assert_eq!(h.codes(&a).await, [4, 19, 2, 19]);
    let renewal = s["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        order(&h, &renewal).await["lineItems"][0]["listingPrice"]["units"],
        "4"
    );

    // An opt-in increase nobody accepts cancels the subscription when it would apply.
    let b = subscribe(&h, "pro").await;
    // Less than 30 days before the next renewal: the new price waits one period more.
    advance(&h, "P3D").await;
    assert_eq!(
        action(&h, &b, "price_change", json!({"price_micros": 6_000_000}))
            .await
            .0,
        200
    );
    assert_eq!(
        action(
            &h,
            &b,
            "price_change",
            json!({"price_micros": 7_000_000, "mode": "PRICE_DECREASE"})
        )
        .await
        .0,
        409
    );
    advance(&h, "P2M").await;
    assert_eq!(
        h.codes(&b).await,
        [4, 19, 2, 3, 13],
        "the renewal within 30 days keeps the old price"
    );
    assert_eq!(
        sub(&h, &b).await["subscriptionState"],
        "SUBSCRIPTION_STATE_EXPIRED"
    );

    // Accepted: 19 (CONFIRMED) and the deprecated 8, then applied.
    let c = subscribe(&h, "pro").await;
    // Less than 30 days before the next renewal: the new price waits one period more.
    advance(&h, "P3D").await;
    action(&h, &c, "price_change", json!({"price_micros": 6_000_000})).await;
    assert_eq!(action(&h, &c, "confirm_price", json!({})).await.0, 200);
    assert_eq!(action(&h, &c, "confirm_price", json!({})).await.0, 409);
    advance(&h, "P2M").await;
    assert_eq!(h.codes(&c).await, [4, 19, 19, 8, 2, 2, 19]);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installment_cancellation_waits_for_the_commitment() {
    let (h, taps) = setup().await;
    let a = subscribe(&h, "plan3").await;
    let plan = &sub(&h, &a).await["lineItems"][0]["autoRenewingPlan"]["installmentDetails"];
    assert_eq!(plan["initialCommittedPaymentsCount"], 3);
    assert_eq!(plan["remainingCommittedPaymentsCount"], 2);
    assert_eq!(action(&h, &a, "cancel", json!({})).await.0, 200);
    let s = sub(&h, &a).await;
    assert_eq!(s["subscriptionState"], "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(
        s["lineItems"][0]["autoRenewingPlan"]["installmentDetails"]["pendingCancellation"],
        json!({})
    );
    advance(&h, "P2M").await;
    assert_eq!(
        sub(&h, &a).await["subscriptionState"],
        "SUBSCRIPTION_STATE_ACTIVE"
    );
    advance(&h, "P1M").await;
    assert_eq!(h.codes(&a).await, [4, 18, 2, 2, 3, 13]);
    assert_eq!(
        sub(&h, &a).await["subscriptionState"],
        "SUBSCRIPTION_STATE_EXPIRED"
    );
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prepaid_plans_expire_and_top_ups_add_time() {
    let (h, taps) = setup().await;
    let a = subscribe(&h, "pass").await;
    let s = sub(&h, &a).await;
    assert!(s["lineItems"][0]["prepaidPlan"].is_object());
    assert!(s["lineItems"][0]["autoRenewingPlan"].is_null());
    assert_eq!(
        action(&h, &a, "pause", json!({})).await.0,
        409,
        "prepaid plans do not pause"
    );
    let (status, r) = action(&h, &a, "top_up", json!({})).await;
    assert_eq!(status, 200, "{r}");
    let b = r["new_purchase_token"].as_str().unwrap().to_owned();
    let t = sub(&h, &b).await;
    assert_eq!(t["linkedPurchaseToken"], a.as_str());
    assert_eq!(t["acknowledgementState"], "ACKNOWLEDGEMENT_STATE_PENDING");
    let parse = |v: &Value| {
        time::OffsetDateTime::parse(
            v.as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap()
    };
    let added = parse(&t["lineItems"][0]["expiryTime"]) - parse(&s["lineItems"][0]["expiryTime"]);
    assert!(
        (28..=31).contains(&added.whole_days()),
        "a month on top: {added}"
    );
    assert_eq!(
        sub(&h, &a).await["canceledStateContext"],
        json!({"replacementCancellation": {}})
    );
    h.play
        .acknowledge_subscription(PKG, "pass", &b)
        .await
        .unwrap();
    advance(&h, "P2M").await;
    assert_eq!(h.codes(&b).await, [4, 13]);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_ons_are_line_items_that_renew_with_the_base() {
    let (h, taps) = setup().await;
    let a = subscribe(&h, "pro").await;
    assert_eq!(
        action(&h, &a, "add_item", json!({"product_id": "nope"}))
            .await
            .0,
        409
    );
    assert_eq!(
        action(&h, &a, "add_item", json!({"product_id": "extra"}))
            .await
            .0,
        200
    );
    let s = sub(&h, &a).await;
    assert_eq!(s["lineItems"][1]["productId"], "extra");
    assert_eq!(
        s["lineItems"][1]["expiryTime"],
        s["lineItems"][0]["expiryTime"]
    );
    advance(&h, "P1M").await;
    let renewal = sub(&h, &a).await["lineItems"][0]["latestSuccessfulOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        order(&h, &renewal).await["total"]["units"],
        "6",
        "5.00 + 1.00 + 10 % tax = 6.60"
    );
    assert_eq!(
        action(&h, &a, "remove_item", json!({"product_id": "extra"}))
            .await
            .0,
        200
    );
    assert_eq!(
        sub(&h, &a).await["lineItems"][1]["deferredItemRemoval"],
        json!({})
    );
    advance(&h, "P1M").await;
    assert_eq!(sub(&h, &a).await["lineItems"].as_array().unwrap().len(), 1);
    assert_eq!(h.codes(&a).await, [4, 17, 2, 17, 2, 17]);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_plan_change_switches_at_the_renewal_date() {
    let (h, taps) = setup().await;
    let a = subscribe(&h, "pro").await;
    let (status, r) = action(
        &h,
        &a,
        "change_plan",
        json!({"product_id": "max", "replacement_mode": "DEFERRED"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let b = r["new_purchase_token"].as_str().unwrap().to_owned();
    let old = sub(&h, &a).await;
    assert_eq!(old["subscriptionState"], "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(
        old["lineItems"][0]["deferredItemReplacement"],
        json!({"productId": "max"})
    );
    let new = sub(&h, &b).await;
    assert_eq!(new["linkedPurchaseToken"], a.as_str());
    assert!(
        new["lineItems"][0]["latestSuccessfulOrderId"].is_null(),
        "not owned yet"
    );
    assert_eq!(
        new["lineItems"][0]["itemReplacement"]["replacementMode"],
        "DEFERRED"
    );
    assert_eq!(new["lineItems"][0]["itemReplacement"]["productId"], "pro");
    h.play
        .acknowledge_subscription(PKG, "max", &b)
        .await
        .unwrap();
    advance(&h, "P1M").await;
    assert_eq!(
        sub(&h, &a).await["subscriptionState"],
        "SUBSCRIPTION_STATE_EXPIRED"
    );
    let new = sub(&h, &b).await;
    assert!(new["lineItems"][0]["latestSuccessfulOrderId"].is_string());
    assert_eq!(h.codes(&b).await, [4, 2]);
    assert_eq!(h.codes(&a).await, [4]);
    let bad = json!({"product_id": "max", "replacement_mode": "SOMETIMES"});
    assert_eq!(action(&h, &b, "change_plan", bad).await.0, 409);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resubscribing_in_the_play_store_after_expiry() {
    let (h, taps) = setup().await;
    let a = h
        .buy(
            PKG,
            json!({"product_id": "pro", "obfuscated_account_id": "acct-9"}),
        )
        .await;
    h.play
        .acknowledge_subscription(PKG, "pro", &a)
        .await
        .unwrap();
    assert_eq!(
        action(&h, &a, "resubscribe", json!({})).await.0,
        409,
        "only after expiry"
    );
    action(&h, &a, "expire", json!({})).await;
    let (status, r) = action(&h, &a, "resubscribe", json!({})).await;
    assert_eq!(status, 200, "{r}");
    let b = r["new_purchase_token"].as_str().unwrap().to_owned();
    let s = sub(&h, &b).await;
    assert!(s["linkedPurchaseToken"].is_null(), "no link after expiry");
    assert_eq!(
        s["outOfAppPurchaseContext"]["expiredPurchaseToken"],
        a.as_str()
    );
    assert_eq!(
        s["outOfAppPurchaseContext"]["expiredExternalAccountIdentifiers"]["obfuscatedExternalAccountId"],
        "acct-9"
    );
    let ack = format!("{AP}/purchases/subscriptions/pro/tokens/{b}:acknowledge");
    let body = json!({"externalAccountIds": {"obfuscatedAccountId": "acct-10"}});
    assert_eq!(h.google("POST", &ack, Some(body.clone())).await.0, 200);
    let s = sub(&h, &b).await;
    assert!(
        s["outOfAppPurchaseContext"].is_null(),
        "gone after the acknowledgement"
    );
    assert_eq!(
        s["externalAccountIdentifiers"]["obfuscatedExternalAccountId"],
        "acct-10"
    );
    let c = subscribe(&h, "pro").await;
    let ack = format!("{AP}/purchases/subscriptions/pro/tokens/{c}:acknowledge");
    assert_eq!(
        h.google("POST", &ack, Some(body)).await.0,
        400,
        "only for resubscriptions"
    );
    assert_eq!(h.codes(&b).await, [4]);
    taps.assert_delivered_as_published(&h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledge_reads_and_checks_its_body() {
    let (h, _taps) = setup().await;
    let token = h.buy(PKG, json!({"product_id": "gems"})).await;
    let path = format!("{AP}/purchases/products/gems/tokens/{token}:acknowledge");
    let url = format!("{}/{path}", h.base);
    let bearer = h.auth.token().await.unwrap();
    let r = h
        .http
        .post(&url)
        .bearer_auth(&bearer)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let p = h.play.get_product_v2(PKG, &token).await.unwrap().raw;
    assert_eq!(p["acknowledgementState"], "ACKNOWLEDGEMENT_STATE_PENDING");
    let (status, _) = h
        .google("POST", &path, Some(json!({"developerPayload": "x"})))
        .await;
    assert_eq!(status, 200);
    // The v1 cancel is the developer's.
    let pro = subscribe(&h, "pro").await;
    let (status, _) = h
        .google(
            "POST",
            &format!("{AP}/purchases/subscriptions/pro/tokens/{pro}:cancel"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        sub(&h, &pro).await["canceledStateContext"],
        json!({"developerInitiatedCancellation": {}})
    );
}
