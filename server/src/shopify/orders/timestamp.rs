//! ISO 8601 date-times with an offset, as Shopify writes them
//! (`2026-11-22T04:30:00-05:00`, `2026-11-22T09:30:00.123Z`), to milliseconds
//! since the Unix epoch. Pure; the server has no date library for this one
//! format.

/// Milliseconds since the epoch of `s`, or `None` when it is not a full date,
/// time and offset (a time without an offset is ambiguous, so refused).
pub fn parse_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (digits(s, 0, 4)?, digits(s, 5, 7)?, digits(s, 8, 10)?);
    let (hour, minute, second) = (digits(s, 11, 13)?, digits(s, 14, 16)?, digits(s, 17, 19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // A leap second counts as the last second of its minute.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let first3 = format!("{:0<3}", &frac[..n.min(3)]);
        millis = first3.parse::<i64>().ok()?;
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = match rest.len() {
                6 if rest.as_bytes()[3] == b':' => (digits(rest, 1, 3)?, digits(rest, 4, 6)?),
                5 => (digits(rest, 1, 3)?, digits(rest, 3, 5)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 60 + m)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
        - offset_min * 60;
    Some(secs * 1000 + millis)
}

/// The ASCII digits `s[from..to]` as a number.
fn digits(s: &str, from: usize, to: usize) -> Option<i64> {
    let part = s.get(from..to)?;
    part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
