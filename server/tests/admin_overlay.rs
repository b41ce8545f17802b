//! The heatmap overlay's link and token on the real server: `POST
//! /api/heatmap/overlay` answers the shop's storefront page with a token in
//! the fragment (the demo shop's on this server), signed as documented
//! (checked here with openssl, not the server's code); the token reads the
//! heatmap endpoints of its own site, cross-origin and without cookies, and
//! nothing else; an expired, forged or orphaned token is the generic 401.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use lummmen_server::projects::Project;
use lummmen_server::{Config, ServerHandle};
use serde_json::{json, Value};
use support::*;

const UNAUTHORIZED: &str = r#"{"error":"unauthorized","detail":"missing or invalid credentials"}"#;
const DEMO_SHOP: &str = "demo-shop.myshopify.com";
/// A heatmap query of a page of the shop.
const HEATMAP: &str = "/api/heatmap?page=%2Fproducts%2Ftee&bucket=desktop";

/// HMAC-SHA256 under a binary key, by openssl.
fn openssl_hmac_hexkey(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-mac",
            "HMAC",
            "-macopt",
            &format!("hexkey:{}", hex::encode(key)),
            "-binary",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    child.stdin.take().expect("stdin").write_all(msg).expect("write");
    let out = child.wait_with_output().expect("openssl output");
    assert!(out.status.success() && out.stdout.len() == 32, "openssl failed");
    out.stdout
}

/// The signature of an overlay token's `lmo1.<payload>`, as the README
/// documents it: HMAC-SHA256 under HMAC-SHA256(client secret, label).
fn overlay_signature(secret: &str, signed: &str) -> String {
    let key = openssl_hmac(secret, b"lummmen heatmap overlay v1");
    B64URL.encode(openssl_hmac_hexkey(&key, signed.as_bytes()))
}

/// An overlay token of `payload`, signed under `secret`'s overlay key.
fn overlay_token(secret: &str, payload: &Value) -> String {
    let signed = format!("lmo1.{}", B64URL.encode(payload.to_string()));
    format!("{signed}.{}", overlay_signature(secret, &signed))
}

async fn get(server: &ServerHandle, path: &str, token: &str, origin: Option<&str>) -> reqwest::Response {
    let mut req = client().get(format!("{}{path}", server.url())).bearer_auth(token);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    req.send().await.expect("get")
}

async fn assert_unauthorized(server: &ServerHandle, path: &str, token: &str, why: &str) {
    let r = get(server, path, token, Some("https://shop.example")).await;
    assert_eq!(r.status(), 401, "{why}: {path}");
    assert_eq!(
        r.headers().get("access-control-allow-origin").map(|v| v.as_bytes()),
        Some(&b"*"[..]),
        "{why}"
    );
    assert_eq!(r.text().await.expect("body"), UNAUTHORIZED, "{why}");
}

#[tokio::test]
async fn an_overlay_link_opens_the_shop_page_with_a_token_that_reads_its_sites_heatmap_only() {
    let dir = TempDir::new("overlay");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    server
        .projects()
        .upsert(&Project { id: 8, name: "B".into(), sample: 100, shops: vec!["b-shop.myshopify.com".into()] })
        .expect("project");
    let session = session_token(SHOP);

    let (status, body) =
        post_json(&server, "/api/heatmap/overlay", &session, json!({"page": "/products/tee"})).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("token").to_string();
    assert_eq!(body["url"], format!("https://{SHOP}/products/tee#lummmen-heatmap={token}"), "{body}");
    assert_eq!(body["site"], SITE);
    let exp = body["expiresAt"].as_i64().expect("expiresAt");
    assert!((now() + 590..=now() + 610).contains(&exp), "ten minutes: {body}");

    // The documented format, signed under the documented key.
    let mut parts = token.split('.');
    let (prefix, payload) = (parts.next().expect("prefix"), parts.next().expect("payload"));
    assert_eq!(prefix, "lmo1");
    let claims: Value = serde_json::from_slice(&B64URL.decode(payload).expect("base64url")).expect("json");
    assert_eq!(claims, json!({"site": SITE, "shop": SHOP, "exp": exp}));
    let sig = token.rsplit('.').next().expect("signature");
    assert_eq!(overlay_signature(SECRET, &format!("lmo1.{payload}")), sig, "signed as documented");

    // It reads the heatmap endpoints of its site.
    let (status, pages) = get_json(&server, "/api/heatmap/pages", &token).await;
    assert_eq!((status, pages["site"].as_u64()), (200, Some(u64::from(SITE))), "{pages}");
    let (status, map) = get_json(&server, HEATMAP, &token).await;
    assert_eq!(status, 200, "{map}");
    let (status, _) = get_json(&server, &format!("{HEATMAP}&site={SITE}"), &token).await;
    assert_eq!(status, 200);
    let (status, body) = get_json(&server, &format!("{HEATMAP}&site=8"), &token).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "another site: {body}");
    // A token of the previous client secret still reads, while it rotates.
    let (status, _) = get_json(&server, "/api/heatmap/pages", &overlay_token(PREVIOUS_SECRET, &claims)).await;
    assert_eq!(status, 200);

    // Nothing else: not the dashboard, tickets, settings, nor another link.
    for path in ["/api/stats?from=2026-01-01&to=2026-01-02", "/api/gdpr/tickets", "/api/status"] {
        let (status, _) = get_json(&server, path, &token).await;
        assert_eq!(status, 401, "{path}");
    }
    for path in ["/api/config", "/api/heatmap/overlay", "/api/gdpr/tickets/1/resolve"] {
        let (status, _) = post_json(&server, path, &token, json!({"page": "/"})).await;
        assert_eq!(status, 401, "{path}");
    }

    // Expired, forged, signed with the secret itself or another one: 401.
    let expired = overlay_token(SECRET, &json!({"site": SITE, "shop": SHOP, "exp": now() - 1}));
    assert_unauthorized(&server, HEATMAP, &expired, "expired").await;
    let other_site = B64URL.encode(json!({"site": 8, "shop": SHOP, "exp": exp}).to_string());
    assert_unauthorized(&server, HEATMAP, &format!("lmo1.{other_site}.{sig}"), "payload changed").await;
    let with_secret = format!(
        "lmo1.{payload}.{}",
        B64URL.encode(openssl_hmac(SECRET, format!("lmo1.{payload}").as_bytes()))
    );
    assert_unauthorized(&server, HEATMAP, &with_secret, "signed with the client secret itself").await;
    let foreign = overlay_token("someone else's secret", &claims);
    assert_unauthorized(&server, "/api/heatmap/pages", &foreign, "another secret").await;
    assert_unauthorized(&server, "/api/heatmap/pages", "lmo1.garbage", "malformed").await;

    // Merchants only mint links, for a page of their shop.
    let (status, _) = post_json(&server, "/api/heatmap/overlay", OPERATOR, json!({"page": "/"})).await;
    assert_eq!(status, 401, "operators have no storefront");
    let r = client()
        .post(format!("{}/api/heatmap/overlay", server.url()))
        .json(&json!({"page": "/"}))
        .send()
        .await;
    assert_eq!(r.expect("post").status(), 401);
    for bad in [
        json!({"page": "//evil.example/x"}),
        json!({"page": "products/tee"}),
        json!({"page": "/products/*"}),
        json!({"page": "/a#b"}),
        json!({"page": "/a b"}),
        json!({}),
        json!({"page": 3}),
    ] {
        let (status, body) = post_json(&server, "/api/heatmap/overlay", &session, bad.clone()).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad}: {body}");
    }

    // A shop that left the site takes its tokens with it.
    server
        .projects()
        .upsert(&Project { id: SITE, name: "A shop".into(), sample: 50, shops: vec![] })
        .expect("upsert");
    assert_unauthorized(&server, "/api/heatmap/pages", &token, "the shop left the site").await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn the_heatmap_endpoints_answer_any_origin_without_cookies_and_nothing_else_does() {
    let dir = TempDir::new("overlay-cors");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let header = |r: &reqwest::Response, name: &str| {
        r.headers().get(name).map(|v| v.to_str().unwrap_or("?").to_ascii_lowercase())
    };
    for path in ["/api/heatmap", "/api/heatmap/pages"] {
        let r = client()
            .request(reqwest::Method::OPTIONS, format!("{}{path}", server.url()))
            .header("origin", "https://www.shop.example")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .expect("preflight");
        assert_eq!(r.status(), 204, "{path}");
        assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("*"), "{path}");
        assert!(header(&r, "access-control-allow-methods").is_some_and(|m| m.contains("get")), "{path}");
        assert!(header(&r, "access-control-allow-headers").is_some_and(|h| h.contains("authorization")));
        assert_eq!(header(&r, "access-control-allow-credentials"), None, "never with cookies");
    }
    let (_, body) =
        post_json(&server, "/api/heatmap/overlay", &session_token(SHOP), json!({"page": "/"})).await;
    let token = body["token"].as_str().expect("token");
    let r = get(&server, "/api/heatmap/pages", token, Some("https://www.shop.example")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(header(&r, "access-control-allow-credentials"), None);
    assert!(r.headers().get("set-cookie").is_none());

    // The admin's own endpoints stay same-origin.
    let r = get(&server, "/api/gdpr/tickets", &session_token(SHOP), Some("https://www.shop.example")).await;
    assert_eq!((r.status().as_u16(), header(&r, "access-control-allow-origin")), (200, None));
    let r = client()
        .post(format!("{}/api/heatmap/overlay", server.url()))
        .bearer_auth(session_token(SHOP))
        .header("origin", "https://www.shop.example")
        .json(&json!({"page": "/"}))
        .send()
        .await
        .expect("post");
    assert_eq!((r.status().as_u16(), header(&r, "access-control-allow-origin")), (200, None));
    server.shutdown().await.expect("shutdown");
}

/// The demo shop's link to `/demo/`, its token replaced by `TOKEN`, asked with
/// `origin` (if any); and the server's URL.
async fn demo_link(config: Config, origin: Option<&str>) -> (String, String) {
    let server = ServerHandle::start(config).await.expect("server");
    let mut req = client()
        .post(format!("{}/api/heatmap/overlay", server.url()))
        .bearer_auth(session_token(DEMO_SHOP))
        .json(&json!({"page": "/demo/"}));
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    let resp = req.send().await.expect("post");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    let (url, token) = (body["url"].as_str().expect("url"), body["token"].as_str().expect("token"));
    let link = url.replace(token, "TOKEN");
    let base = server.url();
    server.shutdown().await.expect("shutdown");
    (link, base)
}

#[tokio::test]
async fn the_demo_shops_link_opens_this_servers_demo_storefront() {
    let dir = TempDir::new("overlay-demo");
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.shopify.app_url = None;
    let (url, server) = demo_link(config.clone(), None).await;
    assert_eq!(url, format!("{server}/demo/#lummmen-heatmap=TOKEN"), "where the admin reached this server");
    let (url, _) = demo_link(config.clone(), Some("https://tunnel.example")).await;
    assert_eq!(url, "https://tunnel.example/demo/#lummmen-heatmap=TOKEN", "the admin page's origin");
    let (url, server) = demo_link(config, Some("null")).await;
    assert_eq!(url, format!("{server}/demo/#lummmen-heatmap=TOKEN"), "an opaque origin names nothing");

    let dir = TempDir::new("overlay-demo-app-url");
    let (url, _) = demo_link(app_config(&dir.0, "http://127.0.0.1:9"), Some("https://tunnel.example")).await;
    assert_eq!(url, format!("{APP_URL}/demo/#lummmen-heatmap=TOKEN"), "the public URL when configured");
}

#[tokio::test]
async fn without_the_shopify_app_no_overlay_token_is_valid() {
    let dir = TempDir::new("overlay-off");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.shopify.operator_token = Some(OPERATOR.into());
    let server = ServerHandle::start(config).await.expect("server");
    let token = overlay_token(SECRET, &json!({"site": 1, "shop": DEMO_SHOP, "exp": now() + 60}));
    assert_unauthorized(&server, "/api/heatmap/pages", &token, "no client secret").await;
    let (status, _) = get_json(&server, "/api/heatmap/pages?site=1", OPERATOR).await;
    assert_eq!(status, 200, "operators still read");
    server.shutdown().await.expect("shutdown");
}
