//! Every route in one table, with no I/O: the state is opened before (see
//! [`crate::app`]). The routes that need the Shopify app (its protocol
//! endpoints, and the admin API only a merchant's session token can call) sit
//! behind one layer that answers 503 while the app has no client id and secret.

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::services::ServeDir;

use crate::app::AppState;
use crate::ingest::{collect, unsupported, Pipeline};
use crate::shopify::errors::ApiError;
use crate::shopify::{bounce, oauth, webhooks, ShopifyState};
use crate::{admin_page, api, health};

/// Builds the application router over the opened state.
pub fn router(state: &AppState) -> Router {
    // Only with the app's client id and secret: Shopify's protocol endpoints and
    // the admin API that a merchant's session token alone can call.
    let shopify_app = Router::new()
        .route("/auth", get(oauth::flow::begin))
        .route("/auth/callback", get(oauth::flow::callback))
        .route(bounce::PATH, get(bounce::page))
        .route("/webhooks/shopify", post(webhooks::receive))
        .route("/api/config", post(api::config::config))
        .route("/api/enable", post(api::enable::enable))
        .route("/api/sample", post(api::sample::set_sample))
        .route("/api/status", get(api::status::status))
        .route("/api/heatmap/overlay", post(api::overlay::overlay))
        .route("/api/dev/session-token", get(api::dev_token::mint))
        .route_layer(middleware::from_fn_with_state(state.shopify.clone(), require_shopify_app));
    // Also for operators (`--operator-token`), app or no app: a session token
    // finds no secret to verify it while the app is off and gets the usual 401.
    let admin_api = Router::new()
        .route("/api/stats", get(api::stats::stats))
        .route("/api/gdpr/tickets", get(api::tickets::list))
        .route("/api/gdpr/tickets/{id}/fulfil", post(api::ticket_fulfil::fulfil))
        .route("/api/gdpr/tickets/{id}/resolve", post(api::ticket_resolve::resolve));
    // Also for the heatmap overlay, from the merchant's storefront (another
    // origin) with an overlay token: readable cross-origin, without cookies.
    let heatmap_api = Router::new()
        .route("/api/heatmap", get(api::heatmap::heatmap).options(api::cors::preflight))
        .route("/api/heatmap/pages", get(api::heatmap_pages::pages).options(api::cors::preflight))
        .route_layer(middleware::map_response(api::cors::any_origin));
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(|State(p): State<Pipeline>| async move { p.render_metrics() }))
        .route("/collect", post(collect::collect).options(collect::preflight))
        .route("/collect/unsupported", post(unsupported::report).options(collect::preflight))
        .route("/", get(|| async { Redirect::temporary("/demo/") }))
        .route("/admin/", get(admin_page::serve))
        .route("/admin/index.html", get(admin_page::serve))
        .merge(shopify_app)
        .merge(admin_api)
        .merge(heatmap_api)
        .nest_service("/assets", ServeDir::new(&state.static_dirs.assets))
        .nest_service("/pixel", ServeDir::new(&state.static_dirs.pixel))
        .nest_service("/admin/vendor/uplot", ServeDir::new(&state.static_dirs.uplot))
        .fallback_service(ServeDir::new(&state.static_dirs.www))
        .with_state(state.clone())
}

/// The one answer of every Shopify app route while the app is off.
async fn require_shopify_app(State(shopify): State<ShopifyState>, req: Request, next: Next) -> Response {
    if shopify.settings.configured() {
        next.run(req).await
    } else {
        ApiError::NotConfigured("the Shopify app is off: set --shopify-client-id and --shopify-client-secret")
            .into_response()
    }
}
