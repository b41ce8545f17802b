//! `POST /api/gdpr/tickets/{id}/resolve`: close a ticket, naming who did.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::tickets::{get, ticket_id, visible};
use crate::shopify::auth::Principal;
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// Who resolves: an operator must name themselves; a merchant is named by its
/// token (shop and user), with the name it gives in brackets.
fn resolver(who: &Principal, body: &[u8]) -> Result<String, ApiError> {
    let named: Option<String> = if body.is_empty() {
        None
    } else {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
        v.get("resolver").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(String::from)
    };
    match (who, named) {
        (Principal::Operator, Some(name)) => Ok(format!("operator {name}")),
        (Principal::Operator, None) => {
            Err(ApiError::BadRequest("operators must name themselves: {\"resolver\": \"name\"}".into()))
        }
        (Principal::Shop(claims), named) => {
            let user = claims.user.as_deref().map(|u| format!(" user {u}")).unwrap_or_default();
            let name = named.map(|n| format!(" ({n})")).unwrap_or_default();
            Ok(format!("{}{user}{name}", claims.shop))
        }
    }
}

/// `POST /api/gdpr/tickets/{id}/resolve` with `{"resolver": "name"}` → the ticket.
pub async fn resolve(
    State(state): State<ShopifyState>,
    who: Principal,
    id: Result<Path<i64>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(id)?;
    visible(&state, &who, id).await?;
    let resolver = resolver(&who, &body)?;
    if !state.db.resolve_ticket(id, &resolver).await? {
        return Err(ApiError::Conflict(format!("ticket {id} is already closed")));
    }
    Ok(Json(json!({"ticket": get(&state, id).await?})))
}
