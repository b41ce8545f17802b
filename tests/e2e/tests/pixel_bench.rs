//! Start-up of the built web pixel inside a real Web Worker: time from the
//! `register` callback being called to the pixel being ready (wasm inflated,
//! compiled, instantiated, state created), next to the time `importScripts` takes
//! to load the bundle, over many fresh workers. A measurement, not a test: run
//!
//! `cargo xtask build pixel && cargo test -p lummmen-e2e --test pixel_bench -- --ignored --nocapture`
//!
//! (the timings are taken inside the browser, so a debug build of the test is fine)
//!
//! and copy the figures into BENCHMARKS.md ("Web pixel").

use std::time::Duration;

mod pixel_support;

use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::{Config, ServerHandle};
use pixel_support::pixel_bundle;
use serde_json::json;

const RUNS: usize = 30;

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::test]
#[ignore = "a measurement; run it explicitly (see the module docs)"]
async fn pixel_register_to_ready_in_a_worker() -> anyhow::Result<()> {
    let data = TempDir::new("bench-pixel")?;
    let server = ServerHandle::start(Config::for_tests(&root(), data.0.clone())).await?;
    let browser = Browser::start().await?;
    let (mut ready, mut load) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let url = format!("{}/pixel-harness/?manual=1", server.url());
        browser.client.goto(&url).await?;
        browser.client.execute("startPixel({analyticsAllowed: true}); return null;", vec![]).await?;
        let t = browser.wait_for("window.pixel && pixel.timings", Duration::from_secs(20)).await?;
        ready.push(t["readyMs"].as_f64().unwrap_or(f64::NAN));
        load.push(t["loadMs"].as_f64().unwrap_or(f64::NAN));
    }
    ready.sort_by(f64::total_cmp);
    load.sort_by(f64::total_cmp);
    let size = std::fs::metadata(pixel_bundle())?.len();
    let report = json!({
        "runs": RUNS,
        "bundle_bytes": size,
        "register_to_ready_ms": {"min": ready[0], "median": quantile(&ready, 0.5), "p90": quantile(&ready, 0.9)},
        "import_scripts_ms": {"min": load[0], "median": quantile(&load, 0.5), "p90": quantile(&load, 0.9)},
        "ready_over_load_median": quantile(&ready, 0.5) / quantile(&load, 0.5),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    browser.close().await?;
    server.shutdown().await?;
    Ok(())
}
