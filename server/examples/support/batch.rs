//! The load the ingest benchmarks post: realistic tracker batches.

use protocol::{Batch, Click, Event, MoveBatch, PageLeave, PageView, Scroll};

/// A tracker batch as a shopper produces it: a page view, clicks, merged mouse
/// moves, scroll depth, the page leave.
pub fn batch(n: u64) -> Batch {
    let t = 1_763_800_000_000 + n * 997;
    let url = format!("https://demo-shop.myshopify.com/products/item-{}", n % 200);
    let mut events = vec![Event::PageView(PageView {
        time: t,
        url,
        referrer: "https://demo-shop.myshopify.com/collections/all".into(),
        title: "Organic cotton tee – Demo shop".into(),
        viewport_width: 1280,
        viewport_height: 720,
        screen_width: 1920,
        screen_height: 1080,
        tz_offset_min: -60,
        doc_width: 1280,
        doc_height: 4200,
    })];
    for i in 1..49u64 {
        let k = i as i32;
        events.push(match i % 6 {
            0 => Event::Click(Click {
                time: t + i * 400,
                x: 200 + 7 * k,
                y: 900 + 13 * k,
                cx: 200 + 7 * k,
                cy: 300,
                since_page_view_ms: i * 400,
                button: 0,
                tag: "button".into(),
                element_id: Some("add-to-cart".into()),
                classes: vec!["btn".into(), "product-form__submit".into()],
                selector: "#product-form > button.product-form__submit".into(),
                href: None,
                rage: false,
                rel_x: None,
                rel_y: None,
                viewport_width: None,
                dead: false,
            }),
            5 => Event::Scroll(Scroll { time: t + i * 400, depth: (i * 2) as u8, y: 720 + 60 * k }),
            _ => Event::Moves(MoveBatch {
                time: t + i * 400,
                points: (0..6).map(|p| [300 + k * 3 + p * 11, 800 + k * 5 + p * 7, p * 50]).collect(),
            }),
        });
    }
    events.push(Event::PageLeave(PageLeave { time: t + 30_000, duration_ms: 30_000, scroll_depth: 96 }));
    Batch {
        site_id: 1,
        visitor_id: format!("{:016x}", 0x5eed_0000_u64 + n % 1000),
        batch_id: format!("{:016x}", 0xb000_0000_0000_u64 + n),
        sent_at: t + 30_500,
        session_id: Some(format!("{:016x}", 0x5e55_0000_u64 + n % 1000)),
        page_view_id: Some(format!("{:016x}", 0x9a9e_0000_0000_u64 + n)),
        dropped: 0,
        events,
    }
}
