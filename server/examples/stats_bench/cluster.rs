//! One ClickHouse server against the two shards of a cluster, on the same
//! rows (BENCHMARKS.md, "Dashboard on two shards"): `/api/stats` for 30 days
//! from the server binary over HTTP, as in the main benchmark, on one server
//! and on the cluster, in one run. The four measurements alternate (one
//! server, cluster, cluster, one server), so the machine's other work falls on
//! both alike; each is 40 requests, p50 and p95.
//!
//! `stats_bench cluster CLICKHOUSE_URL SHARD_URLS [events]`: the shards'
//! HTTP URLs comma-separated, the cluster named `LUMMMEN_BENCH_CLUSTER`
//! (default `lummmen`); 2 million events unless told.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lummmen_server::store::clickhouse::{ClickHouseStore, Cluster};
use lummmen_server::store::EventStore;

use super::shop::Shop;
use super::{ch_flags, latencies, server_bin, temp_dir};

fn client(url: &str) -> ::clickhouse::Client {
    ::clickhouse::Client::default().with_url(url).with_validation(false)
}

pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    let usage = "usage: stats_bench cluster CLICKHOUSE_URL SHARD_URLS [events]";
    let single_url = args.first().context(usage)?.clone();
    let shards: Vec<String> = args.get(1).context(usage)?.split(',').map(str::to_string).collect();
    let events: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2_000_000);
    let name = std::env::var("LUMMMEN_BENCH_CLUSTER").unwrap_or_else(|_| "lummmen".into());
    let cluster = Cluster::new(&name, &shards)?;
    let bin = server_bin()?;
    let db = format!("stats_cluster_bench_{}", std::process::id());
    let single = ClickHouseStore::connect(&single_url, &db, None, None).await?;
    let sharded = ClickHouseStore::connect_cluster(&shards[0], &db, None, None, &cluster).await?;

    // The same rows into both, a chunk at a time.
    let mut shop = Shop::new((events / 40) as u64);
    let (mut rows, mut busy_single, mut busy_cluster) = (0, Duration::ZERO, Duration::ZERO);
    while rows < events {
        let chunk = Arc::new(shop.chunk());
        rows += chunk.len();
        let t0 = Instant::now();
        single.insert(chunk.clone()).await?;
        busy_single += t0.elapsed();
        let t0 = Instant::now();
        sharded.insert(chunk).await?;
        busy_cluster += t0.elapsed();
    }
    // Merged, as a day of background merges leaves them.
    for table in ["events", "traffic"] {
        client(&single_url).query(&format!("OPTIMIZE TABLE {db}.{table} FINAL")).execute().await?;
        for shard in &shards {
            client(shard).query(&format!("OPTIMIZE TABLE {db}.{table}_local FINAL")).execute().await?;
        }
    }
    let mut spread = Vec::new();
    for shard in &shards {
        let n: u64 =
            client(shard).query(&format!("SELECT count() FROM {db}.traffic_local")).fetch_one().await?;
        spread.push(n.to_string());
    }

    let mut cluster_flags = ch_flags(&shards[0], &db);
    cluster_flags.extend(["--clickhouse-cluster".to_string(), name.clone()]);
    cluster_flags.extend(["--clickhouse-shard-url".to_string(), shards.join(",")]);
    let single_flags = ch_flags(&single_url, &db);
    let dir = temp_dir("cluster");
    let mut measured: Vec<(bool, f64, f64, String)> = Vec::new();
    for on_cluster in [false, true, true, false] {
        let flags = if on_cluster { &cluster_flags } else { &single_flags };
        let (p50, p95, answer) = latencies(&bin, &dir, flags).await?;
        let _ = std::fs::remove_dir_all(&dir);
        measured.push((on_cluster, p50, p95, answer));
    }
    let answer = &measured[0].3;
    anyhow::ensure!(measured.iter().all(|m| &m.3 == answer), "the answers differ: {measured:?}");
    for url in std::iter::once(&single_url).chain(&shards) {
        client(url).query(&format!("DROP DATABASE IF EXISTS {db}")).execute().await?;
    }

    let mean = |cluster: bool, f: fn(&(bool, f64, f64, String)) -> f64| {
        let v: Vec<f64> = measured.iter().filter(|m| m.0 == cluster).map(f).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (p50_one, p50_two) = (mean(false, |m| m.1), mean(true, |m| m.1));
    println!(
        "`/api/stats` for 30 days (Paris) of 60 days of data, {rows} events, one ClickHouse 18.16 server"
    );
    println!(
        "against a cluster of {} shards (traffic rows per shard: {})\n",
        shards.len(),
        spread.join(" / ")
    );
    println!("| order | store | p50 (ms) | p95 (ms) |");
    println!("| --- | --- | --- | --- |");
    for (i, (on_cluster, p50, p95, _)) in measured.iter().enumerate() {
        let store = if *on_cluster { "two shards" } else { "one server" };
        println!("| {} | {store} | {p50:.0} | {p95:.0} |", i + 1);
    }
    println!(
        "\nmean p50: one server {p50_one:.0} ms, two shards {p50_two:.0} ms; two shards / one server {:.2}",
        p50_two / p50_one
    );
    println!("answer (both): {answer}");
    println!(
        "insert time of the same rows: one server {:.1} s, two shards {:.1} s",
        busy_single.as_secs_f64(),
        busy_cluster.as_secs_f64()
    );
    Ok(())
}
