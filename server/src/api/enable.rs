//! `POST /api/enable`: write the site id into the app-owned metafield and
//! activate the web pixel, with the shop's offline token (exchanged from the
//! session token first when the shop has none, refreshed when it expires).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::site::project_or_onboard;
use crate::projects::Project;
use crate::shopify::admin_api::{AdminError, EmbedSettings};
use crate::shopify::auth::{bearer_of, ShopSession};
use crate::shopify::errors::ApiError;
use crate::shopify::tokens::TokenError;
use crate::shopify::ShopifyState;

/// The shop's offline token, exchanged from the merchant's session token when
/// the shop has none (or Shopify refused its refresh).
async fn token_for(state: &ShopifyState, shop: &str, session: &str) -> Result<String, TokenError> {
    match state.offline_token(shop).await {
        Err(TokenError::NeedsExchange) => {
            state.exchange_session_token(shop, session).await?;
            state.offline_token(shop).await
        }
        other => other,
    }
}

/// What the merchant is told when no offline token could be had: a refused
/// exchange means the app must be authorized again.
fn token_err(e: TokenError, reauthorize: impl Fn() -> ApiError) -> ApiError {
    match e {
        TokenError::NeedsExchange => reauthorize(),
        TokenError::NoKey => ApiError::NotConfigured("no token key configured"),
        TokenError::Shopify(e) => ApiError::Upstream(e.to_string()),
        other => ApiError::Internal(other.to_string()),
    }
}

/// `POST /api/enable`: `metafieldsSet` of the site id, sample and endpoint on
/// the app installation (the theme app embed renders them), and the web pixel
/// with `{siteId, endpoint, sample}`, updated when the app has one, created otherwise;
/// idempotent, so enabling again after a change of sample or URL updates both.
pub async fn enable(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let project = project_or_onboard(&state, &claims.shop).await?;
    let session = bearer_of(&headers).ok_or(ApiError::Unauthorized)?;
    apply(&state, &claims.shop, session, &project).await.map(Json)
}

/// Writes the project's settings to the shop: the metafields and the pixel.
pub async fn apply(
    state: &ShopifyState,
    shop: &str,
    session: &str,
    project: &Project,
) -> Result<Value, ApiError> {
    let app_url = state.settings.app_url.clone().ok_or(ApiError::NotConfigured("no app URL configured"))?;
    if state.keys.is_none() {
        return Err(ApiError::NotConfigured("no token key configured"));
    }
    let reauthorize = || ApiError::Reauthorize { url: format!("{app_url}/auth?shop={shop}") };
    let mut token = token_for(state, shop, session).await.map_err(|e| token_err(e, reauthorize))?;
    let shopify = |e: AdminError| match e {
        AdminError::Unauthorized => reauthorize(),
        AdminError::UserErrors(m) | AdminError::Taken(m) => {
            ApiError::Conflict(format!("Shopify refused: {m}"))
        }
        AdminError::Transport(m) => ApiError::Upstream(m),
    };
    // A token Shopify refuses although it has not expired (revoked): forget
    // it, exchange the merchant's session token for a new one, and go on.
    let installation = match state.admin.installation(shop, &token).await {
        Err(AdminError::Unauthorized) => {
            state.forget_tokens(shop, &token).await.map_err(|e| token_err(e, reauthorize))?;
            token = token_for(state, shop, session).await.map_err(|e| token_err(e, reauthorize))?;
            state.admin.installation(shop, &token).await
        }
        other => other,
    }
    .map_err(shopify)?;
    let endpoint = format!("{app_url}/collect");
    let embed = EmbedSettings { site_id: project.id, sample: project.sample, endpoint: endpoint.clone() };
    state.admin.set_metafields(shop, &token, &installation.id, &embed).await.map_err(shopify)?;
    let pixel = pixel_for(state, shop, &token, &embed).await.map_err(shopify)?;
    tracing::info!(%shop, site_id = project.id, %pixel, "tracking enabled");
    Ok(json!({"siteId": project.id, "sample": project.sample,
              "metafields": ["lummmen.lummmen_site_id", "lummmen.lummmen_sample", "lummmen.lummmen_endpoint"],
              "webPixel": pixel, "endpoint": endpoint}))
}

/// The app's web pixel with these settings: the existing one updated, or a new
/// one. A create that finds one made meanwhile (`TAKEN`) updates that one.
async fn pixel_for(
    state: &ShopifyState,
    shop: &str,
    token: &str,
    settings: &EmbedSettings,
) -> Result<String, AdminError> {
    if let Some(id) = state.admin.web_pixel(shop, token).await? {
        return state.admin.update_web_pixel(shop, token, &id, settings).await;
    }
    match state.admin.create_web_pixel(shop, token, settings).await {
        Err(AdminError::Taken(m)) => match state.admin.web_pixel(shop, token).await? {
            Some(id) => state.admin.update_web_pixel(shop, token, &id, settings).await,
            None => Err(AdminError::Taken(m)),
        },
        other => other,
    }
}
