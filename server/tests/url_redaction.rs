//! Private text in URLs never reaches storage: a batch from an old tracker or
//! another sender, with a typed search term, a reset token, an order number
//! and an email in its page, referrer and link URLs, is posted to `/collect`;
//! none of them is in any file of the data directory afterwards (spool and
//! database, WAL included), while the page's path and allowed parameters are.

mod common;

use common::*;
use lummmen_server::{Config, ServerHandle};
use reqwest::Client;

const PRIVATE: [&str; 5] =
    ["red+summer+dress", "6543210987654", "0f3b27c6e0f1f3f2", "jane.doe", "98765432101"];

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn search_terms_tokens_and_emails_in_urls_never_reach_storage() {
    let dir = TempDir::new("url-redaction");
    let server = ServerHandle::start(Config::for_tests(root(), dir.0.clone())).await.expect("server");
    let body = r#"{"s":1,"v":"9f86d081884c7d65","b":"5f0c6a1e9d2b4c40","t":1763800004000,"ss":"a1b2c3d4e5f60718","pv":"0011223344556677","e":[
        {"k":"pv","t":1763800000000,"u":"https://demo-shop.myshopify.com/search?q=red+summer+dress&page=2#results",
         "r":"https://demo-shop.myshopify.com/account/reset/6543210987654/0f3b27c6e0f1f3f2c3a4b5c6d7e8f901-1700000000",
         "ti":"Search","vw":1280,"vh":720,"sw":1920,"sh":1080},
        {"k":"c","t":1763800001000,"x":1,"y":2,"cx":1,"cy":2,"dt":1000,"tg":"a","sel":"a.order",
         "h":"/account/orders/98765432101?email=jane.doe%40mail.example"}]}"#;
    let res = Client::new()
        .post(format!("{}/collect", server.url()))
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    server.flush().await.expect("flush");
    let stored = server.store().events_for_visitor(1, "9f86d081884c7d65").await.expect("events");
    let json = serde_json::to_string(&stored).expect("json");
    assert!(json.contains("https://demo-shop.myshopify.com/search?q=&page=2"), "{json}");
    assert!(json.contains("/account/orders/redacted?email="), "{json}");
    server.shutdown().await.expect("shutdown");
    for file in files_under(&dir.0) {
        // A file may go while the list is read (a spool segment retired).
        let Ok(bytes) = std::fs::read(&file) else { continue };
        for private in PRIVATE {
            assert!(
                !bytes.windows(private.len()).any(|w| w == private.as_bytes()),
                "{private} found in {}",
                file.display()
            );
        }
    }
}
