//! The one error type of the Shopify surfaces, mapped to status codes in one place.
//! Every body is `{"error": ..., "detail": ...}`.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// What went wrong, as the caller may learn it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Any failure of a session token or operator token. The body never says
    /// which check failed, so it cannot be used as an oracle.
    #[error("unauthorized")]
    Unauthorized,
    /// A webhook whose `X-Shopify-Hmac-Sha256` does not match its body.
    #[error("webhook signature does not match")]
    WebhookSignature,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The server lacks the settings this endpoint needs (client secret, key, ...).
    #[error("{0}")]
    NotConfigured(&'static str),
    /// Shopify answered something we cannot use.
    #[error("{0}")]
    Upstream(String),
    /// Shopify refuses the shop's offline token and will not exchange a new
    /// one: the merchant must authorize the app again, at `url`.
    #[error("Shopify no longer accepts this app's access to the shop: authorize it again")]
    Reauthorize { url: String },
    /// Something we depend on is behind (storage still taking the spool):
    /// the same request later will do.
    #[error("{0}")]
    Unavailable(String),
    /// Our own failure (database, ...): logged, reported without details.
    #[error("{0}")]
    Internal(String),
}

/// Set on every 401 of a session-token endpoint: App Bridge retries such a
/// request once with a fresh session token.
pub const RETRY_INVALID_SESSION: &str = "x-shopify-retry-invalid-session-request";

/// Set when the merchant must authorize the app again, with the URL to go to.
pub const REAUTHORIZE: &str = "x-shopify-api-request-failure-reauthorize";
pub const REAUTHORIZE_URL: &str = "x-shopify-api-request-failure-reauthorize-url";

/// The body of every 401 from a session-token endpoint, byte for byte.
pub const UNAUTHORIZED_BODY: &str = r#"{"error":"unauthorized","detail":"missing or invalid credentials"}"#;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = match &self {
            ApiError::Unauthorized => {
                // The header tells App Bridge to fetch a fresh session token
                // and retry the request once, as Shopify's own libraries do.
                return (
                    StatusCode::UNAUTHORIZED,
                    [
                        (axum::http::header::CONTENT_TYPE, "application/json"),
                        (HeaderName::from_static(RETRY_INVALID_SESSION), "1"),
                    ],
                    UNAUTHORIZED_BODY,
                )
                    .into_response();
            }
            ApiError::Reauthorize { url } => {
                // Shopify's libraries answer so; the admin page sends the top
                // window to the URL, since OAuth cannot run inside the iframe.
                let body = json!({"error": "reauthorize", "detail": self.to_string(), "url": url});
                let mut res = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
                let h = res.headers_mut();
                h.insert(HeaderName::from_static(REAUTHORIZE), HeaderValue::from_static("1"));
                if let Ok(v) = HeaderValue::from_str(url) {
                    h.insert(HeaderName::from_static(REAUTHORIZE_URL), v);
                }
                return res;
            }
            ApiError::WebhookSignature => (StatusCode::UNAUTHORIZED, "invalid_hmac"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::NotConfigured(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_configured"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "shopify_error"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let detail = match &self {
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "shopify endpoint failed");
                "internal error".to_string()
            }
            ApiError::Upstream(e) => {
                tracing::warn!(error = %e, "shopify answered an error");
                self.to_string()
            }
            other => other.to_string(),
        };
        (status, Json(json!({"error": error, "detail": detail}))).into_response()
    }
}

impl From<crate::meta::MetaError> for ApiError {
    fn from(e: crate::meta::MetaError) -> Self {
        ApiError::Internal(format!("app database: {e}"))
    }
}
