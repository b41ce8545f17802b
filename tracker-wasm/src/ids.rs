//! Identity and sampling: the visitor id derived from Shopify's consent id, random
//! ids for sessions, page views and batches, and the sampling decision.

use alloc::string::String;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// A 16-hex id from 8 random bytes (session, page view, batch, fallback visitor).
pub fn id_from(bytes: [u8; 8]) -> String {
    hex(&bytes)
}

/// The consent id as it is hashed: trimmed; `None` when empty, so the caller
/// falls back to a random id kept in a first-party cookie.
pub fn consent_key(consent_id: &str) -> Option<&str> {
    Some(consent_id.trim_ascii()).filter(|k| !k.is_empty())
}

/// The visitor id from the SHA-256 digest of the consent key: its first 16 hex
/// digits, Matomo's visitor id format. `None` for anything shorter than a
/// digest (the browser could not hash), so the caller falls back as above.
/// The hashing itself is the browser's (`crypto.subtle`, see the edge).
pub fn visitor_id(digest: &[u8]) -> Option<String> {
    (digest.len() == 32).then(|| hex(digest.get(..8).unwrap_or_default()))
}

/// Sampling by visitor id, shared with the web pixel.
pub use protocol::in_sample;

#[cfg(test)]
mod tests {
    use super::*;

    /// What the browser's `crypto.subtle.digest('SHA-256', ...)` answers.
    fn sha256(s: &str) -> Vec<u8> {
        use sha2::Digest;
        sha2::Sha256::digest(s.as_bytes()).to_vec()
    }

    fn id_of(consent_id: &str) -> Option<String> {
        visitor_id(&sha256(consent_key(consent_id)?))
    }

    #[test]
    fn visitor_id_is_the_first_16_hex_of_sha256() {
        // sha256("test") = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
        assert_eq!(id_of("test").as_deref(), Some("9f86d081884c7d65"));
        assert_eq!(id_of("  test\n").as_deref(), Some("9f86d081884c7d65"), "trimmed");
        assert!(protocol::is_visitor_id(&id_of("3f1c-uuid").unwrap_or_default()));
    }

    #[test]
    fn empty_consent_id_or_no_digest_gives_no_visitor_id() {
        assert_eq!(consent_key(""), None);
        assert_eq!(consent_key("  "), None);
        assert_eq!(visitor_id(&[]), None, "the browser could not hash");
        assert_eq!(visitor_id(&[1; 8]), None);
    }

    #[test]
    fn random_ids_are_16_lowercase_hex() {
        let id = id_from([0xde, 0xad, 0xbe, 0xef, 0, 1, 0x0a, 0xff]);
        assert_eq!(id, "deadbeef00010aff");
        assert!(protocol::is_hex16(&id));
    }

    #[test]
    fn sample_0_excludes_and_100_includes_everyone() {
        for i in 0..200u32 {
            let v = id_of(&i.to_string()).unwrap_or_default();
            assert!(!in_sample(&v, 0));
            assert!(in_sample(&v, 100));
        }
    }

    #[test]
    fn sampling_is_deterministic_and_near_the_percentage() {
        let ids: Vec<String> = (0..10_000u32).filter_map(|i| id_of(&format!("c-{i}"))).collect();
        let first: Vec<bool> = ids.iter().map(|v| in_sample(v, 25)).collect();
        let again: Vec<bool> = ids.iter().map(|v| in_sample(v, 25)).collect();
        assert_eq!(first, again);
        let share = first.iter().filter(|&&b| b).count();
        assert!((2_200..2_800).contains(&share), "{share} of 10000 in a 25% sample");
    }

    #[test]
    fn a_larger_sample_keeps_everyone_a_smaller_one_had() {
        let ids: Vec<String> = (0..1_000u32).filter_map(|i| id_of(&i.to_string())).collect();
        for v in &ids {
            if in_sample(v, 10) {
                assert!(in_sample(v, 50));
            }
        }
    }
}
