//! Ingest: `/collect` and everything behind it.
//!
//! Layout, in the order a batch goes through:
//! - [`collect`]: the HTTP edge, CORS.
//! - [`decode`]: the pure decoding path (type, encoding, caps, JSON, validation).
//! - [`ratelimit`]: token buckets per site and client address.
//! - [`pipeline`]: the stages behind the edge, started and stopped as one:
//!   - [`spool`]: the on-disk spool with group commit;
//!   - [`handoff`]: parsed batches handed to the drainer, so each is parsed once;
//!   - [`follow`]: waiting for new records, shared by the spool's followers;
//!   - [`enrich`]: each batch joined to its page view's context;
//!   - [`drain`]: the drainer from the spool into storage;
//!   - [`relay`]: the optional Matomo relay, also fed from the spool.
//! - [`unsupported`]: `/collect/unsupported`, a client that cannot run
//!   reports it.
//! - [`facts`]: what the relay needs of a request besides its body (address,
//!   user agent, language), spooled with the batch while a relay is configured.
//! - [`tombstones`]: privacy deletions the spool's followers apply.
//! - [`error`]: the one error enum of this surface and its JSON answers;
//!   [`metrics`]: counters and histograms for `/metrics`.
//!
//! A batch is acknowledged only after it is durable; storage (see
//! [`crate::store`]) is written by the drainer in large inserts.

pub mod client_ip;
pub mod collect;
pub mod decode;
mod dedicated;
pub mod drain;
pub mod enrich;
pub mod error;
pub mod facts;
pub mod follow;
pub mod handoff;
pub mod metrics;
pub mod pipeline;
pub mod ratelimit;
pub mod relay;
pub mod spool;
pub mod tombstones;
pub mod unsupported;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use protocol::{Batch, Limits};

use crate::config::Config;
use crate::projects::{Project, ProjectCache};
use error::IngestError;
use facts::RequestFacts;
use metrics::Metrics;
pub use pipeline::Pipeline;
use ratelimit::RateLimiter;

/// What `/collect` needs: the limits, the project lookups, the rate limiter and
/// the pipeline; cheap to clone.
#[derive(Debug, Clone)]
pub struct Ingest {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    projects: ProjectCache,
    limits: Limits,
    max_body: usize,
    max_decoded: usize,
    limiter: RateLimiter,
    /// Proxies whose forwarding headers are believed (see [`client_ip`]).
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether the relay may send the shopper's address (`cip` needs Matomo's
    /// `token_auth`); without one the address is never spooled.
    relays_address: bool,
    pipeline: Pipeline,
}

impl Ingest {
    pub fn new(config: &Config, projects: ProjectCache, pipeline: Pipeline) -> Self {
        Self {
            inner: Arc::new(Inner {
                projects,
                limits: Limits::default(),
                max_body: config.max_body_bytes,
                max_decoded: config.max_decoded_bytes,
                limiter: RateLimiter::new(config.rate_limit),
                trusted_proxies: config.trusted_proxies.clone(),
                relays_address: config.matomo_token.is_some(),
                pipeline,
            }),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        self.inner.pipeline.metrics()
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

    /// The project a batch names, or `UnknownSite`, from the short-lived cache.
    pub async fn project(&self, site_id: u32) -> Result<Project, IngestError> {
        self.inner
            .projects
            .get(site_id)
            .await
            .map_err(|e| IngestError::Internal(e.to_string()))?
            .ok_or(IngestError::UnknownSite(site_id))
    }

    /// The shopper's address: the peer, or what a trusted proxy says it forwards for.
    pub fn client_ip(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        client_ip::client_ip(peer, headers, &self.inner.trusted_proxies)
    }

    /// What every sender to `/collect` passes before its body is taken: the
    /// site is a project's, and the client is within the rate limit (when its
    /// address is known).
    pub async fn admit(&self, site_id: u32, client: Option<IpAddr>) -> Result<(), IngestError> {
        self.project(site_id).await?;
        match client {
            Some(ip) => self.rate_limit(site_id, ip),
            None => Ok(()),
        }
    }

    pub fn rate_limit(&self, site_id: u32, ip: IpAddr) -> Result<(), IngestError> {
        self.inner
            .limiter
            .check(site_id, ip, Instant::now())
            .map_err(|retry_after_secs| IngestError::RateLimited { retry_after_secs })
    }

    /// What the relay needs of this request, when there is a relay (see [`facts`]).
    pub fn request_facts(
        &self,
        client: Option<IpAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<RequestFacts> {
        let client = client.filter(|_| self.inner.relays_address);
        self.inner.pipeline.relays().then(|| RequestFacts::of_request(client, headers))
    }

    /// Hands a validated batch, with its request's facts, to the pipeline (see
    /// [`Pipeline::accept`]).
    pub async fn accept(
        &self,
        batch: Batch,
        json: &[u8],
        facts: Option<&RequestFacts>,
    ) -> Result<usize, IngestError> {
        self.inner.pipeline.accept(batch, json, facts).await
    }
}
