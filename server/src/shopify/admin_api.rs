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
use serde_json::{json, Value};

/// A boxed future, so the trait can be used as `dyn AdminApi`.
pub type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What Shopify answered to a token exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    /// Granted scopes, comma-separated.
    pub scope: String,
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
    /// `metafieldsSet` of `lummmen.lummmen_site_id` on the app installation.
    fn set_site_id<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        owner: &'a str,
        site_id: u32,
    ) -> BoxFut<'a, Result<(), AdminError>>;
    /// `webPixelCreate` with settings `{siteId, endpoint}`.
    fn create_web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        site_id: u32,
        endpoint: &'a str,
    ) -> BoxFut<'a, Result<String, AdminError>>;
}

/// The real client, over HTTPS (or the configured base URL in tests).
#[derive(Debug, Clone)]
pub struct HttpAdmin {
    http: reqwest::Client,
    client_id: String,
    client_secret: String,
    api_version: String,
    /// `None`: `https://{shop}`; `Some(base)`: every shop at `base` (fake Shopify).
    base_override: Option<String>,
}

impl HttpAdmin {
    pub fn new(
        client_id: &str,
        client_secret: &str,
        api_version: &str,
        base_override: Option<String>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Self {
            http,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            api_version: api_version.into(),
            base_override: base_override.map(|b| b.trim_end_matches('/').to_string()),
        }
    }

    /// `POST {base}/admin/oauth/access_token` with `body`: a 4xx is Shopify
    /// refusing the grant (a spent or revoked token, an invalid session token).
    async fn token_request<T: serde::de::DeserializeOwned>(
        &self,
        shop: &str,
        body: Value,
        what: &str,
    ) -> Result<T, AdminError> {
        let url = format!("{}/admin/oauth/access_token", self.base(shop));
        let resp = self
            .http
            .post(url)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| AdminError::Transport(format!("{what}: {}", e.without_url())))?;
        let status = resp.status();
        if status.is_client_error() {
            return Err(AdminError::Unauthorized);
        }
        if !status.is_success() {
            return Err(AdminError::Transport(format!("{what}: HTTP {status}")));
        }
        resp.json().await.map_err(|e| AdminError::Transport(format!("{what}: {}", e.without_url())))
    }

    fn base(&self, shop: &str) -> String {
        self.base_override.clone().unwrap_or_else(|| format!("https://{shop}"))
    }

    async fn graphql(
        &self,
        shop: &str,
        token: &str,
        query: &str,
        variables: Value,
    ) -> Result<Value, AdminError> {
        let url = format!("{}/admin/api/{}/graphql.json", self.base(shop), self.api_version);
        let resp = self
            .http
            .post(url)
            .header("X-Shopify-Access-Token", token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .map_err(|e| AdminError::Transport(e.to_string()))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            return Err(AdminError::Unauthorized);
        }
        let body: Value = resp.json().await.map_err(|e| AdminError::Transport(e.to_string()))?;
        if !status.is_success() {
            return Err(AdminError::Transport(format!("HTTP {status}: {body}")));
        }
        if let Some(errors) = body.get("errors") {
            return Err(AdminError::Transport(errors.to_string()));
        }
        body.get("data").cloned().ok_or_else(|| AdminError::Transport("response without data".into()))
    }
}

/// Fails with the mutation's `userErrors` when there are any.
fn user_errors(payload: &Value) -> Result<(), AdminError> {
    match payload.get("userErrors").and_then(Value::as_array) {
        Some(errors) if !errors.is_empty() => {
            let msgs: Vec<String> = errors
                .iter()
                .map(|e| e.get("message").and_then(Value::as_str).unwrap_or("?").to_string())
                .collect();
            Err(AdminError::UserErrors(msgs.join("; ")))
        }
        _ => Ok(()),
    }
}

const INSTALLATION: &str = "query { currentAppInstallation { id accessScopes { handle } } }";
const SUBSCRIBE: &str = "mutation webhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { webhookSubscription { id } userErrors { field message } } }";
const METAFIELDS_SET: &str = "mutation metafieldsSet($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } } }";
const WEB_PIXEL_CREATE: &str = "mutation webPixelCreate($webPixel: WebPixelInput!) { webPixelCreate(webPixel: $webPixel) { webPixel { id settings } userErrors { field message code } } }";

impl AdminApi for HttpAdmin {
    fn exchange_code<'a>(
        &'a self,
        shop: &'a str,
        code: &'a str,
    ) -> BoxFut<'a, Result<AccessToken, AdminError>> {
        let body = json!({"client_id": self.client_id, "client_secret": self.client_secret, "code": code});
        Box::pin(self.token_request(shop, body, "token exchange"))
    }

    fn exchange_session_token<'a>(
        &'a self,
        shop: &'a str,
        session_token: &'a str,
    ) -> BoxFut<'a, Result<TokenSet, AdminError>> {
        let body = json!({"client_id": self.client_id, "client_secret": self.client_secret,
                          "grant_type": TOKEN_EXCHANGE, "subject_token": session_token,
                          "subject_token_type": ID_TOKEN, "requested_token_type": OFFLINE_TOKEN,
                          "expiring": "1"});
        Box::pin(self.token_request(shop, body, "session token exchange"))
    }

    fn refresh_token<'a>(
        &'a self,
        shop: &'a str,
        refresh_token: &'a str,
    ) -> BoxFut<'a, Result<TokenSet, AdminError>> {
        let body = json!({"client_id": self.client_id, "client_secret": self.client_secret,
                          "grant_type": "refresh_token", "refresh_token": refresh_token});
        Box::pin(self.token_request(shop, body, "token refresh"))
    }

    fn installation<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
    ) -> BoxFut<'a, Result<Installation, AdminError>> {
        Box::pin(async move {
            let data = self.graphql(shop, token, INSTALLATION, json!({})).await?;
            let inst = &data["currentAppInstallation"];
            let id = inst["id"].as_str().ok_or_else(|| AdminError::Transport("no installation id".into()))?;
            let scopes = inst["accessScopes"]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s["handle"].as_str().map(String::from)).collect())
                .unwrap_or_default();
            Ok(Installation { id: id.to_string(), scopes })
        })
    }

    fn subscribe<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        topic: &'a str,
        uri: &'a str,
    ) -> BoxFut<'a, Result<String, AdminError>> {
        Box::pin(async move {
            let vars = json!({"topic": topic, "webhookSubscription": {"uri": uri, "format": "JSON"}});
            let data = self.graphql(shop, token, SUBSCRIBE, vars).await?;
            let payload = &data["webhookSubscriptionCreate"];
            user_errors(payload)?;
            Ok(payload["webhookSubscription"]["id"].as_str().unwrap_or_default().to_string())
        })
    }

    fn set_site_id<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        owner: &'a str,
        site_id: u32,
    ) -> BoxFut<'a, Result<(), AdminError>> {
        Box::pin(async move {
            let vars = json!({"metafields": [{"ownerId": owner, "namespace": "lummmen", "key": "lummmen_site_id",
                                             "type": "number_integer", "value": site_id.to_string()}]});
            let data = self.graphql(shop, token, METAFIELDS_SET, vars).await?;
            user_errors(&data["metafieldsSet"])
        })
    }

    fn create_web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        site_id: u32,
        endpoint: &'a str,
    ) -> BoxFut<'a, Result<String, AdminError>> {
        Box::pin(async move {
            // `settings` is a JSON scalar: sent as a string holding the JSON object.
            let settings = json!({"siteId": site_id.to_string(), "endpoint": endpoint}).to_string();
            let data = self
                .graphql(shop, token, WEB_PIXEL_CREATE, json!({"webPixel": {"settings": settings}}))
                .await?;
            let payload = &data["webPixelCreate"];
            user_errors(payload)?;
            Ok(payload["webPixel"]["id"].as_str().unwrap_or_default().to_string())
        })
    }
}
