//! Ecommerce events, mapped by the web pixel from Shopify's standard events.
//!
//! Amounts are in the shop's currency as decimal numbers, as Shopify's
//! `MoneyV2.amount`. Only level-1 data: no names, emails, phones or addresses.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::validate::{Checker, ValidationError};

/// A product variant: `{"id":"gid-or-id","sku":"SKU-1","n":"Shirt","vn":"M",
/// "pr":19.99,"cat":"Shirts","cur":"EUR"}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// Product id.
    #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Variant id.
    #[serde(rename = "vid", default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    /// Variant SKU, when the merchant set one.
    #[serde(rename = "sku", default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product title.
    #[serde(rename = "n", default)]
    pub title: String,
    /// Variant title (`"Default Title"` for single-variant products).
    #[serde(rename = "vn", default, skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    /// Unit price.
    #[serde(rename = "pr", default)]
    pub price: f64,
    /// Product type, used as the category.
    #[serde(rename = "cat", default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// ISO 4217 currency code of `price`.
    #[serde(rename = "cur", default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl Product {
    pub(crate) fn check(&self, c: &Checker<'_>) -> Result<(), ValidationError> {
        c.opt("product id", &self.product_id)?;
        c.opt("variant id", &self.variant_id)?;
        c.opt("sku", &self.sku)?;
        c.str("title", &self.title)?;
        c.opt("variant title", &self.variant_title)?;
        c.opt("category", &self.category)?;
        c.opt("currency", &self.currency)
    }
}

/// A cart line: `{"q":2,"p":{...}}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CartLine {
    #[serde(rename = "q")]
    pub quantity: u32,
    #[serde(rename = "p")]
    pub product: Product,
}

/// `{"k":"col","t":..,"u":..,"cid":"123","n":"Summer","ps":[{...}]}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionViewed {
    #[serde(rename = "t")]
    pub time: u64,
    #[serde(rename = "u")]
    pub url: String,
    #[serde(rename = "cid", default, skip_serializing_if = "Option::is_none")]
    pub collection_id: Option<String>,
    #[serde(rename = "n", default)]
    pub title: String,
    /// The first products shown (Shopify sends the visible ones).
    #[serde(rename = "ps", default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<Product>,
}

impl CollectionViewed {
    pub(crate) fn check(&self, c: &Checker<'_>) -> Result<(), ValidationError> {
        c.str("url", &self.url)?;
        c.opt("collection id", &self.collection_id)?;
        c.str("title", &self.title)?;
        c.list("products", self.products.len())?;
        self.products.iter().try_for_each(|p| p.check(c))
    }
}

/// A completed order: `{"k":"chk","t":..,"u":..,"oid":"1001","cus":"42","cur":"EUR",
/// "tot":45.0,"sub":39.98,"tax":7.6,"shp":5.0,"dis":0.0,"it":[{"q":2,"p":{...}}]}`
///
/// `oid` and `cus` let the server answer privacy requests, which name orders and
/// customers, not visitors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutCompleted {
    #[serde(rename = "t")]
    pub time: u64,
    #[serde(rename = "u")]
    pub url: String,
    /// Shopify order id, when the checkout created an order.
    #[serde(rename = "oid", default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Shopify customer id, when the buyer has an account.
    #[serde(rename = "cus", default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(rename = "cur", default)]
    pub currency: String,
    /// Grand total.
    #[serde(rename = "tot")]
    pub total: f64,
    #[serde(rename = "sub", default)]
    pub subtotal: f64,
    #[serde(rename = "tax", default)]
    pub tax: f64,
    #[serde(rename = "shp", default)]
    pub shipping: f64,
    /// Sum of discounts applied.
    #[serde(rename = "dis", default)]
    pub discounts: f64,
    #[serde(rename = "it", default)]
    pub items: Vec<CartLine>,
}

impl CheckoutCompleted {
    pub(crate) fn check(&self, c: &Checker<'_>) -> Result<(), ValidationError> {
        c.str("url", &self.url)?;
        c.opt("order id", &self.order_id)?;
        c.opt("customer id", &self.customer_id)?;
        c.str("currency", &self.currency)?;
        c.list("items", self.items.len())?;
        self.items.iter().try_for_each(|l| l.product.check(c))
    }
}
