//! Privacy deletions that race the spool: a visitor's batches accepted before a
//! deletion but not yet stored would reach storage after it. A deletion first
//! waits until what was accepted before it is stored ([`super::Pipeline::settle`]),
//! then leaves a tombstone here, up to the spool's end at that moment; the
//! drainer drops the covered batches it reads from then on, and forgets the
//! tombstone once its cursor is past that end. So a batch accepted before the
//! deletion is either stored before the store's delete (and deleted by it) or
//! never stored. Kept in memory: the wait before makes what a tombstone covers
//! the batches of the deletion's own few milliseconds.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::spool::Pos;

#[derive(Debug)]
struct Tombstone {
    sites: Vec<u32>,
    /// `None`: every visitor of the sites (a shop's deletion).
    visitors: Option<HashSet<String>>,
    /// Batches whose record ends at or before this are covered.
    until: Pos,
}

/// The tombstones in force; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tombstones {
    list: Arc<Mutex<Vec<Tombstone>>>,
}

impl Tombstones {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Tombstone>> {
        self.list.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Covers these visitors of these sites (all of the sites' visitors for
    /// `None`) in every batch up to `until`.
    pub fn add(&self, sites: &[u32], visitors: Option<&[String]>, until: Pos) {
        let visitors = visitors.map(|v| v.iter().cloned().collect());
        self.lock().push(Tombstone { sites: sites.to_vec(), visitors, until });
    }

    /// Whether the batch of `visitor` on `site` whose record ends at `end` is covered.
    pub fn covers(&self, site: u32, visitor: &str, end: Pos) -> bool {
        self.lock().iter().any(|t| {
            end <= t.until
                && t.sites.contains(&site)
                && t.visitors.as_ref().is_none_or(|v| v.contains(visitor))
        })
    }

    /// The cursor is at `pos`: tombstones up to it have done their work.
    pub fn drained(&self, pos: Pos) {
        let mut list = self.lock();
        if !list.is_empty() {
            list.retain(|t| t.until > pos);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(offset: u64) -> Pos {
        Pos { seg: 1, off: offset }
    }

    #[test]
    fn covers_the_named_visitors_up_to_the_end_and_is_forgotten_after() {
        let t = Tombstones::default();
        t.add(&[7], Some(&["aaaaaaaaaaaaaaaa".to_string()]), pos(100));
        t.add(&[9], None, pos(50));
        assert!(t.covers(7, "aaaaaaaaaaaaaaaa", pos(100)));
        assert!(!t.covers(7, "aaaaaaaaaaaaaaaa", pos(101)), "accepted after the deletion");
        assert!(!t.covers(7, "bbbbbbbbbbbbbbbb", pos(10)), "another visitor");
        assert!(!t.covers(8, "aaaaaaaaaaaaaaaa", pos(10)), "another site");
        assert!(t.covers(9, "cccccccccccccccc", pos(50)), "a whole site");
        t.drained(pos(60));
        assert!(!t.covers(9, "cccccccccccccccc", pos(50)));
        assert!(t.covers(7, "aaaaaaaaaaaaaaaa", pos(90)));
        t.drained(pos(100));
        assert!(t.is_empty());
    }
}
