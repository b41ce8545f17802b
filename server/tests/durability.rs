//! Durability under failure, with real processes: SIGKILL the server binary
//! during a load and restart it; stop a private ClickHouse during a load and
//! start it again. Every acknowledged event ends up stored exactly once.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use lummmen_server::{Config, ServerHandle};

fn spawn_server(data: &std::path::Path, port: u16, clickhouse: Option<(&str, &str)>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lummmen-server"));
    cmd.arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data)
        .arg("--www-dir")
        .arg(root().join("www"))
        .args(["--seed-demo", "--rate-limit", "0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((url, db)) = clickhouse {
        cmd.args(["--clickhouse-url", url, "--clickhouse-database", db]);
    }
    cmd.spawn().expect("server binary starts")
}

async fn wait_healthy(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become healthy");
}

/// Polls storage until every acknowledged event is there (the restarted server
/// drains the spool it inherited), then checks exactly-once.
async fn wait_all_stored(config: &Config, acked: &[protocol::Batch]) {
    let store = lummmen_server::store::open(config).await.expect("store opens");
    let want = acked.iter().map(|b| b.events.len() as u64).sum::<u64>();
    let mut have = 0;
    for _ in 0..600 {
        have = store.count_events(1).await.unwrap_or(0);
        if have >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(have >= want, "only {have} of {want} acknowledged events stored");
    assert_stored_exactly_once(store.as_ref(), 1, acked).await;
}

async fn kill_during_load(data: &std::path::Path, clickhouse: Option<(&str, &str)>) -> Vec<protocol::Batch> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = spawn_server(data, port, clickhouse);
    wait_healthy(&base).await;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(load_until(base.clone(), 1, 4, stop));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop_tx.send_replace(true);
    let acked = load.await.expect("load");
    assert!(
        acked.len() > 20,
        "the load must have been acknowledged before the kill ({} batches)",
        acked.len()
    );

    let mut restarted = spawn_server(data, port, clickhouse);
    wait_healthy(&base).await;
    let config = {
        let c = Config::for_tests(root(), data.to_path_buf());
        match clickhouse {
            Some((url, db)) => c.with_clickhouse(url, db),
            None => c,
        }
    };
    wait_all_stored(&config, &acked).await;
    let _ = restarted.kill();
    let _ = restarted.wait();
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_load_loses_and_duplicates_nothing_with_sqlite() {
    let dir = TempDir::new("kill-sqlite");
    kill_during_load(&dir.0, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_load_loses_and_duplicates_nothing_with_clickhouse() {
    let dir = TempDir::new("kill-ch");
    let (url, db) = (clickhouse_url(), unique_database("kill"));
    kill_during_load(&dir.0, Some((&url, &db))).await;
    drop_database(&url, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_stopped_during_load_then_restarted_gets_every_acknowledged_event_once() {
    let dir = TempDir::new("ch-restart");
    let mut ch = PrivateClickHouse::start(&dir.0.join("clickhouse"), server_ports());
    let mut config = Config::for_tests(root(), dir.0.join("server")).with_clickhouse(&ch.url(), "durability");
    // Small inserts, so the backlog of the outage spans many of them: the
    // drainer then has two in flight, failing and read again from the spool.
    config.insert_max_events = 500;
    let server = ServerHandle::start(config).await.expect("server starts");
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(load_until(server.url(), 1, 4, stop));
    tokio::time::sleep(Duration::from_millis(800)).await;
    ch.kill();
    // Acknowledgements go on while storage is down: the spool holds them.
    assert!(server.store().count_events(1).await.is_err(), "ClickHouse should be unreachable now");
    let accepted_before = metric(&server.url(), "lummmen_accepted_events_total").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let accepted_during = metric(&server.url(), "lummmen_accepted_events_total").await;
    assert!(accepted_during > accepted_before, "batches must be acknowledged while storage is down");
    ch.restart();
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop_tx.send_replace(true);
    let acked = load.await.expect("load");
    assert!(acked.len() > 20, "too little load acknowledged: {}", acked.len());
    server.flush().await.expect("flush");
    assert_stored_exactly_once(server.store().as_ref(), 1, &acked).await;
    let total = acked.iter().map(|b| b.events.len() as u64).sum::<u64>();
    assert_eq!(server.store().count_events(1).await.expect("count"), total);
    let overlapped = metric(&server.url(), "lummmen_overlapped_inserts_total").await;
    assert!(overlapped > 0, "the backlog of the outage must have had two inserts in flight");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_accepting_drains_the_spool_then_exits() {
    let dir = TempDir::new("sigterm");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // A slow store would leave work in the spool; SQLite under load does too.
    let mut server = spawn_server(&dir.0, port, None);
    wait_healthy(&base).await;
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let load = tokio::spawn(load_until(base.clone(), 1, 4, stop));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let term = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().expect("kill -TERM");
    assert!(term.success());
    let status = server.wait().expect("server exits");
    stop_tx.send_replace(true);
    let acked = load.await.expect("load");
    assert!(status.success(), "graceful exit, got {status:?}");
    assert!(acked.len() > 20, "too little load acknowledged: {}", acked.len());
    // Nothing is left for the next start: the drain cursor is at the end.
    let reader = lummmen_server::ingest::spool::Reader::open(&dir.0.join("spool"), "drain").expect("cursor");
    assert_eq!(reader.unread_bytes().expect("unread"), 0, "the spool was drained before exit");
    let store = lummmen_server::store::open(&Config::for_tests(root(), dir.0.clone())).await.expect("store");
    assert_stored_exactly_once(store.as_ref(), 1, &acked).await;
}
