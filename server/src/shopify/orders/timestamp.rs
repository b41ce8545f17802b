//! ISO 8601 date-times with an offset, as Shopify writes them
//! (`2026-11-22T04:30:00-05:00`, `2026-11-22T09:30:00.123Z`), to milliseconds
//! since the Unix epoch, read by `jiff` (the dashboard's date library).

/// Milliseconds since the epoch of `s`, or `None` when it is not a full date,
/// time and offset (a time without an offset is ambiguous, so refused).
pub fn parse_ms(s: &str) -> Option<i64> {
    s.trim().parse::<jiff::Timestamp>().ok().map(jiff::Timestamp::as_millisecond)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_offsets_fractions_and_utc() {
        // 2026-11-22T09:30:00Z is 1_795_339_800 s after the epoch.
        let utc = 1_795_339_800_000;
        assert_eq!(parse_ms("2026-11-22T09:30:00Z"), Some(utc));
        assert_eq!(parse_ms("2026-11-22T04:30:00-05:00"), Some(utc));
        assert_eq!(parse_ms("2026-11-22T15:00:00+05:30"), Some(utc));
        assert_eq!(parse_ms("2026-11-22T10:30:00+0100"), Some(utc));
        assert_eq!(parse_ms("2026-11-22T09:30:00.123456Z"), Some(utc + 123));
        assert_eq!(parse_ms("2026-11-22T09:30:00.5Z"), Some(utc + 500));
        assert_eq!(parse_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_ms("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
    }

    #[test]
    fn refuses_what_is_not_a_full_date_time_with_offset() {
        for bad in [
            "",
            "2026-11-22",
            "2026-11-22T09:30:00",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T09:30:00.Z",
            "2026-11-22T09:30:00+5:00",
            "2026-11-22T09:30:00 +05:00",
            "2026-1x-22T09:30:00Z",
            "yesterday",
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }
}
