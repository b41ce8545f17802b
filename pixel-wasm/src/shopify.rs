//! Reading Shopify's event payloads, as documented by the TypeScript types of
//! `@shopify/web-pixels-extension` (`PixelEvents/index.d.ts`): which field holds
//! what. Every read goes through a named path here.
//!
//! This is the allow-list that keeps personal data out: nothing reads
//! `Checkout.email`, `phone`, `billingAddress`, `shippingAddress`,
//! `smsMarketingPhone`, line-item `properties`, `attributes`, `transactions`,
//! delivery descriptions or `init.data.customer`; of a `Cart` (`init.data.cart`,
//! `cart_viewed`) only its `lines` are read, never its `attributes`.

use crate::json::Value;

/// An event from `analytics.subscribe`: standard (`data`) or custom (`customData`).
#[derive(Debug, Clone, Copy)]
pub struct PixelEvent<'a>(pub &'a Value);

impl<'a> PixelEvent<'a> {
    /// `name`; `None` when the value is not shaped like an event.
    pub fn name(&self) -> Option<&'a str> {
        self.0.get("name").and_then(Value::as_str)
    }

    /// `timestamp`, ISO 8601.
    pub fn timestamp(&self) -> Option<&'a str> {
        self.0.get("timestamp").and_then(Value::as_str)
    }

    /// `context.document.location.href`, else `context.window.location.href`.
    pub fn href(&self) -> Option<&'a str> {
        let at = |w| self.0.at(&["context", w, "location", "href"]).and_then(Value::as_str);
        at("document").or_else(|| at("window"))
    }

    /// `data.<field>`, absent when missing or `null`.
    pub fn data(&self, field: &str) -> Option<&'a Value> {
        self.0.at(&["data", field])
    }

    /// `customData`.
    pub fn custom_data(&self) -> Option<&'a Value> {
        self.0.at(&["customData"])
    }
}

/// A string member, absent when missing, `null` or not a string.
pub fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `MoneyV2.amount` of member `key`.
pub fn amount(v: &Value, key: &str) -> Option<f64> {
    v.at(&[key, "amount"]).and_then(Value::as_f64)
}

/// `MoneyV2.currencyCode` of member `key`.
pub fn currency<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.at(&[key, "currencyCode"]).and_then(Value::as_str)
}

/// `customerPrivacy.analyticsProcessingAllowed` of `init` or of a
/// `visitorConsentCollected` payload; only an explicit `true` allows.
pub fn analytics_allowed(payload: &Value) -> bool {
    payload.at(&["customerPrivacy", "analyticsProcessingAllowed"]).and_then(Value::as_bool) == Some(true)
}
