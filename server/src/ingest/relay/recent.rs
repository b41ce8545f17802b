//! The batches relayed lately, so a batch a client sent again is relayed once.
//!
//! Clients send a batch again with the same id whenever its answer was not
//! read: a 429 or 503 answered after the spool took it, a page that ended
//! with it on the wire (the next page sends its stored copy), a network error
//! on the way back. The store keeps one copy (its rows are keyed by event id),
//! but the relay follows the spool, where each copy is a record; without this,
//! Matomo would count those page views and orders twice.
//!
//! Bounded in time and count: clients give a batch up after
//! [`protocol::delivery::MAX_AGE_MS`], so a batch id is kept that long plus a
//! margin, and at most [`MAX_BATCHES`] of them (about 100 bytes each). A
//! restart forgets them; the cursor then resumes after what was relayed, so a
//! copy read before the restart is the only one that can go twice.

use std::collections::{HashSet, VecDeque};

/// How long a batch id is remembered: a client's longest retry, and a margin
/// for its clock and the spool's backlog.
pub const WINDOW_MS: u64 = protocol::delivery::MAX_AGE_MS + 15 * 60 * 1_000;

/// Most batch ids remembered; the oldest go first.
pub const MAX_BATCHES: usize = 200_000;

type Key = (u32, String);

#[derive(Debug, Default)]
pub struct Recent {
    seen: HashSet<Key>,
    order: VecDeque<(u64, Key)>,
}

impl Recent {
    /// Whether batch `batch_id` of `site` is new at `now_ms` (then it is
    /// remembered); `false` for a copy of one relayed within [`WINDOW_MS`].
    pub fn first_time(&mut self, site: u32, batch_id: &str, now_ms: u64) -> bool {
        while let Some((at, key)) = self.order.front() {
            if now_ms.saturating_sub(*at) < WINDOW_MS && self.order.len() < MAX_BATCHES {
                break;
            }
            self.seen.remove(key);
            self.order.pop_front();
        }
        let key = (site, batch_id.to_string());
        if self.seen.contains(&key) {
            return false;
        }
        self.seen.insert(key.clone());
        self.order.push_back((now_ms, key));
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_within_the_window_is_not_new() {
        let mut r = Recent::default();
        assert!(r.first_time(1, "00000000000000aa", 1_000));
        assert!(!r.first_time(1, "00000000000000aa", 2_000));
        assert!(r.first_time(2, "00000000000000aa", 2_000), "another site's batch");
        assert!(r.first_time(1, "00000000000000bb", 2_000));
        assert!(!r.first_time(1, "00000000000000aa", 1_000 + WINDOW_MS - 1));
        assert!(r.first_time(1, "00000000000000aa", 1_000 + WINDOW_MS), "forgotten after the window");
    }

    #[test]
    fn memory_is_bounded() {
        let mut r = Recent::default();
        for i in 0..MAX_BATCHES + 10 {
            assert!(r.first_time(1, &format!("{i:016x}"), 5));
        }
        assert_eq!(r.len(), MAX_BATCHES);
        assert!(r.first_time(1, &format!("{:016x}", 0), 5), "the oldest went first");
    }
}
