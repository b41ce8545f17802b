//! The admin page's charting library comes from the server, from the directory
//! `--uplot-dir` names (npm's `uplot/dist` by default), never from a CDN.

mod common;

use common::*;
use lummmen_server::{Config, ServerHandle};

#[tokio::test]
async fn the_charting_library_is_served_from_its_configured_directory() {
    let data = TempDir::new("vendor-data");
    let dist = TempDir::new("vendor-uplot");
    std::fs::write(dist.0.join("uPlot.iife.min.js"), "var uPlot=function(){};").expect("write");
    std::fs::write(dist.0.join("uPlot.min.css"), ".uplot{}").expect("write");
    let mut config = Config::for_tests(root(), data.0.clone());
    config.uplot_dir = dist.0.clone();
    let server = ServerHandle::start(config).await.expect("server starts");
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}/admin/vendor/uplot/{path}", server.url())).send();

    let js = get("uPlot.iife.min.js").await.expect("get");
    assert_eq!(js.status(), 200);
    let kind = js.headers()["content-type"].to_str().unwrap_or_default().to_string();
    assert!(kind.contains("javascript"), "{kind}");
    assert_eq!(js.text().await.expect("body"), "var uPlot=function(){};");
    let css = get("uPlot.min.css").await.expect("get");
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/css"));
    assert_eq!(get("missing.js").await.expect("get").status(), 404);
    assert_eq!(get("../uPlot.iife.min.js").await.expect("get").status(), 404);

    // The page asks for exactly these two files.
    let page = std::fs::read_to_string(root().join("www/admin/index.html")).expect("admin page");
    for file in ["/admin/vendor/uplot/uPlot.iife.min.js", "/admin/vendor/uplot/uPlot.min.css"] {
        assert!(page.contains(file), "{file} not in the admin page");
    }
    assert!(!page.contains("cdn.jsdelivr") && !page.contains("unpkg.com"), "no charting CDN");
    server.shutdown().await.expect("shutdown");
}
