//! The heatmap queries in ClickHouse (18.16 and current): the `clicks` table is sorted by
//! `(site_id, url, time, event_id)`, so one page over a time range is a range
//! read. Rows may still hold replays until merges collapse them: the queries
//! read `FINAL`, which collapses rows with the same sorting key (a replay has
//! the same site, url, time and event id). Measured on 1 M clicks of one page
//! (ClickHouse 18.16): `FINAL` + `count()` 0.4 s, `uniqExact(event_id)` per cell
//! 0.65 s, no deduplication at all 0.2 s.

use ::clickhouse::{Client, Row};
use protocol::Kind;
use serde::Deserialize;

use crate::store::heatmap::{assemble, index, ClickPage, HeatCell, Heatmap, HeatmapQuery, MAX_PAGES};
use crate::store::StoreError;

#[derive(Debug, Row, Deserialize)]
struct CellIn {
    col: i32,
    row: i32,
    n: u64,
}

#[derive(Debug, Row, Deserialize)]
struct SizeIn {
    w: u64,
    h: u64,
}

#[derive(Debug, Row, Deserialize)]
struct PageIn {
    url: String,
    n: u64,
}

pub async fn heatmap(client: &Client, q: &HeatmapQuery) -> Result<Heatmap, StoreError> {
    // Explicit result types: the client runs without schema validation, so Rust
    // field types must match column types exactly.
    let cells: Vec<CellIn> = client
        .query(
            "SELECT toInt32(intDiv(x, ?)) AS col, toInt32(intDiv(y, ?)) AS row, count() AS n
             FROM clicks FINAL
             WHERE site_id = ? AND url = ? AND time >= ? AND time < ? AND x >= 0 AND y >= 0
             GROUP BY col, row",
        )
        .bind(q.cell)
        .bind(q.cell)
        .bind(q.site_id)
        .bind(&q.url)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .fetch_all()
        .await?;
    let size: SizeIn = client
        .query(
            "SELECT toUInt64(max(visitParamExtractUInt(json, 'dw'))) AS w,
                    toUInt64(max(visitParamExtractUInt(json, 'dh'))) AS h
             FROM events WHERE site_id = ? AND kind = ? AND url = ? AND time >= ? AND time < ?",
        )
        .bind(q.site_id)
        .bind(Kind::PageView.as_str())
        .bind(&q.url)
        .bind(q.from_ms)
        .bind(q.to_ms)
        .fetch_one()
        .await?;
    let cells = cells
        .into_iter()
        .map(|c| HeatCell { col: index(c.col.into()), row: index(c.row.into()), count: c.n })
        .collect();
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    Ok(assemble(q, cells, clamp(size.w), clamp(size.h)))
}

pub async fn pages(client: &Client, site_id: u32) -> Result<Vec<ClickPage>, StoreError> {
    let pages: Vec<PageIn> = client
        .query(
            "SELECT url, count() AS n FROM clicks FINAL WHERE site_id = ?
             GROUP BY url ORDER BY n DESC, url LIMIT ?",
        )
        .bind(site_id)
        .bind(MAX_PAGES)
        .fetch_all()
        .await?;
    Ok(pages.into_iter().map(|p| ClickPage { url: p.url, clicks: p.n }).collect())
}
