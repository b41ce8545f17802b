//! The recording core: turns what the page reports (page info, clicks, moves,
//! scrolls, visibility) into protocol events, and the buffer into batch bodies.
//! No browser API here, so all of it runs in native unit tests.
//!
//! Flush policy: the edge packs the buffer into bodies and sends them every
//! [`FLUSH_INTERVAL_MS`], as soon as [`FLUSH_COUNT`] events wait, and when the
//! page is hidden or left. A body holds at most [`MAX_EVENTS`] events and
//! [`MAX_BODY`] bytes. Bodies wait in the [`Outbox`] until the collector takes
//! them (the shared rule of [`protocol::delivery`]: 429 and 503 wait out
//! `Retry-After`, other 4xx drop and count); the bytes on the wire stay within
//! [`SEND_BUDGET`], or [`LEAVE_BUDGET`] when the page is left, under the browser's
//! 64 KiB for `fetch(..., {keepalive: true})`.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use protocol::delivery::Outbox;
use protocol::{Batch, Click, Event, PageLeave, PageView, Scroll};

use crate::buffer::Buffer;
use crate::capture::{Moves, Rage, ScrollDepth};
use crate::dead::{self, Pending, Seen};
use crate::selector::{self, PathNode};
use crate::session::{PageClock, Session};
use protocol::text;

pub const FLUSH_INTERVAL_MS: u64 = 5_000;
pub const FLUSH_COUNT: usize = 40;
pub const MAX_EVENTS: usize = 100;
pub const MAX_BODY: usize = 16_000;
/// Bytes of bodies on the wire at once while the page lives: three whole bodies,
/// leaving room under the keepalive quota for the page end's.
pub const SEND_BUDGET: usize = 3 * MAX_BODY;
/// Bytes on the wire at once when the page is left: the browsers' keepalive
/// quota (64 KiB for a page's requests in flight), less a margin. What does not
/// fit stays in the outbox, which the edge keeps for the next page.
pub const LEAVE_BUDGET: usize = 64_000;
/// Longest string kept (URL, title, referrer, href), below the protocol's limit so
/// a long URL never gets a whole batch refused.
const MAX_STR: usize = 1_024;

/// What the page looks like when the page view starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub url: String,
    pub referrer: String,
    pub title: String,
    pub viewport: (u32, u32),
    pub screen: (u32, u32),
    pub doc: (u32, u32),
    pub tz_offset_min: i32,
    pub visible: bool,
}

/// A click as the edge reads it from the event and the DOM. There is no field for
/// text: the edge never reads values or text content, and this type cannot carry
/// them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClickInput {
    pub x: i32,
    pub y: i32,
    pub cx: i32,
    pub cy: i32,
    pub button: u8,
    /// Raw class names of the clicked element (filtered here).
    pub classes: Vec<String>,
    /// From the clicked element up to `<body>`; the first entry is the element.
    pub path: Vec<PathNode>,
    /// `href` of the nearest enclosing link.
    pub href: Option<String>,
    /// Ctrl, Cmd or Shift was held (a link then opens in a new tab or window).
    pub modifier: bool,
    /// The element is within one that matches [`dead::ANSWERS_ITSELF`].
    pub answers_itself: bool,
    /// The element's box (`getBoundingClientRect()`): left, top, width, height in
    /// viewport pixels.
    pub rect: [f64; 4],
    /// `innerWidth`, as in the page view.
    pub viewport_width: u32,
}

/// Who is recording: fixed for the tracker's life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub site_id: u32,
    pub visitor_id: String,
}

pub struct Tracker {
    who: Identity,
    session: Session,
    page_view_id: String,
    page: PageInfo,
    clock: PageClock,
    buffer: Buffer,
    moves: Moves,
    rage: Rage,
    /// Clicks waiting to be decided dead or not: see [`dead`].
    clicks: Pending,
    scroll: ScrollDepth,
    /// Bodies between built and taken by the collector.
    outbox: Outbox,
    /// A page leave is in the buffer since the page was last visible.
    left: bool,
    ids: Box<dyn FnMut() -> String>,
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("who", &self.who)
            .field("session", &self.session)
            .field("page_view_id", &self.page_view_id)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

/// A URL as sent, by [`protocol::url`]'s rule: the fragment dropped; a path
/// segment that looks like an email, a token or a long number replaced by
/// `redacted` (the shared [`protocol::url::redact_path`]); the value of every
/// query parameter emptied but those that say which page it is and never who
/// (`utm_*`, `variant`, `page`, `sort_by`, Shopify's `filter.*`), and an email
/// empties even an allowed value; a key that looks like an email or a token
/// goes with its value.
/// The key of any other parameter stays, so reports still see the page's
/// shape. A search term, a reset or checkout token or an email never leaves
/// the browser.
///
/// The query part is written here, not taken from [`protocol::url::redact`]:
/// that one also drops keys that are not plain names (and empty pairs), and
/// the tracker with it was 138 B brotli bigger, 115 over its budget (measured
/// 2026-12-02); the server drops such keys before anything is kept. A key
/// that is not a plain name but starts with an allowed prefix keeps its value
/// here, as it would under the allowed name.
pub fn redact_url(url: &str) -> String {
    let base = text::before(url, b'#');
    let (path, query) = text::split_once(base, b'?').unwrap_or((base, ""));
    let mut out = String::with_capacity(base.len());
    protocol::url::redact_path(path, &mut out);
    let mut sep = '?';
    for pair in text::split(query, b'&').filter(|p| !p.is_empty()) {
        let (key, value) = text::split_once(pair, b'=').unwrap_or((pair, ""));
        if protocol::url::private_segment(key) {
            continue;
        }
        out.push(sep);
        sep = '&';
        if value.is_empty() || protocol::url::kept_value(key, value) {
            out.push_str(pair);
        } else {
            out.push_str(key);
            out.push('=');
        }
    }
    clip(&out)
}

fn clip(s: &str) -> String {
    if s.len() <= MAX_STR {
        return s.to_owned();
    }
    let mut end = MAX_STR;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}

impl Tracker {
    /// Starts recording: resumes or opens the session and records the page view.
    pub fn start(
        who: Identity,
        session_cookie: Option<&str>,
        page: PageInfo,
        now: u64,
        mut ids: Box<dyn FnMut() -> String>,
    ) -> Self {
        let session = Session::resume(session_cookie, now, ids());
        let page_view_id = ids();
        let clock = PageClock::new(now, page.visible);
        let mut t = Self {
            who,
            session,
            page_view_id,
            page,
            clock,
            buffer: Buffer::default(),
            moves: Moves::default(),
            rage: Rage::default(),
            clicks: Pending::default(),
            scroll: ScrollDepth::default(),
            outbox: Outbox::default(),
            left: false,
            ids,
        };
        t.record_page_view(now);
        t
    }

    pub fn visitor_id(&self) -> &str {
        &self.who.visitor_id
    }

    pub fn session_cookie(&self) -> String {
        self.session.cookie_value()
    }

    fn record_page_view(&mut self, now: u64) {
        let p = &self.page;
        self.buffer.push(Event::PageView(PageView {
            time: now,
            url: redact_url(&p.url),
            referrer: redact_url(&p.referrer),
            title: clip(&p.title),
            viewport_width: p.viewport.0,
            viewport_height: p.viewport.1,
            screen_width: p.screen.0,
            screen_height: p.screen.1,
            tz_offset_min: p.tz_offset_min,
            doc_width: p.doc.0,
            doc_height: p.doc.1,
        }));
    }

    /// Activity at `now`: after 30 minutes idle the session rolls. What was
    /// recorded belongs to the old session and is packed with its ids; the page
    /// gets a fresh page view in the new session, so every session starts with one.
    fn activity(&mut self, now: u64) {
        if self.session.expired(now) {
            self.seal(now);
            while let Some((body, events)) = self.build(now) {
                self.outbox.push(body, events, now);
            }
            let id = (self.ids)();
            self.session.roll(now, id);
            self.page_view_id = (self.ids)();
            self.clock = PageClock::new(now, self.clock.is_visible());
            self.scroll = ScrollDepth::default();
            self.left = false;
            self.record_page_view(now);
        }
        self.session.touch(now);
    }

    /// Records a click; true when enough is buffered to flush now. A click that
    /// may be dead waits for its verdict ([`Tracker::click_deadline`]); the edge
    /// then watches the page and reports what it sees ([`Tracker::clicks_seen`]).
    pub fn click(&mut self, c: ClickInput, now: u64) -> bool {
        // Clicks whose second has ended are decided first: they belong to the
        // session as it was, should this click roll it.
        self.clicks_seen(Seen::Time, now);
        self.activity(now);
        let rage = self.rage.click(c.x, c.y, now);
        let el = c.path.first();
        let may_be_dead = dead::may_be_dead(c.answers_itself, c.modifier, c.href.is_some());
        let (rel_x, rel_y) = dead::rel_position((c.cx, c.cy), c.rect);
        let click = Click {
            time: now,
            x: c.x,
            y: c.y,
            cx: c.cx,
            cy: c.cy,
            since_page_view_ms: now.saturating_sub(self.clock.started),
            button: c.button,
            tag: el.map_or_else(String::new, |n| n.tag.clone()),
            element_id: el.and_then(|n| n.id.clone()).filter(|id| !selector::looks_generated(id)),
            classes: selector::stable_classes(c.classes.iter().map(String::as_str)),
            selector: clip(&selector::selector(&c.path)),
            href: c.href.as_deref().map(redact_url),
            rage,
            rel_x,
            rel_y,
            viewport_width: Some(c.viewport_width).filter(|w| *w > 0),
            dead: false,
        };
        let decided = if may_be_dead { self.clicks.add(click) } else { Some(click) };
        if let Some(click) = decided {
            self.buffer.push(Event::Click(click));
        }
        self.buffer.len() >= FLUSH_COUNT
    }

    /// When the edge should report [`Seen::Time`]; None when no click waits, and
    /// the page need not be watched.
    pub fn click_deadline(&self) -> Option<u64> {
        self.clicks.deadline()
    }

    /// What the edge saw at `now` while clicks waited: the clicks it decides go
    /// to the buffer ([`Pending::next_decided`]). True when a flush is due.
    pub fn clicks_seen(&mut self, seen: Seen, now: u64) -> bool {
        while let Some(c) = self.clicks.next_decided(seen, now) {
            self.buffer.push(Event::Click(c));
        }
        self.buffer.len() >= FLUSH_COUNT
    }

    /// Records a mouse move in page coordinates; true when a flush is due.
    #[inline]
    pub fn mouse_move(&mut self, x: i32, y: i32, now: u64) -> bool {
        if let Some(list) = self.moves.feed(x, y, now) {
            self.activity(now);
            self.buffer.push(Event::Moves(list));
            return self.buffer.len() >= FLUSH_COUNT;
        }
        false
    }

    /// Whether a move at `now` would be merged away whatever its position, so the
    /// edge need not read its coordinates (the hot path: most moves end here).
    #[inline]
    pub fn move_too_soon(&self, now: u64) -> bool {
        self.moves.too_soon(now)
    }

    pub fn scroll(&mut self, scroll_y: i32, viewport_h: i32, doc_h: i32) {
        self.scroll.observe(scroll_y, viewport_h, doc_h);
    }

    /// The page was hidden (tab switch, app switch, or the first step of leaving):
    /// time on page so far goes out now, since a hidden page may never come back.
    pub fn hidden(&mut self, now: u64) {
        self.clock.hidden(now);
        self.leave(now);
    }

    pub fn visible(&mut self, now: u64) {
        self.clock.visible(now);
        self.left = false;
    }

    /// Records the page leave (time on page, deepest scroll) once per visible
    /// stretch; the server keeps the last one of a page view. Clicks still waiting
    /// for their verdict go out with it, undecided.
    pub fn leave(&mut self, now: u64) {
        self.clicks_seen(Seen::Leave, now);
        if self.left {
            return;
        }
        self.left = true;
        self.seal(now);
        self.buffer.push(Event::PageLeave(PageLeave {
            time: now,
            duration_ms: self.clock.visible_ms(now),
            scroll_depth: self.scroll.max_pct,
        }));
    }

    /// Moves pending points and a deeper scroll into the buffer, before a flush.
    pub fn seal(&mut self, now: u64) {
        if let Some(list) = self.moves.close() {
            self.buffer.push(Event::Moves(list));
        }
        if let Some((depth, y)) = self.scroll.take_deeper() {
            self.buffer.push(Event::Scroll(Scroll { time: now, depth, y }));
        }
    }

    /// Packs what is buffered into bodies, as far as the outbox has room: while
    /// the collector keeps refusing, the rest stays in the buffer, whose drop
    /// policy knows which events matter least. Call [`Tracker::seal`] first when
    /// flushing on the timer or on leaving.
    pub fn pack(&mut self, now: u64) {
        self.outbox.fit(now);
        while self.outbox.has_room(MAX_BODY) {
            let Some((body, events)) = self.build(now) else { break };
            self.outbox.push(body, events, now);
        }
    }

    /// The next request to make: its id and body, within `budget` bytes on the
    /// wire ([`SEND_BUDGET`], [`LEAVE_BUDGET`]). None while nothing may go.
    pub fn next_request(&mut self, now: u64, budget: usize) -> Option<(u32, &str)> {
        self.outbox.next(now, budget)
    }

    /// The collector's answer to request `id` (`status` 0: none, a network
    /// error), with its `Retry-After`.
    pub fn answered(&mut self, id: u32, status: u16, retry_after: Option<&str>, now: u64) {
        self.outbox.answered(id, status, retry_after, now);
    }

    /// What to keep in `sessionStorage` for the next page; empty when nothing.
    pub fn stored(&self) -> String {
        self.outbox.stored()
    }

    /// Takes up what an earlier page kept: sent before this page's bodies.
    pub fn restore(&mut self, text: &str) {
        self.outbox.restore(text);
    }

    /// A body and its event count, or None when there is nothing to report.
    fn build(&mut self, now: u64) -> Option<(String, u32)> {
        let dropped = self.buffer.take_dropped().saturating_add(self.outbox.take_dropped());
        if self.buffer.is_empty() && dropped == 0 {
            return None;
        }
        let mut batch = Batch {
            site_id: self.who.site_id,
            visitor_id: self.who.visitor_id.clone(),
            batch_id: (self.ids)(),
            sent_at: now,
            session_id: Some(self.session.id.clone()),
            page_view_id: Some(self.page_view_id.clone()),
            dropped,
            events: self.buffer.take(MAX_EVENTS),
        };
        loop {
            let body = crate::json::batch(&batch);
            if body.len() <= MAX_BODY || batch.events.len() <= 1 {
                return Some((body, batch.events.len() as u32));
            }
            let back = batch.events.split_off(batch.events.len() / 2);
            self.buffer.put_back(back);
        }
    }

    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Bytes of bodies waiting or on the wire.
    pub fn outbox_bytes(&self) -> usize {
        self.outbox.bytes()
    }
}

#[cfg(test)]
#[path = "tracker_tests.rs"]
mod tests;
