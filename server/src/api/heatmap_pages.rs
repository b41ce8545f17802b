//! `GET /api/heatmap/pages`: the paths of a site with clicks or scrolled page
//! views, most clicked first, and its template groups, to choose which heatmap
//! to draw.

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
    pub site: Option<String>,
}

/// `GET /api/heatmap/pages` → `{"site": 1, "pages": [{"page", "url", "clicks",
/// "views"}], "groups": [{"page", "clicks", "views"}]}`: pages with clicks or
/// with page views whose scroll depth was recorded. `url` repeats `page` for admin pages
/// written against the first version, which choose by it and ask
/// `/api/heatmap?url=`.
pub async fn pages(
    State(state): State<ShopifyState>,
    who: HeatmapReader,
    params: Result<Query<PagesParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(bad_query)?;
    let site = params
        .site
        .as_deref()
        .map(|s| {
            s.trim().parse::<u32>().map_err(|_| ApiError::BadRequest(format!("`site`: not a site id: {s:?}")))
        })
        .transpose()?;
    let site = heatmap_site(&state, &who, site).await?;
    let found = state.events.heatmap_pages(site).await.map_err(store_err)?;
    let pages: Vec<Value> = found
        .pages
        .iter()
        .map(|p| json!({"page": p.page, "url": p.page, "clicks": p.clicks, "views": p.views}))
        .collect();
    Ok(Json(json!({"site": site, "pages": pages, "groups": found.groups})))
}
