//! ClickHouse store, for scale. The schema and queries keep to what both Debian's
//! ClickHouse 18.16 and a current ClickHouse accept: no DateTime64 (times are
//! UInt64 milliseconds), no Bool (UInt8), no Map/JSON columns, no TTL, and the
//! client runs with `.with_validation(false)` because 18.16 lacks
//! `RowBinaryWithNamesAndTypes`, so Rust field types match column types exactly.
//!
//! Tables (see [`schema`]): `events` sorted by `(site_id, visitor_id, event_id)`
//! serves per-visitor reads, exports and deletes; `traffic` the dashboard
//! ([`stats`]); `heat_clicks`, `heat_moves` and `heat_views` heatmaps
//! ([`heat_rows`], [`heatmap`]). All are `ReplacingMergeTree`: replays of the
//! same event collapse in merges, and reads deduplicate until then (`FINAL`,
//! or counts of distinct events).
//!
//! On one server or on the shards of a cluster ([`cluster`]): the queries are
//! the same, through `Distributed` tables on a cluster; what must reach every
//! shard's own tables (DDL, deletes, retention) goes through [`Layout`].

use std::sync::Arc;
use std::time::Duration;

use ::clickhouse::{Client, Row};
use protocol::Kind;
use serde::{Deserialize, Serialize};

mod cluster;
mod heat_rows;
mod heatmap;
mod retention;
mod schema;
mod stats;

use self::cluster::Layout;
pub use self::cluster::{Cluster, DEFAULT_INSERT_TIMEOUT_SECS};
use crate::store::traffic::{event_key, hex_id, kind_code, Traffic};
use crate::store::{stored_event, EventStore, PageContext, RowSource, StoreError, StoreFuture, StoredEvent};

/// How long a delete waits for ClickHouse's asynchronous mutation to finish.
const MUTATION_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Row, Serialize)]
struct EventOut<'a> {
    event_id: &'a str,
    site_id: u32,
    visitor_id: &'a str,
    session_id: &'a str,
    page_view_id: &'a str,
    kind: &'a str,
    time: u64,
    url: &'a str,
    order_id: &'a str,
    customer_id: &'a str,
    json: &'a str,
}

#[derive(Debug, Row, Serialize)]
struct TrafficOut<'a> {
    site_id: u32,
    kind: i8,
    time: u64,
    event: u64,
    visitor: u64,
    session: u64,
    path: &'a str,
    source: &'a str,
    viewport_width: u32,
    product_id: &'a str,
    product_name: &'a str,
    order_id: &'a str,
    total: f64,
    currency: &'a str,
}

impl<'a> TrafficOut<'a> {
    /// The row of an event: its envelope's ids as numbers, its dashboard columns.
    #[allow(clippy::too_many_arguments)]
    fn new(
        site_id: u32,
        time: u64,
        event_id: &str,
        visitor_id: &str,
        session_id: &str,
        order_id: &'a str,
        t: &'a Traffic,
    ) -> Self {
        Self {
            site_id,
            kind: kind_code(t.kind),
            time,
            event: event_key(event_id),
            visitor: hex_id(visitor_id),
            session: hex_id(session_id),
            path: &t.path,
            source: &t.source,
            viewport_width: t.viewport_width,
            product_id: &t.product_id,
            product_name: &t.product_name,
            order_id,
            total: t.total,
            currency: &t.currency,
        }
    }
}

#[derive(Debug, Row, Deserialize)]
struct BackfillIn {
    site_id: u32,
    time: u64,
    event_id: String,
    visitor_id: String,
    session_id: String,
    order_id: String,
    json: String,
}

#[derive(Debug, Row, Deserialize)]
struct StoredIn {
    event_id: String,
    site_id: u32,
    visitor_id: String,
    session_id: String,
    page_view_id: String,
    json: String,
}

/// ClickHouse-backed [`EventStore`].
#[derive(Clone)]
pub struct ClickHouseStore {
    client: Client,
    /// Without a default database, for `CREATE DATABASE`.
    base: Client,
    database: String,
    /// Where the rows are: this server's tables, or a cluster's shards.
    layout: Layout,
    schema: Arc<tokio::sync::OnceCell<()>>,
}

impl std::fmt::Debug for ClickHouseStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClickHouseStore")
            .field("database", &self.database)
            .field("cluster", &self.layout.cluster())
            .finish_non_exhaustive()
    }
}

impl ClickHouseStore {
    /// Connects to one server, creates the database and tables when missing.
    pub async fn connect(
        url: &str,
        database: &str,
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<Self, StoreError> {
        Self::open(url, database, user, password, None).await
    }

    /// Connects to `url`, a server that knows `cluster` (one of its shards,
    /// or a server in front of them); creates the database and the tables on
    /// every shard when missing (see [`cluster`]).
    pub async fn connect_cluster(
        url: &str,
        database: &str,
        user: Option<&str>,
        password: Option<&str>,
        cluster: &Cluster,
    ) -> Result<Self, StoreError> {
        Self::open(url, database, user, password, Some(cluster)).await
    }

    async fn open(
        url: &str,
        database: &str,
        user: Option<&str>,
        password: Option<&str>,
        cluster: Option<&Cluster>,
    ) -> Result<Self, StoreError> {
        let client_at = |url: &str| {
            let mut c = Client::default().with_url(url).with_validation(false);
            if let Some(user) = user {
                c = c.with_user(user);
            }
            if let Some(password) = password {
                c = c.with_password(password);
            }
            c
        };
        if !database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') || database.is_empty() {
            return Err(StoreError::Other(format!("invalid ClickHouse database name {database:?}")));
        }
        let mut base = client_at(url);
        if let Some(cluster) = cluster {
            // An insert into a Distributed table returns once every shard has
            // its rows, not when they are queued on this server: the spool
            // forgets a batch as soon as the insert returns.
            //
            // A shard that hangs (its connections taken, nothing answered)
            // fails the insert after the cluster's timeout instead of holding
            // it. `insert_distributed_timeout` alone does not: 18.16 checks it
            // only once every shard has answered. The wait for a shard is the
            // server's `receive_timeout` (and `send_timeout`), 300 s by
            // default, which a connection to a shard keeps from the query that
            // opened it: so every query of the store sets them, not only
            // inserts (README, "ClickHouse cluster").
            let secs = cluster.insert_timeout_secs().to_string();
            base = base
                .with_setting("insert_distributed_sync", "1")
                .with_setting("insert_distributed_timeout", &secs)
                .with_setting("receive_timeout", &secs)
                .with_setting("send_timeout", secs);
        }
        let client = base.clone().with_database(database);
        let layout = match cluster {
            Some(cluster) => Layout::sharded(cluster, database, client_at),
            None => Layout::single(url, &base, &client),
        };
        let store = Self { client, base, database: database.to_string(), layout, schema: Arc::default() };
        // ClickHouse may be down at start: the server still starts, spools, and
        // the first insert that reaches ClickHouse creates the schema. A
        // cluster that is not the one configured is an error of its own.
        match store.ensure_schema().await {
            Err(e @ StoreError::Layout(_)) => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "ClickHouse unreachable at start; batches are spooled until it answers");
            }
            Ok(()) => {}
        }
        Ok(store)
    }

    /// Creates the database and tables once per process, when missing.
    async fn ensure_schema(&self) -> Result<(), StoreError> {
        self.schema
            .get_or_try_init(|| async {
                let created = schema::create(&self.base, &self.client, &self.database, &self.layout).await?;
                if created.traffic {
                    self.backfill_traffic().await?;
                }
                if created.heat {
                    heat_rows::backfill(&self.client).await?;
                }
                schema::drop_old(&self.client).await?;
                Ok::<_, StoreError>(())
            })
            .await
            .map(|_| ())
    }

    /// Fills `traffic` from the events stored before it existed, streamed as
    /// stored: neither sorted nor `FINAL`, which would hold them all. Parts are
    /// sorted by visitor, then event id, so a batch's events come together
    /// (see [`crate::store::traffic::Backfill`]); a replay not merged yet gives
    /// rows with the same key, which merges collapse and reads count once.
    /// Inserts wait meanwhile (the schema is not ready), the spool holds them.
    async fn backfill_traffic(&self) -> Result<(), StoreError> {
        let mut cursor = self
            .client
            .query("SELECT site_id, time, event_id, visitor_id, session_id, order_id, json FROM events")
            .fetch::<BackfillIn>()?;
        let mut insert = self.client.insert::<TrafficOut<'static>>("traffic").await?;
        let mut backfill = crate::store::traffic::Backfill::default();
        let mut filled = 0u64;
        while let Some(e) = cursor.next().await? {
            let Some(t) = backfill.row(&e.event_id, &e.json) else { continue };
            let row = TrafficOut::new(
                e.site_id,
                e.time,
                &e.event_id,
                &e.visitor_id,
                &e.session_id,
                &e.order_id,
                &t,
            );
            insert.write(&row).await?;
            filled += 1;
        }
        insert.end().await?;
        if filled > 0 {
            tracing::info!(rows = filled, "filled the dashboard's table from the events stored before it");
        }
        Ok(())
    }

    async fn read_stored(
        &self,
        sql: &str,
        bind: impl FnOnce(::clickhouse::query::Query) -> ::clickhouse::query::Query,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<StoredIn> = bind(self.client.query(sql)).fetch_all().await?;
        rows.into_iter()
            .map(|r| stored_event(r.event_id, r.site_id, r.visitor_id, r.session_id, r.page_view_id, &r.json))
            .collect()
    }

    /// Waits until no mutation of our tables is pending on any node: `ALTER
    /// TABLE ... DELETE` returns before the rows are gone.
    async fn wait_for_mutations(&self) -> Result<(), StoreError> {
        let deadline = tokio::time::Instant::now() + MUTATION_TIMEOUT;
        let tables: Vec<String> = schema::TABLES.iter().map(|t| self.layout.local(t)).collect();
        loop {
            let mut pending = 0u64;
            for node in self.layout.nodes() {
                pending += node
                    .client
                    .query(
                        "SELECT count() FROM system.mutations
                         WHERE database = ? AND has(?, table) AND is_done = 0",
                    )
                    .bind(&self.database)
                    .bind(tables.as_slice())
                    .fetch_one::<u64>()
                    .await?;
            }
            if pending == 0 {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                return Err(StoreError::Other(format!(
                    "{pending} ClickHouse deletes still running after {MUTATION_TIMEOUT:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Counts, then deletes the rows of `sites` (of `visitors` in them, when
    /// given) from every table on every node, and waits until gone.
    async fn delete_where(&self, sites: &[u32], visitors: Option<&[String]>) -> Result<u64, StoreError> {
        let numbers: Vec<u64> = visitors.unwrap_or_default().iter().map(|v| hex_id(v)).collect();
        let query = |client: &Client, table: &str, sql: String| {
            let q = client.query(&sql).bind(sites);
            match visitors {
                Some(v) if table == "events" => q.bind(v),
                Some(_) => q.bind(numbers.as_slice()),
                None => q,
            }
        };
        let filter = |table: &str| match visitors {
            Some(_) => format!("has(?, site_id) AND has(?, {})", schema::visitor_column(table)),
            None => "has(?, site_id)".to_string(),
        };
        let count: u64 = query(
            &self.client,
            "events",
            format!("SELECT count() FROM events FINAL WHERE {}", filter("events")),
        )
        .fetch_one()
        .await?;
        for node in self.layout.nodes() {
            for table in schema::TABLES {
                let sql = format!("ALTER TABLE {} DELETE WHERE {}", self.layout.local(table), filter(table));
                query(&node.client, table, sql).execute().await?;
            }
        }
        self.wait_for_mutations().await?;
        Ok(count)
    }
}

impl EventStore for ClickHouseStore {
    fn name(&self) -> &'static str {
        "clickhouse"
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let _: u8 = self.client.query("SELECT 1").fetch_one().await?;
            Ok(())
        })
    }

    fn insert(&self, rows: Arc<dyn RowSource>) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.ensure_schema().await?;
            // One pass over the rows, streaming into every table at once: the
            // rows are made as they are written, never all held together. The
            // inserts of the other tables start with their first row.
            let mut events = self.client.insert::<EventOut<'static>>("events").await?;
            let mut heat = heat_rows::HeatWriter::new(&self.client);
            let mut traffic = None;
            for r in rows.rows() {
                events
                    .write(&EventOut {
                        event_id: &r.event_id,
                        site_id: r.site_id,
                        visitor_id: &r.visitor_id,
                        session_id: &r.session_id,
                        page_view_id: &r.page_view_id,
                        kind: r.kind,
                        time: r.time,
                        url: &r.url,
                        order_id: &r.order_id,
                        customer_id: &r.customer_id,
                        json: &r.json,
                    })
                    .await?;
                if let Some(t) = &r.traffic {
                    let traffic = match &mut traffic {
                        Some(insert) => insert,
                        None => traffic.insert(self.client.insert::<TrafficOut<'static>>("traffic").await?),
                    };
                    let row = TrafficOut::new(
                        r.site_id,
                        r.time,
                        &r.event_id,
                        &r.visitor_id,
                        &r.session_id,
                        &r.order_id,
                        t,
                    );
                    traffic.write(&row).await?;
                }
                if let Some(h) = &r.heat {
                    heat.write(r.carrier(), h).await?;
                }
            }
            // Everything is written: the rows' source is let go before
            // ClickHouse sorts and writes its parts, which takes longer than
            // sending them, so a caller can prepare the next insert meanwhile.
            drop(rows);
            events.end().await?;
            heat.end().await?;
            if let Some(traffic) = traffic {
                traffic.end().await?;
            }
            Ok(())
        })
    }

    fn page_context<'a>(
        &'a self,
        site_id: u32,
        visitor_id: &'a str,
        page_view_id: &'a str,
    ) -> StoreFuture<'a, Option<PageContext>> {
        Box::pin(async move {
            let json: Option<String> = self
                .client
                .query(
                    "SELECT json FROM events WHERE site_id = ? AND visitor_id = ? AND page_view_id = ? AND kind = ?
                     LIMIT 1",
                )
                .bind(site_id)
                .bind(visitor_id)
                .bind(page_view_id)
                .bind(Kind::PageView.as_str())
                .fetch_optional()
                .await?;
            Ok(json.and_then(|j| PageContext::from_page_view_json(&j)))
        })
    }

    fn events_for_visitor<'a>(
        &'a self,
        site_id: u32,
        visitor_id: &'a str,
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        Box::pin(async move {
            self.read_stored(
                "SELECT ?fields FROM events FINAL WHERE site_id = ? AND visitor_id = ? ORDER BY time, event_id",
                |q| q.bind(site_id).bind(visitor_id),
            )
            .await
        })
    }

    fn count_events(&self, site_id: u32) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            Ok(self
                .client
                .query("SELECT count() FROM events FINAL WHERE site_id = ?")
                .bind(site_id)
                .fetch_one()
                .await?)
        })
    }

    fn last_event_ms(&self, site_id: u32) -> StoreFuture<'_, Option<u64>> {
        Box::pin(async move {
            // max() of no rows is 0 in ClickHouse: no event has time 0.
            let t: u64 = self
                .client
                .query("SELECT max(time) FROM events WHERE site_id = ?")
                .bind(site_id)
                .fetch_one()
                .await?;
            Ok((t > 0).then_some(t))
        })
    }

    fn visitors_for<'a>(
        &'a self,
        site_ids: &'a [u32],
        customer_id: Option<&'a str>,
        order_ids: &'a [String],
    ) -> StoreFuture<'a, Vec<String>> {
        Box::pin(async move {
            if site_ids.is_empty() || (customer_id.is_none() && order_ids.is_empty()) {
                return Ok(Vec::new());
            }
            let mut ors = Vec::new();
            if customer_id.is_some() {
                ors.push("customer_id = ?");
            }
            if !order_ids.is_empty() {
                ors.push("has(?, order_id)");
            }
            let sql = format!(
                "SELECT DISTINCT visitor_id FROM events WHERE has(?, site_id) AND kind = ? AND ({})
                 ORDER BY visitor_id",
                ors.join(" OR ")
            );
            let mut q = self.client.query(&sql).bind(site_ids).bind(Kind::CheckoutCompleted.as_str());
            if let Some(c) = customer_id {
                q = q.bind(c);
            }
            if !order_ids.is_empty() {
                q = q.bind(order_ids);
            }
            Ok(q.fetch_all::<String>().await?)
        })
    }

    fn export_visitors<'a>(
        &'a self,
        site_ids: &'a [u32],
        visitors: &'a [String],
    ) -> StoreFuture<'a, Vec<StoredEvent>> {
        Box::pin(async move {
            if site_ids.is_empty() || visitors.is_empty() {
                return Ok(Vec::new());
            }
            self.read_stored(
                "SELECT ?fields FROM events FINAL WHERE has(?, site_id) AND has(?, visitor_id) ORDER BY time, event_id",
                |q| q.bind(site_ids).bind(visitors),
            )
            .await
        })
    }

    fn delete_visitors<'a>(&'a self, site_ids: &'a [u32], visitors: &'a [String]) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            if site_ids.is_empty() || visitors.is_empty() {
                return Ok(0);
            }
            self.delete_where(site_ids, Some(visitors)).await
        })
    }

    fn delete_sites<'a>(&'a self, site_ids: &'a [u32]) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            if site_ids.is_empty() {
                return Ok(0);
            }
            self.delete_where(site_ids, None).await
        })
    }

    fn heatmap<'a>(&'a self, query: &'a super::HeatmapQuery) -> StoreFuture<'a, super::HeatCounts> {
        Box::pin(heatmap::heatmap(&self.client, query))
    }

    fn heatmap_pages(&self, site_id: u32) -> StoreFuture<'_, super::HeatPages> {
        Box::pin(heatmap::pages(&self.client, site_id))
    }

    fn stats_counts<'a>(&'a self, query: &'a super::StatsQuery) -> StoreFuture<'a, super::Counts> {
        Box::pin(stats::counts(&self.client, query))
    }

    fn stats_breakdown<'a>(&'a self, query: &'a super::StatsQuery) -> StoreFuture<'a, super::Breakdown> {
        Box::pin(stats::breakdown(&self.client, query))
    }

    fn order_ids<'a>(&'a self, query: &'a super::StatsQuery) -> StoreFuture<'a, Vec<String>> {
        Box::pin(stats::order_ids(&self.client, query))
    }

    fn expire<'a>(&'a self, plan: &'a crate::retention::Plan) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            self.ensure_schema().await?;
            let mut expired =
                retention::drop_months(&self.client, &self.layout, &self.database, plan).await?;
            let mut deleting = false;
            for (site, cutoff) in &plan.sites {
                let n = retention::expired_of_site(&self.client, *site, *cutoff).await?;
                if n > 0 {
                    retention::delete_site_before(&self.layout, *site, *cutoff).await?;
                    expired += n;
                    deleting = true;
                }
            }
            if deleting {
                self.wait_for_mutations().await?;
            }
            Ok(expired)
        })
    }
}
