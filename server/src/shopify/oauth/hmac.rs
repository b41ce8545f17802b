//! The `hmac` query parameter Shopify signs its redirects with: hex HMAC-SHA256,
//! keyed with the client secret, over every other parameter.
//!
//! The message is built from ALL parameters except `hmac` (an allow-list of known
//! names breaks as soon as Shopify adds one, as it once did in Shopify's own
//! library): values are form-decoded (`+` is a space, `%XX` a byte), `%` and `&`
//! are escaped back as `%25` and `%26` (and `=` as `%3D` in names) so that the
//! separators stay unambiguous, repeated `name[]` parameters become
//! `name=["a", "b"]`, and the pairs are sorted by name and joined with `&`.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a signed query was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryHmacError {
    Missing,
    Mismatch,
}

/// The decoded parameters of a query (the last value wins for a repeated plain name).
pub type Params = BTreeMap<String, String>;

/// Decodes a raw query string into its parameters, `hmac` included.
pub fn parse(raw_query: &str) -> Params {
    let mut arrays: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut params = Params::new();
    for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        match name.strip_suffix("[]") {
            Some(base) => arrays.entry(base.to_string()).or_default().push(value.into_owned()),
            None => {
                params.insert(name.into_owned(), value.into_owned());
            }
        }
    }
    for (name, values) in arrays {
        let list: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
        params.insert(name, format!("[{}]", list.join(", ")));
    }
    params
}

/// The exact bytes Shopify signs for these parameters.
pub fn message(params: &Params) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| name.as_str() != "hmac")
        .map(|(name, value)| (escape(name).replace('=', "%3D"), escape(value)))
        .collect();
    pairs.sort();
    pairs.into_iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

fn escape(s: &str) -> String {
    s.replace('%', "%25").replace('&', "%26")
}

/// Checks the query's `hmac` against each secret (current first), in constant time.
pub fn verify(params: &Params, secrets: &[&[u8]]) -> Result<(), QueryHmacError> {
    let given = params.get("hmac").ok_or(QueryHmacError::Missing)?;
    let given = hex::decode(given).map_err(|_| QueryHmacError::Mismatch)?;
    let message = message(params);
    let ok = secrets.iter().any(|secret| {
        Hmac::<Sha256>::new_from_slice(secret)
            .map(|mut mac| {
                mac.update(message.as_bytes());
                mac.verify_slice(&given).is_ok()
            })
            .unwrap_or(false)
    });
    if ok {
        Ok(())
    } else {
        Err(QueryHmacError::Mismatch)
    }
}

/// Hex HMAC of a message; for signing links in tests and tools.
pub fn sign(secret: &[u8], message: &str) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Shopify's documented example (secret "hush").
    const DOC_QUERY: &str = "code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173";

    #[test]
    fn verifies_shopifys_documented_example() {
        let params = parse(DOC_QUERY);
        assert_eq!(
            message(&params),
            "code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173"
        );
        assert_eq!(verify(&params, &[b"hush"]), Ok(()));
        assert_eq!(verify(&params, &[b"other", b"hush"]), Ok(()));
        assert_eq!(verify(&params, &[b"other"]), Err(QueryHmacError::Mismatch));
    }

    #[test]
    fn signs_every_parameter_not_an_allow_list() {
        let mut params = parse(DOC_QUERY);
        params.insert("new_param".into(), "1".into());
        assert_eq!(verify(&params, &[b"hush"]), Err(QueryHmacError::Mismatch));
    }

    #[test]
    fn decodes_values_and_escapes_separators() {
        let params = parse("b=x%26y%25z&a=one+two%2Fthree&c%3Dd=1&ids[]=1&ids[]=2");
        assert_eq!(message(&params), "a=one two/three&b=x%26y%25z&c%3Dd=1&ids=[\"1\", \"2\"]");
        assert_eq!(verify(&parse("a=1"), &[b"s"]), Err(QueryHmacError::Missing));
        assert_eq!(verify(&parse("a=1&hmac=zz"), &[b"s"]), Err(QueryHmacError::Mismatch));
    }
}
