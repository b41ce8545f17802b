//! What of a URL may be sent and stored: the one rule the tracker, the web
//! pixel and the server apply (the server again, for old clients and other
//! senders).
//!
//! - The fragment is dropped.
//! - Query values are dropped, keys kept (reports still see the page's shape),
//!   except on an allow-list of parameters that say which page it is and never
//!   who: `utm_*`, `variant`, `page`, `sort_by` and Shopify's storefront filters
//!   (`filter.*`), whose values are kept unless they hold an email (`@`, raw
//!   or encoded: a newsletter's `utm_term`). A search term (`q`) is dropped
//!   with the rest; a key that is not a plain name (an email used as a key)
//!   goes with its value.
//! - A path segment that looks like an email, a token or a long number is
//!   replaced by `redacted`: account reset links
//!   (`/account/reset/6543210987654/0f3b…-1700000000`), checkout tokens and
//!   order numbers.

use alloc::string::String;

use crate::event::Event;
use crate::text;

/// What stands in for a private path segment.
pub const REDACTED: &str = "redacted";

/// The URL as it may be kept; `None` when it already is (the common case, so
/// callers keep what they have).
///
/// Byte splitting from [`text`], no substring searchers and no slice-index
/// panics: the tracker ships [`redact_path`] and the segment checks, and
/// their `str` searchers and panic paths cost it bytes (BENCHMARKS.md).
pub fn redact(url: &str) -> Option<String> {
    let base = text::before(url, b'#');
    let (path, query) = match text::split_once(base, b'?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    // The common case, a URL already as it may be kept, copies nothing.
    let clean_path = text::split(path, b'/').skip(authority(path)).all(|s| !private_segment(s));
    let clean_query = query.is_none_or(|q| text::split(q, b'&').all(|pair| kept_pair(pair) == Some(pair)));
    if base.len() == url.len() && clean_path && clean_query {
        return None;
    }
    let mut out = String::with_capacity(base.len());
    redact_path(path, &mut out);
    let mut sep = '?';
    for pair in text::split(query.unwrap_or_default(), b'&') {
        if let Some(kept) = kept_pair(pair) {
            out.push(sep);
            sep = '&';
            out.push_str(kept);
        }
    }
    Some(out)
}

/// Appends `path` (a URL before its query) to `out`, each private segment
/// after `scheme://host` replaced by [`REDACTED`].
pub fn redact_path(path: &str, out: &mut String) {
    let authority = authority(path);
    for (i, segment) in text::split(path, b'/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if i >= authority && private_segment(segment) { REDACTED } else { segment });
    }
}

/// How many of the path's `/`-separated segments are `scheme://host`, not
/// path: three (`https:`, ``, host), kept as they are; none in a relative URL.
fn authority(path: &str) -> usize {
    match text::split_once(path, b'/') {
        Some((scheme, rest)) if scheme.ends_with(':') && rest.starts_with('/') => 3,
        _ => 0,
    }
}

/// Redacts every URL the events carry (page, referrer, link, product,
/// collection and checkout URLs) in place; whether any changed.
pub fn redact_events(events: &mut [Event]) -> bool {
    let mut changed = false;
    let mut fix = |url: &mut String| {
        if let Some(clean) = redact(url) {
            *url = clean;
            changed = true;
        }
    };
    for event in events {
        match event {
            Event::PageView(pv) => {
                fix(&mut pv.url);
                fix(&mut pv.referrer);
            }
            Event::Click(c) => {
                if let Some(href) = &mut c.href {
                    fix(href);
                }
            }
            Event::ProductViewed { url, .. }
            | Event::AddedToCart { url, .. }
            | Event::RemovedFromCart { url, .. } => fix(url),
            Event::CollectionViewed(c) => fix(&mut c.url),
            Event::CheckoutCompleted(c) => fix(&mut c.url),
            Event::PageLeave(_) | Event::Moves(_) | Event::Scroll(_) => {}
        }
    }
    changed
}

/// The part of one `key=value` pair that may be kept: all of it for an
/// allowed key, `key=` for another plain key, nothing for a strange key.
fn kept_pair(pair: &str) -> Option<&str> {
    let (key, value) = text::split_once(pair, b'=').unwrap_or((pair, ""));
    if !plain_key(key) || private_segment(key) {
        return None;
    }
    if value.is_empty() || kept_value(key, value) {
        return Some(pair);
    }
    pair.get(..=key.len())
}

/// Whether a query value may be kept: its key is on the allow-list and the
/// value holds no email (a newsletter's `utm_term=jo%40example.com`).
pub fn kept_value(key: &str, value: &str) -> bool {
    allowed_key(key) && !has_at(value)
}

fn plain_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%'))
        && !has_at(key)
}

fn allowed_key(key: &str) -> bool {
    key.starts_with("utm_") || key.starts_with("filter.") || matches!(key, "variant" | "page" | "sort_by")
}

/// `@`, raw or percent-encoded.
pub fn has_at(s: &str) -> bool {
    // Byte loops, not `contains`: the tracker ships this, and the slice
    // searcher costs it bytes.
    s.bytes().any(|c| c == b'@') || s.as_bytes().windows(3).any(|w| w == b"%40")
}

/// An email, a token or a long number: the whole segment, or one of its
/// `-`-separated parts (a token with a timestamp, a name with an id); or a
/// UUID (36 bytes: 32 hex digits and 4 dashes). One pass over the bytes, not
/// a split and a pass per check: the tracker ships this.
pub fn private_segment(segment: &str) -> bool {
    let mut part = Chars::default();
    let mut whole = Chars::default();
    let mut dashes = 0;
    for c in segment.bytes() {
        whole.add(c);
        if c == b'-' {
            dashes += 1;
            if part.private() {
                return true;
            }
            part = Chars::default();
        } else {
            part.add(c);
        }
    }
    has_at(segment) || part.private() || whole.n == 36 && dashes == 4 && !whole.not_hex
}

/// What a run of bytes is made of.
#[derive(Default)]
struct Chars {
    n: usize,
    digits: usize,
    upper: bool,
    lower: bool,
    /// Only hex digits (and, for a whole segment, dashes).
    not_hex: bool,
    not_base64: bool,
}

impl Chars {
    fn add(&mut self, c: u8) {
        self.n += 1;
        self.digits += usize::from(c.is_ascii_digit());
        self.upper |= c.is_ascii_uppercase();
        self.lower |= c.is_ascii_lowercase();
        self.not_hex |= !(c.is_ascii_hexdigit() || c == b'-');
        self.not_base64 |= !(c.is_ascii_alphanumeric() || c == b'_' || c == b'=');
    }

    fn private(&self) -> bool {
        let n = self.n;
        self.digits > 0
            // A long number: an order, a customer, a timestamp.
            && (self.digits == n && n >= 8
                // Hex of 16 digits or more with a digit in it: checkout ids, hex tokens.
                || !self.not_hex && n >= 16
                // Base64-like: long, letters of both cases and digits (handles are lowercase).
                || !self.not_base64 && self.upper && self.lower && n >= 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(url: &str) -> String {
        redact(url).unwrap_or_else(|| url.into())
    }

    #[test]
    fn clean_urls_are_left_alone() {
        for url in [
            "https://shop.example/products/organic-cotton-tee-2024",
            "https://shop.example/collections/all?page=2&sort_by=price-ascending",
            "https://shop.example/products/tee?variant=44012345678901",
            "https://shop.example/?utm_source=newsletter&utm_campaign=bf",
            "https://shop.example/collections/shirts?filter.v.price.gte=10&filter.p.vendor=Acme",
            "https://shop.example/search?q=",
            "/cart",
            "",
        ] {
            assert_eq!(redact(url), None, "{url}");
        }
    }

    #[test]
    fn fragments_search_terms_and_other_values_go() {
        assert_eq!(r("https://shop.example/p#reviews"), "https://shop.example/p");
        assert_eq!(
            r("https://shop.example/search?q=red+dress&type=product"),
            "https://shop.example/search?q=&type="
        );
        assert_eq!(
            r("https://shop.example/pages/x?email=a%40b.fr&utm_medium=email&variant=1"),
            "https://shop.example/pages/x?email=&utm_medium=email&variant=1"
        );
        assert_eq!(
            r("https://shop.example/x?a%40b.fr&page=3"),
            "https://shop.example/x?page=3",
            "an email as a key"
        );
        assert_eq!(r("https://shop.example/x?john@doe.fr=1"), "https://shop.example/x");
        assert_eq!(
            r("https://shop.example/?utm_source=nl&utm_term=jo%40example.com&variant=a@b"),
            "https://shop.example/?utm_source=nl&utm_term=&variant=",
            "an email in an allowed value"
        );
    }

    #[test]
    fn emails_tokens_and_long_numbers_in_paths_are_redacted() {
        assert_eq!(
            r("https://shop.example/account/reset/6543210987654/0f3b27c6e0f1f3f2c3a4b5c6d7e8f901-1700000000"),
            "https://shop.example/account/reset/redacted/redacted"
        );
        assert_eq!(
            r("https://shop.example/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0MTowMUpDQVJUVE9LRU4/thank-you"),
            "https://shop.example/checkouts/cn/redacted/thank-you"
        );
        assert_eq!(
            r("https://shop.example/checkouts/c/8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c/thank-you?x=1"),
            "https://shop.example/checkouts/c/redacted/thank-you?x="
        );
        assert_eq!(
            r("https://shop.example/u/jane.doe%40mail.fr/orders"),
            "https://shop.example/u/redacted/orders"
        );
        assert_eq!(r("/orders/123e4567-e89b-12d3-a456-426614174000"), "/orders/redacted");
        assert_eq!(r("https://shop.example/orders/12345678"), "https://shop.example/orders/redacted");
        assert_eq!(
            r("/orders/0123456789a-bcdef-0123-4567-89abcdef"),
            "/orders/redacted",
            "32 hex digits and 4 dashes, wherever the dashes are"
        );
        assert_eq!(r("mailto:jo@example.com"), "redacted", "no `://`: all of it is path");
        assert_eq!(r("https://shop.example/a?"), "https://shop.example/a");
        assert_eq!(
            r("https://shop.example/activate?0f3b27c6e0f1f3f2c3a4b5c6d7e8f901&page=2"),
            "https://shop.example/activate?page=2",
            "a token as a key goes"
        );
        // Words, short numbers and hosts stay.
        assert_eq!(redact("https://a-very-long-shop-name-2024.myshopify.com/products/tee-1234567"), None);
        assert_eq!(redact("https://shop.example/blogs/news/summer-sale-2026"), None);
    }
}
