//! Liveness and readiness, kept apart: a live server that is shutting down or
//! cannot reach its storage stays alive but stops being ready, so a load balancer
//! drains it instead of restarting it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;

/// Shared readiness flag.
#[derive(Debug, Clone, Default)]
pub struct Health {
    shutting_down: Arc<AtomicBool>,
}

impl Health {
    /// Marks the server as draining: `/readyz` answers 503 from now on.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        !self.shutting_down.load(Ordering::SeqCst)
    }
}

/// `GET /healthz`: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the process accepts traffic.
pub async fn readyz(State(health): State<Health>) -> (StatusCode, &'static str) {
    if health.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    }
}
