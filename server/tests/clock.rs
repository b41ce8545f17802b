//! The server's one clock, set by a test: a session token is judged against
//! the clock's time, not the machine's. In a test binary of its own, since the
//! clock is the whole process's.

mod support;

use lummmen_server::clock;
use serde_json::json;
use support::{app_config, jwt, post_json, TempDir, CLIENT_ID, SECRET, SHOP, SITE};

#[tokio::test]
async fn session_tokens_are_judged_by_the_servers_clock() {
    // 2026-01-01T00:00:00Z, long before the machine's own time.
    let at_ms: u64 = 1_767_225_600_000;
    let at = (at_ms / 1000) as i64;
    clock::set_for_tests(Some(at_ms));
    let dir = TempDir::new("clock");
    let server = support::start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let claims = json!({"iss": format!("https://{SHOP}/admin"), "dest": format!("https://{SHOP}"),
                        "aud": CLIENT_ID, "sub": "1", "exp": at + 60, "nbf": at - 5, "iat": at - 5,
                        "jti": "clock", "sid": "clock"});
    let token = jwt(SECRET, &json!({"alg": "HS256", "typ": "JWT"}), &claims);

    let (status, body) = post_json(&server, "/api/config", &token, json!({})).await;
    assert_eq!((status, body["matomoId"].as_u64()), (200, Some(u64::from(SITE))), "{body}");

    clock::set_for_tests(Some(at_ms + 5 * 60 * 1000));
    let (status, _) = post_json(&server, "/api/config", &token, json!({})).await;
    assert_eq!(status, 401, "five minutes later the token has expired");

    clock::set_for_tests(None);
    let (status, _) = post_json(&server, "/api/config", &token, json!({})).await;
    assert_eq!(status, 401, "and by the machine's clock it expired long ago");
    server.shutdown().await.expect("shutdown");
}
