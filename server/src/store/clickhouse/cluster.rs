//! Where the ClickHouse tables live: on one server, or on the shards of a
//! cluster (README, "ClickHouse cluster"). On a cluster each table is a local
//! `ReplacingMergeTree` `<name>_local` on every shard, under a `Distributed`
//! table of its own name (see [`super::schema`]). Inserts and reads go through
//! the `Distributed` tables on the server the store's URL names; inserts wait
//! until every shard has its rows (`insert_distributed_sync`), since the
//! spool forgets a batch once the store acknowledges it.
//!
//! The store reaches every shard itself for the rest, because ClickHouse
//! 18.16 offers no other way without ZooKeeper: `ON CLUSTER` DDL needs it
//! ("DDL background thread is not initialized"), and a `Distributed` table
//! takes neither mutations (`ALTER ... DELETE`: "Mutations are not supported
//! by storage Distributed") nor partition operations (`DROP PARTITION`). So
//! the tables are created, privacy deletes and retention run, on each shard's
//! local tables, through the shards' own URLs. A shard left out would keep
//! rows a delete promised to remove, so [`Layout::check`] makes sure the URLs
//! are the cluster's shards, each exactly once, before the schema is made.
//!
//! Replicated shards (`--clickhouse-replicated`) hold `ReplicatedReplacingMergeTree`
//! local tables kept in step through ZooKeeper; the URLs then name every
//! replica, since each needs its tables made. Deletes and retention still run
//! on every node: a replicated mutation issued on two replicas of a shard is
//! done twice, which is redundant but correct.

use ::clickhouse::Client;

use crate::store::StoreError;

/// A cluster as configured (`--clickhouse-cluster`, `--clickhouse-shard-url`):
/// its name in the servers' `remote_servers` and an HTTP URL of each shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    name: String,
    shard_urls: Vec<String>,
    insert_timeout_secs: u32,
    replicated: bool,
}

/// How long an insert may wait for a shard (`--clickhouse-insert-timeout-secs`'s
/// default): a shard that hangs, rather than refusing connections, would
/// otherwise hold the insert, and every batch behind it, for as long as the
/// shard hangs.
pub const DEFAULT_INSERT_TIMEOUT_SECS: u32 = 60;

impl Cluster {
    /// Checks the options: a name ClickHouse takes as given, at least one
    /// shard, each an HTTP(S) URL named once.
    pub fn new(name: &str, shard_urls: &[String]) -> Result<Self, StoreError> {
        let invalid = |why: String| Err(StoreError::Layout(why));
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) {
            return invalid(format!("invalid ClickHouse cluster name {name:?}"));
        }
        if shard_urls.is_empty() {
            return invalid(format!("cluster {name} needs the URL of each shard (--clickhouse-shard-url)"));
        }
        for (i, url) in shard_urls.iter().enumerate() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return invalid(format!("shard URL {url:?} is not an HTTP URL"));
            }
            if shard_urls[..i].contains(url) {
                return invalid(format!("shard URL {url} is given twice"));
            }
        }
        Ok(Self {
            name: name.to_string(),
            shard_urls: shard_urls.to_vec(),
            insert_timeout_secs: DEFAULT_INSERT_TIMEOUT_SECS,
            replicated: false,
        })
    }

    /// Replicated shards (`--clickhouse-replicated`): the local tables are
    /// `ReplicatedReplacingMergeTree`s, kept in step through ZooKeeper, and the
    /// URLs name every replica of every shard (each needs its tables made).
    pub fn with_replication(mut self, replicated: bool) -> Self {
        self.replicated = replicated;
        self
    }

    /// An insert that has not reached every shard after `secs` seconds fails
    /// (ClickHouse's `insert_distributed_timeout`, and `receive_timeout` and
    /// `send_timeout` for a shard that does not answer at all: see
    /// `ClickHouseStore::open`), and its batch stays in the spool to be sent
    /// again: shards that took their rows drop the replay (`FINAL` and
    /// count-distinct, as for any replay). At least 1.
    pub fn with_insert_timeout(mut self, secs: u32) -> Self {
        self.insert_timeout_secs = secs.max(1);
        self
    }

    pub fn insert_timeout_secs(&self) -> u32 {
        self.insert_timeout_secs
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn shard_urls(&self) -> &[String] {
        &self.shard_urls
    }
}

/// A server that stores rows: `base` names no database (for `CREATE
/// DATABASE`), `client` names ours.
#[derive(Clone)]
pub struct Node {
    pub url: String,
    pub base: Client,
    pub client: Client,
}

/// Where the rows are, and the names of the tables that hold them.
#[derive(Clone)]
pub struct Layout {
    /// The cluster's name; `None` on one server, whose tables hold the rows.
    cluster: Option<String>,
    /// The servers holding the rows: the one server, or every shard (every
    /// replica of every shard, when replicated).
    nodes: Vec<Node>,
    replicated: bool,
}

impl Layout {
    /// One server: the store's own.
    pub fn single(url: &str, base: &Client, client: &Client) -> Self {
        let node = Node { url: url.to_string(), base: base.clone(), client: client.clone() };
        Self { cluster: None, nodes: vec![node], replicated: false }
    }

    /// The shards of `cluster`; `client_at` makes a client (user, password,
    /// no database) for a URL.
    pub fn sharded(cluster: &Cluster, database: &str, client_at: impl Fn(&str) -> Client) -> Self {
        let nodes = cluster
            .shard_urls
            .iter()
            .map(|url| {
                let base = client_at(url);
                Node { url: url.clone(), client: base.clone().with_database(database), base }
            })
            .collect();
        Self { cluster: Some(cluster.name.clone()), nodes, replicated: cluster.replicated }
    }

    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The engine of the table holding `table`'s rows on each node. A
    /// replicated table's path in ZooKeeper names the shard (the server's
    /// `{shard}` macro), the database and the table; `{replica}` names the
    /// server among the shard's replicas.
    pub fn engine(&self, database: &str, table: &str) -> String {
        if self.replicated {
            format!("ReplicatedReplacingMergeTree('/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}')")
        } else {
            "ReplacingMergeTree".to_string()
        }
    }

    /// The name of the table holding `table`'s rows on each node.
    pub fn local(&self, table: &str) -> String {
        match self.cluster {
            Some(_) => format!("{table}_local"),
            None => table.to_string(),
        }
    }

    /// Checks, before any table is made, that the shard URLs are the
    /// cluster's shards as `entry` (the server the store queries) knows them,
    /// each exactly once, and that `entry` holds no tables of one server in
    /// `database` (a cluster's reads would go past the shards). `entry` names
    /// no database: 18.16 refuses any query naming one that does not exist.
    ///
    /// Replicated, the URLs are every replica of every shard, each once: a
    /// replica left out would have no tables for the rows sent to it.
    pub async fn check(&self, entry: &Client, database: &str) -> Result<(), StoreError> {
        let Some(name) = &self.cluster else { return Ok(()) };
        let (shards, replicas): (u64, u64) = entry
            .query("SELECT uniqExact(shard_num), count() FROM system.clusters WHERE cluster = ?")
            .bind(name)
            .fetch_one()
            .await?;
        if shards == 0 {
            return Err(StoreError::Layout(format!(
                "the ClickHouse server queried knows no cluster {name} (its remote_servers)"
            )));
        }
        let mut seen: Vec<u32> = Vec::new();
        let mut seen_replicas: Vec<(u32, String)> = Vec::new();
        for node in &self.nodes {
            // 18.16's `is_local` is the shard's (one of its replicas is this
            // server), not the replica's.
            let own: Vec<u32> = node
                .base
                .query("SELECT DISTINCT shard_num FROM system.clusters WHERE cluster = ? AND is_local")
                .bind(name)
                .fetch_all()
                .await?;
            let [shard] = own.as_slice() else {
                return Err(StoreError::Layout(format!(
                    "shard URL {} is no shard of cluster {name} (it is local to shards {own:?})",
                    node.url
                )));
            };
            if self.replicated {
                // Every replica once, told apart by its `{replica}` macro: two
                // URLs of one server would leave another replica without its
                // tables.
                let replica: Option<String> = node
                    .base
                    .query("SELECT substitution FROM system.macros WHERE macro = 'replica'")
                    .fetch_optional()
                    .await?;
                let Some(replica) = replica else {
                    return Err(StoreError::Layout(format!(
                        "shard URL {} has no {{replica}} macro, which replicated tables need",
                        node.url
                    )));
                };
                if seen_replicas.contains(&(*shard, replica.clone())) {
                    return Err(StoreError::Layout(format!(
                        "shard URL {} is replica {replica} of shard {shard} of {name} again",
                        node.url
                    )));
                }
                seen_replicas.push((*shard, replica));
                if !seen.contains(shard) {
                    seen.push(*shard);
                }
            } else if seen.contains(shard) {
                return Err(StoreError::Layout(format!(
                    "shard URL {} is shard {shard} of {name} again",
                    node.url
                )));
            } else {
                seen.push(*shard);
            }
        }
        if seen.len() as u64 != shards {
            return Err(StoreError::Layout(format!(
                "cluster {name} has {shards} shards, but {} shard URLs are given",
                seen.len()
            )));
        }
        if self.replicated && self.nodes.len() as u64 != replicas {
            return Err(StoreError::Layout(format!(
                "cluster {name} has {replicas} replicas in all, but {} shard URLs are given: \
                 a replicated cluster needs the URL of every replica",
                self.nodes.len()
            )));
        }
        for table in super::schema::TABLES {
            let engine: Option<String> = entry
                .query("SELECT engine FROM system.tables WHERE database = ? AND name = ?")
                .bind(database)
                .bind(table)
                .fetch_optional()
                .await?;
            if let Some(engine) = engine.filter(|e| e != "Distributed") {
                return Err(StoreError::Layout(format!(
                    "{database}.{table} is a {engine} table of one server, not the cluster's Distributed table; \
                     a cluster needs a database of its own"
                )));
            }
        }
        Ok(())
    }
}
