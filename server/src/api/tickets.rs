//! `GET /api/gdpr/tickets`: the privacy tickets a caller may see. A merchant
//! (session token) sees its own shop's; an operator (operator token) every
//! shop's. Also what the ticket actions share: finding a ticket the caller may
//! act on.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::shopify::auth::Principal;
use crate::shopify::errors::ApiError;
use crate::shopify::tickets::Ticket;
use crate::shopify::ShopifyState;

/// The `{id}` of a ticket path, or a JSON 400 naming what is wrong with it.
pub fn ticket_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    id.map(|Path(id)| id).map_err(|e| ApiError::BadRequest(format!("ticket id: {}", e.body_text())))
}

/// The ticket, read off the runtime's workers.
pub async fn get(state: &ShopifyState, id: i64) -> Result<Ticket, ApiError> {
    state.db.ticket(id).await?.ok_or_else(|| ApiError::NotFound(format!("no ticket {id}")))
}

/// The ticket, if the caller may see it (another shop's ticket is "not found").
pub async fn visible(state: &ShopifyState, who: &Principal, id: i64) -> Result<Ticket, ApiError> {
    let ticket = get(state, id).await?;
    match who {
        Principal::Operator => Ok(ticket),
        Principal::Shop(claims) if claims.shop == ticket.shop => Ok(ticket),
        Principal::Shop(_) => Err(ApiError::NotFound(format!("no ticket {id}"))),
    }
}

/// `GET /api/gdpr/tickets` → `{"tickets": [...]}`, newest first.
pub async fn list(State(state): State<ShopifyState>, who: Principal) -> Result<Json<Value>, ApiError> {
    let shop = match who {
        Principal::Operator => None,
        Principal::Shop(claims) => Some(claims.shop),
    };
    let found = state.db.tickets(shop.as_deref()).await?;
    Ok(Json(json!({"tickets": found})))
}
