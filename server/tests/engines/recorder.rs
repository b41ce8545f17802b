//! A recording proxy between the ClickHouse store and the test ClickHouse
//! (18.16), over real HTTP on loopback: it forwards every request unchanged
//! and keeps, in order, each statement with its parameters bound (the
//! `clickhouse` crate binds them into the text), an insert's rows (LZ4
//! frames unpacked to RowBinary), the answer, and for a statement that
//! answers rows the column types 18.16 gives them. Each entry carries the
//! label the test set when it was made: the store method being called.
//!
//! An entry is kept when 18.16 has answered and before the store sees the
//! answer, so a statement the store sent after reading another's answer is
//! always later in the record.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use serde_json::json;

/// One request the store made.
#[derive(Debug, Clone)]
pub struct Entry {
    pub label: String,
    /// The statement as sent, parameters bound.
    pub sql: String,
    /// URL parameters but `query`: database, format, settings.
    pub params: Vec<(String, String)>,
    /// An insert's rows, in RowBinary.
    pub rows: Option<Vec<u8>>,
    pub status: u16,
    pub answer: Vec<u8>,
    /// The answer's column types on 18.16, for statements that answer rows.
    pub types: Option<Vec<String>>,
}

fn answers_rows(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_uppercase();
    head.starts_with("SELECT") || head.starts_with("EXISTS")
}

#[derive(Debug)]
struct Shared {
    target: String,
    client: reqwest::Client,
    label: Mutex<String>,
    log: Mutex<Vec<Entry>>,
}

/// The proxy, serving until dropped.
#[derive(Debug)]
pub struct Recorder {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    /// Starts a proxy in front of the ClickHouse at `target` (an HTTP URL).
    pub async fn start(target: &str) -> Self {
        let shared = Arc::new(Shared {
            target: target.trim_end_matches('/').to_string(),
            client: reqwest::Client::new(),
            label: Mutex::new("start".into()),
            log: Mutex::default(),
        });
        let app = Router::new()
            .fallback(forward)
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("proxy");
        });
        Self { addr, shared, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Labels the requests from now on.
    pub fn label(&self, label: &str) {
        *self.shared.label.lock().unwrap_or_else(PoisonError::into_inner) = label.to_string();
    }

    /// The record so far, in order.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Writes the record so far (see [`write`]).
    pub fn write(&self, dir: &Path) {
        write(&self.entries(), dir);
    }
}

/// Writes a record for the replay: `record.jsonl`, one entry a line, and
/// beside it each insert's rows (`N.rows`) and each answer (`N.answer`).
pub fn write(entries: &[Entry], dir: &Path) {
    let mut lines = String::new();
    for (n, e) in entries.iter().enumerate() {
        let rows = e.rows.as_ref().map(|r| {
            let name = format!("{n}.rows");
            std::fs::write(dir.join(&name), r).expect("write rows");
            name
        });
        let answer = format!("{n}.answer");
        std::fs::write(dir.join(&answer), &e.answer).expect("write answer");
        let params: serde_json::Map<String, serde_json::Value> =
            e.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let line = json!({"n": n, "label": e.label, "sql": e.sql, "params": params, "rows": rows,
                          "status": e.status, "answer": answer, "types": e.types});
        lines.push_str(&line.to_string());
        lines.push('\n');
    }
    std::fs::write(dir.join("record.jsonl"), lines).expect("write record");
}

fn failure(status: StatusCode, why: String) -> Response {
    Response::builder().status(status).body(Body::from(why)).unwrap_or_default()
}

async fn forward(State(s): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let label = s.label.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let query = uri.query().unwrap_or_default();
    let mut params: Vec<(String, String)> =
        form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let in_url = params.iter().position(|(k, _)| k == "query").map(|i| params.remove(i).1);
    let compressed = params.iter().any(|(k, v)| k == "decompress" && v == "1");
    let (sql, rows) = match in_url {
        // An insert: the statement in the URL, the rows in the body.
        Some(sql) => {
            let rows = if compressed { unpack_lz4(&body) } else { Ok(body.to_vec()) };
            match rows {
                Ok(rows) => (sql, Some(rows)),
                Err(e) => return failure(StatusCode::BAD_REQUEST, e),
            }
        }
        None => (String::from_utf8_lossy(&body).into_owned(), None),
    };
    let url = format!("{}/?{query}", s.target);
    let mut request = s.client.post(&url).body(body.clone());
    if let Some(t) = headers.get(header::CONTENT_TYPE) {
        request = request.header(header::CONTENT_TYPE, t);
    }
    let answered = match request.send().await {
        Ok(r) => r,
        Err(e) => return failure(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    let status = answered.status();
    if answered.headers().contains_key(header::CONTENT_ENCODING) {
        return failure(StatusCode::BAD_GATEWAY, "the recorder does not read compressed answers".into());
    }
    let answer = match answered.bytes().await {
        Ok(b) => b,
        Err(e) => return failure(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    let types = if status.is_success() && rows.is_none() && answers_rows(&sql) {
        match types_of(&s, &params, &sql).await {
            Ok(t) => Some(t),
            Err(e) => return failure(StatusCode::BAD_GATEWAY, e),
        }
    } else {
        None
    };
    let entry = Entry { label, sql, params, rows, status: status.as_u16(), answer: answer.to_vec(), types };
    s.log.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
    Response::builder().status(status.as_u16()).body(Body::from(answer)).unwrap_or_default()
}

/// The column types of a statement's answer on the server: the statement
/// again, asked for `TabSeparatedWithNamesAndTypes`, whose second line they
/// are. Reads only, so asking twice changes nothing.
async fn types_of(s: &Shared, params: &[(String, String)], sql: &str) -> Result<Vec<String>, String> {
    let mut url = reqwest::Url::parse(&format!("{}/", s.target)).map_err(|e| e.to_string())?;
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params.iter().filter(|(k, _)| k != "default_format") {
            pairs.append_pair(k, v);
        }
        pairs.append_pair("default_format", "TabSeparatedWithNamesAndTypes");
    }
    let r = s.client.post(url).body(sql.to_string()).send().await.map_err(|e| e.to_string())?;
    let status = r.status();
    let text = r.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("types of {sql:?}: {status}: {text}"));
    }
    let line = text.lines().nth(1).ok_or_else(|| format!("types of {sql:?}: no header in {text:?}"))?;
    Ok(line.split('\t').map(str::to_string).collect())
}

/// The rows of an insert sent in ClickHouse's native compression frames:
/// each a 16-byte checksum, a method byte (0x82 for LZ4), the frame's size
/// with this 9-byte header and the unpacked size (little-endian `u32`s),
/// then the LZ4 block.
fn unpack_lz4(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while !body.is_empty() {
        if body.len() < 25 {
            return Err(format!("a frame of {} bytes", body.len()));
        }
        let header = &body[16..25];
        if header[0] != 0x82 {
            return Err(format!("compression method {:#x}, not LZ4", header[0]));
        }
        let size = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
        let unpacked = u32::from_le_bytes([header[5], header[6], header[7], header[8]]) as usize;
        if size < 9 || body.len() < 16 + size {
            return Err(format!("a frame of {size} bytes in {} left", body.len()));
        }
        let block = lz4_flex::block::decompress(&body[25..16 + size], unpacked).map_err(|e| e.to_string())?;
        out.extend_from_slice(&block);
        body = &body[16 + size..];
    }
    Ok(out)
}
