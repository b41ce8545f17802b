//! Shopify's event timestamps (ISO 8601, `2025-11-22T08:13:20.123Z`) to
//! milliseconds since the Unix epoch, without a date library in the bundle.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`; `None` for anything else.
pub fn parse_iso_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..3 {
            millis *= 10;
        }
    }
    let offset_min = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b[i + 3] == b':' => {
            let m = num(i + 1, 2)? * 60 + num(i + 4, 2)?;
            if *sign == b'+' {
                m
            } else {
                -m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_min * 60;
    u64::try_from(secs * 1000 + millis).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_timestamps_with_and_without_fraction() {
        assert_eq!(parse_iso_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_iso_ms("2025-11-22T08:13:20.123Z"), Some(1_763_799_200_123));
        assert_eq!(parse_iso_ms("2025-11-22T08:13:20.1Z"), Some(1_763_799_200_100));
        assert_eq!(parse_iso_ms("2024-02-29T23:59:59.999999Z"), Some(1_709_251_199_999));
    }

    #[test]
    fn applies_the_utc_offset() {
        assert_eq!(parse_iso_ms("2025-11-22T09:13:20.123+01:00"), Some(1_763_799_200_123));
        assert_eq!(parse_iso_ms("2025-11-22T03:13:20.123-05:00"), Some(1_763_799_200_123));
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for s in [
            "",
            "2025-11-22",
            "2025-13-22T08:13:20Z",
            "2025-11-22T08:13:20",
            "2025-11-22T08:13:20.Z",
            "x025-11-22T08:13:20Z",
            "2025-11-22T08:13:20+0100",
        ] {
            assert_eq!(parse_iso_ms(s), None, "{s}");
        }
    }
}
