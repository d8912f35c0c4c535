//! Real-time developer notifications: the `DeveloperNotification` JSON that Google Play
//! publishes (base64) in each Pub/Sub message. Not in the discovery document; fields as the
//! RTDN reference gives them (`shared/reference/rtdn-types.json`). `eventTimeMillis` is
//! documented as a long and sent as a string: [`Int64`] accepts both. Notification codes stay
//! plain integers here, so an unseen code (Google adds them) always decodes.

use serde::{Deserialize, Serialize};

use crate::wire::Int64;

/// Subscription notification codes (`subscriptionNotification.notificationType`).
pub mod subscription_type {
    pub const RECOVERED: i32 = 1;
    pub const RENEWED: i32 = 2;
    pub const CANCELED: i32 = 3;
    pub const PURCHASED: i32 = 4;
    pub const ON_HOLD: i32 = 5;
    pub const IN_GRACE_PERIOD: i32 = 6;
    pub const RESTARTED: i32 = 7;
    pub const PRICE_CHANGE_CONFIRMED: i32 = 8;
    pub const DEFERRED: i32 = 9;
    pub const PAUSED: i32 = 10;
    pub const PAUSE_SCHEDULE_CHANGED: i32 = 11;
    pub const REVOKED: i32 = 12;
    pub const EXPIRED: i32 = 13;
    pub const ITEMS_CHANGED: i32 = 17;
    pub const CANCELLATION_SCHEDULED: i32 = 18;
    pub const PRICE_CHANGE_UPDATED: i32 = 19;
    pub const PENDING_PURCHASE_CANCELED: i32 = 20;
    pub const PRICE_STEP_UP_CONSENT_UPDATED: i32 = 22;
}

/// One-time product notification codes.
pub mod one_time_type {
    pub const PURCHASED: i32 = 1;
    pub const CANCELED: i32 = 2;
}

/// `voidedPurchaseNotification.productType` and `.refundType`.
pub mod voided {
    pub const PRODUCT_TYPE_SUBSCRIPTION: i32 = 1;
    pub const PRODUCT_TYPE_ONE_TIME: i32 = 2;
    pub const REFUND_TYPE_FULL_REFUND: i32 = 1;
    pub const REFUND_TYPE_QUANTITY_BASED_PARTIAL_REFUND: i32 = 2;
}

/// The decoded `data` of an RTDN Pub/Sub message: exactly one notification member is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperNotification {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub package_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time_millis: Option<Int64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_notification: Option<SubscriptionNotification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_product_notification: Option<OneTimeProductNotification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voided_purchase_notification: Option<VoidedPurchaseNotification>,
    /// Newer collaborative refund-review flow (reference section 2.7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_refund_review_notification: Option<PendingRefundReviewNotification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_notification: Option<TestNotification>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionNotification {
    #[serde(default)]
    pub version: String,
    pub notification_type: i32,
    pub purchase_token: String,
    /// Legacy; absent in current payloads. Never rely on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductNotification {
    #[serde(default)]
    pub version: String,
    pub notification_type: i32,
    pub purchase_token: String,
    #[serde(default)]
    pub sku: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoidedPurchaseNotification {
    pub purchase_token: String,
    #[serde(default)]
    pub order_id: String,
    pub product_type: i32,
    pub refund_type: i32,
}

/// A user asked for a refund (or disputed a charge): the developer may answer
/// `orders.reviewrefund` within 24 hours. Not a refund: access changes only when a void
/// arrives. Fields as seen in independent client implementations (reference 2.7); all
/// optional so a different shape still decodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingRefundReviewNotification {
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_refund_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_reason: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscated_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscated_profile_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestNotification {
    #[serde(default)]
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_reference_examples() {
        let examples = [
            r#"{"version":"1.0","packageName":"com.some.thing","eventTimeMillis":"1503349566168",
               "subscriptionNotification":{"version":"1.0","notificationType":4,"purchaseToken":"PURCHASE_TOKEN"}}"#,
            r#"{"version":"1.0","packageName":"com.some.thing","eventTimeMillis":1503349566168,
               "oneTimeProductNotification":{"version":"1.0","notificationType":1,"purchaseToken":"PURCHASE_TOKEN","sku":"my.sku"}}"#,
            r#"{"version":"1.0","packageName":"com.some.app","eventTimeMillis":"1503349566168",
               "voidedPurchaseNotification":{"purchaseToken":"PURCHASE_TOKEN","orderId":"GS.0000-0000-0000","productType":1,"refundType":1}}"#,
            r#"{"version":"1.0","packageName":"com.some.thing","eventTimeMillis":"1503350156918","testNotification":{"version":"1.0"}}"#,
            r#"{"version":"1.0","packageName":"p","eventTimeMillis":"1","subscriptionNotification":{"version":"1.0","notificationType":99,"purchaseToken":"t"},"futureField":{}}"#,
        ];
        for e in examples {
            let n: DeveloperNotification = serde_json::from_str(e).unwrap();
            assert!(n.event_time_millis.is_some(), "{e}");
            let back = serde_json::to_value(&n).unwrap();
            assert!(
                !back["eventTimeMillis"].as_str().unwrap().is_empty(),
                "int64 as a string"
            );
        }
        let n: DeveloperNotification = serde_json::from_str(examples[4]).unwrap();
        assert_eq!(
            n.subscription_notification.unwrap().notification_type,
            99,
            "unknown codes decode"
        );
    }
}
