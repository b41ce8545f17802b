//! The Shopify app backend: Shopify's own protocols and the app's state.
//!
//! Layout:
//! - [`settings`]: the app's settings, checked once at start.
//! - [`session_token`]: HS256 session-token verification (pure); [`auth`]: the
//!   extractors built on it (shop session or operator token), which every
//!   endpoint of the admin page (see [`crate::api`]) sits behind.
//! - [`overlay_token`]: the short-lived tokens of the heatmap overlay on the
//!   storefront (pure signing and verification), accepted by the heatmap
//!   endpoints alone.
//! - [`bounce`]: the session-token bounce page for document requests.
//! - [`oauth`]: install and re-authorization (`/auth`, `/auth/callback`): query
//!   HMAC, state nonce, the flow.
//! - [`crypto`]: offline tokens sealed at rest (AES-256-GCM, key ids);
//!   [`tokens`]: expiring offline tokens by token exchange, refreshed in a
//!   single flight per shop.
//! - [`admin_api`]: Shopify's token endpoint and Admin GraphQL API behind a trait.
//! - [`webhooks`]: `POST /webhooks/shopify`; [`tickets`]: the audit trail;
//!   [`notify`]: team notices; [`fulfilment`]: export and deletion from a ticket.
//! - [`orders`]: Shopify's own orders and refunds (`orders/paid`,
//!   `refunds/create`), kept as bare facts for the dashboard.
//! - [`db`]: the app's own SQLite tables; [`errors`]: the error type.

pub mod admin_api;
pub mod auth;
pub mod bounce;
pub mod crypto;
pub mod db;
pub mod errors;
pub mod fulfilment;
pub mod notify;
pub mod oauth;
pub mod orders;
pub mod overlay_token;
pub mod session_token;
pub mod settings;
pub mod tickets;
pub mod tokens;
pub mod webhooks;

use std::sync::Arc;

use crate::config::ShopifyOptions;
use crate::meta::{MetaError, MetaStore, Sealed};
use crate::projects::ProjectCache;
use crate::store::EventStore;
use admin_api::{AdminApi, HttpAdmin};
use crypto::KeyRing;
use notify::Notifier;
pub use settings::Settings;
use settings::SettingsError;

/// Why the Shopify part could not start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Settings(#[from] SettingsError),
    #[error("token encryption key: {0}")]
    Key(#[from] crypto::CryptoError),
    #[error("app database: {0}")]
    Db(#[from] MetaError),
}

/// Everything the Shopify handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub struct ShopifyState {
    pub settings: Arc<Settings>,
    /// The metadata store (shops, tokens, tickets, orders), shared with
    /// [`Self::projects`].
    pub db: Arc<dyn MetaStore>,
    /// `None` when no token key is configured: installs are refused rather than
    /// storing a token in clear.
    pub keys: Option<Arc<KeyRing>>,
    pub admin: Arc<dyn AdminApi>,
    pub notifier: Notifier,
    pub projects: ProjectCache,
    pub events: Arc<dyn EventStore>,
    /// The ingest pipeline: privacy deletions wait for its spool and leave
    /// tombstones in it (see [`crate::ingest::tombstones`]).
    pub pipeline: crate::ingest::Pipeline,
    /// One token refresh at a time per shop.
    pub flights: tokens::Flights,
}

impl ShopifyState {
    /// Checks the options and re-seals tokens left under a previous key.
    pub async fn open(
        opts: &ShopifyOptions,
        projects: ProjectCache,
        events: Arc<dyn EventStore>,
        pipeline: crate::ingest::Pipeline,
    ) -> Result<Self, SetupError> {
        let (settings, keys) = Settings::from_options(opts)?;
        let secret = settings.secrets.first().map(|s| String::from_utf8_lossy(s).into_owned());
        let admin = HttpAdmin::new(
            settings.client_id.as_deref().unwrap_or_default(),
            secret.as_deref().unwrap_or_default(),
            &settings.api_version,
            settings.shopify_base.clone(),
        );
        let db = Arc::clone(projects.store());
        if let Some(keys) = &keys {
            reseal_old_tokens(db.as_ref(), keys).await?;
        }
        Ok(Self {
            notifier: Notifier::new(settings.notify_url.clone()),
            settings: Arc::new(settings),
            db,
            keys: keys.map(Arc::new),
            admin: Arc::new(admin),
            projects,
            events,
            pipeline,
            flights: tokens::Flights::default(),
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
async fn reseal_old_tokens(db: &dyn MetaStore, keys: &KeyRing) -> Result<(), SetupError> {
    for row in db.shops().await? {
        if let Some(sealed) = db.sealed_refresh(&row.shop).await?.filter(|s| keys.needs_rewrap(s)) {
            match keys.open(&row.shop, &sealed) {
                Ok(token) => {
                    db.reseal(&row.shop, Sealed::Refresh, &sealed, &keys.seal(&row.shop, &token)?).await?;
                }
                Err(e) => {
                    tracing::error!(shop = %row.shop, error = %e, "stored refresh token cannot be opened")
                }
            }
        }
        let Some(sealed) = row.sealed_token.filter(|s| keys.needs_rewrap(s)) else { continue };
        match keys.open(&row.shop, &sealed) {
            Ok(token) => {
                db.reseal(&row.shop, Sealed::Access, &sealed, &keys.seal(&row.shop, &token)?).await?;
                tracing::info!(shop = %row.shop, key_id = keys.current_id(), "re-sealed offline token under the current key");
            }
            Err(e) => {
                tracing::error!(shop = %row.shop, error = %e, "stored token cannot be opened; the shop will be re-authorized")
            }
        }
    }
    Ok(())
}
