//! How a sender treats `/collect`'s answers: one rule for the tracker and the web
//! pixel, next to the wire format it belongs to.
//!
//! The server answers every batch readably (CORS `*`, `Retry-After` exposed), so a
//! sender knows whether a batch was taken. What it does with the answer:
//!
//! - 2xx: delivered, forgotten.
//! - 429 (rate limited), 503 (spool full), 408 and other 5xx: kept, and sent again
//!   with the same batch id once `Retry-After` has passed (clamped to
//!   [`MAX_WAIT_MS`]; without it, a doubling backoff from [`BACKOFF_MS`]). Nothing
//!   is sent to the collector before then: it asked for a pause, not for one batch
//!   less.
//! - any other 4xx (400 malformed, 413 too large, 404 unknown site): never
//!   acceptable as it is, so dropped, and its events counted in the next batch's
//!   `d`, where the loss shows instead of vanishing.
//! - no answer (offline, DNS, connection reset): kept and sent again after
//!   [`NETWORK_RETRY_MS`], with the same batch id, since it may have arrived.
//!
//! The same batch id on every attempt lets the server derive the same event ids
//! and store each event once, however often a batch is sent. What is kept is
//! bounded in count ([`MAX_ITEMS`]), bytes ([`MAX_BYTES`]) and age
//! ([`MAX_AGE_MS`]); what falls out is counted in `d` as well.
//!
//! Layout: [`verdict`] reads one answer; [`outbox`] holds the batches between
//! built and delivered; [`stored`] is their text form in `sessionStorage`, which
//! carries them to the next page when a page ends with batches unsent.

pub mod outbox;
pub mod stored;
pub mod verdict;

pub use outbox::Outbox;
pub use verdict::{verdict, Verdict};

/// Most batches kept between built and delivered.
pub const MAX_ITEMS: usize = 16;

/// Most bytes of bodies kept: what one page end can still send with `keepalive`
/// (browsers allow 64 KiB of keepalive bodies in flight), and a polite share of
/// the shop's `sessionStorage` (5 MB, shared with the theme and other apps).
pub const MAX_BYTES: usize = 64_000;

/// A batch not delivered this long after it was built is dropped and counted. Long
/// enough to ride out a spool-full server or a train tunnel; short enough that a
/// tab restored the next day does not send yesterday's visit.
pub const MAX_AGE_MS: u64 = 60 * 60 * 1_000;

/// Longest pause honoured from `Retry-After`, and the backoff's ceiling: a wrong
/// or hostile header cannot park a shopper's batches for the whole visit.
pub const MAX_WAIT_MS: u64 = 5 * 60 * 1_000;

/// Shortest pause after a refusal, so a `Retry-After: 0` cannot loop.
pub const MIN_WAIT_MS: u64 = 1_000;

/// First pause after a refusal without `Retry-After`; doubles with each refusal in
/// a row.
pub const BACKOFF_MS: u64 = 5_000;

/// Pause after a request that got no answer at all.
pub const NETWORK_RETRY_MS: u64 = 2_000;
