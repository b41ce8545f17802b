//! Where things are, relative to the workspace root.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

pub fn theme_assets() -> PathBuf {
    root().join("extensions/lummmen-theme/assets")
}

pub fn pixel_ext() -> PathBuf {
    root().join("extensions/lummmen-pixel")
}

/// The bundle `shopify app build` writes for the web pixel.
pub fn pixel_bundle() -> PathBuf {
    pixel_ext().join("dist/lummmen-pixel.js")
}

/// The tracker files a shopper downloads, in load order.
pub const TRACKER_FILES: [&str; 3] = ["lummmen-loader.js", "lummmen-tracker.js", "lummmen-tracker.wasm"];

/// The heatmap overlay, next to the loader in the theme's assets: the loader
/// imports it instead of the tracker for the merchant's "View on storefront"
/// link only, so shoppers never download it.
pub const OVERLAY_FILE: &str = "lummmen-overlay.js";

/// The overlay's entry module; it imports the rest of `tracker-wasm/js/overlay/`.
pub fn overlay_entry() -> PathBuf {
    root().join("tracker-wasm/js/overlay/main.js")
}

/// The charting library's files the admin page loads (npm's `uplot`), served
/// by the backend from its `dist` directory.
pub fn uplot_files() -> [PathBuf; 2] {
    let dist = root().join("node_modules/uplot/dist");
    [dist.join("uPlot.iife.min.js"), dist.join("uPlot.min.css")]
}

/// A tool installed by `npm ci` under `node_modules/.bin`.
pub fn npm_bin(name: &str) -> PathBuf {
    root().join("node_modules/.bin").join(name)
}

/// Runs a command and fails with its name when it fails.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}
