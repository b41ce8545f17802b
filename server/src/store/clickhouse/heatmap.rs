//! The heatmap queries in ClickHouse (18.16 and current), over the tables of
//! [`super::heat_rows`]: every filter is a range of their sorting key (site,
//! bucket, group, and for one path the path and the time range). Replays not
//! merged away yet are rows with the same sorting key: clicks and moves are
//! read `FINAL`, which collapses them; a page view's depth and size are
//! maxima, which replays do not change, so views are read as stored.
//!
//! Measured on a million clicks of one template (18.16, 2 shared cores):
//! counting distinct events instead of `FINAL` took about half as long again
//! as `FINAL` (every group then holds a hash set); `FINAL` with the path's
//! text in the sorting key instead of its number, a quarter longer; grouping
//! by selector and bin as two columns instead of one number, a third longer;
//! reading the selectors' text through `FINAL`, twice as long, so their names
//! come from a query of their own, without `FINAL` (`any` is the same for a
//! replay). The elements and their bins come from one grouping by selector
//! and bin, regrouped by selector with the bins as arrays; every selector
//! comes back, and the most clicked are kept once their names are known.
//! The queries of one call run at once: ClickHouse spreads them over its
//! threads.

use std::collections::HashMap;

use ::clickhouse::query::Query;
use ::clickhouse::{Client, Row};
use serde::Deserialize;

use crate::store::heatmap::{
    path_key, ClickCounts, ElementCount, HeatCell, HeatCounts, HeatPages, HeatmapQuery, PageClicks,
    PageGroup, PointCount, ViewCounts, BINS, BIN_MASK, MAX_ELEMENTS, MAX_PAGES, SCROLL_STEPS,
};
use crate::store::StoreError;

use super::heat_rows::NO_BIN;

#[derive(Debug, Row, Deserialize)]
struct CellIn {
    col: u32,
    row: u32,
    n: u64,
}

#[derive(Debug, Row, Deserialize)]
struct ElementIn {
    sel: u64,
    clicks: u64,
    rage: u64,
    dead: u64,
    bins: Vec<u16>,
    counts: Vec<u64>,
}

#[derive(Debug, Row, Deserialize)]
struct NameIn {
    sel: u64,
    selector: String,
}

#[derive(Debug, Row, Deserialize)]
struct ViewsIn {
    pageviews: u64,
    width: u32,
    height: u32,
    reached: Vec<u64>,
}

#[derive(Debug, Row, Deserialize)]
struct PageIn {
    path: String,
    n: u64,
    views: u64,
}

#[derive(Debug, Row, Deserialize)]
struct GroupIn {
    grp: u8,
    n: u64,
    views: u64,
}

/// The query's page, bucket and range as a WHERE clause; [`bound`] binds it.
fn filter(q: &HeatmapQuery) -> &'static str {
    match q.page.path() {
        Some(_) => {
            "site_id = ? AND bucket = ? AND grp = ? AND page = ? AND path = ? AND time >= ? AND time < ?"
        }
        None => "site_id = ? AND bucket = ? AND grp = ? AND time >= ? AND time < ?",
    }
}

/// Binds the arguments of `times` copies of [`filter`], in order.
fn bound(client: &Client, sql: &str, q: &HeatmapQuery, times: usize) -> Query {
    let mut query = client.query(sql);
    for _ in 0..times {
        query = query.bind(q.site_id).bind(q.bucket.code()).bind(q.page.group_code());
        if let Some(path) = q.page.path() {
            query = query.bind(path_key(path)).bind(path);
        }
        query = query.bind(q.from_ms).bind(q.to_ms);
    }
    query
}

fn cells(rows: Vec<CellIn>) -> Vec<HeatCell> {
    rows.into_iter().map(|c| HeatCell { col: c.col, row: c.row, count: c.n }).collect()
}

/// Cells of clicks in page coordinates; `relative` adds a condition on the
/// relative position.
async fn click_cells(client: &Client, q: &HeatmapQuery, relative: &str) -> Result<Vec<HeatCell>, StoreError> {
    let c = q.cell;
    let sql = format!(
        "SELECT toUInt32(intDiv(x, {c})) AS col, toUInt32(intDiv(y, {c})) AS row, count() AS n
         FROM heat_clicks FINAL WHERE {}{relative} AND x >= 0 AND y >= 0 GROUP BY col, row",
        filter(q)
    );
    Ok(cells(bound(client, &sql, q, 1).fetch_all().await?))
}

async fn clicks(client: &Client, q: &HeatmapQuery) -> Result<ClickCounts, StoreError> {
    let f = filter(q);
    let total = format!("SELECT count() FROM heat_clicks FINAL WHERE {f}");
    let elements = format!(
        "SELECT k - bitAnd(k, {BIN_MASK}) AS sel, sum(n) AS clicks, sum(r) AS rage, sum(d) AS dead,
                groupArray(toUInt16(bitAnd(k, {BIN_MASK}))) AS bins, groupArray(n) AS counts
         FROM (SELECT sel + bin AS k, count() AS n, sum(rage) AS r, sum(dead) AS d
               FROM heat_clicks FINAL WHERE {f} AND bin < {BINS} GROUP BY k)
         GROUP BY sel"
    );
    let names = format!(
        "SELECT sel, any(selector) AS selector FROM heat_clicks WHERE {f} AND bin < {BINS} GROUP BY sel"
    );
    let without_bin = format!(" AND bin = {NO_BIN}");
    let (total, elements, names, grid) = tokio::try_join!(
        async { Ok::<u64, StoreError>(bound(client, &total, q, 1).fetch_one().await?) },
        async { Ok::<Vec<ElementIn>, StoreError>(bound(client, &elements, q, 1).fetch_all().await?) },
        async { Ok::<Vec<NameIn>, StoreError>(bound(client, &names, q, 1).fetch_all().await?) },
        click_cells(client, q, &without_bin),
    )?;
    // The most clicked selectors, by clicks then text, before their bins are
    // copied out.
    let names: HashMap<u64, String> = names.into_iter().map(|n| (n.sel, n.selector)).collect();
    let mut named: Vec<(&String, ElementIn)> =
        elements.into_iter().filter_map(|e| Some((names.get(&e.sel)?, e))).collect();
    named.sort_by(|(a, x), (b, y)| y.clicks.cmp(&x.clicks).then_with(|| a.cmp(b)));
    named.truncate(MAX_ELEMENTS as usize);
    let mut counts = ClickCounts { total, grid, ..ClickCounts::default() };
    for (selector, e) in named {
        for (bin, n) in e.bins.iter().zip(&e.counts) {
            counts.points.push(PointCount::of_bin(selector, *bin, *n));
        }
        counts.elements.push(ElementCount {
            selector: selector.clone(),
            clicks: e.clicks,
            rage: e.rage,
            dead: e.dead,
        });
    }
    Ok(counts)
}

async fn views(client: &Client, q: &HeatmapQuery) -> Result<ViewCounts, StoreError> {
    let reached: Vec<String> = (1..=SCROLL_STEPS).map(|i| format!("countIf(d >= {})", i * 10)).collect();
    let sql = format!(
        "SELECT count() AS pageviews, toUInt32(max(w)) AS width, toUInt32(max(h)) AS height, [{}] AS reached
         FROM (SELECT max(depth) AS d, max(doc_width) AS w, max(doc_height) AS h FROM heat_views
               WHERE {} GROUP BY page_view)",
        reached.join(", "),
        filter(q)
    );
    let v: ViewsIn = bound(client, &sql, q, 1).fetch_one().await?;
    let mut counts =
        ViewCounts { pageviews: v.pageviews, width: v.width, height: v.height, ..ViewCounts::default() };
    for (slot, n) in counts.reached.iter_mut().zip(v.reached) {
        *slot = n;
    }
    Ok(counts)
}

async fn moves(client: &Client, q: &HeatmapQuery) -> Result<Vec<HeatCell>, StoreError> {
    let c = q.cell;
    let sql = format!(
        "SELECT toUInt32(intDiv(x, {c})) AS col, toUInt32(intDiv(y, {c})) AS row, count() AS n
         FROM heat_moves FINAL ARRAY JOIN xs AS x, ys AS y WHERE {} GROUP BY col, row",
        filter(q)
    );
    Ok(cells(bound(client, &sql, q, 1).fetch_all().await?))
}

pub async fn heatmap(client: &Client, q: &HeatmapQuery) -> Result<HeatCounts, StoreError> {
    let (clicks, views, moves, legacy) = tokio::try_join!(
        async {
            if q.parts.clicks {
                clicks(client, q).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if q.reads_views() {
                views(client, q).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if q.parts.moves {
                moves(client, q).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if q.legacy_grid {
                click_cells(client, q, "").await.map(Some)
            } else {
                Ok(None)
            }
        },
    )?;
    Ok(HeatCounts { clicks, views, moves, legacy })
}

pub async fn pages(client: &Client, site_id: u32) -> Result<HeatPages, StoreError> {
    let (pages, groups) = tokio::try_join!(
        async {
            let rows: Vec<PageIn> = client
                .query(
                    "SELECT path, sum(c) AS n, sum(v) AS views FROM (
                       SELECT path, count() AS c, toUInt64(0) AS v FROM heat_clicks FINAL WHERE site_id = ?
                       GROUP BY path
                       UNION ALL
                       SELECT path, toUInt64(0) AS c, uniqExact(page_view) AS v FROM heat_views
                       WHERE site_id = ? GROUP BY path)
                     GROUP BY path ORDER BY n DESC, views DESC, path LIMIT ?",
                )
                .bind(site_id)
                .bind(site_id)
                .bind(MAX_PAGES)
                .fetch_all()
                .await?;
            Ok::<_, StoreError>(rows)
        },
        async {
            let rows: Vec<GroupIn> = client
                .query(
                    "SELECT grp, sum(c) AS n, sum(v) AS views FROM (
                       SELECT grp, count() AS c, toUInt64(0) AS v FROM heat_clicks FINAL
                       WHERE site_id = ? AND grp != 0 GROUP BY grp
                       UNION ALL
                       SELECT grp, toUInt64(0) AS c, uniqExact(page_view) AS v FROM heat_views
                       WHERE site_id = ? AND grp != 0 GROUP BY grp)
                     GROUP BY grp ORDER BY n DESC, views DESC, grp",
                )
                .bind(site_id)
                .bind(site_id)
                .fetch_all()
                .await?;
            Ok::<_, StoreError>(rows)
        },
    )?;
    Ok(HeatPages {
        pages: pages.into_iter().map(|p| PageClicks { page: p.path, clicks: p.n, views: p.views }).collect(),
        groups: groups
            .into_iter()
            .filter_map(|g| {
                let page = PageGroup::from_code(g.grp)?.pattern().to_string();
                Some(PageClicks { page, clicks: g.n, views: g.views })
            })
            .collect(),
    })
}
