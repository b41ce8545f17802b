//! The ClickHouse tables, created when missing: `events` sorted by
//! `(site_id, visitor_id, event_id)` for per-visitor reads, exports and deletes;
//! `traffic` sorted by `(site_id, kind, time, event)` for the dashboard; the
//! heatmap's `heat_clicks`, `heat_moves` and `heat_views` sorted by
//! `(site_id, bucket, grp, page, time, ...)` (see [`super::heat_rows`]). All
//! `ReplacingMergeTree` with the event id last in the sorting key, so replays
//! collapse; partitioned by month.
//!
//! On a cluster ([`super::cluster`]) each is a local table `<name>_local` on
//! every shard under a `Distributed` table of its own name, sharded by a hash
//! of the event id: a replay lands on the shard that holds the first copy,
//! where merges, `FINAL` and counts of distinct events drop it as on one
//! server. Queries and inserts name the tables as on one server.
//!
//! The first heatmap's `clicks` table, sorted by full URL, is dropped once the
//! heatmap's tables are filled: everything in it is also in `events`.

use std::sync::LazyLock;

use ::clickhouse::Client;

use super::cluster::Layout;
use crate::store::traffic::{kind_code, KINDS};
use crate::store::StoreError;

/// One of our tables: its columns, its sorting key, and on a cluster the
/// expression that picks a row's shard.
struct Table {
    name: &'static str,
    columns: String,
    order_by: &'static str,
    /// A hash of the event id: the same event always goes to the same shard.
    shard_key: &'static str,
}

impl Table {
    fn new(name: &'static str, columns: &str, order_by: &'static str, shard_key: &'static str) -> Self {
        Self { name, columns: columns.to_string(), order_by, shard_key }
    }

    /// The table that stores the rows, as `name`, with `engine` (a
    /// `ReplacingMergeTree`, replicated or not).
    fn merge_tree(&self, name: &str, engine: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {name} ({}) ENGINE = {engine}
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY ({})",
            self.columns, self.order_by
        )
    }

    /// The table over every shard's `local` table.
    fn distributed(&self, cluster: &str, database: &str, local: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({}) ENGINE = Distributed('{cluster}', '{database}', '{local}', {})",
            self.name, self.columns, self.shard_key
        )
    }
}

/// Every table, in the order they are created.
static SCHEMA: LazyLock<[Table; 5]> = LazyLock::new(|| {
    [
        Table::new(
            "events",
            "event_id String, site_id UInt32, visitor_id String, session_id String, page_view_id String,
    kind String, time UInt64, url String, order_id String, customer_id String, json String",
            "site_id, visitor_id, event_id",
            "cityHash64(event_id)",
        ),
        Table::new("traffic", &traffic_columns(), "site_id, kind, time, event", "intHash64(event)"),
        // The heatmap's tables (see [`super::heat_rows`]). One path in one
        // bucket over a range is one range of the key, a template group one
        // range too. The key holds the path as a number (`page`, see
        // [`crate::store::heatmap::path_key`]), the text beside it: `FINAL`
        // merges by the key, and numbers compare faster. Ids are numbers as in
        // `traffic`, and so is a click's selector (`sel`, next to its text) and
        // its bin inside the element (`bin`, see
        // [`crate::store::heatmap::bin_of`]); `rx`/`ry` are -1 and `bin` 65535
        // for a click without a relative position (18.16's `Nullable` costs a
        // column of its own).
        Table::new(
            "heat_clicks",
            "site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, event UInt64, visitor UInt64,
    x Int32, y Int32, rx Int16, ry Int16, bin UInt16, selector String, sel UInt64, rage UInt8, dead UInt8",
            "site_id, bucket, grp, page, time, event",
            "intHash64(event)",
        ),
        Table::new(
            "heat_moves",
            "site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, event UInt64, visitor UInt64,
    xs Array(Int32), ys Array(Int32)",
            "site_id, bucket, grp, page, time, event",
            "intHash64(event)",
        ),
        Table::new(
            "heat_views",
            "site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, page_view UInt64,
    event UInt64, visitor UInt64, depth UInt8, doc_width UInt32, doc_height UInt32",
            "site_id, bucket, grp, page, time, page_view, event",
            "intHash64(event)",
        ),
    ]
});

/// The dashboard's rows (see [`crate::store::traffic`]), sorted by kind, then
/// time: a query of page views or of checkouts over a date range reads only
/// those rows, in one contiguous range of the key. Ids are numbers (`event` is
/// the event id's [`event_key`](crate::store::traffic::event_key), `visitor`
/// and `session` the hex ids' values) and the kind an `Enum8`: counting,
/// grouping and filtering them takes about half the time strings take
/// (docs/perf-log.md). Reads count distinct `event`s instead of reading
/// `FINAL`, so replays not yet merged never count twice.
fn traffic_columns() -> String {
    let kinds: Vec<String> = KINDS.iter().map(|k| format!("'{k}' = {}", kind_code(k))).collect();
    format!(
        "site_id UInt32, kind Enum8({}), time UInt64, event UInt64, visitor UInt64, session UInt64,
    path String, source String, viewport_width UInt32, product_id String, product_name String,
    order_id String, total Float64, currency String",
        kinds.join(", ")
    )
}

/// Every table a delete of a visitor or a site must reach.
pub const TABLES: [&str; 5] = ["events", "traffic", "heat_clicks", "heat_moves", "heat_views"];

/// The column that holds a table's visitor: all but `events` have the id as a
/// number.
pub fn visitor_column(table: &str) -> &'static str {
    if table == "events" {
        "visitor_id"
    } else {
        "visitor"
    }
}

/// Which tables are new next to an existing `events`: a database from before
/// them, whose events must fill them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub traffic: bool,
    pub heat: bool,
}

/// Creates the database (through `base`, which names none) and the tables
/// (through `client`, which names the database); on a cluster, the local
/// tables on every shard and the `Distributed` ones on every shard and on the
/// server the store queries.
pub async fn create(
    base: &Client,
    client: &Client,
    database: &str,
    layout: &Layout,
) -> Result<Created, StoreError> {
    layout.check(base, database).await?;
    base.query(&format!("CREATE DATABASE IF NOT EXISTS {database}")).execute().await?;
    let exists = |table: &'static str| async move {
        client.query(&format!("EXISTS TABLE {table}")).fetch_one::<u8>().await.map(|n| n == 1)
    };
    let had_events = exists("events").await?;
    let had_traffic = exists("traffic").await?;
    let had_heat = exists("heat_views").await?;
    match layout.cluster() {
        None => {
            for table in SCHEMA.iter() {
                client
                    .query(&table.merge_tree(table.name, &layout.engine(database, table.name)))
                    .execute()
                    .await?;
            }
        }
        Some(cluster) => {
            for node in layout.nodes() {
                node.base.query(&format!("CREATE DATABASE IF NOT EXISTS {database}")).execute().await?;
                for table in SCHEMA.iter() {
                    let local = layout.local(table.name);
                    node.client
                        .query(&table.merge_tree(&local, &layout.engine(database, &local)))
                        .execute()
                        .await?;
                }
            }
            for node in layout.nodes().iter().map(|n| &n.client).chain([client]) {
                for table in SCHEMA.iter() {
                    let sql = table.distributed(cluster, database, &layout.local(table.name));
                    node.query(&sql).execute().await?;
                }
            }
        }
    }
    Ok(Created { traffic: had_events && !had_traffic, heat: had_events && !had_heat })
}

/// Drops the first heatmap's table, once the heatmap's own are filled.
pub async fn drop_old(client: &Client) -> Result<(), StoreError> {
    client.query("DROP TABLE IF EXISTS clicks").execute().await?;
    Ok(())
}
