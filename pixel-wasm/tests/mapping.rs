//! Shopify's documented payloads (fixtures) map to the right `protocol` events.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixture;
use pixel_wasm::json::Value;
use pixel_wasm::map::{map_event, MapError};
use pixel_wasm::shopify::PixelEvent;
use protocol::{CartLine, CheckoutCompleted, CollectionViewed, Event, Product};

const NOW: u64 = 1;

fn map(name: &str) -> Event {
    let v = Value::parse(&fixture(name)).unwrap();
    map_event(PixelEvent(&v), NOW).unwrap()
}

fn tee() -> Product {
    Product {
        product_id: Some("gid://shopify/Product/7000000001".into()),
        variant_id: Some("gid://shopify/ProductVariant/40000000002".into()),
        sku: Some("TEE-M".into()),
        title: "Organic Cotton Tee".into(),
        variant_title: Some("M / Black".into()),
        price: 19.99,
        category: Some("Shirts".into()),
        currency: Some("EUR".into()),
    }
}

fn cap() -> Product {
    Product {
        product_id: Some("gid://shopify/Product/7000000005".into()),
        variant_id: Some("gid://shopify/ProductVariant/40000000010".into()),
        sku: None,
        title: "Wool Cap".into(),
        variant_title: Some("Default Title".into()),
        price: 12.5,
        category: Some("Hats".into()),
        currency: Some("EUR".into()),
    }
}

#[test]
fn product_viewed_maps_variant_product_and_clean_url() {
    assert_eq!(
        map("product_viewed"),
        Event::ProductViewed {
            time: 1_763_799_200_123,
            url: "https://demo-shop.myshopify.com/products/organic-cotton-tee?variant=40000000002".into(),
            product: tee(),
        }
    );
}

#[test]
fn collection_viewed_maps_collection_and_its_products() {
    assert_eq!(
        map("collection_viewed"),
        Event::CollectionViewed(CollectionViewed {
            time: 1_763_799_185_000,
            url: "https://demo-shop.myshopify.com/collections/summer".into(),
            collection_id: Some("gid://shopify/Collection/300000001".into()),
            title: "Summer".into(),
            products: vec![tee(), cap()],
        })
    );
}

#[test]
fn cart_events_map_quantity_and_merchandise() {
    assert_eq!(
        map("product_added_to_cart"),
        Event::AddedToCart {
            time: 1_763_799_221_500,
            url: "https://demo-shop.myshopify.com/products/organic-cotton-tee".into(),
            line: CartLine { quantity: 2, product: tee() },
            cart: None,
        }
    );
    assert_eq!(
        map("product_removed_from_cart"),
        Event::RemovedFromCart {
            time: 1_763_799_242_000,
            url: "https://demo-shop.myshopify.com/cart".into(),
            line: CartLine { quantity: 1, product: cap() },
            cart: None,
        }
    );
}

#[test]
fn checkout_completed_maps_order_totals_and_lines() {
    assert_eq!(
        map("checkout_completed"),
        Event::CheckoutCompleted(CheckoutCompleted {
            time: 1_763_799_390_250,
            // The checkout token is redacted, the email's value dropped.
            url: "https://demo-shop.myshopify.com/checkouts/c/redacted/thank-you?email=".into(),
            order_id: Some("gid://shopify/Order/5600000001001".into()),
            customer_id: Some("gid://shopify/Customer/6200000042".into()),
            currency: "EUR".into(),
            total: 52.23,
            subtotal: 47.23,
            tax: 8.71,
            shipping: 5.0,
            discounts: 5.25,
            items: vec![CartLine { quantity: 2, product: tee() }, CartLine { quantity: 1, product: cap() }],
        })
    );
}

#[test]
fn checkout_without_discounts_amount_adds_up_line_allocations() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("checkout_completed")).unwrap();
    v["data"]["checkout"]["discountsAmount"] = serde_json::Value::Null;
    let v = Value::parse(&v.to_string()).unwrap();
    let Event::CheckoutCompleted(c) = map_event(PixelEvent(&v), NOW).unwrap() else {
        panic!("not a checkout")
    };
    assert!((c.discounts - 5.25).abs() < 1e-9, "{}", c.discounts);
}

#[test]
fn missing_timestamp_uses_now_and_missing_data_is_an_error() {
    let mut v: serde_json::Value = serde_json::from_str(&fixture("product_viewed")).unwrap();
    v["timestamp"] = "yesterday".into();
    let e = Value::parse(&v.to_string()).unwrap();
    assert_eq!(map_event(PixelEvent(&e), 42).unwrap().time(), 42);
    v["data"]["productVariant"] = serde_json::Value::Null;
    let e = Value::parse(&v.to_string()).unwrap();
    assert_eq!(map_event(PixelEvent(&e), 42), Err(MapError::MissingData("productVariant")));
    let mut cart: serde_json::Value = serde_json::from_str(&fixture("product_added_to_cart")).unwrap();
    cart["data"]["cartLine"] = serde_json::Value::Null;
    let e = Value::parse(&cart.to_string()).unwrap();
    assert_eq!(map_event(PixelEvent(&e), 42), Err(MapError::MissingData("cartLine")));
}

#[test]
fn other_standard_events_are_not_mapped() {
    let e = Value::parse(r#"{"name":"page_viewed","data":{}}"#).unwrap();
    assert_eq!(map_event(PixelEvent(&e), NOW), Err(MapError::Unsupported));
}

#[test]
fn every_mapped_event_passes_the_servers_validation() {
    for name in common::STANDARD {
        let batch = protocol::Batch {
            site_id: 1,
            visitor_id: "0123456789abcdef".into(),
            batch_id: "0123456789abcdef".into(),
            sent_at: 1,
            session_id: None,
            page_view_id: None,
            dropped: 0,
            events: vec![map(name)],
        };
        batch.validate(&protocol::Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
