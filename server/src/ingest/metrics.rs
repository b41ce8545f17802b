//! Ingest metrics in the Prometheus text format, kept by hand: a few atomic
//! counters and two small histograms do not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

const SIZE_BUCKETS: [f64; 8] = [10.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, 50000.0, 100000.0];
const LATENCY_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
/// Spool commits take a fraction of a millisecond when the disk is idle.
const COMMIT_BUCKETS: [f64; 10] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

#[derive(Debug)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micro: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micro: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, v: f64) {
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            if v <= *b {
                c.fetch_add(1, Relaxed);
            }
        }
        self.sum_micro.fetch_add((v * 1e6) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {}", c.load(Relaxed));
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micro.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// Every ingest metric.
#[derive(Debug)]
pub struct Metrics {
    accepted_events: AtomicU64,
    accepted_batches: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Clients that reported they cannot run, by (client, reason).
    unsupported: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    stored_events: AtomicU64,
    storage_errors: AtomicU64,
    spool_bytes: AtomicU64,
    spool_oldest_ms: AtomicU64,
    relayed_events: AtomicU64,
    relay_errors: AtomicU64,
    relay_refused: AtomicU64,
    handed_batches: AtomicU64,
    reparsed_batches: AtomicU64,
    overlapped_inserts: AtomicU64,
    insert_rows: Histogram,
    insert_seconds: Histogram,
    spool_commit_seconds: Histogram,
    ack_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            accepted_events: AtomicU64::new(0),
            accepted_batches: AtomicU64::new(0),
            rejected: Mutex::new(BTreeMap::new()),
            unsupported: Mutex::new(BTreeMap::new()),
            stored_events: AtomicU64::new(0),
            storage_errors: AtomicU64::new(0),
            spool_bytes: AtomicU64::new(0),
            spool_oldest_ms: AtomicU64::new(0),
            relayed_events: AtomicU64::new(0),
            relay_errors: AtomicU64::new(0),
            relay_refused: AtomicU64::new(0),
            handed_batches: AtomicU64::new(0),
            reparsed_batches: AtomicU64::new(0),
            overlapped_inserts: AtomicU64::new(0),
            insert_rows: Histogram::new(&SIZE_BUCKETS),
            insert_seconds: Histogram::new(&LATENCY_BUCKETS),
            spool_commit_seconds: Histogram::new(&COMMIT_BUCKETS),
            ack_seconds: Histogram::new(&COMMIT_BUCKETS),
        }
    }
}

impl Metrics {
    pub fn accepted(&self, events: usize) {
        self.accepted_events.fetch_add(events as u64, Relaxed);
        self.accepted_batches.fetch_add(1, Relaxed);
    }

    pub fn rejected(&self, reason: &'static str) {
        *self
            .rejected
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(reason)
            .or_default() += 1;
    }

    pub fn unsupported(&self, client: &'static str, reason: &'static str) {
        *self
            .unsupported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((client, reason))
            .or_default() += 1;
    }

    pub fn inserted(&self, rows: usize, seconds: f64) {
        self.stored_events.fetch_add(rows as u64, Relaxed);
        self.insert_rows.observe(rows as f64);
        self.insert_seconds.observe(seconds);
    }

    /// A batch was acknowledged `seconds` after its request was handed to the
    /// collection handler (body read, decoded, validated, spooled).
    pub fn acknowledged(&self, seconds: f64) {
        self.ack_seconds.observe(seconds);
    }

    /// One spool group commit (write and fdatasync) took `seconds`.
    pub fn spool_committed(&self, seconds: f64) {
        self.spool_commit_seconds.observe(seconds);
    }

    /// The drainer took `handed` batches from the handoff and parsed
    /// `reparsed` from the spool.
    pub fn drained(&self, handed: usize, reparsed: usize) {
        self.handed_batches.fetch_add(handed as u64, Relaxed);
        self.reparsed_batches.fetch_add(reparsed as u64, Relaxed);
    }

    /// The drainer started an insert while the last one was still in flight.
    pub fn overlapped_insert(&self) {
        self.overlapped_inserts.fetch_add(1, Relaxed);
    }

    pub fn storage_error(&self) {
        self.storage_errors.fetch_add(1, Relaxed);
    }

    /// Bytes in the spool not yet stored, and the receive time (ms since the
    /// epoch) of the oldest of them, 0 when empty.
    pub fn spool(&self, bytes: u64, oldest_ms: u64) {
        self.spool_bytes.store(bytes, Relaxed);
        self.spool_oldest_ms.store(oldest_ms, Relaxed);
    }

    pub fn relayed(&self, events: usize) {
        self.relayed_events.fetch_add(events as u64, Relaxed);
    }

    pub fn relay_error(&self) {
        self.relay_errors.fetch_add(1, Relaxed);
    }

    /// Tracking requests left out because Matomo refused them for good.
    pub fn relay_refused(&self, requests: usize) {
        self.relay_refused.fetch_add(requests as u64, Relaxed);
    }

    /// Events stored so far by this process.
    pub fn stored_events(&self) -> u64 {
        self.stored_events.load(Relaxed)
    }

    /// The Prometheus text exposition; `now_ms` turns the oldest spooled batch
    /// into an age.
    pub fn render(&self, now_ms: u64) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            &mut out,
            "lummmen_accepted_events_total",
            "Events acknowledged (durable in the spool).",
            self.accepted_events.load(Relaxed),
        );
        counter(
            &mut out,
            "lummmen_accepted_batches_total",
            "Batches acknowledged.",
            self.accepted_batches.load(Relaxed),
        );
        let _ = writeln!(out, "# HELP lummmen_rejected_batches_total Batches refused, by reason.\n# TYPE lummmen_rejected_batches_total counter");
        for (reason, n) in self.rejected.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
            let _ = writeln!(out, "lummmen_rejected_batches_total{{reason=\"{reason}\"}} {n}");
        }
        let _ = writeln!(out, "# HELP lummmen_unsupported_clients_total Pages where a client could not run, as it reported, by client and reason.\n# TYPE lummmen_unsupported_clients_total counter");
        for ((client, reason), n) in
            self.unsupported.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter()
        {
            let _ = writeln!(
                out,
                "lummmen_unsupported_clients_total{{client=\"{client}\",reason=\"{reason}\"}} {n}"
            );
        }
        counter(
            &mut out,
            "lummmen_stored_events_total",
            "Events written to storage.",
            self.stored_events.load(Relaxed),
        );
        counter(
            &mut out,
            "lummmen_storage_errors_total",
            "Failed storage inserts (retried).",
            self.storage_errors.load(Relaxed),
        );
        counter(
            &mut out,
            "lummmen_relayed_events_total",
            "Events relayed to Matomo.",
            self.relayed_events.load(Relaxed),
        );
        counter(
            &mut out,
            "lummmen_relay_errors_total",
            "Failed Matomo relay requests (retried).",
            self.relay_errors.load(Relaxed),
        );
        counter(
            &mut out,
            "lummmen_relay_refused_total",
            "Tracking requests Matomo refused for good (a 4xx but 408 and 429), left out.",
            self.relay_refused.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP lummmen_drained_batches_total Batches read by the drainer, by where their parsed form came from.\n\
             # TYPE lummmen_drained_batches_total counter\n\
             lummmen_drained_batches_total{{source=\"memory\"}} {}\n\
             lummmen_drained_batches_total{{source=\"spool\"}} {}",
            self.handed_batches.load(Relaxed),
            self.reparsed_batches.load(Relaxed),
        );
        counter(
            &mut out,
            "lummmen_overlapped_inserts_total",
            "Inserts started while storage was still writing the one before (a backlog of a whole insert or more).",
            self.overlapped_inserts.load(Relaxed),
        );
        let oldest = self.spool_oldest_ms.load(Relaxed);
        let age = if oldest == 0 { 0.0 } else { now_ms.saturating_sub(oldest) as f64 / 1000.0 };
        let _ = writeln!(
            out,
            "# HELP lummmen_spool_bytes Accepted bytes not yet stored.\n# TYPE lummmen_spool_bytes gauge\nlummmen_spool_bytes {}\n\
             # HELP lummmen_spool_oldest_age_seconds Age of the oldest batch not yet stored.\n# TYPE lummmen_spool_oldest_age_seconds gauge\nlummmen_spool_oldest_age_seconds {age}",
            self.spool_bytes.load(Relaxed)
        );
        self.insert_rows.render(&mut out, "lummmen_insert_rows", "Rows per storage insert.");
        self.insert_seconds.render(&mut out, "lummmen_insert_seconds", "Storage insert latency.");
        self.ack_seconds.render(
            &mut out,
            "lummmen_ack_seconds",
            "Time from a batch's request reaching the collection handler to its acknowledgement.",
        );
        self.spool_commit_seconds.render(
            &mut out,
            "lummmen_spool_commit_seconds",
            "Spool group commit (write and fdatasync) latency; every acknowledgement waits for one.",
        );
        out
    }
}
