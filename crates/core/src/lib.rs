//! playbill's domain core: the vocabulary every other crate speaks and the pure decisions
//! that turn (what we stored, what Google says, now) into a new record plus actions.
//!
//! Nothing here does I/O: no HTTP, no database, no clock. Callers pass `now` in.
//!
//! - [`ids`]: validated newtypes (`PackageName`, `ProductId`, `PurchaseToken`, `UserId`).
//! - [`purchase`]: product kinds, purchase states, Google's answer normalised ([`purchase::Observation`]),
//!   and the stored record ([`purchase::PurchaseRecord`]).
//! - [`entitlement`]: what a user is granted.
//! - [`account`]: the rule tying Google's obfuscated account id to our user id.
//! - [`verify`]: the decision behind `purchases:verify`.
//! - [`lifecycle`]: the decision after a notification (owner, entitlements, actions; superseded
//!   tokens never grant).

pub mod account;
pub mod books;
pub mod entitlement;
pub mod ids;
pub mod lifecycle;
pub mod purchase;
pub mod verify;

pub use account::AccountIdRule;
pub use entitlement::{
    Entitlement, EntitlementState, Grant, Held, Holding, Rights, Source, check_grant_source,
    granted, grants_at, needs_refresh, to_refresh,
};
pub use ids::{IdError, PackageName, ProductId, PurchaseToken, UserId};
pub use purchase::{Observation, ObservedItem, ProductKind, PurchaseRecord, PurchaseState};
