//! The store's one error type.

/// A failed store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write: someone else got there first.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The database cannot be reached or is overloaded; the operation may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A stored value could not be read back into a domain type.
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
    /// Bad configuration (URL, migrations).
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(
                db.constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned()),
            ),
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Configuration(_) => StoreError::Config(e.to_string()),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Other(e),
        }
    }
}
