//! Shopify session tokens (`shopify.idToken()`): HS256 JWTs signed with the app's
//! client secret. Pure verification; the extractor that uses it is in `auth`.
//!
//! Checks, as Shopify's own libraries do: the header's `alg` is exactly `HS256`;
//! the signature matches the current or the previous client secret; `aud` is our
//! client id; `exp` and `nbf` hold with 10 s of leeway; `dest` is
//! `https://{shop}.myshopify.com` and `iss` is the same shop's `/admin`. The reason
//! a token fails is kept for the log, never told to the caller.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::shop::is_shop_domain;

/// Clock tolerance, the same as Shopify's libraries (`JWT_PERMITTED_CLOCK_TOLERANCE`).
pub const LEEWAY_SECS: i64 = 10;

/// What a valid token tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    /// The shop's myshopify domain, from `dest`.
    pub shop: String,
    /// The Shopify user id of the merchant's staff member (`sub`), when present.
    pub user: Option<String>,
}

/// Why a token was refused (logged at debug; the response is always the same 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    Algorithm,
    Signature,
    Expired,
    NotYetValid,
    Audience,
    Issuer,
    Destination,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    dest: String,
    aud: String,
    exp: i64,
    nbf: i64,
    #[serde(default)]
    sub: Option<String>,
}

/// Verifies `token` against any of `secrets` (current first) at `now` (Unix seconds).
pub fn verify(token: &str, secrets: &[&[u8]], client_id: &str, now: i64) -> Result<SessionClaims, Rejection> {
    let mut parts = token.split('.');
    let (Some(h64), Some(p64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let header: Header = decode_json(h64)?;
    if header.alg != "HS256" {
        return Err(Rejection::Algorithm);
    }
    let signature = B64URL.decode(s64).map_err(|_| Rejection::Malformed)?;
    let signed = &token[..h64.len() + 1 + p64.len()];
    if !secrets.iter().any(|secret| signature_matches(secret, signed.as_bytes(), &signature)) {
        return Err(Rejection::Signature);
    }
    let claims: Claims = decode_json(p64)?;
    if claims.exp + LEEWAY_SECS <= now {
        return Err(Rejection::Expired);
    }
    if claims.nbf - LEEWAY_SECS > now {
        return Err(Rejection::NotYetValid);
    }
    if claims.aud != client_id {
        return Err(Rejection::Audience);
    }
    let shop = claims
        .dest
        .strip_prefix("https://")
        .filter(|shop| is_shop_domain(shop))
        .ok_or(Rejection::Destination)?;
    if claims.iss.strip_prefix("https://").and_then(|rest| rest.strip_suffix("/admin")) != Some(shop) {
        return Err(Rejection::Issuer);
    }
    Ok(SessionClaims { shop: shop.to_string(), user: claims.sub })
}

fn decode_json<T: for<'de> Deserialize<'de>>(part: &str) -> Result<T, Rejection> {
    let bytes = B64URL.decode(part).map_err(|_| Rejection::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| Rejection::Malformed)
}

fn signature_matches(secret: &[u8], signed: &[u8], signature: &[u8]) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
    mac.update(signed);
    // `verify_slice` compares in constant time.
    mac.verify_slice(signature).is_ok()
}

/// Signs a token the way Shopify does; used by tests and the demo admin page.
pub fn sign(secret: &[u8], header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let h = B64URL.encode(header.to_string());
    let p = B64URL.encode(claims.to_string());
    let signed = format!("{h}.{p}");
    let sig = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(signed.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    format!("{signed}.{}", B64URL.encode(sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_763_800_000;

    fn claims() -> serde_json::Value {
        json!({"iss": "https://a-shop.myshopify.com/admin", "dest": "https://a-shop.myshopify.com",
               "aud": "client", "sub": "42", "exp": NOW + 60, "nbf": NOW - 60, "iat": NOW - 60,
               "jti": "x", "sid": "y"})
    }

    fn check(token: &str) -> Result<SessionClaims, Rejection> {
        verify(token, &[b"secret", b"old"], "client", NOW)
    }

    #[test]
    fn accepts_a_valid_token_signed_with_the_current_or_previous_secret() {
        let hs = json!({"alg": "HS256", "typ": "JWT"});
        let ok = check(&sign(b"secret", &hs, &claims())).expect("valid");
        assert_eq!(ok, SessionClaims { shop: "a-shop.myshopify.com".into(), user: Some("42".into()) });
        assert!(check(&sign(b"old", &hs, &claims())).is_ok());
        assert_eq!(check(&sign(b"other", &hs, &claims())), Err(Rejection::Signature));
    }

    #[test]
    fn applies_ten_seconds_of_leeway_to_exp_and_nbf() {
        let hs = json!({"alg": "HS256"});
        let mut c = claims();
        c["exp"] = json!(NOW - 9);
        assert!(check(&sign(b"secret", &hs, &c)).is_ok());
        c["exp"] = json!(NOW - 10);
        assert_eq!(check(&sign(b"secret", &hs, &c)), Err(Rejection::Expired));
        let mut c = claims();
        c["nbf"] = json!(NOW + 10);
        assert!(check(&sign(b"secret", &hs, &c)).is_ok());
        c["nbf"] = json!(NOW + 11);
        assert_eq!(check(&sign(b"secret", &hs, &c)), Err(Rejection::NotYetValid));
    }

    #[test]
    fn refuses_other_algorithms_audiences_and_shops() {
        let none = format!("{}.{}.", B64URL.encode(r#"{"alg":"none"}"#), B64URL.encode(claims().to_string()));
        assert_eq!(check(&none), Err(Rejection::Algorithm));
        assert_eq!(check(&sign(b"secret", &json!({"alg": "HS512"}), &claims())), Err(Rejection::Algorithm));
        let hs = json!({"alg": "HS256"});
        let mut c = claims();
        c["aud"] = json!("other");
        assert_eq!(check(&sign(b"secret", &hs, &c)), Err(Rejection::Audience));
        let mut c = claims();
        c["dest"] = json!("https://evil.example.com");
        assert_eq!(check(&sign(b"secret", &hs, &c)), Err(Rejection::Destination));
        let mut c = claims();
        c["iss"] = json!("https://b-shop.myshopify.com/admin");
        assert_eq!(check(&sign(b"secret", &hs, &c)), Err(Rejection::Issuer));
        assert_eq!(check("a.b"), Err(Rejection::Malformed));
        assert_eq!(check("!!.!!.!!"), Err(Rejection::Malformed));
    }
}
