//! The storefront tracker.
//!
//! Layout: [`config`] is the pure core (what the loader hands over, checked before
//! anything runs); `web` (wasm32 only) is the thin `#[wasm_bindgen]` edge that
//! touches the page. The loader (`js/loader.js`, shipped as the theme app embed's
//! `javascript`) reads the configuration from data attributes and calls
//! `boot(siteId, endpoint, sample)`.

pub mod config;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::boot;
