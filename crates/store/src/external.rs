//! External (alternative-billing) transactions: what the app reported, its refunds, and the
//! outbox of reports still owed to Google. Accepting a transaction or a refund writes the
//! record and its outbox item in one transaction, so nothing accepted is lost; the rules that
//! depend on stored state (a refund above what remains, a reused refund id, a refund of a
//! fully refunded transaction) are decided by conditional writes, so concurrent requests
//! cannot break them.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::{Store, StoreError};

/// A transaction to accept.
#[derive(Debug)]
pub struct NewExternal<'a> {
    pub package: &'a str,
    pub transaction_id: &'a str,
    /// `one_time` or `recurring`.
    pub kind: &'a str,
    pub series_id: &'a str,
    pub currency: &'a str,
    pub pre_tax_micros: i64,
    pub tax_micros: i64,
    pub transaction_time: i64,
    /// What the app sent (JSON): a repeat with the same id must match it.
    pub request: &'a str,
    /// Google's request body (JSON).
    pub google_body: &'a str,
    pub deadline: i64,
    pub now: i64,
}

/// A refund to accept: `pre_tax_micros` `None` is the full refund.
#[derive(Debug)]
pub struct NewExternalRefund<'a> {
    pub package: &'a str,
    pub transaction_id: &'a str,
    pub refund_id: &'a str,
    pub pre_tax_micros: Option<i64>,
    pub refund_time: i64,
    pub google_body: &'a str,
    pub deadline: i64,
    pub now: i64,
}

/// Why a refund was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RefundRefused {
    NoSuchTransaction,
    /// Fully refunded already: nothing remains.
    Canceled,
    /// A partial refund must stay below what remains (`remaining` pre-tax micros).
    AboveRemaining {
        remaining: i64,
    },
    RefundIdUsed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRecord {
    pub transaction_id: String,
    pub kind: String,
    pub series_id: String,
    pub currency: String,
    pub original_pre_tax_micros: i64,
    pub original_tax_micros: i64,
    pub current_pre_tax_micros: i64,
    pub current_tax_micros: i64,
    pub state: String,
    pub transaction_time: i64,
    pub request: String,
    pub refunds: Vec<ExternalRefund>,
    pub deliveries: Vec<OutboxItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRefund {
    pub refund_id: String,
    pub pre_tax_micros: i64,
    pub refund_time: i64,
}

/// One report owed to Google.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub outbox_id: String,
    pub package: String,
    pub transaction_id: String,
    /// `create` or `refund`.
    pub action: String,
    pub refund_id: Option<String>,
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub deadline: i64,
    pub delivered_at: Option<i64>,
}

const OUTBOX_COLUMNS: &str = "outbox_id, package_name, transaction_id, action, refund_id, body, \
    state, attempts, last_error, deadline, delivered_at";

impl Store {
    /// Accepts a transaction and queues its report. `Conflict` if the id is taken.
    pub async fn accept_external(&self, t: &NewExternal<'_>) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO external_transactions (package_name, transaction_id, kind, series_id,
               currency, original_pre_tax_micros, original_tax_micros, current_pre_tax_micros,
               current_tax_micros, state, transaction_time, request, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7, 'reported', $8, $9, $10)",
        )
        .bind(t.package)
        .bind(t.transaction_id)
        .bind(t.kind)
        .bind(t.series_id)
        .bind(t.currency)
        .bind(t.pre_tax_micros)
        .bind(t.tax_micros)
        .bind(t.transaction_time)
        .bind(t.request)
        .bind(t.now)
        .execute(&mut *tx)
        .await?;
        queue(
            &mut tx,
            t.package,
            t.transaction_id,
            t.series_id,
            None,
            t.google_body,
            t.deadline,
            t.now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts a refund and queues its report, or says why not (nothing is written then).
    pub async fn refund_external(
        &self,
        r: &NewExternalRefund<'_>,
    ) -> Result<Result<(), RefundRefused>, StoreError> {
        let mut tx = self.writer.begin().await?;
        let Some(row) = sqlx::query(
            "SELECT series_id, state, current_pre_tax_micros FROM external_transactions
             WHERE package_name = $1 AND transaction_id = $2",
        )
        .bind(r.package)
        .bind(r.transaction_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Err(RefundRefused::NoSuchTransaction));
        };
        let series: String = row.try_get("series_id")?;
        let remaining: i64 = row.try_get("current_pre_tax_micros")?;
        if row.try_get::<String, _>("state")? == "canceled" {
            return Ok(Err(RefundRefused::Canceled));
        }
        // The conditions again in the write: a concurrent refund may have come first.
        let changed = match r.pre_tax_micros {
            None => sqlx::query(
                "UPDATE external_transactions SET current_pre_tax_micros = 0,
                   current_tax_micros = 0, state = 'canceled'
                 WHERE package_name = $1 AND transaction_id = $2 AND state <> 'canceled'",
            )
            .bind(r.package)
            .bind(r.transaction_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(amount) => sqlx::query(
                // The tax goes down in proportion.
                "UPDATE external_transactions SET
                   current_tax_micros = current_tax_micros
                     - (current_tax_micros * $3) / current_pre_tax_micros,
                   current_pre_tax_micros = current_pre_tax_micros - $3
                 WHERE package_name = $1 AND transaction_id = $2 AND state <> 'canceled'
                   AND current_pre_tax_micros > $3",
            )
            .bind(r.package)
            .bind(r.transaction_id)
            .bind(amount)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if changed == 0 {
            return Ok(Err(match r.pre_tax_micros {
                None => RefundRefused::Canceled,
                Some(_) => RefundRefused::AboveRemaining { remaining },
            }));
        }
        let inserted = sqlx::query(
            "INSERT INTO external_refunds (package_name, transaction_id, refund_id,
               pre_tax_micros, refund_time, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (package_name, transaction_id, refund_id) DO NOTHING",
        )
        .bind(r.package)
        .bind(r.transaction_id)
        .bind(r.refund_id)
        .bind(r.pre_tax_micros.unwrap_or(remaining))
        .bind(r.refund_time)
        .bind(r.now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Dropping the transaction undoes the amounts.
            return Ok(Err(RefundRefused::RefundIdUsed));
        }
        queue(
            &mut tx,
            r.package,
            r.transaction_id,
            &series,
            Some(r.refund_id),
            r.google_body,
            r.deadline,
            r.now,
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// A transaction with its refunds and the state of each report.
    pub async fn find_external(
        &self,
        package: &str,
        transaction_id: &str,
    ) -> Result<Option<ExternalRecord>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT transaction_id, kind, series_id, currency, original_pre_tax_micros,
               original_tax_micros, current_pre_tax_micros, current_tax_micros, state,
               transaction_time, request
             FROM external_transactions WHERE package_name = $1 AND transaction_id = $2",
        )
        .bind(package)
        .bind(transaction_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let refunds = sqlx::query(
            "SELECT refund_id, pre_tax_micros, refund_time FROM external_refunds
             WHERE package_name = $1 AND transaction_id = $2 ORDER BY created_at, refund_id",
        )
        .bind(package)
        .bind(transaction_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ExternalRefund {
                refund_id: r.try_get("refund_id")?,
                pre_tax_micros: r.try_get("pre_tax_micros")?,
                refund_time: r.try_get("refund_time")?,
            })
        })
        .collect::<Result<_, StoreError>>()?;
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM external_outbox
             WHERE package_name = $1 AND transaction_id = $2 ORDER BY outbox_id"
        );
        let deliveries = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(transaction_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(outbox_from_row)
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(ExternalRecord {
            transaction_id: r.try_get("transaction_id")?,
            kind: r.try_get("kind")?,
            series_id: r.try_get("series_id")?,
            currency: r.try_get("currency")?,
            original_pre_tax_micros: r.try_get("original_pre_tax_micros")?,
            original_tax_micros: r.try_get("original_tax_micros")?,
            current_pre_tax_micros: r.try_get("current_pre_tax_micros")?,
            current_tax_micros: r.try_get("current_tax_micros")?,
            state: r.try_get("state")?,
            transaction_time: r.try_get("transaction_time")?,
            request: r.try_get("request")?,
            refunds,
            deliveries,
        }))
    }

    /// Reports due now, oldest first: pending, past their next attempt, not claimed, and with
    /// no earlier pending report of their series (Google must see a series in order).
    pub async fn due_reports(&self, now: i64, limit: i64) -> Result<Vec<OutboxItem>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM external_outbox o
             WHERE o.state = 'pending' AND o.next_attempt_at <= $1
               AND (o.claimed_until IS NULL OR o.claimed_until < $1)
               AND NOT EXISTS (SELECT 1 FROM external_outbox e
                               WHERE e.package_name = o.package_name AND e.series_id = o.series_id
                                 AND e.state = 'pending' AND e.outbox_id < o.outbox_id)
             ORDER BY o.outbox_id LIMIT $2"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(outbox_from_row)
            .collect()
    }

    /// Claims a report until `until`; exactly one claimant wins while a claim is live.
    pub async fn claim_report(
        &self,
        outbox_id: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE external_outbox SET claimed_until = $1
             WHERE outbox_id = $2 AND state = 'pending'
               AND (claimed_until IS NULL OR claimed_until < $3)",
        )
        .bind(until)
        .bind(outbox_id)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records one attempt: `delivered`, `failed` (for good) or still `pending` until
    /// `next_attempt_at`; releases the claim.
    pub async fn record_report(
        &self,
        outbox_id: &str,
        state: &str,
        error: Option<&str>,
        next_attempt_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE external_outbox SET state = $1, last_error = $2, next_attempt_at = $3,
               attempts = attempts + 1, claimed_until = NULL,
               delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END
             WHERE outbox_id = $5",
        )
        .bind(state)
        .bind(error)
        .bind(next_attempt_at)
        .bind(now)
        .bind(outbox_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
async fn queue(
    conn: &mut sqlx::AnyConnection,
    package: &str,
    transaction_id: &str,
    series_id: &str,
    refund_id: Option<&str>,
    body: &str,
    deadline: i64,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO external_outbox (outbox_id, package_name, transaction_id, series_id, action,
           refund_id, body, state, attempts, deadline, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $9)",
    )
    .bind(new_id())
    .bind(package)
    .bind(transaction_id)
    .bind(series_id)
    .bind(if refund_id.is_some() {
        "refund"
    } else {
        "create"
    })
    .bind(refund_id)
    .bind(body)
    .bind(deadline)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

fn outbox_from_row(r: &AnyRow) -> Result<OutboxItem, StoreError> {
    Ok(OutboxItem {
        outbox_id: r.try_get("outbox_id")?,
        package: r.try_get("package_name")?,
        transaction_id: r.try_get("transaction_id")?,
        action: r.try_get("action")?,
        refund_id: r.try_get("refund_id")?,
        body: r.try_get("body")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        deadline: r.try_get("deadline")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}
