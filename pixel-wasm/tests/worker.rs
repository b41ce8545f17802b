//! Runs in headless Chromium; the pixel's edge needs nothing from `window`.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn start_reads_the_settings_site_id() {
    assert_eq!(pixel_wasm::start("12"), 12);
    assert_eq!(pixel_wasm::start("none"), 0);
}
