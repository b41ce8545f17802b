//! `lummmen-server`: reads the configuration, sets up logging, serves until
//! Ctrl-C or SIGTERM; or runs an operator subcommand (`projects ...`).

use anyhow::Context;
use clap::Parser;
use lummmen_server::cli::{run_projects, run_retention, Cli, Command};
use lummmen_server::serve;
use tracing_subscriber::EnvFilter;

/// Faster than glibc's malloc on the ingest path's many small strings, and it
/// returns freed memory to the system instead of keeping it in per-thread arenas.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    // A bounded blocking pool: SQLite and file work run there, and every extra
    // thread costs memory (stacks, malloc arenas) for no throughput on few cores.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .context("starting the runtime")?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let Cli { config, command } = Cli::parse();
    match command {
        Some(Command::Projects { command }) => {
            println!("{}", run_projects(&config, command).await?);
            return Ok(());
        }
        Some(Command::Retention) => {
            println!("{}", run_retention(&config).await?);
            return Ok(());
        }
        Some(Command::Serve) | None => {}
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(addr = %listener.local_addr()?, "serving; demo storefront at /demo/, admin at /admin/");
    serve(config, listener, shutdown_signal()).await.context("serving")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: draining");
}
