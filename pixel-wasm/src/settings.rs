//! The web pixel's settings, as the app configured them with `webPixelCreate`
//! (`{"siteId": "7", "endpoint": "https://lummmen.example.com/collect"}`).
//!
//! Shopify stores every setting as a string and hands them over as they are, so
//! each one is checked here.

use crate::json::Value;

/// Where batches go when the app did not set `endpoint`: the public backend named
/// in `shopify.app.toml`. The app sets its own URL when it activates the pixel.
pub const DEFAULT_ENDPOINT: &str = "https://lummmen.example.com/collect";

/// The checked settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The project's site id, when the settings carry a valid one.
    pub site_id: Option<u32>,
    /// Absolute `http(s)` URL of the backend's `POST /collect`.
    pub endpoint: String,
    /// Percentage of visitors tracked, as the theme embed's; 100 when absent
    /// or not a whole number from 0 to 100.
    pub sample: u8,
}

impl Settings {
    /// Reads the settings object as JSON; anything unreadable means defaults, so
    /// a mistyped setting never stops the pixel from learning ids elsewhere.
    pub fn from_json(json: &str) -> Self {
        let raw = Value::parse(json).unwrap_or(Value::Null);
        let field = |k| raw.get(k).and_then(Value::as_str).map(str::trim);
        Self {
            site_id: field("siteId").and_then(site_id),
            endpoint: field("endpoint").filter(|e| is_http_url(e)).unwrap_or(DEFAULT_ENDPOINT).into(),
            sample: field("sample").and_then(sample).unwrap_or(100),
        }
    }
}

/// Parses a site id given as text: a positive decimal integer, nothing else.
pub fn site_id(raw: &str) -> Option<u32> {
    let raw = raw.trim();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u32>().ok().filter(|&id| id > 0)
}

/// Parses a sample given as text: a whole percentage from 0 to 100.
fn sample(raw: &str) -> Option<u8> {
    (!raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && raw.len() <= 3)
        .then(|| raw.parse::<u8>().ok())
        .flatten()
        .filter(|s| *s <= 100)
}

/// Whether `url` is an absolute `http:` or `https:` URL with a host.
fn is_http_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_numeric_site_id() {
        assert_eq!(site_id("42"), Some(42));
        assert_eq!(site_id(" 7 "), Some(7));
    }

    #[test]
    fn rejects_empty_zero_signed_and_junk_site_ids() {
        assert_eq!(site_id(""), None);
        assert_eq!(site_id("0"), None);
        assert_eq!(site_id("+7"), None);
        assert_eq!(site_id("7; drop"), None);
        assert_eq!(site_id("99999999999"), None);
    }

    #[test]
    fn reads_site_id_and_endpoint_from_settings() {
        let s = Settings::from_json(r#"{"siteId":"7","endpoint":"https://a.example/collect"}"#);
        assert_eq!(
            s,
            Settings { site_id: Some(7), endpoint: "https://a.example/collect".into(), sample: 100 }
        );
    }

    #[test]
    fn falls_back_to_the_default_endpoint_when_missing_or_not_http() {
        for json in [
            r#"{"siteId":"7"}"#,
            r#"{"endpoint":"javascript:alert(1)"}"#,
            r#"{"endpoint":"//x"}"#,
            "null",
            "{",
        ] {
            assert_eq!(Settings::from_json(json).endpoint, DEFAULT_ENDPOINT, "{json}");
        }
        assert_eq!(Settings::from_json("{").site_id, None);
    }

    #[test]
    fn reads_a_whole_percentage_as_the_sample_and_defaults_to_everyone() {
        let sample = |raw: &str| Settings::from_json(&format!(r#"{{"sample":"{raw}"}}"#)).sample;
        assert_eq!((sample("25"), sample("0"), sample("100")), (25, 0, 100));
        for bad in ["101", "-1", "2.5", "", "abc", "0100"] {
            assert_eq!(sample(bad), 100, "{bad}");
        }
        assert_eq!(Settings::from_json("{}").sample, 100);
    }
}
