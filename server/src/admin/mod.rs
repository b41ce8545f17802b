//! The merchant's admin surface besides the Shopify endpoints: the embedded page
//! itself (`/admin/`), the click heatmap (`/api/heatmap`, `/api/heatmap/pages`)
//! and, for local development only, a session-token source.
//!
//! Layout:
//! - [`page`]: serves `www/admin/index.html` with App Bridge and the app's API
//!   key in its head (production) or the development marker.
//! - [`heatmap`]: the heatmap endpoints, authorised like the ticket endpoints.
//! - [`dev_token`]: `GET /api/dev/session-token`, only with `--dev-session-tokens`.

pub mod dev_token;
pub mod heatmap;
pub mod page;

use std::path::PathBuf;

use axum::routing::get;
use axum::Router;

use crate::config::Config;
use crate::shopify::{self, SetupError, ShopifyState};

/// What the admin handlers need besides the Shopify state.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub shopify: ShopifyState,
    /// `www/admin/index.html`, read per request so edits show without a restart.
    pub page: PathBuf,
    /// Whether `/api/dev/session-token` mints tokens (never in production).
    pub dev_tokens: bool,
}

/// The admin routes, over the same Shopify state as the Shopify routes. When the
/// Shopify settings are unusable the admin API answers 503, as the Shopify routes
/// do.
pub fn routes_from(config: &Config, opened: &Result<ShopifyState, SetupError>) -> Router {
    let page = config.www_dir.join("admin/index.html");
    match opened {
        Ok(state) => {
            let admin = AdminState { shopify: state.clone(), page, dev_tokens: config.dev_session_tokens };
            if admin.dev_tokens {
                tracing::warn!("development session tokens are enabled: never do this in production");
            }
            routes(admin)
        }
        Err(_) => unavailable(),
    }
}

/// The admin routes, with their state applied.
pub fn routes(state: AdminState) -> Router {
    Router::new()
        .route("/admin/", get(page::serve))
        .route("/admin/index.html", get(page::serve))
        .route("/api/heatmap", get(heatmap::heatmap))
        .route("/api/heatmap/pages", get(heatmap::pages))
        .route("/api/dev/session-token", get(dev_token::mint))
        .with_state(state)
}

fn unavailable() -> Router {
    let answer = || async {
        shopify::errors::ApiError::NotConfigured("the Shopify app settings are unusable: see the server log")
    };
    Router::new()
        .route("/api/heatmap", get(answer))
        .route("/api/heatmap/pages", get(answer))
        .route("/api/dev/session-token", get(answer))
}

/// The caller of an admin endpoint, proven exactly as on the ticket endpoints
/// (the Shopify module's [`Principal`](shopify::auth::Principal) extractor).
#[derive(Debug, Clone)]
pub struct Caller(pub shopify::auth::Principal);

impl axum::extract::FromRequestParts<AdminState> for Caller {
    type Rejection = shopify::errors::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AdminState,
    ) -> Result<Self, Self::Rejection> {
        shopify::auth::Principal::from_request_parts(parts, &state.shopify).await.map(Caller)
    }
}
