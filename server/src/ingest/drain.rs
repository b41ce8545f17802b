//! The drainer: follows the spool and moves its batches into storage in large
//! inserts, retrying with exponential back-off while storage is down. The cursor
//! moves only after an insert succeeded, and in spool order, so a crash replays
//! the inserts in flight; storage is idempotent on event ids (see
//! [`crate::store`]), so replays never duplicate rows.
//!
//! With a backlog of at least a whole insert, a second insert starts once the
//! first has sent its rows: ClickHouse then sorts and writes the first one's
//! parts (which takes longer than sending them) while the second one's rows are
//! made and sent. Below that, inserts go one at a time, as large as what waits,
//! and at most one per linger interval (`--insert-linger-ms`). Either way only
//! one insert's rows are in memory: a store lets go of them once written, and
//! an insert that fails is read again from the spool.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::enrich::Enricher;
use super::follow::Follower;
use super::handoff::Handoff;
use super::metrics::Metrics;
use super::spool::{read_records, Pos, Reader, Record, Spool};
use super::tombstones::Tombstones;
use crate::store::{Batches, EventRow, EventStore, RowSource, StoreError};

/// The drainer's cursor in the spool, and its name among the tombstones' followers.
pub const CURSOR: &str = "drain";

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Most inserts in flight: one whose parts the database is writing, one whose
/// rows are being sent.
const MAX_IN_FLIGHT: usize = 2;

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
    /// Least time between the starts of two inserts while less than a whole
    /// insert waits.
    pub linger: Duration,
    /// Published after every insert: everything before it is stored.
    pub drained: watch::Sender<Pos>,
    /// Whether storage answered the last attempt; drives `/readyz` detail.
    pub storage_ok: watch::Sender<bool>,
    /// Batches a privacy deletion covers: dropped, never stored.
    pub tombstones: Tombstones,
}

/// An insert under way: a stretch of the spool on its way into storage.
#[derive(Debug)]
struct Flight {
    start: Pos,
    end: Pos,
    /// Spool bytes of its records.
    bytes: u64,
    events: usize,
    started: Instant,
    task: JoinHandle<Result<(), StoreError>>,
}

impl Drainer {
    /// Runs until `stop` turns true and the spool is empty: reads a stretch of
    /// the spool, starts its insert, moves the cursor as inserts finish, and
    /// again. One insert's batches are in memory at a time; the batches accepted
    /// meanwhile wait in the handoff, already parsed, so reading the next
    /// stretch is quick.
    pub async fn run(mut self, stop: watch::Receiver<bool>) {
        let mut follow = Follower::new(&self.spool, stop);
        self.tombstones.passed(CURSOR, self.reader.pos);
        let mut enrich = Enricher::new(Arc::clone(&self.store));
        let max_bytes = chunk_bytes(self.max_events);
        let mut flights: VecDeque<Flight> = VecDeque::new();
        // Where the next insert starts: the cursor, or past the inserts in flight.
        let mut next = self.reader.pos;
        // Resolves when the store has let go of the last insert's rows.
        let mut holding: Option<oneshot::Receiver<()>> = None;
        let mut last_start: Option<Instant> = None;
        loop {
            let target = follow.target();
            // Fewer, larger inserts while the load is light: ClickHouse works
            // several times more per row on many small inserts (each makes
            // parts, which it then merges) than on a few large ones.
            if let Some(at) = last_start.map(|t| t + self.linger) {
                let small = next < target && !self.backlog(&flights, max_bytes);
                if flights.is_empty() && small && !follow.stopping() && Instant::now() < at {
                    tokio::select! {
                        () = tokio::time::sleep_until(at.into()) => {}
                        () = follow.stop_changed() => {}
                    }
                    continue;
                }
            }
            let may_read = flights.is_empty()
                || (flights.len() < MAX_IN_FLIGHT && holding.is_none() && self.backlog(&flights, max_bytes));
            if may_read && next < target {
                let (records, end) = match self.read(next, target, max_bytes) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(error = %e, "reading the spool failed");
                        tokio::time::sleep(MAX_BACKOFF).await;
                        continue;
                    }
                };
                if end != next {
                    self.metrics
                        .spool(self.spool.pending_bytes(), records.first().map_or(0, |r| r.received_ms));
                    let bytes = end_bytes(next, end, &records);
                    let batches = self.batches(records, end, &mut enrich, true).await;
                    if !batches.is_empty() {
                        last_start = Some(Instant::now());
                    }
                    if !flights.is_empty() {
                        self.metrics.overlapped_insert();
                    }
                    let (flight, released) = self.start(next, end, bytes, batches);
                    flights.push_back(flight);
                    holding = Some(released);
                    next = end;
                    continue;
                }
            }
            let Some(first) = flights.front_mut() else {
                self.metrics.spool(self.spool.pending_bytes(), 0);
                if !follow.wait_for_more().await {
                    return;
                }
                continue;
            };
            tokio::select! {
                result = &mut first.task => {
                    let flight = flights.pop_front().expect("the first flight");
                    self.land(flight, result, &mut enrich).await;
                }
                () = released(&mut holding), if holding.is_some() => {
                    // The insert goes on to end its request right after letting
                    // go of the rows: let it send that before this thread
                    // blocks on reading the next stretch.
                    tokio::task::yield_now().await;
                }
            }
        }
    }

    /// Whether at least a whole insert (`max_bytes`) waits beyond the inserts
    /// in flight.
    fn backlog(&self, flights: &VecDeque<Flight>, max_bytes: usize) -> bool {
        let in_flight: u64 = flights.iter().map(|f| f.bytes).sum();
        self.spool.pending_bytes().saturating_sub(in_flight) >= max_bytes as u64
    }

    /// Reads up to `max_bytes` of records from `from` on. Reading and parsing
    /// block this thread: it is the drainer's own (see `dedicated`), and they
    /// take less time than the database's work on the insert before.
    fn read(&self, from: Pos, to: Pos, max_bytes: usize) -> std::io::Result<(Vec<Record>, Pos)> {
        read_records(self.spool.dir(), from, to, max_bytes)
    }

    /// Starts inserting `batches` as a task of the drainer's runtime. Answers
    /// the insert and what resolves once the store has let go of its rows.
    fn start(&self, start: Pos, end: Pos, bytes: u64, batches: Batches) -> (Flight, oneshot::Receiver<()>) {
        let (tx, released) = oneshot::channel();
        let events = batches.len();
        let rows: Arc<dyn RowSource> = Arc::new(Released { batches, _tell: tx });
        let store = Arc::clone(&self.store);
        // A stretch with nothing to store (records this server could not
        // read) still lands in turn, so the cursor moves past it.
        let task = tokio::spawn(async move {
            if rows.is_empty() {
                Ok(())
            } else {
                store.insert(rows).await
            }
        });
        (Flight { start, end, bytes, events, started: Instant::now(), task }, released)
    }

    /// An insert finished: on success the cursor moves past it; on failure it
    /// is read from the spool again and retried until it is stored (storage
    /// being down only delays storing, since the spool holds everything
    /// meanwhile; shutdown bounds this from outside, dropping the task after
    /// the drain deadline with the cursor not moved).
    async fn land(
        &mut self,
        flight: Flight,
        result: Result<Result<(), StoreError>, tokio::task::JoinError>,
        enrich: &mut Enricher,
    ) {
        let mut result = result.unwrap_or_else(|e| Err(StoreError::Other(e.to_string())));
        let mut started = flight.started;
        let mut backoff = MIN_BACKOFF;
        while let Err(e) = result {
            self.metrics.storage_error();
            self.storage_ok.send_replace(false);
            tracing::warn!(error = %e, rows = flight.events, retry_in = ?backoff, "storage insert failed");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            let records = match self.read(flight.start, flight.end, usize::MAX / 4) {
                Ok((records, _)) => records,
                Err(e) => {
                    result = Err(StoreError::Other(format!("reading the spool again: {e}")));
                    continue;
                }
            };
            let batches = self.batches(records, flight.end, enrich, false).await;
            started = Instant::now();
            result = self.store.insert(Arc::new(batches)).await;
        }
        if flight.events > 0 {
            self.metrics.inserted(flight.events, started.elapsed().as_secs_f64());
        }
        self.storage_ok.send_replace(true);
        if let Err(e) = self.reader.advance(flight.end, &self.spool) {
            tracing::error!(error = %e, "saving the spool cursor failed");
        }
        self.spool.consumed(flight.bytes);
        self.tombstones.passed(CURSOR, flight.end);
        self.drained.send_replace(flight.end);
    }

    /// The records' batches, taken from the handoff or else parsed (they were
    /// validated before they were spooled), with the page each batch's clicks
    /// belong to. The rows themselves are made by the insert, as it writes them.
    async fn batches(&self, records: Vec<Record>, end: Pos, enrich: &mut Enricher, count: bool) -> Batches {
        let mut handed = self.handoff.take_through(end);
        let mut from_memory = 0;
        let parsed: Vec<protocol::Batch> = records
            .iter()
            .filter_map(|r| {
                let batch = match handed.remove(&r.end) {
                    Some(batch) => {
                        from_memory += 1;
                        Some(batch)
                    }
                    None => parse(&r.json),
                }?;
                let deleted = !self.tombstones.is_empty()
                    && self.tombstones.covers(batch.site_id, &batch.visitor_id, r.end);
                (!deleted).then_some(batch)
            })
            .collect();
        drop(records);
        if count {
            self.metrics.drained(from_memory, parsed.len() - from_memory);
        }
        enrich.join(parsed).await
    }
}

/// Waits until the store lets go of the last insert's rows, then forgets it.
async fn released(holding: &mut Option<oneshot::Receiver<()>>) {
    if let Some(rx) = holding {
        // The sender is only ever dropped, never used: resolved either way.
        let _ = rx.await;
    }
    *holding = None;
}

/// An insert's rows, telling the drainer when the store lets go of them.
#[derive(Debug)]
struct Released {
    batches: Batches,
    /// Dropped with the rows, which resolves the drainer's receiver.
    _tell: oneshot::Sender<()>,
}

impl RowSource for Released {
    fn len(&self) -> usize {
        self.batches.len()
    }

    fn rows(&self) -> Box<dyn Iterator<Item = std::borrow::Cow<'_, EventRow>> + Send + '_> {
        self.batches.rows()
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
    records.iter().map(|r| r.size).sum()
}
