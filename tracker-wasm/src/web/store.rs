//! The tracker's copy of its unsent bodies in `sessionStorage`
//! ([`protocol::delivery::stored`]), so that a page ending with batches unsent
//! (waiting out a `Retry-After`, offline, or on the wire with an answer it will
//! never read) hands them to the next page of the tab.
//!
//! Written only while recording, that is with analytics consent; removed when
//! consent is refused or withdrawn. `sessionStorage` dies with the tab and is
//! never sent anywhere by the browser, unlike a cookie.

use alloc::string::String;

use protocol::delivery::stored::TRACKER_KEY;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Window;

#[wasm_bindgen]
extern "C" {
    /// `window`, for `sessionStorage`, which throws where storage is blocked.
    type Win;
    #[wasm_bindgen(method, getter, catch, js_name = sessionStorage)]
    fn session_storage(this: &Win) -> Result<Option<Storage>, JsValue>;
    type Storage;
    #[wasm_bindgen(method, js_name = getItem)]
    fn get_item(this: &Storage, key: &str) -> Option<String>;
    /// Throws when the shop's storage is full.
    #[wasm_bindgen(method, catch, js_name = setItem)]
    fn set_item(this: &Storage, key: &str, value: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, js_name = removeItem)]
    fn remove_item(this: &Storage, key: &str);
}

fn storage(window: &Window) -> Option<Storage> {
    window.unchecked_ref::<Win>().session_storage().ok().flatten()
}

/// What an earlier page kept, if anything.
pub fn read(window: &Window) -> Option<String> {
    storage(window)?.get_item(TRACKER_KEY)
}

/// Keeps `text`, or removes the copy when it is empty. A full storage keeps
/// nothing: the page's own memory still holds the bodies.
pub fn write(window: &Window, text: &str) {
    let Some(s) = storage(window) else { return };
    if text.is_empty() || s.set_item(TRACKER_KEY, text).is_err() {
        s.remove_item(TRACKER_KEY);
    }
}
