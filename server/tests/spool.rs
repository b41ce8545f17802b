//! The spool on its own: what was acknowledged is read back in order across a
//! restart, a torn record at the end of a segment (a crash mid-write, never
//! acknowledged) is skipped, and cursors survive reopening.

mod common;

use std::io::Write;

use common::TempDir;
use lummmen_server::ingest::spool::{segments, Reader, Spool};

#[tokio::test]
async fn reads_back_acknowledged_records_across_restarts_and_skips_a_torn_tail() {
    let dir = TempDir::new("spool");
    let spool_dir = dir.0.join("spool");
    {
        let spool = Spool::open(&spool_dir, 0).expect("open");
        for i in 0..3u64 {
            spool.append(1000 + i, format!("{{\"n\":{i}}}").as_bytes()).await.expect("append");
        }
    }
    // A crash in the middle of the next write: half a record at the end.
    let first = segments(&spool_dir).expect("segments")[0];
    let path = spool_dir.join(format!("{first:020}.log"));
    let torn = lummmen_server::ingest::spool::encode(9999, b"{\"n\":\"torn\"}");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("segment")
        .write_all(&torn[..torn.len() / 2])
        .expect("tear");

    let spool = Spool::open(&spool_dir, 0).expect("reopen starts a new segment");
    spool.append(2000, b"{\"n\":3}").await.expect("append after restart");
    let mut reader = Reader::open(&spool_dir, "drain").expect("reader");
    spool.register(&reader);
    let committed = *spool.committed().borrow();
    let mut got = Vec::new();
    while reader.pos < committed {
        let (records, end) = reader.read(committed, 1).expect("read");
        got.extend(
            records.into_iter().map(|r| (r.received_ms, String::from_utf8(r.json.to_vec()).expect("utf8"))),
        );
        reader.advance(end, &spool).expect("advance");
    }
    let want: Vec<(u64, String)> = vec![
        (1000, "{\"n\":0}".into()),
        (1001, "{\"n\":1}".into()),
        (1002, "{\"n\":2}".into()),
        (2000, "{\"n\":3}".into()),
    ];
    assert_eq!(got, want);
    // The drained first segment is deleted; the cursor survives reopening.
    assert!(!path.exists(), "a segment every reader has passed is removed");
    let again = Reader::open(&spool_dir, "drain").expect("reader again");
    assert_eq!(again.pos, committed);
    assert!(again.read(committed, 1 << 20).expect("read").0.is_empty());
}

const WARM: &[u8] = b"{\"warm\":true}";

/// Appends until the writer has moved to a prepared (zero-filled) segment;
/// answers that segment's number and the receive time of the record that went
/// first into it.
async fn until_prepared(spool: &Spool) -> (u64, u64) {
    let first = spool.committed().borrow().seg;
    for i in 0..600u64 {
        spool.append(i, WARM).await.expect("append");
        let seg = spool.committed().borrow().seg;
        if seg != first {
            return (seg, i);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no prepared segment within 30 s");
}

#[tokio::test]
async fn prepared_segments_are_written_in_place_and_read_up_to_their_zeros() {
    let dir = TempDir::new("spool-prepared");
    let spool_dir = dir.0.join("spool");
    let spool = Spool::open(&spool_dir, 0).expect("open");
    let (seg, warm) = until_prepared(&spool).await;
    let path = spool_dir.join(format!("{seg:020}.log"));
    let size = std::fs::metadata(&path).expect("prepared segment").len();
    assert!(size >= 16 * 1024 * 1024, "a prepared segment is made at full size ({size} bytes)");
    let mut written = lummmen_server::ingest::spool::encode(warm, WARM).len() as u64;
    for i in 0..3u64 {
        let json = format!("{{\"n\":{i}}}");
        spool.append(5000 + i, json.as_bytes()).await.expect("append");
        written += lummmen_server::ingest::spool::encode(5000 + i, json.as_bytes()).len() as u64;
    }
    let end = *spool.committed().borrow();
    assert_eq!((end.seg, std::fs::metadata(&path).expect("segment").len()), (seg, size), "written in place");
    drop(spool);

    // A crash in the middle of the next write: half a record over the zeros.
    let torn = lummmen_server::ingest::spool::encode(9999, b"{\"n\":\"torn\"}");
    let file = std::fs::OpenOptions::new().write(true).open(&path).expect("segment");
    std::os::unix::fs::FileExt::write_all_at(&file, &torn[..torn.len() / 2], end.off).expect("tear");

    let mut reader = Reader::open(&spool_dir, "drain").expect("reader");
    reader.pos = lummmen_server::ingest::spool::Pos { seg, off: 0 };
    assert_eq!(reader.unread_bytes().expect("unread"), written, "records only, not the zeros");
    let spool = Spool::open(&spool_dir, 0).expect("reopen");
    spool.append(6000, b"{\"n\":3}").await.expect("append after restart");
    spool.register(&reader);
    let committed = *spool.committed().borrow();
    let mut got = Vec::new();
    while reader.pos < committed {
        let (records, end) = reader.read(committed, 1 << 20).expect("read");
        got.extend(records.into_iter().map(|r| r.received_ms));
        reader.advance(end, &spool).expect("advance");
    }
    assert_eq!(got, vec![warm, 5000, 5001, 5002, 6000]);
}

#[tokio::test]
async fn on_durable_gets_each_record_end_before_readers_can_see_it() {
    let dir = TempDir::new("spool-durable");
    let spool_dir = dir.0.join("spool");
    let spool = Spool::open(&spool_dir, 0).expect("open");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // Concurrent appends, so several share one group commit.
    let appends = (0..20u64).map(|i| {
        let (spool, seen) = (spool.clone(), std::sync::Arc::clone(&seen));
        let committed = spool.committed();
        tokio::spawn(async move {
            let json = format!("{{\"n\":{i}}}");
            let hook = Box::new(move |end: lummmen_server::ingest::spool::Pos| {
                let visible = *committed.borrow();
                seen.lock().expect("lock").push((end, i, visible < end));
            });
            // Every other record has a meta block: both kinds side by side.
            let meta = if i % 2 == 0 { format!("meta {i}") } else { String::new() };
            spool.append_then(i, meta.as_bytes(), json.as_bytes(), Some(hook)).await.expect("append");
        })
    });
    for task in appends.collect::<Vec<_>>() {
        task.await.expect("append task");
    }
    let mut seen = std::mem::take(&mut *seen.lock().expect("lock"));
    seen.sort();
    assert_eq!(seen.len(), 20, "called once per durable record");
    assert!(seen.iter().all(|s| s.2), "called before the committed position passes the record");

    let reader = Reader::open(&spool_dir, "drain").expect("reader");
    let (records, _) = reader.read(*spool.committed().borrow(), 1 << 20).expect("read");
    let read: Vec<_> = records.iter().map(|r| (r.end, r.received_ms)).collect();
    let called: Vec<_> = seen.iter().map(|s| (s.0, s.1)).collect();
    assert_eq!(called, read, "each call names where its own record ends");
    for r in &records {
        let i = r.received_ms;
        let meta = if i % 2 == 0 { format!("meta {i}") } else { String::new() };
        assert_eq!(
            (r.meta.as_ref(), r.json.as_ref()),
            (meta.as_bytes(), format!("{{\"n\":{i}}}").as_bytes())
        );
    }
}

/// A segment is closed once its first record is old enough, busy or idle, so a
/// quiet server's records (and the request facts kept for the relay) do not
/// wait for a 32 MB segment to fill before they can be deleted.
#[tokio::test]
async fn an_old_segment_is_closed_and_deleted_once_read_even_when_idle() {
    let dir = TempDir::new("spool-aged");
    let spool_dir = dir.0.join("spool");
    let age = std::time::Duration::from_millis(300);
    let spool = Spool::open_aged(&spool_dir, 0, Box::new(|_| {}), age).expect("open");
    let mut reader = Reader::open(&spool_dir, "drain").expect("reader");
    spool.register(&reader);
    spool.append(1, b"{\"n\":1}").await.expect("append");
    let first = *spool.committed().borrow();
    let path = spool_dir.join(format!("{:020}.log", first.seg));
    let (records, end) = reader.read(first, 1 << 20).expect("read");
    assert_eq!(records.len(), 1);
    reader.advance(end, &spool).expect("advance");
    assert!(path.exists(), "read, but the writer is still in it");

    // Idle: the writer moves on by itself, and says so.
    let mut committed = spool.committed();
    tokio::time::timeout(std::time::Duration::from_secs(10), committed.wait_for(|p| p.seg > first.seg))
        .await
        .expect("the segment was closed in time")
        .expect("writer alive");
    let next = *spool.committed().borrow();
    assert_eq!(next.off, 0, "an idle close writes nothing");
    let (records, end) = reader.read(next, 1 << 20).expect("read");
    assert!(records.is_empty());
    reader.advance(end, &spool).expect("advance");
    assert!(!path.exists(), "closed and read past: deleted");

    // A record written after the age is in a new segment.
    spool.append(2, b"{\"n\":2}").await.expect("append");
    let second = *spool.committed().borrow();
    tokio::time::sleep(age + std::time::Duration::from_millis(50)).await;
    spool.append(3, b"{\"n\":3}").await.expect("append");
    let third = *spool.committed().borrow();
    assert!(third.seg > second.seg, "{second:?} then {third:?}");
    let (records, _) = reader.read(third, 1 << 20).expect("read");
    assert_eq!(records.iter().map(|r| r.received_ms).collect::<Vec<_>>(), [2, 3]);
}
