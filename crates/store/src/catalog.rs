//! Google's catalog, mirrored per app (see the migration): a sync replaces an app's items in
//! one transaction, so readers see the old catalog or the new one, never half of each.

use sqlx::Row;

use crate::{Store, StoreError};

/// One mirrored item: `kind` and Google's JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub item_id: String,
    pub kind: String,
    pub body: String,
}

/// What a sync changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CatalogChange {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub updated: Vec<String>,
    pub total: usize,
}

impl Store {
    /// Replaces the app's mirror with `items`; says what changed.
    pub async fn replace_catalog(
        &self,
        package: &str,
        items: &[CatalogItem],
        now: i64,
    ) -> Result<CatalogChange, StoreError> {
        let mut tx = self.writer.begin().await?;
        let old: std::collections::BTreeMap<String, String> =
            sqlx::query("SELECT item_id, body FROM catalog_items WHERE package_name = $1")
                .bind(package)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("item_id")?, r.try_get("body")?)))
                .collect::<Result<_, StoreError>>()?;
        let mut change = CatalogChange {
            total: items.len(),
            ..CatalogChange::default()
        };
        for i in items {
            match old.get(&i.item_id) {
                None => change.added.push(i.item_id.clone()),
                Some(b) if *b != i.body => change.updated.push(i.item_id.clone()),
                Some(_) => {}
            }
        }
        let new: std::collections::BTreeSet<&str> =
            items.iter().map(|i| i.item_id.as_str()).collect();
        change.removed = old
            .keys()
            .filter(|k| !new.contains(k.as_str()))
            .cloned()
            .collect();
        sqlx::query("DELETE FROM catalog_items WHERE package_name = $1")
            .bind(package)
            .execute(&mut *tx)
            .await?;
        for i in items {
            sqlx::query(
                "INSERT INTO catalog_items (package_name, item_id, kind, body, synced_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(package)
            .bind(&i.item_id)
            .bind(&i.kind)
            .bind(&i.body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(change)
    }

    /// The app's mirrored items, by id.
    pub async fn catalog(&self, package: &str) -> Result<Vec<CatalogItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT item_id, kind, body FROM catalog_items WHERE package_name = $1 ORDER BY item_id",
        )
        .bind(package)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CatalogItem {
                    item_id: r.try_get("item_id")?,
                    kind: r.try_get("kind")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }
}
