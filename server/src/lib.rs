//! Lummmen's backend.
//!
//! Layout:
//! - [`config`]: typed configuration from flags and environment, checked at start-up.
//! - [`app`]: the application state, opened once at start; [`router`]: every
//!   route in one table; [`server`]: binds, serves, shuts down gracefully.
//! - [`health`]: liveness (`/healthz`) and readiness (`/readyz`).
//! - [`ingest`]: `/collect` and the pipeline behind it (spool, drainer, relay).
//! - [`store`]: the event storage trait; its SQLite and ClickHouse backends.
//! - [`deletions`]: privacy deletions that every instance applies to its spool.
//! - [`meta`]: the metadata store (projects, shops, tokens, tickets, orders):
//!   embedded SQLite, or PostgreSQL shared by several instances.
//! - [`projects`]: projects (site ids, shops) and their cached lookups.
//! - [`api`]: everything the embedded admin page calls; [`admin_page`]: the page;
//!   [`storefront`]: where a shop's storefront pages are (the heatmap overlay's links).
//! - [`shopify`]: the Shopify app: settings, session tokens, OAuth install,
//!   webhooks, privacy tickets and their fulfilment.
//! - [`cli`]: the `lummmen-server` command line (serve, manage projects).
//! - Shared pieces: [`clock`] (the one clock), [`sqlite`] (opening an embedded
//!   database, blocking work off the runtime), [`shop`] (shop domains).

pub mod admin_page;
pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deletions;
pub mod health;
pub mod ingest;
pub mod meta;
pub mod projects;
pub mod retention;
pub mod router;
pub mod server;
pub mod shop;
pub mod shopify;
pub mod sqlite;
pub mod stats;
pub mod store;
pub mod storefront;

pub use app::AppState;
pub use config::Config;
pub use server::{serve, ServerHandle};
