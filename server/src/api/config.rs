//! `POST /api/config`: the project of the session token's shop. The shop's
//! first valid session token creates its project (see
//! [`super::site::project_or_onboard`]); a shop without a usable offline token
//! gets one by token exchange in the background, so the answer never waits on
//! Shopify.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::site::project_or_onboard;
use crate::shopify::auth::{bearer_of, ShopSession};
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// `POST /api/config` → `{"matomoId", "sample", "name"}`.
pub async fn config(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let project = project_or_onboard(&state, &claims.shop).await?;
    if let Some(token) = bearer_of(&headers) {
        state.exchange_if_missing(&claims.shop, token).await;
    }
    Ok(Json(json!({"matomoId": project.id, "sample": project.sample, "name": project.name})))
}
