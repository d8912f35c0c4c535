//! `externaltransactions` of the Play Developer API: alternative-billing transactions
//! reported by the developer (reference section 12).

use axum::Router;

use crate::state::Shared;

/// Every external transaction reported to the sandbox.
#[derive(Debug, Default)]
pub struct ExternalTransactions {}

/// The external-transaction routes, under `/androidpublisher/v3/applications/{applicationsId}/`.
pub fn routes() -> Router<Shared> {
    Router::new()
}
