//! `externaltransactions` (alternative billing): create, get and refund as Google answers
//! them, the rules that make Google refuse a report, and the control API's listing.

use playbill_google::methods::ANDROIDPUBLISHER_SCOPE;
use playbill_google::storage::DEVSTORAGE_READ_ONLY_SCOPE;
mod common;

use common::Harness;
use serde_json::{Value, json};

const PKG: &str = "com.example.external";

struct Env {
    h: Harness,
    token: String,
}

impl std::ops::Deref for Env {
    type Target = Harness;
    fn deref(&self) -> &Harness {
        &self.h
    }
}

async fn start() -> Env {
    let h = common::start().await;
    Env {
        token: h.token_for(&[ANDROIDPUBLISHER_SCOPE]).await,
        h,
    }
}

impl Env {
    fn url(&self, rest: &str) -> String {
        format!(
            "{}/androidpublisher/v3/applications/{PKG}/externalTransactions{rest}",
            self.base
        )
    }

    async fn answer(r: reqwest::RequestBuilder) -> (u16, Value) {
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, id: &str, body: &Value) -> (u16, Value) {
        Self::answer(
            self.http
                .post(self.url(""))
                .query(&[("externalTransactionId", id)])
                .bearer_auth(&self.token)
                .json(body),
        )
        .await
    }

    async fn get(&self, id: &str) -> (u16, Value) {
        Self::answer(
            self.http
                .get(self.url(&format!("/{id}")))
                .bearer_auth(&self.token),
        )
        .await
    }

    async fn refund(&self, id: &str, body: &Value) -> (u16, Value) {
        Self::answer(
            self.http
                .post(self.url(&format!("/{id}:refund")))
                .bearer_auth(&self.token)
                .json(body),
        )
        .await
    }

    async fn issue_token(&self, test: bool) -> String {
        let r = self
            .http
            .post(format!(
                "{}/sandbox/v1/apps/{PKG}/external-transaction-tokens",
                self.base
            ))
            .json(&json!({"test_purchase": test}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.unwrap();
        v["external_transaction_token"].as_str().unwrap().to_owned()
    }

    async fn listed(&self) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!(
                "{}/sandbox/v1/apps/{PKG}/external-transactions",
                self.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["external_transactions"].as_array().unwrap().clone()
    }
}

fn eur(micros: i64) -> Value {
    json!({"priceMicros": micros.to_string(), "currency": "EUR"})
}

/// A one-time transaction of 10.00 + 2.00 EUR tax in Germany.
fn one_time(token: &str, time: &str) -> Value {
    json!({
        "originalPreTaxAmount": eur(10_000_000),
        "originalTaxAmount": eur(2_000_000),
        "transactionTime": time,
        "userTaxAddress": {"regionCode": "DE"},
        "oneTimeTransaction": {"externalTransactionToken": token}
    })
}

fn recurring(initial: &str, token: Option<&str>, time: &str) -> Value {
    let mut r = json!({
        "initialExternalTransactionId": initial,
        "externalSubscription": {"subscriptionType": "RECURRING"}
    });
    if let Some(t) = token {
        r["externalTransactionToken"] = json!(t);
    }
    json!({
        "originalPreTaxAmount": eur(4_990_000),
        "originalTaxAmount": eur(950_000),
        "transactionTime": time,
        "userTaxAddress": {"regionCode": "KR"},
        "recurringTransaction": r
    })
}

fn reason(v: &Value) -> &str {
    v["error"]["errors"][0]["reason"].as_str().unwrap_or("")
}

/// Checks a response against the contract's `ExternalTransaction` schema: known fields
/// only, enum values from the list, `google-datetime` as RFC 3339.
fn check_contract(v: &Value) {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../contracts/androidpublisher.v3.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    fn walk(doc: &Value, schema: &Value, v: &Value, at: &str) {
        if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
            return walk(doc, &doc["schemas"][name], v, at);
        }
        match v {
            Value::Object(map) => {
                let props = schema["properties"].as_object();
                for (k, x) in map {
                    let p = props
                        .and_then(|p| p.get(k))
                        .unwrap_or_else(|| panic!("{at}.{k} is not in the contract"));
                    walk(doc, p, x, &format!("{at}.{k}"));
                }
            }
            Value::String(s) => {
                if let Some(allowed) = schema["enum"].as_array() {
                    assert!(allowed.iter().any(|a| a == s), "{at}: {s}");
                }
                if schema["format"] == "google-datetime" {
                    playbill_google::observe::parse_time(at, s).unwrap();
                }
                assert_eq!(schema["type"], "string", "{at}");
            }
            Value::Number(_) => assert_eq!(schema["type"], "integer", "{at}"),
            other => panic!("{at}: unexpected {other}"),
        }
    }
    walk(
        &doc,
        &json!({"$ref": "ExternalTransaction"}),
        v,
        "ExternalTransaction",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_create_get_and_full_refund() {
    let env = start().await;
    let now = env.now().await;
    let token = env.issue_token(false).await;
    let (status, created) = env.create("order-1", &one_time(&token, &now)).await;
    assert_eq!(status, 200, "{created}");
    check_contract(&created);
    assert_eq!(created["packageName"], PKG);
    assert_eq!(created["externalTransactionId"], "order-1");
    assert_eq!(created["transactionState"], "TRANSACTION_REPORTED");
    assert_eq!(created["currentPreTaxAmount"], eur(10_000_000));
    assert_eq!(created["currentTaxAmount"], eur(2_000_000));
    assert_eq!(created["originalPreTaxAmount"], eur(10_000_000));
    assert_eq!(created["userTaxAddress"]["regionCode"], "DE");
    // The token is input only.
    assert_eq!(created["oneTimeTransaction"], json!({}));
    assert!(created.get("testPurchase").is_none());
    assert!(created["createTime"].is_string());
    assert_eq!(
        playbill_google::observe::parse_time("t", created["transactionTime"].as_str().unwrap())
            .unwrap(),
        playbill_google::observe::parse_time("t", &now).unwrap()
    );
    let (status, got) = env.get("order-1").await;
    assert_eq!(status, 200);
    assert_eq!(got, created);

    let (status, refunded) = env
        .refund(
            "order-1",
            &json!({"refundTime": env.now().await, "fullRefund": {}}),
        )
        .await;
    assert_eq!(status, 200, "{refunded}");
    check_contract(&refunded);
    assert_eq!(refunded["transactionState"], "TRANSACTION_CANCELED");
    assert_eq!(refunded["currentPreTaxAmount"], eur(0));
    assert_eq!(refunded["currentTaxAmount"], eur(0));
    assert_eq!(refunded["originalPreTaxAmount"], eur(10_000_000));
    assert_eq!(env.get("order-1").await.1, refunded);

    // Nothing is left to refund.
    for body in [
        json!({"refundTime": env.now().await, "fullRefund": {}}),
        json!({"refundTime": env.now().await,
               "partialRefund": {"refundId": "late", "refundPreTaxAmount": eur(1_000_000)}}),
    ] {
        let (status, e) = env.refund("order-1", &body).await;
        assert_eq!(status, 400, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("fully refunded"),
            "{e}"
        );
    }
    assert_eq!(env.get("order-1").await.1, refunded);

    // Unknown transactions and verbs.
    assert_eq!(env.get("order-2").await.0, 404);
    let (status, e) = env
        .refund(
            "order-2",
            &json!({"refundTime": env.now().await, "fullRefund": {}}),
        )
        .await;
    assert_eq!((status, reason(&e)), (404, "notFound"));
    let r = env
        .http
        .post(env.url("/order-1:cancel"))
        .bearer_auth(&env.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let listed = env.listed().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["transaction"], refunded);
    assert_eq!(listed[0]["refunds"][0]["full"], true);
    assert_eq!(listed[0]["refunds"][0]["pre_tax_micros"], 10_000_000);
    assert_eq!(listed[0]["refunds"][0]["tax_micros"], 2_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_refunds_and_their_limits() {
    let env = start().await;
    let token = env.issue_token(false).await;
    let (status, _) = env
        .create("order-p", &one_time(&token, &env.now().await))
        .await;
    assert_eq!(status, 200);
    let partial = |id: &str, micros: i64, currency: &str| {
        json!({"partialRefund": {"refundId": id,
                                  "refundPreTaxAmount": {"priceMicros": micros.to_string(), "currency": currency}}})
    };
    let with_time = |mut body: Value, time: &str| {
        body["refundTime"] = json!(time);
        body
    };

    let now = env.now().await;
    let (status, first) = env
        .refund("order-p", &with_time(partial("r1", 4_000_000, "EUR"), &now))
        .await;
    assert_eq!(status, 200, "{first}");
    check_contract(&first);
    assert_eq!(first["transactionState"], "TRANSACTION_REPORTED");
    assert_eq!(first["currentPreTaxAmount"], eur(6_000_000));
    // The tax goes down in proportion: 4/10 of 2.00.
    assert_eq!(first["currentTaxAmount"], eur(1_200_000));

    // Refused, and nothing changes: a reused refundId, the whole remainder or more, another
    // currency, zero, both kinds at once, neither, no refundTime, a refundTime in the future.
    let future = "2999-01-01T00:00:00Z";
    let refused = [
        with_time(partial("r1", 1_000_000, "EUR"), &now),
        with_time(partial("r2", 6_000_000, "EUR"), &now),
        with_time(partial("r2", 7_000_000, "EUR"), &now),
        with_time(partial("r2", 1_000_000, "USD"), &now),
        with_time(partial("r2", 0, "EUR"), &now),
        with_time(partial("", 1_000_000, "EUR"), &now),
        with_time(
            json!({"fullRefund": {}, "partialRefund": {"refundId": "r3", "refundPreTaxAmount": eur(1)}}),
            &now,
        ),
        json!({"refundTime": now}),
        partial("r2", 1_000_000, "EUR"),
        with_time(partial("r2", 1_000_000, "EUR"), future),
        with_time(json!({"fullRefund": {}, "reason": "x"}), &now),
    ];
    for body in refused {
        let (status, e) = env.refund("order-p", &body).await;
        assert_eq!(status, 400, "{body}: {e}");
        assert_eq!(e["error"]["status"], "INVALID_ARGUMENT");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(
            env.get("order-p").await.1,
            first,
            "{body} changed the transaction"
        );
    }
    let (_, e) = env
        .refund("order-p", &with_time(partial("r1", 1_000_000, "EUR"), &now))
        .await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("r1"),
        "{e}"
    );
    let (_, e) = env
        .refund("order-p", &with_time(partial("r2", 6_000_000, "EUR"), &now))
        .await;
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("remaining"),
        "{e}"
    );

    // Just below the remainder, then the rest in full.
    let (status, second) = env
        .refund("order-p", &with_time(partial("r2", 5_990_000, "EUR"), &now))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["currentPreTaxAmount"], eur(10_000));
    assert_eq!(second["currentTaxAmount"], eur(2_000));
    let (status, last) = env
        .refund("order-p", &json!({"refundTime": now, "fullRefund": {}}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(last["transactionState"], "TRANSACTION_CANCELED");
    assert_eq!(last["currentTaxAmount"], eur(0));

    let listed = env.listed().await;
    let refunds = listed[0]["refunds"].as_array().unwrap();
    let ids: Vec<&Value> = refunds.iter().map(|r| &r["refund_id"]).collect();
    assert_eq!(ids, vec![&json!("r1"), &json!("r2"), &Value::Null]);
    let pre_tax: i64 = refunds
        .iter()
        .map(|r| r["pre_tax_micros"].as_i64().unwrap())
        .sum();
    let tax: i64 = refunds
        .iter()
        .map(|r| r["tax_micros"].as_i64().unwrap())
        .sum();
    assert_eq!((pre_tax, tax), (10_000_000, 2_000_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recurring_series() {
    let env = start().await;
    let now = env.now().await;
    let token = env.issue_token(false).await;

    // The first transaction needs a token.
    let (status, e) = env.create("sub-1", &recurring("sub-1", None, &now)).await;
    assert_eq!(status, 400, "{e}");
    let (status, initial) = env
        .create("sub-1", &recurring("sub-1", Some(&token), &now))
        .await;
    assert_eq!(status, 200, "{initial}");
    check_contract(&initial);
    assert_eq!(
        initial["recurringTransaction"],
        json!({"initialExternalTransactionId": "sub-1",
               "externalSubscription": {"subscriptionType": "RECURRING"}})
    );

    // A renewal names the initial transaction and has no token.
    let (status, renewal) = env
        .create("sub-1-r1", &recurring("sub-1", None, &now))
        .await;
    assert_eq!(status, 200, "{renewal}");
    check_contract(&renewal);
    assert_eq!(
        renewal["recurringTransaction"]["initialExternalTransactionId"],
        "sub-1"
    );
    assert_eq!(renewal["transactionState"], "TRANSACTION_REPORTED");

    // Refused renewals.
    let cases = [
        ("sub-1-r2", recurring("sub-1", Some(&token), &now)),
        ("sub-1-r2", recurring("sub-9", None, &now)),
        ("sub-1-r2", recurring("sub-1-r1", None, &now)),
        ("sub-1-r2", {
            let mut b = recurring("sub-1", None, &now);
            b["recurringTransaction"]["otherRecurringProduct"] = json!({});
            b
        }),
        ("sub-1-r2", {
            let mut b = recurring("sub-1", None, &now);
            b["recurringTransaction"]["externalSubscription"]["subscriptionType"] = json!("WEEKLY");
            b
        }),
        ("sub-1-r2", {
            let mut b = recurring("sub-1", None, &now);
            b["recurringTransaction"]
                .as_object_mut()
                .unwrap()
                .remove("initialExternalTransactionId");
            b
        }),
    ];
    for (id, body) in cases {
        let (status, e) = env.create(id, &body).await;
        assert_eq!(status, 400, "{body}: {e}");
    }
    assert_eq!(env.get("sub-1-r2").await.0, 404);

    // Another product kind, and a migrated series without a token.
    let mut other = recurring("other-1", Some(&token), &now);
    let r = other["recurringTransaction"].as_object_mut().unwrap();
    r.remove("externalSubscription");
    r.insert("otherRecurringProduct".into(), json!({}));
    let (status, got) = env.create("other-1", &other).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["recurringTransaction"]["otherRecurringProduct"],
        json!({})
    );
    let mut migrated = recurring("mig-1", None, &now);
    migrated["recurringTransaction"]["migratedTransactionProgram"] = json!("USER_CHOICE_BILLING");
    let (status, got) = env.create("mig-1", &migrated).await;
    assert_eq!(status, 200, "{got}");
    assert!(
        got["recurringTransaction"]
            .get("migratedTransactionProgram")
            .is_none()
    );

    // A license tester's series: the initial transaction and its renewals are test purchases.
    let test_token = env.issue_token(true).await;
    let (_, t0) = env
        .create("test-1", &recurring("test-1", Some(&test_token), &now))
        .await;
    assert_eq!(t0["testPurchase"], json!({}));
    let (_, t1) = env
        .create("test-1-r1", &recurring("test-1", None, &now))
        .await;
    assert_eq!(t1["testPurchase"], json!({}));
    check_contract(&t1);

    let ids: Vec<String> = env
        .listed()
        .await
        .iter()
        .map(|t| {
            t["transaction"]["externalTransactionId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids,
        [
            "sub-1",
            "sub-1-r1",
            "other-1",
            "mig-1",
            "test-1",
            "test-1-r1"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_reports() {
    let env = start().await;
    let now = env.now().await;
    let token = env.issue_token(false).await;
    let (status, first) = env.create("dup", &one_time(&token, &now)).await;
    assert_eq!(status, 200);

    // The same id again: 409, the first one stays as it was.
    let mut other = one_time(&token, &now);
    other["originalPreTaxAmount"] = eur(1_000_000);
    let (status, e) = env.create("dup", &other).await;
    assert_eq!((status, reason(&e)), (409, "alreadyExists"), "{e}");
    assert_eq!(e["error"]["status"], "ALREADY_EXISTS");
    assert_eq!(env.get("dup").await.1, first);

    let old = {
        let ms = playbill_google::observe::parse_time("t", &now).unwrap() - 25 * 3_600_000;
        playbill_google::observe::format_time(ms)
    };
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = one_time(&token, &now);
        f(&mut b);
        b
    };
    let cases: Vec<(&str, Value)> = vec![
        (
            "unsupported region",
            with(&|b| b["userTaxAddress"]["regionCode"] = json!("CN")),
        ),
        (
            "lowercase region",
            with(&|b| b["userTaxAddress"]["regionCode"] = json!("de")),
        ),
        ("no region", with(&|b| b["userTaxAddress"] = json!({}))),
        (
            "no address",
            with(&|b| {
                b.as_object_mut().unwrap().remove("userTaxAddress");
            }),
        ),
        (
            "India without a state",
            with(&|b| b["userTaxAddress"]["regionCode"] = json!("IN")),
        ),
        (
            "India, unknown state",
            with(&|b| {
                b["userTaxAddress"] = json!({"regionCode": "IN", "administrativeArea": "ATLANTIS"})
            }),
        ),
        (
            "two currencies",
            with(&|b| {
                b["originalTaxAmount"] = json!({"priceMicros": "2000000", "currency": "USD"})
            }),
        ),
        (
            "no tax amount",
            with(&|b| {
                b.as_object_mut().unwrap().remove("originalTaxAmount");
            }),
        ),
        (
            "negative amount",
            with(&|b| b["originalPreTaxAmount"] = eur(-1)),
        ),
        (
            "amount not a number",
            with(&|b| {
                b["originalPreTaxAmount"] = json!({"priceMicros": "9.99", "currency": "EUR"})
            }),
        ),
        (
            "no transaction kind",
            with(&|b| {
                b.as_object_mut().unwrap().remove("oneTimeTransaction");
            }),
        ),
        (
            "both transaction kinds",
            with(&|b| {
                b["recurringTransaction"] = json!({"initialExternalTransactionId": "x",
                                               "otherRecurringProduct": {}})
            }),
        ),
        ("no token", with(&|b| b["oneTimeTransaction"] = json!({}))),
        (
            "more than 24 h ago",
            with(&|b| b["transactionTime"] = json!(old)),
        ),
        (
            "in the future",
            with(&|b| b["transactionTime"] = json!("2999-01-01T00:00:00Z")),
        ),
        (
            "not a time",
            with(&|b| b["transactionTime"] = json!("yesterday")),
        ),
        (
            "no time",
            with(&|b| {
                b.as_object_mut().unwrap().remove("transactionTime");
            }),
        ),
        ("unknown field", with(&|b| b["discount"] = json!(5))),
        (
            "unknown nested field",
            with(&|b| b["userTaxAddress"]["city"] = json!("Berlin")),
        ),
        (
            "wrong type",
            with(&|b| b["oneTimeTransaction"] = json!("yes")),
        ),
        (
            "program code with an external offer",
            with(&|b| {
                b["transactionProgramCode"] = json!(1);
                b["externalOfferDetails"] = json!({"linkType": "LINK_TO_DIGITAL_CONTENT_OFFER"});
            }),
        ),
        (
            "app download without the app",
            with(&|b| b["externalOfferDetails"] = json!({"linkType": "LINK_TO_APP_DOWNLOAD"})),
        ),
        (
            "content link without a type",
            with(&|b| b["externalContentLinkDetails"] = json!({})),
        ),
    ];
    for (what, body) in cases {
        let (status, e) = env.create("refused-1", &body).await;
        assert_eq!(status, 400, "{what}: {e}");
        assert_eq!(e["error"]["code"], 400, "{what}");
        assert!(matches!(reason(&e), "invalid" | "required"), "{what}: {e}");
    }
    let (_, e) = env
        .create(
            "refused-1",
            &with(&|b| b["userTaxAddress"]["regionCode"] = json!("CN")),
        )
        .await;
    assert!(
        e["error"]["message"].as_str().unwrap().contains("CN"),
        "{e}"
    );

    // Bad JSON and bad ids.
    let r = env
        .http
        .post(env.url(""))
        .query(&[("externalTransactionId", "refused-2")])
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body("{\"originalPreTaxAmount\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid JSON")
    );
    for id in ["", "a.b", "user@example.com", &"x".repeat(64)] {
        let (status, e) = env.create(id, &one_time(&token, &now)).await;
        assert_eq!(status, 400, "{id:?}: {e}");
    }
    let (status, _) = env.create(&"x".repeat(63), &one_time(&token, &now)).await;
    assert_eq!(status, 200);
    // India with a state, and an external offers app download naming the app, are fine.
    let mut india = one_time(&token, &now);
    india["userTaxAddress"] = json!({"regionCode": "IN", "administrativeArea": "KARNATAKA"});
    india["externalOfferDetails"] = json!({"linkType": "LINK_TO_APP_DOWNLOAD",
        "installedAppPackage": "com.example.other", "installedAppCategory": "GAME"});
    let (status, got) = env.create("india-1", &india).await;
    assert_eq!(status, 200, "{got}");
    check_contract(&got);

    let ids: Vec<String> = env
        .listed()
        .await
        .iter()
        .map(|t| {
            t["transaction"]["externalTransactionId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids,
        ["dup".to_owned(), "x".repeat(63), "india-1".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_and_quota() {
    let env = start().await;
    let token = env.issue_token(false).await;
    let body = one_time(&token, &env.now().await);
    let post = |bearer: Option<String>| {
        let mut r = env
            .http
            .post(env.url(""))
            .query(&[("externalTransactionId", "auth-1")])
            .json(&body);
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        r
    };
    let (status, e) = Env::answer(post(None)).await;
    assert_eq!((status, reason(&e)), (401, "authError"));
    let storage = env.token_for(&[DEVSTORAGE_READ_ONLY_SCOPE]).await;
    let (status, e) = Env::answer(post(Some(storage))).await;
    assert_eq!((status, reason(&e)), (403, "insufficientPermissions"));
    assert!(env.listed().await.is_empty());

    // The ExternalTransactions bucket: past the per-minute limit, 429.
    let r = env
        .http
        .put(format!("{}/sandbox/v1/quotas", env.base))
        .json(&json!({"per_minute": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (status, _) = Env::answer(post(Some(env.token.clone()))).await;
    assert_eq!(status, 200);
    assert_eq!(env.get("auth-1").await.0, 200);
    assert_eq!(env.get("auth-1").await.0, 200);
    let (status, e) = env.get("auth-1").await;
    assert_eq!((status, reason(&e)), (429, "rateLimitExceeded"));
}
