//! The Shopify app backend: session-token config, OAuth install, webhooks, and
//! privacy tickets with their fulfilment.
//!
//! Layout:
//! - [`session_token`]: HS256 session-token verification (pure); [`auth`]: the
//!   extractors built on it (shop session or operator token).
//! - [`oauth`]: install and re-authorization (`/auth`, `/auth/callback`): query
//!   HMAC, state nonce, the flow.
//! - [`crypto`]: offline tokens sealed at rest (AES-256-GCM, key ids).
//! - [`admin_api`]: Shopify's token endpoint and Admin GraphQL API behind a trait.
//! - [`webhooks`]: `POST /webhooks/shopify`; [`tickets`]: the audit trail;
//!   [`notify`]: team notices; [`fulfilment`]: export and deletion from a ticket;
//!   [`gdpr`]: the ticket endpoints; [`api`]: `/api/config` and `/api/enable`.
//! - [`db`]: the app's own SQLite tables; [`errors`]: the error type; [`shop`]: shop
//!   host validation.

pub mod admin_api;
pub mod api;
pub mod auth;
pub mod crypto;
pub mod db;
pub mod errors;
pub mod fulfilment;
pub mod gdpr;
pub mod notify;
pub mod oauth;
pub mod session_token;
pub mod shop;
pub mod tickets;
pub mod webhooks;

use std::path::Path;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;

use crate::config::ShopifyOptions;
use crate::projects::ProjectStore;
use crate::store::EventStore;
use admin_api::{AdminApi, HttpAdmin};
use crypto::KeyRing;
use db::AppDb;
use notify::Notifier;

/// Settings checked at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client_id: Option<String>,
    /// Client secrets, current first, then the previous one.
    pub secrets: Vec<Vec<u8>>,
    /// Public base URL of this backend, without a trailing slash.
    pub app_url: Option<String>,
    /// Required scopes.
    pub scopes: Vec<String>,
    pub operator_token: Option<String>,
    /// Shopify's base URL for every shop instead of `https://{shop}` (tests only).
    pub shopify_base: Option<String>,
}

/// Why the Shopify part could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("token encryption key: {0}")]
    Key(#[from] crypto::CryptoError),
    #[error("app database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("{0}")]
    Invalid(String),
}

/// Everything the Shopify handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub struct ShopifyState {
    pub settings: Arc<Settings>,
    pub db: AppDb,
    /// `None` when no token key is configured: installs are refused rather than
    /// storing a token in clear.
    pub keys: Option<Arc<KeyRing>>,
    pub admin: Arc<dyn AdminApi>,
    pub notifier: Notifier,
    pub projects: ProjectStore,
    pub events: Arc<dyn EventStore>,
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

impl ShopifyState {
    /// Checks the options, opens `<data_dir>/shopify.db` and re-seals tokens left
    /// under a previous key.
    pub fn open(
        opts: &ShopifyOptions,
        data_dir: &Path,
        projects: ProjectStore,
        events: Arc<dyn EventStore>,
    ) -> Result<Self, SetupError> {
        let client_id = nonempty(&opts.shopify_client_id);
        let secret = nonempty(&opts.shopify_client_secret);
        let secrets: Vec<Vec<u8>> = [secret.clone(), nonempty(&opts.shopify_previous_secret)]
            .into_iter()
            .flatten()
            .map(String::into_bytes)
            .collect();
        let app_url = nonempty(&opts.app_url).map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &app_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(SetupError::Invalid(format!("app URL {url:?} must start with https://")));
            }
        }
        let scopes = nonempty(&opts.shopify_scopes)
            .unwrap_or_else(|| "write_pixels,read_customer_events".into())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let keys = match nonempty(&opts.token_key) {
            Some(key) => {
                let id = nonempty(&opts.token_key_id).unwrap_or_else(|| "k1".into());
                let previous = nonempty(&opts.token_previous_keys).unwrap_or_default();
                Some(Arc::new(KeyRing::new(&id, &key, &previous)?))
            }
            None => None,
        };
        let shopify_base = nonempty(&opts.shopify_base_url).map(|u| u.trim_end_matches('/').to_string());
        let admin = HttpAdmin::new(
            client_id.as_deref().unwrap_or_default(),
            secret.as_deref().unwrap_or_default(),
            &nonempty(&opts.shopify_api_version).unwrap_or_else(|| "2025-10".into()),
            shopify_base.clone(),
        );
        let db = AppDb::open(data_dir)?;
        if let Some(keys) = &keys {
            reseal_old_tokens(&db, keys)?;
        }
        let settings = Settings {
            client_id,
            secrets,
            app_url,
            scopes,
            operator_token: nonempty(&opts.operator_token),
            shopify_base,
        };
        Ok(Self {
            settings: Arc::new(settings),
            db,
            keys,
            admin: Arc::new(admin),
            notifier: Notifier::new(nonempty(&opts.notify_webhook_url)),
            projects,
            events,
        })
    }

    /// Shopify's base URL when overridden for tests.
    pub fn admin_base_override(&self) -> Option<&str> {
        self.settings.shopify_base.as_deref()
    }

    /// The client secrets as byte slices, current first.
    pub fn secrets(&self) -> Vec<&[u8]> {
        self.settings.secrets.iter().map(Vec::as_slice).collect()
    }
}

/// Re-seals tokens sealed under a previous key with the current one, so the old
/// key can be dropped from the configuration after one start. A token no
/// configured key opens is left as it is: that shop is re-authorized when it next
/// opens the app, and the other shops keep working.
fn reseal_old_tokens(db: &AppDb, keys: &KeyRing) -> Result<(), SetupError> {
    for row in db.shops()? {
        let Some(sealed) = row.sealed_token.filter(|s| keys.needs_rewrap(s)) else { continue };
        match keys.open(&row.shop, &sealed) {
            Ok(token) => {
                db.reseal(&row.shop, &keys.seal(&row.shop, &token)?)?;
                tracing::info!(shop = %row.shop, key_id = keys.current_id(), "re-sealed offline token under the current key");
            }
            Err(e) => {
                tracing::error!(shop = %row.shop, error = %e, "stored token cannot be opened; the shop will be re-authorized")
            }
        }
    }
    Ok(())
}

/// Opens the Shopify state for the server's configuration, sharing the ingest
/// path's projects and event store. Done once at start-up: the Shopify and the
/// admin routes share the result.
pub fn open_from(config: &crate::Config, ingest: &crate::ingest::Ingest) -> Result<ShopifyState, SetupError> {
    ShopifyState::open(&config.shopify, &config.data_dir, ingest.projects().clone(), ingest.store())
}

/// The Shopify routes over the state [`open_from`] gave. When the Shopify
/// settings are unusable (a malformed token key, an unopenable database) the
/// error is logged and every Shopify route answers 503 with it, while the rest of
/// the server runs.
pub fn routes_from(opened: &Result<ShopifyState, SetupError>) -> Router {
    match opened {
        Ok(state) => routes(state.clone()),
        Err(e) => {
            tracing::error!(error = %e, "Shopify app endpoints disabled");
            let detail = e.to_string();
            let unavailable = move || {
                let detail = detail.clone();
                async move {
                    (
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(serde_json::json!({"error": "not_configured", "detail": detail})),
                    )
                }
            };
            Router::new()
                .route("/api/config", post(unavailable.clone()))
                .route("/api/enable", post(unavailable.clone()))
                .route("/auth", get(unavailable.clone()))
                .route("/auth/callback", get(unavailable.clone()))
                .route("/webhooks/shopify", post(unavailable.clone()))
                .route("/api/gdpr/tickets", get(unavailable.clone()))
                .route("/api/gdpr/tickets/{id}/fulfil", post(unavailable.clone()))
                .route("/api/gdpr/tickets/{id}/resolve", post(unavailable))
        }
    }
}

/// The Shopify routes, with their state applied.
pub fn routes(state: ShopifyState) -> Router {
    Router::new()
        .route("/api/config", post(api::config))
        .route("/api/enable", post(api::enable))
        .route("/auth", get(oauth::flow::begin))
        .route("/auth/callback", get(oauth::flow::callback))
        .route("/webhooks/shopify", post(webhooks::receive))
        .route("/api/gdpr/tickets", get(gdpr::list))
        .route("/api/gdpr/tickets/{id}/fulfil", post(gdpr::fulfil))
        .route("/api/gdpr/tickets/{id}/resolve", post(gdpr::resolve))
        .with_state(state)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    db::now_ms() / 1000
}
