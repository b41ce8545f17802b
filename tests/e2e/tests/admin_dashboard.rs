//! The dashboard, the admin page's first view, in real headless Chromium over
//! the real server: a fixed data set is posted to `/collect` as the tracker and
//! the web pixel send it, on days the browser names in its own time zone (the
//! one the page sends as `tz`); once `/api/stats` counts it, every figure the
//! page shows (tiles, changes, funnel, tables, the chart's series) equals the
//! API's answer for the range shown, for the default range, the presets and a
//! custom range, an empty range and a refused one. Shopify's own orders come
//! by webhook, so the page says how many of them the pixel saw. The daily
//! chart is drawn on a real screenshot, and the page fits a narrow window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use lummmen_e2e::storefront::{
    deliver_webhook, session_token, Screenshot, CLIENT_ID, CLIENT_SECRET, DEMO_SHOP,
};
use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::{Config, ServerHandle};
use serde_json::{json, Value};

/// Days back from today (in the browser's time zone) that the data set and
/// the ranges use: events on 0, 1, 3, 10 and 20; the last 7 and 30 days start
/// on 6 and 29.
const DAYS_BACK: [i64; 7] = [0, 1, 3, 6, 10, 20, 29];

/// Today and the days of the data set, as the browser sees them.
struct Calendar {
    tz: String,
    /// `YYYY-MM-DD` of each of [`DAYS_BACK`].
    dates: Vec<String>,
    /// A time on each of those days (ms), early enough that a few minutes of
    /// events after it stay on the day and in the past.
    times: Vec<u64>,
    first_of_month: String,
}

impl Calendar {
    fn date(&self, back: i64) -> &str {
        &self.dates[DAYS_BACK.iter().position(|d| *d == back).unwrap_or(0)]
    }

    fn time(&self, back: i64) -> u64 {
        self.times[DAYS_BACK.iter().position(|d| *d == back).unwrap_or(0)]
    }
}

struct Rig {
    server: ServerHandle,
    browser: Browser,
    http: reqwest::Client,
}

impl Rig {
    async fn js(&self, script: &str) -> anyhow::Result<Value> {
        Ok(self.browser.client.execute(script, vec![]).await?)
    }

    /// The browser's time zone and the data set's days in it.
    async fn calendar(&self) -> anyhow::Result<Calendar> {
        let v = self
            .js(&format!(
                "const iso = (d) => `${{d.getFullYear()}}-${{String(d.getMonth() + 1).padStart(2, '0')}}-\
                 ${{String(d.getDate()).padStart(2, '0')}}`;
                 const now = new Date();
                 const days = {DAYS_BACK:?}.map((back) => {{
                   const d = new Date(now); d.setDate(d.getDate() - back);
                   if (back > 0) d.setHours(12, 0, 0, 0);
                   else {{ const start = new Date(now); start.setHours(0, 0, 1, 0);
                           d.setTime(Math.max(start.getTime(), now.getTime() - 10 * 60 * 1000)); }}
                   return [iso(d), d.getTime()];
                 }});
                 return {{ tz: Intl.DateTimeFormat().resolvedOptions().timeZone, days,
                          firstOfMonth: iso(new Date(now.getFullYear(), now.getMonth(), 1)) }};"
            ))
            .await?;
        let days = v["days"].as_array().context("days")?;
        Ok(Calendar {
            tz: v["tz"].as_str().context("tz")?.to_string(),
            dates: days.iter().map(|d| d[0].as_str().unwrap_or_default().to_string()).collect(),
            times: days.iter().map(|d| d[1].as_f64().unwrap_or(0.0) as u64).collect(),
            first_of_month: v["firstOfMonth"].as_str().context("first of month")?.to_string(),
        })
    }

    async fn post(&self, batch: Value) -> anyhow::Result<()> {
        let r = self
            .http
            .post(format!("{}/collect", self.server.url()))
            .header("content-type", "text/plain")
            .body(batch.to_string())
            .send()
            .await?;
        let status = r.status();
        ensure!(status.is_success(), "/collect: HTTP {status}: {}", r.text().await?);
        Ok(())
    }

    /// `GET /api/stats` as the page asks it, with the demo shop's session token.
    async fn stats(&self, from: &str, to: &str, tz: &str) -> anyhow::Result<(u16, Value)> {
        let r = self
            .http
            .get(format!("{}/api/stats", self.server.url()))
            .query(&[("from", from), ("to", to), ("tz", tz)])
            .bearer_auth(session_token(DEMO_SHOP))
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// Polls `/api/stats` until the store has drained the data set.
    async fn wait_counted(&self, cal: &Calendar) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.server.flush().await?;
            let (status, s) = self.stats(cal.date(29), cal.date(0), &cal.tz).await?;
            if status == 200
                && s["pageviews"] == 10
                && s["visitors"] == 7
                && s["shopifyOrders"]["orders"] == 3
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("/api/stats never counted the data set: HTTP {status}: {s}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// A session token the page's stand-in App Bridge hands out (they live a minute).
    async fn fresh_token(&self) -> anyhow::Result<()> {
        let token = session_token(DEMO_SHOP);
        self.js(&format!("window.shopify = {{ idToken: async () => {token:?} }}; return 1")).await?;
        Ok(())
    }

    /// Waits until the dashboard has settled on `from`..`to`; answers its state.
    async fn settled(&self, from: &str, to: &str) -> anyhow::Result<String> {
        let state = self
            .browser
            .wait_for(
                &format!(
                    "(() => {{ const d = document.getElementById('dashboard');
                       return d.dataset.state !== 'loading' && d.dataset.from === '{from}'
                         && d.dataset.to === '{to}' && d.dataset.state; }})()"
                ),
                Duration::from_secs(15),
            )
            .await?;
        Ok(state.as_str().unwrap_or_default().to_string())
    }

    async fn preset(&self, name: &str) -> anyhow::Result<()> {
        self.fresh_token().await?;
        self.browser.click(&format!("#dashboard [data-preset='{name}']")).await
    }

    /// Opens "Custom", types the dates (set on the inputs: typing into a date
    /// input depends on the browser's locale) and applies them.
    async fn custom(&self, from: &str, to: &str) -> anyhow::Result<()> {
        self.fresh_token().await?;
        self.browser.click("#preset-custom").await?;
        self.js(&format!(
            "document.getElementById('range-from').value = '{from}';
             document.getElementById('range-to').value = '{to}'; return 1"
        ))
        .await?;
        self.browser.click("#range-apply").await
    }

    /// Everything the dashboard shows, read from the page.
    async fn shown(&self) -> anyhow::Result<Value> {
        self.js(READ_DASHBOARD).await
    }

    /// Asserts the page shows exactly the API's answer for `from`..`to`;
    /// answers that answer.
    async fn assert_shows_api(&self, from: &str, to: &str, tz: &str) -> anyhow::Result<Value> {
        let state = self.settled(from, to).await?;
        let (status, api) = self.stats(from, to, tz).await?;
        ensure!(status == 200, "/api/stats {from}..{to}: HTTP {status}: {api}");
        ensure!(state == "ready", "dashboard {from}..{to} is {state}, API: {api}");
        let page = self.shown().await?;
        assert_same(&page, &api).with_context(|| format!("range {from}..{to}\npage: {page}\napi: {api}"))?;
        Ok(api)
    }
}

/// Reads tiles, changes, funnel, tables and the chart's data off the page.
const READ_DASHBOARD: &str = r#"
const d = document.getElementById('dashboard');
const all = (css) => [...d.querySelectorAll(css)];
const tile = (s) => d.querySelector(`[data-stat="${s}"]`);
const rows = (id) => all(`#${id} tbody tr:not(.empty)`);
const num = (td) => Number(td.dataset.value);
const stats = ['visitors', 'sessions', 'pageviews', 'bounceRate', 'orders', 'shopifyOrders'];
const chart = lummmenAdmin.state.dashboard.chart;
return {
  state: d.dataset.state,
  values: Object.fromEntries(stats.map((s) => [s, Number(tile(s).querySelector('.value').dataset.value)])),
  texts: Object.fromEntries(stats.map((s) => [s, tile(s).querySelector('.value').textContent])),
  changes: Object.fromEntries(['visitors', 'sessions', 'pageviews', 'orders'].map((s) =>
    [s, tile(s).querySelector('.delta').dataset.direction])),
  revenue: all('#tile-revenue .value [data-currency]').map((e) =>
    ({ currency: e.dataset.currency, amount: Number(e.dataset.amount), text: e.textContent })),
  seenByPixel: Number(d.querySelector('#tile-shopify-orders .seen').dataset.value),
  funnel: Object.fromEntries(all('#funnel li').map((li) => [li.dataset.step, Number(li.dataset.value)])),
  topPages: rows('top-pages').map((tr) =>
    ({ path: tr.dataset.key, pageviews: num(tr.cells[1]), visitors: num(tr.cells[2]) })),
  sources: rows('sources').map((tr) => ({ source: tr.dataset.key, sessions: num(tr.cells[1]) })),
  devices: Object.fromEntries(rows('devices').map((tr) => [tr.dataset.key, num(tr.cells[1])])),
  topProducts: rows('top-products').map((tr) => ({ productId: tr.dataset.key, name: tr.cells[0].textContent,
    views: num(tr.cells[1]), addedToCart: num(tr.cells[2]) })),
  chartDays: Number(document.getElementById('daily-chart').dataset.days),
  chart: chart ? chart.data.map((series) => Array.from(series)) : null,
};
"#;

fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
        _ => false,
    }
}

/// The change the page should show for `now` against `before`.
fn direction(now: f64, before: f64) -> &'static str {
    if before == 0.0 {
        return "none";
    }
    match ((now - before) / before * 100.0).round() {
        p if p > 0.0 => "up",
        p if p < 0.0 => "down",
        _ => "flat",
    }
}

/// Digits of a formatted count ("1,234" or "1 234" → 1234).
fn digits(text: &Value) -> Option<u64> {
    text.as_str()?.chars().filter(char::is_ascii_digit).collect::<String>().parse().ok()
}

fn assert_same(page: &Value, api: &Value) -> anyhow::Result<()> {
    for stat in ["visitors", "sessions", "pageviews", "orders"] {
        ensure!(close(&page["values"][stat], &api[stat]), "{stat}");
        ensure!(digits(&page["texts"][stat]) == api[stat].as_u64(), "{stat} as written");
        let (now, before) =
            (api[stat].as_f64().unwrap_or(0.0), api["previous"][stat].as_f64().unwrap_or(0.0));
        ensure!(page["changes"][stat] == direction(now, before), "change of {stat}");
    }
    ensure!(close(&page["values"]["bounceRate"], &api["bounceRate"]), "bounce rate");
    ensure!(close(&page["values"]["shopifyOrders"], &api["shopifyOrders"]["orders"]), "Shopify orders");
    ensure!(page["seenByPixel"] == api["shopifyOrders"]["seenByPixel"], "seen by the pixel");

    // One line per currency, in the page's order (largest first): compare by currency.
    let by_currency = |v: &Value| -> anyhow::Result<Vec<Value>> {
        let mut list = v.as_array().context("revenue")?.clone();
        list.sort_by_key(|m| m["currency"].as_str().unwrap_or_default().to_string());
        Ok(list)
    };
    let (revenue, want) = (by_currency(&page["revenue"])?, by_currency(&api["revenue"])?);
    ensure!(revenue.len() == want.len(), "revenue currencies");
    for (shown, m) in revenue.iter().zip(&want) {
        ensure!(shown["currency"] == m["currency"] && close(&shown["amount"], &m["amount"]), "revenue {m}");
        let text = shown["text"].as_str().unwrap_or_default();
        let whole = m["amount"].as_f64().unwrap_or(0.0).trunc() as u64;
        ensure!(text.contains(&whole.to_string()), "revenue written as {text}");
    }

    for step in ["productViewed", "addedToCart", "checkoutCompleted"] {
        ensure!(page["funnel"][step] == api["funnel"][step], "funnel step {step}");
    }
    ensure!(page["topPages"] == api["topPages"], "top pages");
    ensure!(page["sources"] == api["sources"], "sources");
    let devices = &api["devices"];
    let any_device = ["mobile", "tablet", "desktop"].iter().any(|k| devices[k] != 0);
    ensure!(page["devices"] == if any_device { devices.clone() } else { json!({}) }, "devices");
    let products: Vec<Value> = api["topProducts"]
        .as_array()
        .context("products")?
        .iter()
        .map(|p| {
            let name = match p["name"].as_str() {
                Some(n) if !n.is_empty() => n.to_string(),
                _ => format!("Product {}", p["productId"].as_str().unwrap_or_default()),
            };
            json!({"productId": p["productId"], "name": name, "views": p["views"], "addedToCart": p["addedToCart"]})
        })
        .collect();
    ensure!(page["topProducts"] == json!(products), "products");

    let days = api["days"].as_array().context("days")?;
    ensure!(page["chartDays"] == days.len(), "days in the chart");
    let series = |key: &str| json!(days.iter().map(|d| d[key].clone()).collect::<Vec<_>>());
    let chart = &page["chart"];
    ensure!(chart[1] == series("orders"), "orders per day in the chart");
    ensure!(chart[2] == series("visitors"), "visitors per day in the chart");
    ensure!(chart[3] == series("pageviews"), "page views per day in the chart");
    Ok(())
}

static BATCHES: AtomicU64 = AtomicU64::new(0);

fn hex16(prefix: u64, n: u64) -> String {
    format!("{:016x}", (prefix << 48) | n)
}

/// A tracker batch with one page view of `path` at `t`.
fn page_view(visitor: u64, t: u64, path: &str, referrer: &str, width: u32) -> Value {
    let n = BATCHES.fetch_add(1, Ordering::SeqCst);
    json!({"s": 1, "v": hex16(0xa15e, visitor), "b": hex16(0xba7c, n), "t": t + 400,
           "ss": hex16(0x5e55, visitor), "pv": hex16(0x9a9e, n),
           "e": [{"k": "pv", "t": t, "u": format!("https://{DEMO_SHOP}{path}"), "r": referrer, "ti": "Demo shop",
                  "vw": width, "vh": 800, "sw": width, "sh": 900, "tz": 0, "dw": width, "dh": 2400}]})
}

/// A web pixel batch (no session, no page view id) of ecommerce events.
fn pixel(visitor: u64, events: Vec<Value>) -> Value {
    let n = BATCHES.fetch_add(1, Ordering::SeqCst);
    let last = events.iter().filter_map(|e| e["t"].as_u64()).max().unwrap_or(0);
    json!({"s": 1, "v": hex16(0xa15e, visitor), "b": hex16(0xba7c, n), "t": last + 400, "e": events})
}

fn product(id: &str, name: &str, price: f64) -> Value {
    json!({"id": id, "vid": format!("{id}01"), "n": name, "pr": price, "cur": "EUR"})
}

fn product_viewed(t: u64, p: &Value) -> Value {
    json!({"k": "prv", "t": t, "u": format!("https://{DEMO_SHOP}/products/x"), "p": p})
}

fn added_to_cart(t: u64, p: &Value) -> Value {
    json!({"k": "add", "t": t, "u": format!("https://{DEMO_SHOP}/products/x"), "l": {"q": 1, "p": p}})
}

fn checkout(t: u64, order: &str, total: f64, p: &Value) -> Value {
    json!({"k": "chk", "t": t, "u": format!("https://{DEMO_SHOP}/checkouts/c/1/thank-you"), "oid": order,
           "cur": "EUR", "tot": total, "sub": total, "it": [{"q": 1, "p": p}]})
}

/// Milliseconds since the epoch in RFC 3339 (UTC), as Shopify's webhooks
/// carry times.
fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

/// Shopify's own orders, as its webhooks deliver them: 1001 and 1002 (the
/// pixel saw both), 1003 today from a shopper who declined analytics (the pixel
/// never saw it), and a €5 refund of 1001 today.
fn shop_orders(cal: &Calendar) -> Vec<(&'static str, Value)> {
    let paid = |id: u64, at: u64, total: &str| {
        json!({"id": id, "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
               "processed_at": rfc3339(at), "created_at": rfc3339(at), "total_price": total,
               "currency": "EUR", "financial_status": "paid"})
    };
    let s = 1000;
    vec![
        ("orders/paid", paid(1001, cal.time(0) + 100 * s, "45.00")),
        ("orders/paid", paid(1003, cal.time(0) + 200 * s, "60.00")),
        ("orders/paid", paid(1002, cal.time(20) + 100 * s, "30.00")),
        (
            "refunds/create",
            json!({"id": 9001, "order_id": 1001, "created_at": rfc3339(cal.time(0) + 300 * s),
                   "transactions": [{"kind": "refund", "status": "success", "amount": "5.00", "currency": "EUR"}]}),
        ),
    ]
}

const GOOGLE: &str = "https://www.google.com/search?q=shirt";
const DUCK: &str = "https://duckduckgo.com/";

/// Seven visitors over five days:
///
/// | day      | visitor | device  | source     | pages            | pixel                |
/// | -------- | ------- | ------- | ---------- | ---------------- | -------------------- |
/// | today    | 1       | desktop | direct     | /, /products/shirt | view, cart, order 1001 €45 |
/// | today    | 2       | mobile  | google.com | /                |                      |
/// | −1       | 6       | desktop | direct     | /                |                      |
/// | −3       | 3       | tablet  | google.com | /, /products/mug | view mug             |
/// | −3       | 4       | mobile  | duckduckgo | /products/shirt  | view, cart           |
/// | −10      | 7       | mobile  | direct     | /                |                      |
/// | −20      | 5       | desktop | direct     | /, /cart         | order 1002 €30       |
///
/// Today: 2 visitors, 3 page views, 1 order; last 7 days: 5, 7, 1; last 30
/// days: 7, 10, 2; day −20 alone: 1, 2, 1.
fn data_set(cal: &Calendar) -> Vec<Value> {
    let shirt = product("7001", "Linen shirt", 45.0);
    let mug = product("7002", "Ceramic mug", 30.0);
    let s = 1000;
    let (t0, t1, t3, t10, t20) = (cal.time(0), cal.time(1), cal.time(3), cal.time(10), cal.time(20));
    vec![
        page_view(1, t0, "/", "", 1280),
        page_view(1, t0 + 30 * s, "/products/shirt", &format!("https://{DEMO_SHOP}/"), 1280),
        pixel(
            1,
            vec![
                product_viewed(t0 + 31 * s, &shirt),
                added_to_cart(t0 + 40 * s, &shirt),
                checkout(t0 + 90 * s, "1001", 45.0, &shirt),
            ],
        ),
        page_view(2, t0 + 5 * s, "/", GOOGLE, 390),
        page_view(6, t1, "/", "", 1440),
        page_view(3, t3, "/", GOOGLE, 820),
        page_view(3, t3 + 20 * s, "/products/mug", &format!("https://{DEMO_SHOP}/"), 820),
        pixel(3, vec![product_viewed(t3 + 21 * s, &mug)]),
        page_view(4, t3 + 60 * s, "/products/shirt", DUCK, 375),
        pixel(4, vec![product_viewed(t3 + 61 * s, &shirt), added_to_cart(t3 + 70 * s, &shirt)]),
        page_view(7, t10, "/", "", 414),
        page_view(5, t20, "/", "", 1366),
        page_view(5, t20 + 15 * s, "/cart", &format!("https://{DEMO_SHOP}/"), 1366),
        pixel(5, vec![checkout(t20 + 60 * s, "1002", 30.0, &mug)]),
    ]
}

/// Whether a screenshot pixel is a series' colour (indigo and sky lines, amber
/// bars) rather than the white card, the grey grid or the grey axis labels.
fn is_ink([r, g, b, _]: [u8; 4]) -> bool {
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    max - min >= 40
}

fn is_indigo([r, g, b, _]: [u8; 4]) -> bool {
    b >= 150 && b as i32 - r as i32 >= 60 && b as i32 - g as i32 >= 60
}

fn is_amber([r, g, b, _]: [u8; 4]) -> bool {
    r >= 200 && g >= 120 && r as i32 - b as i32 >= 40
}

/// The chart on a real screenshot: its plotting area shows the series.
async fn assert_chart_drawn(rig: &Rig) -> anyhow::Result<()> {
    rig.js("document.getElementById('daily-chart').scrollIntoView({block: 'center'}); return 1").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rect = rig
        .js("const r = document.querySelector('#daily-chart .u-over').getBoundingClientRect();
             return [r.left, r.top, r.width, r.height, window.devicePixelRatio]")
        .await?;
    let f = |i: usize| rect[i].as_f64().unwrap_or(0.0);
    let (left, top, width, height, dpr) = (f(0), f(1), f(2), f(3), f(4));
    ensure!(width > 200.0 && height > 150.0, "plotting area {rect}");
    let png_bytes = rig.browser.client.screenshot().await?;
    let out = root().join("target/e2e-admin-dashboard.png");
    std::fs::create_dir_all(root().join("target"))?;
    std::fs::write(&out, &png_bytes).with_context(|| format!("saving {}", out.display()))?;
    let shot = Screenshot::decode(&png_bytes)?;
    let (mut total, mut ink, mut indigo, mut amber) = (0u32, 0u32, 0u32, 0u32);
    let (x0, y0) = ((left * dpr) as u32, (top * dpr) as u32);
    for y in y0..y0 + (height * dpr) as u32 {
        for x in x0..x0 + (width * dpr) as u32 {
            let Some(px) = shot.at(x, y) else { continue };
            total += 1;
            ink += u32::from(is_ink(px));
            indigo += u32::from(is_indigo(px));
            amber += u32::from(is_amber(px));
        }
    }
    ensure!(total > 30_000, "the plotting area is off the screenshot ({})", out.display());
    ensure!(indigo >= 100, "{indigo} indigo pixels: no visitors line ({})", out.display());
    ensure!(amber >= 100, "{amber} amber pixels: no order bars ({})", out.display());
    ensure!(ink < total / 2, "{ink} of {total} pixels coloured: not a chart ({})", out.display());
    Ok(())
}

#[tokio::test]
async fn the_dashboard_shows_what_the_stats_api_counts_for_each_range() -> anyhow::Result<()> {
    let data = TempDir::new("e2e-dashboard")?;
    let mut config = Config::for_tests(&root(), data.0.clone());
    config.shopify.shopify_client_id = Some(CLIENT_ID.into());
    config.shopify.shopify_client_secret = Some(CLIENT_SECRET.into());
    let server = ServerHandle::start(config).await?;
    let browser = Browser::start().await?;
    let rig = Rig { server, browser, http: reqwest::Client::new() };

    // The page's own time zone decides the days; the data set goes there.
    rig.browser.client.goto(&format!("{}/admin/", rig.server.url())).await?;
    rig.browser
        .wait_for("document.readyState === 'complete' && window.lummmenAdmin", Duration::from_secs(15))
        .await?;
    let cal = rig.calendar().await?;
    for batch in data_set(&cal) {
        rig.post(batch).await?;
    }
    for (topic, body) in shop_orders(&cal) {
        deliver_webhook(&rig.server.url(), topic, DEMO_SHOP, &body).await?;
    }
    rig.wait_counted(&cal).await?;

    // The first view, on its default range: the last 7 days.
    rig.fresh_token().await?;
    rig.js("lummmenAdmin.start(); return 1").await?;
    let shown = rig.js("return document.documentElement.dataset.shown").await?;
    assert_eq!(shown, "dashboard", "the dashboard is the first view");
    let week = rig.assert_shows_api(cal.date(6), cal.date(0), &cal.tz).await?;
    assert_eq!(
        (week["visitors"].as_u64(), week["pageviews"].as_u64(), week["orders"].as_u64()),
        (Some(5), Some(7), Some(1)),
        "{week}"
    );
    assert_eq!(week["previous"]["visitors"], 1, "day −10 is in the week before: {week}");

    // Today: fewer visitors, compared with yesterday's one.
    rig.preset("today").await?;
    let today = rig.assert_shows_api(cal.date(0), cal.date(0), &cal.tz).await?;
    assert_eq!((today["visitors"].as_u64(), today["pageviews"].as_u64()), (Some(2), Some(3)), "{today}");
    assert_eq!(today["previous"]["visitors"], 1, "{today}");
    let change = rig.js("return document.querySelector('#tile-visitors .delta').textContent").await?;
    assert!(change.as_str().is_some_and(|t| t.contains("+100%")), "{change}");
    // Shopify's orders of the day: two paid, one of them seen by the pixel, and a refund.
    let shop = &today["shopifyOrders"];
    assert_eq!((shop["orders"].as_u64(), shop["seenByPixel"].as_u64()), (Some(2), Some(1)), "{today}");
    assert_eq!(shop["refunds"], json!([{"currency": "EUR", "amount": 5.0}]), "{today}");
    let note = rig.js("return document.querySelector('#tile-shopify-orders .note').textContent").await?;
    let note = note.as_str().unwrap_or_default();
    assert!(note.contains("1 of 2 seen by the pixel") && note.contains("Refunds"), "{note}");

    // A custom range of one day, twenty days back: the one visitor and order there.
    rig.custom(cal.date(20), cal.date(20)).await?;
    let day = rig.assert_shows_api(cal.date(20), cal.date(20), &cal.tz).await?;
    assert_eq!((day["visitors"].as_u64(), day["orders"].as_u64()), (Some(1), Some(1)), "{day}");
    assert_eq!(day["revenue"], json!([{"currency": "EUR", "amount": 30.0}]), "{day}");
    assert_eq!(day["shopifyOrders"]["orders"], 1, "{day}");
    assert_eq!(day["shopifyOrders"]["seenByPixel"], 1, "{day}");

    // This month: the range the page picked starts on the first.
    rig.preset("month").await?;
    rig.assert_shows_api(&cal.first_of_month, cal.date(0), &cal.tz).await?;

    // A range with nothing in it reads as such.
    rig.custom("2001-01-01", "2001-01-07").await?;
    assert_eq!(rig.settled("2001-01-01", "2001-01-07").await?, "empty");
    let (_, empty) = rig.stats("2001-01-01", "2001-01-07", &cal.tz).await?;
    assert_eq!((empty["visitors"].as_u64(), empty["pageviews"].as_u64()), (Some(0), Some(0)), "{empty}");
    let message = rig.js("return document.getElementById('dash-message').textContent").await?;
    assert!(message.as_str().is_some_and(|m| m.contains("No visitors in this range yet")), "{message}");

    // A range the server refuses (over 400 days): its reason on the page.
    rig.custom("2001-01-01", cal.date(0)).await?;
    rig.browser
        .wait_for("document.getElementById('dashboard').dataset.state === 'error'", Duration::from_secs(15))
        .await?;
    let (status, refused) = rig.stats("2001-01-01", cal.date(0), &cal.tz).await?;
    assert_eq!(status, 400, "{refused}");
    let detail = refused["detail"].as_str().context("detail")?.trim_end_matches('.').to_lowercase();
    let message = rig.js("return document.getElementById('dash-message').textContent").await?;
    assert!(message.as_str().is_some_and(|m| m.to_lowercase().contains(&detail)), "{message} / {refused}");

    // The last 30 days: everything, and the chart drawn.
    rig.preset("30d").await?;
    let month = rig.assert_shows_api(cal.date(29), cal.date(0), &cal.tz).await?;
    assert_eq!(month["days"].as_array().map(Vec::len), Some(30), "{month}");
    assert_eq!((month["visitors"].as_u64(), month["pageviews"].as_u64()), (Some(7), Some(10)), "{month}");
    assert_chart_drawn(&rig).await?;

    // A narrow window: one column, nothing wider than the window.
    rig.browser.client.set_window_size(420, 900).await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fit = rig
        .js("const c = document.querySelector('#daily-chart canvas');
             return [document.documentElement.scrollWidth, window.innerWidth, c.getBoundingClientRect().right]")
        .await?;
    let (scroll, inner) = (fit[0].as_f64().unwrap_or(0.0), fit[1].as_f64().unwrap_or(0.0));
    assert!(scroll <= inner + 1.0, "page wider than a narrow window: {fit}");
    assert!(fit[2].as_f64().unwrap_or(f64::MAX) <= inner, "chart wider than a narrow window: {fit}");

    rig.browser.close().await?;
    rig.server.shutdown().await?;
    Ok(())
}
