//! A fake Shopify on a loopback port: the OAuth token endpoint and the Admin
//! GraphQL API, answering in Shopify's documented formats.
//!
//! - `POST /admin/oauth/access_token` with `{"client_id","client_secret","code"}`
//!   answers `{"access_token","scope"}`; an unknown or reused code answers 400.
//!   With `grant_type` token exchange, a session token signed with the client
//!   secret (checked with `openssl`, apart from the code under test) and not
//!   expired answers an expiring offline token: `{"access_token","expires_in":
//!   3600,"refresh_token","refresh_token_expires_in","scope"}`; any other
//!   session token 400 `invalid_subject_token`. With `grant_type=refresh_token`,
//!   a live refresh token answers a new pair and is spent: spent, unknown or
//!   expired ones answer 400 `invalid_grant`. Expiry is judged by the server's
//!   clock (`lummmen_server::clock`), which a test can set; an expired access
//!   token gets the same 401 as a revoked one.
//! - `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`:
//!   a revoked or unknown token answers 401 `{"errors": "[API] Invalid API key or
//!   access token (unrecognized login or wrong password)"}`; otherwise
//!   `currentAppInstallation`, `webhookSubscriptionCreate` and `metafieldsSet`
//!   answer `{"data": ...}` with empty `userErrors`; `webPixel` answers the app's
//!   pixel, or a top-level error "No web pixel was found for this app."; a second
//!   `webPixelCreate` answers `userErrors` code `TAKEN`; `webPixelUpdate` updates
//!   the app's pixel (any other id: `NOT_FOUND`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Debug, Default)]
pub struct Recorded {
    /// code → (shop, granted scope)
    pub codes: HashMap<String, (String, String)>,
    /// token → (shop, scope, revoked)
    pub tokens: HashMap<String, (String, String, bool)>,
    /// (shop, topic, uri)
    pub subscriptions: Vec<(String, String, String)>,
    /// (shop, ownerId, namespace, key, value)
    pub metafields: Vec<(String, String, String, String, String)>,
    /// (shop, settings JSON) of every pixel created or updated, in order.
    pub pixels: Vec<(String, Value)>,
    /// shop → the app's web pixel id on it.
    pub pixel_ids: HashMap<String, String>,
    /// `webPixelUpdate` calls that updated a pixel.
    pub pixel_updates: usize,
    /// Bodies of token exchanges received.
    pub exchanges: Vec<Value>,
    /// access token → when it expires (ms), for expiring tokens.
    pub expires: HashMap<String, u64>,
    /// refresh token → (shop, scope, expires at ms, spent)
    pub refresh: HashMap<String, (String, String, u64, bool)>,
    /// Refresh requests that got a new pair.
    pub refreshed: usize,
    /// Tokens issued so far, to name new ones.
    pub issued: usize,
    /// Shops whose session tokens are no longer exchanged (the app uninstalled).
    pub uninstalled: Vec<String>,
}

/// The scopes of the app's configuration (`shopify.app.toml`): what a managed
/// install, and so a token exchange, grants.
pub const APP_SCOPES: &str = "write_pixels,read_customer_events,read_orders";

/// Lifetimes Shopify documents: an hour for the access token; the refresh
/// token's is long (ninety days here).
pub const ACCESS_TTL_SECS: u64 = 3600;
pub const REFRESH_TTL_SECS: u64 = 90 * 24 * 3600;

impl Recorded {
    /// Issues an expiring pair for `shop`.
    fn issue(&mut self, shop: &str, scope: &str) -> Value {
        self.issued += 1;
        let now = lummmen_server::clock::now_ms();
        let access = format!("shpat_exp{}", self.issued);
        let refresh = format!("shprt_{}", self.issued);
        self.tokens.insert(access.clone(), (shop.into(), scope.into(), false));
        self.expires.insert(access.clone(), now + ACCESS_TTL_SECS * 1000);
        self.refresh
            .insert(refresh.clone(), (shop.into(), scope.into(), now + REFRESH_TTL_SECS * 1000, false));
        json!({"access_token": access, "expires_in": ACCESS_TTL_SECS, "refresh_token": refresh,
               "refresh_token_expires_in": REFRESH_TTL_SECS, "scope": scope})
    }
}

#[derive(Debug, Clone)]
pub struct FakeShopify {
    pub url: String,
    pub state: Arc<Mutex<Recorded>>,
    client_id: String,
    client_secret: String,
}

impl FakeShopify {
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let state = Arc::new(Mutex::new(Recorded::default()));
        let fake = |url: String| FakeShopify {
            url,
            state: state.clone(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake shopify");
        let me = fake(format!("http://{}", listener.local_addr().expect("addr")));
        let app = Router::new()
            .route("/admin/oauth/access_token", post(access_token))
            .route("/admin/api/{version}/graphql.json", post(graphql))
            .with_state(me.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        me
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recorded> {
        self.state.lock().expect("fake shopify state")
    }

    /// What Shopify's authorize page does when the merchant approves: issues a code.
    pub fn approve(&self, shop: &str, code: &str, scope: &str) {
        self.lock().codes.insert(code.into(), (shop.into(), scope.into()));
    }

    /// The merchant's token stops working (uninstalled, or revoked).
    pub fn revoke_tokens(&self, shop: &str) {
        for (_, (s, _, revoked)) in self.lock().tokens.iter_mut() {
            if s == shop {
                *revoked = true;
            }
        }
    }

    pub fn tokens_of(&self, shop: &str) -> Vec<String> {
        self.lock().tokens.iter().filter(|(_, (s, _, _))| s == shop).map(|(t, _)| t.clone()).collect()
    }

    pub fn subscriptions(&self) -> Vec<(String, String, String)> {
        self.lock().subscriptions.clone()
    }

    pub fn metafields(&self) -> Vec<(String, String, String, String, String)> {
        self.lock().metafields.clone()
    }

    pub fn pixels(&self) -> Vec<(String, Value)> {
        self.lock().pixels.clone()
    }

    /// How many pixel updates there were.
    pub fn pixel_updates(&self) -> usize {
        self.lock().pixel_updates
    }

    pub fn exchanges(&self) -> Vec<Value> {
        self.lock().exchanges.clone()
    }

    /// How many refreshes got a new pair.
    pub fn refreshed(&self) -> usize {
        self.lock().refreshed
    }

    /// The app is uninstalled from the shop: its tokens and refresh tokens
    /// stop working and its session tokens are no longer exchanged.
    pub fn uninstall(&self, shop: &str) {
        self.revoke_tokens(shop);
        self.revoke_refresh_tokens(shop);
        self.lock().uninstalled.push(shop.to_string());
    }

    /// The shop's refresh tokens stop working (as after an uninstall).
    pub fn revoke_refresh_tokens(&self, shop: &str) {
        for (_, (s, _, _, spent)) in self.lock().refresh.iter_mut() {
            if s == shop {
                *spent = true;
            }
        }
    }
}

/// The shop a session token names, when Shopify would honour it: signed with
/// the app's secret, for this app, not expired by the clock.
fn session_shop(fake: &FakeShopify, token: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    use base64::Engine as _;
    let mut parts = token.split('.');
    let (head, body, sig) = (parts.next()?, parts.next()?, parts.next()?);
    let expected = super::openssl_hmac(&fake.client_secret, format!("{head}.{body}").as_bytes());
    if B64URL.decode(sig).ok()? != expected {
        return None;
    }
    let claims: Value = serde_json::from_slice(&B64URL.decode(body).ok()?).ok()?;
    let now = (lummmen_server::clock::now_ms() / 1000) as i64;
    if claims["aud"] != json!(fake.client_id) || claims["exp"].as_i64()? < now {
        return None;
    }
    claims["dest"].as_str()?.strip_prefix("https://").map(String::from)
}

/// The `settings` of a web pixel input: a JSON object sent as a string.
fn pixel_settings(vars: &Value) -> Value {
    serde_json::from_str(vars["webPixel"]["settings"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

fn refused(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response()
}

async fn access_token(State(fake): State<FakeShopify>, Json(body): Json<Value>) -> Response {
    let mut st = fake.lock();
    st.exchanges.push(body.clone());
    if body["client_id"] != json!(fake.client_id) || body["client_secret"] != json!(fake.client_secret) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_client"}))).into_response();
    }
    match body["grant_type"].as_str() {
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => {
            let ok = body["subject_token_type"] == json!("urn:ietf:params:oauth:token-type:id_token")
                && body["requested_token_type"]
                    == json!("urn:shopify:params:oauth:token-type:offline-access-token");
            let shop = body["subject_token"]
                .as_str()
                .and_then(|t| session_shop(&fake, t))
                .filter(|shop| !st.uninstalled.contains(shop));
            return match (ok, shop) {
                (true, Some(shop)) => Json(st.issue(&shop, APP_SCOPES)).into_response(),
                _ => refused("invalid_subject_token"),
            };
        }
        Some("refresh_token") => {
            let now = lummmen_server::clock::now_ms();
            let given = body["refresh_token"].as_str().unwrap_or_default().to_string();
            let live = st.refresh.get(&given).filter(|(_, _, at, spent)| !spent && *at > now).cloned();
            let Some((shop, scope, _, _)) = live else { return refused("invalid_grant") };
            if let Some(r) = st.refresh.get_mut(&given) {
                r.3 = true;
            }
            st.refreshed += 1;
            return Json(st.issue(&shop, &scope)).into_response();
        }
        _ => {}
    }
    let code = body["code"].as_str().unwrap_or_default().to_string();
    let Some((shop, scope)) = st.codes.remove(&code) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_request",
                        "error_description": "The authorization code was not found or was already used"})),
        )
            .into_response();
    };
    let token = format!("shpat_{}", hex::encode(code.as_bytes()));
    st.tokens.insert(token.clone(), (shop, scope.clone(), false));
    Json(json!({"access_token": token, "scope": scope})).into_response()
}

async fn graphql(
    State(fake): State<FakeShopify>,
    Path(_version): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let token = headers.get("x-shopify-access-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mut st = fake.lock();
    let expired = st.expires.get(token).is_some_and(|at| *at <= lummmen_server::clock::now_ms());
    let Some((shop, scope, false)) = st.tokens.get(token).cloned().filter(|_| !expired) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})),
        )
            .into_response();
    };
    let query = body["query"].as_str().unwrap_or_default();
    let vars = &body["variables"];
    let data = if query.contains("currentAppInstallation") {
        let scopes: Vec<Value> = scope.split(',').map(|s| json!({"handle": s.trim()})).collect();
        json!({"currentAppInstallation": {"id": "gid://shopify/AppInstallation/9001", "accessScopes": scopes}})
    } else if query.contains("webhookSubscriptionCreate") {
        let topic = vars["topic"].as_str().unwrap_or_default().to_string();
        let uri = vars["webhookSubscription"]["uri"].as_str().unwrap_or_default().to_string();
        st.subscriptions.push((shop, topic, uri.clone()));
        let id = format!("gid://shopify/WebhookSubscription/{}", st.subscriptions.len());
        json!({"webhookSubscriptionCreate": {"webhookSubscription": {"id": id, "uri": uri}, "userErrors": []}})
    } else if query.contains("metafieldsSet") {
        let mut out = Vec::new();
        for m in vars["metafields"].as_array().cloned().unwrap_or_default() {
            let s = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            st.metafields.push((shop.clone(), s("ownerId"), s("namespace"), s("key"), s("value")));
            out.push(
                json!({"id": "gid://shopify/Metafield/1", "namespace": s("namespace"), "key": s("key")}),
            );
        }
        json!({"metafieldsSet": {"metafields": out, "userErrors": []}})
    } else if query.contains("webPixelCreate") {
        if st.pixel_ids.contains_key(&shop) {
            json!({"webPixelCreate": {"webPixel": null, "userErrors": [
                {"field": ["webPixel"], "message": "Web pixel is taken.", "code": "TAKEN"}]}})
        } else {
            let settings = pixel_settings(vars);
            let id = format!("gid://shopify/WebPixel/{}", st.pixel_ids.len() + 1);
            st.pixel_ids.insert(shop.clone(), id.clone());
            st.pixels.push((shop, settings.clone()));
            json!({"webPixelCreate": {"webPixel": {"id": id, "settings": settings.to_string()}, "userErrors": []}})
        }
    } else if query.contains("webPixelUpdate") {
        let id = vars["id"].as_str().unwrap_or_default();
        if st.pixel_ids.get(&shop).map(String::as_str) == Some(id) {
            let settings = pixel_settings(vars);
            st.pixels.push((shop, settings.clone()));
            st.pixel_updates += 1;
            json!({"webPixelUpdate": {"webPixel": {"id": id, "settings": settings.to_string()}, "userErrors": []}})
        } else {
            json!({"webPixelUpdate": {"webPixel": null, "userErrors": [
                {"field": ["id"], "message": "Web pixel does not exist", "code": "NOT_FOUND"}]}})
        }
    } else if query.contains("webPixel {") {
        match st.pixel_ids.get(&shop) {
            Some(id) => json!({"webPixel": {"id": id, "settings": "{}"}}),
            None => {
                return Json(json!({"errors": [{"message": "No web pixel was found for this app.",
                                                "path": ["webPixel"]}],
                                   "data": {"webPixel": null}}))
                .into_response()
            }
        }
    } else {
        return (StatusCode::OK, Json(json!({"errors": [{"message": "unknown query in fake Shopify"}]})))
            .into_response();
    };
    Json(json!({"data": data})).into_response()
}
