//! Batches between built and delivered, each sent until an answer settles it.
//!
//! A sender builds a body, hands it here with its event count, and asks
//! [`Outbox::next`] what to send: the oldest body not on the wire, unless the
//! collector asked for a pause or the bytes in flight would pass the sender's
//! budget (`keepalive` requests share 64 KiB per page). Each request gets an id;
//! its answer comes back through [`Outbox::answered`] and the [`verdict`] decides.
//! A body is never rebuilt: every attempt carries the same batch id, so the
//! server stores its events once.
//!
//! Bounded in count, bytes and age (see the [module](super)): the oldest waiting
//! bodies make room, and every event given up on is counted for the next
//! batch's `d` ([`Outbox::take_dropped`]).

use alloc::string::String;
use alloc::vec::Vec;

use super::verdict::{verdict, Verdict};
use super::{MAX_AGE_MS, MAX_BYTES, MAX_ITEMS, MAX_WAIT_MS};

/// One batch's body and what the outbox needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The request body, exactly as first built.
    pub body: String,
    /// Events in it, counted in `d` should it be dropped.
    pub events: u32,
    /// When it was built (ms since the epoch): its age counts from here.
    pub born: u64,
    /// The request carrying it while one is out; 0 while it waits.
    request: u32,
}

impl Item {
    pub fn new(body: String, events: u32, born: u64) -> Self {
        Self { body, events, born, request: 0 }
    }

    fn waiting(&self) -> bool {
        self.request == 0
    }
}

#[derive(Debug, Default)]
pub struct Outbox {
    /// Oldest first.
    pub(super) items: Vec<Item>,
    /// The last request id given out; ids are never 0.
    last_request: u32,
    /// Nothing is sent before this time (ms): the collector's `Retry-After`, or
    /// a backoff.
    pub(super) not_before: u64,
    /// Answers in a row that were not a delivery, for the backoff.
    strikes: u32,
    /// Events given up on since the last [`Outbox::take_dropped`].
    pub(super) dropped: u32,
}

impl Outbox {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes of bodies held.
    pub fn bytes(&self) -> usize {
        self.items.iter().map(|i| i.body.len()).sum()
    }

    fn bytes_in_flight(&self) -> usize {
        self.items.iter().filter(|i| !i.waiting()).map(|i| i.body.len()).sum()
    }

    /// Whether a body of up to `body_max` bytes fits without pushing another out.
    /// A sender that builds only then keeps the rest in its own buffer, whose
    /// policy knows which events matter most.
    pub fn has_room(&self, body_max: usize) -> bool {
        self.items.len() < MAX_ITEMS && self.bytes() + body_max <= MAX_BYTES
    }

    /// Takes a new body of `events` events, built at `now`.
    pub fn push(&mut self, body: String, events: u32, now: u64) {
        self.items.push(Item::new(body, events, now));
        self.fit(now);
    }

    /// Takes out the item at `i`; returns its event count. (By `retain`: the
    /// panic of `Vec::remove`, with its message, would ship in the tracker's wasm.)
    fn remove(&mut self, i: usize) -> u32 {
        let (mut n, mut events) = (0, 0);
        self.items.retain(|item| {
            let keep = n != i;
            if !keep {
                events = item.events;
            }
            n += 1;
            keep
        });
        events
    }

    /// Takes out the item at `i` and counts its events as dropped.
    fn drop_at(&mut self, i: usize) {
        let events = self.remove(i);
        self.count_dropped(events);
    }

    /// Drops waiting bodies older than [`MAX_AGE_MS`] at `now`, then the oldest
    /// waiting ones while over the bounds; bodies on the wire stay, their answer
    /// is coming. (Also done by [`Outbox::next`]; a sender calls it first to
    /// find the room it leaves.)
    pub fn fit(&mut self, now: u64) {
        loop {
            let over = self.items.len() > MAX_ITEMS || self.bytes() > MAX_BYTES;
            let Some(i) = self
                .items
                .iter()
                .position(|i| i.waiting() && (over || now.saturating_sub(i.born) > MAX_AGE_MS))
            else {
                return;
            };
            self.drop_at(i);
        }
    }

    pub(super) fn count_dropped(&mut self, events: u32) {
        self.dropped = self.dropped.saturating_add(events);
    }

    /// The next body to send at `now`, with the id its answer must name: the
    /// oldest waiting one, unless the collector asked for a pause, or sending it
    /// would put more than `budget` bytes on the wire (one body may always go
    /// alone). After an answer that was not a delivery, one request at a time
    /// until one is taken: a collector that just said it is overwhelmed gets one
    /// probe, not every waiting batch at once. Call until `None`.
    pub fn next(&mut self, now: u64, budget: usize) -> Option<(u32, &str)> {
        self.fit(now);
        // No pause outlasts the longest `Retry-After` obeyed, whatever a
        // stored copy said (a clock set back, a page script's number).
        self.not_before = self.not_before.min(now.saturating_add(MAX_WAIT_MS));
        if now < self.not_before {
            return None;
        }
        let flying = self.bytes_in_flight();
        let i = self.items.iter().position(Item::waiting)?;
        let item = self.items.get_mut(i)?;
        if flying > 0 && (self.strikes > 0 || flying + item.body.len() > budget) {
            return None;
        }
        self.last_request = self.last_request.wrapping_add(1).max(1);
        item.request = self.last_request;
        Some((item.request, &item.body))
    }

    /// The answer to request `request`: `status` 0 when there was none (network
    /// error), `retry_after` the header's value. An id the outbox no longer holds
    /// (cleared meanwhile) is ignored.
    pub fn answered(&mut self, request: u32, status: u16, retry_after: Option<&str>, now: u64) {
        let Some(i) = self.items.iter().position(|i| i.request == request && request != 0) else { return };
        match verdict(status, retry_after, self.strikes) {
            Verdict::Delivered => {
                self.remove(i);
                self.strikes = 0;
            }
            Verdict::Later(wait) => {
                if let Some(item) = self.items.get_mut(i) {
                    item.request = 0;
                }
                self.strikes = self.strikes.saturating_add(1);
                self.not_before = self.not_before.max(now.saturating_add(wait));
            }
            Verdict::Refused => {
                self.drop_at(i);
                self.strikes = 0;
            }
        }
    }

    /// How long until a waiting body may go (0: now). `None` when none waits, or
    /// while a body is on the wire: its answer comes first, and decides. A
    /// sender without a timer of its own sets one with it.
    pub fn wait(&self, now: u64) -> Option<u64> {
        if self.items.iter().any(|i| !i.waiting()) {
            return None;
        }
        (!self.items.is_empty()).then(|| self.not_before.saturating_sub(now).min(MAX_WAIT_MS))
    }

    /// Events given up on since the last call, for the next batch's `d`.
    pub fn take_dropped(&mut self) -> u32 {
        core::mem::take(&mut self.dropped)
    }

    /// Consent withdrawn: nothing is sent again, nothing is counted. Request ids
    /// go on from where they were, so a late answer matches nothing.
    pub fn clear(&mut self) {
        *self = Self { last_request: self.last_request, ..Self::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{BACKOFF_MS, MAX_WAIT_MS, NETWORK_RETRY_MS};
    use alloc::format;

    const BUDGET: usize = 48_000;

    fn body(n: u32) -> String {
        format!("{{\"b\":\"{n:016x}\",\"e\":[]}}")
    }

    fn filled(n: u32) -> Outbox {
        let mut o = Outbox::default();
        (0..n).for_each(|i| o.push(body(i), 1, 0));
        o
    }

    /// Sends everything it may at `now`; returns (request, body) pairs.
    fn send_all(o: &mut Outbox, now: u64) -> Vec<(u32, String)> {
        core::iter::from_fn(|| o.next(now, BUDGET).map(|(id, b)| (id, String::from(b)))).collect()
    }

    #[test]
    fn a_delivered_body_is_forgotten() {
        let mut o = filled(1);
        let sent = send_all(&mut o, 10);
        assert_eq!(sent, [(1, body(0))]);
        assert!(o.next(10, BUDGET).is_none(), "not sent twice while on the wire");
        o.answered(1, 200, None, 20);
        assert!(o.is_empty());
        assert_eq!(o.take_dropped(), 0);
        assert_eq!(o.wait(20), None);
    }

    #[test]
    fn a_rate_limited_body_waits_for_retry_after_then_goes_again_unchanged() {
        let mut o = filled(2);
        let sent = send_all(&mut o, 1_000);
        assert_eq!(sent.len(), 2);
        o.answered(sent[0].0, 429, Some("3"), 1_100);
        assert_eq!(o.wait(1_100), None, "an answer is still coming");
        o.answered(sent[1].0, 200, None, 1_100);
        assert_eq!(o.wait(1_100), Some(3_000));
        assert!(o.next(4_099, BUDGET).is_none(), "paused");
        let again = send_all(&mut o, 4_100);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].1, sent[0].1, "the same body, batch id included");
        assert_ne!(again[0].0, sent[0].0, "a new request id");
        o.answered(again[0].0, 503, Some("1"), 4_200);
        let third = send_all(&mut o, 5_200);
        o.answered(third[0].0, 200, None, 5_300);
        assert!(o.is_empty());
        assert_eq!(o.take_dropped(), 0, "nothing lost");
    }

    #[test]
    fn after_a_refusal_one_probe_goes_alone_until_it_is_taken() {
        let mut o = filled(3);
        let first = send_all(&mut o, 0);
        assert_eq!(first.len(), 3);
        o.answered(first[0].0, 503, Some("1"), 0);
        assert!(o.next(1_000, BUDGET).is_none(), "not while another is on the wire");
        o.answered(first[1].0, 503, Some("1"), 0);
        o.answered(first[2].0, 503, Some("1"), 0);
        let probe = send_all(&mut o, 1_000);
        assert_eq!(probe.len(), 1, "one at a time after a refusal");
        assert_eq!(probe[0].1, body(0), "the oldest first");
        o.answered(probe[0].0, 200, None, 1_100);
        assert_eq!(send_all(&mut o, 1_100).len(), 2, "a delivery ends the probing");
    }

    #[test]
    fn refusals_without_retry_after_back_off_doubling() {
        let mut o = filled(1);
        let mut now = 0;
        for k in 0..10u32 {
            let sent = send_all(&mut o, now);
            assert_eq!(sent.len(), 1, "try {k}");
            o.answered(sent[0].0, 503, None, now);
            let wait = o.wait(now).unwrap_or_default();
            assert_eq!(wait, (BACKOFF_MS << k).min(MAX_WAIT_MS), "try {k}");
            now += wait;
        }
    }

    #[test]
    fn a_refused_body_is_dropped_and_its_events_counted() {
        let mut o = Outbox::default();
        o.push(body(1), 7, 0);
        o.push(body(2), 3, 0);
        let sent = send_all(&mut o, 0);
        o.answered(sent[0].0, 400, None, 1);
        o.answered(sent[1].0, 413, None, 1);
        assert!(o.is_empty());
        assert_eq!(o.take_dropped(), 10);
        assert_eq!(o.take_dropped(), 0, "counted once");
        assert_eq!(o.wait(1), None, "no pause after a refusal");
    }

    #[test]
    fn a_body_lost_on_the_network_goes_again_after_a_short_pause() {
        let mut o = filled(1);
        let sent = send_all(&mut o, 0);
        o.answered(sent[0].0, 0, None, 0);
        assert!(o.next(NETWORK_RETRY_MS - 1, BUDGET).is_none());
        assert_eq!(send_all(&mut o, NETWORK_RETRY_MS)[0].1, sent[0].1);
    }

    #[test]
    fn an_unknown_or_stale_answer_changes_nothing() {
        let mut o = filled(1);
        let sent = send_all(&mut o, 0);
        o.answered(sent[0].0 + 1, 400, None, 0);
        o.answered(0, 400, None, 0);
        assert_eq!(o.len(), 1);
        o.answered(sent[0].0, 200, None, 0);
        o.answered(sent[0].0, 400, None, 0);
        assert_eq!(o.take_dropped(), 0);
    }

    #[test]
    fn bytes_on_the_wire_stay_within_the_budget() {
        let mut o = Outbox::default();
        for _ in 0..5 {
            o.push("x".repeat(10_000), 1, 0);
        }
        let sent: Vec<u32> = core::iter::from_fn(|| o.next(0, 25_000).map(|(id, _)| id)).collect();
        assert_eq!(sent.len(), 2, "a third would pass 25 000 bytes");
        o.answered(sent[0], 200, None, 0);
        assert!(o.next(0, 25_000).is_some(), "room again");
        let mut big = Outbox::default();
        big.push("x".repeat(30_000), 1, 0);
        assert!(big.next(0, 25_000).is_some(), "a body larger than the budget still goes alone");
    }

    #[test]
    fn the_oldest_waiting_bodies_make_room_and_are_counted() {
        let mut o = filled(MAX_ITEMS as u32);
        assert!(!o.has_room(1));
        let first = o.next(0, BUDGET).map(|(id, _)| id);
        o.push(body(99), 1, 0);
        assert_eq!(o.len(), MAX_ITEMS);
        assert_eq!(o.take_dropped(), 1);
        assert_eq!(o.items[0].body, body(0), "the body on the wire stays");
        assert_eq!(o.items[1].body, body(2), "the oldest waiting one went");
        o.answered(first.unwrap_or_default(), 200, None, 0);

        let mut o = Outbox::default();
        o.push("x".repeat(MAX_BYTES - 100), 4, 0);
        assert!(!o.has_room(16_000));
        o.push("y".repeat(200), 1, 0);
        assert_eq!(o.bytes(), 200);
        assert_eq!(o.take_dropped(), 4);
    }

    #[test]
    fn bodies_too_old_are_dropped_and_counted() {
        let mut o = Outbox::default();
        o.push(body(1), 2, 0);
        o.push(body(2), 5, 10 * 60_000);
        assert!(o.next(MAX_AGE_MS + 1, BUDGET).is_some_and(|(_, b)| b == body(2)));
        assert_eq!(o.take_dropped(), 2);
    }

    #[test]
    fn clearing_forgets_everything_and_late_answers_match_nothing() {
        let mut o = filled(3);
        let sent = send_all(&mut o, 0);
        o.answered(sent[0].0, 400, None, 0);
        o.answered(sent[1].0, 429, Some("60"), 0);
        o.clear();
        assert!(o.is_empty());
        assert_eq!(o.take_dropped(), 0);
        o.push(body(7), 1, 0);
        assert!(o.next(0, BUDGET).is_some(), "no pause left over");
        o.answered(sent[2].0, 400, None, 0);
        assert_eq!(o.len(), 1, "an answer from before the clear");
    }
}
