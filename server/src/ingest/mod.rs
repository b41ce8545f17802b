//! Ingest: `/collect` and everything behind it.
//!
//! Layout:
//! - [`decode`]: the pure decoding path (type, encoding, caps, JSON, validation).
//! - [`collect`]: the HTTP edge, CORS.
//! - [`error`]: the one error enum of this surface and its JSON answers.
//! - [`ratelimit`]: token buckets per site and client address.
//! - [`metrics`]: counters and histograms for `/metrics`.
//!
//! A batch is acknowledged only after it is durable; storage (see
//! [`crate::store`]) is written by the drainer in large inserts.

pub mod collect;
pub mod decode;
pub mod error;
pub mod metrics;
pub mod ratelimit;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::routing::post;
use axum::Router;
use protocol::{Batch, Limits};

use crate::config::Config;
use crate::projects::{Project, ProjectStore};
use crate::store::rows::{page_context_of, rows_from_batch, PageContexts};
use crate::store::EventStore;
use error::IngestError;
use metrics::Metrics;
use ratelimit::RateLimiter;

/// Shared state of the ingest path; cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingest {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    projects: ProjectStore,
    store: Arc<dyn EventStore>,
    limits: Limits,
    max_body: usize,
    max_decoded: usize,
    limiter: RateLimiter,
    metrics: Metrics,
    pages: Mutex<PageContexts>,
}

impl Ingest {
    pub fn new(config: &Config, projects: ProjectStore, store: Arc<dyn EventStore>) -> Self {
        Self {
            inner: Arc::new(Inner {
                projects,
                store,
                limits: Limits::default(),
                max_body: config.max_body_bytes,
                max_decoded: config.max_decoded_bytes,
                limiter: RateLimiter::new(config.rate_limit),
                metrics: Metrics::default(),
                pages: Mutex::new(PageContexts::new(100_000)),
            }),
        }
    }

    /// The routes of this surface: `POST /collect` and its preflight.
    pub fn routes(&self) -> Router {
        Router::new()
            .route("/collect", post(collect::collect).options(collect::preflight))
            .with_state(self.clone())
    }

    pub fn store(&self) -> Arc<dyn EventStore> {
        Arc::clone(&self.inner.store)
    }

    pub fn projects(&self) -> &ProjectStore {
        &self.inner.projects
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    pub fn max_body(&self) -> usize {
        self.inner.max_body
    }

    pub fn max_decoded(&self) -> usize {
        self.inner.max_decoded
    }

    /// The project a batch names, or `UnknownSite`.
    pub async fn project(&self, site_id: u32) -> Result<Project, IngestError> {
        let projects = self.inner.projects.clone();
        tokio::task::spawn_blocking(move || projects.get(site_id))
            .await
            .map_err(|e| IngestError::Internal(e.to_string()))?
            .map_err(|e| IngestError::Internal(e.to_string()))?
            .ok_or(IngestError::UnknownSite(site_id))
    }

    /// Whether `origin` is `https://{shop}` for a shop of any project.
    pub async fn origin_of_any_project(&self, origin: &str) -> bool {
        let Some(host) = origin.strip_prefix("https://").map(str::to_string) else { return false };
        let projects = self.inner.projects.clone();
        matches!(tokio::task::spawn_blocking(move || projects.find_by_shop(&host)).await, Ok(Ok(Some(_))))
    }

    pub fn rate_limit(&self, site_id: u32, ip: IpAddr) -> Result<(), IngestError> {
        self.inner
            .limiter
            .check(site_id, ip, Instant::now())
            .map_err(|retry_after_secs| IngestError::RateLimited { retry_after_secs })
    }

    /// Makes a validated batch durable; answers the number of events.
    pub async fn accept(&self, batch: Batch) -> Result<usize, IngestError> {
        let page = {
            let pages = self.inner.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            batch.page_view_id.as_deref().and_then(|pv| pages.get(pv).cloned())
        };
        let page = match (page, &batch.page_view_id) {
            (Some(p), _) => Some(p),
            (None, Some(pv)) => {
                self.inner.store.page_context(batch.site_id, &batch.visitor_id, pv).await.ok().flatten()
            }
            (None, None) => None,
        };
        let rows = rows_from_batch(&batch, page);
        if let (Some(ctx), Some(pv)) = (page_context_of(&batch), &batch.page_view_id) {
            self.inner
                .pages
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(pv.clone(), ctx);
        }
        let started = Instant::now();
        self.inner.store.insert(&rows).await.map_err(|e| {
            self.inner.metrics.storage_error();
            IngestError::Internal(e.to_string())
        })?;
        self.inner.metrics.inserted(rows.len(), started.elapsed().as_secs_f64());
        Ok(rows.len())
    }

    /// Waits until every acknowledged batch is in storage.
    pub async fn flush(&self) -> Result<(), IngestError> {
        Ok(())
    }
}

impl Ingest {
    /// The `/metrics` text.
    pub fn render_metrics(&self) -> String {
        self.inner.metrics.render(now_ms())
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
