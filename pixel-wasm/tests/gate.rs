//! The pixel's rules, end to end through its core: consent before anything, ids in
//! priority order, a bounded queue, and no personal data in what is sent.
#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture, CONSENT_NO, CONSENT_YES, PERSONAL, SETTINGS, STANDARD};
use pixel_wasm::pixel::{Handled, Pixel, MAX_QUEUE};
use protocol::{Batch, Event, Kind};

/// The tracker's `lummmen:startPixel` as Shopify delivers a custom event.
fn start() -> String {
    fixture("custom_start_pixel")
}

fn consenting() -> Pixel {
    Pixel::new(SETTINGS, CONSENT_YES)
}

fn body(p: &mut Pixel) -> Option<Batch> {
    p.take_body(1_000, 0xabc).map(|b| serde_json::from_str(&b).unwrap())
}

#[test]
fn events_before_consent_are_discarded_not_queued() {
    let mut p = Pixel::new(SETTINGS, r#"{"customerPrivacy":{"analyticsProcessingAllowed":false}}"#);
    assert_eq!(p.handle(&start(), 1), Handled::Ids);
    assert_eq!(p.handle(&fixture("product_viewed"), 1), Handled::NoConsent);
    assert_eq!(p.queued(), 0);
    p.consent_changed(CONSENT_YES);
    assert_eq!(body(&mut p), None, "nothing from before consent");
    assert_eq!(p.handle(&fixture("product_added_to_cart"), 1), Handled::Queued);
    let b = body(&mut p).unwrap();
    assert_eq!(b.events.iter().map(|e| e.kind()).collect::<Vec<_>>(), [Kind::AddedToCart]);
}

#[test]
fn consent_needs_an_explicit_true() {
    for init in [
        "{}",
        "null",
        "",
        r#"{"customerPrivacy":null}"#,
        r#"{"customerPrivacy":{"analyticsProcessingAllowed":"true"}}"#,
    ] {
        assert!(!Pixel::new(SETTINGS, init).consent(), "{init}");
    }
    assert!(consenting().consent());
}

#[test]
fn revoking_consent_drops_the_queue_and_stops_sending() {
    let mut p = consenting();
    p.handle(&fixture("product_viewed"), 1);
    assert_eq!(p.queued(), 1, "waits for a visitor id");
    p.consent_changed(CONSENT_NO);
    assert_eq!(p.queued(), 0);
    p.handle(&start(), 1);
    assert_eq!(p.handle(&fixture("product_viewed"), 1), Handled::NoConsent);
    assert_eq!(body(&mut p), None);
}

#[test]
fn consent_is_checked_at_flush_time() {
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("product_viewed"), 1);
    p.set_consent(false);
    assert_eq!(body(&mut p), None);
}

#[test]
fn events_wait_for_ids_then_go_in_one_batch() {
    let mut p = consenting();
    for name in STANDARD {
        assert_eq!(p.handle(&fixture(name), 1), Handled::Queued, "{name}");
    }
    assert_eq!(body(&mut p), None, "settings give a site but no visitor id");
    p.handle(&start(), 1);
    let b = body(&mut p).unwrap();
    assert_eq!(
        (b.site_id, b.visitor_id.as_str(), b.batch_id.as_str()),
        (7, "9f86d081884c7d65", "0000000000000abc")
    );
    assert_eq!(
        b.events.iter().map(|e| e.kind()).collect::<Vec<_>>(),
        [
            Kind::CollectionViewed,
            Kind::ProductViewed,
            Kind::AddedToCart,
            Kind::RemovedFromCart,
            Kind::CheckoutCompleted
        ]
    );
    assert_eq!(b.validate(&protocol::Limits::default()), Ok(()));
    assert_eq!(body(&mut p), None, "the queue is drained");
}

#[test]
fn cookies_supply_ids_when_no_custom_event_comes() {
    let mut p = consenting();
    p.cookies("aaaaaaaaaaaaaaaa", "5");
    p.handle(&fixture("checkout_completed"), 1);
    let b = body(&mut p).unwrap();
    assert_eq!((b.site_id, b.visitor_id.as_str()), (5, "aaaaaaaaaaaaaaaa"));
    p.cookies("aaaaaaaaaaaaaaaa", "");
    p.handle(&fixture("checkout_completed"), 1);
    assert_eq!(body(&mut p).unwrap().site_id, 3, "settings' site id as the last resort");
}

#[test]
fn a_forged_start_event_neither_sets_nor_erases_ids() {
    let mut p = consenting();
    p.handle(&start(), 1);
    let forged = r#"{"name":"lummmen:startPixel","customData":{"visitorId":"<script>","siteId":-1}}"#;
    assert_eq!(p.handle(forged, 1), Handled::Ids);
    assert_eq!(p.identity().resolved(), Some((7, "9f86d081884c7d65")));
    let mut fresh = consenting();
    fresh.handle(forged, 1);
    assert_eq!(fresh.identity().visitor_id(), None);
}

#[test]
fn the_queue_is_bounded_and_counts_what_it_drops() {
    let mut p = consenting();
    for _ in 0..MAX_QUEUE + 5 {
        p.handle(&fixture("product_viewed"), 1);
    }
    assert_eq!(p.queued(), MAX_QUEUE);
    p.handle(&start(), 1);
    let b = body(&mut p).unwrap();
    assert_eq!((b.events.len(), b.dropped), (MAX_QUEUE, 5));
}

#[test]
fn unreadable_and_unmapped_events_are_ignored() {
    let mut p = consenting();
    assert_eq!(p.handle("not json", 1), Handled::Unreadable);
    assert_eq!(p.handle(r#"{"nope":1}"#, 1), Handled::Unreadable);
    assert!(matches!(p.handle(r#"{"name":"page_viewed"}"#, 1), Handled::NotMapped(_)));
    assert_eq!(p.queued(), 0);
}

#[test]
fn no_personal_data_in_any_body_sent() {
    let fixtures: Vec<String> = STANDARD.iter().map(|n| fixture(n)).collect();
    let checkout = &fixtures[4];
    for pii in PERSONAL {
        assert!(
            checkout.to_lowercase().contains(&pii.to_lowercase()) || fixture("init").contains(pii),
            "fixture lacks {pii}: the test would prove nothing"
        );
    }
    let mut p = Pixel::new(SETTINGS, &fixture("init"));
    p.handle(&start(), 1);
    for f in &fixtures {
        p.handle(f, 1);
    }
    let sent = p.take_body(1, 1).unwrap().to_lowercase();
    assert!(sent.contains("5600000001001"), "the order itself is sent: {sent}");
    for pii in PERSONAL {
        assert!(!sent.contains(&pii.to_lowercase()), "{pii} leaked: {sent}");
    }
}

#[test]
fn a_batch_that_failed_on_the_network_is_sent_again_with_the_same_id() {
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("checkout_completed"), 1);
    let first = p.take_batch(10, 0xabc).unwrap();
    p.failed(&first.batch_id);
    let again = p.take_batch(20, 0xdef).unwrap();
    assert_eq!((again.batch_id.as_str(), again.sent_at), (first.batch_id.as_str(), 20));
    assert_eq!(again.events, first.events);
    p.sent(&again.batch_id);
    assert_eq!(p.take_batch(30, 1), None, "answered: not sent again");
}

#[test]
fn retries_are_bounded_and_dropped_on_revoke() {
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("product_viewed"), 1);
    let id = p.take_batch(1, 7).unwrap().batch_id;
    for attempt in 2..=pixel_wasm::outbox::MAX_ATTEMPTS {
        p.failed(&id);
        assert_eq!(p.take_batch(1, 8).map(|b| b.batch_id), Some(id.clone()), "attempt {attempt}");
    }
    p.failed(&id);
    assert_eq!(p.take_batch(1, 9), None, "attempts used up");

    p.handle(&fixture("product_viewed"), 1);
    let id = p.take_batch(1, 10).unwrap().batch_id;
    p.failed(&id);
    p.set_consent(false);
    p.set_consent(true);
    assert_eq!(p.take_batch(1, 11), None, "revoking consent dropped the retry");
}

#[test]
fn a_visitor_outside_the_projects_sample_sends_nothing() {
    // The start event's visitor 9f86d081884c7d65 falls in bucket 45 of 100.
    let with_sample = |sample: &str| {
        let settings =
            format!(r#"{{"siteId":"3","endpoint":"https://collect.example/collect","sample":"{sample}"}}"#);
        let mut p = Pixel::new(&settings, CONSENT_YES);
        p.handle(&start(), 1);
        p.handle(&fixture("product_viewed"), 2);
        let sent = body(&mut p);
        (sent.map(|b| b.events.len()), p.queued())
    };
    assert_eq!(with_sample("40"), (None, 0), "out of a 40% sample: dropped, not kept");
    assert_eq!(with_sample("50"), (Some(1), 0), "in a 50% sample");
    assert_eq!(with_sample("oops"), (Some(1), 0), "an unreadable sample tracks everyone");
}

/// The whole cart each add and removal of the batch carries, as (variant, quantity).
fn carts(b: &Batch) -> Vec<Option<Vec<(String, u32)>>> {
    b.events
        .iter()
        .filter_map(|e| match e {
            Event::AddedToCart { cart, .. } | Event::RemovedFromCart { cart, .. } => {
                Some(cart.as_ref().map(|c| {
                    c.iter().map(|l| (l.product.variant_id.clone().unwrap_or_default(), l.quantity)).collect()
                }))
            }
            _ => None,
        })
        .collect()
}

const TEE: &str = "gid://shopify/ProductVariant/40000000002";
const CAP: &str = "gid://shopify/ProductVariant/40000000010";

fn lines(list: &[(&str, u32)]) -> Option<Vec<(String, u32)>> {
    Some(list.iter().map(|(v, q)| ((*v).to_string(), *q)).collect())
}

#[test]
fn adds_and_removals_carry_the_whole_cart_from_init_and_cart_viewed() {
    // `init.data.cart` as the entry hands it over: the cart's lines alone.
    let viewed: serde_json::Value = serde_json::from_str(&fixture("cart_viewed")).unwrap();
    let init = serde_json::json!({
        "customerPrivacy": {"analyticsProcessingAllowed": true},
        "data": {"cart": {"lines": [viewed["data"]["cart"]["lines"][1]]}},
    });
    let mut p = Pixel::new(SETTINGS, &init.to_string());
    assert_eq!(p.cart().map(<[_]>::len), Some(1), "the cap, from init");
    p.handle(&start(), 1);
    p.handle(&fixture("product_added_to_cart"), 1);
    p.handle(&fixture("product_removed_from_cart"), 1);
    p.handle(&fixture("product_removed_from_cart"), 1);
    let b = body(&mut p).unwrap();
    assert_eq!(carts(&b), [lines(&[(CAP, 1), (TEE, 2)]), lines(&[(TEE, 2)]), lines(&[(TEE, 2)])]);
    assert_eq!(b.validate(&protocol::Limits::default()), Ok(()));

    // The cart page states the whole cart again; its attributes stay behind.
    assert_eq!(p.handle(&fixture("cart_viewed"), 1), Handled::Cart);
    assert_eq!(p.queued(), 0, "cart_viewed itself is not sent");
    p.handle(&fixture("product_removed_from_cart"), 1);
    let b = body(&mut p).unwrap();
    assert_eq!(carts(&b), [lines(&[(TEE, 2)])]);
    let sent = serde_json::to_string(&b).unwrap().to_lowercase();
    for pii in PERSONAL {
        assert!(!sent.contains(&pii.to_lowercase()), "{pii} leaked: {sent}");
    }
}

#[test]
fn without_consent_at_load_or_after_a_revoke_the_cart_is_unknown_and_not_sent() {
    // No cart in init: the shopper has none yet, an empty cart.
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("product_added_to_cart"), 1);
    assert_eq!(carts(&body(&mut p).unwrap()), [lines(&[(TEE, 2)])]);

    p.set_consent(false);
    assert_eq!(p.cart(), None, "revoking consent forgets the cart");
    assert_eq!(p.handle(&fixture("cart_viewed"), 1), Handled::NoConsent);
    p.set_consent(true);
    p.handle(&fixture("product_added_to_cart"), 1);
    assert_eq!(carts(&body(&mut p).unwrap()), [None], "unknown: no cart rather than a wrong one");
    p.handle(&fixture("cart_viewed"), 1);
    p.handle(&fixture("product_added_to_cart"), 1);
    assert_eq!(carts(&body(&mut p).unwrap()), [lines(&[(TEE, 4), (CAP, 1)])]);

    // Consent refused when the page loaded: init's cart is never read.
    let refused = serde_json::json!({
        "customerPrivacy": {"analyticsProcessingAllowed": false},
        "data": {"cart": {"lines": []}},
    });
    let mut p = Pixel::new(SETTINGS, &refused.to_string());
    assert_eq!(p.cart(), None);
    p.consent_changed(CONSENT_YES);
    p.handle(&start(), 1);
    p.handle(&fixture("product_added_to_cart"), 1);
    assert_eq!(carts(&body(&mut p).unwrap()), [None]);
}
