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

    fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
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
    let mut run = Running::start(
        &[
            "serve",
            "--sandbox",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ],
        dir.path(),
    );
    let sandbox = run.listening("sandbox");
    let api = run.listening("playbill");
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
    assert_eq!(curls.len(), 3, "{curls:#?}");
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
    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args(["serve", "--config", "bad.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("google.request_timeout_ms"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args(["serve", "--sandbox", "--sandbox-listen", "127.0.0.1:0"])
        .env("PLAYBILL_DATABASE_URL", "mysql://nope")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database_url"),
        "environment overrides are validated too: {err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args(["serve", "--sandbox", "--sandbox-listen", "127.0.0.1:0"])
        .env("PLAYBILL_GOOGLE__RETRY__MAX_ATEMPTS", "3")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("max_atempts"),
        "a misspelt nested key is an error: {err}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("api_keys"));
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_playbill"))
        .args(["migrate", "--data-dir", "state"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("migrations applied"));
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
        "Google's Python client is required for this test: pip install google-auth requests ({})",
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
