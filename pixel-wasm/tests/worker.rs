//! Runs in headless Chromium: the wasm edge itself, without the extension's JS.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONSENT: &str = r#"{"customerPrivacy":{"analyticsProcessingAllowed":true}}"#;
const START: &str =
    r#"{"name":"lummmen:startPixel","customData":{"visitorId":"9f86d081884c7d65","siteId":7}}"#;
const VIEW: &str = r#"{"name":"product_viewed","timestamp":"2025-11-22T08:13:20.123Z",
 "data":{"productVariant":{"id":"1","price":{"amount":2.5,"currencyCode":"EUR"},"product":{"id":"9","title":"Tee","type":"Shirts"},"sku":"T","title":"M"}}}"#;

#[wasm_bindgen_test]
fn edge_reads_settings_and_names_what_to_subscribe_to() {
    let p = pixel_wasm::WebPixel::new(r#"{"siteId":"12","endpoint":"https://c.example/collect"}"#, CONSENT);
    assert_eq!(p.endpoint(), "https://c.example/collect");
    assert!(p.events().split(',').any(|n| n == "lummmen:startPixel"));
    assert_eq!(p.cookie_names(), "_lummmen_vid,_lummmen_sid");
}

#[wasm_bindgen_test]
fn edge_builds_a_batch_only_once_ids_are_known() {
    let mut p = pixel_wasm::WebPixel::new("{}", CONSENT);
    assert!(p.event(VIEW, 1.0));
    assert_eq!(p.flush(2.0, 0, 1), None);
    p.event(START, 1.0);
    let body = p.flush(2.0, 0, 1).unwrap();
    assert!(body.starts_with(r#"{"s":7,"v":"9f86d081884c7d65","b":"0000000000000001""#), "{body}");
}
