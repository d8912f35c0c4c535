//! `playbill`: the one binary. Subcommands:
//! - `serve`: the HTTP API (optionally with the built-in sandbox as its Google);
//! - `sandbox`: the local Google on its own;
//! - `migrate`: apply database migrations and exit;
//! - `bench`: measure notification throughput, entitlement reads and Play reads.
//!
//! The first lines on stdout name each chosen address (`playbill listening on http://ADDR`,
//! `sandbox listening on http://ADDR`) so scripts can read them; logs go to stderr.

mod bench;
mod operator;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use playbill_sandbox::forward::ForwardTarget;
use playbill_sandbox::period::Period;
use playbill_sandbox::state::Kind;
use playbill_sandbox::{Sandbox, SandboxConfig};
use playbill_server::config::{ApiKeySetting, AppSetting, KeyRole, ReportsSettings};
use playbill_server::{Application, Settings};
use tokio::sync::watch;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEMO_PACKAGE: &str = "com.example.playbill.demo";
const DEMO_API_KEY: &str = "playbill-demo-key";
/// The demo's operator key (grants, refund reviews, quarantine).
const DEMO_ADMIN_KEY: &str = "playbill-demo-admin-key";

#[derive(Parser)]
#[command(
    name = "playbill",
    version,
    about = "Self-hosted Google Play billing backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve {
        /// TOML configuration file (PLAYBILL_* environment variables override it).
        #[arg(long, env = "PLAYBILL_CONFIG")]
        config: Option<PathBuf>,
        /// Address to listen on (overrides the configuration); port 0 picks a free port.
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Run the built-in Play sandbox in-process and use it as Google
        /// (with a demo app, catalog and API key when none are configured).
        #[arg(long)]
        sandbox: bool,
        /// Address of the built-in sandbox.
        #[arg(long, default_value = "127.0.0.1:8081")]
        sandbox_listen: SocketAddr,
        /// Directory for the default SQLite database and the sandbox key file.
        #[arg(long, default_value = "playbill-data")]
        data_dir: PathBuf,
    },
    /// Run the local Google Play sandbox on its own.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// Where to write the service-account key file.
        #[arg(long, default_value = "playbill-data/sandbox-service-account.json")]
        key_file: PathBuf,
        /// GCP project id written into the key file.
        #[arg(long, default_value = "playbill-sandbox")]
        project_id: String,
        /// Also forward every RTDN to an external Pub/Sub (root URL, e.g. the emulator's
        /// http://127.0.0.1:8085); needs --forward-topic.
        #[arg(long, requires = "forward_topic")]
        forward_pubsub: Option<String>,
        /// The external topic, projects/PROJECT/topics/TOPIC.
        #[arg(long, requires = "forward_pubsub")]
        forward_topic: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long, env = "PLAYBILL_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, default_value = "playbill-data")]
        data_dir: PathBuf,
    },
    /// Financial reports, through a running playbill's API (admin key).
    Reports {
        #[command(subcommand)]
        action: operator::Action,
        #[command(flatten)]
        remote: operator::Remote,
    },
    /// The catalog, through a running playbill's API (admin key).
    Catalog {
        #[command(subcommand)]
        action: operator::CatalogAction,
        #[command(flatten)]
        remote: operator::Remote,
    },
    /// Measure, in-process against the sandbox: notifications by push, entitlement reads
    /// and Play API reads per notification, on SQLite and PostgreSQL; prints a report.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Bench(_)));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; `quiet` (the benchmark) logs warnings only unless `RUST_LOG` says.
fn init_logging(quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if quiet {
        "warn"
    } else {
        "info,sqlx=warn,tower_http=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("PLAYBILL_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command) -> Result<(), BoxError> {
    match command {
        Command::Serve {
            config,
            listen,
            sandbox,
            sandbox_listen,
            data_dir,
        } => serve(config, listen, sandbox, sandbox_listen, data_dir).await,
        Command::Sandbox {
            listen,
            key_file,
            project_id,
            forward_pubsub,
            forward_topic,
        } => {
            let forward = forward_pubsub
                .zip(forward_topic)
                .map(|(pubsub_url, topic)| ForwardTarget { pubsub_url, topic });
            let sb = Sandbox::bind(SandboxConfig {
                listen,
                key_file,
                project_id,
                forward,
            })
            .await?;
            say(&format!("sandbox listening on {}", sb.base_url()));
            say(&format!("sandbox key file {}", sb.key_file().display()));
            for (what, url) in sb.service_urls() {
                say(&format!("sandbox {what}: {url}"));
            }
            let stop = shutdown_signal();
            sb.run_until_stopped(wait(stop)).await?;
            Ok(())
        }
        Command::Migrate { config, data_dir } => {
            let settings = Settings::load(config.as_deref(), &data_dir)?;
            let store = playbill_store::Store::connect(&settings.database_url).await?;
            store.migrate().await?;
            store.close().await;
            say("migrations applied");
            Ok(())
        }
        Command::Bench(args) => bench::run(args).await,
        Command::Catalog { action, remote } => operator::run_catalog(action, &remote).await,
        Command::Reports { action, remote } => operator::run(action, &remote).await,
    }
}

async fn serve(
    config: Option<PathBuf>,
    listen: Option<SocketAddr>,
    with_sandbox: bool,
    sandbox_listen: SocketAddr,
    data_dir: PathBuf,
) -> Result<(), BoxError> {
    let mut settings = Settings::load(config.as_deref(), &data_dir)?;
    if let Some(listen) = listen {
        settings.listen = listen;
    }
    let stop = shutdown_signal();
    let mut tasks = tokio::task::JoinSet::new();
    let mut demo = None;

    if with_sandbox {
        let sb = Sandbox::bind(SandboxConfig {
            listen: sandbox_listen,
            key_file: data_dir.join("sandbox-service-account.json"),
            project_id: "playbill-sandbox".into(),
            forward: None,
        })
        .await?;
        say(&format!("sandbox listening on {}", sb.base_url()));
        settings.google.androidpublisher_url = format!("{}/", sb.base_url());
        for app in &mut settings.apps {
            app.service_account_key = sb.key_file().to_path_buf();
        }
        // The sandbox's reports bucket, so `playbill reports` works on the demo too.
        let reports = settings.reports.get_or_insert_with(|| ReportsSettings {
            bucket: playbill_sandbox::storage::DEFAULT_BUCKET.into(),
            service_account_key: sb.key_file().to_path_buf(),
            storage_url: String::new(),
            import_interval_ms: 3_600_000,
        });
        reports.storage_url = format!("{}/", sb.base_url());
        reports.service_account_key = sb.key_file().to_path_buf();
        if settings.apps.is_empty() {
            seed_demo(&sb, &mut settings);
            demo = Some(sb.base_url().to_owned());
        }
        if settings.api_keys.is_empty() {
            settings.api_keys.push(ApiKeySetting {
                name: "demo".into(),
                key: DEMO_API_KEY.into(),
                role: KeyRole::App,
            });
            settings.api_keys.push(ApiKeySetting {
                name: "demo-admin".into(),
                key: DEMO_ADMIN_KEY.into(),
                role: KeyRole::Admin,
            });
        }
        let stop = stop.clone();
        tasks.spawn(async move { ("sandbox", sb.run_until_stopped(wait(stop)).await) });
    }

    let app = Application::build(settings).await?;
    let addr = app.local_addr();
    say(&format!("playbill listening on http://{addr}"));
    if let Some(sandbox_url) = demo {
        print_demo(&format!("http://{addr}"), &sandbox_url);
    }
    let server_stop = stop.clone();
    tasks.spawn(async move { ("playbill", app.run_until_stopped(wait(server_stop)).await) });

    // Whichever stops first (a signal, or a server failing) stops the rest.
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((name, Ok(()))) => tracing::info!("{name} stopped"),
            Ok((name, Err(e))) => {
                tracing::error!(error = %e, "{name} failed");
                failure.get_or_insert_with(|| format!("{name}: {e}"));
            }
            Err(e) => {
                failure.get_or_insert_with(|| format!("task: {e}"));
            }
        }
        let _ = stop.send(true);
    }
    match failure {
        Some(f) => Err(f.into()),
        None => Ok(()),
    }
}

/// The demo app: a subscription, a non-consumable and a consumable.
fn seed_demo(sb: &Sandbox, settings: &mut Settings) {
    let month = Period {
        years: 0,
        months: 1,
        days: 0,
    };
    sb.add_product(DEMO_PACKAGE, "premium_monthly", Kind::Subscription, month);
    sb.add_product(DEMO_PACKAGE, "remove_ads", Kind::OneTime, month);
    sb.add_product(DEMO_PACKAGE, "coins_100", Kind::OneTime, month);
    settings.apps.push(AppSetting {
        package_name: DEMO_PACKAGE.into(),
        service_account_key: sb.key_file().to_path_buf(),
        account_id_rule: Default::default(),
        consumables: vec!["coins_100".into()],
        entitlements: BTreeMap::from([
            ("premium_monthly".into(), vec!["premium".into()]),
            ("remove_ads".into(), vec!["no_ads".into()]),
            ("coins_100".into(), vec!["coins".into()]),
        ]),
        refund_reviews: Default::default(),
    });
}

fn print_demo(api: &str, sandbox: &str) {
    let token = format!("demo-{}", std::process::id());
    let key = DEMO_API_KEY;
    let admin = DEMO_ADMIN_KEY;
    let pkg = DEMO_PACKAGE;
    say(&format!(
        r#"
Demo app {pkg} is ready (products: premium_monthly, remove_ads, coins_100).
Try it from another terminal:

# 1. A user buys premium_monthly (the sandbox plays the Play Store):
curl -s -X POST {sandbox}/sandbox/v1/apps/{pkg}/purchases -H 'Content-Type: application/json' -d '{{"product_id":"premium_monthly","purchase_token":"{token}"}}'

# 2. Your app sends the token to playbill, which verifies it with Google and grants it to alice:
curl -s -X POST {api}/v1/apps/{pkg}/purchases:verify -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' -d '{{"user_id":"alice","product_id":"premium_monthly","purchase_token":"{token}","type":"subscription"}}'

# 3. alice's entitlements, on any device:
curl -s {api}/v1/apps/{pkg}/users/alice/entitlements -H 'Authorization: Bearer {key}'

# 4. alice also paid on the web: an operator grants the same right from another source (admin key):
curl -s -X POST {api}/v1/apps/{pkg}/users/alice/grants -H 'Authorization: Bearer {admin}' -H 'Content-Type: application/json' -d '{{"entitlement":"no_ads","source":"stripe"}}'

Press Ctrl-C to stop."#
    ));
}

fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A channel that turns true on Ctrl-C or SIGTERM.
fn shutdown_signal() -> watch::Sender<bool> {
    let (tx, _) = watch::channel(false);
    let signal_tx = tx.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
        tracing::info!("shutting down");
        let _ = signal_tx.send(true);
    });
    tx
}

fn wait(tx: watch::Sender<bool>) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut rx = tx.subscribe();
    async move {
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
