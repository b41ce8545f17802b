//! Helpers for the storefront tracker's end-to-end tests: the real server, a real
//! headless Chromium on `www/test/tracker.html` (or the demo), the Shopify
//! stand-in's consent banner, and reads of what reached the server's store.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use fantoccini::Locator;
use lummmen_server::store::StoredEvent;
use lummmen_server::{Config, ServerHandle};
use serde_json::Value;

use crate::{root, Browser, TempDir};

/// The tracker's flush timer, plus margin: after this long without a request, none
/// was pending.
pub const FLUSH_WAIT: Duration = Duration::from_millis(6_500);

/// A server with the demo project (site id 1) and a browser, both stopped by
/// [`TrackerRig::close`].
#[derive(Debug)]
pub struct TrackerRig {
    pub server: ServerHandle,
    pub browser: Browser,
    _data: TempDir,
}

impl TrackerRig {
    pub async fn start(label: &str) -> anyhow::Result<Self> {
        let wasm = root().join("extensions/lummmen-theme/assets/lummmen-tracker.wasm");
        assert!(wasm.exists(), "{} missing: run `cargo xtask build` first", wasm.display());
        let data = TempDir::new(label)?;
        let server = ServerHandle::start(Config::for_tests(&root(), data.0.clone())).await?;
        let browser = Browser::start().await?;
        Ok(Self { server, browser, _data: data })
    }

    /// Opens `path` (e.g. `/test/tracker.html?sample=0`) and waits until the tracker
    /// has booted; returns its state (`waiting`, `tracking`, `excluded`).
    pub async fn open(&self, path: &str) -> anyhow::Result<String> {
        self.browser.client.goto(&format!("{}{path}", self.server.url())).await?;
        self.browser
            .wait_for("document.documentElement.dataset.lummmen === 'ready'", Duration::from_secs(15))
            .await
            .context("tracker did not boot")?;
        // customerPrivacy may arrive through loadFeatures a moment later.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.state().await
    }

    pub async fn state(&self) -> anyhow::Result<String> {
        let v = self.js("return document.documentElement.dataset.lummmenState || ''").await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    pub async fn wait_state(&self, state: &str) -> anyhow::Result<()> {
        self.browser
            .wait_for(
                &format!("document.documentElement.dataset.lummmenState === '{state}'"),
                Duration::from_secs(10),
            )
            .await
            .with_context(|| format!("tracker never reached state {state}"))?;
        Ok(())
    }

    pub async fn js(&self, script: &str) -> anyhow::Result<Value> {
        Ok(self.browser.client.execute(script, vec![]).await?)
    }

    /// Accepts analytics on the stand-in's banner, with a real click.
    pub async fn accept(&self) -> anyhow::Result<()> {
        self.click("#standin-accept").await?;
        self.wait_state("tracking").await
    }

    /// Withdraws consent the way a privacy-choices page does.
    pub async fn revoke(&self) -> anyhow::Result<()> {
        self.js("Shopify.customerPrivacy.setTrackingConsent({analytics: false}, () => {})").await?;
        self.wait_state("waiting").await
    }

    /// A real click (WebDriver) on the first element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.browser.click(css).await
    }

    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let el = self.browser.client.find(Locator::Css(css)).await?;
        el.click().await?;
        el.send_keys(text).await.with_context(|| format!("typing into {css}"))?;
        Ok(())
    }

    /// Real pointer moves through `points` (viewport coordinates), each over
    /// `step_ms`, which WebDriver turns into a stream of `mousemove` events.
    pub async fn move_through(&self, points: &[(f64, f64)], step_ms: u64) -> anyhow::Result<()> {
        let mut mouse = MouseActions::new("mouse".into());
        for &(x, y) in points {
            mouse =
                mouse.then(PointerAction::MoveTo { duration: Some(Duration::from_millis(step_ms)), x, y });
        }
        self.browser.client.perform_actions(mouse).await?;
        self.browser.client.release_actions().await?;
        Ok(())
    }

    /// Names of the cookies the browser holds for the page (WebDriver sees them all,
    /// `HttpOnly` included).
    pub async fn cookie_names(&self) -> anyhow::Result<Vec<String>> {
        let mut names: Vec<String> =
            self.browser.client.get_all_cookies().await?.iter().map(|c| c.name().to_owned()).collect();
        names.sort();
        Ok(names)
    }

    pub async fn cookie(&self, name: &str) -> anyhow::Result<Option<String>> {
        let all = self.browser.client.get_all_cookies().await?;
        Ok(all.iter().find(|c| c.name() == name).map(|c| c.value().to_owned()))
    }

    /// Request bodies the page sent (the test page records every `fetch`).
    pub async fn sent(&self) -> anyhow::Result<Vec<String>> {
        let v = self.js("return (window.__sent || []).map(r => r.body)").await?;
        Ok(serde_json::from_value(v)?)
    }

    /// Requests to `/collect` the browser made, from Resource Timing: this also sees
    /// requests that did not go through `window.fetch`.
    pub async fn collect_requests(&self) -> anyhow::Result<u64> {
        let v = self
            .js("return performance.getEntriesByType('resource').filter(e => e.name.includes('/collect')).length")
            .await?;
        Ok(v.as_u64().unwrap_or(0))
    }

    /// The visitor id the tracker handed to the pixel (its cookie).
    pub async fn visitor_id(&self) -> anyhow::Result<String> {
        self.cookie(protocol::cookies::VISITOR).await?.context("no visitor cookie")
    }

    /// Everything the server stored for a visitor, once the spool has drained.
    pub async fn stored(&self, site: u32, visitor: &str) -> anyhow::Result<Vec<StoredEvent>> {
        self.server.flush().await?;
        Ok(self.server.store().events_for_visitor(site, visitor).await?)
    }

    pub async fn count_stored(&self, site: u32) -> anyhow::Result<u64> {
        self.server.flush().await?;
        Ok(self.server.store().count_events(site).await?)
    }

    /// Polls the store until `done` holds for the visitor's events.
    pub async fn wait_stored(
        &self,
        site: u32,
        visitor: &str,
        what: &str,
        done: impl Fn(&[StoredEvent]) -> bool,
    ) -> anyhow::Result<Vec<StoredEvent>> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let events = self.stored(site, visitor).await?;
            if done(&events) {
                return Ok(events);
            }
            if Instant::now() > deadline {
                let kinds: Vec<&str> = events.iter().map(|e| e.event.kind().as_str()).collect();
                bail!("timed out waiting for {what}; stored kinds: {kinds:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Console errors and warnings the page recorded.
    pub async fn page_errors(&self) -> anyhow::Result<Value> {
        self.js("return window.__lummmenErrors || []").await
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.browser.close().await?;
        self.server.shutdown().await?;
        Ok(())
    }
}

/// The clicks among stored events.
pub fn clicks(events: &[StoredEvent]) -> Vec<&protocol::Click> {
    events
        .iter()
        .filter_map(|e| if let protocol::Event::Click(c) = &e.event { Some(c) } else { None })
        .collect()
}

pub fn count_kind(events: &[StoredEvent], kind: &str) -> usize {
    events.iter().filter(|e| e.event.kind().as_str() == kind).count()
}
