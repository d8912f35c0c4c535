//! Cloud Storage JSON API (v1) serving the Play Console reports bucket: `earnings/` and
//! `sales/` ZIPs generated from the order ledger (reference section 11).

use axum::Router;

use crate::state::Shared;

/// How the reports bucket is served.
#[derive(Debug, Default)]
pub struct Reports {}

/// The Cloud Storage routes, under `/storage/v1/`.
pub fn routes() -> Router<Shared> {
    Router::new()
}
