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
//! The shop: sessions of one to several page views (a third from search and
//! social sites, the rest direct or internal), each page view followed by
//! about ten tracker events (clicks, moves, scrolls, the leave) in its batch;
//! on product pages the pixel's product views, some adds to cart and a few
//! orders. Deterministic: the same arguments give the same data.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lummmen_server::store::clickhouse::ClickHouseStore;
use lummmen_server::store::rows::{rows_from_batch, EventRow};
use lummmen_server::store::sqlite::SqliteStore;
use lummmen_server::store::{EventStore, RowSource};
use protocol::{
    Batch, CartLine, CheckoutCompleted, Click, Event, MoveBatch, PageLeave, PageView, Product, Scroll,
};

/// 2026-10-02T00:00Z: the data covers the 60 days from here.
const START_MS: u64 = 1_790_899_200_000;
const DAYS: u64 = 60;
const DAY_MS: u64 = 86_400_000;
/// The 30 days asked for: the last 30 of the data, in Paris.
const QUERY: &str = "/api/stats?site=1&from=2026-11-01&to=2026-11-30&tz=Europe/Paris";
const RUNS: usize = 40;
const OPERATOR: &str = "stats-bench-operator";
/// Rows per insert, as the drainer's large inserts.
const CHUNK: usize = 50_000;

const REFERRERS: [&str; 8] = [
    "",
    "",
    "",
    "https://www.google.com/search?q=tee",
    "https://www.instagram.com/",
    "https://l.facebook.com/",
    "https://www.bing.com/",
    "https://t.co/x",
];
const WIDTHS: [u32; 7] = [390, 414, 430, 768, 1024, 1440, 1920];

/// xorshift64*: fast, deterministic, good enough for synthetic traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Shop {
    rng: Rng,
    batch: u64,
    session: u64,
    visitors: u64,
}

fn product(id: u64) -> Product {
    Product {
        product_id: Some(id.to_string()),
        variant_id: None,
        sku: None,
        title: format!("Product {id}"),
        variant_title: None,
        price: 10.0 + (id % 40) as f64,
        category: None,
        currency: Some("EUR".into()),
    }
}

impl Shop {
    fn new(visitors: u64) -> Self {
        Self { rng: Rng(0x9E37_79B9_7F4A_7C15), batch: 0, session: 0, visitors }
    }

    fn batch(&mut self, visitor: &str, session: Option<&str>, events: Vec<Event>) -> Batch {
        self.batch += 1;
        let sent_at = events.last().map_or(START_MS, Event::time) + 500;
        Batch {
            site_id: 1,
            visitor_id: visitor.to_string(),
            batch_id: format!("{:016x}", 0xb000_0000_0000_u64 + self.batch),
            sent_at,
            session_id: session.map(String::from),
            page_view_id: Some(format!("{:016x}", 0x9a00_0000_0000_u64 + self.batch)),
            dropped: 0,
            events,
        }
    }

    /// One session's batches.
    fn session(&mut self) -> Vec<Batch> {
        self.session += 1;
        let visitor = format!("{:016x}", 0x5eed_0000_0000_u64 + self.rng.below(self.visitors));
        let session = format!("{:016x}", 0x5e55_0000_0000_u64 + self.session);
        let mut t = START_MS + self.rng.below(DAYS * DAY_MS - 3_600_000);
        let pages = 1 + self.rng.below(3) + self.rng.below(3);
        let width = WIDTHS[self.rng.below(WIDTHS.len() as u64) as usize];
        let mut out = Vec::new();
        let mut referrer = REFERRERS[self.rng.below(REFERRERS.len() as u64) as usize].to_string();
        for _ in 0..pages {
            let item = self.rng.below(200);
            let on_product = self.rng.below(3) > 0;
            let url = if on_product {
                format!("https://demo-shop.myshopify.com/products/item-{item}")
            } else {
                ["/", "/collections/all", "/cart"][self.rng.below(3) as usize].to_string()
            };
            let url =
                if url.starts_with('/') { format!("https://demo-shop.myshopify.com{url}") } else { url };
            let mut events = vec![Event::PageView(PageView {
                time: t,
                url: url.clone(),
                referrer: std::mem::replace(&mut referrer, "https://demo-shop.myshopify.com/".into()),
                title: "Demo shop".into(),
                viewport_width: width,
                viewport_height: 800,
                screen_width: width,
                screen_height: 900,
                tz_offset_min: -60,
                doc_width: width,
                doc_height: 4000,
            })];
            let others = 4 + self.rng.below(13);
            for i in 1..=others {
                let at = t + i * 900;
                let k = i as i32;
                events.push(match self.rng.below(4) {
                    0 => Event::Click(Click {
                        time: at,
                        x: 100 + 9 * k,
                        y: 600 + 17 * k,
                        cx: 100 + 9 * k,
                        cy: 300,
                        since_page_view_ms: i * 900,
                        button: 0,
                        tag: "button".into(),
                        element_id: None,
                        classes: vec!["btn".into()],
                        selector: "#product-form > button".into(),
                        href: None,
                        rage: false,
                        rel_x: None,
                        rel_y: None,
                        viewport_width: None,
                        dead: false,
                    }),
                    1 => Event::Scroll(Scroll { time: at, depth: (i * 6).min(100) as u8, y: 800 + 100 * k }),
                    _ => Event::Moves(MoveBatch {
                        time: at,
                        points: (0..5).map(|p| [300 + k * 3 + p * 11, 800 + k * 5 + p * 7, p * 50]).collect(),
                    }),
                });
            }
            events.push(Event::PageLeave(PageLeave {
                time: t + (others + 1) * 900,
                duration_ms: 9000,
                scroll_depth: 70,
            }));
            out.push(self.batch(&visitor, Some(&session), events));
            if on_product && self.rng.below(10) < 6 {
                let mut commerce =
                    vec![Event::ProductViewed { time: t + 50, url: url.clone(), product: product(item) }];
                if self.rng.below(100) < 15 {
                    commerce.push(Event::AddedToCart {
                        time: t + 4000,
                        url: url.clone(),
                        line: CartLine { quantity: 1, product: product(item) },
                        cart: Some(vec![CartLine { quantity: 1, product: product(item) }]),
                    });
                    if self.rng.below(100) < 35 {
                        commerce.push(Event::CheckoutCompleted(CheckoutCompleted {
                            time: t + 120_000,
                            url: "https://demo-shop.myshopify.com/checkouts/c/x/thank-you".into(),
                            order_id: Some((5_000_000 + self.batch).to_string()),
                            customer_id: None,
                            currency: "EUR".into(),
                            total: 10.0 + (item % 40) as f64,
                            subtotal: 0.0,
                            tax: 0.0,
                            shipping: 0.0,
                            discounts: 0.0,
                            items: vec![],
                        }));
                    }
                }
                out.push(self.batch(&visitor, None, commerce));
            }
            t += (others + 2) * 900 + 20_000;
        }
        out
    }

    /// The rows of the next sessions: at least [`CHUNK`] of them.
    fn chunk(&mut self) -> Vec<EventRow> {
        let mut rows = Vec::with_capacity(CHUNK + 200);
        while rows.len() < CHUNK {
            for batch in self.session() {
                rows.extend(rows_from_batch(&batch, None));
            }
        }
        rows
    }
}

/// Generates and inserts about `events` events, a chunk at a time (10 million
/// rows would not fit in memory at once); returns rows, rows/s and the share
/// of rows with a dashboard row.
async fn load_generated(
    store: &dyn EventStore,
    shop: &mut Shop,
    events: usize,
) -> anyhow::Result<(usize, f64, f64)> {
    let (mut rows, mut traffic) = (0, 0);
    let mut busy = Duration::ZERO;
    while rows < events {
        let chunk = shop.chunk();
        rows += chunk.len();
        traffic += chunk.iter().filter(|r| r.traffic.is_some()).count();
        let t0 = Instant::now();
        store.insert(Arc::new(chunk)).await?;
        busy += t0.elapsed();
    }
    Ok((rows, rows as f64 / busy.as_secs_f64(), traffic as f64 / rows as f64))
}

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

fn spawn_server(
    bin: &Path,
    data: &Path,
    port: u16,
    clickhouse: Option<(&str, &str)>,
) -> anyhow::Result<Child> {
    let mut cmd = Command::new(bin);
    cmd.arg("--listen").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(data);
    cmd.args(["--seed-demo", "--operator-token", OPERATOR]).env("RUST_LOG", "warn");
    if let Some((url, db)) = clickhouse {
        cmd.args(["--clickhouse-url", url, "--clickhouse-database", db]);
    }
    cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().context("spawning the server")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// p50 and p95 of `/api/stats` (ms) and the answer's visitors and page views.
async fn latencies(
    bin: &Path,
    data: &Path,
    clickhouse: Option<(&str, &str)>,
) -> anyhow::Result<(f64, f64, String)> {
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let ch_url = args.next().context("usage: stats_bench CLICKHOUSE_URL [ch_events] [sqlite_events]")?;
    let ch_events: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10_000_000);
    let lite_events: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1_000_000);
    let bin =
        std::env::current_exe()?.parent().and_then(Path::parent).context("exe dir")?.join("lummmen-server");
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
    let (lite_p50, lite_p95, lite_answer) = latencies(&bin, &lite_dir, None).await?;
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
    for table in ["events", "clicks", "traffic"] {
        admin.query(&format!("OPTIMIZE TABLE {db}.{table} FINAL")).execute().await?;
    }
    let merge_s = merge.elapsed().as_secs_f64();
    let ch_dir = temp_dir("ch");
    let (ch_p50, ch_p95, ch_answer) = latencies(&bin, &ch_dir, Some((&ch_url, &db))).await?;
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
    println!("ClickHouse: OPTIMIZE FINAL of the three tables took {merge_s:.1} s");
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
