//! [`AdminApi`] over HTTP: Shopify's token endpoint and Admin GraphQL API (or
//! the configured base URL, a fake Shopify, in tests).

use serde_json::{json, Value};

use super::{
    AccessToken, AdminApi, AdminError, BoxFut, EmbedSettings, Installation, TokenSet, ID_TOKEN,
    OFFLINE_TOKEN, TOKEN_EXCHANGE,
};

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
        // Only a refusal of the grant means the token is gone; a rate limit
        // (429) or an outage leaves the stored tokens alone.
        if matches!(status.as_u16(), 400 | 401 | 403) {
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
            let taken = errors.iter().any(|e| e.get("code").and_then(Value::as_str) == Some("TAKEN"));
            let msgs = msgs.join("; ");
            Err(if taken { AdminError::Taken(msgs) } else { AdminError::UserErrors(msgs) })
        }
        _ => Ok(()),
    }
}

const INSTALLATION: &str = "query { currentAppInstallation { id accessScopes { handle } } }";
const SUBSCRIBE: &str = "mutation webhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { webhookSubscription { id } userErrors { field message } } }";
const METAFIELDS_SET: &str = "mutation metafieldsSet($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } } }";
const WEB_PIXEL: &str = "query { webPixel { id settings } }";
const WEB_PIXEL_UPDATE: &str = "mutation webPixelUpdate($id: ID!, $webPixel: WebPixelInput!) { webPixelUpdate(id: $id, webPixel: $webPixel) { webPixel { id settings } userErrors { field message code } } }";
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

    fn set_metafields<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        owner: &'a str,
        embed: &'a EmbedSettings,
    ) -> BoxFut<'a, Result<(), AdminError>> {
        Box::pin(async move {
            let field = |key: &str, kind: &str, value: String| json!({"ownerId": owner, "namespace": "lummmen", "key": key, "type": kind, "value": value});
            let vars = json!({"metafields": [
                field("lummmen_site_id", "number_integer", embed.site_id.to_string()),
                field("lummmen_sample", "number_integer", embed.sample.to_string()),
                field("lummmen_endpoint", "single_line_text_field", embed.endpoint.clone()),
            ]});
            let data = self.graphql(shop, token, METAFIELDS_SET, vars).await?;
            user_errors(&data["metafieldsSet"])
        })
    }

    fn web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
    ) -> BoxFut<'a, Result<Option<String>, AdminError>> {
        Box::pin(async move {
            // Shopify answers an app without a pixel with a top-level error and
            // `webPixel: null`: both are "none".
            match self.graphql(shop, token, WEB_PIXEL, json!({})).await {
                Ok(data) => Ok(data["webPixel"]["id"].as_str().map(String::from)),
                Err(AdminError::Transport(m)) if m.to_lowercase().contains("no web pixel") => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn update_web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        id: &'a str,
        settings: &'a EmbedSettings,
    ) -> BoxFut<'a, Result<String, AdminError>> {
        Box::pin(async move {
            let vars = json!({"id": id, "webPixel": {"settings": pixel_settings(settings)}});
            let data = self.graphql(shop, token, WEB_PIXEL_UPDATE, vars).await?;
            let payload = &data["webPixelUpdate"];
            user_errors(payload)?;
            Ok(payload["webPixel"]["id"].as_str().unwrap_or(id).to_string())
        })
    }

    fn create_web_pixel<'a>(
        &'a self,
        shop: &'a str,
        token: &'a str,
        settings: &'a EmbedSettings,
    ) -> BoxFut<'a, Result<String, AdminError>> {
        Box::pin(async move {
            let vars = json!({"webPixel": {"settings": pixel_settings(settings)}});
            let data = self.graphql(shop, token, WEB_PIXEL_CREATE, vars).await?;
            let payload = &data["webPixelCreate"];
            user_errors(payload)?;
            Ok(payload["webPixel"]["id"].as_str().unwrap_or_default().to_string())
        })
    }
}

/// The pixel's settings: a JSON scalar, sent as a string holding the object
/// (Shopify keeps every setting as text, as the extension's TOML declares).
fn pixel_settings(s: &EmbedSettings) -> String {
    json!({"siteId": s.site_id.to_string(), "endpoint": s.endpoint, "sample": s.sample.to_string()})
        .to_string()
}
