//! Visitor identity and sampling in real Chromium: the pixel hand-off, cookies
//! only after consent, the consent API loaded on demand, the random-id fallback,
//! and the sample percentage.

use lummmen_e2e::tracker::{count_kind, TrackerRig, FLUSH_WAIT};
use serde_json::json;

/// First 16 hex digits of SHA-256 of the stand-in's consent id, computed in the page.
async fn expected_visitor_id(rig: &TrackerRig) -> anyhow::Result<String> {
    let v = rig
        .browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const id = Shopify.customerPrivacy.consentId();
             crypto.subtle.digest('SHA-256', new TextEncoder().encode(id)).then(d =>
               done([...new Uint8Array(d)].map(b => b.toString(16).padStart(2, '0')).join('').slice(0, 16)));",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn start_pixel_carries_the_visitor_and_site_ids_and_cookies_follow_consent() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-pixel").await?;
    assert_eq!(rig.open("/test/tracker.html").await?, "waiting");
    assert_eq!(rig.js("return Shopify.analytics.published").await?, json!([]));
    assert_eq!(rig.js("return window.__startPixel").await?, json!([]));
    assert_eq!(rig.cookie_names().await?, Vec::<String>::new());

    rig.accept().await?;
    let visitor = expected_visitor_id(&rig).await?;
    assert_eq!(visitor.len(), 16);
    let detail = json!({"visitorId": visitor, "siteId": 1});
    assert_eq!(
        rig.js("return Shopify.analytics.published").await?,
        json!([{"name": "lummmen:startPixel", "data": detail}])
    );
    assert_eq!(rig.js("return window.__startPixel").await?, json!([detail]));
    assert_eq!(rig.cookie(protocol::cookies::VISITOR).await?.as_deref(), Some(visitor.as_str()));
    assert_eq!(rig.cookie(protocol::cookies::SITE).await?.as_deref(), Some("1"));
    let cookie_attrs = rig.browser.client.get_all_cookies().await?;
    let vid = cookie_attrs.iter().find(|c| c.name() == protocol::cookies::VISITOR).expect("cookie");
    assert_eq!(vid.path(), Some("/"));
    assert_eq!(format!("{:?}", vid.same_site()), "Some(Lax)");
    rig.wait_stored(1, &visitor, "the page view under that visitor id", |e| count_kind(e, "pv") == 1).await?;
    rig.close().await
}

#[tokio::test]
async fn consent_api_is_loaded_with_load_features_when_absent_at_boot() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-loadfeatures").await?;
    rig.open("/test/tracker.html?standin=defer,consent=granted").await?;
    rig.wait_state("tracking").await?;
    assert_eq!(
        rig.js("return Shopify.loadFeaturesCalls").await?,
        json!([[{"name": "consent-tracking-api", "version": "0.1"}]])
    );
    let visitor = rig.visitor_id().await?;
    assert_eq!(visitor, expected_visitor_id(&rig).await?);
    rig.close().await
}

#[tokio::test]
async fn consent_without_a_consent_id_uses_a_random_first_party_cookie_id() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-randomid").await?;
    assert_eq!(rig.open("/test/tracker.html?standin=noConsentId").await?, "waiting");
    assert_eq!(rig.cookie_names().await?, Vec::<String>::new());
    rig.accept().await?;
    let random = rig.cookie("_lummmen_rid").await?.expect("random id cookie");
    assert!(protocol::is_visitor_id(&random), "{random}");
    assert_eq!(rig.visitor_id().await?, random);
    // The same id on the next page: the visitor stays one visitor.
    assert_eq!(rig.open("/test/tracker.html?standin=noConsentId").await?, "tracking");
    assert_eq!(rig.visitor_id().await?, random);
    rig.wait_stored(1, &random, "two page views", |e| count_kind(e, "pv") == 2).await?;
    rig.close().await
}

async fn fresh_visitor(rig: &TrackerRig, path: &str) -> anyhow::Result<String> {
    // A new shopper: no stored consent id, no cookies. (Cleared from a page of the
    // same origin that has no tracker.)
    rig.browser.client.goto(&format!("{}/shopify-standin.js", rig.server.url())).await?;
    rig.js("localStorage.clear()").await?;
    rig.browser.client.delete_all_cookies().await?;
    rig.open(path).await
}

#[tokio::test]
async fn sample_0_sends_nothing_and_sample_100_sends_everything() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-sample").await?;
    let mut tracked = Vec::new();
    for _ in 0..4 {
        assert_eq!(
            fresh_visitor(&rig, "/test/tracker.html?sample=0&standin=consent=granted").await?,
            "excluded"
        );
        rig.click("#rage").await?;
        assert_eq!(rig.js("return Shopify.analytics.published").await?, json!([]));
        assert_eq!(rig.cookie_names().await?, Vec::<String>::new());
    }
    tokio::time::sleep(FLUSH_WAIT).await;
    assert_eq!(rig.sent().await?, Vec::<String>::new());
    assert_eq!(rig.count_stored(1).await?, 0);
    for _ in 0..4 {
        assert_eq!(
            fresh_visitor(&rig, "/test/tracker.html?sample=100&standin=consent=granted").await?,
            "tracking"
        );
        tracked.push(rig.visitor_id().await?);
    }
    tracked.sort();
    tracked.dedup();
    assert_eq!(tracked.len(), 4, "four different visitors");
    for v in &tracked {
        rig.wait_stored(1, v, "a page view of every visitor", |e| count_kind(e, "pv") >= 1).await?;
    }
    rig.close().await
}
