//! Sessions across page loads in real Chromium: the session id kept in
//! `_lummmen_ses` (`<id>.<last activity, ms>`) carries over to the next page while
//! the shopper was active in the last 30 minutes, and a new session starts after
//! that. The idle time is made by rewriting the cookie's last activity, not by
//! waiting.

use anyhow::Context;
use lummmen_e2e::tracker::{count_kind, TrackerRig};

const PAGE: &str = "/test/tracker.html?standin=consent=granted";
const SESSION_COOKIE: &str = "_lummmen_ses";

/// The session id in the cookie.
async fn session(rig: &TrackerRig) -> anyhow::Result<String> {
    let cookie = rig.cookie(SESSION_COOKIE).await?.context("no session cookie")?;
    let (id, last) = cookie.split_once('.').context("session cookie without last activity")?;
    assert!(protocol::is_hex16(id) && last.parse::<u64>().is_ok(), "{cookie}");
    Ok(id.to_owned())
}

/// Leaves the tracker's page (which writes the cookie as it goes) for a page of
/// the same origin without the tracker, and there sets the session's last
/// activity `idle_min` minutes back.
async fn idle_for(rig: &TrackerRig, id: &str, idle_min: u64) -> anyhow::Result<()> {
    rig.browser.client.goto(&format!("{}/shopify-standin.js", rig.server.url())).await?;
    rig.js(&format!(
        "document.cookie = '{SESSION_COOKIE}={id}.' + (Date.now() - {idle_min} * 60000) + '; path=/; max-age=1800'"
    ))
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_session_carries_over_while_active_and_rolls_after_30_minutes_idle() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-tracker-session").await?;
    assert_eq!(rig.open(PAGE).await?, "tracking");
    let visitor = rig.visitor_id().await?;
    let first = session(&rig).await?;

    idle_for(&rig, &first, 29).await?;
    assert_eq!(rig.open(PAGE).await?, "tracking");
    assert_eq!(session(&rig).await?, first, "29 minutes idle: the same session");

    idle_for(&rig, &first, 31).await?;
    assert_eq!(rig.open(PAGE).await?, "tracking");
    let second = session(&rig).await?;
    assert_ne!(second, first, "31 minutes idle: a new session");

    // What the server stored says the same: two page views in the first session,
    // one in the second, under one visitor.
    let events = rig.wait_stored(1, &visitor, "three page views", |e| count_kind(e, "pv") == 3).await?;
    let mut sessions: Vec<&str> = events
        .iter()
        .filter(|e| e.event.kind().as_str() == "pv")
        .map(|e| e.session_id.as_deref().unwrap_or_default())
        .collect();
    sessions.sort_unstable();
    let mut expected = vec![first.as_str(), first.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(sessions, expected);
    assert_eq!(rig.page_errors().await?, serde_json::json!([]));
    rig.close().await
}
