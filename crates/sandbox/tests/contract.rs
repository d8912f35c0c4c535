//! Contract test: what the sandbox answers and what the client asks must match Google's
//! discovery document (`contracts/androidpublisher.v3.json`) — every response field exists
//! in the schema with the right JSON type (int64 as strings, enums from the list,
//! google-datetime as RFC 3339), and every method path is the document's `flatPath`.

mod common;

use playbill_google::methods::{self, ANDROIDPUBLISHER_SCOPE};
use serde_json::{Value, json};

fn contract(name: &str) -> Value {
    let path = format!("{}/../../contracts/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn discovery() -> Value {
    contract("androidpublisher.v3.json")
}

fn all_methods(resource: &Value, out: &mut Vec<Value>) {
    if let Some(ms) = resource.get("methods").and_then(Value::as_object) {
        out.extend(ms.values().cloned());
    }
    if let Some(rs) = resource.get("resources").and_then(Value::as_object) {
        for r in rs.values() {
            all_methods(r, out);
        }
    }
}

/// Checks `value` against `schema`; collects every mismatch with its JSON path.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
        let Some(s) = doc["schemas"].get(name) else {
            errors.push(format!("{at}: unknown schema {name}"));
            return;
        };
        return check(doc, s, value, at, errors);
    }
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    let format = schema.get("format").and_then(Value::as_str);
    match (ty, value) {
        ("string", Value::String(s)) => {
            match format {
                Some("int64") | Some("uint64") if s.parse::<i128>().is_err() => {
                    errors.push(format!("{at}: {s:?} is not an {format:?} string"))
                }
                Some("google-datetime") if playbill_google::observe::parse_time(at, s).is_err() => {
                    errors.push(format!("{at}: {s:?} is not RFC 3339"))
                }
                _ => {}
            }
            if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
                && !allowed.iter().any(|a| a == s)
            {
                errors.push(format!("{at}: {s:?} is not one of the enum values"));
            }
        }
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => {}
        ("number", Value::Number(_)) => {}
        ("boolean", Value::Bool(_)) => {}
        ("array", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check(doc, &schema["items"], item, &format!("{at}[{i}]"), errors);
            }
        }
        ("object", Value::Object(map)) => {
            if let Some(extra) = schema.get("additionalProperties") {
                for (k, v) in map {
                    check(doc, extra, v, &format!("{at}.{k}"), errors);
                }
                return;
            }
            let props = schema.get("properties").and_then(Value::as_object);
            for (k, v) in map {
                match props.and_then(|p| p.get(k)) {
                    Some(p) => check(doc, p, v, &format!("{at}.{k}"), errors),
                    None => errors.push(format!("{at}.{k}: not in the schema")),
                }
            }
        }
        _ => errors.push(format!("{at}: expected {ty} ({format:?}), got {value}")),
    }
}

#[test]
fn client_paths_are_the_contracts_flat_paths() {
    let doc = discovery();
    let mut all = Vec::new();
    all_methods(&doc, &mut all);
    for m in methods::ALL {
        let found = all
            .iter()
            .find(|d| d["id"] == m.id)
            .unwrap_or_else(|| panic!("{} is not in the discovery document", m.id));
        assert_eq!(found["flatPath"], m.flat_path, "{}", m.id);
        assert_eq!(found["httpMethod"], m.http_method, "{}", m.id);
        let scopes = found["scopes"].as_array().unwrap();
        assert!(
            scopes.iter().any(|s| s == ANDROIDPUBLISHER_SCOPE),
            "{}",
            m.id
        );
    }
    assert_eq!(doc["rootUrl"], "https://androidpublisher.googleapis.com/");
    assert_eq!(doc["servicePath"], "");
}

#[test]
fn the_checker_catches_mismatches() {
    let doc = discovery();
    let schema = json!({"$ref": "SubscriptionPurchaseV2"});
    let mut errors = Vec::new();
    check(
        &doc,
        &schema,
        &json!({"subscriptionState": "ACTIVE", "startTime": "yesterday", "bogus": 1,
                "lineItems": [{"productId": 5}], "acknowledgementState": "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED"}),
        "$",
        &mut errors,
    );
    assert_eq!(errors.len(), 4, "{errors:#?}");
    let mut errors = Vec::new();
    check(
        &doc,
        &json!({"$ref": "ProductPurchase"}),
        &json!({"purchaseTimeMillis": 15}),
        "$",
        &mut errors,
    );
    assert_eq!(errors.len(), 1, "int64 must be a string: {errors:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sandbox_response_matches_the_contract() {
    let h = common::start().await;
    let play = &h.play;
    let control = |path: String, body: Value| {
        let h = &h;
        async move { h.control(&path, body).await }
    };
    let pkg = "com.example.contract";
    control(
        format!("apps/{pkg}/products"),
        json!({"product_id": "gems", "type": "one_time"}),
    )
    .await;
    control(
        format!("apps/{pkg}/products"),
        json!({"product_id": "pro", "type": "subscription"}),
    )
    .await;
    let buy = |body: Value| {
        let c = control(format!("apps/{pkg}/purchases"), body);
        async move { c.await["purchase_token"].as_str().unwrap().to_owned() }
    };

    let doc = discovery();
    let mut errors = Vec::new();
    let mut checked = 0;
    let one_time = [
        buy(json!({"product_id": "gems"})).await,
        buy(json!({"product_id": "gems", "pending": true})).await,
        buy(
            json!({"product_id": "gems", "quantity": 3, "test_purchase": true,
                   "obfuscated_account_id": "a1", "obfuscated_profile_id": "p1"}),
        )
        .await,
    ];
    play.consume_product(pkg, "gems", &one_time[2])
        .await
        .unwrap();
    for token in &one_time {
        let v2 = play.get_product_v2(pkg, token).await.unwrap().raw;
        check(
            &doc,
            &json!({"$ref": "ProductPurchaseV2"}),
            &v2,
            "ProductPurchaseV2",
            &mut errors,
        );
        let v1 = play.get_product(pkg, "gems", token).await.unwrap().raw;
        check(
            &doc,
            &json!({"$ref": "ProductPurchase"}),
            &v1,
            "ProductPurchase",
            &mut errors,
        );
        checked += 2;
    }
    let subs = [
        buy(json!({"product_id": "pro"})).await,
        buy(json!({"product_id": "pro", "pending": true})).await,
        buy(json!({"product_id": "pro", "test_purchase": true, "obfuscated_account_id": "a1"}))
            .await,
    ];
    play.acknowledge_subscription(pkg, "pro", &subs[0])
        .await
        .unwrap();
    control(
        format!("apps/{pkg}/purchases/{}:cancel", subs[2]),
        json!({}),
    )
    .await;
    // As bought, then after 40 days: renewed, or expired after the cancel.
    for advance in [None, Some("P40D")] {
        if let Some(d) = advance {
            control("clock:advance".into(), json!({"duration": d})).await;
        }
        for token in &subs {
            let v2 = play.get_subscription_v2(pkg, token).await.unwrap().raw;
            let schema = json!({"$ref": "SubscriptionPurchaseV2"});
            check(&doc, &schema, &v2, "SubscriptionPurchaseV2", &mut errors);
            checked += 1;
        }
    }
    // Voided purchases: a partial refund (the auto-refunds of the unacknowledged ones happened
    // 40 days ago, outside the default 30-day window).
    control(
        format!("apps/{pkg}/purchases/{}:refund", one_time[2]),
        json!({"quantity": 1}),
    )
    .await;
    let voided = play
        .list_voided(
            pkg,
            &[
                ("type", "1".into()),
                ("includeQuantityBasedPartialRefund", "true".into()),
            ],
        )
        .await
        .unwrap()
        .raw;
    assert!(
        voided["voidedPurchases"]
            .as_array()
            .is_some_and(|v| v.len() == 1),
        "{voided}"
    );
    let schema = json!({"$ref": "VoidedPurchasesListResponse"});
    check(
        &doc,
        &schema,
        &voided,
        "VoidedPurchasesListResponse",
        &mut errors,
    );
    checked += 1;
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(checked, 13);
}

/// The Pub/Sub methods the sandbox serves, with the route it registers for each.
const PUBSUB_ROUTES: &[(&str, &str, &str)] = &[
    (
        "pubsub.projects.topics.create",
        "PUT",
        "v1/projects/{project}/topics/{topic}",
    ),
    (
        "pubsub.projects.topics.get",
        "GET",
        "v1/projects/{project}/topics/{topic}",
    ),
    (
        "pubsub.projects.topics.delete",
        "DELETE",
        "v1/projects/{project}/topics/{topic}",
    ),
    (
        "pubsub.projects.topics.publish",
        "POST",
        "v1/projects/{project}/topics/{topic}:publish",
    ),
    (
        "pubsub.projects.subscriptions.create",
        "PUT",
        "v1/projects/{project}/subscriptions/{subscription}",
    ),
    (
        "pubsub.projects.subscriptions.get",
        "GET",
        "v1/projects/{project}/subscriptions/{subscription}",
    ),
    (
        "pubsub.projects.subscriptions.delete",
        "DELETE",
        "v1/projects/{project}/subscriptions/{subscription}",
    ),
    (
        "pubsub.projects.subscriptions.pull",
        "POST",
        "v1/projects/{project}/subscriptions/{subscription}:pull",
    ),
    (
        "pubsub.projects.subscriptions.acknowledge",
        "POST",
        "v1/projects/{project}/subscriptions/{subscription}:acknowledge",
    ),
    (
        "pubsub.projects.subscriptions.modifyAckDeadline",
        "POST",
        "v1/projects/{project}/subscriptions/{subscription}:modifyAckDeadline",
    ),
];

#[test]
fn pubsub_routes_are_the_contracts_flat_paths() {
    let doc = contract("pubsub.v1.json");
    let mut all = Vec::new();
    all_methods(&doc, &mut all);
    // The contract names parameters {projectsId}, {topicsId}, {subscriptionsId}.
    let normalise = |p: &str| {
        p.replace("{projectsId}", "{project}")
            .replace("{topicsId}", "{topic}")
            .replace("{subscriptionsId}", "{subscription}")
    };
    for (id, http, route) in PUBSUB_ROUTES {
        let m = all
            .iter()
            .find(|m| m["id"] == *id)
            .unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(normalise(m["flatPath"].as_str().unwrap()), *route, "{id}");
        assert_eq!(m["httpMethod"], *http, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubsub_answers_match_the_contract() {
    let h = common::start().await;
    let doc = contract("pubsub.v1.json");
    let v1 = |method: reqwest::Method, path: &str, body: Value| {
        let req = h
            .http
            .request(method, format!("{}/v1/{path}", h.base))
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success());
            r.json::<Value>().await.unwrap()
        }
    };
    let topic = "projects/playbill-tests/topics/play-billing";
    let mut errors = Vec::new();
    let sub = v1(
        reqwest::Method::PUT,
        "projects/playbill-tests/subscriptions/contract",
        json!({"topic": topic}),
    )
    .await;
    check(
        &doc,
        &json!({"$ref": "Subscription"}),
        &sub,
        "Subscription",
        &mut errors,
    );
    let t = v1(reqwest::Method::GET, topic, json!(null)).await;
    check(&doc, &json!({"$ref": "Topic"}), &t, "Topic", &mut errors);
    h.control(
        "apps/com.example.c/products",
        json!({"product_id": "pro", "type": "subscription"}),
    )
    .await;
    h.buy("com.example.c", json!({"product_id": "pro"})).await;
    let pulled = v1(
        reqwest::Method::POST,
        "projects/playbill-tests/subscriptions/contract:pull",
        json!({"maxMessages": 5}),
    )
    .await;
    assert_eq!(pulled["receivedMessages"].as_array().map(Vec::len), Some(1));
    check(
        &doc,
        &json!({"$ref": "PullResponse"}),
        &pulled,
        "PullResponse",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:#?}");
}
