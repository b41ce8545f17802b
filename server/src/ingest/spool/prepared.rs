//! Prepared segments: files of zeros made ahead of time by a helper thread and
//! then written in place (as PostgreSQL prepares its WAL segments).
//!
//! Overwriting blocks that are already allocated and written changes no file
//! metadata, so `fdatasync` only flushes the data: on ext4 it then never waits
//! for a journal commit, which carries every other file's metadata changes and
//! was the long tail of the acknowledgement latency.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::format::SEGMENT_BYTES;

/// Prepared segments are zero-filled this much per write.
const FILL_CHUNK: usize = 1024 * 1024;
/// A prepared segment waiting to be used: it has no `.log` name yet, so a
/// reader never sees it.
const SPARE_SUFFIX: &str = ".spare";

/// The writer's end of the preparing thread, which keeps one prepared segment
/// ready and stops once this is dropped with the writer.
pub(super) struct Spares {
    spare: Arc<Spare>,
    _alive: Arc<()>,
}

impl Spares {
    /// Starts the preparing thread for `dir`.
    pub(super) fn start(dir: &Path) -> io::Result<Self> {
        let spare = Arc::new(Spare::default());
        let alive = Arc::new(());
        {
            let (dir, spare, writer) = (dir.to_path_buf(), Arc::clone(&spare), Arc::downgrade(&alive));
            std::thread::Builder::new()
                .name("spool-prepare".into())
                .spawn(move || prepare_spares(dir, spare, writer))?;
        }
        Ok(Self { spare, _alive: alive })
    }

    /// Takes the prepared segment, if one is ready, and asks for the next.
    pub(super) fn take(&self) -> Option<(PathBuf, File)> {
        self.spare.take()
    }
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

/// Keeps one zero-filled, fsynced segment ready in `dir` while `writer` is
/// alive (the writer thread owns the other end). Errors are logged and retried
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

/// Removes prepared segments an earlier process left unused. One already
/// gone is no error: a spool reopened in the same process may have the
/// previous one's preparer removing its own spare at the same moment (the
/// reopen then failed with "No such file or directory").
pub(super) fn remove_spares(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)?.flatten() {
        if entry.file_name().to_str().is_some_and(|n| n.ends_with(SPARE_SUFFIX)) {
            match fs::remove_file(entry.path()) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}
