//! Reading the spool back: a [`Reader`] follows it with a named cursor that it
//! persists, and segments every reader has passed are deleted. A new process
//! always starts a new segment, so a torn record at the end of an old segment
//! (a crash mid-write, never acknowledged) or the zeros after the last record
//! are simply where reading that segment stops.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::format::{header, segment_path, segments, split_meta, Pos, Record, HEADER};
use super::Spool;

/// A reader with a named cursor persisted in `spool/{name}.cursor`.
#[derive(Debug, Clone)]
pub struct Reader {
    dir: PathBuf,
    pub(super) name: String,
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
        let (meta, json) = split_meta(&buf.slice(at - len + 8..at));
        out.push(Record {
            received_ms: u64::from_le_bytes(ms),
            meta,
            json,
            end: Pos { seg: from.seg, off: from.off + at as u64 },
            size: 8 + len as u64,
        });
        if at >= budget {
            break;
        }
    }
    Ok(Pos { seg: from.seg, off: from.off + at as u64 })
}
