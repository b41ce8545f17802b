//! Helpers for the heatmap overlay's end-to-end test: the server as the
//! Shopify app over SQLite, with an operator token to read heatmaps directly;
//! overlay tokens signed here, independently of the server's code, as the
//! README documents them; and what the overlay on a storefront page drew.

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use lummmen_server::Config;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::root;
use crate::storefront::{CLIENT_ID, CLIENT_SECRET};

pub const OPERATOR: &str = "e2e-operator-token";
/// The demo project's site id.
pub const DEMO_SITE: u32 = 1;

/// The server as the Shopify app (the e2e client id and secret), events in
/// SQLite, the demo project seeded, operators allowed.
pub fn app_config(data_dir: std::path::PathBuf) -> Config {
    let mut c = Config::for_tests(&root(), data_dir);
    c.shopify.shopify_client_id = Some(CLIENT_ID.into());
    c.shopify.shopify_client_secret = Some(CLIENT_SECRET.into());
    c.shopify.operator_token = Some(OPERATOR.into());
    c
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// An overlay token for `site` and `shop` expiring at `exp` (Unix seconds),
/// signed under the overlay key of `secret`: HMAC-SHA256 of
/// `lmo1.<base64url payload>` under HMAC-SHA256(secret, "lummmen heatmap overlay v1").
pub fn overlay_token_with(secret: &str, site: u32, shop: &str, exp: i64) -> String {
    let key = hmac_sha256(secret.as_bytes(), b"lummmen heatmap overlay v1");
    let signed =
        format!("lmo1.{}", B64URL.encode(json!({"site": site, "shop": shop, "exp": exp}).to_string()));
    format!("{signed}.{}", B64URL.encode(hmac_sha256(&key, signed.as_bytes())))
}

/// A genuine overlay token of the e2e app.
pub fn overlay_token(site: u32, shop: &str, exp: i64) -> String {
    overlay_token_with(CLIENT_SECRET, site, shop, exp)
}

/// `GET /api/heatmap` of the demo site as an operator.
pub async fn heatmap(base: &str, page: &str, bucket: &str) -> anyhow::Result<Value> {
    let now = lummmen_server::clock::now_ms();
    let url = format!("{base}/api/heatmap");
    let resp = reqwest::Client::new()
        .get(url)
        .query(&[
            ("site", DEMO_SITE.to_string()),
            ("page", page.into()),
            ("bucket", bucket.into()),
            ("from", (now - 30 * 86_400_000).to_string()),
            ("to", (now + 60_000).to_string()),
            ("mode", "all".into()),
        ])
        .bearer_auth(OPERATOR)
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("GET /api/heatmap ({page}, {bucket}): HTTP {status}: {text}");
    }
    serde_json::from_str(&text).context("heatmap JSON")
}

/// The demo storefront's elements the test clicks, by name: a CSS selector
/// of the test's own, not the tracker's.
pub const TARGETS: [(&str, &str); 6] = [
    ("add1", ".product:nth-child(1) .add"),
    ("add2", ".product:nth-child(2) .add"),
    ("add3", ".product:nth-child(3) .add"),
    ("badge2", ".product:nth-child(2) .badge"),
    ("title", "h1"),
    ("story", ".story article:nth-child(1)"),
];

/// JS that answers what the overlay drew, each point and marker named by the
/// target its selector finds on this page (or `null`), with whether it lies
/// inside that element's box and its offset from the box's centre, in page
/// coordinates now.
pub fn drawn_script() -> String {
    let targets: serde_json::Map<String, Value> =
        TARGETS.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect();
    format!(
        r#"
const targets = {targets};
const o = window.lummmenOverlay;
const box = (el) => {{ const r = el.getBoundingClientRect(); return {{x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}}; }};
const name = (sel) => {{ const el = document.querySelector(sel); return el && Object.keys(targets).find((k) => document.querySelector(targets[k]) === el) || null; }};
const points = o.points().map((p) => {{
  const el = document.querySelector(p.selector);
  const b = el ? box(el) : null;
  return {{target: name(p.selector), selector: p.selector, x: p.x, y: p.y, count: p.count, box: b,
    inside: !!b && p.x >= b.x - 0.5 && p.x <= b.x + b.w + 0.5 && p.y >= b.y - 0.5 && p.y <= b.y + b.h + 0.5,
    dx: b ? p.x - (b.x + b.w / 2) : null, dy: b ? p.y - (b.y + b.h / 2) : null}};
}});
const markers = o.markers().map((m) => ({{target: name(m.selector), kind: m.kind, count: m.count}}));
return {{state: o.state(), width: innerWidth, points, markers, moves: o.moves().length, scroll: o.scroll(), missing: o.missing()}};
"#,
        targets = Value::Object(targets)
    )
}
