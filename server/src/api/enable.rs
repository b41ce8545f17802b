//! `POST /api/enable`: write the site id into the app-owned metafield and
//! activate the web pixel, with the shop's offline token.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::site::project_of_shop;
use crate::shopify::admin_api::AdminError;
use crate::shopify::auth::ShopSession;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;
use crate::sqlite::blocking;

/// `POST /api/enable`: `metafieldsSet` of `lummmen.lummmen_site_id` on the app
/// installation (the theme app embed renders it) and `webPixelCreate` with
/// `{siteId, endpoint}`.
pub async fn enable(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
) -> Result<Json<Value>, ApiError> {
    let shop = claims.shop;
    let project = project_of_shop(&state, &shop).await?;
    let app_url = state.settings.app_url.clone().ok_or(ApiError::NotConfigured("no app URL configured"))?;
    let keys = state.keys.clone().ok_or(ApiError::NotConfigured("no token key configured"))?;
    let not_installed = || {
        ApiError::Conflict(
            "the app has no valid install on this shop: open it from the Shopify admin to re-authorize"
                .into(),
        )
    };
    let (db, name) = (state.db.clone(), shop.clone());
    let row = blocking(move || db.shop(&name)).await?;
    let row = row.filter(|r| r.status == "installed").ok_or_else(not_installed)?;
    let sealed = row.sealed_token.ok_or_else(not_installed)?;
    let token = keys.open(&shop, &sealed).map_err(|e| ApiError::Internal(e.to_string()))?;
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
