//! Real-time developer notifications: the durable inbox (one row per Pub/Sub `messageId`),
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

/// Where a message stands after [`Store::take_in`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// First time seen: stored, to be processed.
    New,
    /// Seen before and not processed yet (a redelivery after a failure): process it again.
    Pending,
    /// Seen and processed before: a duplicate, nothing to do.
    Done,
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
    /// Stores the message once per `messageId` and says where it stands.
    pub async fn take_in(&self, m: &InboxMessage<'_>) -> Result<Intake, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO rtdn_messages (message_id, subscription, package_name, notification,
               published_at, received_at, state, attempts)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0)
             ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(m.message_id)
        .bind(m.subscription)
        .bind(m.package)
        .bind(m.notification)
        .bind(m.published_at)
        .bind(m.received_at)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Intake::New);
        }
        let state: String = sqlx::query("SELECT state FROM rtdn_messages WHERE message_id = $1")
            .bind(m.message_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("state")?;
        Ok(if state == "done" {
            Intake::Done
        } else {
            Intake::Pending
        })
    }

    /// Records the outcome of one processing attempt: done, or still pending with the error.
    pub async fn finish_message(
        &self,
        message_id: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE rtdn_messages SET attempts = attempts + 1, last_error = $2,
               state = CASE WHEN $2 IS NULL THEN 'done' ELSE state END,
               processed_at = CASE WHEN $2 IS NULL THEN $3 ELSE processed_at END
             WHERE message_id = $1",
        )
        .bind(message_id)
        .bind(error)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
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
        let owned = NewEvent {
            user_id: Some(row.try_get("user_id")?),
            ..event.clone()
        };
        events::insert(&mut *tx, &owned, Some(&purchase_id)).await?;
        tx.commit().await?;
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
            "SELECT purchase_token, kind FROM orphan_tokens
             WHERE package_name = $1 AND linked_purchase_token = $2
             ORDER BY received_at, purchase_token",
        )
        .bind(package)
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("purchase_token")?, r.try_get("kind")?)))
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
