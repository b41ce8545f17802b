//! The outbox as text, for `sessionStorage`: what a page could not get delivered
//! before it ended (waiting out a `Retry-After`, offline, or still on the wire
//! with its answer never to be read) is taken up by the next page of the tab.
//!
//! ```text
//! <not before, ms> <dropped events> v1
//! <built at, ms> <events> <body>
//! ```
//!
//! One line per body: bodies are JSON, whose writers escape every control
//! character, so a body never holds a line break. `v1` names this form.
//!
//! Read leniently: the text sits in the shop's storage, where any script of the
//! page may change it, so a line not in this form is skipped. What is read is
//! only ever sent to the collector, which checks it like any other batch.

use alloc::string::String;

use super::outbox::{Item, Outbox};
use crate::text::{self, parse_u64, split_once as cut};

const FORM: &str = "v1";

/// The storefront tracker's `sessionStorage` key.
pub const TRACKER_KEY: &str = "_lummmen_outbox";

/// The web pixel's key in `browser.sessionStorage` (its own: the two never share
/// bodies).
pub const PIXEL_KEY: &str = "_lummmen_pixel_outbox";

fn push_number(out: &mut String, n: u64) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// `<a> <b> <rest>`: two numbers, then the rest.
fn numbers_then(line: &str) -> Option<(u64, u64, &str)> {
    let (a, rest) = cut(line, b' ')?;
    let (b, rest) = cut(rest, b' ')?;
    Some((parse_u64(a)?, parse_u64(b)?, rest))
}

impl Outbox {
    /// The text to keep for the next page; empty when there is nothing to carry
    /// (then the stored copy is removed).
    pub fn stored(&self) -> String {
        if self.items.is_empty() && self.dropped == 0 {
            return String::new();
        }
        let mut out = String::new();
        push_number(&mut out, self.not_before);
        out.push(' ');
        push_number(&mut out, u64::from(self.dropped));
        out.push(' ');
        out.push_str(FORM);
        for item in &self.items {
            out.push('\n');
            push_number(&mut out, item.born);
            out.push(' ');
            push_number(&mut out, u64::from(item.events));
            out.push(' ');
            out.push_str(&item.body);
        }
        out
    }

    /// Takes up what an earlier page stored: its bodies join the outbox, its
    /// pause and its count of dropped events carry over, and the bounds apply to
    /// the whole (age at the next [`Outbox::next`]). Meant for a page's start,
    /// before it has built bodies of its own, so the order stays oldest first.
    pub fn restore(&mut self, text: &str) {
        let mut lines = text::split(text, b'\n');
        let Some((not_before, dropped, FORM)) = lines.next().and_then(numbers_then) else { return };
        self.not_before = self.not_before.max(not_before);
        self.count_dropped(u32::try_from(dropped).unwrap_or(u32::MAX));
        for (born, events, body) in lines.filter_map(numbers_then) {
            if body.as_bytes().first() == Some(&b'{') {
                self.items.push(Item::new(
                    String::from(body),
                    u32::try_from(events).unwrap_or(u32::MAX),
                    born,
                ));
            }
        }
        self.fit(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{MAX_AGE_MS, MAX_ITEMS};
    use alloc::format;
    use alloc::vec::Vec;

    fn body(n: u32) -> String {
        format!("{{\"b\":\"{n:016x}\",\"e\":[{{\"k\":\"pv\",\"u\":\"a\\nb\"}}]}}")
    }

    #[test]
    fn nothing_to_carry_is_empty() {
        assert_eq!(Outbox::default().stored(), "");
    }

    #[test]
    fn bodies_pause_and_drops_survive_the_round_trip_in_order() {
        let mut old = Outbox::default();
        old.push(body(1), 2, 100);
        old.push(body(2), 3, 200);
        let on_the_wire = old.next(300, 100_000).map(|(id, _)| id).unwrap_or_default();
        old.answered(on_the_wire, 429, Some("30"), 300);
        old.push(body(3), 1, 400);
        assert!(old.next(400, 100_000).is_none());
        let sent = old.next(30_300, 100_000).map(|(id, _)| id);
        assert!(sent.is_some(), "on the wire when the page ends: kept too");
        old.count_dropped(4);
        let text = old.stored();
        assert!(!text.contains("\n\n") && text.lines().count() == 4, "{text}");

        let mut new = Outbox::default();
        new.restore(&text);
        new.push(body(9), 1, 1_000);
        let bodies: Vec<&str> = new.items.iter().map(|i| i.body.as_str()).collect();
        assert_eq!(bodies, [body(1), body(2), body(3), body(9)]);
        assert_eq!(
            new.items.iter().map(|i| (i.events, i.born)).collect::<Vec<_>>(),
            [(2, 100), (3, 200), (1, 400), (1, 1_000)]
        );
        assert_eq!(new.take_dropped(), 4);
        assert!(new.next(30_299, 100_000).is_none(), "the pause carries over");
        assert!(new.next(30_300, 100_000).is_some());
    }

    #[test]
    fn a_restored_pause_lasts_no_longer_than_the_longest_retry_after() {
        let mut o = Outbox::default();
        o.restore(&format!("18446744073709551615 0 v1\n5 1 {}", body(1)));
        assert!(o.next(1_000, 100_000).is_none(), "paused");
        assert_eq!(o.wait(1_000), Some(crate::delivery::MAX_WAIT_MS));
        assert!(o.next(1_000 + crate::delivery::MAX_WAIT_MS, 100_000).is_some(), "not for the whole tab");
    }

    #[test]
    fn lines_not_in_the_form_are_skipped() {
        let mut o = Outbox::default();
        let text = format!("0 0 v1\n5 1 {}\nnot a line\n5 x {{}}\n5 1 <script>\n\n7 2 {}", body(1), body(2));
        o.restore(&text);
        assert_eq!(o.len(), 2);
        for bad in ["", "0 0 v2\n5 1 {}", "0 v1\n5 1 {}", "garbage", "5 1 {}"] {
            let mut o = Outbox::default();
            o.restore(bad);
            assert!(o.is_empty(), "{bad:?}");
            assert_eq!(o.take_dropped(), 0);
        }
    }

    #[test]
    fn what_is_restored_stays_within_the_bounds_and_ages_out() {
        let mut old = Outbox::default();
        for i in 0..MAX_ITEMS as u32 {
            old.push(body(i), 1, 0);
        }
        let mut new = Outbox::default();
        new.restore(&old.stored());
        new.push(body(99), 1, 0);
        assert_eq!(new.len(), MAX_ITEMS);
        assert_eq!(new.take_dropped(), 1, "the oldest made room");
        assert!(new.next(MAX_AGE_MS + 1, 1_000_000).is_none(), "all of them too old by then");
        assert_eq!(new.take_dropped(), MAX_ITEMS as u32);
    }
}
