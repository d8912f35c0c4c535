//! Google's side of playbill: the androidpublisher v3 wire types exactly as the discovery
//! document has them, and a client that authenticates as a service account and retries
//! what may be retried. Every base URL is injected, so the same client talks to Google in
//! production and to `playbill-sandbox` in tests.
//!
//! - [`wire`]: serde types (int64 as strings, open enums, absent stays absent).
//! - [`methods`]: the discovery method ids and `flatPath`s this crate calls.
//! - [`auth`]: service-account OAuth (JWT-bearer grant), cached tokens.
//! - [`client`]: [`PlayClient`] with retries and typed [`GoogleError`]s.
//! - [`observe`]: Google's answers reduced to `playbill_core::Observation`.
//! - [`rtdn`]: the `DeveloperNotification` published through Pub/Sub.
//! - [`pubsub`]: Cloud Pub/Sub v1 wire types (topics, subscriptions, pull, push envelope).
//! - [`pubsub_client`]: `PubSubClient` — pull, acknowledge, modifyAckDeadline.
//! - [`catalog`], [`external`]: catalog and external-transaction wire types.
//! - [`storage`]: Cloud Storage JSON API wire types (the reports bucket).

pub mod auth;
pub mod catalog;
pub mod client;
mod error;
pub mod external;
pub mod methods;
pub mod observe;
pub mod pubsub;
pub mod pubsub_client;
pub mod reports;
pub mod rtdn;
pub mod storage;
pub mod wire;

pub use auth::{ServiceAccountKey, TokenSource};
pub use client::{PlayClient, RetryPolicy, WithRaw};
pub use error::GoogleError;
