//! The bounded event buffer: memory stays capped however long the network is slow
//! or the shopper clicks, and what is lost is counted, not hidden.
//!
//! When full, a new event evicts the oldest event of a lower priority (mouse moves
//! first, then scroll depth, then clicks); page views and leaves, which reports
//! are built on, go last. An event with nothing below it to evict is dropped
//! itself. Every drop is counted and reported in the next batch (`d`).

use alloc::vec::Vec;

use protocol::Event;

/// Most events held in memory.
pub const CAPACITY: usize = 400;

fn priority(e: &Event) -> u8 {
    match e {
        Event::Moves(_) => 0,
        Event::Scroll(_) => 1,
        Event::Click(_) => 2,
        _ => 3,
    }
}

#[derive(Debug)]
pub struct Buffer {
    /// Oldest first. A `Vec`, not a `VecDeque`: events leave from the front a
    /// batch at a time, every few seconds, and the deque's code is 2 KB of wasm.
    events: Vec<Event>,
    capacity: usize,
    dropped: u32,
}

impl Default for Buffer {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl Buffer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self { events: Vec::new(), capacity: capacity.max(1), dropped: 0 }
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn push(&mut self, event: Event) {
        if self.events.len() >= self.capacity {
            let p = priority(&event);
            let lowest = (0..p).find_map(|level| self.events.iter().position(|e| priority(e) == level));
            match lowest {
                // `i` is in range (found by `position`); the test lets the
                // compiler drop `remove`'s panic path.
                Some(i) if i < self.events.len() => {
                    self.events.remove(i);
                }
                Some(_) => {}
                None => {
                    self.dropped = self.dropped.saturating_add(1);
                    return;
                }
            }
            self.dropped = self.dropped.saturating_add(1);
        }
        self.events.push(event);
    }

    /// Takes up to `n` of the oldest events.
    pub fn take(&mut self, n: usize) -> Vec<Event> {
        let n = n.min(self.events.len());
        let rest = self.events.split_off(n);
        core::mem::replace(&mut self.events, rest)
    }

    /// Puts events back at the front, in order (a batch that came out too large).
    pub fn put_back(&mut self, events: Vec<Event>) {
        let mut rest = core::mem::replace(&mut self.events, events);
        self.events.append(&mut rest);
    }

    /// The number of drops since the last call, for the next batch's `d`.
    pub fn take_dropped(&mut self) -> u32 {
        core::mem::take(&mut self.dropped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Click, Kind, MoveBatch, PageLeave};

    fn moves(t: u64) -> Event {
        Event::Moves(MoveBatch { time: t, points: vec![[0, 0, 0]] })
    }

    fn click(t: u64) -> Event {
        Event::Click(Click {
            time: t,
            x: 0,
            y: 0,
            cx: 0,
            cy: 0,
            since_page_view_ms: 0,
            button: 0,
            tag: "a".into(),
            element_id: None,
            classes: vec![],
            selector: "a".into(),
            href: None,
            rage: false,
            rel_x: None,
            rel_y: None,
            viewport_width: None,
            dead: false,
        })
    }

    fn leave(t: u64) -> Event {
        Event::PageLeave(PageLeave { time: t, duration_ms: 0, scroll_depth: 0 })
    }

    #[test]
    fn a_full_buffer_drops_moves_before_clicks_and_counts_them() {
        let mut b = Buffer::with_capacity(3);
        b.push(moves(1));
        b.push(click(2));
        b.push(moves(3));
        b.push(click(4));
        b.push(click(5));
        let kinds: Vec<u64> = b.take(10).iter().map(Event::time).collect();
        assert_eq!(kinds, [2, 4, 5]);
        assert_eq!(b.take_dropped(), 2);
        assert_eq!(b.take_dropped(), 0);
    }

    #[test]
    fn with_only_clicks_left_a_new_move_is_dropped_itself() {
        let mut b = Buffer::with_capacity(2);
        b.push(click(1));
        b.push(click(2));
        b.push(moves(3));
        assert_eq!(b.take(10).iter().map(Event::time).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(b.take_dropped(), 1);
    }

    #[test]
    fn page_leaves_evict_clicks_but_are_never_evicted_by_them() {
        let mut b = Buffer::with_capacity(2);
        b.push(click(1));
        b.push(leave(2));
        b.push(leave(3));
        b.push(click(4));
        assert_eq!(b.take(10).iter().map(Event::kind).collect::<Vec<_>>(), [Kind::PageLeave; 2]);
        assert_eq!(b.take_dropped(), 2);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut b = Buffer::with_capacity(CAPACITY);
        for i in 0..10_000 {
            b.push(if i % 2 == 0 { moves(i) } else { click(i) });
        }
        assert_eq!(b.len(), CAPACITY);
        assert_eq!(b.take_dropped(), 10_000 - CAPACITY as u32);
    }

    #[test]
    fn put_back_keeps_order() {
        let mut b = Buffer::default();
        (0..5).for_each(|i| b.push(click(i)));
        let first = b.take(3);
        b.put_back(first);
        assert_eq!(b.take(10).iter().map(Event::time).collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    }
}
