//! What every handler can reach: the store, the configured apps with their Google clients,
//! and the API keys.

use std::collections::HashMap;
use std::sync::Arc;

use playbill_core::PackageName;
use playbill_core::verify::AppPolicy;
use playbill_google::PlayClient;
use playbill_store::Store;

use crate::clock::Clock;
use crate::config::ApiKeySetting;
use crate::error::ApiError;

/// One app this deployment serves.
pub struct App {
    pub package: PackageName,
    pub policy: AppPolicy,
    pub play: PlayClient,
    pub refund_reviews: crate::config::RefundReviewPolicy,
}

/// Notifications by Pub/Sub push, when configured.
pub struct Rtdn {
    /// The only subscription whose pushes are taken.
    pub subscription: String,
    pub verifier: crate::oidc::PushVerifier,
}

/// Shared by every request: cloning it (once per request, by axum) copies one pointer.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub store: Store,
    pub apps: Arc<HashMap<String, Arc<App>>>,
    pub api_keys: Arc<Vec<ApiKeySetting>>,
    pub clock: Clock,
    pub rtdn: Option<Arc<Rtdn>>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Play Console's financial reports, when configured.
    pub reports: Option<Arc<crate::reports::ReportsBucket>>,
}

impl Shared {
    pub fn app(&self, package: &str) -> Result<Arc<App>, ApiError> {
        self.apps.get(package).cloned().ok_or_else(|| {
            ApiError::NotFound(format!("app {package:?} is not configured on this server"))
        })
    }
}
