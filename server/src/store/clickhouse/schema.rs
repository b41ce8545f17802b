//! The ClickHouse tables, created when missing: `events` sorted by
//! `(site_id, visitor_id, event_id)` for per-visitor reads, exports and deletes;
//! `traffic` sorted by `(site_id, kind, time, event)` for the dashboard; the
//! heatmap's `heat_clicks`, `heat_moves` and `heat_views` sorted by
//! `(site_id, bucket, grp, page, time, ...)` (see [`super::heat_rows`]). All
//! `ReplacingMergeTree` with the event id last in the sorting key, so replays
//! collapse; partitioned by month.
//!
//! The first heatmap's `clicks` table, sorted by full URL, is dropped once the
//! heatmap's tables are filled: everything in it is also in `events`.

use std::sync::LazyLock;

use ::clickhouse::Client;

use crate::store::traffic::{kind_code, KINDS};
use crate::store::StoreError;

const EVENTS_TABLE: &str = "CREATE TABLE IF NOT EXISTS events (
    event_id String, site_id UInt32, visitor_id String, session_id String, page_view_id String,
    kind String, time UInt64, url String, order_id String, customer_id String, json String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, visitor_id, event_id)";

/// The heatmap's tables (see [`super::heat_rows`]). One path in one bucket
/// over a range is one range of the key, a template group one range too. The
/// key holds the path as a number (`page`, see
/// [`crate::store::heatmap::path_key`]), the text beside it: `FINAL` merges
/// by the key, and numbers compare faster.
/// Ids are numbers as in `traffic`, and so is a click's selector (`sel`, next
/// to its text) and its bin inside the element (`bin`, see
/// [`crate::store::heatmap::bin_of`]); `rx`/`ry` are -1 and `bin` 65535 for a
/// click without a relative position (18.16's `Nullable` costs a column of its
/// own).
const HEAT_TABLES: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS heat_clicks (
    site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, event UInt64, visitor UInt64,
    x Int32, y Int32, rx Int16, ry Int16, bin UInt16, selector String, sel UInt64, rage UInt8, dead UInt8
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, bucket, grp, page, time, event)",
    "CREATE TABLE IF NOT EXISTS heat_moves (
    site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, event UInt64, visitor UInt64,
    xs Array(Int32), ys Array(Int32)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, bucket, grp, page, time, event)",
    "CREATE TABLE IF NOT EXISTS heat_views (
    site_id UInt32, bucket UInt8, grp UInt8, page UInt64, path String, time UInt64, page_view UInt64,
    event UInt64, visitor UInt64, depth UInt8, doc_width UInt32, doc_height UInt32
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, bucket, grp, page, time, page_view, event)",
];

/// The dashboard's rows (see [`crate::store::traffic`]), sorted by kind, then
/// time: a query of page views or of checkouts over a date range reads only
/// those rows, in one contiguous range of the key. Ids are numbers (`event` is
/// the event id's [`event_key`](crate::store::traffic::event_key), `visitor`
/// and `session` the hex ids' values) and the kind an `Enum8`: counting,
/// grouping and filtering them takes about half the time strings take
/// (docs/perf-log.md). Reads count distinct `event`s instead of reading
/// `FINAL`, so replays not yet merged never count twice.
static TRAFFIC_TABLE: LazyLock<String> = LazyLock::new(|| {
    let kinds: Vec<String> = KINDS.iter().map(|k| format!("'{k}' = {}", kind_code(k))).collect();
    format!(
        "CREATE TABLE IF NOT EXISTS traffic (
    site_id UInt32, kind Enum8({}), time UInt64, event UInt64, visitor UInt64, session UInt64,
    path String, source String, viewport_width UInt32, product_id String, product_name String,
    order_id String, total Float64, currency String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, kind, time, event)",
        kinds.join(", ")
    )
});

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
/// (through `client`, which names the database).
pub async fn create(base: &Client, client: &Client, database: &str) -> Result<Created, StoreError> {
    base.query(&format!("CREATE DATABASE IF NOT EXISTS {database}")).execute().await?;
    let exists = |table: &'static str| async move {
        client.query(&format!("EXISTS TABLE {table}")).fetch_one::<u8>().await.map(|n| n == 1)
    };
    let had_events = exists("events").await?;
    let had_traffic = exists("traffic").await?;
    let had_heat = exists("heat_views").await?;
    client.query(EVENTS_TABLE).execute().await?;
    client.query(&TRAFFIC_TABLE).execute().await?;
    for table in HEAT_TABLES {
        client.query(table).execute().await?;
    }
    Ok(Created { traffic: had_events && !had_traffic, heat: had_events && !had_heat })
}

/// Drops the first heatmap's table, once the heatmap's own are filled.
pub async fn drop_old(client: &Client) -> Result<(), StoreError> {
    client.query("DROP TABLE IF EXISTS clicks").execute().await?;
    Ok(())
}
