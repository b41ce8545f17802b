//! Why a metadata operation failed: the backend's error, or a value the
//! store refuses whatever the backend.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("metadata database (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("metadata database (PostgreSQL): {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("metadata database (PostgreSQL) connection pool: {0}")]
    Pool(String),
    #[error("--database-url: {0}")]
    Url(String),
    #[error("metadata migration {version}: {reason}")]
    Migration { version: i64, reason: String },
    #[error("creating the data directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("sample must be a percentage from 0 to 100, got {0}")]
    Sample(u8),
    #[error("shop {0:?} is not a myshopify domain (like demo-shop.myshopify.com)")]
    Shop(String),
    #[error("shop {shop} already belongs to project {project}")]
    ShopTaken { shop: String, project: u32 },
    #[error("no project with id {0}")]
    NotFound(u32),
    #[error("retention must be 1 to 120 months, got {0}")]
    Retention(u16),
    #[error("every project id is taken")]
    IdsExhausted,
    #[error("metadata lookup did not finish: {0}")]
    Lookup(String),
}

impl From<deadpool_postgres::PoolError> for MetaError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Self::Postgres(e),
            other => Self::Pool(other.to_string()),
        }
    }
}
