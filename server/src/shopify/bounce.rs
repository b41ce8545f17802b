//! The session-token bounce, as Shopify's own app libraries do it: a document
//! request for the embedded page that carries no valid `id_token` (none, or
//! expired: App Bridge's tokens live a minute) is sent to
//! `/auth/session-token`, a page that only loads App Bridge. App Bridge fetches
//! a fresh session token and reloads `shopify-reload` with it as `id_token`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::errors::ApiError;
use super::ShopifyState;

/// Where the bounce page is served.
pub const PATH: &str = "/auth/session-token";

/// The bounce for a document request of `path` with these query parameters:
/// the same request without its (missing or invalid) `id_token` becomes
/// `shopify-reload`, and `shop` and `host` are passed on for App Bridge.
pub fn bounce_url(path: &str, params: &[(String, String)]) -> String {
    let kept: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "id_token").collect();
    let reload = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in kept.iter().filter(|(k, _)| k == "shop" || k == "host") {
        out.append_pair(k, v);
    }
    out.append_pair("shopify-reload", &format!("{path}?{reload}"));
    format!("{PATH}?{}", out.finish())
}

/// Query of the bounce page.
#[derive(Debug, serde::Deserialize)]
pub struct BounceParams {
    #[serde(rename = "shopify-reload")]
    pub reload: Option<String>,
}

/// `GET /auth/session-token`: App Bridge and nothing else. `shopify-reload`
/// must be a path of this app, never another site.
pub async fn page(
    State(state): State<ShopifyState>,
    params: Result<Query<BounceParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| ApiError::BadRequest(format!("query string: {}", e.body_text())))?;
    let reload = params.reload.unwrap_or_default();
    // Browsers drop tabs and newlines from URLs and read `\` as `/`, so any
    // of them could turn `/\t/evil.example` into another site.
    let odd = |c: char| c.is_control() || c.is_whitespace() || c == '\\';
    if !reload.starts_with('/') || reload.starts_with("//") || reload.contains(odd) {
        return Err(ApiError::BadRequest("`shopify-reload` must be a path of this app".into()));
    }
    let head = crate::admin_page::head(state.settings.client_id.as_deref(), false);
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\n\
         {head}\n<title>Lummmen</title></head>\n<body><p>Loading Lummmen&hellip;</p></body></html>\n"
    );
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
        .into_response())
}

/// A redirect to the bounce.
pub fn redirect(path: &str, params: &[(String, String)]) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, bounce_url(path, params))]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounce_reloads_the_same_request_without_its_id_token() {
        let params: Vec<(String, String)> =
            [("embedded", "1"), ("shop", "a.myshopify.com"), ("host", "aG9zdA"), ("id_token", "old")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let url = bounce_url("/admin/", &params);
        assert_eq!(
            url,
            "/auth/session-token?shop=a.myshopify.com&host=aG9zdA&shopify-reload=%2Fadmin%2F%3Fembedded%3D1%26shop%3Da.myshopify.com%26host%3DaG9zdA"
        );
    }
}
