//! A session-token source for local development, where no Shopify admin embeds
//! the page: `GET /api/dev/session-token` mints a short-lived HS256 token for the
//! demo shop, signed with the configured client secret, exactly as App Bridge's
//! `shopify.idToken()` would give it. Off unless `--dev-session-tokens` is set
//! (`scripts/run.sh` sets it); anyone who can reach the server could act as the
//! demo shop, so it must never be on in production.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::admin_page::AdminPage;
use crate::clock::now_secs;
use crate::projects::demo_project;
use crate::shopify::errors::ApiError;
use crate::shopify::{session_token, ShopifyState};

/// Lifetime of a development token; App Bridge's tokens live one minute too.
pub const TTL_SECS: i64 = 60;

/// The claims Shopify puts in a session token for `shop`.
pub fn claims(shop: &str, client_id: &str, now: i64) -> Value {
    json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": client_id,
           "sub": "1", "exp": now + TTL_SECS, "nbf": now, "iat": now, "jti": format!("dev-{now}"),
           "sid": "dev"})
}

/// `GET /api/dev/session-token` → `{"token", "shop", "expiresAt"}`; 404 when
/// development tokens are off.
pub async fn mint(
    State(page): State<AdminPage>,
    State(state): State<ShopifyState>,
) -> Result<Json<Value>, ApiError> {
    if !page.dev_tokens {
        return Err(ApiError::NotFound("no such endpoint".into()));
    }
    let settings = &state.settings;
    let (Some(client_id), Some(secret)) = (settings.client_id.as_deref(), settings.secrets.first()) else {
        return Err(ApiError::NotConfigured(
            "development tokens need --shopify-client-id and --shopify-client-secret",
        ));
    };
    let shop = demo_project().shops.into_iter().next().unwrap_or_default();
    let linked = state.projects.find_by_shop(&shop).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    if linked.is_none() {
        return Err(ApiError::Conflict(format!("{shop} has no project: start the server with --seed-demo")));
    }
    let now = now_secs();
    let token =
        session_token::sign(secret, &json!({"alg": "HS256", "typ": "JWT"}), &claims(&shop, client_id, now));
    Ok(Json(json!({"token": token, "shop": shop, "expiresAt": now + TTL_SECS})))
}
