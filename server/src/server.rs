//! Binding, serving and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::config::Config;
use crate::projects::ProjectStore;
use crate::router::router;
use crate::store::EventStore;

/// Serves until `shutdown` completes, then stops accepting, finishes in-flight
/// requests and returns.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = AppState::open(&config).await?;
    serve_with(listener, state, shutdown).await
}

async fn serve_with(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(&state);
    let health = state.health.clone();
    let drain = async move {
        shutdown.await;
        health.begin_shutdown();
    };
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(drain)
        .await?;
    // No request is in flight any more: drain the spool, then stop.
    state.pipeline.shutdown().await;
    Ok(())
}

/// A server running on a background task; shuts down when dropped. Used by the
/// integration and end-to-end tests.
#[derive(Debug)]
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    state: AppState,
    data_dir: std::path::PathBuf,
}

impl ServerHandle {
    /// Binds `config.listen` (port 0 picks a free port) and serves in the background.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = AppState::open(&config).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(listener, state.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(Self { addr, stop: Some(stop), task: Some(task), state, data_dir: config.data_dir.clone() })
    }

    /// The event store this server writes to, for reading back what was posted.
    pub fn store(&self) -> Arc<dyn EventStore> {
        Arc::clone(&self.state.events)
    }

    /// The embedded projects database (`lummmen.db`), opened anew: tests set
    /// projects up through it as the operator's CLI does.
    pub fn projects(&self) -> ProjectStore {
        ProjectStore::open(&self.data_dir).expect("the projects database opens")
    }

    /// The metadata store the server uses.
    pub fn meta(&self) -> Arc<dyn crate::meta::MetaStore> {
        Arc::clone(self.state.projects.store())
    }

    /// Waits until every batch acknowledged so far is in storage.
    pub async fn flush(&self) -> std::io::Result<()> {
        self.state.pipeline.flush().await.map_err(std::io::Error::other)
    }

    /// The base URL, `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits until it has drained.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
