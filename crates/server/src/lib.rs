//! `playbill-server`: the HTTP API an app's backend and clients talk to.
//!
//! - [`config`]: settings from TOML + `PLAYBILL_*` environment, validated.
//! - [`startup`]: [`Application::build`] binds and wires everything; `run_until_stopped`.
//! - [`routes`]: one module per resource; handlers stay thin.
//! - [`rtdn`]: notifications — durable intake (inbox, de-duplication, quarantine) and the
//!   re-read that applies them, linked-token chains included.
//! - [`reviews`]: refund reviews — recorded, answered by policy or operator within 24 h.
//! - [`verification`]: the verify flow — Google → core decision → store → acknowledge.
//! - [`error`]: [`ApiError`], the only place HTTP statuses are chosen.
//! - [`settle`]: the acknowledge / consume calls owed to Google, performed in one place.
//! - [`auth`]: API-key extractor.
//! - [`oidc`]: verification of the OIDC tokens Google signs on Pub/Sub push requests.
//! - [`pull`]: notifications by Pub/Sub pull — worker loops that ack only what was handled.
//! - [`jobs`]: background jobs under a lease (the acknowledgement sweeper); [`metrics`]:
//!   counters at `/metrics`.
//! - [`clock`]: the server's time (wall clock; movable in tests to follow the sandbox).

pub mod auth;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod error;
pub mod external;
pub mod jobs;
pub mod metrics;
pub mod oidc;
pub mod pull;
pub mod reports;
pub mod reviews;
pub mod routes;
pub mod rtdn;
pub mod settle;
pub mod startup;
pub mod state;
pub mod verification;

/// Whether `s` is a code of `len` capital letters: an ISO 4217 currency (3), an ISO 3166-1
/// region (2).
pub(crate) fn is_code(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase())
}

pub use clock::Clock;
pub use config::Settings;
pub use error::ApiError;
pub use startup::{Application, StartupError};
