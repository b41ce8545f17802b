//! `/collect` over real HTTP: every bad-input class answers its 4xx with a JSON
//! error, limits answer 429/503 with Retry-After, every answer is readable from
//! any origin (CORS without credentials), and /readyz and /metrics say what
//! happened.

mod common;

use std::io::Write;

use common::*;
use lummmen_server::{Config, ServerHandle};
use reqwest::Client;

async fn start(config: Config) -> ServerHandle {
    ServerHandle::start(config).await.expect("server starts")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// Posts raw bytes with headers; answers status, Retry-After and the JSON body.
async fn post_raw(
    base: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, Option<String>, serde_json::Value) {
    let mut req = Client::new().post(format!("{base}/collect")).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.expect("post");
    let status = res.status().as_u16();
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap_or("").to_string());
    let json = res.json().await.unwrap_or(serde_json::Value::Null);
    (status, retry, json)
}

fn assert_error(got: &(u16, Option<String>, serde_json::Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "status for {code}: {:?}", got.2);
    assert_eq!(got.2["error"], code, "{:?}", got.2);
    assert!(got.2["detail"].as_str().is_some_and(|d| !d.is_empty()), "detail missing: {:?}", got.2);
}

fn body_of(batch: &protocol::Batch) -> Vec<u8> {
    serde_json::to_vec(batch).expect("json")
}

#[tokio::test]
async fn each_bad_input_class_answers_its_4xx_with_a_json_error() {
    let dir = TempDir::new("http-bad");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.max_body_bytes = 64 * 1024;
    config.max_decoded_bytes = 256 * 1024;
    let server = start(config).await;
    let base = server.url();
    let good = page_batch(1, "0123456789abcdef", 1, 10);
    let tp = [("content-type", "text/plain")];

    assert_error(&post_raw(&base, b"{\"s\":1,\"v\":".to_vec(), &tp).await, 400, "malformed_json");
    assert_error(
        &post_raw(
            &base,
            br#"{"s":"1","v":"0123456789abcdef","b":"0123456789abcdef","t":1,"e":[]}"#.to_vec(),
            &tp,
        )
        .await,
        422,
        "wrong_types",
    );
    assert_error(
        &post_raw(
            &base,
            br#"{"s":1,"v":"0123456789abcdef","b":"0123456789abcdef","t":1,"e":[{"k":"c","t":1}]}"#.to_vec(),
            &tp,
        )
        .await,
        422,
        "wrong_types",
    );
    let mut bad_visitor = good.clone();
    bad_visitor.visitor_id = "not-a-visitor-id".into();
    assert_error(&post_raw(&base, body_of(&bad_visitor), &tp).await, 422, "invalid_batch");
    let too_many = page_batch(1, "0123456789abcdef", 2, 501);
    assert_error(
        &post_raw(&base, gzip(&body_of(&too_many)), &[("content-encoding", "gzip")]).await,
        422,
        "invalid_batch",
    );
    let mut long = good.clone();
    if let protocol::Event::PageView(pv) = &mut long.events[0] {
        pv.url = format!("https://demo-shop.myshopify.com/{}", "a".repeat(3000));
    }
    assert_error(&post_raw(&base, body_of(&long), &tp).await, 422, "invalid_batch");
    let mut unknown = good.clone();
    unknown.site_id = 999;
    assert_error(&post_raw(&base, body_of(&unknown), &tp).await, 404, "unknown_site");
    assert_error(&post_raw(&base, vec![b' '; 70 * 1024], &tp).await, 413, "body_too_large");
    assert_error(
        &post_raw(&base, gzip(&vec![b' '; 300 * 1024]), &[("content-encoding", "gzip")]).await,
        413,
        "decoded_too_large",
    );
    assert_error(
        &post_raw(&base, gzip(&vec![b' '; 200 * 1024]), &[("content-encoding", "gzip")]).await,
        413,
        "suspicious_compression_ratio",
    );
    assert_error(
        &post_raw(&base, b"garbage".to_vec(), &[("content-encoding", "gzip")]).await,
        400,
        "bad_gzip",
    );
    assert_error(
        &post_raw(&base, body_of(&good), &[("content-encoding", "br")]).await,
        415,
        "unsupported_encoding",
    );
    assert_error(
        &post_raw(&base, body_of(&good), &[("content-type", "application/xml")]).await,
        415,
        "unsupported_content_type",
    );

    // The good batch itself, plain and gzipped, is accepted.
    let ok = post_raw(&base, body_of(&good), &tp).await;
    assert_eq!((ok.0, ok.2["ok"].as_bool(), ok.2["events"].as_u64()), (200, Some(true), Some(10)));
    let ok = post_raw(
        &base,
        gzip(&body_of(&good)),
        &[("content-type", "application/json"), ("content-encoding", "gzip")],
    )
    .await;
    assert_eq!(ok.0, 200);

    let metrics = Client::new()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("lummmen_accepted_events_total 20"), "{metrics}");
    assert!(metrics.contains("lummmen_rejected_batches_total{reason=\"unknown_site\"} 1"), "{metrics}");
    assert!(metrics.contains("lummmen_rejected_batches_total{reason=\"malformed_json\"} 1"), "{metrics}");
    // Each accepted batch waited for a spool group commit (one may cover both).
    let commits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("lummmen_spool_commit_seconds_count "))
        .and_then(|v| v.parse().ok())
        .expect("spool commit histogram");
    assert!((1..=2).contains(&commits), "{metrics}");
    // Both acknowledgements were timed; refused batches are not.
    assert!(metrics.contains("lummmen_ack_seconds_count 2"), "{metrics}");
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_site_and_address() {
    let dir = TempDir::new("http-rate");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.rate_limit = 2;
    let server = start(config).await;
    server
        .projects()
        .upsert(&lummmen_server::projects::Project { id: 2, name: "Two".into(), sample: 100, shops: vec![] })
        .expect("project");
    let client = Client::new();
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(post(&client, &server.url(), &page_batch(1, "0123456789abcdef", i, 2)).await.as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    let limited = post_raw(&server.url(), body_of(&page_batch(1, "0123456789abcdef", 9, 2)), &[]).await;
    assert_error(&limited, 429, "rate_limited");
    assert!(
        limited.1.as_deref().is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)),
        "Retry-After: {:?}",
        limited.1
    );
    // Another site from the same address has its own budget.
    assert_eq!(post(&client, &server.url(), &page_batch(2, "0123456789abcdef", 20, 2)).await, 200);
}

/// Four requests from one address use up a budget of two per second; answers
/// the statuses of `n` posts, each claiming the address `spoof(i)`.
async fn statuses_with_forwarded_for(
    server: &ServerHandle,
    n: u64,
    spoof: impl Fn(u64) -> String,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 0..n {
        let body = body_of(&page_batch(1, "0123456789abcdef", 100 + i, 2));
        let xff = spoof(i);
        statuses.push(post_raw(&server.url(), body, &[("x-forwarded-for", xff.as_str())]).await.0);
    }
    statuses
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // Untrusted peer (no trusted proxies): a shopper changing X-Forwarded-For
    // on every request still shares the one budget of their real address.
    let dir = TempDir::new("http-xff-untrusted");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.rate_limit = 2;
    let server = start(config).await;
    let statuses = statuses_with_forwarded_for(&server, 6, |i| format!("198.51.100.{i}")).await;
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429], "spoofed headers are ignored");
    server.shutdown().await.expect("shutdown");

    // The loopback peer is our proxy: each forwarded shopper has a budget.
    let dir = TempDir::new("http-xff-trusted");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.rate_limit = 2;
    config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    let server = start(config).await;
    let statuses = statuses_with_forwarded_for(&server, 6, |i| format!("198.51.100.{i}")).await;
    assert_eq!(statuses, [200; 6], "one budget per forwarded address");
    // The same forwarded shopper, with an address of their own choosing in
    // front of it, is still the one the proxy saw.
    let statuses = statuses_with_forwarded_for(&server, 6, |i| format!("10.9.9.{i}, 203.0.113.5")).await;
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn full_spool_answers_503_with_retry_after_and_readyz_turns_unready() {
    let dir = TempDir::new("http-full");
    // Storage is a ClickHouse that is not there: everything stays in the spool.
    let mut config =
        Config::for_tests(root(), dir.0.clone()).with_clickhouse("http://127.0.0.1:9", "nowhere");
    config.spool_max_bytes = 4096;
    let server = start(config).await;
    let client = Client::new();
    let ready = client.get(format!("{}/readyz", server.url())).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let mut first_refusal = None;
    for i in 0..20 {
        let res = post_raw(&server.url(), body_of(&page_batch(1, "0123456789abcdef", i, 5)), &[]).await;
        if res.0 != 200 {
            first_refusal = Some(res);
            break;
        }
    }
    let refusal = first_refusal.expect("the spool fills up");
    assert_error(&refusal, 503, "spool_full");
    assert!(refusal.1.is_some(), "Retry-After missing");
    let ready = client.get(format!("{}/readyz", server.url())).send().await.expect("readyz");
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn every_answer_is_readable_from_any_origin_without_credentials() {
    let dir = TempDir::new("http-cors");
    let mut config = Config::for_tests(root(), dir.0.clone());
    config.rate_limit = 2;
    let server = start(config).await;
    let client = Client::new();
    // A storefront under its own domain, the pixel's sandbox (`null`), anyone.
    for (i, origin) in
        ["https://shop.example.com", "null", "https://demo-shop.myshopify.com"].iter().enumerate()
    {
        let res = client
            .post(format!("{}/collect", server.url()))
            .header("origin", *origin)
            .header("content-type", "text/plain")
            .body(body_of(&page_batch(1, "0123456789abcdef", i as u64, 2)))
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 200, "{origin}");
        let h = res.headers();
        assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"), "{origin}");
        assert!(h.get("access-control-allow-credentials").is_none());
    }
    // Refusals too, with their Retry-After readable: the client keeps the batch.
    let mut refused = None;
    for i in 10..20 {
        let res = client
            .post(format!("{}/collect", server.url()))
            .header("origin", "null")
            .body(body_of(&page_batch(1, "0123456789abcdef", i, 2)))
            .send()
            .await
            .expect("post");
        if res.status() == 429 {
            refused = Some(res);
            break;
        }
    }
    let refused = refused.expect("the rate limit answers 429");
    let h = refused.headers();
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    assert!(h
        .get("access-control-expose-headers")
        .is_some_and(|v| v.to_str().unwrap_or("").contains("retry-after")));
    let bad = client
        .post(format!("{}/collect", server.url()))
        .header("origin", "null")
        .body("{")
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    let pre = client
        .request(reqwest::Method::OPTIONS, format!("{}/collect", server.url()))
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,content-encoding")
        .send()
        .await
        .expect("preflight");
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    assert!(pre
        .headers()
        .get("access-control-allow-headers")
        .is_some_and(|v| v.to_str().unwrap_or("").contains("content-encoding")));
}

#[tokio::test]
async fn a_client_that_cannot_run_is_counted_by_reason() {
    let dir = TempDir::new("http-unsupported");
    let server = start(Config::for_tests(root(), dir.0.clone())).await;
    let client = Client::new();
    let post = |body: &'static str| {
        client
            .post(format!("{}/collect/unsupported", server.url()))
            .header("origin", "null")
            .header("content-type", "text/plain")
            .body(body)
            .send()
    };
    for body in [
        r#"{"s":1,"c":"pixel","r":"webassembly"}"#,
        r#"{"s":1,"c":"pixel","r":"webassembly"}"#,
        r#"{"s":1,"c":"pixel","r":"compile"}"#,
    ] {
        let res = post(body).await.expect("post");
        assert_eq!(res.status(), 204);
        assert_eq!(res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    }
    for (body, status, code) in [
        (r#"{"s":1,"c":"pixel","r":"bored"}"#, 422, "wrong_types"),
        (r#"{"s":1,"c":"pixel""#, 400, "malformed_json"),
        (r#"{"s":999,"c":"pixel","r":"compile"}"#, 404, "unknown_site"),
    ] {
        let res = post(body).await.expect("post");
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
        let json: serde_json::Value = res.json().await.expect("json");
        assert_eq!(json["error"], code, "{json}");
    }
    let metrics = client.get(format!("{}/metrics", server.url())).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(
        metrics.contains("lummmen_unsupported_clients_total{client=\"pixel\",reason=\"webassembly\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lummmen_unsupported_clients_total{client=\"pixel\",reason=\"compile\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("reason=\"decompression\""), "{metrics}");
    server.shutdown().await.expect("shutdown");
}
