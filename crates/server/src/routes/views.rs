//! JSON shapes of the API's answers. Times are RFC 3339 (UTC) or null.

use playbill_core::{Entitlement, Grant, PurchaseRecord};
use playbill_google::observe::format_time;
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

/// Every right a user has now, Play's and granted ones, in one list (each says its source).
pub fn rights(r: &playbill_core::Rights) -> Vec<Value> {
    r.play
        .iter()
        .map(entitlement)
        .chain(r.grants.iter().map(grant_right))
        .collect()
}

/// A grant as an entry of the entitlements list: the same fields as a Play entitlement's.
fn grant_right(g: &Grant) -> Value {
    json!({
        "entitlement": g.entitlement,
        "product_id": null,
        "source": g.source,
        "state": "active",
        "expires_at": g.expires_at.map(format_time),
        "auto_renewing": false,
        "quantity": 1,
        "test_purchase": false,
        "grant_id": g.grant_id,
    })
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

pub fn entitlement(e: &Entitlement) -> Value {
    json!({
        "entitlement": e.name,
        "product_id": e.product_id.as_str(),
        "source": e.source.as_str(),
        "state": e.state.as_str(),
        "expires_at": e.expires_at.map(format_time),
        "auto_renewing": e.auto_renewing,
        "quantity": e.quantity,
        "test_purchase": e.test_purchase,
    })
}
