//! The benchmark's shop: sessions of one to several page views (a third from
//! search and social sites, the rest direct or internal), each page view
//! followed by about ten tracker events (clicks, moves, scrolls, the leave) in
//! its batch; on product pages the pixel's product views, some adds to cart
//! and a few orders. Deterministic: the same arguments give the same data.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lummmen_server::store::rows::{rows_from_batch, EventRow};
use lummmen_server::store::EventStore;
use protocol::{
    Batch, CartLine, CheckoutCompleted, Click, Event, MoveBatch, PageLeave, PageView, Product, Scroll,
};

/// 2026-10-02T00:00Z: the data covers the 60 days from here.
const START_MS: u64 = 1_790_899_200_000;
const DAYS: u64 = 60;
const DAY_MS: u64 = 86_400_000;
/// Rows per insert, as the drainer's large inserts.
pub const CHUNK: usize = 50_000;

const REFERRERS: [&str; 8] = [
    "",
    "",
    "",
    "https://www.google.com/search?q=tee",
    "https://www.instagram.com/",
    "https://l.facebook.com/",
    "https://www.bing.com/",
    "https://t.co/x",
];
const WIDTHS: [u32; 7] = [390, 414, 430, 768, 1024, 1440, 1920];

/// xorshift64*: fast, deterministic, good enough for synthetic traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub struct Shop {
    rng: Rng,
    batch: u64,
    session: u64,
    visitors: u64,
}

fn product(id: u64) -> Product {
    Product {
        product_id: Some(id.to_string()),
        variant_id: None,
        sku: None,
        title: format!("Product {id}"),
        variant_title: None,
        price: 10.0 + (id % 40) as f64,
        category: None,
        currency: Some("EUR".into()),
    }
}

impl Shop {
    pub fn new(visitors: u64) -> Self {
        Self { rng: Rng(0x9E37_79B9_7F4A_7C15), batch: 0, session: 0, visitors }
    }

    fn batch(&mut self, visitor: &str, session: Option<&str>, events: Vec<Event>) -> Batch {
        self.batch += 1;
        let sent_at = events.last().map_or(START_MS, Event::time) + 500;
        Batch {
            site_id: 1,
            visitor_id: visitor.to_string(),
            batch_id: format!("{:016x}", 0xb000_0000_0000_u64 + self.batch),
            sent_at,
            session_id: session.map(String::from),
            page_view_id: Some(format!("{:016x}", 0x9a00_0000_0000_u64 + self.batch)),
            dropped: 0,
            events,
        }
    }

    /// One session's batches.
    fn session(&mut self) -> Vec<Batch> {
        self.session += 1;
        let visitor = format!("{:016x}", 0x5eed_0000_0000_u64 + self.rng.below(self.visitors));
        let session = format!("{:016x}", 0x5e55_0000_0000_u64 + self.session);
        let mut t = START_MS + self.rng.below(DAYS * DAY_MS - 3_600_000);
        let pages = 1 + self.rng.below(3) + self.rng.below(3);
        let width = WIDTHS[self.rng.below(WIDTHS.len() as u64) as usize];
        let mut out = Vec::new();
        let mut referrer = REFERRERS[self.rng.below(REFERRERS.len() as u64) as usize].to_string();
        for _ in 0..pages {
            let item = self.rng.below(200);
            let on_product = self.rng.below(3) > 0;
            let url = if on_product {
                format!("https://demo-shop.myshopify.com/products/item-{item}")
            } else {
                ["/", "/collections/all", "/cart"][self.rng.below(3) as usize].to_string()
            };
            let url =
                if url.starts_with('/') { format!("https://demo-shop.myshopify.com{url}") } else { url };
            let mut events = vec![Event::PageView(PageView {
                time: t,
                url: url.clone(),
                referrer: std::mem::replace(&mut referrer, "https://demo-shop.myshopify.com/".into()),
                title: "Demo shop".into(),
                viewport_width: width,
                viewport_height: 800,
                screen_width: width,
                screen_height: 900,
                tz_offset_min: -60,
                doc_width: width,
                doc_height: 4000,
            })];
            let others = 4 + self.rng.below(13);
            for i in 1..=others {
                let at = t + i * 900;
                let k = i as i32;
                events.push(match self.rng.below(4) {
                    0 => Event::Click(Click {
                        time: at,
                        x: 100 + 9 * k,
                        y: 600 + 17 * k,
                        cx: 100 + 9 * k,
                        cy: 300,
                        since_page_view_ms: i * 900,
                        button: 0,
                        tag: "button".into(),
                        element_id: None,
                        classes: vec!["btn".into()],
                        selector: "#product-form > button".into(),
                        href: None,
                        rage: false,
                        rel_x: None,
                        rel_y: None,
                        viewport_width: None,
                        dead: false,
                    }),
                    1 => Event::Scroll(Scroll { time: at, depth: (i * 6).min(100) as u8, y: 800 + 100 * k }),
                    _ => Event::Moves(MoveBatch {
                        time: at,
                        points: (0..5).map(|p| [300 + k * 3 + p * 11, 800 + k * 5 + p * 7, p * 50]).collect(),
                    }),
                });
            }
            events.push(Event::PageLeave(PageLeave {
                time: t + (others + 1) * 900,
                duration_ms: 9000,
                scroll_depth: 70,
            }));
            out.push(self.batch(&visitor, Some(&session), events));
            if on_product && self.rng.below(10) < 6 {
                let mut commerce =
                    vec![Event::ProductViewed { time: t + 50, url: url.clone(), product: product(item) }];
                if self.rng.below(100) < 15 {
                    commerce.push(Event::AddedToCart {
                        time: t + 4000,
                        url: url.clone(),
                        line: CartLine { quantity: 1, product: product(item) },
                        cart: Some(vec![CartLine { quantity: 1, product: product(item) }]),
                    });
                    if self.rng.below(100) < 35 {
                        commerce.push(Event::CheckoutCompleted(CheckoutCompleted {
                            time: t + 120_000,
                            url: "https://demo-shop.myshopify.com/checkouts/c/x/thank-you".into(),
                            order_id: Some((5_000_000 + self.batch).to_string()),
                            customer_id: None,
                            currency: "EUR".into(),
                            total: 10.0 + (item % 40) as f64,
                            subtotal: 0.0,
                            tax: 0.0,
                            shipping: 0.0,
                            discounts: 0.0,
                            items: vec![],
                        }));
                    }
                }
                out.push(self.batch(&visitor, None, commerce));
            }
            t += (others + 2) * 900 + 20_000;
        }
        out
    }

    /// The rows of the next sessions: at least [`CHUNK`] of them.
    pub fn chunk(&mut self) -> Vec<EventRow> {
        let mut rows = Vec::with_capacity(CHUNK + 200);
        while rows.len() < CHUNK {
            for batch in self.session() {
                rows.extend(rows_from_batch(&batch, None));
            }
        }
        rows
    }
}

/// Generates and inserts about `events` events, a chunk at a time (10 million
/// rows would not fit in memory at once); returns rows, rows/s and the share
/// of rows with a dashboard row.
pub async fn load_generated(
    store: &dyn EventStore,
    shop: &mut Shop,
    events: usize,
) -> anyhow::Result<(usize, f64, f64)> {
    let (mut rows, mut traffic) = (0, 0);
    let mut busy = Duration::ZERO;
    while rows < events {
        let chunk = shop.chunk();
        rows += chunk.len();
        traffic += chunk.iter().filter(|r| r.traffic.is_some()).count();
        let t0 = Instant::now();
        store.insert(Arc::new(chunk)).await?;
        busy += t0.elapsed();
    }
    Ok((rows, rows as f64 / busy.as_secs_f64(), traffic as f64 / rows as f64))
}
