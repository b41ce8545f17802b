//! What the Matomo relay needs to know of the request that brought a batch,
//! besides its body: the shopper's address (the peer, or what a trusted proxy
//! forwards for, see [`super::client_ip`]), `User-Agent` and
//! `Accept-Language`. Matomo takes the device, the browser and the visitor's
//! location from them (the language stands in for the country without GeoIP);
//! without them every visit looks as if it came from our server.
//!
//! The relay runs after the spool, from the spool, so these facts travel in the
//! spool record with the batch (its meta block, see `spool::format`); a batch
//! handed to the drainer in memory never carries them.
//!
//! Privacy: an address and a user agent are personal data, and they are kept
//! only for the relay. They are spooled only while a relay is configured; the
//! drainer reads a record's JSON alone, so they never reach the events store
//! (nor logs or metrics); and they go with the spool segment that holds them,
//! which is deleted once both the drainer and the relay have passed it (see
//! [`super::spool`]). What a shopper wrote in these headers is clipped
//! ([`MAX_USER_AGENT`], [`MAX_LANGUAGE`]), so a record stays small.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use serde::{Deserialize, Serialize};

/// Longest `User-Agent` kept, in bytes; real ones are a few hundred.
pub const MAX_USER_AGENT: usize = 512;
/// Longest `Accept-Language` kept, in bytes.
pub const MAX_LANGUAGE: usize = 128;

/// The request's facts; each absent when unknown. Spooled as compact JSON, so
/// a later server can add facts and still read these.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// The shopper's address.
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The `User-Agent` header.
    #[serde(rename = "ua", default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The `Accept-Language` header.
    #[serde(rename = "al", default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

impl RequestFacts {
    /// The facts of a request from `ip` (the client address, when known) with
    /// these headers. Headers that are not visible ASCII are left out.
    pub fn of_request(ip: Option<IpAddr>, headers: &HeaderMap) -> Self {
        let text = |name, max| {
            let value = headers.get(name)?.to_str().ok()?.trim();
            (!value.is_empty()).then(|| clip(value, max).to_string())
        };
        Self {
            ip,
            user_agent: text(header::USER_AGENT, MAX_USER_AGENT),
            language: text(header::ACCEPT_LANGUAGE, MAX_LANGUAGE),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.ip.is_none() && self.user_agent.is_none() && self.language.is_none()
    }

    /// The spool record's meta block content; empty (no block) when nothing is known.
    pub fn encode(&self) -> Vec<u8> {
        if self.is_empty() {
            return Vec::new();
        }
        // Strings and an address: writing them cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a meta block's content back. A record without one (every record
    /// from before), or one this server cannot read, knows nothing.
    pub fn decode(meta: &[u8]) -> Self {
        if meta.is_empty() {
            return Self::default();
        }
        serde_json::from_slice(meta).unwrap_or_default()
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn takes_the_address_and_the_two_headers_and_reads_them_back() {
        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, HeaderValue::from_static("Mozilla/5.0 (X11; Linux x86_64)"));
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(" fr-FR,fr;q=0.9,en;q=0.8 "));
        let facts = RequestFacts::of_request(Some("2001:db8::7".parse().expect("ip")), &h);
        assert_eq!(facts.user_agent.as_deref(), Some("Mozilla/5.0 (X11; Linux x86_64)"));
        assert_eq!(facts.language.as_deref(), Some("fr-FR,fr;q=0.9,en;q=0.8"));
        let meta = facts.encode();
        assert_eq!(
            std::str::from_utf8(&meta).expect("utf-8"),
            r#"{"ip":"2001:db8::7","ua":"Mozilla/5.0 (X11; Linux x86_64)","al":"fr-FR,fr;q=0.9,en;q=0.8"}"#
        );
        assert_eq!(RequestFacts::decode(&meta), facts);
    }

    #[test]
    fn nothing_known_is_no_block_and_bad_input_is_left_out() {
        let none = RequestFacts::of_request(None, &HeaderMap::new());
        assert!(none.is_empty());
        assert!(none.encode().is_empty(), "no meta block: the record is as before");
        assert_eq!(RequestFacts::decode(b""), RequestFacts::default());
        assert_eq!(RequestFacts::decode(b"\xff not json"), RequestFacts::default());
        assert_eq!(
            RequestFacts::decode(br#"{"ip":"192.0.2.1","later":1}"#).ip,
            Some("192.0.2.1".parse().expect("ip")),
            "facts a later server adds are skipped"
        );

        let mut h = HeaderMap::new();
        h.insert(header::USER_AGENT, HeaderValue::from_bytes(b"caf\xe9").expect("obs-text"));
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("   "));
        assert!(RequestFacts::of_request(None, &h).is_empty(), "not ASCII, or blank");
        let long = "x".repeat(MAX_USER_AGENT + 10);
        h.insert(header::USER_AGENT, HeaderValue::from_str(&long).expect("header"));
        assert_eq!(RequestFacts::of_request(None, &h).user_agent.map(|s| s.len()), Some(MAX_USER_AGENT));
    }
}
