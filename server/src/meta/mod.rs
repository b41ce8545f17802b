//! The metadata store: everything the server keeps besides events. Projects
//! and their retention; installed shops with their sealed tokens; OAuth
//! states; webhook delivery ids; privacy tickets; Shopify's order facts.
//!
//! One trait, [`MetaStore`], two backends:
//! - [`sqlite::SqliteMeta`], the embedded default: `<data_dir>/lummmen.db`
//!   (projects) and `<data_dir>/shopify.db` (the Shopify app's tables), as
//!   every earlier version kept them. One instance per data directory.
//! - [`postgres::PgMeta`], with `--database-url postgres://...`: one database
//!   that any number of server instances share, so a shop installed through one
//!   instance opens the dashboard through another. What must hold across
//!   instances holds in the database itself: a webhook delivery id is a
//!   primary key (one ticket however many instances receive the delivery), an
//!   OAuth state is a row any instance can take once, and a token refresh runs
//!   under an advisory lock ([`MetaStore::refresh_flight`]), so a refresh token
//!   is spent once.
//!
//! The backends share what is not storage: validation ([`check_project`]), the
//! decisions about tickets ([`crate::shopify::tickets`]), and the order summary
//! ([`crate::shopify::orders::summary`]). Both run versioned migrations at
//! start ([`migrations`]).

pub mod error;
pub mod migrations;
pub mod postgres;
pub mod sqlite;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

pub use error::MetaError;

use crate::projects::Project;
use crate::shop::is_shop_domain;
use crate::shopify::orders::{OrderFact, OrderFacts};
use crate::shopify::tickets::Ticket;

/// What a metadata call returns.
pub type MetaFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, MetaError>> + Send + 'a>>;

/// An installed (or formerly installed) shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopRow {
    pub shop: String,
    /// The sealed offline token; `None` once uninstalled.
    pub sealed_token: Option<String>,
    /// Scopes Shopify granted, comma-separated as it sends them.
    pub scopes: String,
    /// `installed` or `uninstalled`.
    pub status: String,
}

/// A shop's stored tokens, sealed, with when they expire (milliseconds since
/// the epoch; `None`: never).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTokens {
    pub access: String,
    pub access_expires_at: Option<i64>,
    pub refresh: Option<String>,
    pub refresh_expires_at: Option<i64>,
}

/// A token set to store: both tokens sealed, lifetimes as expiry times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSet {
    pub access: String,
    pub refresh: Option<String>,
    pub access_expires_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
    pub scopes: String,
    pub now: i64,
}

/// Which of a shop's sealed tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    Access,
    Refresh,
}

impl Sealed {
    /// Its column in `shops`, in both backends.
    pub fn column(self) -> &'static str {
        match self {
            Sealed::Access => "token",
            Sealed::Refresh => "refresh_token",
        }
    }
}

/// A webhook delivery as Shopify identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub webhook_id: String,
    pub topic: String,
    pub shop: String,
}

/// What a webhook delivery changes, decided before the store is touched.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEffect {
    /// A paid order or a refund.
    Order(OrderFact),
    /// A compliance request: its ticket (see [`crate::shopify::tickets::NewTicket`]).
    Ticket(crate::shopify::tickets::NewTicket),
    Uninstalled,
    /// The scopes now granted, comma-separated.
    Scopes(String),
    /// Acknowledged, nothing kept but the delivery id.
    Nothing,
}

/// What applying a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The delivery id was already recorded: nothing changed.
    Duplicate,
    Ticket(i64),
    /// Whether the order or refund was new to the shop.
    Order {
        new: bool,
    },
    Uninstalled,
    ScopesUpdated,
    Ignored,
}

/// A privacy deletion published for every instance sharing the store (see
/// [`crate::deletions`]): whose events no instance may store from now on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    pub id: i64,
    pub sites: Vec<u32>,
    /// `None`: every visitor of the sites (a shop's deletion).
    pub visitors: Option<Vec<String>>,
}

/// The order facts of some shops over a window, for
/// [`crate::shopify::orders::summary`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderWindow {
    /// `(order id, total, currency)`.
    pub orders: Vec<(String, f64, String)>,
    /// `(amount, currency)`.
    pub refunds: Vec<(f64, String)>,
}

/// Held while a shop's token refresh runs; dropping it lets the next one in.
/// Across instances it holds the database's lock (PostgreSQL's advisory lock,
/// on a connection of its own that closes with it).
pub struct FlightGuard(#[allow(dead_code)] Option<Box<dyn Send + Sync>>);

impl FlightGuard {
    /// A guard that holds nothing beyond the instance's own lock.
    pub fn local() -> Self {
        Self(None)
    }

    pub(crate) fn holding(inner: Box<dyn Send + Sync>) -> Self {
        Self(Some(inner))
    }
}

impl std::fmt::Debug for FlightGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "FlightGuard(shared)" } else { "FlightGuard(local)" })
    }
}

/// The metadata store's operations. Every write that must not be lost is
/// committed before the future resolves.
pub trait MetaStore: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`, for logs and metrics.
    fn name(&self) -> &'static str;

    // --- projects ---
    fn project(&self, id: u32) -> MetaFuture<'_, Option<Project>>;
    /// The project a shop belongs to (`demo-shop.myshopify.com`).
    fn project_of_shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<Project>>;
    /// Every project, by id.
    fn projects(&self) -> MetaFuture<'_, Vec<Project>>;
    /// Creates the project or replaces its name, sample and shop list; a shop
    /// of another project is [`MetaError::ShopTaken`].
    fn upsert_project<'a>(&'a self, project: &'a Project) -> MetaFuture<'a, ()>;
    /// Creates a project with the next free id (one more than the largest).
    fn create_project<'a>(
        &'a self,
        name: &'a str,
        sample: u8,
        shops: &'a [String],
    ) -> MetaFuture<'a, Project>;
    /// Removes a project, its shops and retention; answers whether it existed.
    fn delete_project(&self, id: u32) -> MetaFuture<'_, bool>;
    /// Every project's site id with its retention in months.
    fn retentions(&self) -> MetaFuture<'_, Vec<(u32, u16)>>;
    /// Sets a project's retention (checked: 1 to 120 months, project exists).
    fn set_retention_months(&self, id: u32, months: u16) -> MetaFuture<'_, ()>;

    // --- shops, tokens, OAuth states ---
    fn shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<ShopRow>>;
    /// Every shop row (for re-sealing tokens after a key rotation).
    fn shops(&self) -> MetaFuture<'_, Vec<ShopRow>>;
    /// Records a completed authorization-code install: a token that never
    /// expires and the granted scopes.
    fn save_install<'a>(
        &'a self,
        shop: &'a str,
        sealed_token: &'a str,
        scopes: &'a str,
    ) -> MetaFuture<'a, ()>;
    /// The usable tokens of an installed shop.
    fn tokens<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<StoredTokens>>;
    /// Stores the set of a token exchange: the shop is installed from now on.
    fn save_exchanged<'a>(&'a self, shop: &'a str, set: &'a SealedSet) -> MetaFuture<'a, ()>;
    /// Stores a refreshed set onto the shop's row, only while it is installed.
    fn save_refreshed<'a>(&'a self, shop: &'a str, set: &'a SealedSet) -> MetaFuture<'a, ()>;
    /// Forgets the shop's tokens (refused by Shopify).
    fn clear_tokens<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, ()>;
    /// Replaces a sealed token by the same token sealed under the current key,
    /// only while `old` is still the one stored: re-sealing at start must not
    /// put back a token another instance replaced meanwhile (a refresh).
    /// Answers whether it replaced it.
    fn reseal<'a>(&'a self, shop: &'a str, which: Sealed, old: &'a str, new: &'a str)
        -> MetaFuture<'a, bool>;
    /// The sealed refresh token of a shop, if it has one.
    fn sealed_refresh<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<String>>;
    /// Waits for the shop's turn to refresh its token, across every instance
    /// sharing the store.
    fn refresh_flight<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, FlightGuard>;
    /// Stores a new OAuth nonce for `shop` and forgets expired ones.
    fn put_state<'a>(&'a self, nonce: &'a str, shop: &'a str, ttl_secs: i64) -> MetaFuture<'a, ()>;
    /// Consumes a nonce: true when it existed for `shop` and had not expired.
    fn take_state<'a>(&'a self, nonce: &'a str, shop: &'a str, ttl_secs: i64) -> MetaFuture<'a, bool>;

    // --- webhooks and tickets ---
    /// Records the delivery id and applies its effect in one transaction;
    /// [`Applied::Duplicate`] when the id was recorded before (by any instance).
    fn apply_webhook(&self, delivery: Delivery, effect: WebhookEffect) -> MetaFuture<'_, Applied>;
    fn ticket(&self, id: i64) -> MetaFuture<'_, Option<Ticket>>;
    /// Tickets, newest first (at most 1,000); only `shop`'s when given.
    fn tickets<'a>(&'a self, shop: Option<&'a str>) -> MetaFuture<'a, Vec<Ticket>>;
    /// Records what fulfilment did.
    fn set_ticket_outcome<'a>(&'a self, id: i64, status: &'a str, outcome: &'a Value) -> MetaFuture<'a, ()>;
    /// Signs a ticket off and drops the contact data from its body; false when
    /// it was already closed.
    fn resolve_ticket<'a>(&'a self, id: i64, resolver: &'a str) -> MetaFuture<'a, bool>;

    // --- order facts ---
    /// The orders of `shops` processed in `[from_ms, to_ms)` and the refunds
    /// created then.
    fn orders_in<'a>(&'a self, shops: &'a [String], from_ms: i64, to_ms: i64) -> MetaFuture<'a, OrderWindow>;
    /// What is stored of these orders of `shop` (a data request).
    fn export_orders<'a>(&'a self, shop: &'a str, order_ids: &'a [String]) -> MetaFuture<'a, OrderFacts>;
    /// Deletes these orders of `shop` and their refunds; answers the rows deleted.
    fn redact_orders<'a>(&'a self, shop: &'a str, order_ids: &'a [String]) -> MetaFuture<'a, usize>;
    /// Forgets a shop (`shop/redact`): its install and tokens, OAuth nonces,
    /// delivery ids, orders and refunds, and the contact data in its tickets.
    fn forget_shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, ()>;

    // --- privacy deletions across instances (see `crate::deletions`) ---
    // A store that one instance alone uses (SQLite) has nothing to share:
    // these answer as if no other instance existed.

    /// Whether other instances may share this store.
    fn shared(&self) -> bool {
        false
    }

    /// Publishes a deletion to every instance; `None` when no other instance
    /// shares the store.
    fn publish_deletion<'a>(
        &'a self,
        _sites: &'a [u32],
        _visitors: Option<&'a [String]>,
    ) -> MetaFuture<'a, Option<i64>> {
        Box::pin(async { Ok(None) })
    }

    /// The deletions published after `seen`, oldest first.
    fn deletions_after(&self, _seen: i64) -> MetaFuture<'_, Vec<Deletion>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Registers an instance (its id kept in its data directory) or finds it
    /// again; answers the last deletion it applied. A new instance has an
    /// empty spool, so it starts past every deletion published so far.
    fn join_instance<'a>(&'a self, _instance: &'a str) -> MetaFuture<'a, i64> {
        Box::pin(async { Ok(0) })
    }

    /// The instance is alive and has applied the deletions up to `seen`.
    fn instance_beat<'a>(&'a self, _instance: &'a str, _seen: i64) -> MetaFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// The instances alive (a beat within `live_ms`) that have not applied
    /// deletion `id` yet.
    fn lagging(&self, _id: i64, _live_ms: i64) -> MetaFuture<'_, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Creates the project only when no project has its id; answers whether it did.
    fn ensure_project<'a>(&'a self, project: &'a Project) -> MetaFuture<'a, bool> {
        Box::pin(async move {
            if self.project(project.id).await?.is_some() {
                return Ok(false);
            }
            self.upsert_project(project).await?;
            Ok(true)
        })
    }

    /// How many whole months before the current one the project's events are
    /// kept ([`crate::retention::DEFAULT_MONTHS`] unless set).
    fn retention_months(&self, id: u32) -> MetaFuture<'_, u16> {
        Box::pin(async move {
            let all = self.retentions().await?;
            Ok(all
                .into_iter()
                .find(|(site, _)| *site == id)
                .map_or(crate::retention::DEFAULT_MONTHS, |r| r.1))
        })
    }
}

/// Checks a project before it is written, the same for every backend.
pub fn check_project(project: &Project) -> Result<(), MetaError> {
    if project.sample > 100 {
        return Err(MetaError::Sample(project.sample));
    }
    if let Some(bad) = project.shops.iter().find(|s| !is_shop_domain(s)) {
        return Err(MetaError::Shop(bad.clone()));
    }
    Ok(())
}

/// Checks a retention before it is written.
pub fn check_retention(months: u16) -> Result<(), MetaError> {
    if (1..=crate::retention::MAX_MONTHS).contains(&months) {
        Ok(())
    } else {
        Err(MetaError::Retention(months))
    }
}

/// How long delivery ids are remembered. Shopify retries a failed delivery for
/// up to 48 hours; a week leaves room, and keeps the table small.
pub const DELIVERY_RETENTION_MS: i64 = 7 * 24 * 3600 * 1000;

/// Opens the store the configuration names: PostgreSQL with a database URL,
/// else the embedded SQLite files under the data directory. Migrations run
/// here.
pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Arc<dyn MetaStore>, MetaError> {
    match database_url {
        Some(url) => Ok(Arc::new(postgres::PgMeta::connect(url).await?)),
        None => {
            let dir = data_dir.to_path_buf();
            let meta = crate::sqlite::blocking(move || sqlite::SqliteMeta::open(&dir)).await?;
            Ok(Arc::new(meta))
        }
    }
}
