//! Retention in SQLite: events (and their dashboard rows) before each site's
//! cutoff, deleted in chunks of [`CHUNK`] rows, each its own transaction on the
//! writer's connection, so the drainer's inserts run between them.

use rusqlite::{params, Connection};

use crate::store::StoreError;

/// Rows per delete.
pub const CHUNK: i64 = 5000;

/// Deletes one chunk of the site's expired events and dashboard rows; answers
/// how many events went and whether anything did (when not, the site is done).
pub fn expire_chunk(conn: &mut Connection, site_id: u32, cutoff_ms: i64) -> Result<(u64, bool), StoreError> {
    let tx = conn.transaction()?;
    let events = tx.execute(
        "DELETE FROM events WHERE rowid IN
           (SELECT rowid FROM events WHERE site_id = ?1 AND time < ?2 LIMIT ?3)",
        params![site_id, cutoff_ms, CHUNK],
    )?;
    let traffic = tx.execute(
        "DELETE FROM traffic WHERE (site_id, time, event_id) IN
           (SELECT site_id, time, event_id FROM traffic WHERE site_id = ?1 AND time < ?2 LIMIT ?3)",
        params![site_id, cutoff_ms, CHUNK],
    )?;
    tx.commit()?;
    Ok((events as u64, events > 0 || traffic > 0))
}

/// The sites that have events, for the retention of sites no project names.
pub fn sites(conn: &Connection) -> Result<Vec<u32>, StoreError> {
    let mut stmt = conn.prepare("SELECT DISTINCT site_id FROM events")?;
    let sites = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(sites)
}
