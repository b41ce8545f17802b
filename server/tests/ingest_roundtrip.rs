//! Batches posted over HTTP come back out of storage field for field, from SQLite
//! and from the real ClickHouse; privacy fulfilment finds, exports and deletes a
//! visitor's rows in both. The drainer takes each batch as `/collect` parsed it
//! (the handoff), or, with the handoff off, parses it again from the spool: both
//! give the same rows.

mod common;

use common::*;
use lummmen_server::store::StoredEvent;
use lummmen_server::{Config, ServerHandle};
use protocol::Batch;

fn expected(batches: &[&Batch]) -> Vec<StoredEvent> {
    let mut out: Vec<StoredEvent> = batches
        .iter()
        .flat_map(|b| {
            b.events.iter().enumerate().map(move |(i, e)| StoredEvent {
                event_id: format!("{}-{}", b.batch_id, i),
                site_id: b.site_id,
                visitor_id: b.visitor_id.clone(),
                session_id: b.session_id.clone(),
                page_view_id: b.page_view_id.clone(),
                event: e.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| (a.event.time(), &a.event_id).cmp(&(b.event.time(), &b.event_id)));
    out
}

/// `lummmen_drained_batches_total` from `/metrics`: (from memory, from the spool).
async fn drained_batches(base: &str) -> (u64, u64) {
    (
        metric(base, "lummmen_drained_batches_total{source=\"memory\"}").await,
        metric(base, "lummmen_drained_batches_total{source=\"spool\"}").await,
    )
}

async fn roundtrip_and_privacy(config: Config) {
    let handoff = config.handoff_max_bytes != Some(0);
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    let (alice, bob) = ("a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2");
    let b1 = page_batch(1, alice, 1, 20);
    let b2 = checkout_batch(1, alice, 2, "gid://shopify/Order/1001", Some("gid://shopify/Customer/42"));
    let b3 = page_batch(1, bob, 3, 5);
    let b4 = checkout_batch(1, bob, 4, "gid://shopify/Order/2002", None);
    for b in [&b1, &b2, &b3, &b4] {
        assert_eq!(post(&client, &server.url(), b).await, 200);
    }
    // A replay of an acknowledged batch (a browser retry) is not stored twice.
    assert_eq!(post(&client, &server.url(), &b1).await, 200);
    server.flush().await.expect("flush");
    let drained = drained_batches(&server.url()).await;
    assert_eq!(drained, if handoff { (5, 0) } else { (0, 5) }, "where the drainer got the batches from");
    let store = server.store();

    assert_eq!(store.events_for_visitor(1, alice).await.expect("read"), expected(&[&b1, &b2]));
    assert_eq!(store.events_for_visitor(1, bob).await.expect("read"), expected(&[&b3, &b4]));
    assert_eq!(store.count_events(1).await.expect("count"), 27);

    let by_customer = store.visitors_for(&[1], Some("gid://shopify/Customer/42"), &[]).await.expect("find");
    assert_eq!(by_customer, vec![alice.to_string()]);
    let by_order = store.visitors_for(&[1], None, &["gid://shopify/Order/2002".into()]).await.expect("find");
    assert_eq!(by_order, vec![bob.to_string()]);
    assert!(store.visitors_for(&[2], Some("gid://shopify/Customer/42"), &[]).await.expect("find").is_empty());

    let export = store.export_visitors(&[1], &[alice.to_string()]).await.expect("export");
    assert_eq!(export, expected(&[&b1, &b2]));

    assert_eq!(store.delete_visitors(&[1], &[alice.to_string()]).await.expect("delete"), 21);
    assert!(store.events_for_visitor(1, alice).await.expect("read").is_empty());
    assert_eq!(store.count_events(1).await.expect("count"), 6);
    assert_eq!(store.delete_sites(&[1]).await.expect("delete site"), 6);
    assert_eq!(store.count_events(1).await.expect("count"), 0);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn sqlite_gives_back_posted_batches_field_for_field_and_deletes_visitors() {
    let dir = TempDir::new("roundtrip-sqlite");
    roundtrip_and_privacy(Config::for_tests(root(), dir.0.clone())).await;
}

#[tokio::test]
async fn sqlite_without_the_handoff_parses_the_spool_into_the_same_rows() {
    let dir = TempDir::new("roundtrip-reparse");
    let config = Config { handoff_max_bytes: Some(0), ..Config::for_tests(root(), dir.0.clone()) };
    roundtrip_and_privacy(config).await;
}

#[tokio::test]
async fn clickhouse_gives_back_posted_batches_field_for_field_and_deletes_visitors() {
    let dir = TempDir::new("roundtrip-ch");
    let (url, db) = (clickhouse_url(), unique_database("rt"));
    roundtrip_and_privacy(Config::for_tests(root(), dir.0.clone()).with_clickhouse(&url, &db)).await;
    drop_database(&url, &db).await;
}
