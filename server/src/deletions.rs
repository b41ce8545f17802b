//! Privacy deletions across server instances. Each instance spools what it
//! accepts and drains it on its own; a deletion run on one instance must also
//! stop the others from storing (or relaying) what their spools hold of the
//! deleted visitors, and must find the visitors those spools hold.
//!
//! So, where instances share the metadata store (PostgreSQL):
//! - the deleting instance publishes the deletion ([`MetaStore::publish_deletion`]);
//! - every instance follows the published deletions ([`spawn`]): it leaves a
//!   tombstone in its own spool (see [`crate::ingest::tombstones`]), waits until
//!   its inserts under way are stored, and records that it has applied it, with
//!   a heartbeat;
//! - the deleting instance deletes from the event store only once every live
//!   instance (a heartbeat within [`LIVE_MS`]) has applied it
//!   ([`wait_everywhere`]); one that cannot (its storage is down) holds the
//!   request, which answers 503 and is run again later;
//! - an instance that was down applies the deletions it missed before its
//!   drainer starts ([`join`], then [`crate::ingest::Pipeline::start`]).
//!
//! A deletion with no site covers nothing: published first, it is a barrier,
//! after which every instance's spool has reached the event store (a
//! customer's visitors are then found there, whichever instance took them).
//!
//! With SQLite one instance has the store to itself, and none of this runs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::ingest::Pipeline;
use crate::meta::{Deletion, MetaError, MetaStore};
use crate::projects::ProjectCache;

/// An instance whose heartbeat is older than this is taken for down: a
/// deletion does not wait for it, and it applies the deletion when it starts.
pub const LIVE_MS: i64 = 10_000;

/// How often an instance looks for new deletions.
const POLL: Duration = Duration::from_millis(250);

/// How often an instance writes its heartbeat when it has applied nothing new
/// (a fifth of [`LIVE_MS`]: a few missed beats are not taken for a death).
const BEAT: Duration = Duration::from_secs(2);

/// How long an instance waits for its inserts under way when it applies a
/// deletion; past it, it tries again at the next poll.
const SETTLE: Duration = Duration::from_secs(10);

/// The file in the data directory that names the instance.
const ID_FILE: &str = "instance-id";

/// This instance as the store knows it.
#[derive(Debug, Clone)]
pub struct Joined {
    pub id: String,
    /// The last deletion applied.
    pub seen: i64,
    /// Deletions published while it was down: tombstones before draining.
    pub pending: Vec<Deletion>,
}

/// The instance's id, kept in `<data_dir>/instance-id` (its spool's
/// directory is its identity: a restart on the same disk is the same instance).
fn instance_id(data_dir: &Path) -> Result<String, MetaError> {
    let path = data_dir.join(ID_FILE);
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_string());
        }
    }
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| MetaError::Lookup(format!("no randomness for the instance id: {e}")))?;
    let id = hex::encode(bytes);
    std::fs::create_dir_all(data_dir).map_err(|e| MetaError::Dir(data_dir.to_path_buf(), e))?;
    std::fs::write(&path, &id).map_err(|e| MetaError::Dir(path.clone(), e))?;
    Ok(id)
}

/// At start, before the pipeline: who this instance is and what it missed.
pub async fn join(meta: &dyn MetaStore, data_dir: &Path) -> Result<Joined, MetaError> {
    let id = instance_id(data_dir)?;
    let seen = meta.join_instance(&id).await?;
    let mut pending = Vec::new();
    let mut after = seen;
    loop {
        let next = meta.deletions_after(after).await?;
        let Some(last) = next.last() else { break };
        after = last.id;
        pending.extend(next);
    }
    Ok(Joined { id, seen, pending })
}

/// Follows the published deletions for as long as the runtime lives. A
/// deletion of whole sites (a shop's redaction) also makes `projects` forget
/// them, so a project deleted meanwhile is refused here at once, not when
/// the cached lookup ages.
pub fn spawn(meta: Arc<dyn MetaStore>, pipeline: Pipeline, projects: ProjectCache, joined: Joined) {
    // The deletions missed while down are tombstones already.
    let mut seen = joined.pending.last().map_or(joined.seen, |d| d.id);
    let mut added = seen;
    let mut beaten: Option<(Instant, i64)> = None;
    tokio::spawn(async move {
        loop {
            match meta.deletions_after(added).await {
                Ok(new) => {
                    for d in &new {
                        // Forgotten before the tombstone: a batch admitted
                        // from the cache after it would land past it.
                        if d.visitors.is_none() {
                            for site in &d.sites {
                                projects.forget(*site);
                            }
                        }
                        if let Err(e) = pipeline.tombstone(&d.sites, d.visitors.as_deref()) {
                            tracing::error!(error = %e, deletion = d.id, "leaving a deletion's tombstone");
                            break;
                        }
                        added = d.id;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reading the published deletions"),
            }
            if added > seen {
                match pipeline.settle(SETTLE).await {
                    Ok(()) => seen = added,
                    Err(e) => tracing::warn!(error = %e, "a deletion waits for this instance's storage"),
                }
            }
            // A write when there is news (a deletion applied, which a
            // deleting instance waits for) or when the last beat ages.
            let due = beaten.is_none_or(|(at, beat_seen)| beat_seen != seen || at.elapsed() >= BEAT);
            if due {
                match meta.instance_beat(&joined.id, seen).await {
                    Ok(()) => beaten = Some((Instant::now(), seen)),
                    Err(e) => tracing::warn!(error = %e, "instance heartbeat"),
                }
            }
            tokio::time::sleep(POLL).await;
        }
    });
}

/// Why a deletion could not be applied everywhere in time.
#[derive(Debug, thiserror::Error)]
pub enum EverywhereError {
    #[error("metadata store: {0}")]
    Meta(#[from] MetaError),
    #[error("instances {0:?} have not applied the deletion yet (their storage is behind)")]
    Behind(Vec<String>),
}

/// Publishes a deletion (sites empty: a barrier) and waits, up to `timeout`,
/// until every live instance has applied it. Returns at once where no other
/// instance shares the store.
pub async fn everywhere(
    meta: &dyn MetaStore,
    sites: &[u32],
    visitors: Option<&[String]>,
    timeout: Duration,
) -> Result<(), EverywhereError> {
    let Some(id) = meta.publish_deletion(sites, visitors).await? else { return Ok(()) };
    let start = Instant::now();
    loop {
        let lagging = meta.lagging(id, LIVE_MS).await?;
        if lagging.is_empty() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(EverywhereError::Behind(lagging));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
