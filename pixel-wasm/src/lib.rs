//! The Shopify web pixel.
//!
//! It runs in Shopify's strict sandbox, a web worker with no `window` or
//! `document`, and ships inlined in one JS bundle of at most 128 KB.
//!
//! Layout: [`settings`] is the pure core (the pixel's merchant settings, checked);
//! `web` (wasm32 only) is the thin edge the extension's JS entry calls.

pub mod settings;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::start;
