//! The managed install as Shopify runs it for an embedded app: the merchant
//! opens the app, its session token is exchanged for an expiring offline token,
//! and the token is refreshed as it expires, one refresh at a time, against
//! the fake Shopify and a clock the test sets. In a test binary of its own,
//! since the clock is the whole process's.

mod support;

use std::time::Duration;

use lummmen_server::clock;
use serde_json::{json, Value};
use support::fake_shopify::{FakeShopify, ACCESS_TTL_SECS};
use support::{app_config, jwt, post_json, TempDir, CLIENT_ID, SECRET};

const SHOP: &str = "fresh-shop.myshopify.com";

/// A session token as App Bridge gives it at the clock's time.
fn session_token() -> String {
    let t = (clock::now_ms() / 1000) as i64;
    let claims = json!({"iss": format!("https://{SHOP}/admin"), "dest": format!("https://{SHOP}"),
                        "aud": CLIENT_ID, "sub": "77", "exp": t + 60, "nbf": t - 5, "iat": t - 5,
                        "jti": format!("j{t}"), "sid": "s"});
    jwt(SECRET, &json!({"alg": "HS256", "typ": "JWT"}), &claims)
}

fn advance(secs: u64) {
    clock::set_for_tests(Some(clock::now_ms() + secs * 1000));
}

#[tokio::test]
async fn a_shop_is_onboarded_by_token_exchange_and_its_token_refreshed_once_per_expiry() {
    clock::set_for_tests(Some(clock::now_ms()));
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let dir = TempDir::new("token-exchange");
    let server = lummmen_server::ServerHandle::start(app_config(&dir.0, &fake.url)).await.expect("start");

    // Cold start: the first session token creates the project at once and
    // starts the exchange without waiting for it.
    let (status, config) = post_json(&server, "/api/config", &session_token(), json!({})).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!((config["name"].as_str(), config["sample"].as_u64()), (Some("fresh-shop"), Some(100)));
    let site = config["matomoId"].as_u64().expect("site id");
    let linked = server.meta().project_of_shop(SHOP).await.expect("read").expect("project created");
    assert_eq!(u64::from(linked.id), site);
    for _ in 0..100 {
        if !fake.exchanges().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exchange = fake.exchanges().first().cloned().expect("a token exchange");
    assert_eq!(exchange["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");
    assert_eq!(exchange["subject_token_type"], "urn:ietf:params:oauth:token-type:id_token");
    assert_eq!(exchange["requested_token_type"], "urn:shopify:params:oauth:token-type:offline-access-token");
    assert_eq!(exchange["expiring"], "1");

    // Enable with the exchanged token.
    let (status, body) = post_json(&server, "/api/enable", &session_token(), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.pixels().len(), 1);
    assert_eq!(fake.refreshed(), 0);

    // Within a minute of expiry: refreshed once, before use.
    advance(ACCESS_TTL_SECS - 30);
    let (status, body) = post_json(&server, "/api/enable", &session_token(), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.refreshed(), 1);

    // Ten enables at once after the next expiry spend the refresh token once.
    advance(ACCESS_TTL_SECS);
    let calls = (0..10).map(|_| {
        let (url, token) = (server.url(), session_token());
        tokio::spawn(async move {
            let r = support::client().post(format!("{url}/api/enable")).bearer_auth(token).json(&json!({}));
            r.send().await.expect("enable").status().as_u16()
        })
    });
    let statuses: Vec<u16> = futures_join(calls).await;
    assert_eq!(statuses, vec![200; 10]);
    assert_eq!(fake.refreshed(), 2, "one refresh for ten concurrent calls");

    // Tokens are sealed at rest: no token Shopify issued is in the database.
    let db = std::fs::read(dir.0.join("shopify.db")).unwrap_or_default();
    let wal = std::fs::read(dir.0.join("shopify.db-wal")).unwrap_or_default();
    for issued in ["shpat_exp1", "shprt_1", "shpat_exp3", "shprt_3"] {
        let found = |bytes: &[u8]| bytes.windows(issued.len()).any(|w| w == issued.as_bytes());
        assert!(!found(&db) && !found(&wal), "{issued} stored in clear");
    }

    // A refused refresh (the refresh token revoked) after expiry: the next
    // enable exchanges the merchant's session token again and succeeds.
    fake.revoke_refresh_tokens(SHOP);
    advance(ACCESS_TTL_SECS);
    let exchanges = fake.exchanges().len();
    let (status, body) = post_json(&server, "/api/enable", &session_token(), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(fake.exchanges().len(), exchanges + 2, "a refused refresh, then a new exchange");
    let last: Value = fake.exchanges().last().cloned().expect("exchange");
    assert_eq!(last["grant_type"], "urn:ietf:params:oauth:grant-type:token-exchange");

    clock::set_for_tests(None);
    server.shutdown().await.expect("shutdown");
}

async fn futures_join(calls: impl Iterator<Item = tokio::task::JoinHandle<u16>>) -> Vec<u16> {
    let mut out = Vec::new();
    for c in calls.collect::<Vec<_>>() {
        out.push(c.await.expect("join"));
    }
    out
}
