//! Catalog APIs of the Play Developer API: `inappproducts`, `monetization.subscriptions`
//! (with base plans and offers), `monetization.onetimeproducts` and
//! `monetization.convertRegionPrices`.

use axum::Router;

use crate::state::Shared;

/// The catalog Google holds for every app.
#[derive(Debug, Default)]
pub struct Catalog {}

/// The catalog routes, under `/androidpublisher/v3/applications/{packageName}/`.
pub fn routes() -> Router<Shared> {
    Router::new()
}
