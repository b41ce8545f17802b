//! The metadata store in PostgreSQL, shared by every server instance given the
//! same `--database-url`. A connection pool (deadpool-postgres over
//! tokio-postgres); migrations at start under an advisory lock; the same
//! tables and meaning as the SQLite files (see [`super::migrations`]).
//!
//! What holds across instances, and how:
//! - a webhook delivery id is inserted with `ON CONFLICT DO NOTHING` in the
//!   transaction that applies it: the instance whose insert wins applies it,
//!   the others answer "duplicate" (and `tickets.webhook_id` is unique too);
//! - an OAuth state is deleted by the instance that takes it: one wins;
//! - a token refresh holds `pg_advisory_lock` on the shop's key, on a
//!   connection of its own that is closed (not returned to the pool) when the
//!   refresh ends, so the lock goes with it even if the instance dies;
//! - `create_project` takes the next id under a table lock.

mod deletions;
mod projects;
mod shops;
mod store;
mod tickets;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::migrations::{Migration, POSTGRES};
use super::MetaError;

/// Connections kept per instance: enough for the handlers' short statements
/// and a few refreshes holding their lock.
const POOL_SIZE: usize = 16;

/// The advisory lock key of migrations (any constant no shop key takes: shop
/// keys are in the `1` namespace of the two-key form).
const MIGRATION_LOCK: i64 = 0x4c75_6d6d_6d65_6e01;

/// The PostgreSQL store; cheap to clone.
#[derive(Clone)]
pub struct PgMeta {
    pool: Pool,
    /// Permits for connections held outside the pool by token refreshes
    /// (see [`MetaStore::refresh_flight`](crate::meta::MetaStore::refresh_flight)).
    flights: std::sync::Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for PgMeta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it holds the password.
        f.debug_struct("PgMeta").field("pool_size", &self.pool.status().max_size).finish()
    }
}

impl PgMeta {
    /// Connects, checks the connection and runs the migrations not yet applied.
    pub async fn connect(url: &str) -> Result<Self, MetaError> {
        let config: tokio_postgres::Config = url.parse().map_err(|e| MetaError::Url(format!("{e}")))?;
        let manager =
            Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool =
            Pool::builder(manager).max_size(POOL_SIZE).build().map_err(|e| MetaError::Pool(e.to_string()))?;
        let flights = std::sync::Arc::new(tokio::sync::Semaphore::new(POOL_SIZE));
        let me = Self { pool, flights };
        me.migrate(POSTGRES).await?;
        Ok(me)
    }

    /// Applies the migrations of `list` not yet recorded, with their records,
    /// in one transaction (PostgreSQL's DDL is transactional: a failed
    /// migration leaves the database as it was) under an advisory lock:
    /// instances starting together wait for each other and apply each
    /// migration once.
    pub async fn migrate(&self, list: &[Migration]) -> Result<(), MetaError> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        // No notice at every start that the table is there already.
        tx.batch_execute("SET LOCAL client_min_messages = warning").await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await?;
        let current: i64 =
            tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?.get(0);
        for m in list.iter().filter(|m| m.version > current) {
            tx.batch_execute(m.sql)
                .await
                .map_err(|e| MetaError::Migration { version: m.version, reason: e.to_string() })?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&m.version, &crate::clock::now_ms_i64()],
            )
            .await?;
            tracing::info!(version = m.version, "metadata migration applied");
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last migration applied.
    pub async fn schema_version(&self) -> Result<i64, MetaError> {
        let client = self.pool.get().await?;
        Ok(client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?.get(0))
    }
}
