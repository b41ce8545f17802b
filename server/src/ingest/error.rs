//! The one error type of the collection endpoint, mapped to status codes in one
//! place. Client errors answer 4xx with `{"error": code, "detail": text}`; the
//! only 5xx-class answer is 503 when the spool is full or the server is stopping,
//! and it carries `Retry-After` so well-behaved senders come back.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a batch was not accepted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    #[error("request body is over {max} bytes")]
    BodyTooLarge { max: usize },
    #[error("body expands past {max} bytes when decompressed")]
    DecodedTooLarge { max: usize },
    #[error("body expands {ratio}-fold when decompressed, more than {max}-fold allowed")]
    SuspiciousRatio { ratio: usize, max: usize },
    #[error("content encoding {0:?} is not supported; send identity or gzip")]
    UnsupportedEncoding(String),
    #[error("content type {0:?} is not supported; send text/plain or application/json")]
    UnsupportedType(String),
    #[error("gzip body is corrupt: {0}")]
    BadGzip(String),
    #[error("body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("body is JSON but not a batch: {0}")]
    WrongTypes(String),
    #[error("{0}")]
    Invalid(String),
    #[error("no project has site id {0}")]
    UnknownSite(u32),
    #[error("too many requests for this site from this address")]
    RateLimited { retry_after_secs: u64 },
    #[error("the spool of accepted batches is full; storage is behind")]
    SpoolFull { retry_after_secs: u64 },
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("storage has not caught up with accepted batches after {waited_secs} s")]
    StorageBehind { waited_secs: u64 },
    #[error("could not write the batch durably: {0}")]
    Internal(String),
}

impl IngestError {
    /// The machine-readable code in the `error` field; also the `reason` label of
    /// the rejected-events metric.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BodyTooLarge { .. } => "body_too_large",
            Self::DecodedTooLarge { .. } => "decoded_too_large",
            Self::SuspiciousRatio { .. } => "suspicious_compression_ratio",
            Self::UnsupportedEncoding(_) => "unsupported_encoding",
            Self::UnsupportedType(_) => "unsupported_content_type",
            Self::BadGzip(_) => "bad_gzip",
            Self::MalformedJson(_) => "malformed_json",
            Self::WrongTypes(_) => "wrong_types",
            Self::Invalid(_) => "invalid_batch",
            Self::UnknownSite(_) => "unknown_site",
            Self::RateLimited { .. } => "rate_limited",
            Self::SpoolFull { .. } => "spool_full",
            Self::ShuttingDown => "shutting_down",
            Self::StorageBehind { .. } => "storage_behind",
            Self::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BodyTooLarge { .. } | Self::DecodedTooLarge { .. } | Self::SuspiciousRatio { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Self::UnsupportedEncoding(_) | Self::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::BadGzip(_) | Self::MalformedJson(_) => StatusCode::BAD_REQUEST,
            Self::WrongTypes(_) | Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnknownSite(_) => StatusCode::NOT_FOUND,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::SpoolFull { .. } | Self::ShuttingDown | Self::StorageBehind { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } | Self::SpoolFull { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            Self::ShuttingDown => Some(5),
            Self::StorageBehind { .. } => Some(30),
            _ => None,
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.code(), "detail": self.to_string() });
        let mut res = (self.status(), Json(body)).into_response();
        if let Some(secs) = self.retry_after() {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
