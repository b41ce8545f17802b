//! The real server on a loopback port.

use lummmen_server::{Config, ServerHandle};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[tokio::test]
async fn answers_healthz_and_serves_the_demo_page() {
    let data = std::env::temp_dir().join(format!("lummmen-health-{}", std::process::id()));
    let server = ServerHandle::start(Config::for_tests(root(), data)).await.unwrap();
    let client = reqwest::Client::new();

    let health = client.get(format!("{}/healthz", server.url())).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    let ready = client.get(format!("{}/readyz", server.url())).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let demo = client.get(format!("{}/demo/", server.url())).send().await.unwrap();
    assert_eq!(demo.status(), 200);
    let html = demo.text().await.unwrap();
    assert!(html.contains("lummmen-loader.js"), "demo page must load the tracker");

    let missing = client.get(format!("{}/nope.html", server.url())).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    server.shutdown().await.unwrap();
}
