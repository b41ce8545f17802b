//! The drainer: follows the spool and moves its batches into storage in large
//! inserts, retrying with exponential back-off while storage is down. The cursor
//! moves only after an insert succeeded, so a crash replays the last insert;
//! storage is idempotent on event ids (see [`crate::store`]), so replays never
//! duplicate rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::handoff::Handoff;
use super::metrics::Metrics;
use super::spool::{Pos, Reader, Record, Spool};
use crate::store::rows::{page_context_of, PageContexts};
use crate::store::{Batches, EventStore, RowSource};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Moves spooled batches into an [`EventStore`].
#[derive(Debug)]
pub struct Drainer {
    pub spool: Spool,
    pub reader: Reader,
    /// Batches `/collect` already parsed, by where their records end.
    pub handoff: Arc<Handoff>,
    pub store: Arc<dyn EventStore>,
    pub metrics: Arc<Metrics>,
    /// Most events per insert (about: whole batches are never split).
    pub max_events: usize,
    /// Published after every insert: everything before it is stored.
    pub drained: watch::Sender<Pos>,
    /// Whether storage answered the last attempt; drives `/readyz` detail.
    pub storage_ok: watch::Sender<bool>,
}

impl Drainer {
    /// Runs until `stop` turns true and the spool is empty: reads a stretch of
    /// the spool, inserts its batches, moves the cursor, and again. One chunk
    /// is in memory at a time; the batches accepted meanwhile wait in the
    /// handoff, already parsed, so reading the next chunk is quick and there is
    /// no need to parse ahead while inserting.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut committed = self.spool.committed();
        let mut pages = PageContexts::new(100_000);
        let max_bytes = chunk_bytes(self.max_events);
        loop {
            let target = *committed.borrow_and_update();
            // Reading and parsing block this thread: it is the drainer's own
            // (see `dedicated`), and nothing else runs on it meanwhile.
            let (records, end) = match self.reader.read(target, max_bytes) {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "reading the spool failed");
                    tokio::time::sleep(MAX_BACKOFF).await;
                    continue;
                }
            };
            if end == self.reader.pos {
                self.metrics.spool(self.spool.pending_bytes(), 0);
                if *stop.borrow() {
                    return;
                }
                tokio::select! {
                    _ = committed.changed() => {}
                    _ = stop.changed() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            self.metrics.spool(self.spool.pending_bytes(), records.first().map_or(0, |r| r.received_ms));
            let bytes = end_bytes(self.reader.pos, end, &records);
            let batches = Arc::new(self.batches(&records, end, &mut pages).await);
            drop(records);
            if !batches.is_empty() {
                self.insert_with_retry(batches).await;
            }
            if let Err(e) = self.reader.advance(end, &self.spool) {
                tracing::error!(error = %e, "saving the spool cursor failed");
            }
            self.spool.consumed(bytes);
            self.drained.send_replace(end);
        }
    }

    /// The records' batches, taken from the handoff or else parsed (they were
    /// validated before they were spooled), with the page each batch's clicks
    /// belong to. The rows themselves are made by the insert, as it writes them.
    async fn batches(&self, records: &[Record], end: Pos, pages: &mut PageContexts) -> Batches {
        let mut handed = self.handoff.take_through(end);
        let mut from_memory = 0;
        let parsed: Vec<protocol::Batch> = records
            .iter()
            .filter_map(|r| match handed.remove(&r.end) {
                Some(batch) => {
                    from_memory += 1;
                    Some(batch)
                }
                None => parse(&r.json),
            })
            .collect();
        self.metrics.drained(from_memory, parsed.len() - from_memory);
        let mut batches = Batches::default();
        for batch in parsed {
            let own = page_context_of(&batch);
            let mut page = batch.page_view_id.as_deref().and_then(|pv| pages.get(pv).cloned());
            if page.is_none() && own.is_none() {
                if let Some(pv) = &batch.page_view_id {
                    page = self.store.page_context(batch.site_id, &batch.visitor_id, pv).await.ok().flatten();
                }
            }
            if let (Some(ctx), Some(pv)) = (own, &batch.page_view_id) {
                pages.insert(pv.clone(), ctx);
            }
            batches.push(batch, page);
        }
        batches
    }

    /// Inserts until it works: storage being down only delays storing, since
    /// the spool holds everything meanwhile. Shutdown bounds this from outside
    /// (the task is dropped after the drain deadline; the cursor has not moved).
    async fn insert_with_retry(&self, rows: Arc<Batches>) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let started = Instant::now();
            match self.store.insert(Arc::clone(&rows) as Arc<dyn RowSource>).await {
                Ok(()) => {
                    self.metrics.inserted(rows.len(), started.elapsed().as_secs_f64());
                    self.storage_ok.send_replace(true);
                    return;
                }
                Err(e) => {
                    self.metrics.storage_error();
                    self.storage_ok.send_replace(false);
                    tracing::warn!(error = %e, rows = rows.len(), retry_in = ?backoff, "storage insert failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

/// About how many spool bytes one insert reads: 50-event batches run ~6 KB.
pub fn chunk_bytes(max_events: usize) -> usize {
    max_events.saturating_mul(150).max(64 * 1024)
}

/// A spool record as a batch.
fn parse(json: &[u8]) -> Option<protocol::Batch> {
    serde_json::from_slice(json)
        .map_err(|e| {
            // Cannot happen for records this server wrote; logged, not fatal.
            tracing::error!(error = %e, "skipping an unreadable spool record");
        })
        .ok()
}

/// Spool bytes between two positions (records carry their end offsets; a
/// segment change counts what was read of the old segment).
fn end_bytes(from: Pos, to: Pos, records: &[Record]) -> u64 {
    if from.seg == to.seg {
        return to.off.saturating_sub(from.off);
    }
    records.iter().map(|r| r.json.len() as u64 + 16).sum()
}
