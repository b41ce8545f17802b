//! The heatmap queries in SQLite: clicks are `events` rows of kind click; the partial index on
//! `(site_id, url, time)` serves the filter, `GROUP BY` does the bucketing.
//! Page sizes come from the page views (`dw`/`dh` in their JSON), found through
//! the partial index on page views by URL.

use std::sync::LazyLock;

use protocol::Kind;
use rusqlite::{params, Connection};

use crate::store::heatmap::{assemble, index, ClickPage, HeatCell, Heatmap, HeatmapQuery, MAX_PAGES};
use crate::store::{kind_sql, StoreError};

/// Index the SQLite page-size lookup needs; created with the schema.
pub static INDEX: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CREATE INDEX IF NOT EXISTS page_views_by_url ON events(site_id, url, time) WHERE {};",
        kind_sql::is(Kind::PageView)
    )
});

pub static CELLS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT x / ?1 AS col, y / ?1 AS row, COUNT(*) FROM events
         WHERE {} AND site_id = ?2 AND url = ?3 AND time >= ?4 AND time < ?5 AND x >= 0 AND y >= 0
         GROUP BY col, row",
        kind_sql::is(Kind::Click)
    )
});

static SIZE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT MAX(json_extract(json, '$.dw')), MAX(json_extract(json, '$.dh')) FROM events
         WHERE {} AND site_id = ?1 AND url = ?2 AND time >= ?3 AND time < ?4",
        kind_sql::is(Kind::PageView)
    )
});

pub static PAGES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT url, COUNT(*) AS n FROM events WHERE {} AND site_id = ?1
         GROUP BY url ORDER BY n DESC, url LIMIT ?2",
        kind_sql::is(Kind::Click)
    )
});

pub fn heatmap(conn: &Connection, q: &HeatmapQuery) -> Result<Heatmap, StoreError> {
    let cell = i64::from(q.cell);
    let mut stmt = conn.prepare_cached(&CELLS)?;
    let cells = stmt
        .query_map(params![cell, q.site_id, q.url, q.start_i64(), q.end_i64()], |r| {
            Ok(HeatCell {
                col: index(r.get(0)?),
                row: index(r.get(1)?),
                count: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let (width, height): (Option<i64>, Option<i64>) =
        conn.query_row(&SIZE, params![q.site_id, q.url, q.start_i64(), q.end_i64()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let size = |v: Option<i64>| u32::try_from(v.unwrap_or(0).max(0)).unwrap_or(u32::MAX);
    Ok(assemble(q, cells, size(width), size(height)))
}

pub fn pages(conn: &Connection, site_id: u32) -> Result<Vec<ClickPage>, StoreError> {
    let mut stmt = conn.prepare_cached(&PAGES)?;
    let pages = stmt
        .query_map(params![site_id, MAX_PAGES], |r| {
            Ok(ClickPage { url: r.get(0)?, clicks: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0) })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(pages)
}
