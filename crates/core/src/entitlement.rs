//! Entitlements: the named rights a user holds ("premium", "coins_100"), each traced to the
//! purchase (or other source) that granted it.

use serde::{Deserialize, Serialize};

use crate::ProductId;

/// Where an entitlement comes from. Only Google Play exists so far; other platforms and
/// promotional grants join here later and merge in the same listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    GooglePlay,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::GooglePlay => "google_play",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        (s == "google_play").then_some(Source::GooglePlay)
    }
}

/// Whether an entitlement gives access now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementState {
    /// Gives access.
    Active,
    /// A consumable whose goods were delivered and consumed: a record, no longer a right.
    Consumed,
    /// The purchase no longer entitles (expired, on hold, paused, cancelled, refunded…).
    Inactive,
}

impl EntitlementState {
    pub fn as_str(self) -> &'static str {
        match self {
            EntitlementState::Active => "active",
            EntitlementState::Consumed => "consumed",
            EntitlementState::Inactive => "inactive",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(EntitlementState::Active),
            "consumed" => Some(EntitlementState::Consumed),
            "inactive" => Some(EntitlementState::Inactive),
            _ => None,
        }
    }
}

/// One right granted by one product of one purchase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entitlement {
    pub name: String,
    pub product_id: ProductId,
    pub source: Source,
    pub state: EntitlementState,
    /// End of access, epoch ms; `None` for one-time products (no end).
    pub expires_at: Option<i64>,
    pub auto_renewing: bool,
    pub quantity: i64,
    /// Granted by a license tester's purchase: no real money changed hands.
    pub test_purchase: bool,
}
