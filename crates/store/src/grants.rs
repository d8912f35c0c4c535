//! Grants: rights from other platforms and promotions, recorded and revoked by operators.
//! Each write changes what a user holds, so it announces (PostgreSQL) and evicts like a
//! purchase save.

use playbill_core::Grant;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::{Store, StoreError};

/// A grant to record.
#[derive(Debug)]
pub struct NewGrant<'a> {
    pub package: &'a str,
    pub user_id: &'a str,
    pub entitlement: &'a str,
    pub source: &'a str,
    pub expires_at: Option<i64>,
    pub note: Option<&'a str>,
    /// The admin key's name.
    pub by: &'a str,
    pub now: i64,
}

const COLUMNS: &str = "grant_id, entitlement, source, expires_at, note, created_at, revoked_at";

/// The user's grants that are not revoked (expired ones included: time is applied at read).
pub(crate) async fn held(
    pool: &sqlx::AnyPool,
    package: &str,
    user_id: &str,
) -> Result<Vec<Grant>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM grants
         WHERE package_name = $1 AND user_id = $2 AND revoked_at IS NULL
         ORDER BY entitlement, created_at, grant_id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(package)
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(grant_from_row).collect()
}

impl Store {
    /// Records a grant (and the user, if new).
    pub async fn add_grant(&self, g: &NewGrant<'_>) -> Result<Grant, StoreError> {
        let id = new_id();
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO users (package_name, user_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (package_name, user_id) DO NOTHING",
        )
        .bind(g.package)
        .bind(g.user_id)
        .bind(g.now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO grants (grant_id, package_name, user_id, entitlement, source,
               expires_at, note, granted_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(g.package)
        .bind(g.user_id)
        .bind(g.entitlement)
        .bind(g.source)
        .bind(g.expires_at)
        .bind(g.note)
        .bind(g.by)
        .bind(g.now)
        .execute(&mut *tx)
        .await?;
        self.announce(&mut tx, g.package, g.user_id).await?;
        tx.commit().await?;
        self.evict(g.package, g.user_id);
        Ok(Grant {
            grant_id: id,
            entitlement: g.entitlement.to_owned(),
            source: g.source.to_owned(),
            expires_at: g.expires_at,
            note: g.note.map(str::to_owned),
            granted_at: g.now,
            revoked_at: None,
        })
    }

    /// Revokes one of the user's grants: it stops giving access now. Revoking a revoked grant
    /// changes nothing. `None` if the user has no such grant.
    pub async fn revoke_grant(
        &self,
        package: &str,
        user_id: &str,
        grant_id: &str,
        by: &str,
        now: i64,
    ) -> Result<Option<Grant>, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE grants SET revoked_at = $1, revoked_by = $2
             WHERE package_name = $3 AND user_id = $4 AND grant_id = $5 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(package)
        .bind(user_id)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM grants
             WHERE package_name = $1 AND user_id = $2 AND grant_id = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(user_id)
            .bind(grant_id)
            .fetch_optional(&mut *tx)
            .await?;
        self.announce(&mut tx, package, user_id).await?;
        tx.commit().await?;
        self.evict(package, user_id);
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Every grant of the user, revoked and expired ones included, oldest first.
    pub async fn grants_for_user(
        &self,
        package: &str,
        user_id: &str,
    ) -> Result<Vec<Grant>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM grants WHERE package_name = $1 AND user_id = $2
             ORDER BY created_at, grant_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(package)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(grant_from_row).collect()
    }
}

fn grant_from_row(r: &AnyRow) -> Result<Grant, StoreError> {
    Ok(Grant {
        grant_id: r.try_get("grant_id")?,
        entitlement: r.try_get("entitlement")?,
        source: r.try_get("source")?,
        expires_at: r.try_get("expires_at")?,
        note: r.try_get("note")?,
        granted_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}
