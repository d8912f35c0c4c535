//! Real-time developer notifications: the message log (one row per Pub/Sub `messageId`,
//! written when it was processed, or with the error of an attempt that failed),
//! the quarantine of bodies that can never succeed, tokens waiting for an owner, and the
//! links between replaced and replacing tokens.

use sqlx::Row;

use crate::db::new_id;
use crate::events::{self, NewEvent};
use crate::{Store, StoreError};

/// A message to take in.
#[derive(Debug, Clone)]
pub struct InboxMessage<'a> {
    pub message_id: &'a str,
    pub subscription: &'a str,
    pub package: &'a str,
    /// The decoded `DeveloperNotification`, JSON.
    pub notification: &'a str,
    pub published_at: Option<&'a str>,
    pub received_at: i64,
}

/// A quarantined body, for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub quarantine_id: String,
    pub source: String,
    pub reason: String,
    pub body: String,
    pub received_at: i64,
    pub replayed_at: Option<i64>,
}

impl Store {
    /// Whether the message was processed before (a duplicate: nothing to do).
    pub async fn message_done(&self, message_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT state FROM rtdn_messages WHERE message_id = $1")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<String, _>("state")? == "done",
            None => false,
        })
    }

    /// Records one processing attempt of the message: done, or still pending with the error
    /// (a message once done stays done). The first attempt stores the message itself.
    pub async fn finish_message(
        &self,
        m: &InboxMessage<'_>,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        record_message(&self.writer, m, error, now).await
    }

    /// Keeps a body that can never be processed.
    pub async fn quarantine(
        &self,
        source: &str,
        reason: &str,
        body: &str,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO rtdn_quarantine (quarantine_id, source, reason, body, received_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(source)
        .bind(reason)
        .bind(body)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(id)
    }

    /// The quarantine, newest first.
    pub async fn quarantined(&self, limit: i64) -> Result<Vec<Quarantined>, StoreError> {
        let rows = sqlx::query(
            "SELECT quarantine_id, source, reason, body, received_at, replayed_at
             FROM rtdn_quarantine ORDER BY received_at DESC, quarantine_id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(quarantined_from_row).collect()
    }

    /// Marks `token` replaced by `by`: it loses access now (its entitlements turn inactive)
    /// and never regains it; `event` is recorded with it (for the purchase and its owner).
    /// Returns whether a stored purchase was marked just now.
    pub async fn supersede(
        &self,
        package: &str,
        token: &str,
        by: &str,
        event: &NewEvent,
    ) -> Result<bool, StoreError> {
        self.end_access(
            "UPDATE purchases SET superseded_by = $3, updated_at = $4
             WHERE package_name = $1 AND purchase_token = $2 AND superseded_by IS NULL
             RETURNING purchase_id, user_id",
            package,
            token,
            by,
            event,
        )
        .await
    }

    /// One way a purchase loses access for good (`mark`: an UPDATE of the purchase taking
    /// package, token, `value` and the time, returning its id and user): its entitlements turn
    /// inactive and `event` is recorded with it, in one transaction.
    async fn end_access(
        &self,
        mark: &'static str,
        package: &str,
        token: &str,
        value: &str,
        event: &NewEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(mark)
            .bind(package)
            .bind(token)
            .bind(value)
            .bind(event.at)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let purchase_id: String = row.try_get("purchase_id")?;
        sqlx::query(
            "UPDATE entitlements SET state = 'inactive', updated_at = $2
             WHERE purchase_id = $1 AND state = 'active'",
        )
        .bind(&purchase_id)
        .bind(event.at)
        .execute(&mut *tx)
        .await?;
        let user: String = row.try_get("user_id")?;
        let owned = NewEvent {
            user_id: Some(user.clone()),
            ..event.clone()
        };
        events::insert(&mut *tx, &owned, Some(&purchase_id)).await?;
        self.announce(&mut tx, package, &user).await?;
        tx.commit().await?;
        self.evict(package, &user);
        Ok(true)
    }

    /// Remembers a token whose owner is not known yet.
    pub async fn put_orphan(
        &self,
        package: &str,
        token: &str,
        kind: &str,
        linked: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO orphan_tokens (package_name, purchase_token, kind, linked_purchase_token,
               received_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (package_name, purchase_token) DO UPDATE SET
               linked_purchase_token = excluded.linked_purchase_token",
        )
        .bind(package)
        .bind(token)
        .bind(kind)
        .bind(linked)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Orphans that continue `token`, with their kind: they can now inherit its owner.
    pub async fn orphans_of(
        &self,
        package: &str,
        token: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.purchase_token, o.kind FROM orphan_tokens o
             WHERE o.package_name = $1 AND o.linked_purchase_token = $2
               AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.package_name = o.package_name
                               AND p.purchase_token = o.purchase_token)
             ORDER BY o.received_at, o.purchase_token",
        )
        .bind(package)
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("purchase_token")?, r.try_get("kind")?)))
            .collect()
    }

    /// Orphans whose predecessor has been stored for its owner since (package, token, kind),
    /// oldest first: they can inherit it now. What adopts them after the predecessor's own
    /// save (a failure or a race there) is a sweep over this.
    pub async fn adoptable_orphans(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.package_name, o.purchase_token, o.kind FROM orphan_tokens o
             WHERE EXISTS (SELECT 1 FROM purchases p WHERE p.package_name = o.package_name
                           AND p.purchase_token = o.linked_purchase_token)
               AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.package_name = o.package_name
                               AND p.purchase_token = o.purchase_token)
             ORDER BY o.received_at, o.purchase_token LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("package_name")?,
                    r.try_get("purchase_token")?,
                    r.try_get("kind")?,
                ))
            })
            .collect()
    }

    /// One quarantined body.
    pub async fn quarantined_body(&self, id: &str) -> Result<Option<Quarantined>, StoreError> {
        let row = sqlx::query(
            "SELECT quarantine_id, source, reason, body, received_at, replayed_at
             FROM rtdn_quarantine WHERE quarantine_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(quarantined_from_row).transpose()
    }

    /// Notes that a quarantined body was replayed successfully.
    pub async fn mark_replayed(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE rtdn_quarantine SET replayed_at = $2 WHERE quarantine_id = $1")
            .bind(id)
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A void ended the purchase: it loses access now and for good; `event` is recorded with
    /// it. Returns whether it was marked just now.
    pub async fn revoke(
        &self,
        package: &str,
        token: &str,
        event: &NewEvent,
    ) -> Result<bool, StoreError> {
        // The mark is the time ($4); what was voided is in the event. ($3, the value every
        // mark of `end_access` takes, is only checked here.)
        self.end_access(
            "UPDATE purchases SET revoked_at = $4, updated_at = $4
             WHERE package_name = $1 AND purchase_token = $2 AND revoked_at IS NULL
               AND $3 <> ''
             RETURNING purchase_id, user_id",
            package,
            token,
            "void",
            event,
        )
        .await
    }
}

/// [`Store::finish_message`] on any executor (a save records the message it answers in its
/// own transaction).
pub(crate) async fn record_message<'c, E>(
    executor: E,
    m: &InboxMessage<'_>,
    error: Option<&str>,
    now: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO rtdn_messages (message_id, subscription, package_name, notification,
           published_at, received_at, state, attempts, last_error, processed_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 IS NULL THEN 'done' ELSE 'pending' END, 1,
           $7, CASE WHEN $7 IS NULL THEN $8 END)
         ON CONFLICT (message_id) DO UPDATE SET attempts = rtdn_messages.attempts + 1,
           last_error = excluded.last_error,
           state = CASE WHEN excluded.last_error IS NULL THEN 'done' ELSE rtdn_messages.state END,
           processed_at = CASE WHEN excluded.last_error IS NULL AND rtdn_messages.state <> 'done'
                               THEN excluded.processed_at ELSE rtdn_messages.processed_at END",
    )
    .bind(m.message_id)
    .bind(m.subscription)
    .bind(m.package)
    .bind(m.notification)
    .bind(m.published_at)
    .bind(m.received_at)
    .bind(error)
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

fn quarantined_from_row(r: &sqlx::any::AnyRow) -> Result<Quarantined, StoreError> {
    Ok(Quarantined {
        quarantine_id: r.try_get("quarantine_id")?,
        source: r.try_get("source")?,
        reason: r.try_get("reason")?,
        body: r.try_get("body")?,
        received_at: r.try_get("received_at")?,
        replayed_at: r.try_get("replayed_at")?,
    })
}
