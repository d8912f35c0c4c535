//! Entitlements: written with their purchase, read per user.

use std::sync::Arc;

use playbill_core::{
    Entitlement, EntitlementState, Held, Holding, ProductId, ProductKind, PurchaseRecord,
    PurchaseState, PurchaseToken, Source, granted,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{flag, new_id};
use crate::{Store, StoreError};

pub(crate) async fn upsert(
    conn: &mut sqlx::AnyConnection,
    owner: &PurchaseRecord,
    purchase_id: &str,
    e: &Entitlement,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO entitlements (entitlement_id, package_name, user_id, name, product_id,
           source, purchase_id, state, expires_at, auto_renewing, quantity, test_purchase,
           created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
         ON CONFLICT (purchase_id, name, product_id) DO UPDATE SET
           state = CASE WHEN entitlements.state = 'consumed' AND excluded.state = 'active'
                        THEN 'consumed' ELSE excluded.state END,
           expires_at = excluded.expires_at,
           auto_renewing = excluded.auto_renewing, quantity = excluded.quantity,
           test_purchase = excluded.test_purchase, updated_at = excluded.updated_at",
    )
    .bind(new_id())
    .bind(owner.package.as_str())
    .bind(owner.user_id.as_str())
    .bind(&e.name)
    .bind(e.product_id.as_str())
    .bind(e.source.as_str())
    .bind(purchase_id)
    .bind(e.state.as_str())
    .bind(e.expires_at)
    .bind(flag(e.auto_renewing))
    .bind(e.quantity)
    .bind(flag(e.test_purchase))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// What the user holds that may give access: Play entitlements, each with its purchase
    /// (active, of a purchase no newer token replaced and no void revoked, in name order),
    /// and grants not revoked. Whether one gives access at a moment is
    /// [`playbill_core::Held::rights`]; whether a purchase should be re-read first is
    /// [`playbill_core::needs_refresh`]. Read from the database, or from the cache (see
    /// `cache.rs`).
    pub async fn held_entitlements(
        &self,
        package: &str,
        user_id: &str,
    ) -> Result<Arc<Held>, StoreError> {
        let Some(cache) = &self.cache else {
            return Ok(Arc::new(self.held_from_database(package, user_id).await?));
        };
        let (cached, epoch) = cache.get(package, user_id);
        if let Some(held) = cached {
            return Ok(held);
        }
        let held = Arc::new(self.held_from_database(package, user_id).await?);
        cache.fill(package, user_id, Arc::clone(&held), epoch);
        Ok(held)
    }

    async fn held_from_database(&self, package: &str, user_id: &str) -> Result<Held, StoreError> {
        let rows = sqlx::query(
            "SELECT e.name, e.product_id, e.source, e.state, e.expires_at, e.auto_renewing,
                    e.quantity, e.test_purchase, p.purchase_token AS p_token,
                    p.product_id AS p_product_id, p.kind AS p_kind, p.state AS p_state,
                    p.expires_at AS p_expires_at
             FROM entitlements e JOIN purchases p ON p.purchase_id = e.purchase_id
             WHERE e.package_name = $1 AND e.user_id = $2 AND e.state = 'active'
               AND p.superseded_by IS NULL AND p.revoked_at IS NULL
             ORDER BY e.name, e.product_id, e.entitlement_id",
        )
        .bind(package)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let play = rows
            .iter()
            .map(|r| Ok((entitlement_from_row(r)?, holding_from_row(r)?)))
            .collect::<Result<_, StoreError>>()?;
        let grants = crate::grants::held(&self.pool, package, user_id).await?;
        Ok(Held { play, grants })
    }

    /// The user's entitlements that give access at `now`.
    pub async fn active_entitlements(
        &self,
        package: &str,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<Entitlement>, StoreError> {
        Ok(granted(
            &self.held_entitlements(package, user_id).await?.play,
            now,
        ))
    }
}

fn entitlement_from_row(row: &AnyRow) -> Result<Entitlement, StoreError> {
    let source: String = row.try_get("source")?;
    let state: String = row.try_get("state")?;
    let product: String = row.try_get("product_id")?;
    Ok(Entitlement {
        name: row.try_get("name")?,
        product_id: ProductId::parse(product)
            .map_err(|e| StoreError::Corrupt(format!("entitlement product_id: {e}")))?,
        source: Source::parse(&source)
            .ok_or_else(|| StoreError::Corrupt(format!("entitlement source {source:?}")))?,
        state: EntitlementState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("entitlement state {state:?}")))?,
        expires_at: row.try_get("expires_at")?,
        auto_renewing: row.try_get::<i64, _>("auto_renewing")? != 0,
        quantity: row.try_get("quantity")?,
        test_purchase: row.try_get::<i64, _>("test_purchase")? != 0,
    })
}

fn holding_from_row(row: &AnyRow) -> Result<Holding, StoreError> {
    let corrupt = |what: &str, e: &dyn std::fmt::Display| {
        StoreError::Corrupt(format!("purchase {what}: {e}"))
    };
    let kind: String = row.try_get("p_kind")?;
    Ok(Holding {
        token: PurchaseToken::parse(row.try_get::<String, _>("p_token")?)
            .map_err(|e| corrupt("token", &e))?,
        product_id: ProductId::parse(row.try_get::<String, _>("p_product_id")?)
            .map_err(|e| corrupt("product_id", &e))?,
        kind: ProductKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        state: PurchaseState::parse(&row.try_get::<String, _>("p_state")?),
        expires_at: row.try_get("p_expires_at")?,
    })
}
