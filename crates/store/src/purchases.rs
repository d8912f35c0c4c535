//! Purchases: one row per token, bound to one user for life. Saving a verification writes
//! the user, the purchase, its entitlements and its events in one transaction.

use playbill_core::{
    Entitlement, PackageName, ProductId, ProductKind, PurchaseRecord, PurchaseState, PurchaseToken,
    UserId,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{flag, new_id};
use crate::events::{self, NewEvent};
use crate::{Store, StoreError};

/// Everything one verification (or its follow-up) writes, atomically.
#[derive(Debug)]
pub struct SavePurchase<'a> {
    pub record: &'a PurchaseRecord,
    pub entitlements: &'a [Entitlement],
    /// Google's answer, verbatim.
    pub google_raw: &'a serde_json::Value,
    pub events: &'a [NewEvent],
    /// `true` when no row existed when the decision was made: the insert must create it,
    /// and a concurrent insert for the same token is a [`StoreError::Conflict`].
    /// `false`: the row must exist, still belong to `record.user_id`, and not hold a fresher
    /// Google read than this one (else [`StoreError::Conflict`]).
    pub is_new: bool,
    /// When the Google read behind `record` began.
    pub observed_at: i64,
    pub now: i64,
    /// The notification this save answers, recorded as processed in the same transaction.
    pub message: Option<&'a crate::notifications::InboxMessage<'a>>,
}

/// What acknowledging or consuming established at Google (facts only ever become true).
#[derive(Debug, Default)]
pub struct Settlement<'a> {
    pub acknowledged: bool,
    /// The product consumed, if any: its entitlements become delivered records.
    pub consumed_product: Option<&'a str>,
    pub events: &'a [NewEvent],
    pub now: i64,
}

pub(crate) const PURCHASE_COLUMNS: &str = "purchase_id, package_name, purchase_token, kind, user_id, \
    product_id, state, acknowledged, consumed, quantity, order_id, linked_purchase_token, \
    expires_at, auto_renewing, test_purchase, started_at";

/// [`PURCHASE_COLUMNS`] of the table aliased `alias`, for a join.
pub(crate) fn qualified_purchase_columns(alias: &str) -> String {
    PURCHASE_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The token that replaced `$2` in package `$1`: a purchase or an orphan whose
/// `linkedPurchaseToken` names it, unless its payment is pending or was abandoned.
const SUCCESSOR: &str = "SELECT purchase_token FROM purchases
     WHERE package_name = $1 AND linked_purchase_token = $2
       AND state NOT IN ('PENDING', 'PENDING_PURCHASE_CANCELED')
     UNION
     SELECT purchase_token FROM orphan_tokens
     WHERE package_name = $1 AND linked_purchase_token = $2";

impl Store {
    /// The token that replaced `token` (its `linkedPurchaseToken` names it and its payment is
    /// not pending or abandoned), if one is stored.
    pub async fn successor(
        &self,
        package: &str,
        token: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(SUCCESSOR)
            .bind(package)
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| r.try_get("purchase_token"))
            .transpose()
            .map_err(Into::into)
    }

    /// [`Store::find_purchase`] and [`Store::successor`] in one read.
    pub async fn purchase_and_successor(
        &self,
        package: &str,
        token: &str,
    ) -> Result<(Option<PurchaseRecord>, Option<String>), StoreError> {
        let (_, stored, successor) = self.purchase_read(None, package, token).await?;
        Ok((stored, successor))
    }

    /// [`Store::message_done`] and [`Store::purchase_and_successor`] in one read: what a
    /// notification about `token` needs to know before it asks Google.
    pub async fn message_and_purchase(
        &self,
        message_id: &str,
        package: &str,
        token: &str,
    ) -> Result<(bool, Option<PurchaseRecord>, Option<String>), StoreError> {
        self.purchase_read(Some(message_id), package, token).await
    }

    async fn purchase_read(
        &self,
        message_id: Option<&str>,
        package: &str,
        token: &str,
    ) -> Result<(bool, Option<PurchaseRecord>, Option<String>), StoreError> {
        let sql = format!(
            "SELECT {}, s.successor, s.message_state
             FROM (SELECT ({SUCCESSOR} LIMIT 1) AS successor,
                          (SELECT state FROM rtdn_messages WHERE message_id = $3) AS message_state) s
             LEFT JOIN purchases p ON p.package_name = $1 AND p.purchase_token = $2",
            qualified_purchase_columns("p")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(token)
            .bind(message_id)
            .fetch_one(&self.pool)
            .await?;
        let done = row
            .try_get::<Option<String>, _>("message_state")?
            .as_deref()
            == Some("done");
        let successor = row.try_get::<Option<String>, _>("successor")?;
        let stored = match row.try_get::<Option<String>, _>("purchase_id")? {
            Some(_) => Some(purchase_from_row(&row)?),
            None => None,
        };
        Ok((done, stored, successor))
    }

    /// Every purchase of a user, active or not, newest first, each with the token that
    /// replaced it (if any).
    pub async fn purchases_for_user(
        &self,
        package: &str,
        user_id: &str,
    ) -> Result<Vec<(PurchaseRecord, Option<String>)>, StoreError> {
        let sql = format!(
            "SELECT {PURCHASE_COLUMNS}, superseded_by FROM purchases
             WHERE package_name = $1 AND user_id = $2 ORDER BY created_at DESC, purchase_id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((purchase_from_row(r)?, r.try_get("superseded_by")?)))
            .collect()
    }

    /// The stored purchase for a token, if any.
    pub async fn find_purchase(
        &self,
        package: &str,
        token: &str,
    ) -> Result<Option<PurchaseRecord>, StoreError> {
        let sql = format!(
            "SELECT {PURCHASE_COLUMNS} FROM purchases WHERE package_name = $1 AND purchase_token = $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(purchase_from_row).transpose()
    }

    /// The stored purchase an order belongs to: its first order (`GPA.…`) or one of its
    /// renewals (`GPA.…..N`).
    pub async fn find_purchase_by_order(
        &self,
        package: &str,
        order_id: &str,
    ) -> Result<Option<PurchaseRecord>, StoreError> {
        let first = order_id.split("..").next().unwrap_or(order_id);
        let sql = format!(
            "SELECT {PURCHASE_COLUMNS} FROM purchases
             WHERE package_name = $1
               AND (order_id = $2 OR substr(order_id, 1, length($2) + 2) = $2 || '..')
             ORDER BY created_at DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(first)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(purchase_from_row).transpose()
    }

    /// When the Google read behind the stored row began, if the token is stored.
    pub async fn purchase_observed_at(
        &self,
        package: &str,
        token: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT observed_at FROM purchases WHERE package_name = $1 AND purchase_token = $2",
        )
        .bind(package)
        .bind(token)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|r| r.try_get::<i64, _>("observed_at"))
            .transpose()?)
    }

    /// Claims the right to acknowledge or consume this purchase until `until`. Exactly one
    /// claimant wins while a claim is live; [`Store::record_settlement`] releases it.
    pub async fn claim_settlement(
        &self,
        package: &str,
        token: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE purchases SET settle_claimed_until = $1
             WHERE package_name = $2 AND purchase_token = $3
               AND (settle_claimed_until IS NULL OR settle_claimed_until < $4)",
        )
        .bind(until)
        .bind(package)
        .bind(token)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records what acknowledging / consuming established (flags only turn on, so no
    /// concurrent update is lost), appends the events, and releases the claim.
    pub async fn record_settlement(
        &self,
        package: &str,
        token: &str,
        s: Settlement<'_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "UPDATE purchases SET
               acknowledged = CASE WHEN $1 = 1 THEN 1 ELSE acknowledged END,
               consumed = CASE WHEN $2 = 1 THEN 1 ELSE consumed END,
               settle_claimed_until = NULL, updated_at = $3
             WHERE package_name = $4 AND purchase_token = $5 RETURNING purchase_id, user_id",
        )
        .bind(flag(s.acknowledged || s.consumed_product.is_some()))
        .bind(flag(s.consumed_product.is_some()))
        .bind(s.now)
        .bind(package)
        .bind(token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Corrupt(format!(
                "no purchase to settle in {package}"
            )));
        };
        let purchase_id: String = row.try_get("purchase_id")?;
        if let Some(product) = s.consumed_product {
            sqlx::query(
                "UPDATE entitlements SET state = 'consumed', updated_at = $1
                 WHERE purchase_id = $2 AND product_id = $3 AND state = 'active'",
            )
            .bind(s.now)
            .bind(&purchase_id)
            .bind(product)
            .execute(&mut *tx)
            .await?;
        }
        for event in s.events {
            events::insert(&mut *tx, event, Some(&purchase_id)).await?;
        }
        let user: String = row.try_get("user_id")?;
        if s.consumed_product.is_some() {
            self.announce(&mut tx, package, &user).await?;
        }
        tx.commit().await?;
        if s.consumed_product.is_some() {
            self.evict(package, &user);
        }
        Ok(())
    }

    /// Marks a purchase expired and its entitlements inactive (Google no longer knows it:
    /// 410 after 60 days past expiry), with an event.
    pub async fn expire_purchase(&self, event: &NewEvent) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "UPDATE purchases SET state = 'EXPIRED', auto_renewing = 0, updated_at = $1
             WHERE package_name = $2 AND purchase_token = $3 RETURNING purchase_id, user_id",
        )
        .bind(event.at)
        .bind(&event.package)
        .bind(&event.token)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(());
        };
        let purchase_id: String = row.try_get("purchase_id")?;
        sqlx::query(
            "UPDATE entitlements SET state = 'inactive', updated_at = $1
             WHERE purchase_id = $2 AND state = 'active'",
        )
        .bind(event.at)
        .bind(&purchase_id)
        .execute(&mut *tx)
        .await?;
        events::insert(&mut *tx, event, Some(&purchase_id)).await?;
        let user: String = row.try_get("user_id")?;
        self.announce(&mut tx, &event.package, &user).await?;
        tx.commit().await?;
        self.evict(&event.package, &user);
        Ok(())
    }

    /// Writes a verification's outcome in one transaction; returns the purchase id. On SQLite
    /// saves go to its one writer, which commits those that queue up together (one durable
    /// commit for many: see [`crate::batch`]); on PostgreSQL a save is one statement (see
    /// [`crate::one_statement`]).
    pub async fn save_purchase(&self, s: SavePurchase<'_>) -> Result<String, StoreError> {
        if let Some(saves) = &self.saves {
            let id = saves.save(&s).await?;
            self.evict(s.record.package.as_str(), s.record.user_id.as_str());
            return Ok(id);
        }
        let (package, user) = (s.record.package.as_str(), s.record.user_id.as_str());
        let id = if self.backend() == crate::Backend::Postgres && crate::one_statement::fits(&s) {
            crate::one_statement::save(self, &s).await?
        } else {
            let mut tx = self.writer.begin().await?;
            let id = save_in(&mut tx, &s).await?;
            self.announce(&mut tx, package, user).await?;
            tx.commit().await?;
            id
        };
        self.evict(package, user);
        Ok(id)
    }
}

/// The statements of [`Store::save_purchase`], on a connection inside a transaction.
pub(crate) async fn save_in(
    conn: &mut sqlx::AnyConnection,
    s: &SavePurchase<'_>,
) -> Result<String, StoreError> {
    let r = s.record;
    if s.is_new {
        // (A stored purchase's user exists: only a new one may bring a new user.)
        sqlx::query(
            "INSERT INTO users (package_name, user_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (package_name, user_id) DO NOTHING",
        )
        .bind(r.package.as_str())
        .bind(r.user_id.as_str())
        .bind(s.now)
        .execute(&mut *conn)
        .await?;
    }

    let raw = s.google_raw.to_string();
    let purchase_id = if s.is_new {
        let id = new_id();
        sqlx::query(
            "INSERT INTO purchases (purchase_id, package_name, purchase_token, kind, user_id,
               product_id, state, acknowledged, consumed, quantity, order_id,
               linked_purchase_token, expires_at, auto_renewing, test_purchase, started_at,
               google_raw, created_at, updated_at, observed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
               $17, $18, $18, $19)",
        )
        .bind(&id)
        .bind(r.package.as_str())
        .bind(r.token.as_str())
        .bind(r.kind.as_str())
        .bind(r.user_id.as_str())
        .bind(r.product_id.as_str())
        .bind(r.state.as_str())
        .bind(flag(r.acknowledged))
        .bind(flag(r.consumed))
        .bind(r.quantity)
        .bind(r.order_id.as_deref())
        .bind(r.linked_purchase_token.as_ref().map(PurchaseToken::as_str))
        .bind(r.expires_at)
        .bind(flag(r.auto_renewing))
        .bind(flag(r.test_purchase))
        .bind(r.started_at)
        .bind(&raw)
        .bind(s.now)
        .bind(s.observed_at)
        .execute(&mut *conn)
        .await
        .map_err(|e| match StoreError::from(e) {
            // SQLite does not name the constraint; there is only one unique key here
            // besides the primary key, which is a fresh UUID.
            StoreError::Conflict(_) => StoreError::Conflict("purchases_token_unique".into()),
            other => other,
        })?;
        id
    } else {
        let row = sqlx::query(
            // Acknowledged and consumed are one-way at Google: a save sets them, never
            // clears them (a concurrent request's earlier read must not undo them).
            "UPDATE purchases SET state = $1,
               acknowledged = CASE WHEN $2 = 1 THEN 1 ELSE acknowledged END,
               consumed = CASE WHEN $3 = 1 THEN 1 ELSE consumed END,
               quantity = $4, order_id = $5, linked_purchase_token = $6, expires_at = $7,
               auto_renewing = $8, test_purchase = $9, started_at = $10, google_raw = $11,
               updated_at = $12, observed_at = $16
             WHERE package_name = $13 AND purchase_token = $14 AND user_id = $15
               AND observed_at <= $16
             RETURNING purchase_id",
        )
        .bind(r.state.as_str())
        .bind(flag(r.acknowledged))
        .bind(flag(r.consumed))
        .bind(r.quantity)
        .bind(r.order_id.as_deref())
        .bind(r.linked_purchase_token.as_ref().map(PurchaseToken::as_str))
        .bind(r.expires_at)
        .bind(flag(r.auto_renewing))
        .bind(flag(r.test_purchase))
        .bind(r.started_at)
        .bind(&raw)
        .bind(s.now)
        .bind(r.package.as_str())
        .bind(r.token.as_str())
        .bind(r.user_id.as_str())
        .bind(s.observed_at)
        .fetch_optional(&mut *conn)
        .await?;
        match row {
            Some(row) => row.try_get::<String, _>("purchase_id")?,
            None => return Err(StoreError::Conflict("purchases_owner_or_fresher".into())),
        }
    };

    for e in s.entitlements {
        crate::entitlements::upsert(&mut *conn, r, &purchase_id, e, s.now).await?;
    }
    for event in s.events {
        events::insert(&mut *conn, event, Some(&purchase_id)).await?;
    }
    if let Some(m) = s.message {
        crate::notifications::record_message(&mut *conn, m, None, s.now).await?;
    }
    if s.is_new {
        // Stored for its owner: it no longer waits as an orphan. (A row left by a race
        // with a stored purchase is inert: orphan lookups skip stored tokens.)
        sqlx::query("DELETE FROM orphan_tokens WHERE package_name = $1 AND purchase_token = $2")
            .bind(r.package.as_str())
            .bind(r.token.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(purchase_id)
}

pub(crate) fn purchase_from_row(row: &AnyRow) -> Result<PurchaseRecord, StoreError> {
    let corrupt =
        |what: &str, e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{what}: {e}"));
    let text = |col: &str| row.try_get::<String, _>(col);
    let kind = text("kind")?;
    Ok(PurchaseRecord {
        package: PackageName::parse(text("package_name")?)
            .map_err(|e| corrupt("package_name", &e))?,
        token: PurchaseToken::parse(text("purchase_token")?)
            .map_err(|e| corrupt("purchase_token", &e))?,
        kind: ProductKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        user_id: UserId::parse(text("user_id")?).map_err(|e| corrupt("user_id", &e))?,
        product_id: ProductId::parse(text("product_id")?).map_err(|e| corrupt("product_id", &e))?,
        state: PurchaseState::parse(&text("state")?),
        acknowledged: row.try_get::<i64, _>("acknowledged")? != 0,
        consumed: row.try_get::<i64, _>("consumed")? != 0,
        quantity: row.try_get("quantity")?,
        order_id: row.try_get("order_id")?,
        linked_purchase_token: row
            .try_get::<Option<String>, _>("linked_purchase_token")?
            .map(PurchaseToken::parse)
            .transpose()
            .map_err(|e| corrupt("linked_purchase_token", &e))?,
        expires_at: row.try_get("expires_at")?,
        auto_renewing: row.try_get::<i64, _>("auto_renewing")? != 0,
        test_purchase: row.try_get::<i64, _>("test_purchase")? != 0,
        started_at: row.try_get("started_at")?,
    })
}
