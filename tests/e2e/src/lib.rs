//! Helpers for the end-to-end tests: a real chromedriver driving Debian's
//! Chromium headless, and the real server on a loopback port.
//!
//! The built bundles (`cargo xtask build`) must exist: these tests exercise the
//! release tracker exactly as shoppers get it, which is what catches a broken
//! wasm-opt.

pub mod fake_admin;
pub mod overlay;
pub mod proxy;
pub mod storefront;
pub mod tracker;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fantoccini::{Client, ClientBuilder, Locator};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Chromium flags for this closed network: no background connections, no GPU,
/// no sandbox (tests run as root).
pub const CHROME_ARGS: [&str; 10] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,800",
];

/// A chromedriver process and a WebDriver session on it; both end on drop.
#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    pub async fn start() -> anyhow::Result<Self> {
        // ring and aws-lc-rs are both linked: rustls needs to be told which to use.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let port = free_port()?;
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {driver_bin} (run scripts/setup.sh --test)"))?;
        let profile = TempDir::new("chrome-profile")?;
        let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.0.display()));
        let caps = serde_json::json!({
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": args,
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let serde_json::Value::Object(caps) = caps else { bail!("capabilities") };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()?.capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => bail!("chromedriver session: {e}"),
            }
        };
        Ok(Self { client, driver, _profile: profile })
    }

    /// A real click (WebDriver) on the first element matching `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.client.find(Locator::Css(css)).await?.click().await.with_context(|| format!("click {css}"))?;
        Ok(())
    }

    /// Polls a JS expression until it is truthy; returns its value.
    pub async fn wait_for(&self, expr: &str, timeout: Duration) -> anyhow::Result<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.client.execute(&format!("return {expr};"), vec![]).await?;
            let truthy = !matches!(&v, serde_json::Value::Null | serde_json::Value::Bool(false))
                && v != serde_json::json!(0)
                && v != serde_json::json!("");
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for `{expr}`");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens one of the admin page's views (`dashboard`, `heatmap`, `tickets`,
    /// `project`) with a real click on its tab, as a merchant would.
    pub async fn show_view(&self, view: &str) -> anyhow::Result<()> {
        self.click(&format!("#nav-{view}")).await?;
        self.wait_for(&format!("!document.getElementById('{view}').hidden"), Duration::from_secs(5)).await?;
        Ok(())
    }

    /// Clicks the admin page's "Enable tracking" (in its settings view) and
    /// answers what the page then says (the result line, once it shows an
    /// outcome).
    pub async fn enable_tracking(&self) -> anyhow::Result<String> {
        self.show_view("project").await?;
        self.client
            .execute("document.getElementById('enable-result').className = ''; return 1", vec![])
            .await?;
        self.click("#enable").await?;
        let text = self
            .wait_for(
                "document.getElementById('enable-result').className && document.getElementById('enable-result').textContent",
                Duration::from_secs(15),
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Ends the WebDriver session, then the driver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        self.client.clone().close().await?;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// A directory removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
        let p = std::env::temp_dir().join(format!("lummmen-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p)?;
        Ok(Self(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
