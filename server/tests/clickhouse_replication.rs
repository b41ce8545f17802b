//! Replicated shards (README, "ClickHouse cluster"): two shards of two
//! replicas each, on four private ClickHouse servers sharing a private
//! ZooKeeper, with the store's tables made as `ReplicatedReplacingMergeTree`s
//! (`--clickhouse-replicated`). Both replicas of a shard come to hold the same
//! rows; with one replica down the store still answers the same and takes
//! inserts, and the replica catches up when it is back; a privacy delete
//! leaves nothing on any replica. Skips only when clickhouse-server or
//! ZooKeeper is not installed (`scripts/setup.sh --test` installs both).

mod support;

use std::sync::Arc;
use std::time::Duration;

use lummmen_server::store::clickhouse::{ClickHouseStore, Cluster};
use lummmen_server::store::rows::{rows_from_batch, EventRow};
use lummmen_server::store::{EventStore, StoreError};
use support::*;

const CLUSTER: &str = "lummmen_replicated";

/// Rows of `visitors` visitors, `batches` batches of six events each.
fn rows(first: u64, batches: u64, visitors: u64) -> Arc<Vec<EventRow>> {
    let mut rows = Vec::new();
    for n in first..first + batches {
        let visitor = format!("{:016x}", 0xfeed_0000 + n % visitors);
        rows.extend(rows_from_batch(&page_batch(SITE, &visitor, n, 6), None));
    }
    Arc::new(rows)
}

/// Distinct events of `visitor` (all when `None`) on one replica.
async fn events_on(url: &str, db: &str, visitor: Option<&str>) -> u64 {
    let filter = visitor.map(|v| format!(" WHERE visitor_id = '{v}'")).unwrap_or_default();
    clickhouse_number(url, &format!("SELECT uniqExact(event_id) FROM {db}.events_local{filter}")).await
}

/// Waits until both replicas of each shard hold the same events, `total` in
/// all (replication is asynchronous); answers each shard's count.
async fn replicated(urls: &[String], db: &str, total: u64) -> Vec<u64> {
    let mut last = Vec::new();
    for _ in 0..600 {
        let mut counts = Vec::new();
        for url in urls {
            counts.push(events_on(url, db, None).await);
        }
        let shards: Vec<u64> = counts.chunks(2).map(|p| p[0]).collect();
        if counts.chunks(2).all(|p| p[0] == p[1]) && shards.iter().sum::<u64>() == total {
            return shards;
        }
        last = counts;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("replicas did not come to hold the same {total} events: {last:?} (shard 1's two, then shard 2's)");
}

#[tokio::test]
async fn replicas_hold_the_same_rows_and_serve_while_one_is_down() {
    if !clickhouse_installed() || !zookeeper_installed() {
        eprintln!("skipped: clickhouse-server or zookeeper is not installed (scripts/setup.sh --test installs them)");
        return;
    }
    let zk_dir = TempDir::new("zookeeper");
    let zk = PrivateZooKeeper::start(&zk_dir.0);
    let (mut servers, _dirs) = private_replicas(CLUSTER, &zk);
    let urls: Vec<String> = servers.iter().map(PrivateClickHouse::url).collect();
    let db = unique_database("replicated");

    // A replica left out would have no tables for the rows sent to it.
    let short = Cluster::new(CLUSTER, &urls[..3]).expect("cluster").with_replication(true);
    match ClickHouseStore::connect_cluster(&urls[0], &db, None, None, &short).await {
        Err(StoreError::Layout(why)) => assert!(why.contains("every replica"), "{why}"),
        other => panic!("three of four replicas accepted: {:?}", other.map(|_| ())),
    }

    // Nor one replica named twice in its place (another name of the same
    // server).
    let mut twice = urls[..3].to_vec();
    twice.push(urls[0].replace("127.0.0.1", "localhost"));
    let twice = Cluster::new(CLUSTER, &twice).expect("cluster").with_replication(true);
    match ClickHouseStore::connect_cluster(&urls[0], &db, None, None, &twice).await {
        Err(StoreError::Layout(why)) => assert!(why.contains("again"), "{why}"),
        other => panic!("a replica named twice accepted: {:?}", other.map(|_| ())),
    }

    let cluster = Cluster::new(CLUSTER, &urls).expect("cluster").with_replication(true);
    let store = ClickHouseStore::connect_cluster(&urls[0], &db, None, None, &cluster).await.expect("connect");
    let engine = clickhouse_sql(
        &urls[3],
        &format!("SELECT engine FROM system.tables WHERE database = '{db}' AND name = 'events_local'"),
    )
    .await;
    assert_eq!(engine, "ReplicatedReplacingMergeTree");

    let first = rows(0, 40, 4);
    let mut total = first.len() as u64;
    store.insert(first.clone()).await.expect("insert");
    store.insert(first).await.expect("the same rows again, a replay");
    let shards = replicated(&urls, &db, total).await;
    assert!(shards.iter().all(|&n| n > 0), "rows on both shards: {shards:?}");
    assert_eq!(store.count_events(SITE).await.expect("count"), total);

    // Shard 2's first replica goes down: reads reach its other replica, and
    // inserts still go through.
    servers[2].kill();
    assert_eq!(store.count_events(SITE).await.expect("count with a replica down"), total);
    let second = rows(100, 40, 4);
    total += second.len() as u64;
    store.insert(second).await.expect("insert with a replica down");
    assert_eq!(store.count_events(SITE).await.expect("count"), total);

    // Back, it fetches what it missed.
    servers[2].restart();
    replicated(&urls, &db, total).await;

    // A privacy delete leaves nothing of the visitor on any replica; the
    // other visitors stay.
    let visitor = format!("{:016x}", 0xfeed_0000_u64 + 1);
    let before = store.count_events(SITE).await.expect("count");
    let deleted =
        store.delete_visitors(&[SITE], std::slice::from_ref(&visitor)).await.expect("delete visitor");
    assert!(deleted > 0);
    for url in &urls {
        assert_eq!(events_on(url, &db, Some(&visitor)).await, 0, "the visitor's events on {url}");
    }
    let after = store.count_events(SITE).await.expect("count");
    assert!(after > 0 && after < before, "{after} of {before}");
    replicated(&urls, &db, after).await;
}
