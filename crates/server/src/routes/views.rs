//! JSON shapes of the API's answers. Times are RFC 3339 (UTC) or null.

use playbill_core::{Entitlement, Grant, PurchaseRecord};
use playbill_google::observe::{TimeText, format_time, time_text};
use serde::Serialize;
use serde_json::{Value, json};

pub fn purchase(r: &PurchaseRecord) -> Value {
    json!({
        "package_name": r.package.as_str(),
        "user_id": r.user_id.as_str(),
        "product_id": r.product_id.as_str(),
        "type": r.kind.as_str(),
        "state": r.state.as_str(),
        "acknowledged": r.acknowledged,
        "consumed": r.consumed,
        "quantity": r.quantity,
        "order_id": r.order_id,
        "started_at": r.started_at.map(format_time),
        "expires_at": r.expires_at.map(format_time),
        "auto_renewing": r.auto_renewing,
        "test_purchase": r.test_purchase,
    })
}

/// One entry of a user's entitlements list: a Play entitlement or a grant, with the same
/// fields (a grant has no product and says its `grant_id`). Written straight from the stored
/// values: this is the hot read.
#[derive(Serialize)]
pub struct Right<'a> {
    entitlement: &'a str,
    product_id: Option<&'a str>,
    source: &'a str,
    state: &'a str,
    expires_at: Option<TimeText>,
    auto_renewing: bool,
    quantity: i64,
    test_purchase: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant_id: Option<&'a str>,
}

/// Every right a user has now, Play's and granted ones, in one list (each says its source).
pub fn rights(r: &playbill_core::Rights) -> Vec<Right<'_>> {
    r.play
        .iter()
        .map(entitlement)
        .chain(r.grants.iter().map(grant_right))
        .collect()
}

/// A grant as an entry of the entitlements list.
fn grant_right(g: &Grant) -> Right<'_> {
    Right {
        entitlement: &g.entitlement,
        product_id: None,
        source: &g.source,
        state: "active",
        expires_at: g.expires_at.map(time_text),
        auto_renewing: false,
        quantity: 1,
        test_purchase: false,
        grant_id: Some(&g.grant_id),
    }
}

/// A grant as operators see it.
pub fn grant(g: &Grant) -> Value {
    json!({
        "grant_id": g.grant_id,
        "entitlement": g.entitlement,
        "source": g.source,
        "expires_at": g.expires_at.map(format_time),
        "note": g.note,
        "granted_at": format_time(g.granted_at),
        "revoked_at": g.revoked_at.map(format_time),
    })
}

fn entitlement(e: &Entitlement) -> Right<'_> {
    Right {
        entitlement: &e.name,
        product_id: Some(e.product_id.as_str()),
        source: e.source.as_str(),
        state: e.state.as_str(),
        expires_at: e.expires_at.map(time_text),
        auto_renewing: e.auto_renewing,
        quantity: e.quantity,
        test_purchase: e.test_purchase,
        grant_id: None,
    }
}
