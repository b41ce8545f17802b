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

/// What stands in for a private path segment.
pub const REDACTED: &str = "redacted";

/// The URL as it may be kept; `None` when it already is (the common case, so
/// callers copy nothing).
pub fn redact(url: &str) -> Option<String> {
    let base = url.split('#').next().unwrap_or(url);
    let (path, query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (base, None),
    };
    // The part of the path after `scheme://host`, where segments live.
    let path_start =
        path.find("://").map_or(0, |i| path[i + 3..].find('/').map_or(path.len(), |j| i + 3 + j));
    let private_path = path[path_start..].split('/').any(private_segment);
    let private_query = query.is_some_and(|q| q.split('&').any(|pair| kept_pair(pair) != Some(pair)));
    if base.len() == url.len() && !private_path && !private_query {
        return None;
    }
    let mut out = String::with_capacity(base.len());
    out.push_str(&path[..path_start]);
    for (i, segment) in path[path_start..].split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if private_segment(segment) { REDACTED } else { segment });
    }
    if let Some(query) = query {
        let mut first = true;
        for kept in query.split('&').filter_map(kept_pair) {
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(kept);
        }
    }
    Some(out)
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
    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
    if !plain_key(key) {
        return None;
    }
    if value.is_empty() || kept_value(key, value) {
        return Some(pair);
    }
    Some(&pair[..key.len() + 1])
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
fn has_at(s: &str) -> bool {
    // Byte loops, not `contains`: the tracker ships this, and the slice
    // searcher costs it bytes.
    s.bytes().any(|c| c == b'@') || s.as_bytes().windows(3).any(|w| w == b"%40")
}

/// An email, a token or a long number: the whole segment, or one of its
/// `-`-separated parts (a token with a timestamp, a name with an id).
fn private_segment(segment: &str) -> bool {
    has_at(segment) || segment.split('-').any(private_part) || uuid(segment)
}

fn private_part(part: &str) -> bool {
    let b = part.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    // A long number: an order, a customer, a timestamp.
    if digits == b.len() && digits >= 8 {
        return true;
    }
    // Hex of 16 digits or more with a digit in it: checkout ids, hex tokens.
    if b.len() >= 16 && digits > 0 && b.iter().all(u8::is_ascii_hexdigit) {
        return true;
    }
    // Base64-like: long, letters of both cases and digits (handles are lowercase).
    b.len() >= 20
        && digits > 0
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'='))
}

fn uuid(segment: &str) -> bool {
    let b = segment.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
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
        // Words, short numbers and hosts stay.
        assert_eq!(redact("https://a-very-long-shop-name-2024.myshopify.com/products/tee-1234567"), None);
        assert_eq!(redact("https://shop.example/blogs/news/summer-sale-2026"), None);
    }
}
