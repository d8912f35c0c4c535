//! The sandbox's world: products, purchases, issued keys and access tokens, a clock, a log
//! of the API calls it answered, and faults to inject. One mutex guards it all: the sandbox
//! is a test double for one team, not a load target.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::keys::IssuedKey;
use crate::period::Period;

pub const DAY_MS: i64 = 86_400_000;
/// Google answers 410 for a token this long after its subscription expired.
pub const TOKEN_RETENTION_MS: i64 = 60 * DAY_MS;

#[derive(Clone)]
pub struct Shared(Arc<Mutex<World>>);

impl Shared {
    pub fn new(world: World) -> Self {
        Self(Arc::new(Mutex::new(world)))
    }
    pub fn lock(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data behind: keep serving.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OneTime,
    Subscription,
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub package_name: String,
    pub product_id: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    pub base_plan_id: String,
    pub billing_period: Period,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimeState {
    Purchased,
    Pending,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct OneTime {
    pub state: OneTimeState,
    pub acknowledged: bool,
    pub consumed: bool,
    pub quantity: i32,
    pub refundable_quantity: i32,
    pub purchase_time_ms: i64,
    pub completion_time_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub pending: bool,
    pub acknowledged: bool,
    pub start_ms: i64,
    pub expiry_ms: i64,
    pub period: Period,
    pub base_plan_id: String,
    pub auto_renew: bool,
    pub user_cancel_time_ms: Option<i64>,
    /// Renewal orders so far (`GPA…..0`, `..1`, …).
    pub renewals: u32,
}

#[derive(Debug, Clone)]
pub enum Detail {
    OneTime(OneTime),
    Subscription(Subscription),
}

#[derive(Debug, Clone)]
pub struct Purchase {
    pub package_name: String,
    pub product_id: String,
    pub token: String,
    pub order_id: String,
    pub obfuscated_account_id: Option<String>,
    pub obfuscated_profile_id: Option<String>,
    pub test_purchase: bool,
    pub region_code: String,
    pub detail: Detail,
}

/// The subscription state Google would report at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    Pending,
    Active,
    Canceled,
    Expired,
}

impl Subscription {
    /// Lets time pass: an auto-renewing subscription renews at each expiry it has reached.
    pub fn catch_up(&mut self, now: i64) {
        while !self.pending && self.auto_renew && now >= self.expiry_ms {
            let next = self.period.add_to(self.expiry_ms);
            if next <= self.expiry_ms {
                break;
            }
            self.expiry_ms = next;
            self.renewals += 1;
        }
    }

    pub fn state(&self, now: i64) -> SubState {
        if self.pending {
            SubState::Pending
        } else if now >= self.expiry_ms {
            SubState::Expired
        } else if self.auto_renew {
            SubState::Active
        } else {
            SubState::Canceled
        }
    }
}

impl Purchase {
    /// The order id of the latest successful charge (renewals append `..N`).
    pub fn latest_order_id(&self) -> String {
        match &self.detail {
            Detail::Subscription(s) if s.renewals > 0 => {
                format!("{}..{}", self.order_id, s.renewals - 1)
            }
            _ => self.order_id.clone(),
        }
    }
}

/// One Google call the sandbox answered, for tests and operators to inspect.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// Makes matching calls fail, to rehearse outages.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Fault {
    /// Applies to request paths containing this text (all Google paths if empty).
    #[serde(default)]
    pub path_contains: String,
    /// HTTP status to answer, e.g. 503 or 429.
    pub status: u16,
    /// How many calls to fail; then the fault is gone.
    #[serde(default = "one")]
    pub count: u32,
    /// Sent as `Retry-After` (seconds) when set.
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
}

fn one() -> u32 {
    1
}

pub struct AccessToken {
    pub scopes: Vec<String>,
    pub expires_at_wall_ms: i64,
}

pub struct World {
    pub base_url: String,
    pub project_id: String,
    pub clock_offset_ms: i64,
    pub products: HashMap<(String, String), Product>,
    pub purchases: HashMap<String, Purchase>,
    pub keys: HashMap<String, IssuedKey>,
    pub access_tokens: HashMap<String, AccessToken>,
    pub requests: Vec<LoggedRequest>,
    pub faults: Vec<Fault>,
    pub order_seq: u64,
}

impl World {
    pub fn new(base_url: String, project_id: String) -> Self {
        Self {
            base_url,
            project_id,
            clock_offset_ms: 0,
            products: HashMap::new(),
            purchases: HashMap::new(),
            keys: HashMap::new(),
            access_tokens: HashMap::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            order_seq: 0,
        }
    }

    /// Billing time: the wall clock moved by the control API. OAuth uses the wall clock, so
    /// credentials keep working however far billing time is advanced.
    pub fn now(&self) -> i64 {
        wall_ms() + self.clock_offset_ms
    }

    pub fn next_order_id(&mut self) -> String {
        self.order_seq += 1;
        let n = self.order_seq;
        format!(
            "GPA.{:04}-{:04}-{:04}-{:05}",
            3300 + (n / 100_000_000) % 1000,
            (n / 10_000) % 10_000,
            (n / 10) % 10_000,
            n % 100_000
        )
    }

    /// Takes one matching fault, if any.
    pub fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|f| f.count > 0 && path.contains(&f.path_contains))?;
        let fault = self.faults[i].clone();
        self.faults[i].count -= 1;
        if self.faults[i].count == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }
}

pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A random opaque token in the style of Google's purchase tokens.
pub fn random_token(prefix: &str, len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::rng();
    let body: String = (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{body}")
}
