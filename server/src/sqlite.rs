//! The one way the server opens an embedded SQLite database (projects, the
//! Shopify app's tables, events), and the one way async code calls into one.
//!
//! Every database is in WAL mode (the CLI, the ingest path and the Shopify
//! endpoints share files; readers never wait on the writer), `synchronous=FULL`
//! (what a caller saw commit is acknowledged onward: a webhook to Shopify, an
//! insert the spool then forgets, so it must survive power loss), and waits up
//! to five seconds for another connection's short write lock.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// What differs between the databases.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuning {
    /// Page size of a new database, in bytes (an existing one keeps its own:
    /// changing it needs a VACUUM outside WAL mode).
    pub page_size: Option<u32>,
    /// Page cache, in KiB.
    pub cache_kib: Option<u32>,
}

/// Opens (creating the directory and the file if needed) `dir/file`.
pub fn open(dir: &Path, file: &str, tuning: Tuning) -> rusqlite::Result<Connection> {
    // A missing directory shows as SQLite's "unable to open" on the next line,
    // with the path, which says enough.
    let _ = std::fs::create_dir_all(dir);
    let conn = Connection::open(dir.join(file))?;
    if let Some(size) = tuning.page_size {
        conn.pragma_update(None, "page_size", size)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    if let Some(kib) = tuning.cache_kib {
        conn.pragma_update(None, "cache_size", -i64::from(kib))?;
    }
    Ok(conn)
}

/// Runs blocking database work on tokio's blocking pool, so an async handler
/// never holds a runtime worker while SQLite reads or waits on a lock. A panic
/// in `f` resumes in the caller, as it did when this work ran inline in the
/// handler. The only other way the task can end is the runtime shutting down,
/// which drops the caller too: then this never resolves.
pub async fn blocking<T, F>(f: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_in_wal_mode_with_full_sync_and_the_asked_page_size() {
        let dir = std::env::temp_dir().join(format!("lummmen-sqlite-open-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let conn = open(&dir.join("sub"), "t.db", Tuning { page_size: Some(16_384), cache_kib: Some(1024) })
            .expect("open");
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("mode");
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("sync");
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0)).expect("page");
        assert_eq!((mode.as_str(), sync, page), ("wal", 2, 16_384));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
