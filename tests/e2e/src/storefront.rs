//! Helpers for the storefront-to-admin test: the server as the Shopify app over a
//! fresh ClickHouse database, session tokens and webhook signatures computed here
//! (independently of the server's code), direct ClickHouse reads over HTTP, and
//! pixels of a WebDriver screenshot.

use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{bail, Context};
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use lummmen_server::Config;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::root;

pub const CLIENT_ID: &str = "e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0";
pub const CLIENT_SECRET: &str = "shpss_e2e_client_secret";
/// The demo project's shop (site id 1), as `--seed-demo` creates it.
pub const DEMO_SHOP: &str = "demo-shop.myshopify.com";

/// The ClickHouse the test command started; a clear failure when it is missing.
pub fn clickhouse_url() -> anyhow::Result<String> {
    std::env::var("LUMMMEN_TEST_CLICKHOUSE_URL").context(
        "LUMMMEN_TEST_CLICKHOUSE_URL is not set: start ClickHouse with `scripts/clickhouse.sh start` and \
         export the URL it prints (scripts/test.sh does both)",
    )
}

/// A database name no other run uses.
pub fn fresh_database(label: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("lummmen_e2e_{label}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// The server as the Shopify app (client id and secret), the demo project seeded,
/// events in `database` on the test ClickHouse.
pub fn app_config(data_dir: std::path::PathBuf, clickhouse: &str, database: &str) -> Config {
    let mut c = Config::for_tests(&root(), data_dir).with_clickhouse(clickhouse, database);
    c.shopify.shopify_client_id = Some(CLIENT_ID.into());
    c.shopify.shopify_client_secret = Some(CLIENT_SECRET.into());
    c
}

fn hmac_sha256(key: &str, msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// The server's clock: a test that sets it gets session tokens of that time.
fn now_secs() -> i64 {
    lummmen_server::clock::now_secs()
}

pub fn session_token(shop: &str) -> String {
    session_token_at(shop, now_secs())
}

/// A session token issued at `t` (seconds): from a minute before now on, expired.
pub fn session_token_at(shop: &str, t: i64) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
                        "aud": CLIENT_ID, "sub": "77", "exp": t + 60, "nbf": t - 1, "iat": t - 1,
                        "jti": format!("e2e-{t}"), "sid": "e2e"});
    let signed = format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
    let sig = hmac_sha256(CLIENT_SECRET, signed.as_bytes());
    format!("{signed}.{}", B64URL.encode(sig))
}

/// Deliveries made so far: each gets a delivery id of its own, as from Shopify
/// (the server ignores a delivery id it has seen).
static DELIVERIES: AtomicU32 = AtomicU32::new(0);

/// Delivers a webhook as Shopify does: JSON body, `X-Shopify-Hmac-Sha256` = base64
/// HMAC-SHA256 of the raw body under the client secret.
pub async fn deliver_webhook(base: &str, topic: &str, shop: &str, body: &Value) -> anyhow::Result<Value> {
    let raw = body.to_string();
    let resp = reqwest::Client::new()
        .post(format!("{base}/webhooks/shopify"))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", B64.encode(hmac_sha256(CLIENT_SECRET, raw.as_bytes())))
        .header("X-Shopify-Shop-Domain", shop)
        .header("X-Shopify-API-Version", "2025-10")
        .header(
            "X-Shopify-Webhook-Id",
            format!("e2e-{}-{}", now_secs(), DELIVERIES.fetch_add(1, Ordering::SeqCst)),
        )
        .header("X-Shopify-Triggered-At", "2026-11-22T05:00:00.000000000Z")
        .body(raw)
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("webhook {topic}: HTTP {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Rows of a query run straight on ClickHouse (not through the server).
pub async fn clickhouse_rows(url: &str, database: &str, sql: &str) -> anyhow::Result<Vec<Value>> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/?database={database}"))
        .body(format!("{sql} FORMAT JSONEachRow"))
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        bail!("ClickHouse: HTTP {status}: {text}");
    }
    text.lines().map(|l| serde_json::from_str(l).context("ClickHouse row")).collect()
}

/// Drops a test's database once the test is done with it.
pub async fn drop_database(url: &str, database: &str) -> anyhow::Result<()> {
    let resp =
        reqwest::Client::new().post(url).body(format!("DROP DATABASE IF EXISTS {database}")).send().await?;
    if !resp.status().is_success() {
        bail!("dropping {database}: HTTP {}", resp.status());
    }
    Ok(())
}

/// An RGBA screenshot, decoded.
#[derive(Debug)]
pub struct Screenshot {
    pub width: u32,
    pub height: u32,
    rgba: Vec<u8>,
}

impl Screenshot {
    pub fn decode(png_bytes: &[u8]) -> anyhow::Result<Self> {
        let mut decoder = png::Decoder::new(png_bytes);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf)?;
        let channels = info.color_type.samples();
        let rgba = buf[..info.buffer_size()]
            .chunks(channels)
            .flat_map(|p| match channels {
                4 => [p[0], p[1], p[2], p[3]],
                3 => [p[0], p[1], p[2], 255],
                _ => [p[0], p[0], p[0], 255],
            })
            .collect();
        Ok(Self { width: info.width, height: info.height, rgba })
    }

    /// `[r, g, b, a]` at a pixel.
    pub fn at(&self, x: u32, y: u32) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = ((y * self.width + x) * 4) as usize;
        Some([self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]])
    }
}

/// Whether a colour is heat as the admin page draws it (yellow to red, no blue),
/// as opposed to its pale grey page background.
pub fn is_hot([r, g, b, _]: [u8; 4]) -> bool {
    r >= 200 && b <= 90 && g <= 230
}

/// The admin page's background colour, give or take antialiasing.
pub fn is_background([r, g, b, _]: [u8; 4]) -> bool {
    [r.abs_diff(243), g.abs_diff(244), b.abs_diff(246)].iter().all(|d| *d <= 6)
}
