//! The heatmap queries in ClickHouse (18.16 and current), over the tables of
//! [`super::heat_rows`]: every filter is a range of their sorting key (site,
//! bucket, group, and for one path the path and the time range). Replays not
//! merged away yet are rows with the same event: clicks are counted as
//! `uniqExact(event)`, each batch's move points are taken once (`LIMIT 1 BY
//! event`), and a page view's depth and size are maxima, which replays do
//! not change; so none counts twice without `FINAL`. The queries of one call
//! run at once: ClickHouse spreads them over its threads.

use ::clickhouse::query::Query;
use ::clickhouse::{Client, Row};
use serde::Deserialize;

use crate::store::heatmap::{
    ClickCounts, ElementCount, HeatCell, HeatCounts, HeatPages, HeatmapQuery, PageClicks, PageGroup,
    PointCount, ViewCounts, BIN_THOUSANDTHS, ELEMENT_BINS, MAX_ELEMENTS, MAX_PAGES, SCROLL_STEPS,
};
use crate::store::StoreError;

#[derive(Debug, Row, Deserialize)]
struct CellIn {
    col: u32,
    row: u32,
    n: u64,
}

#[derive(Debug, Row, Deserialize)]
struct ElementIn {
    selector: String,
    clicks: u64,
    rage: u64,
    dead: u64,
}

#[derive(Debug, Row, Deserialize)]
struct PointIn {
    selector: String,
    col: u32,
    row: u32,
    n: u64,
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
}

#[derive(Debug, Row, Deserialize)]
struct GroupIn {
    grp: u8,
    n: u64,
}

/// The query's page, bucket and range as a WHERE clause; [`bound`] binds it.
fn filter(q: &HeatmapQuery) -> &'static str {
    match q.page.path() {
        Some(_) => "site_id = ? AND bucket = ? AND grp = ? AND path = ? AND time >= ? AND time < ?",
        None => "site_id = ? AND bucket = ? AND grp = ? AND time >= ? AND time < ?",
    }
}

/// Binds the arguments of `times` copies of [`filter`], in order.
fn bound(client: &Client, sql: &str, q: &HeatmapQuery, times: usize) -> Query {
    let mut query = client.query(sql);
    for _ in 0..times {
        query = query.bind(q.site_id).bind(q.bucket.code()).bind(q.page.group_code());
        if let Some(path) = q.page.path() {
            query = query.bind(path);
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
        "SELECT toUInt32(intDiv(x, {c})) AS col, toUInt32(intDiv(y, {c})) AS row, uniqExact(event) AS n
         FROM heat_clicks WHERE {}{relative} AND x >= 0 AND y >= 0 GROUP BY col, row",
        filter(q)
    );
    Ok(cells(bound(client, &sql, q, 1).fetch_all().await?))
}

async fn clicks(client: &Client, q: &HeatmapQuery) -> Result<ClickCounts, StoreError> {
    let f = filter(q);
    let total = format!("SELECT uniqExact(event) FROM heat_clicks WHERE {f}");
    let top = format!(
        "SELECT selector FROM heat_clicks WHERE {f} AND rx >= 0
         GROUP BY selector ORDER BY uniqExact(event) DESC, selector LIMIT {MAX_ELEMENTS}"
    );
    let elements = format!(
        "SELECT selector, uniqExact(event) AS clicks, uniqExactIf(event, rage = 1) AS rage,
                uniqExactIf(event, dead = 1) AS dead
         FROM heat_clicks WHERE {f} AND rx >= 0 GROUP BY selector ORDER BY clicks DESC, selector LIMIT {MAX_ELEMENTS}"
    );
    let last = ELEMENT_BINS - 1;
    let points = format!(
        "SELECT selector, toUInt32(least(intDiv(rx, {BIN_THOUSANDTHS}), {last})) AS col,
                toUInt32(least(intDiv(ry, {BIN_THOUSANDTHS}), {last})) AS row, uniqExact(event) AS n
         FROM heat_clicks WHERE {f} AND rx >= 0 AND selector IN ({top}) GROUP BY selector, col, row"
    );
    let (total, elements, points, grid) = tokio::try_join!(
        async { Ok::<u64, StoreError>(bound(client, &total, q, 1).fetch_one().await?) },
        async { Ok::<Vec<ElementIn>, StoreError>(bound(client, &elements, q, 1).fetch_all().await?) },
        async { Ok::<Vec<PointIn>, StoreError>(bound(client, &points, q, 2).fetch_all().await?) },
        click_cells(client, q, " AND rx < 0"),
    )?;
    Ok(ClickCounts {
        total,
        elements: elements
            .into_iter()
            .map(|e| ElementCount { selector: e.selector, clicks: e.clicks, rage: e.rage, dead: e.dead })
            .collect(),
        points: points
            .into_iter()
            .map(|p| PointCount { selector: p.selector, col: p.col, row: p.row, count: p.n })
            .collect(),
        grid,
    })
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
         FROM (SELECT xs, ys FROM heat_moves WHERE {} LIMIT 1 BY event)
         ARRAY JOIN xs AS x, ys AS y GROUP BY col, row",
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
                    "SELECT path, uniqExact(event) AS n FROM heat_clicks WHERE site_id = ?
                     GROUP BY path ORDER BY n DESC, path LIMIT ?",
                )
                .bind(site_id)
                .bind(MAX_PAGES)
                .fetch_all()
                .await?;
            Ok::<_, StoreError>(rows)
        },
        async {
            let rows: Vec<GroupIn> = client
                .query(
                    "SELECT grp, uniqExact(event) AS n FROM heat_clicks WHERE site_id = ? AND grp != 0
                     GROUP BY grp ORDER BY n DESC, grp",
                )
                .bind(site_id)
                .fetch_all()
                .await?;
            Ok::<_, StoreError>(rows)
        },
    )?;
    Ok(HeatPages {
        pages: pages.into_iter().map(|p| PageClicks { page: p.path, clicks: p.n }).collect(),
        groups: groups
            .into_iter()
            .filter_map(|g| {
                Some(PageClicks { page: PageGroup::from_code(g.grp)?.pattern().to_string(), clicks: g.n })
            })
            .collect(),
    })
}
