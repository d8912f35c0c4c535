//! Conformance of the sandbox to Google's discovery documents (`contracts/*.json`):
//!
//! 1. Every method of androidpublisher v3, Pub/Sub v1 and Cloud Storage v1 is probed at its
//!    contract path (`{rootUrl}{servicePath}{flatPath}`) with its HTTP method. A method is
//!    *served* unless the answer is the router's fallback (404 "Method not found.") or a 405.
//!    The served set must equal the set of methods in [`FIXTURES`]: a newly served method
//!    without a fixture fails, and so does a fixture for a method that is not served.
//! 2. Every fixture sets the sandbox up (control API, or the API's own methods), calls its
//!    method so that it answers 2xx, and the body is validated against the method's
//!    `response` schema ([`schema::Validator`]); methods without a `response` answer nothing
//!    or `{}`, and an answer of `{}` where the schema has fields fails (it checks nothing).
//!    The one exception is a method the contract documents as unsupported
//!    (`monetization.subscriptions.archive`): its fixture expects that Google error.
//! 3. 404s of each API are in Google's error envelope.

mod common;
#[path = "conformance/schema.rs"]
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use playbill_google::{ServiceAccountKey, TokenSource};
use serde_json::{Value, json};

use common::Harness;
use schema::{Validator, Violation, check_error_envelope};

/// The app every androidpublisher fixture uses.
const PKG: &str = "com.example.conformance";
/// The sandbox's GCP project (`common::start`).
const PROJECT: &str = "playbill-tests";
/// The reports bucket the sandbox serves by default.
const BUCKET: &str = "pubsite_prod_rev_01234567890987654321";
/// The regions version the catalog's writes name.
const REGIONS_VERSION: &str = "2022/02";
/// The topic every RTDN goes to; it exists from the start.
const RTDN_TOPIC: &str = "projects/playbill-tests/topics/play-billing";

const ANDROIDPUBLISHER_SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";
const PUBSUB_SCOPE: &str = "https://www.googleapis.com/auth/pubsub";
const STORAGE_READ_SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_only";

// ---------------------------------------------------------------------------------------
// The contracts

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Api {
    AndroidPublisher,
    PubSub,
    Storage,
}

impl Api {
    const ALL: [Api; 3] = [Api::AndroidPublisher, Api::PubSub, Api::Storage];

    fn file(self) -> &'static str {
        match self {
            Api::AndroidPublisher => "androidpublisher.v3.json",
            Api::PubSub => "pubsub.v1.json",
            Api::Storage => "storage.v1.json",
        }
    }

    fn scope(self) -> &'static str {
        match self {
            Api::AndroidPublisher => ANDROIDPUBLISHER_SCOPE,
            Api::PubSub => PUBSUB_SCOPE,
            Api::Storage => STORAGE_READ_SCOPE,
        }
    }

    fn of(method_id: &str) -> Option<Api> {
        Api::ALL
            .into_iter()
            .find(|a| method_id.split('.').next() == a.file().split('.').next())
    }
}

fn contract(api: Api) -> Value {
    let path = format!(
        "{}/../../contracts/{}",
        env!("CARGO_MANIFEST_DIR"),
        api.file()
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// One method of a discovery document.
#[derive(Debug, Clone)]
struct Method {
    api: Api,
    id: String,
    http: String,
    /// `{servicePath}{flatPath}` (or `path` when there is no `flatPath`), placeholders in.
    template: String,
    /// The `response` schema's name; `None`: the method answers no body.
    response: Option<String>,
}

/// Every method of the document, through `resources` at any depth.
fn methods(api: Api, doc: &Value) -> Vec<Method> {
    fn walk(api: Api, service_path: &str, resource: &Value, out: &mut Vec<Method>) {
        if let Some(ms) = resource.get("methods").and_then(Value::as_object) {
            for m in ms.values() {
                let path = m
                    .get("flatPath")
                    .or_else(|| m.get("path"))
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{} has no path", m["id"]));
                out.push(Method {
                    api,
                    id: m["id"].as_str().unwrap().to_owned(),
                    http: m["httpMethod"].as_str().unwrap().to_owned(),
                    template: format!("{service_path}{path}"),
                    response: m["response"]["$ref"].as_str().map(str::to_owned),
                });
            }
        }
        if let Some(rs) = resource.get("resources").and_then(Value::as_object) {
            for r in rs.values() {
                walk(api, service_path, r, out);
            }
        }
    }
    let service_path = doc["servicePath"].as_str().unwrap_or("");
    let mut out = Vec::new();
    walk(api, service_path, doc, &mut out);
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// RFC 6570 expansion of the `{name}` / `{+name}` placeholders of a path template.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("unclosed placeholder in {template}"))?
            + open;
        let inner = &rest[open + 1..close];
        let (reserved, name) = match inner.strip_prefix('+') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        let v = value(name).ok_or_else(|| format!("no value for {{{inner}}} of {template}"))?;
        out.push_str(&encode(&v, reserved));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Percent-encodes all but the unreserved characters (and, for `{+name}`, the reserved ones).
fn encode(v: &str, reserved: bool) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~".contains(&b)
            || (reserved && b":/?#[]@!$&'()*+,;=".contains(&b));
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Calling the sandbox

/// A request to one method: its path parameters, query and JSON body.
#[derive(Debug, Default)]
struct Call {
    params: Vec<(&'static str, String)>,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    /// A probe: path parameters not given are `probe`.
    probe: bool,
    /// The method's documented answer to this call is this Google error (HTTP status,
    /// `errors[0].reason`), not a 2xx.
    expect_error: Option<(u16, &'static str)>,
}

impl Call {
    fn new() -> Self {
        Self::default()
    }
    fn probe() -> Self {
        Self {
            probe: true,
            ..Self::default()
        }
    }
    fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }
    fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }
    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
    /// `regionsVersion.version`, which the catalog's create and patch methods require.
    fn regions_version(self) -> Self {
        self.query("regionsVersion.version", REGIONS_VERSION)
    }
    fn expect_error(mut self, status: u16, reason: &'static str) -> Self {
        self.expect_error = Some((status, reason));
        self
    }
}

/// An answer: status, raw body, and the body as JSON (`Null` when it is not JSON).
#[derive(Debug)]
struct Answer {
    status: u16,
    text: String,
    json: Value,
}

impl Answer {
    /// The router's fallback or an unrouted HTTP method: the method is not served.
    fn not_served(&self) -> bool {
        self.status == 405
            || (self.status == 404 && self.json["error"]["message"] == "Method not found.")
    }

    fn summary(&self) -> String {
        let mut t: String = self.text.chars().take(300).collect();
        if t.len() < self.text.len() {
            t.push('…');
        }
        format!("HTTP {} {t}", self.status)
    }
}

/// A sandbox, a token source per API scope, the contracts, and setup helpers.
struct Ctx {
    h: Harness,
    tokens: BTreeMap<Api, TokenSource>,
    docs: BTreeMap<Api, Value>,
    methods: BTreeMap<String, Method>,
    counter: AtomicUsize,
}

impl Ctx {
    async fn start() -> Self {
        let h = common::start().await;
        let mut tokens = BTreeMap::new();
        let mut docs = BTreeMap::new();
        let mut all = BTreeMap::new();
        for api in Api::ALL {
            let key = ServiceAccountKey::from_file(&h.key_file).unwrap();
            tokens.insert(
                api,
                TokenSource::new(key, &[api.scope()], h.http.clone()).unwrap(),
            );
            let doc = contract(api);
            for m in methods(api, &doc) {
                assert!(all.insert(m.id.clone(), m).is_none(), "duplicate method id");
            }
            docs.insert(api, doc);
        }
        let c = Self {
            h,
            tokens,
            docs,
            methods: all,
            counter: AtomicUsize::new(0),
        };
        for body in [
            json!({"product_id": "gems", "type": "one_time", "price_micros": 2_000_000}),
            json!({"product_id": "pro", "type": "subscription", "price_micros": 5_000_000}),
        ] {
            c.h.control(&format!("apps/{PKG}/products"), body).await;
        }
        c
    }

    /// A name not used before in this sandbox.
    fn unique(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// Calls `m` at its contract path; path parameters are the call's, else the app, the
    /// project or the bucket of these tests (else, for a probe, `probe`).
    async fn send(&self, m: &Method, call: &Call) -> Result<Answer, String> {
        let path = self.path(m, call)?;
        let url = format!("{}/{path}", self.h.base);
        let token = self.tokens[&m.api].token().await.unwrap();
        let method = reqwest::Method::from_bytes(m.http.as_bytes()).unwrap();
        let mut req = self
            .h
            .http
            .request(method, url)
            .bearer_auth(token)
            .query(&call.query);
        if let Some(b) = &call.body {
            req = req.json(b);
        }
        let r = req.send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let text = r.text().await.map_err(|e| e.to_string())?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, text, json })
    }

    /// Calls the method `id` for setup; it must answer 2xx. Returns the JSON body.
    async fn call(&self, id: &str, call: Call) -> Value {
        let m = &self.methods[id];
        let a = self.send(m, &call).await.unwrap();
        assert!(
            (200..300).contains(&a.status),
            "setup call {id} {call:?}: {}",
            a.summary()
        );
        a.json
    }

    /// Buys `product` in [`PKG`]; returns (purchase token, order id).
    async fn buy(&self, product: &str) -> (String, String) {
        let got = self
            .h
            .control(
                &format!("apps/{PKG}/purchases"),
                json!({"product_id": product}),
            )
            .await;
        (
            got["purchase_token"].as_str().unwrap().to_owned(),
            got["order_id"].as_str().unwrap().to_owned(),
        )
    }

    async fn token(&self, product: &str) -> String {
        self.buy(product).await.0
    }

    /// A lifecycle action through the control API.
    async fn action(&self, token: &str, action: &str, body: Value) -> Value {
        self.h
            .control(&format!("apps/{PKG}/purchases/{token}:{action}"), body)
            .await
    }

    /// The billing clock, RFC 3339.
    async fn now(&self) -> String {
        self.h.now().await
    }

    /// The subscription as `purchases.subscriptionsv2.get` shows it.
    async fn subscription_v2(&self, token: &str) -> Value {
        self.call(
            "androidpublisher.purchases.subscriptionsv2.get",
            Call::new().param("token", token),
        )
        .await
    }

    /// A one-time external transaction reported now; returns its id.
    async fn external_transaction(&self) -> String {
        let id = self.unique("ext-");
        let issued = self
            .h
            .control(
                &format!("apps/{PKG}/external-transaction-tokens"),
                json!({}),
            )
            .await;
        let body = json!({
            "originalPreTaxAmount": {"priceMicros": "10000000", "currency": "EUR"},
            "originalTaxAmount": {"priceMicros": "1900000", "currency": "EUR"},
            "transactionTime": self.now().await,
            "userTaxAddress": {"regionCode": "DE"},
            "oneTimeTransaction": {
                "externalTransactionToken": issued["external_transaction_token"]
            }
        });
        self.call(
            "androidpublisher.externaltransactions.createexternaltransaction",
            Call::new()
                .query("externalTransactionId", id.clone())
                .body(body),
        )
        .await;
        id
    }

    /// A new topic; returns its id.
    async fn topic(&self) -> String {
        let topic = self.unique("topic-");
        self.call(
            "pubsub.projects.topics.create",
            Call::new().param("topicsId", topic.clone()).body(json!({})),
        )
        .await;
        topic
    }

    /// A new pull subscription on a new topic holding one published message; returns the
    /// subscription id and the topic id.
    async fn subscription_with_message(&self) -> (String, String) {
        let topic = self.topic().await;
        let sub = self.unique("sub-");
        self.call(
            "pubsub.projects.subscriptions.create",
            Call::new()
                .param("subscriptionsId", sub.clone())
                .body(json!({"topic": format!("projects/{PROJECT}/topics/{topic}")})),
        )
        .await;
        self.call(
            "pubsub.projects.topics.publish",
            Call::new().param("topicsId", topic.clone()).body(json!({
                "messages": [{"data": STANDARD.encode("hello"), "attributes": {"k": "v"}}]
            })),
        )
        .await;
        (sub, topic)
    }

    /// Pulls the message of [`Ctx::subscription_with_message`]; returns its ack id.
    async fn pulled_ack_id(&self, sub: &str) -> String {
        let got = self
            .call(
                "pubsub.projects.subscriptions.pull",
                Call::new()
                    .param("subscriptionsId", sub)
                    .body(json!({"maxMessages": 1, "returnImmediately": true})),
            )
            .await;
        got["receivedMessages"][0]["ackId"]
            .as_str()
            .unwrap_or_else(|| panic!("nothing pulled: {got}"))
            .to_owned()
    }
}

impl Ctx {
    fn path(&self, m: &Method, call: &Call) -> Result<String, String> {
        fill(&m.template, |name| {
            call.params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
                .or_else(|| default_param(m.api, name))
                .or(call.probe.then_some("probe"))
                .map(str::to_owned)
        })
    }
}

/// `t` (RFC 3339) moved by `days`, RFC 3339.
fn shift(t: &str, days: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(t, &Rfc3339).unwrap() + time::Duration::days(days);
    t.format(&Rfc3339).unwrap()
}

/// Path parameters every fixture of an API shares.
fn default_param(api: Api, name: &str) -> Option<&'static str> {
    match (api, name) {
        (Api::AndroidPublisher, "packageName" | "applicationsId") => Some(PKG),
        (Api::PubSub, "projectsId") => Some(PROJECT),
        (Api::Storage, "bucket") => Some(BUCKET),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures: for every served method, how to make it answer 2xx.

type Fut<'a> = Pin<Box<dyn Future<Output = Call> + 'a>>;
type Fixture = for<'a> fn(&'a Ctx) -> Fut<'a>;

/// Method id → fixture. Its keys must be exactly the methods the sandbox serves.
const FIXTURES: &[(&str, Fixture)] = &[
    // purchases
    ("androidpublisher.purchases.products.get", products_get),
    (
        "androidpublisher.purchases.products.acknowledge",
        products_acknowledge,
    ),
    (
        "androidpublisher.purchases.products.consume",
        products_consume,
    ),
    (
        "androidpublisher.purchases.productsv2.getproductpurchasev2",
        productsv2_get,
    ),
    (
        "androidpublisher.purchases.subscriptionsv2.get",
        subscriptionsv2_get,
    ),
    (
        "androidpublisher.purchases.subscriptionsv2.cancel",
        subscriptionsv2_cancel,
    ),
    (
        "androidpublisher.purchases.subscriptionsv2.defer",
        subscriptionsv2_defer,
    ),
    (
        "androidpublisher.purchases.subscriptionsv2.revoke",
        subscriptionsv2_revoke,
    ),
    (
        "androidpublisher.purchases.subscriptions.acknowledge",
        subscriptions_acknowledge,
    ),
    (
        "androidpublisher.purchases.subscriptions.cancel",
        subscriptions_cancel,
    ),
    (
        "androidpublisher.purchases.subscriptions.defer",
        subscriptions_defer,
    ),
    (
        "androidpublisher.purchases.voidedpurchases.list",
        voided_list,
    ),
    // orders
    ("androidpublisher.orders.get", orders_get),
    ("androidpublisher.orders.batchget", orders_batchget),
    ("androidpublisher.orders.refund", orders_refund),
    ("androidpublisher.orders.reviewrefund", orders_reviewrefund),
    // external transactions
    (
        "androidpublisher.externaltransactions.createexternaltransaction",
        external_create,
    ),
    (
        "androidpublisher.externaltransactions.getexternaltransaction",
        external_get,
    ),
    (
        "androidpublisher.externaltransactions.refundexternaltransaction",
        external_refund,
    ),
    // inappproducts
    (
        "androidpublisher.inappproducts.batchDelete",
        inapp_batch_delete,
    ),
    ("androidpublisher.inappproducts.batchGet", inapp_batch_get),
    (
        "androidpublisher.inappproducts.batchUpdate",
        inapp_batch_update,
    ),
    ("androidpublisher.inappproducts.delete", inapp_delete),
    ("androidpublisher.inappproducts.get", inapp_get),
    ("androidpublisher.inappproducts.insert", inapp_insert),
    ("androidpublisher.inappproducts.list", inapp_list),
    ("androidpublisher.inappproducts.patch", inapp_patch),
    ("androidpublisher.inappproducts.update", inapp_update),
    // monetization
    (
        "androidpublisher.monetization.convertRegionPrices",
        convert_region_prices,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.batchDelete",
        otp_batch_delete,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.batchGet",
        otp_batch_get,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.batchUpdate",
        otp_batch_update,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.delete",
        otp_delete,
    ),
    ("androidpublisher.monetization.onetimeproducts.get", otp_get),
    (
        "androidpublisher.monetization.onetimeproducts.list",
        otp_list,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.patch",
        otp_patch,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchDelete",
        options_batch_delete,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchUpdateStates",
        options_batch_update_states,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.activate",
        otp_offer_activate,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchDelete",
        otp_offers_batch_delete,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchGet",
        otp_offers_batch_get,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdate",
        otp_offers_batch_update,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdateStates",
        otp_offers_batch_update_states,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.cancel",
        otp_offer_cancel,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.deactivate",
        otp_offer_deactivate,
    ),
    (
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.list",
        otp_offers_list,
    ),
    (
        "androidpublisher.monetization.subscriptions.archive",
        subs_archive,
    ),
    (
        "androidpublisher.monetization.subscriptions.batchGet",
        subs_batch_get,
    ),
    (
        "androidpublisher.monetization.subscriptions.batchUpdate",
        subs_batch_update,
    ),
    (
        "androidpublisher.monetization.subscriptions.create",
        subs_create,
    ),
    (
        "androidpublisher.monetization.subscriptions.delete",
        subs_delete,
    ),
    ("androidpublisher.monetization.subscriptions.get", subs_get),
    (
        "androidpublisher.monetization.subscriptions.list",
        subs_list,
    ),
    (
        "androidpublisher.monetization.subscriptions.patch",
        subs_patch,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.activate",
        plan_activate,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.batchMigratePrices",
        plans_batch_migrate_prices,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.batchUpdateStates",
        plans_batch_update_states,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.deactivate",
        plan_deactivate,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.delete",
        plan_delete,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.migratePrices",
        plan_migrate_prices,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.activate",
        offer_activate,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.batchGet",
        offers_batch_get,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdate",
        offers_batch_update,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdateStates",
        offers_batch_update_states,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.create",
        offers_create,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.deactivate",
        offer_deactivate,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.delete",
        offer_delete,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.get",
        offer_get,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.list",
        offers_list,
    ),
    (
        "androidpublisher.monetization.subscriptions.basePlans.offers.patch",
        offer_patch,
    ),
    // Pub/Sub
    ("pubsub.projects.topics.create", topics_create),
    ("pubsub.projects.topics.get", topics_get),
    ("pubsub.projects.topics.delete", topics_delete),
    ("pubsub.projects.topics.publish", topics_publish),
    ("pubsub.projects.topics.list", topics_list),
    (
        "pubsub.projects.subscriptions.list",
        pubsub_subscriptions_list,
    ),
    (
        "pubsub.projects.topics.subscriptions.list",
        topic_subscriptions_list,
    ),
    ("pubsub.projects.subscriptions.create", subscriptions_create),
    (
        "pubsub.projects.subscriptions.get",
        pubsub_subscriptions_get,
    ),
    (
        "pubsub.projects.subscriptions.delete",
        pubsub_subscriptions_delete,
    ),
    ("pubsub.projects.subscriptions.pull", pubsub_pull),
    (
        "pubsub.projects.subscriptions.acknowledge",
        pubsub_acknowledge,
    ),
    (
        "pubsub.projects.subscriptions.modifyAckDeadline",
        pubsub_modify_ack_deadline,
    ),
    // Cloud Storage
    ("storage.objects.list", objects_list),
    ("storage.objects.get", objects_get),
];

fn products_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", "gems")
            .param("token", c.token("gems").await)
    })
}

fn products_acknowledge(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", "gems")
            .param("token", c.token("gems").await)
            .body(json!({"developerPayload": "conformance"}))
    })
}

fn products_consume(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", "gems")
            .param("token", c.token("gems").await)
    })
}

fn productsv2_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        // A partly refunded purchase of three, so the answer has its refund details too.
        let got =
            c.h.control(
                &format!("apps/{PKG}/purchases"),
                json!({"product_id": "gems", "quantity": 3, "obfuscated_account_id": "acc"}),
            )
            .await;
        let token = got["purchase_token"].as_str().unwrap().to_owned();
        c.action(&token, "refund", json!({"quantity": 1})).await;
        Call::new().param("token", token)
    })
}

fn subscriptionsv2_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let token = c.token("pro").await;
        c.call(
            "androidpublisher.purchases.subscriptions.acknowledge",
            Call::new()
                .param("subscriptionId", "pro")
                .param("token", token.clone())
                .body(json!({})),
        )
        .await;
        // Canceled by the user: the answer carries the cancellation context.
        c.action(&token, "cancel", json!({})).await;
        Call::new().param("token", token)
    })
}

fn subscriptionsv2_cancel(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new().param("token", c.token("pro").await).body(
            json!({"cancellationContext": {"cancellationType": "USER_REQUESTED_STOP_RENEWALS"}}),
        )
    })
}

fn subscriptionsv2_defer(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let token = c.token("pro").await;
        let etag = c.subscription_v2(&token).await["etag"].clone();
        Call::new()
            .param("token", token)
            .body(json!({"deferralContext": {"deferDuration": "604800s", "etag": etag}}))
    })
}

fn subscriptionsv2_revoke(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("token", c.token("pro").await)
            .body(json!({"revocationContext": {"fullRefund": {}}}))
    })
}

fn subscriptions_acknowledge(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("subscriptionId", "pro")
            .param("token", c.token("pro").await)
            .body(json!({"developerPayload": "conformance"}))
    })
}

fn subscriptions_cancel(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("subscriptionId", "pro")
            .param("token", c.token("pro").await)
    })
}

fn subscriptions_defer(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let token = c.token("pro").await;
        let sub = c.subscription_v2(&token).await;
        let expiry = sub["lineItems"][0]["expiryTime"].as_str().unwrap();
        let expiry =
            time::OffsetDateTime::parse(expiry, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let ms = |t: time::OffsetDateTime| (t.unix_timestamp_nanos() / 1_000_000).to_string();
        Call::new()
            .param("subscriptionId", "pro")
            .param("token", token)
            .body(json!({"deferralInfo": {
                "expectedExpiryTimeMillis": ms(expiry),
                "desiredExpiryTimeMillis": ms(expiry + time::Duration::days(7)),
            }}))
    })
}

fn voided_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        // A refunded subscription and a partly refunded one-time purchase.
        let sub = c.token("pro").await;
        c.action(&sub, "refund", json!({})).await;
        let got =
            c.h.control(
                &format!("apps/{PKG}/purchases"),
                json!({"product_id": "gems", "quantity": 2}),
            )
            .await;
        let gems = got["purchase_token"].as_str().unwrap();
        c.action(gems, "refund", json!({"quantity": 1})).await;
        Call::new()
            .query("type", "1")
            .query("includeQuantityBasedPartialRefund", "true")
    })
}

fn orders_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (_, order) = c.buy("pro").await;
        Call::new().param("orderId", order)
    })
}

fn orders_batchget(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (gems, a) = c.buy("gems").await;
        c.action(&gems, "refund", json!({})).await;
        let (_, b) = c.buy("pro").await;
        Call::new().query("orderIds", a).query("orderIds", b)
    })
}

fn orders_refund(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (_, order) = c.buy("gems").await;
        Call::new().param("orderId", order)
    })
}

fn orders_reviewrefund(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (token, order) = c.buy("gems").await;
        let asked = c.action(&token, "request_refund", json!({})).await;
        let pending = asked["pending_refund_token"].as_str().unwrap().to_owned();
        Call::new().param("orderId", order).body(json!({
            "pendingRefundToken": pending,
            "refundPreference": "NEUTRAL",
            "sampleContentProvided": false,
            "consumptionPercentageMilliunits": 50_000,
        }))
    })
}

fn external_create(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.unique("ext-");
        let body = json!({
            "originalPreTaxAmount": {"priceMicros": "10000000", "currency": "EUR"},
            "originalTaxAmount": {"priceMicros": "1900000", "currency": "EUR"},
            "transactionTime": c.now().await,
            "userTaxAddress": {"regionCode": "DE"},
            "recurringTransaction": {
                "initialExternalTransactionId": id,
                "externalTransactionToken": "token-from-the-billing-library",
                "externalSubscription": {"subscriptionType": "RECURRING"}
            }
        });
        Call::new().query("externalTransactionId", id).body(body)
    })
}

fn external_get(c: &Ctx) -> Fut<'_> {
    Box::pin(
        async move { Call::new().param("externalTransactionsId", c.external_transaction().await) },
    )
}

fn external_refund(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.external_transaction().await;
        Call::new().param("externalTransactionsId", id).body(json!({
            "refundTime": c.now().await,
            "partialRefund": {
                "refundId": "r1",
                "refundPreTaxAmount": {"priceMicros": "4000000", "currency": "EUR"}
            }
        }))
    })
}

fn topics_create(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("topicsId", c.unique("topic-"))
            .body(json!({}))
    })
}

fn topics_get(_: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let topic = RTDN_TOPIC.rsplit('/').next().unwrap();
        Call::new().param("topicsId", topic)
    })
}

fn topics_list(_: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().query("pageSize", "5") })
}

fn pubsub_subscriptions_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        c.subscription_with_message().await;
        Call::new()
    })
}

fn topic_subscriptions_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (_, topic) = c.subscription_with_message().await;
        Call::new().param("topicsId", topic)
    })
}

fn topics_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().param("topicsId", c.topic().await) })
}

fn topics_publish(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("topicsId", c.topic().await)
            .body(json!({"messages": [
                {"data": STANDARD.encode("one"), "orderingKey": "k"},
                {"data": STANDARD.encode("two"), "attributes": {"a": "b"}}
            ]}))
    })
}

fn subscriptions_create(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("subscriptionsId", c.unique("sub-"))
            .body(json!({
                "topic": RTDN_TOPIC,
                "ackDeadlineSeconds": 30,
                "pushConfig": {
                    "pushEndpoint": "http://127.0.0.1:9/push",
                    "oidcToken": {"serviceAccountEmail": "push@playbill-tests.iam.gserviceaccount.com"}
                },
                "retryPolicy": {"minimumBackoff": "1s", "maximumBackoff": "10s"}
            }))
    })
}

fn pubsub_subscriptions_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (sub, _) = c.subscription_with_message().await;
        Call::new().param("subscriptionsId", sub)
    })
}

fn pubsub_subscriptions_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (sub, _) = c.subscription_with_message().await;
        Call::new().param("subscriptionsId", sub)
    })
}

fn pubsub_pull(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (sub, _) = c.subscription_with_message().await;
        Call::new()
            .param("subscriptionsId", sub)
            .body(json!({"maxMessages": 10, "returnImmediately": true}))
    })
}

fn pubsub_acknowledge(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (sub, _) = c.subscription_with_message().await;
        let ack = c.pulled_ack_id(&sub).await;
        Call::new()
            .param("subscriptionsId", sub)
            .body(json!({"ackIds": [ack]}))
    })
}

fn pubsub_modify_ack_deadline(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (sub, _) = c.subscription_with_message().await;
        let ack = c.pulled_ack_id(&sub).await;
        Call::new()
            .param("subscriptionsId", sub)
            .body(json!({"ackIds": [ack], "ackDeadlineSeconds": 60}))
    })
}

fn objects_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        // A charge this month: the month has an earnings and a sales report.
        c.buy("gems").await;
        Call::new()
    })
}

fn objects_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        c.buy("gems").await;
        let listed = c
            .call(
                "storage.objects.list",
                Call::new().query("prefix", "earnings/"),
            )
            .await;
        let name = listed["items"][0]["name"]
            .as_str()
            .unwrap_or_else(|| panic!("no earnings report listed: {listed}"))
            .to_owned();
        Call::new().param("object", name)
    })
}

// ---- catalog bodies and setup

fn usd(units: &str, nanos: i64) -> Value {
    json!({"currencyCode": "USD", "units": units, "nanos": nanos})
}

/// A managed product, `inappproducts` view.
fn in_app_body(sku: &str) -> Value {
    json!({
        "sku": sku,
        "status": "active",
        "defaultLanguage": "en-US",
        "listings": {"en-US": {"title": "Gems", "description": "A bag of gems"}},
        "defaultPrice": {"priceMicros": "990000", "currency": "USD"},
        "prices": {"US": {"priceMicros": "990000", "currency": "USD"}}
    })
}

/// A subscription with one monthly base plan (created DRAFT).
fn subscription_body() -> Value {
    json!({
        "listings": [{"languageCode": "en-US", "title": "Pro", "benefits": ["No ads"],
                      "description": "Everything"}],
        "basePlans": [{
            "basePlanId": "monthly",
            "autoRenewingBasePlanType": {
                "billingPeriodDuration": "P1M",
                "gracePeriodDuration": "P7D",
                "resubscribeState": "RESUBSCRIBE_STATE_ACTIVE",
                "prorationMode": "SUBSCRIPTION_PRORATION_MODE_CHARGE_ON_NEXT_BILLING_DATE"
            },
            "offerTags": [{"tag": "monthly"}],
            "regionalConfigs": [
                {"regionCode": "US", "newSubscriberAvailability": true,
                 "price": usd("4", 990_000_000)},
                {"regionCode": "DE", "newSubscriberAvailability": true,
                 "price": {"currencyCode": "EUR", "units": "4", "nanos": 490_000_000}}
            ],
            "otherRegionsConfig": {
                "usdPrice": usd("4", 990_000_000),
                "eurPrice": {"currencyCode": "EUR", "units": "4", "nanos": 490_000_000},
                "newSubscriberAvailability": true
            }
        }]
    })
}

/// A first-month introductory offer of the `monthly` base plan.
fn subscription_offer_body() -> Value {
    json!({
        "phases": [{
            "duration": "P1M",
            "recurrenceCount": 1,
            "regionalConfigs": [
                {"regionCode": "US", "price": usd("0", 990_000_000)},
                {"regionCode": "DE", "relativeDiscount": 0.5}
            ]
        }],
        "regionalConfigs": [
            {"regionCode": "US", "newSubscriberAvailability": true},
            {"regionCode": "DE", "newSubscriberAvailability": true}
        ],
        "offerTags": [{"tag": "intro"}],
        "targeting": {"acquisitionRule": {"scope": {"thisSubscription": {}}}}
    })
}

/// A one-time product with two buy purchase options, `buy` (legacy compatible) and
/// `extra` (created DRAFT).
fn one_time_product_body(id: &str) -> Value {
    json!({
        "productId": id,
        "packageName": PKG,
        "listings": [{"languageCode": "en-US", "title": "Coins", "description": "100 coins"}],
        "offerTags": [{"tag": "coins"}],
        "purchaseOptions": [
            {
                "purchaseOptionId": "buy",
                "buyOption": {"legacyCompatible": true, "multiQuantityEnabled": true},
                "regionalPricingAndAvailabilityConfigs": [
                    {"regionCode": "US", "price": usd("1", 990_000_000),
                     "availability": "AVAILABLE"}
                ]
            },
            {
                "purchaseOptionId": "extra",
                "buyOption": {"legacyCompatible": false},
                "regionalPricingAndAvailabilityConfigs": [
                    {"regionCode": "US", "price": usd("2", 990_000_000),
                     "availability": "AVAILABLE"}
                ]
            }
        ]
    })
}

/// An offer of the `buy` purchase option: a discount, or a pre-order, from `now` (RFC 3339)
/// for a year.
fn one_time_offer_body(product: &str, offer_id: &str, pre_order: bool, now: &str) -> Value {
    let later = |days| shift(now, days);
    let mut offer = json!({
        "productId": product,
        "purchaseOptionId": "buy",
        "offerId": offer_id,
        "offerTags": [{"tag": "sale"}],
        "regionalPricingAndAvailabilityConfigs": [
            {"regionCode": "US", "relativeDiscount": 0.25, "availability": "AVAILABLE"}
        ]
    });
    if pre_order {
        offer["preOrderOffer"] = json!({
            "startTime": now,
            "endTime": later(365),
            "releaseTime": later(366),
            "priceChangeBehavior": "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_TWO_POINT_LOWEST"
        });
    } else {
        offer["discountedOffer"] = json!({
            "startTime": now,
            "endTime": later(365),
            "redemptionLimit": "1000"
        });
    }
    offer
}

impl Ctx {
    /// A new managed product (`inappproducts.insert`); returns its sku.
    async fn in_app(&self) -> String {
        let sku = self.unique("sku");
        self.call(
            "androidpublisher.inappproducts.insert",
            Call::new().body(in_app_body(&sku)),
        )
        .await;
        sku
    }

    /// A new subscription with a DRAFT `monthly` base plan, ACTIVE if `active`; returns its
    /// product id.
    async fn catalog_subscription(&self, active: bool) -> String {
        let id = self.unique("sub");
        self.call(
            "androidpublisher.monetization.subscriptions.create",
            Call::new()
                .query("productId", id.clone())
                .regions_version()
                .body(subscription_body()),
        )
        .await;
        if active {
            self.call(
                "androidpublisher.monetization.subscriptions.basePlans.activate",
                Call::new()
                    .param("productId", id.clone())
                    .param("basePlanId", "monthly")
                    .body(json!({})),
            )
            .await;
        }
        id
    }

    /// A new DRAFT offer of the subscription's `monthly` base plan; returns its id.
    async fn subscription_offer(&self, product: &str) -> String {
        let offer = self.unique("intro-");
        self.call(
            "androidpublisher.monetization.subscriptions.basePlans.offers.create",
            Call::new()
                .param("productId", product)
                .param("basePlanId", "monthly")
                .query("offerId", offer.clone())
                .regions_version()
                .body(subscription_offer_body()),
        )
        .await;
        offer
    }

    /// A subscription offer's path parameters.
    fn offer_call(product: &str, offer: &str) -> Call {
        Call::new()
            .param("productId", product)
            .param("basePlanId", "monthly")
            .param("offerId", offer)
    }

    /// A new one-time product ([`one_time_product_body`]); returns its id.
    async fn one_time_product(&self) -> String {
        let id = self.unique("otp");
        self.call(
            "androidpublisher.monetization.onetimeproducts.patch",
            Call::new()
                .param("productId", id.clone())
                .query("allowMissing", "true")
                .regions_version()
                .body(one_time_product_body(&id)),
        )
        .await;
        id
    }

    /// A new DRAFT offer of the product's `buy` purchase option; returns its id.
    async fn one_time_offer(&self, product: &str, pre_order: bool) -> String {
        let offer = self.unique("sale-");
        self.call(
            "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdate",
            Call::new()
                .param("productId", product)
                .param("purchaseOptionId", "buy")
                .body(json!({"requests": [{
                    "oneTimeProductOffer":
                        one_time_offer_body(product, &offer, pre_order, &self.now().await),
                    "allowMissing": true,
                    "regionsVersion": {"version": REGIONS_VERSION}
                }]})),
        )
        .await;
        offer
    }

    /// A one-time offer's path parameters.
    fn one_time_offer_call(product: &str, offer: &str) -> Call {
        Call::new()
            .param("productId", product)
            .param("purchaseOptionId", "buy")
            .param("offerId", offer)
    }

    /// A one-time offer's ids, as the batch and state requests name them.
    fn one_time_offer_ids(product: &str, offer: &str) -> Value {
        json!({"packageName": PKG, "productId": product, "purchaseOptionId": "buy",
               "offerId": offer})
    }
}

// ---- inappproducts

fn inapp_batch_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (a, b) = (c.in_app().await, c.in_app().await);
        Call::new().body(json!({"requests": [
            {"sku": a, "packageName": PKG}, {"sku": b, "packageName": PKG}
        ]}))
    })
}

fn inapp_batch_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let (a, b) = (c.in_app().await, c.in_app().await);
        Call::new().query("sku", a).query("sku", b)
    })
}

fn inapp_batch_update(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let old = c.in_app().await;
        let new = c.unique("sku");
        let mut changed = in_app_body(&old);
        changed["listings"]["de-DE"] = json!({"title": "Edelsteine", "description": "Ein Beutel"});
        Call::new().body(json!({"requests": [
            {"sku": old, "packageName": PKG, "inappproduct": changed},
            {"sku": new, "packageName": PKG, "allowMissing": true,
             "autoConvertMissingPrices": true, "inappproduct": in_app_body(&new)}
        ]}))
    })
}

fn inapp_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().param("sku", c.in_app().await) })
}

fn inapp_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().param("sku", c.in_app().await) })
}

fn inapp_insert(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .query("autoConvertMissingPrices", "true")
            .body(in_app_body(&c.unique("sku")))
    })
}

fn inapp_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        c.in_app().await;
        Call::new()
    })
}

fn inapp_patch(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("sku", c.in_app().await)
            .body(json!({"listings": {"en-US": {"title": "Shiny gems", "description": "More"}}}))
    })
}

fn inapp_update(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let sku = c.unique("sku");
        Call::new()
            .param("sku", sku.clone())
            .query("allowMissing", "true")
            .query("autoConvertMissingPrices", "true")
            .body(in_app_body(&sku))
    })
}

// ---- monetization.convertRegionPrices and onetimeproducts

fn convert_region_prices(_: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().body(json!({"price": usd("3", 490_000_000)})) })
}

fn otp_batch_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        Call::new().body(json!({"requests": [{"packageName": PKG, "productId": id}]}))
    })
}

fn otp_batch_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        // `gems` was made by the control API: its one-time view is derived.
        Call::new()
            .query("productIds", id)
            .query("productIds", "gems")
    })
}

fn otp_batch_update(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let old = c.one_time_product().await;
        let new = c.unique("otp");
        let mut changed = one_time_product_body(&old);
        changed["listings"][0]["title"] = json!("Gold coins");
        Call::new().body(json!({"requests": [
            {"oneTimeProduct": changed, "updateMask": "listings",
             "regionsVersion": {"version": REGIONS_VERSION}},
            {"oneTimeProduct": one_time_product_body(&new), "allowMissing": true,
             "regionsVersion": {"version": REGIONS_VERSION}}
        ]}))
    })
}

fn otp_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().param("productId", c.one_time_product().await) })
}

fn otp_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        c.one_time_offer(&id, false).await;
        Call::new().param("productId", id)
    })
}

fn otp_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        c.one_time_product().await;
        Call::new().query("pageSize", "100")
    })
}

fn otp_patch(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        Call::new()
            .param("productId", id)
            .query("updateMask", "listings")
            .regions_version()
            .body(json!({"listings": [
                {"languageCode": "en-US", "title": "Gold coins", "description": "100 gold coins"}
            ]}))
    })
}

fn options_batch_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        Call::new()
            .param("productId", id.clone())
            .body(json!({"requests": [
                {"packageName": PKG, "productId": id, "purchaseOptionId": "extra"}
            ]}))
    })
}

fn options_batch_update_states(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        Call::new()
            .param("productId", id.clone())
            .body(json!({"requests": [
                {"activatePurchaseOptionRequest":
                    {"packageName": PKG, "productId": id, "purchaseOptionId": "buy"}}
            ]}))
    })
}

fn otp_offer_activate(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let offer = c.one_time_offer(&id, false).await;
        Ctx::one_time_offer_call(&id, &offer).body(Ctx::one_time_offer_ids(&id, &offer))
    })
}

fn otp_offers_batch_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let offer = c.one_time_offer(&id, false).await;
        Call::new()
            .param("productId", id.clone())
            .param("purchaseOptionId", "buy")
            .body(json!({"requests": [Ctx::one_time_offer_ids(&id, &offer)]}))
    })
}

fn otp_offers_batch_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let a = c.one_time_offer(&id, false).await;
        let b = c.one_time_offer(&id, true).await;
        Call::new()
            .param("productId", id.clone())
            .param("purchaseOptionId", "buy")
            .body(json!({"requests": [
                Ctx::one_time_offer_ids(&id, &a), Ctx::one_time_offer_ids(&id, &b)
            ]}))
    })
}

fn otp_offers_batch_update(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let old = c.one_time_offer(&id, false).await;
        let new = c.unique("sale-");
        let now = c.now().await;
        let mut changed = one_time_offer_body(&id, &old, false, &now);
        changed["offerTags"] = json!([{"tag": "spring"}]);
        Call::new()
            .param("productId", id.clone())
            .param("purchaseOptionId", "buy")
            .body(json!({"requests": [
                {"oneTimeProductOffer": changed, "updateMask": "offerTags",
                 "regionsVersion": {"version": REGIONS_VERSION}},
                {"oneTimeProductOffer": one_time_offer_body(&id, &new, true, &now),
                 "allowMissing": true, "regionsVersion": {"version": REGIONS_VERSION}}
            ]}))
    })
}

fn otp_offers_batch_update_states(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let sale = c.one_time_offer(&id, false).await;
        let pre = c.one_time_offer(&id, true).await;
        Call::new()
            .param("productId", id.clone())
            .param("purchaseOptionId", "buy")
            .body(json!({"requests": [
                {"activateOneTimeProductOfferRequest": Ctx::one_time_offer_ids(&id, &sale)},
                {"cancelOneTimeProductOfferRequest": Ctx::one_time_offer_ids(&id, &pre)}
            ]}))
    })
}

fn otp_offer_cancel(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let offer = c.one_time_offer(&id, true).await;
        Ctx::one_time_offer_call(&id, &offer)
    })
}

fn otp_offer_deactivate(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        let offer = c.one_time_offer(&id, false).await;
        c.call(
            "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.activate",
            Ctx::one_time_offer_call(&id, &offer),
        )
        .await;
        Ctx::one_time_offer_call(&id, &offer).body(json!({}))
    })
}

fn otp_offers_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.one_time_product().await;
        c.one_time_offer(&id, false).await;
        c.one_time_offer(&id, true).await;
        Call::new()
            .param("productId", id)
            .param("purchaseOptionId", "buy")
    })
}

// ---- monetization.subscriptions and base plans

fn subs_archive(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        // Deprecated in the contract: "subscription archiving is not supported".
        Call::new()
            .param("productId", c.catalog_subscription(true).await)
            .body(json!({}))
            .expect_error(400, "failedPrecondition")
    })
}

fn subs_batch_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let a = c.catalog_subscription(true).await;
        // `pro` was made by the control API: its catalog view is derived.
        Call::new()
            .query("productIds", a)
            .query("productIds", "pro")
    })
}

fn subs_batch_update(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(false).await;
        Call::new().body(json!({"requests": [{
            "subscription": {"productId": id, "packageName": PKG,
                             "listings": [{"languageCode": "en-US", "title": "Pro+"}]},
            "updateMask": "listings",
            "regionsVersion": {"version": REGIONS_VERSION}
        }]}))
    })
}

fn subs_create(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .query("productId", c.unique("sub"))
            .regions_version()
            .body(subscription_body())
    })
}

fn subs_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().param("productId", c.catalog_subscription(false).await) })
}

fn subs_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move { Call::new().param("productId", c.catalog_subscription(true).await) })
}

fn subs_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        c.catalog_subscription(true).await;
        Call::new().query("pageSize", "100")
    })
}

fn subs_patch(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", c.catalog_subscription(true).await)
            .query("updateMask", "listings")
            .regions_version()
            .body(json!({"listings": [{"languageCode": "en-US", "title": "Changed"}]}))
    })
}

fn plan_activate(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(false).await;
        Call::new()
            .param("productId", id.clone())
            .param("basePlanId", "monthly")
            .body(json!({"packageName": PKG, "productId": id, "basePlanId": "monthly"}))
    })
}

fn plans_batch_migrate_prices(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let since = shift(&c.now().await, -30);
        Call::new()
            .param("productId", id.clone())
            .body(json!({"requests": [{
                "packageName": PKG, "productId": id, "basePlanId": "monthly",
                "regionsVersion": {"version": REGIONS_VERSION},
                "regionalPriceMigrations": [{"regionCode": "US",
                    "oldestAllowedPriceVersionTime": since}]
            }]}))
    })
}

fn plans_batch_update_states(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(false).await;
        Call::new()
            .param("productId", id.clone())
            .body(json!({"requests": [{
                "activateBasePlanRequest": {"packageName": PKG, "productId": id,
                                            "basePlanId": "monthly"}
            }]}))
    })
}

fn plan_deactivate(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", c.catalog_subscription(true).await)
            .param("basePlanId", "monthly")
            .body(json!({}))
    })
}

fn plan_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", c.catalog_subscription(false).await)
            .param("basePlanId", "monthly")
    })
}

fn plan_migrate_prices(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let since = shift(&c.now().await, -30);
        Call::new()
            .param("productId", c.catalog_subscription(true).await)
            .param("basePlanId", "monthly")
            .body(json!({
                "regionsVersion": {"version": REGIONS_VERSION},
                "regionalPriceMigrations": [{"regionCode": "US",
                    "oldestAllowedPriceVersionTime": since,
                    "priceIncreaseType": "PRICE_INCREASE_TYPE_OPT_IN"}]
            }))
    })
}

// ---- monetization.subscriptions.basePlans.offers

fn offer_activate(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Ctx::offer_call(&id, &offer).body(json!({}))
    })
}

fn offers_batch_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Call::new()
            .param("productId", id.clone())
            .param("basePlanId", "monthly")
            .body(json!({"requests": [{"packageName": PKG, "productId": id,
                                        "basePlanId": "monthly", "offerId": offer}]}))
    })
}

fn offers_batch_update(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Call::new()
            .param("productId", id.clone())
            .param("basePlanId", "monthly")
            .body(json!({"requests": [{
                "subscriptionOffer": {"productId": id, "basePlanId": "monthly",
                                      "offerId": offer, "offerTags": [{"tag": "spring"}]},
                "updateMask": "offer_tags",
                "regionsVersion": {"version": REGIONS_VERSION}
            }]}))
    })
}

fn offers_batch_update_states(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Call::new()
            .param("productId", id.clone())
            .param("basePlanId", "monthly")
            .body(json!({"requests": [{"activateSubscriptionOfferRequest": {
                "packageName": PKG, "productId": id, "basePlanId": "monthly", "offerId": offer}}]}))
    })
}

fn offers_create(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        Call::new()
            .param("productId", c.catalog_subscription(true).await)
            .param("basePlanId", "monthly")
            .query("offerId", c.unique("intro-"))
            .regions_version()
            .body(subscription_offer_body())
    })
}

fn offer_deactivate(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        c.call(
            "androidpublisher.monetization.subscriptions.basePlans.offers.activate",
            Ctx::offer_call(&id, &offer).body(json!({})),
        )
        .await;
        Ctx::offer_call(&id, &offer).body(json!({}))
    })
}

fn offer_delete(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Ctx::offer_call(&id, &offer)
    })
}

fn offer_get(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Ctx::offer_call(&id, &offer)
    })
}

fn offers_list(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        c.subscription_offer(&id).await;
        Call::new()
            .param("productId", id)
            .param("basePlanId", "monthly")
    })
}

fn offer_patch(c: &Ctx) -> Fut<'_> {
    Box::pin(async move {
        let id = c.catalog_subscription(true).await;
        let offer = c.subscription_offer(&id).await;
        Ctx::offer_call(&id, &offer)
            .query("updateMask", "offer_tags")
            .regions_version()
            .body(json!({"offerTags": [{"tag": "spring"}]}))
    })
}

// ---------------------------------------------------------------------------------------
// The tests

/// Probes every method of the three contracts; returns the served ones with their answer.
async fn served(c: &Ctx) -> BTreeMap<String, String> {
    let mut served = BTreeMap::new();
    for m in c.methods.values() {
        let mut call = Call::probe();
        if matches!(m.http.as_str(), "POST" | "PUT" | "PATCH") {
            call = call.body(json!({}));
        }
        let path = c.path(m, &call).unwrap();
        let a = c
            .send(m, &call)
            .await
            .unwrap_or_else(|e| panic!("{} at {path}: {e}", m.id));
        if !a.not_served() {
            served.insert(
                m.id.clone(),
                format!("{} /{path} → {}", m.http, a.summary()),
            );
        }
    }
    served
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_methods_are_exactly_those_with_a_fixture() {
    let c = Ctx::start().await;
    let served = served(&c).await;
    let mut report = String::new();
    for api in Api::ALL {
        let mine: Vec<_> = served
            .iter()
            .filter(|(id, _)| Api::of(id) == Some(api))
            .collect();
        let total = c.methods.values().filter(|m| m.api == api).count();
        let _ = writeln!(
            report,
            "{}: {} of {total} methods served",
            api.file(),
            mine.len()
        );
        for (id, answer) in mine {
            let _ = writeln!(report, "  {id}: {answer}");
        }
    }
    println!("{report}");

    let fixtures: BTreeSet<&str> = FIXTURES.iter().map(|(id, _)| *id).collect();
    assert_eq!(fixtures.len(), FIXTURES.len(), "a method has two fixtures");
    let served_ids: BTreeSet<&str> = served.keys().map(String::as_str).collect();
    let mut problems = Vec::new();
    for id in served_ids.difference(&fixtures) {
        problems.push(format!(
            "served but no fixture: {id} (probe: {})",
            served[*id]
        ));
    }
    for id in fixtures.difference(&served_ids) {
        if c.methods.contains_key(*id) {
            problems.push(format!("fixture for a method that is not served: {id}"));
        } else {
            problems.push(format!("fixture for a method not in any contract: {id}"));
        }
    }
    assert!(problems.is_empty(), "{}\n{report}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_answers_per_the_contract() {
    let c = Ctx::start().await;
    let mut problems = Vec::new();
    let mut validated = 0;
    for (id, fixture) in FIXTURES {
        let Some(m) = c.methods.get(*id) else {
            problems.push(format!("{id}: not in any contract"));
            continue;
        };
        let call = fixture(&c).await;
        let a = match c.send(m, &call).await {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("{id}: {e}"));
                continue;
            }
        };
        println!("{id}: {}", a.summary());
        if let Some((status, reason)) = call.expect_error {
            // A method whose documented answer is an error: Google's envelope, as said.
            if a.status != status || a.json["error"]["errors"][0]["reason"] != reason {
                problems.push(format!(
                    "{id}: expected the error {status} {reason}, got {}",
                    a.summary()
                ));
            }
            problems.extend(
                check_error_envelope(&a.json, a.status, true)
                    .into_iter()
                    .map(|v| format!("{id} → error envelope: {v}")),
            );
            validated += 1;
            continue;
        }
        if !(200..300).contains(&a.status) {
            problems.push(format!("{id}: not 2xx: {} ({call:?})", a.summary()));
            continue;
        }
        let violations = match &m.response {
            Some(schema) if a.json.is_null() => vec![Violation {
                path: "$".into(),
                problem: format!("not a JSON body of {schema}: {:?}", a.text),
            }],
            Some(schema) => Validator::new(&c.docs[&m.api]).check_ref(schema, &a.json),
            None if a.text.trim().is_empty() || a.json == json!({}) => Vec::new(),
            None => vec![Violation {
                path: "$".into(),
                problem: format!("the method has no response, but the body is {:?}", a.text),
            }],
        };
        // `{}` validates against any object: a fixture must make the method say something
        // when its answer has fields.
        if let Some(schema) = &m.response
            && a.json == json!({})
            && c.docs[&m.api]["schemas"][schema]["properties"]
                .as_object()
                .is_some_and(|p| !p.is_empty())
        {
            problems.push(format!(
                "{id}: the answer is {{}}, so nothing of {schema} was checked: make the fixture \
                 set up something to answer"
            ));
        }
        validated += 1;
        let schema = m.response.as_deref().unwrap_or("(no response)");
        problems.extend(
            violations
                .into_iter()
                .map(|v| format!("{id} → {schema}: {v}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(validated, FIXTURES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_answers_are_in_googles_error_envelope() {
    let c = Ctx::start().await;
    let cases = [
        (
            "androidpublisher.purchases.productsv2.getproductpurchasev2",
            Call::new().param("token", "no-such-token"),
            true,
        ),
        (
            "androidpublisher.orders.get",
            Call::new().param("orderId", "GPA.0000-0000-0000-00000"),
            true,
        ),
        // Not served: the router's fallback.
        (
            "androidpublisher.edits.get",
            Call::new().param("editId", "probe"),
            true,
        ),
        (
            "pubsub.projects.topics.get",
            Call::new().param("topicsId", "no-such-topic"),
            true,
        ),
        (
            "pubsub.projects.subscriptions.get",
            Call::new().param("subscriptionsId", "no-such-subscription"),
            true,
        ),
        // Cloud Storage's JSON API has no `status` in its envelope.
        (
            "storage.objects.get",
            Call::new().param("object", "earnings/no-such-object.zip"),
            false,
        ),
    ];
    let mut problems = Vec::new();
    for (id, call, status_required) in cases {
        let a = c.send(&c.methods[id], &call).await.unwrap();
        println!("{id}: {}", a.summary());
        if a.status != 404 {
            problems.push(format!("{id}: expected a 404, got {}", a.summary()));
            continue;
        }
        problems.extend(
            check_error_envelope(&a.json, 404, status_required)
                .into_iter()
                .map(|v| format!("{id}: {v} (body {})", a.text)),
        );
        if status_required && a.json["error"]["status"] != "NOT_FOUND" {
            problems.push(format!("{id}: error.status is not NOT_FOUND: {}", a.text));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn placeholders_are_expanded_per_rfc_6570() {
    let got = fill("v1/{+name}/x/{id}:do", |n| {
        Some(if n == "name" { "projects/p q" } else { "a/b c" }.to_owned())
    })
    .unwrap();
    assert_eq!(got, "v1/projects/p%20q/x/a%2Fb%20c:do");
    assert!(fill("a/{missing}", |_| None).is_err());
}

#[test]
fn every_contract_is_walked() {
    for api in Api::ALL {
        let doc = contract(api);
        let ms = methods(api, &doc);
        assert!(ms.len() > 20, "{}: {} methods", api.file(), ms.len());
        for m in &ms {
            assert_eq!(Api::of(&m.id), Some(api), "{}", m.id);
            assert!(!m.template.starts_with('/'), "{}", m.template);
        }
        let prefix = match api {
            Api::AndroidPublisher => "androidpublisher/v3/",
            Api::PubSub => "v1/",
            Api::Storage => "storage/v1/",
        };
        assert!(
            ms.iter().all(|m| m.template.starts_with(prefix)),
            "{}",
            api.file()
        );
    }
}
