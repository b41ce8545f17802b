//! Heatmaps as the stores compute them, for one page (a path, or a template
//! group of pages, see [`page`]) in one device bucket over a time range:
//!
//! - elements: clicks that carry their position inside the clicked element,
//!   per selector, with rage and dead clicks, and the positions binned to
//!   twentieths of the element's box: a position that survives responsive
//!   layouts and a page's changes, where page coordinates do not;
//! - grid: clicks without that position (trackers from before it), counted in
//!   square cells of page coordinates, drawn on the bucket's recorded page size;
//! - scroll: page views, and how many of them reached each tenth of the page;
//! - moves: mouse-move points per cell of page coordinates.
//!
//! Every count is made by the database (never by reading rows into Rust) over
//! the narrow rows written at ingest ([`rows`]); [`assemble`] only orders and
//! shapes what came back, so both stores give the same answer. Replays of the
//! same events never count twice (see each backend's `heatmap.rs`).

pub mod backfill;
pub mod page;
pub mod rows;

use serde::Serialize;

pub use page::{Bucket, PageGroup, PageSel};
pub use rows::{
    bin_of, heat_of_batch, path_key, selector_key, Heat, HeatClick, HeatMoves, HeatPage, HeatView, BIN_MASK,
};

/// Smallest and largest cell side, in CSS pixels: below 2 px the grid is as big
/// as the raw data; above 200 px it says nothing about elements.
pub const MIN_CELL: u32 = 2;
pub const MAX_CELL: u32 = 200;
/// Default cell side: about a finger tip, small enough to tell buttons apart.
pub const DEFAULT_CELL: u32 = 10;
/// Most pages listed by [`crate::store::EventStore::heatmap_pages`].
pub const MAX_PAGES: u32 = 100;
/// Most elements in an answer, the most clicked.
pub const MAX_ELEMENTS: u32 = 100;
/// Positions inside an element are binned to this many parts of its width and
/// of its height.
pub const ELEMENT_BINS: u32 = 20;
/// Thousandths per bin: a relative position `r` (0 to 1000) is in bin
/// `min(r / BIN_THOUSANDTHS, ELEMENT_BINS - 1)`.
pub const BIN_THOUSANDTHS: u32 = 1000 / ELEMENT_BINS;
/// How many bins a box has: a bin number is below this.
pub const BINS: u16 = (ELEMENT_BINS * ELEMENT_BINS) as u16;
/// `scroll.reached` has one count per tenth of the page.
pub const SCROLL_STEPS: usize = 10;

/// Which parts of the heatmap to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    pub clicks: bool,
    pub moves: bool,
    pub scroll: bool,
}

impl Parts {
    pub const ALL: Parts = Parts { clicks: true, moves: true, scroll: true };
}

/// What to aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatmapQuery {
    pub site_id: u32,
    pub page: PageSel,
    pub bucket: Bucket,
    /// Milliseconds since the Unix epoch, inclusive.
    pub from_ms: u64,
    /// Milliseconds since the Unix epoch, exclusive.
    pub to_ms: u64,
    /// Cell side in CSS pixels, within [`MIN_CELL`]..=[`MAX_CELL`].
    pub cell: u32,
    pub parts: Parts,
    /// Also every click in page coordinates, relative position or not: the
    /// grid of the answer's first version (see [`LegacyGrid`]).
    pub legacy_grid: bool,
}

impl HeatmapQuery {
    /// Every part of one path's desktop heatmap over all time, default cell.
    pub fn page(site_id: u32, path: &str) -> Self {
        Self {
            site_id,
            page: PageSel::Path(path.to_string()),
            bucket: Bucket::Desktop,
            from_ms: 0,
            to_ms: i64::MAX as u64,
            cell: DEFAULT_CELL,
            parts: Parts::ALL,
            legacy_grid: false,
        }
    }

    /// Whether the page views' rows are read: for the scroll, and for the
    /// page size the click grids are drawn on.
    pub fn reads_views(&self) -> bool {
        self.parts.scroll || self.parts.clicks || self.legacy_grid
    }

    /// `from_ms` as SQLite's signed integer.
    pub(crate) fn start_i64(&self) -> i64 {
        i64::try_from(self.from_ms).unwrap_or(i64::MAX)
    }

    /// `to_ms` as SQLite's signed integer.
    pub(crate) fn end_i64(&self) -> i64 {
        i64::try_from(self.to_ms).unwrap_or(i64::MAX)
    }
}

/// One cell of a grid: what falls in
/// `[col * cell, (col + 1) * cell) x [row * cell, (row + 1) * cell)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeatCell {
    pub col: u32,
    pub row: u32,
    pub count: u64,
}

/// One selector's clicks as the store counted them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementCount {
    pub selector: String,
    pub clicks: u64,
    pub rage: u64,
    pub dead: u64,
}

/// Clicks of one selector in one bin of its box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointCount {
    pub selector: String,
    /// Bins, 0 to [`ELEMENT_BINS`] - 1.
    pub col: u32,
    pub row: u32,
    pub count: u64,
}

impl PointCount {
    /// From a stored bin number (see [`bin_of`]).
    pub fn of_bin(selector: &str, bin: u16, count: u64) -> Self {
        let bin = u32::from(bin);
        Self { selector: selector.to_string(), col: bin % ELEMENT_BINS, row: bin / ELEMENT_BINS, count }
    }
}

/// The clicks' counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClickCounts {
    /// Every click of the page in the bucket.
    pub total: u64,
    /// Selectors of clicks with a relative position: at least the
    /// [`MAX_ELEMENTS`] most clicked (a store may give them all; [`assemble`]
    /// keeps the most clicked).
    pub elements: Vec<ElementCount>,
    /// The bins of those selectors.
    pub points: Vec<PointCount>,
    /// Clicks without a relative position, per cell (never left of or above
    /// the page).
    pub grid: Vec<HeatCell>,
}

/// The page views' counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewCounts {
    pub pageviews: u64,
    /// Page views whose deepest scroll is at least (i + 1) * 10 percent.
    pub reached: [u64; SCROLL_STEPS],
    /// The widest document width and tallest height the page views recorded.
    pub width: u32,
    pub height: u32,
}

/// What a store counted for a [`HeatmapQuery`]: each part when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeatCounts {
    pub clicks: Option<ClickCounts>,
    pub views: Option<ViewCounts>,
    pub moves: Option<Vec<HeatCell>>,
    /// Every click per cell, relative position or not.
    pub legacy: Option<Vec<HeatCell>>,
}

/// The answer of `GET /api/heatmap` (camelCase JSON); parts not asked for are
/// absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Heatmap {
    /// The path, or the group's pattern.
    pub page: String,
    pub bucket: &'static str,
    pub from: u64,
    pub to: u64,
    /// Every click of the page(s) in the bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elements: Option<Vec<Element>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<Grid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scroll: Option<ScrollReach>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moves: Option<MoveMap>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyGrid>,
}

/// One selector's clicks, and where in its box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Element {
    pub selector: String,
    pub clicks: u64,
    pub rage: u64,
    pub dead: u64,
    /// Non-empty bins, by row then column.
    pub points: Vec<ElementPoint>,
}

/// Clicks in one bin of an element's box; `rx`, `ry` the bin's centre as
/// fractions of the box (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElementPoint {
    pub rx: f64,
    pub ry: f64,
    pub count: u64,
}

/// Clicks without a relative position on the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grid {
    pub cell: u32,
    /// The page size in CSS pixels: the widest and tallest document the
    /// bucket's page views recorded, grown to cover every cell.
    pub width: u32,
    pub height: u32,
    /// Non-empty cells, by row then column.
    pub cells: Vec<HeatCell>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScrollReach {
    pub pageviews: u64,
    /// `reached[i]`: page views whose deepest scroll is at least (i + 1) * 10
    /// percent of the page.
    pub reached: [u64; SCROLL_STEPS],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MoveMap {
    pub cell: u32,
    /// Non-empty cells, by row then column.
    pub cells: Vec<HeatCell>,
}

/// The fields of the answer's first version (`url`, `cell`, `width`,
/// `height`, `cells`: every click on the page in page coordinates), for
/// callers that still ask with `url=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyGrid {
    pub url: String,
    pub cell: u32,
    pub width: u32,
    pub height: u32,
    pub cells: Vec<HeatCell>,
}

/// A page, or a template group, with its clicks and its page views with a
/// recorded scroll depth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageClicks {
    pub page: String,
    pub clicks: u64,
    pub views: u64,
}

/// The pages of a site with clicks or scrolled page views, most clicked first
/// (then most viewed), and the template groups likewise (all buckets, all
/// time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeatPages {
    pub pages: Vec<PageClicks>,
    pub groups: Vec<PageClicks>,
}

/// Shapes what the store counted into the answer: orders every list, turns
/// bins into fractions, grows the page to cover the grid. `legacy_url` is the
/// `url` of a caller of the first version.
pub fn assemble(q: &HeatmapQuery, counts: HeatCounts, legacy_url: Option<&str>) -> Heatmap {
    let views = counts.views.unwrap_or_default();
    let grid_of = |mut cells: Vec<HeatCell>| {
        cells.sort_by_key(|c| (c.row, c.col));
        let reach = |f: fn(&HeatCell) -> u32| cells.iter().map(|c| (f(c) + 1).saturating_mul(q.cell)).max();
        let width = views.width.max(reach(|c| c.col).unwrap_or(0));
        let height = views.height.max(reach(|c| c.row).unwrap_or(0));
        Grid { cell: q.cell, width, height, cells }
    };
    let (clicks, elements, grid) = match counts.clicks {
        Some(c) => (Some(c.total), Some(elements(c.elements, c.points)), Some(grid_of(c.grid))),
        None => (None, None, None),
    };
    let legacy = counts.legacy.map(|cells| {
        let g = grid_of(cells);
        LegacyGrid {
            url: legacy_url.unwrap_or_default().to_string(),
            cell: g.cell,
            width: g.width,
            height: g.height,
            cells: g.cells,
        }
    });
    Heatmap {
        page: q.page.label().to_string(),
        bucket: q.bucket.name(),
        from: q.from_ms,
        to: q.to_ms,
        clicks,
        elements,
        grid,
        scroll: q.parts.scroll.then_some(ScrollReach { pageviews: views.pageviews, reached: views.reached }),
        moves: counts.moves.map(|mut cells| {
            cells.sort_by_key(|c| (c.row, c.col));
            MoveMap { cell: q.cell, cells }
        }),
        legacy,
    }
}

/// The elements, most clicked first (then by selector), at most
/// [`MAX_ELEMENTS`], each with its bins.
fn elements(mut counted: Vec<ElementCount>, mut points: Vec<PointCount>) -> Vec<Element> {
    counted.sort_by(|a, b| b.clicks.cmp(&a.clicks).then_with(|| a.selector.cmp(&b.selector)));
    counted.truncate(MAX_ELEMENTS as usize);
    points.sort_by(|a, b| (&a.selector, a.row, a.col).cmp(&(&b.selector, b.row, b.col)));
    let centre = |bin: u32| (f64::from(bin.min(ELEMENT_BINS - 1)) + 0.5) / f64::from(ELEMENT_BINS);
    counted
        .into_iter()
        .map(|e| {
            let start = points.partition_point(|p| p.selector < e.selector);
            let points = points[start..]
                .iter()
                .take_while(|p| p.selector == e.selector)
                .map(|p| ElementPoint { rx: centre(p.col), ry: centre(p.row), count: p.count })
                .collect();
            Element { selector: e.selector, clicks: e.clicks, rage: e.rage, dead: e.dead, points }
        })
        .collect()
}

/// Cell or bin index of a value the database returned (never negative: the
/// queries skip what is left of or above the page).
pub(crate) fn index(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(col: u32, row: u32, count: u64) -> HeatCell {
        HeatCell { col, row, count }
    }

    #[test]
    fn the_grid_grows_to_cover_clicks_beyond_the_recorded_document() {
        let q = HeatmapQuery::page(1, "/");
        let counts = HeatCounts {
            clicks: Some(ClickCounts {
                total: 9,
                grid: vec![cell(3, 250, 2), cell(0, 0, 5)],
                ..ClickCounts::default()
            }),
            views: Some(ViewCounts { width: 1280, height: 900, ..ViewCounts::default() }),
            ..HeatCounts::default()
        };
        let h = assemble(&q, counts, None);
        let grid = h.grid.expect("grid");
        assert_eq!((grid.width, grid.height), (1280, 2510));
        assert_eq!(grid.cells[0], cell(0, 0, 5), "sorted by row, then column");
        assert_eq!(h.clicks, Some(9));
        assert!(h.legacy.is_none());
    }

    #[test]
    fn elements_come_most_clicked_first_with_their_bins_as_centres() {
        let q = HeatmapQuery::page(1, "/");
        let point =
            |selector: &str, col, row, count| PointCount { selector: selector.into(), col, row, count };
        let element =
            |selector: &str, clicks| ElementCount { selector: selector.into(), clicks, rage: 1, dead: 0 };
        let counts = HeatCounts {
            clicks: Some(ClickCounts {
                total: 10,
                elements: vec![element("#b", 3), element("#a", 3), element("#c", 4)],
                points: vec![
                    point("#a", 10, 9, 2),
                    point("#a", 0, 0, 1),
                    point("#c", 19, 19, 4),
                    point("#b", 1, 2, 3),
                ],
                grid: vec![],
            }),
            ..HeatCounts::default()
        };
        let h = assemble(&q, counts, None);
        let e = h.elements.expect("elements");
        assert_eq!(e.iter().map(|e| e.selector.as_str()).collect::<Vec<_>>(), ["#c", "#a", "#b"]);
        assert_eq!(
            e[1].points,
            [
                ElementPoint { rx: 0.025, ry: 0.025, count: 1 },
                ElementPoint { rx: 0.525, ry: 0.475, count: 2 }
            ]
        );
        assert_eq!(e[0].points, [ElementPoint { rx: 0.975, ry: 0.975, count: 4 }]);
        assert!(h.scroll.is_some() && h.moves.is_none(), "scroll asked, moves not counted");
    }

    #[test]
    fn the_first_version_gets_its_fields_at_the_top() {
        let mut q = HeatmapQuery::page(1, "/p");
        q.legacy_grid = true;
        q.parts = Parts { clicks: false, moves: false, scroll: false };
        let counts = HeatCounts { legacy: Some(vec![cell(1, 1, 2)]), ..HeatCounts::default() };
        let json = serde_json::to_value(assemble(&q, counts, Some("https://s.example/p"))).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"page": "/p", "bucket": "desktop", "from": 0, "to": i64::MAX,
                "url": "https://s.example/p", "cell": 10, "width": 20, "height": 20,
                "cells": [{"col": 1, "row": 1, "count": 2}]})
        );
    }
}
