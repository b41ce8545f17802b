//! The release tracker bundle boots on the demo storefront served by the real
//! server, in real headless Chromium, without console errors.

use std::time::Duration;

use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::{Config, ServerHandle};

#[tokio::test]
async fn release_tracker_boots_on_the_demo_page_without_errors() -> anyhow::Result<()> {
    let assets = root().join("extensions/lummmen-theme/assets/lummmen-tracker.wasm");
    assert!(assets.exists(), "{} missing: run `cargo xtask build` first", assets.display());
    let data = TempDir::new("e2e-demo")?;
    let server = ServerHandle::start(Config::for_tests(&root(), data.0.clone())).await?;
    let browser = Browser::start().await?;

    browser.client.goto(&format!("{}/demo/", server.url())).await?;
    let state = browser
        .wait_for(
            "document.documentElement.dataset.lummmen || window.__lummmenErrors.length",
            Duration::from_secs(15),
        )
        .await?;
    let errors = browser.client.execute("return window.__lummmenErrors;", vec![]).await?;
    assert_eq!(errors, serde_json::json!([]), "console errors on the demo page");
    assert_eq!(state, serde_json::json!("ready"));

    browser.close().await?;
    server.shutdown().await?;
    Ok(())
}
