//! Migrations at start upgrade a database made by an earlier version without
//! loss: the SQLite files of the version before numbered migrations, and a
//! PostgreSQL database at schema version 1, both restored from saved dumps
//! (`tests/fixtures/`).

mod common;

use common::{postgres_database, root, TempDir};
use lummmen_server::meta::{self, Applied, Delivery, MetaStore, WebhookEffect};
use lummmen_server::shopify::tickets::NewTicket;
use serde_json::json;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("server/tests/fixtures").join(name)).expect("fixture")
}

/// What both dumps hold, read through the store after the upgrade; then a
/// write that needs the new schema.
async fn check_upgraded(store: &dyn MetaStore) {
    let shop = "old-shop.myshopify.com";
    let project = store.project(3).await.expect("project").expect("kept");
    assert_eq!(
        (project.name.as_str(), project.sample, project.shops),
        ("Old shop", 60, vec![shop.to_string()])
    );
    assert_eq!(store.retention_months(3).await.expect("retention"), 6);
    let tokens = store.tokens(shop).await.expect("tokens").expect("kept");
    assert_eq!(
        (tokens.access.as_str(), tokens.refresh.as_deref()),
        ("k1.sealed-access", Some("k1.sealed-refresh"))
    );
    assert_eq!(tokens.refresh_expires_at, Some(4_102_444_800_000));
    let tickets = store.tickets(Some(shop)).await.expect("tickets");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].body["customer"]["id"], 42);
    let facts = store.export_orders(shop, &["1001".into()]).await.expect("orders");
    assert_eq!((facts.orders.len(), facts.refunds.len()), (1, 1));
    // The old delivery id is still known: Shopify retrying it makes no ticket.
    let body = json!({"shop_domain": shop, "customer": {"id": 42}});
    let again = NewTicket::of("customers/data_request", &body.to_string(), &body, 1);
    let d = Delivery {
        webhook_id: "old-delivery".into(),
        topic: "customers/data_request".into(),
        shop: shop.into(),
    };
    assert_eq!(
        store.apply_webhook(d, WebhookEffect::Ticket(again)).await.expect("apply"),
        Applied::Duplicate
    );
    // And the new code writes to it.
    store.put_state("fresh", shop, 600).await.expect("put");
    assert!(store.take_state("fresh", shop, 600).await.expect("take"));
}

#[tokio::test]
async fn sqlite_files_from_before_numbered_migrations_upgrade_without_loss() {
    let dir = TempDir::new("meta-upgrade-sqlite");
    for (file, dump) in [("shopify.db", "previous-shopify.sql"), ("lummmen.db", "previous-lummmen.sql")] {
        let conn = rusqlite::Connection::open(dir.0.join(file)).expect("create");
        // As the sqlite3 shell restores a dump: foreign keys unchecked while
        // tables come in alphabetical order.
        conn.execute_batch("PRAGMA foreign_keys = OFF").expect("pragma");
        conn.execute_batch(&fixture(dump)).expect("restore the dump");
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
        assert_eq!(version, 0, "the old files have no schema version");
    }
    let store = meta::open(None, &dir.0).await.expect("open and migrate");
    check_upgraded(store.as_ref()).await;
    for file in ["shopify.db", "lummmen.db"] {
        let conn = rusqlite::Connection::open(dir.0.join(file)).expect("open");
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("version");
        assert_eq!(version, 2, "{file} is at the newest version");
    }
    // Opening again applies nothing twice.
    drop(store);
    let store = meta::open(None, &dir.0).await.expect("reopen");
    check_upgraded(store.as_ref()).await;
}

#[tokio::test]
async fn a_postgres_database_at_version_one_upgrades_without_loss() {
    let url = postgres_database("meta_upgrade_pg").await;
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    let task = tokio::spawn(conn);
    client.batch_execute(&fixture("postgres-v1.sql")).await.expect("restore the dump");
    drop(client);
    let _ = task.await;

    let dir = TempDir::new("meta-upgrade-pg");
    let store = meta::postgres::PgMeta::connect(&url).await.expect("connect and migrate");
    assert_eq!(store.schema_version().await.expect("version"), meta::migrations::POSTGRES.len() as i64);
    check_upgraded(&store as &dyn MetaStore).await;
    // Version 2's unique index is there: a second ticket for the same
    // delivery id is a duplicate even once the delivery id is forgotten.
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
    let task = tokio::spawn(conn);
    client.execute("DELETE FROM webhook_deliveries", &[]).await.expect("forget deliveries");
    drop(client);
    let _ = task.await;
    let shop = "old-shop.myshopify.com";
    let body = json!({"shop_domain": shop, "customer": {"id": 42}});
    let d = Delivery {
        webhook_id: "old-delivery".into(),
        topic: "customers/data_request".into(),
        shop: shop.into(),
    };
    let t = NewTicket::of("customers/data_request", &body.to_string(), &body, 1);
    assert_eq!(store.apply_webhook(d, WebhookEffect::Ticket(t)).await.expect("apply"), Applied::Duplicate);
    drop(dir);
}
