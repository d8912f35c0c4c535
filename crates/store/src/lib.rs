//! playbill's persistence. One set of portable migrations and queries that runs on SQLite
//! (the embedded default: a file, WAL) and PostgreSQL (production, shared by many
//! instances), through sqlx's `Any` driver. Every store test runs on both.
//!
//! - [`Store`]: connect, migrate, and one module per aggregate with all its SQL:
//!   [`purchases`], [`entitlements`], [`catalog`] (Google's catalog, mirrored), [`events`], [`grants`] (rights from other platforms), [`external`] (alternative-billing transactions and their outbox), [`notifications`] (the RTDN inbox,
//!   quarantine, orphan tokens and replaced tokens), [`reports`] (imported financial report lines), [`jobs`] (leases for background jobs), [`reviews`] (refund reviews).
//! - [`StoreError`]: conflicts (named unique constraints) are told apart from outages;
//!   the server, not the store, decides what HTTP status each becomes.

mod batch;
mod cache;
pub mod catalog;
mod db;
pub mod entitlements;
mod error;
pub mod events;
pub mod external;
pub mod grants;
pub mod jobs;
pub mod notifications;
mod one_statement;
pub mod purchases;
pub mod reports;
pub mod reviews;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Store};
pub use error::StoreError;
pub use events::{EventKind, NewEvent, StoredEvent};
