//! End-to-end measurements, run on demand (they take a minute each):
//!
//! ```sh
//! scripts/clickhouse.sh start   # prints the URL
//! LUMMMEN_TEST_CLICKHOUSE_URL=http://127.0.0.1:18123 \
//!   cargo test --release -p lummmen-e2e --test end_to_end_bench -- --ignored --nocapture --test-threads 1
//! ```
//!
//! - `click_to_clickhouse_latency`: real clicks in headless Chromium on the demo
//!   storefront; for each, the time from the click (its own timestamp) until its
//!   row is returned by a query on ClickHouse, polled every 10 ms.
//! - `heatmap_query_over_a_million_clicks`: one product page with 1 M stored
//!   clicks over 30 days (most anchored to one of 440 elements, some rage and
//!   dead), in ClickHouse (merged, as background merges leave it) and in
//!   SQLite; p50 and p95 of the store's query alone, of `/api/heatmap` over
//!   HTTP, and of the page's template group `/products/*`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use lummmen_e2e::storefront::{app_config, clickhouse_rows, clickhouse_url, drop_database, fresh_database};
use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::store::heatmap::{Bucket, Heat, HeatClick, HeatPage, PageGroup, MAX_ELEMENTS};
use lummmen_server::store::{EventRow, HeatmapQuery};
use lummmen_server::{Config, ServerHandle};

const CLICKS: usize = 200;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored (see the module docs)"]
async fn click_to_clickhouse_latency() -> anyhow::Result<()> {
    let ch = clickhouse_url()?;
    let db = fresh_database("latency");
    let data = TempDir::new("bench-latency")?;
    let server = ServerHandle::start(app_config(data.0.clone(), &ch, &db)).await?;
    let browser = Browser::start().await?;
    browser.client.goto(&format!("{}/demo/", server.url())).await?;
    browser.wait_for("document.documentElement.dataset.lummmen === 'ready'", Duration::from_secs(15)).await?;
    browser.client.find(Locator::Css("#standin-accept")).await?.click().await?;
    browser
        .wait_for("document.documentElement.dataset.lummmenState === 'tracking'", Duration::from_secs(10))
        .await?;

    let targets =
        ["h1", ".product:nth-child(1) p", ".product:nth-child(2) h2", ".product:nth-child(3) p", "footer"];
    let clicking = async {
        for i in 0..CLICKS {
            browser.client.find(Locator::Css(targets[i % targets.len()])).await?.click().await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::Ok(())
    };
    let seen = async {
        let mut first_seen: HashMap<String, f64> = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(180);
        while first_seen.len() < CLICKS && Instant::now() < deadline {
            let rows =
                clickhouse_rows(&ch, &db, "SELECT event_id, time FROM clicks").await.unwrap_or_default();
            let now = now_ms();
            for r in rows {
                let id = r["event_id"].as_str().unwrap_or_default().to_string();
                let t: u64 = r["time"].as_str().and_then(|t| t.parse().ok()).unwrap_or(now);
                first_seen.entry(id).or_insert((now.saturating_sub(t)) as f64);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        first_seen
    };
    let (clicked, first_seen) = tokio::join!(clicking, seen);
    clicked?;
    let mut latencies: Vec<f64> = first_seen.into_values().collect();
    latencies.sort_by(f64::total_cmp);
    assert!(latencies.len() >= CLICKS, "only {} of {CLICKS} clicks reached ClickHouse", latencies.len());
    println!(
        "click to queryable in ClickHouse over {} clicks: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    browser.close().await?;
    server.shutdown().await?;
    drop_database(&ch, &db).await?;
    Ok(())
}

const PAGE: &str = "https://demo-shop.myshopify.com/products/organic-cotton-tee";
const PATH: &str = "/products/organic-cotton-tee";
const MILLION: usize = 1_000_000;

/// Deterministic clicks over 30 days: 85% anchored to their element (a
/// relative position inside its box), four in five of those on 40 hot
/// elements and the rest on 400 others; the other 15% without an element
/// position, around 40 hot spots of a 1280 x 4000 page or anywhere. 2% rage
/// clicks, 3% dead ones.
fn synthetic_rows(n: usize) -> Vec<EventRow> {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let spots: Vec<(i32, i32)> = (0..40).map(|_| ((next() % 1280) as i32, (next() % 4000) as i32)).collect();
    let t0: u64 = 1_763_800_000_000;
    let step = 30 * 86_400_000 / n.max(1) as u64;
    (0..n)
        .map(|i| {
            let anchored = next() % 100 < 85;
            let element = if next() % 5 < 4 { next() % 40 } else { 40 + next() % 400 };
            let (x, y) = if anchored || next() % 10 < 8 {
                let (sx, sy) = spots[(element % 40) as usize];
                (sx + (next() % 41) as i32 - 20, sy + (next() % 41) as i32 - 20)
            } else {
                ((next() % 1280) as i32, (next() % 4000) as i32)
            };
            let (x, y) = (x.max(0), y.max(0));
            let rel = anchored.then(|| ((next() % 1001) as u16, (next() % 1001) as u16));
            let roll = next() % 100;
            let (rage, dead) = (roll < 2, (2..5).contains(&roll));
            let selector = format!("#shop > main .product:nth-child({element}) > button");
            let time = t0 + i as u64 * step;
            let rel_json = rel.map(|(rx, ry)| format!(r#","rx":{rx},"ry":{ry}"#)).unwrap_or_default();
            let json = format!(
                r##"{{"k":"c","t":{time},"x":{x},"y":{y},"cx":{x},"cy":{},"dt":1000,"bt":0,"tg":"button","sel":"{selector}","vw":1280{rel_json}}}"##,
                y % 800,
            );
            EventRow {
                event_id: format!("{:016x}-{}", i / 100, i % 100),
                site_id: 1,
                visitor_id: format!("{:016x}", i / 50),
                session_id: "a1b2c3d4e5f60718".into(),
                page_view_id: format!("{:016x}", i / 20),
                kind: "c",
                time,
                url: PAGE.into(),
                order_id: String::new(),
                customer_id: String::new(),
                heat: Some(Heat::Click(HeatClick {
                    page: HeatPage {
                        path: PATH.into(),
                        group: PageGroup::Products.code(),
                        bucket: Bucket::Desktop.code(),
                    },
                    x,
                    y,
                    rel,
                    selector,
                    rage,
                    dead,
                })),
                traffic: None,
                json,
            }
        })
        .collect()
}

/// p50 and p95 of `runs` timings of `f`, in ms.
async fn timed<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<(f64, f64)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok((percentile(&ms, 0.5), percentile(&ms, 0.95)))
}

/// The figures of one store: the store's query and `/api/heatmap`, p50 and
/// p95 over 20 runs each, for the page and for its template group.
#[derive(Debug, Clone, Copy)]
struct HeatFigures {
    store: (f64, f64),
    api: (f64, f64),
    group: (f64, f64),
}

/// Inserts the clicks, lets `settle` run (ClickHouse merges its parts), and
/// times the heatmap of the page.
async fn time_heatmap<S, SFut>(label: &str, config: Config, settle: S) -> anyhow::Result<HeatFigures>
where
    S: FnOnce() -> SFut,
    SFut: std::future::Future<Output = anyhow::Result<()>>,
{
    let server = ServerHandle::start(config).await?;
    let store = server.store();
    let rows = synthetic_rows(MILLION);
    let anchored =
        rows.iter().filter(|r| matches!(&r.heat, Some(Heat::Click(c)) if c.rel.is_some())).count() as u64;
    let started = Instant::now();
    for chunk in rows.chunks(50_000) {
        store.insert(std::sync::Arc::new(chunk.to_vec())).await?;
    }
    println!("{label}: inserted {MILLION} clicks in {:.1} s", started.elapsed().as_secs_f64());
    drop(rows);
    let started = Instant::now();
    settle().await?;
    println!("{label}: settled in {:.1} s", started.elapsed().as_secs_f64());
    let mut query = HeatmapQuery::page(1, PATH);
    query.parts.moves = false;
    query.parts.scroll = false;
    let first = store.heatmap(&query).await?.clicks.unwrap_or_default();
    assert_eq!(first.total, MILLION as u64, "{label}: every click counted once");
    // At least the 100 most clicked of 440 elements (a store may give them
    // all): the 40 hot ones hold four in five anchored clicks.
    assert!(first.elements.len() >= MAX_ELEMENTS as usize, "{label}: the most clicked elements");
    let in_elements: u64 = first.elements.iter().map(|e| e.clicks).sum();
    assert!(
        in_elements <= anchored && in_elements * 10 >= anchored * 8,
        "{label}: {in_elements} of {anchored} anchored clicks on the kept elements"
    );
    assert!(first.elements.iter().any(|e| e.rage > 0) && first.elements.iter().any(|e| e.dead > 0));
    assert!(!first.grid.is_empty() && !first.points.is_empty());
    let store_times = timed(20, || async {
        let map = store.heatmap(&query).await?.clicks.unwrap_or_default();
        assert_eq!(map.total, MILLION as u64);
        Ok(())
    })
    .await?;
    let http = reqwest::Client::new();
    let bytes = std::cell::Cell::new(0);
    let get = |page: &'static str| {
        let (http, bytes) = (&http, &bytes);
        let url = format!("{}/api/heatmap?site=1&page={page}&mode=clicks", server.url());
        move || {
            let url = url.clone();
            async move {
                let resp = http.get(&url).bearer_auth(OPERATOR).send().await?;
                anyhow::ensure!(resp.status() == 200, "{url}: {}", resp.status());
                bytes.set(resp.bytes().await?.len());
                Ok(())
            }
        }
    };
    let api = timed(20, get(PATH)).await?;
    let page_bytes = bytes.get();
    let group = timed(20, get("/products/*")).await?;
    let figures = HeatFigures { store: store_times, api, group };
    println!(
        "{label}: heatmap of 1 M clicks, {} elements, {} grid cells ({page_bytes} bytes of JSON): \
         store query p50 / p95 {:.0} / {:.0} ms, /api/heatmap {:.0} / {:.0} ms, /products/* {:.0} / {:.0} ms",
        first.elements.len(),
        first.grid.len(),
        figures.store.0,
        figures.store.1,
        figures.api.0,
        figures.api.1,
        figures.group.0,
        figures.group.1,
    );
    server.shutdown().await?;
    Ok(figures)
}

const OPERATOR: &str = "bench-operator-token";

#[tokio::test]
#[ignore = "benchmark: run with --ignored (see the module docs)"]
async fn heatmap_query_over_a_million_clicks() -> anyhow::Result<()> {
    let ch = clickhouse_url()?;
    let ch_dir = TempDir::new("bench-heatmap-ch")?;
    let db = fresh_database("heatmap");
    let mut ch_config = app_config(ch_dir.0.clone(), &ch, &db);
    ch_config.shopify.operator_token = Some(OPERATOR.into());
    // As the background merges leave the table after a while: one part per
    // month.
    let merge = || async {
        let resp = reqwest::Client::new()
            .post(format!("{ch}/?database={db}"))
            .body("OPTIMIZE TABLE heat_clicks FINAL")
            .send()
            .await?;
        anyhow::ensure!(resp.status().is_success(), "OPTIMIZE: {}", resp.text().await?);
        Ok(())
    };
    let ch_figures = time_heatmap("clickhouse", ch_config, merge).await?;
    drop_database(&ch, &db).await?;

    let lite_dir = TempDir::new("bench-heatmap-sqlite")?;
    let mut lite_config = Config::for_tests(&root(), lite_dir.0.clone());
    lite_config.shopify.operator_token = Some(OPERATOR.into());
    let lite_figures = time_heatmap("sqlite", lite_config, || async { Ok(()) }).await?;
    println!(
        "sqlite / clickhouse p50: store query {:.1}x, /api/heatmap {:.1}x",
        lite_figures.store.0 / ch_figures.store.0,
        lite_figures.api.0 / ch_figures.api.0
    );
    Ok(())
}
