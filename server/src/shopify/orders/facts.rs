//! The order facts in the app database (`shop_orders`, `shop_refunds`, created
//! with the other tables in [`crate::shopify::db`]): written inside a webhook's
//! transaction, exported for a data request, deleted for a redaction.
//!
//! An order is keyed by shop and order id, a refund by shop, refund id and
//! currency, so a delivery of the same order or refund under another delivery
//! id (Shopify sends `orders/paid` again when an order is marked paid twice,
//! and any webhook may come more than once) counts once: the first one stays.

use rusqlite::{params, params_from_iter, Connection, Transaction};
use serde::Serialize;

use super::order_key;
use super::payload::{PaidOrder, Refund};

/// A stored order, as a data export lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderRow {
    pub order_id: String,
    pub time_ms: i64,
    pub total: f64,
    pub currency: String,
}

/// A stored refund (one currency of it), as a data export lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RefundRow {
    pub refund_id: String,
    pub order_id: String,
    pub time_ms: i64,
    pub amount: f64,
    pub currency: String,
}

/// Everything stored of some orders.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct OrderFacts {
    pub orders: Vec<OrderRow>,
    pub refunds: Vec<RefundRow>,
}

/// Stores a paid order; false when the shop already has it.
pub fn record_order(tx: &Transaction<'_>, shop: &str, o: &PaidOrder) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "INSERT OR IGNORE INTO shop_orders (shop, order_id, time_ms, total, currency) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![shop, o.order_id, o.time_ms, o.total, o.currency],
    )?;
    Ok(n == 1)
}

/// Stores a refund, a row per currency; answers the rows that were new.
pub fn record_refund(tx: &Transaction<'_>, shop: &str, r: &Refund) -> rusqlite::Result<usize> {
    let mut new = 0;
    for (currency, amount) in &r.amounts {
        new += tx.execute(
            "INSERT OR IGNORE INTO shop_refunds (shop, refund_id, order_id, time_ms, amount, currency)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![shop, r.refund_id, r.order_id, r.time_ms, amount, currency],
        )?;
    }
    Ok(new)
}

/// The order keys of `order_ids` (numbers or GraphQL ids), without repeats.
fn keys(order_ids: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = order_ids.iter().map(|o| order_key(o).to_string()).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// `?2, ?3, ...`: one placeholder per key after the shop's `?1`.
fn marks(n: usize) -> String {
    (2..n + 2).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

/// What is stored of these orders of `shop` (a `customers/data_request`).
pub fn export(conn: &Connection, shop: &str, order_ids: &[String]) -> rusqlite::Result<OrderFacts> {
    let keys = keys(order_ids);
    if keys.is_empty() {
        return Ok(OrderFacts::default());
    }
    let args = || std::iter::once(shop.to_string()).chain(keys.iter().cloned());
    let mut stmt = conn.prepare(&format!(
        "SELECT order_id, time_ms, total, currency FROM shop_orders
         WHERE shop = ?1 AND order_id IN ({}) ORDER BY time_ms, order_id",
        marks(keys.len())
    ))?;
    let orders = stmt
        .query_map(params_from_iter(args()), |r| {
            Ok(OrderRow { order_id: r.get(0)?, time_ms: r.get(1)?, total: r.get(2)?, currency: r.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare(&format!(
        "SELECT refund_id, order_id, time_ms, amount, currency FROM shop_refunds
         WHERE shop = ?1 AND order_id IN ({}) ORDER BY time_ms, refund_id, currency",
        marks(keys.len())
    ))?;
    let refunds = stmt
        .query_map(params_from_iter(args()), |r| {
            Ok(RefundRow {
                refund_id: r.get(0)?,
                order_id: r.get(1)?,
                time_ms: r.get(2)?,
                amount: r.get(3)?,
                currency: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(OrderFacts { orders, refunds })
}

/// Deletes these orders of `shop` and their refunds (a `customers/redact`);
/// answers the rows deleted.
pub fn redact(tx: &Transaction<'_>, shop: &str, order_ids: &[String]) -> rusqlite::Result<usize> {
    let keys = keys(order_ids);
    if keys.is_empty() {
        return Ok(0);
    }
    let args = || std::iter::once(shop.to_string()).chain(keys.iter().cloned());
    let mut n = 0;
    for table in ["shop_orders", "shop_refunds"] {
        n += tx.execute(
            &format!("DELETE FROM {table} WHERE shop = ?1 AND order_id IN ({})", marks(keys.len())),
            params_from_iter(args()),
        )?;
    }
    Ok(n)
}

/// Deletes every order and refund of `shop` (`shop/redact`); answers the rows deleted.
pub fn forget_shop(tx: &Transaction<'_>, shop: &str) -> rusqlite::Result<usize> {
    let orders = tx.execute("DELETE FROM shop_orders WHERE shop = ?1", [shop])?;
    Ok(orders + tx.execute("DELETE FROM shop_refunds WHERE shop = ?1", [shop])?)
}
