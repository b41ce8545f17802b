//! Fulfilment of a privacy ticket, which the original did by hand: map the
//! request's customer id and order ids to visitor ids through the stored checkout
//! events, then export every row of those visitors or delete them from every
//! table; the same for the facts of the request's orders from Shopify's order
//! webhooks (they name no customer, so only the order ids reach them);
//! `shop/redact` deletes everything of the shop's projects, the projects
//! themselves, the shop's install, orders and refunds, and the contact data of
//! its tickets.

use serde_json::{json, Value};

use super::errors::ApiError;
use super::tickets::{self, PrivacyRequest, Ticket};
use super::ShopifyState;
use crate::clock::now_ms;
use crate::store::StoreError;

/// What a fulfilment run produced.
#[derive(Debug, Clone)]
pub struct Fulfilled {
    /// Summary stored on the ticket.
    pub outcome: Value,
    /// For a data request: the export document (every row of the visitors).
    pub export: Option<Value>,
}

fn store_err(e: StoreError) -> ApiError {
    ApiError::Internal(format!("event store: {e}"))
}

/// How long a privacy request waits for storage to take what the spool holds
/// before answering 503 (the operator runs it again later).
const SPOOL_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

fn behind(e: crate::ingest::error::IngestError) -> ApiError {
    ApiError::Unavailable(format!("{e}: run the request again in a minute"))
}

/// Publishes a deletion to the other instances sharing the metadata store
/// and waits until each has applied it to its spool (see [`crate::deletions`];
/// no sites: a barrier, every spool drained); 503 when one cannot in time.
async fn everywhere(
    state: &ShopifyState,
    sites: &[u32],
    visitors: Option<&[String]>,
) -> Result<(), ApiError> {
    crate::deletions::everywhere(state.db.as_ref(), sites, visitors, SPOOL_WAIT).await.map_err(|e| match e {
        crate::deletions::EverywhereError::Meta(e) => ApiError::from(e),
        behind => ApiError::Unavailable(format!("{behind}: run the request again in a minute")),
    })
}

/// The id forms a stored event may carry: Shopify's numeric id and its GraphQL id.
fn id_forms(id: &str, kind: &str) -> Vec<String> {
    let numeric = id.rsplit('/').next().unwrap_or(id).to_string();
    vec![numeric.clone(), format!("gid://shopify/{kind}/{numeric}")]
}

/// Visitor ids whose checkouts name this customer or these orders.
async fn visitors(
    state: &ShopifyState,
    sites: &[u32],
    customer: Option<&str>,
    orders: &[String],
) -> Result<Vec<String>, ApiError> {
    let orders: Vec<String> = orders.iter().flat_map(|o| id_forms(o, "Order")).collect();
    let customers: Vec<Option<String>> = match customer {
        Some(c) => id_forms(c, "Customer").into_iter().map(Some).collect(),
        None => vec![None],
    };
    let mut found = Vec::new();
    for c in customers {
        found.extend(state.events.visitors_for(sites, c.as_deref(), &orders).await.map_err(store_err)?);
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// After the shop's events: its projects, its install and tokens, and the
/// contact data in its tickets.
async fn forget_shop(state: &ShopifyState, shop: &str, sites: &[u32]) -> Result<(), ApiError> {
    // A project another shop shares only loses this shop; one of this shop
    // alone goes.
    let store = state.projects.store();
    for id in sites {
        match store.project(*id).await? {
            Some(mut p) if p.shops.iter().any(|s| s != shop) => {
                p.shops.retain(|s| s != shop);
                store.upsert_project(&p).await?;
            }
            Some(_) => {
                store.delete_project(*id).await?;
            }
            None => {}
        }
        state.projects.forget(*id);
    }
    state.db.forget_shop(shop).await?;
    Ok(())
}

/// Where a shop's redaction keeps its sites while it deletes their projects.
const PENDING_SITES: &str = "pending_sites";

/// The sites of a shop's redaction that stopped after deleting its projects.
fn pending_sites(ticket: &Ticket) -> Vec<u32> {
    let sites = ticket.outcome.as_ref().and_then(|o| o.get(PENDING_SITES)).and_then(Value::as_array);
    sites.into_iter().flatten().filter_map(|s| s.as_u64()?.try_into().ok()).collect()
}

/// Runs the ticket's request against the event store and records the outcome.
pub async fn run(state: &ShopifyState, ticket: &Ticket) -> Result<Fulfilled, ApiError> {
    if !matches!(ticket.status.as_str(), "open" | "fulfilled") {
        return Err(ApiError::Conflict(format!("ticket {} is {}", ticket.id, ticket.status)));
    }
    let request = tickets::request_of(&ticket.topic, &ticket.body).ok_or_else(|| {
        ApiError::BadRequest(format!("ticket topic {} has nothing to fulfil", ticket.topic))
    })?;
    let project =
        state.projects.find_by_shop(&ticket.shop).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut sites: Vec<u32> = project.iter().map(|p| p.id).collect();
    if sites.is_empty() {
        sites = pending_sites(ticket);
    }
    let done = match request {
        PrivacyRequest::Customer { .. } if tickets::is_email_only(&request) => {
            return Err(ApiError::Conflict(tickets::EMAIL_ONLY_REASON.into()));
        }
        PrivacyRequest::Customer { redact, customer_id, orders: order_ids } => {
            // The customer's events still in the spool must be found too, in
            // every instance's spool.
            state.pipeline.settle(SPOOL_WAIT).await.map_err(behind)?;
            everywhere(state, &[], None).await?;
            let visitors = visitors(state, &sites, customer_id.as_deref(), &order_ids).await?;
            if redact {
                state.pipeline.forget(&sites, Some(&visitors), SPOOL_WAIT).await.map_err(behind)?;
                everywhere(state, &sites, Some(&visitors)).await?;
                let deleted = state.events.delete_visitors(&sites, &visitors).await.map_err(store_err)?;
                let order_rows = state.db.redact_orders(&ticket.shop, &order_ids).await?;
                let outcome = json!({"action": "redact", "sites": sites, "visitors": visitors.len(),
                                     "rows_deleted": deleted, "order_rows_deleted": order_rows,
                                     "store": state.events.name(), "at": now_ms()});
                Fulfilled { outcome, export: None }
            } else {
                let rows = state.events.export_visitors(&sites, &visitors).await.map_err(store_err)?;
                let facts = state.db.export_orders(&ticket.shop, &order_ids).await?;
                let outcome = json!({"action": "export", "sites": sites, "visitors": visitors.len(),
                                     "rows": rows.len(), "orders": facts.orders.len(),
                                     "refunds": facts.refunds.len(), "store": state.events.name(), "at": now_ms()});
                let export = json!({"ticket": ticket.id, "shop": ticket.shop, "generated_at": now_ms(),
                                    "visitors": visitors, "events": rows,
                                    "orders": facts.orders, "refunds": facts.refunds});
                Fulfilled { outcome, export: Some(export) }
            }
        }
        PrivacyRequest::Shop => {
            state.pipeline.forget(&sites, None, SPOOL_WAIT).await.map_err(behind)?;
            everywhere(state, &sites, None).await?;
            let mut deleted = state.events.delete_sites(&sites).await.map_err(store_err)?;
            // Kept with the ticket first: should the second pass below fail,
            // the request run again finds the sites there, their projects
            // being gone.
            let pending = json!({"action": "shop_redact", PENDING_SITES: sites});
            state.db.set_ticket_outcome(ticket.id, &ticket.status, &pending).await?;
            forget_shop(state, &ticket.shop, &sites).await?;
            // The projects are gone, but until then they took batches (here,
            // and on other instances for as long as they cached the lookup).
            // A second pass, now that no instance admits them any more: every
            // instance forgets the sites when it applies the deletion.
            state.pipeline.forget(&sites, None, SPOOL_WAIT).await.map_err(behind)?;
            everywhere(state, &sites, None).await?;
            deleted += state.events.delete_sites(&sites).await.map_err(store_err)?;
            let outcome = json!({"action": "shop_redact", "sites": sites, "rows_deleted": deleted,
                                 "projects_deleted": sites.len(), "store": state.events.name(), "at": now_ms()});
            Fulfilled { outcome, export: None }
        }
    };
    state.db.set_ticket_outcome(ticket.id, "fulfilled", &done.outcome).await?;
    tracing::info!(ticket = ticket.id, topic = %ticket.topic, shop = %ticket.shop, outcome = %done.outcome, "privacy request fulfilled");
    Ok(done)
}
