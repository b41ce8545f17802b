//! `POST /api/config`: the project of the session token's shop.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::site::project_of_shop;
use crate::shopify::auth::ShopSession;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// `POST /api/config` → `{"matomoId", "sample", "name"}`.
pub async fn config(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
) -> Result<Json<Value>, ApiError> {
    let project = project_of_shop(&state, &claims.shop).await?;
    Ok(Json(json!({"matomoId": project.id, "sample": project.sample, "name": project.name})))
}
