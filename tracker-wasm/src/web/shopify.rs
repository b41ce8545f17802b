//! Shopify's storefront globals: `Shopify.customerPrivacy` (loaded with
//! `Shopify.loadFeatures` when the theme has not loaded it), and the hand-off to the
//! web pixel through `Shopify.analytics.publish` and a document event.

use alloc::string::String;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Window};

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    if !obj.is_object() {
        return None;
    }
    Reflect::get(obj, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn method(obj: &JsValue, name: &str) -> Option<Function> {
    get(obj, name)?.dyn_into::<Function>().ok()
}

fn shopify(window: &Window) -> Option<JsValue> {
    get(window, "Shopify")
}

/// `window.Shopify.customerPrivacy`, once it exists.
pub fn customer_privacy(window: &Window) -> Option<JsValue> {
    get(&shopify(window)?, "customerPrivacy")
}

/// `customerPrivacy.analyticsProcessingAllowed()`; false when it cannot be asked.
pub fn analytics_allowed(privacy: &JsValue) -> bool {
    method(privacy, "analyticsProcessingAllowed")
        .and_then(|f| f.call0(privacy).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// `customerPrivacy.consentId()`, empty when absent.
pub fn consent_id(privacy: &JsValue) -> String {
    method(privacy, "consentId")
        .and_then(|f| f.call0(privacy).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// `analyticsAllowed` from a `visitorConsentCollected` event's detail. (Read as a
/// property: a `CustomEvent` type check and getter would be two more imports.)
pub fn allowed_in_detail(event: &web_sys::Event) -> Option<bool> {
    let detail = get(event, "detail")?;
    get(&detail, "analyticsAllowed")?.as_bool()
}

/// Asks Shopify to load the consent API:
/// `Shopify.loadFeatures([{name: 'consent-tracking-api', version: '0.1'}], cb)`.
/// Returns false when `loadFeatures` is not there either.
pub fn load_consent_api(window: &Window, done: impl FnOnce() + 'static) -> bool {
    let Some(shopify) = shopify(window) else { return false };
    let Some(load) = method(&shopify, "loadFeatures") else { return false };
    let feature = Object::new();
    let _ = Reflect::set(&feature, &"name".into(), &"consent-tracking-api".into());
    let _ = Reflect::set(&feature, &"version".into(), &"0.1".into());
    let cb = Closure::once_into_js(move |_error: JsValue| done());
    load.call2(&shopify, &Array::of1(&feature), &cb).is_ok()
}

/// Hands the ids to the web pixel: `Shopify.analytics.publish('lummmen:startPixel',
/// detail)` when the theme offers it, and the same detail as a `lummmen:startPixel`
/// CustomEvent on `document` for anything else on the page.
pub fn announce(window: &Window, document: &Document, visitor_id: &str, site_id: u32) {
    let detail = Object::new();
    let _ = Reflect::set(&detail, &"visitorId".into(), &visitor_id.into());
    let _ = Reflect::set(&detail, &"siteId".into(), &f64::from(site_id).into());
    let name = JsValue::from_str(protocol::cookies::START_PIXEL_EVENT);
    if let Some(analytics) = shopify(window).and_then(|s| get(&s, "analytics")) {
        if let Some(publish) = method(&analytics, "publish") {
            let _ = publish.call2(&analytics, &name, &detail);
        }
    }
    super::listen::fire(document, protocol::cookies::START_PIXEL_EVENT, &detail);
}
