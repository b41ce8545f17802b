//! [`MetaStore`] for [`PgMeta`]: each operation is one of its own methods.

use serde_json::Value;

use super::PgMeta;
use crate::meta::{
    Applied, Deletion, Delivery, FlightGuard, MetaFuture, MetaStore, OrderWindow, Sealed, SealedSet, ShopRow,
    StoredTokens, WebhookEffect,
};
use crate::projects::Project;
use crate::shopify::orders::OrderFacts;
use crate::shopify::tickets::Ticket;

impl MetaStore for PgMeta {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn project(&self, id: u32) -> MetaFuture<'_, Option<Project>> {
        Box::pin(PgMeta::project(self, id))
    }

    fn project_of_shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<Project>> {
        Box::pin(PgMeta::project_of_shop(self, shop))
    }

    fn projects(&self) -> MetaFuture<'_, Vec<Project>> {
        Box::pin(PgMeta::projects(self))
    }

    fn upsert_project<'a>(&'a self, project: &'a Project) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::upsert_project(self, project))
    }

    fn create_project<'a>(
        &'a self,
        name: &'a str,
        sample: u8,
        shops: &'a [String],
    ) -> MetaFuture<'a, Project> {
        Box::pin(PgMeta::create_project(self, name, sample, shops))
    }

    fn delete_project(&self, id: u32) -> MetaFuture<'_, bool> {
        Box::pin(PgMeta::delete_project(self, id))
    }

    fn retentions(&self) -> MetaFuture<'_, Vec<(u32, u16)>> {
        Box::pin(PgMeta::retentions(self))
    }

    fn set_retention_months(&self, id: u32, months: u16) -> MetaFuture<'_, ()> {
        Box::pin(PgMeta::set_retention_months(self, id, months))
    }

    fn shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<ShopRow>> {
        Box::pin(PgMeta::shop(self, shop))
    }

    fn shops(&self) -> MetaFuture<'_, Vec<ShopRow>> {
        Box::pin(PgMeta::shops(self))
    }

    fn save_install<'a>(
        &'a self,
        shop: &'a str,
        sealed_token: &'a str,
        scopes: &'a str,
    ) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::save_install(self, shop, sealed_token, scopes))
    }

    fn tokens<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<StoredTokens>> {
        Box::pin(PgMeta::tokens(self, shop))
    }

    fn save_exchanged<'a>(&'a self, shop: &'a str, set: &'a SealedSet) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::save_exchanged(self, shop, set))
    }

    fn save_refreshed<'a>(&'a self, shop: &'a str, set: &'a SealedSet) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::save_refreshed(self, shop, set))
    }

    fn clear_tokens<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::clear_tokens(self, shop))
    }

    fn reseal<'a>(
        &'a self,
        shop: &'a str,
        which: Sealed,
        old: &'a str,
        new: &'a str,
    ) -> MetaFuture<'a, bool> {
        Box::pin(PgMeta::reseal(self, shop, which, old, new))
    }

    fn sealed_refresh<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, Option<String>> {
        Box::pin(PgMeta::sealed_refresh(self, shop))
    }

    fn refresh_flight<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, FlightGuard> {
        Box::pin(PgMeta::refresh_flight(self, shop))
    }

    fn put_state<'a>(&'a self, nonce: &'a str, shop: &'a str, ttl_secs: i64) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::put_state(self, nonce, shop, ttl_secs))
    }

    fn take_state<'a>(&'a self, nonce: &'a str, shop: &'a str, ttl_secs: i64) -> MetaFuture<'a, bool> {
        Box::pin(PgMeta::take_state(self, nonce, shop, ttl_secs))
    }

    fn apply_webhook(&self, delivery: Delivery, effect: WebhookEffect) -> MetaFuture<'_, Applied> {
        Box::pin(async move { PgMeta::apply_webhook(self, &delivery, &effect).await })
    }

    fn ticket(&self, id: i64) -> MetaFuture<'_, Option<Ticket>> {
        Box::pin(PgMeta::ticket(self, id))
    }

    fn tickets<'a>(&'a self, shop: Option<&'a str>) -> MetaFuture<'a, Vec<Ticket>> {
        Box::pin(PgMeta::tickets(self, shop))
    }

    fn set_ticket_outcome<'a>(&'a self, id: i64, status: &'a str, outcome: &'a Value) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::set_ticket_outcome(self, id, status, outcome))
    }

    fn resolve_ticket<'a>(&'a self, id: i64, resolver: &'a str) -> MetaFuture<'a, bool> {
        Box::pin(PgMeta::resolve_ticket(self, id, resolver))
    }

    fn orders_in<'a>(&'a self, shops: &'a [String], from_ms: i64, to_ms: i64) -> MetaFuture<'a, OrderWindow> {
        Box::pin(PgMeta::orders_in(self, shops, from_ms, to_ms))
    }

    fn export_orders<'a>(&'a self, shop: &'a str, order_ids: &'a [String]) -> MetaFuture<'a, OrderFacts> {
        Box::pin(PgMeta::export_orders(self, shop, order_ids))
    }

    fn redact_orders<'a>(&'a self, shop: &'a str, order_ids: &'a [String]) -> MetaFuture<'a, usize> {
        Box::pin(PgMeta::redact_orders(self, shop, order_ids))
    }

    fn forget_shop<'a>(&'a self, shop: &'a str) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::forget_shop(self, shop))
    }

    fn shared(&self) -> bool {
        true
    }

    fn publish_deletion<'a>(
        &'a self,
        sites: &'a [u32],
        visitors: Option<&'a [String]>,
    ) -> MetaFuture<'a, Option<i64>> {
        Box::pin(PgMeta::publish_deletion(self, sites, visitors))
    }

    fn deletions_after(&self, seen: i64) -> MetaFuture<'_, Vec<Deletion>> {
        Box::pin(PgMeta::deletions_after(self, seen))
    }

    fn join_instance<'a>(&'a self, instance: &'a str) -> MetaFuture<'a, i64> {
        Box::pin(PgMeta::join_instance(self, instance))
    }

    fn instance_beat<'a>(&'a self, instance: &'a str, seen: i64) -> MetaFuture<'a, ()> {
        Box::pin(PgMeta::instance_beat(self, instance, seen))
    }

    fn lagging(&self, id: i64, live_ms: i64) -> MetaFuture<'_, Vec<String>> {
        Box::pin(PgMeta::lagging(self, id, live_ms))
    }
}
