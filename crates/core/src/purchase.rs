//! Purchases as playbill sees them: the kind of product, the state Google reports, Google's
//! answer normalised into an [`Observation`], and the record we keep ([`PurchaseRecord`]).

use serde::{Deserialize, Serialize};

use crate::{PackageName, ProductId, PurchaseToken, UserId};

/// The two families of Play products, each read through its own Google API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// In-app products bought once (consumable or not): `purchases.productsv2`.
    OneTime,
    /// Subscriptions: `purchases.subscriptionsv2`.
    Subscription,
}

impl ProductKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::OneTime => "one_time",
            ProductKind::Subscription => "subscription",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "one_time" => Some(ProductKind::OneTime),
            "subscription" => Some(ProductKind::Subscription),
            _ => None,
        }
    }
}

/// The state of a purchase as Google names it, for both product kinds. Google adds values
/// without notice: anything unseen is kept verbatim in `Unknown` and never grants access.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PurchaseState {
    // One-time (productsv2 `purchaseStateContext.purchaseState`).
    Purchased,
    Cancelled,
    // Both kinds.
    Pending,
    // Subscriptions (`SUBSCRIPTION_STATE_*`, stored without the prefix).
    Active,
    InGracePeriod,
    OnHold,
    Paused,
    Canceled,
    Expired,
    PendingPurchaseCanceled,
    Unknown(String),
}

impl PurchaseState {
    pub fn as_str(&self) -> &str {
        match self {
            PurchaseState::Purchased => "PURCHASED",
            PurchaseState::Cancelled => "CANCELLED",
            PurchaseState::Pending => "PENDING",
            PurchaseState::Active => "ACTIVE",
            PurchaseState::InGracePeriod => "IN_GRACE_PERIOD",
            PurchaseState::OnHold => "ON_HOLD",
            PurchaseState::Paused => "PAUSED",
            PurchaseState::Canceled => "CANCELED",
            PurchaseState::Expired => "EXPIRED",
            PurchaseState::PendingPurchaseCanceled => "PENDING_PURCHASE_CANCELED",
            PurchaseState::Unknown(s) => s,
        }
    }

    /// Parses a stored state or a Google enum string (`SUBSCRIPTION_STATE_` prefix optional).
    pub fn parse(s: &str) -> Self {
        let short = s.strip_prefix("SUBSCRIPTION_STATE_").unwrap_or(s);
        match short {
            "PURCHASED" => PurchaseState::Purchased,
            "CANCELLED" => PurchaseState::Cancelled,
            "PENDING" => PurchaseState::Pending,
            "ACTIVE" => PurchaseState::Active,
            "IN_GRACE_PERIOD" => PurchaseState::InGracePeriod,
            "ON_HOLD" => PurchaseState::OnHold,
            "PAUSED" => PurchaseState::Paused,
            "CANCELED" => PurchaseState::Canceled,
            "EXPIRED" => PurchaseState::Expired,
            "PENDING_PURCHASE_CANCELED" => PurchaseState::PendingPurchaseCanceled,
            _ => PurchaseState::Unknown(s.to_owned()),
        }
    }
}

/// One line of Google's answer: a product inside the purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedItem {
    pub product_id: ProductId,
    /// Subscriptions: end of access for this item, epoch ms. One-time: `None`.
    pub expires_at: Option<i64>,
    /// Subscriptions: whether the item renews by itself.
    pub auto_renewing: bool,
    /// One-time: units bought (1 when Google leaves it out).
    pub quantity: i64,
    /// One-time: units not yet refunded.
    pub refundable_quantity: Option<i64>,
    /// One-time: whether Google reports it consumed.
    pub consumed: bool,
}

/// What Google says about a purchase token, reduced to what the decisions need. Built by the
/// `google` crate from `ProductPurchaseV2` or `SubscriptionPurchaseV2`; the raw answer is
/// stored beside the record for audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub kind: ProductKind,
    pub state: PurchaseState,
    pub acknowledged: bool,
    pub items: Vec<ObservedItem>,
    pub order_id: Option<String>,
    pub linked_purchase_token: Option<PurchaseToken>,
    /// A resubscription bought in the Play Store after expiry: the expired token
    /// (`outOfAppPurchaseContext`, shown until acknowledged), whose user it belongs to.
    pub out_of_app_expired_token: Option<PurchaseToken>,
    pub obfuscated_account_id: Option<String>,
    pub test_purchase: bool,
    /// When the purchase completed (one-time) or the subscription started, epoch ms.
    pub started_at: Option<i64>,
}

impl Observation {
    /// The latest expiry over all line items (subscriptions), epoch ms.
    pub fn expires_at(&self) -> Option<i64> {
        self.items.iter().filter_map(|i| i.expires_at).max()
    }
}

/// The purchase as playbill stores it: bound to one user, with Google's latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseRecord {
    pub package: PackageName,
    pub token: PurchaseToken,
    pub kind: ProductKind,
    pub user_id: UserId,
    /// The product the app named when it verified (for subscriptions, the line item it bought).
    pub product_id: ProductId,
    pub state: PurchaseState,
    pub acknowledged: bool,
    pub consumed: bool,
    pub quantity: i64,
    pub order_id: Option<String>,
    pub linked_purchase_token: Option<PurchaseToken>,
    pub expires_at: Option<i64>,
    pub auto_renewing: bool,
    pub test_purchase: bool,
    pub started_at: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_keep_unknowns() {
        for s in [
            "PURCHASED",
            "CANCELLED",
            "PENDING",
            "ACTIVE",
            "IN_GRACE_PERIOD",
            "ON_HOLD",
            "PAUSED",
            "CANCELED",
            "EXPIRED",
            "PENDING_PURCHASE_CANCELED",
            "SOMETHING_NEW",
        ] {
            assert_eq!(PurchaseState::parse(s).as_str(), s);
        }
        assert_eq!(
            PurchaseState::parse("SUBSCRIPTION_STATE_IN_GRACE_PERIOD"),
            PurchaseState::InGracePeriod
        );
        assert_eq!(
            PurchaseState::parse("SUBSCRIPTION_STATE_NEW_THING"),
            PurchaseState::Unknown("SUBSCRIPTION_STATE_NEW_THING".into())
        );
    }
}
