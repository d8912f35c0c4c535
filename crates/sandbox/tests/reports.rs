//! The Play Console reports bucket over the Cloud Storage JSON API: listing, downloading,
//! the earnings and sales CSVs inside the ZIPs (made from the order ledger), generations,
//! the UTF-16 and renamed-column variants, and Google's errors.

use std::collections::HashMap;
use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use playbill_google::methods::ANDROIDPUBLISHER_SCOPE;
use playbill_google::storage::DEVSTORAGE_READ_ONLY_SCOPE;
mod common;

use common::Harness;
use serde_json::{Value, json};

const PKG: &str = "com.example.reports";
const BUCKET: &str = "pubsite_prod_rev_01234567890987654321";

const EARNINGS_HEADER: &str = "Description,Transaction Date,Transaction Time,Tax Type,Transaction Type,Refund Type,Product Title,Product id,Product Type,Sku Id,Hardware,Buyer Country,Buyer State,Buyer Postal Code,Buyer Currency,Amount (Buyer Currency),Currency Conversion Rate,Merchant Currency,Amount (Merchant Currency),Base Plan ID,Offer ID,Group ID,First USD 1M Eligible,Promotion ID,Coupon Value,Discount Rate,Featured Product ID,Price Experiment ID";
const SALES_HEADER: &str = "Order Number,Order Charged Date,Order Charged Timestamp,Financial Status,Device Model,Product Title,Product ID,Product Type,SKU ID,Currency of Sale,Item Price,Taxes Collected,Charged Amount,City of Buyer,State of Buyer,Postal Code of Buyer,Country of Buyer,Base Plan ID,Offer ID,Group ID,First USD 1M Eligible,Promotion ID,Coupon Value,Discount Rate,Featured Product ID,Price Experiment ID";
const EARNINGS_HEADER_RENAMED: &str = "Description,Transaction Date,Transaction Time,Tax Type,Transaction Type,Refund Type,Product Title,Package ID,Product Type,Sales Channel,SKU ID,Hardware,Buyer Country,Buyer State,Buyer Postal Code,Buyer Currency,Amount (Buyer Currency),Currency Conversion Rate,Merchant Currency,Amount (Merchant Currency),Base Plan ID,Offer ID,Group ID,First USD 1M Eligible,Promotion ID,Coupon Value,Discount Rate,Featured Product ID,Price Experiment ID";
const SALES_HEADER_RENAMED: &str = "Order Number,Order Charged Date,Order Charged Timestamp,Financial Status,Device Model,Product Title,Package ID,Product Type,Sales Channel,SKU ID,Currency of Sale,Item Price,Taxes Collected,Charged Amount,City of Buyer,State of Buyer,Postal Code of Buyer,Country of Buyer,Base Plan or Purchase Option ID,Offer ID,Group ID,First USD 1M Eligible,Promotion ID,Coupon Value,Discount Rate,Featured Product ID,Price Experiment ID";

struct Env {
    h: Harness,
    /// devstorage.read_only
    storage_token: String,
    /// androidpublisher only
    play_token: String,
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
        storage_token: h.token_for(&[DEVSTORAGE_READ_ONLY_SCOPE]).await,
        play_token: h.token_for(&[ANDROIDPUBLISHER_SCOPE]).await,
        h,
    }
}

impl Env {
    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/sandbox/v1/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body
    }

    async fn put_reports(&self, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(format!("{}/sandbox/v1/reports", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn reports_settings(&self) -> Value {
        self.http
            .get(format!("{}/sandbox/v1/reports", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Buys and acknowledges (so no 3-day auto-refund happens when the clock moves).
    async fn buy(&self, body: Value) -> (String, String) {
        let got = self
            .control(&format!("apps/{PKG}/purchases"), body.clone())
            .await;
        let token = got["purchase_token"].as_str().unwrap().to_owned();
        let order = got["order_id"].as_str().unwrap().to_owned();
        let product = body["product_id"].as_str().unwrap();
        let kind = if product == "pro" {
            "subscriptions"
        } else {
            "products"
        };
        let r = self
            .http
            .post(format!(
                "{}/androidpublisher/v3/applications/{PKG}/purchases/{kind}/{product}/tokens/{token}:acknowledge",
                self.base
            ))
            .bearer_auth(&self.play_token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
        (token, order)
    }

    async fn get(&self, path_and_query: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path_and_query}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// Every page of objects.list for `query`: (names, prefixes, number of pages).
    async fn list_all(&self, query: &str) -> (Vec<Value>, Vec<String>, usize) {
        let mut items = Vec::new();
        let mut prefixes = Vec::new();
        let mut page_token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut q = query.to_owned();
            if let Some(t) = &page_token {
                q.push_str(&format!("&pageToken={t}"));
            }
            let r = self
                .get(
                    &format!("/storage/v1/b/{BUCKET}/o?{q}"),
                    Some(&self.storage_token),
                )
                .await;
            assert_eq!(r.status().as_u16(), 200);
            let page: Value = r.json().await.unwrap();
            assert_eq!(page["kind"], "storage#objects");
            check_objects_schema(&page);
            pages += 1;
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            prefixes.extend(
                page["prefixes"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| p.as_str().unwrap().to_owned()),
            );
            match page["nextPageToken"].as_str() {
                Some(t) => page_token = Some(t.to_owned()),
                None => return (items, prefixes, pages),
            }
            assert!(pages < 50, "paging does not end");
        }
    }

    /// Downloads an object (`alt=media`) and checks it against its metadata.
    async fn download(&self, name: &str) -> Vec<u8> {
        let enc = encode(name);
        let meta: Value = self
            .get(
                &format!("/storage/v1/b/{BUCKET}/o/{enc}"),
                Some(&self.storage_token),
            )
            .await
            .json()
            .await
            .unwrap();
        let r = self
            .get(
                &format!("/storage/v1/b/{BUCKET}/o/{enc}?alt=media"),
                Some(&self.storage_token),
            )
            .await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "application/zip");
        assert_eq!(
            r.headers()["x-goog-generation"].to_str().unwrap(),
            meta["generation"].as_str().unwrap()
        );
        let bytes = r.bytes().await.unwrap().to_vec();
        assert_eq!(meta["size"], bytes.len().to_string());
        assert_eq!(meta["md5Hash"], STANDARD.encode(Md5::digest(&bytes)));
        let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(&bytes);
        assert_eq!(meta["crc32c"], STANDARD.encode(crc.to_be_bytes()));
        bytes
    }
}

fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The one file inside a report ZIP: (entry name, bytes).
fn unzip(bytes: &[u8]) -> (String, Vec<u8>) {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.len(), 1);
    let mut f = archive.by_index(0).unwrap();
    let name = f.name().unwrap().into_owned();
    let mut out = Vec::new();
    f.read_to_end(&mut out).unwrap();
    (name, out)
}

/// RFC 4180 records (quoted fields, doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && row.is_empty(), "unterminated last line");
    rows
}

/// Rows as header → value maps.
fn records(text: &str) -> (String, Vec<HashMap<String, String>>) {
    let header_line = text.lines().next().unwrap().to_owned();
    let rows = parse_csv(text);
    let header = rows[0].clone();
    let recs = rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "row {r:?}");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect();
    (header_line, recs)
}

/// Minimal check of an objects.list answer against the storage contract: known fields only,
/// int64/uint64 as decimal strings.
fn check_objects_schema(page: &Value) {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../contracts/storage.v1.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let list_props = doc["schemas"]["Objects"]["properties"].as_object().unwrap();
    for k in page.as_object().unwrap().keys() {
        assert!(list_props.contains_key(k), "Objects has no {k}");
    }
    let obj_props = doc["schemas"]["Object"]["properties"].as_object().unwrap();
    for item in page["items"].as_array().into_iter().flatten() {
        for (k, v) in item.as_object().unwrap() {
            let p = obj_props
                .get(k)
                .unwrap_or_else(|| panic!("Object has no {k}"));
            match p["format"].as_str() {
                Some("int64") | Some("uint64") => {
                    assert!(v.as_str().unwrap().parse::<u64>().is_ok(), "{k}: {v}")
                }
                Some("date-time") => assert!(
                    playbill_google::observe::parse_time(k, v.as_str().unwrap()).is_ok(),
                    "{k}: {v}"
                ),
                _ => assert!(v.is_string(), "{k}: {v}"),
            }
        }
    }
}

/// Products: coins 1.99 USD, gems 2.00 USD, pro 4.99 EUR a month.
async fn setup() -> Env {
    let env = start().await;
    for (id, kind, price, currency) in [
        ("coins", "one_time", 1_990_000, "USD"),
        ("gems", "one_time", 2_000_000, "USD"),
        ("pro", "subscription", 4_990_000, "EUR"),
    ] {
        env.control(
            &format!("apps/{PKG}/products"),
            json!({"product_id": id, "type": kind, "price_micros": price, "currency": currency}),
        )
        .await;
    }
    env
}

struct Orders {
    coins: String,
    gems: String,
    pro: String,
    refunded: String,
    tester: String,
}

/// The purchases of the scenario, all in the first month; then a month passes (one renewal).
async fn scenario(env: &Env) -> Orders {
    let (_, coins) = env.buy(json!({"product_id": "coins"})).await;
    let (gems_token, gems) = env.buy(json!({"product_id": "gems", "quantity": 3})).await;
    env.control(
        &format!("apps/{PKG}/purchases/{gems_token}:refund"),
        json!({"quantity": 1}),
    )
    .await;
    let (_, pro) = env
        .buy(json!({"product_id": "pro", "region_code": "DE"}))
        .await;
    let (refunded_token, refunded) = env.buy(json!({"product_id": "coins"})).await;
    env.control(
        &format!("apps/{PKG}/purchases/{refunded_token}:refund"),
        json!({}),
    )
    .await;
    let (_, tester) = env
        .buy(json!({"product_id": "coins", "test_purchase": true}))
        .await;
    env.control("clock:advance", json!({"duration": "P1M"}))
        .await;
    Orders {
        coins,
        gems,
        pro,
        refunded,
        tester,
    }
}

/// All rows of every file under `prefix` (checking each row's date lies in the file's
/// month), with the header line of the first file.
async fn all_rows(env: &Env, prefix: &str) -> (String, Vec<HashMap<String, String>>) {
    let (items, _, _) = env.list_all(&format!("prefix={prefix}")).await;
    assert!(!items.is_empty());
    let mut header = None;
    let mut all = Vec::new();
    for item in items {
        let name = item["name"].as_str().unwrap().to_owned();
        let (entry, csv) = unzip(&env.download(&name).await);
        // `earnings/earnings_YYYYMM_…` or `sales/salesreport_YYYYMM.zip`
        let ym = name[name.find('_').unwrap() + 1..][..6].to_owned();
        if prefix == "earnings/" {
            assert_eq!(
                name,
                format!("earnings/earnings_{ym}_3141592653589793238-0.zip")
            );
            assert_eq!(entry, format!("PlayApps_{ym}.csv"));
        } else {
            assert_eq!(name, format!("sales/salesreport_{ym}.zip"));
            assert_eq!(entry, format!("salesreport_{ym}.csv"));
        }
        let text = String::from_utf8(csv).unwrap();
        let (h, rows) = records(&text);
        for r in &rows {
            if let Some(d) = r.get("Order Charged Date") {
                assert_eq!(d.replace('-', "")[..6], ym, "{r:?} in {name}");
            } else {
                let month = &r["Transaction Date"][..3];
                let months = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ];
                let m = months.iter().position(|x| *x == month).unwrap() + 1;
                assert_eq!(format!("{m:02}"), ym[4..], "{r:?} in {name}");
                assert!(r["Transaction Date"].ends_with(&ym[..4]));
            }
        }
        header.get_or_insert(h);
        all.extend(rows);
    }
    (header.unwrap(), all)
}

fn rows_of<'a>(
    rows: &'a [HashMap<String, String>],
    order: &str,
) -> Vec<&'a HashMap<String, String>> {
    rows.iter()
        .filter(|r| {
            r.get("Description")
                .or_else(|| r.get("Order Number"))
                .unwrap()
                == order
        })
        .collect()
}

/// (Transaction Type, Refund Type, Amount (Buyer Currency), Amount (Merchant Currency)).
fn money(rows: &[&HashMap<String, String>]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["Transaction Type"].clone(),
                r["Refund Type"].clone(),
                r["Amount (Buyer Currency)"].clone(),
                r["Amount (Merchant Currency)"].clone(),
            )
        })
        .collect()
}

fn m(t: &str, rt: &str, buyer: &str, merchant: &str) -> (String, String, String, String) {
    (t.into(), rt.into(), buyer.into(), merchant.into())
}

fn is_time(s: &str) -> bool {
    let Some((clock, zone)) = s.rsplit_once(' ') else {
        return false;
    };
    let Some((hms, ampm)) = clock.split_once(' ') else {
        return false;
    };
    let parts: Vec<&str> = hms.split(':').collect();
    parts.len() == 3
        && parts[0].parse::<u8>().is_ok_and(|h| (1..=12).contains(&h))
        && parts[1].len() == 2
        && parts[2].len() == 2
        && matches!(ampm, "AM" | "PM")
        && matches!(zone, "PST" | "PDT")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earnings_follow_the_ledger() {
    let env = setup().await;
    let o = scenario(&env).await;
    let (header, rows) = all_rows(&env, "earnings/").await;
    assert_eq!(header, EARNINGS_HEADER);

    // 1.99 USD: tax 10 % (0.19), fee 15 % (0.29).
    assert_eq!(
        money(&rows_of(&rows, &o.coins)),
        vec![
            m("Charge", "", "2.18", "2.18"),
            m("Google fee", "", "-0.29", "-0.29"),
            m("Tax", "", "-0.19", "-0.19"),
        ]
    );
    // 3 × 2.00 USD, one unit refunded.
    assert_eq!(
        money(&rows_of(&rows, &o.gems)),
        vec![
            m("Charge", "", "6.60", "6.60"),
            m("Google fee", "", "-0.90", "-0.90"),
            m("Tax", "", "-0.60", "-0.60"),
            m("Charge refund", "Partial", "-2.20", "-2.20"),
            m("Google fee refund", "Partial", "0.30", "0.30"),
            m("Tax refund", "Partial", "0.20", "0.20"),
        ]
    );
    // Fully refunded: the refund rows cancel the sale.
    assert_eq!(
        money(&rows_of(&rows, &o.refunded)),
        vec![
            m("Charge", "", "2.18", "2.18"),
            m("Google fee", "", "-0.29", "-0.29"),
            m("Tax", "", "-0.19", "-0.19"),
            m("Charge refund", "Full", "-2.18", "-2.18"),
            m("Google fee refund", "Full", "0.29", "0.29"),
            m("Tax refund", "Full", "0.19", "0.19"),
        ]
    );
    // 4.99 EUR a month, converted at 1.08, paid twice: the purchase and renewal `..0`.
    for order in [o.pro.clone(), format!("{}..0", o.pro)] {
        let pro = rows_of(&rows, &order);
        assert_eq!(
            money(&pro),
            vec![
                m("Charge", "", "5.48", "5.92"),
                m("Google fee", "", "-0.74", "-0.80"),
                m("Tax", "", "-0.49", "-0.53"),
            ],
            "{order}"
        );
        for r in &pro {
            assert_eq!(r["Buyer Currency"], "EUR");
            assert_eq!(r["Merchant Currency"], "USD");
            assert_eq!(r["Currency Conversion Rate"], "1.080000");
            assert_eq!(r["Product Type"], "subscription");
            assert_eq!(r["Base Plan ID"], "monthly");
            assert_eq!(r["Buyer Country"], "DE");
        }
        assert_eq!(pro[2]["Tax Type"], "VAT");
    }
    assert!(rows_of(&rows, &format!("{}..1", o.pro)).is_empty());
    // License testers pay nothing: not in the report.
    assert!(rows_of(&rows, &o.tester).is_empty());
    assert_eq!(rows.len(), 3 + 6 + 6 + 3 + 3);

    let coin = rows_of(&rows, &o.coins)[0];
    assert_eq!(coin["Product id"], PKG);
    assert_eq!(coin["Sku Id"], "coins");
    assert_eq!(coin["Product Type"], "inapp");
    assert_eq!(coin["Buyer Country"], "US");
    assert_eq!(coin["Buyer Currency"], "USD");
    assert_eq!(coin["Currency Conversion Rate"], "1.000000");
    assert!(
        is_time(&coin["Transaction Time"]),
        "{}",
        coin["Transaction Time"]
    );
    let date = &coin["Transaction Date"];
    assert!(date.contains(", ") && date.len() >= 11, "{date}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_report_has_charges_and_refunds() {
    let env = setup().await;
    let o = scenario(&env).await;
    let (header, rows) = all_rows(&env, "sales/").await;
    assert_eq!(header, SALES_HEADER);
    let status_and_amounts = |order: &str| -> Vec<(String, String, String, String)> {
        rows_of(&rows, order)
            .iter()
            .map(|r| {
                (
                    r["Financial Status"].clone(),
                    r["Item Price"].clone(),
                    r["Taxes Collected"].clone(),
                    r["Charged Amount"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(
        status_and_amounts(&o.gems),
        vec![
            m("Charged", "6.00", "0.60", "6.60"),
            m("Partial refund", "-2.00", "-0.20", "-2.20"),
        ]
    );
    assert_eq!(
        status_and_amounts(&o.refunded),
        vec![
            m("Charged", "1.99", "0.19", "2.18"),
            m("Refund", "-1.99", "-0.19", "-2.18"),
        ]
    );
    assert_eq!(
        status_and_amounts(&o.coins),
        vec![m("Charged", "1.99", "0.19", "2.18")]
    );
    let renewal = format!("{}..0", o.pro);
    assert_eq!(
        status_and_amounts(&renewal),
        vec![m("Charged", "4.99", "0.49", "5.48")]
    );
    let first = rows_of(&rows, &o.pro)[0];
    let again = rows_of(&rows, &renewal)[0];
    assert_eq!(first["Currency of Sale"], "EUR");
    assert_eq!(first["Base Plan ID"], "monthly");
    assert_eq!(first["Product ID"], PKG);
    assert_eq!(first["SKU ID"], "pro");
    assert_eq!(first["Country of Buyer"], "DE");
    let t0: i64 = first["Order Charged Timestamp"].parse().unwrap();
    let t1: i64 = again["Order Charged Timestamp"].parse().unwrap();
    assert!(
        (28 * 86_400..=31 * 86_400 + 60).contains(&(t1 - t0)),
        "{t0} {t1}"
    );
    assert_ne!(first["Order Charged Date"], again["Order Charged Date"]);
    assert!(rows_of(&rows, &o.tester).is_empty());
    assert_eq!(rows.len(), 1 + 2 + 2 + 1 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_paging_and_generations() {
    let env = setup().await;
    let o = scenario(&env).await;

    // Two months, two files each; directory-style listing.
    let (items, prefixes, _) = env.list_all("delimiter=/").await;
    assert!(items.is_empty());
    assert_eq!(prefixes, vec!["earnings/", "sales/"]);
    let (items, prefixes, pages) = env.list_all("delimiter=/&maxResults=1").await;
    assert!(items.is_empty());
    assert_eq!((prefixes.len(), pages), (2, 2));
    let (items, _, pages) = env.list_all("prefix=earnings/&maxResults=1").await;
    assert_eq!((items.len(), pages), (2, 2));
    let (all, _, _) = env.list_all("prefix=").await;
    assert_eq!(all.len(), 4);
    let names: Vec<&str> = all.iter().map(|i| i["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let (none, _, _) = env.list_all("prefix=stats/").await;
    assert!(none.is_empty());
    for i in &all {
        assert_eq!(i["kind"], "storage#object");
        assert_eq!(i["bucket"], BUCKET);
        assert_eq!(i["contentType"], "application/zip");
        assert_eq!(i["metageneration"], "1");
        assert_eq!(
            i["id"],
            format!(
                "{BUCKET}/{}/{}",
                i["name"].as_str().unwrap(),
                i["generation"].as_str().unwrap()
            )
        );
    }

    // Following mediaLink gives the same bytes as objects.get?alt=media; so does a range.
    let sales_name = names.iter().find(|n| n.starts_with("sales/")).unwrap();
    let item = all.iter().find(|i| i["name"] == *sales_name).unwrap();
    let bytes = env.download(sales_name).await;
    let link = item["mediaLink"].as_str().unwrap();
    assert!(link.starts_with(&env.base));
    let via_link = env
        .get(&link[env.base.len()..], Some(&env.storage_token))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(via_link.to_vec(), bytes);
    let ranged = env
        .http
        .get(link)
        .bearer_auth(&env.storage_token)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(ranged.bytes().await.unwrap().to_vec(), bytes[..10].to_vec());

    // Nothing changed: same generations. A new charge changes this month's files only.
    let generations = |items: &[Value]| -> HashMap<String, String> {
        items
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap().to_owned(),
                    i["generation"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let before = generations(&all);
    let (again, _, _) = env.list_all("prefix=").await;
    assert_eq!(generations(&again), before);
    let (_, late) = env.buy(json!({"product_id": "coins"})).await;
    let (after, _, _) = env.list_all("prefix=").await;
    let after = generations(&after);
    let (this_month, last_month): (Vec<&String>, Vec<&String>) = {
        let mut names: Vec<&String> = before.keys().collect();
        names.sort();
        // Per prefix, the later month sorts last.
        let latest: Vec<&String> = ["earnings/", "sales/"]
            .iter()
            .map(|p| *names.iter().rfind(|n| n.starts_with(p)).unwrap())
            .collect();
        names.into_iter().partition(|n| latest.contains(n))
    };
    for n in &this_month {
        assert!(
            after[*n].parse::<i64>().unwrap() > before[*n].parse::<i64>().unwrap(),
            "{n} did not change generation"
        );
    }
    for n in &last_month {
        assert_eq!(after[*n], before[*n], "{n}");
    }
    // The new order is in the latest earnings file.
    let latest_earnings = this_month
        .iter()
        .find(|n| n.starts_with("earnings/"))
        .unwrap();
    let (_, csv) = unzip(&env.download(latest_earnings).await);
    let (_, rows) = records(&String::from_utf8(csv).unwrap());
    assert_eq!(rows_of(&rows, &late).len(), 3);
    assert_eq!(rows_of(&rows, &format!("{}..0", o.pro)).len(), 3);

    // Preconditions on the generation.
    let name = encode(latest_earnings);
    let g = after[*latest_earnings].clone();
    let r = env
        .get(
            &format!("/storage/v1/b/{BUCKET}/o/{name}?alt=media&ifGenerationMatch={g}"),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let r = env
        .get(
            &format!("/storage/v1/b/{BUCKET}/o/{name}?alt=media&ifGenerationMatch=1"),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 412);
    let r = env
        .get(
            &format!("/storage/v1/b/{BUCKET}/o/{name}?generation=1"),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf16_and_renamed_column_variants() {
    let env = setup().await;
    scenario(&env).await;
    let (items, _, _) = env.list_all("prefix=").await;
    let earnings = items[0]["name"].as_str().unwrap().to_owned();
    let sales = items[2]["name"].as_str().unwrap().to_owned();
    assert!(earnings.starts_with("earnings/") && sales.starts_with("sales/"));
    let (_, utf8) = unzip(&env.download(&earnings).await);
    assert!(utf8.starts_with(b"Description,"));
    let generation = |items: &[Value], name: &str| -> String {
        items.iter().find(|i| i["name"] == name).unwrap()["generation"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let g0 = generation(&items, &earnings);

    let (status, body) = env.put_reports(json!({"utf16": true})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["utf16"], true);
    let (_, utf16) = unzip(&env.download(&earnings).await);
    assert_eq!(&utf16[..2], &[0xFF, 0xFE]);
    let units: Vec<u16> = utf16[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(String::from_utf16(&units).unwrap().as_bytes(), &utf8[..]);
    let (items, _, _) = env.list_all("prefix=").await;
    assert_ne!(
        generation(&items, &earnings),
        g0,
        "new content, new generation"
    );

    let (status, _) = env.put_reports(json!({"renamed_columns": true})).await;
    assert_eq!(status, 200);
    let (_, csv) = unzip(&env.download(&earnings).await);
    let (header, rows) = records(&String::from_utf8(csv).unwrap());
    assert_eq!(header, EARNINGS_HEADER_RENAMED);
    assert!(
        rows.iter()
            .all(|r| r["Package ID"] == PKG && r["Sales Channel"] == "Google Play")
    );
    let (_, csv) = unzip(&env.download(&sales).await);
    let (header, rows) = records(&String::from_utf8(csv).unwrap());
    assert_eq!(header, SALES_HEADER_RENAMED);
    assert!(
        rows.iter()
            .any(|r| r["Base Plan or Purchase Option ID"] == "monthly")
    );

    // Another bucket and payments profile: the old bucket is gone.
    let (status, _) = env
        .put_reports(json!({"bucket": "pubsite_prod_rev_42", "payments_profile_id": "777"}))
        .await;
    assert_eq!(status, 200);
    let r = env
        .get(
            &format!("/storage/v1/b/{BUCKET}/o"),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 404);
    let page: Value = env
        .get(
            "/storage/v1/b/pubsite_prod_rev_42/o?prefix=earnings/",
            Some(&env.storage_token),
        )
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.ends_with("_777-0.zip")), "{names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_as_cloud_storage_gives_them() {
    let env = setup().await;
    env.buy(json!({"product_id": "coins"})).await;

    let reason = |v: &Value| {
        v["error"]["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Unknown bucket, unknown object (name percent-encoded, `/` as %2F).
    let r = env
        .get(
            "/storage/v1/b/pubsite_prod_rev_999/o",
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], 404);
    assert_eq!(reason(&body), "notFound");
    assert_eq!(body["error"]["errors"][0]["domain"], "global");
    let r = env
        .get(
            &format!(
                "/storage/v1/b/{BUCKET}/o/{}",
                encode("earnings/earnings_190001_1-0.zip")
            ),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        format!("No such object: {BUCKET}/earnings/earnings_190001_1-0.zip")
    );
    // A real object: found, by its encoded name only.
    let (items, _, _) = env.list_all("prefix=sales/").await;
    let name = items[0]["name"].as_str().unwrap();
    let r = env
        .get(
            &format!("/storage/v1/b/{BUCKET}/o/{}", encode(name)),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 200);
    let meta: Value = r.json().await.unwrap();
    assert_eq!(meta["name"], name);
    let r = env
        .get(
            &format!("/storage/v1/b/{BUCKET}/o/{name}"),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 404, "an unencoded / is another path");

    // No token, a made-up token: 401. A token without a storage scope: 403.
    let path = format!("/storage/v1/b/{BUCKET}/o");
    let r = env.get(&path, None).await;
    assert_eq!(r.status().as_u16(), 401);
    let r = env.get(&path, Some("ya29.not-a-token")).await;
    assert_eq!(r.status().as_u16(), 401);
    let r = env.get(&path, Some(&env.play_token)).await;
    assert_eq!(r.status().as_u16(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(reason(&body), "insufficientPermissions");
    let r = env
        .get(
            &format!("{path}/{}?alt=media", encode(name)),
            Some(&env.play_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 403);
    // Full control and cloud-platform may read too.
    for scope in [
        "https://www.googleapis.com/auth/devstorage.full_control",
        "https://www.googleapis.com/auth/cloud-platform",
    ] {
        let t = env.token_for(&[scope]).await;
        assert_eq!(
            env.get(&path, Some(&t)).await.status().as_u16(),
            200,
            "{scope}"
        );
    }
    // Bad parameters.
    let r = env
        .get(&format!("{path}?maxResults=many"), Some(&env.storage_token))
        .await;
    assert_eq!(r.status().as_u16(), 400);
    let r = env
        .get(
            &format!("{path}?pageToken=%25%25"),
            Some(&env.storage_token),
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);

    // Bad control input: 400 with a JSON error, settings unchanged.
    let before = env.reports_settings().await;
    for bad in [
        json!({"bucket": "my-bucket"}),
        json!({"bucket": "pubsite_prod_rev_12x"}),
        json!({"payments_profile_id": "abc"}),
        json!({"merchant_currency": "XYZ"}),
        json!({"utf16": "yes"}),
        json!({"colour": "blue"}),
    ] {
        let (status, body) = env.put_reports(bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    assert_eq!(env.reports_settings().await, before);
    assert_eq!(before["bucket"], BUCKET);
}
