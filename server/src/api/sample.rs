//! `POST /api/sample` with `{"sample": 0..100}`: the share of visitors tracked.
//! Saved on the project, then written to the shop like enabling does (the
//! metafield the theme embed reads, and the pixel).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;

use super::enable::apply;
use super::site::project_or_onboard;
use crate::shopify::auth::{bearer_of, ShopSession};
use crate::shopify::errors::ApiError;
use crate::shopify::ShopifyState;

/// The sample a body asks for, or a 400 saying what is wrong.
pub fn sample_of(body: &[u8]) -> Result<u8, ApiError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("body is not JSON: {e}")))?;
    v.get("sample")
        .and_then(Value::as_u64)
        .filter(|s| *s <= 100)
        .and_then(|s| u8::try_from(s).ok())
        .ok_or_else(|| ApiError::BadRequest("`sample` must be a whole percentage from 0 to 100".into()))
}

/// `POST /api/sample` → what enabling answers, with the new sample.
pub async fn set_sample(
    State(state): State<ShopifyState>,
    ShopSession(claims): ShopSession,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let sample = sample_of(&body)?;
    let mut project = project_or_onboard(&state, &claims.shop).await?;
    project.sample = sample;
    state.projects.store().upsert_project(&project).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    state.projects.forget(project.id);
    tracing::info!(shop = %claims.shop, site_id = project.id, sample, "sample changed");
    let session = bearer_of(&headers).ok_or(ApiError::Unauthorized)?;
    apply(&state, &claims.shop, session, &project).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_percentage_is_a_sample() {
        assert_eq!(sample_of(br#"{"sample": 25}"#).ok(), Some(25));
        for bad in [&br#"{"sample": 101}"#[..], br#"{"sample": -1}"#, br#"{"sample": 2.5}"#, br#"{}"#, b"x"] {
            assert!(
                matches!(sample_of(bad), Err(ApiError::BadRequest(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
