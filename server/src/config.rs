//! Configuration from command-line flags and `LUMMMEN_*` environment variables.
//! Every option is documented here, in `--help` and in the README.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Lummmen's backend: receives tracker and pixel batches, stores them, serves the
/// merchant's admin page and a demo storefront.
#[derive(Debug, Clone, Parser)]
#[command(name = "lummmen-server", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LUMMMEN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Directory for the embedded database and the spool.
    #[arg(long, env = "LUMMMEN_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Directory of the static pages: the admin page and the demo storefront.
    #[arg(long, env = "LUMMMEN_WWW_DIR", default_value = "www")]
    pub www_dir: PathBuf,

    /// Directory of the built tracker (loader JS, glue JS, wasm), served under
    /// `/assets/` the way Shopify serves the theme app extension's assets.
    #[arg(long, env = "LUMMMEN_ASSETS_DIR", default_value = "extensions/lummmen-theme/assets")]
    pub assets_dir: PathBuf,
}

impl Config {
    /// A configuration for tests: loopback on an ephemeral port, paths relative to
    /// the workspace root.
    pub fn for_tests(workspace_root: &std::path::Path, data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            www_dir: workspace_root.join("www"),
            assets_dir: workspace_root.join("extensions/lummmen-theme/assets"),
        }
    }
}
