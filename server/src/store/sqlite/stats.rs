//! The dashboard's queries in SQLite, over `traffic` (a `WITHOUT ROWID` table
//! clustered on `(site_id, time, event_id)`, so a window is one range read of
//! narrow rows). Replays are already gone: the key makes `INSERT OR IGNORE`
//! drop them, so plain counts are exact.

use protocol::Kind;
use rusqlite::{params, Connection};

use crate::stats::{Devices, Funnel, Money, PageRow, ProductRow, SourceRow};
use crate::store::stats::{
    count, offset_sql, Breakdown, Counts, DayCount, StatsQuery, DESKTOP_MIN_WIDTH, DIRECT, TABLET_MIN_WIDTH,
    TOP,
};
use crate::store::traffic::Backfill;
use crate::store::StoreError;

/// The table, created with the events schema.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS traffic (
    site_id INTEGER NOT NULL,
    time INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    visitor_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    viewport_width INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    product_name TEXT NOT NULL,
    order_id TEXT NOT NULL,
    total REAL NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (site_id, time, event_id)
) WITHOUT ROWID;
";

pub const INSERT: &str =
    "INSERT OR IGNORE INTO traffic (site_id, time, event_id, kind, visitor_id, session_id,
    path, source, viewport_width, product_id, product_name, order_id, total, currency)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

/// Creates `traffic`; when it is new in a database that holds events (one
/// from before the dashboard), fills it from their JSON, in one transaction.
pub fn create(conn: &mut Connection) -> Result<(), StoreError> {
    let existed: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'traffic'",
        [],
        |r| r.get(0),
    )?;
    conn.execute_batch(SCHEMA)?;
    if existed {
        return Ok(());
    }
    let tx = conn.transaction()?;
    let mut filled = 0u64;
    {
        let mut insert = tx.prepare(INSERT)?;
        let mut read = tx.prepare(
            "SELECT site_id, time, event_id, visitor_id, session_id, order_id, json FROM events ORDER BY event_id",
        )?;
        let mut rows = read.query([])?;
        let mut backfill = Backfill::default();
        while let Some(r) = rows.next()? {
            let event_id: String = r.get(2)?;
            let json: String = r.get(6)?;
            let Some(t) = backfill.row(&event_id, &json) else { continue };
            insert.execute(params![
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                event_id,
                t.kind,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                t.path,
                t.source,
                t.viewport_width,
                t.product_id,
                t.product_name,
                r.get::<_, String>(5)?,
                t.total,
                t.currency,
            ])?;
            filled += 1;
        }
    }
    tx.commit()?;
    if filled > 0 {
        tracing::info!(rows = filled, "filled the dashboard's table from the events stored before it");
    }
    Ok(())
}

/// The tags the queries filter on, as SQL literals.
struct Tags {
    pv: &'static str,
    prv: &'static str,
    add: &'static str,
    chk: &'static str,
}

const TAGS: Tags = Tags {
    pv: Kind::PageView.as_str(),
    prv: Kind::ProductViewed.as_str(),
    add: Kind::AddedToCart.as_str(),
    chk: Kind::CheckoutCompleted.as_str(),
};

/// `site_id = ?1 AND time >= ?2 AND time < ?3`: every query's window.
const IN_WINDOW: &str = "site_id = ?1 AND time >= ?2 AND time < ?3";

fn query_one<T>(
    conn: &Connection,
    sql: &str,
    q: &StatsQuery,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    Ok(conn.query_row(sql, params![q.site_id, q.start(), q.end()], f)?)
}

fn query_all<T>(
    conn: &Connection,
    sql: &str,
    q: &StatsQuery,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![q.site_id, q.start(), q.end()], f)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn n(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(count(row.get::<_, Option<i64>>(i)?.unwrap_or(0)))
}

/// Completed checkouts in the window, one row per order id.
fn orders_sql() -> String {
    format!(
        "SELECT order_id, MIN(time) AS time, MIN(currency) AS currency, MIN(total) AS total FROM traffic
         WHERE {IN_WINDOW} AND kind = '{chk}' AND order_id <> '' GROUP BY order_id",
        chk = TAGS.chk
    )
}

pub fn counts(conn: &Connection, q: &StatsQuery) -> Result<Counts, StoreError> {
    let Tags { pv, prv, add, chk } = TAGS;
    let visitors = query_one(
        conn,
        &format!("SELECT COUNT(DISTINCT visitor_id), SUM(kind = '{pv}') FROM traffic WHERE {IN_WINDOW}"),
        q,
        |r| Ok((n(r, 0)?, n(r, 1)?)),
    )?;
    let (sessions, bounced) = query_one(
        conn,
        &format!(
            "SELECT COUNT(*), SUM(views = 1) FROM (SELECT COUNT(*) AS views FROM traffic
             WHERE {IN_WINDOW} AND kind = '{pv}' AND session_id <> '' GROUP BY session_id)"
        ),
        q,
        |r| Ok((n(r, 0)?, n(r, 1)?)),
    )?;
    let funnel = query_one(
        conn,
        &format!(
            "SELECT SUM(p), SUM(p AND a), SUM(p AND a AND c) FROM (
               SELECT MAX(kind = '{prv}') AS p, MAX(kind = '{add}') AS a, MAX(kind = '{chk}') AS c FROM traffic
               WHERE {IN_WINDOW} AND kind IN ('{prv}', '{add}', '{chk}') GROUP BY visitor_id)"
        ),
        q,
        |r| Ok(Funnel { product_viewed: n(r, 0)?, added_to_cart: n(r, 1)?, checkout_completed: n(r, 2)? }),
    )?;
    let by_currency = query_all(
        conn,
        &format!(
            "SELECT currency, COUNT(*), SUM(total) FROM ({}) GROUP BY currency ORDER BY currency",
            orders_sql()
        ),
        q,
        |r| Ok((r.get::<_, String>(0)?, n(r, 1)?, r.get::<_, f64>(2)?)),
    )?;
    Ok(Counts {
        visitors: visitors.0,
        pageviews: visitors.1,
        sessions,
        bounced,
        funnel,
        orders: by_currency.iter().map(|(_, orders, _)| orders).sum(),
        revenue: by_currency.into_iter().map(|(currency, _, amount)| Money { currency, amount }).collect(),
    })
}

pub fn breakdown(conn: &Connection, q: &StatsQuery) -> Result<Breakdown, StoreError> {
    let Tags { pv, prv, add, .. } = TAGS;
    let day = |col: &str| format!("(({col} + {}) / 86400000)", offset_sql(col, q.offsets()));
    let mut days = query_all(
        conn,
        &format!(
            "SELECT {} AS day, COUNT(DISTINCT visitor_id), SUM(kind = '{pv}') FROM traffic
             WHERE {IN_WINDOW} GROUP BY day ORDER BY day",
            day("time")
        ),
        q,
        |r| Ok(DayCount { day: r.get(0)?, visitors: n(r, 1)?, pageviews: n(r, 2)?, orders: 0 }),
    )?;
    let orders = query_all(
        conn,
        &format!("SELECT {} AS day, COUNT(*) FROM ({}) GROUP BY day", day("time"), orders_sql()),
        q,
        |r| Ok((r.get::<_, i64>(0)?, n(r, 1)?)),
    )?;
    for (d, orders) in orders {
        match days.iter_mut().find(|c| c.day == d) {
            Some(c) => c.orders = orders,
            None => days.push(DayCount { day: d, visitors: 0, pageviews: 0, orders }),
        }
    }
    let pages = query_all(
        conn,
        &format!(
            "SELECT path, COUNT(*) AS views, COUNT(DISTINCT visitor_id) FROM traffic
             WHERE {IN_WINDOW} AND kind = '{pv}' GROUP BY path ORDER BY views DESC, path LIMIT {TOP}"
        ),
        q,
        |r| Ok(PageRow { path: r.get(0)?, pageviews: n(r, 1)?, visitors: n(r, 2)? }),
    )?;
    // A session's first page view: SQLite takes the bare columns of an
    // aggregate query from the row that holds the MIN.
    let first_views = format!(
        "SELECT source, viewport_width, MIN(time) FROM traffic
         WHERE {IN_WINDOW} AND kind = '{pv}' AND session_id <> '' GROUP BY session_id"
    );
    let sources = query_all(
        conn,
        &format!(
            "SELECT CASE WHEN source = '' THEN '{DIRECT}' ELSE source END AS s, COUNT(*) AS sessions
             FROM ({first_views}) GROUP BY s ORDER BY sessions DESC, s LIMIT {TOP}"
        ),
        q,
        |r| Ok(SourceRow { source: r.get(0)?, sessions: n(r, 1)? }),
    )?;
    let devices = query_one(
        conn,
        &format!(
            "SELECT SUM(viewport_width < {TABLET_MIN_WIDTH}),
                    SUM(viewport_width >= {TABLET_MIN_WIDTH} AND viewport_width < {DESKTOP_MIN_WIDTH}),
                    SUM(viewport_width >= {DESKTOP_MIN_WIDTH}) FROM ({first_views})"
        ),
        q,
        |r| Ok(Devices { mobile: n(r, 0)?, tablet: n(r, 1)?, desktop: n(r, 2)? }),
    )?;
    // The product's latest name: the bare column of the MAX(time) row.
    let products = query_all(
        conn,
        &format!(
            "SELECT product_id, product_name, MAX(time), SUM(kind = '{prv}') AS views, SUM(kind = '{add}')
             FROM traffic WHERE {IN_WINDOW} AND kind IN ('{prv}', '{add}') AND product_id <> ''
             GROUP BY product_id ORDER BY views DESC, product_id LIMIT {TOP}"
        ),
        q,
        |r| {
            Ok(ProductRow {
                product_id: r.get(0)?,
                name: r.get(1)?,
                views: n(r, 3)?,
                added_to_cart: n(r, 4)?,
            })
        },
    )?;
    Ok(Breakdown { days, pages, sources, devices, products })
}

/// The distinct order ids of completed checkouts in the window.
pub fn order_ids(conn: &Connection, q: &StatsQuery) -> Result<Vec<String>, StoreError> {
    query_all(
        conn,
        &format!(
            "SELECT DISTINCT order_id FROM traffic WHERE {IN_WINDOW} AND kind = '{}' AND order_id <> ''",
            TAGS.chk
        ),
        q,
        |r| r.get(0),
    )
}
