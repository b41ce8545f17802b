//! What the tracker records about elements: never what is typed into a field, and
//! selectors that find the same element after a reload.

use std::collections::BTreeMap;

use lummmen_e2e::tracker::{clicks, count_kind, TrackerRig};

const TYPED: [(&str, &str); 4] = [
    ("#name", "Zelda Quokka"),
    ("#secret", "hunter2-Pw"),
    ("#note", "Lives at 12 Wombat Lane"),
    ("#editor", "xyzzy edited"),
];

#[tokio::test]
async fn text_typed_into_fields_never_appears_in_any_payload() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-typing").await?;
    assert_eq!(rig.open("/test/tracker.html?standin=consent=granted").await?, "tracking");
    let visitor = rig.visitor_id().await?;
    for (css, text) in TYPED {
        rig.type_into(css, text).await?;
    }
    rig.click("#size").await?;
    // The clicks on the fields arrive (so there was something to leak from)...
    let events = rig.wait_stored(1, &visitor, "clicks on the four fields", |e| clicks(e).len() >= 5).await?;
    let selectors: Vec<&str> = clicks(&events).iter().map(|c| c.selector.as_str()).collect();
    assert_eq!(selectors, ["#name", "#secret", "#note", "#editor", "#size"]);
    let sent = rig.sent().await?;
    // ...then leaving the page flushes the rest (page leave) with keepalive.
    rig.open("/test/tracker.html").await?;
    let events = rig.wait_stored(1, &visitor, "the page leave", |e| count_kind(e, "pl") >= 1).await?;
    let stored = serde_json::to_string(&events)?;
    assert!(!sent.is_empty());
    for (_, text) in TYPED {
        for word in text.split(' ').filter(|w| w.len() > 3) {
            assert!(!stored.to_lowercase().contains(&word.to_lowercase()), "{word:?} reached the server");
            assert!(sent.iter().all(|b| !b.contains(word)), "{word:?} was sent");
        }
    }
    assert_eq!(rig.page_errors().await?, serde_json::json!([]));
    rig.close().await
}

#[tokio::test]
async fn selectors_are_stable_across_reloads_and_skip_generated_names() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-selectors").await?;
    assert_eq!(rig.open("/test/tracker.html?standin=consent=granted").await?, "tracking");
    let visitor = rig.visitor_id().await?;
    let targets =
        [".grid .card:nth-of-type(1) button", ".grid .card:nth-of-type(3) button", "#to-cart .label"];
    for _ in 0..2 {
        for css in targets {
            rig.click(css).await?;
        }
        rig.open("/test/tracker.html").await?; // reload: leaving flushes the clicks
    }
    let events = rig.wait_stored(1, &visitor, "six clicks", |e| clicks(e).len() >= 6).await?;
    let mut by_page: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &events {
        if let protocol::Event::Click(c) = &e.event {
            by_page.entry(e.page_view_id.clone().unwrap_or_default()).or_default().push(c.selector.clone());
        }
    }
    let pages: Vec<&Vec<String>> = by_page.values().collect();
    assert_eq!(pages.len(), 2, "two page views: {by_page:?}");
    assert_eq!(pages[0], pages[1], "selectors changed across a reload");
    let expected = [
        "body > main > div:nth-of-type(2) > div:nth-of-type(1) > button",
        "body > main > div:nth-of-type(2) > div:nth-of-type(3) > button",
        "#to-cart > span",
    ];
    let mut first = pages[0].clone();
    first.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(first, want);
    let c = clicks(&events);
    assert!(c.iter().all(|c| !c.classes.iter().any(|k| k.starts_with("css-"))), "{c:?}");
    assert!(
        c.iter().all(|c| c.element_id.as_deref().is_none_or(|id| !id.contains("15492782227594"))),
        "{c:?}"
    );
    let link = c.iter().find(|c| c.tag == "span").expect("link click");
    // The link's query value is not on the allow-list (protocol::url): the
    // server keeps its key only.
    assert_eq!(link.href.as_deref(), Some("/cart?from="));
    rig.close().await
}

/// A reset link's path and a checkout token in a link: what the rule in
/// `protocol::url` redacts never leaves the browser, and the server stores the
/// redacted forms.
#[tokio::test]
async fn private_path_segments_and_query_values_never_leave_the_browser() -> anyhow::Result<()> {
    const RESET: &str = "/account/reset/6543210987654/0f3b27c6e0f1f3f2c3a4b5c6d7e8f901-1700000000";
    const CHECKOUT: &str = "/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0MTowMUpDQVJUVE9LRU4/thank-you";
    let rig = TrackerRig::start("e2e-tracker-private-paths").await?;
    assert_eq!(rig.open("/test/tracker.html").await?, "waiting");
    // The page the shopper is on, and a link on it, before consent is given.
    rig.js(&format!(
        "history.replaceState(null, '', '{RESET}?token=s3cr3tvalue&utm_source=nl#jo@example.com');
         document.getElementById('to-cart').setAttribute('href', '{CHECKOUT}?email=jo%40example.com');"
    ))
    .await?;
    rig.accept().await?;
    let visitor = rig.visitor_id().await?;
    rig.click("#to-cart .label").await?;
    let events =
        rig.wait_stored(1, &visitor, "the page view and the click", |e| clicks(e).len() == 1).await?;
    let sent = rig.sent().await?;
    assert!(sent.iter().any(|b| b.contains("/checkouts/cn/redacted/thank-you")), "{sent:?}");
    let secrets = [
        "6543210987654",
        "0f3b27c6e0f1",
        "1700000000",
        "Z2NwLWV1",
        "s3cr3tvalue",
        "jo%40example",
        "jo@example",
    ];
    for secret in secrets {
        assert!(sent.iter().all(|b| !b.contains(secret)), "{secret} was sent: {sent:?}");
    }
    let page_view = events
        .iter()
        .find_map(|e| match &e.event {
            protocol::Event::PageView(pv) if pv.url.contains("/account/") => Some(pv.url.clone()),
            _ => None,
        })
        .expect("the page view on the reset page");
    assert!(page_view.ends_with("/account/reset/redacted/redacted?token=&utm_source=nl"), "{page_view}");
    let link = clicks(&events)[0].href.clone();
    assert_eq!(link.as_deref(), Some("/checkouts/cn/redacted/thank-you?email="));
    assert_eq!(rig.page_errors().await?, serde_json::json!([]));
    rig.close().await
}
