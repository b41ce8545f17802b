//! The Matomo relay against a local fake Matomo that records what it receives;
//! every tracking request is checked against the Tracking API's documented
//! parameters (`support/fake_matomo.rs`). Matomo failing delays relaying
//! (retried from the spool) and never blocks ingestion; the shopper's user
//! agent, language and address reach Matomo and never the events store; carts
//! are stated whole; spool records written before request facts still drain
//! and relay.

mod common;
#[path = "support/fake_matomo.rs"]
mod fake_matomo;

use std::collections::HashMap;
use std::path::Path;

use common::*;
use fake_matomo::{check_documented, number, query, FakeMatomo};
use lummmen_server::{Config, ServerHandle};
use protocol::{Batch, CartLine, CollectionViewed, Event, Product};

const TOKEN: &str = "relay-token";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
const LANG: &str = "fr-FR,fr;q=0.9,en;q=0.5";
const SHOPPER_IP: &str = "203.0.113.9";

fn cap() -> Product {
    Product {
        product_id: Some("gid://shopify/Product/5".into()),
        variant_id: Some("gid://shopify/ProductVariant/55".into()),
        sku: Some("CAP".into()),
        title: "Cap".into(),
        variant_title: None,
        price: 12.5,
        category: Some("Hats".into()),
        currency: Some("EUR".into()),
    }
}

/// A pixel batch: a product view, a collection view, an add to a cart that
/// holds a cap, the cap's removal, and the order.
fn ecommerce_batch(visitor: &str) -> Batch {
    let t = 1_763_800_100_000;
    let url = "https://demo-shop.myshopify.com/products/tee".to_string();
    let mut b = checkout_batch(1, visitor, 77, "gid://shopify/Order/1001", Some("gid://shopify/Customer/42"));
    b.events.insert(0, Event::ProductViewed { time: t, url: url.clone(), product: product("TEE-M") });
    b.events.insert(
        1,
        Event::CollectionViewed(CollectionViewed {
            time: t + 1,
            url: "https://demo-shop.myshopify.com/collections/shirts".into(),
            collection_id: Some("9".into()),
            title: "Shirts".into(),
            products: vec![],
        }),
    );
    let tees = CartLine { quantity: 2, product: product("TEE-M") };
    let caps = CartLine { quantity: 1, product: cap() };
    b.events.insert(
        2,
        Event::AddedToCart {
            time: t + 2,
            url: url.clone(),
            line: tees.clone(),
            cart: Some(vec![caps.clone(), tees.clone()]),
        },
    );
    b.events.insert(
        3,
        Event::RemovedFromCart {
            time: t + 3,
            url: "https://demo-shop.myshopify.com/cart".into(),
            line: caps,
            cart: Some(vec![tees]),
        },
    );
    b
}

/// A batch from a pixel before carts: an add and a removal with their line alone.
fn earlier_pixel_batch(visitor: &str) -> Batch {
    let line = CartLine { quantity: 1, product: product("TEE-M") };
    let url = "https://demo-shop.myshopify.com/products/tee".to_string();
    Batch {
        site_id: 1,
        visitor_id: visitor.into(),
        batch_id: hex16(78),
        sent_at: 1_763_800_300_000,
        session_id: None,
        page_view_id: None,
        dropped: 0,
        events: vec![
            Event::AddedToCart { time: 1_763_800_290_000, url: url.clone(), line: line.clone(), cart: None },
            Event::RemovedFromCart { time: 1_763_800_291_000, url, line, cart: None },
        ],
    }
}

/// Posts a batch as the shopper's browser does, through our proxy.
async fn post_as_shopper(client: &reqwest::Client, base: &str, batch: &Batch) -> reqwest::StatusCode {
    client
        .post(format!("{base}/collect"))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("user-agent", UA)
        .header("accept-language", LANG)
        .header("x-forwarded-for", format!("198.51.100.1, {SHOPPER_IP}"))
        .body(serde_json::to_vec(batch).expect("json"))
        .send()
        .await
        .expect("post")
        .status()
}

fn items(q: &HashMap<String, String>) -> serde_json::Value {
    serde_json::from_str(&q["ec_items"]).expect("ec_items is JSON")
}

/// Every file under `dir` but the spool, as bytes.
fn stored_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let spool = dir.join("spool");
    all_files(dir).into_iter().filter(|(name, _)| !Path::new(name).starts_with(&spool)).collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn relays_with_the_shoppers_request_facts_and_whole_carts_and_retries_failures() {
    let matomo = FakeMatomo::start(2).await;
    let dir = TempDir::new("relay");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.matomo_url = Some(matomo.url.clone());
    config.matomo_token = Some(TOKEN.into());
    config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    let visitor = "0123456789abcdef";
    let page = page_batch(1, visitor, 5, 10); // 1 page view + clicks and moves
    let shop = ecommerce_batch(visitor);
    let earlier = earlier_pixel_batch(visitor);
    // Matomo refuses at first: ingestion answers 200 all the same.
    assert_eq!(post_as_shopper(&client, &server.url(), &page).await, 200);
    assert_eq!(post_as_shopper(&client, &server.url(), &shop).await, 200);
    // Sent straight to us, without the headers: the peer is the shopper.
    assert_eq!(post(&client, &server.url(), &earlier).await, 200);

    // pv; product view, collection view, add, removal, order; the earlier
    // pixel's add (its removal cannot state the cart). Not clicks or moves.
    let requests = matomo.wait_for(Some(TOKEN), |r| r.len() >= 7).await;
    assert_eq!(requests.len(), 7, "{requests:#?}");
    assert!(matomo.rec.lock().expect("lock").refused.len() >= 2, "the relay retried after Matomo refused");
    let qs: Vec<HashMap<String, String>> = requests.iter().map(|r| query(r)).collect();
    let events: Vec<&Event> =
        page.events.iter().take(1).chain(&shop.events).chain(earlier.events.iter().take(1)).collect();
    for (q, e) in qs.iter().zip(&events) {
        check_documented(q, true);
        assert_eq!(q["idsite"], "1");
        assert_eq!(q["_id"], visitor);
        assert_eq!(q["cid"], visitor);
        assert_eq!(number(q, "cdt") as u64, e.time() / 1000, "cdt is the event time in seconds");
        assert!(q["url"].starts_with("https://demo-shop.myshopify.com/"));
    }
    for q in &qs[..6] {
        assert_eq!((q["ua"].as_str(), q["lang"].as_str()), (UA, LANG), "the shopper's headers: {q:?}");
        assert_eq!(q["cip"], SHOPPER_IP, "the nearest address our proxy did not add");
    }
    let last = &qs[6];
    assert!(!last.contains_key("ua") && !last.contains_key("lang"), "none sent, none made up: {last:?}");
    assert_eq!(last["cip"], "127.0.0.1", "the peer itself");

    let pv = &qs[0];
    assert_eq!(pv["action_name"], "Product");
    assert_eq!(pv["res"], "1920x1080");
    assert_eq!(pv["urlref"], "https://demo-shop.myshopify.com/");
    let prv = &qs[1];
    assert_eq!(
        (prv["_pks"].as_str(), prv["_pkn"].as_str(), prv["_pkc"].as_str()),
        ("TEE-M", "Tee", "Shirts")
    );
    assert_eq!(number(prv, "_pkp"), 19.99);
    assert_eq!(qs[2]["_pkc"], "Shirts");

    // Cart updates state the whole cart, and what it costs.
    let (add, rem) = (&qs[3], &qs[4]);
    assert_eq!(
        items(add),
        serde_json::json!([["CAP", "Cap", "Hats", 12.5, 1], ["TEE-M", "Tee", "Shirts", 19.99, 2]])
    );
    assert_eq!(add["revenue"], "52.48");
    assert_eq!(items(rem), serde_json::json!([["TEE-M", "Tee", "Shirts", 19.99, 2]]), "the removal, relayed");
    assert_eq!(rem["revenue"], "39.98");
    for q in [add, rem] {
        assert_eq!(q["idgoal"], "0");
        assert!(!q.contains_key("ec_id"), "a cart update has no order id");
    }
    assert_eq!(items(last), serde_json::json!([["TEE-M", "Tee", "Shirts", 19.99, 1]]), "the line, as before");

    let order = &qs[5];
    assert_eq!(order["idgoal"], "0");
    assert_eq!(order["ec_id"], "gid://shopify/Order/1001");
    assert_eq!(
        (number(order, "revenue"), number(order, "ec_st"), number(order, "ec_tx")),
        (45.58, 39.98, 7.6)
    );
    assert_eq!((number(order, "ec_sh"), number(order, "ec_dt")), (5.0, 7.0));
    assert_eq!(items(order), serde_json::json!([["TEE-M", "Tee", "Shirts", 19.99, 2]]));

    // The address, user agent and language went to Matomo and nowhere else:
    // not into the events store, nor any other file of the server.
    server.flush().await.expect("flush");
    assert_eq!(server.store().events_for_visitor(1, visitor).await.expect("read").len(), 10 + 5 + 2);
    server.shutdown().await.expect("shutdown");
    let files = stored_files(&dir.0);
    assert!(files.iter().any(|(name, _)| name.ends_with("events.db")), "the store is there: {files:?}");
    for (name, bytes) in &files {
        for fact in [UA, LANG, SHOPPER_IP, "Firefox"] {
            assert!(!contains(bytes, fact), "{fact:?} in {name}");
        }
    }
}

/// A record as today's server wrote it, spelled out byte by byte:
/// `[len u32 LE][crc32 u32 LE][received_ms u64 LE][batch JSON]`.
fn record_of_before(received_ms: u64, json: &[u8]) -> Vec<u8> {
    let mut body = received_ms.to_le_bytes().to_vec();
    body.extend_from_slice(json);
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

#[tokio::test]
async fn spool_records_written_before_request_facts_still_drain_and_relay() {
    let matomo = FakeMatomo::start(0).await;
    let dir = TempDir::new("relay-old-spool");
    let visitor = "fedcba9876543210";
    // What a server of before left in its spool: a tracker batch and a pixel
    // batch of before carts, in a segment with zeros after them.
    let spool = dir.0.join("spool");
    std::fs::create_dir_all(&spool).expect("spool dir");
    let mut segment = record_of_before(
        1_763_800_010_000,
        &serde_json::to_vec(&page_batch(1, visitor, 9, 3)).expect("json"),
    );
    segment.extend(record_of_before(
        1_763_800_020_000,
        &serde_json::to_vec(&earlier_pixel_batch(visitor)).expect("json"),
    ));
    segment.extend(vec![0u8; 4096]);
    std::fs::write(spool.join(format!("{:020}.log", 1)), segment).expect("segment");

    let mut config = Config::for_tests(root(), dir.0.clone());
    config.matomo_url = Some(matomo.url.clone());
    config.matomo_token = Some(TOKEN.into());
    let server = ServerHandle::start(config).await.expect("server starts");
    let requests = matomo.wait_for(Some(TOKEN), |r| r.len() >= 2).await;
    let qs: Vec<HashMap<String, String>> = requests.iter().map(|r| query(r)).collect();
    assert_eq!(qs.len(), 2, "the page view and the add: {qs:#?}");
    for q in &qs {
        check_documented(q, true);
        assert_eq!(q["_id"], visitor);
        for fact in ["ua", "lang", "cip"] {
            assert!(!q.contains_key(fact), "a record of before knows no {fact}: {q:?}");
        }
    }
    assert_eq!(qs[0]["action_name"], "Product");
    assert_eq!(items(&qs[1]), serde_json::json!([["TEE-M", "Tee", "Shirts", 19.99, 1]]));
    server.flush().await.expect("flush");
    let stored = server.store().events_for_visitor(1, visitor).await.expect("read");
    assert_eq!(stored.len(), 3 + 2, "every event of both records is stored");
    server.shutdown().await.expect("shutdown");
}

/// Every file under `dir`, the spool's included.
fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(all_files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

#[tokio::test]
async fn without_a_token_the_shoppers_address_is_neither_relayed_nor_spooled_and_a_batch_sent_again_goes_once(
) {
    let matomo = FakeMatomo::start(0).await;
    let dir = TempDir::new("relay-no-token");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.matomo_url = Some(matomo.url.clone());
    config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    let visitor = "0123456789abcdef";
    let page = page_batch(1, visitor, 5, 2);
    // Sent again, as a client does when it could not read the answer; then
    // another page, after which the copy would have been relayed.
    assert_eq!(post_as_shopper(&client, &server.url(), &page).await, 200);
    assert_eq!(post_as_shopper(&client, &server.url(), &page).await, 200);
    let next = page_batch(1, visitor, 6, 2);
    assert_eq!(post_as_shopper(&client, &server.url(), &next).await, 200);
    let requests = matomo.wait_for(None, |r| r.len() >= 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let requests_now = matomo.requests(None);
    assert_eq!(requests_now.len(), 2, "each page view once: {requests_now:#?}");
    let q = query(&requests[0]);
    assert_eq!((q["ua"].as_str(), q["lang"].as_str()), (UA, LANG), "{q:?}");
    assert!(!q.contains_key("cip"), "Matomo takes cip only with a token: {q:?}");
    server.shutdown().await.expect("shutdown");
    let files = all_files(&dir.0);
    assert!(
        files.iter().any(|(name, bytes)| name.contains("spool") && contains(bytes, UA)),
        "the spool holds the user agent"
    );
    for (name, bytes) in &files {
        assert!(!contains(bytes, SHOPPER_IP), "the address in {name}");
    }
}

#[tokio::test]
async fn a_batch_matomo_refuses_for_good_is_left_out_and_the_rest_goes_on() {
    let matomo = FakeMatomo::start(0).await;
    let poisoned = "badbadbadbadbad1";
    matomo.rec.lock().expect("lock").poison = Some(poisoned.into());
    let dir = TempDir::new("relay-refused");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.matomo_url = Some(matomo.url.clone());
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    // Both in the spool before the relay reads: one bulk request, refused.
    for (visitor, n) in [(poisoned, 5), ("0123456789abcdef", 6)] {
        assert_eq!(post(&client, &server.url(), &page_batch(1, visitor, n, 2)).await, 200);
    }
    let requests = matomo.wait_for(None, |r| r.iter().any(|q| q.contains("0123456789abcdef"))).await;
    assert!(requests.iter().all(|q| !q.contains(poisoned)), "{requests:#?}");
    // The relay goes on after it.
    assert_eq!(post(&client, &server.url(), &page_batch(1, "fedcba9876543210", 7, 2)).await, 200);
    matomo.wait_for(None, |r| r.iter().any(|q| q.contains("fedcba9876543210"))).await;
    let metrics = client.get(format!("{}/metrics", server.url())).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("lummmen_relay_refused_total 1"), "{metrics}");
    server.shutdown().await.expect("shutdown");
}
