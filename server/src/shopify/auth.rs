//! Who is calling: a merchant's session token (`Authorization: Bearer <idToken>`)
//! or an operator token. Every failure is the same generic 401.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::errors::ApiError;
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

impl<S: Send + Sync> FromRequestParts<S> for Principal
where
    ShopifyState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = ShopifyState::from_ref(state);
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        if let Some(op) = &state.settings.operator_token {
            if bool::from(token.as_bytes().ct_eq(op.as_bytes())) {
                return Ok(Principal::Operator);
            }
        }
        verify_session(&state, token).map(Principal::Shop)
    }
}
