//! Play Developer API quotas as Google enforces them: independent per-minute buckets per
//! package (reference section 10; default 3000 queries a minute each) and the Voided
//! Purchases API's 30 queries per 30 seconds. Past a limit the answer is 429 with reason
//! `rateLimitExceeded` in domain `usageLimits`. Windows follow the wall clock.

use std::collections::{HashMap, VecDeque};

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::GoogleApiError;
use crate::state::{Shared, wall_ms};

/// The buckets the sandbox meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// purchases.subscriptions* reads and acknowledgements.
    Subscriptions,
    /// purchases.products / productsv2.
    OneTimePurchases,
    /// purchases.voidedpurchases.list (its own 30-per-30-seconds rule).
    VoidedPurchases,
    /// externaltransactions.* (create, get, refund).
    ExternalTransactions,
    /// orders.*.
    Orders,
    /// The catalog: inappproducts.* and monetization.*.
    Catalog,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct QuotaSettings {
    /// Queries per minute of each per-minute bucket.
    #[serde(default = "per_minute")]
    pub per_minute: u32,
    /// Voided Purchases API queries per 30 seconds.
    #[serde(default = "voided_per_30s")]
    pub voided_per_30s: u32,
    /// Voided Purchases API queries per day (Pacific time, as Google counts).
    #[serde(default = "voided_per_day")]
    pub voided_per_day: u32,
}

fn per_minute() -> u32 {
    3000
}
fn voided_per_30s() -> u32 {
    30
}
fn voided_per_day() -> u32 {
    6000
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            per_minute: per_minute(),
            voided_per_30s: voided_per_30s(),
            voided_per_day: voided_per_day(),
        }
    }
}

#[derive(Default)]
pub struct Quotas {
    pub settings: QuotaSettings,
    calls: HashMap<(String, Bucket), VecDeque<i64>>,
    /// Voided Purchases API queries per package: (day number, count).
    voided_days: HashMap<String, (i64, u32)>,
}

/// Google's daily quotas reset at midnight Pacific time (UTC-8 here; daylight saving is
/// ignored).
fn pacific_day(wall_ms: i64) -> i64 {
    (wall_ms - 8 * 3_600_000).div_euclid(86_400_000)
}

impl Quotas {
    /// Counts one query of `package` against `bucket`, or refuses it with a 429.
    pub fn charge(&mut self, package: &str, bucket: Bucket) -> Result<(), GoogleApiError> {
        let (limit, window_ms) = match bucket {
            Bucket::VoidedPurchases => (self.settings.voided_per_30s, 30_000),
            _ => (self.settings.per_minute, 60_000),
        };
        let now = wall_ms();
        let calls = self.calls.entry((package.to_owned(), bucket)).or_default();
        while calls.front().is_some_and(|t| *t <= now - window_ms) {
            calls.pop_front();
        }
        let exceeded = |what: &str| {
            GoogleApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rateLimitExceeded",
                format!("Quota exceeded for quota metric {bucket:?}{what} of package {package}."),
            )
        };
        if calls.len() >= limit as usize {
            return Err(exceeded(""));
        }
        if bucket == Bucket::VoidedPurchases {
            let today = pacific_day(now);
            let day = self
                .voided_days
                .entry(package.to_owned())
                .or_insert((today, 0));
            if day.0 != today {
                *day = (today, 0);
            }
            if day.1 >= self.settings.voided_per_day {
                return Err(exceeded(" (per day)"));
            }
            day.1 += 1;
        }
        calls.push_back(now);
        Ok(())
    }
}

/// `GET /sandbox/v1/quotas`
pub async fn get_quotas(State(shared): State<Shared>) -> Json<QuotaSettings> {
    Json(shared.lock().quotas.settings.clone())
}

/// `PUT /sandbox/v1/quotas` with `{"per_minute"?, "voided_per_30s"?}`; counting restarts.
pub async fn put_quotas(
    State(shared): State<Shared>,
    b: Result<Json<QuotaSettings>, JsonRejection>,
) -> Result<Json<QuotaSettings>, GoogleApiError> {
    let q = crate::error::json_body(b)?;
    if q.per_minute == 0 || q.voided_per_30s == 0 || q.voided_per_day == 0 {
        return Err(GoogleApiError::invalid(
            "invalid",
            "quotas must be at least 1",
        ));
    }
    let mut world = shared.lock();
    world.quotas = Quotas {
        settings: q.clone(),
        ..Quotas::default()
    };
    Ok(Json(q))
}
