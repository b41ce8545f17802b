//! `POST /webhooks/shopify`: every webhook Shopify sends the app.
//!
//! The raw body is checked against `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256
//! keyed with the client secret, constant time) before anything else; a mismatch
//! is a 401, as Shopify's compliance review requires. A delivery id
//! (`X-Shopify-Webhook-Id`) already seen is acknowledged and ignored, since
//! Shopify retries deliveries. What must not be lost (the ticket, the uninstall)
//! is written in one transaction with the delivery id before the 200; the team
//! notice goes out after the answer.
//!
//! The order topics (`orders/paid`, `refunds/create`) are read straight into
//! the few fields kept (see [`super::orders`]): their bodies, full of the
//! customer's personal data, are never parsed into a JSON value. A body that
//! lacks a kept field is a 400, and nothing of it is stored, its delivery id
//! included.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::errors::ApiError;
use super::orders::{self, OrderFact};
use super::{tickets, ShopifyState};
use crate::clock::now_ms_i64;
use crate::meta::{Applied, Delivery, WebhookEffect};
use crate::shop::is_shop_domain;

/// Whether `signature` (base64) is the HMAC of `body` under any of `secrets`.
pub fn signature_matches(body: &[u8], signature: &str, secrets: &[&[u8]]) -> bool {
    let Ok(given) = B64.decode(signature.trim()) else { return false };
    secrets.iter().any(|secret| {
        Hmac::<Sha256>::new_from_slice(secret)
            .map(|mut mac| {
                mac.update(body);
                mac.verify_slice(&given).is_ok()
            })
            .unwrap_or(false)
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// The handler.
pub async fn receive(
    State(state): State<ShopifyState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    // The router's layer answers 503 before this while no secret is configured.
    let secrets = state.secrets();
    let signature = header(&headers, "x-shopify-hmac-sha256").ok_or(ApiError::WebhookSignature)?;
    if !signature_matches(&body, signature, &secrets) {
        return Err(ApiError::WebhookSignature);
    }
    let topic = header(&headers, "x-shopify-topic")
        .ok_or_else(|| ApiError::BadRequest("missing X-Shopify-Topic header".into()))?
        .to_string();
    let raw = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
    let parsed = match orders::parse(&topic, &body) {
        Some(fact) => Body::Order(fact.map_err(|e| ApiError::BadRequest(e.to_string()))?),
        None => Body::Json(
            serde_json::from_str(raw).map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?,
            raw.to_string(),
        ),
    };
    let in_body = match &parsed {
        Body::Json(v, _) => v.get("shop_domain").and_then(Value::as_str).map(String::from),
        Body::Order(_) => None,
    };
    let shop = header(&headers, "x-shopify-shop-domain")
        .map(String::from)
        .or(in_body)
        .filter(|s| is_shop_domain(s))
        .ok_or_else(|| {
            ApiError::BadRequest("missing or invalid shop domain (X-Shopify-Shop-Domain)".into())
        })?;
    // Shopify always sends a delivery id; without one, the body's digest stands in
    // so an identical retry is still recognised.
    let webhook_id = header(&headers, "x-shopify-webhook-id")
        .map(String::from)
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(&body))));

    let effect = match parsed {
        Body::Order(fact) => WebhookEffect::Order(fact),
        Body::Json(v, raw) if tickets::is_privacy_topic(&topic) => {
            WebhookEffect::Ticket(tickets::NewTicket::of(&topic, &raw, &v, now_ms_i64()))
        }
        Body::Json(_, _) if topic == "app/uninstalled" => WebhookEffect::Uninstalled,
        Body::Json(v, _) if topic == "app/scopes_update" => v
            .get("current")
            .and_then(Value::as_array)
            .map(|a| WebhookEffect::Scopes(a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")))
            .unwrap_or(WebhookEffect::Nothing),
        Body::Json(_, _) => WebhookEffect::Nothing,
    };
    let what = match &effect {
        WebhookEffect::Order(fact) => fact.what(),
        _ => "",
    };
    let delivery = Delivery { webhook_id: webhook_id.clone(), topic: topic.clone(), shop: shop.clone() };
    let outcome = state.db.apply_webhook(delivery, effect).await?;

    Ok(Json(match outcome {
        Applied::Duplicate => {
            tracing::debug!(%webhook_id, %topic, "duplicate webhook delivery ignored");
            json!({"status": "duplicate"})
        }
        Applied::Ticket(id) => {
            let notifier = state.notifier.clone();
            let db = Arc::clone(&state.db);
            tokio::spawn(async move {
                match db.ticket(id).await {
                    Ok(Some(ticket)) => notifier.ticket_created(&ticket).await,
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, ticket = id, "reading a new ticket for its notice"),
                }
            });
            json!({"status": "accepted", "ticket": id})
        }
        Applied::Uninstalled => {
            tracing::info!(%shop, "app uninstalled: offline token deleted");
            json!({"status": "accepted"})
        }
        Applied::Order { new } => {
            tracing::debug!(%shop, new, "{what} recorded");
            json!({"status": "accepted"})
        }
        Applied::ScopesUpdated => {
            tracing::info!(%shop, "granted scopes updated");
            json!({"status": "accepted"})
        }
        Applied::Ignored => {
            tracing::debug!(%topic, %shop, "webhook topic not handled; acknowledged");
            json!({"status": "ignored"})
        }
    }))
}

/// A body as read for its topic: an order topic's facts alone, any other
/// topic's JSON and its text (a privacy ticket keeps the body as sent).
enum Body {
    Order(OrderFact),
    Json(Value, String),
}
