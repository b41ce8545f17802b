//! Heatmap overlay tokens: what lets the merchant's storefront tab read one
//! site's heatmap for a few minutes, without a session token (those never go
//! in a URL) and without cookies. Pure signing and verification; the
//! extractor that accepts them is [`super::auth::HeatmapReader`], the endpoint
//! that issues them `POST /api/heatmap/overlay` ([`crate::api::overlay`]).
//!
//! A token is `lmo1.<payload>.<signature>`: the payload is base64url (no
//! padding) of `{"site":7,"shop":"a-shop.myshopify.com","exp":1763800600}`
//! (`exp` in Unix seconds), the signature base64url of HMAC-SHA256 over
//! `lmo1.<payload>` under the overlay key. The overlay key is
//! HMAC-SHA256(client secret, [`KEY_LABEL`]): no new secret to configure, and
//! a key of its own, so an overlay token can never pass for a session token or
//! a webhook signature (both signed with the client secret itself). Keys of
//! the current and the previous client secret are accepted, as for session
//! tokens. The token carries the site and the shop, so it reads that site
//! only, and only while the shop still belongs to it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a token opens the overlay: long enough to look around, short
/// enough that a copied link is soon worthless.
pub const TTL_SECS: i64 = 600;
/// The token's version and kind, its first part.
pub const PREFIX: &str = "lmo1";
/// What the overlay key is derived with from the client secret.
pub const KEY_LABEL: &[u8] = b"lummmen heatmap overlay v1";

/// What a valid token grants: reading `site`'s heatmaps, as `shop`, until `exp`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayGrant {
    pub site: u32,
    pub shop: String,
    /// Unix seconds.
    pub exp: i64,
}

/// Why a token was refused (logged at debug; the caller gets the usual 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Malformed,
    Signature,
    Expired,
}

/// A site the grant does not cover: the caller named another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtherSite(pub u32);

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The overlay key of a client secret.
pub fn key(client_secret: &[u8]) -> [u8; 32] {
    let mut m = mac(client_secret);
    m.update(KEY_LABEL);
    m.finalize().into_bytes().into()
}

/// Whether `token` looks like an overlay token (and not a session token or an
/// operator token), so the caller knows which check applies.
pub fn is_overlay(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|rest| rest.starts_with('.'))
}

/// Signs `grant` under `key` (see [`key`]).
pub fn sign(key: &[u8], grant: &OverlayGrant) -> String {
    let payload = serde_json::to_vec(grant).unwrap_or_default();
    let signed = format!("{PREFIX}.{}", B64URL.encode(payload));
    let mut m = mac(key);
    m.update(signed.as_bytes());
    format!("{signed}.{}", B64URL.encode(m.finalize().into_bytes()))
}

/// Verifies `token` against any of `keys` (current first) at `now` (Unix
/// seconds). No leeway: this server both signs and checks, on one clock.
pub fn verify(token: &str, keys: &[[u8; 32]], now: i64) -> Result<OverlayGrant, Rejection> {
    let mut parts = token.split('.');
    let (Some(PREFIX), Some(p64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    let signature = B64URL.decode(s64).map_err(|_| Rejection::Malformed)?;
    let signed = &token[..PREFIX.len() + 1 + p64.len()];
    let matches = |key: &[u8; 32]| {
        let mut m = mac(key);
        m.update(signed.as_bytes());
        // `verify_slice` compares in constant time.
        m.verify_slice(&signature).is_ok()
    };
    if !keys.iter().any(matches) {
        return Err(Rejection::Signature);
    }
    let payload = B64URL.decode(p64).map_err(|_| Rejection::Malformed)?;
    let grant: OverlayGrant = serde_json::from_slice(&payload).map_err(|_| Rejection::Malformed)?;
    if grant.exp <= now {
        return Err(Rejection::Expired);
    }
    Ok(grant)
}

impl OverlayGrant {
    /// A grant for `site` and `shop` from `now` for [`TTL_SECS`].
    pub fn new(site: u32, shop: &str, now: i64) -> Self {
        Self { site, shop: shop.to_string(), exp: now + TTL_SECS }
    }

    /// The site a request may read: the grant's, whether or not it names it.
    pub fn site(&self, asked: Option<u32>) -> Result<u32, OtherSite> {
        match asked {
            Some(s) if s != self.site => Err(OtherSite(s)),
            _ => Ok(self.site),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_763_800_000;

    fn keys() -> [[u8; 32]; 2] {
        [key(b"secret"), key(b"old")]
    }

    #[test]
    fn a_signed_grant_verifies_with_the_current_or_previous_secret_until_it_expires() {
        let grant = OverlayGrant::new(7, "a-shop.myshopify.com", NOW);
        assert_eq!(grant.exp, NOW + TTL_SECS);
        let token = sign(&key(b"secret"), &grant);
        assert!(is_overlay(&token) && token.starts_with("lmo1."), "{token}");
        assert_eq!(verify(&token, &keys(), NOW), Ok(grant.clone()));
        assert_eq!(verify(&token, &keys(), NOW + TTL_SECS - 1), Ok(grant.clone()));
        assert_eq!(verify(&sign(&key(b"old"), &grant), &keys(), NOW), Ok(grant));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = sign(&key(b"secret"), &OverlayGrant::new(7, "a-shop.myshopify.com", NOW));
        assert_eq!(verify(&token, &keys(), NOW + TTL_SECS), Err(Rejection::Expired));
        assert_eq!(verify(&token, &keys(), NOW + 86_400), Err(Rejection::Expired));
    }

    #[test]
    fn a_forged_token_is_refused() {
        let grant = OverlayGrant::new(7, "a-shop.myshopify.com", NOW);
        // Another key: someone else's secret, or the client secret itself.
        assert_eq!(verify(&sign(&key(b"other"), &grant), &keys(), NOW), Err(Rejection::Signature));
        assert_eq!(verify(&sign(b"secret", &grant), &keys(), NOW), Err(Rejection::Signature));
        // Another site or a later expiry in a genuine token's payload.
        let token = sign(&key(b"secret"), &grant);
        let sig = token.rsplit('.').next().unwrap_or_default();
        for forged in [
            OverlayGrant { site: 8, ..grant.clone() },
            OverlayGrant { exp: grant.exp + 86_400, ..grant.clone() },
        ] {
            let payload = B64URL.encode(serde_json::to_vec(&forged).unwrap_or_default());
            assert_eq!(verify(&format!("lmo1.{payload}.{sig}"), &keys(), NOW), Err(Rejection::Signature));
        }
        // Not a token at all.
        for bad in ["", "lmo1", "lmo1..", "lmo1.a.b.c", "lmo2.e30.AAAA", "eyJ.eyJ.sig", "lmo1.!!.!!"] {
            assert!(
                matches!(verify(bad, &keys(), NOW), Err(Rejection::Malformed | Rejection::Signature)),
                "{bad}"
            );
        }
        assert_eq!(verify(&token, &[], NOW), Err(Rejection::Signature), "no secret, no token");
    }

    #[test]
    fn a_grant_reads_its_own_site_only() {
        let grant = OverlayGrant::new(7, "a-shop.myshopify.com", NOW);
        assert_eq!(grant.site(None), Ok(7));
        assert_eq!(grant.site(Some(7)), Ok(7));
        assert_eq!(grant.site(Some(8)), Err(OtherSite(8)));
    }

    #[test]
    fn only_overlay_tokens_look_like_one() {
        assert!(is_overlay("lmo1.x.y"));
        for other in ["lmo1", "lmo1x.y", "eyJhbGciOiJIUzI1NiJ9.e30.sig", "operator-token"] {
            assert!(!is_overlay(other), "{other}");
        }
    }
}
