//! Event storage behind one trait, with two real implementations: SQLite (the
//! embedded default, `<data_dir>/events.db`) and ClickHouse (when a URL is
//! configured).
//!
//! Every event gets a stable id, `"{batch_id}-{index}"`, and both stores are
//! idempotent on it, so a replay of the spool after a crash never duplicates rows:
//! SQLite has a `UNIQUE` index on it and inserts with `INSERT OR IGNORE`; ClickHouse
//! uses `ReplacingMergeTree` with the id at the end of the sorting key, so merges
//! collapse replays, and every read deduplicates before merges happen (`FINAL` and
//! `LIMIT 1 BY event_id`, counts with `uniqExact(event_id)`).
//!
//! Columns: the envelope (site, visitor, session, page view), `kind` and `time`,
//! the page `url` (for clicks, moves and scrolls, resolved from their page
//! view), the checkout's `order_id`/`customer_id` (privacy requests name those),
//! and `json`, the whole event as posted, so reads give back exactly what came
//! in. Next to `events`, narrow tables written in the same insert serve the
//! dashboard (`traffic`, see [`traffic`]) and heatmaps (`heat_clicks`,
//! `heat_moves`, `heat_views`, see [`heatmap`]), each sorted for its queries
//! and reached by every delete of a visitor or a site.
//!
//! Layout: this file holds the trait and [`open`]; [`rows`] the rows both
//! backends write, [`context`] the page view context they take; [`heatmap`] and
//! [`stats`] the types and the pure parts both backends share; each backend
//! is a folder with all of its SQL: [`sqlite`] and [`clickhouse`].

pub mod clickhouse;
pub mod context;
pub mod heatmap;
mod kind_sql;
pub mod rows;
pub mod sqlite;
pub mod stats;
pub mod traffic;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::Config;
pub use context::PageContext;
pub use heatmap::{HeatCounts, HeatPages, HeatmapQuery};
pub use rows::{Batches, EventRow, RowSource};
pub use stats::{Breakdown, Counts, StatsQuery};

/// An event as stored, field for field what was posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// `"{batch_id}-{index}"`: stable across retries and replays.
    pub event_id: String,
    pub site_id: u32,
    pub visitor_id: String,
    pub session_id: Option<String>,
    pub page_view_id: Option<String>,
    pub event: protocol::Event,
}

/// Why a storage operation failed. Every variant is ours (a 5xx or a retry),
/// never the client's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] ::clickhouse::error::Error),
    #[error("stored event {id} is not valid JSON: {source}")]
    Corrupt { id: String, source: serde_json::Error },
    /// The ClickHouse cluster configured is not the one found (or not a
    /// valid one): fatal at start, as a delete would miss rows.
    #[error("clickhouse layout: {0}")]
    Layout(String),
    #[error("{0}")]
    Other(String),
}

/// A boxed future, so the trait stays object-safe (`Arc<dyn EventStore>`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The storage trait: inserts from the drainer, reads for tests and the admin,
/// and privacy fulfilment (export and delete per visitor or per site).
pub trait EventStore: Send + Sync + std::fmt::Debug {
    /// `"sqlite"` or `"clickhouse"`, for logs and metrics.
    fn name(&self) -> &'static str;

    /// Whether the store answers; drives `/readyz`.
    fn ping(&self) -> StoreFuture<'_, ()>;

    /// Inserts rows; rows whose `event_id` is already stored are ignored. Shared,
    /// so a blocking store can hand them to a worker thread without copying.
    /// A store lets go of them as soon as it has written them, which may be well
    /// before the database has finished: the drainer watches for that to read
    /// its next insert (see [`crate::ingest::drain`]).
    fn insert(&self, rows: Arc<dyn RowSource>) -> StoreFuture<'_, ()>;

    /// The page view's context (url, widths) for clicks that arrive in a later
    /// batch than their page view.
    fn page_context<'a>(
        &'a self,
        site_id: u32,
        visitor_id: &'a str,
        page_view_id: &'a str,
    ) -> StoreFuture<'a, Option<PageContext>>;

    /// Every event of one visitor, oldest first.
    fn events_for_visitor<'a>(
        &'a self,
        site_id: u32,
        visitor_id: &'a str,
    ) -> StoreFuture<'a, Vec<StoredEvent>>;

    /// Number of distinct events stored for a site.
    fn count_events(&self, site_id: u32) -> StoreFuture<'_, u64>;

    /// When the site's latest stored event happened (its `t`), if it has any:
    /// whether events arrive, for the admin page.
    fn last_event_ms(&self, site_id: u32) -> StoreFuture<'_, Option<u64>>;

    /// Visitors whose checkouts carry this customer id or one of these order ids.
    fn visitors_for<'a>(
        &'a self,
        site_ids: &'a [u32],
        customer_id: Option<&'a str>,
        order_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<String>>;

    /// Every event of these visitors on these sites, oldest first.
    fn export_visitors<'a>(
        &'a self,
        site_ids: &'a [u32],
        visitors: &'a [String],
    ) -> StoreFuture<'a, Vec<StoredEvent>>;

    /// Deletes every event of these visitors on these sites; returns how many
    /// events were deleted. Returns once the rows are gone.
    fn delete_visitors<'a>(&'a self, site_ids: &'a [u32], visitors: &'a [String]) -> StoreFuture<'a, u64>;

    /// Deletes every event of these sites; returns how many were deleted.
    fn delete_sites<'a>(&'a self, site_ids: &'a [u32]) -> StoreFuture<'a, u64>;

    /// The heatmap of one page or template group in one bucket, the parts the
    /// query asks for, counted by the database (see [`heatmap`]).
    fn heatmap<'a>(&'a self, query: &'a HeatmapQuery) -> StoreFuture<'a, HeatCounts>;

    /// The site's paths with the most clicks, most first (at most
    /// [`heatmap::MAX_PAGES`]), and its template groups with clicks.
    fn heatmap_pages(&self, site_id: u32) -> StoreFuture<'_, HeatPages>;

    /// The dashboard's headline figures and funnel over a window (see [`stats`]).
    fn stats_counts<'a>(&'a self, query: &'a StatsQuery) -> StoreFuture<'a, Counts>;

    /// The dashboard's days and top lists over a window.
    fn stats_breakdown<'a>(&'a self, query: &'a StatsQuery) -> StoreFuture<'a, Breakdown>;

    /// The distinct order ids of completed checkouts over a window: which of
    /// Shopify's orders the pixel saw.
    fn order_ids<'a>(&'a self, query: &'a StatsQuery) -> StoreFuture<'a, Vec<String>>;

    /// Deletes what the retention plan says has expired (see
    /// [`crate::retention`]); returns how many events went.
    fn expire<'a>(&'a self, plan: &'a crate::retention::Plan) -> StoreFuture<'a, u64>;
}

/// Opens the store the configuration names: ClickHouse when `clickhouse_url` is
/// set (creating or migrating its schema), otherwise SQLite under `data_dir`.
pub async fn open(config: &Config) -> Result<Arc<dyn EventStore>, StoreError> {
    match &config.clickhouse_url {
        Some(url) => {
            let (database, user, password) = (
                &config.clickhouse_database,
                config.clickhouse_user.as_deref(),
                config.clickhouse_password.as_deref(),
            );
            let store = match &config.clickhouse_cluster {
                Some(name) => {
                    let cluster = clickhouse::Cluster::new(name, &config.clickhouse_shard_urls)?
                        .with_insert_timeout(config.clickhouse_insert_timeout_secs)
                        .with_replication(config.clickhouse_replicated);
                    clickhouse::ClickHouseStore::connect_cluster(url, database, user, password, &cluster)
                        .await?
                }
                None if !config.clickhouse_shard_urls.is_empty() => {
                    return Err(StoreError::Layout("shard URLs need --clickhouse-cluster".into()));
                }
                None => clickhouse::ClickHouseStore::connect(url, database, user, password).await?,
            };
            Ok(Arc::new(store))
        }
        None if config.clickhouse_cluster.is_some() => {
            Err(StoreError::Layout("--clickhouse-cluster needs --clickhouse-url".into()))
        }
        None => {
            let dir = config.data_dir.clone();
            let store = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&dir))
                .await
                .map_err(|e| StoreError::Other(e.to_string()))??;
            Ok(Arc::new(store))
        }
    }
}

/// Turns a stored row's envelope and JSON back into the posted event.
pub(crate) fn stored_event(
    event_id: String,
    site_id: u32,
    visitor_id: String,
    session_id: String,
    page_view_id: String,
    json: &str,
) -> Result<StoredEvent, StoreError> {
    let event =
        serde_json::from_str(json).map_err(|source| StoreError::Corrupt { id: event_id.clone(), source })?;
    let opt = |s: String| if s.is_empty() { None } else { Some(s) };
    Ok(StoredEvent {
        event_id,
        site_id,
        visitor_id,
        session_id: opt(session_id),
        page_view_id: opt(page_view_id),
        event,
    })
}
