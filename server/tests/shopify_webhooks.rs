//! `POST /webhooks/shopify` on the real server: signatures computed by `openssl`,
//! duplicate deliveries, audit tickets, team notices and `app/uninstalled`.

mod support;

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use support::fake_shopify::FakeShopify;
use support::*;

fn data_request(customer: Option<u64>, orders: &[u64]) -> String {
    let mut customer_obj = json!({"email": "john@example.com", "phone": "555-625-1199"});
    if let Some(id) = customer {
        customer_obj["id"] = json!(id);
    }
    json!({"shop_id": 954889, "shop_domain": SHOP, "orders_requested": orders,
           "customer": customer_obj, "data_request": {"id": 9999}})
    .to_string()
}

async fn tickets(server: &lummmen_server::ServerHandle) -> Vec<Value> {
    let (status, body) = get_json(server, "/api/gdpr/tickets", OPERATOR).await;
    assert_eq!(status, 200, "{body}");
    body["tickets"].as_array().cloned().expect("tickets")
}

/// A local endpoint standing in for the team's chat webhook.
async fn notice_sink() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |Json(v): Json<Value>| {
            let g = g.clone();
            async move {
                g.lock().expect("sink").push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got)
}

#[tokio::test]
async fn refuses_a_webhook_whose_hmac_does_not_match_the_raw_body() {
    let dir = TempDir::new("wh-hmac");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let body = data_request(Some(191167), &[299938]);
    let wrong = deliver(&server, "customers/data_request", SHOP, "wh-1", &body, "not-the-secret").await;
    assert_eq!(wrong.status(), 401);
    let err: Value = wrong.json().await.expect("json");
    assert_eq!(err["error"], "invalid_hmac");
    // Signed over a different body than the one sent.
    let r = client()
        .post(format!("{}/webhooks/shopify", server.url()))
        .header("X-Shopify-Topic", "customers/data_request")
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", "wh-2")
        .header("X-Shopify-Hmac-Sha256", openssl_hmac_b64(SECRET, body.as_bytes()))
        .body(format!("{body} "))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 401);
    let missing = client().post(format!("{}/webhooks/shopify", server.url())).body(body.clone()).send().await;
    assert_eq!(missing.expect("post").status(), 401);
    assert!(tickets(&server).await.is_empty());
    // The previous secret still verifies during rotation.
    let ok = deliver(&server, "customers/data_request", SHOP, "wh-3", &body, PREVIOUS_SECRET).await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_webhook_delivered_twice_makes_one_ticket_with_its_audit_fields_and_one_notice() {
    let dir = TempDir::new("wh-dup");
    let (sink, notices) = notice_sink().await;
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.shopify.notify_webhook_url = Some(sink);
    let server = start(config, SITE, SHOP).await;
    let body = data_request(Some(191167), &[299938, 280263]);
    for _ in 0..2 {
        let r = deliver(&server, "customers/data_request", SHOP, "b54557e4-8a5f-4bf7", &body, SECRET).await;
        assert_eq!(r.status(), 200);
    }
    let all = tickets(&server).await;
    assert_eq!(all.len(), 1, "{all:?}");
    let t = &all[0];
    assert_eq!(t["topic"], "customers/data_request");
    assert_eq!(t["shop"], SHOP);
    assert_eq!(t["status"], "open");
    assert_eq!(t["platform"], "Shopify");
    assert_eq!(t["body"], serde_json::from_str::<Value>(&body).expect("json"));
    assert!(t["created_at"].as_i64().expect("created") > 1_700_000_000_000);
    assert!(t["resolved_at"].is_null() && t["resolver"].is_null());

    // The notice goes out after the answer; wait for it (bounded).
    for _ in 0..100 {
        if !notices.lock().expect("sink").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let got = notices.lock().expect("sink").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["ticket"]["id"], t["id"]);
    assert!(!got[0].to_string().contains("john@example.com"), "notices carry no personal data");
}

#[tokio::test]
async fn an_email_only_request_is_closed_as_unfulfillable_with_the_reason() {
    let dir = TempDir::new("wh-email");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let body = json!({"shop_id": 1, "shop_domain": SHOP, "customer": {"email": "jane@example.com"}, "orders_to_redact": []});
    let r = deliver(&server, "customers/redact", SHOP, "wh-email", &body.to_string(), SECRET).await;
    assert_eq!(r.status(), 200);
    let t = &tickets(&server).await[0];
    assert_eq!(t["status"], "unfulfillable");
    assert!(t["outcome"]["unfulfillable"].as_str().expect("reason").contains("stores no emails"));
    assert!(t["resolved_at"].as_i64().is_some());
    assert_eq!(t["resolver"], "lummmen (automatic)");
    let (status, _) =
        post_json(&server, &format!("/api/gdpr/tickets/{}/fulfil", t["id"]), OPERATOR, json!({})).await;
    assert_eq!(status, 409);
    for action in ["fulfil", "resolve"] {
        let (status, body) =
            post_json(&server, &format!("/api/gdpr/tickets/one/{action}"), OPERATOR, json!({})).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{action}: {body}");
    }
}

#[tokio::test]
async fn app_uninstalled_deletes_the_token_and_marks_the_shop_uninstalled() {
    let dir = TempDir::new("wh-uninstall");
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let server = start(app_config(&dir.0, &fake.url), SITE, SHOP).await;
    // Install through OAuth first (unsigned start, signed callback).
    let opened = client().get(format!("{}/auth?shop={SHOP}", server.url())).send().await.expect("auth");
    let location = opened.headers()["location"].to_str().expect("loc").to_string();
    let cookie =
        opened.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_string();
    let state = location.split("state=").nth(1).expect("state").to_string();
    fake.approve(SHOP, "code-u", support::fake_shopify::APP_SCOPES);
    let ts = now();
    let msg = format!("code=code-u&shop={SHOP}&state={state}&timestamp={ts}");
    let q = format!("{msg}&hmac={}", openssl_hmac_hex(SECRET, &msg));
    let cb =
        client().get(format!("{}/auth/callback?{q}", server.url())).header("cookie", cookie).send().await;
    assert_eq!(cb.expect("callback").status(), 302);
    let meta = server.meta();
    let row = || async {
        let r = meta.shop(SHOP).await.expect("read").expect("row");
        (r.sealed_token, r.status)
    };
    assert!(row().await.0.is_some());

    let body =
        json!({"id": 548380009, "name": "A shop", "domain": SHOP, "myshopify_domain": SHOP}).to_string();
    assert_eq!(deliver(&server, "app/uninstalled", SHOP, "wh-un", &body, SECRET).await.status(), 200);
    assert_eq!(row().await, (None, "uninstalled".to_string()));
    // Opening the app again is a fresh install.
    let again = client().get(format!("{}/auth?shop={SHOP}", server.url())).send().await.expect("auth");
    assert_eq!(again.status(), 302);
}

#[tokio::test]
async fn concurrent_redeliveries_of_one_webhook_make_one_ticket() {
    let dir = TempDir::new("wh-concurrent");
    let server = std::sync::Arc::new(start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await);
    let body = data_request(Some(7), &[]);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (server, body) = (server.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            deliver(&server, "customers/redact", SHOP, "same-id", &body, SECRET).await.status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.expect("join"), 200);
    }
    assert_eq!(tickets(&server).await.len(), 1);
}

#[tokio::test]
async fn the_webhook_is_answered_before_the_team_notice_is_delivered() {
    let dir = TempDir::new("wh-fast");
    // A notice endpoint that does not answer until the test lets it.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let released = Arc::new(tokio::sync::Mutex::new(Some(released)));
    let hits = Arc::new(Mutex::new(0u32));
    let h = hits.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let (released, h) = (released.clone(), h.clone());
            async move {
                *h.lock().expect("hits") += 1;
                if let Some(rx) = released.lock().await.take() {
                    let _ = rx.await;
                }
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.shopify.notify_webhook_url = Some(url);
    let server = start(config, SITE, SHOP).await;

    // If the handler waited for the notice, this would never complete: the guard
    // turns that into a failure instead of a hang.
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        deliver(
            &server,
            "shop/redact",
            SHOP,
            "wh-fast",
            &json!({"shop_id": 1, "shop_domain": SHOP}).to_string(),
            SECRET,
        ),
    )
    .await
    .expect("the webhook must be answered without waiting for the notice");
    assert_eq!(answered.status(), 200);
    assert_eq!(tickets(&server).await.len(), 1, "the ticket is stored before the answer");
    // The notice is under way (or about to be), and completes once released.
    for _ in 0..200 {
        if *hits.lock().expect("hits") > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(*hits.lock().expect("hits"), 1);
    let _ = release.send(());
}

#[tokio::test]
async fn app_scopes_update_records_the_scopes_shopify_now_grants() {
    let dir = TempDir::new("wh-scopes");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let db = server.meta();
    db.save_install(SHOP, "k1:sealed", "write_pixels,read_customer_events").await.expect("install");
    let body = json!({"id": 1, "previous": ["write_pixels", "read_customer_events"],
                      "current": ["write_pixels", "read_customer_events", "read_orders"],
                      "updated_at": "2026-12-02T05:00:00.000Z"})
    .to_string();
    assert_eq!(deliver(&server, "app/scopes_update", SHOP, "wh-scopes", &body, SECRET).await.status(), 200);
    let row = db.shop(SHOP).await.expect("read").expect("row");
    assert_eq!(row.scopes, "write_pixels,read_customer_events,read_orders");
}
