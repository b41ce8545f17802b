//! `POST /api/enable`: write the site id into the app-owned metafield and
//! activate the web pixel, with the shop's offline token (exchanged from the
//! session token first when the shop has none, refreshed when it expires).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::site::project_or_onboard;
use crate::shopify::admin_api::AdminError;
use crate::shopify::auth::{bearer_of, ShopSession};
use crate::shopify::errors::ApiError;
use crate::shopify::tokens::TokenError;
use crate::shopify::ShopifyState;

/// What the merchant is told when no offline token could be had.
fn token_err(e: TokenError, not_installed: impl Fn() -> ApiError) -> ApiError {
    match e {
        TokenError::NeedsExchange => not_installed(),
        TokenError::NoKey => ApiError::NotConfigured("no token key configured"),
        TokenError::Shopify(e) => ApiError::Upstream(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

/// `POST /api/enable`: `metafieldsSet` of `lummmen.lummmen_site_id` on the app
/// installation (the theme app embed renders it) and `webPixelCreate` with
/// `{siteId, endpoint}`.
pub async fn enable(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let shop = claims.shop;
    let project = project_or_onboard(&state, &shop).await?;
    let app_url = state.settings.app_url.clone().ok_or(ApiError::NotConfigured("no app URL configured"))?;
    if state.keys.is_none() {
        return Err(ApiError::NotConfigured("no token key configured"));
    }
    let not_installed = || {
        ApiError::Conflict(
            "the app has no valid install on this shop: open it from the Shopify admin to re-authorize"
                .into(),
        )
    };
    let token = match state.offline_token(&shop).await {
        Err(TokenError::NeedsExchange) => {
            // The merchant is here with a valid session token: exchange it now.
            let session = bearer_of(&headers).ok_or(ApiError::Unauthorized)?;
            state.exchange_session_token(&shop, session).await.map_err(|e| token_err(e, not_installed))?;
            state.offline_token(&shop).await
        }
        other => other,
    }
    .map_err(|e| token_err(e, not_installed))?;
    let shopify = |e: AdminError| match e {
        AdminError::Unauthorized => not_installed(),
        AdminError::UserErrors(m) => ApiError::Conflict(format!("Shopify refused: {m}")),
        AdminError::Transport(m) => ApiError::Upstream(m),
    };
    let installation = state.admin.installation(&shop, &token).await.map_err(shopify)?;
    state.admin.set_site_id(&shop, &token, &installation.id, project.id).await.map_err(shopify)?;
    let endpoint = format!("{app_url}/collect");
    let pixel = state.admin.create_web_pixel(&shop, &token, project.id, &endpoint).await.map_err(shopify)?;
    tracing::info!(%shop, site_id = project.id, %pixel, "tracking enabled");
    Ok(Json(
        json!({"siteId": project.id, "metafield": "lummmen.lummmen_site_id", "webPixel": pixel, "endpoint": endpoint}),
    ))
}
