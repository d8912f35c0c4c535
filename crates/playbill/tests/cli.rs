//! The binary as users run it: the addresses it prints, the demo's copy-paste curl lines,
//! configuration errors, migrations, graceful shutdown — and the sandbox's key file used by
//! Google's own Python client library (google-auth), which must not tell it from Google.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

struct Running {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
}

impl Running {
    fn start(args: &[&str], dir: &Path) -> Running {
        Self::start_env(args, dir, &[])
    }
    fn start_env(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_playbill"))
            .args(args)
            .current_dir(dir)
            .envs(env.iter().copied())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("playbill starts");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Running { child, lines }
    }

    fn line(&mut self) -> String {
        self.lines
            .next()
            .expect("more output")
            .expect("utf-8 output")
    }

    /// The URL printed on a line `<what> listening on <url>`.
    fn listening(&mut self, what: &str) -> String {
        let line = self.line();
        let prefix = format!("{what} listening on ");
        line.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
            .to_owned()
    }

    /// Stops it as a crash would (SIGKILL: nothing runs on the way out).
    fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

/// `serve --sandbox` on free ports (the demo): the process, the sandbox's URL and playbill's.
fn demo(dir: &Path) -> (Running, String, String) {
    let mut run = Running::start(
        &[
            "serve",
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ],
        dir,
    );
    let sandbox = run.listening("sandbox");
    let api = run.listening("playbill");
    (run, sandbox, api)
}

/// Runs the binary to its end; returns (success, stdout, stderr).
fn run_to_end(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("playbill runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sh(cmd: &str) -> String {
    let out = Command::new("bash").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_mode_prints_curl_lines_that_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let (mut run, sandbox, api) = demo(dir.path());
    assert!(sandbox.starts_with("http://127.0.0.1:") && api.starts_with("http://127.0.0.1:"));
    let mut curls = Vec::new();
    loop {
        let line = run.line();
        if line.starts_with("curl ") {
            curls.push(line);
        } else if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert_eq!(curls.len(), 4, "{curls:#?}");
    let bought: serde_json::Value = serde_json::from_str(&sh(&curls[0])).unwrap();
    assert!(
        bought["purchase_token"]
            .as_str()
            .unwrap()
            .starts_with("demo-")
    );
    let verified: serde_json::Value = serde_json::from_str(&sh(&curls[1])).unwrap();
    assert_eq!(verified["purchase"]["state"], "ACTIVE", "{verified}");
    assert_eq!(verified["purchase"]["acknowledged"], true);
    let ents: serde_json::Value = serde_json::from_str(&sh(&curls[2])).unwrap();
    assert_eq!(ents["entitlements"][0]["entitlement"], "premium", "{ents}");
    let granted: serde_json::Value = serde_json::from_str(&sh(&curls[3])).unwrap();
    assert_eq!(granted["source"], "stripe", "{granted}");
    let ents: serde_json::Value = serde_json::from_str(&sh(&curls[2])).unwrap();
    let sources: Vec<(&str, &str)> = ents["entitlements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["entitlement"].as_str().unwrap(),
                e["source"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sources,
        [("premium", "google_play"), ("no_ads", "stripe")],
        "{ents}"
    );
    assert!(
        dir.path().join("playbill-data/playbill.db").exists(),
        "SQLite file in the data dir"
    );

    let status = run.terminate();
    assert!(status.success(), "graceful shutdown on SIGTERM: {status}");
}

#[test]
fn configuration_errors_name_the_field_and_exit_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[google]\nrequest_timeout_ms = \"soon\"\n",
    )
    .unwrap();
    let sandboxed = ["serve", "--sandbox", "--sandbox-listen", "127.0.0.1:0"];
    // (arguments, environment, what the error must name)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 4] = [
        (
            &["serve", "--config", "bad.toml"],
            &[],
            "google.request_timeout_ms",
        ),
        // Environment overrides are validated too.
        (
            &sandboxed,
            &[("PLAYBILL_DATABASE_URL", "mysql://nope")],
            "database_url",
        ),
        // A misspelt nested key is an error, not silently ignored.
        (
            &sandboxed,
            &[("PLAYBILL_GOOGLE__RETRY__MAX_ATEMPTS", "3")],
            "max_atempts",
        ),
        (&["serve", "--listen", "127.0.0.1:0"], &[], "api_keys"),
    ];
    for (args, env, needle) in cases {
        let (ok, _, err) = run_to_end(args, dir.path(), env);
        assert!(!ok, "{args:?} {env:?} must fail");
        assert!(err.contains(needle), "{args:?} {env:?}: {err}");
    }
}

#[test]
fn environment_overrides_take_effect() {
    let dir = tempfile::tempdir().unwrap();
    let mut run = Running::start_env(
        &["serve", "--sandbox", "--sandbox-listen", "127.0.0.1:0"],
        dir.path(),
        &[("PLAYBILL_LISTEN", "127.0.0.1:0")],
    );
    run.listening("sandbox");
    let api = run.listening("playbill");
    assert!(
        !api.ends_with(":8080"),
        "PLAYBILL_LISTEN replaced the default port: {api}"
    );
    assert!(run.terminate().success());
}

#[test]
fn one_process_serves_a_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "serve",
        "--sandbox",
        "--listen",
        "127.0.0.1:0",
        "--sandbox-listen",
        "127.0.0.1:0",
    ];
    let mut first = Running::start(&args, dir.path());
    first.listening("sandbox");
    first.listening("playbill");
    // A second server on the same file would not see the first one's writes in what it
    // caches: it refuses, and says why. Other commands may still use the file.
    let (ok, _, err) = run_to_end(&args, dir.path(), &[]);
    assert!(!ok, "a second server on one SQLite file must not start");
    assert!(
        err.contains("another process is serving this SQLite database"),
        "{err}"
    );
    let (ok, _, err) = run_to_end(&["migrate"], dir.path(), &[]);
    assert!(ok, "migrate beside a running server: {err}");
    assert!(first.terminate().success());
    // Once the first has stopped, the file can be served again.
    let mut again = Running::start(&args, dir.path());
    again.listening("sandbox");
    again.listening("playbill");
    assert!(again.terminate().success());
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run_to_end(&["migrate", "--data-dir", "state"], dir.path(), &[]);
    assert!(ok, "{err}");
    assert!(out.contains("migrations applied"));
    assert!(dir.path().join("state/playbill.db").exists());
}

const GOOGLE_AUTH_CLIENT: &str = r#"
import json, sys
from google.oauth2 import service_account
from google.auth.transport.requests import AuthorizedSession
key_file, base, pkg, token = sys.argv[1:5]
creds = service_account.Credentials.from_service_account_file(
    key_file, scopes=["https://www.googleapis.com/auth/androidpublisher"])
session = AuthorizedSession(creds)
r = session.get(f"{base}/androidpublisher/v3/applications/{pkg}/purchases/productsv2/tokens/{token}")
print(json.dumps({"status": r.status_code, "body": r.json(), "token_uri": creds._token_uri}))
"#;

#[test]
fn googles_python_client_uses_the_sandbox_key_file() {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import google.oauth2.service_account, google.auth.transport.requests",
        ])
        .output()
        .expect("python3 is installed");
    assert!(
        probe.status.success(),
        "Google's Python client is required for this test: run it through scripts/test, which installs it, or pip install -r scripts/google-clients/requirements.txt ({})",
        String::from_utf8_lossy(&probe.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path();
    let mut run = Running::start(
        &[
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--key-file",
            "key.json",
        ],
        run_dir,
    );
    let base = run.listening("sandbox");
    let pkg = "com.example.python";
    sh(&format!(
        "curl -sf -X POST {base}/sandbox/v1/apps/{pkg}/products -d '{{\"product_id\":\"gems\",\"type\":\"one_time\"}}' -H 'content-type: application/json'"
    ));
    sh(&format!(
        "curl -sf -X POST {base}/sandbox/v1/apps/{pkg}/purchases -d '{{\"product_id\":\"gems\",\"purchase_token\":\"py-token\"}}' -H 'content-type: application/json'"
    ));
    let out = Command::new("python3")
        .args(["-c", GOOGLE_AUTH_CLIENT])
        .arg(run_dir.join("key.json"))
        .args([&base, pkg, "py-token"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["status"], 200, "{got}");
    assert_eq!(
        got["body"]["purchaseStateContext"]["purchaseState"],
        "PURCHASED"
    );
    assert_eq!(
        got["token_uri"],
        format!("{base}/token"),
        "key file points at the sandbox"
    );
    assert!(run.terminate().success());
}

/// An external-transaction report accepted (202) while Google is down is stored, not held in
/// memory: the server crashes, Google comes back, the next server delivers it.
#[test]
fn an_external_transaction_report_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut sandbox = Running::start(
        &[
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--key-file",
            "key.json",
        ],
        d,
    );
    let sb = sandbox.listening("sandbox");
    let pkg = "com.example.external";
    let faults = format!("{sb}/sandbox/v1/faults");
    sh(&format!(
        "curl -sf -X POST {faults} -H 'content-type: application/json' -d '{{\"path_contains\":\"externalTransactions\",\"status\":503,\"count\":100000}}'"
    ));
    let issued: serde_json::Value = serde_json::from_str(&sh(&format!(
        "curl -sf -X POST {sb}/sandbox/v1/apps/{pkg}/external-transaction-tokens"
    )))
    .unwrap();
    let token = issued["external_transaction_token"].as_str().unwrap();
    std::fs::write(
        d.join("config.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\ndatabase_url = \"sqlite://{db}\"\n\
             [google]\nandroidpublisher_url = \"{sb}/\"\n\
             [google.retry]\nmax_attempts = 2\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n\
             [jobs]\nexternal_outbox_interval_ms = 200\n\
             [[api_keys]]\nname = \"ops\"\nkey = \"ops-admin-key-0123456789\"\nrole = \"admin\"\n\
             [[apps]]\npackage_name = \"{pkg}\"\nservice_account_key = \"{key}\"\n",
            db = d.join("state/playbill.db").display(),
            key = d.join("key.json").display(),
        ),
    )
    .unwrap();
    let serve = ["serve", "--config", "config.toml"];
    let mut first = Running::start(&serve, d);
    let api = first.listening("playbill");
    let body = format!(
        "{{\"external_transaction_id\":\"order-1\",\"type\":\"one_time\",\"external_transaction_token\":\"{token}\",\"currency\":\"EUR\",\"pre_tax_amount_micros\":1000000,\"tax_amount_micros\":190000,\"region_code\":\"DE\"}}"
    );
    let status = sh(&format!(
        "curl -s -o /dev/null -w '%{{http_code}}' -X POST {api}/v1/apps/{pkg}/external-transactions -H 'Authorization: Bearer ops-admin-key-0123456789' -H 'content-type: application/json' -d '{body}'"
    ));
    assert_eq!(status, "202");
    // The first delivery failed (Google is down) and was recorded: the report waits, stored.
    let attempts = || -> i64 {
        let shown: serde_json::Value = serde_json::from_str(&sh(&format!(
            "curl -sf {api}/v1/apps/{pkg}/external-transactions/order-1 -H 'Authorization: Bearer ops-admin-key-0123456789'"
        )))
        .unwrap();
        shown["reports"][0]["attempts"].as_i64().unwrap()
    };
    let started = std::time::Instant::now();
    while attempts() == 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let at_google = || -> usize {
        let list: serde_json::Value = serde_json::from_str(&sh(&format!(
            "curl -sf {sb}/sandbox/v1/apps/{pkg}/external-transactions"
        )))
        .unwrap();
        list["external_transactions"].as_array().unwrap().len()
    };
    first.crash();
    assert_eq!(at_google(), 0, "Google was down: nothing was delivered");
    sh(&format!("curl -sf -X DELETE {faults}"));

    let mut second = Running::start(&serve, d);
    let api = second.listening("playbill");
    let started = std::time::Instant::now();
    while at_google() == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the report was not delivered after the restart"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let shown: serde_json::Value = serde_json::from_str(&sh(&format!(
        "curl -sf {api}/v1/apps/{pkg}/external-transactions/order-1 -H 'Authorization: Bearer ops-admin-key-0123456789'"
    )))
    .unwrap();
    assert_eq!(shown["reports"][0]["state"], "delivered", "{shown}");
    assert!(second.terminate().success());
    assert!(sandbox.terminate().success());
}

/// `playbill reports import` and `reconcile` against the demo (whose sandbox has a reports
/// bucket): readable tables, and a clear failure with an app key.
#[test]
fn reports_commands_print_readable_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (run, sandbox, api) = demo(dir.path());
    let pkg = "com.example.playbill.demo";
    // A sale the app never reported to playbill.
    let bought: serde_json::Value = serde_json::from_str(&sh(&format!(
        "curl -sf -X POST {sandbox}/sandbox/v1/apps/{pkg}/purchases -H 'content-type: application/json' -d '{{\"product_id\":\"remove_ads\"}}'"
    )))
    .unwrap();
    let order = bought["order_id"].as_str().unwrap();
    let env = [
        ("PLAYBILL_API", api.as_str()),
        ("PLAYBILL_ADMIN_KEY", "playbill-demo-admin-key"),
    ];
    let (ok, out, err) = run_to_end(&["reports", "import"], dir.path(), &env);
    assert!(ok, "{err}");
    assert!(out.starts_with("imported 2 file(s)"), "{out}");
    let month = out
        .split("earnings/earnings_")
        .nth(1)
        .map(|rest| format!("{}-{}", &rest[..4], &rest[4..6]))
        .unwrap_or_else(|| panic!("no earnings file in {out}"));
    let (ok, out, err) = run_to_end(
        &["reports", "reconcile", "--package", pkg, "--month", &month],
        dir.path(),
        &env,
    );
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!("for {month}: 1 discrepancies")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Charged by Google, not recorded here (1)\n  {order}\n"
        )),
        "{out}"
    );
    assert!(out.contains("USD"), "{out}");
    let (ok, _, err) = run_to_end(
        &["reports", "import", "--key", "playbill-demo-key"],
        dir.path(),
        &env,
    );
    assert!(!ok, "an app key must not import");
    assert!(err.contains("403") && err.contains("admin key"), "{err}");
    assert!(run.terminate().success());
}

/// `playbill catalog push` with a TOML file: a dry-run diff first, written only with --apply;
/// `catalog sync` then mirrors it.
#[test]
fn catalog_push_shows_a_diff_and_applies_only_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (run, _, api) = demo(dir.path());
    let pkg = "com.example.playbill.demo";
    std::fs::write(
        dir.path().join("catalog.toml"),
        "[[one_time_products]]\nproduct_id = \"remove_ads\"\ntitle = \"Remove ads forever\"\ncurrency = \"USD\"\nprice_micros = 2990000\n\n\
         [[one_time_products]]\nproduct_id = \"gold_skin\"\ntitle = \"Gold skin\"\ncurrency = \"USD\"\nprice_micros = 990000\n",
    )
    .unwrap();
    let env = [
        ("PLAYBILL_API", api.as_str()),
        ("PLAYBILL_ADMIN_KEY", "playbill-demo-admin-key"),
    ];
    let push = ["catalog", "push", "catalog.toml", "--package", pkg];
    let (ok, out, err) = run_to_end(&push, dir.path(), &env);
    assert!(ok, "{err}");
    assert!(out.starts_with("dry run: 2 change(s)"), "{out}");
    assert!(err.contains("compared 2/2 product(s)"), "progress: {err}");
    assert!(
        out.contains("update") && out.contains("remove_ads") && out.contains("title"),
        "{out}"
    );
    assert!(out.contains("create") && out.contains("gold_skin"), "{out}");
    let (ok, out, _) = run_to_end(&push, dir.path(), &env);
    assert!(
        ok && out.starts_with("dry run: 2 change(s)"),
        "still nothing written: {out}"
    );
    let mut apply = push.to_vec();
    apply.push("--apply");
    let (ok, out, err) = run_to_end(&apply, dir.path(), &env);
    assert!(ok, "{err}");
    assert!(out.starts_with("applied 2 change(s)"), "{out}");
    assert!(err.contains("applied 2/2 product(s)"), "progress: {err}");
    let (ok, out, _) = run_to_end(&push, dir.path(), &env);
    assert!(ok && out.starts_with("nothing to change"), "{out}");
    let (ok, out, err) = run_to_end(&["catalog", "sync", "--package", pkg], dir.path(), &env);
    assert!(ok, "{err}");
    assert!(out.contains("items at Google"), "{out}");
    assert!(run.terminate().success());
}
