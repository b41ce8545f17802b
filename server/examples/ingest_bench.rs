//! Figures for the ingest path (BENCHMARKS.md, "Ingest (server)"): a load
//! generator posting realistic 50-event batches over loopback to the real server
//! binary, backed by ClickHouse and then by SQLite; events per second accepted
//! and stored, p50/p99 acknowledgement latency at full load and at half the
//! maximum sustained (stored) rate (for at least ten seconds), the server's peak
//! RSS; and, in the same run, the direct insert rate of the same rows into the
//! same ClickHouse through the `clickhouse` crate (our ClickHouse store, without
//! HTTP or spool; the median of three runs), the limit on this machine.
//!
//! `scripts/bench-ingest.sh` builds in release mode, starts the test ClickHouse
//! and runs this with its URL:
//! `target/release/examples/ingest_bench http://127.0.0.1:18123 [batches]`.
//! `LUMMMEN_BENCH_SERVER=<binary>` runs another build of the server instead,
//! for A/B runs that alternate on the same (noisy) machine;
//! `LUMMMEN_BENCH_HALF_RATE=<events/s>` sets the "half" rate, so that two builds
//! with different maximum rates can be compared under the same load.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use lummmen_server::store::clickhouse::ClickHouseStore;
use lummmen_server::store::rows::rows_from_batch;
use lummmen_server::store::{EventStore, RowSource};
use protocol::Batch;

#[path = "support/batch.rs"]
mod load;
use load::batch;

const CONCURRENCY: usize = 32;

/// The least duration of the half-rate run.
const HALF_RATE_SECONDS: f64 = 10.0;

/// How many times the direct insert runs; its median is the baseline.
const DIRECT_RUNS: usize = 3;

fn spawn_server(
    bin: &Path,
    data: &Path,
    port: u16,
    clickhouse: Option<(&str, &str)>,
) -> anyhow::Result<Child> {
    let mut cmd = Command::new(bin);
    cmd.arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(data);
    cmd.args(["--seed-demo", "--rate-limit", "0"]).env("RUST_LOG", "warn");
    if let Some((url, db)) = clickhouse {
        cmd.args(["--clickhouse-url", url, "--clickhouse-database", db]);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().context("spawning the server")
}

fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches(" kB").trim().to_string())
            })
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user and system) a process has used so far.
fn cpu_s(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // Fields after the command name (which may hold spaces): utime and stime are
    // the 12th and 13th, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12].iter().filter_map(|&i| f.get(i)?.parse::<f64>().ok()).sum();
    ticks / 100.0
}

/// Milliseconds the hypervisor has kept this machine's CPUs from running so
/// far (steal time, summed over CPUs): a pause of the whole virtual machine
/// delays every acknowledgement at once, whatever the server does.
fn steal_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return 0.0 };
    stat.lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(8))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |ticks| ticks * 10.0)
}

/// CPU seconds used so far by every ClickHouse server process on the machine.
fn clickhouse_cpu_s() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else { return 0.0 };
    dir.flatten()
        .filter(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.starts_with("clickhouse")))
        .map(|e| cpu_s(&e.file_name().to_string_lossy()))
        .sum()
}

/// CPU used by the server, ClickHouse and this load generator between two samples.
#[derive(Clone, Copy, Default)]
struct Cpu {
    server: f64,
    clickhouse: f64,
    bench: f64,
}

impl Cpu {
    fn sample(server: Option<u32>) -> Self {
        Self {
            server: server.map_or(0.0, |p| cpu_s(&p.to_string())),
            clickhouse: clickhouse_cpu_s(),
            bench: cpu_s("self"),
        }
    }

    fn since(self, before: Self) -> Self {
        Self {
            server: self.server - before.server,
            clickhouse: self.clickhouse - before.clickhouse,
            bench: self.bench - before.bench,
        }
    }

    /// Microseconds per event, as "server / ClickHouse / load generator".
    fn per_event(self, events: u64) -> String {
        let us = |s: f64| s * 1e6 / events as f64;
        format!("{:.1} / {:.1} / {:.1}", us(self.server), us(self.clickhouse), us(self.bench))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> anyhow::Result<Duration> {
    let t0 = Instant::now();
    let res = client.post(url).header("content-type", "text/plain").body(body).send().await?;
    let status = res.status();
    let _ = res.bytes().await?;
    if status != 200 {
        bail!("server answered {status}");
    }
    Ok(t0.elapsed())
}

/// Closed loop: CONCURRENCY senders post all bodies as fast as acknowledged.
async fn max_rate(url: &str, bodies: Arc<Vec<Vec<u8>>>) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build()?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url, bodies, next) =
            (client.clone(), url.to_string(), Arc::clone(&bodies), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                lat.push(post(&client, &url, body.clone()).await?);
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((t0.elapsed(), all))
}

/// Open loop: one request every `interval`, whatever the answers do. Answers
/// each request's latency with when it was sent, from the first one.
async fn fixed_rate(
    url: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    interval: Duration,
) -> anyhow::Result<Vec<(Duration, Duration)>> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build()?;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..bodies.len() {
        tick.tick().await;
        let (client, url, bodies) = (client.clone(), url.to_string(), Arc::clone(&bodies));
        let sent = t0.elapsed();
        tasks.push(tokio::spawn(
            async move { anyhow::Ok((sent, post(&client, &url, bodies[i].clone()).await?)) },
        ));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.push(t.await??);
    }
    Ok(all)
}

/// How many of the requests over 10 ms were sent in each half second of a run.
fn slow_by_half_second(sent_lat: &[(Duration, Duration)]) -> Vec<usize> {
    let mut counts = Vec::new();
    for (sent, lat) in sent_lat {
        let slot = (sent.as_secs_f64() * 2.0) as usize;
        if counts.len() <= slot {
            counts.resize(slot + 1, 0);
        }
        if *lat > Duration::from_millis(10) {
            counts[slot] += 1;
        }
    }
    counts
}

/// One scrape of the server's `/metrics` text (empty when it did not answer).
struct Scrape(String);

impl Scrape {
    async fn take(client: &reqwest::Client, base: &str) -> Self {
        let text = match client.get(format!("{base}/metrics")).send().await {
            Ok(res) => res.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        Self(text)
    }

    /// The sample `name` (with its labels), 0 when absent.
    fn value(&self, name: &str) -> u64 {
        self.0
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// The histogram `name`: (upper bound in seconds, cumulative count) pairs.
    fn buckets(&self, name: &str) -> Vec<(f64, u64)> {
        self.0
            .lines()
            .filter_map(|l| l.strip_prefix(name)?.strip_prefix("_bucket{le=\""))
            .filter_map(|l| {
                let (le, n) = l.split_once("\"} ")?;
                Some((le.parse().unwrap_or(f64::INFINITY), n.trim().parse().ok()?))
            })
            .collect()
    }
}

async fn stored_total(client: &reqwest::Client, base: &str) -> u64 {
    Scrape::take(client, base).await.value("lummmen_stored_events_total")
}

/// Counts per bucket between two samples of one histogram.
fn between(before: &[(f64, u64)], after: &[(f64, u64)]) -> Vec<(f64, u64)> {
    after
        .iter()
        .zip(before.iter().chain(std::iter::repeat(&(0.0, 0))))
        .map(|(a, b)| (a.0, a.1 - b.1))
        .collect()
}

/// The bucket bound (ms) under which a share `p` of the observations fell.
fn quantile_ms(counts: &[(f64, u64)], p: f64) -> f64 {
    let total = counts.last().map_or(0, |c| c.1);
    let want = (total as f64 * p).ceil() as u64;
    counts.iter().find(|c| c.1 >= want).map_or(f64::NAN, |c| c.0 * 1000.0)
}

/// Observations above 10 ms.
fn over_10ms(counts: &[(f64, u64)]) -> u64 {
    let total = counts.last().map_or(0, |c| c.1);
    total - counts.iter().find(|c| c.0 >= 0.01).map_or(total, |c| c.1)
}

struct Figures {
    accepted_per_s: f64,
    stored_per_s: f64,
    p50: f64,
    p99: f64,
    half_p50: f64,
    half_p99: f64,
    rss_mb: f64,
    /// From the first request until everything is stored, at the maximum rate.
    cpu: Cpu,
    /// Spool group commits during the half-rate run: p50 and p99 bucket bounds.
    half_commit_ms: (f64, f64),
    /// The same for acknowledgements as the server times them.
    half_server_ack_ms: (f64, f64),
    /// Half-rate requests that took over 10 ms as the load generator saw them,
    /// and as the server timed them (from its handler's start); and spool
    /// group commits over 10 ms.
    half_over_10ms: (usize, u64, u64),
    /// CPU time stolen by the hypervisor during the half-rate run.
    half_steal_ms: f64,
    /// CPU used while the half-rate requests were sent and answered (storing
    /// goes on a little after) and how many events they carried.
    half_cpu: (Cpu, u64),
    /// Half-rate requests over 10 ms by the half second they were sent in.
    half_slow_when: Vec<usize>,
    /// Batches the drainer took parsed from `/collect` rather than parsing
    /// them again, and the ones it parsed from the spool, over both runs.
    handed: (u64, u64),
    /// Storage inserts at the maximum rate and at half rate.
    inserts: (u64, u64),
}

async fn run_backend(
    bin: &Path,
    dir: &Path,
    clickhouse: Option<(&str, &str)>,
    batches: &[Batch],
) -> anyhow::Result<Figures> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut server = spawn_server(bin, dir, port, clickhouse)?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if !up {
        bail!("server did not start");
    }
    let events: u64 = batches.iter().map(|b| b.events.len() as u64).sum();
    let bodies: Arc<Vec<Vec<u8>>> =
        Arc::new(batches.iter().map(|b| serde_json::to_vec(b).expect("json")).collect());
    let url = format!("{base}/collect");

    let mut config = lummmen_server::Config::for_tests(Path::new("."), dir.to_path_buf());
    if let Some((u, db)) = clickhouse {
        config = config.with_clickhouse(u, db);
    }
    let cpu0 = Cpu::sample(Some(server.id()));
    let t0 = Instant::now();
    let (elapsed, mut lat) = max_rate(&url, Arc::clone(&bodies)).await?;
    // The server's own counter: cheap to poll, unlike a COUNT over the table.
    while stored_total(&client, &base).await < events {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stored_elapsed = t0.elapsed();
    let cpu = Cpu::sample(Some(server.id())).since(cpu0);
    lat.sort();
    let accepted_per_s = events as f64 / elapsed.as_secs_f64();

    // Half the maximum sustained rate: what storage keeps up with, since above
    // it the spool only grows. Open loop, on new batch ids, for at least
    // HALF_RATE_SECONDS: the p99 of a steady state, of which the settling after
    // the full-rate run is a part but not most.
    let stored_per_s = events as f64 / stored_elapsed.as_secs_f64();
    // LUMMMEN_BENCH_HALF_RATE (events/s) sets it instead, to compare two
    // builds under the same load when their maximum rates differ.
    let half_rate = std::env::var("LUMMMEN_BENCH_HALF_RATE").ok().and_then(|v| v.parse::<f64>().ok());
    let batches_per_s = half_rate.unwrap_or(stored_per_s / 2.0) / 50.0;
    let half_n = (batches.len() as u64).max((batches_per_s * HALF_RATE_SECONDS) as u64);
    let half: Vec<Vec<u8>> = (0..half_n)
        .map(|i| {
            let mut b = batch(i);
            b.batch_id = format!("{:016x}", 0xc000_0000_0000_u64 + i);
            serde_json::to_vec(&b).expect("json")
        })
        .collect();
    let half_events = half_n * 50;
    let steal0 = steal_ms();
    let half_cpu0 = Cpu::sample(Some(server.id()));
    let before = Scrape::take(&client, &base).await;
    let half_sent = fixed_rate(&url, Arc::new(half), Duration::from_secs_f64(1.0 / batches_per_s)).await?;
    let half_slow_when = slow_by_half_second(&half_sent);
    let mut half_lat: Vec<Duration> = half_sent.into_iter().map(|(_, lat)| lat).collect();
    half_lat.sort();
    let half_steal_ms = steal_ms() - steal0;
    let half_cpu = Cpu::sample(Some(server.id())).since(half_cpu0);
    let after = Scrape::take(&client, &base).await;
    let histogram = |name: &str| between(&before.buckets(name), &after.buckets(name));
    let (commits, acks) = (histogram("lummmen_spool_commit_seconds"), histogram("lummmen_ack_seconds"));
    let half_commit_ms = (quantile_ms(&commits, 0.5), quantile_ms(&commits, 0.99));
    let half_server_ack_ms = (quantile_ms(&acks, 0.5), quantile_ms(&acks, 0.99));
    let half_over_10ms = (
        half_lat.iter().filter(|l| **l > Duration::from_millis(10)).count(),
        over_10ms(&acks),
        over_10ms(&commits),
    );
    while stored_total(&client, &base).await < events + half_events {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let end = Scrape::take(&client, &base).await;
    let inserts_max = before.value("lummmen_insert_rows_count");
    let inserts = (inserts_max, end.value("lummmen_insert_rows_count") - inserts_max);
    let handed = (
        end.value("lummmen_drained_batches_total{source=\"memory\"}"),
        end.value("lummmen_drained_batches_total{source=\"spool\"}"),
    );
    let store = lummmen_server::store::open(&config).await?;
    let counted = store.count_events(1).await?;
    if counted != events + half_events {
        bail!("storage holds {counted} events, {} were sent", events + half_events);
    }
    let rss_mb = peak_rss_mb(server.id());
    let _ = server.kill();
    let _ = server.wait();
    Ok(Figures {
        accepted_per_s,
        stored_per_s,
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
        half_p50: percentile(&half_lat, 0.5),
        half_p99: percentile(&half_lat, 0.99),
        rss_mb,
        cpu,
        half_commit_ms,
        half_server_ack_ms,
        half_over_10ms,
        half_steal_ms,
        half_cpu: (half_cpu, half_events),
        half_slow_when,
        handed,
        inserts,
    })
}

/// The same rows straight into ClickHouse through the crate, 50k rows per insert.
async fn direct_insert(url: &str, db: &str, batches: &[Batch]) -> anyhow::Result<(f64, Cpu)> {
    let store = ClickHouseStore::connect(url, db, None, None).await?;
    let rows: Vec<_> = batches.iter().flat_map(|b| rows_from_batch(b, None)).collect();
    let count = rows.len();
    let chunks: Vec<Arc<dyn RowSource>> =
        rows.chunks(50_000).map(|c| Arc::new(c.to_vec()) as Arc<dyn RowSource>).collect();
    let cpu0 = Cpu::sample(None);
    let t0 = Instant::now();
    for chunk in chunks {
        store.insert(chunk).await?;
    }
    let rate = count as f64 / t0.elapsed().as_secs_f64();
    Ok((rate, Cpu::sample(None).since(cpu0)))
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lummmen-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let ch_url = args.next().context("usage: ingest_bench CLICKHOUSE_URL [batches]")?;
    let n: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(6000);
    // LUMMMEN_BENCH_SERVER names another server binary, to compare two
    // builds in runs that alternate on the same machine.
    let bin = match std::env::var_os("LUMMMEN_BENCH_SERVER") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .context("exe dir")?
            .join("lummmen-server"),
    };
    let batches: Vec<Batch> = (0..n).map(batch).collect();
    let body_kb = serde_json::to_vec(&batches[0])?.len() as f64 / 1024.0;
    let suffix = std::process::id();

    // A run of the direct insert takes well under a second, short enough for
    // one stall of this machine to move it by half: the median of a few is the
    // baseline. Each database is dropped at once: merging its parts in the
    // background would otherwise take ClickHouse's CPU from what follows.
    let cleanup = ::clickhouse::Client::default().with_url(&ch_url).with_validation(false);
    let mut directs = Vec::new();
    for i in 0..DIRECT_RUNS {
        let db = format!("bench_direct_{suffix}_{i}");
        directs.push(direct_insert(&ch_url, &db, &batches).await?);
        cleanup.query(&format!("DROP DATABASE IF EXISTS {db}")).execute().await?;
    }
    directs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let direct_rates: Vec<String> = directs.iter().map(|d| format!("{:.0}", d.0)).collect();
    let (direct, direct_cpu) = directs.swap_remove(DIRECT_RUNS / 2);
    let ch_dir = temp_dir("ch");
    let ch = run_backend(&bin, &ch_dir, Some((&ch_url, &format!("bench_server_{suffix}"))), &batches).await?;
    let lite_dir = temp_dir("sqlite");
    let lite = run_backend(&bin, &lite_dir, None, &batches).await?;
    for d in [ch_dir, lite_dir] {
        let _ = std::fs::remove_dir_all(d);
    }
    let _ = cleanup.query(&format!("DROP DATABASE IF EXISTS bench_server_{suffix}")).execute().await;

    println!(
        "{n} batches of 50 events ({body_kb:.1} KB JSON each), {CONCURRENCY} concurrent senders, loopback\n"
    );
    println!("| backend | accepted ev/s | stored ev/s | p50 / p99 ack at max (ms) | p50 / p99 ack at half rate (ms) | peak RSS (MB) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, f) in [("ClickHouse 18.16", &ch), ("SQLite (default)", &lite)] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.1} / {:.1} | {:.1} / {:.1} | {:.0} |",
            f.accepted_per_s, f.stored_per_s, f.p50, f.p99, f.half_p50, f.half_p99, f.rss_mb
        );
    }
    println!(
        "\ndirect `clickhouse` crate insert of the same rows: {direct:.0} rows/s (median of {})",
        direct_rates.join(", ")
    );
    let events = n * 50;
    println!(
        "at half rate, p50 / p99 at most (ms), of spool group commits: ClickHouse backend {} / {}, SQLite backend {} / {}; \
         of acknowledgements as the server times them: ClickHouse backend {} / {}, SQLite backend {} / {}",
        ch.half_commit_ms.0,
        ch.half_commit_ms.1,
        lite.half_commit_ms.0,
        lite.half_commit_ms.1,
        ch.half_server_ack_ms.0,
        ch.half_server_ack_ms.1,
        lite.half_server_ack_ms.0,
        lite.half_server_ack_ms.1
    );
    println!(
        "half-rate requests over 10 ms, as the load generator saw them / as the server timed them, \
         and spool group commits over 10 ms: ClickHouse backend {} / {}, {}; SQLite backend {} / {}, {}",
        ch.half_over_10ms.0,
        ch.half_over_10ms.1,
        ch.half_over_10ms.2,
        lite.half_over_10ms.0,
        lite.half_over_10ms.1,
        lite.half_over_10ms.2
    );
    println!(
        "half-rate requests over 10 ms by the half second they were sent in: ClickHouse backend {:?}, SQLite backend {:?}",
        ch.half_slow_when, lite.half_slow_when
    );
    println!(
        "CPU time stolen by the hypervisor during the half-rate run (ms, both CPUs): ClickHouse backend {:.0}, SQLite backend {:.0}",
        ch.half_steal_ms, lite.half_steal_ms
    );
    println!(
        "CPU per event (us), server / ClickHouse / load generator, first request to all stored: \
         ClickHouse backend {}, SQLite backend {}; direct insert {}",
        ch.cpu.per_event(events),
        lite.cpu.per_event(events),
        direct_cpu.per_event(events)
    );
    println!(
        "CPU per event (us), server / ClickHouse / load generator, during the half-rate run: ClickHouse backend {}, SQLite backend {}",
        ch.half_cpu.0.per_event(ch.half_cpu.1),
        lite.half_cpu.0.per_event(lite.half_cpu.1)
    );
    println!(
        "batches the drainer took parsed from /collect / parsed again from the spool: ClickHouse backend {} / {}, SQLite backend {} / {}",
        ch.handed.0, ch.handed.1, lite.handed.0, lite.handed.1
    );
    println!(
        "storage inserts at the maximum rate / at half rate: ClickHouse backend {} / {}, SQLite backend {} / {}",
        ch.inserts.0, ch.inserts.1, lite.inserts.0, lite.inserts.1
    );
    println!(
        "ClickHouse end to end (stored) / direct: {:.0}%; SQLite stored: {:.0} ev/s",
        100.0 * ch.stored_per_s / direct,
        lite.stored_per_s
    );
    Ok(())
}
