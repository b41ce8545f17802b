//! The wasm edge, driven by the extension's `register` callback
//! (`extensions/lummmen-pixel/src/index.js`). Strings in, strings out: the JS side
//! does only the I/O (subscriptions, `browser.cookie.get`, `fetch` and reading
//! its answer, `browser.sessionStorage`, a timer), every decision is made by
//! [`Pixel`].

use wasm_bindgen::prelude::*;

use crate::map::{CART_VIEWED, STANDARD_EVENTS};
use crate::pixel::{Handled, Pixel};

/// The pixel as the JS entry sees it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WebPixel {
    inner: Pixel,
    /// The request id of the last body `flush` answered.
    request: u32,
}

#[wasm_bindgen]
impl WebPixel {
    /// `settings` and `init` from Shopify's extension API, as JSON (`init`: its
    /// `customerPrivacy` and the lines of `data.cart`; see the entry).
    #[wasm_bindgen(constructor)]
    pub fn new(settings_json: &str, init_json: &str) -> WebPixel {
        WebPixel { inner: Pixel::new(settings_json, init_json), request: 0 }
    }

    /// Where batches are POSTed.
    pub fn endpoint(&self) -> String {
        self.inner.endpoint().into()
    }

    /// The event names the pixel reads, comma-separated: the five standard events,
    /// `cart_viewed` (for its cart) and the tracker's `lummmen:startPixel`; the
    /// entry skips serializing others.
    pub fn events(&self) -> String {
        let mut names = STANDARD_EVENTS.join(",");
        for name in [CART_VIEWED, protocol::cookies::START_PIXEL_EVENT] {
            names.push(',');
            names.push_str(name);
        }
        names
    }

    /// The tracker's cookie names, visitor then site, comma-separated.
    pub fn cookie_names(&self) -> String {
        [protocol::cookies::VISITOR, protocol::cookies::SITE].join(",")
    }

    /// A `visitorConsentCollected` payload as JSON; answers whether analytics is
    /// now allowed.
    pub fn consent(&mut self, payload_json: &str) -> bool {
        self.inner.consent_changed(payload_json)
    }

    /// The tracker's cookie values (`""` when missing).
    pub fn cookies(&mut self, visitor: &str, site: &str) {
        self.inner.cookies(visitor, site);
    }

    /// One event from `analytics.subscribe`, as JSON; answers whether it was queued.
    pub fn event(&mut self, event_json: &str, now_ms: f64) -> bool {
        self.inner.handle(event_json, now_ms as u64) == Handled::Queued
    }

    /// The body of the next `POST /collect`, or `undefined` when nothing may be
    /// sent now (no consent, ids unknown, nothing queued, or the collector asked
    /// for a pause); call until `undefined`, reading [`WebPixel::request`] after
    /// each. `r1`, `r2` are random (from `crypto.getRandomValues`) and make the
    /// batch id of a new batch.
    pub fn flush(&mut self, now_ms: f64, r1: u32, r2: u32) -> Option<String> {
        let (id, body) = self.inner.next_request(now_ms as u64, (u64::from(r1) << 32) | u64::from(r2))?;
        self.request = id;
        Some(body)
    }

    /// The request id of the body [`WebPixel::flush`] answered last; its answer
    /// names it.
    pub fn request(&self) -> u32 {
        self.request
    }

    /// The collector's answer to request `id`: its HTTP status (0 when the
    /// request got none) and `Retry-After`.
    pub fn answered(&mut self, id: u32, status: u16, retry_after: Option<String>, now_ms: f64) {
        self.inner.answered(id, status, retry_after.as_deref(), now_ms as u64);
    }

    /// Milliseconds until `flush` may send a waiting batch, when no answer is
    /// awaited; `undefined` when no timer is needed.
    pub fn wait(&mut self, now_ms: f64) -> Option<f64> {
        self.inner.wait(now_ms as u64).map(|ms| ms as f64)
    }

    /// The key of the pixel's copy in `browser.sessionStorage`.
    pub fn storage_key(&self) -> String {
        protocol::delivery::stored::PIXEL_KEY.into()
    }

    /// Whether to read the stored copy now (once, with consent); answer with
    /// `restore`.
    pub fn storage_read(&mut self) -> bool {
        self.inner.storage_read()
    }

    /// What the stored copy held (`""` when nothing).
    pub fn restore(&mut self, text: &str) {
        self.inner.restore(text);
    }

    /// What to write to the stored copy: `""` removes it, `undefined` leaves it.
    pub fn storage_write(&mut self) -> Option<String> {
        self.inner.storage_write()
    }
}
