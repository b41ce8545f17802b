//! Shops, their tokens, OAuth states, the refresh lock and order facts in
//! PostgreSQL.

use tokio_postgres::Row;

use super::PgMeta;
use crate::clock::now_ms_i64;
use crate::meta::{FlightGuard, MetaError, OrderWindow, Sealed, SealedSet, ShopRow, StoredTokens};
use crate::shopify::orders::{order_key, OrderFacts, OrderRow, RefundRow};

fn shop_row(r: &Row) -> ShopRow {
    ShopRow { shop: r.get(0), sealed_token: r.get(1), scopes: r.get(2), status: r.get(3) }
}

/// The order keys of `order_ids` (numbers or GraphQL ids), without repeats.
fn keys(order_ids: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = order_ids.iter().map(|o| order_key(o).to_string()).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The two-key advisory lock of a shop's refresh: namespace 1, and the shop's
/// name hashed by PostgreSQL (`hashtext`), the same on every instance.
const REFRESH_LOCK: &str = "SELECT pg_advisory_lock(1, hashtext($1))";

/// The longest wait for a shop's lock: a refresh is one call to Shopify, so a
/// longer wait means the holder is stuck, and the caller gets an error.
const FLIGHT_WAIT_SECS: u32 = 60;

impl PgMeta {
    pub(super) async fn shop(&self, shop: &str) -> Result<Option<ShopRow>, MetaError> {
        let c = self.pool.get().await?;
        let row =
            c.query_opt("SELECT shop, token, scopes, status FROM shops WHERE shop = $1", &[&shop]).await?;
        Ok(row.as_ref().map(shop_row))
    }

    pub(super) async fn shops(&self) -> Result<Vec<ShopRow>, MetaError> {
        let c = self.pool.get().await?;
        Ok(c.query("SELECT shop, token, scopes, status FROM shops ORDER BY shop COLLATE \"C\"", &[])
            .await?
            .iter()
            .map(shop_row)
            .collect())
    }

    pub(super) async fn save_install(&self, shop: &str, sealed: &str, scopes: &str) -> Result<(), MetaError> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO shops (shop, token, scopes, status, installed_at, updated_at)
             VALUES ($1, $2, $3, 'installed', $4, $4)
             ON CONFLICT (shop) DO UPDATE SET token = excluded.token, scopes = excluded.scopes,
                refresh_token = NULL, token_expires_at = NULL, refresh_expires_at = NULL,
                status = 'installed', installed_at = excluded.installed_at,
                uninstalled_at = NULL, updated_at = excluded.updated_at",
            &[&shop, &sealed, &scopes, &now_ms_i64()],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn tokens(&self, shop: &str) -> Result<Option<StoredTokens>, MetaError> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                "SELECT token, token_expires_at, refresh_token, refresh_expires_at FROM shops
                 WHERE shop = $1 AND status = 'installed' AND token IS NOT NULL",
                &[&shop],
            )
            .await?;
        Ok(row.map(|r| StoredTokens {
            access: r.get(0),
            access_expires_at: r.get(1),
            refresh: r.get(2),
            refresh_expires_at: r.get(3),
        }))
    }

    pub(super) async fn save_exchanged(&self, shop: &str, s: &SealedSet) -> Result<(), MetaError> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO shops (shop, token, scopes, status, installed_at, updated_at, refresh_token,
                                token_expires_at, refresh_expires_at)
             VALUES ($1, $2, $3, 'installed', $4, $4, $5, $6, $7)
             ON CONFLICT (shop) DO UPDATE SET token = excluded.token, scopes = excluded.scopes,
                status = 'installed', uninstalled_at = NULL, updated_at = excluded.updated_at,
                installed_at = COALESCE(shops.installed_at, excluded.installed_at),
                refresh_token = excluded.refresh_token, token_expires_at = excluded.token_expires_at,
                refresh_expires_at = excluded.refresh_expires_at",
            &[&shop, &s.access, &s.scopes, &s.now, &s.refresh, &s.access_expires_at, &s.refresh_expires_at],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn save_refreshed(&self, shop: &str, s: &SealedSet) -> Result<(), MetaError> {
        let c = self.pool.get().await?;
        c.execute(
            "UPDATE shops SET token = $2, scopes = $3, refresh_token = $4, token_expires_at = $5,
                refresh_expires_at = $6, updated_at = $7 WHERE shop = $1 AND status = 'installed'",
            &[&shop, &s.access, &s.scopes, &s.refresh, &s.access_expires_at, &s.refresh_expires_at, &s.now],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn clear_tokens(&self, shop: &str) -> Result<(), MetaError> {
        let c = self.pool.get().await?;
        c.execute(
            "UPDATE shops SET token = NULL, refresh_token = NULL, token_expires_at = NULL,
                refresh_expires_at = NULL, updated_at = $2 WHERE shop = $1",
            &[&shop, &now_ms_i64()],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn reseal(
        &self,
        shop: &str,
        which: Sealed,
        old: &str,
        new: &str,
    ) -> Result<bool, MetaError> {
        let column = which.column();
        let c = self.pool.get().await?;
        let sql =
            format!("UPDATE shops SET {column} = $3, updated_at = $4 WHERE shop = $1 AND {column} = $2");
        Ok(c.execute(&sql, &[&shop, &old, &new, &now_ms_i64()]).await? == 1)
    }

    pub(super) async fn sealed_refresh(&self, shop: &str) -> Result<Option<String>, MetaError> {
        let c = self.pool.get().await?;
        let row = c.query_opt("SELECT refresh_token FROM shops WHERE shop = $1", &[&shop]).await?;
        Ok(row.and_then(|r| r.get(0)))
    }

    /// Takes the shop's advisory lock on a connection taken out of the pool:
    /// the guard owns it, and dropping the guard closes it, which releases the
    /// lock (also when the refresh's task is cancelled or the instance dies:
    /// PostgreSQL drops a closed session's locks).
    pub(super) async fn refresh_flight(&self, shop: &str) -> Result<FlightGuard, MetaError> {
        // At most so many connections wait for or hold a shop's lock, beside
        // the pool.
        let permit = std::sync::Arc::clone(&self.flights)
            .acquire_owned()
            .await
            .map_err(|e| MetaError::Pool(e.to_string()))?;
        // Out of the pool before the wait: a wait given up (the request gone)
        // closes this connection instead of handing it, its lock granted
        // later, to the next caller.
        let client = deadpool_postgres::Object::take(self.pool.get().await?);
        client.batch_execute(&format!("SET lock_timeout = '{FLIGHT_WAIT_SECS}s'")).await?;
        client.execute(REFRESH_LOCK, &[&shop]).await?;
        Ok(FlightGuard::holding(Box::new((client, permit))))
    }

    pub(super) async fn put_state(&self, nonce: &str, shop: &str, ttl_secs: i64) -> Result<(), MetaError> {
        let now = now_ms_i64();
        let c = self.pool.get().await?;
        c.execute("DELETE FROM oauth_states WHERE created_at < $1", &[&(now - ttl_secs * 1000)]).await?;
        c.execute(
            "INSERT INTO oauth_states (nonce, shop, created_at) VALUES ($1, $2, $3)",
            &[&nonce, &shop, &now],
        )
        .await?;
        Ok(())
    }

    pub(super) async fn take_state(&self, nonce: &str, shop: &str, ttl_secs: i64) -> Result<bool, MetaError> {
        let cutoff = now_ms_i64() - ttl_secs * 1000;
        let c = self.pool.get().await?;
        let n = c
            .execute(
                "DELETE FROM oauth_states WHERE nonce = $1 AND shop = $2 AND created_at >= $3",
                &[&nonce, &shop, &cutoff],
            )
            .await?;
        Ok(n == 1)
    }

    pub(super) async fn orders_in(
        &self,
        shops: &[String],
        from_ms: i64,
        to_ms: i64,
    ) -> Result<OrderWindow, MetaError> {
        if shops.is_empty() || from_ms >= to_ms {
            return Ok(OrderWindow::default());
        }
        let c = self.pool.get().await?;
        let orders = c
            .query(
                "SELECT order_id, total, currency FROM shop_orders
                 WHERE shop = ANY($1) AND time_ms >= $2 AND time_ms < $3
                 ORDER BY shop COLLATE \"C\", order_id COLLATE \"C\"",
                &[&shops, &from_ms, &to_ms],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let refunds = c
            .query(
                "SELECT amount, currency FROM shop_refunds
                 WHERE shop = ANY($1) AND time_ms >= $2 AND time_ms < $3
                 ORDER BY shop COLLATE \"C\", refund_id COLLATE \"C\", currency COLLATE \"C\"",
                &[&shops, &from_ms, &to_ms],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(OrderWindow { orders, refunds })
    }

    pub(super) async fn export_orders(
        &self,
        shop: &str,
        order_ids: &[String],
    ) -> Result<OrderFacts, MetaError> {
        let keys = keys(order_ids);
        if keys.is_empty() {
            return Ok(OrderFacts::default());
        }
        let c = self.pool.get().await?;
        let orders = c
            .query(
                "SELECT order_id, time_ms, total, currency FROM shop_orders
                 WHERE shop = $1 AND order_id = ANY($2) ORDER BY time_ms, order_id COLLATE \"C\"",
                &[&shop, &keys],
            )
            .await?
            .iter()
            .map(|r| OrderRow { order_id: r.get(0), time_ms: r.get(1), total: r.get(2), currency: r.get(3) })
            .collect();
        let refunds = c
            .query(
                "SELECT refund_id, order_id, time_ms, amount, currency FROM shop_refunds
                 WHERE shop = $1 AND order_id = ANY($2)
                 ORDER BY time_ms, refund_id COLLATE \"C\", currency COLLATE \"C\"",
                &[&shop, &keys],
            )
            .await?
            .iter()
            .map(|r| RefundRow {
                refund_id: r.get(0),
                order_id: r.get(1),
                time_ms: r.get(2),
                amount: r.get(3),
                currency: r.get(4),
            })
            .collect();
        Ok(OrderFacts { orders, refunds })
    }

    pub(super) async fn redact_orders(&self, shop: &str, order_ids: &[String]) -> Result<usize, MetaError> {
        let keys = keys(order_ids);
        if keys.is_empty() {
            return Ok(0);
        }
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let mut n = 0;
        for table in ["shop_orders", "shop_refunds"] {
            let sql = format!("DELETE FROM {table} WHERE shop = $1 AND order_id = ANY($2)");
            n += tx.execute(&sql, &[&shop, &keys]).await?;
        }
        tx.commit().await?;
        Ok(n as usize)
    }

    pub(super) async fn forget_shop(&self, shop: &str) -> Result<(), MetaError> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        for table in ["shops", "oauth_states", "webhook_deliveries", "shop_orders", "shop_refunds"] {
            tx.execute(&format!("DELETE FROM {table} WHERE shop = $1"), &[&shop]).await?;
        }
        super::tickets::scrub_shop(&tx, shop).await?;
        tx.commit().await?;
        Ok(())
    }
}
