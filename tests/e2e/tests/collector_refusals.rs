//! The collector's refusals, read by both clients in real headless Chromium: a
//! loopback proxy in front of the real server (another origin than the pages)
//! answers chosen POSTs with 429, 503 or 400 and the CORS headers the server
//! sends, and forwards the rest.
//!
//! - 429 and 503 keep the batch, which goes again with the same batch id once
//!   `Retry-After` has passed, and every event is stored exactly once;
//! - a batch still unsent when its page ends is delivered from the next page
//!   (`sessionStorage`);
//! - another 4xx drops the batch, and the next batch counts its events in `d`;
//! - nothing is kept in storage without analytics consent, and withdrawing it
//!   deletes what was kept.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use lummmen_e2e::proxy::{Proxy, Refusal, Seen};
use lummmen_e2e::root;
use lummmen_e2e::tracker::{clicks, count_kind, TrackerRig};
use protocol::delivery::stored::{PIXEL_KEY, TRACKER_KEY};
use serde_json::{json, Value};

const SITE: u32 = 1;
const WAIT: Duration = Duration::from_secs(30);
const RATE_LIMITED: Refusal = Refusal::new(429, Some(1));
const SPOOL_FULL: Refusal = Refusal::new(503, Some(1));

fn tracker_page(proxy: &Proxy) -> String {
    format!("/test/tracker.html?standin=consent=granted&endpoint={}", proxy.url())
}

fn fixture(name: &str) -> anyhow::Result<Value> {
    let path = root().join("tests/fixtures/shopify").join(format!("{name}.json"));
    Ok(serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| path.display().to_string())?)?)
}

/// Opens the pixel harness on the server's origin and starts the BUILT pixel
/// posting to `endpoint`.
async fn open_pixel(rig: &TrackerRig, endpoint: &str, consent: bool) -> anyhow::Result<()> {
    rig.browser.client.goto(&format!("{}/pixel-harness/?manual=1", rig.server.url())).await?;
    let options = json!({"analyticsAllowed": consent, "settings": {"siteId": "1", "endpoint": endpoint}});
    rig.browser.client.execute("startPixel(arguments[0]); return null;", vec![options]).await?;
    rig.browser.wait_for("window.pixel && (pixel.timings || pixel.errors.length)", WAIT).await?;
    let errors = rig.js("return pixel.errors").await?;
    ensure!(errors == json!([]), "pixel errors: {errors}");
    Ok(())
}

async fn pixel_ids(rig: &TrackerRig, visitor: &str) -> anyhow::Result<()> {
    let args = vec![json!(visitor), json!(SITE)];
    rig.browser
        .client
        .execute(
            "Shopify.analytics.publish('lummmen:startPixel', {visitorId: arguments[0], siteId: arguments[1]}); return null;",
            args,
        )
        .await?;
    Ok(())
}

async fn emit(rig: &TrackerRig, name: &str) -> anyhow::Result<()> {
    rig.browser.client.execute("pixel.emit(arguments[0]); return null;", vec![fixture(name)?]).await?;
    Ok(())
}

/// Waits until the proxy has seen `n` POSTs.
async fn wait_seen(proxy: &Proxy, n: usize) -> anyhow::Result<Vec<Seen>> {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = proxy.seen();
        if seen.len() >= n {
            return Ok(seen);
        }
        if Instant::now() > deadline {
            bail!("the proxy saw {} POSTs, not {n}", seen.len());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until every event of every batch the server took (through the proxy)
/// is in the store, then checks each is stored exactly once, and nothing else.
async fn every_event_stored_once(rig: &TrackerRig, proxy: &Proxy, visitor: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let taken: BTreeSet<String> =
            proxy.seen().iter().filter(|s| s.status == 200).flat_map(Seen::event_ids).collect();
        let stored = rig.stored(SITE, visitor).await?;
        let ids: Vec<String> = stored.iter().map(|e| e.event_id.clone()).collect();
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        if unique == taken {
            ensure!(ids.len() == unique.len(), "an event stored twice: {ids:?}");
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("stored {unique:?}, the server took {taken:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The attempts of one batch as the proxy saw them: statuses in order.
fn attempts(seen: &[Seen], batch_id: &str) -> Vec<u16> {
    seen.iter().filter(|s| s.batch_id() == batch_id).map(|s| s.status).collect()
}

/// The 429 and the 503 were each answered to a batch that went again, no
/// sooner than the answer's `Retry-After` (1 s), and was taken. Usually one
/// batch gets both; when a second batch was already on the wire as the first
/// was refused, each gets one.
fn refused_twice_then_taken(seen: &[Seen]) -> anyhow::Result<()> {
    let refused: Vec<&Seen> = seen.iter().filter(|s| s.status != 200).collect();
    let statuses: Vec<u16> = refused.iter().map(|s| s.status).collect();
    ensure!(statuses == [429, 503], "refusals: {statuses:?}");
    for refusal in refused {
        let tries: Vec<&Seen> = seen.iter().filter(|s| s.batch_id() == refusal.batch_id()).collect();
        let statuses: Vec<u16> = tries.iter().map(|s| s.status).collect();
        ensure!(statuses.last() == Some(&200), "attempts of a refused batch: {statuses:?}");
        let next = tries.iter().find(|t| t.at > refusal.at).context("a refused batch never went again")?;
        let gap = next.at - refusal.at;
        ensure!(gap >= Duration::from_millis(950), "sent again after {gap:?}, before Retry-After: 1");
    }
    ensure!(
        seen.iter()
            .all(|s| s.status == 200 || seen.iter().any(|t| t.batch_id() == s.batch_id() && t.status == 200)),
        "a refused batch was never taken"
    );
    Ok(())
}

#[tokio::test]
async fn refused_with_429_then_503_every_event_of_the_tracker_and_the_pixel_is_stored_once(
) -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-refusals-retry").await?;

    // The tracker: its page view is answered 429, then 503, then taken.
    let proxy = Proxy::start(rig.server.addr).await?;
    proxy.refuse_next(&[RATE_LIMITED, SPOOL_FULL]);
    assert_eq!(rig.open(&tracker_page(&proxy)).await?, "tracking");
    let visitor = rig.visitor_id().await?;
    rig.click("#rage").await?;
    rig.click(".grid .card:nth-of-type(1) button").await?;
    rig.wait_stored(SITE, &visitor, "the page view and two clicks", |e| {
        count_kind(e, "pv") >= 1 && clicks(e).len() >= 2
    })
    .await?;
    // Leaving sends the page leave; the next page's view follows.
    rig.open(&tracker_page(&proxy)).await?;
    rig.wait_stored(SITE, &visitor, "the leave and the next page view", |e| {
        count_kind(e, "pl") >= 1 && count_kind(e, "pv") >= 2
    })
    .await?;
    every_event_stored_once(&rig, &proxy, &visitor).await?;
    refused_twice_then_taken(&proxy.seen())?;
    ensure!(proxy.preflights() == 0, "a simple text/plain POST needs no preflight");
    ensure!(rig.page_errors().await? == json!([]), "page errors");

    // The pixel: its first batch likewise.
    let proxy = Proxy::start(rig.server.addr).await?;
    proxy.refuse_next(&[RATE_LIMITED, SPOOL_FULL]);
    let shopper = "feedfacecafe0001";
    open_pixel(&rig, &proxy.url(), true).await?;
    pixel_ids(&rig, shopper).await?;
    for name in ["collection_viewed", "product_viewed", "product_added_to_cart"] {
        emit(&rig, name).await?;
    }
    wait_seen(&proxy, 3).await?;
    for name in ["product_removed_from_cart", "checkout_completed"] {
        emit(&rig, name).await?;
    }
    let stored = rig.wait_stored(SITE, shopper, "the five ecommerce events", |e| e.len() >= 5).await?;
    let kinds: Vec<&str> = stored.iter().map(|e| e.event.kind().as_str()).collect();
    let mut sorted = kinds.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["add", "chk", "col", "prv", "rem"], "{kinds:?}");
    every_event_stored_once(&rig, &proxy, shopper).await?;
    refused_twice_then_taken(&proxy.seen())?;
    ensure!(proxy.preflights() == 0, "the pixel's POST needs no preflight either");
    rig.close().await
}

#[tokio::test]
async fn a_batch_refused_when_its_page_ends_is_delivered_from_the_next_page() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-refusals-page-end").await?;

    // The tracker: the click and the page leave go out as the page is left and
    // are answered 503, which the page never reads.
    let proxy = Proxy::start(rig.server.addr).await?;
    assert_eq!(rig.open(&tracker_page(&proxy)).await?, "tracking");
    let visitor = rig.visitor_id().await?;
    rig.wait_stored(SITE, &visitor, "the page view", |e| count_kind(e, "pv") == 1).await?;
    rig.click("#rage").await?;
    proxy.refuse_next(&[Refusal::new(503, Some(1))]);
    rig.open(&tracker_page(&proxy)).await?;
    let events = rig
        .wait_stored(SITE, &visitor, "the click and the leave of the first page", |e| {
            clicks(e).len() == 1 && count_kind(e, "pl") == 1
        })
        .await?;
    assert_eq!(clicks(&events)[0].selector, "#rage");
    let seen = proxy.seen();
    let refused = seen.iter().find(|s| s.status == 503).context("the page end's batch was not refused")?;
    assert_eq!(attempts(&seen, refused.batch_id()), [503, 200], "sent again, from the next page, and taken");
    every_event_stored_once(&rig, &proxy, &visitor).await?;

    // The pixel: its batch is answered 503, and its page ends before the pause
    // does (Shopify ends the sandbox with the page).
    let proxy = Proxy::start(rig.server.addr).await?;
    proxy.refuse_next(&[Refusal::new(503, Some(2))]);
    let shopper = "feedfacecafe0002";
    open_pixel(&rig, &proxy.url(), true).await?;
    pixel_ids(&rig, shopper).await?;
    emit(&rig, "product_viewed").await?;
    wait_seen(&proxy, 1).await?;
    rig.browser
        .wait_for(&format!("sessionStorage.getItem('{PIXEL_KEY}') !== null"), WAIT)
        .await
        .context("the pixel kept its refused batch")?;
    rig.js("pixel.terminate(); return null").await?;
    // The next page: a new pixel, which has no ids of its own yet.
    open_pixel(&rig, &proxy.url(), true).await?;
    let stored = rig.wait_stored(SITE, shopper, "the product view", |e| !e.is_empty()).await?;
    assert_eq!(stored.iter().map(|e| e.event.kind().as_str()).collect::<Vec<_>>(), ["prv"]);
    let seen = proxy.seen();
    assert_eq!(attempts(&seen, seen[0].batch_id()), [503, 200]);
    every_event_stored_once(&rig, &proxy, shopper).await?;
    rig.browser
        .wait_for(&format!("sessionStorage.getItem('{PIXEL_KEY}') === null"), WAIT)
        .await
        .context("the delivered batch left the pixel's storage")?;
    rig.close().await
}

#[tokio::test]
async fn a_batch_refused_with_400_is_dropped_and_counted_in_the_next_batch() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-refusals-400").await?;

    // The tracker: the page view's batch is refused for good.
    let proxy = Proxy::start(rig.server.addr).await?;
    proxy.refuse_next(&[Refusal::new(400, None)]);
    assert_eq!(rig.open(&tracker_page(&proxy)).await?, "tracking");
    let visitor = rig.visitor_id().await?;
    rig.click("#rage").await?;
    let events = rig.wait_stored(SITE, &visitor, "the click", |e| clicks(e).len() == 1).await?;
    assert_eq!(count_kind(&events, "pv"), 0, "the refused page view is not stored");
    let seen = proxy.seen();
    assert_eq!(seen[0].status, 400);
    assert_eq!(attempts(&seen, seen[0].batch_id()), [400], "never sent again");
    let next = seen.get(1).context("no batch after the refused one")?;
    assert_eq!(next.dropped(), 1, "the page view counted as dropped: {:?}", next.batch);
    assert!(seen[2..].iter().all(|s| s.dropped() == 0), "counted once");

    // The pixel: a product view refused, then a collection view carries the count.
    let proxy = Proxy::start(rig.server.addr).await?;
    proxy.refuse_next(&[Refusal::new(400, None)]);
    let shopper = "feedfacecafe0003";
    open_pixel(&rig, &proxy.url(), true).await?;
    pixel_ids(&rig, shopper).await?;
    emit(&rig, "product_viewed").await?;
    wait_seen(&proxy, 1).await?;
    emit(&rig, "collection_viewed").await?;
    let seen = wait_seen(&proxy, 2).await?;
    assert_eq!((seen[0].status, seen[1].status), (400, 200));
    assert_eq!((seen[0].dropped(), seen[1].dropped()), (0, 1), "{:?}", seen[1].batch);
    let stored = rig.wait_stored(SITE, shopper, "the collection view", |e| !e.is_empty()).await?;
    assert_eq!(stored.iter().map(|e| e.event.kind().as_str()).collect::<Vec<_>>(), ["col"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(proxy.seen().len(), 2, "the refused batch was sent again");
    rig.close().await
}

#[tokio::test]
async fn unsent_batches_are_kept_only_with_consent_and_deleted_when_it_is_withdrawn() -> anyhow::Result<()> {
    let rig = TrackerRig::start("e2e-refusals-consent").await?;
    let kept = format!("sessionStorage.getItem('{TRACKER_KEY}')");

    // The tracker, before consent: nothing in storage.
    let proxy = Proxy::start(rig.server.addr).await?;
    let page = format!("/test/tracker.html?endpoint={}", proxy.url());
    assert_eq!(rig.open(&page).await?, "waiting");
    assert_eq!(rig.js(&format!("return {kept}")).await?, Value::Null);
    // With consent, the page view is refused with a long pause, so it is still
    // waiting when the page ends, and the next page takes it up.
    proxy.refuse_next(&[Refusal::new(503, Some(120))]);
    rig.accept().await?;
    wait_seen(&proxy, 1).await?;
    assert_eq!(rig.open(&page).await?, "tracking");
    let batch = proxy.seen()[0].batch_id().to_owned();
    let text = rig.browser.wait_for(&kept, WAIT).await?;
    assert!(text.as_str().is_some_and(|t| t.contains(&batch)), "the waiting batch in storage: {text}");
    assert_eq!(proxy.seen().len(), 1, "nothing sent during the collector's pause");
    // Withdrawn: deleted at once, and never sent.
    rig.revoke().await?;
    assert_eq!(rig.js(&format!("return {kept}")).await?, Value::Null, "kept after consent was withdrawn");
    rig.open(&page).await?;
    assert_eq!(rig.js(&format!("return {kept}")).await?, Value::Null);
    assert_eq!(proxy.seen().len(), 1, "sent after consent was withdrawn");

    // The pixel, before consent: no storage read or written.
    let proxy = Proxy::start(rig.server.addr).await?;
    let kept = format!("sessionStorage.getItem('{PIXEL_KEY}')");
    open_pixel(&rig, &proxy.url(), false).await?;
    pixel_ids(&rig, "feedfacecafe0004").await?;
    emit(&rig, "product_viewed").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = rig.js("return pixel.storageCalls.filter(c => c.op !== 'removeItem').length").await?;
    assert_eq!(calls, json!(0), "the pixel read or wrote storage before consent");
    // With consent a refused batch is kept; withdrawn, it is deleted.
    proxy.refuse_next(&[Refusal::new(503, Some(120))]);
    rig.js("pixel.setConsent(true); return null").await?;
    emit(&rig, "product_viewed").await?;
    rig.browser.wait_for(&format!("{kept} !== null"), WAIT).await.context("the refused batch kept")?;
    rig.js("pixel.setConsent(false); return null").await?;
    rig.browser.wait_for(&format!("{kept} === null"), WAIT).await.context("deleted on withdrawal")?;
    assert_eq!(proxy.seen().len(), 1);
    rig.close().await
}
