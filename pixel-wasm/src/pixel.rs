//! The pixel's state: consent, ids, and the bounded queue of mapped events.
//!
//! Everything the JS entry does goes through here, so every rule is tested
//! natively: nothing is kept or sent without analytics consent, revoking consent
//! drops what is queued or unsent (and the cart), events wait (bounded) until
//! both ids are known, adds and removals carry the whole cart after them (see
//! [`crate::cart`]), a batch is built only when it may be sent, and the
//! collector's answer decides whether it goes again ([`crate::outbox`]).

use std::collections::VecDeque;

use protocol::cookies::START_PIXEL_EVENT;
use protocol::{Batch, Event};

use crate::cart::Cart;
use crate::ids::{Identity, Ids};
use crate::json::Value;
use crate::map::{map_event, MapError, CART_VIEWED};
use crate::outbox::Outbox;
use crate::settings::Settings;
use crate::shopify::{analytics_allowed, PixelEvent};

/// Most events waiting for ids; past it the oldest are dropped and counted
/// (`Batch::dropped`). Shoppers produce a handful of these events per page.
pub const MAX_QUEUE: usize = 64;

/// Most bytes of bodies on the wire at once: under the browsers' 64 KiB for
/// `keepalive` requests in flight.
pub const SEND_BUDGET: usize = 48_000;

/// Largest body built, as the storefront tracker's: a batch over it is split
/// (one event alone always goes), so every body fits the keepalive quota.
pub const MAX_BODY: usize = 16_000;

/// What [`Pixel::handle`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Mapped and queued for the next batch.
    Queued,
    /// A `lummmen:startPixel` event; its valid ids were taken.
    Ids,
    /// A `cart_viewed`: its cart is what the next add or removal builds on.
    Cart,
    /// Analytics consent is not given: the event was discarded unread.
    NoConsent,
    /// Not JSON, or not shaped like a Shopify event.
    Unreadable,
    /// A standard event the pixel does not map, or one missing its data.
    NotMapped(MapError),
}

/// The web pixel's core.
#[derive(Debug)]
pub struct Pixel {
    settings: Settings,
    identity: Identity,
    consent: bool,
    queue: VecDeque<Event>,
    dropped: u32,
    outbox: Outbox,
    cart: Cart,
}

impl Pixel {
    /// Starts from the pixel's settings and `init` (both as JSON). Consent is
    /// granted only by an explicit `init.customerPrivacy.analyticsProcessingAllowed: true`;
    /// with it, `init.data.cart` is the cart adds and removals build on.
    pub fn new(settings_json: &str, init_json: &str) -> Self {
        let settings = Settings::from_json(settings_json);
        let identity = Identity { settings_site: settings.site_id, ..Identity::default() };
        let mut pixel = Self {
            settings,
            identity,
            consent: false,
            queue: VecDeque::new(),
            dropped: 0,
            outbox: Outbox::default(),
            cart: Cart::default(),
        };
        if pixel.consent_changed(init_json) {
            if let Ok(init) = Value::parse(init_json) {
                pixel.cart.load(init.at(&["data", "cart"]));
            }
        }
        pixel
    }

    pub fn endpoint(&self) -> &str {
        &self.settings.endpoint
    }

    pub fn consent(&self) -> bool {
        self.consent
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The cart the next add or removal builds on, when known.
    pub fn cart(&self) -> Option<&[protocol::CartLine]> {
        self.cart.lines()
    }

    /// Reads a `visitorConsentCollected` payload (or `init`): analytics consent is
    /// on only when `customerPrivacy.analyticsProcessingAllowed` is `true`.
    pub fn consent_changed(&mut self, payload_json: &str) -> bool {
        let allowed = Value::parse(payload_json).is_ok_and(|p| analytics_allowed(&p));
        self.set_consent(allowed);
        allowed
    }

    /// Revoking consent drops everything queued or unsent, at once, and the
    /// cart (consent given again finds it unknown); the stored copy goes with
    /// the next [`Pixel::storage_write`].
    pub fn set_consent(&mut self, allowed: bool) {
        self.consent = allowed;
        if !allowed {
            self.queue.clear();
            self.dropped = 0;
            self.outbox.clear();
            self.cart.forget();
        }
    }

    /// The collector's answer to request `id`: `status` 0 when there was none
    /// (a network error), with its `Retry-After`.
    pub fn answered(&mut self, id: u32, status: u16, retry_after: Option<&str>, now: u64) {
        self.outbox.delivery().answered(id, status, retry_after, now);
    }

    /// How long until a waiting batch may go, when none is on the wire (an
    /// answer will come otherwise); `None` when nothing waits that way.
    pub fn wait(&mut self, now: u64) -> Option<u64> {
        self.outbox.delivery().wait(now)
    }

    /// Whether to read the stored copy now (once, with consent); the caller
    /// answers with [`Pixel::restore`].
    pub fn storage_read(&mut self) -> bool {
        self.outbox.take_read(self.consent)
    }

    /// What the stored copy held (`""`: nothing).
    pub fn restore(&mut self, text: &str) {
        if self.consent {
            self.outbox.restore(text);
        }
    }

    /// What to write to the stored copy: `Some("")` removes it, `None` leaves it.
    pub fn storage_write(&mut self) -> Option<String> {
        self.outbox.write(self.consent)
    }

    /// Takes the tracker's cookie values (`""` when a cookie is missing).
    pub fn cookies(&mut self, visitor: &str, site: &str) {
        self.identity.cookies = Ids::from_cookies(visitor, site);
    }

    /// Handles one event from `analytics.subscribe`, as JSON.
    pub fn handle(&mut self, event_json: &str, now: u64) -> Handled {
        let Ok(value) = Value::parse(event_json) else {
            return Handled::Unreadable;
        };
        let event = PixelEvent(&value);
        let Some(name) = event.name() else {
            return Handled::Unreadable;
        };
        if name == START_PIXEL_EVENT {
            let ids = event.custom_data().map(Ids::from_start_pixel).unwrap_or_default();
            // A forged event with nothing valid must not erase good ids.
            if ids.visitor_id.is_some() {
                self.identity.custom_event.visitor_id = ids.visitor_id;
            }
            if ids.site_id.is_some() {
                self.identity.custom_event.site_id = ids.site_id;
            }
            return Handled::Ids;
        }
        if !self.consent {
            return Handled::NoConsent;
        }
        if name == CART_VIEWED {
            self.cart.load(event.data("cart"));
            return Handled::Cart;
        }
        match map_event(event, now) {
            Ok(mut e) => {
                self.with_cart(&mut e);
                if self.queue.len() == MAX_QUEUE {
                    self.queue.pop_front();
                    self.dropped = self.dropped.saturating_add(1);
                }
                self.queue.push_back(e);
                Handled::Queued
            }
            Err(e) => Handled::NotMapped(e),
        }
    }

    /// Applies an add or removal to the cart and gives the event the cart after it.
    fn with_cart(&mut self, event: &mut Event) {
        let cart = match event {
            Event::AddedToCart { line, cart, .. } => {
                self.cart.add(line);
                cart
            }
            Event::RemovedFromCart { line, cart, .. } => {
                self.cart.remove(line);
                cart
            }
            _ => return,
        };
        *cart = self.cart.lines().map(<[_]>::to_vec);
    }

    /// The next request, when one may be sent now: its id and body. Consent is
    /// checked here, right before every POST. Queued events become a batch once
    /// both ids are known (`batch_id` names it); a batch goes when the collector
    /// takes batches (see [`protocol::delivery`]). Call until `None`.
    pub fn next_request(&mut self, now: u64, batch_id: u64) -> Option<(u32, String)> {
        if !self.consent {
            return None;
        }
        let mut id = batch_id;
        while let Some((body, events)) = self.build(now, id) {
            self.outbox.delivery().push(body, events, now);
            id = id.wrapping_add(1);
        }
        self.outbox.delivery().next(now, SEND_BUDGET).map(|(id, body)| (id, body.into()))
    }

    /// The queued events as a batch body of at most [`MAX_BODY`] bytes (what
    /// does not fit stays queued, for the next call), with its event count, once
    /// both ids are known. Every queued event is built into a batch at once, so
    /// it is in the stored copy should the page end. Drops (the queue's, and
    /// batches the collector refused) are reported with the next events, not in
    /// a request of their own.
    fn build(&mut self, now: u64, batch_id: u64) -> Option<(String, u32)> {
        if self.queue.is_empty() {
            return None;
        }
        let (site_id, visitor_id) = self.identity.resolved()?;
        if !protocol::in_sample(visitor_id, self.settings.sample) {
            // Outside the project's sample, as the storefront tracker decides
            // it for the same visitor: nothing of theirs is sent.
            self.queue.clear();
            return None;
        }
        let dropped = self.dropped.saturating_add(self.outbox.delivery().take_dropped());
        let mut batch = Batch {
            site_id,
            visitor_id: visitor_id.into(),
            batch_id: hex16(batch_id),
            sent_at: now,
            session_id: None,
            page_view_id: None,
            dropped,
            events: self.queue.drain(..).collect(),
        };
        self.dropped = 0;
        loop {
            let body = serde_json::to_string(&batch).ok()?;
            if body.len() <= MAX_BODY || batch.events.len() <= 1 {
                return Some((body, batch.events.len() as u32));
            }
            let back = batch.events.split_off(batch.events.len() / 2);
            for e in back.into_iter().rev() {
                self.queue.push_front(e);
            }
        }
    }
}

/// `n` as 16 lowercase hex digits (a batch id), without `core::fmt` in the wasm.
fn hex16(n: u64) -> String {
    (0..16).rev().map(|i| char::from(b"0123456789abcdef"[((n >> (i * 4)) & 0xf) as usize])).collect()
}
