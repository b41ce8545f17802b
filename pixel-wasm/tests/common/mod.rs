//! Shared by the native tests: Shopify payload fixtures from `tests/fixtures/shopify/`.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/shopify")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The five standard events, in a shopper's order.
pub const STANDARD: [&str; 5] = [
    "collection_viewed",
    "product_viewed",
    "product_added_to_cart",
    "product_removed_from_cart",
    "checkout_completed",
];

/// Every piece of personal data the fixtures carry (checkout_completed and init),
/// as it appears there or as JSON would escape it.
pub const PERSONAL: [&str; 16] = [
    "camille",
    "durand",
    "@example.fr",
    "%40example.fr",
    "+336",
    "33612345678",
    "33698765432",
    "33600000099",
    "Rue des Lilas",
    "Quai Saint-Antoine",
    "Apt 4B",
    "69003",
    "69002",
    "Lyon",
    "Visa ending",
    "b1946ac92492d2347c6235b4d2611184",
];

pub const SETTINGS: &str = r#"{"siteId":"3","endpoint":"https://collect.example/collect"}"#;
pub const CONSENT_YES: &str = r#"{"customerPrivacy":{"analyticsProcessingAllowed":true}}"#;
pub const CONSENT_NO: &str = r#"{"customerPrivacy":{"analyticsProcessingAllowed":false}}"#;
