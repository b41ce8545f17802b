//! The metadata store's contract, run against both backends: the embedded
//! SQLite files and PostgreSQL (a fresh database per test). Then what only a
//! shared database must hold: two instances on one PostgreSQL database
//! (two stores, two pools) racing on the same delivery, OAuth state, refresh
//! and project id.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{postgres_database, TempDir};
use lummmen_server::meta::{self, Applied, Delivery, MetaError, MetaStore, Sealed, SealedSet, WebhookEffect};
use lummmen_server::projects::Project;
use lummmen_server::shopify::orders;
use lummmen_server::shopify::tickets::NewTicket;
use serde_json::json;

/// Both backends, each fresh; the directory lives as long as the stores.
async fn backends(name: &str) -> (TempDir, Vec<Arc<dyn MetaStore>>) {
    let dir = TempDir::new(name);
    let sqlite = meta::open(None, &dir.0).await.expect("sqlite");
    let url = postgres_database(name).await;
    let pg = meta::open(Some(&url), &dir.0).await.expect("postgres");
    (dir, vec![sqlite, pg])
}

fn project(id: u32, shops: &[&str]) -> Project {
    Project { id, name: format!("P{id}"), sample: 40, shops: shops.iter().map(|s| s.to_string()).collect() }
}

fn delivery(id: &str, topic: &str, shop: &str) -> Delivery {
    Delivery { webhook_id: id.into(), topic: topic.into(), shop: shop.into() }
}

fn set(access: &str, refresh: Option<&str>, expires: Option<i64>) -> SealedSet {
    SealedSet {
        access: access.into(),
        refresh: refresh.map(String::from),
        access_expires_at: expires,
        refresh_expires_at: expires.map(|e| e + 1000),
        scopes: "read_orders".into(),
        now: 1,
    }
}

fn order(topic: &str, body: serde_json::Value) -> WebhookEffect {
    WebhookEffect::Order(
        orders::parse(topic, body.to_string().as_bytes()).expect("order topic").expect("valid"),
    )
}

#[tokio::test]
async fn projects_behave_the_same_on_both_backends() {
    let (_dir, stores) = backends("meta_projects").await;
    for s in &stores {
        let name = s.name();
        let p = project(7, &["seven.myshopify.com"]);
        s.upsert_project(&p).await.expect("upsert");
        assert_eq!(s.project(7).await.expect("get"), Some(p.clone()), "{name}");
        assert_eq!(s.project_of_shop("seven.myshopify.com").await.expect("find"), Some(p.clone()), "{name}");
        assert_eq!(s.project_of_shop("other.myshopify.com").await.expect("find"), None, "{name}");
        let created = s.create_project("Next", 10, &["next.myshopify.com".into()]).await.expect("create");
        assert_eq!(created.id, 8, "{name}: one more than the largest id");
        assert!(matches!(
            s.upsert_project(&project(9, &["seven.myshopify.com"])).await,
            Err(MetaError::ShopTaken { project: 7, .. })
        ));
        assert!(matches!(
            s.upsert_project(&Project { sample: 101, ..p.clone() }).await,
            Err(MetaError::Sample(101))
        ));
        assert!(matches!(
            s.upsert_project(&project(9, &["https://x.myshopify.com"])).await,
            Err(MetaError::Shop(_))
        ));
        assert!(!s.ensure_project(&project(7, &[])).await.expect("ensure"), "{name}: an existing id is kept");
        assert_eq!(s.project(7).await.expect("get"), Some(p.clone()), "{name}: ensure changed nothing");
        assert_eq!(s.projects().await.expect("list").iter().map(|p| p.id).collect::<Vec<_>>(), [7, 8]);

        assert_eq!(s.retention_months(7).await.expect("default"), lummmen_server::retention::DEFAULT_MONTHS);
        s.set_retention_months(7, 3).await.expect("set");
        assert!(matches!(s.set_retention_months(7, 0).await, Err(MetaError::Retention(0))));
        assert!(matches!(s.set_retention_months(99, 3).await, Err(MetaError::NotFound(99))));
        assert_eq!(s.retention_months(7).await.expect("set"), 3, "{name}");

        // Moving a shop: the project's list is replaced.
        s.upsert_project(&project(7, &["seven.myshopify.com", "b.myshopify.com"])).await.expect("add shop");
        assert_eq!(s.project_of_shop("b.myshopify.com").await.expect("find").map(|p| p.id), Some(7));
        assert!(s.delete_project(7).await.expect("delete"), "{name}");
        assert!(!s.delete_project(7).await.expect("again"), "{name}");
        assert_eq!(s.project_of_shop("b.myshopify.com").await.expect("gone"), None, "{name}: shops go too");
        assert_eq!(
            s.retentions().await.expect("retentions"),
            vec![(8, lummmen_server::retention::DEFAULT_MONTHS)]
        );

        // Shops onboarding at once get a project each, every shop on its own.
        let creates = (0..8).map(|n| {
            let store = Arc::clone(s);
            tokio::spawn(async move {
                let shop = format!("race{n}.myshopify.com");
                store.create_project("Race", 100, std::slice::from_ref(&shop)).await.map(|p| (shop, p.id))
            })
        });
        let mut made = Vec::new();
        for task in creates.collect::<Vec<_>>() {
            made.push(task.await.expect("task").expect("create"));
        }
        assert_eq!(made.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(), 8, "{name}: {made:?}");
        for (shop, id) in &made {
            assert_eq!(s.project_of_shop(shop).await.expect("find").map(|p| p.id), Some(*id), "{name}");
        }
    }
}

#[tokio::test]
async fn shops_tokens_and_oauth_states_behave_the_same_on_both_backends() {
    let (_dir, stores) = backends("meta_shops").await;
    let shop = "a.myshopify.com";
    for s in &stores {
        let name = s.name();
        assert_eq!(s.tokens(shop).await.expect("none"), None);
        s.save_install(shop, "sealed-1", "write_pixels").await.expect("install");
        let row = s.shop(shop).await.expect("shop").expect("row");
        assert_eq!(
            (row.sealed_token.as_deref(), row.status.as_str()),
            (Some("sealed-1"), "installed"),
            "{name}"
        );
        let t = s.tokens(shop).await.expect("tokens").expect("some");
        assert_eq!((t.access.as_str(), t.access_expires_at, t.refresh), ("sealed-1", None, None), "{name}");

        s.save_exchanged(shop, &set("a2", Some("r2"), Some(5000))).await.expect("exchange");
        let t = s.tokens(shop).await.expect("tokens").expect("some");
        assert_eq!(
            (t.access.as_str(), t.refresh.as_deref(), t.refresh_expires_at),
            ("a2", Some("r2"), Some(6000))
        );
        assert_eq!(s.sealed_refresh(shop).await.expect("refresh").as_deref(), Some("r2"), "{name}");
        s.save_refreshed(shop, &set("a3", Some("r3"), Some(9000))).await.expect("refreshed");
        assert_eq!(s.tokens(shop).await.expect("t").expect("some").access, "a3", "{name}");
        assert!(s.reseal(shop, Sealed::Access, "a3", "a3'").await.expect("reseal access"), "{name}");
        assert!(s.reseal(shop, Sealed::Refresh, "r3", "r3'").await.expect("reseal refresh"), "{name}");
        // A token replaced meanwhile (a refresh on another instance) stays.
        assert!(!s.reseal(shop, Sealed::Refresh, "r3", "stale").await.expect("reseal"), "{name}");
        let t = s.tokens(shop).await.expect("tokens").expect("some");
        assert_eq!((t.access.as_str(), t.refresh.as_deref()), ("a3'", Some("r3'")), "{name}");
        assert_eq!(s.shops().await.expect("shops").len(), 1);

        // An uninstall drops the tokens; a refresh finishing afterwards must
        // not bring them back.
        let gone = s.apply_webhook(delivery("u1", "app/uninstalled", shop), WebhookEffect::Uninstalled).await;
        assert_eq!(gone.expect("uninstall"), Applied::Uninstalled);
        s.save_refreshed(shop, &set("late", Some("late"), Some(1))).await.expect("late refresh");
        assert_eq!(s.tokens(shop).await.expect("tokens"), None, "{name}");
        s.save_exchanged(shop, &set("a4", None, None)).await.expect("exchange again");
        s.clear_tokens(shop).await.expect("clear");
        assert_eq!(s.tokens(shop).await.expect("cleared"), None, "{name}");

        s.put_state("n1", shop, 600).await.expect("state");
        assert!(!s.take_state("n1", "b.myshopify.com", 600).await.expect("other shop"), "{name}");
        assert!(s.take_state("n1", shop, 600).await.expect("take"), "{name}");
        assert!(!s.take_state("n1", shop, 600).await.expect("twice"), "{name}: a state is taken once");
        s.put_state("n2", shop, 600).await.expect("state");
        assert!(!s.take_state("n2", shop, -1).await.expect("expired"), "{name}: past its lifetime");
    }
}

#[tokio::test]
async fn webhooks_tickets_and_orders_behave_the_same_on_both_backends() {
    let (_dir, stores) = backends("meta_webhooks").await;
    let shop = "a.myshopify.com";
    for s in &stores {
        let name = s.name();
        let body = json!({"shop_domain": shop, "customer": {"id": 191167, "email": "j@example.com"},
                          "orders_requested": [299938]});
        let ticket = |id: &str| {
            let t = NewTicket::of("customers/data_request", &body.to_string(), &body, 1_000);
            (delivery(id, "customers/data_request", shop), WebhookEffect::Ticket(t))
        };
        let (d, e) = ticket("w1");
        let Applied::Ticket(id) = s.apply_webhook(d, e).await.expect("ticket") else {
            panic!("{name}: a ticket")
        };
        let (d, e) = ticket("w1");
        assert_eq!(s.apply_webhook(d, e).await.expect("again"), Applied::Duplicate, "{name}");
        let email_only = json!({"shop_domain": shop, "customer": {"email": "j@example.com"}});
        let t = NewTicket::of("customers/redact", &email_only.to_string(), &email_only, 2_000);
        let closed =
            s.apply_webhook(delivery("w2", "customers/redact", shop), WebhookEffect::Ticket(t)).await;
        let Applied::Ticket(closed) = closed.expect("email only") else { panic!("{name}: a ticket") };

        let listed = s.tickets(Some(shop)).await.expect("list");
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [closed, id], "{name}: newest first");
        assert_eq!(listed[0].status, "unfulfillable");
        assert_eq!(listed[0].body, json!({"shop_domain": shop, "customer": {}}), "{name}: no email kept");
        assert_eq!(s.tickets(Some("b.myshopify.com")).await.expect("none").len(), 0);
        assert_eq!(s.tickets(None).await.expect("all").len(), 2);
        s.set_ticket_outcome(id, "fulfilled", &json!({"rows": 3})).await.expect("outcome");
        let t = s.ticket(id).await.expect("get").expect("some");
        assert_eq!((t.status.as_str(), t.outcome), ("fulfilled", Some(json!({"rows": 3}))), "{name}");
        assert!(s.resolve_ticket(id, "ops@example.com").await.expect("resolve"), "{name}");
        assert!(!s.resolve_ticket(id, "ops@example.com").await.expect("twice"), "{name}");
        let t = s.ticket(id).await.expect("get").expect("some");
        assert_eq!((t.status.as_str(), t.resolver.as_deref()), ("resolved", Some("ops@example.com")));
        assert_eq!(t.body["customer"], json!({"id": 191167}), "{name}: resolved tickets keep no email");

        s.save_install(shop, "x", "read_orders").await.expect("install");
        let scopes =
            s.apply_webhook(delivery("w3", "app/scopes_update", shop), WebhookEffect::Scopes("a,b".into()));
        assert_eq!(scopes.await.expect("scopes"), Applied::ScopesUpdated);
        assert_eq!(s.shop(shop).await.expect("shop").expect("row").scopes, "a,b", "{name}");
        let nothing = s.apply_webhook(delivery("w4", "products/update", shop), WebhookEffect::Nothing).await;
        assert_eq!(nothing.expect("ignored"), Applied::Ignored);

        let paid = |n: u64, at: &str| {
            order(
                orders::ORDERS_PAID,
                json!({"id": n, "processed_at": at, "total_price": "10.50", "currency": "EUR"}),
            )
        };
        let new = s.apply_webhook(delivery("o1", "orders/paid", shop), paid(1, "2026-11-02T10:00:00Z")).await;
        assert_eq!(new.expect("paid"), Applied::Order { new: true });
        let again =
            s.apply_webhook(delivery("o2", "orders/paid", shop), paid(1, "2026-11-02T10:00:00Z")).await;
        assert_eq!(again.expect("paid again"), Applied::Order { new: false }, "{name}: one order once");
        s.apply_webhook(delivery("o3", "orders/paid", shop), paid(2, "2026-11-03T10:00:00Z"))
            .await
            .expect("paid");
        let refund = order(
            orders::REFUNDS_CREATE,
            json!({"id": 70, "order_id": 1, "created_at": "2026-11-04T10:00:00Z",
                   "transactions": [{"kind": "refund", "status": "success", "amount": "3.30", "currency": "EUR"}]}),
        );
        assert_eq!(
            s.apply_webhook(delivery("o4", "refunds/create", shop), refund).await.expect("refund"),
            Applied::Order { new: true }
        );
        let (from, to) = (1_793_491_200_000, 1_794_096_000_000); // 2026-11-01 .. 2026-11-08 UTC
        let window = s.orders_in(&[shop.to_string()], from, to).await.expect("window");
        let summary = orders::summary(&window, &HashSet::from(["gid://shopify/Order/2".to_string()]));
        assert_eq!((summary.orders, summary.seen_by_pixel), (2, 1), "{name}");
        assert_eq!(summary.revenue[0].amount, 21.0);
        assert_eq!(summary.refunds[0].amount, 3.3);
        let exported = s.export_orders(shop, &["gid://shopify/Order/1".into()]).await.expect("export");
        assert_eq!((exported.orders.len(), exported.refunds.len()), (1, 1), "{name}");
        assert_eq!(s.redact_orders(shop, &["1".into()]).await.expect("redact"), 2, "{name}");

        s.put_state("n", shop, 600).await.expect("state");
        s.forget_shop(shop).await.expect("forget");
        assert_eq!(s.shop(shop).await.expect("shop"), None, "{name}");
        assert!(!s.take_state("n", shop, 600).await.expect("state gone"), "{name}");
        assert_eq!(s.orders_in(&[shop.to_string()], from, to).await.expect("w").orders.len(), 0, "{name}");
        let (d, e) = ticket("w1");
        assert!(matches!(
            s.apply_webhook(d, e).await.expect("a delivery id forgotten"),
            Applied::Ticket(_) | Applied::Duplicate
        ));
        assert!(s.tickets(Some(shop)).await.expect("audit trail").len() >= 2, "{name}: tickets stay");
    }
}

/// Two stores on one database: two server instances.
async fn two_instances(name: &str) -> (Arc<dyn MetaStore>, Arc<dyn MetaStore>) {
    let url = postgres_database(name).await;
    let dir = TempDir::new(name);
    // Both start at once: the migrations run once, under their lock.
    let (a, b) = tokio::join!(meta::open(Some(&url), &dir.0), meta::open(Some(&url), &dir.0));
    (a.expect("instance a"), b.expect("instance b"))
}

#[tokio::test]
async fn one_delivery_makes_one_ticket_across_instances() {
    let (a, b) = two_instances("meta_race_ticket").await;
    let body = json!({"shop_domain": "a.myshopify.com", "customer": {"id": 5}});
    let mut tasks = Vec::new();
    for n in 0..10 {
        let store = if n % 2 == 0 { Arc::clone(&a) } else { Arc::clone(&b) };
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let t = NewTicket::of("customers/redact", &body.to_string(), &body, 1);
            store
                .apply_webhook(
                    delivery("same", "customers/redact", "a.myshopify.com"),
                    WebhookEffect::Ticket(t),
                )
                .await
        }));
    }
    let mut tickets = 0;
    for t in tasks {
        match t.await.expect("task").expect("applied") {
            Applied::Ticket(_) => tickets += 1,
            Applied::Duplicate => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(tickets, 1);
    assert_eq!(a.tickets(None).await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_state_a_project_id_and_a_refresh_turn_hold_across_instances() {
    let (a, b) = two_instances("meta_race_state").await;
    let shop = "a.myshopify.com";
    a.put_state("nonce", shop, 600).await.expect("put on a");
    let (ta, tb) = tokio::join!(a.take_state("nonce", shop, 600), b.take_state("nonce", shop, 600));
    assert_eq!([ta.expect("a"), tb.expect("b")].iter().filter(|t| **t).count(), 1, "taken once");
    b.put_state("nonce2", shop, 600).await.expect("put on b");
    assert!(a.take_state("nonce2", shop, 600).await.expect("take on a"), "a state from b is good on a");

    // Two shops onboarding at once through two instances get two ids.
    let (shops_a, shops_b) = (["a.myshopify.com".to_string()], ["b.myshopify.com".to_string()]);
    let (pa, pb) = tokio::join!(a.create_project("A", 100, &shops_a), b.create_project("B", 100, &shops_b));
    let ids: HashSet<u32> = [pa.expect("a").id, pb.expect("b").id].into();
    assert_eq!(ids.len(), 2);
    // Edits and onboardings at once, through both instances: no deadlock,
    // no error, every project kept.
    for n in 0..10u32 {
        let edited = project(1 + n % 2, &[]);
        let shops = [format!("s{n}.myshopify.com")];
        let (edit, create) = tokio::join!(a.upsert_project(&edited), b.create_project("C", 1, &shops));
        edit.expect("edit");
        create.expect("create");
    }
    assert_eq!(b.projects().await.expect("list").len(), 12);

    // The refresh turn: b waits while a holds it, and gets it once a lets go.
    let held = a.refresh_flight(shop).await.expect("a's turn");
    let b2 = Arc::clone(&b);
    let waiting = tokio::spawn(async move { b2.refresh_flight("a.myshopify.com").await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "b must wait while a holds the shop's turn");
    // Another shop is not held up.
    let other = tokio::time::timeout(Duration::from_secs(30), b.refresh_flight("b.myshopify.com")).await;
    drop(other.expect("another shop's turn is free").expect("turn"));
    drop(held);
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("b gets the turn")
        .expect("task")
        .expect("turn");
}
