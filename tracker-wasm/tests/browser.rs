//! Runs in headless Chromium (wasm-bindgen-test-runner with chromedriver): the
//! edge's consent wiring on a page without Shopify's globals.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)]

use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

fn attr(name: &str) -> Option<String> {
    document().document_element().unwrap().get_attribute(name)
}

fn cookies() -> String {
    document().dyn_into::<web_sys::HtmlDocument>().unwrap().cookie().unwrap()
}

fn consent_event(allowed: bool) {
    let detail = js_sys::Object::new();
    js_sys::Reflect::set(&detail, &"analyticsAllowed".into(), &JsValue::from_bool(allowed)).unwrap();
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&detail);
    let e = web_sys::CustomEvent::new_with_event_init_dict("visitorConsentCollected", &init).unwrap();
    document().dispatch_event(&e).unwrap();
}

#[wasm_bindgen_test]
fn waits_for_consent_then_tracks_and_stops_on_revoke() {
    document().document_element().unwrap().remove_attribute("data-lummmen").unwrap();
    tracker_wasm::boot("7", "/collect", "100");
    assert_eq!(attr("data-lummmen").as_deref(), Some("ready"));
    assert_eq!(attr("data-lummmen-state").as_deref(), Some("waiting"));
    assert!(!cookies().contains("_lummmen"), "cookie before consent: {}", cookies());

    // No customerPrivacy here: consent without a consent id, so a random id.
    consent_event(true);
    assert_eq!(attr("data-lummmen-state").as_deref(), Some("tracking"));
    let c = cookies();
    assert!(
        c.contains("_lummmen_vid=") && c.contains("_lummmen_sid=7") && c.contains("_lummmen_rid="),
        "{c}"
    );

    consent_event(false);
    assert_eq!(attr("data-lummmen-state").as_deref(), Some("waiting"));
    assert!(!cookies().contains("_lummmen"), "cookies left after revoke: {}", cookies());
}

#[wasm_bindgen_test]
fn boot_without_site_id_leaves_the_page_alone() {
    let root = document().document_element().unwrap();
    root.remove_attribute("data-lummmen").unwrap();
    tracker_wasm::boot("", "/collect", "100");
    assert_eq!(root.get_attribute("data-lummmen"), None);
}
