//! The Matomo relay: follows the spool with its own cursor and forwards page
//! views and ecommerce events to a Matomo through its HTTP Tracking API, in bulk
//! requests (`POST {url}/matomo.php` with `{"requests": ["?idsite=..", ..],
//! "token_auth": ..}`). Failures retry with back-off from the spool; ingestion
//! never waits for Matomo.
//!
//! - [`requests`]: the pure mapping from a batch (and its request's facts) to
//!   Matomo's tracking parameters; what is relayed and how is documented there.
//! - this module: the I/O around it. Records are read from the spool with the
//!   facts `/collect` spooled with them (address, user agent, language; see
//!   [`super::facts`]; a record from before has none), turned into requests,
//!   and sent in bulk requests of at most [`MAX_PER_REQUEST`]; the cursor moves
//!   after each one Matomo took, so a restart sends again at most the bulk
//!   request under way.
//!
//! A batch a client sent again (same id) is relayed once ([`recent`]).
//!
//! Privacy deletions reach the relay too ([`super::tombstones`]): a batch of a
//! deleted visitor still in the spool is dropped, checked again before every
//! attempt, so a deletion made while Matomo is down stops what waits for it.

pub mod recent;
pub mod requests;

use std::sync::Arc;
use std::time::Duration;

use protocol::Batch;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::facts::RequestFacts;
use super::follow::Follower;
use super::metrics::Metrics;
use super::spool::{Pos, Reader, Record, Spool};
use super::tombstones::Tombstones;
use recent::Recent;
pub use requests::requests_for;

/// The relay's cursor in the spool, and its name among the tombstones' followers.
pub const CURSOR: &str = "relay";

/// Most tracking requests in one bulk request.
pub const MAX_PER_REQUEST: usize = 500;

/// Most bytes of tracking requests in one bulk request: well under the 1 MB
/// a proxy in front of Matomo takes by default (nginx's
/// `client_max_body_size`), now that requests carry user agents and carts.
pub const MAX_BYTES_PER_REQUEST: usize = 512 * 1024;

/// Where to relay to (`--matomo-url`, `--matomo-token`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The Matomo's base URL; requests go to `{url}/matomo.php`.
    pub url: String,
    /// `token_auth`: lets Matomo take `cid`, `cip` and old `cdt`.
    pub token: Option<String>,
}

/// Starts the relay task.
pub fn start(
    settings: Settings,
    spool: &Spool,
    tombstones: Tombstones,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    let reader = Reader::open(spool.dir(), CURSOR)?;
    spool.register(&reader);
    let endpoint = format!("{}/matomo.php", settings.url.trim_end_matches('/'));
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(std::io::Error::other)?;
    let relay = Relay {
        client,
        endpoint,
        token: settings.token,
        spool: spool.clone(),
        reader,
        tombstones,
        metrics,
        recent: Recent::default(),
    };
    Ok(tokio::spawn(relay.run(stop)))
}

/// One spooled batch, as the relay needs it.
#[derive(Debug)]
struct Relayable {
    /// Where its record ends: what tombstones and the cursor go by.
    end: Pos,
    site: u32,
    visitor: String,
    requests: Vec<String>,
}

#[derive(Debug)]
struct Relay {
    client: reqwest::Client,
    endpoint: String,
    token: Option<String>,
    spool: Spool,
    reader: Reader,
    tombstones: Tombstones,
    metrics: Arc<Metrics>,
    recent: Recent,
}

impl Relay {
    async fn run(mut self, stop: watch::Receiver<bool>) {
        let mut follow = Follower::new(&self.spool, stop);
        self.tombstones.passed(CURSOR, self.reader.pos);
        loop {
            let target = follow.target();
            let snapshot = self.reader.clone();
            let read = tokio::task::spawn_blocking(move || snapshot.read(target, 4 * 1024 * 1024)).await;
            let Ok(Ok((records, end))) = read else {
                tokio::time::sleep(Duration::from_secs(5)).await;
                continue;
            };
            if end == self.reader.pos {
                if !follow.wait_for_more().await {
                    return;
                }
                continue;
            }
            let now = crate::clock::now_ms();
            let batches: Vec<Relayable> = records.iter().filter_map(|r| self.relayable(r, now)).collect();
            drop(records);
            for chunk in chunks(&batches) {
                match self.send(chunk, &mut follow).await {
                    Sent::Taken => {}
                    // Not relayed yet: the cursor stays, the next start retries.
                    Sent::Stopping => return,
                    // Matomo (or a proxy before it) refuses the bulk request
                    // for good: each batch alone, and one refused alone is
                    // left out, counted, rather than holding the spool (and
                    // the shoppers' facts in it) forever.
                    Sent::Refused => {
                        for one in chunk {
                            match self.send(std::slice::from_ref(one), &mut follow).await {
                                Sent::Taken => {}
                                Sent::Stopping => return,
                                Sent::Refused => {
                                    tracing::error!(
                                        site = one.site,
                                        "Matomo refused a batch's requests for good; left out"
                                    );
                                    self.metrics.relay_refused(one.requests.len());
                                }
                            }
                            self.advance(one.end);
                        }
                    }
                }
                if let Some(last) = chunk.last() {
                    self.advance(last.end);
                }
            }
            self.advance(end);
        }
    }

    /// The record's batch and its requests; `None` for a record this server
    /// cannot read (logged by the drainer), one with nothing to relay, or a
    /// copy of a batch relayed lately.
    fn relayable(&mut self, record: &Record, now_ms: u64) -> Option<Relayable> {
        let batch: Batch = serde_json::from_slice(&record.json).ok()?;
        let facts = RequestFacts::decode(&record.meta);
        let requests = requests_for(&batch, &facts, self.token.is_some());
        // Only batches with something to relay are remembered: the many of
        // clicks and moves alone would push them out early.
        if requests.is_empty() || !self.recent.first_time(batch.site_id, &batch.batch_id, now_ms) {
            return None;
        }
        Some(Relayable { end: record.end, site: batch.site_id, visitor: batch.visitor_id, requests })
    }

    /// Sends the chunk's requests until Matomo takes them ([`Sent::Taken`]),
    /// refuses them for good (a 4xx other than 408 and 429), or shutdown comes.
    /// Each attempt leaves out the batches a privacy deletion covers by then.
    async fn send(&self, chunk: &[Relayable], follow: &mut Follower) -> Sent {
        let mut backoff = Duration::from_millis(200);
        loop {
            let requests: Vec<&str> = chunk
                .iter()
                .filter(|b| self.tombstones.is_empty() || !self.tombstones.covers(b.site, &b.visitor, b.end))
                .flat_map(|b| b.requests.iter().map(String::as_str))
                .collect();
            if requests.is_empty() {
                return Sent::Taken;
            }
            let mut body = serde_json::json!({ "requests": requests });
            if let Some(t) = &self.token {
                body["token_auth"] = serde_json::Value::String(t.clone());
            }
            match self.client.post(&self.endpoint).json(&body).send().await {
                Ok(res) if res.status().is_success() => {
                    self.metrics.relayed(requests.len());
                    return Sent::Taken;
                }
                Ok(res) if refused_for_good(res.status()) => {
                    tracing::warn!(status = %res.status(), "Matomo refused a bulk request for good");
                    self.metrics.relay_error();
                    return Sent::Refused;
                }
                Ok(res) => tracing::warn!(status = %res.status(), "Matomo refused a bulk request"),
                Err(e) => tracing::warn!(error = %e, "Matomo unreachable"),
            }
            self.metrics.relay_error();
            if follow.stopping() {
                return Sent::Stopping;
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = follow.stop_changed() => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    /// Moves the cursor past what was relayed (or left out).
    fn advance(&mut self, to: Pos) {
        if to <= self.reader.pos {
            return;
        }
        if let Err(e) = self.reader.advance(to, &self.spool) {
            tracing::error!(error = %e, "saving the relay cursor failed");
        }
        self.tombstones.passed(CURSOR, to);
    }
}

/// The batches in runs of at most [`MAX_PER_REQUEST`] requests (a batch is
/// never split; a batch alone may have more).
/// How a bulk request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Taken,
    Refused,
    Stopping,
}

/// A refusal that sending again will not change: a 4xx but a timeout (408)
/// or a rate limit (429).
fn refused_for_good(status: reqwest::StatusCode) -> bool {
    status.is_client_error()
        && status != reqwest::StatusCode::REQUEST_TIMEOUT
        && status != reqwest::StatusCode::TOO_MANY_REQUESTS
}

fn chunks(batches: &[Relayable]) -> Vec<&[Relayable]> {
    let mut out = Vec::new();
    let (mut start, mut count, mut bytes) = (0, 0, 0);
    for (i, b) in batches.iter().enumerate() {
        let size: usize = b.requests.iter().map(String::len).sum();
        if count > 0 && (count + b.requests.len() > MAX_PER_REQUEST || bytes + size > MAX_BYTES_PER_REQUEST) {
            out.push(&batches[start..i]);
            (start, count, bytes) = (i, 0, 0);
        }
        count += b.requests.len();
        bytes += size;
    }
    if start < batches.len() {
        out.push(&batches[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relayable(requests: usize) -> Relayable {
        Relayable {
            end: Pos::default(),
            site: 1,
            visitor: String::new(),
            requests: vec![String::new(); requests],
        }
    }

    #[test]
    fn chunks_hold_whole_batches_up_to_the_bulk_limit() {
        let batches: Vec<Relayable> = [300, 200, 1, 600, 5].into_iter().map(relayable).collect();
        let sizes: Vec<Vec<usize>> =
            chunks(&batches).iter().map(|c| c.iter().map(|b| b.requests.len()).collect()).collect();
        assert_eq!(sizes, [vec![300, 200], vec![1], vec![600], vec![5]]);
        assert!(chunks(&[]).is_empty());
    }

    #[test]
    fn chunks_stay_under_the_bulk_bytes() {
        let big = |n: usize| Relayable { requests: vec!["x".repeat(100 * 1024); n], ..relayable(0) };
        let batches = vec![big(3), big(3), big(1), big(6)];
        let sizes: Vec<Vec<usize>> =
            chunks(&batches).iter().map(|c| c.iter().map(|b| b.requests.len()).collect()).collect();
        assert_eq!(sizes, [vec![3], vec![3, 1], vec![6]], "a batch over the bytes alone still goes");
    }

    #[test]
    fn only_lasting_refusals_skip() {
        assert!(refused_for_good(reqwest::StatusCode::PAYLOAD_TOO_LARGE));
        assert!(refused_for_good(reqwest::StatusCode::BAD_REQUEST));
        assert!(!refused_for_good(reqwest::StatusCode::TOO_MANY_REQUESTS));
        assert!(!refused_for_good(reqwest::StatusCode::REQUEST_TIMEOUT));
        assert!(!refused_for_good(reqwest::StatusCode::BAD_GATEWAY));
    }
}
