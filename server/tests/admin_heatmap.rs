//! `/api/heatmap` on the real server over real SQLite and the real ClickHouse:
//! a fixed set of batches posted to `/collect` (a replay, clicks of today's
//! and of earlier trackers, three buckets, a product group, rage and dead
//! clicks, scrolls and moves) gives the answer computed by hand below, equal
//! in both stores; again after the heatmap's tables are filled from the stored
//! events at start; and without a visitor after their deletion. Only the
//! shop's own site, only with a valid session token or the operator token; bad
//! parameters are 400s naming them. Development session tokens are off by
//! default and, when on, are accepted by the real token check.

mod support;

use lummmen_server::projects::Project;
use lummmen_server::{Config, ServerHandle};
use serde_json::{json, Value};
use support::common::wire::{batch, click, moves};
use support::*;

const V1: &str = "e5e5e5e5e5e5e5e5";
const V2: &str = "f6f6f6f6f6f6f6f6";
const T: u64 = 1_763_800_000_000;
const HOST: &str = "https://a-shop.myshopify.com";

fn pv(t: u64, path: &str, vw: u32, dw: u32, dh: u32) -> Value {
    json!({"k": "pv", "t": t, "u": format!("{HOST}{path}?ref=x"), "r": "", "ti": "Tee", "vw": vw, "vh": 720,
           "sw": 1920, "sh": 1080, "dw": dw, "dh": dh})
}

/// Page views: A (`/products/tee`, desktop, two batches, the first sent
/// twice), B (`/products/hat`, desktop), C (`/products/tee`, mobile), D (a
/// collection), E (the home page), F (`/products/tee`, desktop, an earlier
/// tracker: no relative positions), another site's, and clicks whose page view
/// was never seen.
fn batches() -> Vec<Value> {
    let a1 = batch(
        SITE,
        V1,
        "a000000000000001",
        "00000000000000aa",
        vec![
            pv(T, "/products/tee", 1280, 1280, 3000),
            click(T + 1000, 400, 900, "#buy", json!({"rx": 510, "ry": 480})),
            click(T + 1100, 402, 905, "#buy", json!({"rx": 520, "ry": 490, "rg": true})),
            click(T + 1200, 105, 205, "main > p", json!({})),
            moves(T + 1300, &[[100, 200, 0], [130, 215, 50], [-5, 10, 60]]),
            json!({"k": "sc", "t": T + 1400, "d": 35, "y": 1000}),
        ],
    );
    let a2 = batch(
        SITE,
        V1,
        "a000000000000002",
        "00000000000000aa",
        vec![
            click(T + 20_000, 640, 1210, "#buy", json!({"rx": 1000, "ry": 0, "dd": true})),
            click(T + 20_100, 20, 30, ".size", json!({"rx": 0, "ry": 999})),
            click(T + 20_200, 200, 800, "#buy", json!({"rx": 500, "ry": 500, "vw": 390})),
            moves(T + 20_300, &[[101, 201, 0]]),
            json!({"k": "pl", "t": T + 25_000, "dur": 25_000, "sd": 72}),
        ],
    );
    let b = batch(
        SITE,
        V1,
        "b000000000000001",
        "00000000000000bb",
        vec![
            pv(T + 60_000, "/products/hat", 1440, 1440, 2500),
            click(T + 61_000, 300, 700, "#buy", json!({"rx": 250, "ry": 750})),
            click(T + 62_000, 610, 2510, "footer a", json!({})),
            moves(T + 63_000, &[[600, 2400, 0]]),
            json!({"k": "sc", "t": T + 64_000, "d": 100, "y": 2500}),
        ],
    );
    let c = batch(
        SITE,
        V1,
        "c000000000000001",
        "00000000000000cc",
        vec![
            pv(T + 90_000, "/products/tee", 390, 390, 5000),
            click(T + 91_000, 150, 600, "#buy", json!({"rx": 500, "ry": 500, "rg": true})),
            json!({"k": "sc", "t": T + 92_000, "d": 15, "y": 900}),
            json!({"k": "pl", "t": T + 93_000, "dur": 3000, "sd": 20}),
        ],
    );
    let d = batch(
        SITE,
        V1,
        "d000000000000001",
        "00000000000000dd",
        vec![
            pv(T + 100_000, "/collections/summer", 1280, 1280, 2000),
            click(T + 101_000, 50, 60, ".card", json!({"rx": 100, "ry": 100})),
        ],
    );
    let e = batch(
        SITE,
        V1,
        "e000000000000001",
        "00000000000000ee",
        vec![pv(T + 110_000, "/", 1280, 1280, 1500), click(T + 111_000, 5, 5, "h1", json!({}))],
    );
    let f = batch(
        SITE,
        V2,
        "f000000000000001",
        "00000000000000ff",
        vec![
            pv(T + 200_000, "/products/tee", 1280, 1200, 3200),
            click(T + 201_000, 105, 209, "main > p", json!({})),
            click(T + 202_000, -3, 50, "nav", json!({"rg": true})),
        ],
    );
    // Read to the end and never clicked: offered for its scroll depth.
    let g = batch(
        SITE,
        V1,
        "a0000000000000a1",
        "00000000000000a0",
        vec![
            pv(T + 120_000, "/pages/about", 1280, 1280, 1800),
            json!({"k": "sc", "t": T + 121_000, "d": 100, "y": 1000}),
        ],
    );
    let other_site = batch(
        8,
        V2,
        "9000000000000001",
        "0000000000000099",
        vec![
            pv(T, "/products/tee", 1280, 1280, 3000),
            click(T + 1000, 400, 900, "#buy", json!({"rx": 510, "ry": 480})),
        ],
    );
    let unknown_page = batch(
        SITE,
        V2,
        "9000000000000002",
        "0000000000000098",
        vec![click(T + 1000, 400, 900, "#buy", json!({"rx": 510, "ry": 480}))],
    );
    vec![a1.clone(), a1, a2, b, c, d, e, f, g, other_site, unknown_page]
}

fn desktop_tee() -> Value {
    json!({
        "page": "/products/tee", "bucket": "desktop", "from": 0, "to": i64::MAX,
        "clicks": 7,
        "elements": [
            {"selector": "#buy", "clicks": 3, "rage": 1, "dead": 1, "points": [
                {"rx": 0.975, "ry": 0.025, "count": 1},
                {"rx": 0.525, "ry": 0.475, "count": 2}]},
            {"selector": ".size", "clicks": 1, "rage": 0, "dead": 0, "points": [
                {"rx": 0.025, "ry": 0.975, "count": 1}]}],
        "grid": {"cell": 10, "width": 1280, "height": 3200, "cells": [{"col": 10, "row": 20, "count": 2}]},
        "scroll": {"pageviews": 2, "reached": [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]},
        "moves": {"cell": 10, "cells": [{"col": 10, "row": 20, "count": 2}, {"col": 13, "row": 21, "count": 1}]}
    })
}

fn desktop_products() -> Value {
    json!({
        "page": "/products/*", "bucket": "desktop", "from": 0, "to": i64::MAX,
        "clicks": 9,
        "elements": [
            {"selector": "#buy", "clicks": 4, "rage": 1, "dead": 1, "points": [
                {"rx": 0.975, "ry": 0.025, "count": 1},
                {"rx": 0.525, "ry": 0.475, "count": 2},
                {"rx": 0.275, "ry": 0.775, "count": 1}]},
            {"selector": ".size", "clicks": 1, "rage": 0, "dead": 0, "points": [
                {"rx": 0.025, "ry": 0.975, "count": 1}]}],
        "grid": {"cell": 20, "width": 1440, "height": 3200,
                 "cells": [{"col": 5, "row": 10, "count": 2}, {"col": 30, "row": 125, "count": 1}]},
        "scroll": {"pageviews": 3, "reached": [2, 2, 2, 2, 2, 2, 2, 1, 1, 1]},
        "moves": {"cell": 20, "cells": [
            {"col": 5, "row": 10, "count": 2}, {"col": 6, "row": 10, "count": 1},
            {"col": 30, "row": 120, "count": 1}]}
    })
}

fn mobile_products() -> Value {
    json!({
        "page": "/products/*", "bucket": "mobile", "from": 0, "to": i64::MAX,
        "clicks": 2,
        "elements": [{"selector": "#buy", "clicks": 2, "rage": 1, "dead": 0, "points": [
            {"rx": 0.525, "ry": 0.525, "count": 2}]}],
        "grid": {"cell": 10, "width": 390, "height": 5000, "cells": []},
        "scroll": {"pageviews": 1, "reached": [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]},
        "moves": {"cell": 10, "cells": []}
    })
}

fn pages() -> Value {
    json!({"site": SITE,
        "pages": [
            {"page": "/products/tee", "url": "/products/tee", "clicks": 9, "views": 3},
            {"page": "/products/hat", "url": "/products/hat", "clicks": 2, "views": 1},
            {"page": "/", "url": "/", "clicks": 1, "views": 1},
            {"page": "/collections/summer", "url": "/collections/summer", "clicks": 1, "views": 1},
            {"page": "/pages/about", "url": "/pages/about", "clicks": 0, "views": 1}],
        "groups": [{"page": "/products/*", "clicks": 11, "views": 4}, {"page": "/collections/*", "clicks": 1, "views": 1}]})
}

/// Every answer of the fixed data set that the stores compute.
async fn check_answers(server: &ServerHandle, token: &str) {
    let get = |path: String| async move {
        let (status, body) = get_json(server, &path, token).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    assert_eq!(get("/api/heatmap?page=/products/tee".into()).await, desktop_tee());
    assert_eq!(get("/api/heatmap?page=/products/*&bucket=desktop&cell=20".into()).await, desktop_products());
    assert_eq!(get("/api/heatmap?page=/products/*&bucket=mobile".into()).await, mobile_products());
    let tablet = get("/api/heatmap?page=/products/*&bucket=tablet&mode=scroll".into()).await;
    assert_eq!(
        tablet,
        json!({"page": "/products/*", "bucket": "tablet", "from": 0, "to": i64::MAX,
                              "scroll": {"pageviews": 0, "reached": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}})
    );
    let collections = get("/api/heatmap?page=/collections/*&mode=clicks".into()).await;
    assert_eq!(
        collections,
        json!({"page": "/collections/*", "bucket": "desktop", "from": 0, "to": i64::MAX,
        "clicks": 1,
        "elements": [{"selector": ".card", "clicks": 1, "rage": 0, "dead": 0,
                      "points": [{"rx": 0.125, "ry": 0.125, "count": 1}]}],
        "grid": {"cell": 10, "width": 1280, "height": 2000, "cells": []}})
    );

    // The range selects clicks and moves by their time, page views by theirs.
    let later = get(format!("/api/heatmap?page=/products/tee&from={}", T + 150_000)).await;
    assert_eq!((later["clicks"].as_u64(), later["from"].as_u64()), (Some(2), Some(T + 150_000)), "{later}");
    assert_eq!(
        later["scroll"],
        json!({"pageviews": 1, "reached": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}),
        "{later}"
    );
    assert_eq!(later["moves"]["cells"], json!([]), "{later}");
    let first = get(format!("/api/heatmap?page=/products/tee&mode=moves&to={}", T + 20_000)).await;
    assert_eq!(
        first,
        json!({"page": "/products/tee", "bucket": "desktop", "from": 0, "to": T + 20_000,
        "moves": {"cell": 10, "cells": [{"col": 10, "row": 20, "count": 1}, {"col": 13, "row": 21, "count": 1}]}})
    );

    // The first version's `url=`: its path, and its fields on top.
    let legacy =
        get(format!("/api/heatmap?url={}", urlencode(&format!("{HOST}/products/tee?variant=1")))).await;
    let mut expected = desktop_tee();
    let legacy_fields = json!({"url": format!("{HOST}/products/tee?variant=1"), "cell": 10, "width": 1280,
        "height": 3200, "cells": [
            {"col": 2, "row": 3, "count": 1}, {"col": 10, "row": 20, "count": 2},
            {"col": 40, "row": 90, "count": 2}, {"col": 64, "row": 121, "count": 1}]});
    if let (Some(e), Some(l)) = (expected.as_object_mut(), legacy_fields.as_object()) {
        e.extend(l.clone());
    }
    assert_eq!(legacy, expected);

    assert_eq!(get("/api/heatmap/pages".into()).await, pages());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Drops the heatmap's tables, as in a database from before them.
async fn drop_heat_tables(config: &Config) {
    for table in ["heat_clicks", "heat_moves", "heat_views"] {
        match &config.clickhouse_url {
            Some(url) => {
                let sql = format!("DROP TABLE {}.{table}", config.clickhouse_database);
                let r = client().post(url).body(sql).send().await.expect("clickhouse");
                assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
            }
            None => {
                let db = rusqlite::Connection::open(config.data_dir.join("events.db")).expect("events.db");
                db.execute_batch(&format!("DROP TABLE {table}")).expect("drop");
            }
        }
    }
}

async fn scenario(config: Config) {
    let server = start(config.clone(), SITE, SHOP).await;
    server
        .projects()
        .upsert(&Project { id: 8, name: "B".into(), sample: 100, shops: vec!["b-shop.myshopify.com".into()] })
        .expect("project");
    for b in batches() {
        collect(&server, &b).await;
    }
    server.flush().await.expect("flush");
    let token = session_token(SHOP);
    check_answers(&server, &token).await;

    // Another site: only its operator may read it.
    let path = "/api/heatmap?page=/products/tee";
    let (status, body) = get_json(&server, &format!("{path}&site=8"), &token).await;
    assert_eq!(status, 404, "a merchant cannot read another site: {body}");
    let (status, other) = get_json(&server, &format!("{path}&site=8&mode=clicks"), OPERATOR).await;
    assert_eq!(status, 200, "{other}");
    assert_eq!(other["clicks"], 1, "{other}");
    let r = client().get(format!("{}{path}", server.url())).send().await.expect("get");
    assert_eq!(r.status(), 401);
    let (status, _) = get_json(&server, path, "not-a-token").await;
    assert_eq!(status, 401);

    for (bad, param) in [
        ("/api/heatmap", "page"),
        ("/api/heatmap?url=", "page"),
        ("/api/heatmap?page=products/tee", "page"),
        ("/api/heatmap?page=/products/tee%3Fx%3D1", "page"),
        ("/api/heatmap?page=/pages/*", "page"),
        ("/api/heatmap?page=/a&url=/b", "page"),
        ("/api/heatmap?page=/a&bucket=phone", "bucket"),
        ("/api/heatmap?page=/a&mode=taps", "mode"),
        ("/api/heatmap?page=/a&cell=1", "cell"),
        ("/api/heatmap?page=/a&cell=x", "cell"),
        ("/api/heatmap?page=/a&from=soon", "from"),
        ("/api/heatmap?page=/a&to=-1", "to"),
        ("/api/heatmap?page=/a&from=5&to=5", "from"),
        ("/api/heatmap?page=/a&site=seven", "site"),
        ("/api/heatmap/pages?site=seven", "site"),
    ] {
        let (status, body) = get_json(&server, bad, &token).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request", "{bad}: {body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with(&format!("`{param}`")), "{bad}: {body}");
    }
    let (status, body) = get_json(&server, path, OPERATOR).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "operators name a site: {body}");
    let (status, _) = get_json(&server, "/api/dev/session-token", "").await;
    assert_eq!(status, 404, "development tokens are off unless enabled");
    server.shutdown().await.expect("shutdown");

    // A database from before the heatmap's tables: its events fill them.
    drop_heat_tables(&config).await;
    let server = start(config, SITE, SHOP).await;
    server.flush().await.expect("flush");
    check_answers(&server, &token).await;

    // A visitor's deletion reaches every heatmap table: F alone is left of
    // the desktop product page.
    let deleted = server.store().delete_visitors(&[SITE], &[V1.to_string()]).await.expect("delete");
    assert!(deleted > 0);
    let (_, after) = get_json(&server, "/api/heatmap?page=/products/tee", &token).await;
    assert_eq!(after["clicks"], 2, "{after}");
    assert_eq!(after["elements"], json!([]), "{after}");
    assert_eq!(after["grid"]["cells"], json!([{"col": 10, "row": 20, "count": 1}]), "{after}");
    assert_eq!(
        after["scroll"],
        json!({"pageviews": 1, "reached": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}),
        "{after}"
    );
    assert_eq!(after["moves"]["cells"], json!([]), "{after}");
    let (_, pages) = get_json(&server, "/api/heatmap/pages", &token).await;
    assert_eq!(
        pages["pages"],
        json!([{"page": "/products/tee", "url": "/products/tee", "clicks": 2, "views": 1}]),
        "{pages}"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn heatmap_of_the_fixed_data_set_in_sqlite() {
    let dir = TempDir::new("heatmap-sqlite");
    scenario(app_config(&dir.0, "http://127.0.0.1:9")).await;
}

#[tokio::test]
async fn heatmap_of_the_fixed_data_set_in_clickhouse() {
    let dir = TempDir::new("heatmap-clickhouse");
    let config = app_config(&dir.0, "http://127.0.0.1:9")
        .with_clickhouse(&clickhouse_url(), &unique_database("heatmap"));
    scenario(config).await;
}

#[tokio::test]
async fn development_session_tokens_open_the_demo_project_when_enabled() {
    let dir = TempDir::new("dev-tokens");
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.dev_session_tokens = true;
    let server = ServerHandle::start(config).await.expect("server");
    let (status, minted) = get_json(&server, "/api/dev/session-token", "").await;
    assert_eq!(status, 200, "{minted}");
    assert_eq!(minted["shop"], "demo-shop.myshopify.com");
    let token = minted["token"].as_str().expect("token");
    let (status, config) = post_json(&server, "/api/config", token, json!({})).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["matomoId"], 1);
    let page = client().get(format!("{}/admin/", server.url())).send().await.expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains("lummmen-dev-session-tokens") && !html.contains("app-bridge.js"), "{html}");
    server.shutdown().await.expect("shutdown");
}
