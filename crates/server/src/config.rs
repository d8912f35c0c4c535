//! Settings: one TOML file plus `PLAYBILL_*` environment overrides (nested keys with `__`,
//! e.g. `PLAYBILL_GOOGLE__ANDROIDPUBLISHER_URL`). Every Google base URL is a setting.
//! Loading validates everything a running server depends on and names the field at fault.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use playbill_core::{AccountIdRule, PackageName, ProductId};
use serde::{Deserialize, Serialize};

/// The top-level keys of [`Settings`].
const TOP_LEVEL_KEYS: &[&str] = &[
    "listen",
    "database_url",
    "google",
    "api_keys",
    "apps",
    "rtdn",
    "rtdn_pull",
    "reports",
    "jobs",
];

/// Google's production endpoint for the Play Developer API.
pub const ANDROIDPUBLISHER_URL: &str = "https://androidpublisher.googleapis.com/";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP API listens on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `sqlite://FILE` (embedded default) or `postgres://…` (production).
    pub database_url: String,
    #[serde(default)]
    pub google: GoogleSettings,
    /// Keys clients present as `Authorization: Bearer <key>`.
    #[serde(default)]
    pub api_keys: Vec<ApiKeySetting>,
    /// The apps this deployment serves.
    #[serde(default)]
    pub apps: Vec<AppSetting>,
    /// Real-time developer notifications by Pub/Sub push (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtdn: Option<RtdnSettings>,
    /// Real-time developer notifications by Pub/Sub pull (off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtdn_pull: Option<crate::pull::PullSettings>,
    /// Play Console's financial reports bucket (import and reconciliation; off when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reports: Option<ReportsSettings>,
    #[serde(default)]
    pub jobs: JobSettings,
}

/// Where Play Console's financial reports are (reference section 11).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReportsSettings {
    /// The developer account's bucket, e.g. `pubsite_prod_rev_01234567890987654321` (Play
    /// Console → Download reports → Copy Cloud Storage URI).
    pub bucket: String,
    /// A service account with "View financial data" in Play Console.
    pub service_account_key: std::path::PathBuf,
    /// Cloud Storage's root URL.
    #[serde(default = "default_storage_url")]
    pub storage_url: String,
    /// How often new report files are imported.
    #[serde(default = "default_import_interval")]
    pub import_interval_ms: u64,
}

fn default_storage_url() -> String {
    playbill_google::storage::STORAGE_URL.into()
}

fn default_import_interval() -> u64 {
    6 * 3_600_000
}

/// Background jobs (each runs on one instance at a time).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JobSettings {
    /// How often unacknowledged purchases are retried (well inside Google's 3 days).
    pub ack_sweep_interval_ms: u64,
    /// How often Google's voided purchases are synced (the safety net behind notifications).
    pub voided_sync_interval_ms: u64,
    /// How often external-transaction reports still owed to Google are retried (each is also
    /// sent as soon as it is accepted, and on start-up).
    pub external_outbox_interval_ms: u64,
    /// How often every app's catalog is mirrored from Google.
    pub catalog_sync_interval_ms: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            ack_sweep_interval_ms: 5 * 60 * 1000,
            voided_sync_interval_ms: 15 * 60 * 1000,
            external_outbox_interval_ms: 30 * 1000,
            catalog_sync_interval_ms: 60 * 60 * 1000,
        }
    }
}

/// Where and how Pub/Sub pushes notifications to us.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RtdnSettings {
    /// The push subscription, `projects/P/subscriptions/S`: a push naming another is refused.
    pub subscription: String,
    /// The path pushes arrive at.
    #[serde(default = "default_push_path")]
    pub push_path: String,
    /// What a push's OIDC token must prove.
    #[serde(default)]
    pub push_auth: crate::oidc::PushAuthSettings,
}

fn default_push_path() -> String {
    "/v1/rtdn".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GoogleSettings {
    /// Root URL of the Play Developer API.
    pub androidpublisher_url: String,
    pub request_timeout_ms: u64,
    pub retry: RetrySettings,
}

impl Default for GoogleSettings {
    fn default() -> Self {
        Self {
            androidpublisher_url: ANDROIDPUBLISHER_URL.into(),
            request_timeout_ms: 10_000,
            retry: RetrySettings::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 32_000,
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySetting {
    /// Who uses the key (shown in logs instead of the key).
    pub name: String,
    pub key: String,
    /// `app` (the default): what an app and its backend need (verify, entitlements,
    /// history). `admin`: everything, including operator routes (grants, refund reviews,
    /// quarantine), which answer 403 to an app key.
    #[serde(default)]
    pub role: KeyRole,
}

/// What a key may reach.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    #[default]
    App,
    Admin,
}

impl std::fmt::Debug for ApiKeySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeySetting")
            .field("name", &self.name)
            .field("key", &"<redacted>")
            .field("role", &self.role)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AppSetting {
    pub package_name: String,
    /// Path to the Google service-account JSON key file used for this app.
    pub service_account_key: PathBuf,
    /// How the app derives `obfuscatedAccountId` from its user id: `sha256`, `raw` or `ignore`.
    #[serde(default)]
    pub account_id_rule: AccountIdRule,
    /// Products consumed after granting.
    #[serde(default)]
    pub consumables: Vec<String>,
    /// Product id → entitlement names (a product not listed grants its own id).
    #[serde(default)]
    pub entitlements: BTreeMap<String, Vec<String>>,
    /// How refund requests are answered (`orders:reviewrefund`): `auto` (decline when the
    /// goods were consumed, neutral otherwise) or `manual` (an operator answers).
    #[serde(default)]
    pub refund_reviews: RefundReviewPolicy,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefundReviewPolicy {
    #[default]
    Auto,
    Manual,
}

/// A setting that is missing, malformed or unusable; the message names the field.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Settings {
    /// Defaults for a data directory: a SQLite file inside it, listening on 127.0.0.1:8080.
    pub fn defaults(data_dir: &Path) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: format!("sqlite://{}", data_dir.join("playbill.db").display()),
            google: GoogleSettings::default(),
            api_keys: Vec::new(),
            apps: Vec::new(),
            rtdn: None,
            rtdn_pull: None,
            reports: None,
            jobs: JobSettings::default(),
        }
    }

    /// Defaults, then the TOML file (if any), then `PLAYBILL_*` variables.
    pub fn load(file: Option<&Path>, data_dir: &Path) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Self::defaults(data_dir)));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            fig = fig.merge(Toml::file(file));
        }
        fig = fig.merge(Self::env());
        fig.extract::<Settings>()
            .map_err(|e| ConfigError(e.to_string()))
    }

    /// `PLAYBILL_*` variables whose first key is a setting. Other `PLAYBILL_` variables
    /// (`PLAYBILL_CONFIG`, `PLAYBILL_LOG_FORMAT`, tools of the team) are not settings and are
    /// left alone; an unknown key inside a known section is still an error.
    fn env() -> Env {
        Env::prefixed("PLAYBILL_").split("__").filter(|key| {
            let first = key.as_str().split('.').next().unwrap_or_default();
            TOP_LEVEL_KEYS.iter().any(|k| first.eq_ignore_ascii_case(k))
        })
    }

    /// Checks what serde cannot: formats, references between fields, readable files.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |m: String| Err(ConfigError(m));
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return err("database_url: must start with sqlite: or postgres://".into());
        }
        if !(self.google.androidpublisher_url.starts_with("http://")
            || self.google.androidpublisher_url.starts_with("https://"))
        {
            return err("google.androidpublisher_url: must be an http(s) URL".into());
        }
        if self.google.retry.max_attempts == 0 {
            return err("google.retry.max_attempts: must be at least 1".into());
        }
        if self.api_keys.is_empty() {
            return err(
                "api_keys: at least one key is required (clients authenticate with it)".into(),
            );
        }
        for (i, k) in self.api_keys.iter().enumerate() {
            if k.key.len() < 12 {
                return err(format!(
                    "api_keys[{i}].key ({}): must be at least 12 characters",
                    k.name
                ));
            }
        }
        for (name, ms) in [
            ("ack_sweep_interval_ms", self.jobs.ack_sweep_interval_ms),
            ("voided_sync_interval_ms", self.jobs.voided_sync_interval_ms),
            (
                "external_outbox_interval_ms",
                self.jobs.external_outbox_interval_ms,
            ),
            (
                "catalog_sync_interval_ms",
                self.jobs.catalog_sync_interval_ms,
            ),
        ] {
            if !(100..=86_400_000).contains(&ms) {
                return err(format!("jobs.{name}: must be between 100 ms and one day"));
            }
        }
        if let Some(p) = &self.rtdn_pull {
            p.validate("rtdn_pull")?;
        }
        if let Some(r) = &self.rtdn {
            let parts: Vec<&str> = r.subscription.split('/').collect();
            if !(parts.len() == 4
                && parts[0] == "projects"
                && parts[2] == "subscriptions"
                && !parts[1].is_empty()
                && !parts[3].is_empty())
            {
                return err(
                    "rtdn.subscription: must be projects/PROJECT/subscriptions/NAME".into(),
                );
            }
            if !r.push_path.starts_with('/') || r.push_path.len() < 2 {
                return err("rtdn.push_path: must be a path such as /v1/rtdn".into());
            }
            if r.push_auth.audience.is_empty() {
                return err(
                    "rtdn.push_auth.audience: the push subscription's OIDC audience is required"
                        .into(),
                );
            }
            if r.push_auth.service_account_email.is_empty() {
                return err("rtdn.push_auth.service_account_email: the push subscription's service account is required".into());
            }
            if !(r.push_auth.jwks_url.starts_with("http://")
                || r.push_auth.jwks_url.starts_with("https://"))
            {
                return err("rtdn.push_auth.jwks_url: must be an http(s) URL".into());
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, app) in self.apps.iter().enumerate() {
            let at = format!("apps[{i}]");
            if let Err(e) = PackageName::parse(app.package_name.as_str()) {
                return err(format!("{at}.package_name: {e}"));
            }
            if !seen.insert(app.package_name.clone()) {
                return err(format!(
                    "{at}.package_name: {} is listed twice",
                    app.package_name
                ));
            }
            for (j, p) in app.consumables.iter().enumerate() {
                if let Err(e) = ProductId::parse(p.as_str()) {
                    return err(format!("{at}.consumables[{j}]: {e}"));
                }
            }
            for (p, names) in &app.entitlements {
                if let Err(e) = ProductId::parse(p.as_str()) {
                    return err(format!("{at}.entitlements.{p}: {e}"));
                }
                if names.iter().any(|n| n.trim().is_empty()) {
                    return err(format!(
                        "{at}.entitlements.{p}: entitlement names must not be empty"
                    ));
                }
            }
            if let Err(e) = playbill_google::ServiceAccountKey::from_file(&app.service_account_key)
            {
                return err(format!("{at}.service_account_key: {e}"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn the_example_configuration_loads() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../playbill.example.toml");
        let s = Settings::load(Some(&example), Path::new("data")).unwrap();
        let rtdn = s.rtdn.as_ref().unwrap();
        assert_eq!(rtdn.push_path, "/v1/rtdn");
        assert!(!rtdn.push_auth.audience.is_empty());
        assert_eq!(s.jobs.ack_sweep_interval_ms, 300_000);
        assert_eq!(s.jobs.voided_sync_interval_ms, 900_000);
    }

    #[test]
    fn errors_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        let bad_type = write(
            dir.path(),
            "a.toml",
            "[google.retry]\nmax_attempts = \"many\"\n",
        );
        let e = Settings::load(Some(&bad_type), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("google.retry.max_attempts"), "{e}");

        let unknown = write(dir.path(), "b.toml", "lisen = \"127.0.0.1:1\"\n");
        let e = Settings::load(Some(&unknown), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("lisen"), "{e}");

        let missing = dir.path().join("nope.toml");
        let e = Settings::load(Some(&missing), dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");

        let no_key = write(
            dir.path(),
            "c.toml",
            "[[api_keys]]\nname = \"app\"\nkey = \"0123456789abcdef\"\n[[apps]]\npackage_name = \"com.x\"\nservice_account_key = \"/nonexistent/key.json\"\n",
        );
        let s = Settings::load(Some(&no_key), dir.path()).unwrap();
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("apps[0].service_account_key"), "{e}");

        let mut s = Settings::defaults(dir.path());
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("api_keys"), "{e}");
        s.database_url = "mysql://x".into();
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("database_url")
        );
    }

    #[test]
    fn file_then_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(
            dir.path(),
            "ok.toml",
            "listen = \"127.0.0.1:0\"\n[google]\nandroidpublisher_url = \"http://127.0.0.1:9/\"\n",
        );
        let s = Settings::load(Some(&f), dir.path()).unwrap();
        assert_eq!(s.listen.port(), 0);
        assert_eq!(s.google.androidpublisher_url, "http://127.0.0.1:9/");
        assert_eq!(
            s.google.retry.max_attempts, 5,
            "untouched sections keep defaults"
        );
        assert!(s.database_url.ends_with("playbill.db"));
    }
}
