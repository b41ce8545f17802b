//! Privacy tickets, the audit trail of every compliance webhook: the webhook body,
//! when it came, its status, the platform ("Shopify"), and once resolved, when and
//! by whom; plus the outcome of fulfilment.
//!
//! Statuses: `open` (received), `fulfilled` (export or deletion ran; awaiting a
//! person's sign-off), `resolved` (signed off), `unfulfillable` (closed at once:
//! the request names only an email, and Lummmen stores none).

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::Serialize;
use serde_json::Value;

use super::db::AppDb;
use crate::clock::now_ms_i64;

pub const PLATFORM: &str = "Shopify";
/// Who closes email-only requests.
pub const AUTOMATIC_RESOLVER: &str = "lummmen (automatic)";
pub const EMAIL_ONLY_REASON: &str =
    "the request identifies the customer only by email or phone; Lummmen stores no emails or phones, so no data can be linked to it";

/// A ticket as stored and as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    pub id: i64,
    pub webhook_id: Option<String>,
    pub topic: String,
    pub shop: String,
    /// The webhook body as Shopify sent it.
    pub body: Value,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub status: String,
    pub platform: String,
    pub resolved_at: Option<i64>,
    pub resolver: Option<String>,
    /// What fulfilment did (visitors matched, rows deleted or exported, reason).
    pub outcome: Option<Value>,
}

/// What a compliance webhook asks for, read from its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivacyRequest {
    /// `customers/data_request` or `customers/redact`: a customer id and order ids.
    Customer { redact: bool, customer_id: Option<String>, orders: Vec<String> },
    /// `shop/redact`: everything of the shop.
    Shop,
}

/// The compliance topics that make tickets.
pub fn is_privacy_topic(topic: &str) -> bool {
    matches!(topic, "customers/data_request" | "customers/redact" | "shop/redact")
}

/// Reads the request of a ticket's topic and body (ids may be numbers or strings).
pub fn request_of(topic: &str, body: &Value) -> Option<PrivacyRequest> {
    let id = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let orders = |key: &str| -> Vec<String> {
        body.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(id).collect()).unwrap_or_default()
    };
    let customer_id = body.get("customer").and_then(|c| c.get("id")).and_then(id);
    match topic {
        "customers/data_request" => {
            Some(PrivacyRequest::Customer { redact: false, customer_id, orders: orders("orders_requested") })
        }
        "customers/redact" => {
            Some(PrivacyRequest::Customer { redact: true, customer_id, orders: orders("orders_to_redact") })
        }
        "shop/redact" => Some(PrivacyRequest::Shop),
        _ => None,
    }
}

/// Whether the request carries nothing we can link to stored data.
pub fn is_email_only(request: &PrivacyRequest) -> bool {
    matches!(request, PrivacyRequest::Customer { customer_id: None, orders, .. } if orders.is_empty())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Ticket> {
    let body: String = r.get(4)?;
    let outcome: Option<String> = r.get(10)?;
    Ok(Ticket {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        topic: r.get(2)?,
        shop: r.get(3)?,
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
        created_at: r.get(5)?,
        status: r.get(6)?,
        platform: r.get(7)?,
        resolved_at: r.get(8)?,
        resolver: r.get(9)?,
        outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
    })
}

const COLUMNS: &str =
    "id, webhook_id, topic, shop, body, created_at, status, platform, resolved_at, resolver, outcome";

/// Writes the ticket of a compliance webhook inside the delivery's transaction;
/// email-only requests are closed at once with the reason.
pub fn create(
    tx: &Transaction<'_>,
    webhook_id: &str,
    topic: &str,
    shop: &str,
    raw_body: &str,
    body: &Value,
) -> rusqlite::Result<i64> {
    let now = now_ms_i64();
    let email_only = request_of(topic, body).as_ref().is_some_and(is_email_only);
    let (status, resolved_at, resolver, outcome) = if email_only {
        let outcome = serde_json::json!({"unfulfillable": EMAIL_ONLY_REASON}).to_string();
        ("unfulfillable", Some(now), Some(AUTOMATIC_RESOLVER), Some(outcome))
    } else {
        ("open", None, None, None)
    };
    tx.execute(
        "INSERT INTO tickets (webhook_id, topic, shop, body, created_at, status, platform, resolved_at, resolver, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![webhook_id, topic, shop, raw_body, now, status, PLATFORM, resolved_at, resolver, outcome],
    )?;
    Ok(tx.last_insert_rowid())
}

pub fn get(db: &AppDb, id: i64) -> rusqlite::Result<Option<Ticket>> {
    db.lock().query_row(&format!("SELECT {COLUMNS} FROM tickets WHERE id = ?1"), [id], from_row).optional()
}

/// Tickets, newest first; only `shop`'s when given.
pub fn list(db: &AppDb, shop: Option<&str>) -> rusqlite::Result<Vec<Ticket>> {
    let conn = db.lock();
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE ?1 IS NULL OR shop = ?1 ORDER BY id DESC LIMIT 1000"
    ))?;
    let rows = stmt.query_map([shop], from_row)?;
    rows.collect()
}

/// Records what fulfilment did.
pub fn set_outcome(db: &AppDb, id: i64, status: &str, outcome: &Value) -> rusqlite::Result<()> {
    db.lock().execute(
        "UPDATE tickets SET status = ?2, outcome = ?3 WHERE id = ?1",
        params![id, status, outcome.to_string()],
    )?;
    Ok(())
}

/// Signs a ticket off: who and when. False when it was already closed.
pub fn resolve(db: &AppDb, id: i64, resolver: &str) -> rusqlite::Result<bool> {
    let n = db.lock().execute(
        "UPDATE tickets SET status = 'resolved', resolved_at = ?2, resolver = ?3
         WHERE id = ?1 AND status IN ('open', 'fulfilled')",
        params![id, now_ms_i64(), resolver],
    )?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_customer_ids_and_orders_and_spots_email_only_requests() {
        let body = json!({"shop_id": 1, "shop_domain": "a.myshopify.com", "orders_requested": [299938, "280263"],
                          "customer": {"id": 191167, "email": "j@example.com", "phone": "555"},
                          "data_request": {"id": 9999}});
        let req = request_of("customers/data_request", &body).expect("request");
        assert_eq!(
            req,
            PrivacyRequest::Customer {
                redact: false,
                customer_id: Some("191167".into()),
                orders: vec!["299938".into(), "280263".into()]
            }
        );
        assert!(!is_email_only(&req));
        let email = json!({"shop_domain": "a.myshopify.com", "customer": {"email": "j@example.com"}, "orders_to_redact": []});
        assert!(is_email_only(&request_of("customers/redact", &email).expect("request")));
        assert_eq!(request_of("shop/redact", &json!({})), Some(PrivacyRequest::Shop));
        assert_eq!(request_of("orders/create", &json!({})), None);
    }
}
