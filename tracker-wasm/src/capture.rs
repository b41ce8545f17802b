//! Capture policy for the high-rate inputs: mouse moves (throttled and merged into
//! point lists), rage clicks, and the deepest scroll.
//!
//! Moves: a point is kept when it is at least [`MOVE_INTERVAL_MS`] after the last
//! kept one and at least [`MOVE_DISTANCE_PX`] away from it. 50 ms is rrweb's
//! sampling interval (Hotjar uses 100 ms, Clarity merges moves under 25 ms); 20 px
//! is Clarity's merge distance. A heatmap needs where the pointer went and rested,
//! not every pixel: at 50 ms a fast sweep still leaves a point every few
//! centimetres, and the last skipped point is kept when the list closes so the
//! resting position is never lost. Kept points go into one `m` event of up to
//! [`MOVE_POINTS`] points, each `[x, y, ms after the first]`: about 14 bytes a point
//! on the wire, instead of a whole event per move.

use alloc::vec;
use alloc::vec::Vec;

use protocol::MoveBatch;

pub const MOVE_INTERVAL_MS: u64 = 50;
pub const MOVE_DISTANCE_PX: i32 = 20;
/// Points per `m` event; well under the protocol's list limit.
pub const MOVE_POINTS: usize = 64;
/// Longest time one `m` event spans, so offsets stay small numbers.
const MOVE_SPAN_MS: u64 = 10_000;

/// Merges raw mouse moves into [`MoveBatch`] events.
#[derive(Debug, Default)]
pub struct Moves {
    open: Option<MoveBatch>,
    last: Option<(i32, i32, u64)>,
    skipped: Option<(i32, i32, u64)>,
}

impl Moves {
    /// Feeds one raw move in page coordinates; returns a full list to buffer.
    /// This runs on every `mousemove`, so the common path (a skipped point) is two
    /// comparisons and a store.
    #[inline]
    pub fn feed(&mut self, x: i32, y: i32, now: u64) -> Option<MoveBatch> {
        if let Some((lx, ly, lt)) = self.last {
            let near = (x - lx).abs() < MOVE_DISTANCE_PX && (y - ly).abs() < MOVE_DISTANCE_PX;
            if near || now.saturating_sub(lt) < MOVE_INTERVAL_MS {
                self.skipped = Some((x, y, now));
                return None;
            }
        }
        self.skipped = None;
        self.keep(x, y, now)
    }

    fn keep(&mut self, x: i32, y: i32, now: u64) -> Option<MoveBatch> {
        self.last = Some((x, y, now));
        let full = match &mut self.open {
            Some(open) if now.saturating_sub(open.time) <= MOVE_SPAN_MS => {
                let dt = i32::try_from(now.saturating_sub(open.time)).unwrap_or(i32::MAX);
                open.points.push([x, y, dt]);
                open.points.len() >= MOVE_POINTS
            }
            _ => {
                let done = self.open.replace(MoveBatch { time: now, points: vec![[x, y, 0]] });
                if done.is_some() {
                    return done;
                }
                false
            }
        };
        if full {
            self.open.take()
        } else {
            None
        }
    }

    /// Whether a move at `now` is too soon after the last kept point to be kept,
    /// whatever its position: the edge then skips reading its coordinates at all.
    #[inline]
    pub fn too_soon(&self, now: u64) -> bool {
        self.last.is_some_and(|(_, _, lt)| now.saturating_sub(lt) < MOVE_INTERVAL_MS)
    }

    /// Closes the open list (at flush or when leaving), adding the last skipped
    /// point so the resting position is kept.
    pub fn close(&mut self) -> Option<MoveBatch> {
        if let Some((x, y, t)) = self.skipped.take() {
            let moved = self.last.is_none_or(|(lx, ly, _)| lx != x || ly != y);
            if moved {
                if let Some(done) = self.keep(x, y, t) {
                    return Some(done);
                }
            }
        }
        self.open.take()
    }
}

/// Rage clicks: [`RAGE_CLICKS`] or more clicks within [`RAGE_WINDOW_MS`] and
/// [`RAGE_RADIUS_PX`] of each other, the usual sign of something that looks
/// clickable and does nothing.
pub const RAGE_CLICKS: usize = 3;
pub const RAGE_WINDOW_MS: u64 = 1_000;
pub const RAGE_RADIUS_PX: i32 = 30;

#[derive(Debug, Default)]
pub struct Rage {
    recent: Vec<(i32, i32, u64)>,
}

impl Rage {
    /// Records a click (page coordinates); true when it completes or continues a
    /// rage burst.
    pub fn click(&mut self, x: i32, y: i32, now: u64) -> bool {
        // At most the 7 newest earlier clicks are kept, dropped in the same
        // pass as the window and radius check, before it (a `Vec::remove`
        // after it would ship its panic path in the wasm): with 8 held, the
        // oldest goes even when it is in range.
        let mut older = self.recent.len().saturating_sub(7);
        self.recent.retain(|&(px, py, t)| {
            if older > 0 {
                older -= 1;
                return false;
            }
            now.saturating_sub(t) <= RAGE_WINDOW_MS
                && (px - x).abs() <= RAGE_RADIUS_PX
                && (py - y).abs() <= RAGE_RADIUS_PX
        });
        self.recent.push((x, y, now));
        self.recent.len() >= RAGE_CLICKS
    }
}

/// The deepest point seen: bottom of the viewport, in page pixels and percent.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScrollDepth {
    pub max_y: i32,
    pub max_pct: u8,
    reported_pct: u8,
}

impl ScrollDepth {
    pub fn observe(&mut self, scroll_y: i32, viewport_h: i32, doc_h: i32) {
        let bottom = scroll_y.saturating_add(viewport_h).max(0);
        if bottom <= self.max_y {
            return;
        }
        self.max_y = bottom;
        let pct = if doc_h <= 0 { 100 } else { (i64::from(bottom) * 100 / i64::from(doc_h)).clamp(0, 100) };
        self.max_pct = u8::try_from(pct).unwrap_or(100);
    }

    /// The depth to report when it went deeper since the last report.
    pub fn take_deeper(&mut self) -> Option<(u8, i32)> {
        (self.max_pct > self.reported_pct).then(|| {
            self.reported_pct = self.max_pct;
            (self.max_pct, self.max_y)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_closer_in_time_or_space_are_merged() {
        let mut m = Moves::default();
        assert!(m.feed(0, 0, 1_000).is_none());
        for i in 1..10 {
            m.feed(i * 100, 0, 1_000 + i as u64); // far but too soon
        }
        m.feed(905, 5, 1_100); // far from the last kept point and 100 ms later: kept
        let batch = m.close().expect("open list");
        assert_eq!(batch.points, [[0, 0, 0], [905, 5, 100]]);
    }

    #[test]
    fn too_soon_follows_the_last_kept_point() {
        let mut m = Moves::default();
        assert!(!m.too_soon(0));
        m.feed(0, 0, 1_000);
        assert!(m.too_soon(1_000 + MOVE_INTERVAL_MS - 1));
        assert!(!m.too_soon(1_000 + MOVE_INTERVAL_MS));
    }

    #[test]
    fn tiny_moves_keep_only_the_resting_point() {
        let mut m = Moves::default();
        m.feed(100, 100, 0);
        for i in 1..50u64 {
            m.feed(100 + (i % 3) as i32, 100, i * 60);
        }
        m.feed(110, 105, 3_000);
        let batch = m.close().expect("open list");
        assert_eq!(batch.points, [[100, 100, 0], [110, 105, 3_000]]);
    }

    #[test]
    fn a_full_list_is_handed_over() {
        let mut m = Moves::default();
        let mut handed = Vec::new();
        for i in 0..(MOVE_POINTS as u64 + 5) {
            if let Some(b) = m.feed(i as i32 * 30, 0, i * 60) {
                handed.push(b);
            }
        }
        assert_eq!(handed.len(), 1);
        assert_eq!(handed[0].points.len(), MOVE_POINTS);
        assert_eq!(m.close().map(|b| b.points.len()), Some(5));
    }

    #[test]
    fn a_long_pause_starts_a_new_list() {
        let mut m = Moves::default();
        m.feed(0, 0, 0);
        let done = m.feed(500, 0, MOVE_SPAN_MS + 1);
        assert_eq!(done.map(|b| b.points), Some(vec![[0, 0, 0]]));
        assert_eq!(m.close().map(|b| b.time), Some(MOVE_SPAN_MS + 1));
    }

    #[test]
    fn three_quick_clicks_in_one_spot_are_rage() {
        let mut r = Rage::default();
        assert!(!r.click(10, 10, 0));
        assert!(!r.click(12, 11, 200));
        assert!(r.click(11, 9, 400));
        assert!(r.click(11, 9, 500));
    }

    #[test]
    fn slow_or_spread_clicks_are_not_rage() {
        let mut r = Rage::default();
        assert!(!r.click(10, 10, 0));
        assert!(!r.click(10, 10, 1_500));
        assert!(!r.click(10, 10, 3_000));
        assert!(!r.click(200, 10, 3_100));
        assert!(!r.click(400, 10, 3_200));
    }

    #[test]
    fn scroll_depth_only_grows_and_is_reported_once() {
        let mut s = ScrollDepth::default();
        s.observe(0, 800, 4_000);
        assert_eq!(s.take_deeper(), Some((20, 800)));
        assert_eq!(s.take_deeper(), None);
        s.observe(3_200, 800, 4_000);
        s.observe(100, 800, 4_000);
        assert_eq!(s.take_deeper(), Some((100, 4_000)));
    }
}
