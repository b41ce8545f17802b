//! Binding, serving and graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::ingest::Ingest;
use crate::projects::{demo_project, ProjectStore};
use crate::router::router;
use crate::store::EventStore;

/// Opens what the server needs: the projects database (seeding the demo
/// project when configured) and the event store.
pub async fn open(config: &Config) -> std::io::Result<Ingest> {
    let projects = ProjectStore::open(&config.data_dir).map_err(std::io::Error::other)?;
    if config.seed_demo && projects.ensure(&demo_project()).map_err(std::io::Error::other)? {
        tracing::info!("created the demo project (site id 1)");
    }
    let store = crate::store::open(config).await.map_err(std::io::Error::other)?;
    tracing::info!(store = store.name(), "event store open");
    Ingest::start(config, projects, store)
}

/// Serves until `shutdown` completes, then stops accepting, finishes in-flight
/// requests and returns.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ingest = open(&config).await?;
    serve_with(config, listener, ingest, shutdown).await
}

async fn serve_with(
    config: Config,
    listener: TcpListener,
    ingest: Ingest,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let health = ingest.health().clone();
    let app = router(&config, health.clone(), &ingest);
    let drain = async move {
        shutdown.await;
        health.begin_shutdown();
    };
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(drain)
        .await?;
    // No request is in flight any more: drain the spool, then stop.
    ingest.shutdown().await;
    Ok(())
}

/// A server running on a background task; shuts down when dropped. Used by the
/// integration and end-to-end tests.
#[derive(Debug)]
pub struct ServerHandle {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    ingest: Ingest,
}

impl ServerHandle {
    /// Binds `config.listen` (port 0 picks a free port) and serves in the background.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let ingest = open(&config).await?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(config, listener, ingest.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(Self { addr, stop: Some(stop), task: Some(task), ingest })
    }

    /// The event store this server writes to, for reading back what was posted.
    pub fn store(&self) -> Arc<dyn EventStore> {
        self.ingest.store()
    }

    /// The projects database.
    pub fn projects(&self) -> ProjectStore {
        self.ingest.projects().clone()
    }

    /// Waits until every batch acknowledged so far is in storage.
    pub async fn flush(&self) -> std::io::Result<()> {
        self.ingest.flush().await.map_err(std::io::Error::other)
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
