//! Privacy deletions reach the Matomo relay: a customer redacted while their
//! batches wait in the spool for a Matomo that is down is never relayed, while
//! the server runs and after a restart (the relay's backlog outlives the
//! process; the deletion's tombstone is kept on disk until it is passed).

#[path = "support/fake_matomo.rs"]
mod fake_matomo;
mod support;

use fake_matomo::{query, FakeMatomo};
use lummmen_server::ServerHandle;
use serde_json::{json, Value};
use support::*;

const ERIN: &str = "e5e5e5e5e5e5e5e5";
const CAROL: &str = "c3c3c3c3c3c3c3c3";
const TOKEN: &str = "relay-token";

fn visitors(requests: &[String]) -> Vec<String> {
    requests.iter().map(|r| query(r)["_id"].clone()).collect()
}

async fn redact_erin(server: &ServerHandle) {
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 5150, "email": "erin@example.com"},
                      "orders_to_redact": [777001]});
    let r = deliver(server, "customers/redact", SHOP, "wh-relay", &body.to_string(), SECRET).await;
    assert_eq!(r.status(), 200);
    let ticket = r.json::<Value>().await.expect("json")["ticket"].as_i64().expect("ticket id");
    let (status, done) =
        post_json(server, &format!("/api/gdpr/tickets/{ticket}/fulfil"), OPERATOR, json!({})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["outcome"]["visitors"], 1, "{done}");
}

async fn scenario(restart: bool) {
    // Matomo is down until told otherwise.
    let matomo = FakeMatomo::start(usize::MAX).await;
    let dir = TempDir::new(if restart { "relay-redact-restart" } else { "relay-redact" });
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.matomo_url = Some(matomo.url.clone());
    config.matomo_token = Some(TOKEN.into());
    config.shutdown_drain_secs = 5;
    let server = start(config.clone(), SITE, SHOP).await;
    collect(&server, &page_views(SITE, ERIN, "e000000000000001", 2)).await;
    collect(
        &server,
        &checkout(
            SITE,
            ERIN,
            "e000000000000002",
            "gid://shopify/Order/777001",
            Some("gid://shopify/Customer/5150"),
        ),
    )
    .await;
    collect(&server, &page_views(SITE, CAROL, "c000000000000001", 1)).await;
    server.flush().await.expect("stored");
    // The relay has tried Erin's batches: they wait for Matomo.
    for _ in 0..100 {
        if visitors(&matomo.refused_requests(Some(TOKEN))).iter().any(|v| v == ERIN) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(visitors(&matomo.refused_requests(Some(TOKEN))).iter().any(|v| v == ERIN), "Erin was on her way");

    redact_erin(&server).await;
    let server = if restart {
        server.shutdown().await.expect("shutdown");
        assert!(dir.0.join("spool/tombstones.json").exists(), "the relay has not passed the deletion");
        start(config, SITE, SHOP).await
    } else {
        server
    };
    matomo.set_refuse(0);
    // Carol's page view came after Erin's batches: once it is relayed, Erin's
    // would have been.
    let requests = matomo.wait_for(Some(TOKEN), |r| visitors(r).iter().any(|v| v == CAROL)).await;
    assert_eq!(visitors(&requests), [CAROL], "nothing of Erin's reached Matomo after her redact");
    server.flush().await.expect("flush");
    // Both followers passed the deletion: nothing of it is kept.
    for _ in 0..100 {
        if !dir.0.join("spool/tombstones.json").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!dir.0.join("spool/tombstones.json").exists(), "the tombstone went once passed");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn a_customer_redacted_while_matomo_is_down_is_never_relayed() {
    scenario(false).await;
}

#[tokio::test]
async fn a_redact_still_holds_for_the_relay_after_a_restart() {
    scenario(true).await;
}
