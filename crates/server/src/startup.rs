//! Building and running the server: connect and migrate the store, build one Google client
//! per app from its key file, bind the listener (port 0 allowed), serve until told to stop.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use playbill_core::PackageName;
use playbill_core::verify::AppPolicy;
use playbill_google::methods::ANDROIDPUBLISHER_SCOPE;
use playbill_google::{PlayClient, RetryPolicy, ServiceAccountKey, TokenSource};
use playbill_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::clock::Clock;
use crate::config::{ConfigError, Settings};
use crate::routes;
use crate::state::{App, AppState};

/// The largest request body accepted (a verification is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Store(#[from] playbill_store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HTTP client: {0}")]
    Http(String),
}

/// A bound, ready server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// What the background jobs run with, and how often.
    jobs: (AppState, crate::jobs::Intervals),
    /// Notifications by Pub/Sub pull, when configured.
    puller: Option<crate::pull::Puller>,
    store: Store,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// Like [`Application::build`], with a clock the caller can move (tests, sandbox demos).
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> Result<Self, StartupError> {
        settings.validate()?;
        let store = Store::connect(&settings.database_url).await?;
        if !store.serves_alone() {
            return Err(StartupError::Config(ConfigError(
                "database_url: another process is serving this SQLite database; run one \
                 `playbill serve` per SQLite file, or PostgreSQL for several instances"
                    .into(),
            )));
        }
        store.migrate().await?;

        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.google.request_timeout_ms))
            .user_agent(concat!("playbill/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StartupError::Http(e.to_string()))?;
        let retry = RetryPolicy {
            max_attempts: settings.google.retry.max_attempts,
            initial_backoff: Duration::from_millis(settings.google.retry.initial_backoff_ms),
            max_backoff: Duration::from_millis(settings.google.retry.max_backoff_ms),
        };
        let mut apps = HashMap::new();
        for (i, a) in settings.apps.iter().enumerate() {
            let at = |m: String| ConfigError(format!("apps[{i}].{m}"));
            let package = PackageName::parse(a.package_name.as_str())
                .map_err(|e| at(format!("package_name: {e}")))?;
            let key = ServiceAccountKey::from_file(&a.service_account_key)
                .map_err(|e| at(format!("service_account_key: {e}")))?;
            let auth = TokenSource::new(key, &[ANDROIDPUBLISHER_SCOPE], http.clone())
                .map_err(|e| at(format!("service_account_key: {e}")))?;
            let play = PlayClient::new(
                http.clone(),
                &settings.google.androidpublisher_url,
                Arc::new(auth),
                retry,
            );
            let policy = AppPolicy {
                account_id_rule: a.account_id_rule,
                consumables: a.consumables.iter().cloned().collect::<BTreeSet<_>>(),
                entitlements: a.entitlements.clone().into_iter().collect(),
            };
            store.upsert_app(package.as_str(), clock.now_ms()).await?;
            apps.insert(
                package.to_string(),
                Arc::new(App {
                    package,
                    policy,
                    play,
                    refund_reviews: a.refund_reviews,
                }),
            );
        }

        let rtdn = settings.rtdn.as_ref().map(|r| {
            Arc::new(crate::state::Rtdn {
                subscription: r.subscription.clone(),
                verifier: crate::oidc::PushVerifier::new(r.push_auth.clone(), http.clone()),
            })
        });
        let push_path = settings.rtdn.as_ref().map(|r| r.push_path.clone());
        let puller = match &settings.rtdn_pull {
            Some(p) => Some((p.clone(), p.client(http.clone())?)),
            None => None,
        };
        let reports = match &settings.reports {
            Some(r) => {
                let at = |m: String| ConfigError(format!("reports.{m}"));
                let key = ServiceAccountKey::from_file(&r.service_account_key)
                    .map_err(|e| at(format!("service_account_key: {e}")))?;
                let auth = TokenSource::new(
                    key,
                    &[playbill_google::storage::DEVSTORAGE_READ_ONLY_SCOPE],
                    http.clone(),
                )
                .map_err(|e| at(format!("service_account_key: {e}")))?;
                Some(Arc::new(crate::reports::ReportsBucket {
                    bucket: r.bucket.clone(),
                    storage: PlayClient::new(http.clone(), &r.storage_url, Arc::new(auth), retry),
                    interval: Duration::from_millis(r.import_interval_ms),
                }))
            }
            None => None,
        };
        let state = AppState::new(crate::state::Shared {
            store: store.clone(),
            apps: Arc::new(apps),
            api_keys: Arc::new(settings.api_keys.clone()),
            clock,
            rtdn,
            metrics: Default::default(),
            reports,
        });
        let jobs = (
            state.clone(),
            crate::jobs::Intervals {
                ack_sweep: Duration::from_millis(settings.jobs.ack_sweep_interval_ms),
                voided_sync: Duration::from_millis(settings.jobs.voided_sync_interval_ms),
                external_outbox: Duration::from_millis(settings.jobs.external_outbox_interval_ms),
                catalog_sync: Duration::from_millis(settings.jobs.catalog_sync_interval_ms),
            },
        );
        let router = routes::router(push_path.as_deref())
            .with_state(state)
            .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(TraceLayer::new_for_http());
        let listener =
            TcpListener::bind(settings.listen)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: settings.listen,
                    source,
                })?;
        let puller = puller
            .map(|(settings, client)| crate::pull::Puller::new(jobs.0.clone(), settings, client));
        Ok(Self {
            listener,
            router,
            store,
            jobs,
            puller,
        })
    }

    /// What the handlers share (store, apps, clock): for workers run beside the server,
    /// such as a notification puller.
    pub fn state(&self) -> AppState {
        self.jobs.0.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_jobs, jobs_stopped) = tokio::sync::oneshot::channel::<()>();
        let (state, intervals) = self.jobs;
        let jobs = tokio::spawn(crate::jobs::run(state, intervals, async move {
            let _ = jobs_stopped.await;
        }));
        let (stop_pull, pull_stopped) = tokio::sync::oneshot::channel::<()>();
        let puller = self.puller.map(|p| {
            tokio::spawn(p.run(async move {
                let _ = pull_stopped.await;
            }))
        });
        let result = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        // Stop pulling; what is in hand finishes (or goes back to Pub/Sub) before the store
        // closes.
        let _ = stop_pull.send(());
        if let Some(p) = puller {
            let _ = p.await;
        }
        let _ = stop_jobs.send(());
        let _ = jobs.await;
        self.store.close().await;
        result
    }
}
