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

/// A ticket body without the customer's contact data: every `email` and
/// `phone`, and every field of an address, at any depth, dropped. What is kept
/// (ids, order ids, dates) is what the audit trail needs.
pub fn scrub(body: &Value) -> Value {
    match body {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    !(k == "email" || k == "phone" || k.contains("address"))
                })
                .map(|(k, v)| (k.clone(), scrub(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(scrub).collect()),
        other => other.clone(),
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

pub(crate) const COLUMNS: &str =
    "id, webhook_id, topic, shop, body, created_at, status, platform, resolved_at, resolver, outcome";

/// A ticket about to be written: what a compliance webhook's body makes,
/// decided the same for every store. Email-only requests are closed at once,
/// with the reason, and keep no contact data, as a resolved one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    pub topic: String,
    /// The body to store: as sent, or scrubbed when closed at once.
    pub body: String,
    pub created_at: i64,
    pub status: &'static str,
    pub resolved_at: Option<i64>,
    pub resolver: Option<&'static str>,
    pub outcome: Option<String>,
}

impl NewTicket {
    /// The ticket of a delivery of `topic` with this body, received at `now`.
    pub fn of(topic: &str, raw_body: &str, body: &Value, now: i64) -> Self {
        let email_only = request_of(topic, body).as_ref().is_some_and(is_email_only);
        let topic = topic.to_string();
        if email_only {
            let outcome = serde_json::json!({"unfulfillable": EMAIL_ONLY_REASON}).to_string();
            Self {
                topic,
                body: scrub(body).to_string(),
                created_at: now,
                status: "unfulfillable",
                resolved_at: Some(now),
                resolver: Some(AUTOMATIC_RESOLVER),
                outcome: Some(outcome),
            }
        } else {
            let body = raw_body.to_string();
            Self {
                topic,
                body,
                created_at: now,
                status: "open",
                resolved_at: None,
                resolver: None,
                outcome: None,
            }
        }
    }
}

/// Writes a ticket inside the delivery's transaction; answers its id.
pub fn insert(tx: &Transaction<'_>, webhook_id: &str, shop: &str, t: &NewTicket) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO tickets (webhook_id, topic, shop, body, created_at, status, platform, resolved_at, resolver, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            webhook_id,
            t.topic,
            shop,
            t.body,
            t.created_at,
            t.status,
            PLATFORM,
            t.resolved_at,
            t.resolver,
            t.outcome
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// The body a ticket keeps once signed off or once its shop is redacted:
/// the stored body without contact data (empty when it is not JSON).
pub fn scrubbed_text(body: &str) -> String {
    serde_json::from_str(body).map(|b| scrub(&b).to_string()).unwrap_or_default()
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

/// Signs a ticket off: who and when, and drops the customer's contact data
/// from its body. False when it was already closed.
pub fn resolve(db: &AppDb, id: i64, resolver: &str) -> rusqlite::Result<bool> {
    db.with_tx(|tx| {
        let body: Option<String> = tx
            .query_row("SELECT body FROM tickets WHERE id = ?1 AND status IN ('open', 'fulfilled')", [id], |r| {
                r.get(0)
            })
            .optional()?;
        let Some(body) = body else { return Ok(false) };
        let scrubbed = scrubbed_text(&body);
        tx.execute(
            "UPDATE tickets SET status = 'resolved', resolved_at = ?2, resolver = ?3, body = ?4 WHERE id = ?1",
            params![id, now_ms_i64(), resolver, scrubbed],
        )?;
        Ok(true)
    })
}

/// Drops the contact data from every ticket body of `shop` (`shop/redact`).
pub fn scrub_shop(tx: &Transaction<'_>, shop: &str) -> rusqlite::Result<usize> {
    let bodies: Vec<(i64, String)> = {
        let mut stmt = tx.prepare("SELECT id, body FROM tickets WHERE shop = ?1")?;
        let rows = stmt.query_map([shop], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, body) in &bodies {
        let scrubbed = scrubbed_text(body);
        tx.execute("UPDATE tickets SET body = ?2 WHERE id = ?1", params![id, scrubbed])?;
    }
    Ok(bodies.len())
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

    #[test]
    fn scrubbing_drops_emails_phones_and_addresses_at_any_depth_and_keeps_ids() {
        let body = json!({"shop_domain": "a.myshopify.com", "orders_requested": [1],
                          "customer": {"id": 7, "email": "j@example.com", "phone": "555",
                                       "default_address": {"address1": "1 Main St"}},
                          "orders": [{"id": 1, "Email": "x@example.com", "billing_address": {}}]});
        let s = scrub(&body);
        assert_eq!(
            s,
            json!({"shop_domain": "a.myshopify.com", "orders_requested": [1],
                             "customer": {"id": 7}, "orders": [{"id": 1}]})
        );
    }
}
