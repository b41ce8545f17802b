//! `/auth` and `/auth/callback`: install, re-authorization and the happy path.
//!
//! `/auth` is the app URL Shopify opens. Signed (with `hmac`), it decides among
//! three states:
//! - valid: we hold a token for the shop, Shopify honours it and it carries the
//!   required scopes: on to the admin page;
//! - invalid: Shopify thinks we are installed (the request comes from inside the
//!   admin, it carries `session`) but our token fails or lacks scopes: OAuth cannot
//!   complete inside the admin iframe, so answer a page that sends the top window
//!   to `/auth` through App Bridge;
//! - not_found: first install (no token, or no `session`): redirect to Shopify's
//!   authorize page.
//!
//! Unsigned (`/auth?shop=...`, where that page lands), it starts OAuth directly.
//! `/auth/callback` checks the signature, timestamp, shop and state nonce,
//! exchanges the code for an offline token, seals and stores it, and subscribes to
//! `app/uninstalled`.

use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::hmac::{self as query_hmac, Params};
use super::state;
use crate::clock::now_secs;
use crate::shop::is_shop_domain;
use crate::shopify::admin_api::AdminError;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// How far a signed request's `timestamp` may be from our clock, in seconds (the
/// tolerance of Shopify's own library).
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 90;

/// The three states of a signed `/auth` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallState {
    Valid,
    Invalid,
    NotFound,
}

/// Whether `granted` (comma-separated) includes every required scope; a `write_`
/// scope implies its `read_`.
pub fn scopes_cover(granted: &str, required: &[String]) -> bool {
    let granted: Vec<&str> = granted.split(',').map(str::trim).collect();
    required.iter().all(|r| {
        granted.contains(&r.as_str())
            || r.strip_prefix("read_").is_some_and(|rest| granted.contains(&format!("write_{rest}").as_str()))
    })
}

struct Ready<'a> {
    client_id: &'a str,
    app_url: &'a str,
    secrets: Vec<&'a [u8]>,
}

fn ready(state: &ShopifyState) -> Result<Ready<'_>, ApiError> {
    let s = &state.settings;
    match (s.client_id.as_deref(), s.app_url.as_deref(), s.secrets.is_empty(), state.keys.is_some()) {
        (Some(client_id), Some(app_url), false, true) => {
            Ok(Ready { client_id, app_url, secrets: state.secrets() })
        }
        _ => Err(ApiError::NotConfigured(
            "Shopify install needs a client id, client secret, app URL and token key",
        )),
    }
}

/// Checks the signature, the timestamp and the shop of a signed query.
fn verify_signed(params: &Params, secrets: &[&[u8]]) -> Result<String, ApiError> {
    query_hmac::verify(params, secrets)
        .map_err(|_| ApiError::BadRequest("hmac does not match the query".into()))?;
    let ts: i64 = params
        .get("timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ApiError::BadRequest("missing or invalid timestamp".into()))?;
    if (now_secs() - ts).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(ApiError::BadRequest("timestamp is stale".into()));
    }
    shop_param(params)
}

fn shop_param(params: &Params) -> Result<String, ApiError> {
    params
        .get("shop")
        .filter(|s| is_shop_domain(s))
        .cloned()
        .ok_or_else(|| ApiError::BadRequest("shop must be a name.myshopify.com host".into()))
}

/// Shopify's authorize URL for an offline token (no `grant_options[]`).
fn authorize_url(state: &ShopifyState, r: &Ready<'_>, shop: &str, nonce: &str) -> String {
    let base = admin_base(state, shop);
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", r.client_id)
        .append_pair("scope", &state.settings.scopes.join(","))
        .append_pair("redirect_uri", &format!("{}/auth/callback", r.app_url))
        .append_pair("state", nonce)
        .finish();
    format!("{base}/admin/oauth/authorize?{query}")
}

/// Where the merchant's browser meets Shopify for this shop.
fn admin_base(state: &ShopifyState, shop: &str) -> String {
    state.admin_base_override().map(String::from).unwrap_or_else(|| format!("https://{shop}"))
}

/// Starts OAuth: a fresh nonce in the database and in a cookie, then Shopify.
async fn start_oauth(state: &ShopifyState, r: &Ready<'_>, shop: &str) -> Result<Response, ApiError> {
    let nonce =
        state::new_nonce().ok_or_else(|| ApiError::Internal("no randomness for the OAuth nonce".into()))?;
    state.db.put_state(&nonce, shop, state::TTL_SECS).await?;
    let cookie = state::set_cookie(&nonce, r.app_url.starts_with("https://"));
    let url = authorize_url(state, r, shop, &nonce);
    Ok((StatusCode::FOUND, [(LOCATION, url), (SET_COOKIE, cookie)]).into_response())
}

/// Decides valid / invalid / not_found for a signed request.
async fn install_state(state: &ShopifyState, shop: &str, params: &Params) -> Result<InstallState, ApiError> {
    let stale = match (state.db.shop(shop).await?, &state.keys) {
        (Some(row), Some(keys)) if row.status == "installed" => match row.sealed_token {
            Some(sealed) => match keys.open(shop, &sealed) {
                Ok(token) => match state.admin.installation(shop, &token).await {
                    Ok(inst) => {
                        let granted = inst.scopes.join(",");
                        if scopes_cover(&granted, &state.settings.scopes) {
                            return Ok(InstallState::Valid);
                        }
                        tracing::info!(%shop, %granted, "granted scopes differ from the required ones");
                        true
                    }
                    Err(AdminError::Unauthorized) => true,
                    Err(e) => return Err(ApiError::Upstream(e.to_string())),
                },
                Err(e) => {
                    tracing::error!(%shop, error = %e, "stored token cannot be opened; re-authorizing");
                    true
                }
            },
            None => false,
        },
        _ => false,
    };
    Ok(if stale && params.contains_key("session") { InstallState::Invalid } else { InstallState::NotFound })
}

/// `GET /auth`.
pub async fn begin(
    State(state): State<ShopifyState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let r = ready(&state)?;
    let params = query_hmac::parse(query.as_deref().unwrap_or(""));
    if !params.contains_key("hmac") {
        let shop = shop_param(&params)?;
        return start_oauth(&state, &r, &shop).await;
    }
    let shop = verify_signed(&params, &r.secrets)?;
    let decided = install_state(&state, &shop, &params).await?;
    tracing::info!(%shop, state = ?decided, "app opened");
    match decided {
        InstallState::Valid => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("shop", &shop)
                .append_pair("host", params.get("host").map(String::as_str).unwrap_or(""))
                .finish();
            Ok((StatusCode::FOUND, [(LOCATION, format!("/admin/?{query}"))]).into_response())
        }
        InstallState::Invalid => {
            Ok(top_level_redirect_page(r.client_id, &shop, &format!("{}/auth?shop={shop}", r.app_url)))
        }
        InstallState::NotFound => start_oauth(&state, &r, &shop).await,
    }
}

/// A page that, inside the admin iframe, sends the top window to `url` through
/// App Bridge (OAuth cannot complete inside the iframe). Only the shop's admin may
/// frame it, as Shopify requires of embedded app pages.
fn top_level_redirect_page(client_id: &str, shop: &str, url: &str) -> Response {
    let url_js = serde_json::Value::String(url.to_string()).to_string().replace('<', "\\u003c");
    let head = crate::admin_page::head(Some(client_id), false);
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\n\
         {head}\n<title>Lummmen: re-authorizing</title></head>\n\
         <body><p>Redirecting to re-authorize Lummmen&hellip;</p>\n\
         <script>window.open({url_js}, \"_top\");</script></body></html>\n"
    );
    let csp = format!("frame-ancestors 'self' https://{shop} https://admin.shopify.com;");
    (
        StatusCode::OK,
        [(CONTENT_TYPE, "text/html; charset=utf-8".to_string()), (CONTENT_SECURITY_POLICY, csp)],
        html,
    )
        .into_response()
}

/// `GET /auth/callback`.
pub async fn callback(
    State(state): State<ShopifyState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let r = ready(&state)?;
    let params = query_hmac::parse(query.as_deref().unwrap_or(""));
    let shop = verify_signed(&params, &r.secrets)?;
    let nonce = params.get("state").map(String::as_str).unwrap_or("");
    let cookie = state::from_cookies(&headers).unwrap_or_default();
    if !state::matches(nonce, &cookie) || !state.db.take_state(nonce, &shop, state::TTL_SECS).await? {
        return Err(ApiError::BadRequest("OAuth state does not match this browser's install".into()));
    }
    let code = params
        .get("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::BadRequest("missing code".into()))?;
    let token = match state.admin.exchange_code(&shop, code).await {
        Ok(t) => t,
        Err(AdminError::Unauthorized) => {
            return Err(ApiError::BadRequest("Shopify refused the authorization code".into()));
        }
        Err(e) => return Err(ApiError::Upstream(e.to_string())),
    };
    let keys = state.keys.as_ref().ok_or(ApiError::NotConfigured("no token key configured"))?;
    let sealed = keys.seal(&shop, &token.access_token).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.db.save_install(&shop, &sealed, &token.scope).await?;
    tracing::info!(%shop, scopes = %token.scope, "offline token stored");

    let uri = format!("{}/webhooks/shopify", r.app_url);
    match state.admin.subscribe(&shop, &token.access_token, "APP_UNINSTALLED", &uri).await {
        Ok(id) => tracing::info!(%shop, subscription = %id, "subscribed to app/uninstalled"),
        Err(e) => tracing::error!(%shop, error = %e, "subscribing to app/uninstalled failed"),
    }

    if !scopes_cover(&token.scope, &state.settings.scopes) {
        tracing::warn!(%shop, granted = %token.scope, "granted scopes lack required ones; re-authorizing");
        return start_oauth(&state, &r, &shop).await;
    }
    let admin_app = format!("https://{shop}/admin/apps/{}", r.client_id);
    Ok((StatusCode::FOUND, [(LOCATION, admin_app), (SET_COOKIE, state::clear_cookie())]).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_imply_read_and_missing_scopes_do_not_cover() {
        let req = vec!["write_pixels".to_string(), "read_customer_events".to_string()];
        assert!(scopes_cover("write_pixels,read_customer_events", &req));
        assert!(scopes_cover("read_customer_events, write_pixels, read_orders", &req));
        assert!(!scopes_cover("write_pixels", &req));
        assert!(scopes_cover("write_products", &["read_products".to_string()]));
    }
}
