//! Splitting on ASCII delimiters and reading decimal numbers, byte by byte. The
//! standard library's `char` patterns and integer parsing handle any character,
//! radix and sign, and their searchers and parsers come to about 1.5 KB of wasm;
//! everything the tracker and the [`crate::delivery`] rule split on or parse is
//! ASCII. Here, not in the tracker, so both use one copy.

/// `s.split_once(delim)` for an ASCII `delim`.
pub fn split_once(s: &str, delim: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == delim)?;
    let (head, tail) = s.split_at_checked(i)?;
    Some((head, tail.get(1..)?))
}

/// The part of `s` before the first `delim`, or all of it.
pub fn before(s: &str, delim: u8) -> &str {
    split_once(s, delim).map_or(s, |(head, _)| head)
}

/// `s.split(delim)` for an ASCII `delim`.
pub fn split(s: &str, delim: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    core::iter::from_fn(move || {
        let s = rest?;
        let (head, tail) = match split_once(s, delim) {
            Some((head, tail)) => (head, Some(tail)),
            None => (s, None),
        };
        rest = tail;
        Some(head)
    })
}

/// A decimal number as `str::parse` reads it: ASCII digits with an optional
/// leading `+`; `None` when empty, anything else, or over `u64::MAX`.
pub fn parse_u64(s: &str) -> Option<u64> {
    let digits = match s.as_bytes() {
        [b'+', rest @ ..] => rest,
        all => all,
    };
    if digits.is_empty() {
        return None;
    }
    // The overflow test by division: `checked_mul` on u64 brings a 128-bit
    // multiplication routine into wasm32.
    digits.iter().try_fold(0u64, |n, &b| {
        let d = u64::from(b.wrapping_sub(b'0'));
        if d > 9 || n > (u64::MAX - d) / 10 {
            return None;
        }
        Some(n * 10 + d)
    })
}

/// [`parse_u64`] into a narrower type, `None` when it does not fit.
pub fn parse<T: TryFrom<u64>>(s: &str) -> Option<T> {
    T::try_from(parse_u64(s)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn splits_like_the_standard_library() {
        for s in ["", ";", "a", "a;b", ";a;;b;", "é;ü;", "k=v=w"] {
            assert_eq!(split(s, b';').collect::<Vec<_>>(), s.split(';').collect::<Vec<_>>(), "{s:?}");
            assert_eq!(split_once(s, b'='), s.split_once('='), "{s:?}");
            assert_eq!(before(s, b';'), s.split(';').next().unwrap_or(s), "{s:?}");
        }
    }

    #[test]
    fn parses_like_the_standard_library() {
        for s in ["", "0", "7", "+7", "-7", "007", " 7", "7 ", "1a", "+", "255", "256", "4294967296"] {
            assert_eq!(parse::<u8>(s), s.parse::<u8>().ok(), "{s:?}");
            assert_eq!(parse::<u32>(s), s.parse::<u32>().ok(), "{s:?}");
            assert_eq!(parse_u64(s), s.parse::<u64>().ok(), "{s:?}");
        }
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
    }
}
