//! The embedded default store: `<data_dir>/events.db`, WAL mode, an `events`
//! table with a unique index on the event id (so `INSERT OR IGNORE` makes
//! replays harmless), and next to it the dashboard's `traffic` ([`stats`]) and
//! the heatmap's tables ([`heat_rows`], queried in [`heatmap`]), written in the
//! same transaction.
//!
//! rusqlite is blocking: every call runs on tokio's blocking pool.

use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

pub(crate) mod heat_rows;
pub(crate) mod heatmap;
pub(crate) mod retention;
pub(crate) mod stats;

use protocol::Kind;

use crate::retention::Plan;
use crate::store::stats::{Breakdown, Counts, StatsQuery};
use crate::store::{
    kind_sql, stored_event, EventStore, PageContext, RowSource, StoreError, StoreFuture, StoredEvent,
};

/// File name of the events database under the data directory.
pub const EVENTS_DB_FILE: &str = "events.db";
/// Page size of a new events database, in bytes.
pub const PAGE_SIZE: u32 = 16 * 1024;

/// The table and its indexes (the kind filters of the partial indexes spelled
/// from [`Kind`], see [`kind_sql`]). A database from before the heatmap's own
/// tables also has click columns (`x`, `y`, `cx`, `cy`, `selector`, `rage`,
/// `viewport_width`, `doc_width`), no longer written.
static SCHEMA: LazyLock<String> = LazyLock::new(|| {
    format!(
        "
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT NOT NULL,
    site_id INTEGER NOT NULL,
    visitor_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    page_view_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    time INTEGER NOT NULL,
    url TEXT NOT NULL,
    order_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events(event_id);
CREATE INDEX IF NOT EXISTS events_by_visitor ON events(site_id, visitor_id, time);
CREATE INDEX IF NOT EXISTS checkouts ON events(site_id, customer_id, order_id) WHERE {checkout};
",
        checkout = kind_sql::is(Kind::CheckoutCompleted),
    )
});

/// A page view's JSON, for the context of clicks that came in a later batch.
static PAGE_VIEW_JSON: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT json FROM events WHERE site_id = ?1 AND visitor_id = ?2 AND page_view_id = ?3 AND {} LIMIT 1",
        kind_sql::is(Kind::PageView)
    )
});

const SELECT_STORED: &str =
    "SELECT event_id, site_id, visitor_id, session_id, page_view_id, json FROM events";

/// SQLite-backed [`EventStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// For the dashboard's reads.
    reader: Arc<Mutex<Connection>>,
    /// For the heatmap's reads: its parts run at once, one a connection.
    heat_readers: Arc<[Arc<Mutex<Connection>>]>,
}

/// Connections of the heatmap's reads: its heaviest parts (the elements, the
/// click grid, the moves) each on its own.
const HEAT_READERS: usize = 3;

impl SqliteStore {
    /// Opens (creating if needed) `<data_dir>/events.db`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Other(format!("{}: {e}", data_dir.display())))?;
        // 16 KB pages instead of 4 KB: the drainer's large inserts touch a
        // table and four indexes, and bigger pages mean fewer page writes,
        // splits and WAL frames per row; stored events/s rose by a fifth to a
        // third in the ingest bench (docs/perf-log.md). Only a new database takes
        // it. Full sync: an insert the drainer saw commit must survive power
        // loss, since the spool forgets it afterwards; one fsync per large
        // insert is cheap. 16 MB of page cache keeps the indexes' hot pages in
        // memory during large inserts without growing the process much.
        let tuning = crate::sqlite::Tuning { page_size: Some(PAGE_SIZE), cache_kib: Some(16 * 1024) };
        let mut conn = crate::sqlite::open(data_dir, EVENTS_DB_FILE, tuning)?;
        conn.execute_batch(&SCHEMA)?;
        heat_rows::create(&mut conn)?;
        stats::create(&mut conn)?;
        // The dashboard reads on a connection of its own: WAL lets it read
        // while the drainer writes, so a long range never holds up ingest.
        let reader = crate::sqlite::open(data_dir, EVENTS_DB_FILE, tuning)?;
        let heat_readers = (0..HEAT_READERS)
            .map(|_| crate::sqlite::open(data_dir, EVENTS_DB_FILE, tuning).map(|c| Arc::new(Mutex::new(c))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            reader: Arc::new(Mutex::new(reader)),
            heat_readers: heat_readers.into(),
        })
    }

    /// Runs `f` on the connection on the blocking pool.
    fn run<'a, T, F>(&'a self, f: F) -> StoreFuture<'a, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        Self::run_on(Arc::clone(&self.conn), f)
    }

    /// Runs `f` on the dashboard's reading connection on the blocking pool.
    fn read<'a, T, F>(&'a self, f: F) -> StoreFuture<'a, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        Self::run_on(Arc::clone(&self.reader), f)
    }

    fn run_on<'a, T, F>(conn: Arc<Mutex<Connection>>, f: F) -> StoreFuture<'a, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                f(&mut conn)
            })
            .await
            .map_err(|e| StoreError::Other(format!("sqlite task: {e}")))?
        })
    }
}

/// Awaits every future at once; the first error, if any.
async fn all_at_once<T: Send + 'static>(futures: Vec<StoreFuture<'static, T>>) -> Result<Vec<T>, StoreError> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.map_err(|e| StoreError::Other(format!("sqlite task: {e}")))??);
    }
    Ok(out)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

fn read_stored(
    conn: &Connection,
    sql: &str,
    args: Vec<rusqlite::types::Value>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt
        .query_map(params_from_iter(args), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter().map(|(id, s, v, ss, pv, json)| stored_event(id, s, v, ss, pv, &json)).collect()
}

fn values_of(site_ids: &[u32], strings: &[String]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    site_ids
        .iter()
        .map(|s| Value::Integer(i64::from(*s)))
        .chain(strings.iter().map(|v| Value::Text(v.clone())))
        .collect()
}

impl EventStore for SqliteStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.run(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
    }

    fn insert(&self, rows: Arc<dyn RowSource>) -> StoreFuture<'_, ()> {
        self.run(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT OR IGNORE INTO events (event_id, site_id, visitor_id, session_id, page_view_id, kind,
                     time, url, order_id, customer_id, json)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                )?;
                let mut traffic = tx.prepare_cached(stats::INSERT)?;
                let mut heat = heat_rows::HeatInserts::new(&tx)?;
                for r in rows.rows() {
                    if let Some(t) = &r.traffic {
                        traffic.execute(params![
                            r.site_id,
                            i64::try_from(r.time).unwrap_or(i64::MAX),
                            r.event_id,
                            t.kind,
                            r.visitor_id,
                            r.session_id,
                            t.path,
                            t.source,
                            t.viewport_width,
                            t.product_id,
                            t.product_name,
                            r.order_id,
                            t.total,
                            t.currency,
                        ])?;
                    }
                    if let Some(h) = &r.heat {
                        heat.write(r.carrier(), h)?;
                    }
                    stmt.execute(params![
                        r.event_id,
                        r.site_id,
                        r.visitor_id,
                        r.session_id,
                        r.page_view_id,
                        r.kind,
                        // SQLite integers are i64; event times are far below i64::MAX.
                        i64::try_from(r.time).unwrap_or(i64::MAX),
                        r.url,
                        r.order_id,
                        r.customer_id,
                        r.json,
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn page_context<'a>(
        &'a self,
        site_id: u32,
        visitor_id: &'a str,
        page_view_id: &'a str,
    ) -> StoreFuture<'a, Option<PageContext>> {
        let (visitor_id, page_view_id) = (visitor_id.to_string(), page_view_id.to_string());
        self.run(move |conn| {
            let json: Option<String> = conn
                .query_row(&PAGE_VIEW_JSON, params![site_id, visitor_id, page_view_id], |r| r.get(0))
                .optional()?;
            Ok(json.and_then(|j| PageContext::from_page_view_json(&j)))
        })
    }

    fn events_for_visitor<'a>(
        &'a self,
        site_id: u32,
        visitor_id: &'a str,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        let visitor_id = visitor_id.to_string();
        self.run(move |conn| {
            let sql = format!("{SELECT_STORED} WHERE site_id = ? AND visitor_id = ? ORDER BY time, event_id");
            read_stored(conn, &sql, values_of(&[site_id], &[visitor_id]))
        })
    }

    fn count_events(&self, site_id: u32) -> StoreFuture<'_, u64> {
        self.run(move |conn| {
            let n: i64 =
                conn.query_row("SELECT COUNT(*) FROM events WHERE site_id = ?1", [site_id], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn last_event_ms(&self, site_id: u32) -> StoreFuture<'_, Option<u64>> {
        self.run(move |conn| {
            let t: Option<i64> =
                conn.query_row("SELECT MAX(time) FROM events WHERE site_id = ?1", [site_id], |r| r.get(0))?;
            Ok(t.and_then(|t| u64::try_from(t).ok()))
        })
    }

    fn visitors_for<'a>(
        &'a self,
        site_ids: &'a [u32],
        customer_id: Option<&'a str>,
        order_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<String>> {
        let (site_ids, customer_id, order_ids) =
            (site_ids.to_vec(), customer_id.map(str::to_string), order_ids.to_vec());
        self.run(move |conn| {
            if site_ids.is_empty() || (customer_id.is_none() && order_ids.is_empty()) {
                return Ok(Vec::new());
            }
            let mut ors = Vec::new();
            let mut strings = Vec::new();
            if let Some(c) = customer_id {
                ors.push("customer_id = ?".to_string());
                strings.push(c);
            }
            if !order_ids.is_empty() {
                ors.push(format!("order_id IN ({})", placeholders(order_ids.len())));
                strings.extend(order_ids);
            }
            let sql = format!(
                "SELECT DISTINCT visitor_id FROM events WHERE {} AND site_id IN ({}) AND ({}) ORDER BY visitor_id",
                kind_sql::is(Kind::CheckoutCompleted),
                placeholders(site_ids.len()),
                ors.join(" OR ")
            );
            let mut stmt = conn.prepare(&sql)?;
            let visitors = stmt
                .query_map(params_from_iter(values_of(&site_ids, &strings)), |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(visitors)
        })
    }

    fn export_visitors<'a>(
        &'a self,
        site_ids: &'a [u32],
        visitors: &'a [String],
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        let (site_ids, visitors) = (site_ids.to_vec(), visitors.to_vec());
        self.run(move |conn| {
            if site_ids.is_empty() || visitors.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "{SELECT_STORED} WHERE site_id IN ({}) AND visitor_id IN ({}) ORDER BY time, event_id",
                placeholders(site_ids.len()),
                placeholders(visitors.len())
            );
            read_stored(conn, &sql, values_of(&site_ids, &visitors))
        })
    }

    fn delete_visitors<'a>(&'a self, site_ids: &'a [u32], visitors: &'a [String]) -> StoreFuture<'a, u64> {
        let (site_ids, visitors) = (site_ids.to_vec(), visitors.to_vec());
        self.run(move |conn| {
            if site_ids.is_empty() || visitors.is_empty() {
                return Ok(0);
            }
            let filter = format!(
                "site_id IN ({}) AND visitor_id IN ({})",
                placeholders(site_ids.len()),
                placeholders(visitors.len())
            );
            delete_where(conn, &filter, values_of(&site_ids, &visitors))
        })
    }

    fn delete_sites<'a>(&'a self, site_ids: &'a [u32]) -> StoreFuture<'a, u64> {
        let site_ids = site_ids.to_vec();
        self.run(move |conn| {
            if site_ids.is_empty() {
                return Ok(0);
            }
            let filter = format!("site_id IN ({})", placeholders(site_ids.len()));
            delete_where(conn, &filter, values_of(&site_ids, &[]))
        })
    }

    fn heatmap<'a>(&'a self, query: &'a super::HeatmapQuery) -> StoreFuture<'a, super::HeatCounts> {
        let query = Arc::new(query.clone());
        let counts = heatmap::parts(&query).into_iter().enumerate().map(|(i, part)| {
            let (q, conn) = (Arc::clone(&query), Arc::clone(&self.heat_readers[i % self.heat_readers.len()]));
            Self::run_on(conn, move |c| heatmap::count(c, &q, part))
        });
        let all = all_at_once(counts.collect());
        Box::pin(async move { Ok(heatmap::combine(all.await?)) })
    }

    fn heatmap_pages(&self, site_id: u32) -> StoreFuture<'_, super::HeatPages> {
        self.read(move |conn| heatmap::pages(conn, site_id))
    }

    fn stats_counts<'a>(&'a self, query: &'a StatsQuery) -> StoreFuture<'a, Counts> {
        let query = query.clone();
        self.read(move |conn| stats::counts(conn, &query))
    }

    fn stats_breakdown<'a>(&'a self, query: &'a StatsQuery) -> StoreFuture<'a, Breakdown> {
        let query = query.clone();
        self.read(move |conn| stats::breakdown(conn, &query))
    }

    fn order_ids<'a>(&'a self, query: &'a StatsQuery) -> StoreFuture<'a, Vec<String>> {
        let query = query.clone();
        self.read(move |conn| stats::order_ids(conn, &query))
    }

    fn expire<'a>(&'a self, plan: &'a Plan) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            // Sites no project names keep what the longest retention keeps.
            let mut targets = plan.sites.clone();
            if let Some(oldest) = plan.oldest_cutoff_ms {
                let known: Vec<u32> = targets.iter().map(|(s, _)| *s).collect();
                let sites = self.run(|c| retention::sites(c)).await?;
                targets.extend(sites.into_iter().filter(|s| !known.contains(s)).map(|s| (s, oldest)));
            }
            let mut expired = 0;
            for (site, cutoff) in targets {
                loop {
                    let (events, more) = self.run(move |c| retention::expire_chunk(c, site, cutoff)).await?;
                    expired += events;
                    if !more {
                        break;
                    }
                }
                self.run(move |c| retention::expire_derived(c, site, cutoff)).await?;
            }
            Ok(expired)
        })
    }
}

/// Deletes the events matching `filter` (over `site_id` and `visitor_id`) and
/// their dashboard and heatmap rows in one transaction; returns how many events
/// went.
fn delete_where(
    conn: &mut Connection,
    filter: &str,
    args: Vec<rusqlite::types::Value>,
) -> Result<u64, StoreError> {
    let tx = conn.transaction()?;
    let deleted = tx.execute(&format!("DELETE FROM events WHERE {filter}"), params_from_iter(args.iter()))?;
    for table in std::iter::once("traffic").chain(heat_rows::TABLES) {
        tx.execute(&format!("DELETE FROM {table} WHERE {filter}"), params_from_iter(args.iter()))?;
    }
    tx.commit()?;
    Ok(deleted as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_database_gets_the_large_pages_and_wal() {
        let dir = std::env::temp_dir().join(format!("lummmen-sqlite-pages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = SqliteStore::open(&dir).expect("open");
        let conn = store.conn.lock().expect("lock");
        let page_size: u32 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page_size");
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
        assert_eq!((page_size, mode.as_str()), (PAGE_SIZE, "wal"));
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn heatmap_queries_read_a_range_of_the_key() {
        let dir = std::env::temp_dir().join(format!("lummmen-sqlite-plans-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = SqliteStore::open(&dir).expect("open");
        let conn = store.conn.lock().expect("lock");
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).expect("explain");
            let rows = stmt.query_map([], |r| r.get::<_, String>(3)).expect("plan");
            rows.map(|r| r.expect("row")).collect::<Vec<_>>().join("; ")
        };
        let one_path = "SELECT COUNT(*) FROM heat_clicks WHERE site_id = 1 AND bucket = 2 AND grp = 1
                        AND path = '/products/a' AND time >= 0 AND time < 9";
        let p = plan(one_path);
        assert!(
            p.contains(
                "USING PRIMARY KEY (site_id=? AND bucket=? AND grp=? AND path=? AND time>? AND time<?)"
            ),
            "{p}"
        );
        let group = "SELECT COUNT(*) FROM heat_views WHERE site_id = 1 AND bucket = 2 AND grp = 1
                     AND time >= 0 AND time < 9";
        let p = plan(group);
        assert!(p.contains("USING PRIMARY KEY (site_id=? AND bucket=? AND grp=?)"), "{p}");
        drop(conn);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
