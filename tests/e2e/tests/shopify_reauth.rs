//! The re-authorize page in a real browser: inside a frame (as in the Shopify
//! admin), a signed `/auth` for a shop whose stored token no longer works answers
//! the App Bridge page, whose script sends the TOP window to `/auth`, which starts
//! OAuth at Shopify's authorize URL. The signed query is computed by `openssl`.
//! (App Bridge's CDN script cannot load on this closed network; the page's own
//! `window.open(url, "_top")` is what App Bridge routes in the real admin.)

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use lummmen_e2e::{root, Browser, TempDir};
use lummmen_server::shopify::crypto::KeyRing;
use lummmen_server::shopify::db::AppDb;
use lummmen_server::{Config, ServerHandle};

const CLIENT_ID: &str = "0123456789abcdef0123456789abcdef";
const SECRET: &str = "shpss_e2e_secret";
const SHOP: &str = "a-shop.myshopify.com";
const HOST: &str = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYS1zaG9w";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const RETIRED_KEY: &str = "HxwdHhsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=";

fn openssl_hmac_hex(key: &str, msg: &str) -> anyhow::Result<String> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or_else(|| anyhow::anyhow!("stdin"))?.write_all(msg.as_bytes())?;
    let out = String::from_utf8(child.wait_with_output()?.stdout)?;
    // "SHA2-256(stdin)= 3f2a..."
    Ok(out.rsplit("= ").next().unwrap_or_default().trim().to_string())
}

#[tokio::test]
async fn reauthorize_page_inside_a_frame_sends_the_top_window_into_oauth() -> anyhow::Result<()> {
    let data = TempDir::new("reauth-data")?;
    let www = TempDir::new("reauth-www")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}");

    // An install whose token no longer opens: sealed under a key since retired.
    let retired = KeyRing::new("retired", RETIRED_KEY, "")?;
    AppDb::open(&data.0)?.save_install(
        SHOP,
        &retired.seal(SHOP, "shpat_gone")?,
        "write_pixels,read_customer_events,read_orders",
    )?;

    let mut config = Config::for_tests(&root(), data.0.clone());
    config.listen = format!("127.0.0.1:{port}").parse()?;
    config.www_dir = www.0.clone();
    config.shopify.shopify_client_id = Some(CLIENT_ID.into());
    config.shopify.shopify_client_secret = Some(SECRET.into());
    config.shopify.app_url = Some(url.clone());
    config.shopify.shopify_base_url = Some(url.clone());
    config.shopify.token_key = Some(KEY.into());

    // The admin frames the app with a signed query carrying `session`.
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let message = format!("embedded=1&host={HOST}&session=abc123&shop={SHOP}&timestamp={ts}");
    let hmac = openssl_hmac_hex(SECRET, &message)?;
    assert_eq!(hmac.len(), 64, "openssl output: {hmac}");
    let frame = format!("/auth?embedded=1&hmac={hmac}&host={HOST}&session=abc123&shop={SHOP}&timestamp={ts}");
    std::fs::write(
        www.0.join("embedded.html"),
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
             <title>admin</title></head><body><iframe id=\"app\" src=\"{frame}\"></iframe></body></html>"
        ),
    )?;

    // Where Shopify's authorize page would be (the Shopify base is this server).
    std::fs::create_dir_all(www.0.join("admin/oauth/authorize"))?;
    std::fs::write(
        www.0.join("admin/oauth/authorize/index.html"),
        "<!doctype html><html><head><link rel=\"icon\" href=\"data:,\"></head><body>authorize</body></html>",
    )?;
    let server = ServerHandle::start(config).await?;
    let browser = Browser::start().await?;
    browser.client.goto(&format!("{url}/embedded.html")).await?;
    let waited = browser
        .wait_for(
            "location.pathname.startsWith('/admin/oauth/authorize') && location.href",
            Duration::from_secs(20),
        )
        .await;
    let top = match waited {
        Ok(v) => v,
        Err(e) => {
            let seen = browser
                .client
                .execute(
                    "const f = document.getElementById('app'); return [location.href, \
                     f && f.contentDocument ? f.contentDocument.documentElement.outerHTML : 'no frame document'];",
                    vec![],
                )
                .await?;
            anyhow::bail!("{e}; the browser shows {seen}");
        }
    };
    let top = top.as_str().unwrap_or_default().to_string();
    assert!(top.starts_with(&format!("{url}/admin/oauth/authorize")), "{top}");
    assert!(top.contains(&format!("client_id={CLIENT_ID}&scope=")), "{top}");
    assert!(top.contains("&state="), "{top}");
    browser.close().await?;
    server.shutdown().await?;
    Ok(())
}
