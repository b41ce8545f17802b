//! Figures for the Shopify app backend (BENCHMARKS.md, "Shopify app backend"):
//! session-token and query-HMAC verification per call, and webhook delivery
//! latency over loopback HTTP against the real server with SQLite (a new ticket,
//! and a duplicate delivery), with `/healthz` measured in the same run as the
//! baseline for ratios.
//!
//! `cargo run --release -p lummmen-server --example shopify_bench`

use std::time::{Duration, Instant};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use lummmen_server::shopify::oauth::hmac as query_hmac;
use lummmen_server::shopify::session_token;
use lummmen_server::{Config, ServerHandle};
use serde_json::json;
use sha2::Sha256;

const SECRET: &str = "bench-secret";
const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef";

fn per_call(n: u32, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    (percentile(&d, 0.5), percentile(&d, 0.99))
}

fn b64_hmac(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
    let claims = json!({"iss": "https://a-shop.myshopify.com/admin", "dest": "https://a-shop.myshopify.com",
                        "aud": CLIENT_ID, "sub": "1", "exp": now + 60, "nbf": now - 5, "iat": now - 5});
    let token = session_token::sign(SECRET.as_bytes(), &json!({"alg": "HS256", "typ": "JWT"}), &claims);
    let jwt = per_call(50_000, || {
        let ok = session_token::verify(&token, &[SECRET.as_bytes()], CLIENT_ID, now);
        assert!(ok.is_ok());
    });
    let params = query_hmac::parse(
        "code=abc&host=YWRtaW4&shop=a-shop.myshopify.com&state=0123456789abcdef&timestamp=1337178173",
    );
    let mut signed = params.clone();
    signed.insert("hmac".into(), query_hmac::sign(SECRET.as_bytes(), &query_hmac::message(&params)));
    let qh = per_call(50_000, || assert!(query_hmac::verify(&signed, &[SECRET.as_bytes()]).is_ok()));

    let dir = std::env::temp_dir().join(format!("lummmen-shopify-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut config = Config::for_tests(&root, dir.clone());
    config.shopify.shopify_client_id = Some(CLIENT_ID.into());
    config.shopify.shopify_client_secret = Some(SECRET.into());
    let server = ServerHandle::start(config).await?;
    let client = reqwest::Client::new();
    let url = server.url();

    let n = 500;
    let mut health = Vec::with_capacity(n);
    let mut fresh = Vec::with_capacity(n);
    let mut dup = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        client.get(format!("{url}/healthz")).send().await?.error_for_status()?;
        health.push(t.elapsed());
        let body = json!({"shop_id": 1, "shop_domain": "a-shop.myshopify.com", "orders_requested": [i],
                          "customer": {"id": i}, "data_request": {"id": i}})
        .to_string();
        let sig = b64_hmac(body.as_bytes());
        for (id, out) in [(format!("wh-{i}"), &mut fresh), (format!("wh-{i}"), &mut dup)] {
            let t = Instant::now();
            client
                .post(format!("{url}/webhooks/shopify"))
                .header("X-Shopify-Topic", "customers/data_request")
                .header("X-Shopify-Shop-Domain", "a-shop.myshopify.com")
                .header("X-Shopify-Webhook-Id", id)
                .header("X-Shopify-Hmac-Sha256", &sig)
                .body(body.clone())
                .send()
                .await?
                .error_for_status()?;
            out.push(t.elapsed());
        }
    }
    server.shutdown().await?;
    let _ = std::fs::remove_dir_all(&dir);

    let (h50, h99) = summary(health);
    let (f50, f99) = summary(fresh);
    let (d50, d99) = summary(dup);
    println!("session token verify (HS256, claims): {:.2} µs/call", jwt.as_secs_f64() * 1e6);
    println!("OAuth query hmac verify (5 params):   {:.2} µs/call", qh.as_secs_f64() * 1e6);
    println!("GET /healthz over loopback ({n}):      p50 {:.3} ms  p99 {:.3} ms", ms(h50), ms(h99));
    println!(
        "webhook, new ticket (fsync'd) ({n}):   p50 {:.3} ms  p99 {:.3} ms  (p50 {:.1}x healthz)",
        ms(f50),
        ms(f99),
        ms(f50) / ms(h50)
    );
    println!(
        "webhook, duplicate delivery ({n}):     p50 {:.3} ms  p99 {:.3} ms  (p50 {:.1}x healthz)",
        ms(d50),
        ms(d99),
        ms(d50) / ms(h50)
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
