//! Serves the embedded admin page with what its head needs. In production:
//! App Bridge from Shopify's CDN (it must be the first script, loaded
//! synchronously) and the app's API key in `<meta name="shopify-api-key">`, so
//! `shopify.idToken()` works. With development tokens: a marker telling the
//! page to ask `/api/dev/session-token` instead, and no App Bridge (outside the
//! Shopify admin it would redirect there).

use std::path::PathBuf;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api::site::project_or_onboard;
use crate::shopify::auth::verify_session;
use crate::shopify::{bounce, ShopifyState};

/// What serving the page needs.
#[derive(Debug, Clone)]
pub struct AdminPage {
    /// `www/admin/index.html`, read per request so edits show without a restart.
    pub page: PathBuf,
    /// The app's API key, for App Bridge.
    pub client_id: Option<String>,
    /// Whether `/api/dev/session-token` mints tokens (never in production).
    pub dev_tokens: bool,
}

/// Where the page template wants its head additions.
pub const MARKER: &str = "<!-- lummmen:head -->";
/// App Bridge, as Shopify documents it.
pub const APP_BRIDGE: &str = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

/// Escapes a value for an HTML attribute.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The head additions for this configuration.
pub fn head(client_id: Option<&str>, dev_tokens: bool) -> String {
    match (dev_tokens, client_id) {
        (true, _) => {
            r#"<meta name="lummmen-dev-session-tokens" content="/api/dev/session-token">"#.to_string()
        }
        (false, Some(id)) => {
            format!(
                r#"<meta name="shopify-api-key" content="{}"><script src="{APP_BRIDGE}"></script>"#,
                attr(id)
            )
        }
        (false, None) => String::new(),
    }
}

/// `GET /admin/`. Inside the Shopify admin (`embedded=1`), the request must
/// carry a valid `id_token`, or it is bounced for a fresh one (see
/// [`crate::shopify::bounce`]); a valid one onboards the shop: its project is
/// created and its offline token exchanged, if missing.
pub async fn serve(
    State(state): State<AdminPage>,
    State(shopify): State<ShopifyState>,
    RawQuery(query): RawQuery,
) -> Response {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect();
    let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if !state.dev_tokens && shopify.settings.configured() && param("embedded") == Some("1") {
        let claims = param("id_token").and_then(|t| verify_session(&shopify, t).ok());
        let Some(claims) = claims else {
            return bounce::redirect("/admin/", &params);
        };
        match project_or_onboard(&shopify, &claims.shop).await {
            Ok(_) => shopify.exchange_if_missing(&claims.shop, param("id_token").unwrap_or_default()).await,
            Err(e) => tracing::warn!(shop = %claims.shop, error = %e, "onboarding on page load failed"),
        }
    }
    match tokio::fs::read_to_string(&state.page).await {
        Ok(html) => {
            let head = head(state.client_id.as_deref(), state.dev_tokens);
            let html = html.replacen(MARKER, &head, 1);
            // Shopify's admin frames the page; no caching, so a new API key shows at once.
            ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
                .into_response()
        }
        Err(e) => {
            tracing::error!(page = %state.page.display(), error = %e, "admin page missing");
            (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"error": "not_found", "detail": "admin page missing"})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_head_loads_app_bridge_with_the_escaped_api_key_and_dev_head_does_not() {
        let prod = head(Some("abc\"<"), false);
        assert!(prod.starts_with(r#"<meta name="shopify-api-key" content="abc&quot;&lt;">"#), "{prod}");
        assert!(prod.contains(APP_BRIDGE));
        let dev = head(Some("abc"), true);
        assert!(!dev.contains(APP_BRIDGE) && dev.contains("/api/dev/session-token"));
        assert_eq!(head(None, false), "");
    }
}
