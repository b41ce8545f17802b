//! A fake Matomo for the relay tests: a local HTTP server taking bulk tracking
//! requests at `/matomo.php`, refusing (503) as many as it is told to (and
//! for good, 400, a body holding a given text), and
//! recording every body; and the checks of a tracking request against the
//! parameters Matomo's Tracking HTTP API documents
//! (<https://developer.matomo.org/api-reference/tracking-api>), written from
//! that reference, independently of the relay.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing;
use axum::Router;
use serde_json::Value;

/// What the fake Matomo saw.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Bulk bodies answered 200.
    pub accepted: Vec<Value>,
    /// Bulk bodies answered 503.
    pub refused: Vec<Value>,
    /// How many more bulk requests to refuse.
    pub refuse: usize,
    /// A bulk body holding this text is refused for good (400), as Matomo or
    /// a proxy before it refuses what it cannot take.
    pub poison: Option<String>,
}

async fn matomo(State(rec): State<Arc<Mutex<Recorder>>>, body: String) -> StatusCode {
    let mut rec = rec.lock().expect("lock");
    let poisoned = rec.poison.as_ref().is_some_and(|p| body.contains(p.as_str()));
    let body = serde_json::from_str(&body).unwrap_or(Value::Null);
    if poisoned {
        rec.refused.push(body);
        return StatusCode::BAD_REQUEST;
    }
    if rec.refuse > 0 {
        rec.refuse -= 1;
        rec.refused.push(body);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    rec.accepted.push(body);
    StatusCode::OK
}

/// A running fake Matomo.
#[derive(Debug, Clone)]
pub struct FakeMatomo {
    pub url: String,
    pub rec: Arc<Mutex<Recorder>>,
}

impl FakeMatomo {
    /// Starts one that refuses its first `refuse` bulk requests.
    pub async fn start(refuse: usize) -> Self {
        let rec = Arc::new(Mutex::new(Recorder { refuse, ..Recorder::default() }));
        let app = Router::new().route("/matomo.php", routing::post(matomo)).with_state(Arc::clone(&rec));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, rec }
    }

    pub fn set_refuse(&self, n: usize) {
        self.rec.lock().expect("lock").refuse = n;
    }

    /// Every tracking request of the accepted bulk bodies, in order; checks
    /// that each body carries `token` as `token_auth` (or none for `None`).
    pub fn requests(&self, token: Option<&str>) -> Vec<String> {
        requests_of(&self.rec.lock().expect("lock").accepted, token)
    }

    /// Every tracking request of the refused bulk bodies.
    pub fn refused_requests(&self, token: Option<&str>) -> Vec<String> {
        requests_of(&self.rec.lock().expect("lock").refused, token)
    }

    /// Waits (up to 20 s) until `done` holds for the accepted requests; answers them.
    pub async fn wait_for(&self, token: Option<&str>, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        for _ in 0..200 {
            let requests = self.requests(token);
            if done(&requests) {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the fake Matomo did not get what was expected: {:#?}", self.requests(token));
    }
}

fn requests_of(bodies: &[Value], token: Option<&str>) -> Vec<String> {
    bodies
        .iter()
        .flat_map(|body| {
            assert_eq!(body.get("token_auth").and_then(Value::as_str), token, "token_auth in the bulk body");
            body["requests"]
                .as_array()
                .expect("requests list")
                .iter()
                .map(|r| r.as_str().expect("a request is a string").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A bulk entry's parameters: a query string starting with `?`, decoded.
pub fn query(request: &str) -> HashMap<String, String> {
    assert!(request.starts_with('?'), "a bulk entry is a query string starting with '?': {request}");
    let url = reqwest::Url::parse(&format!("http://matomo.test/matomo.php{request}")).expect("query parses");
    let pairs: Vec<(String, String)> =
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let q: HashMap<String, String> = pairs.iter().cloned().collect();
    assert_eq!(q.len(), pairs.len(), "no parameter twice: {request}");
    q
}

/// A number parameter.
pub fn number(q: &HashMap<String, String>, key: &str) -> f64 {
    q.get(key).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{key} must be a number: {q:?}"))
}

fn is_hex16(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_number(s: &str) -> bool {
    s.parse::<f64>().is_ok_and(f64::is_finite)
}

fn is_url(s: &str) -> bool {
    reqwest::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// `ec_items`: "a JSON encoded array of items. Each item is an array with the
/// following info in this order: item sku (required), item name (or if not
/// applicable, set it to an empty string), item category (or if not applicable,
/// set it to an empty string), item price (or if not applicable, set it to 0),
/// item quantity (or if not applicable set it to 1)".
fn check_items(v: &str) -> Result<(), String> {
    let items: Value = serde_json::from_str(v).map_err(|e| format!("not JSON: {e}"))?;
    let items = items.as_array().ok_or("not an array")?;
    for item in items {
        let f = item
            .as_array()
            .filter(|f| f.len() == 5)
            .ok_or("an item is not [sku, name, category, price, quantity]")?;
        if f[0].as_str().is_none_or(str::is_empty) {
            return Err(format!("sku must be a non-empty string: {item}"));
        }
        if !f[1].is_string() {
            return Err(format!("name must be a string: {item}"));
        }
        if !(f[2].is_string()
            || f[2].as_array().is_some_and(|c| c.len() <= 5 && c.iter().all(Value::is_string)))
        {
            return Err(format!("category must be a string or up to five strings: {item}"));
        }
        if !f[3].is_number() {
            return Err(format!("price must be a number: {item}"));
        }
        if f[4].as_u64().is_none_or(|q| q < 1) {
            return Err(format!("quantity must be a whole number of at least 1: {item}"));
        }
    }
    Ok(())
}

/// Checks one tracking request against the documented parameters: every
/// parameter is one Matomo documents, with a value of its documented form, and
/// the documented rules between them hold. `authenticated`: the bulk request
/// carries a `token_auth`.
pub fn check_documented(q: &HashMap<String, String>, authenticated: bool) {
    for (key, value) in q {
        let ok: Result<(), String> = match key.as_str() {
            // "The ID of the website we're tracking a visit/action for."
            "idsite" => value.parse::<u32>().ok().filter(|&n| n > 0).map(|_| ()).ok_or("a site id".into()),
            // "Required for tracking, must be set to one"; "currently always set to 1".
            "rec" | "apiv" => (value == "1").then_some(()).ok_or("1".into()),
            // "must be a 16 characters hexadecimal string".
            "_id" | "cid" => is_hex16(value).then_some(()).ok_or("16 hex digits".into()),
            // "either a datetime such as 2011-04-05 00:11:42 ... or a timestamp in UTC".
            "cdt" => value.parse::<u64>().ok().map(|_| ()).ok_or("a Unix timestamp".into()),
            // "An override value for the User-Agent HTTP header field" / "Accept-Language".
            "ua" | "lang" => (!value.is_empty()).then_some(()).ok_or("a header's value".into()),
            // "Override value for the visitor IP (both IPv4 and IPv6 notations supported)."
            "cip" => value.parse::<std::net::IpAddr>().map(|_| ()).map_err(|e| e.to_string()),
            // "The full URL for the current action" / "The full HTTP Referrer URL".
            "url" | "urlref" => is_url(value).then_some(()).ok_or("an absolute URL".into()),
            // "The title of the action being tracked."
            "action_name" => Ok(()),
            // "The resolution of the device the visitor is using, eg 1280x1024."
            "res" => value
                .split_once('x')
                .filter(|(w, h)| w.parse::<u32>().is_ok() && h.parse::<u32>().is_ok())
                .map(|_| ())
                .ok_or("WIDTHxHEIGHT".into()),
            // Product page views: SKU, name, category, price.
            "_pks" => (!value.is_empty()).then_some(()).ok_or("a SKU".into()),
            "_pkn" | "_pkc" => Ok(()),
            "_pkp" => is_number(value).then_some(()).ok_or("a price".into()),
            // "If specified, the tracking request will trigger a conversion for the goal ... with this ID."
            "idgoal" => value.parse::<u32>().map(|_| ()).map_err(|e| e.to_string()),
            // Revenue, subtotal, tax, shipping, discount: amounts.
            "revenue" | "ec_st" | "ec_tx" | "ec_sh" | "ec_dt" => {
                is_number(value).then_some(()).ok_or("an amount".into())
            }
            // "The unique string identifier for the ecommerce order".
            "ec_id" => (!value.is_empty()).then_some(()).ok_or("an order id".into()),
            "ec_items" => check_items(value),
            other => Err(format!("{other} is not a documented tracking parameter")),
        };
        if let Err(why) = ok {
            panic!("{key}={value:?}: {why}; in {q:?}");
        }
    }
    for required in ["idsite", "rec"] {
        assert!(q.contains_key(required), "{required} is required: {q:?}");
    }
    if q.contains_key("cip") {
        assert!(authenticated, "cip requires token_auth: {q:?}");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    if q.get("cdt").and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t + 24 * 3600 < now) {
        // "If you set cdt to a datetime older than 24 hours then token_auth must be set."
        assert!(authenticated, "cdt older than a day needs token_auth: {q:?}");
    }
    if q.contains_key("revenue") || q.contains_key("ec_items") {
        assert_eq!(q.get("idgoal").map(String::as_str), Some("0"), "ecommerce: idgoal=0: {q:?}");
    }
    if q.get("idgoal").map(String::as_str) == Some("0") {
        assert!(q.contains_key("revenue"), "a cart update or an order states its revenue: {q:?}");
        assert!(q.contains_key("ec_items"), "a cart update or an order states its items: {q:?}");
    }
    for ec in ["ec_st", "ec_tx", "ec_sh", "ec_dt"] {
        if q.contains_key(ec) {
            assert!(q.contains_key("ec_id"), "{ec} belongs to an order: {q:?}");
        }
    }
    if q.contains_key("_pkp") || q.contains_key("_pkn") {
        assert!(q.contains_key("_pks"), "a product view names its SKU: {q:?}");
    }
}
