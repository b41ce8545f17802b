//! Shopify's own orders as the revenue truth. The pixel sees only shoppers who
//! consented; `orders/paid` and `refunds/create` (scope `read_orders`) bring
//! every order, so the dashboard shows all of them and how many the pixel saw.
//!
//! Only order facts are kept: the order id, when it was processed, its total
//! and currency, and refunds (id, order, when, amount per currency). Whatever
//! else Shopify sends (customer, names, email, phone, addresses, note, browser
//! IP) is skipped at parse time ([`payload`]), so it is never stored, logged or
//! spooled. The rows live in the app database ([`facts`]); [`summary`] is what
//! the dashboard reads; privacy requests export and delete them
//! ([`crate::shopify::fulfilment`]).
//!
//! Order ids are stored in one form, Shopify's numeric id as a decimal string
//! ([`order_key`]), the form the pixel's checkout order ids are matched by.

mod facts;
mod payload;
mod summary;
mod timestamp;

use std::collections::HashSet;

use rusqlite::Transaction;

use crate::meta::{MetaError, MetaStore};
use crate::stats::ShopifyOrders;
pub use facts::{export, forget_shop, redact, OrderFacts, OrderRow, RefundRow};
pub use payload::{PaidOrder, PayloadError, Refund};
pub use summary::{summary, window};

/// The webhook topics of order facts.
pub const ORDERS_PAID: &str = "orders/paid";
pub const REFUNDS_CREATE: &str = "refunds/create";

/// The key an order is stored and matched by: `gid://shopify/Order/123`,
/// `gid://shopify/OrderIdentity/123` and `123` are all `123`. Anything else is
/// returned as it is (trimmed), so it matches no order.
pub fn order_key(id: &str) -> &str {
    let id = id.trim();
    let Some(rest) = id.strip_prefix("gid://shopify/") else { return id };
    match rest.split_once('/') {
        Some(("Order" | "OrderIdentity", tail)) => tail.split(['?', '#']).next().unwrap_or(tail),
        _ => id,
    }
}

/// What an order webhook says.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderFact {
    Paid(PaidOrder),
    Refund(Refund),
}

impl OrderFact {
    /// What it is, for the log.
    pub fn what(&self) -> &'static str {
        match self {
            OrderFact::Paid(_) => "paid order",
            OrderFact::Refund(_) => "refund",
        }
    }
}

/// Whether `topic` carries order facts.
pub fn is_order_topic(topic: &str) -> bool {
    matches!(topic, ORDERS_PAID | REFUNDS_CREATE)
}

/// Reads the body of an order topic; `None` for any other topic.
pub fn parse(topic: &str, body: &[u8]) -> Option<Result<OrderFact, PayloadError>> {
    match topic {
        ORDERS_PAID => Some(payload::paid_order(body).map(OrderFact::Paid)),
        REFUNDS_CREATE => Some(payload::refund(body).map(OrderFact::Refund)),
        _ => None,
    }
}

/// Stores a fact inside the delivery's transaction; false when the shop
/// already had it (the same order or refund under another delivery id), or a
/// refund returned nothing.
pub fn record(tx: &Transaction<'_>, shop: &str, fact: &OrderFact) -> rusqlite::Result<bool> {
    match fact {
        OrderFact::Paid(o) => facts::record_order(tx, shop, o),
        OrderFact::Refund(r) => facts::record_refund(tx, shop, r).map(|n| n > 0),
    }
}

/// The dashboard's summary of Shopify's orders of `shops` over a window.
pub async fn load_summary(
    meta: &dyn MetaStore,
    shops: &[String],
    from_ms: i64,
    to_ms: i64,
    pixel_orders: &HashSet<String>,
) -> Result<ShopifyOrders, MetaError> {
    Ok(summary(&meta.orders_in(shops, from_ms, to_ms).await?, pixel_orders))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shopify::db::AppDb;
    use crate::stats::Money;

    #[test]
    fn order_keys_are_the_numeric_id() {
        assert_eq!(order_key("gid://shopify/Order/5512345678901"), "5512345678901");
        assert_eq!(order_key("gid://shopify/OrderIdentity/5512345678901"), "5512345678901");
        assert_eq!(order_key(" 5512345678901 "), "5512345678901");
        assert_eq!(order_key("gid://shopify/Order/12?from=checkout"), "12");
        assert_eq!(order_key("gid://shopify/Customer/7"), "gid://shopify/Customer/7");
        assert_eq!(order_key(""), "");
    }

    fn fact(topic: &str, body: serde_json::Value) -> OrderFact {
        parse(topic, body.to_string().as_bytes()).expect("an order topic").expect("valid")
    }

    fn paid(id: u64, at: &str, total: &str, currency: &str) -> OrderFact {
        fact(
            ORDERS_PAID,
            serde_json::json!({"id": id, "processed_at": at, "total_price": total, "currency": currency}),
        )
    }

    #[test]
    fn summary_counts_each_order_once_with_revenue_refunds_and_what_the_pixel_saw() {
        let dir = std::env::temp_dir().join(format!("lummmen-orders-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = AppDb::open(&dir).expect("open");
        let (a, b) = ("a.myshopify.com", "b.myshopify.com");
        let facts = [
            (a, paid(1, "2026-11-01T10:00:00Z", "10.10", "EUR")),
            (a, paid(1, "2026-11-01T10:00:00Z", "10.10", "EUR")),
            (a, paid(2, "2026-11-02T10:00:00+02:00", "20.20", "EUR")),
            (a, paid(3, "2026-11-03T10:00:00Z", "5.00", "USD")),
            // Before the range, and at its (open) end.
            (a, paid(4, "2026-10-31T23:59:59Z", "99.00", "EUR")),
            (a, paid(5, "2026-11-08T00:00:00Z", "99.00", "EUR")),
            (b, paid(6, "2026-11-04T10:00:00Z", "0.10", "EUR")),
            (
                a,
                fact(
                    REFUNDS_CREATE,
                    serde_json::json!({"id": 70, "order_id": 4, "created_at": "2026-11-05T10:00:00Z",
                                       "transactions": [{"kind": "refund", "status": "success",
                                                         "amount": "3.30", "currency": "EUR"}]}),
                ),
            ),
        ];
        let stored: Vec<bool> =
            facts.iter().map(|(shop, f)| db.with_tx(|tx| record(tx, shop, f)).expect("record")).collect();
        assert_eq!(stored, [true, false, true, true, true, true, true, true]);

        let (from, to) = (1_793_491_200_000, 1_794_096_000_000); // 2026-11-01 .. 2026-11-08 UTC
        let pixel: HashSet<String> =
            ["gid://shopify/Order/1", "3", "gid://shopify/OrderIdentity/6", "gid://shopify/Order/99"]
                .map(String::from)
                .into();
        let shops = [a.to_string(), b.to_string()];
        let s = summary(&window(&db.lock(), &shops, from, to).expect("window"), &pixel);
        let eur = |amount| Money { currency: "EUR".into(), amount };
        assert_eq!(s.orders, 4);
        assert_eq!(s.revenue, vec![eur(30.4), Money { currency: "USD".into(), amount: 5.0 }]);
        assert_eq!(s.refunds, vec![eur(3.3)]);
        assert_eq!(s.seen_by_pixel, 3);
        let only_a = summary(&window(&db.lock(), &shops[..1], from, to).expect("window"), &HashSet::new());
        assert_eq!((only_a.orders, only_a.seen_by_pixel), (3, 0));
        assert_eq!(
            summary(&window(&db.lock(), &[], from, to).expect("none"), &pixel),
            ShopifyOrders::default()
        );

        let all: Vec<String> = (1..=6).map(|i| i.to_string()).collect();
        let exported = export(&db.lock(), a, &["gid://shopify/Order/4".into()]).expect("export");
        assert_eq!((exported.orders.len(), exported.refunds.len()), (1, 1));
        assert_eq!(db.with_tx(|tx| redact(tx, a, &["4".into()])).expect("redact"), 2);
        assert_eq!(db.with_tx(|tx| forget_shop(tx, a)).expect("forget"), 4);
        assert_eq!(export(&db.lock(), a, &all).expect("export"), OrderFacts::default());
        assert_eq!(
            export(&db.lock(), b, &all).expect("export").orders.len(),
            1,
            "another shop's orders stay"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
