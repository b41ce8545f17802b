//! The tracker's configuration, as rendered by the theme app embed into data
//! attributes and checked before the tracker does anything.

use alloc::borrow::ToOwned;
use alloc::string::String;

/// What the app embed hands to the tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The project's site id (the `lummmen_site_id` app metafield).
    pub site_id: u32,
    /// Where batches are posted: an absolute URL or a path on the storefront.
    pub endpoint: String,
    /// Percentage of visitors tracked, 0 to 100.
    pub sample: u8,
}

/// Why the embed's configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The site id is missing, zero or not a number: the merchant has not enabled
    /// tracking yet, so the metafield is empty.
    SiteId,
    /// The endpoint is empty or not an http(s) URL or absolute path.
    Endpoint,
}

impl ConfigError {
    /// What the console says when the tracker does not start.
    pub fn message(&self) -> &'static str {
        match self {
            Self::SiteId => "lummmen: not started: no site id (tracking not enabled for this shop yet)",
            Self::Endpoint => "lummmen: not started: the endpoint must be an http(s) URL or an absolute path",
        }
    }
}

impl Config {
    /// Parses the raw data attributes. A missing or out-of-range sample means 100:
    /// the merchant chose no limit.
    pub fn parse(site_id: &str, endpoint: &str, sample: &str) -> Result<Self, ConfigError> {
        let site_id = protocol::text::parse::<u32>(site_id.trim_ascii())
            .filter(|&id| id > 0)
            .ok_or(ConfigError::SiteId)?;
        let endpoint = endpoint.trim_ascii();
        let endpoint_ok = endpoint.starts_with("https://")
            || endpoint.starts_with("http://")
            || (endpoint.starts_with('/') && !endpoint.starts_with("//"));
        if !endpoint_ok {
            return Err(ConfigError::Endpoint);
        }
        let sample = protocol::text::parse::<u8>(sample.trim_ascii()).filter(|&s| s <= 100).unwrap_or(100);
        Ok(Self { site_id, endpoint: endpoint.to_owned(), sample })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_embed_attributes() {
        let c = Config::parse("7", "https://t.example/collect", "25").unwrap();
        assert_eq!(c, Config { site_id: 7, endpoint: "https://t.example/collect".into(), sample: 25 });
    }

    #[test]
    fn empty_metafield_means_not_enabled() {
        assert_eq!(Config::parse("", "/collect", "100"), Err(ConfigError::SiteId));
        assert_eq!(Config::parse("0", "/collect", "100"), Err(ConfigError::SiteId));
    }

    #[test]
    fn refuses_protocol_relative_and_script_endpoints() {
        assert_eq!(Config::parse("1", "//evil.example", ""), Err(ConfigError::Endpoint));
        assert_eq!(Config::parse("1", "javascript:alert(1)", ""), Err(ConfigError::Endpoint));
    }

    #[test]
    fn bad_sample_means_everyone() {
        assert_eq!(Config::parse("1", "/c", "abc").unwrap().sample, 100);
        assert_eq!(Config::parse("1", "/c", "250").unwrap().sample, 100);
        assert_eq!(Config::parse("1", "/c", "0").unwrap().sample, 0);
    }
}
