//! Following the spool: what the drainer and the relay share while they wait
//! for new records. Each takes the committed position, reads up to it, and
//! when nothing was left to read waits for the next commit, for shutdown or for
//! a second, whichever comes first; once shutdown is asked for, a follower that
//! has caught up is done.

use std::time::Duration;

use tokio::sync::watch;

use super::spool::{Pos, Spool};

/// Longest wait for a commit: a follower looks again at least this often.
const TICK: Duration = Duration::from_secs(1);

/// A spool reader's view of the committed position and of shutdown.
#[derive(Debug)]
pub struct Follower {
    committed: watch::Receiver<Pos>,
    stop: watch::Receiver<bool>,
}

impl Follower {
    /// Follows `spool` until `stop` turns true.
    pub fn new(spool: &Spool, stop: watch::Receiver<bool>) -> Self {
        Self { committed: spool.committed(), stop }
    }

    /// Where the spool is committed up to now, the end of what to read next;
    /// [`Follower::wait_for_more`] then waits for a later commit than this.
    pub fn target(&mut self) -> Pos {
        *self.committed.borrow_and_update()
    }

    /// Whether shutdown was asked for, or can no longer be (the pipeline is
    /// gone): either way the follower is done once caught up, instead of
    /// spinning on a signal that resolves at once.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow() || self.stop.has_changed().is_err()
    }

    /// Resolves once the stop signal changes (at once if it changed since the
    /// follower last waited on it) or its sender is gone.
    pub async fn stop_changed(&mut self) {
        let _ = self.stop.changed().await;
    }

    /// Called with everything up to the last [`Follower::target`] read: answers
    /// `false` when shutdown was asked for, as the follower is done; otherwise
    /// waits for a new commit, shutdown or a tick and answers `true`, to look
    /// again.
    pub async fn wait_for_more(&mut self) -> bool {
        if self.stopping() {
            return false;
        }
        tokio::select! {
            _ = self.committed.changed() => {}
            _ = self.stop.changed() => {}
            () = tokio::time::sleep(TICK) => {}
        }
        true
    }
}
