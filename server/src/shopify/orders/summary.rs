//! Shopify's own orders over a range, for the dashboard: every paid order,
//! tracked or not, so the merchant sees how many of them the pixel saw.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params_from_iter, Connection};

use super::order_key;
use crate::stats::round_amount;
use crate::stats::{Money, ShopifyOrders};

/// The orders of `shops` processed in `[from_ms, to_ms)` and the refunds
/// created then: their count, revenue and refunds per currency (by currency,
/// rounded to a millionth), and how many of them have their key among
/// `pixel_orders` (the order ids of the pixel's checkouts, in either form).
pub fn summary(
    conn: &Connection,
    shops: &[String],
    from_ms: i64,
    to_ms: i64,
    pixel_orders: &HashSet<String>,
) -> rusqlite::Result<ShopifyOrders> {
    if shops.is_empty() || from_ms >= to_ms {
        return Ok(ShopifyOrders::default());
    }
    let seen: HashSet<&str> = pixel_orders.iter().map(|o| order_key(o)).collect();
    let marks = vec!["?"; shops.len()].join(", ");
    let args = || {
        shops.iter().map(|s| rusqlite::types::Value::Text(s.clone())).chain([from_ms.into(), to_ms.into()])
    };

    let mut out = ShopifyOrders::default();
    let mut revenue: BTreeMap<String, f64> = BTreeMap::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT order_id, total, currency FROM shop_orders
         WHERE shop IN ({marks}) AND time_ms >= ? AND time_ms < ? ORDER BY shop, order_id"
    ))?;
    let mut rows = stmt.query(params_from_iter(args()))?;
    while let Some(r) = rows.next()? {
        let order_id: String = r.get(0)?;
        out.orders += 1;
        out.seen_by_pixel += u64::from(seen.contains(order_id.as_str()));
        *revenue.entry(r.get(2)?).or_default() += r.get::<_, f64>(1)?;
    }

    let mut refunds: BTreeMap<String, f64> = BTreeMap::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT amount, currency FROM shop_refunds
         WHERE shop IN ({marks}) AND time_ms >= ? AND time_ms < ? ORDER BY shop, refund_id, currency"
    ))?;
    let mut rows = stmt.query(params_from_iter(args()))?;
    while let Some(r) = rows.next()? {
        *refunds.entry(r.get(1)?).or_default() += r.get::<_, f64>(0)?;
    }

    let money = |sums: BTreeMap<String, f64>| {
        sums.into_iter().map(|(currency, x)| Money { currency, amount: round_amount(x) }).collect()
    };
    out.revenue = money(revenue);
    out.refunds = money(refunds);
    Ok(out)
}
