//! The on-disk spool: accepted batches are appended to segment files and
//! fsynced before the server acknowledges them; readers (the storage drainer,
//! the Matomo relay) follow it with their own persisted cursors.
//!
//! Group commit: one writer thread takes every append waiting in its queue,
//! writes them in one `write`, calls `fdatasync` once and then acknowledges them
//! all, so throughput grows with concurrency instead of being one fsync per
//! request.
//!
//! Format: `spool/{seq:020}.log` segments of records `[len u32 LE][crc32 u32 LE]
//! [received_ms u64 LE][batch JSON]`, followed by zeros. A new process always
//! starts a new segment, so a torn record at the end of an old segment (a crash
//! mid-write, never acknowledged) or the zeros after the last record are simply
//! where reading that segment stops.
//!
//! Segments are files of zeros made ahead of time by a helper thread, written in
//! place (as PostgreSQL prepares its WAL segments). Overwriting blocks that are
//! already allocated and written changes no file metadata, so `fdatasync` only
//! flushes the data: on ext4 it then never waits for a journal commit, which
//! carries every other file's metadata changes and was the long tail of the
//! acknowledgement latency. Until the first prepared segment is ready, a process
//! appends to a plain file.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use tokio::sync::{oneshot, watch};

/// The size of a prepared segment; a new one starts when a group would not fit.
const SEGMENT_BYTES: u64 = 32 * 1024 * 1024;
/// Prepared segments are zero-filled this much per write.
const FILL_CHUNK: usize = 1024 * 1024;
/// A prepared segment waiting to be used: it has no `.log` name yet, so a
/// reader never sees it.
const SPARE_SUFFIX: &str = ".spare";
/// One group commit writes at most this much before it fsyncs.
const GROUP_BYTES: usize = 8 * 1024 * 1024;
const HEADER: usize = 16;

/// A position in the spool: segment sequence number and byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub seg: u64,
    pub off: u64,
}

/// One spooled batch as read back.
#[derive(Debug, Clone)]
pub struct Record {
    pub received_ms: u64,
    /// A slice of the buffer its stretch of the spool was read into: records
    /// are not copied out of it one by one.
    pub json: bytes::Bytes,
    /// Where the next record starts.
    pub end: Pos,
}

struct Append {
    record: Vec<u8>,
    done: oneshot::Sender<io::Result<()>>,
    on_durable: Option<OnDurable>,
}

/// Called by the writer with where a record ends, once it is fsynced and
/// before readers are told it is there.
pub type OnDurable = Box<dyn FnOnce(Pos) + Send>;

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

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.log"))
}

/// Sequence numbers of the segments present, ascending.
pub fn segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut seqs: Vec<u64> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".log")?.parse().ok())
        .collect();
    seqs.sort_unstable();
    Ok(seqs)
}

/// Encodes one record.
pub fn encode(received_ms: u64, json: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(8 + json.len());
    body.extend_from_slice(&received_ms.to_le_bytes());
    body.extend_from_slice(json);
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// The next prepared segment, handed from the preparing thread to the writer.
#[derive(Default)]
struct Spare {
    ready: Mutex<Option<(PathBuf, File)>>,
    taken: std::sync::Condvar,
}

impl Spare {
    /// Takes the prepared segment, if one is ready, and asks for the next.
    fn take(&self) -> Option<(PathBuf, File)> {
        let spare = self.ready.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        self.taken.notify_one();
        spare
    }
}

/// Keeps one zero-filled, fsynced segment ready in `dir` while `writer_alive`
/// holds (the writer thread owns the other end). Errors are logged and retried
/// later: without a prepared segment the writer appends to a plain file.
fn prepare_spares(dir: PathBuf, spare: Arc<Spare>, writer: std::sync::Weak<()>) {
    // Unique names: a spool reopened in the same process may still have the
    // previous one's preparer finishing.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let zeros = vec![0u8; FILL_CHUNK];
    loop {
        {
            let mut ready = spare.ready.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            while ready.is_some() {
                if writer.strong_count() == 0 {
                    if let Some((path, _)) = ready.take() {
                        let _ = fs::remove_file(path);
                    }
                    return;
                }
                ready = spare
                    .taken
                    .wait_timeout(ready, std::time::Duration::from_secs(1))
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("{}-{n}{SPARE_SUFFIX}", std::process::id()));
        let made = (|| {
            let file = OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path)?;
            let mut at = 0u64;
            while at < SEGMENT_BYTES {
                if writer.strong_count() == 0 {
                    return Ok(None);
                }
                // A chunk at a time, each flushed before the next: the disk
                // never holds a long queue of zeros that the writer's
                // fdatasync would wait behind.
                file.write_all_at(&zeros, at)?;
                file.sync_data()?;
                at += FILL_CHUNK as u64;
            }
            file.sync_all()?;
            Ok::<_, io::Error>(Some(file))
        })();
        match made {
            Ok(Some(file)) => {
                *spare.ready.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((path, file));
            }
            Ok(None) => {
                let _ = fs::remove_file(&path);
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "preparing a spool segment failed; appending meanwhile");
                let _ = fs::remove_file(&path);
                std::thread::sleep(std::time::Duration::from_secs(5));
            }
        }
    }
}

/// Removes prepared segments an earlier process left unused.
fn remove_spares(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)?.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.ends_with(SPARE_SUFFIX)) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
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
        fs::create_dir_all(dir)?;
        remove_spares(dir)?;
        let seq = segments(dir)?.last().map_or(1, |s| s + 1);
        let file = OpenOptions::new().create_new(true).write(true).open(segment_path(dir, seq))?;
        sync_dir(dir)?;
        let spare = Arc::new(Spare::default());
        let alive = Arc::new(());
        {
            let (dir, spare, writer) = (dir.to_path_buf(), Arc::clone(&spare), Arc::downgrade(&alive));
            std::thread::Builder::new()
                .name("spool-prepare".into())
                .spawn(move || prepare_spares(dir, spare, writer))?;
        }
        let (committed_tx, committed) = watch::channel(Pos { seg: seq, off: 0 });
        let (tx, rx) = mpsc::channel::<Append>();
        let writer = Writer {
            dir: dir.to_path_buf(),
            file,
            prepared: false,
            pos: Pos { seg: seq, off: 0 },
            committed: committed_tx,
            on_commit,
            spare,
            _alive: alive,
        };
        std::thread::Builder::new().name("spool-writer".into()).spawn(move || writer.run(rx))?;
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
        self.append_then(received_ms, json, None).await
    }

    /// [`Spool::append`], calling `on_durable` with the record's end position
    /// once it is fsynced, before the committed position that readers follow
    /// moves past it. Not called when the write fails.
    pub async fn append_then(
        &self,
        received_ms: u64,
        json: &[u8],
        on_durable: Option<OnDurable>,
    ) -> io::Result<()> {
        let record = encode(received_ms, json);
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

/// Told how long each group commit took, in seconds.
pub type OnCommit = Box<dyn Fn(f64) + Send>;

struct Writer {
    dir: PathBuf,
    file: File,
    /// Whether `file` is a prepared (zero-filled) segment.
    prepared: bool,
    pos: Pos,
    committed: watch::Sender<Pos>,
    on_commit: OnCommit,
    spare: Arc<Spare>,
    /// The preparing thread stops once this is dropped with the writer.
    _alive: Arc<()>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Append>) {
        let mut buf = Vec::with_capacity(GROUP_BYTES);
        let mut waiting = Vec::new();
        // Ends when every `Spool` (sender) is dropped.
        while let Ok(first) = rx.recv() {
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

    /// Writes and fsyncs `buf`; answers where it starts. The caller publishes
    /// the new committed position.
    fn commit(&mut self, buf: &[u8]) -> io::Result<Pos> {
        let full = self.pos.off > 0 && self.pos.off + buf.len() as u64 > SEGMENT_BYTES;
        if full || !self.prepared {
            self.next_segment(full)?;
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
        Ok(start)
    }

    /// Moves to the next segment: the prepared one if it is ready, otherwise
    /// (only when `must`) a plain new file.
    fn next_segment(&mut self, must: bool) -> io::Result<()> {
        let seg = self.pos.seg + 1;
        let path = segment_path(&self.dir, seg);
        if let Some((spare, file)) = self.spare.take() {
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
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A reader with a named cursor persisted in `spool/{name}.cursor`.
#[derive(Debug, Clone)]
pub struct Reader {
    dir: PathBuf,
    name: String,
    pub pos: Pos,
}

impl Reader {
    /// Opens the cursor, or starts at the oldest segment.
    pub fn open(dir: &Path, name: &str) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let saved = fs::read_to_string(dir.join(format!("{name}.cursor"))).ok().and_then(|s| {
            let (seg, off) = s.trim().split_once(' ')?;
            Some(Pos { seg: seg.parse().ok()?, off: off.parse().ok()? })
        });
        let first = segments(dir)?.first().copied().unwrap_or(1);
        let pos = match saved {
            Some(p) if p.seg >= first => p,
            _ => Pos { seg: first, off: 0 },
        };
        Ok(Self { dir: dir.to_path_buf(), name: name.to_string(), pos })
    }

    /// Record bytes from this cursor to the end of every segment on disk: what
    /// reading will return, so neither the zeros of prepared segments nor a torn
    /// last record are counted.
    pub fn unread_bytes(&self) -> io::Result<u64> {
        let mut total = 0;
        for seq in segments(&self.dir)?.into_iter().filter(|s| *s >= self.pos.seg) {
            let from = if seq == self.pos.seg { self.pos.off } else { 0 };
            total += record_bytes(&segment_path(&self.dir, seq), from)?;
        }
        Ok(total)
    }

    /// Reads records from the cursor up to `committed`, about `max_bytes` of
    /// them (always at least one when one is there). Answers the records and the
    /// position after them; does not move the cursor.
    pub fn read(&self, committed: Pos, max_bytes: usize) -> io::Result<(Vec<Record>, Pos)> {
        read_records(&self.dir, self.pos, committed, max_bytes)
    }

    /// Moves and persists the cursor, then deletes segments no reader needs.
    pub fn advance(&mut self, to: Pos, spool: &Spool) -> io::Result<()> {
        self.pos = to;
        let oldest = {
            let mut readers = spool.readers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            readers.insert(self.name.clone(), to);
            readers.values().copied().min().unwrap_or(to)
        };
        let path = self.dir.join(format!("{}.cursor", self.name));
        let tmp = self.dir.join(format!("{}.cursor.tmp", self.name));
        fs::write(&tmp, format!("{} {}", to.seg, to.off))?;
        fs::rename(&tmp, &path)?;
        for seq in segments(&self.dir)?.into_iter().filter(|s| *s < oldest.seg) {
            fs::remove_file(segment_path(&self.dir, seq))?;
        }
        Ok(())
    }
}

/// [`Reader::read`] from any position at or after a reader's cursor (segments
/// a reader still needs are kept): what a drainer with more than one insert in
/// flight reads ahead, or reads again to retry an insert.
pub fn read_records(
    dir: &Path,
    from: Pos,
    committed: Pos,
    max_bytes: usize,
) -> io::Result<(Vec<Record>, Pos)> {
    let mut out = Vec::new();
    let mut pos = from;
    let mut budget = max_bytes.max(1);
    while pos < committed && budget > 0 {
        let limit = if pos.seg == committed.seg { committed.off } else { u64::MAX };
        let stop = read_segment(dir, pos, limit, budget, &mut out)?;
        let progress = usize::try_from(stop.off - pos.off).unwrap_or(usize::MAX);
        if progress == 0 {
            if pos.seg == committed.seg {
                break;
            }
            // An older segment is finished (its end, a torn tail, or gone):
            // go on with the next one that exists.
            let next = segments(dir)?.into_iter().find(|s| *s > pos.seg).unwrap_or(committed.seg);
            pos = Pos { seg: next, off: 0 };
            continue;
        }
        budget = budget.saturating_sub(progress);
        pos = stop;
    }
    Ok((out, pos))
}

/// A record header: the body's length (receive time and JSON) and checksum.
fn header(bytes: &[u8]) -> (usize, u32) {
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (word(0) as usize, word(4))
}

/// Bytes of whole records in a segment from `from` on, found by following the
/// headers without reading the bodies, so start-up stays quick with a large
/// backlog. Only the last record can be torn (a crash mid-write leaves it
/// over zeros or past the end of the file): its checksum alone is checked.
fn record_bytes(path: &Path, from: u64) -> io::Result<u64> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let mut at = from;
    let mut last = None;
    let mut head = [0u8; 8];
    while at + HEADER as u64 <= len {
        file.read_exact_at(&mut head, at)?;
        let (size, crc) = header(&head);
        let end = at + 8 + size as u64;
        if size < 8 || end > len {
            break;
        }
        last = Some((at, size, crc));
        at = end;
    }
    if let Some((start, size, crc)) = last {
        let mut body = vec![0u8; size];
        file.read_exact_at(&mut body, start + 8)?;
        if crc32fast::hash(&body) != crc {
            at = start;
        }
    }
    Ok(at - from)
}

/// Reads whole records of one segment from `from` up to `limit` bytes into the
/// file and `budget` bytes of records; answers where it stopped.
fn read_segment(dir: &Path, from: Pos, limit: u64, budget: usize, out: &mut Vec<Record>) -> io::Result<Pos> {
    let mut file = match File::open(segment_path(dir, from.seg)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(from),
        Err(e) => return Err(e),
    };
    file.seek(SeekFrom::Start(from.off))?;
    // Room for at least one whole record (bodies are capped well below 2 MB).
    let file_len = file.metadata()?.len();
    let want = limit.min(file_len).saturating_sub(from.off).min(budget as u64 + 2 * 1024 * 1024);
    // Sized once: the records keep the whole buffer until they are dropped.
    let mut buf = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
    file.take(want).read_to_end(&mut buf)?;
    let buf = bytes::Bytes::from(buf);
    let mut at = 0usize;
    while at + HEADER <= buf.len() {
        let (len, crc) = header(&buf[at..at + 8]);
        if len < 8 || at + 8 + len > buf.len() {
            break;
        }
        let body = &buf[at + 8..at + 8 + len];
        if crc32fast::hash(body) != crc {
            break;
        }
        let mut ms = [0u8; 8];
        ms.copy_from_slice(&body[..8]);
        at += 8 + len;
        out.push(Record {
            received_ms: u64::from_le_bytes(ms),
            json: buf.slice(at - len + 8..at),
            end: Pos { seg: from.seg, off: from.off + at as u64 },
        });
        if at >= budget {
            break;
        }
    }
    Ok(Pos { seg: from.seg, off: from.off + at as u64 })
}
