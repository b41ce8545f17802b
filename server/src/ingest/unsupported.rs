//! `POST /collect/unsupported`: a client that cannot run reports it, once per
//! page, instead of sending nothing and saying nothing.
//!
//! The web pixel needs WebAssembly and `DecompressionStream` in Shopify's
//! strict sandbox; where either is missing, or a content security policy
//! refuses to compile the module, it posts `{"s": 7, "c": "pixel", "r":
//! "webassembly"}` (only after the shopper allowed analytics) and the server
//! counts it in `lummmen_unsupported_clients_total{client, reason}`. A
//! JavaScript build of the same core was measured as the alternative and
//! refused: wasm2js of the pixel's module is 140 KB minified, over Shopify's
//! 128 KB for the whole bundle (see the README, "Web pixel").
//!
//! The report carries no visitor id and no page, nothing about the shopper;
//! it is answered like `/collect` (CORS for any origin, project lookup, rate
//! limit), so a script cannot inflate the count faster than it can send
//! batches.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::collect::add_cors;
use super::error::IngestError;
use super::Ingest;

/// A report is a few dozen bytes; anything longer is not one.
const MAX_REPORT_BYTES: usize = 1024;

/// The clients that report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    Pixel,
}

impl Client {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pixel => "pixel",
        }
    }
}

/// What the client found missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// `WebAssembly` is not defined.
    WebAssembly,
    /// `DecompressionStream` is not defined (the module is shipped gzipped).
    Decompression,
    /// Compiling or instantiating the module threw (a content security
    /// policy without `wasm-unsafe-eval`, or an engine that refuses it).
    Compile,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Self::WebAssembly => "webassembly",
            Self::Decompression => "decompression",
            Self::Compile => "compile",
        }
    }
}

/// The body: `s` the site, `c` the client, `r` the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Report {
    #[serde(rename = "s")]
    pub site_id: u32,
    #[serde(rename = "c")]
    pub client: Client,
    #[serde(rename = "r")]
    pub reason: Reason,
}

/// Reads a report; the errors are `/collect`'s.
pub fn parse(bytes: &[u8]) -> Result<Report, IngestError> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(IngestError::BodyTooLarge { max: MAX_REPORT_BYTES });
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| IngestError::MalformedJson(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| IngestError::WrongTypes(e.to_string()))
}

/// `POST /collect/unsupported`: 204 once counted.
pub async fn report(State(ingest): State<Ingest>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let client =
        parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| ingest.client_ip(c.0.ip(), &parts.headers));
    let result = async {
        let bytes = axum::body::to_bytes(body, MAX_REPORT_BYTES)
            .await
            .map_err(|_| IngestError::BodyTooLarge { max: MAX_REPORT_BYTES })?;
        let report = parse(&bytes)?;
        ingest.admit(report.site_id, client).await?;
        Ok::<_, IngestError>(report)
    }
    .await;
    let mut res = match result {
        Ok(report) => {
            ingest.metrics().unsupported(report.client.name(), report.reason.name());
            tracing::info!(
                site = report.site_id,
                client = report.client.name(),
                reason = report.reason.name(),
                "a client cannot run"
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            tracing::debug!(error = %e, "unsupported report refused");
            e.into_response()
        }
    };
    add_cors(res.headers_mut());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_reasons() {
        for (name, reason) in [
            ("webassembly", Reason::WebAssembly),
            ("decompression", Reason::Decompression),
            ("compile", Reason::Compile),
        ] {
            let body = format!(r#"{{"s":7,"c":"pixel","r":"{name}"}}"#);
            assert_eq!(parse(body.as_bytes()), Ok(Report { site_id: 7, client: Client::Pixel, reason }));
        }
    }

    #[test]
    fn refuses_what_is_not_a_report() {
        assert_eq!(parse(b"{").map_err(|e| e.code()), Err("malformed_json"));
        assert_eq!(parse(br#"{"s":7,"c":"pixel","r":"bored"}"#).map_err(|e| e.code()), Err("wrong_types"));
        assert_eq!(parse(br#"{"s":-1,"c":"pixel","r":"compile"}"#).map_err(|e| e.code()), Err("wrong_types"));
        assert_eq!(parse(br#"{"c":"pixel","r":"compile"}"#).map_err(|e| e.code()), Err("wrong_types"));
        let long = format!(r#"{{"s":7,"c":"pixel","r":"compile","x":"{}"}}"#, "a".repeat(2000));
        assert_eq!(parse(long.as_bytes()).map_err(|e| e.code()), Err("body_too_large"));
    }
}
