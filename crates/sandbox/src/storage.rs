//! Cloud Storage JSON API (v1) serving the Play Console reports bucket: `earnings/` and
//! `sales/` ZIPs generated from the order ledger (reference section 11).
//!
//! One bucket, `pubsite_prod_rev_01234567890987654321` unless `PUT /sandbox/v1/reports` names
//! another, answering what a reports importer calls:
//! - `GET /storage/v1/b/{bucket}/o` (`storage.objects.list`): `prefix`, `delimiter`,
//!   `maxResults`, `pageToken`, `startOffset`, `endOffset`;
//! - `GET /storage/v1/b/{bucket}/o/{object}` (`storage.objects.get`): metadata, or the bytes
//!   with `alt=media` (single byte ranges, `generation` and the `if(Meta)generation(Not)Match`
//!   preconditions); the same at `/download/storage/v1/...`, where `mediaLink` points.
//!
//! Files are made on every request from [`World::orders`]: for every month that has a
//! charge or a refund, `earnings/earnings_YYYYMM_<paymentsProfileId>-0.zip` (holding
//! `PlayApps_YYYYMM.csv`) and `sales/salesreport_YYYYMM.zip` (holding `salesreport_YYYYMM.csv`).
//! Months, dates and times are US Pacific time (PST/PDT, by the US daylight-saving rules in
//! force since 2007), as in the Play Console's financial reports. Both files exist as soon as
//! the month has activity (Google publishes the final earnings file early in the next month;
//! the sandbox does not make importers wait). License testers' purchases are left out: no
//! money moves. Zero-priced charges are left out of the earnings (nothing is paid) but listed
//! in the sales report.
//!
//! Money: a sale's `Charge` row is what the buyer paid (pre-tax price plus the sandbox's 10 %
//! tax), its `Google fee` row is minus 15 % of the pre-tax price and its `Tax` row is minus the
//! tax (Google remits it), so the rows of a month add up to the payout. A refund's rows reverse
//! the refunded share (`Charge refund`, `Google fee refund`, `Tax refund`, with `Refund Type`
//! Full or Partial; chargebacks look the same); tax and fee shares are apportioned
//! cumulatively so that refunding everything reverses the sale to the cent. Sales rows: one
//! `Charged` row per charge and a `Refund` / `Partial refund` row (negative amounts, dated
//! when the refund happened) per refund. Amounts have two decimals and thousands separators
//! (and so are quoted). Merchant amounts use a fixed conversion table ([`USD_MICROS`]; a
//! currency outside it converts at 1).
//!
//! `generation` changes exactly when a file's bytes change (it is then bumped to at least the
//! billing clock in microseconds), so an importer can skip what it already has.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, UtcOffset, Weekday};

use playbill_google::observe::format_time;
use playbill_google::storage::{DEVSTORAGE_FULL_CONTROL_SCOPE, DEVSTORAGE_READ_ONLY_SCOPE};
use playbill_google::storage::{Object, Objects};
use playbill_google::wire::{ErrorBody, ErrorEnvelope, ErrorItem, Int64};

use crate::error::GoogleApiError;
use crate::orders::Charge;
use crate::state::{Shared, World};

/// The reports bucket unless the control API names another (the help centre's example).
pub const DEFAULT_BUCKET: &str = "pubsite_prod_rev_01234567890987654321";
/// The payments profile in earnings file names unless the control API says otherwise.
pub const DEFAULT_PAYMENTS_PROFILE_ID: &str = "3141592653589793238";

/// Scopes that may read objects (`storage.objects.get` / `.list` in the contract); the
/// `cloud-platform` scope is accepted by [`crate::play::authorize`] itself.
const READ_SCOPES: [&str; 4] = [
    DEVSTORAGE_READ_ONLY_SCOPE,
    DEVSTORAGE_FULL_CONTROL_SCOPE,
    "https://www.googleapis.com/auth/devstorage.read_write",
    "https://www.googleapis.com/auth/cloud-platform.read-only",
];

/// Value of one unit of a currency in micros of USD, for the merchant-currency columns.
pub const USD_MICROS: &[(&str, i64)] = &[
    ("USD", 1_000_000),
    ("EUR", 1_080_000),
    ("GBP", 1_270_000),
    ("CHF", 1_130_000),
    ("CAD", 740_000),
    ("AUD", 660_000),
    ("JPY", 6_700),
    ("KRW", 750),
    ("INR", 12_000),
    ("IDR", 63),
    ("BRL", 200_000),
    ("MXN", 58_000),
    ("ZAR", 54_000),
    ("SEK", 95_000),
    ("PLN", 250_000),
];

fn usd_micros(currency: &str) -> Option<i64> {
    USD_MICROS
        .iter()
        .find(|(c, _)| *c == currency)
        .map(|(_, v)| *v)
}

/// The switchable variants of the reports (`PUT /sandbox/v1/reports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// `pubsite_prod_rev_<digits>` (or the older `pubsite_prod_<digits>`).
    #[serde(default = "default_bucket")]
    pub bucket: String,
    /// Digits, in the earnings file names.
    #[serde(default = "default_profile")]
    pub payments_profile_id: String,
    /// Write the CSVs as UTF-16LE with a byte-order mark (otherwise UTF-8 without one).
    #[serde(default)]
    pub utf16: bool,
    /// Newer column names (`Package ID`, `SKU ID`, `Base Plan or Purchase Option ID`) and an
    /// extra column the reference does not know (`Sales Channel`, in the middle).
    #[serde(default)]
    pub renamed_columns: bool,
    /// Currency of the `Amount (Merchant Currency)` column; one of [`USD_MICROS`].
    #[serde(default = "default_merchant_currency")]
    pub merchant_currency: String,
}

fn default_bucket() -> String {
    DEFAULT_BUCKET.into()
}
fn default_profile() -> String {
    DEFAULT_PAYMENTS_PROFILE_ID.into()
}
fn default_merchant_currency() -> String {
    "USD".into()
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            bucket: default_bucket(),
            payments_profile_id: default_profile(),
            utf16: false,
            renamed_columns: false,
            merchant_currency: default_merchant_currency(),
        }
    }
}

impl ReportSettings {
    fn validate(&self) -> Result<(), String> {
        let digits = self
            .bucket
            .strip_prefix("pubsite_prod_rev_")
            .or_else(|| self.bucket.strip_prefix("pubsite_prod_"))
            .unwrap_or("");
        if digits.is_empty()
            || self.bucket.len() > 63
            || !digits.chars().all(|c| c.is_ascii_digit())
        {
            return Err(format!(
                "bucket must be pubsite_prod_rev_ followed by digits (at most 63 characters), got {:?}",
                self.bucket
            ));
        }
        if !(1..=30).contains(&self.payments_profile_id.len())
            || !self.payments_profile_id.chars().all(|c| c.is_ascii_digit())
        {
            return Err("payments_profile_id must be 1 to 30 digits".into());
        }
        if usd_micros(&self.merchant_currency).is_none() {
            let known: Vec<&str> = USD_MICROS.iter().map(|(c, _)| *c).collect();
            return Err(format!("merchant_currency must be one of {known:?}"));
        }
        Ok(())
    }
}

/// How the reports bucket is served: its settings, and what each file last held (so that
/// `generation` changes exactly when the content does).
#[derive(Debug, Default)]
pub struct Reports {
    pub settings: ReportSettings,
    seen: HashMap<String, Seen>,
}

#[derive(Debug, Clone)]
struct Seen {
    md5: [u8; 16],
    generation: i64,
    created_ms: i64,
    updated_ms: i64,
}

/// One object of the bucket as it is now.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub generation: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
    md5: [u8; 16],
    crc32c: u32,
}

/// The Cloud Storage routes, under `/storage/v1/` and `/download/storage/v1/`.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/storage/v1/b/{bucket}/o", get(objects_list))
        .route("/storage/v1/b/{bucket}/o/{object}", get(objects_get))
        .route(
            "/download/storage/v1/b/{bucket}/o/{object}",
            get(objects_get),
        )
}

/// The control route `/sandbox/v1/reports`.
pub fn control_routes() -> Router<Shared> {
    Router::new().route("/sandbox/v1/reports", get(get_settings).put(put_settings))
}

// ---------------------------------------------------------------------------------------
// Control API

/// `GET /sandbox/v1/reports`
pub async fn get_settings(State(shared): State<Shared>) -> Json<ReportSettings> {
    Json(shared.lock().reports.settings.clone())
}

/// `PUT /sandbox/v1/reports` with `{"bucket"?, "payments_profile_id"?, "utf16"?,
/// "renamed_columns"?, "merchant_currency"?}`; absent fields take their defaults.
pub async fn put_settings(
    State(shared): State<Shared>,
    b: Result<Json<ReportSettings>, JsonRejection>,
) -> Result<Json<ReportSettings>, GoogleApiError> {
    let s = crate::error::json_body(b)?;
    s.validate()
        .map_err(|m| GoogleApiError::invalid("invalid", m))?;
    shared.lock().reports.settings = s.clone();
    Ok(Json(s))
}

// ---------------------------------------------------------------------------------------
// Cloud Storage JSON API

/// An error in Cloud Storage's envelope (domain `global`, no canonical status name).
fn gcs_error(status: StatusCode, reason: &str, message: impl Into<String>) -> Response {
    let message = message.into();
    let body = ErrorEnvelope {
        error: ErrorBody {
            code: status.as_u16(),
            message: message.clone(),
            status: None,
            errors: vec![ErrorItem {
                domain: "global".into(),
                reason: reason.into(),
                message,
                location: None,
                location_type: None,
            }],
        },
    };
    (status, Json(body)).into_response()
}

fn from_api_error(e: GoogleApiError) -> Response {
    gcs_error(e.status, e.reason, e.message)
}

/// Bearer token with a scope that may read objects, and the bucket that exists.
fn admit(world: &World, headers: &HeaderMap, bucket: &str) -> Result<(), GoogleApiError> {
    let mut denied = None;
    for scope in READ_SCOPES {
        match crate::play::authorize(world, headers, scope) {
            Ok(()) => {
                denied = None;
                break;
            }
            Err(e) if e.status == StatusCode::FORBIDDEN => denied = Some(e),
            Err(e) => return Err(e),
        }
    }
    if let Some(e) = denied {
        return Err(e);
    }
    if bucket != world.reports.settings.bucket {
        return Err(GoogleApiError::new(
            StatusCode::NOT_FOUND,
            "notFound",
            "The specified bucket does not exist.",
        ));
    }
    Ok(())
}

fn invalid(message: impl Into<String>) -> Response {
    gcs_error(StatusCode::BAD_REQUEST, "invalid", message)
}

/// `storage.objects.list`
pub async fn objects_list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(bucket): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut world = shared.lock();
    if let Err(e) = admit(&world, &headers, &bucket) {
        return from_api_error(e);
    }
    let max_results = match q.get("maxResults").map(|v| v.parse::<u32>()) {
        None => 1000,
        Some(Ok(0)) => 1000,
        Some(Ok(n)) => n.min(1000) as usize,
        Some(Err(_)) => return invalid("Invalid unsigned integer value for maxResults."),
    };
    let after = match q.get("pageToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(s) => Some(s),
            None => return invalid("Invalid argument: pageToken."),
        },
    };
    if q.contains_key("matchGlob") {
        return gcs_error(
            StatusCode::NOT_IMPLEMENTED,
            "notImplemented",
            "matchGlob is not supported by playbill-sandbox.",
        );
    }
    if q.get("softDeleted").is_some_and(|v| v == "true") {
        return Json(Objects {
            kind: Some("storage#objects".into()),
            ..Objects::default()
        })
        .into_response();
    }
    let prefix = q.get("prefix").map(String::as_str).unwrap_or("");
    let delimiter = q
        .get("delimiter")
        .map(String::as_str)
        .filter(|d| !d.is_empty());
    let start = q.get("startOffset").map(String::as_str).unwrap_or("");
    let end = q
        .get("endOffset")
        .map(String::as_str)
        .filter(|e| !e.is_empty());

    let files = generate(&mut world);
    // Every entry of the listing in name order: an object, or a prefix rolled up at the
    // delimiter (once).
    let mut entries: BTreeMap<String, Option<&ReportFile>> = BTreeMap::new();
    for f in &files {
        let name = f.name.as_str();
        if !name.starts_with(prefix) || name < start || end.is_some_and(|e| name >= e) {
            continue;
        }
        match delimiter.and_then(|d| name[prefix.len()..].find(d).map(|i| (i, d))) {
            Some((i, d)) => {
                entries.insert(name[..prefix.len() + i + d.len()].to_owned(), None);
            }
            None => {
                entries.insert(name.to_owned(), Some(f));
            }
        }
    }
    let mut page = entries
        .iter()
        .filter(|(k, _)| after.as_ref().is_none_or(|a| k.as_str() > a.as_str()));
    let mut items = Vec::new();
    let mut prefixes = Vec::new();
    let mut last = None;
    for (k, v) in page.by_ref().take(max_results) {
        match v {
            Some(f) => items.push(metadata(&world, f)),
            None => prefixes.push(k.clone()),
        }
        last = Some(k.clone());
    }
    let next_page_token = match (page.next(), last) {
        (Some(_), Some(last)) => Some(URL_SAFE_NO_PAD.encode(last.as_bytes())),
        _ => None,
    };
    Json(Objects {
        kind: Some("storage#objects".into()),
        items: (!items.is_empty()).then_some(items),
        next_page_token,
        prefixes: (!prefixes.is_empty()).then_some(prefixes),
    })
    .into_response()
}

/// `storage.objects.get`: metadata, or the content with `alt=media`.
pub async fn objects_get(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((bucket, object)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut world = shared.lock();
    if let Err(e) = admit(&world, &headers, &bucket) {
        return from_api_error(e);
    }
    let media = match q.get("alt").map(String::as_str) {
        None | Some("json") => false,
        Some("media") => true,
        Some(other) => return invalid(format!("Invalid value for alt: {other:?}.")),
    };
    let mut numbers = HashMap::new();
    for key in [
        "generation",
        "ifGenerationMatch",
        "ifGenerationNotMatch",
        "ifMetagenerationMatch",
        "ifMetagenerationNotMatch",
    ] {
        if let Some(v) = q.get(key) {
            match v.parse::<i64>() {
                Ok(n) => {
                    numbers.insert(key, n);
                }
                Err(_) => return invalid(format!("Invalid int64 value for {key}: {v:?}.")),
            }
        }
    }
    let files = generate(&mut world);
    let not_found = || {
        gcs_error(
            StatusCode::NOT_FOUND,
            "notFound",
            format!("No such object: {bucket}/{object}"),
        )
    };
    let Some(f) = files.into_iter().find(|f| f.name == object) else {
        return not_found();
    };
    if numbers
        .get("generation")
        .is_some_and(|g| *g != f.generation)
    {
        return not_found();
    }
    let failed = numbers
        .get("ifGenerationMatch")
        .is_some_and(|g| *g != f.generation)
        || numbers
            .get("ifMetagenerationMatch")
            .is_some_and(|m| *m != 1);
    if failed {
        return gcs_error(
            StatusCode::PRECONDITION_FAILED,
            "conditionNotMet",
            "At least one of the pre-conditions you specified did not hold.",
        );
    }
    let unchanged = numbers
        .get("ifGenerationNotMatch")
        .is_some_and(|g| *g == f.generation)
        || numbers
            .get("ifMetagenerationNotMatch")
            .is_some_and(|m| *m == 1);
    if unchanged {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    if !media {
        return Json(metadata(&world, &f)).into_response();
    }
    drop(world);
    media_response(&headers, f)
}

/// The bytes of `f`, the whole or one `Range: bytes=…`, with Cloud Storage's headers.
fn media_response(headers: &HeaderMap, f: ReportFile) -> Response {
    let total = f.bytes.len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .filter(|v| !v.contains(','))
        .map(|v| parse_range(v, total));
    let mut extra: Vec<(header::HeaderName, String)> = vec![
        (header::CONTENT_TYPE, "application/zip".into()),
        (header::ACCEPT_RANGES, "bytes".into()),
        (
            header::HeaderName::from_static("x-goog-generation"),
            f.generation.to_string(),
        ),
        (
            header::HeaderName::from_static("x-goog-metageneration"),
            "1".into(),
        ),
        (
            header::HeaderName::from_static("x-goog-hash"),
            format!(
                "crc32c={},md5={}",
                STANDARD.encode(f.crc32c.to_be_bytes()),
                STANDARD.encode(f.md5)
            ),
        ),
        (
            header::HeaderName::from_static("x-goog-stored-content-length"),
            total.to_string(),
        ),
        (
            header::HeaderName::from_static("x-goog-stored-content-encoding"),
            "identity".into(),
        ),
        (
            header::HeaderName::from_static("x-goog-storage-class"),
            "STANDARD".into(),
        ),
    ];
    let (status, body) = match range {
        None => (StatusCode::OK, f.bytes),
        Some(Some((a, b))) => {
            extra.push((header::CONTENT_RANGE, format!("bytes {a}-{b}/{total}")));
            (StatusCode::PARTIAL_CONTENT, f.bytes[a..=b].to_vec())
        }
        Some(None) => {
            let mut r = gcs_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "requestedRangeNotSatisfiable",
                "Request range not satisfiable",
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let mut resp = (status, body).into_response();
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// `START-END`, `START-` or `-SUFFIX` → inclusive byte positions, `None` when unsatisfiable.
fn parse_range(spec: &str, total: usize) -> Option<(usize, usize)> {
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", suffix) => {
            let n: usize = suffix.parse().ok()?;
            (total.checked_sub(n.min(total))?, total.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, total.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<usize>().ok()?.min(total.checked_sub(1)?),
        ),
    };
    (start <= end && start < total).then_some((start, end))
}

/// Percent-encodes an object name as one path segment (`/` → `%2F`).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn metadata(world: &World, f: &ReportFile) -> Object {
    let bucket = &world.reports.settings.bucket;
    let enc = encode_segment(&f.name);
    Object {
        bucket: Some(bucket.clone()),
        content_type: Some("application/zip".into()),
        crc32c: Some(STANDARD.encode(f.crc32c.to_be_bytes())),
        etag: Some(STANDARD.encode(format!("{}/1", f.generation))),
        generation: Some(Int64(f.generation)),
        id: Some(format!("{bucket}/{}/{}", f.name, f.generation)),
        kind: Some("storage#object".into()),
        md5_hash: Some(STANDARD.encode(f.md5)),
        media_link: Some(format!(
            "{}/download/storage/v1/b/{bucket}/o/{enc}?generation={}&alt=media",
            world.base_url, f.generation
        )),
        metageneration: Some(Int64(1)),
        name: Some(f.name.clone()),
        self_link: Some(format!("{}/storage/v1/b/{bucket}/o/{enc}", world.base_url)),
        size: Some(Int64(f.bytes.len() as i64)),
        storage_class: Some("STANDARD".into()),
        time_created: Some(format_time(f.created_ms)),
        time_storage_class_updated: Some(format_time(f.created_ms)),
        updated: Some(format_time(f.updated_ms)),
    }
}

// ---------------------------------------------------------------------------------------
// The files

const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

/// Every object of the bucket now, in name order. Records content changes (generation).
pub fn generate(world: &mut World) -> Vec<ReportFile> {
    let now = world.now();
    let contents = build_files(&world.orders, &world.reports.settings);
    let mut out = Vec::with_capacity(contents.len());
    for (name, bytes) in contents {
        let md5: [u8; 16] = Md5::digest(&bytes).into();
        let seen = world.reports.seen.entry(name.clone()).or_insert(Seen {
            md5,
            generation: now.saturating_mul(1000),
            created_ms: now,
            updated_ms: now,
        });
        if seen.md5 != md5 {
            seen.md5 = md5;
            seen.generation = (seen.generation + 1).max(now.saturating_mul(1000));
            seen.updated_ms = now;
        }
        out.push(ReportFile {
            crc32c: CRC32C.checksum(&bytes),
            md5,
            generation: seen.generation,
            created_ms: seen.created_ms,
            updated_ms: seen.updated_ms,
            name,
            bytes,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// US Pacific time at `ms`: the local date-time and `PST` or `PDT`. Daylight time runs from
/// the second Sunday of March, 2:00 PST (10:00 UTC), to the first Sunday of November,
/// 2:00 PDT (09:00 UTC).
pub fn pacific(ms: i64) -> (OffsetDateTime, &'static str) {
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let sunday = |month: Month, nth: u8| -> Option<OffsetDateTime> {
        let first = Date::from_calendar_date(utc.year(), month, 1).ok()?;
        let to_sunday = (7 - first.weekday().number_days_from_sunday()) % 7;
        let day = first.replace_day(1 + to_sunday + 7 * (nth - 1)).ok()?;
        debug_assert_eq!(day.weekday(), Weekday::Sunday);
        Some(day.midnight().assume_utc())
    };
    let dst = match (sunday(Month::March, 2), sunday(Month::November, 1)) {
        (Some(start), Some(end)) => {
            let start = start + time::Duration::hours(10);
            let end = end + time::Duration::hours(9);
            start <= utc && utc < end
        }
        _ => false,
    };
    let (hours, name) = if dst { (-7, "PDT") } else { (-8, "PST") };
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    (utc.to_offset(offset), name)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `(year, month)` of `ms` in Pacific time.
fn month_of(ms: i64) -> (i32, u8) {
    let (t, _) = pacific(ms);
    (t.year(), u8::from(t.month()))
}

/// `Sep 3, 2026`
fn earnings_date(t: &OffsetDateTime) -> String {
    format!(
        "{} {}, {}",
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.day(),
        t.year()
    )
}

/// `10:01:02 AM PDT`
fn earnings_time(t: &OffsetDateTime, zone: &str) -> String {
    let h = t.hour();
    let h12 = if h.is_multiple_of(12) { 12 } else { h % 12 };
    let ampm = if h < 12 { "AM" } else { "PM" };
    format!("{h12}:{:02}:{:02} {ampm} {zone}", t.minute(), t.second())
}

/// `-1,234.56` from micros, rounded half away from zero to the cent.
pub fn amount(micros: i64) -> String {
    let cents = (i128::from(micros.unsigned_abs()) + 5_000) / 10_000;
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if micros < 0 && cents > 0 { "-" } else { "" };
    format!("{sign}{grouped}.{:02}", cents % 100)
}

/// Buyer → merchant currency: the rate (6 decimals) and the converted amount.
struct Conversion {
    buyer: i64,
    merchant: i64,
}

impl Conversion {
    fn new(buyer: &str, merchant: &str) -> Self {
        match (usd_micros(buyer), usd_micros(merchant)) {
            (Some(b), Some(m)) if buyer != merchant => Self {
                buyer: b,
                merchant: m,
            },
            _ => Self {
                buyer: 1,
                merchant: 1,
            },
        }
    }
    fn rate(&self) -> String {
        let r = (i128::from(self.buyer) * 1_000_000 * 2 + i128::from(self.merchant))
            / (2 * i128::from(self.merchant));
        format!("{}.{:06}", r / 1_000_000, r % 1_000_000)
    }
    fn convert(&self, micros: i64) -> i64 {
        let v = i128::from(micros) * i128::from(self.buyer);
        let m = i128::from(self.merchant);
        // Round half away from zero to the micro; `amount` rounds to the cent.
        let q = (v.abs() * 2 + m) / (2 * m);
        (if v < 0 { -q } else { q }) as i64
    }
}

fn tax_type(region: &str) -> &'static str {
    match region {
        "US" | "CA" => "Sales tax",
        "AU" | "IN" | "NZ" | "SG" | "MY" => "GST",
        "JP" => "Consumption tax",
        _ => "VAT",
    }
}

/// Rounds micros down to a whole cent.
fn floor_cent(v: i128) -> i64 {
    (v - v.rem_euclid(10_000)) as i64
}

/// The tax and fee shares of a charge's first `refunded` pre-tax micros: apportioned by
/// amount, so all refunds together give back exactly the charge's tax and fee.
fn refunded_shares(c: &Charge, refunded: i64) -> (i64, i64) {
    let price = c.price_micros();
    if price <= 0 {
        return (0, 0);
    }
    let part =
        |total: i64| floor_cent(i128::from(total) * i128::from(refunded) / i128::from(price));
    if refunded >= price {
        (c.tax_micros(), c.fee_micros())
    } else {
        (part(c.tax_micros()), part(c.fee_micros()))
    }
}

const EARNINGS_COLUMNS: [&str; 28] = [
    "Description",
    "Transaction Date",
    "Transaction Time",
    "Tax Type",
    "Transaction Type",
    "Refund Type",
    "Product Title",
    "Product id",
    "Product Type",
    "Sku Id",
    "Hardware",
    "Buyer Country",
    "Buyer State",
    "Buyer Postal Code",
    "Buyer Currency",
    "Amount (Buyer Currency)",
    "Currency Conversion Rate",
    "Merchant Currency",
    "Amount (Merchant Currency)",
    "Base Plan ID",
    "Offer ID",
    "Group ID",
    "First USD 1M Eligible",
    "Promotion ID",
    "Coupon Value",
    "Discount Rate",
    "Featured Product ID",
    "Price Experiment ID",
];

const SALES_COLUMNS: [&str; 26] = [
    "Order Number",
    "Order Charged Date",
    "Order Charged Timestamp",
    "Financial Status",
    "Device Model",
    "Product Title",
    "Product ID",
    "Product Type",
    "SKU ID",
    "Currency of Sale",
    "Item Price",
    "Taxes Collected",
    "Charged Amount",
    "City of Buyer",
    "State of Buyer",
    "Postal Code of Buyer",
    "Country of Buyer",
    "Base Plan ID",
    "Offer ID",
    "Group ID",
    "First USD 1M Eligible",
    "Promotion ID",
    "Coupon Value",
    "Discount Rate",
    "Featured Product ID",
    "Price Experiment ID",
];

/// The column the `renamed_columns` variant adds, after `Product Type`.
const EXTRA_COLUMN: (&str, &str) = ("Sales Channel", "Google Play");

/// Newer names of the `renamed_columns` variant.
fn renamed(column: &'static str, sales: bool) -> &'static str {
    match (column, sales) {
        ("Product id", false) | ("Product ID", true) => "Package ID",
        ("Sku Id", false) => "SKU ID",
        ("Base Plan ID", true) => "Base Plan or Purchase Option ID",
        (c, _) => c,
    }
}

/// One CSV table: rows are (column, value) pairs, written in the column order.
struct Table {
    columns: &'static [&'static str],
    sales: bool,
    rows: Vec<Vec<(&'static str, String)>>,
}

impl Table {
    fn csv(&self, settings: &ReportSettings) -> Vec<u8> {
        let mut text = String::new();
        let mut header: Vec<String> = Vec::new();
        for c in self.columns {
            header.push(if settings.renamed_columns {
                renamed(c, self.sales).to_owned()
            } else {
                (*c).to_owned()
            });
            if settings.renamed_columns && *c == "Product Type" {
                header.push(EXTRA_COLUMN.0.to_owned());
            }
        }
        csv_line(&header, &mut text);
        for row in &self.rows {
            let mut fields = Vec::with_capacity(header.len());
            for c in self.columns {
                fields.push(
                    row.iter()
                        .find(|(k, _)| k == c)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                );
                if settings.renamed_columns && *c == "Product Type" {
                    fields.push(EXTRA_COLUMN.1.to_owned());
                }
            }
            csv_line(&fields, &mut text);
        }
        if settings.utf16 {
            let mut bytes = vec![0xFF, 0xFE];
            for u in text.encode_utf16() {
                bytes.extend_from_slice(&u.to_le_bytes());
            }
            bytes
        } else {
            text.into_bytes()
        }
    }
}

/// Appends one CSV record (RFC 4180 quoting where needed, `\n` line end).
fn csv_line(fields: &[String], out: &mut String) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
}

/// A money movement of a month: a charge, or refund number `i` of a charge.
struct Event<'a> {
    at: i64,
    charge: &'a Charge,
    refund: Option<usize>,
}

/// The files' names and bytes, from the ledger.
fn build_files(orders: &[Charge], settings: &ReportSettings) -> Vec<(String, Vec<u8>)> {
    let mut months: BTreeMap<(i32, u8), Vec<Event<'_>>> = BTreeMap::new();
    for c in orders.iter().filter(|c| !c.test) {
        months
            .entry(month_of(c.charged_ms))
            .or_default()
            .push(Event {
                at: c.charged_ms,
                charge: c,
                refund: None,
            });
        for (i, r) in c.refunds.iter().enumerate() {
            months.entry(month_of(r.at_ms)).or_default().push(Event {
                at: r.at_ms,
                charge: c,
                refund: Some(i),
            });
        }
    }
    let mut files = Vec::new();
    for ((year, month), mut events) in months {
        events.sort_by(|a, b| {
            (a.at, &a.charge.order_id, a.refund).cmp(&(b.at, &b.charge.order_id, b.refund))
        });
        let ym = format!("{year:04}{month:02}");
        let last = events.iter().map(|e| e.at).max().unwrap_or(0);
        let earnings = earnings_table(&events, settings).csv(settings);
        let sales = sales_table(&events).csv(settings);
        files.push((
            format!(
                "earnings/earnings_{ym}_{}-0.zip",
                settings.payments_profile_id
            ),
            zip_one(&format!("PlayApps_{ym}.csv"), &earnings, last),
        ));
        files.push((
            format!("sales/salesreport_{ym}.zip"),
            zip_one(&format!("salesreport_{ym}.csv"), &sales, last),
        ));
    }
    files
}

fn product_type(c: &Charge) -> &'static str {
    if c.subscription {
        "subscription"
    } else {
        "inapp"
    }
}

fn earnings_table(events: &[Event<'_>], settings: &ReportSettings) -> Table {
    let mut rows = Vec::new();
    for e in events {
        let c = e.charge;
        if c.price_micros() == 0 {
            continue;
        }
        let (t, zone) = pacific(e.at);
        let conv = Conversion::new(&c.currency, &settings.merchant_currency);
        let base = |kind: &str, refund_type: &str, tax: bool, micros: i64| {
            vec![
                ("Description", c.order_id.clone()),
                ("Transaction Date", earnings_date(&t)),
                ("Transaction Time", earnings_time(&t, zone)),
                (
                    "Tax Type",
                    if tax { tax_type(&c.region) } else { "" }.to_owned(),
                ),
                ("Transaction Type", kind.to_owned()),
                ("Refund Type", refund_type.to_owned()),
                ("Product Title", c.product_id.clone()),
                ("Product id", c.package.clone()),
                ("Product Type", product_type(c).to_owned()),
                ("Sku Id", c.product_id.clone()),
                ("Hardware", "sandbox".to_owned()),
                ("Buyer Country", c.region.clone()),
                ("Buyer Currency", c.currency.clone()),
                ("Amount (Buyer Currency)", amount(micros)),
                ("Currency Conversion Rate", conv.rate()),
                ("Merchant Currency", settings.merchant_currency.clone()),
                ("Amount (Merchant Currency)", amount(conv.convert(micros))),
                ("Base Plan ID", c.base_plan_id.clone().unwrap_or_default()),
            ]
        };
        match e.refund {
            None => {
                rows.push(base("Charge", "", false, c.total_micros()));
                rows.push(base("Google fee", "", false, -c.fee_micros()));
                rows.push(base("Tax", "", true, -c.tax_micros()));
            }
            Some(i) => {
                let r = &c.refunds[i];
                let before: i64 = c.refunds[..i].iter().map(|r| r.amount_micros).sum();
                let (tax0, fee0) = refunded_shares(c, before);
                let (tax1, fee1) = refunded_shares(c, before + r.amount_micros);
                let (tax, fee) = (tax1 - tax0, fee1 - fee0);
                let kind = if r.partial { "Partial" } else { "Full" };
                rows.push(base("Charge refund", kind, false, -(r.amount_micros + tax)));
                rows.push(base("Google fee refund", kind, false, fee));
                rows.push(base("Tax refund", kind, true, tax));
            }
        }
    }
    Table {
        columns: &EARNINGS_COLUMNS,
        sales: false,
        rows,
    }
}

fn sales_table(events: &[Event<'_>]) -> Table {
    let mut rows = Vec::new();
    for e in events {
        let c = e.charge;
        let (t, _) = pacific(e.at);
        let (status, price, tax) = match e.refund {
            None => ("Charged", c.price_micros(), c.tax_micros()),
            Some(i) => {
                let r = &c.refunds[i];
                let before: i64 = c.refunds[..i].iter().map(|r| r.amount_micros).sum();
                let tax =
                    refunded_shares(c, before + r.amount_micros).0 - refunded_shares(c, before).0;
                let status = if r.partial {
                    "Partial refund"
                } else {
                    "Refund"
                };
                (status, -r.amount_micros, -tax)
            }
        };
        rows.push(vec![
            ("Order Number", c.order_id.clone()),
            (
                "Order Charged Date",
                format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
            ),
            ("Order Charged Timestamp", e.at.div_euclid(1000).to_string()),
            ("Financial Status", status.to_owned()),
            ("Device Model", "sandbox".to_owned()),
            ("Product Title", c.product_id.clone()),
            ("Product ID", c.package.clone()),
            ("Product Type", product_type(c).to_owned()),
            ("SKU ID", c.product_id.clone()),
            ("Currency of Sale", c.currency.clone()),
            ("Item Price", amount(price)),
            ("Taxes Collected", amount(tax)),
            ("Charged Amount", amount(price + tax)),
            ("Country of Buyer", c.region.clone()),
            ("Base Plan ID", c.base_plan_id.clone().unwrap_or_default()),
        ]);
    }
    Table {
        columns: &SALES_COLUMNS,
        sales: true,
        rows,
    }
}

/// A ZIP holding one deflated file, stamped with `modified_ms` (Pacific time) so the bytes
/// depend on the content only.
fn zip_one(entry: &str, data: &[u8], modified_ms: i64) -> Vec<u8> {
    let (t, _) = pacific(modified_ms);
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp)
        .unix_permissions(0o644);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let written = w
        .start_file(entry, options)
        .map_err(std::io::Error::other)
        .and_then(|()| w.write_all(data));
    match written.and_then(|()| w.finish().map_err(std::io::Error::other)) {
        Ok(cursor) => cursor.into_inner(),
        // Writing to memory cannot fail; an empty object would show it if it did.
        Err(e) => {
            tracing::error!("cannot write {entry}: {e}");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        playbill_google::observe::parse_time("t", s).unwrap()
    }

    #[test]
    fn pacific_time_follows_us_daylight_saving() {
        // 2026: DST from 8 March 10:00 UTC to 1 November 09:00 UTC.
        let (t, z) = pacific(ms("2026-09-03T17:01:02Z"));
        assert_eq!(
            (earnings_date(&t), earnings_time(&t, z)),
            ("Sep 3, 2026".into(), "10:01:02 AM PDT".into())
        );
        let (t, z) = pacific(ms("2026-03-08T09:59:59Z"));
        assert_eq!(earnings_time(&t, z), "1:59:59 AM PST");
        let (t, z) = pacific(ms("2026-03-08T10:00:00Z"));
        assert_eq!(earnings_time(&t, z), "3:00:00 AM PDT");
        let (t, z) = pacific(ms("2026-11-01T08:59:59Z"));
        assert_eq!(earnings_time(&t, z), "1:59:59 AM PDT");
        let (t, z) = pacific(ms("2026-11-01T09:00:00Z"));
        assert_eq!(earnings_time(&t, z), "1:00:00 AM PST");
        // Midnight UTC on the 1st is still the previous month in California.
        assert_eq!(month_of(ms("2026-10-01T03:00:00Z")), (2026, 9));
        let (t, z) = pacific(ms("2026-12-31T20:30:00Z"));
        assert_eq!(earnings_time(&t, z), "12:30:00 PM PST");
    }

    #[test]
    fn amounts_have_cents_and_thousands_separators() {
        assert_eq!(amount(0), "0.00");
        assert_eq!(amount(4_990_000), "4.99");
        assert_eq!(amount(-740_000), "-0.74");
        assert_eq!(amount(1_234_567_890_000), "1,234,567.89");
        assert_eq!(amount(-1_000_000_000), "-1,000.00");
        assert_eq!(amount(5_000), "0.01");
        assert_eq!(amount(-4_999), "0.00");
    }

    #[test]
    fn conversion_rates() {
        let same = Conversion::new("USD", "USD");
        assert_eq!(same.rate(), "1.000000");
        assert_eq!(same.convert(4_990_000), 4_990_000);
        let eur = Conversion::new("EUR", "USD");
        assert_eq!(eur.rate(), "1.080000");
        assert_eq!(eur.convert(10_000_000), 10_800_000);
        let unknown = Conversion::new("XYZ", "USD");
        assert_eq!(unknown.rate(), "1.000000");
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut out = String::new();
        csv_line(
            &[
                "a".into(),
                "Sep 3, 2026".into(),
                "say \"hi\"".into(),
                "1,234.00".into(),
            ],
            &mut out,
        );
        assert_eq!(out, "a,\"Sep 3, 2026\",\"say \"\"hi\"\"\",\"1,234.00\"\n");
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("90-", 100), Some((90, 99)));
        assert_eq!(parse_range("-10", 100), Some((90, 99)));
        assert_eq!(parse_range("95-200", 100), Some((95, 99)));
        assert_eq!(parse_range("100-", 100), None);
        assert_eq!(parse_range("5-4", 100), None);
    }

    #[test]
    fn settings_are_checked() {
        assert!(ReportSettings::default().validate().is_ok());
        let bad = |f: fn(&mut ReportSettings)| {
            let mut s = ReportSettings::default();
            f(&mut s);
            s.validate().is_err()
        };
        assert!(bad(|s| s.bucket = "my-bucket".into()));
        assert!(bad(|s| s.bucket = "pubsite_prod_rev_".into()));
        assert!(bad(|s| s.bucket = "pubsite_prod_rev_12a".into()));
        assert!(bad(|s| s.payments_profile_id = "abc".into()));
        assert!(bad(|s| s.merchant_currency = "XYZ".into()));
        let old = ReportSettings {
            bucket: "pubsite_prod_12345".into(),
            ..ReportSettings::default()
        };
        assert!(old.validate().is_ok());
    }
}
