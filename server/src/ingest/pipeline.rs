//! The pipeline behind `/collect`: the spool a batch is made durable in, the
//! handoff of parsed batches, the drainer into storage and the Matomo relay;
//! started and stopped as one, with admission (is there room in the spool?),
//! readiness and the `/metrics` text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use protocol::Batch;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::dedicated;
use super::drain::{self, Drainer};
use super::error::IngestError;
use super::facts::RequestFacts;
use super::handoff::Handoff;
use super::metrics::Metrics;
use super::relay;
use super::spool::{self, Pos, Reader, Spool};
use super::tombstones::Tombstones;
use crate::clock::now_ms;
use crate::config::Config;
use crate::health::Health;
use crate::store::EventStore;

/// The running pipeline; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pipeline {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spool_max: u64,
    /// Spool bytes when a batch was last refused for room (0: none since); the
    /// server is unready until the drainer brings the spool below it.
    full_at: AtomicU64,
    drain_deadline: Duration,
    metrics: Arc<Metrics>,
    health: Health,
    spool: Spool,
    handoff: Arc<Handoff>,
    drained: watch::Receiver<Pos>,
    storage_ok: watch::Receiver<bool>,
    stop: watch::Sender<bool>,
    drainer: Mutex<Option<JoinHandle<()>>>,
    relay: Mutex<Option<JoinHandle<()>>>,
    /// Whether there is a relay.
    relaying: bool,
    tombstones: Tombstones,
}

impl Pipeline {
    /// Opens the spool under `<data_dir>/spool`, starts the drainer into `store`
    /// (and the Matomo relay when configured), and installs its readiness check
    /// into `health`.
    /// `pending`: deletions published by other instances while this one was
    /// down (see [`crate::deletions`]), tombstones before the drainer starts.
    pub fn start(
        config: &Config,
        store: Arc<dyn EventStore>,
        health: Health,
        pending: &[crate::meta::Deletion],
    ) -> std::io::Result<Self> {
        let dir = config.data_dir.join("spool");
        std::fs::create_dir_all(&dir)?;
        let reader = Reader::open(&dir, drain::CURSOR)?;
        let followers: &[&str] =
            if config.matomo_url.is_some() { &[drain::CURSOR, relay::CURSOR] } else { &[drain::CURSOR] };
        let tombstones = Tombstones::open(&dir, followers)?;
        let metrics = Arc::new(Metrics::default());
        let observer = Arc::clone(&metrics);
        let spool = Spool::open_observed(
            &dir,
            reader.unread_bytes()?,
            Box::new(move |s| observer.spool_committed(s)),
        )?;
        spool.register(&reader);
        let end = *spool.committed().borrow();
        for d in pending {
            tombstones.add(&d.sites, d.visitors.as_deref(), end)?;
        }
        let (drained_tx, drained) = watch::channel(reader.pos);
        let (storage_tx, storage_ok) = watch::channel(true);
        let (stop, stop_rx) = watch::channel(false);
        let handoff = Handoff::new(
            config.handoff_max_bytes.unwrap_or_else(|| drain::chunk_bytes(config.insert_max_events)),
        );
        let drainer = Drainer {
            spool: spool.clone(),
            reader,
            handoff: Arc::clone(&handoff),
            store: Arc::clone(&store),
            metrics: Arc::clone(&metrics),
            max_events: config.insert_max_events,
            linger: Duration::from_millis(config.insert_linger_ms),
            drained: drained_tx,
            storage_ok: storage_tx,
            tombstones: tombstones.clone(),
        };
        // The relay first: it registers its cursor as it starts, and a segment
        // is deleted once every registered reader has passed it. Started
        // after the drainer, it could find a segment it still needed deleted
        // by a drainer that was ahead (its backlog across a restart, lost).
        let relay = match &config.matomo_url {
            Some(url) => Some(relay::start(
                relay::Settings { url: url.clone(), token: config.matomo_token.clone() },
                &spool,
                tombstones.clone(),
                Arc::clone(&metrics),
                stop_rx.clone(),
            )?),
            None => None,
        };
        let drainer = dedicated::spawn("drainer", drainer.run(stop_rx))?;
        let pipeline = Self {
            inner: Arc::new(Inner {
                spool_max: config.spool_max_bytes,
                full_at: AtomicU64::new(0),
                drain_deadline: Duration::from_secs(config.shutdown_drain_secs),
                metrics,
                health,
                spool,
                handoff,
                drained,
                storage_ok,
                stop,
                drainer: Mutex::new(Some(drainer)),
                relaying: relay.is_some(),
                relay: Mutex::new(relay),
                tombstones,
            }),
        };
        // A weak reference: the check must not keep the pipeline alive.
        let weak = Arc::downgrade(&pipeline.inner);
        pipeline.inner.health.set_check(Arc::new(move || match weak.upgrade() {
            Some(inner) => Pipeline { inner }.readiness(),
            None => Err("stopped"),
        }));
        Ok(pipeline)
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Makes a validated batch durable in the spool, then hands it to the
    /// drainer when there is room; answers the number of events. `json` is the
    /// decoded body the batch was parsed from; `facts`, what the relay needs of
    /// its request, spooled with it (see [`super::facts`]).
    pub async fn accept(
        &self,
        batch: Batch,
        json: &[u8],
        facts: Option<&RequestFacts>,
    ) -> Result<usize, IngestError> {
        if !self.inner.health.is_ready() {
            return Err(IngestError::ShuttingDown);
        }
        let pending = self.inner.spool.pending_bytes();
        if pending.saturating_add(json.len() as u64) > self.inner.spool_max {
            self.inner.full_at.store(pending.max(1), Ordering::SeqCst);
            return Err(IngestError::SpoolFull { retry_after_secs: 30 });
        }
        let events = batch.events.len();
        let on_durable = self
            .inner
            .handoff
            .reserve(json.len())
            .map(|ticket| Box::new(move |end: Pos| ticket.put(end, batch)) as spool::OnDurable);
        // Facts are for the relay alone: without one, none is kept.
        let meta = facts.filter(|_| self.relays()).map(RequestFacts::encode).unwrap_or_default();
        self.inner
            .spool
            .append_then(now_ms(), &meta, json, on_durable)
            .await
            .map_err(|e| IngestError::Internal(e.to_string()))?;
        Ok(events)
    }

    /// Whether a Matomo relay follows the spool (and so wants the requests' facts).
    pub fn relays(&self) -> bool {
        self.inner.relaying
    }

    /// Readiness: ready unless shutting down or the spool is full. Storage being
    /// down alone keeps the server ready while the spool has room.
    pub fn readiness(&self) -> Result<&'static str, &'static str> {
        if !self.inner.health.is_ready() {
            Err("shutting down")
        } else if self.spool_full() {
            Err("spool full: storage unreachable or behind")
        } else if !*self.inner.storage_ok.borrow() {
            Ok("ready (storage unreachable, spooling)")
        } else {
            Ok("ready")
        }
    }

    fn spool_full(&self) -> bool {
        let pending = self.inner.spool.pending_bytes();
        let full_at = self.inner.full_at.load(Ordering::SeqCst);
        pending >= self.inner.spool_max / 10 * 9 || (full_at != 0 && pending >= full_at)
    }

    /// Waits until every batch acknowledged so far is in storage.
    pub async fn flush(&self) -> Result<(), IngestError> {
        let target = *self.inner.spool.committed().borrow();
        let mut drained = self.inner.drained.clone();
        drained
            .wait_for(|p| *p >= target)
            .await
            .map(|_| ())
            .map_err(|_| IngestError::Internal("drainer stopped".into()))
    }

    /// Waits, up to `timeout`, until everything accepted so far is stored: a
    /// privacy request must see the events the spool still holds. Storage
    /// down or far behind is an error the request can retry.
    pub async fn settle(&self, timeout: Duration) -> Result<(), IngestError> {
        match tokio::time::timeout(timeout, self.flush()).await {
            Ok(result) => result,
            Err(_) => Err(IngestError::StorageBehind { waited_secs: timeout.as_secs() }),
        }
    }

    /// Makes the drainer and the relay drop these visitors' batches (every
    /// visitor of the sites for `None`) up to the spool's end now, then waits, up to
    /// `timeout`, until the inserts already under way are stored: after it, a
    /// store delete removes every event accepted before (see [`Tombstones`]).
    pub async fn forget(
        &self,
        sites: &[u32],
        visitors: Option<&[String]>,
        timeout: Duration,
    ) -> Result<(), IngestError> {
        self.tombstone(sites, visitors)?;
        self.settle(timeout).await
    }

    /// [`Self::forget`]'s first half: the tombstone, up to the spool's end now.
    pub fn tombstone(&self, sites: &[u32], visitors: Option<&[String]>) -> Result<(), IngestError> {
        let until = *self.inner.spool.committed().borrow();
        self.inner
            .tombstones
            .add(sites, visitors, until)
            .map_err(|e| IngestError::Internal(format!("keeping the deletion's tombstone: {e}")))
    }

    /// Stops accepting, lets the drainer empty the spool for up to the drain
    /// deadline, then stops it; what is left is drained after the next start.
    pub async fn shutdown(&self) {
        self.inner.health.begin_shutdown();
        self.inner.stop.send_replace(true);
        for task in [&self.inner.drainer, &self.inner.relay] {
            let handle = task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            if let Some(mut handle) = handle {
                if tokio::time::timeout(self.inner.drain_deadline, &mut handle).await.is_err() {
                    tracing::warn!(
                        "shutdown deadline reached; the rest of the spool is drained after restart"
                    );
                    handle.abort();
                }
            }
        }
    }

    /// The `/metrics` text.
    pub fn render_metrics(&self) -> String {
        self.inner.metrics.render(now_ms())
    }
}
