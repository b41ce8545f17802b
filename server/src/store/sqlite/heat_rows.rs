//! The heatmap's tables in SQLite (see [`crate::store::heatmap`]): narrow
//! `WITHOUT ROWID` tables clustered on `(site_id, bucket, grp, path, time, ...)`,
//! so one path in one bucket over a range is one range read, and a template
//! group one range of the same key. Replays are dropped by `INSERT OR IGNORE`
//! on the key, which ends with the event id.
//!
//! Clicks carry their bin inside the element and their selector as a number
//! (see [`bin_of`], [`selector_key`]): the elements' query sorts by those,
//! and sorting is its cost. Move points are stored as one row per batch, its points a JSON array of
//! `x + y * 65536` (see [`pack_points`]), which the query unpacks with
//! `json_each`: a batch's moves cost one row, not one per point.
//!
//! They replace the click columns and partial indexes `events` had for the
//! first heatmap (`clicks_by_page`, `page_views_by_url`), which are dropped; a
//! database from before them fills them from its events at start.

use rusqlite::{params, CachedStatement, Connection};

use protocol::Kind;

use crate::store::heatmap::backfill::HeatBackfill;
use crate::store::heatmap::rows::{Carrier, MAX_MOVE_X};
use crate::store::heatmap::{bin_of, selector_key, Heat};
use crate::store::{kind_sql, StoreError};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS heat_clicks (
    site_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    grp INTEGER NOT NULL,
    path TEXT NOT NULL,
    time INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    x INTEGER NOT NULL,
    y INTEGER NOT NULL,
    rx INTEGER,
    ry INTEGER,
    bin INTEGER,
    selector TEXT NOT NULL,
    sel INTEGER NOT NULL,
    rage INTEGER NOT NULL,
    dead INTEGER NOT NULL,
    PRIMARY KEY (site_id, bucket, grp, path, time, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heat_moves (
    site_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    grp INTEGER NOT NULL,
    path TEXT NOT NULL,
    time INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    points TEXT NOT NULL,
    PRIMARY KEY (site_id, bucket, grp, path, time, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heat_views (
    site_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    grp INTEGER NOT NULL,
    path TEXT NOT NULL,
    time INTEGER NOT NULL,
    page_view_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    depth INTEGER NOT NULL,
    doc_width INTEGER NOT NULL,
    doc_height INTEGER NOT NULL,
    PRIMARY KEY (site_id, bucket, grp, path, time, page_view_id, event_id)
) WITHOUT ROWID;
DROP INDEX IF EXISTS clicks_by_page;
DROP INDEX IF EXISTS page_views_by_url;
";

/// Every heatmap table, for deletes.
pub const TABLES: [&str; 3] = ["heat_clicks", "heat_moves", "heat_views"];

const INSERT_CLICK: &str = "INSERT OR IGNORE INTO heat_clicks
    (site_id, bucket, grp, path, time, event_id, visitor_id, x, y, rx, ry, bin, selector, sel, rage, dead)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
const INSERT_MOVES: &str = "INSERT OR IGNORE INTO heat_moves
    (site_id, bucket, grp, path, time, event_id, visitor_id, points)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const INSERT_VIEW: &str = "INSERT OR IGNORE INTO heat_views
    (site_id, bucket, grp, path, time, page_view_id, event_id, visitor_id, depth, doc_width, doc_height)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

/// A packed point's `y` is its value divided by this, its `x` the remainder.
pub const PACK: i64 = MAX_MOVE_X as i64 + 1;

/// Move points as stored: a JSON array of `x + y * PACK`.
pub fn pack_points(xs: &[i32], ys: &[i32]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(2 + xs.len() * 10);
    out.push('[');
    for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing into a String cannot fail.
        let _ = write!(out, "{}", i64::from(*x) + i64::from(*y) * PACK);
    }
    out.push(']');
    out
}

fn sql_time(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// The three inserts, prepared once per transaction.
pub struct HeatInserts<'c> {
    clicks: CachedStatement<'c>,
    moves: CachedStatement<'c>,
    views: CachedStatement<'c>,
}

impl<'c> HeatInserts<'c> {
    pub fn new(conn: &'c Connection) -> rusqlite::Result<Self> {
        Ok(Self {
            clicks: conn.prepare_cached(INSERT_CLICK)?,
            moves: conn.prepare_cached(INSERT_MOVES)?,
            views: conn.prepare_cached(INSERT_VIEW)?,
        })
    }

    pub fn write(&mut self, r: Carrier<'_>, heat: &Heat) -> rusqlite::Result<()> {
        match heat {
            Heat::Click(c) => {
                let p = &c.page;
                self.clicks.execute(params![
                    r.site_id,
                    p.bucket,
                    p.group,
                    p.path,
                    sql_time(r.time),
                    r.event_id,
                    r.visitor_id,
                    c.x,
                    c.y,
                    c.rel.map(|(x, _)| x),
                    c.rel.map(|(_, y)| y),
                    bin_of(c.rel),
                    c.selector,
                    // SQLite integers are signed: the key's bits as they are.
                    selector_key(&c.selector) as i64,
                    c.rage,
                    c.dead,
                ])?;
            }
            Heat::Moves(m) => {
                let p = &m.page;
                self.moves.execute(params![
                    r.site_id,
                    p.bucket,
                    p.group,
                    p.path,
                    sql_time(r.time),
                    r.event_id,
                    r.visitor_id,
                    pack_points(&m.xs, &m.ys),
                ])?;
            }
            Heat::View(v) => {
                let p = &v.page;
                self.views.execute(params![
                    r.site_id,
                    p.bucket,
                    p.group,
                    p.path,
                    sql_time(v.time),
                    r.page_view_id,
                    r.event_id,
                    r.visitor_id,
                    v.depth,
                    v.doc_width,
                    v.doc_height,
                ])?;
            }
        }
        Ok(())
    }
}

/// Creates the tables; when they are new in a database that holds events,
/// fills them from those events (see [`HeatBackfill`]), in one transaction.
pub fn create(conn: &mut Connection) -> Result<(), StoreError> {
    let existed: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'heat_clicks'",
        [],
        |r| r.get(0),
    )?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    if !existed {
        backfill(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

fn backfill(conn: &Connection) -> Result<(), StoreError> {
    let kinds = [Kind::PageView, Kind::Click, Kind::Moves, Kind::Scroll, Kind::PageLeave];
    let filter = kinds.map(kind_sql::is).join(" OR ");
    // By the visitor index, so each visitor's events come together.
    let mut read = conn.prepare(&format!(
        "SELECT site_id, visitor_id, page_view_id, event_id, json FROM events
         WHERE ({filter}) ORDER BY site_id, visitor_id"
    ))?;
    let mut rows = read.query([])?;
    let mut inserts = HeatInserts::new(conn)?;
    let mut backfill = HeatBackfill::default();
    let mut filled = 0u64;
    let mut write = |rows: Vec<crate::store::heatmap::backfill::HeatRow>| -> rusqlite::Result<()> {
        for r in &rows {
            inserts.write(r.carrier(), &r.heat)?;
        }
        filled += rows.len() as u64;
        Ok(())
    };
    while let Some(r) = rows.next()? {
        let site_id: u32 = r.get(0)?;
        let visitor: String = r.get(1)?;
        let page_view: String = r.get(2)?;
        let event_id: String = r.get(3)?;
        let json: String = r.get(4)?;
        write(backfill.push(site_id, &visitor, &page_view, &event_id, &json))?;
    }
    write(backfill.finish())?;
    if filled > 0 || backfill.orphans > 0 {
        tracing::info!(
            rows = filled,
            without_page_view = backfill.orphans,
            "filled the heatmap's tables from the events stored before them"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_pack_into_one_integer_each() {
        assert_eq!(pack_points(&[0, 5, MAX_MOVE_X], &[0, 2, 1]), "[0,131077,131071]");
        assert_eq!(pack_points(&[], &[]), "[]");
        let v = 5 + 2 * PACK;
        assert_eq!((v % PACK, v / PACK), (5, 2));
    }
}
