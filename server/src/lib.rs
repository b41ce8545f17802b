//! Lummmen's backend.
//!
//! Layout:
//! - [`config`]: typed configuration from flags and environment, checked at start-up.
//! - [`router`]: every route in one place.
//! - [`health`]: liveness (`/healthz`) and readiness (`/readyz`).
//! - [`server`]: binds, serves, shuts down gracefully.

pub mod config;
pub mod health;
pub mod router;
pub mod server;

pub use config::Config;
pub use server::{serve, ServerHandle};
