//! `GET /api/heatmap`: the click grid of one page, computed by the store. A
//! merchant's session token reads its own project; the operator token names any
//! site with `site`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

use super::site::heatmap_site;
use crate::shopify::auth::HeatmapReader;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;
use crate::store::heatmap::{HeatmapQuery, DEFAULT_CELL, MAX_CELL, MIN_CELL};
use crate::store::{Heatmap, StoreError};

/// Query string of `/api/heatmap`: `url` (required), `from`/`to` (milliseconds
/// since the Unix epoch), `cell` (pixels), `site` (operators only).
#[derive(Debug, Deserialize)]
pub struct HeatmapParams {
    pub url: Option<String>,
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub cell: Option<u32>,
    pub site: Option<u32>,
}

pub(super) fn store_err(e: StoreError) -> ApiError {
    ApiError::Internal(format!("event store: {e}"))
}

pub(super) fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::BadRequest(format!("query string: {}", e.body_text()))
}

/// Checks the parameters into a store query.
pub fn query_of(site_id: u32, p: &HeatmapParams) -> Result<HeatmapQuery, ApiError> {
    let url = p.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let url = url.ok_or_else(|| ApiError::BadRequest("`url` is required: the page to draw".into()))?;
    let cell = p.cell.unwrap_or(DEFAULT_CELL);
    if !(MIN_CELL..=MAX_CELL).contains(&cell) {
        return Err(ApiError::BadRequest(format!(
            "`cell` must be {MIN_CELL} to {MAX_CELL} pixels, got {cell}"
        )));
    }
    let mut q = HeatmapQuery::page(site_id, url);
    q.cell = cell;
    q.from_ms = p.from.unwrap_or(q.from_ms);
    q.to_ms = p.to.unwrap_or(q.to_ms);
    if q.from_ms >= q.to_ms {
        return Err(ApiError::BadRequest("`from` must be before `to`".into()));
    }
    Ok(q)
}

/// `GET /api/heatmap?url=...` → [`Heatmap`] as JSON:
/// `{"url","cell","clicks","width","height","cells":[{"col","row","count"}]}`.
pub async fn heatmap(
    State(state): State<ShopifyState>,
    who: HeatmapReader,
    params: Result<Query<HeatmapParams>, QueryRejection>,
) -> Result<Json<Heatmap>, ApiError> {
    let Query(params) = params.map_err(bad_query)?;
    let site = heatmap_site(&state, &who, params.site).await?;
    let query = query_of(site, &params)?;
    let map = state.events.click_heatmap(&query).await.map_err(store_err)?;
    Ok(Json(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(url: Option<&str>, cell: Option<u32>, from: Option<u64>, to: Option<u64>) -> HeatmapParams {
        HeatmapParams { url: url.map(String::from), from, to, cell, site: None }
    }

    #[test]
    fn refuses_missing_url_bad_cell_and_empty_range() {
        assert!(matches!(query_of(1, &params(None, None, None, None)), Err(ApiError::BadRequest(_))));
        assert!(matches!(query_of(1, &params(Some("  "), None, None, None)), Err(ApiError::BadRequest(_))));
        assert!(matches!(query_of(1, &params(Some("u"), Some(1), None, None)), Err(ApiError::BadRequest(_))));
        assert!(matches!(
            query_of(1, &params(Some("u"), Some(201), None, None)),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            query_of(1, &params(Some("u"), None, Some(5), Some(5))),
            Err(ApiError::BadRequest(_))
        ));
        let q = query_of(3, &params(Some("https://s/p"), Some(20), Some(5), None)).expect("valid");
        assert_eq!((q.site_id, q.url.as_str(), q.cell, q.from_ms), (3, "https://s/p", 20, 5));
    }
}
