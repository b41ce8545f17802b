//! Webhook deliveries and privacy tickets in PostgreSQL.

use serde_json::Value;
use tokio_postgres::{Row, Transaction};

use super::PgMeta;
use crate::clock::now_ms_i64;
use crate::meta::{Applied, Delivery, MetaError, WebhookEffect, DELIVERY_RETENTION_MS};
use crate::shopify::orders::OrderFact;
use crate::shopify::tickets::{scrubbed_text, NewTicket, Ticket, COLUMNS, PLATFORM};

fn ticket(r: &Row) -> Ticket {
    let body: String = r.get(4);
    let outcome: Option<String> = r.get(10);
    Ticket {
        id: r.get(0),
        webhook_id: r.get(1),
        topic: r.get(2),
        shop: r.get(3),
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
        created_at: r.get(5),
        status: r.get(6),
        platform: r.get(7),
        resolved_at: r.get(8),
        resolver: r.get(9),
        outcome: outcome.and_then(|o| serde_json::from_str(&o).ok()),
    }
}

/// Applies an effect inside the delivery's transaction.
async fn apply(tx: &Transaction<'_>, d: &Delivery, effect: &WebhookEffect) -> Result<Applied, MetaError> {
    let now = now_ms_i64();
    Ok(match effect {
        WebhookEffect::Order(OrderFact::Paid(o)) => {
            let n = tx
                .execute(
                    "INSERT INTO shop_orders (shop, order_id, time_ms, total, currency) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT DO NOTHING",
                    &[&d.shop, &o.order_id, &o.time_ms, &o.total, &o.currency],
                )
                .await?;
            Applied::Order { new: n == 1 }
        }
        WebhookEffect::Order(OrderFact::Refund(r)) => {
            let mut new = 0;
            for (currency, amount) in &r.amounts {
                new += tx
                    .execute(
                        "INSERT INTO shop_refunds (shop, refund_id, order_id, time_ms, amount, currency)
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                        &[&d.shop, &r.refund_id, &r.order_id, &r.time_ms, amount, currency],
                    )
                    .await?;
            }
            Applied::Order { new: new > 0 }
        }
        WebhookEffect::Ticket(t) => insert_ticket(tx, d, t).await?,
        WebhookEffect::Uninstalled => {
            tx.execute(
                "INSERT INTO shops (shop, token, scopes, status, uninstalled_at, updated_at)
                 VALUES ($1, NULL, '', 'uninstalled', $2, $2)
                 ON CONFLICT (shop) DO UPDATE SET token = NULL, refresh_token = NULL, token_expires_at = NULL,
                    refresh_expires_at = NULL, status = 'uninstalled',
                    uninstalled_at = excluded.uninstalled_at, updated_at = excluded.updated_at",
                &[&d.shop, &now],
            )
            .await?;
            Applied::Uninstalled
        }
        WebhookEffect::Scopes(scopes) => {
            tx.execute(
                "UPDATE shops SET scopes = $2, updated_at = $3 WHERE shop = $1",
                &[&d.shop, scopes, &now],
            )
            .await?;
            Applied::ScopesUpdated
        }
        WebhookEffect::Nothing => Applied::Ignored,
    })
}

/// One ticket per delivery: a second insert of the same webhook id (its
/// delivery id forgotten meanwhile) is a duplicate, not an error.
async fn insert_ticket(tx: &Transaction<'_>, d: &Delivery, t: &NewTicket) -> Result<Applied, MetaError> {
    let row = tx
        .query_opt(
            "INSERT INTO tickets (webhook_id, topic, shop, body, created_at, status, platform, resolved_at,
                                  resolver, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (webhook_id) DO NOTHING RETURNING id",
            &[
                &d.webhook_id,
                &t.topic,
                &d.shop,
                &t.body,
                &t.created_at,
                &t.status,
                &PLATFORM,
                &t.resolved_at,
                &t.resolver,
                &t.outcome,
            ],
        )
        .await?;
    Ok(row.map_or(Applied::Duplicate, |r| Applied::Ticket(r.get(0))))
}

/// Drops the contact data from every ticket body of `shop`.
pub(super) async fn scrub_shop(tx: &Transaction<'_>, shop: &str) -> Result<usize, MetaError> {
    let rows = tx.query("SELECT id, body FROM tickets WHERE shop = $1 FOR UPDATE", &[&shop]).await?;
    for r in &rows {
        let (id, body): (i64, String) = (r.get(0), r.get(1));
        tx.execute("UPDATE tickets SET body = $2 WHERE id = $1", &[&id, &scrubbed_text(&body)]).await?;
    }
    Ok(rows.len())
}

impl PgMeta {
    pub(super) async fn apply_webhook(
        &self,
        d: &Delivery,
        effect: &WebhookEffect,
    ) -> Result<Applied, MetaError> {
        let now = now_ms_i64();
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Instances receiving the same delivery race on this insert: the
        // primary key makes every one but the first wait for it to commit and
        // then insert nothing.
        let n = tx
            .execute(
                "INSERT INTO webhook_deliveries (webhook_id, topic, shop, received_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT DO NOTHING",
                &[&d.webhook_id, &d.topic, &d.shop, &now],
            )
            .await?;
        if n == 0 {
            return Ok(Applied::Duplicate);
        }
        tx.execute(
            "DELETE FROM webhook_deliveries WHERE received_at < $1",
            &[&(now - DELIVERY_RETENTION_MS)],
        )
        .await?;
        let applied = apply(&tx, d, effect).await?;
        tx.commit().await?;
        Ok(applied)
    }

    pub(super) async fn ticket(&self, id: i64) -> Result<Option<Ticket>, MetaError> {
        let c = self.pool.get().await?;
        let row = c.query_opt(&format!("SELECT {COLUMNS} FROM tickets WHERE id = $1"), &[&id]).await?;
        Ok(row.as_ref().map(ticket))
    }

    pub(super) async fn tickets(&self, shop: Option<&str>) -> Result<Vec<Ticket>, MetaError> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM tickets WHERE $1::TEXT IS NULL OR shop = $1 ORDER BY id DESC LIMIT 1000"
                ),
                &[&shop],
            )
            .await?;
        Ok(rows.iter().map(ticket).collect())
    }

    pub(super) async fn set_ticket_outcome(
        &self,
        id: i64,
        status: &str,
        outcome: &Value,
    ) -> Result<(), MetaError> {
        let c = self.pool.get().await?;
        c.execute(
            "UPDATE tickets SET status = $2, outcome = $3 WHERE id = $1",
            &[&id, &status, &outcome.to_string()],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn resolve_ticket(&self, id: i64, resolver: &str) -> Result<bool, MetaError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT body FROM tickets WHERE id = $1 AND status IN ('open', 'fulfilled') FOR UPDATE",
                &[&id],
            )
            .await?;
        let Some(row) = row else { return Ok(false) };
        let body: String = row.get(0);
        tx.execute(
            "UPDATE tickets SET status = 'resolved', resolved_at = $2, resolver = $3, body = $4 WHERE id = $1",
            &[&id, &now_ms_i64(), &resolver, &scrubbed_text(&body)],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
