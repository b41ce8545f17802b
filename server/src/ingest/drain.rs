//! The drainer: follows the spool and moves its batches into storage in large
//! inserts, retrying with exponential back-off while storage is down. The cursor
//! moves only after an insert succeeded, so a crash replays the last insert;
//! storage is idempotent on event ids (see [`crate::store`]), so replays never
//! duplicate rows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

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
    pub store: Arc<dyn EventStore>,
    pub metrics: Arc<Metrics>,
    /// Most events per insert (about: whole batches are never split).
    pub max_events: usize,
    /// Published after every insert: everything before it is stored.
    pub drained: watch::Sender<Pos>,
    /// Whether storage answered the last attempt; drives `/readyz` detail.
    pub storage_ok: watch::Sender<bool>,
}

/// Batches parsed from a stretch of the spool, with their page contexts, ready
/// to insert (the insert makes their rows).
struct Chunk {
    batches: Arc<Batches>,
    end: Pos,
    bytes: u64,
}

impl Drainer {
    /// Runs until `stop` turns true and the spool is empty. Two stages, so
    /// parsing the next stretch of the spool overlaps inserting the last one:
    /// a reader that parses ahead, and an inserter that owns the cursor.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        // One chunk in hand while another is inserted: overlap without holding
        // several chunks in memory.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(1);
        let mut ahead = self.reader.clone();
        let this = Arc::new(self);
        let producer = {
            let this = Arc::clone(&this);
            tokio::spawn(async move { this.produce(&mut ahead, tx, stop).await })
        };
        let mut reader = this.reader.clone();
        while let Some(chunk) = rx.recv().await {
            if !chunk.batches.is_empty() {
                this.insert_with_retry(chunk.batches).await;
            }
            if let Err(e) = reader.advance(chunk.end, &this.spool) {
                tracing::error!(error = %e, "saving the spool cursor failed");
            }
            this.spool.consumed(chunk.bytes);
            this.drained.send_replace(chunk.end);
        }
        let _ = producer.await;
    }

    /// Reads and parses ahead of the inserter; ends (closing the channel) once
    /// `stop` is true and everything committed has been handed over.
    async fn produce(
        &self,
        ahead: &mut Reader,
        tx: tokio::sync::mpsc::Sender<Chunk>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut committed = self.spool.committed();
        let mut pages = PageContexts::new(100_000);
        // Read about this many bytes per insert: 50-event batches run ~6 KB.
        let max_bytes = self.max_events.saturating_mul(150).max(64 * 1024);
        loop {
            // Wait for room before reading: at most two chunks are in
            // memory, the one being inserted and the next one.
            let Ok(permit) = tx.reserve().await else { return };
            let target = *committed.borrow_and_update();
            let (records, end) = match read_at(ahead, target, max_bytes).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "reading the spool failed");
                    tokio::time::sleep(MAX_BACKOFF).await;
                    continue;
                }
            };
            if end == ahead.pos {
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
            let bytes = end_bytes(ahead.pos, end, &records);
            let batches = Arc::new(self.batches(records, &mut pages).await);
            ahead.pos = end;
            permit.send(Chunk { batches, end, bytes });
        }
    }

    /// Parses the records (validated before they were spooled) and resolves
    /// the page each batch's clicks belong to. Parsing is CPU work: it runs on
    /// a blocking thread, next to the insert of the previous chunk. The rows
    /// themselves are made by the insert, as it writes them.
    async fn batches(&self, records: Vec<Record>, pages: &mut PageContexts) -> Batches {
        let parsed =
            blocking(move || records.iter().filter_map(|r| parse(&r.json)).collect::<Vec<_>>()).await;
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

/// A spool record as a batch.
fn parse(json: &[u8]) -> Option<protocol::Batch> {
    serde_json::from_slice(json)
        .map_err(|e| {
            // Cannot happen for records this server wrote; logged, not fatal.
            tracing::error!(error = %e, "skipping an unreadable spool record");
        })
        .ok()
}

/// Runs CPU-bound work on the blocking pool. The work cannot panic on spool
/// data; if it did anyway, the panic is carried on, as it would be inline. A
/// task cancelled by the runtime shutting down never resolves: the drainer is
/// being dropped with it, its cursor unmoved.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => std::future::pending().await,
        },
    }
}

/// Reads from `ahead`'s position on the blocking pool.
async fn read_at(ahead: &Reader, target: Pos, max_bytes: usize) -> std::io::Result<(Vec<Record>, Pos)> {
    let reader = ahead.clone();
    tokio::task::spawn_blocking(move || reader.read(target, max_bytes))
        .await
        .map_err(std::io::Error::other)?
}

/// Spool bytes between two positions (records carry their end offsets; a
/// segment change counts what was read of the old segment).
fn end_bytes(from: Pos, to: Pos, records: &[Record]) -> u64 {
    if from.seg == to.seg {
        return to.off.saturating_sub(from.off);
    }
    records.iter().map(|r| r.json.len() as u64 + 16).sum()
}
