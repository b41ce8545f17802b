//! Configuration from command-line flags and `LUMMMEN_*` environment variables.
//! Every option is documented here, in `--help` and in the README.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Lummmen's backend: receives tracker and pixel batches, stores them, serves the
/// merchant's admin page and a demo storefront.
#[derive(Debug, Clone, Parser)]
#[command(name = "lummmen-server", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LUMMMEN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the embedded database and the spool.
    #[arg(long, env = "LUMMMEN_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Directory of the static pages: the admin page and the demo storefront.
    #[arg(long, env = "LUMMMEN_WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,

    /// Directory of the built tracker (loader JS, glue JS, wasm), served under
    /// `/assets/` the way Shopify serves the theme app extension's assets.
    #[arg(long, env = "LUMMMEN_ASSETS_DIR", default_value = "extensions/lummmen-theme/assets")]
    pub assets_dir: PathBuf,

    /// Directory of the built web pixel bundle (`shopify app build` output), served
    /// under `/pixel/` for the pixel harness the demo storefront runs it in.
    #[arg(long, env = "LUMMMEN_PIXEL_DIR", default_value = "extensions/lummmen-pixel/dist")]
    pub pixel_dir: PathBuf,

    /// Directory of the charting library the admin page draws its dashboard
    /// with (uPlot's `dist`, installed by npm from `package-lock.json`), served
    /// under `/admin/vendor/uplot/` so the page loads nothing from a CDN.
    #[arg(long, env = "LUMMMEN_UPLOT_DIR", default_value = "node_modules/uplot/dist")]
    pub uplot_dir: PathBuf,

    /// Shopify app settings (see `crate::shopify`).
    #[command(flatten)]
    pub shopify: ShopifyOptions,

    // --- ingest (see `crate::ingest`) ---
    /// ClickHouse HTTP URL (e.g. http://127.0.0.1:8123). When unset, events go to the
    /// embedded SQLite database `<data-dir>/events.db`.
    #[arg(long, env = "LUMMMEN_CLICKHOUSE_URL")]
    pub clickhouse_url: Option<String>,

    /// ClickHouse database; created at start when missing.
    #[arg(long, env = "LUMMMEN_CLICKHOUSE_DATABASE", default_value = "lummmen")]
    pub clickhouse_database: String,

    /// ClickHouse user.
    #[arg(long, env = "LUMMMEN_CLICKHOUSE_USER")]
    pub clickhouse_user: Option<String>,

    /// ClickHouse password.
    #[arg(long, env = "LUMMMEN_CLICKHOUSE_PASSWORD", hide_env_values = true)]
    pub clickhouse_password: Option<String>,

    /// PostgreSQL URL of the metadata store (`postgres://user:password@host/db`):
    /// projects, shops and their sealed tokens, OAuth states, webhook
    /// deliveries, privacy tickets and order facts, shared by every instance
    /// given the same URL. Migrations run at start. When unset, the embedded
    /// SQLite files `<data-dir>/lummmen.db` and `<data-dir>/shopify.db`.
    #[arg(long, env = "LUMMMEN_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// ClickHouse cluster (its name in the servers' `remote_servers`) whose
    /// shards hold the events: each table is a local table on every shard
    /// under a `Distributed` table, which `--clickhouse-url` queries (README,
    /// "ClickHouse cluster"). Needs `--clickhouse-shard-url` for every shard.
    /// Unset: the tables are on the one server `--clickhouse-url` names.
    #[arg(long, env = "LUMMMEN_CLICKHOUSE_CLUSTER", requires_all = ["clickhouse_url", "clickhouse_shard_urls"])]
    pub clickhouse_cluster: Option<String>,

    /// HTTP URL of every shard of `--clickhouse-cluster`, each once (repeat the
    /// flag, or comma-separated): the tables are made, and privacy deletes and
    /// retention run, on each shard's own tables, which a `Distributed`
    /// table does not reach.
    #[arg(
        long = "clickhouse-shard-url",
        env = "LUMMMEN_CLICKHOUSE_SHARD_URLS",
        value_delimiter = ',',
        requires = "clickhouse_cluster"
    )]
    pub clickhouse_shard_urls: Vec<String>,

    /// The shards of `--clickhouse-cluster` are replicated (README,
    /// "ClickHouse cluster"): the local tables are made as
    /// `ReplicatedReplacingMergeTree`s, which needs ZooKeeper and the `{shard}`
    /// and `{replica}` macros on every server, and `--clickhouse-shard-url`
    /// names every replica of every shard.
    #[arg(long, env = "LUMMMEN_CLICKHOUSE_REPLICATED", requires = "clickhouse_cluster")]
    pub clickhouse_replicated: bool,

    /// Seconds an insert into `--clickhouse-cluster` may wait for a shard
    /// before it fails and its batch stays spooled, to be sent again: a shard
    /// that hangs instead of refusing connections would otherwise hold every
    /// insert behind it.
    #[arg(
        long,
        env = "LUMMMEN_CLICKHOUSE_INSERT_TIMEOUT_SECS",
        default_value_t = crate::store::clickhouse::DEFAULT_INSERT_TIMEOUT_SECS,
        value_parser = clap::value_parser!(u32).range(1..=3600)
    )]
    pub clickhouse_insert_timeout_secs: u32,

    /// At start, create the demo project (site id 1, "Demo shop", sample 100) when
    /// no project has id 1; `scripts/run.sh` passes it so the demo storefront works.
    #[arg(long, env = "LUMMMEN_SEED_DEMO")]
    pub seed_demo: bool,

    /// Development only: `GET /api/dev/session-token` mints session tokens for the
    /// demo shop (linked to the demo project) with the configured client secret,
    /// so the admin page works outside the Shopify admin. `scripts/run.sh` sets it;
    /// never set it in production.
    #[arg(long, env = "LUMMMEN_DEV_SESSION_TOKENS")]
    pub dev_session_tokens: bool,

    /// Largest accepted request body on /collect, in bytes, as sent (compressed or not).
    #[arg(long, env = "LUMMMEN_MAX_BODY_BYTES", default_value_t = 256 * 1024)]
    pub max_body_bytes: usize,

    /// Largest body after gzip decompression, in bytes; a body that expands more
    /// than 100-fold is refused as well.
    #[arg(long, env = "LUMMMEN_MAX_DECODED_BYTES", default_value_t = 1024 * 1024)]
    pub max_decoded_bytes: usize,

    /// Largest spool (accepted batches not yet stored), in bytes; past it /collect
    /// answers 503 with Retry-After.
    #[arg(long, env = "LUMMMEN_SPOOL_MAX_BYTES", default_value_t = 1 << 30)]
    pub spool_max_bytes: u64,

    /// Most events per storage insert; the drainer groups spooled batches up to
    /// it. ClickHouse wants few large inserts (each makes parts to merge); rows
    /// are made while they are written, so a large insert costs little memory.
    #[arg(long, env = "LUMMMEN_INSERT_MAX_EVENTS", default_value_t = 50_000)]
    pub insert_max_events: usize,

    /// Least time between the starts of two storage inserts while less than a
    /// whole insert waits, in milliseconds (0: insert whatever waits as soon as
    /// the last insert is done). ClickHouse does much more work per row for
    /// many small inserts than for fewer large ones. A backlog of a whole
    /// insert or more, when the drainer looks, is not held back.
    #[arg(long, env = "LUMMMEN_INSERT_LINGER_MS", default_value_t = 250)]
    pub insert_linger_ms: u64,

    /// Parsed batches kept in memory for the drainer, in bytes of their JSON
    /// (the parsed form takes about three times that), so a batch is parsed
    /// once; batches past it are parsed again from the spool. Default: what one
    /// insert reads, `insert_max_events` × 150 bytes, at least 64 KB. 0 turns the
    /// handoff off.
    #[arg(long, env = "LUMMMEN_HANDOFF_MAX_BYTES")]
    pub handoff_max_bytes: Option<usize>,

    /// Requests per second allowed per site and client address (0 disables the
    /// limit); bursts up to twice that. Past it /collect answers 429 with Retry-After.
    #[arg(long, env = "LUMMMEN_RATE_LIMIT", default_value_t = 20)]
    pub rate_limit: u32,

    /// Seconds an instance reuses a project lookup on the ingest path. An
    /// edit made through the instance applies there at once; one made through
    /// another instance sharing the database (a sample change) within this
    /// bound. A project deleted by a shop's redaction is forgotten by every
    /// instance at once.
    #[arg(long, env = "LUMMMEN_PROJECT_CACHE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub project_cache_secs: u64,

    /// The proxies and load balancers in front of the server, as CIDRs
    /// (`10.0.0.0/8,127.0.0.1/32`): only from these peers is the shopper's
    /// address taken from `Forwarded` / `X-Forwarded-For`, for the rate limit
    /// and the Matomo relay. Without any, those headers are ignored.
    #[arg(long, env = "LUMMMEN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Matomo URL to relay page views and ecommerce events to, with the HTTP
    /// Tracking API (`{url}/matomo.php`); unset disables the relay.
    #[arg(long, env = "LUMMMEN_MATOMO_URL")]
    pub matomo_url: Option<String>,

    /// Matomo `token_auth`, needed to set the visitor id and event time (`cid`, `cdt`).
    #[arg(long, env = "LUMMMEN_MATOMO_TOKEN", hide_env_values = true)]
    pub matomo_token: Option<String>,

    /// On shutdown, how long to keep draining the spool into storage, in seconds;
    /// what is left is drained after the next start.
    #[arg(long, env = "LUMMMEN_SHUTDOWN_DRAIN_SECS", default_value_t = 10)]
    pub shutdown_drain_secs: u64,
}

impl Config {
    /// A configuration for tests: loopback on an ephemeral port, paths relative to
    /// the workspace root, SQLite storage, the demo project (site id 1) seeded, no
    /// rate limit.
    pub fn for_tests(workspace_root: &std::path::Path, data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            www_dir: workspace_root.join("www"),
            assets_dir: workspace_root.join("extensions/lummmen-theme/assets"),
            pixel_dir: workspace_root.join("extensions/lummmen-pixel/dist"),
            uplot_dir: workspace_root.join("node_modules/uplot/dist"),
            shopify: ShopifyOptions::default(),
            clickhouse_url: None,
            clickhouse_database: "lummmen".into(),
            clickhouse_user: None,
            clickhouse_password: None,
            database_url: None,
            clickhouse_cluster: None,
            clickhouse_shard_urls: Vec::new(),
            clickhouse_replicated: false,
            clickhouse_insert_timeout_secs: crate::store::clickhouse::DEFAULT_INSERT_TIMEOUT_SECS,
            seed_demo: true,
            dev_session_tokens: false,
            max_body_bytes: 256 * 1024,
            max_decoded_bytes: 1024 * 1024,
            spool_max_bytes: 1 << 30,
            insert_max_events: 50_000,
            insert_linger_ms: 250,
            handoff_max_bytes: None,
            rate_limit: 0,
            trusted_proxies: Vec::new(),
            matomo_url: None,
            matomo_token: None,
            shutdown_drain_secs: 10,
            project_cache_secs: 5,
        }
    }

    /// Stores events in ClickHouse at `url`, in `database` (tests give each run its
    /// own database).
    pub fn with_clickhouse(mut self, url: &str, database: &str) -> Self {
        self.clickhouse_url = Some(url.to_string());
        self.clickhouse_database = database.to_string();
        self
    }

    /// Stores events on the shards of ClickHouse cluster `name`, queried
    /// through `url`.
    pub fn with_clickhouse_cluster(
        mut self,
        url: &str,
        database: &str,
        name: &str,
        shards: &[String],
    ) -> Self {
        self = self.with_clickhouse(url, database);
        self.clickhouse_cluster = Some(name.to_string());
        self.clickhouse_shard_urls = shards.to_vec();
        self
    }
}

/// Access scopes the app requires unless `--shopify-scopes` says otherwise:
/// the web pixel's, and `read_orders` for the order webhooks. The same as
/// `shopify.app.toml` asks for, so a managed install grants them all.
pub const DEFAULT_SHOPIFY_SCOPES: &str = "write_pixels,read_customer_events,read_orders";
/// Admin GraphQL API version unless `--shopify-api-version` says otherwise.
pub const DEFAULT_SHOPIFY_API_VERSION: &str = "2025-10";
/// Name of the token key unless `--token-key-id` says otherwise.
pub const DEFAULT_TOKEN_KEY_ID: &str = "k1";

/// The Shopify app's settings as given (flags or environment); checked into
/// typed settings at start by [`crate::shopify::Settings::from_options`], where
/// an unset option takes the default above (tests build this struct directly).
/// Without a client id and secret the Shopify app is off: its endpoints answer
/// 503; everything else runs.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ShopifyOptions {
    /// The app's client id (API key), from the Partner dashboard / `shopify.app.toml`.
    #[arg(long, env = "LUMMMEN_SHOPIFY_CLIENT_ID")]
    pub shopify_client_id: Option<String>,

    /// The app's client secret: verifies session tokens, OAuth redirects and webhooks.
    #[arg(long, env = "LUMMMEN_SHOPIFY_CLIENT_SECRET", hide_env_values = true)]
    pub shopify_client_secret: Option<String>,

    /// The previous client secret, still accepted while Shopify rotates to the new one.
    #[arg(long, env = "LUMMMEN_SHOPIFY_PREVIOUS_SECRET", hide_env_values = true)]
    pub shopify_previous_secret: Option<String>,

    /// Public HTTPS URL of this backend (e.g. https://app.example.com): OAuth
    /// redirect URI and webhook address.
    #[arg(long, env = "LUMMMEN_APP_URL")]
    pub app_url: Option<String>,

    /// Access scopes the app requires; an install granting others is re-authorized.
    #[arg(long, env = "LUMMMEN_SHOPIFY_SCOPES", default_value = DEFAULT_SHOPIFY_SCOPES)]
    pub shopify_scopes: Option<String>,

    /// Admin API version used for GraphQL calls.
    #[arg(long, env = "LUMMMEN_SHOPIFY_API_VERSION", default_value = DEFAULT_SHOPIFY_API_VERSION)]
    pub shopify_api_version: Option<String>,

    /// Base URL of Shopify for every shop instead of `https://{shop}`; for tests
    /// against a local fake Shopify only.
    #[arg(long, env = "LUMMMEN_SHOPIFY_BASE_URL")]
    pub shopify_base_url: Option<String>,

    /// Key that encrypts offline access tokens at rest (AES-256-GCM): 32 bytes,
    /// base64 (`openssl rand -base64 32`).
    #[arg(long, env = "LUMMMEN_TOKEN_KEY", hide_env_values = true)]
    pub token_key: Option<String>,

    /// Name of the token key, stored with every sealed token so keys can rotate.
    #[arg(long, env = "LUMMMEN_TOKEN_KEY_ID", default_value = DEFAULT_TOKEN_KEY_ID)]
    pub token_key_id: Option<String>,

    /// Older token keys still accepted for reading, `id:base64,id:base64`; tokens
    /// under them are re-sealed with the current key at start.
    #[arg(long, env = "LUMMMEN_TOKEN_PREVIOUS_KEYS", hide_env_values = true)]
    pub token_previous_keys: Option<String>,

    /// Bearer token for operators on the privacy-ticket endpoints (all shops).
    #[arg(long, env = "LUMMMEN_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<String>,

    /// Do not create a project for a shop on its first valid session token; an
    /// operator then links shops with `projects add --shop`.
    #[arg(long, env = "LUMMMEN_NO_AUTO_PROJECTS")]
    pub no_auto_projects: bool,

    /// URL that receives a JSON POST for every new privacy ticket (team chat
    /// webhook); tickets are always logged as well.
    #[arg(long, env = "LUMMMEN_NOTIFY_WEBHOOK_URL")]
    pub notify_webhook_url: Option<String>,
}
