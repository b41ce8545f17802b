//! Who is calling: a merchant's session token (`Authorization: Bearer <idToken>`)
//! or an operator token; on the heatmap endpoints also a heatmap overlay token
//! ([`HeatmapReader`]). Every failure is the same generic 401.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::errors::ApiError;
use super::overlay_token::{self, OverlayGrant};
use super::session_token::{self, SessionClaims};
use super::ShopifyState;
use crate::clock::now_secs;

/// A caller proven by a valid session token.
#[derive(Debug, Clone)]
pub struct ShopSession(pub SessionClaims);

/// A caller of the ticket endpoints.
#[derive(Debug, Clone)]
pub enum Principal {
    /// Holds the operator token: sees every shop.
    Operator,
    /// A merchant: sees its own shop.
    Shop(SessionClaims),
}

fn bearer(parts: &Parts) -> Option<&str> {
    bearer_of(&parts.headers)
}

/// The bearer token of a request's `Authorization` header.
pub fn bearer_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then_some(token)
}

pub(crate) fn verify_session(state: &ShopifyState, token: &str) -> Result<SessionClaims, ApiError> {
    let client_id = state.settings.client_id.as_deref().ok_or(ApiError::Unauthorized)?;
    let secrets = state.secrets();
    if secrets.is_empty() {
        return Err(ApiError::Unauthorized);
    }
    session_token::verify(token, &secrets, client_id, now_secs()).map_err(|why| {
        tracing::debug!(?why, "session token refused");
        ApiError::Unauthorized
    })
}

impl<S: Send + Sync> FromRequestParts<S> for ShopSession
where
    ShopifyState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        verify_session(&ShopifyState::from_ref(state), token).map(ShopSession)
    }
}

/// A caller of the heatmap endpoints (`/api/heatmap`, `/api/heatmap/pages`):
/// the callers of the admin API, or the merchant's storefront tab holding an
/// overlay token. A type of its own, so that no other endpoint can take an
/// overlay token.
#[derive(Debug, Clone)]
pub enum HeatmapReader {
    Admin(Principal),
    /// The heatmap overlay on the storefront: reads one site for a few minutes.
    Overlay(OverlayGrant),
}

fn is_operator(state: &ShopifyState, token: &str) -> bool {
    state.settings.operator_token.as_ref().is_some_and(|op| bool::from(token.as_bytes().ct_eq(op.as_bytes())))
}

fn principal(state: &ShopifyState, token: &str) -> Result<Principal, ApiError> {
    if is_operator(state, token) {
        return Ok(Principal::Operator);
    }
    verify_session(state, token).map(Principal::Shop)
}

/// Checks an overlay token with the keys of the current and previous client
/// secrets; none configured, none valid.
pub(crate) fn verify_overlay(state: &ShopifyState, token: &str) -> Result<OverlayGrant, ApiError> {
    let keys: Vec<[u8; 32]> = state.secrets().into_iter().map(overlay_token::key).collect();
    overlay_token::verify(token, &keys, now_secs()).map_err(|why| {
        tracing::debug!(?why, "overlay token refused");
        ApiError::Unauthorized
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Principal
where
    ShopifyState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        principal(&ShopifyState::from_ref(state), token)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HeatmapReader
where
    ShopifyState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = ShopifyState::from_ref(state);
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        if overlay_token::is_overlay(token) && !is_operator(&state, token) {
            return verify_overlay(&state, token).map(HeatmapReader::Overlay);
        }
        principal(&state, token).map(HeatmapReader::Admin)
    }
}
