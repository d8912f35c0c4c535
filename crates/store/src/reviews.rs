//! Refund reviews: a user asked Google for a refund; we answer `orders:reviewrefund` within
//! 24 hours, by the app's policy or an operator's decision.

use playbill_core::PurchaseRecord;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::purchases::{PURCHASE_COLUMNS, purchase_from_row};
use crate::{Store, StoreError};

/// A refund review as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundReview {
    pub package: String,
    pub order_id: String,
    pub pending_refund_token: String,
    pub purchase_token: Option<String>,
    pub received_at: i64,
    pub deadline: i64,
    pub preference: Option<String>,
    pub decided_by: Option<String>,
    pub answered_at: Option<i64>,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "package_name, order_id, pending_refund_token, purchase_token, \
    received_at, deadline, preference, decided_by, answered_at, last_error";

fn review_from_row(r: &AnyRow) -> Result<RefundReview, StoreError> {
    Ok(RefundReview {
        package: r.try_get("package_name")?,
        order_id: r.try_get("order_id")?,
        pending_refund_token: r.try_get("pending_refund_token")?,
        purchase_token: r.try_get("purchase_token")?,
        received_at: r.try_get("received_at")?,
        deadline: r.try_get("deadline")?,
        preference: r.try_get("preference")?,
        decided_by: r.try_get("decided_by")?,
        answered_at: r.try_get("answered_at")?,
        last_error: r.try_get("last_error")?,
    })
}

impl Store {
    /// The purchase an order belongs to: its first order or one of its renewals (`..N`).
    pub async fn purchase_by_order(
        &self,
        package: &str,
        order_id: &str,
    ) -> Result<Option<PurchaseRecord>, StoreError> {
        let base = order_id.split("..").next().unwrap_or(order_id);
        let sql = format!(
            "SELECT {PURCHASE_COLUMNS} FROM purchases
             WHERE package_name = $1 AND (order_id = $2 OR order_id LIKE $3)
             ORDER BY created_at DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(base)
            .bind(format!("{base}..%"))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(purchase_from_row).transpose()
    }

    /// Records a review once (a redelivered notification changes nothing).
    pub async fn record_refund_review(&self, r: &RefundReview) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO refund_reviews (package_name, order_id, pending_refund_token,
               purchase_token, received_at, deadline, preference, decided_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (package_name, order_id, pending_refund_token) DO NOTHING",
        )
        .bind(&r.package)
        .bind(&r.order_id)
        .bind(&r.pending_refund_token)
        .bind(r.purchase_token.as_deref())
        .bind(r.received_at)
        .bind(r.deadline)
        .bind(r.preference.as_deref())
        .bind(r.decided_by.as_deref())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// An app's reviews, newest first.
    pub async fn refund_reviews(&self, package: &str) -> Result<Vec<RefundReview>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM refund_reviews WHERE package_name = $1
             ORDER BY received_at DESC, order_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// Reviews decided but not yet accepted by Google, still before their deadline.
    pub async fn refund_reviews_to_send(&self, now: i64) -> Result<Vec<RefundReview>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM refund_reviews
             WHERE preference IS NOT NULL AND answered_at IS NULL AND deadline > $1
             ORDER BY deadline"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(review_from_row).collect()
    }

    /// An operator's (or the policy's) decision; refused once Google accepted an answer.
    /// Returns whether the review exists and was still open.
    pub async fn decide_refund_review(
        &self,
        package: &str,
        order_id: &str,
        preference: &str,
        by: &str,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE refund_reviews SET preference = $3, decided_by = $4, last_error = NULL
             WHERE package_name = $1 AND order_id = $2 AND answered_at IS NULL",
        )
        .bind(package)
        .bind(order_id)
        .bind(preference)
        .bind(by)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// Google accepted the answer, or refused it with `error`.
    pub async fn refund_review_sent(
        &self,
        r: &RefundReview,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE refund_reviews SET
               answered_at = CASE WHEN $4 IS NULL THEN $5 ELSE answered_at END,
               last_error = $4
             WHERE package_name = $1 AND order_id = $2 AND pending_refund_token = $3",
        )
        .bind(&r.package)
        .bind(&r.order_id)
        .bind(&r.pending_refund_token)
        .bind(error)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
