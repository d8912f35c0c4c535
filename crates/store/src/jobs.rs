//! Background jobs: leases that make a job run on one instance at a time, and the queries
//! the jobs work through.

use playbill_core::PurchaseRecord;
use sqlx::Row;

use crate::purchases::{PURCHASE_COLUMNS, purchase_from_row};
use crate::{Store, StoreError};

impl Store {
    /// Takes or renews the lease on `job` for `holder` until `now + ttl_ms`; `false` while
    /// another holder's lease runs. Portable: one upsert that only wins over a lapsed lease.
    pub async fn try_lease(
        &self,
        job: &str,
        holder: &str,
        now: i64,
        ttl_ms: i64,
    ) -> Result<bool, StoreError> {
        let won = sqlx::query(
            "INSERT INTO job_leases (name, holder, held_until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
               held_until = excluded.held_until
             WHERE job_leases.held_until < $4 OR job_leases.holder = excluded.holder",
        )
        .bind(job)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(won == 1)
    }

    /// Paid purchases not yet acknowledged at Google (nor replaced), oldest first, with when
    /// we first stored them: what the acknowledgement sweeper retries.
    pub async fn unacknowledged(
        &self,
        limit: i64,
    ) -> Result<Vec<(PurchaseRecord, i64)>, StoreError> {
        let sql = format!(
            "SELECT {PURCHASE_COLUMNS}, created_at FROM purchases
             WHERE acknowledged = 0 AND superseded_by IS NULL
               AND state IN ('PURCHASED', 'ACTIVE', 'IN_GRACE_PERIOD', 'CANCELED', 'ON_HOLD',
                             'PAUSED')
             ORDER BY created_at, purchase_id LIMIT $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((purchase_from_row(r)?, r.try_get("created_at")?)))
            .collect()
    }

    /// A sync's high-water mark, if it ever ran.
    pub async fn sync_mark(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT value FROM sync_marks WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("value"))
            .transpose()
            .map_err(Into::into)
    }

    /// Moves a sync's high-water mark forward (never back).
    pub async fn set_sync_mark(&self, name: &str, value: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_marks (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value,
               updated_at = excluded.updated_at
             WHERE sync_marks.value < excluded.value",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
