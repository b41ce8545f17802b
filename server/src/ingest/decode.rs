//! The decoding path of `/collect`, pure and synchronous: content type and
//! encoding checks, capped gzip decompression, JSON parsing and batch
//! validation. Every failure is an [`IngestError`] (a 4xx); nothing here panics,
//! which a property test checks over arbitrary bytes.

use std::io::Read;

use protocol::{Batch, Limits};

use super::error::IngestError;

/// A body that decompresses to more than this many times its size is refused
/// (JSON batches compress 5 to 30-fold; bombs compress 1000-fold).
pub const MAX_RATIO: usize = 100;
/// Bodies that decode to at most this many bytes are never refused for their ratio.
const RATIO_FLOOR: usize = 64 * 1024;

/// Size bounds of the decoding path.
#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    pub max_decoded: usize,
    pub batch: Limits,
}

/// Checks `Content-Type`: beacons send `text/plain` (no CORS preflight), fetch
/// may send `application/json`; a missing type is accepted as well.
pub fn check_content_type(content_type: Option<&str>) -> Result<(), IngestError> {
    let Some(ct) = content_type else { return Ok(()) };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/plain" | "application/json" | "" => Ok(()),
        _ => Err(IngestError::UnsupportedType(ct.chars().take(100).collect())),
    }
}

/// Undoes `Content-Encoding` (identity or gzip) within the caps.
pub fn decode_body(encoding: Option<&str>, body: &[u8], max_decoded: usize) -> Result<Vec<u8>, IngestError> {
    let enc = encoding.map(|e| e.trim().to_ascii_lowercase()).unwrap_or_default();
    match enc.as_str() {
        "" | "identity" => {
            if body.len() > max_decoded {
                return Err(IngestError::DecodedTooLarge { max: max_decoded });
            }
            Ok(body.to_vec())
        }
        "gzip" | "x-gzip" => gunzip(body, max_decoded),
        other => Err(IngestError::UnsupportedEncoding(other.chars().take(100).collect())),
    }
}

fn gunzip(body: &[u8], max_decoded: usize) -> Result<Vec<u8>, IngestError> {
    let mut out = Vec::new();
    // Read one byte past the cap to tell "exactly at the cap" from "over it"
    // without ever inflating more than the cap.
    let cap = u64::try_from(max_decoded).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::GzDecoder::new(body)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::BadGzip(e.to_string()))?;
    if out.len() > max_decoded {
        return Err(IngestError::DecodedTooLarge { max: max_decoded });
    }
    if out.len() > RATIO_FLOOR && out.len() > body.len().saturating_mul(MAX_RATIO) {
        return Err(IngestError::SuspiciousRatio { ratio: out.len() / body.len().max(1), max: MAX_RATIO });
    }
    Ok(out)
}

/// Parses and validates a batch. Syntax errors are malformed JSON (400); valid
/// JSON of the wrong shape or types, and batches outside the limits, are 422.
pub fn parse_batch(json: &[u8], limits: &Limits) -> Result<Batch, IngestError> {
    let batch: Batch = serde_json::from_slice(json).map_err(|e| {
        let detail = e.to_string();
        match e.classify() {
            serde_json::error::Category::Data => IngestError::WrongTypes(detail),
            _ => IngestError::MalformedJson(detail),
        }
    })?;
    batch.validate(limits).map_err(|e| IngestError::Invalid(e.to_string()))?;
    Ok(batch)
}

/// The whole decoding path; answers the batch and the decoded JSON it came from.
pub fn decode(
    content_type: Option<&str>,
    encoding: Option<&str>,
    body: &[u8],
    limits: &DecodeLimits,
) -> Result<(Batch, Vec<u8>), IngestError> {
    check_content_type(content_type)?;
    let mut json = decode_body(encoding, body, limits.max_decoded)?;
    let mut batch = parse_batch(&json, &limits.batch)?;
    // Old trackers and other senders may still send query strings, fragments
    // and tokens in URLs: they are redacted before anything is written, and
    // the batch written again only then (today's clients send clean URLs).
    if protocol::url::redact_events(&mut batch.events) {
        json = serde_json::to_vec(&batch).map_err(|e| IngestError::Internal(e.to_string()))?;
    }
    Ok((batch, json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn limits() -> DecodeLimits {
        DecodeLimits { max_decoded: 1024 * 1024, batch: Limits::default() }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).expect("gzip");
        enc.finish().expect("gzip")
    }

    const OK: &str = r#"{"s":1,"v":"9f86d081884c7d65","b":"5f0c6a1e9d2b4c37","t":1,"e":[]}"#;

    #[test]
    fn private_urls_are_redacted_before_the_batch_is_written() {
        let body = r#"{"s":1,"v":"9f86d081884c7d65","b":"5f0c6a1e9d2b4c37","t":1,"e":[
            {"k":"pv","t":1,"u":"https://s.example/search?q=red+dress#top","r":"https://s.example/account/reset/6543210987654/0f3b27c6e0f1f3f2c3a4b5c6d7e8f901-1700000000","vw":1,"vh":1,"sw":1,"sh":1},
            {"k":"c","t":2,"x":1,"y":1,"cx":1,"cy":1,"dt":1,"tg":"a","sel":"a","h":"/pages/x?email=jane%40doe.fr"}]}"#;
        let (batch, json) = decode(None, None, body.as_bytes(), &limits()).expect("decode");
        let text = String::from_utf8(json).expect("utf8");
        for private in ["red+dress", "#top", "6543210987654", "0f3b27c6", "jane"] {
            assert!(!text.contains(private), "{private} in {text}");
        }
        assert!(text.contains("https://s.example/search?q="), "{text}");
        let Some(protocol::Event::PageView(pv)) = batch.events.first() else { panic!("page view") };
        assert_eq!(pv.referrer, "https://s.example/account/reset/redacted/redacted");
        // A clean batch is kept byte for byte.
        let (_, same) = decode(None, None, OK.as_bytes(), &limits()).expect("decode");
        assert_eq!(same, OK.as_bytes());
    }

    #[test]
    fn accepts_plain_and_gzip_bodies() {
        assert!(decode(Some("text/plain;charset=UTF-8"), None, OK.as_bytes(), &limits()).is_ok());
        let gz = gzip(OK.as_bytes());
        assert_eq!(
            decode(Some("application/json"), Some("gzip"), &gz, &limits()).expect("gzip").0.site_id,
            1
        );
    }

    #[test]
    fn classifies_each_bad_input() {
        let l = limits();
        let code = |r: Result<(Batch, Vec<u8>), IngestError>| r.expect_err("must fail").code();
        assert_eq!(code(decode(None, None, b"{\"s\":1,", &l)), "malformed_json");
        assert_eq!(
            code(decode(None, None, br#"{"s":"one","v":"x","b":"y","t":1,"e":[]}"#, &l)),
            "wrong_types"
        );
        assert_eq!(code(decode(None, None, OK.replace("9f86", "XXXX").as_bytes(), &l)), "invalid_batch");
        assert_eq!(code(decode(None, Some("br"), OK.as_bytes(), &l)), "unsupported_encoding");
        assert_eq!(code(decode(Some("image/png"), None, OK.as_bytes(), &l)), "unsupported_content_type");
        assert_eq!(code(decode(None, Some("gzip"), b"not gzip", &l)), "bad_gzip");
        let bomb = gzip(&vec![b' '; 2 * 1024 * 1024]);
        assert_eq!(code(decode(None, Some("gzip"), &bomb, &l)), "decoded_too_large");
        let ratio = gzip(&vec![b' '; 512 * 1024]);
        assert_eq!(code(decode(None, Some("gzip"), &ratio, &l)), "suspicious_compression_ratio");
    }

    #[test]
    fn an_event_kind_that_is_no_string_is_malformed_and_an_unknown_one_a_wrong_type() {
        let l = limits();
        let with_kind = |k: &str| OK.replace(r#""e":[]"#, &format!(r#""e":[{{"k":{k},"t":1}}]"#));
        let code = |k: &str| decode(None, None, with_kind(k).as_bytes(), &l).expect_err(k).code();
        for k in ["1", "null", "true", "[]"] {
            assert_eq!(code(k), "malformed_json", "k = {k}");
        }
        assert_eq!(code(r#""zz""#), "wrong_types");
    }
}
