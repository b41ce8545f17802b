//! The BUILT web pixel bundle, in a real Web Worker of headless Chromium with a
//! Shopify-shaped API (`www/pixel-harness/`), sends the right batches to the real
//! server: mapping of every fixture event, nothing before consent or after revoke,
//! no personal data in the bytes sent, ids from the custom event, then from the
//! tracker's cookies on a checkout page.

use std::time::Duration;

use anyhow::{ensure, Context};
mod pixel_support;

use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::{Config, ServerHandle};
use pixel_support::pixel_bundle;
use serde_json::{json, Value};

/// The demo project `Config::for_tests` seeds.
const SITE: u32 = 1;
const WAIT: Duration = Duration::from_secs(20);

/// The five standard events, in a shopper's order.
const STANDARD: [&str; 5] = [
    "collection_viewed",
    "product_viewed",
    "product_added_to_cart",
    "product_removed_from_cart",
    "checkout_completed",
];

/// Personal data in the fixtures (checkout_completed, init's customer).
const PERSONAL: [&str; 14] = [
    "camille",
    "durand",
    "example.fr",
    "+336",
    "33612345678",
    "33698765432",
    "rue des lilas",
    "quai saint-antoine",
    "apt 4b",
    "69003",
    "69002",
    "lyon",
    "visa ending",
    "b1946ac92492d2347c6235b4d2611184",
];

fn fixture(name: &str) -> anyhow::Result<Value> {
    let path = root().join("tests/fixtures/shopify").join(format!("{name}.json"));
    Ok(serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| path.display().to_string())?)?)
}

struct Setup {
    server: ServerHandle,
    browser: Browser,
    _data: TempDir,
}

async fn setup(label: &str) -> anyhow::Result<Setup> {
    let bundle_path = pixel_bundle();
    ensure!(bundle_path.exists(), "{} missing: run `cargo xtask build` first", bundle_path.display());
    let data = TempDir::new(label)?;
    let server = ServerHandle::start(Config::for_tests(&root(), data.0.clone())).await?;
    let browser = Browser::start().await?;
    Ok(Setup { server, browser, _data: data })
}

impl Setup {
    /// Opens the harness page (pixel not started yet) with these cookies set.
    async fn open(&self, cookies: &[(&str, &str)]) -> anyhow::Result<()> {
        // The harness loads the bundle the server serves from the extension's dist/.
        let url = format!("{}/pixel-harness/?manual=1", self.server.url());
        self.browser.client.goto(&url).await?;
        for (k, v) in cookies {
            self.js(&format!("document.cookie = '{k}={v}; path=/'"), vec![]).await?;
        }
        Ok(())
    }

    /// Starts the pixel with these options and waits until `register` is done.
    async fn start_pixel(&self, options: Value) -> anyhow::Result<()> {
        self.js("startPixel(arguments[0])", vec![options]).await?;
        self.browser.wait_for("window.pixel && (pixel.timings || pixel.errors.length)", WAIT).await?;
        let errors = self.js("return pixel.errors", vec![]).await?;
        ensure!(errors == json!([]), "pixel errors: {errors}");
        Ok(())
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        let script =
            if script.starts_with("return") { script.to_string() } else { format!("{script}; return null;") };
        Ok(self.browser.client.execute(&script, args).await?)
    }

    async fn emit(&self, event: Value) -> anyhow::Result<()> {
        self.js("pixel.emit(arguments[0])", vec![event]).await.map(drop)
    }

    async fn start_event(&self, visitor: &str) -> anyhow::Result<()> {
        self.js("Shopify.analytics.publish('lummmen:startPixel', {visitorId: arguments[0], siteId: arguments[1]})", vec![
            json!(visitor),
            json!(SITE),
        ])
        .await
        .map(drop)
    }

    /// Waits until the pixel's requests carry `events` events in all and every
    /// request has its answer; returns the request records.
    async fn requests_with(&self, events: usize) -> anyhow::Result<Vec<Value>> {
        let expr = format!(
            "pixel.requests.length === pixel.responses.length && \
             pixel.requests.reduce((n, r) => n + JSON.parse(r.body).e.length, 0) >= {events}"
        );
        self.browser.wait_for(&expr, WAIT).await?;
        let v = self.js("return pixel.requests", vec![]).await?;
        Ok(v.as_array().cloned().unwrap_or_default())
    }

    /// The server's stored events of a visitor (wire JSON), oldest first.
    async fn stored(&self, visitor: &str) -> anyhow::Result<Vec<Value>> {
        self.server.flush().await?;
        let events = self.server.store().events_for_visitor(SITE, visitor).await?;
        let mut out: Vec<Value> =
            events.iter().map(|e| serde_json::to_value(&e.event)).collect::<Result<_, _>>()?;
        out.sort_by_key(|e| e["t"].as_u64());
        Ok(out)
    }
}

fn kinds(bodies: &[Value]) -> Vec<String> {
    bodies
        .iter()
        .flat_map(|b| b["e"].as_array().cloned().unwrap_or_default())
        .map(|e| e["k"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn bodies(requests: &[Value]) -> anyhow::Result<Vec<Value>> {
    requests.iter().map(|r| Ok(serde_json::from_str(r["body"].as_str().context("body")?)?)).collect()
}

/// What the server must hold for the five fixtures, in wire JSON.
fn expected() -> Vec<Value> {
    let tee = json!({"id": "gid://shopify/Product/7000000001", "vid": "gid://shopify/ProductVariant/40000000002",
        "sku": "TEE-M", "n": "Organic Cotton Tee", "vn": "M / Black", "pr": 19.99, "cat": "Shirts", "cur": "EUR"});
    let cap = json!({"id": "gid://shopify/Product/7000000005", "vid": "gid://shopify/ProductVariant/40000000010",
        "n": "Wool Cap", "vn": "Default Title", "pr": 12.5, "cat": "Hats", "cur": "EUR"});
    let shop = "https://demo-shop.myshopify.com";
    vec![
        json!({"k": "col", "t": 1_763_799_185_000u64, "u": format!("{shop}/collections/summer"),
            "cid": "gid://shopify/Collection/300000001", "n": "Summer", "ps": [tee, cap]}),
        json!({"k": "prv", "t": 1_763_799_200_123u64, "u": format!("{shop}/products/organic-cotton-tee?variant=40000000002"),
            "p": tee}),
        // The whole cart after each change: init's cart is empty (null), and
        // the cap removed was never in it.
        json!({"k": "add", "t": 1_763_799_221_500u64, "u": format!("{shop}/products/organic-cotton-tee"),
            "l": {"q": 2, "p": tee}, "c": [{"q": 2, "p": tee}]}),
        json!({"k": "rem", "t": 1_763_799_242_000u64, "u": format!("{shop}/cart"), "l": {"q": 1, "p": cap},
            "c": [{"q": 2, "p": tee}]}),
        json!({"k": "chk", "t": 1_763_799_390_250u64, "u": format!("{shop}/checkouts/c/redacted/thank-you?email="),
            "oid": "gid://shopify/Order/5600000001001", "cus": "gid://shopify/Customer/6200000042", "cur": "EUR",
            "tot": 52.23, "sub": 47.23, "tax": 8.71, "shp": 5.0, "dis": 5.25,
            "it": [{"q": 2, "p": tee}, {"q": 1, "p": cap}]}),
    ]
}

#[tokio::test]
async fn pixel_maps_every_fixture_event_and_sends_no_personal_data() -> anyhow::Result<()> {
    let s = setup("e2e-pixel-map").await?;
    let (visitor, cookie_visitor) = ("9f86d081884c7d65", "cccccccccccccccc");
    // The tracker's cookies hold another visitor: the custom event must win.
    s.open(&[("_lummmen_vid", cookie_visitor), ("_lummmen_sid", "1")]).await?;
    let init = fixture("init")?;
    s.start_pixel(json!({"analyticsAllowed": true, "customer": init["data"]["customer"]})).await?;
    s.start_event(visitor).await?;
    for name in STANDARD {
        s.emit(fixture(name)?).await?;
    }
    let requests = s.requests_with(5).await?;

    let endpoint = format!("{}/collect", s.server.url());
    for r in &requests {
        assert_eq!((r["method"].as_str(), r["url"].as_str()), (Some("POST"), Some(endpoint.as_str())), "{r}");
        assert_eq!(r["keepalive"], json!(true), "keepalive lets a batch outlive the page: {r}");
        let sent = r["body"].as_str().unwrap_or_default().to_lowercase();
        for pii in PERSONAL {
            assert!(!sent.contains(pii), "{pii} left the pixel: {sent}");
        }
    }
    let bodies = bodies(&requests)?;
    assert!(bodies.iter().all(|b| b["s"] == json!(SITE) && b["v"] == json!(visitor)), "{bodies:?}");
    assert_eq!(kinds(&bodies), ["col", "prv", "add", "rem", "chk"]);

    let stored = s.stored(visitor).await?;
    assert_eq!(stored, expected(), "what the server stored");
    let stored_text = serde_json::to_string(&stored)?.to_lowercase();
    assert!(PERSONAL.iter().all(|p| !stored_text.contains(p)), "personal data stored: {stored_text}");
    assert_eq!(
        s.stored(cookie_visitor).await?,
        Vec::<Value>::new(),
        "the custom event's ids win over cookies"
    );
    assert_eq!(s.js("return pixel.cookieSets", vec![]).await?, json!([]), "the pixel sets no cookie");

    s.browser.close().await?;
    s.server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn pixel_sends_nothing_before_consent_and_nothing_after_revoke() -> anyhow::Result<()> {
    let s = setup("e2e-pixel-consent").await?;
    let visitor = "0123456789abcdef";
    s.open(&[]).await?;
    s.start_pixel(json!({"analyticsAllowed": false})).await?;
    s.start_event(visitor).await?;
    s.emit(fixture("product_viewed")?).await?;
    s.emit(fixture("product_added_to_cart")?).await?;

    // Consent given: only what comes after it is sent.
    s.js("pixel.setConsent(true)", vec![]).await?;
    s.emit(fixture("collection_viewed")?).await?;
    let first = bodies(&s.requests_with(1).await?)?;
    assert_eq!(kinds(&first), ["col"], "events from before consent were sent");

    // Revoked: nothing, until consent is given again (the marker event).
    s.js("pixel.setConsent(false)", vec![]).await?;
    s.emit(fixture("product_removed_from_cart")?).await?;
    s.emit(fixture("checkout_completed")?).await?;
    s.js("pixel.setConsent(true)", vec![]).await?;
    let mut marker = fixture("product_viewed")?;
    marker["timestamp"] = json!("2025-11-22T09:00:00.000Z");
    s.emit(marker).await?;
    let all = bodies(&s.requests_with(2).await?)?;
    assert_eq!(kinds(&all), ["col", "prv"], "events from while consent was revoked were sent");
    assert_eq!(all[1]["e"][0]["t"], json!(1_763_802_000_000u64), "the marker, not the earlier view");

    let stored = s.stored(visitor).await?;
    let stored_kinds: Vec<&str> = stored.iter().filter_map(|e| e["k"].as_str()).collect();
    assert_eq!(stored_kinds, ["col", "prv"]);

    s.browser.close().await?;
    s.server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn pixel_on_checkout_takes_ids_from_the_trackers_cookies() -> anyhow::Result<()> {
    let s = setup("e2e-pixel-cookies").await?;
    let visitor = "aaaabbbbccccdddd";
    // A checkout page: the theme never renders there, so no lummmen:startPixel
    // comes; the tracker's cookies were set on an earlier storefront page. The
    // settings name another site, which must lose to the cookie.
    s.open(&[("_lummmen_vid", visitor), ("_lummmen_sid", "1")]).await?;
    s.start_pixel(json!({"analyticsAllowed": true, "settings": {"siteId": "999", "endpoint": format!("{}/collect", s.server.url())}}))
        .await?;
    s.emit(fixture("checkout_completed")?).await?;
    let bodies = bodies(&s.requests_with(1).await?)?;
    assert_eq!((bodies[0]["s"].clone(), bodies[0]["v"].clone()), (json!(SITE), json!(visitor)));
    let stored = s.stored(visitor).await?;
    assert_eq!(stored, vec![expected()[4].clone()]);

    s.browser.close().await?;
    s.server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn pixel_sends_a_batch_again_after_a_network_error_and_it_is_stored_once() -> anyhow::Result<()> {
    let s = setup("e2e-pixel-retry").await?;
    let visitor = "feedfacecafebeef";
    s.open(&[]).await?;
    s.start_pixel(json!({"analyticsAllowed": true})).await?;
    s.start_event(visitor).await?;
    s.js("pixel.failNextRequests(1)", vec![]).await?;
    s.emit(fixture("checkout_completed")?).await?;
    s.browser
        .wait_for("pixel.requests.length >= 2 && pixel.responses.length === pixel.requests.length", WAIT)
        .await?;
    let requests = s.js("return pixel.requests", vec![]).await?;
    let requests = requests.as_array().context("requests")?;
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!((requests[0]["failed"].clone(), requests[1]["failed"].clone()), (json!(true), json!(false)));
    let bodies = bodies(requests)?;
    assert_eq!(bodies[0]["b"], bodies[1]["b"], "a retry keeps its batch id, so the server can drop replays");
    assert_eq!(s.stored(visitor).await?, vec![expected()[4].clone()]);

    s.browser.close().await?;
    s.server.shutdown().await?;
    Ok(())
}

#[tokio::test]
async fn a_pixel_that_cannot_run_reports_it_once_after_consent_and_sends_nothing_else() -> anyhow::Result<()>
{
    let s = setup("e2e-pixel-unsupported").await?;
    s.open(&[]).await?;
    let endpoint = format!("{}/collect", s.server.url());
    let settings = json!({"siteId": SITE.to_string(), "endpoint": endpoint});
    for (lacks, reason) in [
        (json!({"lacking": ["WebAssembly"]}), "webassembly"),
        (json!({"lacking": ["DecompressionStream"]}), "decompression"),
        (json!({"refuseCompile": true}), "compile"),
    ] {
        let mut options = json!({"settings": settings, "analyticsAllowed": false});
        options.as_object_mut().context("options")?.extend(lacks.as_object().cloned().unwrap_or_default());
        s.start_pixel(options).await?;
        s.start_event("9f86d081884c7d65").await?;
        s.emit(fixture("collection_viewed")?).await?;
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            s.js("return pixel.requests", vec![]).await?,
            json!([]),
            "{reason}: nothing before consent"
        );
        s.js("pixel.setConsent(true)", vec![]).await?;
        s.emit(fixture("product_viewed")?).await?;
        s.browser.wait_for("pixel.responses.length >= 1", WAIT).await?;
        tokio::time::sleep(Duration::from_millis(700)).await;
        let requests = s.js("return pixel.requests", vec![]).await?;
        let requests = requests.as_array().context("requests")?;
        assert_eq!(requests.len(), 1, "{reason}: one report, no batch: {requests:?}");
        assert_eq!(requests[0]["url"], json!(format!("{endpoint}/unsupported")));
        let body: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap_or_default())?;
        assert_eq!(body, json!({"s": SITE, "c": "pixel", "r": reason}));
        assert_eq!(s.js("return pixel.responses[0].status", vec![]).await?, json!(204), "{reason}");
        s.js("pixel.terminate()", vec![]).await?;
    }
    let metrics = reqwest::get(format!("{}/metrics", s.server.url())).await?.text().await?;
    for reason in ["webassembly", "decompression", "compile"] {
        let line = format!("lummmen_unsupported_clients_total{{client=\"pixel\",reason=\"{reason}\"}} 1");
        assert!(metrics.contains(&line), "{line} in {metrics}");
    }
    s.browser.close().await?;
    s.server.shutdown().await?;
    Ok(())
}
