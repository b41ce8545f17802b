//! The Matomo relay against a local HTTP server that records what it receives
//! and checks it against the Tracking API's parameter rules; Matomo failing
//! delays relaying (retried from the spool) and never blocks ingestion.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing;
use axum::Router;
use common::*;
use lummmen_server::{Config, ServerHandle};
use protocol::{Batch, CartLine, CollectionViewed, Event};

#[derive(Default)]
struct Recorder {
    /// Bulk bodies answered 200.
    accepted: Vec<serde_json::Value>,
    /// How many more requests to refuse with 503.
    refuse: usize,
    refused: usize,
}

async fn matomo(State(rec): State<Arc<Mutex<Recorder>>>, body: String) -> StatusCode {
    let mut rec = rec.lock().expect("lock");
    if rec.refuse > 0 {
        rec.refuse -= 1;
        rec.refused += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    rec.accepted.push(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null));
    StatusCode::OK
}

async fn start_recorder(refuse: usize) -> (String, Arc<Mutex<Recorder>>) {
    let rec = Arc::new(Mutex::new(Recorder { refuse, ..Recorder::default() }));
    let app = Router::new().route("/matomo.php", routing::post(matomo)).with_state(Arc::clone(&rec));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rec)
}

fn query(request: &str) -> HashMap<String, String> {
    assert!(request.starts_with('?'), "a bulk entry is a query string starting with '?': {request}");
    let url = reqwest::Url::parse(&format!("http://matomo.test/matomo.php{request}")).expect("query parses");
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn number(q: &HashMap<String, String>, key: &str) -> f64 {
    q.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{key} must be a number: {q:?}"))
}

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
    let line = CartLine { quantity: 2, product: product("TEE-M") };
    b.events.insert(2, Event::AddedToCart { time: t + 2, url: url.clone(), line: line.clone(), cart: None });
    b.events.insert(3, Event::RemovedFromCart { time: t + 3, url, line, cart: None });
    b
}

#[tokio::test]
async fn relays_page_views_and_ecommerce_as_matomo_bulk_requests_and_retries_failures() {
    let (matomo_url, rec) = start_recorder(2).await;
    let dir = TempDir::new("relay");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.matomo_url = Some(matomo_url);
    config.matomo_token = Some("relay-token".into());
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    let visitor = "0123456789abcdef";
    let page = page_batch(1, visitor, 5, 10); // 1 page view + clicks and moves
    let shop = ecommerce_batch(visitor);
    // Matomo refuses at first: ingestion answers 200 all the same.
    assert_eq!(post(&client, &server.url(), &page).await, 200);
    assert_eq!(post(&client, &server.url(), &shop).await, 200);

    let mut requests: Vec<String> = Vec::new();
    for _ in 0..200 {
        {
            let rec = rec.lock().expect("lock");
            requests = rec
                .accepted
                .iter()
                .flat_map(|body| {
                    assert_eq!(body["token_auth"], "relay-token", "token_auth in the bulk body");
                    body["requests"]
                        .as_array()
                        .expect("requests list")
                        .iter()
                        .map(|r| r.as_str().expect("string").to_string())
                        .collect::<Vec<_>>()
                })
                .collect();
            if requests.len() >= 5 {
                assert!(rec.refused >= 2, "the relay retried after Matomo refused");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // pv, product view, collection view, add to cart, order; not the clicks,
    // moves or the removal.
    assert_eq!(requests.len(), 5, "{requests:#?}");
    let qs: Vec<HashMap<String, String>> = requests.iter().map(|r| query(r)).collect();
    let events: Vec<&Event> = page
        .events
        .iter()
        .take(1)
        .chain(shop.events.iter().filter(|e| !matches!(e, Event::RemovedFromCart { .. })))
        .collect();
    for (q, e) in qs.iter().zip(&events) {
        assert_eq!(q["idsite"], "1");
        assert_eq!(q["rec"], "1");
        assert_eq!(q["_id"], visitor);
        assert_eq!(q["cid"], visitor);
        assert_eq!(number(q, "cdt") as u64, e.time() / 1000, "cdt is the event time in seconds");
        assert!(q["url"].starts_with("https://demo-shop.myshopify.com/"));
    }
    let pv = &qs[0];
    assert_eq!(pv["action_name"], "Product");
    assert_eq!(pv["res"], "1920x1080");
    let prv = &qs[1];
    assert_eq!(
        (prv["_pks"].as_str(), prv["_pkn"].as_str(), prv["_pkc"].as_str()),
        ("TEE-M", "Tee", "Shirts")
    );
    assert_eq!(number(prv, "_pkp"), 19.99);
    assert_eq!(qs[2]["_pkc"], "Shirts");
    let cart = &qs[3];
    assert_eq!(cart["idgoal"], "0");
    assert!(!cart.contains_key("ec_id"), "a cart update has no order id");
    assert!((number(cart, "revenue") - 39.98).abs() < 1e-9);
    let order = &qs[4];
    assert_eq!(order["idgoal"], "0");
    assert_eq!(order["ec_id"], "gid://shopify/Order/1001");
    assert_eq!(
        (number(order, "revenue"), number(order, "ec_st"), number(order, "ec_tx")),
        (45.58, 39.98, 7.6)
    );
    assert_eq!((number(order, "ec_sh"), number(order, "ec_dt")), (5.0, 7.0));
    for q in [cart, order] {
        let items: serde_json::Value = serde_json::from_str(&q["ec_items"]).expect("ec_items is JSON");
        let first = &items.as_array().expect("list")[0];
        assert_eq!(first.as_array().map(Vec::len), Some(5), "[sku, name, category, price, quantity]");
        assert_eq!((first[0].as_str(), first[4].as_u64()), (Some("TEE-M"), Some(2)));
    }
    server.shutdown().await.expect("shutdown");
}
