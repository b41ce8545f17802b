//! Every route in one place.

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;

use crate::config::Config;
use crate::health::{self, Health};

/// Builds the application router.
pub fn router(config: &Config, health: Health) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .nest_service("/assets", ServeDir::new(&config.assets_dir))
        .fallback_service(ServeDir::new(&config.www_dir))
        .with_state(health)
}
