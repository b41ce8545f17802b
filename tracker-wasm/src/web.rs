//! The wasm edge: reads the page, calls the pure core, reports state on the page.

use wasm_bindgen::prelude::*;

use crate::config::Config;

/// Starts the tracker. Called by the loader with the embed's data attributes.
///
/// On success the document element carries `data-lummmen="ready"` and a
/// `lummmen:ready` event fires on `document`; a bad configuration is reported on
/// the console and leaves the page untouched.
#[wasm_bindgen]
pub fn boot(site_id: &str, endpoint: &str, sample: &str) -> Result<(), JsValue> {
    let config = match Config::parse(site_id, endpoint, sample) {
        Ok(c) => c,
        Err(e) => {
            web_sys::console::warn_1(&JsValue::from_str(&format!("lummmen: not started: {e:?}")));
            return Ok(());
        }
    };
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    if let Some(root) = document.document_element() {
        root.set_attribute("data-lummmen", "ready")?;
    }
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&JsValue::from_f64(f64::from(config.site_id)));
    let event = web_sys::CustomEvent::new_with_event_init_dict("lummmen:ready", &init)?;
    document.dispatch_event(&event)?;
    Ok(())
}
