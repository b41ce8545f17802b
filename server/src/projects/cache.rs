//! Project lookups for request handlers, through the metadata store, and for
//! the ingest path cached briefly, since a database read per batch would cost
//! more than the batch.
//!
//! The cache is per instance. An edit made through this instance (the
//! admin's sample, a shop redact) forgets its entry at once; an edit made
//! through another instance sharing the database shows here within the
//! cache's bound (`--project-cache-secs`, 5 s by default). That bound is what
//! a sample change takes to reach every instance behind a load balancer. A
//! shop's redaction is published as a site deletion, and every instance
//! forgets the sites it covers when it applies it ([`crate::deletions`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::{Project, ProjectError};
use crate::meta::MetaStore;

/// How long "no such site" is reused at most: short, so a new project works at once.
const UNKNOWN_TTL: Duration = Duration::from_secs(1);
/// Entries kept before the cache starts over (a flood of unknown site ids must
/// not grow it without bound).
const MAX_ENTRIES: usize = 10_000;

/// A lookup by site id and when it was made (`None`: no such site).
type Entries = HashMap<u32, (Instant, Option<Project>)>;

/// The project store behind async, cached lookups; cheap to clone.
#[derive(Debug, Clone)]
pub struct ProjectCache {
    store: Arc<dyn MetaStore>,
    by_id: Arc<RwLock<Entries>>,
    /// Bumped by every [`Self::forget`]: a lookup that read the store before
    /// a forget does not put what it read back after it (a project deleted
    /// meanwhile would otherwise be reused for a whole bound).
    forgets: Arc<AtomicU64>,
    /// How long a project lookup is reused: edits made elsewhere apply within it.
    ttl: Duration,
}

impl ProjectCache {
    pub fn new(store: Arc<dyn MetaStore>, ttl: Duration) -> Self {
        Self { store, by_id: Arc::default(), forgets: Arc::default(), ttl }
    }

    /// The store itself, for writes and the operator's commands.
    pub fn store(&self) -> &Arc<dyn MetaStore> {
        &self.store
    }

    /// The project with this site id, from the cache when fresh enough.
    pub async fn get(&self, site_id: u32) -> Result<Option<Project>, ProjectError> {
        let cached =
            self.by_id.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&site_id).cloned();
        if let Some((at, p)) = cached {
            if at.elapsed() < if p.is_some() { self.ttl } else { UNKNOWN_TTL.min(self.ttl) } {
                return Ok(p);
            }
        }
        let forgets = self.forgets.load(Ordering::SeqCst);
        let p = self.store.project(site_id).await?;
        self.fill(site_id, &p, forgets);
        Ok(p)
    }

    /// Caches what a lookup read, unless a forget came after `forgets` was
    /// read, before the lookup: what it read may be what was forgotten.
    fn fill(&self, site_id: u32, p: &Option<Project>, forgets: u64) {
        let mut cache = self.by_id.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.forgets.load(Ordering::SeqCst) != forgets {
            return;
        }
        if cache.len() > MAX_ENTRIES {
            cache.clear();
        }
        cache.insert(site_id, (Instant::now(), p.clone()));
    }

    /// The project a shop belongs to, read from the store (not cached: a shop
    /// linked a moment ago must be found at once).
    pub async fn find_by_shop(&self, shop: &str) -> Result<Option<Project>, ProjectError> {
        self.store.project_of_shop(shop).await
    }

    /// Forgets the cached lookup of a site after it changed or was deleted.
    pub fn forget(&self, site_id: u32) {
        let mut cache = self.by_id.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.forgets.fetch_add(1, Ordering::SeqCst);
        cache.remove(&site_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cached_miss_is_reused_for_a_moment_then_read_again() {
        let dir = std::env::temp_dir().join(format!("lummmen-project-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let meta = crate::meta::open(None, &dir).await.expect("open");
        let cache = ProjectCache::new(meta, Duration::from_secs(5));
        assert_eq!(cache.get(3).await.expect("get"), None);
        let p =
            Project { id: 3, name: "Three".into(), sample: 40, shops: vec!["three.myshopify.com".into()] };
        cache.store().upsert_project(&p).await.expect("upsert");
        assert_eq!(cache.get(3).await.expect("cached"), None, "the miss is reused for a moment");
        tokio::time::sleep(UNKNOWN_TTL + Duration::from_millis(50)).await;
        assert_eq!(cache.get(3).await.expect("get"), Some(p.clone()));
        assert_eq!(cache.find_by_shop("three.myshopify.com").await.expect("find"), Some(p));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A lookup that read the project before it was deleted and forgotten
    /// does not cache it after: the next lookup reads the store again.
    #[tokio::test]
    async fn a_lookup_overtaken_by_a_forget_caches_nothing() {
        let dir = std::env::temp_dir().join(format!("lummmen-project-cache-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let meta = crate::meta::open(None, &dir).await.expect("open");
        let cache = ProjectCache::new(meta, Duration::from_secs(300));
        let p = Project { id: 4, name: "Four".into(), sample: 100, shops: vec![] };
        cache.store().upsert_project(&p).await.expect("upsert");
        // The lookup reads the counter, then the store ...
        let before = cache.forgets.load(Ordering::SeqCst);
        let read = cache.store().project(4).await.expect("read");
        // ... the project is deleted and forgotten meanwhile ...
        assert!(cache.store().delete_project(4).await.expect("delete"));
        cache.forget(4);
        // ... and what it read is not kept.
        cache.fill(4, &read, before);
        assert_eq!(cache.get(4).await.expect("get"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
