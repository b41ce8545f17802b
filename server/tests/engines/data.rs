//! The rows the engines test stores: the dashboard's fixed data set
//! (`tests/fixtures/stats/batches.json`, site 7, November 2026, with replays),
//! heatmap batches on the same site (three buckets, a product and a
//! collection group, clicks with and without relative positions, rage and
//! dead clicks, moves, scrolls, page leaves, a replay, a click batch after
//! its page view's), checkouts with customer ids, and page views in earlier
//! months of site 8 for retention.

use crate::common::wire::{batch, click, moves};
use serde_json::{json, Value};

pub const SITE: u32 = 7;
pub const OLD_SITE: u32 = 8;
pub const HEAT_VISITOR: &str = "e5e5e5e5e5e5e5e5";
pub const BUYER: &str = "b0b0b0b0b0b0b0b0";
/// 2 November 2026, 13:00 UTC.
pub const T: u64 = 1_793_624_400_000;
const HOST: &str = "https://a-shop.myshopify.com";

fn pv(t: u64, path: &str, vw: u32, dw: u32, dh: u32) -> Value {
    json!({"k": "pv", "t": t, "u": format!("{HOST}{path}?ref=x"), "r": "https://www.bing.com/", "ti": "Tee",
           "vw": vw, "vh": 720, "sw": 1920, "sh": 1080, "dw": dw, "dh": dh})
}

fn heat_batches() -> Vec<Value> {
    let v = HEAT_VISITOR;
    let a1 = batch(
        SITE,
        v,
        "a000000000000001",
        "00000000000000aa",
        vec![
            pv(T, "/products/tee", 1280, 1280, 3000),
            click(T + 1000, 400, 900, "#buy", json!({"rx": 510, "ry": 480})),
            click(T + 1100, 402, 905, "#buy", json!({"rx": 520, "ry": 490, "rg": true})),
            click(T + 1200, 105, 205, "main > p", json!({})),
            moves(T + 1300, &[[100, 200, 0], [130, 215, 50], [-5, 10, 60]]),
            json!({"k": "sc", "t": T + 1400, "d": 35, "y": 1000}),
        ],
    );
    // Clicks of the same page view in a later batch: their page comes from
    // the store (`page_context`).
    let a2 = batch(
        SITE,
        v,
        "a000000000000002",
        "00000000000000aa",
        vec![
            click(T + 20_000, 640, 1210, "#buy", json!({"rx": 1000, "ry": 0, "dd": true})),
            click(T + 20_100, 20, 30, ".size", json!({"rx": 0, "ry": 999})),
            click(T + 20_200, 200, 800, "#buy", json!({"rx": 500, "ry": 500, "vw": 390})),
            moves(T + 20_300, &[[101, 201, 0]]),
            json!({"k": "pl", "t": T + 25_000, "dur": 25_000, "sd": 72}),
        ],
    );
    let b = batch(
        SITE,
        v,
        "b000000000000001",
        "00000000000000bb",
        vec![
            pv(T + 60_000, "/products/hat", 1440, 1440, 2500),
            click(T + 61_000, 300, 700, "#buy", json!({"rx": 250, "ry": 750})),
            click(T + 62_000, 610, 2510, "footer a", json!({})),
            moves(T + 63_000, &[[600, 2400, 0]]),
            json!({"k": "sc", "t": T + 64_000, "d": 100, "y": 2500}),
        ],
    );
    let c = batch(
        SITE,
        "f6f6f6f6f6f6f6f6",
        "c000000000000001",
        "00000000000000cc",
        vec![
            pv(T + 90_000, "/products/tee", 390, 390, 5000),
            click(T + 91_000, 150, 600, "#buy", json!({"rx": 500, "ry": 500, "rg": true})),
            json!({"k": "sc", "t": T + 92_000, "d": 15, "y": 900}),
            json!({"k": "pl", "t": T + 93_000, "dur": 3000, "sd": 20}),
        ],
    );
    let d = batch(
        SITE,
        v,
        "d000000000000001",
        "00000000000000dd",
        vec![
            pv(T + 100_000, "/collections/summer", 900, 900, 2000),
            click(T + 101_000, 50, 60, ".card", json!({"rx": 100, "ry": 100})),
            click(T + 101_500, 55, 66, ".card", json!({"rx": 130, "ry": 160})),
        ],
    );
    let e = batch(
        SITE,
        v,
        "e000000000000001",
        "00000000000000ee",
        vec![pv(T + 110_000, "/", 1280, 1280, 1500), click(T + 111_000, 5, 5, "h1", json!({}))],
    );
    vec![a1.clone(), a1, a2, b, c, d, e]
}

/// A completed checkout naming an order and, maybe, a customer.
fn checkout(visitor: &str, id: &str, t: u64, order: &str, customer: Option<&str>) -> Value {
    let mut chk = json!({"k": "chk", "t": t, "u": format!("{HOST}/checkouts/c/x/thank-you"), "cur": "EUR",
                         "tot": 45.58, "oid": order,
                         "it": [{"q": 2, "p": {"id": "101", "n": "Tee", "pr": 19.99, "cur": "EUR"}}]});
    if let (Some(c), Some(customer)) = (chk.as_object_mut(), customer) {
        c.insert("cus".into(), json!(customer));
    }
    json!({"s": SITE, "v": visitor, "b": id, "t": t + 500, "e": [chk]})
}

/// Page views of site 8 on the first of `month` (`YYYYMM`).
fn old_month(n: u64, month: u32) -> Value {
    let date = jiff::civil::date((month / 100) as i16, (month % 100) as i8, 1);
    let t = date.to_zoned_datetime(jiff::tz::TimeZone::UTC).expect("date").timestamp().as_millisecond()
        as u64
        + 3_600_000;
    let events: Vec<Value> = (0..3u64)
        .map(|i| {
            json!({"k": "pv", "t": t + i * 1000, "u": format!("https://s.example/p{i}"), "r": "",
                   "vw": 1280, "vh": 700, "sw": 1280, "sh": 800})
        })
        .collect();
    json!({"s": OLD_SITE, "v": format!("{:08x}{:08x}", OLD_SITE, month), "b": format!("{:016x}", 0x01d0 + n),
           "t": t + 5000, "ss": format!("{:016x}", 0x55 + n), "pv": format!("{:016x}", 0x99 + n), "e": events})
}

/// The earlier months of site 8.
pub const OLD_MONTHS: [u32; 3] = [202509, 202605, 202610];

/// Every batch, in the order they are stored.
pub fn batches(root: &std::path::Path) -> Vec<protocol::Batch> {
    let text = std::fs::read_to_string(root.join("tests/fixtures/stats/batches.json")).expect("fixture");
    let fixture: Value = serde_json::from_str(&text).expect("json");
    let mut all = fixture["batches"].as_array().expect("batches").clone();
    all.extend(heat_batches());
    all.push(checkout(BUYER, "f000000000000001", T + 200_000, "2001", Some("gid://shopify/Customer/77")));
    all.push(checkout("c0c0c0c0c0c0c0c0", "f000000000000002", T + 210_000, "2002", None));
    all.extend(OLD_MONTHS.iter().enumerate().map(|(n, m)| old_month(n as u64, *m)));
    all.into_iter().map(|b| serde_json::from_value(b).expect("batch")).collect()
}
