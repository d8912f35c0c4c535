//! `playbill reports import|reconcile` and `playbill catalog sync|push`: operators' routes of
//! a running playbill, as readable tables for a terminal.

use clap::Subcommand;
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Subcommand)]
pub enum Action {
    /// Import the bucket's new or rewritten report files now.
    Import,
    /// Reconcile one month of one app with what playbill recorded.
    Reconcile {
        /// The app's package name.
        #[arg(long)]
        package: String,
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
    },
}

/// The running playbill the command talks to, and its admin key.
#[derive(clap::Args)]
pub struct Remote {
    /// The running playbill.
    #[arg(
        long,
        global = true,
        env = "PLAYBILL_API",
        default_value = "http://127.0.0.1:8080"
    )]
    api: String,
    /// An admin key of that playbill.
    #[arg(long, global = true, env = "PLAYBILL_ADMIN_KEY")]
    key: Option<String>,
}

impl Remote {
    fn parts(&self) -> Result<(&str, &str), BoxError> {
        let key = self
            .key
            .as_deref()
            .ok_or("an admin key is required: --key or PLAYBILL_ADMIN_KEY")?;
        Ok((self.api.trim_end_matches('/'), key))
    }
}

#[derive(Subcommand)]
pub enum CatalogAction {
    /// Mirror the app's catalog from Google now.
    Sync {
        #[arg(long)]
        package: String,
    },
    /// Compare a catalog file (TOML or JSON) with Google; with --apply, write the differences.
    Push {
        /// The catalog file (`[[one_time_products]]` entries; see the README).
        file: std::path::PathBuf,
        #[arg(long)]
        package: String,
        /// Write the differences to Google (without it: the diff only).
        #[arg(long)]
        apply: bool,
    },
}

/// Sends one request with the admin key; the JSON answer, or an error naming the status.
async fn call(req: reqwest::RequestBuilder, key: &str, what: &str) -> Result<Value, BoxError> {
    let resp = req.bearer_auth(key).send().await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    if !status.is_success() {
        let msg = body["error"]["message"]
            .as_str()
            .unwrap_or("no error message");
        return Err(format!("{what} failed: {status}: {msg}").into());
    }
    Ok(body)
}

pub async fn run(action: Action, remote: &Remote) -> Result<(), BoxError> {
    let http = reqwest::Client::new();
    let (api, key) = remote.parts()?;
    let text = match action {
        Action::Import => {
            let b = call(http.post(format!("{api}/v1/reports:import")), key, "import").await?;
            import_table(&b)
        }
        Action::Reconcile { package, month } => {
            let req = http
                .get(format!("{api}/v1/apps/{package}/reports/reconciliation"))
                .query(&[("month", month)]);
            reconcile_table(&package, &call(req, key, "reconciliation").await?)
        }
    };
    print!("{text}");
    Ok(())
}

pub async fn run_catalog(action: CatalogAction, remote: &Remote) -> Result<(), BoxError> {
    let http = reqwest::Client::new();
    let (api, key) = remote.parts()?;
    let text = match action {
        CatalogAction::Sync { package } => {
            let req = http.post(format!("{api}/v1/apps/{package}/catalog:sync"));
            let b = call(req, key, "catalog sync").await?;
            let mut out = format!("{package}: {} items at Google\n", b["total"]);
            for field in ["added", "removed", "updated"] {
                for id in strs(&b[field]) {
                    out.push_str(&format!("  {field:<8} {id}\n"));
                }
            }
            out
        }
        CatalogAction::Push {
            file,
            package,
            apply,
        } => {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let catalog: Value = if file.extension().is_some_and(|e| e == "json") {
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?
            } else {
                toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?
            };
            // Sent in parts, so that a long file shows its progress; each part is one batch
            // at Google. (Every part is checked before any is applied.)
            let parts = parts_of(&catalog, PART)?;
            let total: usize = parts.iter().map(|p| p.1).sum();
            // With --apply, every part is compared first, so that a file Google would refuse
            // in its last part writes nothing; then each part is applied.
            let passes: &[bool] = if apply { &[false, true] } else { &[false] };
            let mut changes = Vec::new();
            for &write in passes {
                changes.clear();
                let mut done = 0;
                for (part, n) in &parts {
                    let req = http
                        .post(format!("{api}/v1/apps/{package}/catalog:push"))
                        .query(&[("apply", write)])
                        .json(part);
                    let b = call(req, key, "catalog push").await?;
                    changes.extend(b["changes"].as_array().cloned().unwrap_or_default());
                    done += n;
                    let verb = if write { "applied" } else { "compared" };
                    eprintln!("{verb} {done}/{total} product(s)");
                }
            }
            push_table(&serde_json::json!({"applied": apply, "changes": changes}))
        }
    };
    print!("{text}");
    Ok(())
}

/// Products per request of `catalog push`.
const PART: usize = 25;

/// The file cut into parts of at most `size` products (one-time products first), each with
/// its number of products.
fn parts_of(catalog: &Value, size: usize) -> Result<Vec<(Value, usize)>, BoxError> {
    let mut parts = Vec::new();
    let mut ids = std::collections::BTreeSet::new();
    for kind in ["one_time_products", "subscriptions"] {
        let list = match &catalog[kind] {
            Value::Null => continue,
            Value::Array(a) => a,
            _ => return Err(format!("{kind}: must be a list").into()),
        };
        for p in list {
            let id = p["product_id"].as_str().unwrap_or_default();
            if !ids.insert(id.to_owned()) {
                return Err(format!("{kind}: product {id:?} is listed twice").into());
            }
        }
        for chunk in list.chunks(size) {
            parts.push((serde_json::json!({ kind: chunk }), chunk.len()));
        }
    }
    if let Some(extra) = catalog.as_object().and_then(|o| {
        o.keys()
            .find(|k| !["one_time_products", "subscriptions"].contains(&k.as_str()))
    }) {
        return Err(
            format!("unknown section {extra:?}: one_time_products or subscriptions").into(),
        );
    }
    Ok(parts)
}

fn push_table(b: &Value) -> String {
    let applied = b["applied"].as_bool().unwrap_or(false);
    let mut out = String::new();
    let mut pending = 0;
    for c in b["changes"].as_array().into_iter().flatten() {
        let action = c["action"].as_str().unwrap_or_default();
        if action != "unchanged" {
            pending += 1;
        }
        out.push_str(&format!(
            "  {action:<10} {:<30} {}\n",
            c["product_id"].as_str().unwrap_or_default(),
            strs(&c["fields"]).join(", ")
        ));
    }
    let head = match (applied, pending) {
        (_, 0) => "nothing to change: Google has this catalog\n".to_owned(),
        (true, n) => format!("applied {n} change(s) at Google\n"),
        (false, n) => format!("dry run: {n} change(s) to apply (run again with --apply)\n"),
    };
    head + &out
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn import_table(b: &Value) -> String {
    let imported = strs(&b["imported"]);
    let mut out = format!(
        "imported {} file(s), {} line(s); {} unchanged\n",
        imported.len(),
        b["lines"],
        b["unchanged"]
    );
    for f in imported {
        out.push_str(&format!("  imported  {f}\n"));
    }
    for f in b["failed"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  FAILED    {}: {}\n",
            f["file"].as_str().unwrap_or_default(),
            f["error"].as_str().unwrap_or_default()
        ));
    }
    out
}

/// Micros as a decimal amount with two places.
fn money(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let cents = (micros.unsigned_abs() + 5_000) / 10_000;
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

fn reconcile_table(package: &str, b: &Value) -> String {
    let charged = strs(&b["charged_not_recorded"]);
    let refunded = strs(&b["refunded_not_revoked"]);
    let granted: Vec<(String, String)> = b["granted_not_charged"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            let token = g["purchase_token"].as_str().unwrap_or_default();
            // A token is a bearer secret of the purchase: its head is enough to find it.
            let head: String = token.chars().take(8).collect();
            (
                g["order_id"].as_str().unwrap_or_default().to_owned(),
                format!("{head}…"),
            )
        })
        .collect();
    let found = charged.len() + refunded.len() + granted.len();
    let mut out = format!(
        "Reconciliation of {package} for {}: {}\n",
        b["month"].as_str().unwrap_or_default(),
        if found == 0 {
            "clean".to_owned()
        } else {
            format!("{found} discrepancies")
        }
    );
    let mut section = |title: &str, rows: Vec<String>| {
        out.push_str(&format!("\n{title} ({})\n", rows.len()));
        for r in rows {
            out.push_str(&format!("  {r}\n"));
        }
    };
    section("Charged by Google, not recorded here", charged);
    section(
        "Granted here, never charged by Google",
        granted
            .into_iter()
            .map(|(o, t)| format!("{o:<32} token {t}"))
            .collect(),
    );
    section("Refunded in full by Google, still granted here", refunded);
    out.push_str(&format!(
        "\n{:<10}{:>14}{:>14}{:>14}{:>14}\n",
        "Currency", "Gross", "Fees", "Tax", "Net"
    ));
    for (currency, t) in b["totals"].as_object().into_iter().flatten() {
        let n = |k: &str| money(t[k].as_i64().unwrap_or_default());
        out.push_str(&format!(
            "{currency:<10}{:>14}{:>14}{:>14}{:>14}\n",
            n("gross_micros"),
            n("fees_micros"),
            n("tax_micros"),
            n("net_micros")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rounds_to_cents() {
        for (micros, s) in [
            (1_234_560_000, "1234.56"),
            (-500_000, "-0.50"),
            (4_995, "0.00"),
            (5_000, "0.01"),
            (0, "0.00"),
        ] {
            assert_eq!(money(micros), s, "{micros}");
        }
    }
}
