//! The privacy-ticket endpoints of the admin page: list, fulfil, resolve. A
//! merchant (session token) sees and acts on its own shop's tickets; an operator
//! (operator token) on every shop's.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::auth::Principal;
use super::errors::ApiError;
use super::tickets::{self, Ticket};
use super::{fulfilment, ShopifyState};

/// The ticket, if the caller may see it (another shop's ticket is "not found").
fn visible(state: &ShopifyState, who: &Principal, id: i64) -> Result<Ticket, ApiError> {
    let ticket = tickets::get(&state.db, id)?.ok_or_else(|| ApiError::NotFound(format!("no ticket {id}")))?;
    match who {
        Principal::Operator => Ok(ticket),
        Principal::Shop(claims) if claims.shop == ticket.shop => Ok(ticket),
        Principal::Shop(_) => Err(ApiError::NotFound(format!("no ticket {id}"))),
    }
}

/// `GET /api/gdpr/tickets` → `{"tickets": [...]}`, newest first.
pub async fn list(State(state): State<ShopifyState>, who: Principal) -> Result<Json<Value>, ApiError> {
    let shop = match &who {
        Principal::Operator => None,
        Principal::Shop(claims) => Some(claims.shop.as_str()),
    };
    Ok(Json(json!({"tickets": tickets::list(&state.db, shop)?})))
}

/// `POST /api/gdpr/tickets/{id}/fulfil` → the updated ticket, and for a data
/// request the export (`{"ticket": ..., "export": {..., "events": [...]}}`).
pub async fn fulfil(
    State(state): State<ShopifyState>,
    who: Principal,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let ticket = visible(&state, &who, id)?;
    let done = fulfilment::run(&state, &ticket).await?;
    let ticket = tickets::get(&state.db, id)?.ok_or_else(|| ApiError::NotFound(format!("no ticket {id}")))?;
    Ok(Json(json!({"ticket": ticket, "outcome": done.outcome, "export": done.export})))
}

/// `POST /api/gdpr/tickets/{id}/resolve` with `{"resolver": "name"}` (operators
/// must name themselves; a merchant is named by its token) → the ticket.
pub async fn resolve(
    State(state): State<ShopifyState>,
    who: Principal,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    visible(&state, &who, id)?;
    let named: Option<String> = if body.is_empty() {
        None
    } else {
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
        v.get("resolver").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(String::from)
    };
    let resolver = match (&who, named) {
        (Principal::Operator, Some(name)) => format!("operator {name}"),
        (Principal::Operator, None) => {
            return Err(ApiError::BadRequest(
                "operators must name themselves: {\"resolver\": \"name\"}".into(),
            ))
        }
        (Principal::Shop(claims), named) => {
            let user = claims.user.as_deref().map(|u| format!(" user {u}")).unwrap_or_default();
            let name = named.map(|n| format!(" ({n})")).unwrap_or_default();
            format!("{}{user}{name}", claims.shop)
        }
    };
    if !tickets::resolve(&state.db, id, &resolver)? {
        return Err(ApiError::Conflict(format!("ticket {id} is already closed")));
    }
    let ticket = tickets::get(&state.db, id)?.ok_or_else(|| ApiError::NotFound(format!("no ticket {id}")))?;
    Ok(Json(json!({"ticket": ticket})))
}
