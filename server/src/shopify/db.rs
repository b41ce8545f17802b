//! The Shopify app's own state in SQLite (`<data_dir>/shopify.db`): installed
//! shops with their sealed offline tokens, OAuth nonces, webhook deliveries seen
//! (for de-duplication), the privacy tickets (`tickets`), and Shopify's order
//! facts (`shop_orders`, `shop_refunds`; see [`super::orders`]).
//!
//! Tokens are stored only as sealed by [`super::crypto::KeyRing`], never in clear.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::clock::now_ms_i64;
use crate::meta::migrations::{SQLITE_APP, SQLITE_TOKEN_COLUMNS};
use crate::meta::sqlite::migrate;
use crate::meta::{
    Applied, Delivery, MetaError, Sealed, SealedSet, StoredTokens, WebhookEffect, DELIVERY_RETENTION_MS,
};

/// File name of the app database under the data directory.
pub const DB_FILE: &str = "shopify.db";

pub use crate::meta::ShopRow;

/// Handle on the app database; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppDb {
    conn: Arc<Mutex<Connection>>,
}

impl AppDb {
    /// Opens (creating if needed) `<data_dir>/shopify.db`.
    pub fn open(data_dir: &Path) -> Result<Self, MetaError> {
        // Webhook deliveries and tickets are acknowledged to Shopify once
        // written: they must survive a crash (the helper syncs fully).
        let mut conn = crate::sqlite::open(data_dir, DB_FILE, crate::sqlite::Tuning::default())?;
        migrate(&mut conn, SQLITE_APP, |tx, _| add_missing_columns(tx))?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // Every write is one statement or one transaction, so a poisoned lock
        // cannot leave the database half-written.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in one transaction.
    pub fn with_tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub fn shop(&self, shop: &str) -> rusqlite::Result<Option<ShopRow>> {
        self.lock()
            .query_row("SELECT shop, token, scopes, status FROM shops WHERE shop = ?1", [shop], |r| {
                Ok(ShopRow { shop: r.get(0)?, sealed_token: r.get(1)?, scopes: r.get(2)?, status: r.get(3)? })
            })
            .optional()
    }

    /// Every shop row (for re-sealing tokens after a key rotation).
    pub fn shops(&self) -> rusqlite::Result<Vec<ShopRow>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT shop, token, scopes, status FROM shops ORDER BY shop")?;
        let rows = stmt.query_map([], |r| {
            Ok(ShopRow { shop: r.get(0)?, sealed_token: r.get(1)?, scopes: r.get(2)?, status: r.get(3)? })
        })?;
        rows.collect()
    }

    /// Records a completed install: the sealed token and the granted scopes.
    pub fn save_install(&self, shop: &str, sealed_token: &str, scopes: &str) -> rusqlite::Result<()> {
        let now = now_ms_i64();
        self.lock().execute(
            "INSERT INTO shops (shop, token, scopes, status, installed_at, updated_at)
             VALUES (?1, ?2, ?3, 'installed', ?4, ?4)
             ON CONFLICT(shop) DO UPDATE SET token = excluded.token, scopes = excluded.scopes,
                refresh_token = NULL, token_expires_at = NULL, refresh_expires_at = NULL,
                status = 'installed', installed_at = excluded.installed_at,
                uninstalled_at = NULL, updated_at = excluded.updated_at",
            params![shop, sealed_token, scopes, now],
        )?;
        Ok(())
    }

    /// The sealed refresh token of a shop, if it has one.
    pub fn sealed_refresh(&self, shop: &str) -> rusqlite::Result<Option<String>> {
        self.lock()
            .query_row("SELECT refresh_token FROM shops WHERE shop = ?1", [shop], |r| r.get(0))
            .optional()
            .map(Option::flatten)
    }

    /// Replaces a sealed token while `old` is still the stored one (key
    /// rotation); answers whether it did.
    pub fn reseal(&self, shop: &str, which: Sealed, old: &str, new: &str) -> rusqlite::Result<bool> {
        let column = which.column();
        let n = self.lock().execute(
            &format!("UPDATE shops SET {column} = ?3, updated_at = ?4 WHERE shop = ?1 AND {column} = ?2"),
            params![shop, old, new, now_ms_i64()],
        )?;
        Ok(n == 1)
    }

    /// The tokens of an installed shop that has some.
    pub fn tokens(&self, shop: &str) -> rusqlite::Result<Option<StoredTokens>> {
        self.lock()
            .query_row(
                "SELECT token, token_expires_at, refresh_token, refresh_expires_at FROM shops
                 WHERE shop = ?1 AND status = 'installed' AND token IS NOT NULL",
                [shop],
                |r| {
                    Ok(StoredTokens {
                        access: r.get(0)?,
                        access_expires_at: r.get(1)?,
                        refresh: r.get(2)?,
                        refresh_expires_at: r.get(3)?,
                    })
                },
            )
            .optional()
    }

    /// Stores the token set of an exchange: the shop is installed from now on.
    pub fn save_exchanged(&self, shop: &str, s: &SealedSet) -> rusqlite::Result<()> {
        self.lock().execute(
            "INSERT INTO shops (shop, token, scopes, status, installed_at, updated_at, refresh_token,
                                token_expires_at, refresh_expires_at)
             VALUES (?1, ?2, ?3, 'installed', ?4, ?4, ?5, ?6, ?7)
             ON CONFLICT(shop) DO UPDATE SET token = excluded.token, scopes = excluded.scopes,
                status = 'installed', uninstalled_at = NULL, updated_at = excluded.updated_at,
                installed_at = COALESCE(shops.installed_at, excluded.installed_at),
                refresh_token = excluded.refresh_token, token_expires_at = excluded.token_expires_at,
                refresh_expires_at = excluded.refresh_expires_at",
            params![shop, s.access, s.scopes, s.now, s.refresh, s.access_expires_at, s.refresh_expires_at],
        )?;
        Ok(())
    }

    /// Stores a refreshed pair onto the shop's row, only while it is installed.
    pub fn save_refreshed(&self, shop: &str, s: &SealedSet) -> rusqlite::Result<()> {
        self.lock().execute(
            "UPDATE shops SET token = ?2, scopes = ?3, refresh_token = ?4, token_expires_at = ?5,
                refresh_expires_at = ?6, updated_at = ?7 WHERE shop = ?1 AND status = 'installed'",
            params![shop, s.access, s.scopes, s.refresh, s.access_expires_at, s.refresh_expires_at, s.now],
        )?;
        Ok(())
    }

    /// Forgets tokens Shopify refused, so the next session token exchanges anew.
    pub fn clear_tokens(&self, shop: &str) -> rusqlite::Result<()> {
        self.lock().execute(
            "UPDATE shops SET token = NULL, refresh_token = NULL, token_expires_at = NULL,
                refresh_expires_at = NULL, updated_at = ?2 WHERE shop = ?1",
            params![shop, now_ms_i64()],
        )?;
        Ok(())
    }

    /// Records a delivery id and applies its effect, in one transaction.
    pub fn apply_webhook(&self, d: &Delivery, effect: &WebhookEffect) -> rusqlite::Result<Applied> {
        self.with_tx(|tx| {
            if !first_delivery(tx, &d.webhook_id, &d.topic, &d.shop)? {
                return Ok(Applied::Duplicate);
            }
            match effect {
                WebhookEffect::Order(fact) => {
                    crate::shopify::orders::record(tx, &d.shop, fact).map(|new| Applied::Order { new })
                }
                WebhookEffect::Ticket(t) => {
                    crate::shopify::tickets::insert(tx, &d.webhook_id, &d.shop, t).map(Applied::Ticket)
                }
                WebhookEffect::Uninstalled => mark_uninstalled(tx, &d.shop).map(|()| Applied::Uninstalled),
                WebhookEffect::Scopes(scopes) => {
                    set_scopes(tx, &d.shop, scopes).map(|()| Applied::ScopesUpdated)
                }
                WebhookEffect::Nothing => Ok(Applied::Ignored),
            }
        })
    }

    /// Stores a new OAuth nonce for `shop` and forgets expired ones.
    pub fn put_state(&self, nonce: &str, shop: &str, ttl_secs: i64) -> rusqlite::Result<()> {
        let now = now_ms_i64();
        let conn = self.lock();
        conn.execute("DELETE FROM oauth_states WHERE created_at < ?1", [now - ttl_secs * 1000])?;
        conn.execute(
            "INSERT INTO oauth_states (nonce, shop, created_at) VALUES (?1, ?2, ?3)",
            params![nonce, shop, now],
        )?;
        Ok(())
    }

    /// Consumes a nonce: true when it existed for `shop` and had not expired.
    pub fn take_state(&self, nonce: &str, shop: &str, ttl_secs: i64) -> rusqlite::Result<bool> {
        let cutoff = now_ms_i64() - ttl_secs * 1000;
        let n = self.lock().execute(
            "DELETE FROM oauth_states WHERE nonce = ?1 AND shop = ?2 AND created_at >= ?3",
            params![nonce, shop, cutoff],
        )?;
        Ok(n == 1)
    }
}

/// Forgets a shop (`shop/redact`): its install and tokens, OAuth nonces and
/// delivery ids, its orders and refunds, and the contact data in its tickets;
/// the tickets themselves stay as the audit trail of the request.
pub fn forget_shop(tx: &Transaction<'_>, shop: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM shops WHERE shop = ?1", [shop])?;
    tx.execute("DELETE FROM oauth_states WHERE shop = ?1", [shop])?;
    tx.execute("DELETE FROM webhook_deliveries WHERE shop = ?1", [shop])?;
    super::orders::forget_shop(tx, shop)?;
    super::tickets::scrub_shop(tx, shop)?;
    Ok(())
}

/// Records the scopes Shopify now grants (`app/scopes_update`).
pub fn set_scopes(tx: &Transaction<'_>, shop: &str, scopes: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE shops SET scopes = ?2, updated_at = ?3 WHERE shop = ?1",
        params![shop, scopes, now_ms_i64()],
    )?;
    Ok(())
}

fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('shops')")?;
    let have: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    for (name, kind) in SQLITE_TOKEN_COLUMNS {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!("ALTER TABLE shops ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}

/// Marks a shop uninstalled and drops its token (inside a webhook's transaction).
pub fn mark_uninstalled(tx: &Transaction<'_>, shop: &str) -> rusqlite::Result<()> {
    let now = now_ms_i64();
    tx.execute(
        "INSERT INTO shops (shop, token, scopes, status, uninstalled_at, updated_at)
         VALUES (?1, NULL, '', 'uninstalled', ?2, ?2)
         ON CONFLICT(shop) DO UPDATE SET token = NULL, refresh_token = NULL, token_expires_at = NULL,
            refresh_expires_at = NULL, status = 'uninstalled',
            uninstalled_at = excluded.uninstalled_at, updated_at = excluded.updated_at",
        params![shop, now],
    )?;
    Ok(())
}

/// Records a webhook delivery id; false when it was already recorded. Forgets ids
/// older than [`DELIVERY_RETENTION_MS`] on the way.
pub fn first_delivery(
    tx: &Transaction<'_>,
    webhook_id: &str,
    topic: &str,
    shop: &str,
) -> rusqlite::Result<bool> {
    let now = now_ms_i64();
    let n = tx.execute(
        "INSERT OR IGNORE INTO webhook_deliveries (webhook_id, topic, shop, received_at) VALUES (?1, ?2, ?3, ?4)",
        params![webhook_id, topic, shop, now],
    )?;
    if n == 1 {
        tx.execute("DELETE FROM webhook_deliveries WHERE received_at < ?1", [now - DELIVERY_RETENTION_MS])?;
    }
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_delivery_ids_and_forgets_them_after_the_retention() {
        let dir = std::env::temp_dir().join(format!("lummmen-appdb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let db = AppDb::open(&dir).expect("open");
        let first = |id: &str| db.with_tx(|tx| first_delivery(tx, id, "shop/redact", "a.myshopify.com"));
        assert!(first("w1").expect("insert"));
        assert!(!first("w1").expect("duplicate"));
        let old = now_ms_i64() - DELIVERY_RETENTION_MS - 1;
        db.lock()
            .execute("UPDATE webhook_deliveries SET received_at = ?1 WHERE webhook_id = 'w1'", [old])
            .expect("age");
        assert!(first("w2").expect("insert"));
        assert!(first("w1").expect("forgotten, so new again"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
