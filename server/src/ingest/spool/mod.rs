//! The on-disk spool: accepted batches are appended to segment files and
//! fsynced before the server acknowledges them; readers (the storage drainer,
//! the Matomo relay) follow it with their own persisted cursors.
//!
//! - `format`: segment files and the record format (a batch's JSON, and an
//!   optional meta block of what else was known of its request). A new process always
//!   starts a new segment, so a torn record at the end of an old segment (a
//!   crash mid-write, never acknowledged) or the zeros after the last record
//!   are simply where reading that segment stops.
//! - `writer`: group commit. One writer thread takes every append waiting in
//!   its queue, writes them in one `write`, calls `fdatasync` once and then
//!   acknowledges them all, so throughput grows with concurrency instead of
//!   being one fsync per request.
//! - `prepared`: segments are files of zeros made ahead of time by a helper
//!   thread, written in place (as PostgreSQL prepares its WAL segments).
//!   Overwriting blocks that are already allocated and written changes no file
//!   metadata, so `fdatasync` only flushes the data: on ext4 it then never
//!   waits for a journal commit, which carries every other file's metadata
//!   changes and was the long tail of the acknowledgement latency. Until the
//!   first prepared segment is ready, a process appends to a plain file.
//! - `reader`: cursors, reading records back, and deleting the segments
//!   every reader has passed.
//!
//! How long a record stays on disk: a segment is deleted once the writer has
//! moved past it and every reader has read past it. The writer moves on when
//! the segment is full (32 MB), at start, and an hour after the segment's first
//! record ([`SEGMENT_MAX_AGE`]), so a record is gone at most about an hour
//! after it was written, or once the slowest reader (the drainer while
//! storage is down, the relay while Matomo is) has read it, whichever is later.

mod format;
mod prepared;
mod reader;
mod writer;

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

pub use format::{encode, encode_with_meta, segments, Pos, Record, SEGMENT_MAX_AGE};
pub use reader::{read_records, Reader};

use format::{segment_path, sync_dir};
use prepared::{remove_spares, Spares};
use writer::Append;

/// Called by the writer with where a record ends, once it is fsynced and
/// before readers are told it is there.
pub type OnDurable = Box<dyn FnOnce(Pos) + Send>;

/// Told how long each group commit took, in seconds.
pub type OnCommit = Box<dyn Fn(f64) + Send>;

/// The writing side: appends and the committed (fsynced) position.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
    tx: mpsc::Sender<Append>,
    committed: watch::Receiver<Pos>,
    /// Bytes appended since start plus what the previous run left unread; the
    /// drainer subtracts what it stores.
    pending: Arc<AtomicU64>,
    /// Every reader's position: segments before the oldest are deleted.
    readers: Arc<Mutex<BTreeMap<String, Pos>>>,
}

impl Spool {
    /// Opens the spool directory and starts the writer thread on a new segment.
    /// `unread` is what earlier runs left for the drainer, in bytes.
    pub fn open(dir: &Path, unread: u64) -> io::Result<Self> {
        Self::open_observed(dir, unread, Box::new(|_| {}))
    }

    /// [`Spool::open`], calling `on_commit` with the seconds each group commit
    /// (write and fdatasync) took: what every acknowledgement waits for.
    pub fn open_observed(dir: &Path, unread: u64, on_commit: OnCommit) -> io::Result<Self> {
        Self::open_aged(dir, unread, on_commit, SEGMENT_MAX_AGE)
    }

    /// [`Spool::open_observed`], closing a segment once its first record is
    /// `max_age` old instead of [`SEGMENT_MAX_AGE`].
    pub fn open_aged(dir: &Path, unread: u64, on_commit: OnCommit, max_age: Duration) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        remove_spares(dir)?;
        let seq = segments(dir)?.last().map_or(1, |s| s + 1);
        let file = OpenOptions::new().create_new(true).write(true).open(segment_path(dir, seq))?;
        sync_dir(dir)?;
        let spares = Spares::start(dir)?;
        let (tx, committed) = writer::start(dir, file, seq, on_commit, spares, max_age)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tx,
            committed,
            pending: Arc::new(AtomicU64::new(unread)),
            readers: Arc::default(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends a record and returns once it is on disk (fsynced).
    pub async fn append(&self, received_ms: u64, json: &[u8]) -> io::Result<()> {
        self.append_then(received_ms, &[], json, None).await
    }

    /// [`Spool::append`] with a meta block (`meta`, none when empty; see
    /// `format`), calling `on_durable` with the record's end position once it
    /// is fsynced, before the committed position that readers follow moves past
    /// it. Not called when the write fails.
    pub async fn append_then(
        &self,
        received_ms: u64,
        meta: &[u8],
        json: &[u8],
        on_durable: Option<OnDurable>,
    ) -> io::Result<()> {
        let record = encode_with_meta(received_ms, meta, json);
        let len = record.len() as u64;
        let (done, wait) = oneshot::channel();
        // Counted before the write, so the drainer can never subtract a record
        // that is not counted yet; taken back if the write fails.
        self.pending.fetch_add(len, Ordering::SeqCst);
        let sent = self
            .tx
            .send(Append { record, done, on_durable })
            .map_err(|_| io::Error::other("spool writer stopped"));
        let result = match sent {
            Ok(()) => wait.await.unwrap_or_else(|_| Err(io::Error::other("spool writer stopped"))),
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.consumed(len);
        }
        result
    }

    /// The position up to which everything is fsynced; changes on every commit.
    pub fn committed(&self) -> watch::Receiver<Pos> {
        self.committed.clone()
    }

    /// Registers a reader so no segment it still needs is deleted.
    pub fn register(&self, reader: &Reader) {
        self.readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(reader.name.clone(), reader.pos);
    }

    /// Bytes accepted but not yet stored.
    pub fn pending_bytes(&self) -> u64 {
        self.pending.load(Ordering::SeqCst)
    }

    /// The drainer stored `bytes` worth of records.
    pub fn consumed(&self, bytes: u64) {
        let _ =
            self.pending.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| Some(p.saturating_sub(bytes)));
    }
}
