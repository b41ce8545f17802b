//! Every route in one place.

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::health::{self, Health};
use crate::ingest::Ingest;

/// Builds the application router.
pub fn router(config: &Config, health: Health, ingest: &Ingest) -> Router {
    let metrics = ingest.clone();
    let shopify = crate::shopify::open_from(config, ingest);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(move || async move { metrics.render_metrics() }))
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .nest_service("/assets", ServeDir::new(&config.assets_dir))
        .nest_service("/pixel", ServeDir::new(&config.pixel_dir))
        .fallback_service(ServeDir::new(&config.www_dir))
        .with_state(health)
        .merge(ingest.routes())
        .merge(crate::shopify::routes_from(&shopify))
        .merge(crate::admin::routes_from(config, &shopify))
}
