//! `POST /api/config` on the real server: a valid session token gets its shop's
//! project; every bad token gets the same 401, byte for byte. Tokens are signed
//! with `openssl`, not with the code under test.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use serde_json::{json, Value};
use support::*;

const GENERIC_401: &str = r#"{"error":"unauthorized","detail":"missing or invalid credentials"}"#;

async fn server() -> (TempDir, lummmen_server::ServerHandle) {
    let dir = TempDir::new("token");
    let config = app_config(&dir.0, "http://127.0.0.1:9");
    let server = start(config, SITE, SHOP).await;
    (dir, server)
}

async fn call(server: &lummmen_server::ServerHandle, auth: Option<String>) -> (u16, String, String) {
    let mut req = client().post(format!("{}/api/config", server.url()));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    if status == 401 {
        let retry = r.headers().get("x-shopify-retry-invalid-session-request");
        assert_eq!(retry.and_then(|v| v.to_str().ok()), Some("1"), "App Bridge retries a 401 once");
    }
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ctype, r.text().await.expect("body"))
}

async fn assert_generic_401(auth: Option<String>) {
    let (_dir, server) = server().await;
    let (status, ctype, body) = call(&server, auth).await;
    assert_eq!(status, 401);
    assert_eq!(ctype, "application/json");
    assert_eq!(body, GENERIC_401);
}

fn bearer(token: String) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn with(change: impl FnOnce(&mut Value)) -> String {
    let mut c = claims(SHOP);
    change(&mut c);
    jwt(SECRET, &json!({"alg": "HS256", "typ": "JWT"}), &c)
}

#[tokio::test]
async fn valid_token_gets_the_shops_project_config() {
    let (_dir, server) = server().await;
    let (status, _, body) = call(&server, bearer(session_token(SHOP))).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v, json!({"matomoId": SITE, "sample": 50, "name": "A shop"}));
}

#[tokio::test]
async fn token_signed_with_the_previous_secret_is_accepted_during_rotation() {
    let (_dir, server) = server().await;
    let token = jwt(PREVIOUS_SECRET, &json!({"alg": "HS256", "typ": "JWT"}), &claims(SHOP));
    let (status, _, _) = call(&server, bearer(token)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn rejects_missing_authorization_header() {
    assert_generic_401(None).await;
}

#[tokio::test]
async fn rejects_non_bearer_authorization() {
    assert_generic_401(Some(format!("Basic {}", session_token(SHOP)))).await;
}

#[tokio::test]
async fn rejects_malformed_token() {
    assert_generic_401(bearer("not.a.jwt".into())).await;
    assert_generic_401(bearer("garbage".into())).await;
}

#[tokio::test]
async fn rejects_alg_none() {
    let unsigned = format!(
        "{}.{}.",
        B64URL.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        B64URL.encode(claims(SHOP).to_string())
    );
    assert_generic_401(bearer(unsigned)).await;
}

#[tokio::test]
async fn rejects_algorithms_other_than_hs256() {
    assert_generic_401(bearer(jwt(SECRET, &json!({"alg": "HS512", "typ": "JWT"}), &claims(SHOP)))).await;
    assert_generic_401(bearer(jwt(SECRET, &json!({"alg": "RS256", "typ": "JWT"}), &claims(SHOP)))).await;
}

#[tokio::test]
async fn rejects_token_with_bad_signature() {
    assert_generic_401(bearer(jwt("not-our-secret", &json!({"alg": "HS256"}), &claims(SHOP)))).await;
}

#[tokio::test]
async fn rejects_expired_token() {
    assert_generic_401(bearer(with(|c| c["exp"] = json!(now() - 11)))).await;
}

#[tokio::test]
async fn rejects_token_not_yet_valid() {
    assert_generic_401(bearer(with(|c| c["nbf"] = json!(now() + 60)))).await;
}

#[tokio::test]
async fn rejects_token_with_wrong_audience() {
    assert_generic_401(bearer(with(|c| c["aud"] = json!("another-app-client-id")))).await;
}

#[tokio::test]
async fn rejects_token_with_malformed_dest_or_iss() {
    assert_generic_401(bearer(with(|c| c["dest"] = json!("https://evil.example.com")))).await;
    assert_generic_401(bearer(with(|c| c["iss"] = json!("https://other-shop.myshopify.com/admin")))).await;
}

#[tokio::test]
async fn with_no_auto_projects_rejects_token_of_a_shop_without_a_project() {
    let dir = TempDir::new("token-no-auto");
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.shopify.no_auto_projects = true;
    let server = start(config, SITE, SHOP).await;
    let token = jwt(SECRET, &json!({"alg": "HS256"}), &claims("unknown-shop.myshopify.com"));
    let (status, _, body) = call(&server, bearer(token)).await;
    assert_eq!((status, body.as_str()), (401, GENERIC_401));
    assert_eq!(server.meta().project_of_shop("unknown-shop.myshopify.com").await.expect("read"), None);
}

#[tokio::test]
async fn the_first_valid_token_of_a_shop_without_a_project_creates_it() {
    let (_dir, server) = server().await;
    let token = jwt(SECRET, &json!({"alg": "HS256"}), &claims("new-shop.myshopify.com"));
    let (status, _, body) = call(&server, bearer(token.clone())).await;
    assert_eq!(status, 200, "{body}");
    let config: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!((config["name"].as_str(), config["sample"].as_u64()), (Some("new-shop"), Some(100)));
    assert_eq!(config["matomoId"].as_u64(), Some(u64::from(SITE) + 1), "the next free site id");
    let (status, _, again) = call(&server, bearer(token)).await;
    assert_eq!((status, again), (200, body), "one project, found the second time");
}
