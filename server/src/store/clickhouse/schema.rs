//! The ClickHouse tables, created when missing: `events` sorted by
//! `(site_id, visitor_id, event_id)` for per-visitor reads, exports and deletes;
//! `clicks` sorted by `(site_id, url, time, event_id)` for heatmaps of one page
//! over a time range; `traffic` sorted by `(site_id, time, event_id)` for the
//! dashboard. All `ReplacingMergeTree` with the event id last in the
//! sorting key, so replays collapse; partitioned by month.

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

const CLICKS_TABLE: &str = "CREATE TABLE IF NOT EXISTS clicks (
    event_id String, site_id UInt32, visitor_id String, page_view_id String, url String, time UInt64,
    x Int32, y Int32, cx Int32, cy Int32, selector String, rage UInt8,
    viewport_width UInt32, doc_width UInt32
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(toDateTime(intDiv(time, 1000)))
ORDER BY (site_id, url, time, event_id)";

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
pub const TABLES: [&str; 3] = ["events", "clicks", "traffic"];

/// The column that holds a table's visitor: `traffic` has the id as a number.
pub fn visitor_column(table: &str) -> &'static str {
    if table == "traffic" {
        "visitor"
    } else {
        "visitor_id"
    }
}

/// Creates the database (through `base`, which names none) and the tables
/// (through `client`, which names the database). Returns whether `traffic` is
/// new next to an existing `events`: a database from before the dashboard,
/// whose events must fill it.
pub async fn create(base: &Client, client: &Client, database: &str) -> Result<bool, StoreError> {
    base.query(&format!("CREATE DATABASE IF NOT EXISTS {database}")).execute().await?;
    let exists = |table: &'static str| async move {
        client.query(&format!("EXISTS TABLE {table}")).fetch_one::<u8>().await.map(|n| n == 1)
    };
    let had_events = exists("events").await?;
    let had_traffic = exists("traffic").await?;
    client.query(EVENTS_TABLE).execute().await?;
    client.query(CLICKS_TABLE).execute().await?;
    client.query(&TRAFFIC_TABLE).execute().await?;
    Ok(had_events && !had_traffic)
}
