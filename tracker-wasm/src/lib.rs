//! The storefront tracker: consent-gated page views, clicks, mouse moves and scroll
//! depth, sent in batches of [`protocol`] events.
//!
//! Layout: a pure core, unit-tested natively, and a thin edge.
//! - [`config`]: what the app embed hands over, checked before anything runs.
//! - [`consent`]: the consent state machine and the tracker's phase.
//! - [`ids`]: visitor id from the consent id's digest, random ids, sampling.
//! - [`session`]: sessions rolling after 30 minutes idle, visible time on page.
//! - [`selector`]: stable ids, classes and CSS selectors for clicked elements.
//! - [`capture`]: mouse-move throttling and merging, rage clicks, scroll depth.
//! - [`dead`]: dead clicks (waiting for a verdict), positions inside the clicked
//!   element.
//! - [`buffer`]: the bounded buffer and its drop policy.
//! - [`tracker`]: events in, batch bodies out; the flush policy.
//! - [`json`]: the batch writer (checked against `serde_json` in tests).
//! - `web` (wasm32 only): the `#[wasm_bindgen]` edge that touches the page:
//!   Shopify's consent API, the browser's SHA-256, listeners, the watch after a
//!   click (dead clicks), cookies, `fetch`, `sessionStorage`.
//!
//! The loader (`js/loader.js`, the theme app embed's `javascript`) reads the
//! configuration from data attributes and calls `boot(siteId, endpoint, sample)`;
//! for a merchant's heatmap link (`#lummmen-heatmap=<token>`) it loads the heatmap
//! overlay (`js/overlay/`, plain JS) instead, and this module not at all.
//!
//! The crate uses only `core` and `alloc`, and is `no_std` on wasm32. The shipped
//! build (`cargo xtask build`) turns off the default `std` feature, so std is not
//! linked at all: its panic handler, which formats messages with `core::fmt`,
//! gives way to the one below, which stops the module with a trap. Tests and plain
//! builds keep `std` (wasm-bindgen-test needs it).
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]

extern crate alloc;

pub mod buffer;
pub mod capture;
pub mod config;
pub mod consent;
pub mod dead;
pub mod ids;
pub mod json;
pub mod selector;
pub mod session;
pub mod tracker;

#[cfg(target_arch = "wasm32")]
mod web;

/// Safe to construct; the lock costs nothing on wasm's single thread.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
#[cfg(target_arch = "wasm32")]
pub use web::boot;

/// A panic in the shipped tracker traps: no message is formatted, so none of the
/// formatting code is linked. The core avoids panicking paths; a trap surfaces in
/// the page as a `RuntimeError: unreachable` thrown from the call into the tracker.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
