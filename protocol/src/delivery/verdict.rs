//! One answer of `/collect`, read: delivered, try again later, or never.

use super::{BACKOFF_MS, MAX_WAIT_MS, MIN_WAIT_MS, NETWORK_RETRY_MS};

/// What an answer means for the batch it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Taken (2xx): forget it.
    Delivered,
    /// Keep it and send it again, with the same batch id, after this many
    /// milliseconds; nothing else goes to the collector before then.
    Later(u64),
    /// Never acceptable as it is (a 4xx other than 408 and 429): drop it and count
    /// its events.
    Refused,
}

/// Reads an answer. `status` is the HTTP status, 0 when the request got no answer
/// (a network error); `retry_after` is the `Retry-After` header; `strikes` is how
/// many answers in a row were not a delivery, for the backoff.
///
/// `Retry-After` is read in its seconds form, the one the server sends; its date
/// form falls back to the backoff.
pub fn verdict(status: u16, retry_after: Option<&str>, strikes: u32) -> Verdict {
    match status {
        0 => Verdict::Later(NETWORK_RETRY_MS),
        200..=299 => Verdict::Delivered,
        408 | 429 | 500..=599 => {
            let wait = match retry_after.and_then(seconds) {
                Some(s) => s.saturating_mul(1_000),
                None => BACKOFF_MS << strikes.min(8),
            };
            Verdict::Later(wait.clamp(MIN_WAIT_MS, MAX_WAIT_MS))
        }
        _ => Verdict::Refused,
    }
}

/// `Retry-After` as whole seconds: ASCII digits, surrounding spaces allowed.
fn seconds(value: &str) -> Option<u64> {
    crate::text::parse_u64(value.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_is_delivered() {
        for status in [200, 201, 204, 299] {
            assert_eq!(verdict(status, None, 3), Verdict::Delivered, "{status}");
        }
    }

    #[test]
    fn rate_limits_and_a_full_spool_wait_for_retry_after() {
        assert_eq!(verdict(429, Some("1"), 0), Verdict::Later(1_000));
        assert_eq!(verdict(503, Some(" 30 "), 0), Verdict::Later(30_000));
        assert_eq!(verdict(503, Some("30"), 5), Verdict::Later(30_000), "the header wins over the backoff");
    }

    #[test]
    fn retry_after_is_clamped() {
        assert_eq!(verdict(429, Some("0"), 0), Verdict::Later(MIN_WAIT_MS));
        assert_eq!(verdict(503, Some("86400"), 0), Verdict::Later(MAX_WAIT_MS));
        assert_eq!(verdict(503, Some("99999999999999999999"), 0), Verdict::Later(BACKOFF_MS));
    }

    #[test]
    fn without_a_usable_retry_after_the_backoff_doubles_up_to_its_ceiling() {
        for header in [None, Some(""), Some("soon"), Some("-5"), Some("Wed, 21 Oct 2026 07:28:00 GMT")] {
            assert_eq!(verdict(503, header, 0), Verdict::Later(BACKOFF_MS), "{header:?}");
        }
        assert_eq!(verdict(429, None, 1), Verdict::Later(2 * BACKOFF_MS));
        assert_eq!(verdict(429, None, 3), Verdict::Later(8 * BACKOFF_MS));
        assert_eq!(verdict(500, None, 30), Verdict::Later(MAX_WAIT_MS));
    }

    #[test]
    fn other_server_errors_and_timeouts_are_kept_too() {
        for status in [408, 500, 502, 504] {
            assert!(matches!(verdict(status, None, 0), Verdict::Later(_)), "{status}");
        }
    }

    #[test]
    fn other_client_errors_are_refused() {
        for status in [400, 401, 403, 404, 413, 415, 422, 301, 100] {
            assert_eq!(verdict(status, Some("5"), 0), Verdict::Refused, "{status}");
        }
    }

    #[test]
    fn no_answer_is_tried_again_soon() {
        assert_eq!(verdict(0, None, 7), Verdict::Later(NETWORK_RETRY_MS));
    }
}
