//! Batches between "built" and "answered", so that a POST that fails on the
//! network is sent again with the SAME batch id: the server derives event ids from
//! it and drops replays, so a retry of a batch that did arrive stores nothing twice.
//! Bounded: a few batches, a few attempts each.

use std::collections::VecDeque;

use protocol::Batch;

/// Most batches awaiting an answer; past it the oldest is forgotten (not retried).
pub const MAX_IN_FLIGHT: usize = 8;

/// Attempts per batch, the first included.
pub const MAX_ATTEMPTS: u8 = 3;

#[derive(Debug, Default)]
pub struct Outbox {
    in_flight: VecDeque<(Batch, u8)>,
    retry: VecDeque<(Batch, u8)>,
}

impl Outbox {
    /// Records a batch about to be POSTed, with its attempt number.
    pub fn sending(&mut self, batch: Batch, attempt: u8) {
        if self.in_flight.len() == MAX_IN_FLIGHT {
            self.in_flight.pop_front();
        }
        self.in_flight.push_back((batch, attempt));
    }

    fn take(&mut self, batch_id: &str) -> Option<(Batch, u8)> {
        let i = self.in_flight.iter().position(|(b, _)| b.batch_id == batch_id)?;
        self.in_flight.remove(i)
    }

    /// The POST got an answer: forget the batch.
    pub fn done(&mut self, batch_id: &str) {
        self.take(batch_id);
    }

    /// The POST failed on the network: retry it, unless it had its attempts.
    pub fn failed(&mut self, batch_id: &str) {
        if let Some((batch, attempt)) = self.take(batch_id) {
            if attempt < MAX_ATTEMPTS {
                self.retry.push_back((batch, attempt));
            }
        }
    }

    /// The next batch to send again, with the attempts it had.
    pub fn next_retry(&mut self) -> Option<(Batch, u8)> {
        self.retry.pop_front()
    }

    /// Consent revoked: nothing is sent again.
    pub fn clear(&mut self) {
        self.in_flight.clear();
        self.retry.clear();
    }
}
