//! The group-commit writer thread: it takes every append waiting in its queue,
//! writes them in one `write`, calls `fdatasync` once and then acknowledges them
//! all, so throughput grows with concurrency instead of being one fsync per
//! request.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::format::{segment_path, sync_dir, Pos, SEGMENT_BYTES};
use super::prepared::Spares;
use super::{OnCommit, OnDurable};

/// One group commit writes at most this much before it fsyncs.
const GROUP_BYTES: usize = 8 * 1024 * 1024;

/// One encoded record waiting in the writer's queue.
pub(super) struct Append {
    pub(super) record: Vec<u8>,
    pub(super) done: oneshot::Sender<io::Result<()>>,
    pub(super) on_durable: Option<OnDurable>,
}

/// Starts the writer thread on `file`, the new, empty segment `seq`, moving to
/// the prepared segments `spares` makes, and to a new segment once the current
/// one's first record is `max_age` old. Answers its queue, which it serves
/// until every sender is dropped, and the committed position it publishes.
pub(super) fn start(
    dir: &Path,
    file: File,
    seq: u64,
    on_commit: OnCommit,
    spares: Spares,
    max_age: Duration,
) -> io::Result<(mpsc::Sender<Append>, watch::Receiver<Pos>)> {
    let (committed_tx, committed) = watch::channel(Pos { seg: seq, off: 0 });
    let (tx, rx) = mpsc::channel::<Append>();
    let writer = Writer {
        dir: dir.to_path_buf(),
        file,
        prepared: false,
        pos: Pos { seg: seq, off: 0 },
        committed: committed_tx,
        on_commit,
        spares,
        max_age,
        first_write: None,
        retry_close: None,
    };
    std::thread::Builder::new().name("spool-writer".into()).spawn(move || writer.run(rx))?;
    Ok((tx, committed))
}

struct Writer {
    dir: PathBuf,
    file: File,
    /// Whether `file` is a prepared (zero-filled) segment.
    prepared: bool,
    pos: Pos,
    committed: watch::Sender<Pos>,
    on_commit: OnCommit,
    /// The preparing thread stops once this is dropped with the writer.
    spares: Spares,
    /// How long a segment takes records after its first.
    max_age: Duration,
    /// When the current segment's first record was written.
    first_write: Option<Instant>,
    /// Not before this is closing an aged segment tried again, after a failure.
    retry_close: Option<Instant>,
}

/// Wait before trying again to close an aged segment after a failure.
const RETRY_CLOSE: Duration = Duration::from_secs(5);

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Append>) {
        let mut buf = Vec::with_capacity(GROUP_BYTES);
        let mut waiting = Vec::new();
        // Ends when every `Spool` (sender) is dropped.
        loop {
            let first = match rx.recv_timeout(self.until_aged()) {
                Ok(first) => first,
                Err(RecvTimeoutError::Timeout) => {
                    self.close_if_aged();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            buf.clear();
            let mut next = Some(first);
            while let Some(a) = next.take() {
                buf.extend_from_slice(&a.record);
                waiting.push((a.record.len() as u64, a.on_durable, a.done));
                if buf.len() < GROUP_BYTES {
                    next = rx.try_recv().ok();
                }
            }
            let started = std::time::Instant::now();
            let result = self.commit(&buf);
            (self.on_commit)(started.elapsed().as_secs_f64());
            if let Ok(start) = &result {
                let mut end = *start;
                for (len, on_durable, _) in &mut waiting {
                    end.off += *len;
                    if let Some(f) = on_durable.take() {
                        f(end);
                    }
                }
                self.committed.send_replace(self.pos);
            }
            for (_, _, done) in waiting.drain(..) {
                let _ = done
                    .send(result.as_ref().map(|_| ()).map_err(|e| io::Error::new(e.kind(), e.to_string())));
            }
        }
    }

    /// How long until the current segment is to be closed; a while (the
    /// longest it can be) when it holds nothing yet.
    fn until_aged(&self) -> Duration {
        let aged = self.first_write.map_or(self.max_age, |t| self.max_age.saturating_sub(t.elapsed()));
        self.retry_close.map_or(aged, |at| aged.max(at.saturating_duration_since(Instant::now())))
    }

    fn aged(&self) -> bool {
        self.first_write.is_some_and(|t| t.elapsed() >= self.max_age)
    }

    /// Nothing came for a while: closes the current segment if it is old
    /// enough, and tells readers, who move past it (and so delete it).
    fn close_if_aged(&mut self) {
        if !self.aged() || self.retry_close.is_some_and(|at| Instant::now() < at) {
            return;
        }
        match self.next_segment(true) {
            Ok(()) => {
                self.retry_close = None;
                self.committed.send_replace(self.pos);
            }
            Err(e) => {
                tracing::warn!(error = %e, "closing an old spool segment failed; trying again later");
                // Try again in a few seconds, not at once: an aged segment
                // would otherwise make `until_aged` zero and spin this thread
                // on a disk already in trouble.
                self.retry_close = Some(Instant::now() + RETRY_CLOSE);
            }
        }
    }

    /// Writes and fsyncs `buf`; answers where it starts. The caller publishes
    /// the new committed position.
    fn commit(&mut self, buf: &[u8]) -> io::Result<Pos> {
        let full = self.pos.off > 0 && self.pos.off + buf.len() as u64 > SEGMENT_BYTES;
        let aged = self.aged();
        if full || aged || !self.prepared {
            self.next_segment(full || aged)?;
        }
        if let Err(e) = self.file.write_all_at(buf, self.pos.off).and_then(|()| self.file.sync_data()) {
            // A half-written group was never acknowledged; continue in a fresh
            // segment so readers stop at the torn tail of this one.
            tracing::error!(error = %e, "spool write failed");
            if self.next_segment(true).is_ok() {
                self.committed.send_replace(self.pos);
            }
            return Err(e);
        }
        let start = self.pos;
        self.pos.off += buf.len() as u64;
        self.first_write.get_or_insert_with(Instant::now);
        Ok(start)
    }

    /// Moves to the next segment: the prepared one if it is ready, otherwise
    /// (only when `must`) a plain new file.
    fn next_segment(&mut self, must: bool) -> io::Result<()> {
        let seg = self.pos.seg + 1;
        let path = segment_path(&self.dir, seg);
        if let Some((spare, file)) = self.spares.take() {
            fs::rename(&spare, &path)?;
            sync_dir(&self.dir)?;
            (self.file, self.prepared) = (file, true);
        } else if must {
            self.file = OpenOptions::new().create_new(true).write(true).open(&path)?;
            sync_dir(&self.dir)?;
            self.prepared = false;
        } else {
            return Ok(());
        }
        self.pos = Pos { seg, off: 0 };
        self.first_write = None;
        Ok(())
    }
}
