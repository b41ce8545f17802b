//! The heatmap queries in SQLite, over the tables of [`super::heat_rows`]. Every
//! query's filter is a prefix of the tables' key (site, bucket, group, and for
//! one path the path and the time range), so it reads one range. Replays were
//! dropped at insert, so plain counts are exact.
//!
//! `GROUP BY` sorts its rows, and that sort is most of the time (about a
//! microsecond a row; reading the rows takes a fifth of it): the elements and
//! their bins come from one grouping of the clicks, with the top selectors
//! picked from its result, and the parts of one heatmap run at once, each on
//! a connection of its own (see [`Part`]).

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use crate::store::heatmap::{
    index, ClickCounts, ElementCount, HeatCell, HeatCounts, HeatPages, HeatmapQuery, PageClicks, PageGroup,
    PointCount, ViewCounts, BIN_MASK, MAX_ELEMENTS, MAX_PAGES, SCROLL_STEPS,
};
use crate::store::stats::count as sql_count;
use crate::store::StoreError;

use super::heat_rows::PACK;

/// The query's page, bucket and range as a WHERE clause over columns of
/// `alias` (`""` or `"m."`), and its arguments in order.
fn filter(q: &HeatmapQuery, alias: &str) -> (String, Vec<Value>) {
    let mut sql = format!("{alias}site_id = ? AND {alias}bucket = ? AND {alias}grp = ?");
    let mut args = vec![
        Value::Integer(q.site_id.into()),
        Value::Integer(q.bucket.code().into()),
        Value::Integer(q.page.group_code().into()),
    ];
    if let Some(path) = q.page.path() {
        sql.push_str(&format!(" AND {alias}path = ?"));
        args.push(Value::Text(path.to_string()));
    }
    sql.push_str(&format!(" AND {alias}time >= ? AND {alias}time < ?"));
    args.extend([Value::Integer(q.start_i64()), Value::Integer(q.end_i64())]);
    (sql, args)
}

fn all<T>(
    conn: &Connection,
    sql: &str,
    args: &[Value],
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(args), f)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn n(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(sql_count(row.get::<_, Option<i64>>(i)?.unwrap_or(0)))
}

fn cells(conn: &Connection, sql: &str, args: &[Value]) -> Result<Vec<HeatCell>, StoreError> {
    all(conn, sql, args, |r| Ok(HeatCell { col: index(r.get(0)?), row: index(r.get(1)?), count: n(r, 2)? }))
}

/// Cells of clicks in page coordinates; `relative` adds a condition on the
/// relative position.
fn click_cells(conn: &Connection, q: &HeatmapQuery, relative: &str) -> Result<Vec<HeatCell>, StoreError> {
    let (f, args) = filter(q, "");
    let c = q.cell;
    let sql = format!(
        "SELECT x / {c} AS col, y / {c} AS row, COUNT(*) FROM heat_clicks
         WHERE {f}{relative} AND x >= 0 AND y >= 0 GROUP BY col, row"
    );
    cells(conn, &sql, &args)
}

/// Every click of the page, and those without a relative position per cell.
fn grid(conn: &Connection, q: &HeatmapQuery) -> Result<(u64, Vec<HeatCell>), StoreError> {
    let (f, args) = filter(q, "");
    let total = conn.query_row(
        &format!("SELECT COUNT(*) FROM heat_clicks WHERE {f}"),
        params_from_iter(&args),
        |r| n(r, 0),
    )?;
    Ok((total, click_cells(conn, q, " AND bin IS NULL")?))
}

/// The most clicked selectors and their bins: one grouping of the clicks by
/// selector key and bin, as one number (`sel + bin`, see
/// [`crate::store::heatmap::selector_key`]), the top selectors picked from
/// its result.
fn elements(conn: &Connection, q: &HeatmapQuery) -> Result<(Vec<ElementCount>, Vec<PointCount>), StoreError> {
    let (f, args) = filter(q, "");
    // `selector` bare in an aggregate: any row's, all alike in the group.
    let sql = format!(
        "WITH bins AS (
           SELECT sel + bin AS k, selector, COUNT(*) AS n, SUM(rage) AS rg, SUM(dead) AS dd
           FROM heat_clicks WHERE {f} AND bin IS NOT NULL GROUP BY k),
         top AS (
           SELECT k - (k & {BIN_MASK}) AS sel, selector, SUM(n) AS clicks, SUM(rg) AS rage, SUM(dd) AS dead
           FROM bins GROUP BY sel ORDER BY clicks DESC, selector LIMIT {MAX_ELEMENTS})
         SELECT t.selector, t.clicks, t.rage, t.dead, b.k & {BIN_MASK}, b.n
         FROM top AS t JOIN bins AS b ON b.k - (b.k & {BIN_MASK}) = t.sel"
    );
    let rows = all(conn, &sql, &args, |r| {
        let element = ElementCount { selector: r.get(0)?, clicks: n(r, 1)?, rage: n(r, 2)?, dead: n(r, 3)? };
        Ok((element, r.get::<_, i64>(4)?, n(r, 5)?))
    })?;
    let mut elements: Vec<ElementCount> = Vec::new();
    let mut points = Vec::with_capacity(rows.len());
    for (element, bin, count) in rows {
        points.push(PointCount::of_bin(&element.selector, u16::try_from(bin).unwrap_or(0), count));
        if !elements.iter().any(|e| e.selector == element.selector) {
            elements.push(element);
        }
    }
    Ok((elements, points))
}

fn views(conn: &Connection, q: &HeatmapQuery) -> Result<ViewCounts, StoreError> {
    let (f, args) = filter(q, "");
    let reached: Vec<String> = (1..=SCROLL_STEPS).map(|i| format!("SUM(d >= {})", i * 10)).collect();
    let sql = format!(
        "SELECT COUNT(*), MAX(w), MAX(h), {} FROM (
           SELECT MAX(depth) AS d, MAX(doc_width) AS w, MAX(doc_height) AS h FROM heat_views
           WHERE {f} GROUP BY page_view_id)",
        reached.join(", ")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let counts = stmt.query_row(params_from_iter(&args), |r| {
        let size = |i| -> rusqlite::Result<u32> { Ok(u32::try_from(n(r, i)?).unwrap_or(u32::MAX)) };
        let mut reached = [0; SCROLL_STEPS];
        for (i, slot) in reached.iter_mut().enumerate() {
            *slot = n(r, 3 + i)?;
        }
        Ok(ViewCounts { pageviews: n(r, 0)?, reached, width: size(1)?, height: size(2)? })
    })?;
    Ok(counts)
}

fn moves(conn: &Connection, q: &HeatmapQuery) -> Result<Vec<HeatCell>, StoreError> {
    let (f, args) = filter(q, "m.");
    let c = q.cell;
    let sql = format!(
        "SELECT (p.value % {PACK}) / {c} AS col, (p.value / {PACK}) / {c} AS row, COUNT(*)
         FROM heat_moves AS m, json_each(m.points) AS p WHERE {f} GROUP BY col, row"
    );
    cells(conn, &sql, &args)
}

/// The statements of one heatmap, each run on its own connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Elements,
    Grid,
    Views,
    Moves,
    Legacy,
}

/// What a [`Part`] counted.
#[derive(Debug)]
pub enum Counted {
    Elements(Vec<ElementCount>, Vec<PointCount>),
    Grid(u64, Vec<HeatCell>),
    Views(ViewCounts),
    Moves(Vec<HeatCell>),
    Legacy(Vec<HeatCell>),
}

/// The parts a query needs.
pub fn parts(q: &HeatmapQuery) -> Vec<Part> {
    [
        (q.parts.clicks, Part::Elements),
        (q.parts.clicks, Part::Grid),
        (q.reads_views(), Part::Views),
        (q.parts.moves, Part::Moves),
        (q.legacy_grid, Part::Legacy),
    ]
    .into_iter()
    .filter_map(|(asked, part)| asked.then_some(part))
    .collect()
}

pub fn count(conn: &Connection, q: &HeatmapQuery, part: Part) -> Result<Counted, StoreError> {
    Ok(match part {
        Part::Elements => {
            let (elements, points) = elements(conn, q)?;
            Counted::Elements(elements, points)
        }
        Part::Grid => {
            let (total, cells) = grid(conn, q)?;
            Counted::Grid(total, cells)
        }
        Part::Views => Counted::Views(views(conn, q)?),
        Part::Moves => Counted::Moves(moves(conn, q)?),
        Part::Legacy => Counted::Legacy(click_cells(conn, q, "")?),
    })
}

/// The parts' counts as one answer.
pub fn combine(counted: Vec<Counted>) -> HeatCounts {
    let mut out = HeatCounts::default();
    for c in counted {
        match c {
            Counted::Elements(elements, points) => {
                let clicks = out.clicks.get_or_insert_with(ClickCounts::default);
                (clicks.elements, clicks.points) = (elements, points);
            }
            Counted::Grid(total, cells) => {
                let clicks = out.clicks.get_or_insert_with(ClickCounts::default);
                (clicks.total, clicks.grid) = (total, cells);
            }
            Counted::Views(v) => out.views = Some(v),
            Counted::Moves(m) => out.moves = Some(m),
            Counted::Legacy(l) => out.legacy = Some(l),
        }
    }
    out
}

/// A site's pages with clicks or scrolled page views: the page views count
/// too, so a page nobody clicked on still offers its scroll depth.
pub const PAGES: &str = "SELECT path, SUM(c) AS n, SUM(v) AS views FROM (
      SELECT path, COUNT(*) AS c, 0 AS v FROM heat_clicks WHERE site_id = ?1 GROUP BY path
      UNION ALL
      SELECT path, 0, COUNT(DISTINCT page_view_id) FROM heat_views WHERE site_id = ?1 GROUP BY path)
    GROUP BY path ORDER BY n DESC, views DESC, path LIMIT ?2";
pub const GROUPS: &str = "SELECT grp, SUM(c) AS n, SUM(v) AS views FROM (
      SELECT grp, COUNT(*) AS c, 0 AS v FROM heat_clicks WHERE site_id = ?1 AND grp <> 0 GROUP BY grp
      UNION ALL
      SELECT grp, 0, COUNT(DISTINCT page_view_id) FROM heat_views WHERE site_id = ?1 AND grp <> 0 GROUP BY grp)
    GROUP BY grp ORDER BY n DESC, views DESC, grp";

pub fn pages(conn: &Connection, site_id: u32) -> Result<HeatPages, StoreError> {
    let site = [Value::Integer(site_id.into())];
    let pages = all(conn, PAGES, &[site[0].clone(), Value::Integer(MAX_PAGES.into())], |r| {
        Ok(PageClicks { page: r.get(0)?, clicks: n(r, 1)?, views: n(r, 2)? })
    })?;
    let groups = all(conn, GROUPS, &site, |r| Ok((r.get::<_, i64>(0)?, n(r, 1)?, n(r, 2)?)))?
        .into_iter()
        .filter_map(|(code, clicks, views)| {
            let group = PageGroup::from_code(u8::try_from(code).ok()?)?;
            Some(PageClicks { page: group.pattern().to_string(), clicks, views })
        })
        .collect();
    Ok(HeatPages { pages, groups })
}
