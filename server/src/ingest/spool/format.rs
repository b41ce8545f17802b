//! What the spool looks like on disk: segment files `{seq:020}.log` in the
//! spool directory, each a run of records `[len u32 LE][crc32 u32 LE]
//! [received_ms u64 LE][meta block]?[batch JSON]` followed by zeros. `len`
//! counts the body (receive time, meta block and JSON) and the checksum covers
//! it, so a reader can tell a whole record from a torn one or from the zeros
//! after the last.
//!
//! The meta block, `[0x01][meta_len u32 LE][meta]`, carries what the server
//! knew of the request besides its body (see `ingest::facts`). It came after
//! the first records, and is only written when there is something in it: a
//! record without it is exactly a record of before. A reader tells them apart
//! by the byte after the receive time: JSON text starts with `{` or with JSON
//! whitespace, never with 0x01 (the spooled JSON is a body that parsed). The
//! format only grows: every record an earlier server wrote still reads.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The size of a prepared segment; a new one starts when a group would not fit.
pub(super) const SEGMENT_BYTES: u64 = 32 * 1024 * 1024;
/// A segment is closed this long after its first record, full or not, so that
/// what the spool holds (batches, and the request facts kept for the relay) is
/// deleted within this long of being drained and relayed: a segment goes only
/// once it is closed and every reader has passed it, and on a quiet server a
/// segment could otherwise take weeks to fill. Costs one prepared segment (32 MB
/// of zeros written) per hour at most.
pub const SEGMENT_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);
/// The length and checksum words and the receive time: no record is shorter.
pub(super) const HEADER: usize = 16;
/// The first byte of a meta block.
const META_TAG: u8 = 0x01;

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
    /// The meta block's content; empty when the record has none. A slice of
    /// the same buffer as `json`.
    pub meta: bytes::Bytes,
    /// A slice of the buffer its stretch of the spool was read into: records
    /// are not copied out of it one by one.
    pub json: bytes::Bytes,
    /// Where the next record starts.
    pub end: Pos,
    /// The whole record's size in the spool, header included.
    pub size: u64,
}

/// Encodes one record without a meta block: the format of every record
/// before meta blocks.
pub fn encode(received_ms: u64, json: &[u8]) -> Vec<u8> {
    encode_with_meta(received_ms, &[], json)
}

/// Encodes one record; an empty `meta` writes no meta block.
pub fn encode_with_meta(received_ms: u64, meta: &[u8], json: &[u8]) -> Vec<u8> {
    let block = if meta.is_empty() { 0 } else { 5 + meta.len() };
    let mut out = Vec::with_capacity(HEADER + block + json.len());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&received_ms.to_le_bytes());
    if !meta.is_empty() {
        out.push(META_TAG);
        out.extend_from_slice(&u32::try_from(meta.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(meta);
    }
    out.extend_from_slice(json);
    let body = &out[8..];
    let (len, crc) = (u32::try_from(body.len()).unwrap_or(u32::MAX), crc32fast::hash(body));
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Splits a record's body after the receive time into its meta block's
/// content (empty without one) and its JSON. A block whose length runs past
/// the body is no block: the JSON reader then refuses what follows.
pub(super) fn split_meta(rest: &bytes::Bytes) -> (bytes::Bytes, bytes::Bytes) {
    if rest.first() == Some(&META_TAG) && rest.len() >= 5 {
        let len = u32::from_le_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        if let Some(end) = 5usize.checked_add(len).filter(|&end| end <= rest.len()) {
            return (rest.slice(5..end), rest.slice(end..));
        }
    }
    (bytes::Bytes::new(), rest.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(record: &[u8]) -> bytes::Bytes {
        let (len, crc) = header(record);
        assert_eq!(len, record.len() - 8);
        assert_eq!(crc, crc32fast::hash(&record[8..]), "the checksum covers the whole body");
        bytes::Bytes::copy_from_slice(&record[HEADER..])
    }

    #[test]
    fn a_record_without_meta_is_byte_for_byte_the_format_before_meta() {
        let json = br#"{"s":1}"#;
        // The encoder of before, spelled out.
        let mut before = Vec::new();
        let mut b = 1234u64.to_le_bytes().to_vec();
        b.extend_from_slice(json);
        before.extend_from_slice(&(b.len() as u32).to_le_bytes());
        before.extend_from_slice(&crc32fast::hash(&b).to_le_bytes());
        before.extend_from_slice(&b);
        assert_eq!(encode(1234, json), before);
        assert_eq!(encode_with_meta(1234, b"", json), before);
        let (meta, rest) = split_meta(&body(&before));
        assert_eq!((meta.as_ref(), rest.as_ref()), (&b""[..], &json[..]));
    }

    #[test]
    fn meta_and_json_come_apart_again() {
        let record = encode_with_meta(7, b"{\"ip\":\"192.0.2.1\"}", b" {\"s\":1}");
        let (meta, json) = split_meta(&body(&record));
        assert_eq!(meta.as_ref(), b"{\"ip\":\"192.0.2.1\"}");
        assert_eq!(json.as_ref(), b" {\"s\":1}");
        // JSON that starts with whitespace is never taken for a block.
        let (meta, json) = split_meta(&bytes::Bytes::from_static(b"\n{}"));
        assert_eq!((meta.len(), json.as_ref()), (0, &b"\n{}"[..]));
        // A block that claims more than there is: no block.
        let bad = bytes::Bytes::from_static(&[META_TAG, 200, 0, 0, 0, b'{', b'}']);
        let (meta, json) = split_meta(&bad);
        assert_eq!((meta.len(), json.len()), (0, bad.len()));
    }
}
