//! The Shopify app's settings, checked once at start from the options as given
//! ([`ShopifyOptions`]): blanks are unset, defaults are the constants in
//! [`crate::config`], and a setting that is present but wrong (a client id
//! without its secret, a malformed token key, an app URL that is not HTTP(S))
//! stops the server with a message naming it. An absent optional feature only
//! turns that feature off: no token key refuses installs, no app URL refuses
//! enabling tracking, no client id and secret turns the whole app off.

use crate::config::{
    ShopifyOptions, DEFAULT_SHOPIFY_API_VERSION, DEFAULT_SHOPIFY_SCOPES, DEFAULT_TOKEN_KEY_ID,
};

use super::crypto::{CryptoError, KeyRing};

/// Why the Shopify settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("--shopify-client-id and --shopify-client-secret go together: only {0} is set")]
    HalfCredentials(&'static str),
    #[error("--app-url {0:?} must start with https:// (or http:// for local development)")]
    AppUrl(String),
    #[error("--shopify-base-url {0:?} must start with https:// or http://")]
    BaseUrl(String),
    #[error("--shopify-scopes names no scope")]
    NoScopes,
    #[error("token encryption key: {0}")]
    Key(#[from] CryptoError),
}

/// The checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The app's client id (API key); `None` with `secrets` empty when the app is off.
    pub client_id: Option<String>,
    /// Client secrets, current first, then the previous one.
    pub secrets: Vec<Vec<u8>>,
    /// Public base URL of this backend, without a trailing slash.
    pub app_url: Option<String>,
    /// Required scopes.
    pub scopes: Vec<String>,
    /// Admin GraphQL API version.
    pub api_version: String,
    pub operator_token: Option<String>,
    /// Shopify's base URL for every shop instead of `https://{shop}` (tests only).
    pub shopify_base: Option<String>,
    /// Receives a JSON POST for every new privacy ticket.
    pub notify_url: Option<String>,
    /// Whether a shop's first valid session token creates its project.
    pub auto_projects: bool,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

fn is_http(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

impl Settings {
    /// Checks the options; answers the settings and the token keys (`None`
    /// when no token key is configured).
    pub fn from_options(opts: &ShopifyOptions) -> Result<(Self, Option<KeyRing>), SettingsError> {
        let client_id = nonempty(&opts.shopify_client_id);
        let secret = nonempty(&opts.shopify_client_secret);
        match (&client_id, &secret) {
            (Some(_), None) => return Err(SettingsError::HalfCredentials("the client id")),
            (None, Some(_)) => return Err(SettingsError::HalfCredentials("the client secret")),
            _ => {}
        }
        let secrets = [secret, nonempty(&opts.shopify_previous_secret)]
            .into_iter()
            .flatten()
            .map(String::into_bytes)
            .collect();
        let app_url = nonempty(&opts.app_url).map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = app_url.as_ref().filter(|u| !is_http(u)) {
            return Err(SettingsError::AppUrl(url.clone()));
        }
        let shopify_base = nonempty(&opts.shopify_base_url).map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = shopify_base.as_ref().filter(|u| !is_http(u)) {
            return Err(SettingsError::BaseUrl(url.clone()));
        }
        let scopes: Vec<String> = nonempty(&opts.shopify_scopes)
            .unwrap_or_else(|| DEFAULT_SHOPIFY_SCOPES.into())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if scopes.is_empty() {
            return Err(SettingsError::NoScopes);
        }
        let keys = match nonempty(&opts.token_key) {
            Some(key) => {
                let id = nonempty(&opts.token_key_id).unwrap_or_else(|| DEFAULT_TOKEN_KEY_ID.into());
                let previous = nonempty(&opts.token_previous_keys).unwrap_or_default();
                Some(KeyRing::new(&id, &key, &previous)?)
            }
            None => None,
        };
        let settings = Self {
            client_id,
            secrets,
            app_url,
            scopes,
            api_version: nonempty(&opts.shopify_api_version)
                .unwrap_or_else(|| DEFAULT_SHOPIFY_API_VERSION.into()),
            operator_token: nonempty(&opts.operator_token),
            shopify_base,
            notify_url: nonempty(&opts.notify_webhook_url),
            auto_projects: !opts.no_auto_projects,
        };
        Ok((settings, keys))
    }

    /// Whether the app is on: a client id and its secret are configured.
    pub fn configured(&self) -> bool {
        self.client_id.is_some() && !self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ShopifyOptions {
        ShopifyOptions {
            shopify_client_id: Some("id".into()),
            shopify_client_secret: Some("secret".into()),
            ..ShopifyOptions::default()
        }
    }

    #[test]
    fn unset_options_take_the_defaults_and_blank_ones_count_as_unset() {
        let mut o = opts();
        o.app_url = Some("  ".into());
        let (s, keys) = Settings::from_options(&o).expect("valid");
        assert!(s.configured() && keys.is_none() && s.app_url.is_none());
        assert_eq!(s.scopes.join(","), DEFAULT_SHOPIFY_SCOPES);
        assert_eq!(s.api_version, DEFAULT_SHOPIFY_API_VERSION);
        let (off, _) = Settings::from_options(&ShopifyOptions::default()).expect("off is valid");
        assert!(!off.configured());
    }

    #[test]
    fn the_default_scopes_and_order_topics_are_those_of_the_app_configuration() {
        // A managed install grants what shopify.app.toml asks for; requiring
        // anything else would send every such install to re-authorization.
        let toml = include_str!("../../../shopify.app.toml");
        let asked = toml
            .lines()
            .find_map(|l| l.trim().strip_prefix("scopes = "))
            .map(|v| v.trim_matches('"'))
            .expect("shopify.app.toml names its scopes");
        assert_eq!(asked, DEFAULT_SHOPIFY_SCOPES);
        let topics = format!(
            "topics = [\"{}\", \"{}\"]",
            crate::shopify::orders::ORDERS_PAID,
            crate::shopify::orders::REFUNDS_CREATE
        );
        assert!(toml.lines().any(|l| l.trim() == topics), "shopify.app.toml subscribes to {topics}");
    }

    #[test]
    fn a_wrong_setting_is_refused_with_its_name() {
        let only_id = ShopifyOptions { shopify_client_secret: None, ..opts() };
        let e = Settings::from_options(&only_id).expect_err("half");
        assert!(e.to_string().contains("only the client id"), "{e}");
        let bad_url = ShopifyOptions { app_url: Some("app.example.com".into()), ..opts() };
        assert!(matches!(Settings::from_options(&bad_url), Err(SettingsError::AppUrl(_))));
        let bad_key = ShopifyOptions { token_key: Some("not base64 of 32 bytes".into()), ..opts() };
        assert!(matches!(Settings::from_options(&bad_key), Err(SettingsError::Key(_))));
        let no_scopes = ShopifyOptions { shopify_scopes: Some(" , ".into()), ..opts() };
        assert!(matches!(Settings::from_options(&no_scopes), Err(SettingsError::NoScopes)));
    }
}
