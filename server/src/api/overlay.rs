//! `POST /api/heatmap/overlay`: a link that opens a page of the merchant's
//! storefront with the heatmap drawn over it. The storefront tab has no
//! session token (those live in the admin's frame and never go in a URL), so
//! the link carries an overlay token of a few minutes
//! ([`crate::shopify::overlay_token`]) in its fragment: browsers send no
//! fragment to any server, put none in a `Referer`, and the storefront's
//! loader removes it from the address bar before the overlay starts.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::site::project_of_shop;
use crate::clock::now_secs;
use crate::shopify::auth::ShopSession;
use crate::shopify::errors::ApiError;
use crate::shopify::overlay_token::{self, OverlayGrant};
use crate::shopify::ShopifyState;
use crate::storefront::Storefronts;

/// The fragment key the storefront's loader looks for.
pub const FRAGMENT_KEY: &str = "lummmen-heatmap";

/// Body of `POST /api/heatmap/overlay`.
#[derive(Debug, Deserialize)]
pub struct OverlayRequest {
    /// The storefront page to open, a path such as `/products/tee`.
    pub page: String,
}

/// Where the caller reached this server: its `Origin` (when it names one, not
/// `null`), else `http://` and its `Host` (the demo storefront is served there).
fn request_origin(headers: &HeaderMap) -> Option<String> {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = value(header::ORIGIN).filter(|o| o.starts_with("https://") || o.starts_with("http://"));
    origin.map(String::from).or_else(|| value(header::HOST).map(|h| format!("http://{h}")))
}

/// `POST /api/heatmap/overlay` with `{"page": "/products/tee"}` →
/// `{"token", "expiresAt" (Unix seconds), "site", "url"}`, `url` being the
/// page on the storefront with `#lummmen-heatmap=<token>`.
pub async fn overlay(
    State(state): State<ShopifyState>,
    State(storefronts): State<Storefronts>,
    ShopSession(claims): ShopSession,
    headers: HeaderMap,
    body: Result<Json<OverlayRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(request) = body.map_err(|e| ApiError::BadRequest(format!("body: {}", e.body_text())))?;
    let project = project_of_shop(&state, &claims.shop).await?;
    let page_url = storefronts
        .page_url(&claims.shop, request.page.trim(), request_origin(&headers).as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let secret = state.settings.secrets.first().ok_or(ApiError::Unauthorized)?;
    let grant = OverlayGrant::new(project.id, &claims.shop, now_secs());
    let token = overlay_token::sign(&overlay_token::key(secret), &grant);
    let url = format!("{page_url}#{FRAGMENT_KEY}={token}");
    Ok(Json(json!({"token": token, "expiresAt": grant.exp, "site": project.id, "url": url})))
}
