//! The embedded metadata store: [`ProjectStore`] (`lummmen.db`) and [`AppDb`]
//! (`shopify.db`), synchronous SQLite code, run on tokio's blocking pool
//! behind the [`MetaStore`] trait. One server instance per data directory (the
//! operator's CLI may share the files: WAL mode, short write locks).

use std::path::Path;

use rusqlite::Connection;
use serde_json::Value;

use super::migrations::Migration;
use super::{
    Applied, Delivery, FlightGuard, MetaError, MetaFuture, MetaStore, OrderWindow, Sealed, SealedSet,
    ShopRow, StoredTokens, WebhookEffect,
};
use crate::projects::{Project, ProjectStore};
use crate::shopify::db::AppDb;
use crate::shopify::orders::OrderFacts;
use crate::shopify::tickets::{self, Ticket};
use crate::sqlite::blocking;

/// Both embedded databases; cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteMeta {
    pub projects: ProjectStore,
    pub app: AppDb,
}

impl SqliteMeta {
    /// Opens (creating and migrating) both files under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, MetaError> {
        Ok(Self { projects: ProjectStore::open(data_dir)?, app: AppDb::open(data_dir)? })
    }

    /// Runs `f` on the blocking pool with a clone of the handles.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&SqliteMeta) -> Result<T, MetaError> + Send + 'static,
    ) -> MetaFuture<'static, T> {
        let me = self.clone();
        Box::pin(async move { blocking(move || f(&me)).await })
    }
}

/// Applies the migrations of `list` newer than the file's `user_version`, each
/// in one transaction with the version it sets. `step` runs a migration given
/// as code rather than SQL (its `sql` is empty).
pub fn migrate(
    conn: &mut Connection,
    list: &[Migration],
    step: impl Fn(&Connection, i64) -> rusqlite::Result<()>,
) -> Result<(), MetaError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for m in list.iter().filter(|m| m.version > current) {
        let tx = conn.transaction()?;
        let applied = if m.sql.is_empty() { step(&tx, m.version) } else { tx.execute_batch(m.sql) };
        applied.map_err(|e| MetaError::Migration { version: m.version, reason: e.to_string() })?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
    Ok(())
}

fn owned(v: &[String]) -> Vec<String> {
    v.to_vec()
}

impl MetaStore for SqliteMeta {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn project(&self, id: u32) -> MetaFuture<'_, Option<Project>> {
        self.run(move |m| m.projects.get(id))
    }

    fn project_of_shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<Project>> {
        let shop = shop.to_string();
        self.run(move |m| m.projects.find_by_shop(&shop))
    }

    fn projects(&self) -> MetaFuture<'_, Vec<Project>> {
        self.run(|m| m.projects.list())
    }

    fn upsert_project<'a>(&'a self, project: &'a Project) -> MetaFuture<'a, ()> {
        let p = project.clone();
        self.run(move |m| m.projects.upsert(&p))
    }

    fn create_project<'a>(
        &'a self,
        name: &'a str,
        sample: u8,
        shops: &'a [String],
    ) -> MetaFuture<'a, Project> {
        let (name, shops) = (name.to_string(), owned(shops));
        self.run(move |m| m.projects.create(&name, sample, shops))
    }

    fn delete_project(&self, id: u32) -> MetaFuture<'_, bool> {
        self.run(move |m| m.projects.delete(id))
    }

    fn retentions(&self) -> MetaFuture<'_, Vec<(u32, u16)>> {
        self.run(|m| m.projects.retentions())
    }

    fn set_retention_months(&self, id: u32, months: u16) -> MetaFuture<'_, ()> {
        self.run(move |m| m.projects.set_retention_months(id, months))
    }

    fn shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<ShopRow>> {
        let shop = shop.to_string();
        self.run(move |m| Ok(m.app.shop(&shop)?))
    }

    fn shops(&self) -> MetaFuture<'_, Vec<ShopRow>> {
        self.run(|m| Ok(m.app.shops()?))
    }

    fn save_install<'a>(
        &'a self,
        shop: &'a str,
        sealed_token: &'a str,
        scopes: &'a str,
    ) -> MetaFuture<'a, ()> {
        let (shop, token, scopes) = (shop.to_string(), sealed_token.to_string(), scopes.to_string());
        self.run(move |m| Ok(m.app.save_install(&shop, &token, &scopes)?))
    }

    fn tokens<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<StoredTokens>> {
        let shop = shop.to_string();
        self.run(move |m| Ok(m.app.tokens(&shop)?))
    }

    fn save_exchanged<'a>(&'a self, shop: &'a str, set: &'a SealedSet) -> MetaFuture<'a, ()> {
        let (shop, set) = (shop.to_string(), set.clone());
        self.run(move |m| Ok(m.app.save_exchanged(&shop, &set)?))
    }

    fn save_refreshed<'a>(&'a self, shop: &'a str, set: &'a SealedSet) -> MetaFuture<'a, ()> {
        let (shop, set) = (shop.to_string(), set.clone());
        self.run(move |m| Ok(m.app.save_refreshed(&shop, &set)?))
    }

    fn clear_tokens<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, ()> {
        let shop = shop.to_string();
        self.run(move |m| Ok(m.app.clear_tokens(&shop)?))
    }

    fn reseal<'a>(
        &'a self,
        shop: &'a str,
        which: Sealed,
        old: &'a str,
        new: &'a str,
    ) -> MetaFuture<'a, bool> {
        let (shop, old, new) = (shop.to_string(), old.to_string(), new.to_string());
        self.run(move |m| Ok(m.app.reseal(&shop, which, &old, &new)?))
    }

    fn sealed_refresh<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<String>> {
        let shop = shop.to_string();
        self.run(move |m| Ok(m.app.sealed_refresh(&shop)?))
    }

    fn refresh_flight<'a>(&'a self, _shop: &'a str) -> MetaFuture<'a, FlightGuard> {
        // One instance per data directory: the instance's own per-shop lock
        // (see `crate::shopify::tokens::Flights`) is the whole flight.
        Box::pin(async { Ok(FlightGuard::local()) })
    }

    fn put_state<'a>(&'a self, nonce: &'a str, shop: &'a str, ttl_secs: i64) -> MetaFuture<'a, ()> {
        let (nonce, shop) = (nonce.to_string(), shop.to_string());
        self.run(move |m| Ok(m.app.put_state(&nonce, &shop, ttl_secs)?))
    }

    fn take_state<'a>(&'a self, nonce: &'a str, shop: &'a str, ttl_secs: i64) -> MetaFuture<'a, bool> {
        let (nonce, shop) = (nonce.to_string(), shop.to_string());
        self.run(move |m| Ok(m.app.take_state(&nonce, &shop, ttl_secs)?))
    }

    fn apply_webhook(&self, delivery: Delivery, effect: WebhookEffect) -> MetaFuture<'_, Applied> {
        self.run(move |m| Ok(m.app.apply_webhook(&delivery, &effect)?))
    }

    fn ticket(&self, id: i64) -> MetaFuture<'_, Option<Ticket>> {
        self.run(move |m| Ok(tickets::get(&m.app, id)?))
    }

    fn tickets<'a>(&'a self, shop: Option<&'a str>) -> MetaFuture<'a, Vec<Ticket>> {
        let shop = shop.map(String::from);
        self.run(move |m| Ok(tickets::list(&m.app, shop.as_deref())?))
    }

    fn set_ticket_outcome<'a>(&'a self, id: i64, status: &'a str, outcome: &'a Value) -> MetaFuture<'a, ()> {
        let (status, outcome) = (status.to_string(), outcome.clone());
        self.run(move |m| Ok(tickets::set_outcome(&m.app, id, &status, &outcome)?))
    }

    fn resolve_ticket<'a>(&'a self, id: i64, resolver: &'a str) -> MetaFuture<'a, bool> {
        let resolver = resolver.to_string();
        self.run(move |m| Ok(tickets::resolve(&m.app, id, &resolver)?))
    }

    fn orders_in<'a>(&'a self, shops: &'a [String], from_ms: i64, to_ms: i64) -> MetaFuture<'a, OrderWindow> {
        let shops = owned(shops);
        self.run(move |m| Ok(crate::shopify::orders::window(&m.app.lock(), &shops, from_ms, to_ms)?))
    }

    fn export_orders<'a>(&'a self, shop: &'a str, order_ids: &'a [String]) -> MetaFuture<'a, OrderFacts> {
        let (shop, ids) = (shop.to_string(), owned(order_ids));
        self.run(move |m| Ok(crate::shopify::orders::export(&m.app.lock(), &shop, &ids)?))
    }

    fn redact_orders<'a>(&'a self, shop: &'a str, order_ids: &'a [String]) -> MetaFuture<'a, usize> {
        let (shop, ids) = (shop.to_string(), owned(order_ids));
        self.run(move |m| Ok(m.app.with_tx(|tx| crate::shopify::orders::redact(tx, &shop, &ids))?))
    }

    fn forget_shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, ()> {
        let shop = shop.to_string();
        self.run(move |m| Ok(m.app.with_tx(|tx| crate::shopify::db::forget_shop(tx, &shop))?))
    }
}
