//! Shared by the web pixel's end-to-end tests.

use std::path::PathBuf;

use lummmen_e2e::root;

/// The web pixel bundle as `shopify app build` writes it (`cargo xtask build`); the
/// server serves it under `/pixel/`.
pub fn pixel_bundle() -> PathBuf {
    root().join("extensions/lummmen-pixel/dist/lummmen-pixel.js")
}
