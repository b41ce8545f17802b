//! Click heatmaps as the stores compute them: clicks of one page bucketed into a
//! grid of square cells of page coordinates, counted by the database (never by
//! reading raw rows into Rust), plus the page dimensions to draw the grid on.

use serde::Serialize;

/// Smallest and largest cell side, in CSS pixels: below 2 px the grid is as big
/// as the raw data; above 200 px it says nothing about elements.
pub const MIN_CELL: u32 = 2;
pub const MAX_CELL: u32 = 200;
/// Default cell side: about a finger tip, small enough to tell buttons apart.
pub const DEFAULT_CELL: u32 = 10;
/// Most pages listed by [`crate::store::EventStore::click_pages`].
pub const MAX_PAGES: u32 = 100;

/// What to aggregate: one page of one site, optionally a time range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatmapQuery {
    pub site_id: u32,
    /// The page URL exactly as stored (the page view's URL, without fragment).
    pub url: String,
    /// Milliseconds since the Unix epoch, inclusive.
    pub from_ms: u64,
    /// Milliseconds since the Unix epoch, exclusive.
    pub to_ms: u64,
    /// Cell side in CSS pixels, within [`MIN_CELL`]..=[`MAX_CELL`].
    pub cell: u32,
}

impl HeatmapQuery {
    /// A query over all time with the default cell.
    pub fn page(site_id: u32, url: &str) -> Self {
        Self { site_id, url: url.to_string(), from_ms: 0, to_ms: i64::MAX as u64, cell: DEFAULT_CELL }
    }

    /// `to_ms` as SQLite's signed integer.
    pub(crate) fn end_i64(&self) -> i64 {
        i64::try_from(self.to_ms).unwrap_or(i64::MAX)
    }

    pub(crate) fn start_i64(&self) -> i64 {
        i64::try_from(self.from_ms).unwrap_or(i64::MAX)
    }
}

/// One cell of the grid: clicks whose page coordinates fall in
/// `[col * cell, (col + 1) * cell) x [row * cell, (row + 1) * cell)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeatCell {
    pub col: u32,
    pub row: u32,
    pub count: u64,
}

/// The aggregate the admin page draws.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heatmap {
    pub url: String,
    pub cell: u32,
    /// Distinct clicks counted.
    pub clicks: u64,
    /// The page's size in CSS pixels: the widest document width and tallest
    /// document height recorded by the page's views, grown to cover every click.
    pub width: u32,
    pub height: u32,
    /// Non-empty cells, by row then column.
    pub cells: Vec<HeatCell>,
}

/// A page with clicks, for choosing what to draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClickPage {
    pub url: String,
    pub clicks: u64,
}

/// Assembles the answer from what the database returned: `(col, row, count)`
/// cells, the recorded page size (0 when unknown) and the furthest click.
pub(crate) fn assemble(
    q: &HeatmapQuery,
    mut cells: Vec<HeatCell>,
    recorded_width: u32,
    recorded_height: u32,
) -> Heatmap {
    cells.sort_by_key(|c| (c.row, c.col));
    let clicks = cells.iter().map(|c| c.count).sum();
    let reach = |f: fn(&HeatCell) -> u32| cells.iter().map(|c| (f(c) + 1).saturating_mul(q.cell)).max();
    let width = recorded_width.max(reach(|c| c.col).unwrap_or(0));
    let height = recorded_height.max(reach(|c| c.row).unwrap_or(0));
    Heatmap { url: q.url.clone(), cell: q.cell, clicks, width, height, cells }
}

/// Cell index of a coordinate the database returned (never negative: the
/// queries skip clicks left of or above the page).
pub(crate) fn index(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_grows_to_cover_clicks_beyond_the_recorded_document() {
        let q = HeatmapQuery::page(1, "https://shop.example/");
        let cells = vec![HeatCell { col: 3, row: 250, count: 2 }, HeatCell { col: 0, row: 0, count: 5 }];
        let h = assemble(&q, cells, 1280, 900);
        assert_eq!((h.width, h.height), (1280, 2510));
        assert_eq!(h.clicks, 7);
        assert_eq!(h.cells[0], HeatCell { col: 0, row: 0, count: 5 }, "sorted by row, then column");
        let empty = assemble(&q, vec![], 0, 0);
        assert_eq!((empty.width, empty.height, empty.clicks), (0, 0, 0));
    }
}
