//! The wire format between the browser (tracker and web pixel) and the server.
//!
//! Both wasm crates and the server depend on this crate, so the three cannot drift.
//! Field names are compact on the wire (one to three letters) because every byte is
//! sent from a shopper's browser, often in a `keepalive` request capped at 64 KB;
//! the Rust names are the readable ones. Golden fixtures under `tests/fixtures/`
//! pin the JSON: a change here that breaks them breaks deployed trackers.
//!
//! A batch as it travels:
//!
//! ```json
//! {"s":7,"v":"9f86d081884c7d65","b":"5f0c6a1e9d2b4c37","t":1763800000000,
//!  "ss":"a1b2c3d4e5f60718","pv":"0011223344556677",
//!  "e":[{"k":"pv","t":1763799999000,"u":"https://shop.example/","r":"","ti":"Home",
//!        "vw":1280,"vh":720,"sw":1920,"sh":1080,"tz":-60}]}
//! ```
//!
//! Layout: [`batch`] holds the envelope, [`event`] the behavioural events (page
//! views, clicks, moves, scroll) and the [`Event`] enum over all kinds, whose
//! reader and writer are in `event_de` and `event_ser`; [`commerce`] the five
//! ecommerce events the web pixel maps from Shopify's standard events; [`Kind`]
//! the event kinds, the only place their wire tags are spelled; [`validate`] the
//! limits a batch must respect; [`cookies`] the names the tracker and the pixel
//! share to hand ids over; [`delivery`] what a sender does with the server's
//! answers (retries, the bounded outbox, its copy for the next page); [`text`]
//! byte-level splitting and number reading, small in wasm. Imports go one way: the envelope uses the events and
//! [`validate`], the events use [`Kind`] and [`validate`], and neither of those
//! two uses anything else here, so the events know nothing of the batch.
#![no_std]

extern crate alloc;

pub mod batch;
pub mod commerce;
pub mod cookies;
pub mod delivery;
pub mod event;
mod event_de;
mod event_ser;
mod kind;
pub mod text;
pub mod url;
pub mod validate;

pub use batch::Batch;
pub use commerce::{CartLine, CheckoutCompleted, CollectionViewed, Product};
pub use event::{Click, Event, MoveBatch, PageLeave, PageView, Scroll};
pub use kind::Kind;
pub use validate::{Limits, ValidationError};

/// Whether `s` is a visitor id: exactly 16 lowercase hex digits (Matomo's format,
/// the first 16 hex digits of SHA-256 of Shopify's `consentId()`).
pub fn is_visitor_id(s: &str) -> bool {
    is_hex16(s)
}

/// Whether `s` is exactly 16 lowercase hex digits; used for visitor, session,
/// page-view and batch ids.
pub fn is_hex16(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether a visitor is tracked under a `sample` percentage (0 to 100). The
/// bucket comes from the visitor id, so the same visitor is in or out on every
/// page, every visit, and in both the tracker and the web pixel; a random draw
/// per page would track fragments of visits.
pub fn in_sample(visitor_id: &str, sample: u8) -> bool {
    if sample >= 100 {
        return true;
    }
    let head = visitor_id.get(..8).unwrap_or("");
    let bucket = u32::from_str_radix(head, 16).map_or(0, |n| n % 100);
    bucket < u32::from(sample)
}
