//! `playbill-sandbox`: a local Google for Play billing, so the whole flow can be tried and
//! tested without a phone or a Google account.
//!
//! What it serves (one HTTP server, one base URL):
//! - `POST /token`: the OAuth 2.0 token endpoint (JWT-bearer grant) for the service-account
//!   key file it writes on start ([`keys`], [`oauth`]).
//! - `/androidpublisher/v3/...`: the Play Developer API, per the discovery document, with
//!   Google's error envelope. Purchases and their lifecycle ([`play`], [`manage`]: cancel /
//!   defer / revoke), orders and refund reviews ([`orders`], over the ledger of every charge),
//!   the catalog ([`catalog`]), external transactions ([`external`]); per-package quotas
//!   ([`quota`]).
//! - `/v1/projects/...`: Cloud Pub/Sub v1 (topics, subscriptions, publish, pull,
//!   acknowledge, modifyAckDeadline); every RTDN is published to a topic here ([`pubsub`]).
//! - `/storage/v1/...`: the Cloud Storage JSON API serving the Play Console reports bucket,
//!   earnings and sales ZIPs generated from the order ledger ([`storage`]).
//! - `/sandbox/v1/...`: the control API — products, purchases and their lifecycle actions,
//!   clock, faults, request log, delivery switches ([`control`]).
//!
//! Billing time is a clock of its own ([`state::World::advance_to`]): subscriptions renew, go
//! into grace and hold and expire as it passes ([`lifecycle`]), and every change publishes
//! the RTDN Google would (readable at `/sandbox/v1/notifications`).
//!
//! Push subscriptions get wrapped envelopes with OIDC tokens signed by the sandbox, verifiable
//! against its JWKS (`/oauth2/v3/certs`) ([`push`]).
//!
//! The sandbox shares no state with the server: they talk over HTTP only.

pub mod catalog;
pub mod control;
pub mod error;
pub mod external;
pub mod forward;
pub mod keys;
pub mod lifecycle;
pub mod manage;
pub mod oauth;
pub mod orders;
pub mod period;
pub mod play;
pub mod pubsub;
pub mod push;
pub mod quota;
pub mod state;
pub mod storage;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::error::GoogleApiError;
use crate::keys::{IssuedKey, write_key_file};
use crate::state::{LoggedRequest, Shared, World};

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where to write the service-account key file.
    pub key_file: PathBuf,
    /// GCP project id written into the key file (6+ characters, as Google requires).
    pub project_id: String,
    /// Also forward every RTDN to this external Pub/Sub topic.
    pub forward: Option<forward::ForwardTarget>,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot create the service-account key: {0}")]
    Key(String),
    #[error("forward target: {0}")]
    Forward(String),
    #[error("cannot write the key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A bound, ready sandbox. Call [`Sandbox::run_until_stopped`] to serve.
pub struct Sandbox {
    listener: TcpListener,
    shared: Shared,
    base_url: String,
    key_file: PathBuf,
    client_email: String,
}

impl Sandbox {
    /// Binds the listener, makes a key and writes the key file.
    pub async fn bind(config: SandboxConfig) -> Result<Self, SandboxError> {
        if let Some(f) = &config.forward {
            f.validate().map_err(SandboxError::Forward)?;
        }
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SandboxError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let client_email = format!("playbill@{}.iam.gserviceaccount.com", config.project_id);
        let key = IssuedKey::generate(&client_email).map_err(SandboxError::Key)?;
        write_key_file(
            &config.key_file,
            &key.key_file_json(&config.project_id, &base_url),
        )
        .map_err(|source| SandboxError::KeyFile {
            path: config.key_file.clone(),
            source,
        })?;
        let oidc = push::OidcSigner::generate().map_err(SandboxError::Key)?;
        let mut world = World::new(base_url.clone(), config.project_id.clone(), oidc);
        world.keys.insert(key.kid.clone(), key);
        world.forward_target = config.forward.clone();
        Ok(Self {
            listener,
            shared: Shared::new(world),
            base_url,
            key_file: config.key_file,
            client_email,
        })
    }

    /// `http://HOST:PORT`, the root URL of every API the sandbox serves.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// What it serves, each with the URL a client points at.
    pub fn service_urls(&self) -> Vec<(&'static str, String)> {
        let b = &self.base_url;
        let world = self.shared.lock();
        vec![
            ("OAuth token endpoint", format!("{b}/token")),
            ("Play Developer API", format!("{b}/androidpublisher/v3/")),
            (
                "Pub/Sub (RTDN topic)",
                format!("{b}/v1/{}", world.rtdn_topic),
            ),
            (
                "Cloud Storage (reports bucket)",
                format!("{b}/storage/v1/b/{}", world.reports.settings.bucket),
            ),
            ("OIDC certificates", format!("{b}/oauth2/v3/certs")),
            ("control API", format!("{b}/sandbox/v1/")),
        ]
    }

    /// Creates or replaces a product, as `POST /sandbox/v1/apps/{package}/products` does.
    pub fn add_product(
        &self,
        package: &str,
        product_id: &str,
        kind: state::Kind,
        billing_period: period::Period,
    ) {
        self.shared.lock().products.insert(
            (package.to_owned(), product_id.to_owned()),
            state::Product {
                package_name: package.to_owned(),
                product_id: product_id.to_owned(),
                kind,
                base_plan_id: "monthly".into(),
                billing_period,
                grace_days: control::DEFAULT_GRACE_DAYS,
                hold_days: 60 - control::DEFAULT_GRACE_DAYS,
                price_micros: state::DEFAULT_PRICE_MICROS,
                currency: "USD".into(),
                prepaid: false,
                installments: None,
            },
        );
        let w = &mut *self.shared.lock();
        let product = &w.products[&(package.into(), product_id.into())];
        w.catalog.sync_from_control(product);
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.shared.lock().forward_tx = Some(tx);
        let forwarder = tokio::spawn(forward::run(rx));
        let pusher = tokio::spawn(push::run(self.shared.clone()));
        let result = axum::serve(self.listener, router(self.shared.clone()))
            .with_graceful_shutdown(shutdown)
            .await;
        // Closing the channel lets the forwarder finish what it holds.
        self.shared.lock().forward_tx = None;
        pusher.abort();
        let _ = forwarder.await;
        result
    }
}

/// All routes: Google's (logged, fault-injectable) and the control API.
pub fn router(shared: Shared) -> Router {
    let ap = "/androidpublisher/v3/applications/{packageName}/purchases";
    let google = Router::new()
        .route("/token", post(oauth::token))
        .route(
            &format!("{ap}/products/{{productId}}/tokens/{{token}}"),
            get(play::products_get).post(play::products_post),
        )
        .route(
            &format!("{ap}/productsv2/tokens/{{token}}"),
            get(play::productsv2_get),
        )
        .route(
            &format!("{ap}/subscriptionsv2/tokens/{{token}}"),
            get(play::subscriptionsv2_get).post(play::subscriptionsv2_post),
        )
        .route(
            "/androidpublisher/v3/applications/{packageName}/orders/{segment}",
            get(orders::get).post(orders::post),
        )
        .route(
            "/androidpublisher/v3/applications/{packageName}/orders:batchGet",
            get(orders::batch_get),
        )
        .route(&format!("{ap}/voidedpurchases"), get(play::voided_list))
        .route(
            &format!("{ap}/subscriptions/{{subscriptionId}}/tokens/{{token}}"),
            post(play::subscriptions_post),
        )
        .merge(catalog::routes())
        .merge(external::routes())
        .merge(storage::routes())
        .layer(middleware::from_fn_with_state(shared.clone(), google_front));
    let control = Router::new()
        .route(
            "/sandbox/v1/apps/{package}/products",
            post(control::create_product).get(control::list_products),
        )
        .route(
            "/sandbox/v1/apps/{package}/purchases",
            post(control::create_purchase),
        )
        .route(
            "/sandbox/v1/apps/{package}/purchases/{segment}",
            post(control::purchase_action),
        )
        .route("/sandbox/v1/clock", get(control::get_clock))
        .route("/sandbox/v1/clock:advance", post(control::advance_clock))
        .route("/sandbox/v1/clock:set", post(control::set_clock))
        .route(
            "/sandbox/v1/faults",
            post(control::add_fault).delete(control::clear_faults),
        )
        .route("/sandbox/v1/requests", get(control::requests))
        .route("/sandbox/v1/notifications", get(control::notifications))
        .route(
            "/sandbox/v1/rtdn",
            get(control::get_rtdn).put(control::put_rtdn),
        )
        .route(
            "/sandbox/v1/delivery",
            get(push::get_delivery).put(push::put_delivery),
        )
        .route("/oauth2/v3/certs", get(push::certs))
        .route(
            "/sandbox/v1/quotas",
            get(quota::get_quotas).put(quota::put_quotas),
        )
        .merge(storage::control_routes())
        .merge(external::control_routes());
    let pubsub = Router::new()
        .route("/v1/projects/{project}/topics", get(pubsub::list_topics))
        .route(
            "/v1/projects/{project}/subscriptions",
            get(pubsub::list_subscriptions),
        )
        .route(
            "/v1/projects/{project}/topics/{topic}/subscriptions",
            get(pubsub::list_topic_subscriptions),
        )
        .route(
            "/v1/projects/{project}/topics/{topic}",
            axum::routing::put(pubsub::create_topic)
                .get(pubsub::get_topic)
                .delete(pubsub::delete_topic)
                .post(pubsub::topic_action),
        )
        .route(
            "/v1/projects/{project}/subscriptions/{subscription}",
            axum::routing::put(pubsub::create_subscription)
                .get(pubsub::get_subscription)
                .delete(pubsub::delete_subscription)
                .post(pubsub::subscription_action),
        );
    google
        .merge(control)
        .merge(pubsub)
        .fallback(method_not_found)
        // A known path with another HTTP method is, to Google, just as unknown a method.
        .method_not_allowed_fallback(method_not_found)
        .with_state(shared)
}

async fn method_not_found() -> GoogleApiError {
    GoogleApiError::new(StatusCode::NOT_FOUND, "notFound", "Method not found.")
}

/// Google's front end: injected faults first, then the call, then the request log.
async fn google_front(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let fault = {
        let mut world = shared.lock();
        let now = world.now();
        world.run_until(now);
        world.take_fault(&path)
    };
    let resp = match fault {
        Some(f) => {
            let status = StatusCode::from_u16(f.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut e = GoogleApiError::new(
                status,
                if status.as_u16() == 429 {
                    "rateLimitExceeded"
                } else {
                    "backendError"
                },
                format!("injected fault: HTTP {}", f.status),
            );
            e.retry_after = f.retry_after_seconds;
            e.into_response()
        }
        None => next.run(req).await,
    };
    shared.lock().requests.push(LoggedRequest {
        method,
        path,
        status: resp.status().as_u16(),
    });
    resp
}
