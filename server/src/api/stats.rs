//! `GET /api/stats?from=YYYY-MM-DD&to=YYYY-MM-DD&tz=Area/City`: the dashboard
//! of the token's project (operators name a `site`). The store counts the
//! range, the period before it and the order ids the pixel saw; Shopify's own
//! orders come from the app's database.

use std::collections::HashSet;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;

use super::heatmap::{bad_query, store_err};
use super::site::site_of;
use crate::shopify::auth::Principal;
use crate::shopify::errors::ApiError;
use crate::shopify::orders;
use crate::shopify::ShopifyState;
use crate::stats::range::{DayRange, Window};
use crate::stats::{assemble, Counted, ShopifyOrders, Stats};
use crate::store::StatsQuery;

/// How far around the range a pixel checkout may lie and still match one of
/// Shopify's orders: the order is paid a moment after the checkout completes,
/// which can be the next day.
const ORDER_MATCH_SLACK_MS: i64 = 86_400_000;

#[derive(Debug, Deserialize)]
pub struct StatsParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub tz: Option<String>,
    pub site: Option<u32>,
}

/// Checks the parameters into a range.
pub fn range_of(p: &StatsParams) -> Result<DayRange, ApiError> {
    DayRange::parse(p.from.as_deref(), p.to.as_deref(), p.tz.as_deref())
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// The handler.
pub async fn stats(
    State(state): State<ShopifyState>,
    who: Principal,
    params: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    let Query(params) = params.map_err(bad_query)?;
    let range = range_of(&params)?;
    let site_id = site_of(&state, &who, params.site).await?;
    let window = range.window();
    let current = StatsQuery { site_id, window: window.clone() };
    let previous = StatsQuery { site_id, window: range.previous().window() };
    let padded = StatsQuery {
        site_id,
        window: Window {
            start_ms: window.start_ms - ORDER_MATCH_SLACK_MS,
            end_ms: window.end_ms + ORDER_MATCH_SLACK_MS,
            offsets: window.offsets.clone(),
        },
    };
    let events = &state.events;
    let (counts, breakdown, before, pixel_orders) = tokio::try_join!(
        events.stats_counts(&current),
        events.stats_breakdown(&current),
        events.stats_counts(&previous),
        events.order_ids(&padded),
    )
    .map_err(store_err)?;
    let shopify_orders = shopify_orders(&state, site_id, &window, pixel_orders).await?;
    let counted = Counted { current: counts, breakdown, previous: before, shopify_orders };
    Ok(Json(assemble(&range, counted)))
}

/// Shopify's own orders of the project's shops over the window, and how many
/// of them the pixel saw.
async fn shopify_orders(
    state: &ShopifyState,
    site_id: u32,
    window: &Window,
    pixel_orders: Vec<String>,
) -> Result<ShopifyOrders, ApiError> {
    let project = state.projects.get(site_id).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let shops = project.map(|p| p.shops).unwrap_or_default();
    let seen: HashSet<String> = pixel_orders.into_iter().collect();
    orders::load_summary(state.db.as_ref(), &shops, window.start_ms, window.end_ms, &seen)
        .await
        .map_err(|e| ApiError::Internal(format!("shop orders: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(from: &str, to: &str, tz: Option<&str>) -> StatsParams {
        StatsParams { from: Some(from.into()), to: Some(to.into()), tz: tz.map(String::from), site: None }
    }

    #[test]
    fn bad_ranges_are_400s_that_say_what_to_fix() {
        for (p, says) in [
            (params("2026-11-31", "2026-12-01", None), "from"),
            (params("2026-12-02", "2026-12-01", None), "after"),
            (params("2024-01-01", "2026-12-01", None), "400"),
            (params("2026-11-01", "2026-12-01", Some("Europe/Atlantis")), "time zone"),
        ] {
            match range_of(&p) {
                Err(ApiError::BadRequest(msg)) => assert!(msg.contains(says), "{msg}"),
                other => panic!("expected a 400, got {other:?}"),
            }
        }
        assert_eq!(range_of(&params("2026-11-01", "2026-11-30", None)).expect("ok").tz_name, "UTC");
    }
}
