//! Dead clicks, and where in its element a click landed.
//!
//! A click is dead when, within [`DEAD_AFTER_MS`], it led to no navigation, no
//! change of the page (DOM) and no scroll: the shopper tried something that looks
//! clickable and nothing answered. The verdict needs the second after the click,
//! so a click waits here, undecided, and goes to the buffer once decided. The edge
//! watches the page (a `MutationObserver`, scroll and navigation listeners) only
//! while something waits, and reports what it sees ([`Seen`]): that the page
//! answered, or that a second has passed. A click still waiting when the page is
//! left goes out undecided, as not dead: a click is never lost for want of a
//! verdict.
//!
//! The page is watched as a whole, not per click: a change within the second after
//! several clicks makes all of them live. That errs towards "not dead", which is
//! the side to err on: a dead click in a report sends a merchant looking for a
//! broken button.
//!
//! Some clicks answer without changing the DOM, and are never dead: into a form
//! field, a label or editable text (focus, caret, a checkbox ticked), on media
//! (play), and on a link opened elsewhere (new tab or window, download). The edge
//! asks the page whether the clicked element is in one of those
//! ([`ANSWERS_ITSELF`]); a link opened with a modifier key it reports itself.

use alloc::vec::Vec;

use protocol::Click;

/// How long a click has to show an effect.
pub const DEAD_AFTER_MS: u64 = 1_000;
/// Most clicks waiting at once; past it, the oldest goes out undecided. A shopper
/// clicks a few times a second at most, so only scripted floods reach it.
pub const MAX_PENDING: usize = 16;

/// A selector for the elements, as the edge passes to `closest()` on the clicked
/// one, whose clicks answer without a DOM change: form fields and their labels,
/// editable text, media, links that open in another window or download.
pub const ANSWERS_ITSELF: &str = "input,textarea,select,option,label,video,audio,\
[contenteditable]:not([contenteditable=false]),a[href][target=_blank],a[href][download]";

/// Whether a click can be dead. `answers_itself`: the clicked element is within
/// one that matches [`ANSWERS_ITSELF`]; `modifier`: Ctrl, Cmd or Shift was held,
/// which opens a link (`link`: the click is in one) in a new tab or window.
pub fn may_be_dead(answers_itself: bool, modifier: bool, link: bool) -> bool {
    !(answers_itself || (modifier && link))
}

/// A position along one axis of an element's box, in thousandths of its size from
/// its start (`client`: the click; `start`, `size`: the box, all in viewport
/// pixels). Clamped to 0..=1000: a transformed element's box may not contain the
/// click. None for a box of no size.
pub fn thousandths(client: i32, start: f64, size: f64) -> Option<u16> {
    if size.is_nan() || size <= 0.0 {
        return None;
    }
    let t = (f64::from(client) - start) * 1000.0 / size + 0.5;
    // `as` saturates (and maps NaN to 0); the clamp keeps the upper bound at 1000.
    Some((t.clamp(0.0, 1000.0)) as u16)
}

/// The click's `rx` and `ry`: both, or neither when the box has no width or height.
pub fn rel_position(client: (i32, i32), rect: [f64; 4]) -> (Option<u16>, Option<u16>) {
    let [left, top, width, height] = rect;
    match (thousandths(client.0, left, width), thousandths(client.1, top, height)) {
        (Some(x), Some(y)) => (Some(x), Some(y)),
        _ => (None, None),
    }
}

fn past(clicked: u64, now: u64) -> bool {
    now.saturating_sub(clicked) >= DEAD_AFTER_MS
}

/// What the edge saw while clicks were waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The page answered (changed, scrolled, navigated).
    Change,
    /// The timer ran out: time passed with no answer.
    Time,
    /// The page is being hidden or left.
    Leave,
}

/// Clicks waiting for their verdict, oldest first.
#[derive(Debug, Default)]
pub struct Pending {
    clicks: Vec<Click>,
}

impl Pending {
    /// Adds a click to wait for its verdict; when [`MAX_PENDING`] already wait, the
    /// oldest comes back, undecided, to be buffered as not dead.
    pub fn add(&mut self, click: Click) -> Option<Click> {
        let out = (self.clicks.len() >= MAX_PENDING).then(|| self.clicks.remove(0));
        self.clicks.push(click);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.clicks.is_empty()
    }

    /// When the oldest click's second ends: the edge reports [`Seen::Time`]
    /// then. None: nothing waits, and the page need not be watched.
    pub fn deadline(&self) -> Option<u64> {
        self.clicks.first().map(|c| c.time.saturating_add(DEAD_AFTER_MS))
    }

    /// The oldest click, if what was seen at `now` decides it; call until None:
    /// - [`Seen::Change`]: every click waiting. Those still in their second are
    ///   live; one whose second ended before `now` is dead (its timer was late,
    ///   and the change came after).
    /// - [`Seen::Time`]: the clicks whose second has ended, dead. The others wait.
    /// - [`Seen::Leave`]: every click waiting, undecided, so not dead.
    pub fn next_decided(&mut self, seen: Seen, now: u64) -> Option<Click> {
        let over = past(self.clicks.first()?.time, now);
        if seen == Seen::Time && !over {
            return None;
        }
        let mut c = self.clicks.remove(0);
        c.dead = seen != Seen::Leave && over;
        Some(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn click(time: u64) -> Click {
        Click {
            time,
            x: 0,
            y: 0,
            cx: 0,
            cy: 0,
            since_page_view_ms: 0,
            button: 0,
            tag: "div".into(),
            element_id: None,
            classes: Vec::new(),
            selector: String::from("div"),
            href: None,
            rage: false,
            rel_x: None,
            rel_y: None,
            viewport_width: None,
            dead: false,
        }
    }

    fn verdicts(p: &mut Pending, seen: Seen, now: u64) -> Vec<(u64, bool)> {
        core::iter::from_fn(|| p.next_decided(seen, now)).map(|c| (c.time, c.dead)).collect()
    }

    #[test]
    fn a_click_with_no_answer_for_a_second_is_dead() {
        let mut p = Pending::default();
        assert!(p.add(click(1_000)).is_none());
        assert_eq!(p.deadline(), Some(2_000));
        assert_eq!(verdicts(&mut p, Seen::Time, 1_999), []);
        assert_eq!(verdicts(&mut p, Seen::Time, 2_000), [(1_000, true)]);
        assert!(p.is_empty());
        assert_eq!(p.deadline(), None);
    }

    #[test]
    fn an_answer_within_the_second_makes_the_click_live() {
        let mut p = Pending::default();
        p.add(click(1_000));
        assert_eq!(verdicts(&mut p, Seen::Change, 1_999), [(1_000, false)]);
        assert!(p.is_empty());
    }

    #[test]
    fn an_answer_after_the_second_comes_too_late() {
        // The timer fired late (a busy page): the change at 2.5 s is not this
        // click's doing, but the later click's.
        let mut p = Pending::default();
        p.add(click(1_000));
        p.add(click(2_000));
        assert_eq!(verdicts(&mut p, Seen::Change, 2_500), [(1_000, true), (2_000, false)]);
    }

    #[test]
    fn expiry_decides_only_the_clicks_whose_second_ended() {
        let mut p = Pending::default();
        p.add(click(1_000));
        p.add(click(1_400));
        p.add(click(1_900));
        assert_eq!(verdicts(&mut p, Seen::Time, 2_450), [(1_000, true), (1_400, true)]);
        assert_eq!(p.deadline(), Some(2_900));
        assert_eq!(verdicts(&mut p, Seen::Change, 2_500), [(1_900, false)]);
    }

    #[test]
    fn clicks_waiting_when_the_page_is_left_go_out_not_dead() {
        let mut p = Pending::default();
        p.add(click(1_000));
        p.add(click(1_100));
        assert_eq!(verdicts(&mut p, Seen::Leave, 0), [(1_000, false), (1_100, false)]);
        assert!(p.is_empty());
    }

    #[test]
    fn a_flood_of_clicks_pushes_the_oldest_out_undecided() {
        let mut p = Pending::default();
        for t in 0..MAX_PENDING as u64 {
            assert!(p.add(click(t)).is_none());
        }
        let out = p.add(click(100)).expect("the oldest");
        assert_eq!((out.time, out.dead), (0, false));
        assert_eq!(p.deadline(), Some(1 + DEAD_AFTER_MS));
    }

    #[test]
    fn a_clock_set_back_does_not_decide_early() {
        let mut p = Pending::default();
        p.add(click(5_000));
        assert_eq!(verdicts(&mut p, Seen::Time, 4_000), []);
        assert_eq!(verdicts(&mut p, Seen::Change, 4_000), [(5_000, false)]);
    }

    #[test]
    fn clicks_that_answer_themselves_and_links_opened_with_a_modifier_are_never_dead() {
        assert!(may_be_dead(false, false, false));
        assert!(may_be_dead(false, false, true));
        assert!(!may_be_dead(true, false, false));
        assert!(!may_be_dead(false, true, true));
        // A modifier on a click outside any link opens nothing.
        assert!(may_be_dead(false, true, false));
    }

    #[test]
    fn the_selector_names_fields_labels_editable_text_media_and_links_elsewhere() {
        let parts: Vec<&str> = ANSWERS_ITSELF.split(',').collect();
        for part in ["input", "textarea", "select", "option", "label", "video", "audio"] {
            assert!(parts.contains(&part), "{part}");
        }
        assert!(ANSWERS_ITSELF.contains("[contenteditable]:not([contenteditable=false])"));
        assert!(parts.contains(&"a[href][target=_blank]") && parts.contains(&"a[href][download]"));
        assert!(!ANSWERS_ITSELF.contains(' '), "one line, no descendant combinators");
    }

    #[test]
    fn positions_are_thousandths_of_the_box_from_its_top_left_corner() {
        // A 200 x 40 box at (100.5, 50): the click at (150, 60).
        assert_eq!(rel_position((150, 60), [100.5, 50.0, 200.0, 40.0]), (Some(248), Some(250)));
        assert_eq!(rel_position((100, 50), [100.0, 50.0, 200.0, 40.0]), (Some(0), Some(0)));
        assert_eq!(rel_position((300, 90), [100.0, 50.0, 200.0, 40.0]), (Some(1000), Some(1000)));
        // Outside the box (a transformed element): clamped.
        assert_eq!(rel_position((90, 500), [100.0, 50.0, 200.0, 40.0]), (Some(0), Some(1000)));
    }

    #[test]
    fn a_box_of_no_size_gives_no_position() {
        assert_eq!(rel_position((10, 10), [0.0, 0.0, 0.0, 40.0]), (None, None));
        assert_eq!(rel_position((10, 10), [0.0, 0.0, 40.0, 0.0]), (None, None));
        assert_eq!(rel_position((10, 10), [0.0, 0.0, f64::NAN, 40.0]), (None, None));
        assert_eq!(thousandths(10, f64::NAN, 40.0), Some(0));
    }
}
