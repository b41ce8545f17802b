//! The OAuth `state` nonce, bound to the browser that started the install.
//!
//! `/auth` makes a random nonce, stores it with the shop (single use, ten minutes)
//! and sets it in a cookie; `/auth/callback` accepts only when the query's `state`
//! equals the cookie (so a callback link made for someone else's browser fails)
//! and the stored nonce exists for that shop (so it cannot be replayed).

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

/// Cookie carrying the nonce between `/auth` and `/auth/callback`.
pub const COOKIE: &str = "lummmen_oauth_state";
/// How long a nonce stays valid, in seconds.
pub const TTL_SECS: i64 = 600;

/// A new random nonce: 32 hex digits (128 bits).
pub fn new_nonce() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

/// The `Set-Cookie` value for a nonce. `SameSite=Lax` because the callback is a
/// top-level navigation from Shopify's domain; `Secure` whenever the app is served
/// over HTTPS.
pub fn set_cookie(nonce: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={nonce}; Path=/auth; Max-Age={TTL_SECS}; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that clears the nonce once used.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// The nonce cookie of the request, if any.
pub fn from_cookies(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// Whether the query's state equals the cookie's, in constant time.
pub fn matches(query_state: &str, cookie: &str) -> bool {
    !cookie.is_empty() && bool::from(query_state.as_bytes().ct_eq(cookie.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_nonce_cookie_among_others_and_compares_exactly() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; lummmen_oauth_state=abc123; b=2".parse().expect("header"));
        assert_eq!(from_cookies(&headers).as_deref(), Some("abc123"));
        assert!(matches("abc123", "abc123"));
        assert!(!matches("abc124", "abc123"));
        assert!(!matches("", ""));
        let n = new_nonce().expect("nonce");
        assert_eq!(n.len(), 32);
        assert_ne!(n, new_nonce().expect("nonce"));
        assert!(set_cookie(&n, true).ends_with("; Secure"));
    }
}
