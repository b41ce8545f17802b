//! The wasm edge: boot, consent wiring, the recording listeners, the watch after
//! a click ([`watch`]), cookies, `fetch` and the collector's answers ([`net`]),
//! and the copy of unsent bodies in `sessionStorage` ([`store`]). Everything it
//! decides is delegated to the pure core.
//!
//! State lives in one `App`, created by the first good `boot` and kept for the
//! page's life; the callbacks the page calls reach it through a [`Shared`]
//! handle. Handlers borrow it briefly and never call page scripts while holding
//! it: the pixel hand-off runs after the borrow ends, since a page listener may
//! react by changing consent, which re-enters.

mod digest;
mod listen;
mod net;
mod page;
mod shopify;
mod store;
mod watch;

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, MouseEvent, Window};

use crate::config::Config;
use crate::consent::{Consent, Phase, Step};
use crate::dead::{Seen, DEAD_AFTER_MS};
use crate::ids;
use crate::session::IDLE_MS;
use crate::tracker::{Identity, Tracker, FLUSH_INTERVAL_MS, LEAVE_BUDGET, SEND_BUDGET};
use listen::{Interval, Listener};
use net::Poster;
use watch::Watch;

/// The session cookie: `<session id>.<last active ms>`; expires with the session.
const SESSION_COOKIE: &str = "_lummmen_ses";
/// The random visitor id used when consent is given but `consentId()` is empty.
const RANDOM_ID_COOKIE: &str = "_lummmen_rid";
/// 13 months, the usual ceiling for analytics cookies in the EU.
const ID_MAX_AGE_S: u32 = 395 * 24 * 3600;

#[wasm_bindgen]
extern "C" {
    /// The page's `window`, read once. (`web_sys::window()` tries `self`,
    /// `window`, `globalThis` and `global` in turn and checks the result is a
    /// `Window`: four imports and their glue where a storefront page needs one.)
    #[wasm_bindgen(thread_local_v2, js_name = window)]
    static WINDOW: Option<Window>;
}

/// Set by the first `boot` that starts a tracker (wasm is single-threaded).
static BOOTED: AtomicBool = AtomicBool::new(false);

/// The way back to the [`App`] from callbacks. Weak: the app is kept alive on
/// purpose (it lives as long as the page), not by the callbacks it owns.
#[derive(Clone)]
struct Shared(Weak<RefCell<App>>);

impl Shared {
    /// Runs `f` on the app, unless it is already borrowed (a re-entrant call from
    /// a page script), which is then skipped.
    fn with<R>(&self, f: impl FnOnce(&mut App) -> R) -> Option<R> {
        let app = self.0.upgrade()?;
        let mut app = app.try_borrow_mut().ok()?;
        Some(f(&mut app))
    }
}

struct App {
    me: Shared,
    config: Config,
    window: Window,
    document: Document,
    consent: Consent,
    recording: Option<Recording>,
    /// POSTs bodies; every answer comes back to [`App::answered`].
    poster: Poster,
    /// `sessionStorage` holds a copy of the outbox, kept in step from then on.
    kept: bool,
    _consent_listener: Listener,
}

/// Why a flush happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flush {
    /// Enough is buffered (or the page view at start): send what is there.
    Now,
    /// The flush timer.
    Timer,
    /// The page is hidden or being left.
    Leaving,
}

struct Recording {
    tracker: Tracker,
    /// The latest move that came too soon to keep, unread: its coordinates are
    /// read only if it turns out to be where the pointer rested (at flush).
    pending_move: Option<(MouseEvent, u64)>,
    /// Watches the page while a click waits for its verdict.
    watch: Watch,
    _listeners: [Listener; 5],
    _timer: Interval,
}

#[wasm_bindgen]
extern "C" {
    /// An element, for `setAttribute` without web-sys's `catch`: it throws only
    /// for an invalid name, and ours are constants.
    type Attrs;
    #[wasm_bindgen(method, js_name = setAttribute)]
    fn set(this: &Attrs, name: &str, value: &str);
}

/// Sets an attribute of the document element, where tests and page scripts read
/// the tracker's state.
fn mark(document: &Document, name: &str, value: &str) {
    if let Some(root) = document.document_element() {
        root.unchecked_ref::<Attrs>().set(name, value);
    }
}

fn set_phase(document: &Document, phase: Phase) {
    mark(document, "data-lummmen-state", phase.as_str());
}

/// Starts the tracker. Called by the loader with the embed's data attributes.
///
/// Marks the document element `data-lummmen="ready"` and fires `lummmen:ready` once
/// booted; `data-lummmen-state` then says `waiting` (for consent), `tracking` or
/// `excluded` (outside the sample). Until consent, the only listener is the one for
/// `visitorConsentCollected`: nothing is recorded, sent or stored. A bad
/// configuration is reported on the console and leaves the page untouched.
///
/// Returns nothing, and throws nothing: what could fail here (no `document`, an
/// attribute or event refused) does not happen in a page, and a `Result` would
/// carry its conversions into the download for nothing.
#[wasm_bindgen]
pub fn boot(site_id: &str, endpoint: &str, sample: &str) {
    let config = match Config::parse(site_id, endpoint, sample) {
        Ok(c) => c,
        Err(e) => {
            web_sys::console::warn_1(&JsValue::from_str(e.message()));
            return;
        }
    };
    if BOOTED.load(Ordering::Relaxed) {
        return; // the embed rendered twice: one tracker is enough
    }
    let Some(window) = WINDOW.with(Option::clone) else { return };
    let Some(document) = window.document() else { return };
    BOOTED.store(true, Ordering::Relaxed);
    let site = config.site_id;
    let app = Rc::new_cyclic(|me: &Weak<RefCell<App>>| {
        let me = Shared(me.clone());
        let shared = me.clone();
        let consent_listener = Listener::new(&document, "visitorConsentCollected", false, move |e| {
            if let Some(allowed) = shopify::allowed_in_detail(&e) {
                on_consent(&shared, allowed);
            }
        });
        let shared = me.clone();
        let poster = Poster::new(&config.endpoint, move |id, status, retry_after| {
            shared.with(|app| app.answered(id, status, retry_after.as_deref()));
        });
        RefCell::new(App {
            me,
            config,
            window: window.clone(),
            document: document.clone(),
            consent: Consent::default(),
            recording: None,
            poster,
            kept: false,
            _consent_listener: consent_listener,
        })
    });
    let shared = Shared(Rc::downgrade(&app));
    // The tracker lives as long as the page.
    core::mem::forget(app);
    set_phase(&document, Phase::Waiting);
    mark(&document, "data-lummmen", "ready");
    listen::fire(&document, "lummmen:ready", &JsValue::from_f64(f64::from(site)));

    match shopify::customer_privacy(&window) {
        Some(privacy) => on_consent(&shared, shopify::analytics_allowed(&privacy)),
        None => {
            // The theme did not load the consent API: ask Shopify for it. Without
            // `loadFeatures` either, only a `visitorConsentCollected` event can start us.
            let w = window.clone();
            shopify::load_consent_api(&window, move || {
                if let Some(privacy) = shopify::customer_privacy(&w) {
                    on_consent(&shared, shopify::analytics_allowed(&privacy));
                }
            });
        }
    }
}

fn on_consent(app: &Shared, allowed: bool) {
    match app.with(|app| app.consent.update(allowed)) {
        Some(Step::Start) => begin(app),
        Some(Step::Stop) => {
            app.with(App::stop);
        }
        // Refused from the start: what an earlier page may have kept goes too
        // (consent withdrawn where this tracker did not run).
        Some(Step::Stay) if !allowed => {
            app.with(App::forget);
        }
        _ => {}
    }
}

/// Consent given: the visitor id is the consent id's SHA-256, which the browser
/// computes asynchronously ([`digest`]); recording starts with its answer.
fn begin(app: &Shared) {
    let Some((window, consent_id)) = app.with(|app| {
        let privacy = shopify::customer_privacy(&app.window);
        (app.window.clone(), privacy.map(|p| shopify::consent_id(&p)).unwrap_or_default())
    }) else {
        return;
    };
    let me = app.clone();
    let hashing = ids::consent_key(&consent_id).is_some_and(|key| {
        digest::sha256(&window, key.as_bytes(), move |d| started(&me, ids::visitor_id(&d)))
    });
    if !hashing {
        started(app, None);
    }
}

/// Starts recording under `visitor` (or the random fallback id), then hands the
/// ids to the pixel, after the borrow ends.
fn started(app: &Shared, visitor: Option<String>) {
    if let Some(Some((window, document, visitor, site))) = app.with(|app| app.start(visitor)) {
        shopify::announce(&window, &document, &visitor, site);
    }
}

impl App {
    /// Decides the sample and starts recording, unless consent was withdrawn
    /// (or given again, and recording started) while the id was being hashed.
    /// `None` for `visitor`: a random id kept in a first-party cookie. Returns
    /// what the pixel hand-off needs.
    fn start(&mut self, visitor: Option<String>) -> Option<(Window, Document, String, u32)> {
        if !self.consent.allowed() || self.recording.is_some() {
            return None;
        }
        let d = &self.document;
        let visitor = visitor.unwrap_or_else(|| {
            // Consent without a consent id: a random id in a first-party cookie.
            let kept = page::get_cookie(d, RANDOM_ID_COOKIE).filter(|v| protocol::is_hex16(v));
            let id = kept.unwrap_or_else(|| page::random_id(&self.window));
            page::set_cookie(d, RANDOM_ID_COOKIE, &id, ID_MAX_AGE_S);
            id
        });
        if !ids::in_sample(&visitor, self.config.sample) {
            for name in [protocol::cookies::VISITOR, protocol::cookies::SITE, SESSION_COOKIE] {
                page::delete_cookie(d, name);
            }
            set_phase(d, Phase::Excluded);
            self.forget();
            return None;
        }
        let site = self.config.site_id;
        let w = self.window.clone();
        let [me, on_seen] = [0; 2].map(|_| self.me.clone());
        let mut tracker = Tracker::start(
            Identity { site_id: site, visitor_id: visitor.clone() },
            page::get_cookie(d, SESSION_COOKIE).as_deref(),
            page::page_info(&self.window, d),
            page::now(),
            Box::new(move || page::random_id(&w)),
        );
        // Bodies an earlier page of the tab could not get delivered go first; the
        // copy stays until they are (see [`App::keep`]).
        if let Some(text) = store::read(&self.window) {
            tracker.restore(&text);
            self.kept = true;
        }
        page::set_cookie(d, protocol::cookies::VISITOR, &visitor, ID_MAX_AGE_S);
        let mut site_text = String::new();
        crate::json::push_uint(&mut site_text, u64::from(site));
        page::set_cookie(d, protocol::cookies::SITE, &site_text, ID_MAX_AGE_S);
        self.recording = Some(Recording {
            tracker,
            pending_move: None,
            watch: Watch::new(&self.window, d, move |seen| {
                on_seen.with(|app| app.seen(seen));
            }),
            _listeners: listeners(&self.me, &self.window, d),
            _timer: Interval::new(&self.window, FLUSH_INTERVAL_MS as i32, move || {
                me.with(|app| app.flush(Flush::Timer));
            }),
        });
        set_phase(d, Phase::Tracking);
        // The page view goes out at once: a shopper who bounces is still counted.
        self.flush(Flush::Now);
        Some((self.window.clone(), self.document.clone(), visitor, site))
    }

    /// Consent withdrawn: listeners and timer go with the recording, the buffer
    /// and the outbox are dropped unsent, and our cookies and stored copy are
    /// deleted. Answers still coming find nothing to settle.
    fn stop(&mut self) {
        self.recording = None;
        for name in [protocol::cookies::VISITOR, protocol::cookies::SITE, SESSION_COOKIE, RANDOM_ID_COOKIE] {
            page::delete_cookie(&self.document, name);
        }
        self.forget();
        set_phase(&self.document, Phase::Waiting);
    }

    /// Deletes the stored copy of unsent bodies.
    fn forget(&mut self) {
        store::write(&self.window, "");
        self.kept = false;
    }

    /// Brings the stored copy in step with the outbox: written when the page is
    /// hidden or left, then rewritten after every change until nothing is left
    /// to carry, when it is removed.
    fn keep(&mut self) {
        let Some(rec) = self.recording.as_ref() else { return };
        let text = rec.tracker.stored();
        store::write(&self.window, &text);
        self.kept = !text.is_empty();
    }

    /// The collector answered request `id`. What waits goes with the next
    /// flush (the timer's at the latest); the stored copy follows at once.
    fn answered(&mut self, id: u32, status: u16, retry_after: Option<&str>) {
        let Some(rec) = self.recording.as_mut() else { return };
        rec.tracker.answered(id, status, retry_after, page::now());
        if self.kept {
            self.keep();
        }
    }

    /// Sends what is buffered. On the timer and when leaving it first closes the
    /// open move list and reports a deeper scroll. The core decides what may go:
    /// nothing while the collector asked for a pause, and no more bytes on the
    /// wire than [`SEND_BUDGET`] (or [`LEAVE_BUDGET`] when the page is left: the
    /// browser's keepalive quota). Leaving also writes what is unsent, what is
    /// being sent included (its answer will not be read), to `sessionStorage`.
    fn flush(&mut self, how: Flush) {
        let Some(rec) = self.recording.as_mut() else { return };
        let now = page::now();
        if how != Flush::Now {
            rec.settle_move();
            rec.tracker.seal(now);
        }
        rec.tracker.pack(now);
        page::set_cookie(
            &self.document,
            SESSION_COOKIE,
            &rec.tracker.session_cookie(),
            (IDLE_MS / 1_000) as u32,
        );
        let budget = if how == Flush::Leaving { LEAVE_BUDGET } else { SEND_BUDGET };
        while let Some((id, body)) = rec.tracker.next_request(now, budget) {
            self.poster.post(&self.window, id, body);
        }
        if how == Flush::Leaving || self.kept {
            self.keep();
        }
    }

    /// The `mousemove` hot path: one clock read, and the coordinates only when
    /// the move may be kept.
    fn on_move(&mut self, e: web_sys::Event, now: u64) {
        let Some(rec) = self.recording.as_mut() else { return };
        if rec.tracker.move_too_soon(now) {
            rec.pending_move = Some((e.unchecked_into(), now));
            return;
        }
        rec.pending_move = None;
        let e: MouseEvent = e.unchecked_into();
        if rec.tracker.mouse_move(e.page_x(), e.page_y(), now) {
            self.flush(Flush::Now);
        }
    }

    /// What the watch saw while clicks waited for their verdict.
    fn seen(&mut self, seen: Seen) {
        self.record(|t, now| t.clicks_seen(seen, now));
        self.rewatch(seen == Seen::Time);
    }

    /// Keeps the watch in step with the clicks waiting for a verdict: on while one
    /// waits, with its timer at the oldest one's deadline; off when none does.
    /// `fired`: called from the watch's timer, which must be set again.
    fn rewatch(&mut self, fired: bool) {
        let Some(rec) = self.recording.as_mut() else { return };
        match rec.tracker.click_deadline() {
            None => rec.watch.stop(),
            Some(at) if fired || !rec.watch.is_on() => {
                // At least 1 ms; at most a second, should the clock have gone back.
                rec.watch.arm(at.saturating_sub(page::now()).clamp(1, DEAD_AFTER_MS) as i32);
            }
            _ => {}
        }
    }

    fn record(&mut self, f: impl FnOnce(&mut Tracker, u64) -> bool) {
        let due = match self.recording.as_mut() {
            Some(rec) => {
                rec.settle_move();
                f(&mut rec.tracker, page::now())
            }
            None => false,
        };
        if due {
            self.flush(Flush::Now);
        }
    }
}

impl Recording {
    /// Hands the last unread move to the core, which keeps it as the resting point.
    fn settle_move(&mut self) {
        if let Some((e, t)) = self.pending_move.take() {
            self.tracker.mouse_move(e.page_x(), e.page_y(), t);
        }
    }
}

/// The recording listeners, attached only once consent is given.
fn listeners(app: &Shared, window: &Window, document: &Document) -> [Listener; 5] {
    let doc = document.clone();
    let win = window.clone();
    let click_win = window.clone();
    let selectors = page::ClickSelectors::new();
    let hide_doc = document.clone();
    let [on_click, on_move, on_scroll, on_hide, on_leave] = [0; 5].map(|_| app.clone());
    [
        Listener::new(document, "click", true, move |e| {
            let Some(input) =
                e.dyn_ref::<MouseEvent>().and_then(|e| page::click_input(e, &click_win, &selectors))
            else {
                return;
            };
            on_click.with(|app| {
                app.record(|t, now| t.click(input, now));
                app.rewatch(false);
            });
        }),
        Listener::new(document, "mousemove", true, move |e| {
            let now = page::now();
            on_move.with(|app| app.on_move(e, now));
        }),
        Listener::new(window, "scroll", false, move |_| {
            let y = page::scroll_y(&win);
            let vh = page::viewport(&win).1 as i32;
            let dh = doc.document_element().map_or(0, |e| e.scroll_height());
            on_scroll.with(|app| {
                app.record(|t, _| {
                    t.scroll(y, vh, dh);
                    false
                })
            });
        }),
        Listener::new(document, "visibilitychange", false, move |_| {
            let visible = page::is_visible(&hide_doc);
            on_hide.with(|app| {
                app.record(|t, now| {
                    if visible {
                        t.visible(now)
                    } else {
                        t.hidden(now)
                    }
                    false
                });
                if !visible {
                    app.rewatch(false);
                    app.flush(Flush::Leaving);
                }
            });
        }),
        Listener::new(window, "pagehide", false, move |_| {
            on_leave.with(|app| {
                app.record(|t, now| {
                    t.leave(now);
                    false
                });
                app.rewatch(false);
                app.flush(Flush::Leaving);
            });
        }),
    ]
}
