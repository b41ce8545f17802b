//! The Matomo relay: follows the spool with its own cursor and forwards page
//! views and ecommerce events to a Matomo through its HTTP Tracking API, in bulk
//! requests (`POST {url}/matomo.php` with `{"requests": ["?idsite=..", ..],
//! "token_auth": ..}`). Failures retry with back-off from the spool; ingestion
//! never waits for Matomo.
//!
//! Mapping (Matomo's tracking parameters): every request has `idsite` (the
//! project's Matomo id, the batch's site id), `rec=1`, `apiv=1`, `_id` and `cid`
//! (the visitor id, 16 hex digits), `cdt` (the event time, Unix seconds; Matomo
//! needs `token_auth` to accept it), `url`. Page views add `action_name`,
//! `urlref`, `res`; product views add `_pks`, `_pkn`, `_pkc`, `_pkp`; collection
//! views `_pkc`; add-to-cart is a cart update (`idgoal=0`, `ec_items`,
//! `revenue`); a completed checkout is an order (`idgoal=0`, `ec_id`, `revenue`,
//! `ec_st`, `ec_tx`, `ec_sh`, `ec_dt`, `ec_items`). `ec_items` is a JSON list of
//! `[sku, name, category, price, quantity]`. Removals from the cart are not
//! relayed: a Matomo cart update states the whole cart, which the pixel does not
//! see. Clicks, moves, scrolls and page leaves stay with us.

use std::sync::Arc;
use std::time::Duration;

use protocol::{Batch, CartLine, Event, Product};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::follow::Follower;
use super::metrics::Metrics;
use super::spool::{Reader, Spool};

const MAX_PER_REQUEST: usize = 500;

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn item(line_qty: u32, p: &Product) -> serde_json::Value {
    serde_json::json!([
        p.sku.clone().or_else(|| p.variant_id.clone()).unwrap_or_default(),
        p.title,
        p.category.clone().unwrap_or_default(),
        p.price,
        line_qty
    ])
}

fn items(lines: &[CartLine]) -> String {
    serde_json::Value::Array(lines.iter().map(|l| item(l.quantity, &l.product)).collect()).to_string()
}

/// The Matomo tracking requests (query strings) for one batch.
pub fn requests_for(batch: &Batch) -> Vec<String> {
    batch
        .events
        .iter()
        .filter_map(|event| {
            let mut q = vec![
                ("idsite", batch.site_id.to_string()),
                ("rec", "1".into()),
                ("apiv", "1".into()),
                ("_id", batch.visitor_id.clone()),
                ("cid", batch.visitor_id.clone()),
                ("cdt", (event.time() / 1000).to_string()),
            ];
            match event {
                Event::PageView(pv) => {
                    q.push(("url", pv.url.clone()));
                    q.push(("action_name", pv.title.clone()));
                    q.push(("urlref", pv.referrer.clone()));
                    q.push(("res", format!("{}x{}", pv.screen_width, pv.screen_height)));
                }
                Event::ProductViewed { url, product, .. } => {
                    q.push(("url", url.clone()));
                    q.push(("action_name", product.title.clone()));
                    q.push((
                        "_pks",
                        product.sku.clone().or_else(|| product.variant_id.clone()).unwrap_or_default(),
                    ));
                    q.push(("_pkn", product.title.clone()));
                    q.push(("_pkc", product.category.clone().unwrap_or_default()));
                    q.push(("_pkp", product.price.to_string()));
                }
                Event::CollectionViewed(c) => {
                    q.push(("url", c.url.clone()));
                    q.push(("action_name", c.title.clone()));
                    q.push(("_pkc", c.title.clone()));
                }
                Event::AddedToCart { url, line, .. } => {
                    q.push(("url", url.clone()));
                    q.push(("idgoal", "0".into()));
                    q.push(("ec_items", items(std::slice::from_ref(line))));
                    q.push(("revenue", (line.product.price * f64::from(line.quantity)).to_string()));
                }
                Event::CheckoutCompleted(c) => {
                    q.push(("url", c.url.clone()));
                    q.push(("idgoal", "0".into()));
                    q.push(("ec_id", c.order_id.clone().unwrap_or_else(|| batch.batch_id.clone())));
                    q.push(("revenue", c.total.to_string()));
                    q.push(("ec_st", c.subtotal.to_string()));
                    q.push(("ec_tx", c.tax.to_string()));
                    q.push(("ec_sh", c.shipping.to_string()));
                    q.push(("ec_dt", c.discounts.to_string()));
                    q.push(("ec_items", items(&c.items)));
                }
                Event::RemovedFromCart { .. }
                | Event::Click(_)
                | Event::Moves(_)
                | Event::Scroll(_)
                | Event::PageLeave(_) => return None,
            }
            let pairs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
            Some(format!("?{}", pairs.join("&")))
        })
        .collect()
}

/// Starts the relay task.
pub fn start(
    url: &str,
    token: Option<String>,
    spool: &Spool,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<JoinHandle<()>> {
    let reader = Reader::open(spool.dir(), "relay")?;
    spool.register(&reader);
    let endpoint = format!("{}/matomo.php", url.trim_end_matches('/'));
    let client =
        reqwest::Client::builder().timeout(Duration::from_secs(30)).build().map_err(std::io::Error::other)?;
    Ok(tokio::spawn(run(client, endpoint, token, spool.clone(), reader, metrics, stop)))
}

async fn run(
    client: reqwest::Client,
    endpoint: String,
    token: Option<String>,
    spool: Spool,
    mut reader: Reader,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
) {
    let mut follow = Follower::new(&spool, stop);
    loop {
        let target = follow.target();
        let snapshot = reader.clone();
        let read = tokio::task::spawn_blocking(move || snapshot.read(target, 4 * 1024 * 1024)).await;
        let Ok(Ok((records, end))) = read else {
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        };
        if end == reader.pos {
            if !follow.wait_for_more().await {
                return;
            }
            continue;
        }
        let requests: Vec<String> = records
            .iter()
            .filter_map(|r| serde_json::from_slice::<Batch>(&r.json).ok())
            .flat_map(|b| requests_for(&b))
            .collect();
        for chunk in requests.chunks(MAX_PER_REQUEST) {
            let mut body = serde_json::json!({ "requests": chunk });
            if let Some(t) = &token {
                body["token_auth"] = serde_json::Value::String(t.clone());
            }
            let mut backoff = Duration::from_millis(200);
            loop {
                match client.post(&endpoint).json(&body).send().await {
                    Ok(res) if res.status().is_success() => break,
                    Ok(res) => tracing::warn!(status = %res.status(), "Matomo refused a bulk request"),
                    Err(e) => tracing::warn!(error = %e, "Matomo unreachable"),
                }
                metrics.relay_error();
                if follow.stopping() {
                    // Not relayed yet: the cursor stays, the next start retries.
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
            metrics.relayed(chunk.len());
        }
        if let Err(e) = reader.advance(end, &spool) {
            tracing::error!(error = %e, "saving the relay cursor failed");
        }
    }
}
