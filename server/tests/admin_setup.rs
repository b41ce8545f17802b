//! The merchant's setup after install: the share of visitors tracked is changed
//! from the admin page and written to the shop; the page learns whether events
//! arrive and where to turn the theme app embed on. Against the fake Shopify.

mod support;

use serde_json::json;
use support::fake_shopify::FakeShopify;
use support::*;

#[tokio::test]
async fn the_sample_is_saved_and_written_to_the_shop_and_the_status_follows_the_events() {
    let dir = TempDir::new("admin-setup");
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let server = start(app_config(&dir.0, &fake.url), SITE, SHOP).await;

    let (status, body) = get_json(&server, "/api/status", &session_token(SHOP)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["lastEventAt"], json!(null), "no events yet");
    let link = format!(
        "https://{SHOP}/admin/themes/current/editor?context=apps&activateAppId={CLIENT_ID}/lummmen-embed"
    );
    assert_eq!(body["embedLink"], json!(link));

    let (status, body) = post_json(&server, "/api/sample", &session_token(SHOP), json!({"sample": 25})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sample"], 25);
    assert_eq!(server.meta().project(SITE).await.expect("read").expect("project").sample, 25);
    let sample =
        fake.metafields().into_iter().rev().find(|m| m.3 == "lummmen_sample").expect("sample metafield");
    assert_eq!(sample.4, "25");
    let pixel = fake.pixels().last().cloned().expect("pixel written");
    assert_eq!(pixel.1["sample"], "25", "the pixel gets the sample too");
    let (status, config) = post_json(&server, "/api/config", &session_token(SHOP), json!({})).await;
    assert_eq!((status, config["sample"].as_u64()), (200, Some(25)), "the page shows the new sample");

    for bad in [json!({"sample": 101}), json!({"sample": "half"}), json!({})] {
        let (status, body) = post_json(&server, "/api/sample", &session_token(SHOP), bad.clone()).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{bad}: {body}");
    }
    assert_eq!(
        server.meta().project(SITE).await.expect("read").expect("project").sample,
        25,
        "unchanged by bad input"
    );

    collect(&server, &page_views(SITE, "9f86d081884c7d65", "5f0c6a1e9d2b4c37", 3)).await;
    server.flush().await.expect("flush");
    let (_, body) = get_json(&server, "/api/status", &session_token(SHOP)).await;
    assert_eq!(body["lastEventAt"], json!(1_763_800_000_002u64), "the latest event's time");
}
