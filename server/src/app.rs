//! The application state: everything the server opens at start, opened once,
//! in one place. Handlers take the part they need (`State<ShopifyState>`,
//! `State<Ingest>`, ...) through [`FromRef`]; the router ([`crate::router`])
//! only wires routes to them.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::FromRef;

use crate::admin_page::AdminPage;
use crate::config::Config;
use crate::health::Health;
use crate::ingest::{Ingest, Pipeline};
use crate::projects::{demo_project, ProjectCache};
use crate::shopify::settings::Settings;
use crate::shopify::{SetupError, ShopifyState};
use crate::store::{EventStore, StoreError};
use crate::storefront::Storefronts;

/// Why the server could not start; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("metadata store: {0}")]
    Projects(#[from] crate::meta::MetaError),
    #[error("event store: {0}")]
    Store(#[from] StoreError),
    #[error("Shopify app settings: {0}")]
    Shopify(#[from] SetupError),
    /// The spool, the drainer's thread or the Matomo relay's client.
    #[error("ingest pipeline: {0}")]
    Pipeline(#[from] std::io::Error),
}

impl From<StartError> for std::io::Error {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Pipeline(e) => e,
            other => std::io::Error::other(other),
        }
    }
}

/// The directories served as they are: the built tracker under `/assets/`, the
/// built web pixel under `/pixel/`, the admin page's charting library under
/// `/admin/vendor/uplot/`, and the static pages (demo storefront, admin page's
/// scripts) for every other path.
#[derive(Debug, Clone)]
pub struct StaticDirs {
    pub assets: PathBuf,
    pub pixel: PathBuf,
    pub uplot: PathBuf,
    pub www: PathBuf,
}

/// Everything the handlers share; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub health: Health,
    pub projects: ProjectCache,
    pub events: Arc<dyn EventStore>,
    pub pipeline: Pipeline,
    pub ingest: Ingest,
    pub shopify: ShopifyState,
    pub admin_page: AdminPage,
    pub storefronts: Storefronts,
    pub static_dirs: StaticDirs,
}

impl AppState {
    /// Opens the projects database (seeding the demo project when configured),
    /// the event store and the Shopify app's state, and starts the pipeline. A
    /// setting that is present but wrong stops here, with its name.
    pub async fn open(config: &Config) -> Result<Self, StartError> {
        let meta = crate::meta::open(config.database_url.as_deref(), &config.data_dir).await?;
        tracing::info!(store = meta.name(), "metadata store open");
        if config.seed_demo && meta.ensure_project(&demo_project()).await? {
            tracing::info!("created the demo project (site id 1)");
        }
        let projects =
            ProjectCache::new(Arc::clone(&meta), std::time::Duration::from_secs(config.project_cache_secs));
        let events = crate::store::open(config).await?;
        tracing::info!(store = events.name(), "event store open");
        // A wrong Shopify setting stops the start before the pipeline runs.
        Settings::from_options(&config.shopify).map_err(SetupError::from)?;
        let health = Health::default();
        // Instances sharing the store apply each other's privacy deletions.
        let joined = match meta.shared() {
            true => Some(crate::deletions::join(meta.as_ref(), &config.data_dir).await?),
            false => None,
        };
        let pending = joined.as_ref().map_or(&[][..], |j| j.pending.as_slice());
        let pipeline = Pipeline::start(config, Arc::clone(&events), health.clone(), pending)?;
        if let Some(joined) = joined {
            crate::deletions::spawn(Arc::clone(&meta), pipeline.clone(), projects.clone(), joined);
        }
        let shopify =
            ShopifyState::open(&config.shopify, projects.clone(), Arc::clone(&events), pipeline.clone())
                .await?;
        if !shopify.settings.configured() {
            tracing::warn!("no Shopify client id and secret: the Shopify app's endpoints answer 503");
        }
        if config.dev_session_tokens {
            tracing::warn!("development session tokens are enabled: never do this in production");
        }
        crate::retention::spawn(Arc::clone(projects.store()), Arc::clone(&events));
        let ingest = Ingest::new(config, projects.clone(), pipeline.clone());
        let admin_page = AdminPage {
            page: config.www_dir.join("admin/index.html"),
            client_id: shopify.settings.client_id.clone(),
            dev_tokens: config.dev_session_tokens,
        };
        // With --seed-demo this server serves the demo shop's storefront.
        let storefronts = Storefronts {
            demo_shop: config.seed_demo.then(|| demo_project().shops.into_iter().next()).flatten(),
            app_url: shopify.settings.app_url.clone(),
        };
        let static_dirs = StaticDirs {
            assets: config.assets_dir.clone(),
            pixel: config.pixel_dir.clone(),
            uplot: config.uplot_dir.clone(),
            www: config.www_dir.clone(),
        };
        Ok(Self { health, projects, events, pipeline, ingest, shopify, admin_page, storefronts, static_dirs })
    }
}

impl FromRef<AppState> for Health {
    fn from_ref(s: &AppState) -> Self {
        s.health.clone()
    }
}

impl FromRef<AppState> for Ingest {
    fn from_ref(s: &AppState) -> Self {
        s.ingest.clone()
    }
}

impl FromRef<AppState> for Pipeline {
    fn from_ref(s: &AppState) -> Self {
        s.pipeline.clone()
    }
}

impl FromRef<AppState> for ShopifyState {
    fn from_ref(s: &AppState) -> Self {
        s.shopify.clone()
    }
}

impl FromRef<AppState> for AdminPage {
    fn from_ref(s: &AppState) -> Self {
        s.admin_page.clone()
    }
}

impl FromRef<AppState> for Storefronts {
    fn from_ref(s: &AppState) -> Self {
        s.storefronts.clone()
    }
}
