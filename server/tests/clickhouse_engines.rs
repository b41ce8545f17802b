//! Every statement the ClickHouse store issues, on a current engine: the
//! real store, through a recording proxy (`engines/recorder.rs`), talks to
//! the test ClickHouse (18.16) through a scenario that calls every method of
//! `EventStore` (schema creation, inserts into every table, the dashboard's
//! and the heatmap's queries, reads and exports per visitor, the backfill of
//! the dashboard's and the heatmap's tables, retention, deletes of visitors
//! and of sites and the waits for them); then `scripts/chdb_compare.py`
//! replays the record in order through chDB 26.9 and compares each answer
//! with 18.16's. It fails when an answer differs or a statement fails on
//! 26.9, printing the statement, and when the record misses a store method
//! or a piece of SQL of the store's source (`engines/coverage.rs`).

mod common;
mod engines;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use engines::data::{self, BUYER, HEAT_VISITOR, OLD_MONTHS, OLD_SITE, SITE, T};
use engines::{coverage, recorder::Recorder};
use lummmen_server::stats::range::{Offsets, Window};
use lummmen_server::store::clickhouse::ClickHouseStore;
use lummmen_server::store::heatmap::{Bucket, PageGroup, PageSel, Parts};
use lummmen_server::store::rows::rows_from_batch;
use lummmen_server::store::{EventStore, HeatmapQuery, RowSource, StatsQuery};

/// The Python with chDB: `LUMMMEN_CHDB_PYTHON`, or the project's virtual
/// environment, made by `scripts/chdb-venv.sh` (which fails without network).
fn chdb_python() -> String {
    if let Ok(p) = std::env::var("LUMMMEN_CHDB_PYTHON") {
        return p;
    }
    let out = std::process::Command::new(root().join("scripts/chdb-venv.sh")).output().expect("chdb-venv.sh");
    assert!(
        out.status.success(),
        "chDB is needed to compare with a current ClickHouse and could not be installed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn stats_query(site_id: u32, offsets: Offsets) -> StatsQuery {
    // 30 October to 5 November 2026, Paris midnights.
    StatsQuery { site_id, window: Window { start_ms: 1_793_314_800_000, end_ms: 1_793_833_200_000, offsets } }
}

fn heat_queries() -> Vec<HeatmapQuery> {
    let tee = HeatmapQuery { legacy_grid: true, ..HeatmapQuery::page(SITE, "/products/tee") };
    let group = HeatmapQuery {
        page: PageSel::Group(PageGroup::Products),
        cell: 20,
        ..HeatmapQuery::page(SITE, "/products/tee")
    };
    let mobile = HeatmapQuery {
        bucket: Bucket::Mobile,
        from_ms: T,
        to_ms: T + 95_000,
        ..HeatmapQuery::page(SITE, "/products/tee")
    };
    let tablet = HeatmapQuery {
        bucket: Bucket::Tablet,
        page: PageSel::Group(PageGroup::Collections),
        parts: Parts { clicks: true, moves: false, scroll: false },
        ..HeatmapQuery::page(SITE, "/collections/summer")
    };
    vec![tee, group, mobile, tablet]
}

/// The reads of the dashboard and of heatmaps, labelled by store method.
async fn dashboard_and_heatmaps(rec: &Recorder, store: &ClickHouseStore) {
    let paris = Offsets { first: 3_600_000, changes: vec![] };
    // A change of offset inside the window, as over a daylight-saving switch.
    let switching = Offsets { first: 3_600_000, changes: vec![(1_793_700_000_000, 7_200_000)] };
    for q in [stats_query(SITE, paris), stats_query(SITE, switching)] {
        rec.label("stats_counts");
        store.stats_counts(&q).await.expect("stats_counts");
        rec.label("stats_breakdown");
        store.stats_breakdown(&q).await.expect("stats_breakdown");
        rec.label("order_ids");
        store.order_ids(&q).await.expect("order_ids");
    }
    for q in heat_queries() {
        rec.label("heatmap");
        store.heatmap(&q).await.expect("heatmap");
    }
    rec.label("heatmap_pages");
    store.heatmap_pages(SITE).await.expect("heatmap_pages");
}

/// The reads per visitor and per site.
async fn visitor_reads(rec: &Recorder, store: &ClickHouseStore) {
    rec.label("events_for_visitor");
    store.events_for_visitor(SITE, HEAT_VISITOR).await.expect("events_for_visitor");
    rec.label("count_events");
    for site in [SITE, OLD_SITE, 99] {
        store.count_events(site).await.expect("count_events");
    }
    rec.label("last_event_ms");
    for site in [SITE, 99] {
        store.last_event_ms(site).await.expect("last_event_ms");
    }
    rec.label("visitors_for");
    let orders = ["1001".to_string(), "2002".to_string()];
    store.visitors_for(&[SITE], Some("gid://shopify/Customer/77"), &[]).await.expect("visitors_for");
    store.visitors_for(&[SITE, OLD_SITE], None, &orders).await.expect("visitors_for");
    store.visitors_for(&[SITE], Some("gid://shopify/Customer/77"), &orders).await.expect("visitors_for");
    rec.label("export_visitors");
    let visitors = [HEAT_VISITOR.to_string(), BUYER.to_string()];
    store.export_visitors(&[SITE, OLD_SITE], &visitors).await.expect("export_visitors");
}

/// The store's statements against 18.16, recorded.
async fn scenario(rec: &Recorder, database: &str) {
    rec.label("connect");
    let store = ClickHouseStore::connect(&rec.url(), database, None, None).await.expect("connect");
    rec.label("ping");
    store.ping().await.expect("ping");
    for batch in data::batches(root()) {
        // As the drainer does: a batch without its page view gets the page's
        // context from the store.
        let has_view = batch.events.iter().any(|e| matches!(e, protocol::Event::PageView(_)));
        let context = match (&batch.page_view_id, has_view) {
            (Some(pv), false) => {
                rec.label("page_context");
                store.page_context(batch.site_id, &batch.visitor_id, pv).await.expect("page_context")
            }
            _ => None,
        };
        rec.label("insert");
        let rows = rows_from_batch(&batch, context);
        store.insert(Arc::new(rows) as Arc<dyn RowSource>).await.expect("insert");
    }
    visitor_reads(rec, &store).await;
    dashboard_and_heatmaps(rec, &store).await;

    // A database from before the dashboard's and the heatmap's tables: a new
    // store fills them from the events.
    rec.label("test");
    let raw =
        ::clickhouse::Client::default().with_url(rec.url()).with_database(database).with_validation(false);
    for table in ["traffic", "heat_clicks", "heat_moves", "heat_views"] {
        raw.query(&format!("DROP TABLE {table}")).execute().await.expect("drop table");
    }
    // The first heatmap's table, which the store drops once the new ones are full.
    raw.query("CREATE TABLE clicks (site_id UInt32, url String) ENGINE = MergeTree ORDER BY site_id")
        .execute()
        .await
        .expect("create clicks");
    rec.label("connect");
    let store = ClickHouseStore::connect(&rec.url(), database, None, None).await.expect("connect again");
    dashboard_and_heatmaps(rec, &store).await;

    // Retention: months before November 2025 go whole (September 2025 of
    // site 8), site 8 keeps from September 2026 (its May 2026 goes by delete).
    rec.label("expire");
    let (kept, kept_month) = lummmen_server::retention::cutoff(1_796_000_000_000, 13);
    let (site_cutoff, _) = lummmen_server::retention::cutoff(1_796_000_000_000, 3);
    let plan = lummmen_server::retention::Plan {
        sites: vec![(SITE, kept), (OLD_SITE, site_cutoff)],
        oldest_kept_month: Some(kept_month),
        oldest_cutoff_ms: Some(kept),
    };
    let expired = store.expire(&plan).await.expect("expire");
    assert_eq!(expired, 6, "September 2025 and May 2026 of site 8, three page views each ({OLD_MONTHS:?})");

    rec.label("delete_visitors");
    store.delete_visitors(&[SITE], &[HEAT_VISITOR.to_string()]).await.expect("delete_visitors");
    rec.label("delete_sites");
    store.delete_sites(&[OLD_SITE]).await.expect("delete_sites");
    visitor_reads(rec, &store).await;
    dashboard_and_heatmaps(rec, &store).await;
    // Again after the deletes, whose emptied parts the months query sees.
    rec.label("expire");
    assert_eq!(store.expire(&plan).await.expect("expire again"), 0);
}

/// What the record must hold: every store method, every table written and
/// deleted from, every piece of the store's SQL.
fn check_coverage(rec: &Recorder) {
    let entries = rec.entries();
    let labels: BTreeSet<&str> = entries.iter().map(|e| e.label.as_str()).collect();
    // `name` answers a constant and asks ClickHouse nothing.
    for method in coverage::trait_methods(root()).iter().filter(|m| *m != "name") {
        assert!(labels.contains(method.as_str()), "no statement of EventStore::{method} in the record");
    }
    let store: Vec<String> =
        entries.iter().filter(|e| e.label != "test").map(|e| coverage::squash(&e.sql)).collect();
    let tables = coverage::tables(root());
    for table in &tables {
        for needed in [
            format!("INSERT INTO {table}("),
            format!("ALTER TABLE {table} DELETE"),
            format!("ALTER TABLE {table} DROP PARTITION"),
        ] {
            assert!(store.iter().any(|s| s.starts_with(&needed)), "no {needed:?} in the record");
        }
    }
    let missing: Vec<String> = coverage::store_sql(root())
        .into_iter()
        .filter(|(_, l)| !coverage::CLUSTER_ONLY.contains(&l.as_str()))
        .filter(|(_, l)| !store.iter().any(|s| coverage::holds(s, l)))
        .map(|(file, l)| format!("{file}: {l:?}"))
        .collect();
    assert!(missing.is_empty(), "SQL of the store no recorded statement holds:\n{}", missing.join("\n"));
}

/// Replays a record through chDB: whether every answer was the same, and the
/// report.
fn compare(python: &str, dir: &std::path::Path) -> (bool, String) {
    let out = std::process::Command::new(python)
        .env("TZ", "UTC")
        .arg(root().join("scripts/chdb_compare.py"))
        .arg(dir)
        .output()
        .expect("run chdb_compare.py");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success() && report.contains("every answer the same"), report)
}

/// The comparison itself must fail on a changed answer: the record with one
/// count of 18.16's made one more.
fn check_the_comparison_sees_a_change(python: &str, rec: &Recorder) {
    let mut entries = rec.entries();
    let (n, changed) = entries
        .iter_mut()
        .enumerate()
        .find(|(_, e)| e.label == "stats_counts" && e.types.as_deref() == Some(&["UInt64".to_string()][..]))
        .expect("a count in the record");
    let count = u64::from_le_bytes(changed.answer.as_slice().try_into().expect("one UInt64"));
    changed.answer = (count + 1).to_le_bytes().to_vec();
    let sql = changed.sql.clone();
    let dir = TempDir::new("engines-changed");
    engines::recorder::write(&entries, &dir.0);
    let (same, report) = compare(python, &dir.0);
    assert!(!same, "a changed count went unnoticed: {report}");
    assert!(report.contains(&format!("DIFFERS #{n} ")), "the changed statement #{n} is not named: {report}");
    assert!(report.contains(sql.trim()), "the changed statement's text is not shown: {report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_clickhouse_statement_answers_the_same_on_a_current_engine() {
    let python = chdb_python();
    let url = clickhouse_url();
    let database = unique_database("engines");
    let rec = Recorder::start(&url).await;
    scenario(&rec, &database).await;
    let dir = TempDir::new("engines");
    rec.write(&dir.0);
    if let Ok(keep) = std::env::var("LUMMMEN_ENGINES_RECORD") {
        // For a look at the record after the test.
        let _ = std::fs::remove_dir_all(&keep);
        std::fs::create_dir_all(&keep).expect("record copy");
        rec.write(std::path::Path::new(&keep));
    }
    check_coverage(&rec);
    let (same, report) = compare(&python, &dir.0);
    println!("{report}");
    drop_database(&url, &database).await;
    assert!(same, "ClickHouse 18.16 and chDB answer differently, or the replay failed (above)");
    check_the_comparison_sees_a_change(&python, &rec);
}
