//! The pixel's rules, end to end through its core: consent before anything, ids in
//! priority order, a bounded queue, and no personal data in what is sent.
#![allow(clippy::unwrap_used)]

mod common;

use common::{fixture, CONSENT_NO, CONSENT_YES, PERSONAL, SETTINGS, STANDARD};
use pixel_wasm::pixel::{Handled, Pixel, MAX_QUEUE};
use protocol::delivery::NETWORK_RETRY_MS;
use protocol::{Batch, Event, Kind};

/// The tracker's `lummmen:startPixel` as Shopify delivers a custom event.
fn start() -> String {
    fixture("custom_start_pixel")
}

fn consenting() -> Pixel {
    Pixel::new(SETTINGS, CONSENT_YES)
}

/// The next batch sent, which the collector takes.
fn body(p: &mut Pixel) -> Option<Batch> {
    let (id, body) = p.next_request(1_000, 0xabc)?;
    p.answered(id, 200, None, 1_000);
    Some(serde_json::from_str(&body).unwrap())
}

/// The next request, answered with `status`: its body.
fn answered(p: &mut Pixel, now: u64, status: u16, retry_after: Option<&str>) -> Option<Batch> {
    let (id, body) = p.next_request(now, now)?;
    p.answered(id, status, retry_after, now);
    Some(serde_json::from_str(&body).unwrap())
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
    let sent: Vec<Batch> = std::iter::from_fn(|| body(&mut p)).collect();
    let events: usize = sent.iter().map(|b| b.events.len()).sum();
    assert_eq!((events, sent[0].dropped), (MAX_QUEUE, 5));
    assert!(sent[1..].iter().all(|b| b.dropped == 0), "counted once");
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
    let sent = p.next_request(1, 1).unwrap().1.to_lowercase();
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
    let first = answered(&mut p, 10, 0, None).unwrap();
    assert_eq!(p.next_request(11, 2), None, "a short pause first");
    let again = answered(&mut p, 10 + NETWORK_RETRY_MS, 200, None).unwrap();
    assert_eq!(again, first, "the same batch, batch id included");
    assert_eq!(p.next_request(10_000, 3), None, "taken: not sent again");
}

#[test]
fn a_rate_limited_batch_waits_for_retry_after_and_everything_else_with_it() {
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("product_viewed"), 1);
    let first = answered(&mut p, 1_000, 429, Some("2")).unwrap();
    assert_eq!(p.wait(1_000), Some(2_000), "when to try again");
    p.handle(&fixture("collection_viewed"), 1_500);
    assert_eq!(p.next_request(2_999, 4), None, "paused, new batches too");
    let again = answered(&mut p, 3_000, 503, Some("1")).unwrap();
    assert_eq!(again, first);
    assert_eq!(answered(&mut p, 4_000, 200, None).unwrap(), first, "taken on the third try");
    let next = answered(&mut p, 4_000, 200, None).unwrap();
    assert_eq!(next.events.iter().map(|e| e.kind()).collect::<Vec<_>>(), [Kind::CollectionViewed]);
    assert_eq!(next.dropped, 0);
    assert_eq!(p.wait(4_000), None, "nothing waits");
}

#[test]
fn a_batch_refused_for_good_is_dropped_and_counted_in_the_next_batch() {
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("checkout_completed"), 1);
    assert!(answered(&mut p, 10, 413, None).is_some());
    assert_eq!(p.next_request(20, 2), None, "never sent again");
    p.handle(&fixture("product_viewed"), 30);
    let next = body(&mut p).unwrap();
    assert_eq!((next.dropped, next.events.len()), (1, 1));
}

#[test]
fn large_queues_are_split_into_bodies_that_fit_the_keepalive_quota() {
    let mut p = consenting();
    p.handle(&start(), 1);
    for _ in 0..MAX_QUEUE {
        p.handle(&fixture("checkout_completed"), 1);
    }
    let mut bodies = Vec::new();
    while let Some((id, body)) = p.next_request(5, 0xabc) {
        p.answered(id, 200, None, 5);
        bodies.push(body);
    }
    assert!(bodies.len() > 1, "one body of {} bytes", bodies[0].len());
    assert!(bodies.iter().all(|b| b.len() <= pixel_wasm::pixel::MAX_BODY));
    let batches: Vec<Batch> = bodies.iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    assert_eq!(batches.iter().map(|b| b.events.len()).sum::<usize>(), MAX_QUEUE, "every event, once");
    let ids: std::collections::HashSet<&str> = batches.iter().map(|b| b.batch_id.as_str()).collect();
    assert_eq!(ids.len(), batches.len(), "a batch id each");
}

#[test]
fn revoking_consent_drops_unsent_batches() {
    let mut p = consenting();
    p.handle(&start(), 1);
    p.handle(&fixture("product_viewed"), 1);
    answered(&mut p, 1, 503, Some("1")).unwrap();
    p.set_consent(false);
    p.set_consent(true);
    assert_eq!(p.next_request(10_000, 11), None, "revoking consent dropped the retry");
}

#[test]
fn unsent_batches_are_kept_for_the_next_page_only_with_consent() {
    let mut without = Pixel::new(SETTINGS, CONSENT_NO);
    assert!(!without.storage_read(), "not read without consent");
    assert_eq!(without.storage_write().as_deref(), Some(""), "an earlier copy removed");
    assert_eq!(without.storage_write(), None);

    // A page: its batch is refused, the copy written, the page ends.
    let mut first = consenting();
    assert!(first.storage_read());
    first.restore("");
    first.handle(&start(), 1);
    first.handle(&fixture("checkout_completed"), 1);
    let refused = answered(&mut first, 100, 503, Some("30")).unwrap();
    let kept = first.storage_write().unwrap();
    assert!(kept.contains(&refused.batch_id), "{kept}");

    // The next page takes it up, honours the pause, and removes the copy once
    // the batch is taken.
    let mut next = consenting();
    assert!(next.storage_read());
    assert_eq!(next.storage_write(), None, "nothing written before the copy is read");
    next.restore(&kept);
    assert_eq!(next.next_request(29_000, 5), None, "the collector's pause carries over");
    let again = answered(&mut next, 30_100, 200, None).unwrap();
    assert_eq!(again, refused);
    assert_eq!(next.storage_write().as_deref(), Some(""));

    // Withdrawn while a batch waits: the copy goes.
    let mut revoked = consenting();
    revoked.storage_read();
    revoked.restore(&kept);
    assert!(revoked.storage_write().is_none());
    revoked.consent_changed(CONSENT_NO);
    assert_eq!(revoked.storage_write().as_deref(), Some(""));
    revoked.consent_changed(CONSENT_YES);
    assert_eq!(revoked.next_request(60_000, 6), None, "nothing of it is sent");
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
