//! ClickHouse on a cluster of two shards answers as one server does: the same
//! batches (the dashboard's fixed data set and heatmap batches, all of them
//! posted twice, so every event is replayed in an insert of its own) go to a
//! server on one ClickHouse and to a server on the two shards; the dashboard,
//! the heatmaps, the stored events and the privacy deletes (a visitor, then a
//! site) must give the same answers on both. On the shards themselves: rows
//! are on both, no event is on two (a replay lands where its first copy is),
//! and a delete leaves no row of what it deleted on either.
//!
//! The shards are `LUMMMEN_TEST_CLICKHOUSE_SHARDS` (comma-separated HTTP URLs,
//! of cluster `LUMMMEN_TEST_CLICKHOUSE_CLUSTER`, default `lummmen`), as
//! `scripts/clickhouse.sh start-cluster` prints them and `scripts/test.sh`
//! exports them; without it the test starts two private servers as the two
//! shards (and a private single server when `LUMMMEN_TEST_CLICKHOUSE_URL` is
//! unset too), and skips only when clickhouse-server is not installed.

mod support;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use lummmen_server::projects::Project;
use lummmen_server::store::clickhouse::{ClickHouseStore, Cluster};
use lummmen_server::store::rows::rows_from_batch;
use lummmen_server::store::{EventStore, StoreError};
use lummmen_server::Config;
use serde_json::{json, Value};
use support::*;

const OTHER_SITE: u32 = 8;
const VISITOR_A: &str = "aaaaaaaaaaaaaaaa";
const RANGE: &str = "/api/stats?from=2026-11-02&to=2026-11-04&tz=Europe/Paris";
const TABLES: [&str; 5] = ["events", "traffic", "heat_clicks", "heat_moves", "heat_views"];

/// The ClickHouse servers of a run: the shards, and one single server
/// (`LUMMMEN_TEST_CLICKHOUSE_URL`, or a private one started here).
struct Servers {
    single: String,
    shards: TestShards,
    _private: Option<(PrivateClickHouse, TempDir)>,
}

fn servers() -> Option<Servers> {
    let shards = TestShards::get()?;
    let (single, private) = match std::env::var("LUMMMEN_TEST_CLICKHOUSE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let dir = TempDir::new("cluster-single");
            let ch = PrivateClickHouse::start(&dir.0, server_ports());
            (ch.url(), Some((ch, dir)))
        }
    };
    Some(Servers { single, shards, _private: private })
}

/// The dashboard's fixed data set, and batches of clicks and moves on product
/// pages for the heatmaps.
fn batches() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/stats/batches.json")).expect("fixture");
    let fixture: Value = serde_json::from_str(&text).expect("json");
    let mut all = fixture["batches"].as_array().expect("batches").clone();
    for n in 0..40u64 {
        let visitor = format!("{:016x}", 0xc0ffee00 + n % 6);
        all.push(serde_json::to_value(page_batch(SITE, &visitor, 0x5000 + n, 12)).expect("batch"));
    }
    all
}

/// What a server answers, as one JSON document, so the two runs compare as a
/// whole; the shards are checked along the way when the store is a cluster.
async fn run(config: Config, shards: &[String]) -> Value {
    let database = config.clickhouse_database.clone();
    let server = start(config, SITE, SHOP).await;
    server
        .projects()
        .upsert(&Project {
            id: OTHER_SITE,
            name: "B".into(),
            sample: 100,
            shops: vec!["b-shop.myshopify.com".into()],
        })
        .expect("project");
    let batches = batches();
    // Every batch twice, the second time after the first is stored: each
    // event is then in two inserts, as when a tracker resends a batch whose
    // answer it did not get.
    for _ in 0..2 {
        for batch in &batches {
            collect(&server, batch).await;
        }
        server.flush().await.expect("flush");
    }
    if !shards.is_empty() {
        check_spread(&database, shards).await;
    }
    let store = server.store();
    let token = session_token(SHOP);
    let mut answers = serde_json::Map::new();
    let mut get = |key: &str, value: Value| answers.insert(key.to_string(), value);
    for (key, path) in [
        ("stats", RANGE.to_string()),
        ("stats_utc", "/api/stats?from=2026-11-02&to=2026-11-04".to_string()),
        ("stats_2025", "/api/stats?from=2025-11-01&to=2025-11-30".to_string()),
        ("heatmap_group", "/api/heatmap?page=/products/*".to_string()),
        ("heatmap_page", "/api/heatmap?page=/products/p1&cell=20".to_string()),
        ("heatmap_moves", "/api/heatmap?page=/products/p2&mode=moves".to_string()),
        ("heatmap_pages", "/api/heatmap/pages".to_string()),
    ] {
        let (status, body) = get_json(&server, &path, &token).await;
        assert_eq!(status, 200, "{path}: {body}");
        get(key, body);
    }
    let events = store.events_for_visitor(SITE, VISITOR_A).await.expect("read");
    get("events_of_a", json!(events.iter().map(|e| e.event_id.clone()).collect::<Vec<_>>()));
    get("count", json!(store.count_events(SITE).await.expect("count")));
    get("count_other", json!(store.count_events(OTHER_SITE).await.expect("count")));

    // A visitor's deletion, then the site's.
    let deleted = store.delete_visitors(&[SITE], &[VISITOR_A.to_string()]).await.expect("delete visitor");
    get("deleted_visitor", json!(deleted));
    get("stats_without_a", get_json(&server, RANGE, &token).await.1);
    if !shards.is_empty() {
        let a = u64::from_str_radix(VISITOR_A, 16).expect("hex");
        for shard in shards {
            for table in TABLES {
                let filter = match table {
                    "events" => format!("visitor_id = '{VISITOR_A}'"),
                    _ => format!("visitor = {a}"),
                };
                let left = clickhouse_number(
                    shard,
                    &format!("SELECT count() FROM {database}.{table}_local WHERE {filter}"),
                )
                .await;
                assert_eq!(left, 0, "visitor A's rows left in {table} on {shard}");
            }
        }
    }
    let deleted = store.delete_sites(&[SITE]).await.expect("delete site");
    get("deleted_site", json!(deleted));
    get("count_after", json!(store.count_events(SITE).await.expect("count")));
    get("count_other_after", json!(store.count_events(OTHER_SITE).await.expect("count")));
    get("heatmap_pages_after", get_json(&server, "/api/heatmap/pages", &token).await.1);
    if !shards.is_empty() {
        for shard in shards {
            for table in TABLES {
                let left = clickhouse_number(
                    shard,
                    &format!("SELECT count() FROM {database}.{table}_local WHERE site_id = {SITE}"),
                )
                .await;
                assert_eq!(left, 0, "site {SITE}'s rows left in {table} on {shard}");
            }
        }
    }
    server.shutdown().await.expect("shutdown");
    Value::Object(answers)
}

/// Rows of every table are on both shards, and no event on two of them: the
/// replays went where their first copies are. Read on the shards' own tables.
async fn check_spread(database: &str, shards: &[String]) {
    for table in TABLES {
        let key = if table == "events" { "event_id" } else { "event" };
        let mut on_shards = 0;
        for shard in shards {
            let rows =
                clickhouse_number(shard, &format!("SELECT count() FROM {database}.{table}_local")).await;
            assert!(rows > 0, "no rows of {table} on {shard}");
            on_shards +=
                clickhouse_number(shard, &format!("SELECT uniqExact({key}) FROM {database}.{table}_local"))
                    .await;
        }
        let all =
            clickhouse_number(&shards[0], &format!("SELECT uniqExact({key}) FROM {database}.{table}")).await;
        assert_eq!(on_shards, all, "{table}: some events are on two shards");
    }
}

#[tokio::test]
async fn two_shards_answer_as_one_server() {
    let Some(ch) = servers() else { return };
    let single_dir = TempDir::new("cluster-vs-single");
    let cluster_dir = TempDir::new("cluster-vs-cluster");
    let single_db = unique_database("single");
    let cluster_db = unique_database("cluster");
    let single = app_config(&single_dir.0, "http://127.0.0.1:9").with_clickhouse(&ch.single, &single_db);
    let cluster = app_config(&cluster_dir.0, "http://127.0.0.1:9").with_clickhouse_cluster(
        &ch.shards.urls[0],
        &cluster_db,
        &ch.shards.cluster,
        &ch.shards.urls,
    );
    let one = run(single, &[]).await;
    let two = run(cluster, &ch.shards.urls).await;

    // The answers are the data set's, not an empty store's: the dashboard
    // counts each replayed event once (admin_stats.rs computes these by
    // hand), the heatmaps have clicks, the deletes removed something.
    assert_eq!((one["stats"]["visitors"].as_u64(), one["stats"]["pageviews"].as_u64()), (Some(5), Some(9)));
    assert_eq!(one["stats"]["orders"], 3, "{}", one["stats"]);
    assert!(one["heatmap_group"]["clicks"].as_u64().unwrap_or(0) > 0, "{}", one["heatmap_group"]);
    assert!(one["events_of_a"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(one["deleted_visitor"].as_u64().unwrap_or(0) > 0);
    assert_eq!(one["count_after"], 0);
    assert!(one["count_other_after"].as_u64().unwrap_or(0) > 0, "the other site is kept");
    for (key, value) in one.as_object().expect("answers") {
        assert_eq!(&two[key], value, "{key}: two shards differ from one server");
    }

    for url in std::iter::once(&ch.single).chain(&ch.shards.urls) {
        for db in [&single_db, &cluster_db] {
            clickhouse_sql(url, &format!("DROP DATABASE IF EXISTS {db}")).await;
        }
    }
}

#[tokio::test]
async fn refuses_a_cluster_other_than_the_one_configured() {
    let Some(ch) = servers() else { return };
    let db = unique_database("layout");
    let entry = &ch.shards.urls[0];
    let connect = |name: &str, urls: &[String]| {
        let (name, urls, db) = (name.to_string(), urls.to_vec(), db.clone());
        async move {
            let cluster = Cluster::new(&name, &urls)?;
            ClickHouseStore::connect_cluster(entry, &db, None, None, &cluster).await
        }
    };
    let refused = |r: Result<ClickHouseStore, StoreError>| match r {
        Err(StoreError::Layout(why)) => why,
        other => panic!("expected a layout error, got {other:?}"),
    };
    // A shard left out would keep rows that deletes promise to remove.
    let why = refused(connect(&ch.shards.cluster, &ch.shards.urls[..1]).await);
    assert!(why.contains("2 shards"), "{why}");
    let twice = [ch.shards.urls[0].clone(), ch.shards.urls[0].clone()];
    refused(connect(&ch.shards.cluster, &twice).await);
    let swapped_for_single = [ch.shards.urls[0].clone(), ch.single.clone()];
    let why = refused(connect(&ch.shards.cluster, &swapped_for_single).await);
    assert!(why.contains("no shard"), "{why}");
    let why = refused(connect("no_such_cluster", &ch.shards.urls).await);
    assert!(why.contains("knows no cluster"), "{why}");
    for bad in ["", "a b", "x'y"] {
        refused(connect(bad, &ch.shards.urls).await);
    }
    refused(connect(&ch.shards.cluster, &["127.0.0.1:8123".to_string()]).await);
    refused(connect(&ch.shards.cluster, &[]).await);

    // A database of one server's tables on the entry is not taken for the
    // cluster's: reads would miss the other shard.
    ClickHouseStore::connect(entry, &db, None, None).await.expect("single-server tables");
    let why = refused(connect(&ch.shards.cluster, &ch.shards.urls).await);
    assert!(why.contains("not the cluster's Distributed table"), "{why}");
    for shard in &ch.shards.urls {
        clickhouse_sql(shard, &format!("DROP DATABASE IF EXISTS {db}")).await;
    }

    // The flags go together.
    for args in [
        vec!["lummmen-server", "--clickhouse-cluster", "c"],
        vec!["lummmen-server", "--clickhouse-shard-url", "http://a:8123"],
        vec!["lummmen-server", "--clickhouse-cluster", "c", "--clickhouse-shard-url", "http://a:8123"],
    ] {
        assert!(Config::try_parse_from(&args).is_err(), "{args:?}");
    }
    let config = Config::try_parse_from([
        "lummmen-server",
        "--clickhouse-url",
        "http://a:8123",
        "--clickhouse-cluster",
        "c",
        "--clickhouse-shard-url",
        "http://a:8123,http://b:8123",
    ])
    .expect("flags");
    assert_eq!(config.clickhouse_shard_urls, ["http://a:8123", "http://b:8123"]);
    assert_eq!(config.clickhouse_insert_timeout_secs, 60);
    let timeout = |t: &str| Config::try_parse_from(["lummmen-server", "--clickhouse-insert-timeout-secs", t]);
    assert_eq!(timeout("5").expect("5 s").clickhouse_insert_timeout_secs, 5);
    for bad in ["0", "-1", "3601", "soon"] {
        assert!(timeout(bad).is_err(), "{bad}");
    }
}

/// The spool forgets a batch once the store acknowledges it, so an insert
/// must not return while a shard lacks its rows: with a shard down it fails
/// (the batch stays spooled) instead of queueing the rows on the server
/// queried, as a `Distributed` table does by default. Needs servers of its
/// own, one of which it stops.
#[tokio::test]
async fn an_insert_returns_only_once_every_shard_has_its_rows() {
    if !clickhouse_installed() {
        eprintln!("skipped: clickhouse-server is not installed (scripts/setup.sh --test installs it)");
        return;
    }
    let (mut shards, _dirs) = private_shards("lummmen");
    let urls: Vec<String> = shards.iter().map(PrivateClickHouse::url).collect();
    let db = unique_database("sync");
    let cluster = Cluster::new("lummmen", &urls).expect("cluster");
    let store = ClickHouseStore::connect_cluster(&urls[0], &db, None, None, &cluster).await.expect("connect");
    let rows = |first: u64| {
        let mut rows = Vec::new();
        for n in first..first + 20 {
            let batch = page_batch(SITE, &format!("{:016x}", 0xabc0 + n), n, 6);
            rows.extend(rows_from_batch(&batch, None));
        }
        Arc::new(rows)
    };
    let first = rows(0);
    let count = first.len() as u64;

    shards[1].kill();
    let refused = store.insert(first.clone()).await;
    assert!(refused.is_err(), "an insert with a shard down was acknowledged");

    shards[1].restart();
    store.insert(first).await.expect("insert with both shards up");
    let q = format!("SELECT count() FROM {db}.events_local");
    let (a, b) = (clickhouse_number(&urls[0], &q).await, clickhouse_number(&urls[1], &q).await);
    assert!(a > 0 && b > 0, "rows on both shards: {a} and {b}");
    assert_eq!(store.count_events(SITE).await.expect("count"), count);
}

/// A shard that hangs (stopped, its sockets open) must not hold an insert for
/// as long as it hangs: the insert fails after the cluster's insert timeout,
/// so the batch stays spooled and the drainer can try again, and goes
/// through once the shard is back.
#[tokio::test]
async fn an_insert_fails_after_the_timeout_while_a_shard_hangs() {
    if !clickhouse_installed() {
        eprintln!("skipped: clickhouse-server is not installed (scripts/setup.sh --test installs it)");
        return;
    }
    let (shards, _dirs) = private_shards("lummmen");
    let urls: Vec<String> = shards.iter().map(PrivateClickHouse::url).collect();
    let db = unique_database("hang");
    let cluster = Cluster::new("lummmen", &urls).expect("cluster").with_insert_timeout(2);
    let store = ClickHouseStore::connect_cluster(&urls[0], &db, None, None, &cluster).await.expect("connect");
    let mut rows = Vec::new();
    for n in 0..20 {
        rows.extend(rows_from_batch(&page_batch(SITE, &format!("{:016x}", 0xdef0 + n), n, 6), None));
    }
    let rows = Arc::new(rows);
    let count = rows.len() as u64;

    shards[1].pause();
    // Not a timing check: without the timeout the insert waits for as long
    // as the shard hangs, and this guard is what ends it.
    let hung = tokio::time::timeout(Duration::from_secs(120), store.insert(rows.clone())).await;
    shards[1].resume();
    match hung {
        Ok(Err(_)) => {}
        Ok(Ok(())) => panic!("an insert with a shard hanging was acknowledged"),
        Err(_) => panic!("an insert with a shard hanging was still waiting after 120 s"),
    }

    store.insert(rows).await.expect("insert with both shards answering");
    assert_eq!(store.count_events(SITE).await.expect("count"), count, "each event once");
}
