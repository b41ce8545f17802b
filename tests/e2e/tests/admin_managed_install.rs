//! The managed install in real headless Chromium, from a cold start: Shopify
//! opens `/admin/?embedded=1&shop=..&host=..&id_token=..` for a shop the
//! backend has never seen, with a stand-in `shopify.idToken()`. The shop's
//! project is created, its session token exchanged for an expiring offline
//! token, and "Enable tracking" writes the three metafields and the pixel on
//! the fake Shopify; once the clock passes the token's expiry, enabling again
//! refreshes it once and updates the same pixel. An expired session token is
//! retried once with a fresh one. In a test binary of its own: it sets the
//! server's clock, which is the whole process's.

use std::time::Duration;

use lummmen_e2e::fake_admin::{FakeAdmin, ACCESS_TTL_SECS};
use lummmen_e2e::storefront::{session_token, session_token_at};
use lummmen_e2e::{Browser, TempDir};
use lummmen_server::{clock, ServerHandle};
use serde_json::Value;

const SHOP: &str = "cold-start.myshopify.com";
const HOST: &str = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvY29sZC1zdGFydA";

/// Gives the page a stand-in App Bridge whose first token is `first`, then
/// fresh ones, and (re)starts it.
async fn start_page(browser: &Browser, first: &str, fresh: &str) -> anyhow::Result<()> {
    let script = format!(
        "window.idTokenCalls = 0; window.shopify = {{ idToken: async () => \
         (window.idTokenCalls++ === 0 ? {first:?} : {fresh:?}) }}; lummmenAdmin.start(); return 1"
    );
    browser.client.execute(&script, vec![]).await?;
    browser.wait_for("document.documentElement.dataset.admin === 'ready'", Duration::from_secs(15)).await?;
    Ok(())
}

#[tokio::test]
async fn a_cold_start_onboards_the_shop_and_refreshes_its_token_once_after_expiry() -> anyhow::Result<()> {
    clock::set_for_tests(Some(clock::now_ms()));
    let data = TempDir::new("e2e-managed")?;
    let fake = FakeAdmin::start("no-legacy-token").await?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let app_url = format!("http://127.0.0.1:{port}");
    let config = fake.app_config(&data.0, port);
    let server = ServerHandle::start(config).await?;
    let browser = Browser::start().await?;
    assert_eq!(server.projects().find_by_shop(SHOP)?, None);

    // Shopify opens the app: the page load onboards the shop.
    let open = format!(
        "{}/admin/?embedded=1&shop={SHOP}&host={HOST}&id_token={}",
        server.url(),
        session_token(SHOP)
    );
    browser.client.goto(&open).await?;
    browser
        .wait_for("document.readyState === 'complete' && window.lummmenAdmin", Duration::from_secs(15))
        .await?;
    let project = server.projects().find_by_shop(SHOP)?.ok_or_else(|| anyhow::anyhow!("no project"))?;
    assert_eq!((project.name.as_str(), project.sample), ("cold-start", 100));
    for _ in 0..100 {
        if fake.exchanges() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(fake.exchanges(), 1, "the session token was exchanged");

    // The page's first session token has expired: its calls are retried once
    // with a fresh one, and the page loads.
    let expired = session_token_at(SHOP, clock::now_secs() - 120);
    start_page(&browser, &expired, &session_token(SHOP)).await?;
    let calls = browser.client.execute("return window.idTokenCalls", vec![]).await?;
    assert!(calls.as_u64().unwrap_or(0) >= 2, "{calls}");
    let shown =
        browser.client.execute("return document.getElementById('project-name').textContent", vec![]).await?;
    assert_eq!(shown, "cold-start");

    let text = browser.enable_tracking().await?;
    assert!(text.starts_with(&format!("Tracking is on: site {}", project.id)), "{text}");
    let calls = fake.calls();
    let set =
        calls.iter().find(|(q, _)| q.contains("metafieldsSet")).map(|(_, v)| v.clone()).unwrap_or_default();
    let keys: Vec<&str> = set["metafields"]
        .as_array()
        .map(|m| m.iter().filter_map(|f| f["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(keys, ["lummmen_site_id", "lummmen_sample", "lummmen_endpoint"]);
    assert_eq!(set["metafields"][2]["value"], format!("{app_url}/collect"));
    assert_eq!(calls.iter().filter(|(q, _)| q.contains("webPixelCreate")).count(), 1);
    assert_eq!(fake.refreshes(), 0);

    // The clock passes the access token's expiry: enabling again refreshes it
    // once and updates the same pixel.
    clock::set_for_tests(Some(clock::now_ms() + ACCESS_TTL_SECS * 1000));
    let fresh = session_token(SHOP);
    start_page(&browser, &fresh, &fresh).await?;
    let text = browser.enable_tracking().await?;
    assert!(text.starts_with("Tracking is on"), "{text}");
    assert_eq!(fake.refreshes(), 1);
    let calls = fake.calls();
    assert_eq!(calls.iter().filter(|(q, _)| q.contains("webPixelCreate")).count(), 1, "no second pixel");
    let update: Value =
        calls.iter().find(|(q, _)| q.contains("webPixelUpdate")).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(update["id"], "gid://shopify/WebPixel/77");

    clock::set_for_tests(None);
    browser.close().await?;
    server.shutdown().await?;
    Ok(())
}
