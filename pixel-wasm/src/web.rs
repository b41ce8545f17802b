//! The wasm edge, called from the extension's `register` callback.

use wasm_bindgen::prelude::*;

/// Starts the pixel with its settings' site id; answers the site id it will use
/// until the tracker tells it otherwise (0 when none).
#[wasm_bindgen]
pub fn start(settings_site_id: &str) -> u32 {
    crate::settings::site_id(settings_site_id).unwrap_or(0)
}
