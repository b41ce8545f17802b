//! `GET /api/heatmap`: the heatmap of one page or template group in one device
//! bucket, computed by the store (see [`crate::store::heatmap`]); parameters in
//! [`super::heatmap_params`]. A merchant's session token reads its own
//! project; the operator token names any site with `site`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;

use super::heatmap_params::{request_of, site_param, HeatmapParams};
use super::site::heatmap_site;
use crate::shopify::auth::HeatmapReader;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;
use crate::store::heatmap::{assemble, Heatmap};
use crate::store::StoreError;

pub(super) fn store_err(e: StoreError) -> ApiError {
    ApiError::Internal(format!("event store: {e}"))
}

pub(super) fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::BadRequest(format!("query string: {}", e.body_text()))
}

/// `GET /api/heatmap?page=...` → [`Heatmap`] as JSON.
pub async fn heatmap(
    State(state): State<ShopifyState>,
    who: HeatmapReader,
    params: Result<Query<HeatmapParams>, QueryRejection>,
) -> Result<Json<Heatmap>, ApiError> {
    let Query(params) = params.map_err(bad_query)?;
    let site = heatmap_site(&state, &who, site_param(&params)?).await?;
    let request = request_of(site, &params)?;
    let counts = state.events.heatmap(&request.query).await.map_err(store_err)?;
    Ok(Json(assemble(&request.query, counts, request.legacy_url.as_deref())))
}
