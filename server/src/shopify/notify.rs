//! Tells the team about a new privacy ticket: always in the log, and through an
//! outgoing webhook (a team chat's incoming-webhook URL) when one is configured.
//! The outgoing message names the ticket, never the customer's email or phone.

use serde_json::json;

use super::tickets::Ticket;

/// Where ticket notices go.
#[derive(Debug, Clone)]
pub struct Notifier {
    url: Option<String>,
    http: reqwest::Client,
}

impl Notifier {
    pub fn new(url: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self { url, http }
    }

    /// Logs the ticket and posts it to the outgoing webhook; failures are logged,
    /// the ticket itself is already stored.
    pub async fn ticket_created(&self, ticket: &Ticket) {
        tracing::warn!(
            target: "lummmen::privacy",
            ticket = ticket.id, topic = %ticket.topic, shop = %ticket.shop, status = %ticket.status,
            "privacy request received: review it on the admin page"
        );
        let Some(url) = &self.url else { return };
        let text = format!(
            "Privacy request #{} ({}) from {}: status {}",
            ticket.id, ticket.topic, ticket.shop, ticket.status
        );
        let message = json!({
            "text": text,
            "ticket": {"id": ticket.id, "topic": ticket.topic, "shop": ticket.shop, "status": ticket.status,
                       "platform": ticket.platform, "created_at": ticket.created_at},
        });
        match self.http.post(url).json(&message).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => {
                tracing::error!(status = %r.status(), ticket = ticket.id, "notify webhook refused the notice")
            }
            Err(e) => tracing::error!(error = %e, ticket = ticket.id, "notify webhook unreachable"),
        }
    }
}
