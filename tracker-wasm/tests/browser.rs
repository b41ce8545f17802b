//! Runs in headless Chromium (wasm-bindgen-test-runner with chromedriver).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn boot_marks_the_page_ready() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.document_element().unwrap();
    root.remove_attribute("data-lummmen").unwrap();
    tracker_wasm_boot("7", "/collect", "100");
    assert_eq!(root.get_attribute("data-lummmen").as_deref(), Some("ready"));
}

#[wasm_bindgen_test]
fn boot_without_site_id_leaves_the_page_alone() {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.document_element().unwrap();
    root.remove_attribute("data-lummmen").unwrap();
    tracker_wasm_boot("", "/collect", "100");
    assert_eq!(root.get_attribute("data-lummmen"), None);
}

fn tracker_wasm_boot(site: &str, endpoint: &str, sample: &str) {
    tracker_wasm::boot(site, endpoint, sample).unwrap();
}
