//! The one wall clock of the server. Everything that stamps or checks a time
//! (spool records, session-token expiry, OAuth timestamps, tickets, webhook
//! dedupe) reads it here, so a test can set the time for the whole process
//! instead of waiting for it, and no two modules disagree on the epoch or unit.

use std::sync::atomic::{AtomicU64, Ordering};

/// A fixed time in milliseconds since the Unix epoch, or 0 for the system clock.
static FIXED_MS: AtomicU64 = AtomicU64::new(0);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    match FIXED_MS.load(Ordering::Relaxed) {
        0 => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0),
        fixed => fixed,
    }
}

/// Milliseconds since the Unix epoch as SQLite's signed integer.
pub fn now_ms_i64() -> i64 {
    i64::try_from(now_ms()).unwrap_or(i64::MAX)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_ms_i64() / 1000
}

/// Sets the time for the whole process (`Some(ms)`), or returns to the system
/// clock (`None`). For tests: every clock reader in the process sees it, so a
/// test that sets it runs in a test binary of its own (`server/tests/clock.rs`).
pub fn set_for_tests(ms: Option<u64>) {
    FIXED_MS.store(ms.unwrap_or(0), Ordering::Relaxed);
}
