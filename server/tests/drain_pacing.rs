//! How the drainer paces its inserts under a light load: with a linger it makes
//! few, larger inserts, at most one per linger interval; without one, about one
//! per batch; never two at once, as nothing like a whole insert waits. Either
//! way every event is stored once. (Two inserts in flight under a backlog:
//! `durability.rs`, the ClickHouse restart.)

mod common;

use std::time::{Duration, Instant};

use common::*;
use lummmen_server::{Config, ServerHandle};

/// Posts `n` batches 40 ms apart; answers the inserts they took and how long
/// posting took.
async fn light_load(linger_ms: u64, name: &str, n: u64) -> (u64, Duration) {
    let dir = TempDir::new(name);
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.insert_linger_ms = linger_ms;
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut sent = Vec::new();
    for i in 0..n {
        let batch = page_batch(1, "c3c3c3c3c3c3c3c3", 100 + i, 5);
        assert_eq!(post(&client, &server.url(), &batch).await, 200);
        sent.push(batch);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let elapsed = started.elapsed();
    server.flush().await.expect("flush");
    assert_stored_exactly_once(server.store().as_ref(), 1, &sent).await;
    let count = metric(&server.url(), "lummmen_insert_rows_count").await;
    let overlapped = metric(&server.url(), "lummmen_overlapped_inserts_total").await;
    assert_eq!(overlapped, 0, "a light load never has a backlog of a whole insert");
    server.shutdown().await.expect("shutdown");
    (count, elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_light_load_goes_in_at_most_one_insert_per_linger() {
    let linger = Duration::from_millis(800);
    let (count, elapsed) = light_load(800, "linger", 40).await;
    // The first insert starts at once, then one per linger at most, and the
    // flush may find one more.
    let bound = 2 + (elapsed.as_millis() / linger.as_millis()) as u64;
    assert!(count >= 1 && count <= bound, "{count} inserts in {elapsed:?}, at most {bound} expected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_linger_each_batch_goes_in_as_soon_as_it_can() {
    let (count, elapsed) = light_load(0, "no-linger", 40).await;
    // Batches arrive 40 ms apart and a small SQLite insert takes a few: most
    // go in on their own.
    assert!(count >= 10, "only {count} inserts in {elapsed:?} without a linger");
}
