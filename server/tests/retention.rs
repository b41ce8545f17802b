//! Retention removes exactly the expired months, in SQLite and in ClickHouse:
//! site 1 keeps the default 13 months, site 2 keeps 3, site 3 has no project
//! (it keeps what the longest retention keeps). On 2 December 2026, months
//! before November 2025 go for everyone, months before September 2026 for
//! site 2; the dashboard's rows go with their events. The same on a
//! cluster of two shards.

mod common;

use std::sync::Arc;

use common::*;
use lummmen_server::projects::{Project, ProjectStore};
use lummmen_server::store::clickhouse::ClickHouseStore;
use lummmen_server::store::rows::rows_from_batch;
use lummmen_server::store::sqlite::SqliteStore;
use lummmen_server::store::{EventStore, RowSource};
use protocol::Batch;
use serde_json::json;

/// Midnight UTC of a day, in milliseconds.
fn day(y: i32, m: u32, d: u32) -> u64 {
    let date = jiff::civil::date(y as i16, m as i8, d as i8);
    let ms = date.to_zoned_datetime(jiff::tz::TimeZone::UTC).expect("date").timestamp().as_millisecond();
    u64::try_from(ms).expect("after 1970")
}

/// (site, month as YYYYMM, first day of it): one visitor per cell, three page views each.
const CELLS: [(u32, u32); 9] = [
    (1, 202509),
    (1, 202511),
    (1, 202608),
    (2, 202511),
    (2, 202608),
    (2, 202609),
    (2, 202612),
    (3, 202509),
    (3, 202601),
];

fn visitor(site: u32, month: u32) -> String {
    format!("{:08x}{:08x}", site, month)
}

fn batch(n: usize, site: u32, month: u32) -> Batch {
    let t = day((month / 100) as i32, month % 100, 1) + 3_600_000;
    let events: Vec<_> = (0..3u64)
        .map(|i| {
            json!({"k": "pv", "t": t + i * 1000, "u": format!("https://s.example/p{i}"), "r": "",
                   "vw": 1280, "vh": 700, "sw": 1280, "sh": 800})
        })
        .collect();
    serde_json::from_value(json!({"s": site, "v": visitor(site, month), "b": format!("{:016x}", 0xb0 + n),
        "t": t + 5000, "ss": format!("{:016x}", 0x55 + n), "pv": format!("{:016x}", 0x99 + n), "e": events}))
    .expect("batch")
}

async fn scenario(store: Arc<dyn EventStore>, dir: &std::path::Path) {
    let projects = ProjectStore::open(dir).expect("projects");
    for id in [1, 2] {
        projects
            .upsert(&Project { id, name: format!("P{id}"), sample: 100, shops: vec![] })
            .expect("project");
    }
    projects.set_retention_months(2, 3).expect("retention");
    let projects_meta = lummmen_server::meta::sqlite::SqliteMeta::open(dir).expect("metadata");
    assert!(projects.set_retention_months(2, 0).is_err(), "at least a month");
    let rows: Vec<_> =
        CELLS.iter().enumerate().flat_map(|(n, (s, m))| rows_from_batch(&batch(n, *s, *m), None)).collect();
    store.insert(Arc::new(rows) as Arc<dyn RowSource>).await.expect("insert");

    let now = day(2026, 12, 2) as i64 + 7_200_000;
    let expired =
        lummmen_server::retention::run(&projects_meta, store.as_ref(), now).await.expect("retention");
    let gone = [(1, 202509), (2, 202511), (2, 202608), (3, 202509)];
    assert_eq!(expired, 3 * gone.len() as u64);
    for (site, month) in CELLS {
        let left = store.events_for_visitor(site, &visitor(site, month)).await.expect("events").len();
        let expected = if gone.contains(&(site, month)) { 0 } else { 3 };
        assert_eq!(left, expected, "site {site}, month {month}");
    }
    // The dashboard's rows went with them.
    let window = |from: u64, to: u64| lummmen_server::store::StatsQuery {
        site_id: 2,
        window: lummmen_server::stats::range::Window {
            start_ms: from as i64,
            end_ms: to as i64,
            offsets: lummmen_server::stats::range::Offsets { first: 0, changes: vec![] },
        },
    };
    let before = store.stats_counts(&window(day(2025, 1, 1), day(2026, 9, 1))).await.expect("stats");
    assert_eq!((before.visitors, before.pageviews), (0, 0));
    let after = store.stats_counts(&window(day(2026, 9, 1), day(2027, 1, 1))).await.expect("stats");
    assert_eq!((after.visitors, after.pageviews), (2, 6));
    // A second pass finds nothing more.
    assert_eq!(lummmen_server::retention::run(&projects_meta, store.as_ref(), now).await.expect("again"), 0);
}

#[tokio::test]
async fn retention_removes_exactly_the_expired_months_in_sqlite() {
    let dir = TempDir::new("retention-sqlite");
    let store: Arc<dyn EventStore> = Arc::new(SqliteStore::open(&dir.0).expect("store"));
    scenario(store, &dir.0).await;
}

#[tokio::test]
async fn retention_removes_exactly_the_expired_months_in_clickhouse() {
    let dir = TempDir::new("retention-clickhouse");
    let store = ClickHouseStore::connect(&clickhouse_url(), &unique_database("retention"), None, None)
        .await
        .expect("store");
    scenario(Arc::new(store), &dir.0).await;
}

/// The same on the two shards of a cluster: months are dropped and rows
/// deleted on each shard's own tables, which a `Distributed` table does not
/// reach (README, "ClickHouse cluster").
#[tokio::test]
async fn retention_removes_exactly_the_expired_months_on_a_clickhouse_cluster() {
    let Some(shards) = TestShards::get() else { return };
    let dir = TempDir::new("retention-cluster");
    let db = unique_database("retention_cluster");
    let store = ClickHouseStore::connect_cluster(&shards.urls[0], &db, None, None, &shards.layout())
        .await
        .expect("store");
    scenario(Arc::new(store), &dir.0).await;
    for url in &shards.urls {
        drop_database(url, &db).await;
    }
}
