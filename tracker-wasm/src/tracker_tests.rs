//! Unit tests of the recording core, reading back the JSON bodies it builds.

use super::*;
use crate::dead::{Seen, DEAD_AFTER_MS};
use crate::session::IDLE_MS;
use protocol::Kind;

fn ids() -> Box<dyn FnMut() -> String> {
    let mut n = 0u64;
    Box::new(move || {
        n += 1;
        format!("{n:016x}")
    })
}

fn page() -> PageInfo {
    PageInfo {
        url: "https://shop.example/products/tee".into(),
        referrer: "https://shop.example/".into(),
        title: "Tee".into(),
        viewport: (1280, 800),
        screen: (1920, 1080),
        doc: (1280, 4000),
        tz_offset_min: -60,
        visible: true,
    }
}

fn tracker(now: u64) -> Tracker {
    let who = Identity { site_id: 7, visitor_id: "9f86d081884c7d65".into() };
    Tracker::start(who, None, page(), now, ids())
}

fn node(tag: &str, id: Option<&str>, nth: u32, sib: bool) -> PathNode {
    PathNode { tag: tag.into(), id: id.map(Into::into), nth_of_type: nth, has_same_type_sibling: sib }
}

fn click_at(x: i32, y: i32) -> ClickInput {
    ClickInput {
        x,
        y,
        cx: x,
        cy: y - 100,
        button: 0,
        classes: vec!["btn".into(), "css-1x2y3z".into()],
        path: vec![
            node("a", Some("ember42"), 2, true),
            node("div", None, 1, false),
            node("body", None, 1, false),
        ],
        href: Some("/cart".into()),
        // The click 20 px from the box's left edge and 10 px from its top.
        rect: [f64::from(x - 20), f64::from(y - 110), 80.0, 40.0],
        viewport_width: 1280,
        ..ClickInput::default()
    }
}

/// Packs and sends the next body at `now`, which the collector takes.
fn delivered(t: &mut Tracker, now: u64) -> Option<String> {
    t.pack(now);
    let (id, body) = t.next_request(now, SEND_BUDGET).map(|(id, b)| (id, b.to_owned()))?;
    t.answered(id, 200, None, now);
    Some(body)
}

/// Sends the next body at `now` and answers it with `status`.
fn answer_next(t: &mut Tracker, now: u64, status: u16, retry_after: Option<&str>) -> Option<String> {
    t.pack(now);
    let (id, body) = t.next_request(now, SEND_BUDGET).map(|(id, b)| (id, b.to_owned()))?;
    t.answered(id, status, retry_after, now);
    Some(body)
}

fn parse(body: &str) -> Batch {
    serde_json::from_str(body).expect("valid batch")
}

/// Seals and takes every body at `now`, after deciding the clicks whose second
/// has ended.
fn drain(t: &mut Tracker, now: u64) -> Vec<Batch> {
    t.clicks_seen(Seen::Time, now);
    t.seal(now);
    std::iter::from_fn(|| delivered(t, now))
        .map(|b| {
            assert!(b.len() <= MAX_BODY, "body of {} bytes", b.len());
            let batch: Batch = serde_json::from_str(&b).expect("valid batch");
            batch.validate(&protocol::Limits::default()).expect("within limits");
            batch
        })
        .collect()
}

fn events(batches: &[Batch]) -> Vec<Event> {
    batches.iter().flat_map(|b| b.events.clone()).collect()
}

#[test]
fn starting_records_a_page_view_with_the_page_fields() {
    let mut t = tracker(1_000);
    let batches = drain(&mut t, 1_500);
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    assert_eq!((b.site_id, b.visitor_id.as_str(), b.sent_at), (7, "9f86d081884c7d65", 1_500));
    assert!(b.session_id.as_deref().is_some_and(protocol::is_hex16));
    assert!(b.page_view_id.as_deref().is_some_and(protocol::is_hex16));
    let Event::PageView(pv) = &b.events[0] else { panic!("{:?}", b.events) };
    assert_eq!(pv.url, "https://shop.example/products/tee");
    assert_eq!(
        (pv.viewport_width, pv.screen_height, pv.doc_height, pv.tz_offset_min),
        (1280, 1080, 4000, -60)
    );
    assert!(delivered(&mut t, 2_000).is_none(), "nothing left to send");
}

#[test]
fn clicks_carry_coordinates_element_and_time_since_page_view() {
    let mut t = tracker(1_000);
    t.click(click_at(40, 900), 3_000);
    let evs = events(&drain(&mut t, 3_000 + DEAD_AFTER_MS));
    let Event::Click(c) = &evs[1] else { panic!("{evs:?}") };
    assert_eq!((c.x, c.y, c.cx, c.cy, c.since_page_view_ms), (40, 900, 40, 800, 2_000));
    assert_eq!(c.tag, "a");
    assert_eq!(c.element_id, None, "generated id dropped");
    assert_eq!(c.classes, ["btn"]);
    assert_eq!(c.selector, "body > div > a:nth-of-type(2)");
    assert_eq!(c.href.as_deref(), Some("/cart"));
    assert!(!c.rage);
    assert_eq!((c.rel_x, c.rel_y, c.viewport_width), (Some(250), Some(250), Some(1280)));
}

#[test]
fn a_click_on_a_box_of_no_size_or_with_no_viewport_width_leaves_them_out() {
    let mut t = tracker(0);
    let mut c = click_at(40, 900);
    c.rect[3] = 0.0;
    c.viewport_width = 0;
    t.click(c, 10);
    t.clicks_seen(Seen::Leave, 0);
    let body = delivered(&mut t, 20).expect("a body");
    let click = body.split("\"k\":\"c\"").nth(1).expect("the click");
    for key in ["\"rx\"", "\"ry\"", "\"vw\"", "\"dd\""] {
        assert!(!click.contains(key), "{key} in {click}");
    }
}

fn clicks_of(batches: &[Batch]) -> Vec<Click> {
    events(batches).into_iter().filter_map(|e| if let Event::Click(c) = e { Some(c) } else { None }).collect()
}

#[test]
fn a_click_nothing_answers_within_a_second_is_buffered_dead_then() {
    let mut t = tracker(0);
    t.click(click_at(40, 900), 1_000);
    assert_eq!(t.click_deadline(), Some(1_000 + DEAD_AFTER_MS));
    assert!(clicks_of(&drain(&mut t, 1_999)).is_empty(), "undecided clicks wait");
    let c = clicks_of(&drain(&mut t, 2_000));
    assert_eq!(c.iter().map(|c| (c.time, c.dead)).collect::<Vec<_>>(), [(1_000, true)]);
    assert_eq!(t.click_deadline(), None, "nothing left to watch for");
}

#[test]
fn a_click_the_page_answers_is_not_dead() {
    let mut t = tracker(0);
    t.click(click_at(40, 900), 1_000);
    t.clicks_seen(Seen::Change, 1_300);
    assert_eq!(t.click_deadline(), None);
    let c = clicks_of(&drain(&mut t, 1_300));
    assert_eq!(c.iter().map(|c| c.dead).collect::<Vec<_>>(), [false]);
}

#[test]
fn clicks_waiting_when_the_page_is_left_go_out_with_the_leave_not_dead() {
    let mut t = tracker(0);
    t.click(click_at(40, 900), 1_000);
    t.leave(1_200);
    let evs = events(&drain(&mut t, 1_200));
    let kinds: Vec<Kind> = evs.iter().map(Event::kind).collect();
    assert_eq!(kinds, [Kind::PageView, Kind::Click, Kind::PageLeave]);
    assert!(clicks_of(&drain(&mut t, 1_200)).is_empty());
    let Event::Click(c) = &evs[1] else { panic!() };
    assert!(!c.dead);
}

#[test]
fn clicks_into_fields_or_links_opened_elsewhere_are_buffered_at_once() {
    let mut t = tracker(0);
    let mut field = click_at(40, 900);
    field.path[0].tag = "input".into();
    field.href = None;
    field.answers_itself = true;
    t.click(field, 1_000);
    let mut new_tab = click_at(300, 900);
    new_tab.modifier = true;
    t.click(new_tab, 1_100);
    let mut blank = click_at(600, 900);
    blank.answers_itself = true;
    t.click(blank, 1_200);
    assert_eq!(t.click_deadline(), None, "nothing to watch for");
    let c = clicks_of(&drain(&mut t, 1_200));
    assert_eq!(
        c.iter().map(|c| (c.time, c.dead)).collect::<Vec<_>>(),
        [(1_000, false), (1_100, false), (1_200, false)]
    );
    // A modifier on a click outside any link opens nothing: it may be dead.
    let mut plain = click_at(900, 900);
    plain.href = None;
    plain.modifier = true;
    t.click(plain, 2_000);
    assert_eq!(t.click_deadline(), Some(2_000 + DEAD_AFTER_MS));
}

#[test]
fn repeated_clicks_in_one_spot_are_flagged_as_rage() {
    let mut t = tracker(0);
    for i in 0..4 {
        t.click(click_at(100, 100), 100 + i * 150);
    }
    let flags: Vec<(bool, bool)> =
        clicks_of(&drain(&mut t, 2_000)).iter().map(|c| (c.rage, c.dead)).collect();
    // Four clicks on a link that did nothing: dead, the last two rage as well.
    assert_eq!(flags, [(false, true), (false, true), (true, true), (true, true)]);
}

#[test]
fn moves_are_merged_into_point_lists() {
    let mut t = tracker(0);
    for i in 0..1_000u64 {
        t.mouse_move((i * 7 % 1200) as i32, (i * 3) as i32, 10 + i * 10);
    }
    let evs = events(&drain(&mut t, 20_000));
    let points: usize = evs.iter().map(|e| if let Event::Moves(m) = e { m.points.len() } else { 0 }).sum();
    // 10 s of moves every 10 ms: at most one point per 50 ms, plus the resting point.
    assert!((150..=201).contains(&points), "{points} points");
    assert!(evs.iter().filter(|e| e.kind() == Kind::Moves).count() <= 4);
}

#[test]
fn a_count_of_events_asks_for_a_flush() {
    let mut t = tracker(0);
    let asks: Vec<bool> =
        (0..FLUSH_COUNT as u64).map(|i| t.click(click_at(i as i32 * 100, 0), 2_000 * i)).collect();
    // The page view is the first buffered event, and each click is buffered once
    // decided, at the next one here: the 40th click brings the 39th, the 40th event.
    assert_eq!(asks.iter().position(|&a| a), Some(FLUSH_COUNT - 1));
}

#[test]
fn large_buffers_are_split_into_bodies_under_the_keepalive_budget() {
    let mut t = tracker(0);
    for i in 0..300u64 {
        let mut c = click_at(i as i32, 0);
        c.href = Some(format!("/products/{}", "x".repeat(400)));
        t.click(c, 2_000 * i);
    }
    let batches = drain(&mut t, 1_000_000);
    assert!(batches.len() >= 9, "{} batches", batches.len());
    let ids: std::collections::HashSet<_> = batches.iter().map(|b| b.batch_id.clone()).collect();
    assert_eq!(ids.len(), batches.len(), "batch ids are unique");
    assert_eq!(events(&batches).len(), 301);
}

#[test]
fn long_strings_are_clipped_below_the_protocol_limit() {
    let mut t = tracker(0);
    let mut c = click_at(0, 0);
    c.href = Some("é".repeat(3_000));
    t.click(c, 10);
    let evs = events(&drain(&mut t, 10 + DEAD_AFTER_MS));
    let Event::Click(c) = &evs[1] else { panic!() };
    assert!(c.href.as_ref().is_some_and(|h| h.len() <= MAX_STR));
}

#[test]
fn hiding_the_page_records_visible_time_and_scroll_depth_once() {
    let mut t = tracker(0);
    t.scroll(1_200, 800, 4_000);
    t.hidden(10_000);
    t.hidden(10_500);
    t.visible(60_000);
    t.leave(65_000);
    let leaves: Vec<(u64, u8)> = events(&drain(&mut t, 70_000))
        .iter()
        .filter_map(
            |e| if let Event::PageLeave(l) = e { Some((l.duration_ms, l.scroll_depth)) } else { None },
        )
        .collect();
    assert_eq!(leaves, [(10_000, 50), (15_000, 50)]);
}

#[test]
fn deeper_scrolls_are_reported_once_per_flush() {
    let mut t = tracker(0);
    t.scroll(0, 800, 4_000);
    t.scroll(2_000, 800, 4_000);
    let first = events(&drain(&mut t, 100));
    t.scroll(1_000, 800, 4_000);
    let second = events(&drain(&mut t, 200));
    let depth: Vec<u8> =
        first.iter().filter_map(|e| if let Event::Scroll(s) = e { Some(s.depth) } else { None }).collect();
    assert_eq!(depth, [70]);
    assert!(second.is_empty(), "{second:?}");
}

#[test]
fn a_session_rolls_after_30_minutes_idle_with_a_new_page_view() {
    let mut t = tracker(0);
    t.click(click_at(1, 1), 1_000);
    t.click(click_at(1, 1), 1_000 + IDLE_MS + 1);
    let batches = drain(&mut t, 1_000 + IDLE_MS + 1 + DEAD_AFTER_MS);
    assert_eq!(batches.len(), 2);
    assert_ne!(batches[0].session_id, batches[1].session_id);
    assert_ne!(batches[0].page_view_id, batches[1].page_view_id);
    let kinds = |b: &Batch| b.events.iter().map(Event::kind).collect::<Vec<_>>();
    assert_eq!(kinds(&batches[0]), [Kind::PageView, Kind::Click]);
    assert_eq!(kinds(&batches[1]), [Kind::PageView, Kind::Click]);
}

#[test]
fn a_session_resumes_from_its_cookie_across_pages() {
    let first = tracker(0);
    let cookie = first.session_cookie();
    let who = Identity { site_id: 7, visitor_id: "9f86d081884c7d65".into() };
    let mut second = Tracker::start(who, Some(&cookie), page(), 60_000, ids());
    let b = drain(&mut second, 60_001);
    assert_eq!(b[0].session_id.as_deref(), cookie.split('.').next());
}

#[test]
fn drops_are_reported_in_the_next_batch() {
    let mut t = tracker(0);
    for i in 0..(crate::buffer::CAPACITY as u64 + 25) {
        t.click(click_at((i * 50) as i32, 0), 2_000 * i);
    }
    let batches = drain(&mut t, 10_000_000);
    assert_eq!(batches[0].dropped, 26, "25 clicks over capacity plus the page view slot");
    assert!(batches[1..].iter().all(|b| b.dropped == 0));
}

#[test]
fn a_rate_limited_body_waits_for_retry_after_and_goes_again_unchanged() {
    let mut t = tracker(0);
    let first = answer_next(&mut t, 10, 429, Some("2")).expect("page view body");
    t.click(click_at(1, 1), 20);
    t.clicks_seen(Seen::Time, 20 + DEAD_AFTER_MS);
    assert!(answer_next(&mut t, 2_009, 200, None).is_none(), "paused until Retry-After has passed");
    let again = answer_next(&mut t, 2_010, 503, Some("1")).expect("sent again");
    assert_eq!(again, first, "the same body, batch id included");
    assert_eq!(delivered(&mut t, 3_010).as_deref(), Some(first.as_str()), "once more, then taken");
    let next = delivered(&mut t, 3_010).expect("the click's body");
    assert!(next.contains("\"k\":\"c\"") && parse(&next).dropped == 0, "{next}");
    assert!(delivered(&mut t, 3_010).is_none());
}

#[test]
fn a_body_refused_for_good_is_dropped_and_counted_in_the_next_batch() {
    let mut t = tracker(0);
    let refused = answer_next(&mut t, 10, 400, None).expect("page view body");
    assert_eq!(parse(&refused).events.len(), 1);
    t.click(click_at(1, 1), 20);
    t.clicks_seen(Seen::Time, 20 + DEAD_AFTER_MS);
    let next = parse(&delivered(&mut t, 30 + DEAD_AFTER_MS).expect("the click's body"));
    assert_eq!(next.dropped, 1, "the page view");
    assert_eq!(next.events.len(), 1);
    assert!(!next.events.iter().any(|e| e.kind() == Kind::PageView), "not sent again");
}

#[test]
fn a_body_lost_on_the_network_goes_again_with_its_batch_id() {
    let mut t = tracker(0);
    let lost = answer_next(&mut t, 10, 0, None).expect("page view body");
    assert_eq!(delivered(&mut t, 10 + protocol::delivery::NETWORK_RETRY_MS), Some(lost));
}

#[test]
fn while_the_collector_refuses_bodies_and_events_stay_bounded_and_drops_are_counted() {
    let mut t = tracker(0);
    let mut now = 0;
    let mut refused = 0;
    // An hour of clicks under 503s with a long Retry-After.
    for i in 0..3_600u64 {
        now = i * 1_000;
        t.click(click_at((i % 500) as i32, 0), now);
        t.clicks_seen(Seen::Time, now);
        if answer_next(&mut t, now, 503, Some("300")).is_some() {
            refused += 1;
        }
        assert!(t.outbox_bytes() <= protocol::delivery::MAX_BYTES);
        assert!(t.buffered() <= crate::buffer::CAPACITY);
    }
    assert!(refused >= 10, "one probe per pause: {refused}");
    let batches = drain(&mut t, now + 300_000);
    let dropped: u32 = batches.iter().map(|b| b.dropped).sum();
    let clicks = events(&batches).iter().filter(|e| e.kind() == Kind::Click).count() as u32;
    assert_eq!(clicks + dropped, 3_600 + 1, "every click and the page view, sent or counted");
}

#[test]
fn what_a_page_leaves_unsent_goes_first_from_the_next_page() {
    let mut first = tracker(0);
    first.leave(50);
    first.pack(50);
    // On the wire as the page ends: its answer will never be read.
    let (_, body) = first.next_request(50, LEAVE_BUDGET).map(|(id, b)| (id, b.to_owned())).expect("a body");
    let kept = first.stored();
    assert!(kept.contains(&body), "{kept}");

    let who = Identity { site_id: 7, visitor_id: "9f86d081884c7d65".into() };
    let mut second = Tracker::start(who, Some(&first.session_cookie()), page(), 60_000, ids());
    second.restore(&kept);
    assert_eq!(delivered(&mut second, 60_001), Some(body), "the first page's body first");
    let own = parse(&delivered(&mut second, 60_001).expect("the second page view"));
    assert_eq!(own.events[0].kind(), Kind::PageView);
    assert_eq!(second.stored(), "", "nothing left to keep");
}

#[test]
fn bytes_on_the_wire_stay_under_the_keepalive_quota() {
    let mut t = tracker(0);
    for i in 0..(crate::buffer::CAPACITY as u64) {
        let mut c = click_at(i as i32, 0);
        c.href = Some(format!("/{}", "p".repeat(900)));
        t.click(c, i);
    }
    t.leave(1_000);
    t.pack(1_000);
    let mut on_the_wire = 0;
    while let Some((_, body)) = t.next_request(1_000, SEND_BUDGET) {
        on_the_wire += body.len();
    }
    assert!(on_the_wire <= SEND_BUDGET, "{on_the_wire}");
    while let Some((_, body)) = t.next_request(1_000, LEAVE_BUDGET) {
        on_the_wire += body.len();
    }
    assert!(on_the_wire > SEND_BUDGET && on_the_wire <= LEAVE_BUDGET, "{on_the_wire}");
}

#[test]
fn query_values_off_the_allow_list_and_fragments_are_not_sent() {
    assert_eq!(
        redact_url("https://shop.example/pages/thanks?email=jo%40example.com&utm_source=nl#t=jo@example.com"),
        "https://shop.example/pages/thanks?email=&utm_source=nl"
    );
    assert_eq!(redact_url("/search?q=a@b.c"), "/search?q=");
    assert_eq!(redact_url("/search?q=red+dress&page=2"), "/search?q=&page=2", "a typed search term");
    assert_eq!(redact_url("/?utm_term=jo%40example.com&utm_source=nl"), "/?utm_term=&utm_source=nl");
    assert_eq!(
        redact_url("/account/activate?token=f00dfeed&utm_medium=email&filter.v.price.gte=10&sort_by=price"),
        "/account/activate?token=&utm_medium=email&filter.v.price.gte=10&sort_by=price"
    );
    assert_eq!(redact_url("/products/tee?variant=40001234567"), "/products/tee?variant=40001234567");
    assert_eq!(redact_url("mailto:shop@example.com"), "redacted");
    assert_eq!(redact_url("/x?jo@example.com&page=2"), "/x?page=2", "an email as a key");
    assert_eq!(redact_url("/x?jo%40example.com=1&q=a"), "/x?q=", "an encoded email as a key");
    assert_eq!(redact_url("/x?0f3b27c6e0f1f3f2c3a4b5c6d7e8f901&page=2"), "/x?page=2", "a token as a key");
    let mut p = page();
    p.url = "https://shop.example/account/reset/6543210987654/0f3b27c6e0f1f3f2c3a4b5c6d7e8f901-1700000000?e=x%40y.z"
        .into();
    p.referrer = "https://mail.example/u/x@y.z/inbox?to=x@y.z".into();
    let who = Identity { site_id: 7, visitor_id: "9f86d081884c7d65".into() };
    let mut t = Tracker::start(who, None, p, 0, ids());
    let mut c = click_at(1, 1);
    c.href = Some("/account?login=x@y.z".into());
    t.click(c, 5);
    t.clicks_seen(Seen::Leave, 0);
    let body: String = std::iter::from_fn(|| delivered(&mut t, 10)).collect();
    assert!(!body.contains("x@y.z") && !body.contains("x%40y.z"), "{body}");
    for secret in ["6543210987654", "0f3b27c6e0f1", "1700000000"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
    assert!(body.contains("https://shop.example/account/reset/redacted/redacted?e="), "{body}");
    assert!(body.contains("https://mail.example/u/redacted/inbox?to="), "{body}");
}

#[test]
fn private_path_segments_are_not_sent() {
    for (url, sent) in [
        (
            "https://shop.example/checkouts/cn/Z2NwLWV1cm9wZS13ZXN0MTowMUpDQVJUVE9LRU4/thank-you",
            "https://shop.example/checkouts/cn/redacted/thank-you",
        ),
        ("https://shop.example/orders/12345678?page=2#top", "https://shop.example/orders/redacted?page=2"),
        ("/orders/123e4567-e89b-12d3-a456-426614174000", "/orders/redacted"),
        // Words, short numbers and the host stay.
        (
            "https://a-very-long-shop-name-2024.myshopify.com/products/tee-1234567",
            "https://a-very-long-shop-name-2024.myshopify.com/products/tee-1234567",
        ),
    ] {
        assert_eq!(redact_url(url), sent, "{url}");
    }
}
