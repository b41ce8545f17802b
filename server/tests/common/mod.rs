//! Helpers shared by the server's integration tests: paths, temporary data
//! directories, the test ClickHouse, realistic batches.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use protocol::{Batch, CartLine, CheckoutCompleted, Click, Event, MoveBatch, PageView, Product};

pub fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("lummmen-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The test ClickHouse (`scripts/clickhouse.sh start` prints it; the test command
/// exports it). Missing is a failure, not a skip.
pub fn clickhouse_url() -> String {
    std::env::var("LUMMMEN_TEST_CLICKHOUSE_URL").expect(
        "LUMMMEN_TEST_CLICKHOUSE_URL is not set: start ClickHouse with `scripts/clickhouse.sh start` \
         and export the URL it prints (scripts/test.sh does both)",
    )
}

/// A database name of its own for each test, so tests never see each other's rows.
pub fn unique_database(name: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("lummmen_test_{name}_{}_{n}_{}", std::process::id(), nanos % 1_000_000_000)
}

/// A 16-hex-digit id from a number.
pub fn hex16(n: u64) -> String {
    format!("{n:016x}")
}

pub fn product(sku: &str) -> Product {
    Product {
        product_id: Some("gid://shopify/Product/1".into()),
        variant_id: Some("gid://shopify/ProductVariant/11".into()),
        sku: Some(sku.into()),
        title: "Tee".into(),
        variant_title: Some("M".into()),
        price: 19.99,
        category: Some("Shirts".into()),
        currency: Some("EUR".into()),
    }
}

/// A page view, a click on it, some mouse moves: what the tracker sends first.
pub fn page_batch(site: u32, visitor: &str, batch: u64, events: usize) -> Batch {
    let t = 1_763_800_000_000 + batch * 1000;
    let mut e = vec![Event::PageView(PageView {
        time: t,
        url: format!("https://demo-shop.myshopify.com/products/p{}", batch % 7),
        referrer: "https://demo-shop.myshopify.com/".into(),
        title: "Product".into(),
        viewport_width: 1280,
        viewport_height: 720,
        screen_width: 1920,
        screen_height: 1080,
        tz_offset_min: -60,
        doc_width: 1280,
        doc_height: 3000,
    })];
    for i in 1..events {
        let i64_ = i as i32;
        e.push(if i % 3 == 0 {
            Event::Moves(MoveBatch {
                time: t + i as u64,
                points: vec![[i64_, 2 * i64_, 0], [i64_ + 5, 2 * i64_ + 3, 40]],
            })
        } else {
            Event::Click(Click {
                time: t + i as u64,
                x: 100 + i64_,
                y: 1200 + i64_,
                cx: 100 + i64_,
                cy: 400,
                since_page_view_ms: i as u64,
                button: 0,
                tag: "a".into(),
                element_id: Some("buy".into()),
                classes: vec!["btn".into(), "primary".into()],
                selector: "#buy".into(),
                href: Some("/cart".into()),
                rage: i % 5 == 0,
                rel_x: None,
                rel_y: None,
                viewport_width: None,
                dead: false,
            })
        });
    }
    Batch {
        site_id: site,
        visitor_id: visitor.into(),
        batch_id: hex16(batch),
        sent_at: t + 5000,
        session_id: Some(hex16(batch / 10 + 0xaa00)),
        page_view_id: Some(hex16(batch + 0xbb00)),
        dropped: 0,
        events: e,
    }
}

/// A pixel batch with a completed checkout naming an order and a customer.
pub fn checkout_batch(site: u32, visitor: &str, batch: u64, order: &str, customer: Option<&str>) -> Batch {
    Batch {
        site_id: site,
        visitor_id: visitor.into(),
        batch_id: hex16(batch),
        sent_at: 1_763_800_200_000,
        session_id: None,
        page_view_id: None,
        dropped: 0,
        events: vec![Event::CheckoutCompleted(CheckoutCompleted {
            time: 1_763_800_190_000,
            url: "https://demo-shop.myshopify.com/checkouts/c/abc/thank-you".into(),
            order_id: Some(order.into()),
            customer_id: customer.map(str::to_string),
            currency: "EUR".into(),
            total: 45.58,
            subtotal: 39.98,
            tax: 7.6,
            shipping: 5.0,
            discounts: 7.0,
            items: vec![CartLine { quantity: 2, product: product("TEE-M") }],
        })],
    }
}

/// Posts a batch as a beacon would (`text/plain`); answers the status.
pub async fn post(client: &reqwest::Client, base: &str, batch: &Batch) -> reqwest::StatusCode {
    client
        .post(format!("{base}/collect"))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(serde_json::to_vec(batch).expect("json"))
        .send()
        .await
        .expect("post")
        .status()
}

/// One sample's value from the server's `/metrics`, by its name with labels
/// (`lummmen_drained_batches_total{source="memory"}`).
pub async fn metric(base: &str, name: &str) -> u64 {
    let text = reqwest::get(format!("{base}/metrics")).await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

/// A private ClickHouse server (its own config, data under `dir`, loopback on
/// `port`), for tests that stop and restart it; the shared test instance is
/// never stopped. Killed on drop.
#[derive(Debug)]
pub struct PrivateClickHouse {
    pub port: u16,
    dir: PathBuf,
    /// More of the server's config (e.g. a cluster's `remote_servers`).
    extra: String,
    child: Option<std::process::Child>,
}

impl PrivateClickHouse {
    pub fn start(dir: &Path, port: u16) -> Self {
        Self::start_with(dir, port, "")
    }

    /// Starts a server with `extra` in its config.
    pub fn start_with(dir: &Path, port: u16, extra: &str) -> Self {
        let mut ch = Self { port, dir: dir.to_path_buf(), extra: extra.to_string(), child: None };
        ch.restart();
        ch
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again, on the same data) and waits for `/ping`.
    pub fn restart(&mut self) {
        let d = &self.dir;
        for sub in ["data/tmp", "log", "user_files"] {
            std::fs::create_dir_all(d.join(sub)).expect("clickhouse dirs");
        }
        let config = format!(
            r#"<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog><size>10M</size><count>1</count></logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{port}</http_port>
    <tcp_port>{tcp}</tcp_port>
    <max_connections>64</max_connections>
    <max_concurrent_queries>32</max_concurrent_queries>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <mark_cache_size>67108864</mark_cache_size>
    <path>{d}/data/</path>
    <tmp_path>{d}/data/tmp/</tmp_path>
    <user_files_path>{d}/user_files/</user_files_path>
    <users_config>/etc/clickhouse-server/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    {extra}
</yandex>"#,
            d = d.display(),
            port = self.port,
            tcp = self.port + 1,
            extra = self.extra
        );
        std::fs::write(d.join("config.xml"), config).expect("clickhouse config");
        let child = std::process::Command::new("clickhouse-server")
            .arg(format!("--config-file={}", d.join("config.xml").display()))
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("clickhouse-server must be installed (scripts/setup.sh --test)");
        self.child = Some(child);
        let url = format!("{}/ping", self.url());
        // Up to a minute: after a SIGKILL the server checks its parts first,
        // and the machine may be busy with the rest of the suite.
        for _ in 0..600 {
            if std::process::Command::new("curl")
                .args(["-fsS", &url])
                .output()
                .is_ok_and(|o| o.status.success())
            {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("private ClickHouse on port {} exited ({status}): {}", self.port, self.error_log());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("private ClickHouse on port {} did not start: {}", self.port, self.error_log());
    }

    /// The end of the server's error log, for a failure message (the
    /// directory goes with the test).
    fn error_log(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("log/error.log")).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Kills the server at once (SIGKILL) and waits for it to be gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server (`SIGSTOP`) without closing its sockets: connections
    /// are still taken by the kernel, and nothing answers them, as with a
    /// server that hangs. [`Self::resume`] goes on.
    pub fn pause(&self) {
        self.signal("STOP");
    }

    pub fn resume(&self) {
        self.signal("CONT");
    }

    fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("a running server").id().to_string();
        let sent = std::process::Command::new("kill").args([&format!("-{name}"), &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{name} {pid}");
    }
}

impl Drop for PrivateClickHouse {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Debian's ZooKeeper start script (package `zookeeper`).
const ZK_SERVER: &str = "/usr/share/zookeeper/bin/zkServer.sh";

/// Whether Debian's ZooKeeper is installed (`scripts/setup.sh --test`).
pub fn zookeeper_installed() -> bool {
    Path::new(ZK_SERVER).exists()
}

/// A private ZooKeeper (standalone, data under `dir`, loopback on `port`),
/// for replicated ClickHouse tables. Killed on drop.
#[derive(Debug)]
pub struct PrivateZooKeeper {
    pub port: u16,
    child: std::process::Child,
}

impl PrivateZooKeeper {
    pub fn start(dir: &Path) -> Self {
        let port = server_ports();
        std::fs::create_dir_all(dir.join("data")).expect("zookeeper dirs");
        let config = format!(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n",
            dir.join("data").display()
        );
        std::fs::write(dir.join("zoo.cfg"), config).expect("zookeeper config");
        let child = std::process::Command::new(ZK_SERVER)
            .args(["start-foreground", &dir.join("zoo.cfg").display().to_string()])
            .env("ZOO_LOG_DIR", dir)
            .env("ZOOCFGDIR", dir)
            .stdout(std::fs::File::create(dir.join("out.log")).expect("zookeeper log"))
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("zookeeper must be installed (scripts/setup.sh --test)");
        let zk = Self { port, child };
        // Up to a minute: the JVM starts slowly on a busy machine.
        for _ in 0..600 {
            if zk.ruok() {
                return zk;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("private ZooKeeper on port {port} did not start");
    }

    /// ZooKeeper's own health check: `ruok` answered `imok`.
    fn ruok(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let mut answer = String::new();
        s.write_all(b"ruok").is_ok() && s.read_to_string(&mut answer).is_ok() && answer == "imok"
    }
}

impl Drop for PrivateZooKeeper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A cluster `cluster` of two shards of two replicas each, on four private
/// servers sharing `zk`: the `{shard}` and `{replica}` macros set on each,
/// `internal_replication` on (a `Distributed` insert writes each row to one
/// replica, which replicates it). Ordered shard by shard:
/// shard 1's replicas, then shard 2's.
pub fn private_replicas(cluster: &str, zk: &PrivateZooKeeper) -> (Vec<PrivateClickHouse>, Vec<TempDir>) {
    let ports: Vec<u16> = (0..4).map(|_| server_ports()).collect();
    let replica = |p: &u16| format!("<replica><host>127.0.0.1</host><port>{}</port></replica>", p + 1);
    let shards: String = ports
        .chunks(2)
        .map(|pair| {
            let replicas: String = pair.iter().map(replica).collect();
            format!("<shard><internal_replication>true</internal_replication>{replicas}</shard>")
        })
        .collect();
    let dirs: Vec<TempDir> = ports.iter().map(|_| TempDir::new("replica")).collect();
    let servers = ports.iter().zip(&dirs).enumerate().map(|(i, (port, dir))| {
        let extra = format!(
            "<remote_servers><{cluster}>{shards}</{cluster}></remote_servers>\
             <zookeeper><node><host>127.0.0.1</host><port>{zk}</port></node></zookeeper>\
             <macros><shard>{shard}</shard><replica>r{replica}</replica></macros>\
             <interserver_http_host>127.0.0.1</interserver_http_host>\
             <interserver_http_port>{interserver}</interserver_http_port>",
            zk = zk.port,
            shard = i / 2 + 1,
            replica = i % 2 + 1,
            interserver = port + 2,
        );
        PrivateClickHouse::start_with(&dir.0, *port, &extra)
    });
    (servers.collect(), dirs)
}

/// Whether `clickhouse-server` is on the `PATH`.
pub fn clickhouse_installed() -> bool {
    std::process::Command::new("sh")
        .args(["-c", "command -v clickhouse-server"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Two private servers on free ports, the shards of `cluster` (each one's
/// `remote_servers` names both).
pub fn private_shards(cluster: &str) -> (Vec<PrivateClickHouse>, Vec<TempDir>) {
    let ports = [server_ports(), server_ports()];
    let replicas: String = ports
        .iter()
        .map(|p| format!("<shard><replica><host>127.0.0.1</host><port>{}</port></replica></shard>", p + 1))
        .collect();
    let extra = format!("<remote_servers><{cluster}>{replicas}</{cluster}></remote_servers>");
    let dirs: Vec<TempDir> = ports.iter().map(|_| TempDir::new("cluster-shard")).collect();
    let servers =
        ports.iter().zip(&dirs).map(|(port, dir)| PrivateClickHouse::start_with(&dir.0, *port, &extra));
    (servers.collect(), dirs)
}

/// The shards of a test cluster: `LUMMMEN_TEST_CLICKHOUSE_SHARDS`
/// (comma-separated HTTP URLs of cluster `LUMMMEN_TEST_CLICKHOUSE_CLUSTER`,
/// default `lummmen`), as `scripts/clickhouse.sh start-cluster` prints them and
/// `scripts/test.sh` exports them; else two private servers started here
/// (stopped on drop).
#[derive(Debug)]
pub struct TestShards {
    pub cluster: String,
    pub urls: Vec<String>,
    private: Vec<PrivateClickHouse>,
    dirs: Vec<TempDir>,
}

impl TestShards {
    /// `None`, with the reason printed, only when no shards are given and
    /// clickhouse-server is not installed.
    pub fn get() -> Option<Self> {
        let cluster = std::env::var("LUMMMEN_TEST_CLICKHOUSE_CLUSTER").unwrap_or_else(|_| "lummmen".into());
        if let Some(list) =
            std::env::var("LUMMMEN_TEST_CLICKHOUSE_SHARDS").ok().filter(|s| !s.trim().is_empty())
        {
            let urls = list.split(',').map(|u| u.trim().to_string()).collect();
            return Some(Self { cluster, urls, private: Vec::new(), dirs: Vec::new() });
        }
        if !clickhouse_installed() {
            eprintln!(
                "skipped: LUMMMEN_TEST_CLICKHOUSE_SHARDS is unset and clickhouse-server is not installed \
                 (scripts/setup.sh --test installs it; scripts/test.sh starts the shards)"
            );
            return None;
        }
        let (private, dirs) = private_shards(&cluster);
        let urls = private.iter().map(PrivateClickHouse::url).collect();
        Some(Self { cluster, urls, private, dirs })
    }

    /// The cluster as the store takes it.
    pub fn layout(&self) -> lummmen_server::store::clickhouse::Cluster {
        lummmen_server::store::clickhouse::Cluster::new(&self.cluster, &self.urls).expect("test cluster")
    }
}

/// The first of three free loopback ports (`p`, `p + 1`, `p + 2`) for a
/// private server: a ClickHouse takes its HTTP port, its TCP port after it and,
/// replicated, its interserver port after that. Taken below the kernel's
/// ephemeral range (32768 and up), where the tests' own outgoing connections
/// get their ports, so none takes `p + 1` before the server binds it; never
/// handed out twice in a process.
pub fn server_ports() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let seed = std::process::id() % 4000;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let p = 20_000 + ((seed + n) % 4000) as u16 * 3;
        if (p..p + 3).all(|q| std::net::TcpListener::bind(("127.0.0.1", q)).is_ok()) {
            return p;
        }
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Load for durability tests: `tasks` senders post 50-event batches for their
/// own visitor until `stop` turns true; answers the batches acknowledged (200).
pub async fn load_until(
    base: String,
    site: u32,
    tasks: u64,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<Batch> {
    load_until_from(base, site, 0..tasks, stop).await
}

/// [`load_until`] with the senders numbered `senders`: loads running at once
/// on several servers use distinct numbers, so their visitors and batch ids
/// differ.
pub async fn load_until_from(
    base: String,
    site: u32,
    senders: std::ops::Range<u64>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<Batch> {
    let client =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build().expect("client");
    let mut handles = Vec::new();
    for t in senders {
        let (client, base, stop) = (client.clone(), base.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let visitor = hex16(0xdead_0000 + t);
            let mut acked = Vec::new();
            let mut n = 0u64;
            while !*stop.borrow() {
                n += 1;
                let batch = page_batch(site, &visitor, (t << 32) | n, 50);
                let res = client
                    .post(format!("{base}/collect"))
                    .header("content-type", "text/plain")
                    .body(serde_json::to_vec(&batch).expect("json"))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => acked.push(batch),
                    // Refused or the server is gone: not acknowledged, so no promise.
                    _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                }
            }
            acked
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("load task"));
    }
    all
}

/// Checks that every event of every acknowledged batch is stored exactly once.
pub async fn assert_stored_exactly_once(
    store: &dyn lummmen_server::store::EventStore,
    site: u32,
    acked: &[Batch],
) {
    use std::collections::{HashMap, HashSet};
    let mut by_visitor: HashMap<&str, Vec<&Batch>> = HashMap::new();
    for b in acked {
        by_visitor.entry(&b.visitor_id).or_default().push(b);
    }
    for (visitor, batches) in by_visitor {
        let stored = store.events_for_visitor(site, visitor).await.expect("read");
        let unique: HashSet<&str> = stored.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(stored.len(), unique.len(), "duplicate events stored for visitor {visitor}");
        let by_id: HashMap<&str, &protocol::Event> =
            stored.iter().map(|s| (s.event_id.as_str(), &s.event)).collect();
        for b in batches {
            for (i, e) in b.events.iter().enumerate() {
                let id = format!("{}-{i}", b.batch_id);
                assert_eq!(
                    by_id.get(id.as_str()).copied(),
                    Some(e),
                    "acknowledged event {id} missing or changed"
                );
            }
        }
    }
}

/// One statement on one ClickHouse server (its HTTP interface), its answer
/// as text.
pub async fn clickhouse_sql(url: &str, statement: &str) -> String {
    let r = reqwest::Client::new().post(url).body(statement.to_string()).send().await.expect("clickhouse");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(status.is_success(), "{statement}: {text}");
    text.trim().to_string()
}

/// [`clickhouse_sql`] for a statement that answers one number.
pub async fn clickhouse_number(url: &str, statement: &str) -> u64 {
    let text = clickhouse_sql(url, statement).await;
    text.parse().unwrap_or_else(|_| panic!("{statement}: not a number: {text}"))
}

/// Drops a test's ClickHouse database, so the shared instance does not grow.
pub async fn drop_database(url: &str, database: &str) {
    let client = ::clickhouse::Client::default().with_url(url).with_validation(false);
    let _ = client.query(&format!("DROP DATABASE IF EXISTS {database}")).execute().await;
}

/// The test PostgreSQL server's URL (`scripts/postgres.sh start` prints it;
/// the test command exports it). Missing is a failure, not a skip.
pub fn postgres_url() -> String {
    std::env::var("LUMMMEN_TEST_POSTGRES_URL").expect(
        "LUMMMEN_TEST_POSTGRES_URL is not set: start PostgreSQL with `scripts/postgres.sh start` \
         and export the URL it prints (scripts/test.sh does both)",
    )
}

/// A new, empty PostgreSQL database for one test; answers its URL.
pub async fn postgres_database(name: &str) -> String {
    let admin = postgres_url();
    let db = unique_database(name);
    let (client, conn) =
        tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("connect to PostgreSQL");
    let task = tokio::spawn(conn);
    client.batch_execute(&format!("CREATE DATABASE {db}")).await.expect("create database");
    drop(client);
    let _ = task.await;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{db}")
}

/// Tracker batches as the browser sends them (wire JSON), for the heatmap
/// fixtures of the admin and engines tests.
pub mod wire {
    use serde_json::{json, Value};

    /// A click; `extra` adds `rx`/`ry`/`vw`/`dd`/`rg`.
    pub fn click(t: u64, x: i32, y: i32, sel: &str, extra: Value) -> Value {
        let mut c = json!({"k": "c", "t": t, "x": x, "y": y, "cx": x, "cy": y % 700, "dt": 100, "tg": "button",
                           "sel": sel});
        if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
            c.extend(extra.clone());
        }
        c
    }

    pub fn moves(t: u64, points: &[[i32; 3]]) -> Value {
        json!({"k": "m", "t": t, "p": points})
    }

    /// A batch of `events` (never empty), sent half a second after the last.
    pub fn batch(site: u32, visitor: &str, id: &str, page_view: &str, events: Vec<Value>) -> Value {
        let sent = events.iter().filter_map(|e| e["t"].as_u64()).max().unwrap_or(0) + 500;
        json!({"s": site, "v": visitor, "b": id, "t": sent, "ss": "a1b2c3d4e5f60718", "pv": page_view, "e": events})
    }
}
