//! The admin page's "Enable tracking" button in real headless Chromium: with the
//! shop installed (its offline token sealed at rest), one click makes the server
//! write the site id into the app-owned metafield (`metafieldsSet`) and activate
//! the web pixel (`webPixelCreate` with `{siteId, endpoint}`) on a fake Admin
//! API, and the page says so; without a valid install, when Shopify will not
//! exchange the session token either, the server answers with Shopify's
//! reauthorize headers and the page sends the top window into OAuth.

use std::time::Duration;

use fantoccini::Locator;
use lummmen_e2e::fake_admin::{FakeAdmin, APP_SCOPES, INSTALLATION, TOKEN_KEY};
use lummmen_e2e::storefront::{session_token, CLIENT_ID, DEMO_SHOP};
use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::shopify::crypto::KeyRing;
use lummmen_server::shopify::db::AppDb;
use lummmen_server::{Config, ServerHandle};
use serde_json::Value;

const OFFLINE_TOKEN: &str = "shpat_e2e_offline_token";

/// Opens the admin page with a stand-in App Bridge giving the demo shop's token.
async fn start_page(browser: &Browser, server: &ServerHandle) -> anyhow::Result<()> {
    browser.client.goto(&format!("{}/admin/", server.url())).await?;
    browser
        .wait_for("document.readyState === 'complete' && window.lummmenAdmin", Duration::from_secs(15))
        .await?;
    let token = session_token(DEMO_SHOP);
    browser
        .client
        .execute(
            &format!("window.shopify = {{ idToken: async () => {token:?} }}; lummmenAdmin.start(); return 1"),
            vec![],
        )
        .await?;
    browser.wait_for("document.documentElement.dataset.admin === 'ready'", Duration::from_secs(15)).await?;
    Ok(())
}

async fn click_enable(browser: &Browser, server: &ServerHandle) -> anyhow::Result<String> {
    start_page(browser, server).await?;
    browser.enable_tracking().await
}

#[tokio::test]
async fn enable_tracking_sets_the_site_id_metafield_and_creates_the_web_pixel() -> anyhow::Result<()> {
    let data = TempDir::new("e2e-enable")?;
    let fake = FakeAdmin::start(OFFLINE_TOKEN).await?;
    // The app's URL is the server itself, so the page's re-authorization lands
    // on its real `/auth`.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let app_url = format!("http://127.0.0.1:{port}");
    let config = fake.app_config(&data.0, port);
    let server = ServerHandle::start(config).await?;
    let browser = Browser::start().await?;
    fake.uninstall();

    // Not installed, and Shopify refuses to exchange the session token: the
    // page follows the reauthorize headers, the top window to `/auth`, which
    // starts OAuth at Shopify's authorize page. The Admin API is not called.
    start_page(&browser, &server).await?;
    browser.show_view("project").await?;
    browser.client.find(Locator::Css("#enable")).await?.click().await?;
    // Shopify's authorize page is not part of the fake: the browser shows an
    // error page there, but its URL is where the top window went.
    let mut landed = String::new();
    for _ in 0..150 {
        landed = browser.client.current_url().await?.to_string();
        if landed.contains("/admin/oauth/authorize") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        landed.starts_with(&format!("{}/admin/oauth/authorize?client_id={CLIENT_ID}", fake.url)),
        "{landed}"
    );
    assert!(
        landed.contains(&format!("redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2Fauth%2Fcallback")),
        "{landed}"
    );
    assert!(fake.calls().is_empty());

    // Installed, as the OAuth callback leaves it: the offline token sealed at rest.
    let keys = KeyRing::new("k1", TOKEN_KEY, "")?;
    AppDb::open(&data.0)?.save_install(DEMO_SHOP, &keys.seal(DEMO_SHOP, OFFLINE_TOKEN)?, APP_SCOPES)?;
    let text = click_enable(&browser, &server).await?;
    assert!(text.starts_with("Tracking is on: site 1"), "{text}");

    let calls = fake.calls();
    let metafields = calls.iter().find(|(q, _)| q.contains("metafieldsSet")).map(|(_, v)| v.clone());
    let metafield = &metafields.unwrap_or(Value::Null)["metafields"][0];
    assert_eq!(metafield["ownerId"], INSTALLATION, "{metafield}");
    assert_eq!(
        (metafield["namespace"].as_str(), metafield["key"].as_str()),
        (Some("lummmen"), Some("lummmen_site_id"))
    );
    assert_eq!(metafield["value"], "1", "{metafield}");
    let pixel =
        calls.iter().find(|(q, _)| q.contains("webPixelCreate")).map(|(_, v)| v.clone()).unwrap_or_default();
    let settings: Value = serde_json::from_str(pixel["webPixel"]["settings"].as_str().unwrap_or("null"))?;
    assert_eq!(settings["siteId"], "1", "{settings}");
    assert_eq!(settings["endpoint"], format!("{app_url}/collect"), "{settings}");

    browser.close().await?;
    server.shutdown().await?;
    Ok(())
}

/// Locally (`scripts/run.sh`), the page gets its session tokens from the server's
/// development token source and shows the demo project with no App Bridge.
#[tokio::test]
async fn admin_page_uses_development_session_tokens_when_enabled() -> anyhow::Result<()> {
    let data = TempDir::new("e2e-dev-tokens")?;
    let mut config = Config::for_tests(&root(), data.0.clone());
    config.shopify.shopify_client_id = Some("lummmen-development".into());
    config.shopify.shopify_client_secret = Some("a-secret-made-up-for-this-run".into());
    config.dev_session_tokens = true;
    let server = ServerHandle::start(config).await?;
    let browser = Browser::start().await?;
    browser.client.goto(&format!("{}/admin/", server.url())).await?;
    browser.wait_for("document.documentElement.dataset.admin === 'ready'", Duration::from_secs(15)).await?;
    let shown = browser
        .client
        .execute(
            "return [document.getElementById('project-name').textContent, \
             document.getElementById('project-site').textContent, !!window.shopify, \
             document.querySelectorAll('script[src*=\"cdn.shopify.com\"]').length]",
            vec![],
        )
        .await?;
    assert_eq!(shown, serde_json::json!(["Demo shop", "1", false, 0]));
    browser.close().await?;
    server.shutdown().await?;
    Ok(())
}
