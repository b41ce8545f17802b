//! Offline access tokens encrypted at rest: AES-256-GCM under a key named by a key
//! id, so the key can be rotated without losing the tokens sealed under the old one.
//!
//! A sealed token is `v1:<key id>:<base64(nonce || ciphertext || tag)>`. The shop
//! domain is the associated data, so a ciphertext copied onto another shop's row
//! does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 12;

/// Why a key ring could not be built or a token could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("token key {0:?} must be 32 bytes, base64-encoded")]
    BadKey(String),
    #[error("key id {0:?} must be 1 to 32 letters, digits, '-' or '_'")]
    BadKeyId(String),
    #[error("previous keys must be a comma-separated list of <key id>:<base64 key>")]
    BadKeyList,
    #[error("sealed token is malformed")]
    Malformed,
    #[error("sealed token names key id {0:?}, which is not configured")]
    UnknownKey(String),
    #[error("sealed token does not decrypt (wrong key, or tampered)")]
    Decrypt,
    #[error("no randomness available from the operating system")]
    Random,
}

/// The current key and the previous ones still accepted for opening.
pub struct KeyRing {
    current_id: String,
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("KeyRing").field("current_id", &self.current_id).field("key_ids", &ids).finish()
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cipher(id: &str, key_b64: &str) -> Result<Aes256Gcm, CryptoError> {
    if !valid_id(id) {
        return Err(CryptoError::BadKeyId(id.to_string()));
    }
    let bytes = B64.decode(key_b64.trim()).map_err(|_| CryptoError::BadKey(id.to_string()))?;
    Aes256Gcm::new_from_slice(&bytes).map_err(|_| CryptoError::BadKey(id.to_string()))
}

impl KeyRing {
    /// `current` is a base64 32-byte key named `current_id`; `previous` is
    /// `id:base64,id:base64` (may be empty).
    pub fn new(current_id: &str, current: &str, previous: &str) -> Result<Self, CryptoError> {
        let mut keys = vec![(current_id.to_string(), cipher(current_id, current)?)];
        for entry in previous.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) = entry.split_once(':').ok_or(CryptoError::BadKeyList)?;
            keys.push((id.to_string(), cipher(id, key)?));
        }
        Ok(Self { current_id: current_id.to_string(), keys })
    }

    pub fn current_id(&self) -> &str {
        &self.current_id
    }

    /// Encrypts `token` for `shop` under the current key.
    pub fn seal(&self, shop: &str, token: &str) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|_| CryptoError::Random)?;
        let (_, cipher) = &self.keys[0];
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: token.as_bytes(), aad: shop.as_bytes() })
            .map_err(|_| CryptoError::Decrypt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}:{}:{}", self.current_id, B64.encode(out)))
    }

    /// Decrypts a sealed token of `shop` with whichever configured key sealed it.
    pub fn open(&self, shop: &str, sealed: &str) -> Result<String, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CryptoError::Malformed);
        };
        let (_, cipher) =
            self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| CryptoError::UnknownKey(id.to_string()))?;
        let bytes = B64.decode(body).map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: shop.as_bytes() })
            .map_err(|_| CryptoError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// Whether a sealed token was sealed under an older key and should be re-sealed.
    pub fn needs_rewrap(&self, sealed: &str) -> bool {
        sealed.split(':').nth(1).is_some_and(|id| id != self.current_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

    #[test]
    fn seals_and_opens_and_hides_the_plaintext() {
        let ring = KeyRing::new("k1", K1, "").expect("ring");
        let sealed = ring.seal("a.myshopify.com", "shpat_secret").expect("seal");
        assert!(sealed.starts_with("v1:k1:"));
        assert!(!sealed.contains("shpat_secret"));
        assert_ne!(sealed, ring.seal("a.myshopify.com", "shpat_secret").expect("seal"), "nonce is random");
        assert_eq!(ring.open("a.myshopify.com", &sealed).expect("open"), "shpat_secret");
    }

    #[test]
    fn refuses_another_shops_row_a_tampered_token_and_an_unknown_key() {
        let ring = KeyRing::new("k1", K1, "").expect("ring");
        let sealed = ring.seal("a.myshopify.com", "t").expect("seal");
        assert_eq!(ring.open("b.myshopify.com", &sealed), Err(CryptoError::Decrypt));
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 3;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("utf8");
        assert!(ring.open("a.myshopify.com", &tampered).is_err());
        let other = KeyRing::new("k9", K2, "").expect("ring");
        assert_eq!(other.open("a.myshopify.com", &sealed), Err(CryptoError::UnknownKey("k1".into())));
    }

    #[test]
    fn rotation_opens_old_tokens_and_seals_new_ones_under_the_new_key() {
        let old = KeyRing::new("k1", K1, "").expect("ring");
        let sealed = old.seal("a.myshopify.com", "t").expect("seal");
        let rotated = KeyRing::new("k2", K2, &format!("k1:{K1}")).expect("ring");
        assert!(rotated.needs_rewrap(&sealed));
        assert_eq!(rotated.open("a.myshopify.com", &sealed).expect("open"), "t");
        let resealed = rotated.seal("a.myshopify.com", "t").expect("seal");
        assert!(resealed.starts_with("v1:k2:") && !rotated.needs_rewrap(&resealed));
    }

    #[test]
    fn rejects_short_keys_and_bad_key_lists() {
        assert!(matches!(KeyRing::new("k1", "c2hvcnQ=", ""), Err(CryptoError::BadKey(_))));
        assert!(matches!(KeyRing::new("k 1", K1, ""), Err(CryptoError::BadKeyId(_))));
        assert_eq!(KeyRing::new("k1", K1, "nocolon").err(), Some(CryptoError::BadKeyList));
    }
}
