//! JSON shapes of the API's answers. Times are RFC 3339 (UTC) or null.

use playbill_core::{Entitlement, PurchaseRecord};
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
