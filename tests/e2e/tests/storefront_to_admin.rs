//! The whole product in one run: real headless Chromium on the demo storefront
//! (release tracker, Shopify stand-in, the built web pixel in a Web Worker), the
//! real server storing into the real ClickHouse (a fresh database), then the
//! embedded admin page with a session token: the heatmap counts every click
//! of the page, on the elements clicked; consent revoked stops traffic; a
//! `customers/redact` webhook fulfilled from the admin page removes every row
//! of the visitor.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::actions::InputSource as _;
use lummmen_e2e::storefront::{
    app_config, clickhouse_rows, clickhouse_url, deliver_webhook, fresh_database, session_token, DEMO_SHOP,
};
use lummmen_e2e::tracker::FLUSH_WAIT;
use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::ServerHandle;
use serde_json::{json, Value};

struct Rig {
    server: ServerHandle,
    browser: Browser,
    ch: String,
    db: String,
}

impl Rig {
    async fn js(&self, script: &str) -> anyhow::Result<Value> {
        Ok(self.browser.client.execute(script, vec![]).await?)
    }

    async fn goto(&self, path: &str) -> anyhow::Result<()> {
        self.browser.client.goto(&format!("{}{path}", self.server.url())).await?;
        Ok(())
    }

    async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.browser.click(css).await
    }

    async fn rows(&self, sql: &str) -> anyhow::Result<Vec<Value>> {
        clickhouse_rows(&self.ch, &self.db, sql).await
    }

    /// Rows of `events` (deduplicated), after the server drained its spool.
    async fn events(&self) -> anyhow::Result<Vec<Value>> {
        self.server.flush().await?;
        self.rows("SELECT visitor_id, kind, order_id, customer_id, json FROM events FINAL ORDER BY time")
            .await
    }

    /// Polls ClickHouse until `done` holds for the stored events.
    async fn wait_events(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> anyhow::Result<Vec<Value>> {
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            let rows = self.events().await?;
            if done(&rows) {
                return Ok(rows);
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for {what}; kinds stored: {:?}", kinds(&rows));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Requests to `/collect` this page made (Resource Timing sees fetches of
    /// the page; the pixel's worker requests are listed by the sandbox).
    async fn page_collects(&self) -> anyhow::Result<u64> {
        let v = self
            .js("return performance.getEntriesByType('resource').filter(e => e.name.includes('/collect')).length \
                 + ((window.demoShop && demoShop.pixel.requests.length) || 0)")
            .await?;
        Ok(v.as_u64().unwrap_or(0))
    }

    /// Opens the admin page and hands it a session token, as App Bridge would.
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
}

fn kinds(rows: &[Value]) -> Vec<String> {
    rows.iter().map(|r| r["kind"].as_str().unwrap_or("?").to_string()).collect()
}

fn count(rows: &[Value], kind: &str) -> usize {
    rows.iter().filter(|r| r["kind"] == kind).count()
}

/// Opening the page, accepting consent, clicking, moving, buying.
async fn shop_as_a_consenting_visitor(rig: &Rig) -> anyhow::Result<(String, Value, Vec<(i64, i64)>)> {
    rig.goto("/demo/").await?;
    rig.browser
        .wait_for("document.documentElement.dataset.lummmen === 'ready'", Duration::from_secs(15))
        .await?;
    rig.browser.wait_for("demoShop.pixel.timings", Duration::from_secs(15)).await?;
    tokio::time::sleep(FLUSH_WAIT).await;
    assert_eq!(rig.page_collects().await?, 0, "no request before consent");
    assert!(rig.browser.client.get_all_cookies().await?.is_empty(), "no cookie before consent");
    assert!(rig.events().await?.is_empty(), "nothing stored before consent");

    rig.click("#standin-accept").await?;
    let rows = rig.wait_events("the page view", |r| count(r, "pv") == 1).await?;
    let visitor = rows[0]["visitor_id"].as_str().context("visitor id")?.to_string();
    assert_eq!(visitor.len(), 16);

    // 20 real clicks on four elements, and mouse moves.
    let targets = ["h1", ".product:nth-child(1) p", ".product:nth-child(3) p", "footer"];
    for css in targets {
        for _ in 0..5 {
            rig.click(css).await?;
        }
    }
    let mut mouse = fantoccini::actions::MouseActions::new("mouse".into());
    for (x, y) in [(50.0, 50.0), (300.0, 200.0), (600.0, 300.0), (900.0, 120.0), (200.0, 400.0)] {
        mouse = mouse.then(fantoccini::actions::PointerAction::MoveTo {
            duration: Some(Duration::from_millis(150)),
            x,
            y,
        });
    }
    rig.browser.client.perform_actions(mouse).await?;
    rig.browser.client.release_actions().await?;
    let rows = rig.wait_events("20 clicks and moves", |r| count(r, "c") >= 20 && count(r, "m") >= 1).await?;
    let clicks: Vec<(i64, i64)> = rows
        .iter()
        .filter(|r| r["kind"] == "c")
        .map(|r| {
            let e: Value = serde_json::from_str(r["json"].as_str().unwrap_or("{}")).unwrap_or_default();
            (e["x"].as_i64().unwrap_or(-1), e["y"].as_i64().unwrap_or(-1))
        })
        .collect();
    assert_eq!(clicks.len(), 20, "every click stored once");

    // A product, the cart, the checkout (no tracker there: the pixel alone).
    rig.click("a[href*='p=tee']").await?;
    rig.browser
        .wait_for(
            "document.documentElement.dataset.lummmen === 'ready' && demoShop.pixel.timings",
            Duration::from_secs(15),
        )
        .await?;
    rig.click("#add-to-cart").await?;
    rig.wait_events("the product view and add to cart", |r| count(r, "prv") >= 1 && count(r, "add") >= 1)
        .await?;
    rig.goto("/demo/cart.html").await?;
    rig.click("#checkout").await?;
    rig.browser.wait_for("demoShop.pixel.timings", Duration::from_secs(15)).await?;
    rig.click("#pay").await?;
    let order = rig.browser.wait_for("demoShop.lastOrder", Duration::from_secs(5)).await?;
    rig.wait_events("the completed checkout", |r| count(r, "chk") == 1).await?;
    Ok((visitor, order, clicks))
}

#[tokio::test]
async fn storefront_clicks_and_orders_reach_clickhouse_the_heatmap_and_privacy_fulfilment(
) -> anyhow::Result<()> {
    for built in [
        "extensions/lummmen-theme/assets/lummmen-tracker.wasm",
        "extensions/lummmen-pixel/dist/lummmen-pixel.js",
    ] {
        assert!(root().join(built).exists(), "{built} missing: run `cargo xtask build` first");
    }
    let ch = clickhouse_url()?;
    let db = fresh_database("storefront");
    let data = TempDir::new("e2e-storefront")?;
    let server = ServerHandle::start(app_config(data.0.clone(), &ch, &db)).await?;
    let browser = Browser::start().await?;
    let rig = Rig { server, browser, ch, db };

    let (visitor, order, clicks) = shop_as_a_consenting_visitor(&rig).await?;

    // Every row, tracker's and pixel's, carries the same visitor id; the order
    // row carries the order id, the customer and the totals.
    let rows = rig.events().await?;
    let visitors: BTreeSet<&str> = rows.iter().filter_map(|r| r["visitor_id"].as_str()).collect();
    assert_eq!(visitors, BTreeSet::from([visitor.as_str()]), "kinds: {:?}", kinds(&rows));
    for kind in ["pv", "c", "m", "prv", "add", "chk"] {
        assert!(count(&rows, kind) >= 1, "no {kind} row: {:?}", kinds(&rows));
    }
    let chk = rows.iter().find(|r| r["kind"] == "chk").context("checkout row")?;
    assert_eq!(chk["order_id"], order["id"], "{chk}");
    assert_eq!(chk["customer_id"], order["customer"], "{chk}");
    let chk_json: Value = serde_json::from_str(chk["json"].as_str().unwrap_or("{}"))?;
    for (field, key) in [("tot", "total"), ("sub", "subtotal"), ("tax", "tax"), ("shp", "shipping")] {
        let stored = chk_json[field].as_f64().unwrap_or(f64::NAN);
        let paid = order[key].as_f64().unwrap_or(f64::NAN);
        assert!((stored - paid).abs() < 0.005, "{field}: stored {stored}, paid {paid}: {chk_json}");
    }
    // The heatmap's table holds the visitor id as its number.
    let number = u64::from_str_radix(&visitor, 16)?;
    let stored_clicks =
        rig.rows(&format!("SELECT count() AS n FROM heat_clicks FINAL WHERE visitor = {number}")).await?;
    assert!(stored_clicks[0]["n"].as_str().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0) >= 20);

    check_heatmap(&rig, &clicks).await?;
    check_revoked_consent_sends_nothing(&rig).await?;
    redact_from_the_admin_page(&rig, &visitor, &order).await?;

    rig.browser.close().await?;
    rig.server.shutdown().await?;
    lummmen_e2e::storefront::drop_database(&rig.ch, &rig.db).await?;
    Ok(())
}

/// The admin page's heatmap of the demo page, desktop bucket (the browser is
/// 1280 px wide): every click stored for the page is counted, on the elements
/// clicked (the top elements table lists each with its clicks) or, without a
/// position inside its element, by position; a screenshot of the view is
/// saved. Where the clicks land is `heatmap_overlay.rs`'s.
async fn check_heatmap(rig: &Rig, clicks: &[(i64, i64)]) -> anyhow::Result<()> {
    rig.open_admin().await?;
    rig.browser.show_view("heatmap").await?;
    rig.browser
        .wait_for(
            "[...document.querySelectorAll('#heatmap-page option')].some((o) => o.value === '/demo/')",
            Duration::from_secs(10),
        )
        .await
        .context("/demo/ is not among the heatmap's pages")?;
    rig.browser
        .client
        .find(fantoccini::Locator::Css("#heatmap-page"))
        .await?
        .select_by_value("/demo/")
        .await?;
    rig.click("#heatmap-bucket [data-bucket='desktop']").await?;
    let view = "document.getElementById('heatmap').dataset";
    rig.browser
        .wait_for(
            &format!("{view}.state === 'ready' && {view}.page === '/demo/' && {view}.bucket === 'desktop'"),
            Duration::from_secs(15),
        )
        .await?;
    let drawn = rig
        .js("const m = lummmenAdmin.state.heatmap; return {page: m.page, clicks: m.clicks, \
             onElements: m.elements.reduce((s, e) => s + e.clicks, 0), elements: m.elements.length, \
             byPosition: m.grid.cells.reduce((s, c) => s + c.count, 0), \
             rows: [...document.querySelectorAll('#heatmap-elements tbody tr[data-key]')].map((tr) => \
               Number(tr.querySelector('td.num').dataset.value))}")
        .await?;
    assert_eq!(drawn["page"], "/demo/", "{drawn}");
    // The 20 clicks, plus the click on the product link that left the page.
    let stored = rig
        .rows("SELECT count() AS n FROM heat_clicks FINAL WHERE path = '/demo/'")
        .await?
        .first()
        .and_then(|r| r["n"].as_str().and_then(|n| n.parse::<u64>().ok()))
        .context("stored clicks")?;
    assert!(stored as usize > clicks.len(), "{stored} stored clicks");
    assert_eq!(drawn["clicks"], stored, "every stored click of the page: {drawn}");
    let on_elements = drawn["onElements"].as_u64().unwrap_or(0);
    assert_eq!(on_elements + drawn["byPosition"].as_u64().unwrap_or(0), stored, "{drawn}");
    let rows: Vec<u64> = serde_json::from_value(drawn["rows"].clone())?;
    assert_eq!(
        (rows.len() as u64, rows.iter().sum::<u64>()),
        (drawn["elements"].as_u64().unwrap_or(0), on_elements)
    );
    let out = root().join("target/e2e-admin-heatmap.png");
    std::fs::create_dir_all(root().join("target"))?;
    std::fs::write(&out, rig.browser.client.screenshot().await?)
        .with_context(|| format!("saving {}", out.display()))?;
    Ok(())
}

/// After consent is withdrawn, clicking and moving sends nothing and stores nothing.
async fn check_revoked_consent_sends_nothing(rig: &Rig) -> anyhow::Result<()> {
    rig.goto("/demo/").await?;
    rig.browser
        .wait_for("document.documentElement.dataset.lummmenState === 'tracking'", Duration::from_secs(15))
        .await?;
    tokio::time::sleep(FLUSH_WAIT).await;
    rig.js("Shopify.customerPrivacy.setTrackingConsent({analytics: false}, () => {}); return true").await?;
    rig.browser
        .wait_for("document.documentElement.dataset.lummmenState === 'waiting'", Duration::from_secs(10))
        .await?;
    let before_requests = rig.page_collects().await?;
    let before_rows = rig.events().await?.len();
    for css in ["h1", "footer", ".product:nth-child(2) p", "h1", "footer"] {
        rig.click(css).await?;
    }
    tokio::time::sleep(FLUSH_WAIT).await;
    assert_eq!(rig.page_collects().await?, before_requests, "requests after consent was withdrawn");
    assert_eq!(rig.events().await?.len(), before_rows, "rows stored after consent was withdrawn");
    Ok(())
}

/// `customers/redact` for the customer; the admin runs the deletion from the page.
async fn redact_from_the_admin_page(rig: &Rig, visitor: &str, order: &Value) -> anyhow::Result<()> {
    let numeric =
        |gid: &Value| gid.as_str().and_then(|s| s.rsplit('/').next()).and_then(|n| n.parse::<u64>().ok());
    let customer = numeric(&order["customer"]).context("customer id")?;
    let order_id = numeric(&order["id"]).context("order id")?;
    let body = json!({"shop_id": 954889, "shop_domain": DEMO_SHOP,
                      "customer": {"id": customer, "email": "shopper@example.com", "phone": "555-625-1199"},
                      "orders_to_redact": [order_id]});
    let answer = deliver_webhook(&rig.server.url(), "customers/redact", DEMO_SHOP, &body).await?;
    let ticket = answer["ticket"].as_i64().with_context(|| format!("no ticket in {answer}"))?;

    rig.open_admin().await?;
    rig.browser.show_view("tickets").await?;
    let row = format!("tr[data-ticket='{ticket}']");
    rig.click(&format!("{row} button.fulfil")).await?;
    rig.browser
        .wait_for(
            &format!("document.querySelector(\"{row}\")?.dataset.status === 'fulfilled'"),
            Duration::from_secs(60),
        )
        .await?;
    let gone = rig.rows(&format!("SELECT count() AS n FROM events WHERE visitor_id = '{visitor}'")).await?;
    assert_eq!(gone[0]["n"], "0", "events of the visitor after redaction");
    // The heatmap's tables hold the visitor id as its number.
    let number = u64::from_str_radix(visitor, 16)?;
    for table in ["heat_clicks", "heat_moves", "heat_views"] {
        let gone = rig.rows(&format!("SELECT count() AS n FROM {table} WHERE visitor = {number}")).await?;
        assert_eq!(gone[0]["n"], "0", "{table} rows of the visitor after redaction");
    }

    rig.click(&format!("{row} button.resolve")).await?;
    rig.browser
        .wait_for(
            &format!("document.querySelector(\"{row}\")?.dataset.status === 'resolved'"),
            Duration::from_secs(10),
        )
        .await?;
    Ok(())
}
