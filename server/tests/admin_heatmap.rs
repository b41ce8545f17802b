//! `/api/heatmap` on the real server over real SQLite and the real ClickHouse:
//! clicks posted to `/collect` come back bucketed into cells with their counts
//! (replays counted once), on the page size the page view recorded; only the
//! shop's own site, only with a valid session token or the operator token; bad
//! parameters are clear 400s. Development session tokens are off by default and,
//! when on, are accepted by the real token check.

mod support;

use lummmen_server::projects::Project;
use lummmen_server::{Config, ServerHandle};
use serde_json::{json, Value};
use support::*;

const VISITOR: &str = "e5e5e5e5e5e5e5e5";
const PAGE: &str = "https://a-shop.myshopify.com/products/tee";

fn click(x: i32, y: i32, t: u64) -> Value {
    json!({"k": "c", "t": t, "x": x, "y": y, "cx": x, "cy": y % 700, "dt": 100, "tg": "button", "sel": "#buy"})
}

/// A page view of `url` (1280 x 3000 document) followed by clicks at `points`.
fn clicks_batch(site: u32, batch: &str, url: &str, points: &[(i32, i32)]) -> Value {
    let t: u64 = 1_763_800_000_000;
    let mut events = vec![json!({"k": "pv", "t": t, "u": url, "r": "", "ti": "Tee", "vw": 1280, "vh": 720,
                                 "sw": 1920, "sh": 1080, "dw": 1280, "dh": 3000})];
    events.extend(points.iter().enumerate().map(|(i, (x, y))| click(*x, *y, t + 10 + i as u64)));
    json!({"s": site, "v": VISITOR, "b": batch, "t": t + 5000, "ss": "a1b2c3d4e5f60718",
           "pv": "0011223344556677", "e": events})
}

fn cell_count(map: &Value, col: u64, row: u64) -> u64 {
    map["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["col"] == col && c["row"] == row)
        .map_or(0, |c| c["count"].as_u64().expect("count"))
}

async fn scenario(config: Config) {
    let server = start(config, SITE, SHOP).await;
    server
        .projects()
        .upsert(&Project { id: 8, name: "B".into(), sample: 100, shops: vec!["b-shop.myshopify.com".into()] })
        .expect("project");
    let hot = [(105, 205), (101, 209), (109, 200), (100, 200), (104, 203), (605, 2504), (611, 2509)];
    let batch = clicks_batch(SITE, "f000000000000001", PAGE, &hot);
    collect(&server, &batch).await;
    collect(&server, &batch).await; // a replay: the same events again
    collect(&server, &clicks_batch(SITE, "f000000000000002", "https://a-shop.myshopify.com/", &[(105, 205)]))
        .await;
    collect(&server, &clicks_batch(8, "f000000000000003", PAGE, &[(105, 205), (105, 205)])).await;
    server.flush().await.expect("flush");

    let token = session_token(SHOP);
    let path = format!("/api/heatmap?url={}", urlencode(PAGE));
    let (status, map) = get_json(&server, &path, &token).await;
    assert_eq!(status, 200, "{map}");
    assert_eq!(map["clicks"], 7, "replayed events are counted once, other pages and sites not at all: {map}");
    assert_eq!(cell_count(&map, 10, 20), 5, "{map}");
    assert_eq!(cell_count(&map, 60, 250), 1, "{map}");
    assert_eq!(cell_count(&map, 61, 250), 1, "{map}");
    assert_eq!((map["width"].as_u64(), map["height"].as_u64()), (Some(1280), Some(3000)));
    assert_eq!(map["cell"], 10);

    let (status, coarse) = get_json(&server, &format!("{path}&cell=100"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(cell_count(&coarse, 1, 2), 5);
    assert_eq!(cell_count(&coarse, 6, 25), 2);

    let (_, later) = get_json(&server, &format!("{path}&from=1763800000014"), &token).await;
    assert_eq!(later["clicks"], 3, "the time range filters clicks: {later}");

    let (status, pages) = get_json(&server, "/api/heatmap/pages", &token).await;
    assert_eq!(status, 200);
    assert_eq!(pages["site"], SITE);
    assert_eq!(pages["pages"][0], json!({"url": PAGE, "clicks": 7}));
    assert_eq!(pages["pages"].as_array().map(Vec::len), Some(2));

    // Authorisation and bad input.
    let r = client().get(format!("{}{path}", server.url())).send().await.expect("get");
    assert_eq!(r.status(), 401);
    let (status, _) = get_json(&server, &path, "not-a-token").await;
    assert_eq!(status, 401);
    let (status, body) = get_json(&server, &format!("{path}&site=8"), &token).await;
    assert_eq!(status, 404, "a merchant cannot read another site: {body}");
    let (status, body) = get_json(&server, &path, OPERATOR).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_request")), "{body}");
    let (status, other) = get_json(&server, &format!("{path}&site=8"), OPERATOR).await;
    assert_eq!(status, 200);
    assert_eq!(other["clicks"], 2);
    for bad in ["/api/heatmap", "/api/heatmap?url=", &format!("{path}&cell=1"), &format!("{path}&cell=x")] {
        let (status, body) = get_json(&server, bad, &token).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "bad_request", "{bad}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{bad}: {body}");
    }
    let (status, _) = get_json(&server, "/api/dev/session-token", "").await;
    assert_eq!(status, 404, "development tokens are off unless enabled");
    server.shutdown().await.expect("shutdown");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn heatmap_counts_clicks_per_cell_in_sqlite() {
    let dir = TempDir::new("heatmap-sqlite");
    scenario(app_config(&dir.0, "http://127.0.0.1:9")).await;
}

#[tokio::test]
async fn heatmap_counts_clicks_per_cell_in_clickhouse() {
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
