//! Scenario tests of the subscription and one-time lifecycles (reference sections 7 and 8):
//! driven through the control API, checked through the Play API and the notifications the
//! sandbox published, with exact codes and states.

mod common;

use common::Harness;
use serde_json::{Value, json};

const PKG: &str = "com.example.lifecycle";

async fn setup() -> Harness {
    let h = common::start().await;
    for (id, kind, extra) in [
        ("pro", "subscription", json!({})),
        (
            "nograce",
            "subscription",
            json!({"grace_days": 0, "hold_days": 30}),
        ),
        ("gems", "one_time", json!({})),
    ] {
        let mut body = json!({"product_id": id, "type": kind});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        h.control(&format!("apps/{PKG}/products"), body).await;
    }
    h
}

async fn state(h: &Harness, token: &str) -> String {
    let s = h.play.get_subscription_v2(PKG, token).await.unwrap().raw;
    s["subscriptionState"]
        .as_str()
        .unwrap()
        .trim_start_matches("SUBSCRIPTION_STATE_")
        .to_owned()
}

async fn act(h: &Harness, token: &str, action: &str) {
    h.control(&format!("apps/{PKG}/purchases/{token}:{action}"), json!({}))
        .await;
}

async fn advance(h: &Harness, duration: &str) {
    h.control("clock:advance", json!({"duration": duration}))
        .await;
}

/// One scenario row: steps ("+P7D" advances the clock, anything else is an action), then the
/// expected state and the full list of codes published for the token.
async fn row(product: &str, steps: &[&str], expect_state: &str, expect_codes: &[i64]) {
    let h = setup().await;
    let taps = h.taps().await;
    let pending = steps.first() == Some(&"pending");
    let token = h
        .buy(PKG, json!({"product_id": product, "pending": pending}))
        .await;
    // A backend acknowledges what was paid (else Google refunds it after 3 days).
    let ack = |token: String| {
        let h = &h;
        async move {
            h.play
                .acknowledge_subscription(PKG, product, &token)
                .await
                .unwrap()
        }
    };
    if !pending {
        ack(token.clone()).await;
    }
    for step in steps.iter().skip(usize::from(pending)) {
        match step.strip_prefix('+') {
            Some(d) => advance(&h, d).await,
            None => act(&h, &token, step).await,
        }
        if *step == "complete" {
            ack(token.clone()).await;
        }
    }
    let codes = h.codes(&token).await;
    assert_eq!(
        state(&h, &token).await,
        expect_state,
        "{product} {steps:?} {codes:?}"
    );
    assert_eq!(h.codes(&token).await, expect_codes, "{product} {steps:?}");
    // What was published is what subscribers got, by pull and by push.
    let pulled = taps.pull_all(&h).await;
    assert_eq!(
        common::codes_for(&pulled, &token),
        expect_codes,
        "pulled: {product} {steps:?}"
    );
    let pushed = taps.pushed_for(&token, expect_codes.len()).await;
    assert_eq!(
        common::codes_for(&pushed, &token),
        expect_codes,
        "pushed: {product} {steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_rows() {
    // purchase and renewals
    row("pro", &[], "ACTIVE", &[4]).await;
    row("pro", &["+P1M", "+P1M"], "ACTIVE", &[4, 2, 2]).await;
    // declined renewal: grace, hold, then the system cancels and it expires
    row(
        "pro",
        &["decline_payment", "+P1M"],
        "IN_GRACE_PERIOD",
        &[4, 6],
    )
    .await;
    row(
        "pro",
        &["decline_payment", "+P1M", "+P7D"],
        "ON_HOLD",
        &[4, 6, 5],
    )
    .await;
    row(
        "pro",
        &["decline_payment", "+P1M", "+P7D", "+P53D"],
        "EXPIRED",
        &[4, 6, 5, 3, 13],
    )
    .await;
    row("nograce", &["decline_payment", "+P1M"], "ON_HOLD", &[4, 5]).await;
    // recovery: in grace (renewed), from hold (recovered)
    row(
        "pro",
        &["decline_payment", "+P1M", "fix_payment"],
        "ACTIVE",
        &[4, 6, 2],
    )
    .await;
    row(
        "pro",
        &["decline_payment", "+P1M", "+P7D", "fix_payment"],
        "ACTIVE",
        &[4, 6, 5, 1],
    )
    .await;
    // user cancel keeps access until expiry; restore; expiry
    row("pro", &["cancel"], "CANCELED", &[4, 3]).await;
    row("pro", &["cancel", "restore"], "ACTIVE", &[4, 3, 7]).await;
    row("pro", &["cancel", "+P1M"], "EXPIRED", &[4, 3, 13]).await;
    row(
        "pro",
        &["cancel", "restore", "+P1M"],
        "ACTIVE",
        &[4, 3, 7, 2],
    )
    .await;
    // pause: scheduled (11), starts at the renewal date (10), resumes by itself or on demand
    // (1), or goes on hold when the payment on resume fails (5)
    row("pro", &["pause"], "ACTIVE", &[4, 11]).await;
    row("pro", &["pause", "+P1M"], "PAUSED", &[4, 11, 10]).await;
    row("pro", &["pause", "+P1M", "+P1M"], "ACTIVE", &[4, 11, 10, 1]).await;
    row(
        "pro",
        &["pause", "+P1M", "resume"],
        "ACTIVE",
        &[4, 11, 10, 1],
    )
    .await;
    row(
        "pro",
        &["pause", "resume", "+P1M"],
        "ACTIVE",
        &[4, 11, 11, 2],
    )
    .await;
    row(
        "pro",
        &["pause", "+P1M", "decline_payment", "+P1M"],
        "ON_HOLD",
        &[4, 11, 10, 5],
    )
    .await;
    // revoke and forced expiry end access now
    row("pro", &["revoke"], "EXPIRED", &[4, 12]).await;
    row("pro", &["expire"], "EXPIRED", &[4, 13]).await;
    // pending payment: paid, or abandoned
    row("pro", &["pending", "complete"], "ACTIVE", &[4]).await;
    row(
        "pro",
        &["pending", "pending_cancel"],
        "PENDING_PURCHASE_CANCELED",
        &[20],
    )
    .await;
    row("pro", &["pending"], "PENDING", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_answers_carry_the_state_contexts() {
    let h = setup().await;
    let token = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &token)
        .await
        .unwrap();
    let first = h.play.get_subscription_v2(PKG, &token).await.unwrap().raw;
    act(&h, &token, "decline_payment").await;
    advance(&h, "P1M").await;
    let grace = h.play.get_subscription_v2(PKG, &token).await.unwrap().raw;
    assert!(grace["inGracePeriodStateContext"]["renewalDeclined"]["pendingOrderId"].is_string());
    assert!(
        grace["lineItems"][0]["expiryTime"].as_str() > first["lineItems"][0]["expiryTime"].as_str(),
        "expiry is extended through grace"
    );
    advance(&h, "P7D").await;
    let hold = h.play.get_subscription_v2(PKG, &token).await.unwrap().raw;
    assert!(hold["onHoldStateContext"].is_object());
    act(&h, &token, "cancel").await;
    let canceled = h.play.get_subscription_v2(PKG, &token).await.unwrap().raw;
    assert!(
        canceled["canceledStateContext"]["userInitiatedCancellation"]["cancelTime"].is_string()
    );
    assert_eq!(
        canceled["lineItems"][0]["autoRenewingPlan"]["autoRenewEnabled"],
        false
    );

    let paused = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &paused)
        .await
        .unwrap();
    h.control(
        &format!("apps/{PKG}/purchases/{paused}:pause"),
        json!({"duration": "P2W"}),
    )
    .await;
    let (status, _) = h
        .try_control(
            &format!("apps/{PKG}/purchases/{paused}:pause"),
            json!({"duration": "P1Y"}),
        )
        .await;
    assert_eq!(status, 409, "a pause lasts a week to three months");
    advance(&h, "P1M").await;
    let p = h.play.get_subscription_v2(PKG, &paused).await.unwrap().raw;
    assert_eq!(p["subscriptionState"], "SUBSCRIPTION_STATE_PAUSED");
    assert!(p["pausedStateContext"]["autoResumeTime"].is_string());

    let revoked = h.buy(PKG, json!({"product_id": "pro"})).await;
    act(&h, &revoked, "revoke").await;
    let r = h.play.get_subscription_v2(PKG, &revoked).await.unwrap().raw;
    assert_eq!(
        r["canceledStateContext"],
        json!({"developerInitiatedCancellation": {}})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_rows() {
    let h = setup().await;
    let taps = h.taps().await;
    let state = |token: String| {
        let h = &h;
        async move {
            let p = h.play.get_product_v2(PKG, &token).await.unwrap().raw;
            p["purchaseStateContext"]["purchaseState"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let paid = h.buy(PKG, json!({"product_id": "gems"})).await;
    assert_eq!(state(paid.clone()).await, "PURCHASED");
    assert_eq!(h.codes(&paid).await, [1]);

    let later = h
        .buy(PKG, json!({"product_id": "gems", "pending": true}))
        .await;
    assert_eq!(state(later.clone()).await, "PENDING");
    act(&h, &later, "complete").await;
    assert_eq!(state(later.clone()).await, "PURCHASED");
    assert_eq!(
        h.codes(&later).await,
        [1, 1],
        "purchased while pending, then again when paid"
    );

    let never = h
        .buy(PKG, json!({"product_id": "gems", "pending": true}))
        .await;
    act(&h, &never, "pending_cancel").await;
    assert_eq!(state(never.clone()).await, "CANCELLED");
    assert_eq!(h.codes(&never).await, [1, 2]);

    // Delivered as published, by pull and by push.
    let pulled = taps.pull_all(&h).await;
    let pushed = taps.pushed_for(&never, 2).await;
    for (token, codes) in [(&paid, vec![1]), (&later, vec![1, 1]), (&never, vec![1, 2])] {
        assert_eq!(common::codes_for(&pulled, token), codes, "pulled");
        assert_eq!(common::codes_for(&pushed, token), codes, "pushed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_in_time_order_with_google_fields() {
    let h = setup().await;
    let a = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &a)
        .await
        .unwrap();
    advance(&h, "P10D").await;
    let b = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &b)
        .await
        .unwrap();
    act(&h, &b, "decline_payment").await;
    advance(&h, "P3M").await;
    let list = h.notifications().await;
    let times: Vec<i64> = list
        .iter()
        .map(|n| {
            n["notification"]["eventTimeMillis"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "time order: {times:?}"
    );
    for n in &list {
        assert_eq!(n["notification"]["version"], "1.0");
        assert_eq!(n["notification"]["packageName"], PKG);
        assert!(
            n["message_id"]
                .as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_digit())
        );
    }
    assert_eq!(h.codes(&a).await, [4, 2, 2, 2]);
    assert_eq!(h.codes(&b).await, [4, 6, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_control_input_is_4xx_and_changes_nothing() {
    let h = setup().await;
    let token = h.buy(PKG, json!({"product_id": "pro"})).await;
    let before = h.codes(&token).await;
    let cases = [
        (
            format!("apps/{PKG}/purchases/{token}:restore"),
            json!({}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:complete"),
            json!({}),
            409,
        ),
        (format!("apps/{PKG}/purchases/{token}:fly"), json!({}), 404),
        (format!("apps/{PKG}/purchases/nope:cancel"), json!({}), 404),
        (
            format!("apps/other.app/purchases/{token}:cancel"),
            json!({}),
            404,
        ),
        (
            format!("apps/{PKG}/purchases"),
            json!({"product_id": "unknown"}),
            404,
        ),
        (
            format!("apps/{PKG}/purchases"),
            json!({"product_id": "gems", "quantity": 0}),
            400,
        ),
        (
            format!("apps/{PKG}/purchases"),
            json!({"produkt": "gems"}),
            400,
        ),
        (
            format!("apps/{PKG}/products"),
            json!({"product_id": "x", "type": "subscription", "grace_days": 31}),
            400,
        ),
        ("clock:advance".to_owned(), json!({"seconds": -5}), 400),
        ("clock:advance".to_owned(), json!({"duration": "P1X"}), 400),
        (
            "clock:set".to_owned(),
            json!({"time": "2001-01-01T00:00:00Z"}),
            400,
        ),
        ("clock:set".to_owned(), json!({"time": "soon"}), 400),
        (
            format!("apps/{PKG}/purchases/{token}:defer"),
            json!({}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:defer"),
            json!({"duration": "P2Y"}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:price_change"),
            json!({"price_micros": 1}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:confirm_price"),
            json!({}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:add_item"),
            json!({"product_id": "gems"}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:remove_item"),
            json!({"product_id": "pro"}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:top_up"),
            json!({}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:resubscribe"),
            json!({}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:change_plan"),
            json!({"product_id": "nograce", "replacement_mode": "KEEP_EXISTING"}),
            409,
        ),
        (
            format!("apps/{PKG}/purchases/{token}:cancel"),
            json!({"price_micros": "ten"}),
            400,
        ),
        (
            format!("apps/{PKG}/products"),
            json!({"product_id": "x", "type": "one_time", "prepaid": true}),
            400,
        ),
        (
            format!("apps/{PKG}/products"),
            json!({"product_id": "x", "type": "subscription", "installments": 1}),
            400,
        ),
        (
            format!("apps/{PKG}/products"),
            json!({"product_id": "x", "type": "subscription", "price_micros": 1}),
            400,
        ),
    ];
    for (path, body, status) in cases {
        let (got, err) = h.try_control(&path, body.clone()).await;
        assert_eq!(got, status, "{path} {body}: {err}");
        assert!(
            err["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{err}"
        );
    }
    assert_eq!(h.codes(&token).await, before, "nothing published");
    assert_eq!(state(&h, &token).await, "ACTIVE", "nothing changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_changes_and_resignups_issue_linked_tokens() {
    let h = setup().await;
    h.control(
        &format!("apps/{PKG}/products"),
        json!({"product_id": "pro_yearly", "type": "subscription", "billing_period": "P1Y"}),
    )
    .await;
    let sub = |token: String| {
        let h = &h;
        async move { h.play.get_subscription_v2(PKG, &token).await.unwrap().raw }
    };
    let change = |token: String, body: Value| {
        let h = &h;
        async move {
            let r = h
                .control(&format!("apps/{PKG}/purchases/{token}:change_plan"), body)
                .await;
            r["new_purchase_token"].as_str().unwrap().to_owned()
        }
    };

    // Upgrade A -> B, then B -> C: a chain.
    let a = h
        .buy(
            PKG,
            json!({"product_id": "pro", "obfuscated_account_id": "acct-1"}),
        )
        .await;
    h.play
        .acknowledge_subscription(PKG, "pro", &a)
        .await
        .unwrap();
    let b = change(a.clone(), json!({"product_id": "pro_yearly"})).await;
    let got_b = sub(b.clone()).await;
    assert_eq!(got_b["linkedPurchaseToken"], a.as_str());
    assert_eq!(got_b["subscriptionState"], "SUBSCRIPTION_STATE_ACTIVE");
    assert_eq!(got_b["lineItems"][0]["productId"], "pro_yearly");
    assert_eq!(
        got_b["acknowledgementState"], "ACKNOWLEDGEMENT_STATE_PENDING",
        "a new token to acknowledge"
    );
    assert_eq!(
        got_b["externalAccountIdentifiers"]["obfuscatedExternalAccountId"],
        "acct-1"
    );
    let got_a = sub(a.clone()).await;
    assert_eq!(got_a["subscriptionState"], "SUBSCRIPTION_STATE_EXPIRED");
    assert_eq!(
        got_a["canceledStateContext"],
        json!({"replacementCancellation": {}})
    );
    assert_eq!(h.codes(&b).await, [4]);
    assert_eq!(
        h.codes(&a).await,
        [4],
        "nothing more for the replaced token"
    );
    h.play
        .acknowledge_subscription(PKG, "pro_yearly", &b)
        .await
        .unwrap();
    let c = change(b.clone(), json!({"product_id": "pro"})).await;
    assert_eq!(sub(c.clone()).await["linkedPurchaseToken"], b.as_str());

    // Re-signup while canceled but not expired.
    let d = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &d)
        .await
        .unwrap();
    let (status, _) = h
        .try_control(&format!("apps/{PKG}/purchases/{d}:resignup"), json!({}))
        .await;
    assert_eq!(status, 409, "only a canceled subscription can be re-signed");
    act(&h, &d, "cancel").await;
    let r = h
        .control(&format!("apps/{PKG}/purchases/{d}:resignup"), json!({}))
        .await;
    let e = r["new_purchase_token"].as_str().unwrap().to_owned();
    assert_eq!(sub(e.clone()).await["linkedPurchaseToken"], d.as_str());
    assert_eq!(
        sub(d.clone()).await["subscriptionState"],
        "SUBSCRIPTION_STATE_EXPIRED"
    );

    // Impossible changes change nothing.
    for (token, body) in [
        (a.clone(), json!({"product_id": "pro"})),
        (c.clone(), json!({})),
        (c.clone(), json!({"product_id": "gems"})),
        (c.clone(), json!({"product_id": "nope"})),
        (c.clone(), json!({"product_id": "pro", "purchase_token": a})),
    ] {
        let (status, err) = h
            .try_control(
                &format!("apps/{PKG}/purchases/{token}:change_plan"),
                body.clone(),
            )
            .await;
        assert_eq!(status, 409, "{body}: {err}");
    }
    assert_eq!(
        sub(c.clone()).await["subscriptionState"],
        "SUBSCRIPTION_STATE_ACTIVE"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clock_can_be_set_to_a_later_time() {
    let h = setup().await;
    let token = h.buy(PKG, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(PKG, "pro", &token)
        .await
        .unwrap();
    let now = h.control_get("clock").await["now_millis"].as_i64().unwrap();
    let target = playbill_google::observe::format_time(now + 40 * 86_400_000);
    let got = h.control("clock:set", json!({"time": target})).await;
    assert_eq!(got["now"], target.as_str());
    assert_eq!(
        h.codes(&token).await,
        [4, 2],
        "the renewal on the way happened"
    );
}
