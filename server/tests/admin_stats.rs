//! `/api/stats` on the real server over real SQLite and the real ClickHouse:
//! one fixed data set (`tests/fixtures/stats/batches.json`: replays, a reloaded
//! thank-you page, another site's events, events a millisecond outside the
//! range, a session past midnight in Paris that is still the day before in
//! UTC) is posted to `/collect`, and both stores give exactly the answer
//! computed by hand below from the definitions of the figures.

mod support;

use lummmen_server::projects::Project;
use lummmen_server::Config;
use serde_json::{json, Value};
use support::*;

fn batches() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("tests/fixtures/stats/batches.json")).expect("fixture");
    let fixture: Value = serde_json::from_str(&text).expect("json");
    fixture["batches"].as_array().expect("batches").clone()
}

/// Computed by hand from the fixture (Paris, 2 to 4 November 2026):
/// - visitors A, B, C, D (clicks at 00:05 on the 2nd, its page view the
///   evening before) and E; F is another site, G only just outside;
/// - page views: A 2, B 1 + 2, C 1, E 3; sessions A1, B1, B2, C1, E1, of
///   which B1 and C1 have one page view;
/// - funnel: product views by A, B, C, E; of those, adds by A, B, E; of
///   those, checkouts by A and E (C bought without an add);
/// - orders 1001 (its thank-you page seen twice), 1002 (USD), 1003 (replayed);
/// - first page views: A1 from google (767 px, mobile), B1 direct (1023,
///   tablet), B2 instagram (768, tablet), C1 from the shop's own cart page,
///   so direct (1024, desktop), E1 from google (1440, desktop);
/// - product 101 viewed by A, E, C (whose view is the latest: its name),
///   added by A and E; 102 viewed and added by B;
/// - the period before (30 October to 1 November): D's and G's page views,
///   each alone in its session;
/// - Shopify's paid orders: 1001 (delivered twice) and 1003, which the pixel
///   saw, and 1004, which it did not (45.50 + 60.25 + 30.00 EUR); 1005 is paid
///   a moment after the range; 1003 is partly refunded (10.25 EUR).
fn expected() -> Value {
    json!({
        "from": "2026-11-02", "to": "2026-11-04", "tz": "Europe/Paris",
        "visitors": 5, "sessions": 5, "pageviews": 9, "bounceRate": 0.4, "orders": 3,
        "revenue": [{"currency": "EUR", "amount": 105.75}, {"currency": "USD", "amount": 20.0}],
        "funnel": {"productViewed": 4, "addedToCart": 3, "checkoutCompleted": 2},
        "days": [
            {"date": "2026-11-02", "visitors": 2, "pageviews": 2, "orders": 1},
            {"date": "2026-11-03", "visitors": 2, "pageviews": 6, "orders": 1},
            {"date": "2026-11-04", "visitors": 1, "pageviews": 1, "orders": 1},
        ],
        "topPages": [
            {"path": "/", "pageviews": 4, "visitors": 3},
            {"path": "/products/tee", "pageviews": 3, "visitors": 3},
            {"path": "/collections/all", "pageviews": 1, "visitors": 1},
            {"path": "/products/mug", "pageviews": 1, "visitors": 1},
        ],
        "sources": [
            {"source": "direct", "sessions": 2},
            {"source": "google.com", "sessions": 2},
            {"source": "instagram.com", "sessions": 1},
        ],
        "devices": {"mobile": 1, "tablet": 2, "desktop": 2},
        "topProducts": [
            {"productId": "101", "name": "Classic Tee", "views": 3, "addedToCart": 2},
            {"productId": "102", "name": "Mug", "views": 1, "addedToCart": 1},
        ],
        "previous": {
            "from": "2026-10-30", "to": "2026-11-01",
            "visitors": 2, "sessions": 2, "pageviews": 2, "bounceRate": 1.0, "orders": 0, "revenue": [],
            "funnel": {"productViewed": 0, "addedToCart": 0, "checkoutCompleted": 0},
        },
        "shopifyOrders": {
            "orders": 3, "revenue": [{"currency": "EUR", "amount": 135.75}],
            "refunds": [{"currency": "EUR", "amount": 10.25}], "seenByPixel": 2,
        },
    })
}

fn fixture(name: &str) -> Value {
    let path = root().join("tests/fixtures/shopify").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

/// Shopify's `orders/paid` for one order: the documented payload, personal
/// data included, with this id, time and total.
fn paid(id: u64, at: &str, total: &str) -> String {
    let mut order = fixture("webhook_orders_paid.json");
    order["id"] = json!(id);
    order["admin_graphql_api_id"] = json!(format!("gid://shopify/Order/{id}"));
    order["processed_at"] = json!(at);
    order["created_at"] = json!(at);
    order["total_price"] = json!(total);
    order.to_string()
}

fn refund(order: u64, at: &str, amount: &str) -> String {
    let mut refund = fixture("webhook_refunds_create.json");
    refund["order_id"] = json!(order);
    refund["created_at"] = json!(at);
    refund["processed_at"] = json!(at);
    let transactions = refund["transactions"].as_array_mut().expect("transactions");
    transactions.truncate(1);
    transactions[0]["amount"] = json!(amount);
    transactions[0]["order_id"] = json!(order);
    refund.to_string()
}

async fn deliver_orders(server: &lummmen_server::ServerHandle) {
    let deliveries = [
        ("orders/paid", "w1", paid(1001, "2026-11-02T10:06:00+01:00", "45.50")),
        ("orders/paid", "w2", paid(1001, "2026-11-02T10:06:00+01:00", "45.50")),
        ("orders/paid", "w3", paid(1003, "2026-11-03T12:11:00+01:00", "60.25")),
        ("orders/paid", "w4", paid(1004, "2026-11-04T09:00:00+01:00", "30.00")),
        ("orders/paid", "w5", paid(1005, "2026-11-05T00:00:00+01:00", "99.00")),
        ("refunds/create", "w6", refund(1003, "2026-11-04T08:00:00+01:00", "10.25")),
    ];
    for (topic, id, body) in deliveries {
        let r = deliver(server, topic, SHOP, id, &body, SECRET).await;
        assert_eq!(r.status(), 200, "{topic}: {}", r.text().await.unwrap_or_default());
    }
}

const RANGE: &str = "/api/stats?from=2026-11-02&to=2026-11-04&tz=Europe/Paris";

/// Drops the dashboard's table, as in a database from before it.
async fn drop_traffic(config: &Config) {
    match &config.clickhouse_url {
        Some(url) => {
            let sql = format!("DROP TABLE {}.traffic", config.clickhouse_database);
            let r = client().post(url).body(sql).send().await.expect("clickhouse");
            assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
        }
        None => {
            let db = rusqlite::Connection::open(config.data_dir.join("events.db")).expect("events.db");
            db.execute_batch("DROP TABLE traffic").expect("drop");
        }
    }
}

async fn scenario(config: Config) {
    let server = start(config.clone(), SITE, SHOP).await;
    server
        .projects()
        .upsert(&Project { id: 8, name: "B".into(), sample: 100, shops: vec!["b-shop.myshopify.com".into()] })
        .expect("project");
    for batch in batches() {
        collect(&server, &batch).await;
    }
    // A batch as trackers cached in browsers send it today.
    let cached: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/protocol/tracker_batch.json")).expect("fixture"),
    )
    .expect("json");
    collect(&server, &cached).await;
    deliver_orders(&server).await;
    server.flush().await.expect("flush");

    let token = session_token(SHOP);
    let (status, stats) = get_json(&server, RANGE, &token).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats, expected());

    // The same days in UTC: B's first session and G's last page view move in,
    // D's clicks (23:05 UTC on the 1st) move out.
    let (status, utc) = get_json(&server, "/api/stats?from=2026-11-02&to=2026-11-04", &token).await;
    assert_eq!(status, 200, "{utc}");
    assert_eq!(utc["tz"], "UTC");
    assert_eq!((utc["visitors"].as_u64(), utc["pageviews"].as_u64()), (Some(5), Some(10)), "{utc}");
    assert_eq!(utc["days"][0], json!({"date": "2026-11-02", "visitors": 2, "pageviews": 3, "orders": 1}));

    // Today's wire format is still counted: the cached tracker's page view.
    let (_, day) = get_json(&server, "/api/stats?from=2025-11-22&to=2025-11-22", &token).await;
    assert_eq!((day["visitors"].as_u64(), day["pageviews"].as_u64()), (Some(1), Some(1)), "{day}");
    assert_eq!(day["sources"], json!([{"source": "direct", "sessions": 1}]), "{day}");
    assert_eq!(day["topPages"][0]["path"], "/products/tee");

    // Another site: only its operator may read it.
    let (status, body) = get_json(&server, &format!("{RANGE}&site=8"), &token).await;
    assert_eq!(status, 404, "{body}");
    let (status, other) = get_json(&server, &format!("{RANGE}&site=8"), OPERATOR).await;
    assert_eq!(status, 200, "{other}");
    assert_eq!((other["visitors"].as_u64(), other["orders"].as_u64()), (Some(1), Some(1)), "{other}");

    let r = client().get(format!("{}{RANGE}", server.url())).send().await.expect("get");
    assert_eq!(r.status(), 401);
    for bad in [
        "/api/stats?from=2026-11-02",
        "/api/stats?from=2026-11-31&to=2026-12-01",
        "/api/stats?from=02/11/2026&to=2026-12-01",
        "/api/stats?from=2026-11-05&to=2026-11-04",
        "/api/stats?from=2025-01-01&to=2026-02-05",
        "/api/stats?from=2026-11-02&to=2026-11-04&tz=Europe/Atlantis",
        "/api/stats?from=2026-11-02&to=2026-11-04&site=x",
    ] {
        let (status, body) = get_json(&server, bad, &token).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request", "{bad}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{bad}: {body}");
    }
    let (status, _) = get_json(&server, "/api/stats?from=2025-01-01&to=2026-02-04", &token).await;
    assert_eq!(status, 200, "400 days are allowed");
    server.shutdown().await.expect("shutdown");

    // A database from before the dashboard: its events fill the table at start.
    drop_traffic(&config).await;
    let server = start(config, SITE, SHOP).await;
    server.flush().await.expect("flush");
    let (status, stats) = get_json(&server, RANGE, &token).await;
    assert_eq!(status, 200, "{stats}");
    assert_eq!(stats, expected(), "after filling the table from stored events");

    // A visitor's deletion (a privacy request) takes them off the dashboard:
    // without A, 4 visitors, 7 page views, and only the orders of E.
    let deleted =
        server.store().delete_visitors(&[SITE], &["aaaaaaaaaaaaaaaa".to_string()]).await.expect("delete");
    assert!(deleted > 0);
    let (_, stats) = get_json(&server, RANGE, &token).await;
    assert_eq!((stats["visitors"].as_u64(), stats["pageviews"].as_u64()), (Some(4), Some(7)), "{stats}");
    assert_eq!(stats["funnel"], json!({"productViewed": 3, "addedToCart": 2, "checkoutCompleted": 1}));
    assert_eq!(stats["orders"], 2, "{stats}");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn stats_of_the_fixed_data_set_in_sqlite() {
    let dir = TempDir::new("stats-sqlite");
    scenario(app_config(&dir.0, "http://127.0.0.1:9")).await;
}

#[tokio::test]
async fn stats_of_the_fixed_data_set_in_clickhouse() {
    let dir = TempDir::new("stats-clickhouse");
    let config = app_config(&dir.0, "http://127.0.0.1:9")
        .with_clickhouse(&clickhouse_url(), &unique_database("stats"));
    scenario(config).await;
}
