//! Versioned schema migrations, run at start by each backend: a migration is
//! applied once, in order, and the database records the last one applied
//! (SQLite: `PRAGMA user_version`; PostgreSQL: the `schema_migrations` table,
//! written under an advisory lock so instances starting together apply each
//! migration once).
//!
//! Only ever append: a released migration is never edited, since databases
//! out there have already run it.
//!
//! The SQLite files of versions before migrations were numbered have
//! `user_version` 0 and already hold some of these tables; their steps are
//! written to be no-ops there (`IF NOT EXISTS`, columns added only when
//! missing), so such a database upgrades without loss.

/// One step: its version and its statements.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub sql: &'static str,
}

/// `<data_dir>/lummmen.db`.
pub const SQLITE_PROJECTS: &[Migration] = &[
    Migration {
        version: 1,
        sql: "CREATE TABLE IF NOT EXISTS projects (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                sample INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS project_shops (
                shop TEXT PRIMARY KEY,
                project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE
            );
            CREATE INDEX IF NOT EXISTS project_shops_by_project ON project_shops(project_id);",
    },
    Migration {
        version: 2,
        sql: "CREATE TABLE IF NOT EXISTS project_retention (
                project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
                months INTEGER NOT NULL
            );",
    },
];

/// `<data_dir>/shopify.db`. Version 2 (the expiring tokens' columns) is
/// applied by [`crate::meta::sqlite`] column by column, since a database from
/// before numbered migrations may have some of them already.
pub const SQLITE_APP: &[Migration] = &[
    Migration {
        version: 1,
        sql: "CREATE TABLE IF NOT EXISTS shops (
                shop TEXT PRIMARY KEY,
                token TEXT,
                scopes TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL,
                installed_at INTEGER,
                uninstalled_at INTEGER,
                updated_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS oauth_states (
                nonce TEXT PRIMARY KEY,
                shop TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS webhook_deliveries (
                webhook_id TEXT PRIMARY KEY,
                topic TEXT NOT NULL,
                shop TEXT NOT NULL,
                received_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS tickets (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                webhook_id TEXT,
                topic TEXT NOT NULL,
                shop TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                status TEXT NOT NULL,
                platform TEXT NOT NULL,
                resolved_at INTEGER,
                resolver TEXT,
                outcome TEXT
            );
            CREATE TABLE IF NOT EXISTS shop_orders (
                shop TEXT NOT NULL,
                order_id TEXT NOT NULL,
                time_ms INTEGER NOT NULL,
                total REAL NOT NULL,
                currency TEXT NOT NULL,
                PRIMARY KEY (shop, order_id)
            );
            CREATE TABLE IF NOT EXISTS shop_refunds (
                shop TEXT NOT NULL,
                refund_id TEXT NOT NULL,
                order_id TEXT NOT NULL,
                time_ms INTEGER NOT NULL,
                amount REAL NOT NULL,
                currency TEXT NOT NULL,
                PRIMARY KEY (shop, refund_id, currency)
            );
            CREATE INDEX IF NOT EXISTS deliveries_by_time ON webhook_deliveries(received_at);
            CREATE INDEX IF NOT EXISTS tickets_by_shop ON tickets(shop, id);
            CREATE INDEX IF NOT EXISTS orders_by_time ON shop_orders(shop, time_ms);
            CREATE INDEX IF NOT EXISTS refunds_by_time ON shop_refunds(shop, time_ms);
            CREATE INDEX IF NOT EXISTS refunds_by_order ON shop_refunds(shop, order_id);",
    },
    Migration { version: 2, sql: "" },
];

/// The columns of [`SQLITE_APP`]'s version 2: the sealed refresh token and
/// when each token expires (milliseconds since the epoch; NULL: never, as a
/// token from the authorization-code flow).
pub const SQLITE_TOKEN_COLUMNS: [(&str, &str); 3] =
    [("refresh_token", "TEXT"), ("token_expires_at", "INTEGER"), ("refresh_expires_at", "INTEGER")];

/// The PostgreSQL database: every table in one schema. Times are milliseconds
/// since the epoch (`BIGINT`), as in SQLite, so both backends read the same.
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        sql: "CREATE TABLE projects (
                id BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                sample SMALLINT NOT NULL
            );
            CREATE TABLE project_shops (
                shop TEXT PRIMARY KEY,
                project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE
            );
            CREATE INDEX project_shops_by_project ON project_shops(project_id);
            CREATE TABLE project_retention (
                project_id BIGINT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
                months SMALLINT NOT NULL
            );
            CREATE TABLE shops (
                shop TEXT PRIMARY KEY,
                token TEXT,
                scopes TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL,
                installed_at BIGINT,
                uninstalled_at BIGINT,
                updated_at BIGINT NOT NULL,
                refresh_token TEXT,
                token_expires_at BIGINT,
                refresh_expires_at BIGINT
            );
            CREATE TABLE oauth_states (
                nonce TEXT PRIMARY KEY,
                shop TEXT NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE webhook_deliveries (
                webhook_id TEXT PRIMARY KEY,
                topic TEXT NOT NULL,
                shop TEXT NOT NULL,
                received_at BIGINT NOT NULL
            );
            CREATE INDEX deliveries_by_time ON webhook_deliveries(received_at);
            CREATE TABLE tickets (
                id BIGSERIAL PRIMARY KEY,
                webhook_id TEXT,
                topic TEXT NOT NULL,
                shop TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                status TEXT NOT NULL,
                platform TEXT NOT NULL,
                resolved_at BIGINT,
                resolver TEXT,
                outcome TEXT
            );
            CREATE INDEX tickets_by_shop ON tickets(shop, id);
            CREATE TABLE shop_orders (
                shop TEXT NOT NULL,
                order_id TEXT NOT NULL,
                time_ms BIGINT NOT NULL,
                total DOUBLE PRECISION NOT NULL,
                currency TEXT NOT NULL,
                PRIMARY KEY (shop, order_id)
            );
            CREATE INDEX orders_by_time ON shop_orders(shop, time_ms);
            CREATE TABLE shop_refunds (
                shop TEXT NOT NULL,
                refund_id TEXT NOT NULL,
                order_id TEXT NOT NULL,
                time_ms BIGINT NOT NULL,
                amount DOUBLE PRECISION NOT NULL,
                currency TEXT NOT NULL,
                PRIMARY KEY (shop, refund_id, currency)
            );
            CREATE INDEX refunds_by_time ON shop_refunds(shop, time_ms);
            CREATE INDEX refunds_by_order ON shop_refunds(shop, order_id);",
    },
    Migration {
        // A second guard besides the delivery id: one ticket per delivery,
        // even once the delivery id itself has been forgotten.
        version: 2,
        sql: "CREATE UNIQUE INDEX tickets_by_webhook ON tickets(webhook_id);",
    },
    Migration {
        // Privacy deletions every instance applies to its own spool before
        // the deleting instance deletes from the event store (crate::deletions).
        version: 3,
        sql: "CREATE TABLE deletions (
                id BIGSERIAL PRIMARY KEY,
                sites TEXT NOT NULL,
                visitors TEXT,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE instances (
                id TEXT PRIMARY KEY,
                seen BIGINT NOT NULL,
                beat_at BIGINT NOT NULL
            );",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for list in [SQLITE_PROJECTS, SQLITE_APP, POSTGRES] {
            let versions: Vec<i64> = list.iter().map(|m| m.version).collect();
            assert_eq!(versions, (1..=list.len() as i64).collect::<Vec<_>>());
        }
    }
}
