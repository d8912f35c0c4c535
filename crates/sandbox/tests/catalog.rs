//! The catalog methods of the Play Developer API, over HTTP: in-app products with paging,
//! subscriptions with base plans and offers and their states, one-time products with
//! purchase options and offers, convertRegionPrices, the tie-in with the control API, the
//! errors Google answers (each leaving the catalog as it was), and price migrations of
//! existing subscribers. (`conformance.rs` checks every catalog method's path and schema.)

mod common;

use serde_json::{Value, json};

const AP: &str = "androidpublisher/v3/applications";
/// `regionsVersion.version=2022/02`, which the create and patch methods require.
const RV: &str = "regionsVersion.version=2022%2F02";

/// Asserts a Google error: HTTP status, canonical `error.status` and `errors[0].reason`.
#[track_caller]
fn expect_error(got: &(u16, Value), status: u16, canonical: &str, reason: &str) {
    let (s, body) = got;
    assert_eq!(*s, status, "{body}");
    assert_eq!(body["error"]["code"], status, "{body}");
    assert_eq!(body["error"]["status"], canonical, "{body}");
    assert_eq!(body["error"]["errors"][0]["reason"], reason, "{body}");
}

#[track_caller]
fn ok(got: (u16, Value)) -> Value {
    assert_eq!(got.0, 200, "{}", got.1);
    got.1
}

fn in_app(sku: &str, title: &str) -> Value {
    json!({
        "sku": sku,
        "defaultLanguage": "en-US",
        "listings": {"en-US": {"title": title, "description": "A bag of gems"}},
        "defaultPrice": {"priceMicros": "990000", "currency": "USD"},
        "prices": {"US": {"priceMicros": "990000", "currency": "USD"}}
    })
}

fn usd(units: &str, nanos: i64) -> Value {
    json!({"currencyCode": "USD", "units": units, "nanos": nanos})
}

fn subscription(title: &str) -> Value {
    json!({
        "listings": [{"languageCode": "en-US", "title": title, "benefits": ["No ads"]}],
        "basePlans": [{
            "basePlanId": "monthly",
            "autoRenewingBasePlanType": {
                "billingPeriodDuration": "P1M",
                "gracePeriodDuration": "P7D",
                "resubscribeState": "RESUBSCRIBE_STATE_ACTIVE"
            },
            "offerTags": [{"tag": "monthly"}],
            "regionalConfigs": [
                {"regionCode": "US", "newSubscriberAvailability": true, "price": usd("4", 990_000_000)},
                {"regionCode": "DE", "newSubscriberAvailability": true,
                 "price": {"currencyCode": "EUR", "units": "4", "nanos": 490_000_000}}
            ]
        }]
    })
}

fn intro_offer() -> Value {
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

fn one_time(title: &str) -> Value {
    json!({
        "listings": [{"languageCode": "en-US", "title": title, "description": "100 coins"}],
        "purchaseOptions": [{
            "purchaseOptionId": "buy",
            "buyOption": {"legacyCompatible": true, "multiQuantityEnabled": true},
            "regionalPricingAndAvailabilityConfigs": [
                {"regionCode": "US", "price": usd("1", 990_000_000), "availability": "AVAILABLE"}
            ]
        }]
    })
}

fn skus(page: &Value) -> Vec<String> {
    page["inappproduct"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| p["sku"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn control_products(h: &common::Harness, pkg: &str) -> Value {
    h.http
        .get(format!("{}/sandbox/v1/apps/{pkg}/products", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn has_product(products: &Value, id: &str) -> bool {
    products["products"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["product_id"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_app_products_insert_get_patch_update_delete_and_page() {
    let h = common::start().await;
    let pkg = "com.example.iap";
    let iap = format!("{AP}/{pkg}/inappproducts");

    let created = ok(h.google("POST", &iap, Some(in_app("gems", "Gems"))).await);
    assert_eq!(created["sku"], "gems");
    assert_eq!(created["packageName"], pkg);
    assert_eq!(created["status"], "active");
    assert_eq!(created["purchaseType"], "managedUser");
    assert_eq!(created["defaultPrice"]["priceMicros"], "990000");
    assert_eq!(
        ok(h.google("GET", &format!("{iap}/gems"), None).await),
        created
    );

    // A second insert of the same sku is a conflict and changes nothing.
    let dup = h.google("POST", &iap, Some(in_app("gems", "Other"))).await;
    expect_error(&dup, 409, "ALREADY_EXISTS", "alreadyExists");
    assert_eq!(
        ok(h.google("GET", &format!("{iap}/gems"), None).await),
        created
    );

    // Patch replaces the fields it carries, and only those.
    let patch = json!({"listings": {"en-US": {"title": "Shiny gems"}}});
    let patched = ok(h.google("PATCH", &format!("{iap}/gems"), Some(patch)).await);
    assert_eq!(patched["listings"]["en-US"]["title"], "Shiny gems");
    assert_eq!(patched["defaultPrice"], created["defaultPrice"]);

    // Update needs the product unless allowMissing; autoConvertMissingPrices fills regions.
    let put = h
        .google("PUT", &format!("{iap}/nope"), Some(in_app("nope", "Nope")))
        .await;
    expect_error(&put, 404, "NOT_FOUND", "notFound");
    let put = ok(h
        .google(
            "PUT",
            &format!("{iap}/nope?allowMissing=true&autoConvertMissingPrices=true"),
            Some(in_app("nope", "Nope")),
        )
        .await);
    assert_eq!(put["prices"]["US"]["priceMicros"], "990000", "{put}");
    assert_eq!(
        put["prices"]["JP"],
        json!({"currency": "JPY", "priceMicros": "164000000"}),
        "0.99 USD at 150 JPY, plus 10% tax: {put}"
    );

    // 100 more in one batch: 102 products, two pages.
    let requests: Vec<Value> = (0..100)
        .map(|i| {
            let sku = format!("bulk.{i:03}");
            json!({"sku": sku, "packageName": pkg, "allowMissing": true,
                   "inappproduct": in_app(&sku, "Bulk")})
        })
        .collect();
    let batch = ok(h
        .google(
            "POST",
            &format!("{iap}:batchUpdate"),
            Some(json!({"requests": requests})),
        )
        .await);
    assert_eq!(batch["inappproducts"].as_array().unwrap().len(), 100);
    let first = ok(h.google("GET", &format!("{iap}?maxResults=5"), None).await);
    assert_eq!(first["kind"], "androidpublisher#inappproductsListResponse");
    assert_eq!(
        skus(&first).len(),
        100,
        "maxResults is deprecated and ignored"
    );
    assert!(
        first.get("pageInfo").is_none(),
        "pageInfo is deprecated and unset"
    );
    let token = first["tokenPagination"]["nextPageToken"].as_str().unwrap();
    let second = ok(h.google("GET", &format!("{iap}?token={token}"), None).await);
    assert!(second.get("tokenPagination").is_none(), "{second}");
    let mut all = skus(&first);
    all.extend(skus(&second));
    assert_eq!(all.len(), 102);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "pages are in sku order, without repeats");
    assert!(all.contains(&"gems".into()) && all.contains(&"nope".into()));

    let got = ok(h
        .google("GET", &format!("{iap}:batchGet?sku=nope&sku=gems"), None)
        .await);
    assert_eq!(skus(&got), ["nope", "gems"], "in the order asked");
    let missing = h
        .google("GET", &format!("{iap}:batchGet?sku=nope&sku=ghost"), None)
        .await;
    expect_error(&missing, 404, "NOT_FOUND", "notFound");

    // Catalog products can be bought through the control API; the one-time view exists.
    let products = control_products(&h, pkg).await;
    assert!(has_product(&products, "gems") && has_product(&products, "bulk.042"));
    let gems = products["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product_id"] == "gems")
        .unwrap();
    assert_eq!(
        (&gems["type"], &gems["price_micros"], &gems["currency"]),
        (&json!("one_time"), &json!(990_000), &json!("USD"))
    );
    let otp = ok(h
        .google("GET", &format!("{AP}/{pkg}/oneTimeProducts/nope"), None)
        .await);
    let option = &otp["purchaseOptions"][0];
    assert_eq!(option["purchaseOptionId"], "legacy-base");
    assert_eq!(option["buyOption"]["legacyCompatible"], true);
    assert_eq!(option["state"], "ACTIVE");
    h.buy(pkg, json!({"product_id": "nope"})).await;

    // Delete: gone from the catalog; from the control API only if nothing was bought.
    let (s, _) = h.google("DELETE", &format!("{iap}/gems"), None).await;
    assert_eq!(s, 204);
    let gone = h.google("GET", &format!("{iap}/gems"), None).await;
    expect_error(&gone, 404, "NOT_FOUND", "notFound");
    let again = h.google("DELETE", &format!("{iap}/gems"), None).await;
    expect_error(&again, 404, "NOT_FOUND", "notFound");
    let (s, _) = h.google("DELETE", &format!("{iap}/nope"), None).await;
    assert_eq!(s, 204);
    let products = control_products(&h, pkg).await;
    assert!(!has_product(&products, "gems"), "{products}");
    assert!(
        has_product(&products, "nope"),
        "a purchase uses it: {products}"
    );

    let deletes = json!({"requests": [{"sku": "bulk.000", "packageName": pkg},
                                      {"sku": "bulk.001", "packageName": pkg}]});
    let (s, _) = h
        .google("POST", &format!("{iap}:batchDelete"), Some(deletes))
        .await;
    assert_eq!(s, 204);
    let rest = ok(h.google("GET", &iap, None).await);
    assert_eq!(skus(&rest).len(), 98);
    assert!(rest.get("tokenPagination").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base_plans_and_offers_go_draft_active_inactive() {
    let h = common::start().await;
    let pkg = "com.example.subs";
    let subs = format!("{AP}/{pkg}/subscriptions");
    let plan = format!("{subs}/pro/basePlans/monthly");

    let created = ok(h
        .google(
            "POST",
            &format!("{subs}?productId=pro&{RV}"),
            Some(subscription("Pro")),
        )
        .await);
    assert_eq!(created["productId"], "pro");
    assert_eq!(created["packageName"], pkg);
    assert_eq!(created["basePlans"][0]["state"], "DRAFT");
    ok(h.google(
        "POST",
        &format!("{subs}?productId=draft.only&{RV}"),
        Some(subscription("Draft")),
    )
    .await);

    let offer = ok(h
        .google(
            "POST",
            &format!("{plan}/offers?offerId=intro&{RV}"),
            Some(intro_offer()),
        )
        .await);
    assert_eq!(offer["state"], "DRAFT");
    assert_eq!(
        (&offer["productId"], &offer["basePlanId"], &offer["offerId"]),
        (&json!("pro"), &json!("monthly"), &json!("intro"))
    );
    let dup = h
        .google(
            "POST",
            &format!("{plan}/offers?offerId=intro&{RV}"),
            Some(intro_offer()),
        )
        .await;
    expect_error(&dup, 409, "ALREADY_EXISTS", "alreadyExists");

    let active = ok(h
        .google("POST", &format!("{plan}:activate"), Some(json!({})))
        .await);
    assert_eq!(active["basePlans"][0]["state"], "ACTIVE");
    let offer = ok(h
        .google("POST", &format!("{plan}/offers/intro:activate"), None)
        .await);
    assert_eq!(offer["state"], "ACTIVE");
    let inactive = ok(h
        .google(
            "POST",
            &format!("{plan}:deactivate"),
            Some(json!({"packageName": pkg, "productId": "pro", "basePlanId": "monthly"})),
        )
        .await);
    assert_eq!(inactive["basePlans"][0]["state"], "INACTIVE");
    let offer = ok(h.google("GET", &format!("{plan}/offers/intro"), None).await);
    assert_eq!(offer["state"], "ACTIVE", "an offer keeps its own state");

    let got = ok(h
        .google(
            "GET",
            &format!("{subs}:batchGet?productIds=pro&productIds=draft.only"),
            None,
        )
        .await);
    let got = got["subscriptions"].as_array().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["productId"], "pro");
    assert_eq!(got[0]["basePlans"][0]["state"], "INACTIVE");
    assert_eq!(got[1]["productId"], "draft.only");
    assert_eq!(got[1]["basePlans"][0]["state"], "DRAFT");

    let update = json!({"requests": [{
        "subscription": {"productId": "pro", "packageName": pkg,
                         "listings": [{"languageCode": "en-US", "title": "Pro+"}]},
        "updateMask": "listings",
        "regionsVersion": {"version": "2022/02"}
    }]});
    let updated = ok(h
        .google("POST", &format!("{subs}:batchUpdate"), Some(update))
        .await);
    let updated = &updated["subscriptions"][0];
    assert_eq!(updated["listings"][0]["title"], "Pro+");
    assert_eq!(
        updated["basePlans"], got[0]["basePlans"],
        "outside the mask"
    );
    assert_eq!(
        ok(h.google("GET", &format!("{subs}/pro"), None).await),
        *updated
    );

    // Once a base plan was published the subscription stays; a non-draft plan too.
    let refused = h.google("DELETE", &format!("{subs}/pro"), None).await;
    expect_error(&refused, 400, "INVALID_ARGUMENT", "failedPrecondition");
    let refused = h.google("DELETE", &plan, None).await;
    expect_error(&refused, 400, "INVALID_ARGUMENT", "failedPrecondition");
    let refused = h
        .google("DELETE", &format!("{plan}/offers/intro"), None)
        .await;
    expect_error(&refused, 400, "INVALID_ARGUMENT", "failedPrecondition");
    assert_eq!(
        ok(h.google("GET", &format!("{subs}/pro"), None).await),
        *updated
    );

    let listed = ok(h
        .google("GET", &format!("{subs}/-/basePlans/-/offers"), None)
        .await);
    assert_eq!(listed["subscriptionOffers"].as_array().unwrap().len(), 1);
    let states = json!({"requests": [{"deactivateSubscriptionOfferRequest": {
        "packageName": pkg, "productId": "pro", "basePlanId": "monthly", "offerId": "intro"}}]});
    let states = ok(h
        .google(
            "POST",
            &format!("{plan}/offers:batchUpdateStates"),
            Some(states),
        )
        .await);
    assert_eq!(states["subscriptionOffers"][0]["state"], "INACTIVE");
    let gets = json!({"requests": [{"packageName": pkg, "productId": "pro",
                                     "basePlanId": "monthly", "offerId": "intro"}]});
    let gets = ok(h
        .google("POST", &format!("{plan}/offers:batchGet"), Some(gets))
        .await);
    assert_eq!(gets["subscriptionOffers"][0]["state"], "INACTIVE");
    let offers = json!({"requests": [{
        "subscriptionOffer": {"productId": "pro", "basePlanId": "monthly", "offerId": "intro",
                              "offerTags": [{"tag": "spring"}]},
        "updateMask": "offer_tags",
        "regionsVersion": {"version": "2022/02"}
    }]});
    let offers = ok(h
        .google("POST", &format!("{plan}/offers:batchUpdate"), Some(offers))
        .await);
    assert_eq!(
        offers["subscriptionOffers"][0]["offerTags"],
        json!([{"tag": "spring"}])
    );
    assert_eq!(offers["subscriptionOffers"][0]["state"], "INACTIVE");
    assert_eq!(
        offers["subscriptionOffers"][0]["phases"],
        intro_offer()["phases"]
    );

    let plans = json!({"requests": [{"activateBasePlanRequest": {
        "packageName": pkg, "productId": "pro", "basePlanId": "monthly"}}]});
    let plans = ok(h
        .google(
            "POST",
            &format!("{subs}/pro/basePlans:batchUpdateStates"),
            Some(plans),
        )
        .await);
    assert_eq!(plans["subscriptions"][0]["basePlans"][0]["state"], "ACTIVE");

    // A subscription whose base plans were never activated can be deleted.
    assert_eq!(
        ok(h.google("DELETE", &format!("{subs}/draft.only"), None)
            .await),
        json!({})
    );
    let gone = h.google("GET", &format!("{subs}/draft.only"), None).await;
    expect_error(&gone, 404, "NOT_FOUND", "notFound");

    // The catalog subscription can be bought, on its base plan.
    let token = h.buy(pkg, json!({"product_id": "pro"})).await;
    let bought = h.play.get_subscription_v2(pkg, &token).await.unwrap().raw;
    assert_eq!(
        bought["lineItems"][0]["offerDetails"]["basePlanId"],
        "monthly"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_products_appear_in_the_catalog() {
    let h = common::start().await;
    let pkg = "com.example.control";
    h.control(
        &format!("apps/{pkg}/products"),
        json!({"product_id": "coins", "type": "one_time", "price_micros": 1_990_000}),
    )
    .await;
    h.control(
        &format!("apps/{pkg}/products"),
        json!({"product_id": "premium", "type": "subscription", "base_plan_id": "annual",
               "billing_period": "P1Y", "price_micros": 29_990_000, "currency": "EUR",
               "grace_days": 3}),
    )
    .await;

    let coins = ok(h
        .google("GET", &format!("{AP}/{pkg}/inappproducts/coins"), None)
        .await);
    assert_eq!(
        coins["defaultPrice"],
        json!({"priceMicros": "1990000", "currency": "USD"})
    );
    assert_eq!(coins["status"], "active");
    let otp = ok(h
        .google("GET", &format!("{AP}/{pkg}/oneTimeProducts/coins"), None)
        .await);
    assert_eq!(
        otp["purchaseOptions"][0]["regionalPricingAndAvailabilityConfigs"][0]["price"],
        usd("1", 990_000_000)
    );

    let premium = ok(h
        .google("GET", &format!("{AP}/{pkg}/subscriptions/premium"), None)
        .await);
    let plan = &premium["basePlans"][0];
    assert_eq!(plan["basePlanId"], "annual");
    assert_eq!(plan["state"], "ACTIVE");
    let renewing = &plan["autoRenewingBasePlanType"];
    assert_eq!(renewing["billingPeriodDuration"], "P1Y");
    assert_eq!(renewing["gracePeriodDuration"], "P3D");
    assert_eq!(renewing["accountHoldDuration"], "P57D");
    assert_eq!(
        plan["regionalConfigs"][0],
        json!({"regionCode": "DE", "newSubscriberAvailability": true,
               "price": {"currencyCode": "EUR", "units": "29", "nanos": 990_000_000}})
    );
    let listed = ok(h
        .google("GET", &format!("{AP}/{pkg}/subscriptions"), None)
        .await);
    assert_eq!(listed["subscriptions"].as_array().unwrap().len(), 1);
    let refused = h
        .google("DELETE", &format!("{AP}/{pkg}/subscriptions/premium"), None)
        .await;
    expect_error(&refused, 400, "INVALID_ARGUMENT", "failedPrecondition");

    // The product id is taken in the catalog too.
    let taken = h
        .google(
            "POST",
            &format!("{AP}/{pkg}/subscriptions?productId=coins&{RV}"),
            Some(subscription("Coins")),
        )
        .await;
    expect_error(&taken, 409, "ALREADY_EXISTS", "alreadyExists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn convert_region_prices_uses_the_fixed_sandbox_rates() {
    let h = common::start().await;
    let path = format!("{AP}/com.example.prices/pricing:convertRegionPrices");
    let got = ok(h
        .google("POST", &path, Some(json!({"price": usd("10", 0)})))
        .await);
    let prices = &got["convertedRegionPrices"];
    assert_eq!(prices["US"]["regionCode"], "US");
    assert_eq!(prices["US"]["price"], usd("10", 0));
    assert_eq!(prices["US"]["taxAmount"], usd("0", 0));
    // 10 USD = 9.20 EUR at 0.92; with 19% German tax 10.948, rounded to 10.95.
    assert_eq!(
        prices["DE"]["price"],
        json!({"currencyCode": "EUR", "units": "10", "nanos": 950_000_000})
    );
    assert_eq!(
        prices["DE"]["taxAmount"],
        json!({"currencyCode": "EUR", "units": "1", "nanos": 750_000_000})
    );
    assert_eq!(
        prices["JP"]["price"],
        json!({"currencyCode": "JPY", "units": "1650", "nanos": 0})
    );
    assert_eq!(prices.as_object().unwrap().len(), 20);
    assert_eq!(got["regionVersion"]["version"], "2022/02");
    assert_eq!(got["convertedOtherRegionsPrice"]["usdPrice"], usd("10", 0));
    assert_eq!(
        got["convertedOtherRegionsPrice"]["eurPrice"],
        json!({"currencyCode": "EUR", "units": "9", "nanos": 200_000_000})
    );

    let unknown = h
        .google(
            "POST",
            &path,
            Some(json!({"price": {"currencyCode": "XYZ", "units": "1"}})),
        )
        .await;
    expect_error(&unknown, 400, "INVALID_ARGUMENT", "invalid");
    let missing = h.google("POST", &path, Some(json!({}))).await;
    expect_error(&missing, 400, "INVALID_ARGUMENT", "required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_googles_and_change_nothing() {
    let h = common::start().await;
    let pkg = "com.example.errors";
    let subs = format!("{AP}/{pkg}/subscriptions");
    ok(h.google(
        "POST",
        &format!("{subs}?productId=pro&{RV}"),
        Some(subscription("Pro")),
    )
    .await);
    ok(h.google(
        "POST",
        &format!("{subs}/pro/basePlans/monthly/offers?offerId=intro&{RV}"),
        Some(intro_offer()),
    )
    .await);
    let before = ok(h.google("GET", &subs, None).await);
    let offers_before = ok(h
        .google("GET", &format!("{subs}/-/basePlans/-/offers"), None)
        .await);

    // 404: unknown subscription, base plan, offer, in-app product.
    for (method, path) in [
        ("GET", format!("{subs}/ghost")),
        ("POST", format!("{subs}/pro/basePlans/ghost:activate")),
        ("GET", format!("{subs}/pro/basePlans/monthly/offers/ghost")),
        ("GET", format!("{AP}/{pkg}/inappproducts/ghost")),
        ("GET", format!("{AP}/{pkg}/oneTimeProducts/ghost")),
    ] {
        let got = h.google(method, &path, None).await;
        expect_error(&got, 404, "NOT_FOUND", "notFound");
    }

    // 409: the id exists.
    let dup = h
        .google(
            "POST",
            &format!("{subs}?productId=pro&{RV}"),
            Some(subscription("Another")),
        )
        .await;
    expect_error(&dup, 409, "ALREADY_EXISTS", "alreadyExists");

    // 400s.
    let patch = json!({"listings": [{"languageCode": "en-US", "title": "Changed"}]});
    let no_mask = h
        .google("PATCH", &format!("{subs}/pro?{RV}"), Some(patch.clone()))
        .await;
    expect_error(&no_mask, 400, "INVALID_ARGUMENT", "required");
    assert!(
        no_mask.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("updateMask")
    );
    let mut other = patch.clone();
    other["productId"] = json!("other");
    let mismatch = h
        .google(
            "PATCH",
            &format!("{subs}/pro?updateMask=listings&{RV}"),
            Some(other),
        )
        .await;
    expect_error(&mismatch, 400, "INVALID_ARGUMENT", "invalid");
    let bad_mask = h
        .google(
            "PATCH",
            &format!("{subs}/pro?updateMask=archived&{RV}"),
            Some(patch.clone()),
        )
        .await;
    expect_error(&bad_mask, 400, "INVALID_ARGUMENT", "invalid");
    let no_version = h
        .google(
            "PATCH",
            &format!("{subs}/pro?updateMask=listings"),
            Some(patch),
        )
        .await;
    expect_error(&no_version, 400, "INVALID_ARGUMENT", "required");
    let bad_id = h
        .google(
            "POST",
            &format!("{subs}?productId=Pro_Max&{RV}"),
            Some(subscription("Pro")),
        )
        .await;
    expect_error(&bad_id, 400, "INVALID_ARGUMENT", "invalid");
    let mut no_billing = subscription("No billing");
    no_billing["basePlans"][0]
        .as_object_mut()
        .unwrap()
        .remove("autoRenewingBasePlanType");
    let no_billing = h
        .google(
            "POST",
            &format!("{subs}?productId=nobilling&{RV}"),
            Some(no_billing),
        )
        .await;
    expect_error(&no_billing, 400, "INVALID_ARGUMENT", "required");
    let mut no_listings = subscription("x");
    no_listings.as_object_mut().unwrap().remove("listings");
    let no_listings = h
        .google(
            "POST",
            &format!("{subs}?productId=nolistings&{RV}"),
            Some(no_listings),
        )
        .await;
    expect_error(&no_listings, 400, "INVALID_ARGUMENT", "required");
    let mut wrong_currency = subscription("x");
    wrong_currency["basePlans"][0]["regionalConfigs"][1]["price"]["currencyCode"] = json!("USD");
    let wrong_currency = h
        .google(
            "POST",
            &format!("{subs}?productId=wrongcurrency&{RV}"),
            Some(wrong_currency),
        )
        .await;
    expect_error(&wrong_currency, 400, "INVALID_ARGUMENT", "invalid");
    let unknown_param = h.google("GET", &format!("{subs}?pagesize=5"), None).await;
    expect_error(&unknown_param, 400, "INVALID_ARGUMENT", "invalid");
    let draft_off = h
        .google(
            "POST",
            &format!("{subs}/pro/basePlans/monthly:deactivate"),
            None,
        )
        .await;
    expect_error(&draft_off, 400, "INVALID_ARGUMENT", "failedPrecondition");
    let archive = h.google("POST", &format!("{subs}/pro:archive"), None).await;
    expect_error(&archive, 400, "INVALID_ARGUMENT", "failedPrecondition");
    let batch = json!({"requests": [
        {"subscription": {"productId": "pro", "listings": [{"languageCode": "en-US", "title": "Batch"}]},
         "updateMask": "listings", "regionsVersion": {"version": "2022/02"}},
        {"subscription": {"productId": "ghost", "listings": [{"languageCode": "en-US", "title": "Ghost"}]},
         "updateMask": "listings", "regionsVersion": {"version": "2022/02"}}
    ]});
    let half = h
        .google("POST", &format!("{subs}:batchUpdate"), Some(batch))
        .await;
    expect_error(&half, 404, "NOT_FOUND", "notFound");

    // Malformed JSON, sent raw.
    let token = h.auth.token().await.unwrap();
    let r = h
        .http
        .post(format!("{}/{subs}?productId=broken&{RV}", h.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"listings": ["#)
        .send()
        .await
        .unwrap();
    let malformed = (r.status().as_u16(), r.json::<Value>().await.unwrap());
    expect_error(&malformed, 400, "INVALID_ARGUMENT", "invalid");
    assert!(
        malformed.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid JSON payload")
    );

    // 401 without credentials.
    let r = h
        .http
        .get(format!("{}/{subs}", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    assert_eq!(
        ok(h.google("GET", &subs, None).await),
        before,
        "nothing changed"
    );
    assert_eq!(
        ok(
            h.google("GET", &format!("{subs}/-/basePlans/-/offers"), None)
                .await
        ),
        offers_before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_products_purchase_options_and_offers() {
    let h = common::start().await;
    let pkg = "com.example.otp";
    let otps = format!("{AP}/{pkg}/oneTimeProducts");
    let options = format!("{otps}/coins/purchaseOptions");
    let offers = format!("{options}/buy/offers");

    let missing = h
        .google(
            "PATCH",
            &format!("{AP}/{pkg}/onetimeproducts/coins?{RV}&updateMask=listings"),
            Some(one_time("Coins")),
        )
        .await;
    expect_error(&missing, 404, "NOT_FOUND", "notFound");
    let created = ok(h
        .google(
            "PATCH",
            &format!("{AP}/{pkg}/onetimeproducts/coins?allowMissing=true&{RV}"),
            Some(one_time("Coins")),
        )
        .await);
    assert_eq!(created["purchaseOptions"][0]["state"], "DRAFT");
    assert_eq!(created["regionsVersion"]["version"], "2022/02");
    let iap = ok(h
        .google("GET", &format!("{AP}/{pkg}/inappproducts/coins"), None)
        .await);
    assert_eq!(iap["status"], "inactive");
    assert_eq!(iap["prices"]["US"]["priceMicros"], "1990000");

    let activate = json!({"requests": [{"activatePurchaseOptionRequest": {
        "packageName": pkg, "productId": "coins", "purchaseOptionId": "buy"}}]});
    let activated = ok(h
        .google(
            "POST",
            &format!("{options}:batchUpdateStates"),
            Some(activate),
        )
        .await);
    assert_eq!(
        activated["oneTimeProducts"][0]["purchaseOptions"][0]["state"],
        "ACTIVE"
    );
    let iap = ok(h
        .google("GET", &format!("{AP}/{pkg}/inappproducts/coins"), None)
        .await);
    assert_eq!(iap["status"], "active");

    let patch = json!({"listings": [{"languageCode": "en-US", "title": "Gold coins",
                                     "description": "100 gold coins"}]});
    let patched = ok(h
        .google(
            "PATCH",
            &format!("{AP}/{pkg}/onetimeproducts/coins?updateMask=listings&{RV}"),
            Some(patch),
        )
        .await);
    assert_eq!(patched["listings"][0]["title"], "Gold coins");
    assert_eq!(patched["purchaseOptions"][0]["state"], "ACTIVE");

    let sale = json!({"requests": [{
        "oneTimeProductOffer": {
            "productId": "coins", "purchaseOptionId": "buy", "offerId": "sale",
            "discountedOffer": {"startTime": "2026-01-01T00:00:00Z",
                                "endTime": "2026-02-01T00:00:00Z"},
            "regionalPricingAndAvailabilityConfigs": [
                {"regionCode": "US", "relativeDiscount": 0.25, "availability": "AVAILABLE"}]
        },
        "allowMissing": true,
        "updateMask": "discountedOffer",
        "regionsVersion": {"version": "2022/02"}
    }]});
    let sale = ok(h
        .google("POST", &format!("{offers}:batchUpdate"), Some(sale))
        .await);
    assert_eq!(sale["oneTimeProductOffers"][0]["state"], "DRAFT");
    let on = ok(h
        .google("POST", &format!("{offers}/sale:activate"), None)
        .await);
    assert_eq!(on["state"], "ACTIVE");
    let off = ok(h
        .google("POST", &format!("{offers}/sale:deactivate"), None)
        .await);
    assert_eq!(off["state"], "INACTIVE");
    let cancel = h
        .google("POST", &format!("{offers}/sale:cancel"), None)
        .await;
    expect_error(&cancel, 400, "INVALID_ARGUMENT", "failedPrecondition");
    let listed = ok(h
        .google(
            "GET",
            &format!("{AP}/{pkg}/oneTimeProducts/-/purchaseOptions/-/offers"),
            None,
        )
        .await);
    assert_eq!(listed["oneTimeProductOffers"][0]["offerId"], "sale");
    assert_eq!(listed["oneTimeProductOffers"][0]["state"], "INACTIVE");

    let got = ok(h
        .google("GET", &format!("{otps}:batchGet?productIds=coins"), None)
        .await);
    assert_eq!(
        got["oneTimeProducts"][0]["listings"][0]["title"],
        "Gold coins"
    );
    let page = ok(h.google("GET", &format!("{otps}?pageSize=1"), None).await);
    assert_eq!(page["oneTimeProducts"].as_array().unwrap().len(), 1);
    assert!(page.get("nextPageToken").is_none());

    let delete = json!({"requests": [{"packageName": pkg, "productId": "coins"}]});
    assert_eq!(
        ok(
            h.google("POST", &format!("{otps}:batchDelete"), Some(delete))
                .await
        ),
        json!({})
    );
    let gone = h.google("GET", &format!("{otps}/coins"), None).await;
    expect_error(&gone, 404, "NOT_FOUND", "notFound");
    let gone = h
        .google("GET", &format!("{AP}/{pkg}/inappproducts/coins"), None)
        .await;
    expect_error(&gone, 404, "NOT_FOUND", "notFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_prices_moves_existing_subscribers() {
    let h = common::start().await;
    let pkg = "com.example.migrate";
    h.control(
        &format!("apps/{pkg}/products"),
        json!({"product_id": "pro", "type": "subscription", "price_micros": 5_000_000}),
    )
    .await;
    let token = h.buy(pkg, json!({"product_id": "pro"})).await;
    h.play
        .acknowledge_subscription(pkg, "pro", &token)
        .await
        .unwrap();
    let subs = format!("{AP}/{pkg}/subscriptions");
    let mut sub = ok(h.google("GET", &format!("{subs}/pro"), None).await);
    for c in sub["basePlans"][0]["regionalConfigs"]
        .as_array_mut()
        .unwrap()
    {
        if c["regionCode"] == "US" {
            c["price"] = usd("6", 0);
        }
    }
    ok(h.google(
        "PATCH",
        &format!("{subs}/pro?updateMask=basePlans&{RV}"),
        Some(sub),
    )
    .await);
    let migrate = json!({
        "regionsVersion": {"version": "2022/02"},
        "regionalPriceMigrations": [{"regionCode": "US",
            "oldestAllowedPriceVersionTime": "2099-01-01T00:00:00Z",
            "priceIncreaseType": "PRICE_INCREASE_TYPE_OPT_OUT"}]
    });
    let plan = format!("{subs}/pro/basePlans/monthly");
    assert_eq!(
        ok(
            h.google("POST", &format!("{plan}:migratePrices"), Some(migrate))
                .await
        ),
        json!({})
    );
    let s = ok(h
        .google(
            "GET",
            &format!("{AP}/{pkg}/purchases/subscriptionsv2/tokens/{token}"),
            None,
        )
        .await);
    let pc = &s["lineItems"][0]["autoRenewingPlan"]["priceChangeDetails"];
    assert_eq!(pc["priceChangeMode"], "OPT_OUT_PRICE_INCREASE", "{s}");
    assert_eq!(pc["newPrice"]["units"], "6");
    assert_eq!(h.codes(&token).await, [4, 19]);
}
