//! `GET /api/heatmap/pages`: the pages of a site with clicks, most first, to
//! choose which heatmap to draw.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::heatmap::{bad_query, store_err};
use super::site::heatmap_site;
use crate::shopify::auth::HeatmapReader;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// Query string of `/api/heatmap/pages`: `site` (operators only).
#[derive(Debug, Deserialize)]
pub struct PagesParams {
    pub site: Option<u32>,
}

/// `GET /api/heatmap/pages` → `{"site": 1, "pages": [{"url", "clicks"}]}`.
pub async fn pages(
    State(state): State<ShopifyState>,
    who: HeatmapReader,
    params: Result<Query<PagesParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(bad_query)?;
    let site = heatmap_site(&state, &who, params.site).await?;
    let pages = state.events.click_pages(site).await.map_err(store_err)?;
    Ok(Json(json!({"site": site, "pages": pages})))
}
