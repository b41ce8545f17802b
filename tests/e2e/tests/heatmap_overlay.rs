//! The heatmap drawn over the live storefront, in real headless Chromium on
//! the demo storefront, whose layout changes between 1280 px (three products
//! in a row) and 390 px (one column, full-width buttons):
//!
//! - a forged or expired link draws nothing, says so, and the API answers it
//!   401 (for any origin); the token leaves the address bar at once and the
//!   tracker does not start;
//! - clicks made at both widths on the same buttons appear in the overlay on
//!   those buttons at both widths (every drawn point inside its element's box,
//!   at the spot clicked), each bucket with its own clicks only; dead and rage
//!   clicks are marked; the admin's "View on storefront" opens it;
//! - real scrolling gives the expected scroll-depth shares, in the overlay and
//!   in the admin's chart.
//!
//! The last two need the tracker's positions inside elements and the heatmap
//! API (`/api/heatmap?page&bucket&mode`); they fail, naming what is missing,
//! until both are in. Screenshots are saved under `target/e2e-overlay-*.png`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use fantoccini::actions::{
    InputSource as _, MouseActions, PointerAction, WheelAction, WheelActions, MOUSE_BUTTON_LEFT,
};
use fantoccini::Locator;
use lummmen_e2e::overlay::{app_config, drawn_script, heatmap, overlay_token, overlay_token_with, DEMO_SITE};
use lummmen_e2e::storefront::{session_token, DEMO_SHOP};
use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::ServerHandle;
use serde_json::{json, Value};

const ADD1: &str = ".product:nth-child(1) .add";
const ADD2: &str = ".product:nth-child(2) .add";
const ADD3: &str = ".product:nth-child(3) .add";
const BADGE2: &str = ".product:nth-child(2) .badge";
const TITLE: &str = "h1";
/// Longer than the tracker's dead-click second and rage window between two
/// ordinary clicks.
const SPACING: Duration = Duration::from_millis(1_200);

struct Rig {
    server: ServerHandle,
    browser: Browser,
    _data: TempDir,
}

impl Rig {
    async fn start(label: &str) -> anyhow::Result<Self> {
        for built in ["lummmen-tracker.wasm", "lummmen-overlay.js"] {
            let path = root().join("extensions/lummmen-theme/assets").join(built);
            ensure!(path.exists(), "{} missing: run `cargo xtask build` first", path.display());
        }
        let data = TempDir::new(label)?;
        let server = ServerHandle::start(app_config(data.0.clone())).await?;
        let browser = Browser::start().await?;
        Ok(Self { server, browser, _data: data })
    }

    async fn js(&self, script: &str) -> anyhow::Result<Value> {
        Ok(self.browser.client.execute(script, vec![]).await?)
    }

    async fn goto(&self, path: &str) -> anyhow::Result<()> {
        self.browser.client.goto(&format!("{}{path}", self.server.url())).await?;
        Ok(())
    }

    /// Resizes the window; answers the viewport it got.
    async fn resize(&self, width: u32, height: u32) -> anyhow::Result<(i64, i64)> {
        self.browser.client.set_window_size(width, height).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let v = self.js("return [innerWidth, innerHeight]").await?;
        Ok((v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0)))
    }

    /// Opens a storefront page and waits for the tracker.
    async fn open_storefront(&self, path: &str) -> anyhow::Result<()> {
        self.goto(path).await?;
        self.browser
            .wait_for("document.documentElement.dataset.lummmen === 'ready'", Duration::from_secs(15))
            .await
            .context("the tracker did not boot")?;
        Ok(())
    }

    async fn wait_tracking(&self) -> anyhow::Result<()> {
        self.browser
            .wait_for("document.documentElement.dataset.lummmenState === 'tracking'", Duration::from_secs(10))
            .await
            .context("the tracker is not tracking")?;
        Ok(())
    }

    async fn accept(&self) -> anyhow::Result<()> {
        self.browser.click("#standin-accept").await?;
        self.wait_tracking().await
    }

    /// Brings `css` to the middle of the window, so nothing fixed covers it.
    async fn center(&self, css: &str) -> anyhow::Result<()> {
        self.js(&format!("document.querySelector({css:?}).scrollIntoView({{block: 'center'}}); return 1"))
            .await?;
        tokio::time::sleep(Duration::from_millis(150)).await;
        Ok(())
    }

    /// A real click in the middle of `css`, then a pause.
    async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.center(css).await?;
        self.browser.click(css).await?;
        tokio::time::sleep(SPACING).await;
        Ok(())
    }

    /// `n` quick clicks on the middle of `css`: a rage click.
    async fn rage(&self, css: &str, n: usize) -> anyhow::Result<()> {
        self.center(css).await?;
        let element = self.browser.client.find(Locator::Css(css)).await?;
        let mut mouse = MouseActions::new("rage".into()).then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        for _ in 0..n {
            mouse = mouse
                .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
                .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
                .then(PointerAction::Pause { duration: Duration::from_millis(60) });
        }
        self.browser.client.perform_actions(mouse).await?;
        self.browser.client.release_actions().await?;
        tokio::time::sleep(SPACING).await;
        Ok(())
    }

    /// Scrolls with the mouse wheel by `dy` pixels; answers the depth reached
    /// now, computed as the tracker does: the viewport's bottom in whole
    /// percent of the document's height.
    async fn wheel(&self, dy: i64) -> anyhow::Result<i64> {
        let wheel = WheelActions::new("wheel".into()).then(WheelAction::Scroll {
            duration: Some(Duration::from_millis(100)),
            x: 200,
            y: 200,
            delta_x: 0,
            delta_y: dy,
        });
        self.browser.client.perform_actions(wheel).await?;
        self.browser.client.release_actions().await?;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let depth = self
            .js("return Math.floor((Math.trunc(scrollY) + innerHeight) * 100 / document.documentElement.scrollHeight)")
            .await?;
        depth.as_i64().context("depth")
    }

    /// Polls the heatmap API (as an operator) until `done` holds for it.
    async fn wait_heatmap(&self, bucket: &str, done: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.server.flush().await?;
            let last = heatmap(&self.server.url(), "/demo/", bucket).await;
            match &last {
                Ok(map) if done(map) => return Ok(map.clone()),
                _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(500)).await,
                Ok(map) => bail!("the {bucket} heatmap of /demo/ never had what was clicked: {map}"),
                Err(e) => bail!("the heatmap API (`page`, `bucket`, `mode`) did not answer: {e:#}"),
            }
        }
    }

    /// A "View on storefront" link as the server mints it for the demo shop.
    async fn mint_link(&self, page: &str) -> anyhow::Result<String> {
        let resp = reqwest::Client::new()
            .post(format!("{}/api/heatmap/overlay", self.server.url()))
            .bearer_auth(session_token(DEMO_SHOP))
            .json(&json!({"page": page}))
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await?;
        ensure!(status.is_success(), "POST /api/heatmap/overlay: HTTP {status}: {body}");
        body["url"].as_str().map(String::from).context("no url")
    }

    /// Waits until the overlay has shown the heatmap of `bucket`.
    async fn overlay_ready(&self, bucket: &str) -> anyhow::Result<()> {
        let host = "document.getElementById('lummmen-overlay')";
        let done =
            format!("{host} && {host}.dataset.state !== 'loading' && {host}.dataset.bucket === '{bucket}'");
        self.browser.wait_for(&done, Duration::from_secs(15)).await?;
        let state = self.js("return lummmenOverlay.state()").await?;
        ensure!(state["status"] == "ready", "the overlay of {bucket} is not drawn: {state}");
        Ok(())
    }

    async fn drawn(&self) -> anyhow::Result<Value> {
        self.js(&drawn_script()).await
    }

    async fn screenshot(&self, name: &str) -> anyhow::Result<()> {
        let png = self.browser.client.screenshot().await?;
        save(&format!("e2e-overlay-{name}.png"), &png)
    }

    /// Opens the admin page with a session token, as App Bridge would give it.
    async fn open_admin(&self) -> anyhow::Result<()> {
        self.goto("/admin/").await?;
        self.browser
            .wait_for("document.readyState === 'complete' && window.lummmenAdmin", Duration::from_secs(15))
            .await?;
        let token = session_token(DEMO_SHOP);
        self.js(&format!(
            "window.shopify = {{ idToken: async () => {token:?} }}; document.documentElement.dataset.admin = ''; \
             lummmenAdmin.start(); return true;"
        ))
        .await?;
        self.browser
            .wait_for("document.documentElement.dataset.admin === 'ready'", Duration::from_secs(15))
            .await?;
        Ok(())
    }

    /// The admin's heatmap view of `/demo/` for `bucket`, drawn.
    async fn admin_heatmap(&self, bucket: &str) -> anyhow::Result<()> {
        self.open_admin().await?;
        self.browser.show_view("heatmap").await?;
        self.browser
            .wait_for(
                "[...document.querySelectorAll('#heatmap-page option')].some((o) => o.value === '/demo/')",
                Duration::from_secs(10),
            )
            .await
            .context("/demo/ is not among the heatmap's pages")?;
        self.browser.client.find(Locator::Css("#heatmap-page")).await?.select_by_value("/demo/").await?;
        self.browser.click(&format!("#heatmap-bucket [data-bucket='{bucket}']")).await?;
        let root = "document.getElementById('heatmap').dataset";
        self.browser
            .wait_for(
                &format!(
                    "{root}.state !== 'loading' && {root}.page === '/demo/' && {root}.bucket === '{bucket}'"
                ),
                Duration::from_secs(15),
            )
            .await?;
        let state = self
            .js(&format!(
                "return {root}.state + ': ' + document.getElementById('heatmap-summary').textContent"
            ))
            .await?;
        ensure!(state.as_str().is_some_and(|s| s.starts_with("ready")), "the admin's heatmap: {state}");
        Ok(())
    }

    async fn close(self) -> anyhow::Result<()> {
        self.browser.close().await?;
        self.server.shutdown().await?;
        Ok(())
    }
}

/// Saves a screenshot under the workspace's `target/`.
fn save(name: &str, png: &[u8]) -> anyhow::Result<()> {
    let dir = root().join("target");
    std::fs::create_dir_all(&dir)?;
    let out = dir.join(name);
    std::fs::write(&out, png).with_context(|| format!("saving {}", out.display()))
}

/// Clicks by target in what the overlay drew, after checking that every point
/// lies inside the element it names, at the middle where WebDriver clicked:
/// the API answers the centre of the twentieth of the box the click fell in,
/// so within a fortieth of the box (and a pixel of rounding).
fn check_points(drawn: &Value, expected: &[(&str, u64)], what: &str) -> anyhow::Result<()> {
    let points = drawn["points"].as_array().context("points")?;
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    for p in points {
        let target =
            p["target"].as_str().with_context(|| format!("{what}: a point on no clicked element: {p}"))?;
        ensure!(p["inside"] == true, "{what}: a point outside its element's box: {p}");
        let f = |k: &str| p[k].as_f64().unwrap_or(f64::NAN);
        let (dx, dy, w, h) =
            (f("dx"), f("dy"), p["box"]["w"].as_f64().unwrap_or(0.0), p["box"]["h"].as_f64().unwrap_or(0.0));
        ensure!(
            dx.abs() <= w / 40.0 + 1.5 && dy.abs() <= h / 40.0 + 1.5,
            "{what}: a point away from where it was clicked: {p}"
        );
        *seen.entry(target.to_string()).or_default() += p["count"].as_u64().unwrap_or(0);
    }
    let want: BTreeMap<String, u64> = expected.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    ensure!(seen == want, "{what}: clicks by element {seen:?}, expected {want:?} (drawn: {drawn})");
    Ok(())
}

fn has_marker(drawn: &Value, target: &str, kind: &str) -> bool {
    drawn["markers"].as_array().is_some_and(|m| {
        m.iter().any(|m| m["target"] == target && m["kind"] == kind && m["count"].as_u64() > Some(0))
    })
}

const BLANK_CANVAS: &str =
    "lummmenOverlay.points(); const c = document.getElementById('lummmen-overlay-canvas'); \
    if (!c.width) return true; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
    for (let i = 3; i < d.length; i += 4) if (d[i]) return false; return true;";

#[tokio::test]
async fn a_forged_or_expired_link_draws_nothing_and_the_api_refuses_it() -> anyhow::Result<()> {
    let rig = Rig::start("overlay-refused").await?;
    let base = rig.server.url();
    let now = lummmen_server::clock::now_secs();
    // A genuine token's signature on another site's payload.
    let genuine = overlay_token(DEMO_SITE, DEMO_SHOP, now + 600);
    let sig = genuine.rsplit_once('.').context("token")?.1;
    let other_site = overlay_token_with("x", 2, DEMO_SHOP, now + 600);
    let altered = format!("{}.{sig}", other_site.rsplit_once('.').context("token")?.0);
    let cases = [
        ("expired", overlay_token(DEMO_SITE, DEMO_SHOP, now - 1)),
        ("forged", overlay_token_with("not the app's secret", DEMO_SITE, DEMO_SHOP, now + 600)),
        ("altered", altered),
        ("garbage", "lmo1.x.y".to_string()),
    ];
    for (why, token) in &cases {
        // A new document each time: only the fragment differs.
        rig.browser.client.goto("about:blank").await?;
        rig.goto(&format!("/demo/#lummmen-heatmap={token}")).await?;
        rig.browser
            .wait_for(
                "document.getElementById('lummmen-overlay') && document.getElementById('lummmen-overlay').dataset.state !== 'loading'",
                Duration::from_secs(15),
            )
            .await
            .with_context(|| format!("{why}: the overlay did not start"))?;
        let v = rig
            .js(&format!(
                "return {{state: lummmenOverlay.state(), href: location.href, tracker: document.documentElement.dataset.lummmen || null, \
                 blank: (() => {{ {BLANK_CANVAS} }})(), drawn: [lummmenOverlay.points(), lummmenOverlay.markers(), \
                 lummmenOverlay.scroll(), lummmenOverlay.moves(), lummmenOverlay.cells()].flat().length}}"
            ))
            .await?;
        assert_eq!(v["state"]["status"], "unauthorized", "{why}: {v}");
        assert!(v["state"]["message"].as_str().is_some_and(|m| m.contains("expired")), "{why}: {v}");
        assert_eq!(v["href"], format!("{base}/demo/"), "{why}: the token is out of the address bar");
        assert_eq!(v["tracker"], Value::Null, "{why}: the tracker does not start under the overlay");
        assert_eq!(
            (v["drawn"].as_u64(), v["blank"].as_bool()),
            (Some(0), Some(true)),
            "{why}: nothing drawn: {v}"
        );

        let resp = reqwest::Client::new()
            .get(format!("{base}/api/heatmap?page=%2Fdemo%2F&bucket=desktop&mode=all"))
            .bearer_auth(token)
            .header("origin", "https://demo-shop.example")
            .send()
            .await?;
        assert_eq!(resp.status(), 401, "{why}");
        assert_eq!(resp.headers().get("access-control-allow-origin").map(|v| v.as_bytes()), Some(&b"*"[..]));
        let body: Value = resp.json().await?;
        assert_eq!(body["error"], "unauthorized", "{why}: {body}");
    }
    rig.screenshot("refused").await?;

    // The server's own link opens this server's demo storefront, and is not
    // refused (what it draws is the next tests').
    let link = rig.mint_link("/demo/").await?;
    assert!(link.starts_with(&format!("{base}/demo/#lummmen-heatmap=lmo1.")), "{link}");
    rig.browser.client.goto("about:blank").await?;
    rig.browser.client.goto(&link).await?;
    rig.browser
        .wait_for(
            "window.lummmenOverlay && lummmenOverlay.state().status !== 'loading'",
            Duration::from_secs(15),
        )
        .await?;
    let v = rig.js("return {state: lummmenOverlay.state(), href: location.href}").await?;
    assert_ne!(v["state"]["status"], "unauthorized", "{v}");
    assert_eq!(v["href"], format!("{base}/demo/"), "{v}");
    rig.close().await
}

#[tokio::test]
async fn clicks_at_two_widths_land_on_their_buttons_in_the_overlay_bucket_by_bucket() -> anyhow::Result<()> {
    let rig = Rig::start("overlay-clicks").await?;

    // Desktop: three products in a row.
    rig.resize(1280, 800).await?;
    rig.open_storefront("/demo/").await?;
    rig.accept().await?;
    for css in [ADD1, ADD2, ADD1, BADGE2] {
        rig.click(css).await?;
    }
    rig.rage(TITLE, 4).await?;
    // Phone: one column, full-width buttons, a page view of its own.
    let (width, _) = rig.resize(390, 844).await?;
    ensure!(width < 768, "the window is {width} px wide, not a phone's");
    rig.open_storefront("/demo/").await?;
    rig.wait_tracking().await?;
    for css in [ADD3, ADD2, ADD3] {
        rig.click(css).await?;
    }
    rig.goto("/demo/cart.html").await?;

    // The API counts them (the heatmap API's part).
    let desktop = rig.wait_heatmap("desktop", |m| m["clicks"].as_u64() >= Some(8)).await?;
    let mobile = rig.wait_heatmap("mobile", |m| m["clicks"].as_u64() >= Some(3)).await?;
    assert_eq!(mobile["clicks"], 3, "the phone's clicks only: {mobile}");

    // The admin's view lists the elements as the API does, and opens the page.
    rig.resize(1280, 800).await?;
    rig.admin_heatmap("desktop").await?;
    let rows = rig
        .js("return [...document.querySelectorAll('#heatmap-elements tbody tr[data-key]')].map((tr) => \
             [tr.dataset.key, ...[...tr.querySelectorAll('td.num')].map((td) => Number(td.dataset.value))])")
        .await?;
    let mut from_api: Vec<Value> = desktop["elements"]
        .as_array()
        .context("elements")?
        .iter()
        .map(|e| json!([e["selector"], e["clicks"], e["rage"], e["dead"]]))
        .collect();
    let mut listed = rows.as_array().cloned().unwrap_or_default();
    from_api.sort_by_key(|v| v.to_string());
    listed.sort_by_key(|v| v.to_string());
    assert_eq!(listed, from_api, "the top elements table is the API's");
    let admin = rig.browser.client.window().await?;
    rig.browser.click("#heatmap-view").await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let tab = loop {
        let windows = rig.browser.client.windows().await?;
        if let Some(w) = windows.into_iter().find(|w| *w != admin) {
            break w;
        }
        ensure!(Instant::now() < deadline, "View on storefront opened no tab");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    rig.browser.client.switch_to_window(tab).await?;
    let opener = rig.js("return [location.pathname, location.hash, window.opener === null]").await?;
    assert_eq!(opener, json!(["/demo/", "", true]), "the page, its token out of sight, no opener");

    // Desktop clicks on the desktop layout; rage and dead clicks marked; moves.
    rig.overlay_ready("desktop").await?;
    let drawn = rig.drawn().await?;
    check_points(&drawn, &[("add1", 2), ("add2", 1), ("badge2", 1), ("title", 4)], "desktop on desktop")?;
    assert!(has_marker(&drawn, "title", "rage"), "the rage click is marked: {drawn}");
    assert!(has_marker(&drawn, "badge2", "dead"), "the dead click is marked: {drawn}");
    rig.js("return lummmenOverlay.set({layers: {moves: true}})").await?;
    assert!(rig.drawn().await?["moves"].as_u64() > Some(0), "mouse moves are drawn");
    rig.js("return lummmenOverlay.set({layers: {moves: false}})").await?;
    rig.screenshot("desktop").await?;

    // The window narrows to a phone's: the overlay follows to the phone's bucket.
    rig.resize(390, 844).await?;
    rig.overlay_ready("mobile").await?;
    check_points(&rig.drawn().await?, &[("add2", 1), ("add3", 2)], "phone on phone")?;
    rig.js("document.querySelector('.product:nth-child(3)').scrollIntoView(); return 1").await?;
    rig.screenshot("mobile").await?;

    // Each bucket's clicks on the other layout: on the same buttons.
    rig.js("return lummmenOverlay.set({bucket: 'desktop'})").await?;
    rig.overlay_ready("desktop").await?;
    check_points(
        &rig.drawn().await?,
        &[("add1", 2), ("add2", 1), ("badge2", 1), ("title", 4)],
        "desktop on phone",
    )?;
    rig.resize(1280, 800).await?;
    rig.js("return lummmenOverlay.set({bucket: 'mobile'})").await?;
    rig.overlay_ready("mobile").await?;
    check_points(&rig.drawn().await?, &[("add2", 1), ("add3", 2)], "phone on desktop")?;
    rig.close().await
}

#[tokio::test]
async fn real_scrolling_gives_the_scroll_depth_shares() -> anyhow::Result<()> {
    let rig = Rig::start("overlay-scroll").await?;
    // A tablet's width. The page's height is read before consent and consent
    // given on another page, so every page view of /demo/ the tracker
    // records is one of the three scrolled below.
    rig.resize(900, 800).await?;
    rig.open_storefront("/demo/").await?;
    let height = rig.js("return document.documentElement.scrollHeight").await?.as_i64().context("height")?;
    rig.open_storefront("/demo/product.html").await?;
    rig.accept().await?;
    // A window about a third of the page high (its outer size, with the
    // browser's own bars): each page view goes deeper than its first screen.
    let (_, inner) = rig.resize(900, u32::try_from(height / 3 + 90).unwrap_or(600)).await?;
    ensure!(inner * 100 / height < 45, "the first screen shows {inner} of {height} px");
    let mut depths = Vec::new();
    for target in [55, 75, 100] {
        rig.open_storefront("/demo/").await?;
        rig.wait_tracking().await?;
        if depths.is_empty() {
            // One click, so the admin's page list (pages with clicks) has /demo/.
            rig.click(TITLE).await?;
            rig.js("scrollTo(0, 0); return 1").await?;
        }
        let height =
            rig.js("return document.documentElement.scrollHeight").await?.as_i64().context("height")?;
        let depth = rig.wheel(height * target / 100 - inner).await?;
        ensure!((depth - target).abs() <= 3, "scrolled to {depth}%, not {target}%");
        ensure!(depth % 10 != 0 || depth == 100, "a depth of {depth}% sits on a tenth: ambiguous");
        depths.push(depth);
    }
    rig.goto("/demo/cart.html").await?;
    let expected: Vec<u64> =
        (1..=10).map(|i| depths.iter().filter(|d| **d >= i * 10).count() as u64).collect();

    // The API's page views and depths (the heatmap API's part).
    let map = rig.wait_heatmap("tablet", |m| m["scroll"]["pageviews"].as_u64() >= Some(3)).await?;
    assert_eq!(map["scroll"], json!({"pageviews": 3, "reached": expected}), "depths {depths:?}");

    // The overlay's scroll-depth band at this width.
    let link = rig.mint_link("/demo/").await?;
    rig.browser.client.goto(&link).await?;
    rig.overlay_ready("tablet").await?;
    rig.js("return lummmenOverlay.set({layers: {scroll: true, clicks: false}})").await?;
    let marks = rig.drawn().await?["scroll"].clone();
    let page = rig.js("return document.documentElement.scrollHeight").await?.as_f64().context("height")?;
    let marks = marks.as_array().context("marks")?;
    assert_eq!(marks.len(), 10, "{marks:?}");
    for (i, m) in marks.iter().enumerate() {
        let share = expected[i] as f64 / 3.0;
        assert!((m["share"].as_f64().unwrap_or(-1.0) - share).abs() < 1e-9, "{i}: {m}, expected {share}");
        let y = (i + 1) as f64 / 10.0 * page;
        assert!((m["y"].as_f64().unwrap_or(-1.0) - y).abs() < 1.0, "{i}: {m} at {y}");
    }
    rig.js("scrollTo(0, document.documentElement.scrollHeight / 3); return 1").await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    rig.screenshot("scroll").await?;

    // The admin's scroll-depth curve.
    rig.resize(1280, 1000).await?;
    rig.admin_heatmap("tablet").await?;
    let series =
        rig.js("return lummmenAdmin.state.scrollChart && lummmenAdmin.state.scrollChart.data").await?;
    let want: Vec<f64> = expected.iter().map(|n| *n as f64 * 100.0 / 3.0).collect();
    let got: Vec<f64> = serde_json::from_value(series[1].clone()).context("the chart's series")?;
    assert!(
        got.iter().zip(&want).all(|(g, w)| (g - w).abs() < 1e-9) && got.len() == 10,
        "{got:?} != {want:?}"
    );
    save("e2e-admin-heatmap-view.png", &rig.browser.client.screenshot().await?)?;
    rig.close().await
}
