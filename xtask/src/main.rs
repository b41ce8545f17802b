//! Build tooling, run as `cargo xtask <command>`.
//!
//! - `build`: release wasm for the tracker and the pixel, wasm-bindgen, wasm-opt,
//!   the theme extension's assets, the pixel's generated modules, then
//!   `shopify app build` for the pixel bundle. `build tracker` or `build pixel`
//!   builds one of the two; `build overlay` only the heatmap overlay (part of
//!   `build tracker`).
//! - `size`: raw, gzip and brotli sizes of what shoppers download (and of what
//!   merchants do: the heatmap overlay, the admin's charts); fails when the
//!   pixel bundle is over Shopify's 128 KB limit.
//! - `bench-tracker`: the storefront tracker's main-thread cost and bytes on the
//!   wire in headless Chromium (the ignored `tracker_bench` end-to-end test).

mod build;
mod names;
mod paths;
mod size;

use anyhow::bail;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => match args.get(1).map(String::as_str) {
            None => build::all(),
            Some("tracker") => build::tracker(),
            Some("pixel") => build::pixel(),
            Some("overlay") => build::overlay(),
            Some(other) => bail!("unknown part `{other}`: cargo xtask build [tracker|pixel|overlay]"),
        },
        Some("size") => size::report(),
        Some("bench-tracker") => bench_tracker(),
        _ => bail!("usage: cargo xtask <build [tracker|pixel|overlay]|size|bench-tracker>"),
    }
}

/// Runs the tracker benchmark against the built bundle (`cargo xtask build` first).
fn bench_tracker() -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    paths::run(std::process::Command::new(cargo).current_dir(paths::root()).args([
        "test",
        "-p",
        "lummmen-e2e",
        "--test",
        "tracker_bench",
        "--",
        "--ignored",
        "--nocapture",
    ]))
}
