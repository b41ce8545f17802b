//! CORS of the heatmap endpoints, which the overlay calls from the merchant's
//! storefront: another origin than this server's, and one we cannot list (a
//! shop's primary domain is its own, not its myshopify host). Any origin may
//! read them, because nothing is ambient: the caller must send a token in
//! `Authorization`, and no cookie is ever read or allowed
//! (`Access-Control-Allow-Credentials` is never sent). Errors carry the
//! header too, so the overlay can tell an expired link (401) from a network
//! failure.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// How long a browser may keep a preflight's answer, in seconds.
pub const MAX_AGE_SECS: &str = "600";

/// `OPTIONS`: the preflight of a `GET` with `Authorization`.
pub async fn preflight() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE_SECS));
    res
}

/// Lets any origin read the response (a `map_response` layer).
pub async fn any_origin(mut res: Response) -> Response {
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}
