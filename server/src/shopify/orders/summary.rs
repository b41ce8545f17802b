//! Shopify's own orders over a range, for the dashboard: every paid order,
//! tracked or not, so the merchant sees how many of them the pixel saw.
//! [`window`] reads the rows from SQLite (PostgreSQL's reading is in
//! [`crate::meta::postgres`]); [`summary`] sums them, the same for both.

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params_from_iter, Connection};

use super::order_key;
use crate::meta::OrderWindow;
use crate::stats::round_amount;
use crate::stats::{Money, ShopifyOrders};

/// The orders of `shops` processed in `[from_ms, to_ms)` and the refunds
/// created then, as stored.
pub fn window(
    conn: &Connection,
    shops: &[String],
    from_ms: i64,
    to_ms: i64,
) -> rusqlite::Result<OrderWindow> {
    if shops.is_empty() || from_ms >= to_ms {
        return Ok(OrderWindow::default());
    }
    let marks = vec!["?"; shops.len()].join(", ");
    let args = || {
        shops.iter().map(|s| rusqlite::types::Value::Text(s.clone())).chain([from_ms.into(), to_ms.into()])
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT order_id, total, currency FROM shop_orders
         WHERE shop IN ({marks}) AND time_ms >= ? AND time_ms < ? ORDER BY shop, order_id"
    ))?;
    let orders = stmt
        .query_map(params_from_iter(args()), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT amount, currency FROM shop_refunds
         WHERE shop IN ({marks}) AND time_ms >= ? AND time_ms < ? ORDER BY shop, refund_id, currency"
    ))?;
    let refunds = stmt
        .query_map(params_from_iter(args()), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(OrderWindow { orders, refunds })
}

/// The orders and refunds of a window: their count, revenue and refunds per
/// currency (by currency, rounded to a millionth), and how many of them have
/// their key among `pixel_orders` (the order ids of the pixel's checkouts, in
/// either form).
pub fn summary(window: &OrderWindow, pixel_orders: &HashSet<String>) -> ShopifyOrders {
    let seen: HashSet<&str> = pixel_orders.iter().map(|o| order_key(o)).collect();
    let mut out = ShopifyOrders::default();
    let mut revenue: BTreeMap<String, f64> = BTreeMap::new();
    for (order_id, total, currency) in &window.orders {
        out.orders += 1;
        out.seen_by_pixel += u64::from(seen.contains(order_id.as_str()));
        *revenue.entry(currency.clone()).or_default() += total;
    }
    let mut refunds: BTreeMap<String, f64> = BTreeMap::new();
    for (amount, currency) in &window.refunds {
        *refunds.entry(currency.clone()).or_default() += amount;
    }
    let money = |sums: BTreeMap<String, f64>| {
        sums.into_iter().map(|(currency, x)| Money { currency, amount: round_amount(x) }).collect()
    };
    out.revenue = money(revenue);
    out.refunds = money(refunds);
    out
}
