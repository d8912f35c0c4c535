//! Play Console's financial reports (reference section 11): import the `earnings/` and
//! `sales/` files of the bucket (each file once per generation: a rewritten file replaces
//! its lines), and reconcile a month of one app with what playbill recorded
//! ([`playbill_core::books::reconcile`]).

use std::time::Duration;

use playbill_core::books::{LineKind, Reconciliation, Report, ReportLine};
use playbill_google::PlayClient;
use playbill_google::reports::{self, ReportKind};
use playbill_store::reports::ReportFile;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::{App, AppState};

/// The configured bucket and a Cloud Storage client with the read-only scope.
pub struct ReportsBucket {
    pub bucket: String,
    pub storage: PlayClient,
    pub interval: Duration,
}

/// What one import did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    /// Files read and stored (new, or rewritten since the last import).
    pub imported: Vec<String>,
    /// Files already imported at the same generation.
    pub unchanged: usize,
    /// Files that could not be read, with why (the others are imported all the same).
    pub failed: Vec<(String, String)>,
    /// Lines stored.
    pub lines: usize,
}

/// Imports every report file not yet imported at its current generation.
pub async fn import(state: &AppState) -> Result<ImportSummary, ApiError> {
    let Some(r) = &state.reports else {
        return Err(ApiError::NotFound(
            "reports are not configured on this server (the [reports] section)".into(),
        ));
    };
    let mut summary = ImportSummary::default();
    for prefix in ["earnings/", "sales/"] {
        let mut page: Option<String> = None;
        loop {
            let objects = r
                .storage
                .list_objects(&r.bucket, prefix, page.as_deref())
                .await?;
            for o in objects.items.unwrap_or_default() {
                let (Some(name), Some(generation)) = (o.name, o.generation) else {
                    continue;
                };
                let Some((kind, month)) = reports::classify(&name) else {
                    continue;
                };
                if state.store.report_generation(&r.bucket, &name).await? == Some(generation.0) {
                    summary.unchanged += 1;
                    continue;
                }
                let bytes = r
                    .storage
                    .download_object(&r.bucket, &name, &generation.0.to_string())
                    .await?;
                match lines(kind, &month, &bytes) {
                    Ok(lines) => {
                        let file = ReportFile {
                            bucket: &r.bucket,
                            name: &name,
                            generation: generation.0,
                            report: report(kind),
                            month: &month,
                            now: state.clock.now_ms(),
                        };
                        state.store.replace_report(&file, &lines).await?;
                        summary.lines += lines.len();
                        summary.imported.push(name);
                    }
                    Err(e) => {
                        tracing::error!(file = %name, error = %e, "a report file cannot be read");
                        summary.failed.push((name, e.to_string()));
                    }
                }
            }
            page = objects.next_page_token;
            if page.is_none() {
                break;
            }
        }
    }
    Ok(summary)
}

fn report(kind: ReportKind) -> Report {
    match kind {
        ReportKind::Earnings => Report::Earnings,
        ReportKind::Sales => Report::Sales,
    }
}

/// A file's lines, each with its app.
fn lines(
    kind: ReportKind,
    month: &str,
    zip: &[u8],
) -> Result<Vec<(String, ReportLine)>, reports::ReportError> {
    let text = reports::csv_text(zip)?;
    Ok(match kind {
        ReportKind::Earnings => reports::parse_earnings(&text)?
            .into_iter()
            .map(|r| {
                let line = ReportLine {
                    report: Report::Earnings,
                    month: month.to_owned(),
                    kind: LineKind::of_earnings(&r.transaction_type),
                    full_refund: r.refund_type == "Full",
                    order_id: r.order_id,
                    currency: r.buyer_currency,
                    amount_micros: r.amount_buyer_micros,
                };
                (r.package, line)
            })
            .collect(),
        ReportKind::Sales => reports::parse_sales(&text)?
            .into_iter()
            .map(|r| {
                let line = ReportLine {
                    report: Report::Sales,
                    month: month.to_owned(),
                    kind: LineKind::of_sales(&r.status),
                    full_refund: r.status == "Refund",
                    order_id: r.order_id,
                    currency: r.currency,
                    amount_micros: r.charged_micros,
                };
                (r.package, line)
            })
            .collect(),
    })
}

/// `YYYY-MM` → its first instant and the next month's, epoch ms (UTC).
pub fn month_range(month: &str) -> Result<(i64, i64), ApiError> {
    let bad = || ApiError::BadRequest(format!("month: expected YYYY-MM, not {month:?}"));
    let (y, m) = month.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m): (i32, u32) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(1..=12).contains(&m) {
        return Err(bad());
    }
    let start = |y: i32, m: u32| {
        playbill_google::observe::parse_time("month", &format!("{y:04}-{m:02}-01T00:00:00Z"))
            .map_err(|_| bad())
    };
    let next = if m == 12 {
        start(y + 1, 1)?
    } else {
        start(y, m + 1)?
    };
    Ok((start(y, m)?, next))
}

/// Reconciles one month of one app with the imported reports.
pub async fn reconcile(
    state: &AppState,
    app: &App,
    month: &str,
) -> Result<Reconciliation, ApiError> {
    let range = month_range(month)?;
    let package = app.package.as_str();
    let lines = state.store.report_lines(package).await?;
    let booked = state.store.booked(package).await?;
    Ok(playbill_core::books::reconcile(
        month, range, &lines, &booked,
    ))
}
