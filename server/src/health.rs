//! Liveness and readiness, kept apart: a live server that is shutting down or
//! cannot take more batches stays alive but stops being ready, so a load
//! balancer drains it instead of restarting it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::StatusCode;

/// A readiness check beyond shutdown: `Ok(detail)` ready, `Err(reason)` not.
pub type Check = Arc<dyn Fn() -> Result<&'static str, &'static str> + Send + Sync>;

/// Shared readiness state.
#[derive(Clone, Default)]
pub struct Health {
    shutting_down: Arc<AtomicBool>,
    check: Arc<OnceLock<Check>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").field("shutting_down", &self.shutting_down).finish_non_exhaustive()
    }
}

impl Health {
    /// Marks the server as draining: `/readyz` answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        !self.shutting_down.load(Ordering::SeqCst)
    }

    /// Installs the ingest path's check (spool room, storage reachability).
    pub fn set_check(&self, check: Check) {
        let _ = self.check.set(check);
    }

    /// Ready with a detail, or not with a reason.
    pub fn readiness(&self) -> Result<&'static str, &'static str> {
        if !self.is_ready() {
            return Err("shutting down");
        }
        self.check.get().map_or(Ok("ready"), |c| c())
    }
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the process accepts batches. 503 while shutting down or when
/// the spool is full (storage unreachable for longer than the spool covers).
pub async fn readyz(State(health): State<Health>) -> (StatusCode, &'static str) {
    match health.readiness() {
        Ok(detail) => (StatusCode::OK, detail),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}
