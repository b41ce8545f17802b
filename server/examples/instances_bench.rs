//! Ingest through one server instance against two (BENCHMARKS.md, "Several
//! instances"): the same batches posted by the same 32 senders, round-robin
//! over the instances, each instance with its own spool, all sharing one
//! PostgreSQL (metadata) and one ClickHouse (events). Events per second
//! acknowledged, and stored (until every instance's
//! `lummmen_stored_events_total` adds up to the load). Rounds alternate one
//! and two instances; the figure is the ratio of medians, from one run.
//!
//! `scripts/bench-instances.sh` builds in release mode, starts the test
//! ClickHouse and PostgreSQL, and runs this:
//! `target/release/examples/instances_bench <clickhouse url> <postgres url> [batches] [rounds]`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

#[path = "support/batch.rs"]
mod load;

const CONCURRENCY: usize = 32;

struct Instance {
    base: String,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn spawn(
    bin: &PathBuf,
    data: PathBuf,
    database_url: &str,
    ch: &str,
    ch_db: &str,
) -> anyhow::Result<Instance> {
    let port = free_port()?;
    let child = Command::new(bin)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data)
        .args(["--seed-demo", "--rate-limit", "0", "--database-url", database_url])
        .args(["--clickhouse-url", ch, "--clickhouse-database", ch_db])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawning the server")?;
    Ok(Instance { base: format!("http://127.0.0.1:{port}"), child })
}

async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{base} did not become ready")
}

async fn stored(client: &reqwest::Client, base: &str) -> u64 {
    let text = match client.get(format!("{base}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => return 0,
    };
    text.lines()
        .find_map(|l| l.strip_prefix("lummmen_stored_events_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn create_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let (client, conn) = tokio_postgres::connect(admin, tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await?;
    drop(client);
    let _ = task.await;
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

/// One round: `n` instances, every body posted once; answers (accepted ev/s,
/// stored ev/s).
async fn round(
    bin: &PathBuf,
    n: usize,
    tag: &str,
    ch: &str,
    pg_admin: &str,
    bodies: Arc<Vec<Vec<u8>>>,
    events: u64,
) -> anyhow::Result<(f64, f64)> {
    let name = format!("lummmen_bench_{tag}_{}", std::process::id());
    let database = create_database(pg_admin, &name).await?;
    let root = std::env::temp_dir().join(&name);
    let _ = std::fs::remove_dir_all(&root);
    let client = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY).build()?;
    let mut instances = Vec::new();
    for i in 0..n {
        instances.push(spawn(bin, root.join(format!("i{i}")), &database, ch, &name)?);
    }
    for i in &instances {
        wait_ready(&client, &i.base).await?;
    }
    let urls: Arc<Vec<String>> = Arc::new(instances.iter().map(|i| format!("{}/collect", i.base)).collect());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, urls, bodies, next) =
            (client.clone(), Arc::clone(&urls), Arc::clone(&bodies), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(body) = bodies.get(k) else { break };
                let res = client
                    .post(&urls[k % urls.len()])
                    .header("content-type", "text/plain")
                    .body(body.clone())
                    .send()
                    .await?;
                if res.status() != 200 {
                    bail!("server answered {}", res.status());
                }
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let accepted = events as f64 / t0.elapsed().as_secs_f64();
    loop {
        let mut total = 0;
        for i in &instances {
            total += stored(&client, &i.base).await;
        }
        if total >= events {
            break;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            bail!("stored {total} of {events} after five minutes");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stored = events as f64 / t0.elapsed().as_secs_f64();
    drop(instances);
    let _ = std::fs::remove_dir_all(&root);
    let _ = reqwest::Client::new().post(ch).body(format!("DROP DATABASE IF EXISTS {name}")).send().await;
    Ok((accepted, stored))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(ch), Some(pg)) = (args.get(1), args.get(2)) else {
        bail!("usage: instances_bench <clickhouse url> <postgres url> [batches] [rounds]")
    };
    let batches: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(4000);
    let rounds: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let bin = std::env::current_exe()?
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("lummmen-server"))
        .context("the server binary beside the examples")?;
    let all: Vec<protocol::Batch> = (0..batches).map(load::batch).collect();
    let events: u64 = all.iter().map(|b| b.events.len() as u64).sum();
    let bodies = Arc::new(all.iter().map(serde_json::to_vec).collect::<Result<Vec<_>, _>>()?);
    println!("{batches} batches, {events} events, {CONCURRENCY} senders, {rounds} rounds of each");
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        // Alternate which goes first, so drift on the machine falls on both.
        let order: [usize; 2] = if r % 2 == 0 { [1, 2] } else { [2, 1] };
        for n in order {
            let figures = round(&bin, n, &format!("r{r}n{n}"), ch, pg, Arc::clone(&bodies), events).await?;
            println!(
                "round {r}, {n} instance(s): accepted {:.0} ev/s, stored {:.0} ev/s",
                figures.0, figures.1
            );
            if n == 1 {
                one.push(figures)
            } else {
                two.push(figures)
            }
        }
    }
    let (a1, s1) = (median(one.iter().map(|f| f.0).collect()), median(one.iter().map(|f| f.1).collect()));
    let (a2, s2) = (median(two.iter().map(|f| f.0).collect()), median(two.iter().map(|f| f.1).collect()));
    println!("| instances | accepted ev/s (median) | stored ev/s (median) |");
    println!("| --- | --- | --- |");
    println!("| 1 | {a1:.0} | {s1:.0} |");
    println!("| 2 | {a2:.0} | {s2:.0} |");
    println!("| 2 / 1 | {:.2} | {:.2} |", a2 / a1, s2 / s1);
    Ok(())
}
