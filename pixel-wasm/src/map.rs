//! Shopify's five standard ecommerce events to `protocol` events.
//!
//! Only allow-listed fields are read (see `shopify`); free-form strings are clipped
//! and URLs lose their query and fragment (see `privacy`).

use protocol::{CartLine, CheckoutCompleted, CollectionViewed, Event, Product};

use crate::json::Value;
use crate::privacy::{clean_url, clip};
use crate::shopify::{amount, currency, text, PixelEvent};
use crate::time::parse_iso_ms;

/// The standard events the pixel maps; it subscribes to exactly these.
pub const STANDARD_EVENTS: [&str; 5] = [
    "checkout_completed",
    "product_added_to_cart",
    "product_removed_from_cart",
    "product_viewed",
    "collection_viewed",
];

/// Shopify's `cart_viewed`: not sent, but the whole cart it carries is what
/// the next add or removal states (see [`crate::cart`]).
pub const CART_VIEWED: &str = "cart_viewed";

/// Most products kept from a `collection_viewed` (Shopify sends every product
/// variant shown on the page; the first ones are what a funnel report needs).
pub const MAX_COLLECTION_PRODUCTS: usize = 24;

/// Most lines kept from one order (`protocol::Limits::max_list` is higher).
pub const MAX_ORDER_LINES: usize = 100;

/// Why a standard event could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// Not one of [`STANDARD_EVENTS`].
    Unsupported,
    /// The event lacks the `data` field its name requires (e.g. `cartLine: null`).
    MissingData(&'static str),
}

/// Maps one standard event. `now` stands in for a missing or unreadable timestamp.
pub fn map_event(e: PixelEvent<'_>, now: u64) -> Result<Event, MapError> {
    let time = e.timestamp().and_then(parse_iso_ms).unwrap_or(now);
    let url = e.href().map(clean_url).unwrap_or_default();
    let name = e.name().unwrap_or_default();
    match name {
        "product_viewed" => {
            let v = e.data("productVariant").ok_or(MapError::MissingData("productVariant"))?;
            Ok(Event::ProductViewed { time, url, product: product(v) })
        }
        "product_added_to_cart" | "product_removed_from_cart" => {
            let l = e.data("cartLine").ok_or(MapError::MissingData("cartLine"))?;
            let line = cart_line(l).ok_or(MapError::MissingData("cartLine.merchandise"))?;
            // The whole cart is the pixel's to add (see `crate::cart`).
            let cart = None;
            Ok(if name == "product_added_to_cart" {
                Event::AddedToCart { time, url, line, cart }
            } else {
                Event::RemovedFromCart { time, url, line, cart }
            })
        }
        "collection_viewed" => {
            let c = e.data("collection").ok_or(MapError::MissingData("collection"))?;
            let variants = c.get("productVariants").map(Value::items).unwrap_or_default();
            Ok(Event::CollectionViewed(CollectionViewed {
                time,
                url,
                collection_id: text(c, "id").map(clip),
                title: text(c, "title").map(clip).unwrap_or_default(),
                products: variants.iter().take(MAX_COLLECTION_PRODUCTS).map(product).collect(),
            }))
        }
        "checkout_completed" => {
            let c = e.data("checkout").ok_or(MapError::MissingData("checkout"))?;
            Ok(Event::CheckoutCompleted(checkout(c, time, url)))
        }
        _ => Err(MapError::Unsupported),
    }
}

/// A Shopify `CartLine`: its `merchandise` and `quantity`; `None` without merchandise.
pub(crate) fn cart_line(l: &Value) -> Option<CartLine> {
    let v = l.at(&["merchandise"])?;
    Some(CartLine { quantity: quantity(l), product: product(v) })
}

/// A `ProductVariant` with its `product`.
fn product(v: &Value) -> Product {
    let p = v.at(&["product"]);
    let ptext = |k| p.and_then(|p| text(p, k)).filter(|s| !s.is_empty()).map(clip);
    Product {
        product_id: ptext("id"),
        variant_id: text(v, "id").map(clip),
        sku: text(v, "sku").filter(|s| !s.is_empty()).map(clip),
        title: ptext("title").unwrap_or_default(),
        variant_title: text(v, "title").map(clip),
        price: finite(amount(v, "price")),
        category: ptext("type"),
        currency: currency(v, "price").map(clip),
    }
}

fn checkout(c: &Value, time: u64, url: String) -> CheckoutCompleted {
    let lines = c.get("lineItems").map(Value::items).unwrap_or_default();
    // Older checkouts have no `discountsAmount`: add up the line allocations.
    let discounts = amount(c, "discountsAmount").unwrap_or_else(|| {
        lines
            .iter()
            .flat_map(|l| l.get("discountAllocations").map(Value::items).unwrap_or_default())
            .map(|d| finite(amount(d, "amount")))
            .sum()
    });
    let items = lines
        .iter()
        .take(MAX_ORDER_LINES)
        .filter_map(|l| {
            let mut p = product(l.at(&["variant"])?);
            if p.title.is_empty() {
                p.title = text(l, "title").map(clip).unwrap_or_default();
            }
            Some(CartLine { quantity: quantity(l), product: p })
        })
        .collect();
    let currency = text(c, "currencyCode").or_else(|| currency(c, "totalPrice")).unwrap_or_default();
    CheckoutCompleted {
        time,
        url,
        order_id: c.at(&["order", "id"]).and_then(Value::as_str).map(clip),
        customer_id: c.at(&["order", "customer", "id"]).and_then(Value::as_str).map(clip),
        currency: clip(currency),
        total: finite(amount(c, "totalPrice")),
        subtotal: finite(amount(c, "subtotalPrice")),
        tax: finite(amount(c, "totalTax")),
        shipping: finite(c.at(&["shippingLine", "price", "amount"]).and_then(Value::as_f64)),
        discounts: finite(Some(discounts)),
        items,
    }
}

/// Amounts the server can store: missing, NaN and infinities become 0.
fn finite(x: Option<f64>) -> f64 {
    x.filter(|x| x.is_finite()).unwrap_or(0.0)
}

/// `quantity` of a cart or checkout line: a positive whole number, else 0.
fn quantity(line: &Value) -> u32 {
    let q = line.get("quantity").and_then(Value::as_f64).unwrap_or(0.0);
    if q.is_finite() && q > 0.0 {
        q.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}
