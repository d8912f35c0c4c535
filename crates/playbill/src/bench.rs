//! `playbill bench`: one run that measures and prints issue 4's figures.
//!
//! Per database (a fresh SQLite file, then a fresh PostgreSQL database) it starts, in this
//! process, the sandbox and the server with notifications by Pub/Sub push configured as the
//! API tests do (OIDC tokens signed by the sandbox), and measures:
//! - (a) notifications processed per second end to end (sandbox action → push → server →
//!   Google re-read → store), beside the raw rate of durable single-row upserts of the same
//!   database through the same pool settings;
//! - (b) entitlement reads at many keep-alive connections against `GET /livez` of the
//!   same server (a route that touches nothing), and `GET /healthz` (one database ping);
//! - (c) Play Developer API reads per notification, from the sandbox's request log, and per
//!   duplicate delivery (with the sandbox's duplicate switch on).
//!
//! It reports; it asserts nothing: every target is printed PASS or MISS and the exit status
//! is 0 as long as the measurements could run.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use playbill_sandbox::{Sandbox, SandboxConfig};
use playbill_server::config::{
    ApiKeySetting, AppSetting, GoogleSettings, RetrySettings, RtdnSettings,
};
use playbill_server::oidc::PushAuthSettings;
use playbill_server::state::AppState;
use playbill_server::{Application, Clock, Settings};
use serde_json::{Value, json};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::BoxError;

/// Push deliveries the sandbox keeps under way at once during (a). Pub/Sub widens its push
/// window while the endpoint keeps answering 2xx, far beyond this; 64 is a modest window.
const PUSH_OUTSTANDING: usize = 64;
const PKG: &str = "com.example.bench";
const PRODUCT: &str = "premium";
const KEY: &str = "playbill-bench-key-0123456789";
const PROJECT: &str = "playbill-bench";
const TOPIC: &str = "projects/playbill-bench/topics/play-billing";
const PUSH_SUBSCRIPTION: &str = "projects/playbill-bench/subscriptions/playbill-push";
const PUSHER: &str = "pubsub-push@playbill-bench.iam.gserviceaccount.com";
const AUDIENCE: &str = "https://playbill.bench/v1/rtdn";

/// The sandbox's per-minute Play API quota during the bench (Google's default is 3000).
const QUOTA_PER_MINUTE: u32 = 10_000_000;
/// Concurrent drivers of lifecycle actions in (a).
const DRIVERS: usize = 8;
/// Notifications published but not yet processed that the driver of (a) keeps at most.
const BACKLOG: u64 = 100;
/// How long a duplicate copy is given to arrive after its first delivery was processed.
const DUPLICATE_WAIT: Duration = Duration::from_millis(250);

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    seconds: u64,
    /// PostgreSQL server to create a scratch database on (dropped afterwards).
    #[arg(
        long,
        default_value = "postgres://postgres@127.0.0.1:5432/test",
        conflicts_with = "no_postgres"
    )]
    postgres: String,
    /// Measure SQLite only.
    #[arg(long)]
    no_postgres: bool,
    /// Concurrent keep-alive connections of the read benchmark.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    connections: u64,
}

/// Everything measured on one database.
struct Report {
    backend: &'static str,
    subscriptions: usize,
    // (a)
    raw_upserts: u64,
    raw_secs: f64,
    processed_in_window: u64,
    window_secs: f64,
    actions: u64,
    drained: bool,
    metrics_processed: u64,
    rows_done: i64,
    server_ms_total: i64,
    // (b)
    entitlements: Load,
    healthz: Load,
    livez: Load,
    google_calls_during_reads: usize,
    // (c)
    distinct: usize,
    reads: usize,
    dup_distinct: usize,
    dup_first_reads: usize,
    dup_reads: usize,
}

impl Report {
    fn push_rate(&self) -> f64 {
        self.processed_in_window as f64 / self.window_secs
    }
    fn raw_rate(&self) -> f64 {
        self.raw_upserts as f64 / self.raw_secs
    }
    fn push_ratio(&self) -> f64 {
        pct(self.push_rate(), self.raw_rate())
    }
    fn read_ratio(&self) -> f64 {
        pct(self.entitlements.rate(), self.livez.rate())
    }
    fn reads_per_distinct(&self) -> f64 {
        per(self.reads, self.distinct)
    }
    fn reads_per_duplicate(&self) -> f64 {
        per(self.dup_reads, self.dup_distinct)
    }
}

fn pct(a: f64, b: f64) -> f64 {
    if b > 0.0 { 100.0 * a / b } else { 0.0 }
}

fn per(a: usize, b: usize) -> f64 {
    if b > 0 { a as f64 / b as f64 } else { f64::NAN }
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// Which build runs: benchmarks belong to the optimised one (`cargo run --release`).
fn build() -> &'static str {
    if cfg!(debug_assertions) {
        "dev-profile build (our code unoptimised: measure with --release)"
    } else {
        "release build"
    }
}

pub async fn run(args: BenchArgs) -> Result<(), BoxError> {
    let cores = cores();
    say(&format!(
        "playbill bench: {} on this machine ({cores} cores, shared);\nload generator, \
         sandbox and server in one process (tokio, {cores} worker threads). {} s per \
         measurement.",
        build(),
        args.seconds
    ));

    let mut reports = Vec::new();
    let mut failures = Vec::new();

    let dir = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    match bench_backend("SQLite", &sqlite_url, dir.path(), &args).await {
        Ok(r) => {
            print_report(&r, &args);
            reports.push(r);
        }
        Err(e) => {
            say(&format!("\nSQLite: the benchmark failed: {e}"));
            failures.push(format!("SQLite: {e}"));
        }
    }

    if args.no_postgres {
        say("\nPostgreSQL: skipped (--no-postgres).");
    } else {
        match ScratchDb::create(&args.postgres).await {
            Err(e) => say(&format!(
                "\nPostgreSQL: skipped, cannot create a scratch database on {}: {e}",
                redact(&args.postgres)
            )),
            Ok(db) => {
                let result = bench_backend("PostgreSQL", &db.url, dir.path(), &args).await;
                db.drop_db().await;
                match result {
                    Ok(r) => {
                        print_report(&r, &args);
                        reports.push(r);
                    }
                    Err(e) => {
                        say(&format!("\nPostgreSQL: the benchmark failed: {e}"));
                        failures.push(format!("PostgreSQL: {e}"));
                    }
                }
            }
        }
    }

    print_summary(&reports);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; ").into())
    }
}

/// Progress, on stderr (the report is stdout).
fn progress(backend: &str, what: &str) {
    eprintln!("bench: {backend}: {what}");
}

fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

/// A PostgreSQL database that exists for one run.
struct ScratchDb {
    admin: String,
    name: String,
    url: String,
}

impl ScratchDb {
    async fn create(admin: &str) -> Result<Self, BoxError> {
        sqlx::any::install_default_drivers();
        let (base, rest) = admin
            .rsplit_once('/')
            .filter(|(b, _)| b.contains("://") && !b.ends_with('/'))
            .ok_or("the PostgreSQL URL names no database")?;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect(admin)
            .await?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "playbill_bench_{}_{:x}",
            std::process::id(),
            nanos & 0xffff_ffff
        );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await?;
        pool.close().await;
        let query = rest.split_once('?').map(|(_, q)| format!("?{q}"));
        Ok(Self {
            admin: admin.to_owned(),
            url: format!("{base}/{name}{}", query.unwrap_or_default()),
            name,
        })
    }

    async fn drop_db(self) {
        let dropped = async {
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&self.admin)
                .await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&pool)
            .await?;
            pool.close().await;
            Ok::<_, sqlx::Error>(())
        };
        if let Err(e) = dropped.await {
            eprintln!(
                "bench: could not drop the scratch database {}: {e}",
                self.name
            );
        }
    }
}

/// A sandbox and a server on one database, and a client for both.
struct Rig {
    api: String,
    sandbox: String,
    http: reqwest::Client,
    state: AppState,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

fn addr0() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl Rig {
    async fn start(database_url: &str, tmp: &Path) -> Result<Self, BoxError> {
        let dir = tempfile::tempdir_in(tmp)?;
        let (stop, _) = watch::channel(false);
        let stopped = |tx: &watch::Sender<bool>| {
            let mut rx = tx.subscribe();
            async move {
                let _ = rx.wait_for(|s| *s).await;
            }
        };
        let sb = Sandbox::bind(SandboxConfig {
            listen: addr0(),
            key_file: dir.path().join("key.json"),
            project_id: PROJECT.into(),
            forward: None,
        })
        .await?;
        let sandbox = sb.base_url().to_owned();
        let key_file = sb.key_file().to_path_buf();
        let mut tasks = vec![tokio::spawn(sb.run_until_stopped(stopped(&stop)))];

        let settings = Settings {
            listen: addr0(),
            database_url: database_url.to_owned(),
            google: GoogleSettings {
                androidpublisher_url: format!("{sandbox}/"),
                request_timeout_ms: 5_000,
                retry: RetrySettings {
                    max_attempts: 3,
                    initial_backoff_ms: 10,
                    max_backoff_ms: 50,
                },
            },
            api_keys: vec![ApiKeySetting {
                name: "bench".into(),
                key: KEY.into(),
                role: Default::default(),
            }],
            apps: vec![AppSetting {
                package_name: PKG.into(),
                service_account_key: key_file,
                account_id_rule: Default::default(),
                consumables: vec![],
                entitlements: [(PRODUCT.to_owned(), vec!["pro".to_owned()])]
                    .into_iter()
                    .collect(),
                refund_reviews: Default::default(),
            }],
            rtdn: Some(RtdnSettings {
                subscription: PUSH_SUBSCRIPTION.into(),
                push_path: "/v1/rtdn".into(),
                push_auth: PushAuthSettings {
                    jwks_url: format!("{sandbox}/oauth2/v3/certs"),
                    audience: AUDIENCE.into(),
                    service_account_email: PUSHER.into(),
                    ..PushAuthSettings::default()
                },
            }),
            // Whatever else a server has (background jobs, pull…) stays at its default.
            ..Settings::defaults(dir.path())
        };
        let app = match Application::build_with_clock(settings, Clock::system()).await {
            Ok(app) => app,
            Err(e) => {
                let _ = stop.send(true);
                return Err(format!("the server does not start: {e}").into());
            }
        };
        let api = format!("http://{}", app.local_addr());
        let state = app.state();
        tasks.push(tokio::spawn(app.run_until_stopped(stopped(&stop))));
        Ok(Self {
            api,
            sandbox,
            http: reqwest::Client::new(),
            state,
            stop,
            tasks,
            _dir: dir,
        })
    }

    async fn shut_down(self) {
        drop(self.http);
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }

    /// A call to the sandbox; an error unless 2xx.
    async fn sandbox_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BoxError> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.sandbox));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if !status.is_success() {
            return Err(format!("sandbox {method} {path}: {status} {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn control(&self, path: &str, body: Value) -> Result<Value, BoxError> {
        self.sandbox_call(
            reqwest::Method::POST,
            &format!("/sandbox/v1/{path}"),
            Some(body),
        )
        .await
    }

    /// A user buys the subscription and the app verifies it; returns the purchase token.
    async fn subscribe(&self, user: &str) -> Result<String, BoxError> {
        let bought = self
            .control(
                &format!("apps/{PKG}/purchases"),
                json!({"product_id": PRODUCT}),
            )
            .await?;
        let token = bought["purchase_token"]
            .as_str()
            .ok_or("the sandbox returned no purchase_token")?
            .to_owned();
        let resp = self
            .http
            .post(format!("{}/v1/apps/{PKG}/purchases:verify", self.api))
            .bearer_auth(KEY)
            .json(&json!({"user_id": user, "product_id": PRODUCT,
                          "purchase_token": token, "type": "subscription"}))
            .send()
            .await?;
        let status = resp.status();
        if !status.is_success() {
            let text = resp.text().await.unwrap_or_default();
            return Err(format!("verify for {user}: {status} {text}").into());
        }
        Ok(token)
    }

    async fn action(&self, token: &str, action: &str) -> Result<(), BoxError> {
        self.control(&format!("apps/{PKG}/purchases/{token}:{action}"), json!({}))
            .await
            .map(|_| ())
    }

    /// Makes the sandbox push every notification to the server, as the API tests do.
    async fn push_notifications(&self) -> Result<(), BoxError> {
        self.sandbox_call(
            reqwest::Method::PUT,
            &format!("/v1/{PUSH_SUBSCRIPTION}"),
            Some(json!({
                "topic": TOPIC,
                "pushConfig": {"pushEndpoint": format!("{}/v1/rtdn", self.api),
                               "oidcToken": {"serviceAccountEmail": PUSHER, "audience": AUDIENCE}},
                "retryPolicy": {"minimumBackoff": "0.05s", "maximumBackoff": "0.5s"}
            })),
        )
        .await
        .map(|_| ())
    }

    async fn duplicate_delivery(&self, on: bool) -> Result<(), BoxError> {
        self.sandbox_call(
            reqwest::Method::PUT,
            "/sandbox/v1/delivery",
            Some(json!({"duplicate": on})),
        )
        .await
        .map(|_| ())
    }

    /// Notifications the sandbox published so far.
    async fn published(&self) -> Result<usize, BoxError> {
        let v = self
            .sandbox_call(reqwest::Method::GET, "/sandbox/v1/notifications", None)
            .await?;
        Ok(v["notifications"].as_array().map_or(0, Vec::len))
    }

    /// Google calls the sandbox answered so far: (all, purchase reads).
    async fn google_calls(&self) -> Result<(usize, usize), BoxError> {
        let v = self
            .sandbox_call(reqwest::Method::GET, "/sandbox/v1/requests", None)
            .await?;
        let log = v["requests"].as_array().cloned().unwrap_or_default();
        let reads = log
            .iter()
            .filter(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                r["method"] == "GET"
                    && (path.contains("/purchases/subscriptionsv2/tokens/")
                        || path.contains("/purchases/productsv2/tokens/"))
            })
            .count();
        Ok((log.len(), reads))
    }

    async fn reads(&self) -> Result<usize, BoxError> {
        Ok(self.google_calls().await?.1)
    }

    /// The server's counter of processed notifications, read in-process while driving.
    fn processed(&self) -> u64 {
        self.state.metrics.rtdn_processed.load(Ordering::Relaxed)
    }

    /// The same counter as `GET /metrics` serves it.
    async fn metrics_processed(&self) -> Result<u64, BoxError> {
        let text = self
            .http
            .get(format!("{}/metrics", self.api))
            .send()
            .await?
            .text()
            .await?;
        text.lines()
            .find_map(|l| l.strip_prefix("playbill_rtdn_processed_total "))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| "no playbill_rtdn_processed_total in /metrics".into())
    }

    /// Waits until the server processed `target` notifications; false after `limit`.
    async fn wait_processed(&self, target: u64, limit: Duration) -> bool {
        let started = Instant::now();
        while self.processed() < target {
            if started.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

/// Lifecycle actions round-robin over some subscriptions: each alternates `cancel` (by the
/// user) and `restore`, each of which publishes one notification.
struct Driver {
    tokens: Vec<String>,
    /// Whether each subscription is canceled now.
    canceled: Vec<bool>,
    next: usize,
}

impl Driver {
    /// `parts` drivers that share `tokens` out between them.
    fn split(tokens: &[String], parts: usize) -> Vec<Self> {
        (0..parts)
            .map(|d| {
                let tokens: Vec<String> = tokens.iter().skip(d).step_by(parts).cloned().collect();
                Self {
                    canceled: vec![false; tokens.len()],
                    tokens,
                    next: 0,
                }
            })
            .filter(|d| !d.tokens.is_empty())
            .collect()
    }

    fn next(&mut self) -> (&str, &'static str) {
        let i = self.next % self.tokens.len();
        self.next += 1;
        let action = if self.canceled[i] {
            "restore"
        } else {
            "cancel"
        };
        self.canceled[i] = !self.canceled[i];
        (&self.tokens[i], action)
    }
}

/// One durable single-row upsert after another (each its own autocommit transaction) for
/// `secs`; returns (upserts, seconds).
async fn raw_upserts(pool: &AnyPool, secs: u64) -> Result<(u64, f64), BoxError> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS bench_upsert (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)",
    )
    .await?;
    let window = Duration::from_secs(secs);
    let started = Instant::now();
    let mut n: i64 = 0;
    while started.elapsed() < window {
        sqlx::query(
            "INSERT INTO bench_upsert (id, n) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET n = excluded.n",
        )
        .bind(n % 1024)
        .bind(n)
        .execute(pool)
        .await?;
        n += 1;
    }
    Ok((n.unsigned_abs(), started.elapsed().as_secs_f64()))
}

/// Requests of one kind at many connections: latencies in microseconds, sorted.
struct Load {
    latencies_us: Vec<u32>,
    errors: u64,
    secs: f64,
}

impl Load {
    fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.secs
    }

    /// Nearest-rank percentile, in milliseconds.
    fn pct_ms(&self, p: f64) -> f64 {
        let n = self.latencies_us.len();
        if n == 0 {
            return f64::NAN;
        }
        let rank = ((n as f64 * p).ceil() as usize).clamp(1, n);
        f64::from(self.latencies_us[rank - 1]) / 1000.0
    }
}

/// `connections` tasks, each looping GETs over `urls` on a shared keep-alive client for
/// `secs` (after one warm-up request each, which opens its connection).
async fn load(urls: Arc<Vec<String>>, connections: usize, secs: u64) -> Result<Load, BoxError> {
    let ready = Arc::new(tokio::sync::Barrier::new(connections));
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let urls = urls.clone();
        let ready = ready.clone();
        tasks.spawn(async move {
            let mut conn = RawHttp::connect(&urls[0]).await?;
            let _ = conn.get(&urls[c % urls.len()]).await;
            ready.wait().await;
            let started = Instant::now();
            let window = Duration::from_secs(secs);
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i = c;
            while started.elapsed() < window {
                let sent = Instant::now();
                match conn.get(&urls[i % urls.len()]).await {
                    Ok(200..=299) => latencies
                        .push(u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX)),
                    Ok(_) => errors += 1,
                    Err(_) => {
                        errors += 1;
                        conn = RawHttp::connect(&urls[0]).await?;
                    }
                }
                i += connections;
            }
            Ok::<_, String>((latencies, errors, started.elapsed().as_secs_f64()))
        });
    }
    let mut all = Load {
        latencies_us: Vec::new(),
        errors: 0,
        secs: 0.0,
    };
    while let Some(done) = tasks.join_next().await {
        let (latencies, errors, secs) = done??;
        all.latencies_us.extend(latencies);
        all.errors += errors;
        all.secs = all.secs.max(secs);
    }
    all.latencies_us.sort_unstable();
    Ok(all)
}

/// One keep-alive HTTP/1.1 connection that sends a GET and reads its whole answer before the
/// next: the least work a client can do (no pool, no header map), so that the generator, on
/// the same two cores, takes as little as it can from the server it measures.
struct RawHttp {
    stream: tokio::net::TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl RawHttp {
    /// Connects to the host of `url` (`http://host:port/...`).
    async fn connect(url: &str) -> Result<Self, String> {
        let host = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| format!("not an http:// URL: {url}"))?
            .to_owned();
        let stream = tokio::net::TcpStream::connect(&host)
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self {
            stream,
            host,
            buf: Vec::with_capacity(4096),
        })
    }

    /// GETs `url` (on this connection's host) with the bench's key; returns the status.
    async fn get(&mut self, url: &str) -> Result<u16, String> {
        use tokio::io::AsyncWriteExt;
        let path = url
            .strip_prefix("http://")
            .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
            .unwrap_or("/");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {KEY}\r\n\r\n",
            self.host
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.buf.clear();
        let (status, head, length) = loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).map_err(|e| e.to_string())?;
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse::<u16>().ok())
                    .ok_or("no status line")?;
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())
                            .flatten()
                    })
                    .ok_or("no content-length")?;
                break (status, end + 4, length);
            }
            self.read_more().await?;
        };
        while self.buf.len() < head + length {
            self.read_more().await?;
        }
        Ok(status)
    }

    async fn read_more(&mut self) -> Result<(), String> {
        use tokio::io::AsyncReadExt;
        let mut chunk = [0u8; 4096];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

async fn bench_backend(
    backend: &'static str,
    url: &str,
    tmp: &Path,
    args: &BenchArgs,
) -> Result<Report, BoxError> {
    let rig = Rig::start(url, tmp).await?;
    let result = measure(backend, url, &rig, args).await;
    rig.shut_down().await;
    result
}

async fn measure(
    backend: &'static str,
    url: &str,
    rig: &Rig,
    args: &BenchArgs,
) -> Result<Report, BoxError> {
    let secs = args.seconds;
    let connections = usize::try_from(args.connections)?;
    let n = connections.clamp(16, 256);

    progress(backend, &format!("{n} users buy and verify a subscription"));
    // What is measured is this server, not Google's quota: Google's default of 3000 queries
    // a minute per bucket (reference section 10) would hold re-reads at 50 a second.
    rig.sandbox_call(
        reqwest::Method::PUT,
        "/sandbox/v1/quotas",
        Some(json!({"per_minute": QUOTA_PER_MINUTE})),
    )
    .await?;
    rig.control(
        &format!("apps/{PKG}/products"),
        json!({"product_id": PRODUCT, "type": "subscription"}),
    )
    .await?;
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        tokens.push(rig.subscribe(&format!("bench-user-{i}")).await?);
    }

    progress(backend, "raw single-row upserts");
    let store = playbill_store::Store::connect(url).await?;
    let raw = raw_upserts(store.writer_pool(), secs).await;
    // Closed at once: its cache listener would outlive the scratch database.
    store.close().await;
    let (raw_upserts, raw_secs) = raw?;

    // (a) Push throughput: keep a backlog of notifications, count what gets processed.
    progress(backend, "(a) notifications by push");
    let published0 = rig.published().await?;
    let reads0 = rig.reads().await?;
    let processed0 = rig.processed();
    rig.push_notifications().await?;
    // Pub/Sub pushes many messages at once; so does the sandbox when asked.
    rig.sandbox_call(
        reqwest::Method::PUT,
        "/sandbox/v1/delivery",
        Some(json!({"max_outstanding": PUSH_OUTSTANDING})),
    )
    .await?;
    // Several drivers act at once (one at a time would cap what the sandbox publishes),
    // each on its own subscriptions, keeping at most BACKLOG notifications unprocessed.
    let window = Duration::from_secs(secs);
    let started = Instant::now();
    let actions = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut drivers = tokio::task::JoinSet::new();
    for mut driver in Driver::split(&tokens, DRIVERS) {
        let (http, sandbox, state) = (rig.http.clone(), rig.sandbox.clone(), rig.state.clone());
        let actions = actions.clone();
        drivers.spawn(async move {
            while started.elapsed() < window {
                let processed = state.metrics.rtdn_processed.load(Ordering::Relaxed) - processed0;
                if actions.load(Ordering::Relaxed).saturating_sub(processed) >= BACKLOG {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                }
                actions.fetch_add(1, Ordering::Relaxed);
                let (token, action) = driver.next();
                let url = format!("{sandbox}/sandbox/v1/apps/{PKG}/purchases/{token}:{action}");
                let r = http
                    .post(url)
                    .json(&json!({}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !r.status().is_success() {
                    return Err(format!("sandbox {action}: {}", r.status()));
                }
            }
            Ok(driver)
        });
    }
    let mut driver = None;
    while let Some(done) = drivers.join_next().await {
        driver = Some(done??);
    }
    let mut driver = driver.ok_or("no subscriptions to drive")?;
    let actions = actions.load(Ordering::Relaxed);
    let processed_in_window = rig.processed() - processed0;
    let window_secs = started.elapsed().as_secs_f64();
    let distinct = rig.published().await? - published0;
    progress(
        backend,
        &format!("(a) waiting for all {distinct} notifications to be processed"),
    );
    let drained = rig
        .wait_processed(
            processed0 + distinct as u64,
            Duration::from_secs(60 + 2 * BACKLOG),
        )
        .await;
    let reads = rig.reads().await? - reads0;
    let metrics_processed = rig.metrics_processed().await? - processed0;
    let row = sqlx::query(
        "SELECT COUNT(*) AS n,
                CAST(COALESCE(SUM(processed_at - received_at), 0) AS BIGINT) AS ms
         FROM rtdn_messages WHERE state = 'done'",
    )
    .fetch_one(rig.state.store.writer_pool())
    .await?;
    let rows_done: i64 = row.try_get("n")?;
    let server_ms_total: i64 = row.try_get("ms")?;

    // (c) Duplicates: one notification at a time, each pushed twice (the copy goes to the
    // front of the queue); reads after its first delivery was processed are the copy's.
    progress(backend, "(c) duplicate deliveries");
    rig.duplicate_delivery(true).await?;
    let dup_count = usize::try_from(secs * 4)?.clamp(4, 40);
    let (mut dup_first_reads, mut dup_reads, mut dup_distinct) = (0, 0, 0);
    for _ in 0..dup_count {
        let before = rig.published().await?;
        let r0 = rig.reads().await?;
        let p0 = rig.processed();
        let (token, action) = driver.next();
        rig.action(token, action).await?;
        let published = rig.published().await? - before;
        if !rig
            .wait_processed(p0 + published as u64, Duration::from_secs(30))
            .await
        {
            return Err("(c) a notification was not processed within 30 s".into());
        }
        let r1 = rig.reads().await?;
        tokio::time::sleep(DUPLICATE_WAIT).await;
        let r2 = rig.reads().await?;
        dup_distinct += published;
        dup_first_reads += r1 - r0;
        dup_reads += r2 - r1;
    }
    rig.duplicate_delivery(false).await?;

    // (b) Entitlement reads vs a trivial route of the same server.
    progress(backend, &format!("(b) reads at {connections} connections"));
    let calls0 = rig.google_calls().await?.0;
    let users: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{}/v1/apps/{PKG}/users/bench-user-{i}/entitlements",
                rig.api
            )
        })
        .collect();
    let entitlements = load(Arc::new(users), connections, secs).await?;
    let livez = load(
        Arc::new(vec![format!("{}/livez", rig.api)]),
        connections,
        secs,
    )
    .await?;
    let healthz = load(
        Arc::new(vec![format!("{}/healthz", rig.api)]),
        connections,
        secs,
    )
    .await?;
    // The sandbox logs Google's routes only (not its control API): any call counted here
    // is one the server made while serving the reads.
    let google_calls_during_reads = rig.google_calls().await?.0 - calls0;

    Ok(Report {
        backend,
        subscriptions: n,
        raw_upserts,
        raw_secs,
        processed_in_window,
        window_secs,
        actions,
        drained,
        metrics_processed,
        rows_done,
        server_ms_total,
        entitlements,
        healthz,
        livez,
        google_calls_during_reads,
        distinct,
        reads,
        dup_distinct,
        dup_first_reads,
        dup_reads,
    })
}

fn row(label: &str, value: String) {
    say(&format!("  {label:<48} {value}"));
}

fn print_report(r: &Report, args: &BenchArgs) {
    say(&format!(
        "\n== {} (fresh database; {} users with one subscription each) ==",
        r.backend, r.subscriptions
    ));

    say("(a) RTDN push throughput");
    row(
        "notifications processed/s, end to end",
        format!(
            "{:>10.1} /s   ({} in {:.2} s; {} cancel/restore actions)",
            r.push_rate(),
            r.processed_in_window,
            r.window_secs,
            r.actions
        ),
    );
    row(
        "raw durable single-row upserts/s",
        format!(
            "{:>10.1} /s   ({} in {:.2} s, one at a time, autocommit)",
            r.raw_rate(),
            r.raw_upserts,
            r.raw_secs
        ),
    );
    let ratio = r.push_ratio();
    row(
        "ratio push / raw (target >= 50 %)",
        format!("{ratio:>10.1} %    {}", verdict(ratio >= 50.0)),
    );
    if r.rows_done > 0 {
        let mean = r.server_ms_total as f64 / r.rows_done as f64;
        let capacity = if mean > 0.0 {
            1000.0 / mean
        } else {
            f64::INFINITY
        };
        row(
            "server time per notification, intake to done",
            format!(
                "{mean:>10.2} ms   (one at a time: {capacity:.0} /s = {:.1} % of raw)",
                pct(capacity, r.raw_rate())
            ),
        );
    }
    row(
        "processed: /metrics counter, rtdn_messages done",
        format!(
            "{:>10}      {}{}",
            r.metrics_processed,
            r.rows_done,
            if r.drained {
                ""
            } else {
                "   (backlog NOT drained within the limit)"
            }
        ),
    );
    say(&format!(
        "  note: the sandbox pushes up to {PUSH_OUTSTANDING} messages at once, as Pub/Sub \
         does; the raw upserts run one\n        at a time on one connection, each durable.\n        \
         The sandbox's Play quota is lifted to {QUOTA_PER_MINUTE} a minute: Google's default,\n        \
         3000 a minute per bucket, would hold a real deployment at 50 re-reads/s."
    ));

    say(&format!(
        "(b) Entitlement reads ({} connections, {} s each)",
        args.connections, args.seconds
    ));
    let load_row = |label: &str, l: &Load| {
        row(
            label,
            format!(
                "{:>10.1} /s   p50 {:.2} ms  p99 {:.2} ms  ({} requests, {} errors)",
                l.rate(),
                l.pct_ms(0.50),
                l.pct_ms(0.99),
                l.latencies_us.len(),
                l.errors
            ),
        );
    };
    load_row(
        "GET /v1/apps/{pkg}/users/{user}/entitlements",
        &r.entitlements,
    );
    load_row("GET /livez (trivial: touches nothing)", &r.livez);
    load_row("GET /healthz (one database ping)", &r.healthz);
    let ratio = r.read_ratio();
    row(
        "ratio entitlements / livez (target >= 60 %)",
        format!("{ratio:>10.1} %    {}", verdict(ratio >= 60.0)),
    );
    let p99 = r.entitlements.pct_ms(0.99);
    row(
        "entitlements p99 (target < 5 ms)",
        format!("{p99:>10.2} ms   {}", verdict(p99 < 5.0)),
    );
    row(
        "Google calls made during the reads",
        format!("{:>10}", r.google_calls_during_reads),
    );
    say(&format!(
        "  note: each connection waits for its answer before the next request, so latency is \
         about\n        connections / rate: a p99 under 5 ms at {} connections needs more than \
         {:.0} req/s.",
        args.connections,
        args.connections as f64 / 0.005
    ));

    say("(c) Play API reads per notification");
    row(
        "distinct notifications published in (a)",
        format!("{:>10}", r.distinct),
    );
    row(
        "subscriptionsv2/productsv2 GETs in (a)",
        format!("{:>10}", r.reads),
    );
    let rpd = r.reads_per_distinct();
    row(
        "reads per distinct notification (target <= 1)",
        format!("{rpd:>10.2}      {}", verdict(rpd <= 1.0)),
    );
    row(
        "duplicate phase: notifications, each pushed 2x",
        format!(
            "{:>10}      (reads by their first deliveries: {})",
            r.dup_distinct, r.dup_first_reads
        ),
    );
    let rpdup = r.reads_per_duplicate();
    row(
        "reads per duplicate delivery (target 0)",
        format!(
            "{rpdup:>10.2}      {}",
            verdict(r.dup_distinct > 0 && r.dup_reads == 0)
        ),
    );
}

fn print_summary(reports: &[Report]) {
    if reports.is_empty() {
        return;
    }
    say("\n== Summary ==");
    let mut header = format!("  {:<44}", "target");
    for r in reports {
        header.push_str(&format!(" {:>18}", r.backend));
    }
    say(&header);
    type Figure = fn(&Report) -> (String, bool);
    let lines: [(&str, Figure); 5] = [
        ("(a) push / raw upserts >= 50 %", |r| {
            let v = r.push_ratio();
            (format!("{v:.1} %"), v >= 50.0)
        }),
        ("(b) entitlements / livez >= 60 %", |r| {
            let v = r.read_ratio();
            (format!("{v:.1} %"), v >= 60.0)
        }),
        ("(b) entitlements p99 < 5 ms", |r| {
            let v = r.entitlements.pct_ms(0.99);
            (format!("{v:.2} ms"), v < 5.0)
        }),
        ("(c) Play reads per notification <= 1", |r| {
            let v = r.reads_per_distinct();
            (format!("{v:.2}"), v <= 1.0)
        }),
        ("(c) Play reads per duplicate = 0", |r| {
            let v = r.reads_per_duplicate();
            (format!("{v:.2}"), r.dup_distinct > 0 && r.dup_reads == 0)
        }),
    ];
    for (label, figure) in lines {
        let mut line = format!("  {label:<44}");
        for r in reports {
            let (v, pass) = figure(r);
            line.push_str(&format!(" {:>18}", format!("{v} {}", verdict(pass))));
        }
        say(&line);
    }
    say(&format!(
        "  ({} on this machine, {} shared cores: figures compare, they do not \
         predict production.)",
        build(),
        cores()
    ));
}
