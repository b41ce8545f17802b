//! Figures for the dashboard (BENCHMARKS.md, "Dashboard"): `/api/stats` over
//! 30 days, p50 and p95, from the real server binary over HTTP, on 10 million
//! events in ClickHouse and 1 million in SQLite spread over 60 days (so the
//! previous period is full too); and what the dashboard's rows cost ingest:
//! the direct insert rate of the same rows with and without them, in one run,
//! alternating.
//!
//! `scripts/bench-stats.sh` builds in release mode, starts the test ClickHouse
//! and runs `target/release/examples/stats_bench CLICKHOUSE_URL [ch_events]
//! [sqlite_events]`.
//!
//! `stats_bench cluster CLICKHOUSE_URL SHARD_URLS [events]` instead compares
//! one server with the two shards of a cluster ([`cluster`]).
//!
//! The shop is in [`shop`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lummmen_server::store::clickhouse::ClickHouseStore;
use lummmen_server::store::rows::EventRow;
use lummmen_server::store::sqlite::SqliteStore;
use lummmen_server::store::{EventStore, RowSource};

/// The 30 days asked for: the last 30 of the data, in Paris.
const QUERY: &str = "/api/stats?site=1&from=2026-11-01&to=2026-11-30&tz=Europe/Paris";
const RUNS: usize = 40;
const OPERATOR: &str = "stats-bench-operator";

mod cluster;
mod shop;

use shop::{load_generated, Shop};

/// Inserts `chunks` (without their dashboard rows unless `traffic`); rows/s.
async fn load(store: &dyn EventStore, chunks: &[Vec<EventRow>], traffic: bool) -> anyhow::Result<f64> {
    let prepared: Vec<Vec<EventRow>> = chunks
        .iter()
        .map(|chunk| {
            let mut chunk = chunk.clone();
            if !traffic {
                chunk.iter_mut().for_each(|r| r.traffic = None);
            }
            chunk
        })
        .collect();
    let rows: usize = prepared.iter().map(Vec::len).sum();
    let t0 = Instant::now();
    for chunk in prepared {
        let source: Arc<dyn RowSource> = Arc::new(chunk);
        store.insert(source).await?;
    }
    Ok(rows as f64 / t0.elapsed().as_secs_f64())
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lummmen-stats-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The server binary on `data`, with `clickhouse` (its flags; none: SQLite).
fn spawn_server(bin: &Path, data: &Path, port: u16, clickhouse: &[String]) -> anyhow::Result<Child> {
    let mut cmd = Command::new(bin);
    cmd.arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(data);
    cmd.args(["--seed-demo", "--operator-token", OPERATOR]).env("RUST_LOG", "warn");
    cmd.args(clickhouse);
    cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().context("spawning the server")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// p50 and p95 of `/api/stats` (ms) and the answer's visitors and page views.
async fn latencies(bin: &Path, data: &Path, clickhouse: &[String]) -> anyhow::Result<(f64, f64, String)> {
    let port = free_port()?;
    let mut child = spawn_server(bin, data, port, clickhouse)?;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}{QUERY}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcome = async {
        let first = loop {
            match client.get(&url).bearer_auth(OPERATOR).send().await {
                Ok(r) if r.status().is_success() => break r.json::<serde_json::Value>().await?,
                Ok(r) => anyhow::bail!("/api/stats: {} {}", r.status(), r.text().await.unwrap_or_default()),
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => return Err(e.into()),
            }
        };
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t0 = Instant::now();
            let r = client.get(&url).bearer_auth(OPERATOR).send().await?;
            anyhow::ensure!(r.status().is_success(), "/api/stats: {}", r.status());
            let _ = r.bytes().await?;
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        let summary = format!(
            "{} visitors, {} sessions, {} page views, {} orders",
            first["visitors"], first["sessions"], first["pageviews"], first["orders"]
        );
        Ok((at(0.5), at(0.95), summary))
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// Direct insert rates (rows/s) without and with the dashboard's rows,
/// alternating `rounds` times into fresh databases; the medians.
async fn ingest_cost<F, Fut>(rounds: usize, chunks: &[Vec<EventRow>], open: F) -> anyhow::Result<(f64, f64)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Arc<dyn EventStore>>>,
{
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        without.push(load(open(2 * i).await?.as_ref(), chunks, false).await?);
        with.push(load(open(2 * i + 1).await?.as_ref(), chunks, true).await?);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((median(without), median(with)))
}

/// The server's flags for ClickHouse at `url`, database `db`.
fn ch_flags(url: &str, db: &str) -> Vec<String> {
    ["--clickhouse-url", url, "--clickhouse-database", db].map(String::from).to_vec()
}

/// The server binary, next to the examples.
fn server_bin() -> anyhow::Result<PathBuf> {
    Ok(std::env::current_exe()?.parent().and_then(Path::parent).context("exe dir")?.join("lummmen-server"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("cluster") {
        return cluster::run(args.skip(1).collect()).await;
    }
    let ch_url = args.next().context("usage: stats_bench CLICKHOUSE_URL [ch_events] [sqlite_events]")?;
    let ch_events: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10_000_000);
    let lite_events: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let bin = server_bin()?;
    let suffix = std::process::id();
    let admin = ::clickhouse::Client::default().with_url(&ch_url).with_validation(false);

    // SQLite: 1 million events, then the query.
    let lite_dir = temp_dir("sqlite");
    let mut shop = Shop::new((lite_events / 40) as u64);
    let sample: Vec<Vec<EventRow>> = (0..4).map(|_| shop.chunk()).collect();
    let store = SqliteStore::open(&lite_dir)?;
    for chunk in &sample {
        store.insert(Arc::new(chunk.clone())).await?;
    }
    let sampled: usize = sample.iter().map(Vec::len).sum();
    let share = sample.iter().flatten().filter(|r| r.traffic.is_some()).count() as f64 / sampled as f64;
    let (rest, lite_load, _) = load_generated(&store, &mut shop, lite_events.saturating_sub(sampled)).await?;
    let lite_rows = sampled + rest;
    drop(store);
    let (lite_p50, lite_p95, lite_answer) = latencies(&bin, &lite_dir, &[]).await?;
    let _ = std::fs::remove_dir_all(&lite_dir);
    // What the rows cost SQLite's inserts: 200k events, five rounds.
    let cost_dirs = temp_dir("sqlite-cost");
    let lite_cost = ingest_cost(5, &sample, |i| {
        let dir = cost_dirs.join(i.to_string());
        async move { Ok(Arc::new(SqliteStore::open(&dir)?) as Arc<dyn EventStore>) }
    })
    .await?;
    let _ = std::fs::remove_dir_all(&cost_dirs);

    // ClickHouse: what the rows cost its inserts, on the same 200k events.
    let ch_cost =
        ingest_cost(5, &sample, |i| {
            let (url, db) = (ch_url.clone(), format!("stats_cost_{suffix}_{i}"));
            async move {
                Ok(Arc::new(ClickHouseStore::connect(&url, &db, None, None).await?) as Arc<dyn EventStore>)
            }
        })
        .await?;
    for i in 0..10 {
        admin.query(&format!("DROP DATABASE IF EXISTS stats_cost_{suffix}_{i}")).execute().await?;
    }

    // ClickHouse: 10 million events, merged as a day of ingest would leave
    // them, then the query.
    let db = format!("stats_bench_{suffix}");
    let store = ClickHouseStore::connect(&ch_url, &db, None, None).await?;
    let (ch_rows, ch_load, _) =
        load_generated(&store, &mut Shop::new((ch_events / 40) as u64), ch_events).await?;
    let merge = Instant::now();
    for table in ["events", "traffic"] {
        admin.query(&format!("OPTIMIZE TABLE {db}.{table} FINAL")).execute().await?;
    }
    let merge_s = merge.elapsed().as_secs_f64();
    let ch_dir = temp_dir("ch");
    let (ch_p50, ch_p95, ch_answer) = latencies(&bin, &ch_dir, &ch_flags(&ch_url, &db)).await?;
    admin.query(&format!("DROP DATABASE IF EXISTS {db}")).execute().await?;
    let _ = std::fs::remove_dir_all(&ch_dir);

    println!("`/api/stats` for 30 days (Paris) of 60 days of data, {RUNS} requests one after another, over loopback\n");
    println!("| store | events | loaded at (rows/s) | p50 (ms) | p95 (ms) | answer |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!("| ClickHouse 18.16 | {ch_rows} | {ch_load:.0} | {ch_p50:.0} | {ch_p95:.0} | {ch_answer} |");
    println!(
        "| SQLite (default) | {lite_rows} | {lite_load:.0} | {lite_p50:.0} | {lite_p95:.0} | {lite_answer} |"
    );
    println!("\n{:.1}% of the rows get a dashboard row", share * 100.0);
    println!("ClickHouse: OPTIMIZE FINAL of the two tables took {merge_s:.1} s");
    println!(
        "\ndirect insert of the same {} events without / with the dashboard's rows (rows/s, median of 5 alternating): \
         SQLite {:.0} / {:.0} ({:.2}), ClickHouse {:.0} / {:.0} ({:.2})",
        sample.iter().map(Vec::len).sum::<usize>(),
        lite_cost.0,
        lite_cost.1,
        lite_cost.1 / lite_cost.0,
        ch_cost.0,
        ch_cost.1,
        ch_cost.1 / ch_cost.0
    );
    Ok(())
}
