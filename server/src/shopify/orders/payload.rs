//! The bodies of `orders/paid` (Shopify's Order resource) and `refunds/create`
//! (its Refund resource), read into the few fields Lummmen keeps. The structs
//! below name nothing else, so the customer, the addresses, the email, phone,
//! note, line items and the browser's IP are skipped by the parser itself: they
//! are never held as a value, so they cannot be stored, logged or spooled.
//! Pure; errors never repeat a value of the body.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{order_key, timestamp};
use crate::stats::round_amount;

/// A paid order, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PaidOrder {
    /// Shopify's numeric order id, as a decimal string (see [`order_key`]).
    pub order_id: String,
    /// When the order was processed (its `created_at` when Shopify sends no
    /// `processed_at`), in milliseconds since the epoch.
    pub time_ms: i64,
    /// `total_price`: the order's total (line items, discounts, shipping,
    /// taxes), in `currency`.
    pub total: f64,
    /// ISO 4217 code of the shop's currency, which Shopify gives `total_price` in.
    pub currency: String,
}

/// A refund, as stored: what successful refund transactions returned, per
/// currency (by currency; empty when none succeeded, as a restock-only refund).
/// A transaction's currency is the one the customer paid in, which in a shop
/// selling in several currencies may differ from the order's shop currency.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub refund_id: String,
    pub order_id: String,
    /// The refund's `created_at`, in milliseconds since the epoch.
    pub time_ms: i64,
    pub amounts: Vec<(String, f64)>,
}

/// Why an order webhook's body was refused (a 400 to Shopify).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or a kept field of the wrong type. Only the position is
    /// told: serde's own message may quote the value.
    #[error("body is not a {what} payload (line {line}, column {column})")]
    Shape { what: &'static str, line: usize, column: usize },
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{0} is not valid")]
    Invalid(&'static str),
}

/// A JSON scalar Shopify may send as a number or as a string (ids, amounts).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Number(serde_json::Number),
    Text(String),
}

#[derive(Deserialize)]
struct OrderBody {
    id: Option<Scalar>,
    admin_graphql_api_id: Option<String>,
    processed_at: Option<String>,
    created_at: Option<String>,
    total_price: Option<Scalar>,
    currency: Option<String>,
}

#[derive(Deserialize)]
struct RefundBody {
    id: Option<Scalar>,
    order_id: Option<Scalar>,
    created_at: Option<String>,
    transactions: Option<Vec<Transaction>>,
}

#[derive(Deserialize)]
struct Transaction {
    amount: Option<Scalar>,
    currency: Option<String>,
    kind: Option<String>,
    status: Option<String>,
}

fn shape(what: &'static str) -> impl Fn(serde_json::Error) -> PayloadError {
    move |e| PayloadError::Shape { what, line: e.line(), column: e.column() }
}

/// An id as its decimal digits: a number, digits, or a GraphQL id of an order.
fn id(v: Option<&Scalar>) -> Option<String> {
    let text = match v? {
        Scalar::Number(n) => return n.as_u64().map(|n| n.to_string()),
        Scalar::Text(t) => order_key(t),
    };
    (!text.is_empty() && text.bytes().all(|c| c.is_ascii_digit())).then(|| text.to_string())
}

/// A non-negative decimal amount: Shopify's strings ("398.00") or a number.
fn amount(v: Option<&Scalar>) -> Option<f64> {
    let x = match v? {
        Scalar::Number(n) => n.as_f64()?,
        Scalar::Text(t) => {
            let t = t.trim();
            let (whole, frac) = t.split_once('.').unwrap_or((t, "0"));
            let decimal = |p: &str| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit());
            if !(decimal(whole) && decimal(frac)) {
                return None;
            }
            t.parse().ok()?
        }
    };
    (x.is_finite() && x >= 0.0).then_some(x)
}

/// An ISO 4217 code, upper case.
fn currency(v: Option<&str>) -> Option<String> {
    let c = v?.trim();
    (c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic())).then(|| c.to_ascii_uppercase())
}

/// Reads an `orders/paid` body. The id is `id`, or the number at the end of
/// `admin_graphql_api_id` when `id` is absent.
pub fn paid_order(body: &[u8]) -> Result<PaidOrder, PayloadError> {
    let o: OrderBody = serde_json::from_slice(body).map_err(shape("order"))?;
    let order_id = match (&o.id, &o.admin_graphql_api_id) {
        (None, None) => return Err(PayloadError::Missing("id")),
        (Some(v), _) => id(Some(v)),
        (None, Some(gid)) => id(Some(&Scalar::Text(gid.clone()))),
    }
    .ok_or(PayloadError::Invalid("id"))?;
    let when =
        o.processed_at.as_deref().or(o.created_at.as_deref()).ok_or(PayloadError::Missing("processed_at"))?;
    let time_ms = timestamp::parse_ms(when).ok_or(PayloadError::Invalid("processed_at"))?;
    if o.total_price.is_none() {
        return Err(PayloadError::Missing("total_price"));
    }
    let total = amount(o.total_price.as_ref()).ok_or(PayloadError::Invalid("total_price"))?;
    let currency = match o.currency {
        None => return Err(PayloadError::Missing("currency")),
        Some(c) => currency(Some(&c)).ok_or(PayloadError::Invalid("currency"))?,
    };
    Ok(PaidOrder { order_id, time_ms, total, currency })
}

/// Reads a `refunds/create` body: the sum of its successful `refund`
/// transactions per currency. A failed, pending or other transaction returned
/// nothing, so it is not counted (and its amount not checked).
pub fn refund(body: &[u8]) -> Result<Refund, PayloadError> {
    let r: RefundBody = serde_json::from_slice(body).map_err(shape("refund"))?;
    let refund_id = match &r.id {
        None => return Err(PayloadError::Missing("id")),
        v => id(v.as_ref()).ok_or(PayloadError::Invalid("id"))?,
    };
    let order_id = match &r.order_id {
        None => return Err(PayloadError::Missing("order_id")),
        v => id(v.as_ref()).ok_or(PayloadError::Invalid("order_id"))?,
    };
    let created = r.created_at.as_deref().ok_or(PayloadError::Missing("created_at"))?;
    let time_ms = timestamp::parse_ms(created).ok_or(PayloadError::Invalid("created_at"))?;
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for t in r.transactions.unwrap_or_default() {
        if t.kind.as_deref() != Some("refund") || t.status.as_deref() != Some("success") {
            continue;
        }
        let value = amount(t.amount.as_ref()).ok_or(PayloadError::Invalid("transactions.amount"))?;
        let code = currency(t.currency.as_deref()).ok_or(PayloadError::Invalid("transactions.currency"))?;
        *sums.entry(code).or_default() += value;
    }
    let amounts = sums.into_iter().map(|(c, x)| (c, round_amount(x))).collect();
    Ok(Refund { refund_id, order_id, time_ms, amounts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(v: serde_json::Value) -> Result<PaidOrder, PayloadError> {
        paid_order(v.to_string().as_bytes())
    }

    #[test]
    fn keeps_id_time_total_and_currency_of_an_order() {
        let o = order(
            json!({"id": 5_512_345_678_901u64, "admin_graphql_api_id": "gid://shopify/Order/5512345678901",
                             "email": "x@example.com", "created_at": "2026-11-22T04:29:00-05:00",
                             "processed_at": "2026-11-22T04:30:00-05:00", "total_price": "86.45",
                             "currency": "eur", "customer": {"first_name": "X"}}),
        )
        .expect("order");
        assert_eq!(
            o,
            PaidOrder {
                order_id: "5512345678901".into(),
                time_ms: 1_795_339_800_000,
                total: 86.45,
                currency: "EUR".into()
            }
        );
        // Shopify's test notification has no processed_at: created_at stands in.
        let o = order(json!({"id": 1, "processed_at": null, "created_at": "2026-11-22T09:30:00Z",
                             "total_price": 10, "currency": "USD"}))
        .expect("order");
        assert_eq!((o.time_ms, o.total), (1_795_339_800_000, 10.0));
        let by_gid = order(
            json!({"admin_graphql_api_id": "gid://shopify/Order/77", "created_at": "2026-11-22T09:30:00Z",
                                  "total_price": "1.00", "currency": "USD"}),
        )
        .expect("order");
        assert_eq!(by_gid.order_id, "77");
    }

    #[test]
    fn refuses_orders_without_id_or_with_a_total_that_is_no_amount() {
        let base =
            json!({"id": 1, "created_at": "2026-11-22T09:30:00Z", "total_price": "1.00", "currency": "USD"});
        let without = |k: &str| {
            let mut v = base.clone();
            v.as_object_mut().map(|m| m.remove(k));
            order(v)
        };
        let with = |k: &str, x: serde_json::Value| {
            let mut v = base.clone();
            v[k] = x;
            order(v)
        };
        assert_eq!(without("id"), Err(PayloadError::Missing("id")));
        assert_eq!(without("total_price"), Err(PayloadError::Missing("total_price")));
        assert_eq!(without("currency"), Err(PayloadError::Missing("currency")));
        assert_eq!(without("created_at"), Err(PayloadError::Missing("processed_at")));
        for bad in [json!("abc"), json!("1e3"), json!("-1.00"), json!("NaN"), json!(""), json!("1.")] {
            assert_eq!(with("total_price", bad.clone()), Err(PayloadError::Invalid("total_price")), "{bad}");
        }
        assert_eq!(with("id", json!("gid://shopify/Customer/1")), Err(PayloadError::Invalid("id")));
        assert_eq!(with("id", json!(-4)), Err(PayloadError::Invalid("id")));
        assert_eq!(with("created_at", json!("tomorrow")), Err(PayloadError::Invalid("processed_at")));
        assert_eq!(with("currency", json!("euro")), Err(PayloadError::Invalid("currency")));
        assert!(matches!(paid_order(b"not json"), Err(PayloadError::Shape { what: "order", .. })));
        assert!(matches!(paid_order(b"[1]"), Err(PayloadError::Shape { .. })));
    }

    #[test]
    fn errors_never_quote_the_body() {
        let body = json!({"id": 1, "created_at": "2026-11-22T09:30:00Z", "total_price": "1.00",
                          "currency": {"jane@example.com": 1}});
        let e = order(body).expect_err("currency of the wrong type");
        assert!(!e.to_string().contains("jane"), "{e}");
        let e = paid_order(br#""jane@example.com""#).expect_err("a string");
        assert!(!e.to_string().contains("jane"), "{e}");
    }

    #[test]
    fn a_refund_is_the_sum_of_its_successful_refund_transactions_per_currency() {
        let r = refund(
            json!({"id": 909, "order_id": 5_512_345_678_901u64, "created_at": "2026-11-23T10:00:00+01:00",
                   "note": "damaged", "refund_line_items": [{"line_item": {"name": "Tee"}}],
                   "transactions": [
                       {"kind": "refund", "status": "success", "amount": "10.10", "currency": "EUR"},
                       {"kind": "refund", "status": "success", "amount": "5.05", "currency": "EUR"},
                       {"kind": "refund", "status": "failure", "amount": "99.00", "currency": "EUR"},
                       {"kind": "refund", "status": "pending", "amount": "bogus", "currency": "EUR"},
                       {"kind": "sale", "status": "success", "amount": "50.00", "currency": "EUR"},
                       {"kind": "refund", "status": "success", "amount": "2.00", "currency": "USD"}]})
            .to_string()
            .as_bytes(),
        )
        .expect("refund");
        assert_eq!(
            r,
            Refund {
                refund_id: "909".into(),
                order_id: "5512345678901".into(),
                time_ms: 1_795_424_400_000,
                amounts: vec![("EUR".into(), 15.15), ("USD".into(), 2.0)],
            }
        );
        let restock_only =
            refund(br#"{"id": 1, "order_id": 2, "created_at": "2026-11-23T09:00:00Z", "transactions": []}"#)
                .expect("refund");
        assert!(restock_only.amounts.is_empty());
    }

    #[test]
    fn refuses_refunds_without_ids_or_with_a_counted_amount_that_is_no_amount() {
        assert_eq!(
            refund(br#"{"order_id": 2, "created_at": "2026-11-23T09:00:00Z"}"#),
            Err(PayloadError::Missing("id"))
        );
        assert_eq!(
            refund(br#"{"id": 1, "created_at": "2026-11-23T09:00:00Z"}"#),
            Err(PayloadError::Missing("order_id"))
        );
        assert_eq!(refund(br#"{"id": 1, "order_id": 2}"#), Err(PayloadError::Missing("created_at")));
        let bad = br#"{"id": 1, "order_id": 2, "created_at": "2026-11-23T09:00:00Z",
                       "transactions": [{"kind": "refund", "status": "success", "amount": "ten", "currency": "EUR"}]}"#;
        assert_eq!(refund(bad), Err(PayloadError::Invalid("transactions.amount")));
    }
}
