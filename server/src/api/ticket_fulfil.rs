//! `POST /api/gdpr/tickets/{id}/fulfil`: run a privacy request against the
//! event store (see [`crate::shopify::fulfilment`]).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::tickets::{get, ticket_id, visible};
use crate::shopify::auth::Principal;
use crate::shopify::errors::ApiError;
use crate::shopify::{fulfilment, ShopifyState};

/// → the updated ticket, and for a data request the export
/// (`{"ticket": ..., "outcome": ..., "export": {..., "events": [...]}}`).
pub async fn fulfil(
    State(state): State<ShopifyState>,
    who: Principal,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(id)?;
    let ticket = visible(&state, &who, id).await?;
    let done = fulfilment::run(&state, &ticket).await?;
    let ticket = get(&state, id).await?;
    Ok(Json(json!({"ticket": ticket, "outcome": done.outcome, "export": done.export})))
}
