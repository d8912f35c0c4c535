//! A purchase save on PostgreSQL, as one statement: the purchase, its entitlements, its
//! events, the notification it answers and the cache's NOTIFY, written by data-modifying
//! CTEs that hang off the purchase row. One round trip and no BEGIN/COMMIT instead of seven:
//! round trips, not the work inside them, are what a save costs on PostgreSQL. The same
//! writes as [`crate::purchases::save_in`] (which SQLite runs, and PostgreSQL when a save
//! cannot be put this way); every store test runs on both.

use playbill_core::PurchaseToken;
use serde_json::json;
use sqlx::Row;

use crate::db::{flag, new_id};
use crate::purchases::SavePurchase;
use crate::{Store, StoreError};

/// Whether the save can be one statement: one `ON CONFLICT DO UPDATE` may touch a row only
/// once, so two entitlements with one key take the statement-by-statement path.
pub(crate) fn fits(s: &SavePurchase<'_>) -> bool {
    let mut keys: Vec<(&str, &str)> = s
        .entitlements
        .iter()
        .map(|e| (e.name.as_str(), e.product_id.as_str()))
        .collect();
    keys.sort_unstable();
    keys.windows(2).all(|w| w[0] != w[1])
}

/// The purchase row: `$1`… are the record's columns (see the binds in [`save`]; the update
/// leaves `$1`, `$4` and `$6` unused, which PostgreSQL allows as sqlx sends their types).
const INSERT_PURCHASE: &str =
    "INSERT INTO purchases (purchase_id, package_name, purchase_token, kind,
       user_id, product_id, state, acknowledged, consumed, quantity, order_id,
       linked_purchase_token, expires_at, auto_renewing, test_purchase, started_at, google_raw,
       created_at, updated_at, observed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
       $18, $18, $19)
     RETURNING purchase_id";

const UPDATE_PURCHASE: &str = "UPDATE purchases SET state = $7,
       acknowledged = CASE WHEN $8 = 1 THEN 1 ELSE acknowledged END,
       consumed = CASE WHEN $9 = 1 THEN 1 ELSE consumed END,
       quantity = $10, order_id = $11, linked_purchase_token = $12, expires_at = $13,
       auto_renewing = $14, test_purchase = $15, started_at = $16, google_raw = $17,
       updated_at = $18, observed_at = $19
     WHERE package_name = $2 AND purchase_token = $3 AND user_id = $5 AND observed_at <= $19
     RETURNING purchase_id";

/// Everything that hangs off the purchase row `p`: `$20` entitlements and `$21` events as
/// JSON arrays, `$22`… the notification (none when `$22` is null), `$29`/`$30` the NOTIFY.
const REST: &str = "
  users_row AS (
    INSERT INTO users (package_name, user_id, created_at)
    SELECT $2, $5, $18 WHERE $31 = 1
    ON CONFLICT (package_name, user_id) DO NOTHING),
  rights AS (
    INSERT INTO entitlements (entitlement_id, package_name, user_id, name, product_id, source,
      purchase_id, state, expires_at, auto_renewing, quantity, test_purchase, created_at,
      updated_at)
    SELECT x.entitlement_id, $2, $5, x.name, x.product_id, x.source, p.purchase_id, x.state,
      x.expires_at, x.auto_renewing, x.quantity, x.test_purchase, $18, $18
    FROM p, json_to_recordset($20::json) AS x(entitlement_id text, name text, product_id text,
      source text, state text, expires_at bigint, auto_renewing bigint, quantity bigint,
      test_purchase bigint)
    ON CONFLICT (purchase_id, name, product_id) DO UPDATE SET
      state = CASE WHEN entitlements.state = 'consumed' AND excluded.state = 'active'
                   THEN 'consumed' ELSE excluded.state END,
      expires_at = excluded.expires_at,
      auto_renewing = excluded.auto_renewing, quantity = excluded.quantity,
      test_purchase = excluded.test_purchase, updated_at = excluded.updated_at),
  history AS (
    INSERT INTO purchase_events
      (event_id, package_name, purchase_token, purchase_id, user_id, kind, detail, created_at)
    SELECT x.event_id, x.package_name, x.purchase_token, p.purchase_id, x.user_id, x.kind,
      x.detail, x.created_at
    FROM p, json_to_recordset($21::json) AS x(event_id text, package_name text,
      purchase_token text, user_id text, kind text, detail text, created_at bigint)),
  message AS (
    INSERT INTO rtdn_messages (message_id, subscription, package_name, notification,
      published_at, received_at, state, attempts, last_error, processed_at)
    SELECT $22, $23, $24, $25, $26, $27, 'done', 1, NULL, $28 FROM p WHERE $22::text IS NOT NULL
    ON CONFLICT (message_id) DO UPDATE SET attempts = rtdn_messages.attempts + 1,
      last_error = NULL, state = 'done',
      processed_at = CASE WHEN rtdn_messages.state <> 'done' THEN excluded.processed_at
                          ELSE rtdn_messages.processed_at END),
  no_orphan AS (
    DELETE FROM orphan_tokens
    WHERE $31 = 1 AND package_name = $2 AND purchase_token = $3 AND EXISTS (SELECT 1 FROM p))
SELECT p.purchase_id, pg_notify($29, $30) AS notified FROM p";

/// Writes the save; `Conflict` as [`crate::purchases::save_in`] says.
pub(crate) async fn save(store: &Store, s: &SavePurchase<'_>) -> Result<String, StoreError> {
    let r = s.record;
    let sql = format!(
        "WITH p AS ({}),{REST}",
        if s.is_new {
            INSERT_PURCHASE
        } else {
            UPDATE_PURCHASE
        }
    );
    let entitlements: Vec<_> = s
        .entitlements
        .iter()
        .map(|e| {
            json!({
                "entitlement_id": new_id(),
                "name": e.name,
                "product_id": e.product_id.as_str(),
                "source": e.source.as_str(),
                "state": e.state.as_str(),
                "expires_at": e.expires_at,
                "auto_renewing": flag(e.auto_renewing),
                "quantity": e.quantity,
                "test_purchase": flag(e.test_purchase),
            })
        })
        .collect();
    let events: Vec<_> = s
        .events
        .iter()
        .map(|e| {
            json!({
                "event_id": new_id(),
                "package_name": e.package,
                "purchase_token": e.token,
                "user_id": e.user_id,
                "kind": e.kind.as_str(),
                "detail": e.detail.to_string(),
                "created_at": e.at,
            })
        })
        .collect();
    let m = s.message;
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(new_id())
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
        .bind(s.google_raw.to_string())
        .bind(s.now)
        .bind(s.observed_at)
        .bind(serde_json::Value::Array(entitlements).to_string())
        .bind(serde_json::Value::Array(events).to_string())
        .bind(m.map(|m| m.message_id))
        .bind(m.map(|m| m.subscription))
        .bind(m.map(|m| m.package))
        .bind(m.map(|m| m.notification))
        .bind(m.and_then(|m| m.published_at))
        .bind(m.map(|m| m.received_at))
        .bind(s.now)
        .bind(crate::cache::CHANNEL)
        .bind(crate::cache::payload(
            r.package.as_str(),
            r.user_id.as_str(),
        ))
        .bind(flag(s.is_new))
        .fetch_optional(&store.writer)
        .await;
    match row {
        Ok(Some(row)) => Ok(row.try_get::<String, _>("purchase_id")?),
        Ok(None) => Err(StoreError::Conflict("purchases_owner_or_fresher".into())),
        Err(e) => Err(match StoreError::from(e) {
            StoreError::Conflict(_) if s.is_new => {
                StoreError::Conflict("purchases_token_unique".into())
            }
            other => other,
        }),
    }
}
