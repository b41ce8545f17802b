//! OAuth install against a fake Shopify, with every signed query computed by
//! `openssl` from the message Shopify documents (all parameters but `hmac`,
//! decoded, sorted; `%` and `&` escaped), including values with encoded characters.

mod support;

use support::fake_shopify::FakeShopify;
use support::*;

const HOST: &str = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYS1zaG9w";
const SCOPES: &str = "write_pixels,read_customer_events,read_orders";

fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The callback query Shopify sends after approval. `extra` has characters that
/// must be decoded (`+`, `%20`, `%26`, `%25`, `%3D`, UTF-8) before signing.
fn callback_query(code: &str, state: &str, timestamp: i64, secret: &str) -> String {
    // The signed message, written out by hand: decoded values, `&` → %26, `%` → %25.
    let message = format!(
        "code={code}&extra=a b%26c=d%25e/ü&host={HOST}&shop={SHOP}&state={state}&timestamp={timestamp}"
    );
    let hmac = openssl_hmac_hex(secret, &message);
    format!(
        "code={code}&extra=a+b%26c%3Dd%25e%2F%C3%BC&hmac={hmac}&host={HOST}&shop={SHOP}&state={state}&timestamp={timestamp}"
    )
}

/// The signed query Shopify adds when the merchant opens the app in the admin.
fn open_query(shop: &str, with_session: bool, timestamp: i64) -> String {
    let session = if with_session { "&session=1b2c3d4e5f" } else { "" };
    let message = format!("embedded=1&host={HOST}{session}&shop={shop}&timestamp={timestamp}");
    let hmac = openssl_hmac_hex(SECRET, &message);
    format!("embedded=1&hmac={hmac}&host={HOST}{session}&shop={shop}&timestamp={timestamp}")
}

struct Started {
    location: String,
    state: String,
    cookie: String,
}

fn started(resp: &reqwest::Response) -> Started {
    assert_eq!(resp.status(), 302, "OAuth must start with a redirect");
    let location = resp.headers()["location"].to_str().expect("location").to_string();
    let cookie = resp.headers()["set-cookie"].to_str().expect("set-cookie").to_string();
    let state =
        location.split("state=").nth(1).expect("state param").split('&').next().expect("state").to_string();
    Started { location, state, cookie: cookie.split(';').next().expect("cookie pair").to_string() }
}

async fn setup(name: &str) -> (TempDir, FakeShopify, lummmen_server::ServerHandle) {
    let dir = TempDir::new(name);
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let server = start(app_config(&dir.0, &fake.url), SITE, SHOP).await;
    (dir, fake, server)
}

/// Runs the first install: not_found → authorize → callback → token stored.
async fn install(
    fake: &FakeShopify,
    server: &lummmen_server::ServerHandle,
    code: &str,
    scope: &str,
) -> reqwest::Response {
    let opened = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, false, now())))
        .send()
        .await
        .expect("auth");
    let s = started(&opened);
    fake.approve(SHOP, code, scope);
    client()
        .get(format!("{}/auth/callback?{}", server.url(), callback_query(code, &s.state, now(), SECRET)))
        .header("cookie", &s.cookie)
        .send()
        .await
        .expect("callback")
}

#[tokio::test]
async fn not_found_state_redirects_to_shopifys_authorize_page_with_a_browser_bound_nonce() {
    let (_dir, fake, server) = setup("notfound").await;
    let resp = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, false, now())))
        .send()
        .await
        .expect("auth");
    let s = started(&resp);
    let expected_prefix = format!("{}/admin/oauth/authorize?client_id={CLIENT_ID}&scope=", fake.url);
    assert!(s.location.starts_with(&expected_prefix), "{}", s.location);
    assert!(s.location.contains(&format!("scope={}", enc(SCOPES))));
    assert!(s.location.contains(&format!("redirect_uri={}", enc(&format!("{APP_URL}/auth/callback")))));
    assert!(!s.location.contains("grant_options"), "offline token: no per-user grant");
    assert_eq!(s.state.len(), 32);
    assert_eq!(s.cookie, format!("lummmen_oauth_state={}", s.state));
    assert!(resp.headers()["set-cookie"].to_str().expect("cookie").contains("HttpOnly"));
}

#[tokio::test]
async fn callback_stores_an_encrypted_offline_token_and_subscribes_to_app_uninstalled() {
    let (dir, fake, server) = setup("install").await;
    let resp = install(&fake, &server, "code-abc", SCOPES).await;
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], format!("https://{SHOP}/admin/apps/{CLIENT_ID}").as_str());

    let exchange = &fake.exchanges()[0];
    assert_eq!(exchange["client_id"], CLIENT_ID);
    assert_eq!(exchange["client_secret"], SECRET);
    assert_eq!(exchange["code"], "code-abc");
    assert_eq!(
        fake.subscriptions(),
        vec![(SHOP.to_string(), "APP_UNINSTALLED".to_string(), format!("{APP_URL}/webhooks/shopify"))]
    );

    // The token is in the database only sealed: not in the file, nor in its WAL.
    let token = fake.tokens_of(SHOP).pop().expect("issued token");
    let mut found_files = 0;
    for name in ["shopify.db", "shopify.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.0.join(name)) {
            found_files += 1;
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "{name} holds the token in clear"
            );
        }
    }
    assert!(found_files >= 1 || support::meta_database(&dir.0).is_some());
    let row = server.meta().shop(SHOP).await.expect("read").expect("shop row");
    let sealed = row.sealed_token.expect("a token");
    assert!(sealed.starts_with("v1:k1:"), "{sealed}");
    assert_eq!(row.status, "installed");
}

#[tokio::test]
async fn valid_state_opens_the_admin_page() {
    let (_dir, fake, server) = setup("valid").await;
    assert_eq!(install(&fake, &server, "code-valid", SCOPES).await.status(), 302);
    let resp = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, true, now())))
        .send()
        .await
        .expect("auth");
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], format!("/admin/?shop={SHOP}&host={HOST}").as_str());
    assert!(resp.headers().get("set-cookie").is_none(), "no new OAuth round");
}

#[tokio::test]
async fn invalid_state_answers_an_app_bridge_page_that_redirects_the_top_window() {
    let (_dir, fake, server) = setup("invalid").await;
    assert_eq!(install(&fake, &server, "code-invalid", SCOPES).await.status(), 302);
    fake.revoke_tokens(SHOP);
    let resp = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, true, now())))
        .send()
        .await
        .expect("auth");
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().expect("ctype").starts_with("text/html"));
    assert_eq!(
        resp.headers()["content-security-policy"],
        format!("frame-ancestors 'self' https://{SHOP} https://admin.shopify.com;").as_str()
    );
    let html = resp.text().await.expect("html");
    assert!(html.contains("https://cdn.shopify.com/shopifycloud/app-bridge.js"), "{html}");
    assert!(html.contains(&format!("<meta name=\"shopify-api-key\" content=\"{CLIENT_ID}\">")));
    assert!(html.contains(&format!("window.open(\"{APP_URL}/auth?shop={SHOP}\", \"_top\")")), "{html}");

    // Outside the admin (no `session`), the same stale token means a fresh install.
    let resp = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, false, now())))
        .send()
        .await
        .expect("auth");
    assert!(started(&resp).location.starts_with(&format!("{}/admin/oauth/authorize?", fake.url)));
}

#[tokio::test]
async fn the_top_window_lands_on_unsigned_auth_and_starts_oauth() {
    let (_dir, fake, server) = setup("toplevel").await;
    let resp = client().get(format!("{}/auth?shop={SHOP}", server.url())).send().await.expect("auth");
    assert!(started(&resp).location.starts_with(&format!("{}/admin/oauth/authorize?", fake.url)));
    let bad =
        client().get(format!("{}/auth?shop=evil.example.com", server.url())).send().await.expect("auth");
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.expect("json");
    assert_eq!(body["error"], "bad_request");
}

#[tokio::test]
async fn granted_scopes_short_of_the_required_ones_re_authorize() {
    let (_dir, fake, server) = setup("scopes").await;
    let resp = install(&fake, &server, "code-few", "write_pixels").await;
    let again = started(&resp);
    assert!(again.location.starts_with(&format!("{}/admin/oauth/authorize?", fake.url)));
    // An install from before the order webhooks, without read_orders, too.
    let resp = install(&fake, &server, "code-pixel-only", "write_pixels,read_customer_events").await;
    assert!(started(&resp).location.contains(&format!("scope={}", enc(SCOPES))));
    // And an install whose stored scopes fall short is not `valid` either.
    let opened = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, true, now())))
        .send()
        .await
        .expect("auth");
    assert_eq!(opened.status(), 200, "inside the admin: the top-window re-authorize page");
}

#[tokio::test]
async fn callback_refuses_a_tampered_query_a_wrong_secret_and_a_stale_timestamp() {
    let (_dir, fake, server) = setup("refuse").await;
    let opened = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, false, now())))
        .send()
        .await
        .expect("auth");
    let s = started(&opened);
    fake.approve(SHOP, "code-x", SCOPES);
    let callback = |q: String| {
        let url = format!("{}/auth/callback?{q}", server.url());
        let cookie = s.cookie.clone();
        async move { client().get(url).header("cookie", cookie).send().await.expect("callback") }
    };
    let tampered = callback_query("code-x", &s.state, now(), SECRET).replace("extra=a+b", "extra=a+c");
    assert_eq!(callback(tampered).await.status(), 400);
    assert_eq!(callback(callback_query("code-x", &s.state, now(), "wrong-secret")).await.status(), 400);
    let stale = callback(callback_query("code-x", &s.state, now() - 3600, SECRET)).await;
    assert_eq!(stale.status(), 400);
    let body: serde_json::Value = stale.json().await.expect("json");
    assert_eq!(body["detail"], "timestamp is stale");
    assert!(fake.exchanges().is_empty(), "no code exchange for a refused callback");
    // The untouched query still works: the refusals above were for the right reasons.
    assert_eq!(callback(callback_query("code-x", &s.state, now(), SECRET)).await.status(), 302);
}

#[tokio::test]
async fn callback_refuses_a_state_not_bound_to_this_browser_or_already_used() {
    let (_dir, fake, server) = setup("state").await;
    let opened = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, false, now())))
        .send()
        .await
        .expect("auth");
    let s = started(&opened);
    fake.approve(SHOP, "code-y", SCOPES);
    let url = format!("{}/auth/callback?{}", server.url(), callback_query("code-y", &s.state, now(), SECRET));
    // No cookie: a callback link replayed in another browser.
    assert_eq!(client().get(&url).send().await.expect("cb").status(), 400);
    // A cookie with another nonce.
    let other = client().get(&url).header("cookie", "lummmen_oauth_state=00000000000000000000000000000000");
    assert_eq!(other.send().await.expect("cb").status(), 400);
    // The right browser: accepted once, then the nonce is spent.
    assert_eq!(client().get(&url).header("cookie", &s.cookie).send().await.expect("cb").status(), 302);
    assert_eq!(client().get(&url).header("cookie", &s.cookie).send().await.expect("cb").status(), 400);
}

#[tokio::test]
async fn enable_writes_the_embed_metafields_and_creates_then_updates_the_web_pixel() {
    let (_dir, fake, server) = setup("enable").await;
    assert_eq!(install(&fake, &server, "code-enable", SCOPES).await.status(), 302);
    let (status, body) = post_json(&server, "/api/enable", &session_token(SHOP), serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let field = |key: &str, value: String| {
        (
            SHOP.to_string(),
            "gid://shopify/AppInstallation/9001".to_string(),
            "lummmen".to_string(),
            key.into(),
            value,
        )
    };
    assert_eq!(
        fake.metafields(),
        vec![
            field("lummmen_site_id", SITE.to_string()),
            field("lummmen_sample", "50".into()),
            field("lummmen_endpoint", format!("{APP_URL}/collect")),
        ]
    );
    assert_eq!(
        fake.pixels(),
        vec![(
            SHOP.to_string(),
            serde_json::json!({"siteId": SITE.to_string(), "endpoint": format!("{APP_URL}/collect"), "sample": "50"})
        )]
    );
    // Enabling again updates the same pixel instead of failing on TAKEN.
    let (status, again) =
        post_json(&server, "/api/enable", &session_token(SHOP), serde_json::json!({})).await;
    assert_eq!((status, &again["webPixel"]), (200, &body["webPixel"]), "{again}");
    assert_eq!((fake.pixels().len(), fake.pixel_updates()), (2, 1));
    // A revoked token is replaced by exchanging the merchant's session token.
    fake.revoke_tokens(SHOP);
    let (status, body) = post_json(&server, "/api/enable", &session_token(SHOP), serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    // Uninstalled: no token works and none is exchanged: re-authorize, with
    // Shopify's headers, at /auth for the shop.
    fake.uninstall(SHOP);
    let r = client()
        .post(format!("{}/api/enable", server.url()))
        .bearer_auth(session_token(SHOP))
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("enable");
    assert_eq!(r.status(), 401);
    let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
    assert_eq!(header("x-shopify-api-request-failure-reauthorize").as_deref(), Some("1"));
    let url = format!("{APP_URL}/auth?shop={SHOP}");
    assert_eq!(header("x-shopify-api-request-failure-reauthorize-url"), Some(url.clone()));
    let body: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!((body["error"].as_str(), body["url"].as_str()), (Some("reauthorize"), Some(url.as_str())));
}

#[tokio::test]
async fn a_restart_with_a_new_token_key_reseals_stored_tokens_and_keeps_the_install_valid() {
    let dir = TempDir::new("rotate");
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let server = start(app_config(&dir.0, &fake.url), SITE, SHOP).await;
    assert_eq!(install(&fake, &server, "code-rotate", SCOPES).await.status(), 302);
    server.shutdown().await.expect("shutdown");

    let sealed = || async {
        let url = support::meta_database(&dir.0);
        let meta = lummmen_server::meta::open(url.as_deref(), &dir.0).await.expect("metadata store");
        meta.shop(SHOP).await.expect("read").and_then(|r| r.sealed_token).expect("row")
    };
    assert!(sealed().await.starts_with("v1:k1:"));
    let mut config = app_config(&dir.0, &fake.url);
    config.shopify.token_key = Some("HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=".into());
    config.shopify.token_key_id = Some("k2".into());
    config.shopify.token_previous_keys = Some(format!("k1:{TOKEN_KEY}"));
    let server = start(config, SITE, SHOP).await;
    let resp = client()
        .get(format!("{}/auth?{}", server.url(), open_query(SHOP, true, now())))
        .send()
        .await
        .expect("auth");
    assert_eq!(resp.status(), 302);
    assert!(resp.headers()["location"].to_str().expect("loc").starts_with("/admin/"), "still valid");
    assert!(sealed().await.starts_with("v1:k2:"), "re-sealed under the new key at start");
}
