//! A minimal fake of Shopify's Admin GraphQL API for the admin page's "Enable
//! tracking" button, answering in Shopify's documented formats:
//! `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`;
//! an unknown token gets HTTP 401 `{"errors": "[API] Invalid API key or access
//! token ..."}`; `currentAppInstallation`, `metafieldsSet` and `webPixelCreate`
//! answer `{"data": ...}` with empty `userErrors`; `webPixel` answers the pixel
//! once created, before that Shopify's top-level error "No web pixel was found
//! for this app."; a second create answers `userErrors` code `TAKEN`, and
//! `webPixelUpdate` updates the pixel. Every answered call is recorded.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The id of the pixel the fake creates.
const PIXEL: &str = "gid://shopify/WebPixel/77";

/// The installation id the fake reports.
pub const INSTALLATION: &str = "gid://shopify/AppInstallation/424242";

/// What the fake knows and saw.
#[derive(Debug)]
struct Shared {
    token: String,
    /// The app's pixel, once created.
    pixel: Mutex<Option<String>>,
    /// `(query, variables)` of every accepted call.
    calls: Mutex<Vec<(String, Value)>>,
}

/// The fake, serving until dropped.
#[derive(Debug)]
pub struct FakeAdmin {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeAdmin {
    /// Starts on a loopback port, accepting `token` as the shop's offline token.
    pub async fn start(token: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared =
            Arc::new(Shared { token: token.into(), pixel: Mutex::new(None), calls: Mutex::new(Vec::new()) });
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, shared, task })
    }

    /// `(query, variables)` of every accepted call, in order.
    pub fn calls(&self) -> Vec<(String, Value)> {
        self.shared.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for FakeAdmin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn graphql(
    State(me): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let token = headers.get("X-Shopify-Access-Token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if token != me.token {
        let errors = "[API] Invalid API key or access token (unrecognized login or wrong password)";
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": errors})));
    }
    let query = body["query"].as_str().unwrap_or_default().to_string();
    let vars = body["variables"].clone();
    let data = if query.contains("currentAppInstallation") {
        json!({"currentAppInstallation": {"id": INSTALLATION,
               "accessScopes": [{"handle": "write_pixels"}, {"handle": "read_customer_events"}]}})
    } else if query.contains("metafieldsSet") {
        let n = vars["metafields"].as_array().map_or(0, Vec::len);
        let out: Vec<Value> =
            (0..n).map(|i| json!({"id": format!("gid://shopify/Metafield/{}", i + 1)})).collect();
        json!({"metafieldsSet": {"metafields": out, "userErrors": []}})
    } else if query.contains("webPixelCreate") {
        let mut pixel = me.pixel.lock().map_err(|_| ()).ok();
        match pixel.as_deref_mut() {
            Some(Some(_)) => json!({"webPixelCreate": {"webPixel": null, "userErrors": [
                {"field": ["webPixel"], "message": "Web pixel is taken.", "code": "TAKEN"}]}}),
            Some(slot) => {
                *slot = Some(PIXEL.to_string());
                json!({"webPixelCreate": {"webPixel": {"id": PIXEL,
                       "settings": vars["webPixel"]["settings"].clone()}, "userErrors": []}})
            }
            None => json!({"webPixelCreate": {"webPixel": null, "userErrors": []}}),
        }
    } else if query.contains("webPixelUpdate") {
        json!({"webPixelUpdate": {"webPixel": {"id": vars["id"].clone(),
               "settings": vars["webPixel"]["settings"].clone()}, "userErrors": []}})
    } else if query.contains("webPixel {") {
        let id = me.pixel.lock().ok().and_then(|p| p.clone());
        match id {
            Some(id) => json!({"webPixel": {"id": id, "settings": "{}"}}),
            None => {
                let errors =
                    json!([{"message": "No web pixel was found for this app.", "path": ["webPixel"]}]);
                return (StatusCode::OK, Json(json!({"errors": errors, "data": {"webPixel": null}})));
            }
        }
    } else {
        return (StatusCode::OK, Json(json!({"errors": [{"message": "unknown query"}]})));
    };
    if let Ok(mut calls) = me.calls.lock() {
        calls.push((query, vars));
    }
    (StatusCode::OK, Json(json!({"data": data})))
}
