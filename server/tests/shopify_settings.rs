//! The Shopify app's settings at start: an app with no client id and secret is
//! off, and every route that needs it answers the same JSON 503 while the rest
//! of the server runs (operators keep the heatmap and ticket endpoints); a
//! setting that is present but wrong stops the start with a message naming it.

mod support;

use lummmen_server::{Config, ServerHandle};
use serde_json::Value;
use support::{client, page_views, root, session_token, TempDir, OPERATOR, SITE};

#[tokio::test]
async fn without_client_credentials_every_shopify_route_answers_503_and_ingest_still_runs() {
    let dir = TempDir::new("shopify-off");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.shopify.operator_token = Some(OPERATOR.into());
    let server = support::start(config, SITE, "off.myshopify.com").await;
    let base = server.url();
    let c = client();
    let calls = [
        c.post(format!("{base}/api/config")).bearer_auth("x"),
        c.post(format!("{base}/api/enable")).bearer_auth("x"),
        c.get(format!("{base}/api/dev/session-token")),
        c.get(format!("{base}/auth?shop=off.myshopify.com")),
        c.get(format!("{base}/auth/callback")),
        c.post(format!("{base}/webhooks/shopify")).body("{}"),
    ];
    for call in calls {
        let r = call.send().await.expect("send");
        let url = r.url().to_string();
        assert_eq!(r.status(), 503, "{url}");
        let body: Value = r.json().await.expect("JSON body");
        assert_eq!(body["error"], "not_configured", "{url}: {body}");
    }
    let ok = c
        .post(format!("{base}/collect"))
        .header("content-type", "text/plain")
        .body(page_views(SITE, "9f86d081884c7d65", "5f0c6a1e9d2b4c37", 1).to_string())
        .send()
        .await
        .expect("collect");
    assert_eq!(ok.status(), 200);
    let pages = c.get(format!("{base}/api/heatmap/pages?site={SITE}")).bearer_auth(OPERATOR).send().await;
    assert_eq!(pages.expect("pages").status(), 200, "operators keep the heatmap");
    let session = c.get(format!("{base}/api/gdpr/tickets")).bearer_auth(session_token("off.myshopify.com"));
    assert_eq!(session.send().await.expect("tickets").status(), 401, "no secret verifies a session token");
    let admin = c.get(format!("{base}/admin/")).send().await.expect("admin page");
    assert_eq!(admin.status(), 200, "the page itself is served");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_wrong_setting_stops_the_start_and_names_itself() {
    for (what, set) in [
        (
            "token encryption key",
            (|c: &mut Config| c.shopify.token_key = Some("short".into())) as fn(&mut Config),
        ),
        ("--app-url", |c: &mut Config| c.shopify.app_url = Some("app.example.com".into())),
        ("only the client id", |c: &mut Config| c.shopify.shopify_client_secret = None),
    ] {
        let dir = TempDir::new("shopify-bad");
        let mut config = support::app_config(&dir.0, "http://127.0.0.1:9");
        set(&mut config);
        let err = ServerHandle::start(config).await.expect_err("must not start");
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
}
