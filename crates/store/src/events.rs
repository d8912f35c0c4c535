//! The append-only event history of purchase tokens. Failed verifications leave an event
//! and nothing else, so support can see every attempt made with a token.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::{Store, StoreError};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A verification bound the token and stored Google's state.
    Verified,
    /// A verification was refused (by Google or by our rules); nothing else was stored.
    VerificationFailed,
    Acknowledged,
    AcknowledgeFailed,
    Consumed,
    ConsumeFailed,
    /// Google no longer knows the token (410); the purchase was marked expired.
    ExpiredAtGoogle,
    /// A notification made us re-read the purchase; Google's state was stored.
    Notified,
    /// A newer token replaced this one: it lost access for good.
    Superseded,
    /// Google told us of the token, but no user is known to own it yet.
    AwaitingOwner,
    /// Google's answer contradicts what we hold (e.g. another user's account id).
    NotificationRefused,
    /// A void (refund, chargeback) ended the purchase for good.
    Revoked,
    /// An operator acted on it through Google (cancel, defer, revoke, refund).
    AdminAction,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Verified => "verified",
            EventKind::VerificationFailed => "verification_failed",
            EventKind::Acknowledged => "acknowledged",
            EventKind::AcknowledgeFailed => "acknowledge_failed",
            EventKind::Consumed => "consumed",
            EventKind::ConsumeFailed => "consume_failed",
            EventKind::ExpiredAtGoogle => "expired_at_google",
            EventKind::Notified => "notified",
            EventKind::Superseded => "superseded",
            EventKind::AwaitingOwner => "awaiting_owner",
            EventKind::NotificationRefused => "notification_refused",
            EventKind::Revoked => "revoked",
            EventKind::AdminAction => "admin_action",
        }
    }
}

/// An event to append. `Debug` shortens the token: events reach logs.
#[derive(Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub package: String,
    pub token: String,
    pub user_id: Option<String>,
    pub detail: serde_json::Value,
    pub at: i64,
}

impl std::fmt::Debug for NewEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.token.chars().take(6).collect();
        f.debug_struct("NewEvent")
            .field("kind", &self.kind)
            .field("package", &self.package)
            .field(
                "token",
                &format_args!("{head}…({} chars)", self.token.len()),
            )
            .field("user_id", &self.user_id)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub event_id: String,
    pub token: String,
    pub kind: String,
    pub purchase_id: Option<String>,
    pub user_id: Option<String>,
    pub detail: serde_json::Value,
    pub created_at: i64,
}

pub(crate) async fn insert<'c, E>(
    exec: E,
    event: &NewEvent,
    purchase_id: Option<&str>,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO purchase_events
           (event_id, package_name, purchase_token, purchase_id, user_id, kind, detail, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(&event.package)
    .bind(&event.token)
    .bind(purchase_id)
    .bind(event.user_id.as_deref())
    .bind(event.kind.as_str())
    .bind(event.detail.to_string())
    .bind(event.at)
    .execute(exec)
    .await?;
    Ok(())
}

impl Store {
    /// Appends one event that belongs to no stored purchase (e.g. a refused verification).
    pub async fn append_event(&self, event: &NewEvent) -> Result<(), StoreError> {
        insert(&self.writer, event, None).await
    }

    /// A token's history, oldest first.
    pub async fn events_for_token(
        &self,
        package: &str,
        token: &str,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, purchase_token, kind, purchase_id, user_id, detail, created_at
             FROM purchase_events WHERE package_name = $1 AND purchase_token = $2
             ORDER BY event_id",
        )
        .bind(package)
        .bind(token)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// A user's history across all their purchases (replaced tokens included), newest
    /// first, at most `limit` events.
    pub async fn events_for_user(
        &self,
        package: &str,
        user_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, purchase_token, kind, purchase_id, user_id, detail, created_at
             FROM purchase_events
             WHERE package_name = $1 AND (user_id = $2 OR purchase_id IN
               (SELECT purchase_id FROM purchases WHERE package_name = $1 AND user_id = $2))
             ORDER BY event_id DESC LIMIT $3",
        )
        .bind(package)
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }
}

fn event_from_row(row: &AnyRow) -> Result<StoredEvent, StoreError> {
    let detail: String = row.try_get("detail")?;
    Ok(StoredEvent {
        event_id: row.try_get("event_id")?,
        token: row.try_get("purchase_token")?,
        kind: row.try_get("kind")?,
        purchase_id: row.try_get("purchase_id")?,
        user_id: row.try_get("user_id")?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("event detail: {e}")))?,
        created_at: row.try_get("created_at")?,
    })
}
