//! Lummmen's backend.
//!
//! Layout:
//! - [`config`]: typed configuration from flags and environment, checked at start-up.
//! - [`router`]: every route in one place.
//! - [`health`]: liveness (`/healthz`) and readiness (`/readyz`).
//! - [`server`]: binds, serves, shuts down gracefully.
//! - [`projects`]: projects (site ids, shops), in `<data_dir>/lummmen.db`.
//! - [`ingest`]: `/collect`: decoding, validation, rate limits, metrics.
//! - [`store`]: the event storage trait, SQLite and ClickHouse.
//! - [`shopify`]: the Shopify app: session tokens, OAuth install, webhooks, privacy tickets.
//! - [`admin`]: the embedded admin page, the click heatmap, development session tokens.
//! - [`cli`]: the `lummmen-server` command line (serve, manage projects).

pub mod admin;
pub mod cli;
pub mod config;
pub mod health;
pub mod ingest;
pub mod projects;
pub mod router;
pub mod server;
pub mod shopify;
pub mod store;

pub use config::Config;
pub use server::{serve, ServerHandle};
