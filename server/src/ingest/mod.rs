//! Ingest: `/collect` and everything behind it.
//!
//! Layout:
//! - [`decode`]: the pure decoding path (type, encoding, caps, JSON, validation).
//! - [`collect`]: the HTTP edge, CORS.
//! - [`error`]: the one error enum of this surface and its JSON answers.
//! - [`ratelimit`]: token buckets per site and client address.
//! - [`metrics`]: counters and histograms for `/metrics`.
//! - [`spool`]: the on-disk spool with group commit.
//! - [`follow`]: waiting for new records, shared by the spool's followers.
//! - [`drain`]: the drainer from the spool into storage.
//! - [`enrich`]: each batch joined to its page view's context on the way.
//! - [`handoff`]: parsed batches handed to the drainer, so each is parsed once.
//! - [`relay`]: the optional Matomo relay, also fed from the spool.
//!
//! A batch is acknowledged only after it is durable; storage (see
//! [`crate::store`]) is written by the drainer in large inserts.

pub mod collect;
pub mod decode;
mod dedicated;
pub mod drain;
pub mod enrich;
pub mod error;
pub mod follow;
pub mod handoff;
pub mod metrics;
pub mod ratelimit;
pub mod relay;
pub mod spool;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::routing::post;
use axum::Router;
use protocol::{Batch, Limits};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::health::Health;
use crate::projects::{Project, ProjectStore};
use crate::store::EventStore;
use drain::Drainer;
use error::IngestError;
use handoff::Handoff;
use metrics::Metrics;
use ratelimit::RateLimiter;
use spool::{Pos, Reader, Spool};

/// How long a project lookup is reused: edits (sample, shops) apply within it.
const PROJECT_TTL: Duration = Duration::from_secs(5);
/// How long "no such site" is reused: short, so a new project works at once.
const UNKNOWN_TTL: Duration = Duration::from_secs(1);

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
    spool_max: u64,
    /// Spool bytes when a batch was last refused for room (0: none since); the
    /// server is unready until the drainer brings the spool below it.
    full_at: std::sync::atomic::AtomicU64,
    drain_deadline: Duration,
    limiter: RateLimiter,
    project_cache: RwLock<HashMap<u32, (Instant, Option<Project>)>>,
    metrics: Arc<Metrics>,
    health: Health,
    spool: Spool,
    handoff: Arc<Handoff>,
    drained: watch::Receiver<Pos>,
    storage_ok: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    drainer: Mutex<Option<JoinHandle<()>>>,
    relay: Mutex<Option<JoinHandle<()>>>,
}

impl Ingest {
    /// Opens the spool under `<data_dir>/spool` and starts the drainer (and the
    /// Matomo relay when configured).
    pub fn start(
        config: &Config,
        projects: ProjectStore,
        store: Arc<dyn EventStore>,
    ) -> std::io::Result<Self> {
        let dir = config.data_dir.join("spool");
        std::fs::create_dir_all(&dir)?;
        let reader = Reader::open(&dir, "drain")?;
        let metrics = Arc::new(Metrics::default());
        let observer = Arc::clone(&metrics);
        let spool = Spool::open_observed(
            &dir,
            reader.unread_bytes()?,
            Box::new(move |s| observer.spool_committed(s)),
        )?;
        spool.register(&reader);
        let (drained_tx, drained) = watch::channel(reader.pos);
        let (storage_tx, storage_ok) = watch::channel(true);
        let (stop, stop_rx) = watch::channel(false);
        let handoff = Handoff::new(
            config.handoff_max_bytes.unwrap_or_else(|| drain::chunk_bytes(config.insert_max_events)),
        );
        let drainer = Drainer {
            spool: spool.clone(),
            reader,
            handoff: Arc::clone(&handoff),
            store: Arc::clone(&store),
            metrics: Arc::clone(&metrics),
            max_events: config.insert_max_events,
            linger: Duration::from_millis(config.insert_linger_ms),
            drained: drained_tx,
            storage_ok: storage_tx,
        };
        let drainer = dedicated::spawn("drainer", drainer.run(stop_rx.clone()))?;
        let relay = match &config.matomo_url {
            Some(url) => {
                Some(relay::start(url, config.matomo_token.clone(), &spool, Arc::clone(&metrics), stop_rx)?)
            }
            None => None,
        };
        let ingest = Self {
            inner: Arc::new(Inner {
                projects,
                store,
                limits: Limits::default(),
                max_body: config.max_body_bytes,
                max_decoded: config.max_decoded_bytes,
                spool_max: config.spool_max_bytes,
                full_at: std::sync::atomic::AtomicU64::new(0),
                drain_deadline: Duration::from_secs(config.shutdown_drain_secs),
                limiter: RateLimiter::new(config.rate_limit),
                project_cache: RwLock::default(),
                metrics,
                health: Health::default(),
                spool,
                handoff,
                drained,
                storage_ok,
                stop,
                drainer: Mutex::new(Some(drainer)),
                relay: Mutex::new(relay),
            }),
        };
        // A weak reference: the check must not keep the ingest state alive.
        let weak = Arc::downgrade(&ingest.inner);
        ingest.inner.health.set_check(Arc::new(move || match weak.upgrade() {
            Some(inner) => Ingest { inner }.readiness(),
            None => Err("stopped"),
        }));
        Ok(ingest)
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

    /// The project a batch names, or `UnknownSite`. Answers from a short-lived
    /// cache: a database read per request would cost more than the request.
    pub async fn project(&self, site_id: u32) -> Result<Project, IngestError> {
        let cached = self
            .inner
            .project_cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&site_id)
            .cloned();
        let found = match cached {
            Some((at, p)) if at.elapsed() < if p.is_some() { PROJECT_TTL } else { UNKNOWN_TTL } => p,
            _ => {
                let projects = self.inner.projects.clone();
                let p = tokio::task::spawn_blocking(move || projects.get(site_id))
                    .await
                    .map_err(|e| IngestError::Internal(e.to_string()))?
                    .map_err(|e| IngestError::Internal(e.to_string()))?;
                let mut cache =
                    self.inner.project_cache.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(site_id, (Instant::now(), p.clone()));
                p
            }
        };
        found.ok_or(IngestError::UnknownSite(site_id))
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

    /// Makes a validated batch durable in the spool, then hands it to the
    /// drainer when there is room; answers the number of events. `json` is the
    /// decoded body the batch was parsed from.
    pub async fn accept(&self, batch: Batch, json: &[u8]) -> Result<usize, IngestError> {
        if !self.inner.health.is_ready() {
            return Err(IngestError::ShuttingDown);
        }
        let pending = self.inner.spool.pending_bytes();
        if pending.saturating_add(json.len() as u64) > self.inner.spool_max {
            self.inner.full_at.store(pending.max(1), std::sync::atomic::Ordering::SeqCst);
            return Err(IngestError::SpoolFull { retry_after_secs: 30 });
        }
        let events = batch.events.len();
        let on_durable = self
            .inner
            .handoff
            .reserve(json.len())
            .map(|ticket| Box::new(move |end: Pos| ticket.put(end, batch)) as spool::OnDurable);
        self.inner
            .spool
            .append_then(now_ms(), json, on_durable)
            .await
            .map_err(|e| IngestError::Internal(e.to_string()))?;
        Ok(events)
    }

    /// Readiness: ready unless shutting down or the spool is full. Storage being
    /// down alone keeps the server ready while the spool has room.
    pub fn readiness(&self) -> Result<&'static str, &'static str> {
        if !self.inner.health.is_ready() {
            Err("shutting down")
        } else if self.spool_full() {
            Err("spool full: storage unreachable or behind")
        } else if !*self.inner.storage_ok.borrow() {
            Ok("ready (storage unreachable, spooling)")
        } else {
            Ok("ready")
        }
    }

    fn spool_full(&self) -> bool {
        let pending = self.inner.spool.pending_bytes();
        let full_at = self.inner.full_at.load(std::sync::atomic::Ordering::SeqCst);
        pending >= self.inner.spool_max / 10 * 9 || (full_at != 0 && pending >= full_at)
    }

    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    /// Waits until every batch acknowledged so far is in storage.
    pub async fn flush(&self) -> Result<(), IngestError> {
        let target = *self.inner.spool.committed().borrow();
        let mut drained = self.inner.drained.clone();
        drained
            .wait_for(|p| *p >= target)
            .await
            .map(|_| ())
            .map_err(|_| IngestError::Internal("drainer stopped".into()))
    }

    /// Stops accepting, lets the drainer empty the spool for up to the drain
    /// deadline, then stops it; what is left is drained after the next start.
    pub async fn shutdown(&self) {
        self.inner.health.begin_shutdown();
        self.inner.stop.send_replace(true);
        for task in [&self.inner.drainer, &self.inner.relay] {
            let handle = task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(mut handle) = handle {
                if tokio::time::timeout(self.inner.drain_deadline, &mut handle).await.is_err() {
                    tracing::warn!(
                        "shutdown deadline reached; the rest of the spool is drained after restart"
                    );
                    handle.abort();
                }
            }
        }
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
