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
//! - `heatmap_query_over_a_million_clicks`: one page with 1 M stored clicks, in
//!   ClickHouse and in SQLite; `/api/heatmap` over HTTP and the store's query alone.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use lummmen_e2e::storefront::{app_config, clickhouse_rows, clickhouse_url, drop_database, fresh_database};
use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::store::heatmap::{Bucket, Heat, HeatClick, HeatPage, PageGroup};
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

/// Deterministic clicks: most around 40 hot spots of a 1280 x 4000 page, some anywhere.
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
    (0..n)
        .map(|i| {
            let (x, y) = if next() % 10 < 8 {
                let (sx, sy) = spots[(next() % 40) as usize];
                (sx + (next() % 41) as i32 - 20, sy + (next() % 41) as i32 - 20)
            } else {
                ((next() % 1280) as i32, (next() % 4000) as i32)
            };
            let (x, y) = (x.max(0), y.max(0));
            let visitor = format!("{:016x}", i / 50);
            let json = format!(
                r##"{{"k":"c","t":{},"x":{x},"y":{y},"cx":{x},"cy":{},"dt":1000,"bt":0,"tg":"button","sel":"#b{}"}}"##,
                t0 + i as u64,
                y % 800,
                i % 40
            );
            EventRow {
                event_id: format!("{:016x}-{}", i / 100, i % 100),
                site_id: 1,
                visitor_id: visitor,
                session_id: "a1b2c3d4e5f60718".into(),
                page_view_id: format!("{:016x}", i / 20),
                kind: "c",
                time: t0 + i as u64,
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
                    rel: None,
                    selector: format!("#b{}", i % 40),
                    rage: false,
                    dead: false,
                })),
                traffic: None,
                json,
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

async fn time_heatmap(label: &str, config: Config) -> anyhow::Result<(f64, f64)> {
    let server = ServerHandle::start(config).await?;
    let store = server.store();
    let rows = synthetic_rows(MILLION);
    let started = Instant::now();
    for chunk in rows.chunks(50_000) {
        store.insert(std::sync::Arc::new(chunk.to_vec())).await?;
    }
    println!("{label}: inserted {MILLION} clicks in {:.1} s", started.elapsed().as_secs_f64());
    drop(rows);
    let mut query = HeatmapQuery::page(1, PATH);
    query.parts.moves = false;
    query.parts.scroll = false;
    let first = store.heatmap(&query).await?.clicks.unwrap_or_default();
    assert_eq!(first.total, MILLION as u64, "{label}: every click counted once");
    let mut raw = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let map = store.heatmap(&query).await?.clicks.unwrap_or_default();
        raw.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(map.total, MILLION as u64);
    }
    let http = reqwest::Client::new();
    let url = format!("{}/api/heatmap?site=1&page={PATH}&mode=clicks", server.url());
    let mut api = Vec::new();
    let mut bytes = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let resp = http.get(&url).bearer_auth(OPERATOR).send().await?;
        assert_eq!(resp.status(), 200);
        bytes = resp.bytes().await?.len();
        api.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (raw, api) = (median(raw), median(api));
    println!(
        "{label}: heatmap of 1 M clicks, {} cells ({bytes} bytes of JSON): store query p50 {raw:.0} ms, \
         /api/heatmap p50 {api:.0} ms",
        first.grid.len()
    );
    server.shutdown().await?;
    Ok((raw, api))
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
    let (ch_raw, ch_api) = time_heatmap("clickhouse", ch_config).await?;
    drop_database(&ch, &db).await?;

    let lite_dir = TempDir::new("bench-heatmap-sqlite")?;
    let mut lite_config = Config::for_tests(&root(), lite_dir.0.clone());
    lite_config.shopify.operator_token = Some(OPERATOR.into());
    let (lite_raw, lite_api) = time_heatmap("sqlite", lite_config).await?;
    println!(
        "sqlite / clickhouse: store query {:.1}x, /api/heatmap {:.1}x",
        lite_raw / ch_raw,
        lite_api / ch_api
    );
    Ok(())
}
