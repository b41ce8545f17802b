//! Several server instances behind one load balancer: two server processes on
//! two ports share one PostgreSQL database (the metadata store) and one
//! two-shard ClickHouse cluster (events; each instance queries through another
//! shard), each with its own data directory (spool). What a
//! merchant and Shopify see must not depend on which instance they reach.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lummmen_server::Config;
use serde_json::{json, Value};
use support::common::{
    assert_stored_exactly_once, drop_database, free_port, load_until_from, page_batch, postgres_database,
    root, unique_database, TempDir, TestShards,
};
use support::fake_shopify::FakeShopify;
use support::{openssl_hmac_b64, session_token, CLIENT_ID, OPERATOR, SECRET, SHOP, TOKEN_KEY};

/// The events' cluster and the database the test's instances share in it.
struct Events {
    shards: TestShards,
    database: String,
}

/// One server process.
struct Instance {
    base: String,
    child: Child,
    args: Vec<String>,
}

impl Instance {
    /// An instance entering the cluster through `entry`.
    fn spawn(data: &std::path::Path, database_url: &str, ch: &Events, entry: &str, shopify: &str) -> Self {
        let cluster = [
            "--clickhouse-url",
            entry,
            "--clickhouse-database",
            &ch.database,
            "--clickhouse-cluster",
            &ch.shards.cluster,
            "--clickhouse-shard-url",
            &ch.shards.urls.join(","),
        ];
        Self::spawn_with(data, database_url, &cluster, shopify)
    }

    fn spawn_with(data: &std::path::Path, database_url: &str, clickhouse: &[&str], shopify: &str) -> Self {
        let port = free_port();
        let args: Vec<String> = [
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            &data.to_string_lossy(),
            "--www-dir",
            &root().join("www").to_string_lossy(),
            "--rate-limit",
            "0",
            "--database-url",
            database_url,
            "--shopify-client-id",
            CLIENT_ID,
            "--shopify-client-secret",
            SECRET,
            "--app-url",
            "https://app.lummmen.test",
            "--shopify-base-url",
            shopify,
            "--token-key",
            TOKEN_KEY,
            "--token-key-id",
            "k1",
            "--operator-token",
            OPERATOR,
        ]
        .iter()
        .chain(clickhouse)
        .map(|s| s.to_string())
        .collect();
        let child = start(&args);
        Self { base: format!("http://127.0.0.1:{port}"), child, args }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.child = start(&self.args);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn start(args: &[String]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_lummmen-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server binary starts")
}

async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client")
}

async fn call(method: reqwest::Method, url: String, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = client().request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn deliver(base: &str, webhook_id: &str, body: &str) -> Value {
    deliver_topic(base, "customers/data_request", webhook_id, body).await
}

async fn deliver_topic(base: &str, topic: &str, webhook_id: &str, body: &str) -> Value {
    let r = client()
        .post(format!("{base}/webhooks/shopify"))
        .header("content-type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Hmac-Sha256", openssl_hmac_b64(SECRET, body.as_bytes()))
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", webhook_id)
        .body(body.to_string())
        .send()
        .await
        .expect("deliver");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

async fn sql(url: &str, statement: &str) {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    let task = tokio::spawn(conn);
    c.batch_execute(statement).await.expect("statement");
    drop(c);
    let _ = task.await;
}

const STATS: &str = "/api/stats?from=2025-11-22&to=2025-11-23&tz=UTC";

#[tokio::test]
async fn two_instances_share_shops_tickets_tokens_and_events() {
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let database = postgres_database("instances").await;
    let shards = TestShards::get().expect("two ClickHouse shards (scripts/test.sh starts them)");
    let ch = Events { shards, database: unique_database("instances") };
    let (dir_a, dir_b) = (TempDir::new("instance-a"), TempDir::new("instance-b"));
    let mut a = Instance::spawn(&dir_a.0, &database, &ch, &ch.shards.urls[0], &fake.url);
    wait_ready(&a.base).await;
    let b = Instance::spawn(&dir_b.0, &database, &ch, &ch.shards.urls[1], &fake.url);
    wait_ready(&b.base).await;

    // The merchant opens the app through A: the project is made and the
    // session token exchanged for an offline token, stored in PostgreSQL.
    let token = session_token(SHOP);
    let (status, config) =
        call(reqwest::Method::POST, format!("{}/api/config", a.base), &token, Some(json!({}))).await;
    assert_eq!(status, 200, "{config}");
    let site = config["matomoId"].as_u64().expect("site id") as u32;
    for _ in 0..200 {
        if !fake.exchanges().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(fake.exchanges().len(), 1, "one exchange, through A");
    // ...and opens it through B: the same project, and B uses A's token.
    let (status, config_b) =
        call(reqwest::Method::POST, format!("{}/api/config", b.base), &token, Some(json!({}))).await;
    assert_eq!((status, config_b["matomoId"].as_u64()), (200, Some(u64::from(site))), "{config_b}");
    let mut enabled = (0, Value::Null);
    for _ in 0..100 {
        enabled =
            call(reqwest::Method::POST, format!("{}/api/enable", b.base), &token, Some(json!({}))).await;
        if enabled.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(enabled.0, 200, "B enables with the token A stored: {}", enabled.1);
    assert_eq!(fake.exchanges().len(), 1, "B did not exchange again");

    // A compliance webhook delivered to both: one ticket.
    let body = json!({"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 191167}, "orders_requested": [1],
                      "data_request": {"id": 9}})
    .to_string();
    let (ra, rb) =
        tokio::join!(deliver(&a.base, "one-delivery", &body), deliver(&b.base, "one-delivery", &body));
    let statuses = [ra["status"].as_str(), rb["status"].as_str()];
    assert!(statuses.contains(&Some("accepted")) && statuses.contains(&Some("duplicate")), "{ra} {rb}");
    for base in [&a.base, &b.base] {
        let (_, list) = call(reqwest::Method::GET, format!("{base}/api/gdpr/tickets"), OPERATOR, None).await;
        assert_eq!(list["tickets"].as_array().map(Vec::len), Some(1), "{list}");
    }

    // The access token expires: ten concurrent calls needing it, spread over
    // both instances, spend the refresh token once.
    sql(&database, &format!("UPDATE shops SET token_expires_at = 1 WHERE shop = '{SHOP}'")).await;
    let before = fake.refreshed();
    let calls: Vec<_> = (0..10)
        .map(|n| {
            let base = if n % 2 == 0 { a.base.clone() } else { b.base.clone() };
            let token = token.clone();
            tokio::spawn(async move {
                call(reqwest::Method::POST, format!("{base}/api/enable"), &token, Some(json!({}))).await
            })
        })
        .collect();
    for c in calls {
        let (status, body) = c.await.expect("task");
        assert_eq!(status, 200, "every call gets a token: {body}");
    }
    assert_eq!(fake.refreshed() - before, 1, "one refresh across both instances");

    // Events posted half to each, then one instance killed under load: every
    // acknowledged event is stored once, and the other keeps serving.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let load_a = tokio::spawn(load_until_from(a.base.clone(), site, 0..2, stop.clone()));
    let load_b = tokio::spawn(load_until_from(b.base.clone(), site, 2..4, stop));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill();
    let down = client()
        .post(format!("{}/collect", b.base))
        .header("content-type", "text/plain")
        .body(serde_json::to_vec(&page_batch(site, "00000000000000bb", 1 << 40, 5)).expect("json"))
        .send()
        .await
        .expect("B answers while A is down");
    assert_eq!(down.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_tx.send_replace(true);
    let (acked_a, acked_b) = (load_a.await.expect("load a"), load_b.await.expect("load b"));
    assert!(
        acked_a.len() > 5 && acked_b.len() > 5,
        "both took load: {} and {}",
        acked_a.len(),
        acked_b.len()
    );
    a.restart();
    wait_ready(&a.base).await;

    let config = Config::for_tests(root(), dir_a.0.clone()).with_clickhouse_cluster(
        &ch.shards.urls[0],
        &ch.database,
        &ch.shards.cluster,
        &ch.shards.urls,
    );
    let store = lummmen_server::store::open(&config).await.expect("store");
    let mut acked: Vec<protocol::Batch> = acked_a.into_iter().chain(acked_b).collect();
    acked.push(page_batch(site, "00000000000000bb", 1 << 40, 5));
    let want: u64 = acked.iter().map(|b| b.events.len() as u64).sum();
    let mut have = 0;
    for _ in 0..600 {
        have = store.count_events(site).await.unwrap_or(0);
        if have >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(have >= want, "only {have} of {want} acknowledged events stored");
    assert_stored_exactly_once(store.as_ref(), site, &acked).await;

    // The dashboard answers the same through either instance.
    let (sa, stats_a) = call(reqwest::Method::GET, format!("{}{STATS}", a.base), &token, None).await;
    let (sb, stats_b) = call(reqwest::Method::GET, format!("{}{STATS}", b.base), &token, None).await;
    assert_eq!((sa, sb), (200, 200), "{stats_a}");
    assert!(stats_a["pageviews"].as_u64() > Some(0), "{stats_a}");
    assert_eq!(stats_a, stats_b);
    // Rows of both instances are on both shards.
    for url in &ch.shards.urls {
        let client = ::clickhouse::Client::default().with_url(url).with_validation(false);
        let sql = format!("SELECT count() FROM {}.events_local", ch.database);
        let here: u64 = client.query(&sql).fetch_one().await.expect("shard count");
        assert!(here > 0 && here < want, "{url} holds {here} of {want}");
    }
    for url in &ch.shards.urls {
        drop_database(url, &ch.database).await;
    }
}

/// A TCP proxy in front of ClickHouse that can be cut: while cut, it closes
/// every connection it has and refuses new ones, as a ClickHouse that went
/// away does for the instance behind it.
struct Cuttable {
    url: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Cuttable {
    async fn start(upstream: &str) -> Self {
        let target = upstream.trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (cut, cut_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cut_rx = cut_rx.clone();
                if *cut_rx.borrow() {
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Self { url, cut }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

/// The shop's project, made through `base`; answers its site id.
async fn onboard(base: &str, token: &str) -> u32 {
    let (status, config) =
        call(reqwest::Method::POST, format!("{base}/api/config"), token, Some(json!({}))).await;
    assert_eq!(status, 200, "{config}");
    config["matomoId"].as_u64().expect("site id") as u32
}

async fn post(base: &str, batch: &Value) {
    let r = client()
        .post(format!("{base}/collect"))
        .header("content-type", "text/plain")
        .body(batch.to_string())
        .send()
        .await
        .expect("collect");
    assert_eq!(r.status(), 200);
}

/// Two instances on one PostgreSQL and one ClickHouse, B's through a proxy
/// that can be cut; a customer whose checkout is stored, and whose page views
/// (with another visitor's) then wait in B's spool while B's ClickHouse is
/// cut.
struct Spooled {
    a: Instance,
    b: Instance,
    cuttable: Cuttable,
    site: u32,
    store: std::sync::Arc<dyn lummmen_server::store::EventStore>,
    ch: String,
    ch_db: String,
    _fake: FakeShopify,
    _dirs: (TempDir, TempDir),
}

const CUSTOMER_VISITOR: &str = "00000000000000c1";
const OTHER_VISITOR: &str = "00000000000000d1";

impl Spooled {
    async fn start(name: &str) -> Self {
        let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
        let database = postgres_database(name).await;
        let ch = support::common::clickhouse_url();
        let ch_db = unique_database(name);
        let cuttable = Cuttable::start(&ch).await;
        let dirs = (TempDir::new(&format!("{name}-a")), TempDir::new(&format!("{name}-b")));
        let a = Instance::spawn_with(
            &dirs.0 .0,
            &database,
            &["--clickhouse-url", &ch, "--clickhouse-database", &ch_db],
            &fake.url,
        );
        wait_ready(&a.base).await;
        let b = Instance::spawn_with(
            &dirs.1 .0,
            &database,
            &["--clickhouse-url", &cuttable.url, "--clickhouse-database", &ch_db],
            &fake.url,
        );
        wait_ready(&b.base).await;
        let site = onboard(&a.base, &session_token(SHOP)).await;
        let checkout = support::checkout(
            site,
            CUSTOMER_VISITOR,
            "c100000000000001",
            "gid://shopify/Order/1",
            Some("gid://shopify/Customer/191167"),
        );
        post(&a.base, &checkout).await;
        let config = Config::for_tests(root(), dirs.0 .0.clone()).with_clickhouse(&ch, &ch_db);
        let store = lummmen_server::store::open(&config).await.expect("store");
        for _ in 0..200 {
            if store.count_events(site).await.unwrap_or(0) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        cuttable.set_cut(true);
        post(&b.base, &support::page_views(site, CUSTOMER_VISITOR, "c100000000000002", 3)).await;
        post(&b.base, &support::page_views(site, OTHER_VISITOR, "d100000000000001", 2)).await;
        Self { a, b, cuttable, site, store, ch, ch_db, _fake: fake, _dirs: dirs }
    }

    /// The customer's `customers/redact`, delivered and fulfilled through A.
    async fn redact_through_a(&self, webhook_id: &str) -> (u16, Value) {
        let body =
            json!({"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 191167}, "orders_to_redact": [1]});
        let delivered = deliver_topic(&self.a.base, "customers/redact", webhook_id, &body.to_string()).await;
        let ticket = delivered["ticket"].as_i64().expect("ticket");
        let url = format!("{}/api/gdpr/tickets/{ticket}/fulfil", self.a.base);
        call(reqwest::Method::POST, url, OPERATOR, Some(json!({}))).await
    }

    /// Once B has drained: the other visitor's page views are stored, nothing
    /// of the customer is.
    async fn assert_only_the_other_visitor_stored(&self) {
        let mut other = 0;
        for _ in 0..400 {
            other = self.store.events_for_visitor(self.site, OTHER_VISITOR).await.expect("read").len();
            if other == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(other, 2, "B drained its spool");
        let left = self.store.events_for_visitor(self.site, CUSTOMER_VISITOR).await.expect("read");
        assert!(left.is_empty(), "B stored {} of the deleted customer's events", left.len());
        drop_database(&self.ch, &self.ch_db).await;
    }
}

#[tokio::test]
async fn a_privacy_deletion_reaches_what_another_instance_holds_in_its_spool() {
    let t = Spooled::start("instances_delete").await;
    // The operator fulfils the request through A while B cannot store; B's
    // storage comes back a moment later.
    let restore = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        t.cuttable.set_cut(false);
    };
    let ((status, done), ()) = tokio::join!(t.redact_through_a("redact-1"), restore);
    assert_eq!(status, 200, "{done}");
    t.assert_only_the_other_visitor_stored().await;
}

#[tokio::test]
async fn an_instance_down_during_a_deletion_applies_it_before_it_drains() {
    let mut t = Spooled::start("instances_down").await;
    // B dies with the customer's page views in its spool; the deletion
    // through A goes on without B once B's heartbeat is stale.
    t.b.kill();
    let (status, done) = t.redact_through_a("redact-down").await;
    assert_eq!(status, 200, "{done}");
    // B comes back with its storage, and drains without them.
    t.cuttable.set_cut(false);
    t.b.restart();
    wait_ready(&t.b.base).await;
    t.assert_only_the_other_visitor_stored().await;
}

/// A shop's redaction through A: B, which looked the shop's project up a
/// moment before and would keep the lookup for five minutes, refuses the
/// site's batches as soon as the redaction is done, and nothing of the site
/// is stored.
#[tokio::test]
async fn a_shop_redaction_stops_every_instance_taking_its_events() {
    let fake = FakeShopify::start(CLIENT_ID, SECRET).await;
    let database = postgres_database("instances_shop_redact").await;
    let ch = support::common::clickhouse_url();
    let ch_db = unique_database("shop_redact");
    let dirs = (TempDir::new("shop-redact-a"), TempDir::new("shop-redact-b"));
    let args = ["--clickhouse-url", &ch, "--clickhouse-database", &ch_db, "--project-cache-secs", "300"];
    let a = Instance::spawn_with(&dirs.0 .0, &database, &args, &fake.url);
    wait_ready(&a.base).await;
    let b = Instance::spawn_with(&dirs.1 .0, &database, &args, &fake.url);
    wait_ready(&b.base).await;
    let site = onboard(&a.base, &session_token(SHOP)).await;
    // B looks the project up, and keeps it.
    post(&b.base, &support::page_views(site, OTHER_VISITOR, "d100000000000001", 2)).await;

    let body = json!({"shop_id": 954889, "shop_domain": SHOP});
    let delivered = deliver_topic(&a.base, "shop/redact", "shop-redact-1", &body.to_string()).await;
    let ticket = delivered["ticket"].as_i64().expect("ticket");
    let url = format!("{}/api/gdpr/tickets/{ticket}/fulfil", a.base);
    let (status, done) = call(reqwest::Method::POST, url, OPERATOR, Some(json!({}))).await;
    assert_eq!(status, 200, "{done}");

    let late = support::page_views(site, OTHER_VISITOR, "d100000000000002", 2);
    let r = client()
        .post(format!("{}/collect", b.base))
        .header("content-type", "text/plain")
        .body(late.to_string())
        .send()
        .await
        .expect("collect");
    assert_eq!(r.status(), 404, "B still took the redacted shop's batches");
    let config = Config::for_tests(root(), dirs.0 .0.clone()).with_clickhouse(&ch, &ch_db);
    let store = lummmen_server::store::open(&config).await.expect("store");
    assert_eq!(store.count_events(site).await.expect("count"), 0);
    drop_database(&ch, &ch_db).await;
}
