//! Privacy fulfilment from tickets, on the real server with real SQLite and the
//! real ClickHouse: a data request's export holds every row of the customer's
//! visitors, a redact removes them (counted before and after), shop/redact
//! removes the shop's data and nothing else; tickets are resolved with who and
//! when, and a merchant only sees its own shop's tickets.

mod support;

use std::collections::BTreeSet;

use lummmen_server::projects::Project;
use lummmen_server::{Config, ServerHandle};
use serde_json::{json, Value};
use support::*;

const OTHER_SHOP: &str = "b-shop.myshopify.com";
const OTHER_SITE: u32 = 8;
const ALICE: &str = "a1a1a1a1a1a1a1a1";
const BOB: &str = "b2b2b2b2b2b2b2b2";
const CAROL: &str = "c3c3c3c3c3c3c3c3";
const DAVE: &str = "d4d4d4d4d4d4d4d4";

async fn event_ids(server: &ServerHandle, site: u32, visitor: &str) -> BTreeSet<String> {
    server
        .store()
        .events_for_visitor(site, visitor)
        .await
        .expect("read")
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

async fn ticket_for(server: &ServerHandle, topic: &str, shop: &str, webhook_id: &str, body: Value) -> i64 {
    let r = deliver(server, topic, shop, webhook_id, &body.to_string(), SECRET).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    v["ticket"].as_i64().expect("ticket id")
}

async fn fulfil(server: &ServerHandle, id: i64, token: &str) -> (u16, Value) {
    post_json(server, &format!("/api/gdpr/tickets/{id}/fulfil"), token, json!({})).await
}

async fn scenario(config: Config) {
    let dir = config.data_dir.clone();
    let server = start(config, SITE, SHOP).await;
    server
        .meta()
        .upsert_project(&Project {
            id: OTHER_SITE,
            name: "B".into(),
            sample: 100,
            shops: vec![OTHER_SHOP.into()],
        })
        .await
        .expect("project");
    collect(&server, &page_views(SITE, ALICE, "a000000000000001", 5)).await;
    collect(
        &server,
        &checkout(
            SITE,
            ALICE,
            "a000000000000002",
            "gid://shopify/Order/299938",
            Some("gid://shopify/Customer/191167"),
        ),
    )
    .await;
    collect(&server, &page_views(SITE, BOB, "b000000000000001", 3)).await;
    collect(&server, &checkout(SITE, BOB, "b000000000000002", "gid://shopify/Order/280263", None)).await;
    collect(&server, &page_views(SITE, CAROL, "c000000000000001", 2)).await;
    collect(&server, &page_views(OTHER_SITE, DAVE, "d000000000000001", 4)).await;
    server.flush().await.expect("flush");
    let last = server.store().last_event_ms(SITE).await.expect("last event");
    assert_eq!(last, Some(1_763_800_190_000), "the latest checkout's time");
    assert_eq!(server.store().last_event_ms(999).await.expect("none"), None);
    let alice = event_ids(&server, SITE, ALICE).await;
    let bob = event_ids(&server, SITE, BOB).await;
    assert_eq!((alice.len(), bob.len()), (6, 4));

    // A data request by customer id (as Shopify sends it: a number) and an order id.
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "orders_requested": [280263],
                      "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
                      "data_request": {"id": 9999}});
    let request = ticket_for(&server, "customers/data_request", SHOP, "wh-dr", body).await;
    let (status, done) = fulfil(&server, request, OPERATOR).await;
    assert_eq!(status, 200, "{done}");
    let exported: BTreeSet<String> = done["export"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(exported, alice.union(&bob).cloned().collect(), "export holds every row of both visitors");
    assert_eq!(done["export"]["visitors"], json!([ALICE, BOB]));
    assert_eq!(done["ticket"]["status"], "fulfilled");
    assert_eq!(event_ids(&server, SITE, ALICE).await.len(), 6, "a data request deletes nothing");

    // A merchant resolves it with its session token: who and when are recorded.
    let (status, resolved) =
        post_json(&server, &format!("/api/gdpr/tickets/{request}/resolve"), &session_token(SHOP), json!({}))
            .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["ticket"]["status"], "resolved");
    assert_eq!(resolved["ticket"]["resolver"], format!("{SHOP} user 4242"));
    assert!(resolved["ticket"]["resolved_at"].as_i64().expect("resolved_at") > 0);
    // A resolved ticket keeps the ids and drops the customer's contact data.
    let kept = resolved["ticket"]["body"].to_string();
    assert!(!kept.contains("john@example.com") && !kept.contains("555-625-1199"), "{kept}");
    assert_eq!(resolved["ticket"]["body"]["customer"], json!({"id": 191167}));

    // customers/redact by customer id removes exactly that visitor's rows.
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 191167, "email": "john@example.com"},
                      "orders_to_redact": [299938]});
    let redact = ticket_for(&server, "customers/redact", SHOP, "wh-redact", body).await;
    let (status, done) = fulfil(&server, redact, OPERATOR).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["outcome"]["rows_deleted"], 6);
    assert!(event_ids(&server, SITE, ALICE).await.is_empty(), "alice's rows are gone");
    assert_eq!(event_ids(&server, SITE, BOB).await, bob, "bob's rows stay");
    assert_eq!(event_ids(&server, SITE, CAROL).await.len(), 2);

    // Another shop's merchant neither sees nor fulfils this shop's tickets.
    let other_token = session_token(OTHER_SHOP);
    let (status, listed) = get_json(&server, "/api/gdpr/tickets", &other_token).await;
    assert_eq!(status, 200);
    assert_eq!(listed["tickets"], json!([]));
    assert_eq!(fulfil(&server, redact, &other_token).await.0, 404);
    let (_, mine) = get_json(&server, "/api/gdpr/tickets", &session_token(SHOP)).await;
    assert_eq!(mine["tickets"].as_array().expect("list").len(), 2);

    // shop/redact removes every row of the shop's project and nothing of others.
    let shop_redact =
        ticket_for(&server, "shop/redact", SHOP, "wh-shop", json!({"shop_id": 954889, "shop_domain": SHOP}))
            .await;
    let (status, done) = fulfil(&server, shop_redact, OPERATOR).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["outcome"]["rows_deleted"], 6);
    assert_eq!(server.store().count_events(SITE).await.expect("count"), 0);
    assert_eq!(server.store().count_events(OTHER_SITE).await.expect("count"), 4);
    // ... and the project, the shop's install, and the contact data of its tickets.
    assert_eq!(server.meta().project(SITE).await.expect("read"), None);
    assert_eq!(server.meta().project_of_shop(SHOP).await.expect("read"), None);
    assert!(server.meta().project(OTHER_SITE).await.expect("read").is_some(), "another shop's project stays");
    assert_eq!(server.meta().shop(SHOP).await.expect("read"), None, "the install is forgotten");
    if support::meta_database(&dir).is_none() {
        let app_db = rusqlite::Connection::open(dir.join("shopify.db")).expect("open shopify.db");
        for table in ["shops", "oauth_states", "webhook_deliveries"] {
            let n: i64 = app_db
                .query_row(&format!("SELECT COUNT(*) FROM {table} WHERE shop = ?1"), [SHOP], |r| r.get(0))
                .expect("count");
            assert_eq!(n, 0, "{table} still holds {SHOP}");
        }
    }
    let (_, tickets) = get_json(&server, "/api/gdpr/tickets", OPERATOR).await;
    let tickets = tickets["tickets"].to_string();
    assert!(!tickets.contains("john@example.com") && !tickets.contains("555-625-1199"), "{tickets}");

    // Operators must name themselves to resolve.
    let path = format!("/api/gdpr/tickets/{shop_redact}/resolve");
    assert_eq!(post_json(&server, &path, OPERATOR, json!({})).await.0, 400);
    let (status, resolved) = post_json(&server, &path, OPERATOR, json!({"resolver": "dana"})).await;
    assert_eq!(status, 200);
    assert_eq!(resolved["ticket"]["resolver"], "operator dana");
    assert_eq!(post_json(&server, &path, OPERATOR, json!({"resolver": "dana"})).await.0, 409);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn sqlite_fulfils_export_redact_and_shop_redact_from_tickets() {
    let dir = TempDir::new("fulfil-sqlite");
    scenario(app_config(&dir.0, "http://127.0.0.1:9")).await;
}

#[tokio::test]
async fn clickhouse_fulfils_export_redact_and_shop_redact_from_tickets() {
    let dir = TempDir::new("fulfil-ch");
    let config = app_config(&dir.0, "http://127.0.0.1:9")
        .with_clickhouse(&clickhouse_url(), &unique_database("fulfil"));
    scenario(config).await;
}

#[tokio::test]
async fn shop_redact_of_one_shop_keeps_a_project_another_shop_shares() {
    let dir = TempDir::new("fulfil-shared");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let shared =
        Project { id: SITE, name: "Shared".into(), sample: 100, shops: vec![SHOP.into(), OTHER_SHOP.into()] };
    server.meta().upsert_project(&shared).await.expect("share");
    let id = ticket_for(
        &server,
        "shop/redact",
        SHOP,
        "wh-shared",
        json!({"shop_id": 954889, "shop_domain": SHOP}),
    )
    .await;
    let (status, done) = fulfil(&server, id, OPERATOR).await;
    assert_eq!(status, 200, "{done}");
    let kept = server.meta().project(SITE).await.expect("read").expect("the shared project stays");
    assert_eq!(kept.shops, vec![OTHER_SHOP.to_string()], "only the redacted shop is unlinked");
    assert_eq!(server.meta().project_of_shop(SHOP).await.expect("read"), None);
}

/// A redact that arrives while the customer's batches still wait in the spool
/// (inserts linger three seconds here): the request waits for them, finds the
/// visitor through the spooled checkout, and nothing of theirs is stored after.
#[tokio::test]
async fn a_redact_racing_the_spool_leaves_nothing_behind() {
    const ERIN: &str = "e5e5e5e5e5e5e5e5";
    let dir = TempDir::new("fulfil-race");
    let mut config = app_config(&dir.0, "http://127.0.0.1:9");
    config.insert_linger_ms = 3000;
    let server = start(config, SITE, SHOP).await;
    // An insert just went: the next ones wait for the linger.
    collect(&server, &page_views(SITE, CAROL, "c000000000000009", 1)).await;
    server.flush().await.expect("flush");
    collect(&server, &page_views(SITE, ERIN, "e000000000000001", 4)).await;
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
    collect(&server, &page_views(SITE, CAROL, "c00000000000000a", 2)).await;
    assert!(event_ids(&server, SITE, ERIN).await.is_empty(), "Erin's batches are still in the spool");
    let body = json!({"shop_id": 954889, "shop_domain": SHOP, "customer": {"id": 5150, "email": "erin@example.com"},
                      "orders_to_redact": [777001]});
    let ticket = ticket_for(&server, "customers/redact", SHOP, "wh-race", body).await;
    let (status, done) = fulfil(&server, ticket, OPERATOR).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["outcome"]["visitors"], 1, "found through the spooled checkout: {done}");
    assert_eq!(done["outcome"]["rows_deleted"], 5, "{done}");
    server.flush().await.expect("flush");
    assert!(event_ids(&server, SITE, ERIN).await.is_empty(), "nothing of Erin's was stored after the redact");
    assert_eq!(event_ids(&server, SITE, CAROL).await.len(), 3, "other visitors' batches are stored");
    server.shutdown().await.expect("shutdown");
}

/// A shop's redaction that stopped after deleting the shop's projects (its
/// second pass failed, the event store being down) is run again by the
/// operator: the sites kept with the ticket are found although their
/// projects are gone, and what the sites still held is deleted.
#[tokio::test]
async fn a_shop_redact_stopped_after_its_projects_went_finishes_when_run_again() {
    let dir = TempDir::new("fulfil-resume");
    let server = start(app_config(&dir.0, "http://127.0.0.1:9"), SITE, SHOP).await;
    let body = json!({"shop_id": 954889, "shop_domain": SHOP});
    let id = ticket_for(&server, "shop/redact", SHOP, "wh-resume", body).await;
    // Where the first run stopped: the sites kept with the ticket, the
    // project deleted, and events of the site taken meanwhile.
    let pending = json!({"action": "shop_redact", "pending_sites": [SITE]});
    server.meta().set_ticket_outcome(id, "open", &pending).await.expect("outcome");
    collect(&server, &page_views(SITE, CAROL, "c000000000000011", 3)).await;
    server.flush().await.expect("flush");
    assert_eq!(server.store().count_events(SITE).await.expect("count"), 3);
    assert!(server.meta().delete_project(SITE).await.expect("delete"));

    let (status, done) = fulfil(&server, id, OPERATOR).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["outcome"]["sites"], json!([SITE]), "{done}");
    assert_eq!(server.store().count_events(SITE).await.expect("count"), 0);
    server.shutdown().await.expect("shutdown");
}
