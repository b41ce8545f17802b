//! Privacy deletions that race the spool: a visitor's batches accepted before a
//! deletion but not yet stored would reach storage after it, and batches not
//! yet relayed would reach Matomo after it. A deletion first waits until what
//! was accepted before it is stored ([`super::Pipeline::settle`]), then leaves
//! a tombstone here, up to the spool's end at that moment; every follower of
//! the spool (the drainer, and the Matomo relay when there is one) drops the
//! covered batches it reads from then on, and the tombstone is forgotten once
//! every follower's cursor is past that end. So a batch accepted before the
//! deletion is either stored before the store's delete (and deleted by it) or
//! never stored; and never relayed unless it was relayed before the deletion
//! (Matomo's own deletion tools reach that).
//!
//! The drainer is seconds behind at most, but the relay can be hours behind
//! while Matomo is down, across restarts: tombstones are kept in
//! `spool/tombstones.json` too (written before the deletion goes on, removed
//! when the last is forgotten), so a restart does not relay what was deleted.
//! The file holds the deleted visitors' ids (pseudonymous, no more than the
//! deletion request named) and the sites, only while a follower has not passed them.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::spool::Pos;

/// The file name in the spool directory.
const FILE: &str = "tombstones.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Tombstone {
    sites: Vec<u32>,
    /// `None`: every visitor of the sites (a shop's deletion).
    visitors: Option<HashSet<String>>,
    /// Batches whose record ends at or before this are covered.
    #[serde(with = "pos")]
    until: Pos,
}

#[derive(Debug, Default)]
struct State {
    list: Vec<Tombstone>,
    /// Each follower's cursor as it last said; none yet is the spool's start.
    passed: BTreeMap<String, Pos>,
    /// Where the list is kept; `None` in memory only.
    file: Option<PathBuf>,
}

/// The tombstones in force; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tombstones {
    state: Arc<Mutex<State>>,
}

impl Tombstones {
    /// The tombstones kept in `spool_dir` (none when there is no file), for
    /// these followers of the spool.
    pub fn open(spool_dir: &Path, followers: &[&str]) -> io::Result<Self> {
        let file = spool_dir.join(FILE);
        let list = match fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let passed = followers.iter().map(|f| ((*f).to_string(), Pos::default())).collect();
        Ok(Self { state: Arc::new(Mutex::new(State { list, passed, file: Some(file) })) })
    }

    /// In memory only, for these followers.
    pub fn in_memory(followers: &[&str]) -> Self {
        let passed = followers.iter().map(|f| ((*f).to_string(), Pos::default())).collect();
        Self { state: Arc::new(Mutex::new(State { passed, ..State::default() })) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Covers these visitors of these sites (all of the sites' visitors for
    /// `None`) in every batch up to `until`. In force at once; an error says it
    /// could not be kept on disk (it holds until the process ends).
    pub fn add(&self, sites: &[u32], visitors: Option<&[String]>, until: Pos) -> io::Result<()> {
        let visitors = visitors.map(|v| v.iter().cloned().collect());
        let mut state = self.lock();
        state.list.push(Tombstone { sites: sites.to_vec(), visitors, until });
        // Followers already there read nothing it covers: kept for the others.
        state.prune();
        state.save()
    }

    /// Whether the batch of `visitor` on `site` whose record ends at `end` is covered.
    pub fn covers(&self, site: u32, visitor: &str, end: Pos) -> bool {
        self.lock().list.iter().any(|t| {
            end <= t.until
                && t.sites.contains(&site)
                && t.visitors.as_ref().is_none_or(|v| v.contains(visitor))
        })
    }

    /// `follower`'s cursor is at `pos`: tombstones every follower has passed
    /// have done their work.
    pub fn passed(&self, follower: &str, pos: Pos) {
        let mut state = self.lock();
        if let Some(at) = state.passed.get_mut(follower) {
            *at = pos;
        }
        if state.prune() {
            if let Err(e) = state.save() {
                // Kept on disk a while longer: a restart checks them again, harmlessly.
                tracing::warn!(error = %e, "updating the tombstones file failed");
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lock().list.is_empty()
    }
}

impl State {
    /// Forgets the tombstones every follower has passed; answers whether any went.
    fn prune(&mut self) -> bool {
        let Some(slowest) = self.passed.values().copied().min() else { return false };
        let before = self.list.len();
        self.list.retain(|t| t.until > slowest);
        self.list.len() != before
    }

    /// Writes the list (durably: a deletion goes on only after it), or removes
    /// the file when the list is empty.
    fn save(&self) -> io::Result<()> {
        let Some(file) = &self.file else { return Ok(()) };
        if self.list.is_empty() {
            return match fs::remove_file(file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let tmp = file.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&self.list).map_err(io::Error::other)?;
        fs::write(&tmp, bytes)?;
        fs::File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, file)?;
        if let Some(dir) = file.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

/// A spool position in the file: `[segment, offset]`.
mod pos {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Pos;

    pub fn serialize<S: Serializer>(p: &Pos, s: S) -> Result<S::Ok, S::Error> {
        [p.seg, p.off].serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Pos, D::Error> {
        let [seg, off] = <[u64; 2]>::deserialize(d)?;
        Ok(Pos { seg, off })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(offset: u64) -> Pos {
        Pos { seg: 1, off: offset }
    }

    const VISITOR: &str = "aaaaaaaaaaaaaaaa";

    #[test]
    fn covers_the_named_visitors_up_to_the_end_and_is_forgotten_after() {
        let t = Tombstones::in_memory(&["drain"]);
        t.add(&[7], Some(&[VISITOR.to_string()]), pos(100)).expect("add");
        t.add(&[9], None, pos(50)).expect("add");
        assert!(t.covers(7, VISITOR, pos(100)));
        assert!(!t.covers(7, VISITOR, pos(101)), "accepted after the deletion");
        assert!(!t.covers(7, "bbbbbbbbbbbbbbbb", pos(10)), "another visitor");
        assert!(!t.covers(8, VISITOR, pos(10)), "another site");
        assert!(t.covers(9, "cccccccccccccccc", pos(50)), "a whole site");
        t.passed("drain", pos(60));
        assert!(!t.covers(9, "cccccccccccccccc", pos(50)));
        assert!(t.covers(7, VISITOR, pos(90)));
        t.passed("drain", pos(100));
        assert!(t.is_empty());
    }

    #[test]
    fn a_deletion_every_follower_is_past_leaves_nothing() {
        let t = Tombstones::in_memory(&["drain", "relay"]);
        t.passed("drain", pos(100));
        t.passed("relay", pos(100));
        t.add(&[7], None, pos(100)).expect("add");
        assert!(t.is_empty(), "nothing covered is left to read");
    }

    #[test]
    fn held_until_every_follower_has_passed() {
        let t = Tombstones::in_memory(&["drain", "relay"]);
        t.add(&[7], Some(&[VISITOR.to_string()]), pos(100)).expect("add");
        t.passed("drain", pos(500));
        assert!(t.covers(7, VISITOR, pos(80)), "the relay, behind, still drops it");
        t.passed("relay", pos(99));
        assert!(!t.is_empty());
        t.passed("relay", pos(100));
        assert!(t.is_empty());
    }

    #[test]
    fn kept_on_disk_across_a_restart_until_passed() {
        let dir = std::env::temp_dir().join(format!("lummmen-tombstones-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("dir");
        let t = Tombstones::open(&dir, &["drain", "relay"]).expect("open");
        t.add(&[7], Some(&[VISITOR.to_string()]), Pos { seg: 3, off: 100 }).expect("add");
        t.passed("drain", Pos { seg: 4, off: 0 });
        drop(t);

        let again = Tombstones::open(&dir, &["drain", "relay"]).expect("reopen");
        assert!(again.covers(7, VISITOR, Pos { seg: 3, off: 40 }), "the relay has not passed it");
        again.passed("drain", Pos { seg: 4, off: 0 });
        again.passed("relay", Pos { seg: 3, off: 100 });
        assert!(again.is_empty());
        assert!(!dir.join(FILE).exists(), "no file once none is left");
        assert!(Tombstones::open(&dir, &["drain"]).expect("open").is_empty());
        let _ = fs::remove_dir_all(&dir);
    }
}
