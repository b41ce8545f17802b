//! Batches handed from `/collect` to the drainer in memory, so a batch is
//! parsed once: `/collect` parses it to validate it, and without this the
//! drainer would parse the spooled JSON again, which was about a quarter of the
//! server's CPU per event.
//!
//! The spool stays the record: a batch is handed over only once it is durable
//! (the spool writer calls [`Ticket::put`] after the fsync, before readers can
//! see the record), keyed by where its record ends, which is how the drainer
//! finds it. What is not here (held past the byte budget, or accepted by an
//! earlier process) the drainer parses from the spool as before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use protocol::Batch;

use super::spool::Pos;

/// Parsed batches waiting for the drainer, at most `budget` bytes of their JSON.
#[derive(Debug)]
pub struct Handoff {
    budget: usize,
    held: AtomicUsize,
    batches: Mutex<BTreeMap<Pos, (Batch, usize)>>,
}

/// Room reserved for one batch; given back when dropped without [`Ticket::put`]
/// (its append failed).
#[derive(Debug)]
pub struct Ticket {
    handoff: Arc<Handoff>,
    bytes: usize,
}

impl Handoff {
    /// Holds up to `budget` bytes of JSON worth of parsed batches (the parsed
    /// form is larger: it is bounded by the same ratio).
    pub fn new(budget: usize) -> Arc<Self> {
        Arc::new(Self { budget, held: AtomicUsize::new(0), batches: Mutex::default() })
    }

    /// Reserves room for a batch of `bytes` of JSON; `None` when full.
    pub fn reserve(self: &Arc<Self>, bytes: usize) -> Option<Ticket> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(bytes).filter(|&total| total <= self.budget)
            })
            .ok()
            .map(|_| Ticket { handoff: Arc::clone(self), bytes })
    }

    /// Takes every batch whose record ends at or before `end`: the ones the
    /// drainer is about to store, and any left behind before them.
    pub fn take_through(&self, end: Pos) -> BTreeMap<Pos, Batch> {
        let mut batches = self.batches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let rest = batches.split_off(&Pos { seg: end.seg, off: end.off.saturating_add(1) });
        let taken = std::mem::replace(&mut *batches, rest);
        drop(batches);
        let bytes: usize = taken.values().map(|(_, b)| b).sum();
        self.held.fetch_sub(bytes, Ordering::AcqRel);
        taken.into_iter().map(|(pos, (batch, _))| (pos, batch)).collect()
    }

    /// Bytes of JSON the batches held stand for.
    pub fn held_bytes(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }
}

impl Ticket {
    /// Hands the batch whose record ends at `end` over to the drainer.
    pub fn put(mut self, end: Pos, batch: Batch) {
        // The room now belongs to the held batch: `take_through` gives it back.
        let bytes = std::mem::take(&mut self.bytes);
        self.handoff
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(end, (batch, bytes));
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.handoff.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(id: &str) -> Batch {
        serde_json::from_str(&format!(r#"{{"s":1,"v":"9f86d081884c7d65","b":"{id}","t":1,"e":[]}}"#))
            .expect("batch")
    }

    fn at(off: u64) -> Pos {
        Pos { seg: 1, off }
    }

    #[test]
    fn holds_batches_within_the_budget_and_takes_them_by_position() {
        let handoff = Handoff::new(100);
        handoff.reserve(40).expect("room").put(at(10), batch("a"));
        handoff.reserve(40).expect("room").put(at(20), batch("b"));
        assert!(handoff.reserve(40).is_none(), "past the budget");
        assert_eq!(handoff.held_bytes(), 80);

        let taken = handoff.take_through(at(10));
        assert_eq!(taken.keys().copied().collect::<Vec<_>>(), vec![at(10)]);
        assert_eq!(taken[&at(10)].batch_id, "a");
        assert_eq!(handoff.held_bytes(), 40, "taking gives the room back");
        handoff.reserve(40).expect("room again").put(Pos { seg: 2, off: 5 }, batch("c"));

        let taken = handoff.take_through(Pos { seg: 2, off: 5 });
        assert_eq!(taken.keys().copied().collect::<Vec<_>>(), vec![at(20), Pos { seg: 2, off: 5 }]);
        assert_eq!(handoff.held_bytes(), 0);
    }

    #[test]
    fn a_ticket_never_put_gives_its_room_back() {
        let handoff = Handoff::new(100);
        let ticket = handoff.reserve(100).expect("room");
        assert!(handoff.reserve(1).is_none());
        drop(ticket);
        assert_eq!(handoff.held_bytes(), 0);
        assert!(handoff.reserve(100).is_some());
    }
}
