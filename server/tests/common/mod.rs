//! Helpers shared by the server's integration tests: paths, temporary data
//! directories, the test ClickHouse, realistic batches.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use protocol::{Batch, CartLine, CheckoutCompleted, Click, Event, MoveBatch, PageView, Product};

pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("lummmen-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The test ClickHouse (`scripts/clickhouse.sh start` prints it; the test command
/// exports it). Missing is a failure, not a skip.
pub fn clickhouse_url() -> String {
    std::env::var("LUMMMEN_TEST_CLICKHOUSE_URL").expect(
        "LUMMMEN_TEST_CLICKHOUSE_URL is not set: start ClickHouse with `scripts/clickhouse.sh start` \
         and export the URL it prints (scripts/test.sh does both)",
    )
}

/// A database name of its own for each test, so tests never see each other's rows.
pub fn unique_database(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("lummmen_test_{name}_{}_{n}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// A 16-hex-digit id from a number.
pub fn hex16(n: u64) -> String {
    format!("{n:016x}")
}

pub fn product(sku: &str) -> Product {
    Product {
        product_id: Some("gid://shopify/Product/1".into()),
        variant_id: Some("gid://shopify/ProductVariant/11".into()),
        sku: Some(sku.into()),
        title: "Tee".into(),
        variant_title: Some("M".into()),
        price: 19.99,
        category: Some("Shirts".into()),
        currency: Some("EUR".into()),
    }
}

/// A page view, a click on it, some mouse moves: what the tracker sends first.
pub fn page_batch(site: u32, visitor: &str, batch: u64, events: usize) -> Batch {
    let t = 1_763_800_000_000 + batch * 1000;
    let mut e = vec![Event::PageView(PageView {
        time: t,
        url: format!("https://demo-shop.myshopify.com/products/p{}", batch % 7),
        referrer: "https://demo-shop.myshopify.com/".into(),
        title: "Product".into(),
        viewport_width: 1280,
        viewport_height: 720,
        screen_width: 1920,
        screen_height: 1080,
        tz_offset_min: -60,
        doc_width: 1280,
        doc_height: 3000,
    })];
    for i in 1..events {
        let i64_ = i as i32;
        e.push(if i % 3 == 0 {
            Event::Moves(MoveBatch {
                time: t + i as u64,
                points: vec![[i64_, 2 * i64_, 0], [i64_ + 5, 2 * i64_ + 3, 40]],
            })
        } else {
            Event::Click(Click {
                time: t + i as u64,
                x: 100 + i64_,
                y: 1200 + i64_,
                cx: 100 + i64_,
                cy: 400,
                since_page_view_ms: i as u64,
                button: 0,
                tag: "a".into(),
                element_id: Some("buy".into()),
                classes: vec!["btn".into(), "primary".into()],
                selector: "#buy".into(),
                href: Some("/cart".into()),
                rage: i % 5 == 0,
            })
        });
    }
    Batch {
        site_id: site,
        visitor_id: visitor.into(),
        batch_id: hex16(batch),
        sent_at: t + 5000,
        session_id: Some(hex16(batch / 10 + 0xaa00)),
        page_view_id: Some(hex16(batch + 0xbb00)),
        dropped: 0,
        events: e,
    }
}

/// A pixel batch with a completed checkout naming an order and a customer.
pub fn checkout_batch(site: u32, visitor: &str, batch: u64, order: &str, customer: Option<&str>) -> Batch {
    Batch {
        site_id: site,
        visitor_id: visitor.into(),
        batch_id: hex16(batch),
        sent_at: 1_763_800_200_000,
        session_id: None,
        page_view_id: None,
        dropped: 0,
        events: vec![Event::CheckoutCompleted(CheckoutCompleted {
            time: 1_763_800_190_000,
            url: "https://demo-shop.myshopify.com/checkouts/c/abc/thank-you".into(),
            order_id: Some(order.into()),
            customer_id: customer.map(str::to_string),
            currency: "EUR".into(),
            total: 45.58,
            subtotal: 39.98,
            tax: 7.6,
            shipping: 5.0,
            discounts: 7.0,
            items: vec![CartLine { quantity: 2, product: product("TEE-M") }],
        })],
    }
}

/// Posts a batch as a beacon would (`text/plain`); answers the status.
pub async fn post(client: &reqwest::Client, base: &str, batch: &Batch) -> reqwest::StatusCode {
    client
        .post(format!("{base}/collect"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(serde_json::to_vec(batch).expect("json"))
        .send()
        .await
        .expect("post")
        .status()
}
