//! Imported financial report lines and what reconciliation reads from the purchases.

use playbill_core::books::{Booked, LineKind, Report, ReportLine};
use sqlx::Row;

use crate::db::flag;
use crate::{Store, StoreError};

/// One report file to store.
#[derive(Debug)]
pub struct ReportFile<'a> {
    pub bucket: &'a str,
    pub name: &'a str,
    pub generation: i64,
    pub report: Report,
    pub month: &'a str,
    pub now: i64,
}

fn report_str(r: Report) -> &'static str {
    match r {
        Report::Earnings => "earnings",
        Report::Sales => "sales",
    }
}

impl Store {
    /// The generation of the file as last imported, if it was.
    pub async fn report_generation(
        &self,
        bucket: &str,
        name: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row =
            sqlx::query("SELECT generation FROM report_files WHERE bucket = $1 AND name = $2")
                .bind(bucket)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get("generation")).transpose()?)
    }

    /// Stores a file's lines (`(package, line)`), replacing what an earlier generation of the
    /// same file left, in one transaction.
    pub async fn replace_report(
        &self,
        f: &ReportFile<'_>,
        lines: &[(String, ReportLine)],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM report_lines WHERE bucket = $1 AND name = $2")
            .bind(f.bucket)
            .bind(f.name)
            .execute(&mut *tx)
            .await?;
        for (i, (package, l)) in lines.iter().enumerate() {
            sqlx::query(
                "INSERT INTO report_lines (bucket, name, line, package_name, report, month,
                   order_id, kind, full_refund, currency, amount_micros)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(f.bucket)
            .bind(f.name)
            .bind(i64::try_from(i).unwrap_or(i64::MAX))
            .bind(package)
            .bind(report_str(l.report))
            .bind(&l.month)
            .bind(&l.order_id)
            .bind(l.kind.as_str())
            .bind(flag(l.full_refund))
            .bind(&l.currency)
            .bind(l.amount_micros)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO report_files (bucket, name, generation, report, month, lines, imported_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (bucket, name) DO UPDATE SET generation = excluded.generation,
               lines = excluded.lines, imported_at = excluded.imported_at",
        )
        .bind(f.bucket)
        .bind(f.name)
        .bind(f.generation)
        .bind(report_str(f.report))
        .bind(f.month)
        .bind(i64::try_from(lines.len()).unwrap_or(i64::MAX))
        .bind(f.now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every imported line of an app, all months.
    pub async fn report_lines(&self, package: &str) -> Result<Vec<ReportLine>, StoreError> {
        let rows = sqlx::query(
            "SELECT report, month, order_id, kind, full_refund, currency, amount_micros
             FROM report_lines WHERE package_name = $1 ORDER BY month, bucket, name, line",
        )
        .bind(package)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportLine {
                    report: if r.try_get::<String, _>("report")? == "sales" {
                        Report::Sales
                    } else {
                        Report::Earnings
                    },
                    month: r.try_get("month")?,
                    order_id: r.try_get("order_id")?,
                    kind: LineKind::parse(&r.try_get::<String, _>("kind")?),
                    full_refund: r.try_get::<i64, _>("full_refund")? != 0,
                    currency: r.try_get("currency")?,
                    amount_micros: r.try_get("amount_micros")?,
                })
            })
            .collect()
    }

    /// Every stored purchase of an app, as reconciliation sees it.
    pub async fn booked(&self, package: &str) -> Result<Vec<Booked>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.purchase_token, p.order_id, p.started_at, p.test_purchase, p.state,
               CASE WHEN p.revoked_at IS NULL AND p.superseded_by IS NULL AND EXISTS (
                 SELECT 1 FROM entitlements e WHERE e.purchase_id = p.purchase_id
                   AND e.state = 'active') THEN 1 ELSE 0 END AS grants
             FROM purchases p WHERE p.package_name = $1 ORDER BY p.created_at",
        )
        .bind(package)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Booked {
                    token: r.try_get("purchase_token")?,
                    order_id: r.try_get("order_id")?,
                    started_at: r.try_get("started_at")?,
                    test_purchase: r.try_get::<i64, _>("test_purchase")? != 0,
                    pending: r.try_get::<String, _>("state")? == "PENDING",
                    grants: r.try_get::<i64, _>("grants")? != 0,
                })
            })
            .collect()
    }
}
