//! SHA-256 by the browser (`crypto.subtle.digest`), for the visitor id.
//!
//! The browser's own hash instead of one compiled into the wasm: SHA-256 in wasm,
//! however compact, was about 1 KB of every shopper's download (brotli), for one
//! hash per page. `crypto.subtle` exists in every secure context, and storefronts
//! are served over HTTPS only (loopback counts as secure, for development). Where
//! it is missing, or the hash fails, the caller falls back as for a consent
//! without an id. The answer comes through a promise, so the tracker starts a
//! moment after consent instead of at once.

use alloc::vec::Vec;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Window;

#[wasm_bindgen]
extern "C" {
    /// `window`, for `crypto`.
    type Win;
    #[wasm_bindgen(method, getter)]
    fn crypto(this: &Win) -> Crypto;
    type Crypto;
    /// `undefined` outside a secure context.
    #[wasm_bindgen(method, getter)]
    fn subtle(this: &Crypto) -> Option<Subtle>;
    type Subtle;
    /// Rejects (never throws) for an unknown algorithm; copies `data` at once.
    #[wasm_bindgen(method)]
    fn digest(this: &Subtle, algorithm: &str, data: &[u8]) -> Pending;
    type Pending;
    #[wasm_bindgen(method)]
    fn then(this: &Pending, done: &JsValue, failed: &JsValue);
}

/// Hashes `data`; `done` gets the 32 bytes, or none when the hash failed.
/// Returns false, without calling `done`, where the browser has no
/// `crypto.subtle`.
pub fn sha256(window: &Window, data: &[u8], done: impl FnOnce(Vec<u8>) + 'static) -> bool {
    let Some(subtle) = window.unchecked_ref::<Win>().crypto().subtle() else { return false };
    // An `Error` reads as an empty array.
    let done = Closure::once_into_js(move |digest: JsValue| done(js_sys::Uint8Array::new(&digest).to_vec()));
    subtle.digest("SHA-256", data).then(&done, &done);
    true
}
