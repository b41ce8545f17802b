//! A collector in front of the real server, over real HTTP on loopback, that
//! answers the next POSTs with refusals of the test's choosing (429, 503, 400,
//! each with the CORS headers the real server sends), then forwards the rest to
//! the server unchanged. It records every POST (body and the status answered)
//! and counts preflights, which a simple `text/plain` POST never needs.
//!
//! The pages reach it on another port than the server's, so every request is
//! cross-origin, as from a storefront under its own domain.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// An answer the proxy gives instead of forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u32>,
}

impl Refusal {
    pub const fn new(status: u16, retry_after: Option<u32>) -> Self {
        Self { status, retry_after }
    }
}

/// One POST the proxy received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The body as JSON (`Null` when it was not JSON).
    pub batch: Value,
    /// What the proxy answered: a refusal's status, or the server's.
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

impl Seen {
    pub fn batch_id(&self) -> &str {
        self.batch["b"].as_str().unwrap_or_default()
    }

    /// Event ids as the server derives them: `{batch id}-{index}`.
    pub fn event_ids(&self) -> Vec<String> {
        let n = self.batch["e"].as_array().map_or(0, Vec::len);
        (0..n).map(|i| format!("{}-{i}", self.batch_id())).collect()
    }

    /// Events the sender reported dropped (`d`).
    pub fn dropped(&self) -> u64 {
        self.batch["d"].as_u64().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Answers for the next POSTs, in order.
    script: VecDeque<Refusal>,
    log: Vec<Seen>,
    preflights: usize,
}

#[derive(Debug)]
struct Shared {
    target: SocketAddr,
    client: reqwest::Client,
    inner: Mutex<Inner>,
}

/// The proxy, serving until dropped.
#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts on a loopback port, forwarding to the server at `target`.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared =
            Arc::new(Shared { target, client: reqwest::Client::new(), inner: Mutex::new(Inner::default()) });
        let app =
            Router::new().route("/collect", post(collect).options(preflight)).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The collector's URL, for a page's `endpoint` or the pixel's settings.
    pub fn url(&self) -> String {
        format!("http://{}/collect", self.addr)
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next POSTs get these answers, in order; later ones are forwarded.
    pub fn refuse_next(&self, answers: &[Refusal]) {
        self.inner().script.extend(answers.iter().copied());
    }

    /// Refusals still to be given.
    pub fn pending(&self) -> usize {
        self.inner().script.len()
    }

    /// Every POST so far, oldest first.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner().log.clone()
    }

    pub fn preflights(&self) -> usize {
        self.inner().preflights
    }
}

fn cors(headers: &mut HeaderMap) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
}

async fn collect(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let at = std::time::Instant::now();
    let batch = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let refusal = shared.inner.lock().unwrap_or_else(PoisonError::into_inner).script.pop_front();
    let (status, response) = match refusal {
        Some(r) => (r.status, refuse(r)),
        None => forward(&shared, &headers, body).await,
    };
    shared.inner.lock().unwrap_or_else(PoisonError::into_inner).log.push(Seen { batch, status, at });
    response
}

fn refuse(r: Refusal) -> Response {
    let mut res =
        Response::new(Body::from(format!("{{\"error\":\"refused by the test proxy ({})\"}}", r.status)));
    *res.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(secs) = r.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    cors(headers);
    res
}

/// Sends the POST on to the server and hands back its answer (status, the
/// headers that matter to a browser, body).
async fn forward(shared: &Shared, headers: &HeaderMap, body: Bytes) -> (u16, Response) {
    let mut req = shared.client.post(format!("http://{}/collect", shared.target)).body(body);
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        req = req.header(header::CONTENT_TYPE, ct.clone());
    }
    let Ok(upstream) = req.send().await else {
        let mut res = Response::new(Body::from("{\"error\":\"upstream\"}"));
        *res.status_mut() = StatusCode::BAD_GATEWAY;
        cors(res.headers_mut());
        return (502, res);
    };
    let status = upstream.status().as_u16();
    let kept: Vec<(header::HeaderName, HeaderValue)> = upstream
        .headers()
        .iter()
        .filter(|(k, _)| {
            [
                header::CONTENT_TYPE,
                header::RETRY_AFTER,
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
            ]
            .contains(k)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let bytes = upstream.bytes().await.unwrap_or_default();
    let mut res = Response::new(Body::from(bytes));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    res.headers_mut().extend(kept);
    (status, res)
}

async fn preflight(State(shared): State<Arc<Shared>>) -> Response {
    shared.inner.lock().unwrap_or_else(PoisonError::into_inner).preflights += 1;
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::NO_CONTENT;
    cors(res.headers_mut());
    res
}
