//! A minimal fake of Shopify's Admin GraphQL API for the admin page's "Enable
//! tracking" button, answering in Shopify's documented formats:
//! `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`;
//! an unknown token gets HTTP 401 `{"errors": "[API] Invalid API key or access
//! token ..."}`; `currentAppInstallation`, `metafieldsSet` and `webPixelCreate`
//! answer `{"data": ...}` with empty `userErrors`; `webPixel` answers the pixel
//! once created, before that Shopify's top-level error "No web pixel was found
//! for this app."; a second create answers `userErrors` code `TAKEN`, and
//! `webPixelUpdate` updates the pixel. Every answered call is recorded.
//! `POST /admin/oauth/access_token` exchanges a session token signed with the
//! app's secret and not expired for an expiring offline token (an hour, by the
//! server's clock) with a refresh token, and spends a refresh token once for a
//! new pair; anything else answers 400, as Shopify does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::storefront::{CLIENT_ID, CLIENT_SECRET};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The id of the pixel the fake creates.
const PIXEL: &str = "gid://shopify/WebPixel/77";

/// The installation id the fake reports.
pub const INSTALLATION: &str = "gid://shopify/AppInstallation/424242";

/// The scopes of the app's configuration (`shopify.app.toml`): what the
/// installation carries and a token exchange grants.
pub const APP_SCOPES: &str = "write_pixels,read_customer_events,read_orders";

/// What the fake knows and saw.
#[derive(Debug, Default)]
struct Shared {
    token: String,
    /// Expiring access tokens it issued → when they expire (ms, by the
    /// server's clock, which the test may set).
    issued: Mutex<HashMap<String, u64>>,
    /// Refresh tokens it issued → spent.
    refresh: Mutex<HashMap<String, bool>>,
    /// Token exchanges and refreshes that got a new pair.
    exchanges: Mutex<usize>,
    refreshes: Mutex<usize>,
    /// The app is uninstalled: no session token is exchanged.
    uninstalled: std::sync::atomic::AtomicBool,
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
        let shared = Arc::new(Shared { token: token.into(), ..Shared::default() });
        let app = Router::new()
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .route("/admin/oauth/access_token", post(access_token))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { url, shared, task })
    }

    /// The app is uninstalled from the shop: session tokens are no longer
    /// exchanged (tokens already issued keep their own lifetimes here).
    pub fn uninstall(&self) {
        self.shared.uninstalled.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Installed again.
    pub fn reinstall(&self) {
        self.shared.uninstalled.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// A server configured as the app against this fake, on loopback `port`,
    /// whose public URL is itself: a re-authorization the page follows lands on
    /// its real `/auth`. Offline tokens sealed with [`TOKEN_KEY`].
    pub fn app_config(&self, data: &std::path::Path, port: u16) -> lummmen_server::Config {
        let mut config = lummmen_server::Config::for_tests(&crate::root(), data.to_path_buf());
        config.listen = ([127, 0, 0, 1], port).into();
        config.shopify.shopify_client_id = Some(CLIENT_ID.into());
        config.shopify.shopify_client_secret = Some(CLIENT_SECRET.into());
        config.shopify.app_url = Some(format!("http://127.0.0.1:{port}"));
        config.shopify.token_key = Some(TOKEN_KEY.into());
        config.shopify.shopify_base_url = Some(self.url.clone());
        config
    }

    /// Session tokens exchanged for an expiring offline token.
    pub fn exchanges(&self) -> usize {
        self.shared.exchanges.lock().map(|n| *n).unwrap_or_default()
    }

    /// Refresh tokens spent for a new pair.
    pub fn refreshes(&self) -> usize {
        self.shared.refreshes.lock().map(|n| *n).unwrap_or_default()
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
    let now = lummmen_server::clock::now_ms();
    let live = me.issued.lock().ok().and_then(|m| m.get(token).copied()).is_some_and(|at| at > now);
    if token != me.token && !live {
        let errors = "[API] Invalid API key or access token (unrecognized login or wrong password)";
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": errors})));
    }
    let query = body["query"].as_str().unwrap_or_default().to_string();
    let vars = body["variables"].clone();
    let data = if query.contains("currentAppInstallation") {
        let scopes: Vec<Value> = APP_SCOPES.split(',').map(|s| json!({"handle": s})).collect();
        json!({"currentAppInstallation": {"id": INSTALLATION, "accessScopes": scopes}})
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

/// The key [`FakeAdmin::app_config`] seals offline tokens with.
pub const TOKEN_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Seconds an issued access token lives, as Shopify documents.
pub const ACCESS_TTL_SECS: u64 = 3600;

/// Whether Shopify would honour this session token: our app's, signed with its
/// secret, not expired.
fn honoured(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    let [head, body, sig] = parts[..] else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()) else { return false };
    mac.update(format!("{head}.{body}").as_bytes());
    let signed = B64URL.decode(sig).is_ok_and(|s| mac.verify_slice(&s).is_ok());
    let claims: Value =
        B64URL.decode(body).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let now = lummmen_server::clock::now_secs();
    signed && claims["aud"] == CLIENT_ID && claims["exp"].as_i64().is_some_and(|exp| exp >= now)
}

/// Issues an expiring pair; `n` names it.
fn issue(me: &Shared, n: usize) -> Value {
    let access = format!("shpat_e2e_exp{n}");
    let refresh = format!("shprt_e2e_{n}");
    let at = lummmen_server::clock::now_ms() + ACCESS_TTL_SECS * 1000;
    if let (Ok(mut issued), Ok(mut r)) = (me.issued.lock(), me.refresh.lock()) {
        issued.insert(access.clone(), at);
        r.insert(refresh.clone(), false);
    }
    json!({"access_token": access, "expires_in": ACCESS_TTL_SECS, "refresh_token": refresh,
           "refresh_token_expires_in": 7_776_000, "scope": APP_SCOPES})
}

async fn access_token(State(me): State<Arc<Shared>>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let refused = |e: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": e})));
    if body["client_id"] != CLIENT_ID || body["client_secret"] != CLIENT_SECRET {
        return refused("invalid_client");
    }
    match body["grant_type"].as_str() {
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => {
            let uninstalled = me.uninstalled.load(std::sync::atomic::Ordering::SeqCst);
            if uninstalled || !body["subject_token"].as_str().is_some_and(honoured) {
                return refused("invalid_subject_token");
            }
            let n = me.exchanges.lock().map(|mut n| {
                *n += 1;
                *n
            });
            (StatusCode::OK, Json(issue(&me, n.unwrap_or_default())))
        }
        Some("refresh_token") => {
            let given = body["refresh_token"].as_str().unwrap_or_default();
            let fresh = me.refresh.lock().ok().is_some_and(|mut r| match r.get_mut(given) {
                Some(spent) if !*spent => {
                    *spent = true;
                    true
                }
                _ => false,
            });
            if !fresh {
                return refused("invalid_grant");
            }
            let n = me.refreshes.lock().map(|mut n| {
                *n += 1;
                100 + *n
            });
            (StatusCode::OK, Json(issue(&me, n.unwrap_or_default())))
        }
        _ => refused("unsupported_grant_type"),
    }
}
