//! Calls to Shopify on a shop's behalf: the OAuth code exchange, the token
//! exchange and refresh of expiring offline tokens, and the Admin GraphQL API,
//! behind a small trait so the flow can be exercised without Shopify.
//!
//! Formats (Shopify's documentation): `POST {base}/admin/oauth/access_token` with
//! `{"client_id","client_secret","code"}` answers `{"access_token","scope"}`; with
//! `grant_type` token exchange (`subject_token` = a session token, `expiring=1`)
//! or `refresh_token` it answers `{"access_token","expires_in","refresh_token",
//! "refresh_token_expires_in","scope"}`, and 400 (`invalid_grant`, ...) for a
//! session token or refresh token it does not honour;
//! `POST {base}/admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`
//! answers `{"data": ...}` (mutations carry `userErrors`) or, for a token Shopify
//! no longer honours, HTTP 401 `{"errors": "[API] Invalid API key or access token ..."}`.

use std::future::Future;
use std::pin::Pin;

use serde::Deserialize;

mod http;
pub use http::HttpAdmin;

/// A boxed future, so the trait can be used as `dyn AdminApi`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What Shopify answered to a token exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// Granted scopes, comma-separated.
    pub scope: String,
}

/// What the theme app embed reads from the app-installation metafields, and
/// the web pixel from its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedSettings {
    pub site_id: u32,
    /// Percentage of visitors tracked.
    pub sample: u8,
    /// Where the tracker posts its batches (`{app_url}/collect`).
    pub endpoint: String,
}

/// An expiring offline token as Shopify issues it by token exchange or refresh.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    /// Granted scopes, comma-separated.
    pub scope: String,
    /// Seconds the access token lives (3600); absent for a non-expiring token.
    #[serde(default)]
    pub expires_in: Option<i64>,
    /// Replaced on every refresh; absent for a non-expiring token.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Seconds the refresh token lives.
    #[serde(default)]
    pub refresh_token_expires_in: Option<i64>,
}

/// Never prints the tokens.
impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("scope", &self.scope)
            .field("expires_in", &self.expires_in)
            .field("refresh_token_expires_in", &self.refresh_token_expires_in)
            .finish_non_exhaustive()
    }
}

/// `grant_type` of a token exchange (RFC 8693).
pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// `subject_token_type` of a session token.
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
/// `requested_token_type` of an offline token.
pub const OFFLINE_TOKEN: &str = "urn:shopify:params:oauth:token-type:offline-access-token";

/// The app's installation on a shop, as the token sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// `gid://shopify/AppInstallation/...`: owner of the app-owned metafield.
    pub id: String,
    /// Access scopes the token carries.
    pub scopes: Vec<String>,
}

/// Why a call to Shopify failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// Shopify refused the token or the code (401/403): re-authorize.
    #[error("Shopify refused the credentials")]
    Unauthorized,
    /// A mutation answered `userErrors`.
    #[error("Shopify refused the request: {0}")]
    UserErrors(String),
    /// A create answered `userErrors` with code `TAKEN`: the thing exists.
    #[error("Shopify says it already exists: {0}")]
    Taken(String),
    #[error("calling Shopify: {0}")]
    Transport(String),
}

/// Shopify's OAuth and Admin API, for one app.
pub trait AdminApi: Send + Sync + std::fmt::Debug {
    /// Exchanges an authorization code for an offline access token.
    fn exchange_code<'a>(
        &'a self,
        shop: &'a str,
        code: &'a str,
    ) -> BoxFut<'a, Result<AccessToken, AdminError>>;
    /// Exchanges a merchant's session token for an expiring offline token.
    fn exchange_session_token<'a>(
        &'a self,
        shop: &'a str,
        session_token: &'a str,
    ) -> BoxFut<'a, Result<TokenSet, AdminError>>;
    /// Spends a refresh token for a new access token and a new refresh token.
    fn refresh_token<'a>(
        &'a self,
        shop: &'a str,
        refresh_token: &'a str,
    ) -> BoxFut<'a, Result<TokenSet, AdminError>>;
    /// Reads `currentAppInstallation` (id and scopes); also proves the token works.
    fn installation<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
    ) -> BoxFut<'a, Result<Installation, AdminError>>;
    /// `webhookSubscriptionCreate` for `topic` (e.g. `APP_UNINSTALLED`) to `uri`.
    fn subscribe<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        topic: &'a str,
        uri: &'a str,
    ) -> BoxFut<'a, Result<String, AdminError>>;
    /// `metafieldsSet` of the app-installation metafields the theme embed
    /// reads: `lummmen.lummmen_site_id`, `lummmen_sample`, `lummmen_endpoint`.
    fn set_metafields<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        owner: &'a str,
        embed: &'a EmbedSettings,
    ) -> BoxFut<'a, Result<(), AdminError>>;
    /// The id of the app's web pixel on the shop, if it has one (`webPixel`).
    fn web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
    ) -> BoxFut<'a, Result<Option<String>, AdminError>>;
    /// `webPixelUpdate` of the pixel `id` with settings `{siteId, endpoint, sample}`.
    fn update_web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        id: &'a str,
        settings: &'a EmbedSettings,
    ) -> BoxFut<'a, Result<String, AdminError>>;
    /// `webPixelCreate` with settings `{siteId, endpoint, sample}`.
    fn create_web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        settings: &'a EmbedSettings,
    ) -> BoxFut<'a, Result<String, AdminError>>;
}
