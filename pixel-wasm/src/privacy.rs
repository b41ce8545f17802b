//! What may leave the pixel: only level-1 data. The mapping reads an allow-list of
//! fields (see `shopify`), so names, emails, phones and addresses in Shopify's
//! payloads are never even parsed; this module cleans the few free-form strings
//! that are sent.

use std::string::String;

/// Longest string the pixel sends; the server refuses longer ones
/// (`protocol::Limits::max_string`).
pub const MAX_STRING: usize = 512;

/// A page URL as it may be sent (`protocol::url`, the rule the tracker and the
/// server apply too): checkout and account pages can carry emails, tokens or
/// discount codes in the query, the fragment and the path (`?email=...`,
/// `#access_token=...`, `/checkouts/cn/<token>/thank-you`).
pub fn clean_url(url: &str) -> String {
    match protocol::url::redact(url) {
        Some(clean) => clip(&clean),
        None => clip(url),
    }
}

/// A string cut to [`MAX_STRING`] bytes at a character boundary.
pub fn clip(s: &str) -> String {
    if s.len() <= MAX_STRING {
        return s.into();
    }
    let mut end = MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_query_and_fragment_from_urls() {
        assert_eq!(
            clean_url("https://s.example/thank-you?email=a%40b.fr#x"),
            "https://s.example/thank-you?email="
        );
        assert_eq!(clean_url("https://s.example/c#grid"), "https://s.example/c");
        assert_eq!(
            clean_url("https://s.example/p?variant=7&utm_source=ig"),
            "https://s.example/p?variant=7&utm_source=ig"
        );
        assert_eq!(
            clean_url("https://s.example/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0MTowMUpDQVJUVE9LRU4/thank-you"),
            "https://s.example/checkouts/cn/redacted/thank-you"
        );
    }

    #[test]
    fn clips_long_strings_at_a_character_boundary() {
        let long = "é".repeat(MAX_STRING);
        let c = clip(&long);
        assert!(c.len() <= MAX_STRING && c.len() >= MAX_STRING - 1);
        assert!(c.chars().all(|ch| ch == 'é'));
    }
}
