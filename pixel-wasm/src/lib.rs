//! The Shopify web pixel.
//!
//! It runs in Shopify's strict sandbox, a web worker with no `window` or
//! `document`, and ships inlined in one JS bundle of at most 128 KB.
//!
//! Layout: a pure core, tested natively, and a thin edge.
//! - [`pixel`]: the state (consent gate, ids, bounded queue) and batch building.
//! - [`cart`]: the shopper's whole cart, which every add and removal carries.
//! - [`shopify`]: where Shopify's payloads hold what: the allow-list of fields read.
//! - [`json`]: a small JSON reader (serde_json's deserializers cost too much wasm).
//! - [`map`]: the five standard ecommerce events to `protocol` events.
//! - [`outbox`]: batches between built and delivered (the shared rule of
//!   `protocol::delivery`), and their copy in `browser.sessionStorage`.
//! - [`ids`]: where site and visitor ids come from, in which order, checked.
//! - [`privacy`]: URL and string cleaning for what is sent.
//! - [`settings`]: the pixel's merchant settings, checked.
//! - [`time`]: Shopify's ISO timestamps to epoch milliseconds.
//! - `web` (wasm32 only): the `#[wasm_bindgen]` edge the extension's JS entry calls.

pub mod cart;
pub mod ids;
pub mod json;
pub mod map;
pub mod outbox;
pub mod pixel;
pub mod privacy;
pub mod settings;
pub mod shopify;
pub mod time;

pub use pixel::{Handled, Pixel};

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::WebPixel;
