//! Connecting and migrating. SQLite URLs get a file created if missing, WAL journaling and
//! a busy timeout; PostgreSQL URLs are used as given.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database is behind the `Any` pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Reads.
    pub(crate) pool: AnyPool,
    /// Writes and transactions (on SQLite one connection; on PostgreSQL the same pool).
    pub(crate) writer: AnyPool,
    /// SQLite: purchase saves go through the writer task, which commits them in groups.
    pub(crate) saves: Option<crate::batch::Saves>,
    /// PostgreSQL: what users hold, cached per instance and invalidated by NOTIFY.
    pub(crate) cache: Option<std::sync::Arc<crate::cache::HeldCache>>,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects to `sqlite:PATH` / `sqlite://PATH` or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "database url must start with sqlite: or postgres:// (got {:?})",
                url.split(':').next().unwrap_or_default()
            )));
        };
        if backend == Backend::Sqlite {
            create_sqlite_dir(url)?;
        }
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options: AnyConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Config(format!("bad database url: {e}")))?;
        let memory = url.contains(":memory:");
        let pool = pool_options(backend, if memory { 1 } else { 8 })
            .connect_with(options.clone())
            .await?;
        // SQLite takes one writer at a time: writes queue here, in order, for one connection,
        // instead of several connections sleeping in SQLite's busy handler. PostgreSQL
        // writes share the one pool.
        let writer = if backend == Backend::Sqlite && !memory {
            pool_options(backend, 1).connect_with(options).await?
        } else {
            pool.clone()
        };
        let saves = (backend == Backend::Sqlite && !memory)
            .then(|| crate::batch::Saves::start(writer.clone()));
        let cache = match backend {
            Backend::Postgres => {
                let cache = std::sync::Arc::new(crate::cache::HeldCache::default());
                cache.start(url.clone());
                Some(cache)
            }
            Backend::Sqlite if memory => None,
            Backend::Sqlite => crate::cache::for_sqlite_file(sqlite_path(&url)),
        };
        Ok(Self {
            pool,
            writer,
            saves,
            cache,
            backend,
        })
    }

    /// The pool writes go through (for `playbill bench`: raw upserts beside the server's
    /// own, on the same settings).
    pub fn writer_pool(&self) -> &AnyPool {
        &self.writer
    }

    /// In a transaction that changes what `user` holds: tells every instance (PostgreSQL).
    pub(crate) async fn announce(
        &self,
        conn: &mut sqlx::AnyConnection,
        package: &str,
        user: &str,
    ) -> Result<(), StoreError> {
        match self.backend {
            Backend::Postgres => crate::cache::announce(conn, package, user).await,
            Backend::Sqlite => Ok(()),
        }
    }

    /// Whether this process may serve the database: always on PostgreSQL (instances share
    /// it); on a SQLite file, only while no other process does (each caches what users hold,
    /// and would not see the other's writes).
    pub fn serves_alone(&self) -> bool {
        self.backend == Backend::Postgres || self.cache.is_some()
    }

    /// After that transaction committed: this instance reads its own write at once.
    pub(crate) fn evict(&self, package: &str, user: &str) {
        if let Some(cache) = &self.cache {
            cache.evict(package, user);
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.writer)
            .await
            .map_err(|e| StoreError::Config(format!("migration failed: {e}")))
    }

    /// Cheap liveness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Records an app served by this deployment (from configuration).
    pub async fn upsert_app(&self, package: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO apps (package_name, created_at) VALUES ($1, $2)
             ON CONFLICT (package_name) DO NOTHING",
        )
        .bind(package)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn close(&self) {
        if let Some(cache) = &self.cache
            && self.backend == Backend::Postgres
        {
            cache.close();
        }
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// The pool settings of both pools: SQLite connections get WAL journaling and a busy timeout
/// (another process may hold the write lock).
fn pool_options(backend: Backend, connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(if backend == Backend::Sqlite {
            connections
        } else {
            10
        })
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                }
                Ok(())
            })
        })
}

/// The file of a `sqlite:PATH` / `sqlite://PATH` URL.
fn sqlite_path(url: &str) -> &std::path::Path {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    std::path::Path::new(path.split('?').next().unwrap_or(path))
}

/// Creates the folder of a `sqlite://PATH` database file, so a fresh data directory works.
fn create_sqlite_dir(url: &str) -> Result<(), StoreError> {
    let path = sqlite_path(url);
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && path.as_os_str() != ":memory:" => {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))
        }
        _ => Ok(()),
    }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}
