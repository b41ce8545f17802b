//! Shopify's own orders on the real server: `orders/paid` and `refunds/create`
//! delivered over HTTP with `openssl` signatures, bodies shaped as Shopify
//! documents them (`tests/fixtures/shopify/webhook_*.json`, full of a
//! customer's personal data). Each order and refund counts once whatever its
//! delivery id; only the facts reach the disk; the dashboard's summary matches
//! the pixel's order ids in either form; privacy requests export and delete
//! the facts.

mod support;

use std::collections::HashSet;
use std::path::Path;

use lummmen_server::shopify::orders;
use lummmen_server::stats::Money;
use lummmen_server::ServerHandle;
use serde_json::{json, Value};
use support::*;

const OTHER_SHOP: &str = "b-shop.myshopify.com";
/// The fixture order's id, and when it was processed (2026-11-22T10:30:00+01:00).
const ORDER: &str = "5512345678901";
const PROCESSED_MS: i64 = 1_795_339_800_000;
/// 2026-11-22 and the week after, in UTC.
const FROM_MS: i64 = 1_795_305_600_000;
const TO_MS: i64 = FROM_MS + 7 * 86_400_000;

/// The personal data of the fixtures, in lower case.
const PERSONAL: [&str; 10] = [
    "margaux",
    "lefebvre",
    "@example.org",
    "+33655512345",
    "33655512345",
    "rue des glycines",
    "bordeaux",
    "203.0.113.77",
    "joyeux anniversaire",
    "concierge",
];

fn fixture(name: &str) -> Value {
    let path = root().join("tests/fixtures/shopify").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The fixture order under another id (and its GraphQL id), at `processed_at`.
fn order_with(id: u64, processed_at: &str) -> Value {
    let mut o = fixture("webhook_orders_paid");
    o["id"] = json!(id);
    o["admin_graphql_api_id"] = json!(format!("gid://shopify/Order/{id}"));
    o["processed_at"] = json!(processed_at);
    o
}

async fn send(
    server: &ServerHandle,
    topic: &str,
    shop: &str,
    webhook_id: &str,
    body: &Value,
) -> (u16, Value) {
    let r = deliver(server, topic, shop, webhook_id, &body.to_string(), SECRET).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn app_db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("shopify.db")).expect("open shopify.db")
}

fn count(dir: &Path, table: &str, shop: &str) -> i64 {
    app_db(dir)
        .query_row(&format!("SELECT COUNT(*) FROM {table} WHERE shop = ?1"), [shop], |r| r.get(0))
        .expect("count")
}

fn summary(dir: &Path, shops: &[&str], pixel: &[&str]) -> lummmen_server::stats::ShopifyOrders {
    let shops: Vec<String> = shops.iter().map(|s| s.to_string()).collect();
    let pixel: HashSet<String> = pixel.iter().map(|s| s.to_string()).collect();
    orders::summary(&orders::window(&app_db(dir), &shops, FROM_MS, TO_MS).expect("window"), &pixel)
}

fn eur(amount: f64) -> Money {
    Money { currency: "EUR".into(), amount }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Asserts no file under `dir` holds any of the fixtures' personal data, and
/// that the order's id is in some file (so the search reads where facts land).
fn assert_nothing_personal_on_disk(dir: &Path) {
    let all = files(dir);
    assert!(all.iter().any(|f| f.ends_with("shopify.db")), "{all:?}");
    let mut holds_the_order = false;
    for file in &all {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            // Gone between the listing and the read: a journal or a drained
            // spool segment of the running server, no longer on disk. The
            // scan after shutdown reads the final files.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("read {}: {e}", file.display()),
        };
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for needle in PERSONAL {
            assert!(!text.contains(needle), "{} holds {needle:?}", file.display());
        }
        holds_the_order |= text.contains(ORDER);
    }
    assert!(holds_the_order, "no file holds the order id: the facts were not stored");
}

#[tokio::test]
async fn an_order_webhook_signed_with_another_secret_is_refused_and_nothing_is_stored() {
    let dir = TempDir::new("orders-hmac");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let body = fixture("webhook_orders_paid").to_string();
    let r = deliver(&server, "orders/paid", SHOP, "wh-forged", &body, "not-the-secret").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.expect("json")["error"], "invalid_hmac");
    let refund = fixture("webhook_refunds_create").to_string();
    let r = deliver(&server, "refunds/create", SHOP, "wh-forged-r", &refund, "not-the-secret").await;
    assert_eq!(r.status(), 401);
    assert_eq!((count(&dir.0, "shop_orders", SHOP), count(&dir.0, "shop_refunds", SHOP)), (0, 0));
    assert_eq!(count(&dir.0, "webhook_deliveries", SHOP), 0);
    // Signed right, the same body is taken.
    let r = deliver(&server, "orders/paid", SHOP, "wh-forged", &body, SECRET).await;
    assert_eq!(r.status(), 200);
    assert_eq!(count(&dir.0, "shop_orders", SHOP), 1);
}

#[tokio::test]
async fn orders_and_refunds_count_once_and_only_their_facts_reach_the_disk() {
    let dir = TempDir::new("orders-facts");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let order = fixture("webhook_orders_paid");
    let refund = fixture("webhook_refunds_create");

    // The same delivery retried, then the same order under another delivery id
    // (Shopify may send orders/paid again for one order).
    assert_eq!(
        send(&server, "orders/paid", SHOP, "wh-o1", &order).await,
        (200, json!({"status": "accepted"}))
    );
    assert_eq!(
        send(&server, "orders/paid", SHOP, "wh-o1", &order).await,
        (200, json!({"status": "duplicate"}))
    );
    assert_eq!(send(&server, "orders/paid", SHOP, "wh-o2", &order).await.0, 200);
    assert_eq!(send(&server, "refunds/create", SHOP, "wh-r1", &refund).await.0, 200);
    assert_eq!(send(&server, "refunds/create", SHOP, "wh-r2", &refund).await.0, 200);

    let row: (String, i64, f64, String) = app_db(&dir.0)
        .query_row(
            "SELECT order_id, time_ms, total, currency FROM shop_orders WHERE shop = ?1",
            [SHOP],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("one order");
    assert_eq!(row, (ORDER.to_string(), PROCESSED_MS, 86.45, "EUR".to_string()));
    let refund_row: (String, String, f64, String) = app_db(&dir.0)
        .query_row(
            "SELECT refund_id, order_id, amount, currency FROM shop_refunds WHERE shop = ?1",
            [SHOP],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("one refund row");
    // The failed transaction of the fixture returned nothing.
    assert_eq!(refund_row, ("9871234567890".to_string(), ORDER.to_string(), 37.45, "EUR".to_string()));

    let s = summary(&dir.0, &[SHOP], &[]);
    assert_eq!(
        (s.orders, s.revenue.clone(), s.refunds.clone(), s.seen_by_pixel),
        (1, vec![eur(86.45)], vec![eur(37.45)], 0)
    );

    assert_nothing_personal_on_disk(&dir.0);
    server.shutdown().await.expect("shutdown");
    // After shutdown too (the WAL checkpointed into the database).
    assert_nothing_personal_on_disk(&dir.0);
}

#[tokio::test]
async fn the_summary_counts_the_range_per_currency_and_what_the_pixel_saw_by_either_id() {
    let dir = TempDir::new("orders-summary");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let orders = [
        (1001, "2026-11-22T08:00:00+01:00", "10.10", "EUR", SHOP),
        (1002, "2026-11-23T12:00:00Z", "20.20", "EUR", SHOP),
        (1003, "2026-11-24T12:00:00-05:00", "5.00", "USD", SHOP),
        // Before the range (23:59 on the 21st in UTC), and at its open end.
        (1004, "2026-11-22T00:59:00+01:00", "99.00", "EUR", SHOP),
        (1005, "2026-11-29T00:00:00Z", "99.00", "EUR", SHOP),
        (2001, "2026-11-23T12:00:00Z", "0.70", "EUR", OTHER_SHOP),
    ];
    for (id, at, total, currency, shop) in orders {
        let mut o = order_with(id, at);
        o["total_price"] = json!(total);
        o["currency"] = json!(currency);
        assert_eq!(send(&server, "orders/paid", shop, &format!("wh-{id}"), &o).await.0, 200);
    }
    let mut refund = fixture("webhook_refunds_create");
    refund["order_id"] = json!(1004);
    assert_eq!(send(&server, "refunds/create", SHOP, "wh-refund", &refund).await.0, 200);
    let mut late = fixture("webhook_refunds_create");
    late["id"] = json!(9871234567891u64);
    late["created_at"] = json!("2026-12-01T10:00:00Z");
    assert_eq!(send(&server, "refunds/create", SHOP, "wh-late", &late).await.0, 200);

    // The pixel's checkouts name orders by GraphQL id or by number.
    let pixel =
        ["gid://shopify/Order/1001", "1003", "gid://shopify/OrderIdentity/2001", "gid://shopify/Order/42"];
    let s = summary(&dir.0, &[SHOP], &pixel);
    assert_eq!(s.orders, 3);
    assert_eq!(s.revenue, vec![eur(30.3), Money { currency: "USD".into(), amount: 5.0 }]);
    assert_eq!(s.refunds, vec![eur(37.45)], "the refund of the week, whenever its order was");
    assert_eq!(s.seen_by_pixel, 2);
    let both = summary(&dir.0, &[SHOP, OTHER_SHOP], &pixel);
    assert_eq!((both.orders, both.seen_by_pixel), (4, 3));
    assert_eq!(both.revenue[0], eur(31.0));
    assert_eq!(summary(&dir.0, &[OTHER_SHOP], &[]).seen_by_pixel, 0);
}

#[tokio::test]
async fn a_bad_order_payload_is_a_json_400_and_stores_nothing_not_even_its_delivery_id() {
    let dir = TempDir::new("orders-bad");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let mut no_id = fixture("webhook_orders_paid");
    no_id.as_object_mut().map(|o| (o.remove("id"), o.remove("admin_graphql_api_id")));
    let mut wordy_total = fixture("webhook_orders_paid");
    wordy_total["total_price"] = json!("eighty-six");
    let mut no_order = fixture("webhook_refunds_create");
    no_order.as_object_mut().map(|o| o.remove("order_id"));
    let mut wordy_refund = fixture("webhook_refunds_create");
    wordy_refund["transactions"][0]["amount"] = json!("lots");
    for (topic, body) in [
        ("orders/paid", &no_id),
        ("orders/paid", &wordy_total),
        ("refunds/create", &no_order),
        ("refunds/create", &wordy_refund),
    ] {
        let (status, err) = send(&server, topic, SHOP, "wh-bad", body).await;
        assert_eq!((status, err["error"].as_str()), (400, Some("bad_request")), "{topic}: {err}");
        assert!(!err.to_string().to_lowercase().contains("margaux"), "{err}");
    }
    let r = deliver(&server, "orders/paid", SHOP, "wh-bad", "{not json", SECRET).await;
    assert_eq!(r.status(), 400);
    assert_eq!(count(&dir.0, "shop_orders", SHOP) + count(&dir.0, "shop_refunds", SHOP), 0);
    assert_eq!(count(&dir.0, "webhook_deliveries", SHOP), 0);
    // So a good body under that delivery id is still taken.
    let order = fixture("webhook_orders_paid");
    assert_eq!(
        send(&server, "orders/paid", SHOP, "wh-bad", &order).await,
        (200, json!({"status": "accepted"}))
    );
    assert_eq!(summary(&dir.0, &[SHOP], &[]).orders, 1);
}

async fn fulfil_ticket(server: &ServerHandle, topic: &str, webhook_id: &str, body: Value) -> Value {
    let (status, made) = send(server, topic, SHOP, webhook_id, &body).await;
    assert_eq!(status, 200, "{made}");
    let id = made["ticket"].as_i64().expect("ticket id");
    let (status, done) =
        post_json(server, &format!("/api/gdpr/tickets/{id}/fulfil"), OPERATOR, json!({})).await;
    assert_eq!(status, 200, "{done}");
    done
}

#[tokio::test]
async fn privacy_requests_export_and_delete_the_order_facts() {
    let dir = TempDir::new("orders-privacy");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    assert_eq!(send(&server, "orders/paid", SHOP, "wh-o1", &fixture("webhook_orders_paid")).await.0, 200);
    let second = order_with(5_512_345_678_902, "2026-11-23T09:00:00Z");
    assert_eq!(send(&server, "orders/paid", SHOP, "wh-o2", &second).await.0, 200);
    assert_eq!(
        send(&server, "refunds/create", SHOP, "wh-r1", &fixture("webhook_refunds_create")).await.0,
        200
    );
    let other = order_with(5_512_345_678_903, "2026-11-23T09:00:00Z");
    assert_eq!(send(&server, "orders/paid", OTHER_SHOP, "wh-o3", &other).await.0, 200);

    // A data request exports the facts of the orders it names, and only those.
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [5_512_345_678_901u64],
                      "customer": {"id": 7_723_456_789_012u64, "email": "margaux.lefebvre@example.org"},
                      "data_request": {"id": 9999}});
    let done = fulfil_ticket(&server, "customers/data_request", "wh-dr", body).await;
    assert_eq!(
        done["export"]["orders"],
        json!([{"order_id": ORDER, "time_ms": PROCESSED_MS, "total": 86.45, "currency": "EUR"}])
    );
    assert_eq!(
        done["export"]["refunds"],
        json!([{"refund_id": "9871234567890", "order_id": ORDER, "time_ms": 1_795_611_900_000i64,
                "amount": 37.45, "currency": "EUR"}])
    );
    assert_eq!((done["outcome"]["orders"].as_u64(), done["outcome"]["refunds"].as_u64()), (Some(1), Some(1)));
    assert_eq!(count(&dir.0, "shop_orders", SHOP), 2, "a data request deletes nothing");

    // customers/redact deletes the orders it names (here by GraphQL id) and their refunds.
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 7_723_456_789_012u64},
                      "orders_to_redact": ["gid://shopify/Order/5512345678901"]});
    let done = fulfil_ticket(&server, "customers/redact", "wh-cr", body).await;
    assert_eq!(done["outcome"]["order_rows_deleted"], 2);
    let left: Vec<String> = app_db(&dir.0)
        .prepare("SELECT order_id FROM shop_orders WHERE shop = ?1")
        .expect("prepare")
        .query_map([SHOP], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(left, vec!["5512345678902".to_string()]);
    assert_eq!(count(&dir.0, "shop_refunds", SHOP), 0);

    // shop/redact deletes every order and refund of the shop, and no other shop's.
    assert_eq!(
        send(&server, "refunds/create", SHOP, "wh-r2", &{
            let mut r = fixture("webhook_refunds_create");
            r["order_id"] = json!(5_512_345_678_902u64);
            r
        })
        .await
        .0,
        200
    );
    fulfil_ticket(&server, "shop/redact", "wh-sr", json!({"shop_id": 954889, "shop_domain": SHOP})).await;
    assert_eq!((count(&dir.0, "shop_orders", SHOP), count(&dir.0, "shop_refunds", SHOP)), (0, 0));
    assert_eq!(count(&dir.0, "shop_orders", OTHER_SHOP), 1);
}
