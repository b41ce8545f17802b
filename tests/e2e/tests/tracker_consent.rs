//! The tracker in real headless Chromium against the real server: nothing before
//! consent, the right events after it, nothing after it is withdrawn.

use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use lummmen_e2e::tracker::{clicks, count_kind, TrackerRig, FLUSH_WAIT};
use protocol::Event;

#[tokio::test]
async fn nothing_is_sent_or_stored_before_consent_then_page_view_clicks_and_moves_arrive(
) -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-consent").await?;
    assert_eq!(rig.open("/test/tracker.html").await?, "waiting");

    // A shopper who has not answered the banner yet clicks, moves and scrolls.
    rig.click(".grid .card:nth-of-type(1) button").await?;
    rig.move_through(&[(100.0, 100.0), (400.0, 300.0), (700.0, 200.0)], 150).await?;
    rig.js("window.scrollTo(0, 1500)").await?;
    tokio::time::sleep(FLUSH_WAIT).await;
    assert_eq!(rig.sent().await?, Vec::<String>::new(), "a request before consent");
    assert_eq!(rig.collect_requests().await?, 0, "a request to /collect before consent");
    assert_eq!(rig.cookie_names().await?, Vec::<String>::new(), "a cookie before consent");
    assert_eq!(rig.count_stored(1).await?, 0);

    rig.js("window.scrollTo(0, 0)").await?;
    rig.accept().await?;
    let names = rig.cookie_names().await?;
    for name in [protocol::cookies::VISITOR, protocol::cookies::SITE, "_lummmen_ses"] {
        assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
    }
    let visitor = rig.visitor_id().await?;
    assert!(protocol::is_visitor_id(&visitor), "{visitor}");

    // The page view goes out at once.
    let events = rig.wait_stored(1, &visitor, "the page view", |e| count_kind(e, "pv") == 1).await?;
    let Event::PageView(pv) = &events[0].event else { panic!("first event {:?}", events[0]) };
    assert!(pv.url.ends_with("/test/tracker.html"), "{}", pv.url);
    assert_eq!(pv.title, "Tracker test page");
    assert!(pv.viewport_width >= 1000 && pv.viewport_height >= 400, "{pv:?}");
    assert!(pv.screen_width > 0 && pv.screen_height > 0 && pv.doc_height > 3_000, "{pv:?}");
    assert!(events[0].session_id.as_deref().is_some_and(protocol::is_hex16));
    assert!(events[0].page_view_id.as_deref().is_some_and(protocol::is_hex16));

    rig.click("#rage").await?;
    rig.click(".grid .card:nth-of-type(2) button").await?;
    rig.move_through(&[(50.0, 50.0), (300.0, 400.0), (900.0, 100.0), (600.0, 600.0)], 200).await?;
    let events = rig
        .wait_stored(1, &visitor, "two clicks and moves", |e| clicks(e).len() >= 2 && count_kind(e, "m") >= 1)
        .await?;
    let c = clicks(&events);
    assert_eq!(
        (c[0].tag.as_str(), c[0].selector.as_str(), c[0].element_id.as_deref()),
        ("button", "#rage", Some("rage"))
    );
    assert!(
        c[0].x > 0 && c[0].y > 0 && c[0].cx > 0 && c[0].cy > 0 && c[0].since_page_view_ms > 0,
        "{:?}",
        c[0]
    );
    assert_eq!(c[0].button, 0);
    assert_eq!(c[1].selector, "body > main > div:nth-of-type(2) > div:nth-of-type(2) > button");
    assert_eq!(c[1].classes, ["btn", "add"], "the generated class is left out");
    let points: Vec<[i32; 3]> = events
        .iter()
        .filter_map(|e| if let Event::Moves(m) = &e.event { Some(m.points.clone()) } else { None })
        .flatten()
        .collect();
    assert!(points.len() >= 3, "{points:?}");
    assert!(points.iter().all(|p| (0..=1280).contains(&p[0]) && p[1] >= 0), "{points:?}");
    assert!(
        points.iter().any(|p| (p[0] - 600).abs() <= 2 && (p[1] - 600).abs() <= 2),
        "resting point kept: {points:?}"
    );
    assert_eq!(rig.page_errors().await?, serde_json::json!([]));
    rig.close().await
}

#[tokio::test]
async fn revoking_consent_stops_capture_drops_the_buffer_and_deletes_cookies() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-revoke").await?;
    assert_eq!(rig.open("/test/tracker.html?standin=consent=granted").await?, "tracking");
    let visitor = rig.visitor_id().await?;
    rig.browser.wait_for("window.__sent.length === 1", Duration::from_secs(10)).await?;
    rig.click("#rage").await?;
    // Right after the timer flush that carries this click, click twice (buffered:
    // the next flush is seconds away), then withdraw consent.
    rig.browser.wait_for("window.__sent.length === 2", Duration::from_secs(10)).await?;
    let sent = 2;
    rig.click(".grid .card:nth-of-type(3) button").await?;
    rig.click(".grid .card:nth-of-type(3) button").await?;
    rig.revoke().await?;
    assert_eq!(
        rig.js("return window.__sent.length").await?.as_u64(),
        Some(sent),
        "sent before the revoke took effect"
    );
    assert_eq!(rig.cookie_names().await?, Vec::<String>::new(), "our cookies are deleted");

    rig.click("#rage").await?;
    rig.move_through(&[(100.0, 100.0), (500.0, 500.0)], 200).await?;
    tokio::time::sleep(FLUSH_WAIT).await;
    assert_eq!(
        rig.js("return window.__sent.length").await?.as_u64(),
        Some(sent),
        "a request after the revoke"
    );
    let events = rig.stored(1, &visitor).await?;
    let c = clicks(&events);
    assert_eq!(c.len(), 1, "only the click before the revoke: {c:?}");
    assert_eq!(c[0].selector, "#rage");
    assert_eq!(rig.cookie_names().await?, Vec::<String>::new());
    assert_eq!(rig.state().await?, "waiting");
    rig.close().await
}

#[tokio::test]
async fn rapid_clicks_in_one_spot_are_flagged_as_rage() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-rage").await?;
    assert_eq!(rig.open("/test/tracker.html?standin=consent=granted").await?, "tracking");
    let visitor = rig.visitor_id().await?;
    // One slow click elsewhere, then four fast ones on a button that does nothing.
    rig.click(".grid .card:nth-of-type(1) button").await?;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let button = rig.browser.client.find(Locator::Css("#rage")).await?;
    let mut mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
        element: button,
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    for _ in 0..4 {
        mouse = mouse
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Pause { duration: Duration::from_millis(80) });
    }
    rig.browser.client.perform_actions(mouse).await?;
    rig.browser.client.release_actions().await?;
    let events = rig.wait_stored(1, &visitor, "five clicks", |e| clicks(e).len() >= 5).await?;
    let c = clicks(&events);
    let rage: Vec<bool> = c.iter().map(|c| c.rage).collect();
    assert_eq!(rage, [false, false, false, true, true]);
    assert!(c[1..].iter().all(|c| c.selector == "#rage" && c.x > 0 && c.y > 0), "{c:?}");
    rig.close().await
}
