//! What the spool looks like on disk: segment files `{seq:020}.log` in the
//! spool directory, each a run of records `[len u32 LE][crc32 u32 LE]
//! [received_ms u64 LE][batch JSON]` followed by zeros. `len` counts the body
//! (receive time and JSON) and the checksum covers it, so a reader can tell a
//! whole record from a torn one or from the zeros after the last.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The size of a prepared segment; a new one starts when a group would not fit.
pub(super) const SEGMENT_BYTES: u64 = 32 * 1024 * 1024;
/// The length and checksum words and the receive time: no record is shorter.
pub(super) const HEADER: usize = 16;

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

/// A record header: the body's length (receive time and JSON) and checksum.
pub(super) fn header(bytes: &[u8]) -> (usize, u32) {
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (word(0) as usize, word(4))
}

pub(super) fn segment_path(dir: &Path, seq: u64) -> PathBuf {
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

/// Makes a segment's new name durable: names live in the directory, which
/// fsyncing the file does not flush.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
