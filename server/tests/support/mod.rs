//! Helpers for the Shopify integration tests: a fake Shopify (OAuth token endpoint
//! and Admin GraphQL API, built to Shopify's documented request and response
//! formats), HMACs computed by `openssl` (independently of the code under test),
//! session tokens, a server configured for the app, and raw storefront batches.
#![allow(dead_code)]

pub mod fake_shopify;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine as _;
use lummmen_server::projects::Project;
use lummmen_server::{Config, ServerHandle};
use serde_json::{json, Value};

pub const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef";
pub const SECRET: &str = "shpss_test_secret";
pub const PREVIOUS_SECRET: &str = "shpss_previous_secret";
pub const OPERATOR: &str = "operator-token-for-tests";
pub const APP_URL: &str = "https://app.lummmen.test";
pub const TOKEN_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
pub const SHOP: &str = "a-shop.myshopify.com";
pub const SITE: u32 = 7;

// Paths, temporary directories and the test ClickHouse are the same for every
// integration test of the server.
#[path = "../common/mod.rs"]
pub mod common;
#[allow(unused_imports)]
pub use common::{
    clickhouse_installed, clickhouse_number, clickhouse_sql, clickhouse_url, free_port, page_batch,
    postgres_database, postgres_url, private_replicas, private_shards, root, server_ports, unique_database,
    zookeeper_installed, PrivateClickHouse, PrivateZooKeeper, TempDir, TestShards,
};

/// HMAC-SHA256 of `msg` under `key`, computed by `openssl dgst`.
pub fn openssl_hmac(key: &str, msg: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key, "-binary"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().expect("stdin").write_all(msg).expect("write");
    let out = child.wait_with_output().expect("openssl output");
    assert!(out.status.success(), "openssl failed");
    assert_eq!(out.stdout.len(), 32);
    out.stdout
}

pub fn openssl_hmac_hex(key: &str, msg: &str) -> String {
    hex::encode(openssl_hmac(key, msg.as_bytes()))
}

pub fn openssl_hmac_b64(key: &str, body: &[u8]) -> String {
    B64.encode(openssl_hmac(key, body))
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// A session token as App Bridge's `shopify.idToken()` gives it, signed by openssl.
pub fn jwt(secret: &str, header: &Value, claims: &Value) -> String {
    let signed = format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
    let sig = openssl_hmac(secret, signed.as_bytes());
    format!("{signed}.{}", B64URL.encode(sig))
}

/// Claims of a valid session token for `shop`.
pub fn claims(shop: &str) -> Value {
    let t = now();
    json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": CLIENT_ID,
           "sub": "4242", "exp": t + 60, "nbf": t - 5, "iat": t - 5, "jti": "6b5f3e9a", "sid": "e1c2"})
}

pub fn session_token(shop: &str) -> String {
    jwt(SECRET, &json!({"alg": "HS256", "typ": "JWT"}), &claims(shop))
}

/// A server configured as the Shopify app, talking to `fake` as Shopify.
pub fn app_config(dir: &Path, fake_url: &str) -> Config {
    let mut c = Config::for_tests(root(), dir.to_path_buf());
    c.shopify.shopify_client_id = Some(CLIENT_ID.into());
    c.shopify.shopify_client_secret = Some(SECRET.into());
    c.shopify.shopify_previous_secret = Some(PREVIOUS_SECRET.into());
    c.shopify.app_url = Some(APP_URL.into());
    c.shopify.shopify_base_url = Some(fake_url.into());
    c.shopify.token_key = Some(TOKEN_KEY.into());
    c.shopify.token_key_id = Some("k1".into());
    c.shopify.operator_token = Some(OPERATOR.into());
    c.database_url = meta_database(dir);
    c
}

/// With `LUMMMEN_TEST_META=postgres`, the metadata store of the server using
/// `dir` is a PostgreSQL database of its own (made once per directory, so a
/// restart on the same directory finds the same data), so the Shopify tests
/// run on PostgreSQL as they do on the SQLite files.
pub fn meta_database(dir: &Path) -> Option<String> {
    if std::env::var("LUMMMEN_TEST_META").as_deref() != Ok("postgres") {
        return None;
    }
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut h);
    let name = format!("lummmen_test_meta_{:016x}", h.finish());
    let admin = postgres_url();
    let base = admin.rsplit_once('/').map_or(admin.clone(), |(b, _)| b.to_string());
    let url = format!("{base}/{name}");
    // Its own thread and runtime: callers are inside the test's runtime.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let (c, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("connect");
            let task = tokio::spawn(conn);
            let exists = c
                .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
                .await
                .expect("query")
                .is_some();
            if !exists {
                c.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
            }
            drop(c);
            let _ = task.await;
        })
    })
    .join()
    .expect("database made");
    Some(url)
}

/// Starts the server and links `shop` to project `site`.
pub async fn start(config: Config, site: u32, shop: &str) -> ServerHandle {
    let server = ServerHandle::start(config).await.expect("server starts");
    if std::env::var("LUMMMEN_TEST_META").as_deref() == Ok("postgres") {
        assert_eq!(server.meta().name(), "postgres", "LUMMMEN_TEST_META=postgres runs on PostgreSQL");
    }
    server
        .meta()
        .upsert_project(&Project { id: site, name: "A shop".into(), sample: 50, shops: vec![shop.into()] })
        .await
        .expect("project");
    server
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A raw tracker batch (wire JSON) with `n` page views.
pub fn page_views(site: u32, visitor: &str, batch: &str, n: usize) -> Value {
    let t: u64 = 1_763_800_000_000;
    let events: Vec<Value> = (0..n)
        .map(|i| {
            json!({"k": "pv", "t": t + i as u64, "u": format!("https://{SHOP}/products/{i}"), "r": "",
                   "ti": "Product", "vw": 1280, "vh": 720, "sw": 1920, "sh": 1080, "tz": -60})
        })
        .collect();
    json!({"s": site, "v": visitor, "b": batch, "t": t + 5000, "ss": "a1b2c3d4e5f60718",
           "pv": "0011223344556677", "e": events})
}

/// A raw pixel batch with a completed checkout naming an order and a customer.
pub fn checkout(site: u32, visitor: &str, batch: &str, order: &str, customer: Option<&str>) -> Value {
    let mut e = json!({"k": "chk", "t": 1_763_800_190_000u64, "u": format!("https://{SHOP}/checkouts/c/x/thank-you"),
                       "oid": order, "cur": "EUR", "tot": 45.58, "sub": 39.98, "tax": 7.6, "shp": 5.0,
                       "dis": 0.0, "it": [{"q": 1, "p": {"sku": "TEE-M", "n": "Tee", "pr": 19.99}}]});
    if let Some(c) = customer {
        e["cus"] = json!(c);
    }
    json!({"s": site, "v": visitor, "b": batch, "t": 1_763_800_200_000u64, "e": [e]})
}

/// Posts a batch to `/collect` as the browser does; asserts it was accepted.
pub async fn collect(server: &ServerHandle, batch: &Value) {
    let resp = client()
        .post(format!("{}/collect", server.url()))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(batch.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200, "collect: {}", resp.text().await.unwrap_or_default());
}

/// Delivers a webhook as Shopify does (headers per Shopify's documentation).
pub async fn deliver(
    server: &ServerHandle,
    topic: &str,
    shop: &str,
    webhook_id: &str,
    body: &str,
    secret: &str,
) -> reqwest::Response {
    client()
        .post(format!("{}/webhooks/shopify", server.url()))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", openssl_hmac_b64(secret, body.as_bytes()))
        .header("X-Shopify-Shop-Domain", shop)
        .header("X-Shopify-API-Version", "2025-10")
        .header("X-Shopify-Webhook-Id", webhook_id)
        .header("X-Shopify-Event-Id", format!("evt-{webhook_id}"))
        .header("X-Shopify-Triggered-At", "2026-11-22T04:30:00.000000000Z")
        .body(body.to_string())
        .send()
        .await
        .expect("deliver")
}

/// `GET` with a bearer token; answers status and JSON body.
pub async fn get_json(server: &ServerHandle, path: &str, token: &str) -> (u16, Value) {
    let r = client().get(format!("{}{path}", server.url())).bearer_auth(token).send().await.expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `POST` with a bearer token and JSON body; answers status and JSON body.
pub async fn post_json(server: &ServerHandle, path: &str, token: &str, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}{path}", server.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
