//! What a store counts for `/api/stats` over one [`Window`], from its `traffic`
//! rows (see [`super::traffic`]); [`crate::stats`] turns it into the answer.
//! Each backend has its SQL in its own `stats.rs`.

use crate::stats::range::{Offsets, Window};
use crate::stats::{Devices, Funnel, Money, PageRow, ProductRow, SourceRow};

/// How many rows the top lists (pages, sources, products) keep.
pub const TOP: u32 = 10;

/// The source of a session whose first page view had no foreign referrer.
pub const DIRECT: &str = "direct";

/// Viewport widths from which a session counts as a tablet, then a desktop.
pub const TABLET_MIN_WIDTH: u32 = 768;
pub const DESKTOP_MIN_WIDTH: u32 = 1024;

/// One site over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsQuery {
    pub site_id: u32,
    pub window: Window,
}

impl StatsQuery {
    pub fn start(&self) -> i64 {
        self.window.start_ms
    }

    pub fn end(&self) -> i64 {
        self.window.end_ms
    }

    pub fn offsets(&self) -> &Offsets {
        &self.window.offsets
    }
}

/// The headline figures and the funnel of a window.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    pub visitors: u64,
    pub sessions: u64,
    /// Sessions with exactly one page view.
    pub bounced: u64,
    pub pageviews: u64,
    pub funnel: Funnel,
    pub orders: u64,
    /// By currency.
    pub revenue: Vec<Money>,
}

/// One local day's figures; days without any are absent.
#[derive(Debug, Clone, PartialEq)]
pub struct DayCount {
    /// Days since 1970-01-01 in the query's zone.
    pub day: i64,
    pub visitors: u64,
    pub pageviews: u64,
    /// Orders whose first completed checkout in the window fell on this day.
    pub orders: u64,
}

/// The breakdowns of a window: days, and the top lists already sorted and cut
/// to [`TOP`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Breakdown {
    pub days: Vec<DayCount>,
    pub pages: Vec<PageRow>,
    pub sources: Vec<SourceRow>,
    pub devices: Devices,
    pub products: Vec<ProductRow>,
}

/// `CASE` over the window's offsets: the UTC offset in milliseconds at `col`,
/// in SQL both SQLite and ClickHouse read.
pub fn offset_sql(col: &str, offsets: &Offsets) -> String {
    if offsets.changes.is_empty() {
        return offsets.first.to_string();
    }
    let mut sql = format!("CASE WHEN {col} < {} THEN {}", offsets.changes[0].0, offsets.first);
    for pair in offsets.changes.windows(2) {
        sql.push_str(&format!(" WHEN {col} < {} THEN {}", pair[1].0, pair[0].1));
    }
    let last = offsets.changes.last().map_or(offsets.first, |(_, o)| *o);
    sql.push_str(&format!(" ELSE {last} END"));
    sql
}

/// A count from SQL (never negative) as `u64`.
pub fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_case_follows_the_changes() {
        let plain = Offsets { first: 3_600_000, changes: vec![] };
        assert_eq!(offset_sql("time", &plain), "3600000");
        let two = Offsets { first: 0, changes: vec![(100, 60), (200, 120)] };
        assert_eq!(offset_sql("t", &two), "CASE WHEN t < 100 THEN 0 WHEN t < 200 THEN 60 ELSE 120 END");
        let one = Offsets { first: 7, changes: vec![(100, 8)] };
        assert_eq!(offset_sql("t", &one), "CASE WHEN t < 100 THEN 7 ELSE 8 END");
    }
}
