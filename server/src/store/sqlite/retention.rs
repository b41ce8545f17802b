//! Retention in SQLite: events before each site's cutoff, deleted in chunks of
//! [`CHUNK`] rows, each its own transaction on the writer's connection, so the
//! drainer's inserts run between them; then the site's dashboard and heatmap
//! rows before the cutoff, a table at a time.

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
    tx.commit()?;
    Ok((events as u64, events > 0))
}

/// Deletes the site's rows before the cutoff from the tables derived from
/// events (the dashboard's and the heatmap's), one transaction per table.
pub fn expire_derived(conn: &mut Connection, site_id: u32, cutoff_ms: i64) -> Result<(), StoreError> {
    for table in std::iter::once("traffic").chain(super::heat_rows::TABLES) {
        let tx = conn.transaction()?;
        tx.execute(
            &format!("DELETE FROM {table} WHERE site_id = ?1 AND time < ?2"),
            params![site_id, cutoff_ms],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// The sites that have events, for the retention of sites no project names.
pub fn sites(conn: &Connection) -> Result<Vec<u32>, StoreError> {
    let mut stmt = conn.prepare("SELECT DISTINCT site_id FROM events")?;
    let sites = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(sites)
}
