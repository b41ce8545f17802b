//! The pixel's state: consent, ids, and the bounded queue of mapped events.
//!
//! Everything the JS entry does goes through here, so every rule is tested
//! natively: nothing is kept or sent without analytics consent, revoking consent
//! drops what is queued (and the cart), events wait (bounded) until both ids
//! are known, adds and removals carry the whole cart after them (see
//! [`crate::cart`]), and a batch is built only when it may be sent.

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

    /// Revoking consent drops everything queued or awaiting a retry, at once,
    /// and the cart: consent given again finds it unknown.
    pub fn set_consent(&mut self, allowed: bool) {
        self.consent = allowed;
        if !allowed {
            self.queue.clear();
            self.dropped = 0;
            self.outbox.clear();
            self.cart.forget();
        }
    }

    /// The POST of this batch got an answer.
    pub fn sent(&mut self, batch_id: &str) {
        self.outbox.done(batch_id);
    }

    /// The POST of this batch failed on the network: the next
    /// [`Pixel::take_batch`] sends it again, same batch id, a bounded number of times.
    pub fn failed(&mut self, batch_id: &str) {
        self.outbox.failed(batch_id);
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

    /// The next batch, when one may be sent now: consent given, and a batch to
    /// retry, or both ids known and events queued. Consent is checked here, right
    /// before every POST. Call it until it answers `None`.
    pub fn take_batch(&mut self, now: u64, batch_id: u64) -> Option<Batch> {
        if !self.consent {
            return None;
        }
        if let Some((mut batch, attempt)) = self.outbox.next_retry() {
            batch.sent_at = now;
            self.outbox.sending(batch.clone(), attempt + 1);
            return Some(batch);
        }
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
        let batch = Batch {
            site_id,
            visitor_id: visitor_id.into(),
            batch_id: hex16(batch_id),
            sent_at: now,
            session_id: None,
            page_view_id: None,
            dropped: self.dropped,
            events: self.queue.drain(..).collect(),
        };
        self.dropped = 0;
        self.outbox.sending(batch.clone(), 1);
        Some(batch)
    }

    /// [`Pixel::take_batch`] as the JSON body of `POST /collect`.
    pub fn take_body(&mut self, now: u64, batch_id: u64) -> Option<String> {
        self.take_batch(now, batch_id).and_then(|b| serde_json::to_string(&b).ok())
    }
}

/// `n` as 16 lowercase hex digits (a batch id), without `core::fmt` in the wasm.
fn hex16(n: u64) -> String {
    (0..16).rev().map(|i| char::from(b"0123456789abcdef"[((n >> (i * 4)) & 0xf) as usize])).collect()
}
