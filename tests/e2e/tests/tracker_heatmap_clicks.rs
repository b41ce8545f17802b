//! Clicks for heatmaps that hold on every screen, on the demo storefront in real
//! headless Chromium against the real server: where in the clicked element each
//! click landed (`rx`, `ry`, thousandths of its box), the viewport width (`vw`),
//! and dead clicks (`dd`: nothing answered within a second). Clicks are real
//! WebDriver pointer actions at known offsets inside their elements.

use std::time::Duration;

use anyhow::Context;
use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use lummmen_e2e::tracker::{clicks, TrackerRig};

/// Longer than the tracker's second of watching after a click, so that clicks of
/// one step are decided before the next step's.
const SETTLE: Duration = Duration::from_millis(1_400);

/// `times` clicks, `pause` apart, `(dx, dy)` pixels from the centre of the first
/// element matching `css` (WebDriver's origin for an element).
async fn click_at(rig: &TrackerRig, css: &str, (dx, dy): (f64, f64), times: usize) -> anyhow::Result<()> {
    let element = rig.browser.client.find(Locator::Css(css)).await?;
    let mut mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
        element,
        duration: None,
        x: dx,
        y: dy,
    });
    for _ in 0..times {
        mouse = mouse
            .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
            .then(PointerAction::Pause { duration: Duration::from_millis(80) });
    }
    rig.browser.client.perform_actions(mouse).await?;
    rig.browser.client.release_actions().await?;
    Ok(())
}

/// The element's box in the viewport: left, top, width, height.
async fn rect(rig: &TrackerRig, css: &str) -> anyhow::Result<[f64; 4]> {
    let v = rig
        .js(&format!(
            "const r = document.querySelector(\"{css}\").getBoundingClientRect(); \
             return [r.left, r.top, r.width, r.height]"
        ))
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Where a click `offset` from the centre of a box lands, in thousandths of the
/// box, and how far off (in thousandths) two pixels of rounding can take it.
fn expected(size: f64, offset: f64) -> (f64, f64) {
    ((size / 2.0 + offset) * 1000.0 / size, 2.0 * 1000.0 / size + 1.0)
}

#[tokio::test]
async fn clicks_carry_their_place_in_the_element_the_viewport_width_and_whether_they_were_dead(
) -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-heatmap-clicks").await?;
    assert_eq!(rig.open("/demo/?standin=consent=granted").await?, "tracking");
    let visitor = rig.visitor_id().await?;
    let width = rig.js("return innerWidth").await?.as_u64().context("innerWidth")?;

    // The heading: nothing answers a click on it. A quarter of the way across,
    // three quarters of the way down.
    let heading = "main h1";
    let [_, _, hw, hh] = rect(&rig, heading).await?;
    let (dx, dy) = ((hw / 4.0).round(), (hh / 4.0).round());
    click_at(&rig, heading, (-dx, dy), 1).await?;
    tokio::time::sleep(SETTLE).await;

    // Four fast clicks on a price, which does nothing either: rage, and dead.
    let price = ".product:nth-child(2) p";
    click_at(&rig, price, (0.0, 0.0), 4).await?;
    tokio::time::sleep(SETTLE).await;

    // "Add to cart" answers: the cart count in the header changes.
    let count_before = rig.js("return document.getElementById('cart-count').textContent").await?;
    let add = ".product:nth-child(3) button[data-add]";
    let [_, _, aw, ah] = rect(&rig, add).await?;
    let (ax, ay) = ((aw / 2.0 - 3.0).round(), (-ah / 2.0 + 3.0).round());
    click_at(&rig, add, (ax, ay), 1).await?;
    tokio::time::sleep(SETTLE).await;
    let count_after = rig.js("return document.getElementById('cart-count').textContent").await?;
    assert_ne!(count_before, count_after, "the demo's Add to cart changes the page");

    assert_eq!(rig.page_errors().await?, serde_json::json!([]));

    // A product link: the page is left, the click goes with it.
    click_at(&rig, "a[href*='p=tee']", (0.0, 0.0), 1).await?;
    rig.browser
        .wait_for(
            "location.pathname === '/demo/product.html' && document.documentElement.dataset.lummmen === 'ready'",
            Duration::from_secs(15),
        )
        .await?;

    let events = rig.wait_stored(1, &visitor, "seven clicks", |e| clicks(e).len() >= 7).await?;
    let c = clicks(&events);
    let tags: Vec<&str> = c.iter().map(|c| c.tag.as_str()).collect();
    assert_eq!(tags, ["h1", "p", "p", "p", "p", "button", "a"], "{c:?}");
    let flags: Vec<(bool, bool)> = c.iter().map(|c| (c.dead, c.rage)).collect();
    assert_eq!(
        flags,
        [
            (true, false),
            (true, false),
            (true, false),
            (true, true),
            (true, true),
            (false, false),
            (false, false)
        ],
        "(dead, rage) per click: {c:?}"
    );
    assert!(c.iter().all(|c| c.viewport_width == Some(width as u32)), "vw = innerWidth ({width}): {c:?}");

    // Where in each element: the offsets given above, within rounding.
    let place = |i: usize| (c[i].rel_x.map(f64::from), c[i].rel_y.map(f64::from));
    let (ex, tx) = expected(hw, -dx);
    let (ey, ty) = expected(hh, dy);
    let (rx, ry) = place(0);
    assert!(rx.is_some_and(|v| (v - ex).abs() <= tx), "heading rx {rx:?}, expected {ex:.0} ± {tx:.0}");
    assert!(ry.is_some_and(|v| (v - ey).abs() <= ty), "heading ry {ry:?}, expected {ey:.0} ± {ty:.0}");
    for i in 1..5 {
        let (rx, ry) = place(i);
        assert!(
            rx.is_some_and(|v| (v - 500.0).abs() <= 60.0) && ry.is_some_and(|v| (v - 500.0).abs() <= 100.0),
            "price click {i} at the centre: {rx:?}, {ry:?}"
        );
    }
    let (ex, tx) = expected(aw, ax);
    let (ey, ty) = expected(ah, ay);
    let (rx, ry) = place(5);
    assert!(rx.is_some_and(|v| (v - ex).abs() <= tx), "Add to cart rx {rx:?}, expected {ex:.0} ± {tx:.0}");
    assert!(ry.is_some_and(|v| (v - ey).abs() <= ty), "Add to cart ry {ry:?}, expected {ey:.0} ± {ty:.0}");
    // The link's query value is not on the allow-list (protocol::url).
    assert_eq!(c[6].href.as_deref(), Some("/demo/product.html?p="));
    rig.close().await
}
