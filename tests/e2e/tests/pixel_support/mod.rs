//! Shared by the web pixel's end-to-end tests: where the built bundle is, and a
//! one-file HTTP server for it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use anyhow::Context;
use lummmen_e2e::root;

/// The web pixel bundle as `shopify app build` writes it (`cargo xtask build`).
pub fn pixel_bundle() -> PathBuf {
    root().join("extensions/lummmen-pixel/dist/lummmen-pixel.js")
}

/// Serves one file over HTTP on a loopback port, whatever the path asked; stops on
/// drop. A worker may `importScripts` a script from another origin, so a page
/// served by the real server can load a bundle from here.
#[derive(Debug)]
pub struct FileServer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl FileServer {
    pub async fn start(path: &Path, content_type: &'static str) -> anyhow::Result<Self> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = std::sync::Arc::new(std::fs::read(path).with_context(|| format!("{}", path.display()))?);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!(
            "http://{}/{}",
            listener.local_addr()?,
            path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
        );
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    // Read the request head (bounded), then answer with the file.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match conn.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let header = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nAccess-Control-Allow-Origin: *\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(header.as_bytes()).await;
                    let _ = conn.write_all(&body).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Ok(Self { url, task })
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
