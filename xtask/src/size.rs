//! Download sizes: raw, gzip (level 9) and brotli (quality 11), as a CDN would
//! serve them.

use std::io::Write;

use anyhow::{bail, Context};

use crate::paths::{pixel_bundle, theme_assets, uplot_files, OVERLAY_FILE, TRACKER_FILES};

/// Shopify's limit on the web pixel bundle, raw bytes (Shopify CLI).
pub const PIXEL_LIMIT: u64 = 128 * 1024;

/// The tracker's budget, brotli bytes of loader, glue and wasm together: what
/// every shopper downloads (22 KB; the goal is 20 KB).
pub const TRACKER_BUDGET: u64 = 22 * 1024;

#[derive(Debug, Default, Clone, Copy)]
struct Sizes {
    raw: u64,
    gzip: u64,
    brotli: u64,
}

impl std::ops::Add for Sizes {
    type Output = Sizes;
    fn add(self, o: Sizes) -> Sizes {
        Sizes { raw: self.raw + o.raw, gzip: self.gzip + o.gzip, brotli: self.brotli + o.brotli }
    }
}

fn measure(bytes: &[u8]) -> anyhow::Result<Sizes> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gzip = gz.finish()?.len() as u64;
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 4096, 11, 22);
        w.write_all(bytes)?;
    }
    Ok(Sizes { raw: bytes.len() as u64, gzip, brotli: br.len() as u64 })
}

fn row(name: &str, s: Sizes) {
    println!("{name:<34} {:>9} {:>9} {:>9}", s.raw, s.gzip, s.brotli);
}

pub fn report() -> anyhow::Result<()> {
    println!("{:<34} {:>9} {:>9} {:>9}", "file (bytes)", "raw", "gzip", "brotli");
    let mut tracker = Sizes::default();
    for name in TRACKER_FILES {
        let path = theme_assets().join(name);
        let bytes =
            std::fs::read(&path).with_context(|| format!("{}: run `cargo xtask build`", path.display()))?;
        let s = measure(&bytes)?;
        row(&format!("tracker/{name}"), s);
        tracker = tracker + s;
    }
    row("tracker total", tracker);
    if tracker.brotli > TRACKER_BUDGET {
        bail!("the tracker is {} bytes brotli, over its budget of {TRACKER_BUDGET}", tracker.brotli);
    }
    let path = pixel_bundle();
    let bytes =
        std::fs::read(&path).with_context(|| format!("{}: run `cargo xtask build`", path.display()))?;
    let pixel = measure(&bytes)?;
    row("pixel/lummmen-pixel.js", pixel);
    if pixel.raw > PIXEL_LIMIT {
        bail!("the pixel bundle is {} bytes, over Shopify's limit of {PIXEL_LIMIT}", pixel.raw);
    }
    println!("pixel bundle within Shopify's limit: {} of {PIXEL_LIMIT} bytes", pixel.raw);
    // What the merchant's storefront tab downloads for the heatmap overlay
    // (not shoppers: the loader imports it for the admin's link only).
    let path = theme_assets().join(OVERLAY_FILE);
    let bytes =
        std::fs::read(&path).with_context(|| format!("{}: run `cargo xtask build`", path.display()))?;
    row(&format!("overlay/{OVERLAY_FILE}"), measure(&bytes)?);
    // What the merchant's admin page downloads for its charts (not shoppers).
    let mut charts = Sizes::default();
    for path in uplot_files() {
        let bytes = std::fs::read(&path).with_context(|| format!("{}: run `npm ci`", path.display()))?;
        let s = measure(&bytes)?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        row(&format!("admin/uplot/{name}"), s);
        charts = charts + s;
    }
    row("admin charts total", charts);
    Ok(())
}
