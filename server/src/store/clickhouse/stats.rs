//! The dashboard's queries in ClickHouse, over `traffic` (sorted by
//! `(site_id, time, event)`, so a window is read by its primary key).
//! Replays not merged away yet are rows with the same event id: every count
//! of events is `uniqExact(event)`, every per-order or per-session figure
//! takes one value of its group, so none counts twice without `FINAL`.
//! The queries of one call run at once: ClickHouse spreads them over its
//! threads.

use ::clickhouse::query::Query;
use ::clickhouse::{Client, Row};
use protocol::Kind;
use serde::Deserialize;

use crate::stats::{Devices, Funnel, Money, PageRow, ProductRow, SourceRow};
use crate::store::stats::{
    offset_sql, Breakdown, Counts, DayCount, StatsQuery, DESKTOP_MIN_WIDTH, DIRECT, TABLET_MIN_WIDTH, TOP,
};
use crate::store::StoreError;

const PV: &str = Kind::PageView.as_str();
const PRV: &str = Kind::ProductViewed.as_str();
const ADD: &str = Kind::AddedToCart.as_str();
const CHK: &str = Kind::CheckoutCompleted.as_str();

/// Every query's window; bound by [`windowed`].
const IN_WINDOW: &str = "site_id = ? AND time >= ? AND time < ?";

fn windowed(client: &Client, sql: &str, q: &StatsQuery) -> Query {
    let ms = |v: i64| u64::try_from(v).unwrap_or(0);
    client.query(sql).bind(q.site_id).bind(ms(q.start())).bind(ms(q.end()))
}

/// Completed checkouts in the window, one row per order id.
fn orders_sql() -> String {
    format!(
        "SELECT order_id, min(time) AS first, min(currency) AS cur, min(total) AS amount FROM traffic
         WHERE {IN_WINDOW} AND kind = '{CHK}' AND order_id != '' GROUP BY order_id"
    )
}

/// The local day number of `col` (milliseconds) in the query's zone.
fn day_sql(col: &str, q: &StatsQuery) -> String {
    format!("toInt64(intDiv(toInt64({col}) + ({}), 86400000))", offset_sql(col, q.offsets()))
}

#[derive(Debug, Row, Deserialize)]
struct Three {
    a: u64,
    b: u64,
    c: u64,
}

#[derive(Debug, Row, Deserialize)]
struct Revenue {
    currency: String,
    orders: u64,
    amount: f64,
}

#[derive(Debug, Row, Deserialize)]
struct DayIn {
    day: i64,
    visitors: u64,
    pageviews: u64,
}

#[derive(Debug, Row, Deserialize)]
struct DayOrders {
    day: i64,
    orders: u64,
}

#[derive(Debug, Row, Deserialize)]
struct PageIn {
    path: String,
    pageviews: u64,
    visitors: u64,
}

#[derive(Debug, Row, Deserialize)]
struct SourceIn {
    source: String,
    sessions: u64,
    mobile: u64,
    tablet: u64,
    desktop: u64,
}

#[derive(Debug, Row, Deserialize)]
struct ProductIn {
    product_id: String,
    name: String,
    views: u64,
    added: u64,
}

pub async fn counts(client: &Client, q: &StatsQuery) -> Result<Counts, StoreError> {
    let visitors = format!("SELECT uniqExact(visitor) FROM traffic WHERE {IN_WINDOW}");
    // Page views per session, sessionless ones (session 0) as one group: the
    // sessions, the one-page ones and, summed, every page view, in one pass
    // over the page views alone.
    let sessions = format!(
        "SELECT countIf(session != 0), countIf(session != 0 AND views = 1), sum(views) FROM (
           SELECT session, uniqExact(event) AS views FROM traffic
           WHERE {IN_WINDOW} AND kind = '{PV}' GROUP BY session)"
    );
    let funnel = format!(
        "SELECT countIf(p), countIf(p AND a), countIf(p AND a AND c) FROM (
           SELECT visitor, max(kind = '{PRV}') AS p, max(kind = '{ADD}') AS a, max(kind = '{CHK}') AS c
           FROM traffic WHERE {IN_WINDOW} AND kind IN ('{PRV}', '{ADD}', '{CHK}') GROUP BY visitor)"
    );
    let revenue =
        format!("SELECT cur, count(), sum(amount) FROM ({}) GROUP BY cur ORDER BY cur", orders_sql());
    let (visitors, sessions, funnel, revenue) = tokio::try_join!(
        windowed(client, &visitors, q).fetch_one::<u64>(),
        windowed(client, &sessions, q).fetch_one::<Three>(),
        windowed(client, &funnel, q).fetch_one::<Three>(),
        windowed(client, &revenue, q).fetch_all::<Revenue>(),
    )?;
    Ok(Counts {
        visitors,
        sessions: sessions.a,
        bounced: sessions.b,
        pageviews: sessions.c,
        funnel: Funnel { product_viewed: funnel.a, added_to_cart: funnel.b, checkout_completed: funnel.c },
        orders: revenue.iter().map(|r| r.orders).sum(),
        revenue: revenue.into_iter().map(|r| Money { currency: r.currency, amount: r.amount }).collect(),
    })
}

pub async fn breakdown(client: &Client, q: &StatsQuery) -> Result<Breakdown, StoreError> {
    let days = format!(
        "SELECT {} AS day, uniqExact(visitor), uniqExactIf(event, kind = '{PV}') FROM traffic
         WHERE {IN_WINDOW} GROUP BY day ORDER BY day",
        day_sql("time", q)
    );
    let day_orders =
        format!("SELECT {} AS day, count() FROM ({}) GROUP BY day", day_sql("first", q), orders_sql());
    let pages = format!(
        "SELECT path, uniqExact(event) AS views, uniqExact(visitor) FROM traffic
         WHERE {IN_WINDOW} AND kind = '{PV}' GROUP BY path ORDER BY views DESC, path LIMIT {TOP}"
    );
    // Sources and devices from one pass over the sessions' first page views:
    // per source, its sessions by device.
    let first_views = format!(
        "SELECT if(src = '', '{DIRECT}', src) AS s, count(), countIf(vw < {TABLET_MIN_WIDTH}),
                countIf(vw >= {TABLET_MIN_WIDTH} AND vw < {DESKTOP_MIN_WIDTH}), countIf(vw >= {DESKTOP_MIN_WIDTH})
         FROM (SELECT session, argMin(source, time) AS src, argMin(viewport_width, time) AS vw FROM traffic
               WHERE {IN_WINDOW} AND kind = '{PV}' AND session != 0 GROUP BY session)
         GROUP BY s"
    );
    let products = format!(
        "SELECT product_id, argMax(product_name, time), uniqExactIf(event, kind = '{PRV}') AS views,
                uniqExactIf(event, kind = '{ADD}')
         FROM traffic WHERE {IN_WINDOW} AND kind IN ('{PRV}', '{ADD}') AND product_id != ''
         GROUP BY product_id ORDER BY views DESC, product_id LIMIT {TOP}"
    );
    let (days, day_orders, pages, first_views, products) = tokio::try_join!(
        windowed(client, &days, q).fetch_all::<DayIn>(),
        windowed(client, &day_orders, q).fetch_all::<DayOrders>(),
        windowed(client, &pages, q).fetch_all::<PageIn>(),
        windowed(client, &first_views, q).fetch_all::<SourceIn>(),
        windowed(client, &products, q).fetch_all::<ProductIn>(),
    )?;
    let mut devices = Devices::default();
    for s in &first_views {
        devices.mobile += s.mobile;
        devices.tablet += s.tablet;
        devices.desktop += s.desktop;
    }
    let mut sources: Vec<SourceRow> =
        first_views.into_iter().map(|s| SourceRow { source: s.source, sessions: s.sessions }).collect();
    sources.sort_by(|a, b| b.sessions.cmp(&a.sessions).then_with(|| a.source.cmp(&b.source)));
    sources.truncate(TOP as usize);
    let mut days: Vec<DayCount> = days
        .into_iter()
        .map(|d| DayCount { day: d.day, visitors: d.visitors, pageviews: d.pageviews, orders: 0 })
        .collect();
    for o in day_orders {
        match days.iter_mut().find(|c| c.day == o.day) {
            Some(c) => c.orders = o.orders,
            None => days.push(DayCount { day: o.day, visitors: 0, pageviews: 0, orders: o.orders }),
        }
    }
    Ok(Breakdown {
        days,
        pages: pages
            .into_iter()
            .map(|p| PageRow { path: p.path, pageviews: p.pageviews, visitors: p.visitors })
            .collect(),
        sources,
        devices,
        products: products
            .into_iter()
            .map(|p| ProductRow {
                product_id: p.product_id,
                name: p.name,
                views: p.views,
                added_to_cart: p.added,
            })
            .collect(),
    })
}

/// The distinct order ids of completed checkouts in the window.
pub async fn order_ids(client: &Client, q: &StatsQuery) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT DISTINCT order_id FROM traffic WHERE {IN_WINDOW} AND kind = '{CHK}' AND order_id != ''"
    );
    Ok(windowed(client, &sql, q).fetch_all::<String>().await?)
}
