//! `POST /collect` and its CORS preflight: the thin HTTP edge around the pure
//! decoding path, the project lookup, the rate limiter and the spool.
//!
//! Every answer is readable from any origin (`Access-Control-Allow-Origin: *`,
//! `Retry-After` exposed, never credentials): the tracker runs on storefronts
//! under any custom domain and the web pixel in a sandbox whose origin is
//! `null`, and both must read a 429, 503 or 413 to keep the batch and send it
//! again instead of counting it delivered. Nothing is lost by it: the answer
//! says only whether a batch was taken, and sending needs no credentials
//! anyway.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::decode::{decode, DecodeLimits};
use super::error::IngestError;
use super::Ingest;

/// `POST /collect`: a [`protocol::Batch`] as JSON. Answers 200
/// `{"ok":true,"events":N}` once the batch is durable in the spool.
pub async fn collect(State(ingest): State<Ingest>, req: Request) -> Response {
    let started = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let client =
        parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| ingest.client_ip(c.0.ip(), &parts.headers));
    let result = async {
        let (batch, json) = read_batch(&ingest, &parts.headers, body).await?;
        ingest.admit(batch.site_id, client).await?;
        let facts = ingest.request_facts(client, &parts.headers);
        ingest.accept(batch, &json, facts.as_ref()).await
    }
    .await;
    let mut res = match result {
        Ok(events) => {
            ingest.metrics().accepted(events);
            ingest.metrics().acknowledged(started.elapsed().as_secs_f64());
            (StatusCode::OK, Json(serde_json::json!({ "ok": true, "events": events }))).into_response()
        }
        Err(e) => {
            ingest.metrics().rejected(e.code());
            if e.status().is_server_error() {
                tracing::error!(error = %e, "collect failed");
            } else {
                tracing::debug!(error = %e, "collect rejected");
            }
            e.into_response()
        }
    };
    add_cors(res.headers_mut());
    res
}

async fn read_batch(
    ingest: &Ingest,
    headers: &HeaderMap,
    body: Body,
) -> Result<(protocol::Batch, Vec<u8>), IngestError> {
    let max_body = ingest.max_body();
    let bytes = axum::body::to_bytes(body, max_body)
        .await
        .map_err(|_| IngestError::BodyTooLarge { max: max_body })?;
    let ct = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("invalid"));
    let enc = headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("invalid"));
    let limits = DecodeLimits { max_decoded: ingest.max_decoded(), batch: ingest.limits() };
    // Decompression and parsing are CPU work: keep them off the async workers
    // only when the body is big enough to matter.
    if bytes.len() > 64 * 1024 {
        let (ct, enc) = (ct.map(str::to_string), enc.map(str::to_string));
        tokio::task::spawn_blocking(move || decode(ct.as_deref(), enc.as_deref(), &bytes, &limits))
            .await
            .map_err(|e| IngestError::Internal(e.to_string()))?
    } else {
        decode(ct, enc, &bytes, &limits)
    }
}

/// `OPTIONS /collect`: CORS preflight, for senders that use `application/json`
/// or `Content-Encoding` (beacons with `text/plain` need none).
pub async fn preflight() -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    let h = res.headers_mut();
    add_cors(h);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST, OPTIONS"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, content-encoding"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    res
}

pub(super) fn add_cors(headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after"));
}
