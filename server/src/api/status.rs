//! `GET /api/status`: whether the shop's events arrive, and where the merchant
//! turns the theme app embed on, so the page can say what to do next.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::site::project_or_onboard;
use crate::shopify::auth::ShopSession;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// The theme app embed's handle: its block's file name.
pub const EMBED_HANDLE: &str = "lummmen-embed";

/// `GET /api/status` → `{"lastEventAt": ms or null, "embedLink": url}`.
pub async fn status(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
) -> Result<Json<Value>, ApiError> {
    let project = project_or_onboard(&state, &claims.shop).await?;
    let last = state
        .events
        .last_event_ms(project.id)
        .await
        .map_err(|e| ApiError::Internal(format!("event store: {e}")))?;
    let client_id = state.settings.client_id.as_deref().unwrap_or_default();
    let embed_link = format!(
        "https://{}/admin/themes/current/editor?context=apps&activateAppId={client_id}/{EMBED_HANDLE}",
        claims.shop
    );
    Ok(Json(json!({"siteId": project.id, "lastEventAt": last, "embedLink": embed_link})))
}
