//! The wasm edge, driven by the extension's `register` callback
//! (`extensions/lummmen-pixel/src/index.js`). Strings in, strings out: the JS side
//! does only the I/O (subscriptions, `browser.cookie.get`, `fetch`), every decision
//! is made by [`Pixel`].

use wasm_bindgen::prelude::*;

use crate::map::{CART_VIEWED, STANDARD_EVENTS};
use crate::pixel::{Handled, Pixel};

/// The pixel as the JS entry sees it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WebPixel {
    inner: Pixel,
}

#[wasm_bindgen]
impl WebPixel {
    /// `settings` and `init` from Shopify's extension API, as JSON (`init`: its
    /// `customerPrivacy` and the lines of `data.cart`; see the entry).
    #[wasm_bindgen(constructor)]
    pub fn new(settings_json: &str, init_json: &str) -> WebPixel {
        WebPixel { inner: Pixel::new(settings_json, init_json) }
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
    /// sent now (no consent, ids unknown, or nothing queued); call until
    /// `undefined`. `r1`, `r2` are random (from `crypto.getRandomValues`) and make
    /// the batch id of a new batch.
    pub fn flush(&mut self, now_ms: f64, r1: u32, r2: u32) -> Option<String> {
        self.inner.take_body(now_ms as u64, (u64::from(r1) << 32) | u64::from(r2))
    }

    /// The POST of batch `batch_id` (its `b`) got an answer.
    pub fn sent(&mut self, batch_id: &str) {
        self.inner.sent(batch_id);
    }

    /// The POST of batch `batch_id` failed on the network; it is sent again by a
    /// later `flush`.
    pub fn failed(&mut self, batch_id: &str) {
        self.inner.failed(batch_id);
    }
}
