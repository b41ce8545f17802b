//! Builds both wasm bundles in release mode and puts them where Shopify's
//! extension formats want them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use base64::Engine;

use crate::names;
use crate::paths::{npm_bin, overlay_entry, pixel_ext, root, run, target_dir, theme_assets, OVERLAY_FILE};

const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm-release";

/// Features rustc enables by default on wasm32 today; binaryen must accept them
/// or it refuses (or, for an old binaryen, silently mangles) the module.
const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

pub fn all() -> anyhow::Result<()> {
    tracker()?;
    pixel()
}

/// rustc flags of the shipped wasm. `-Zlocation-detail=none` leaves out the
/// file, line and column of every panic site: nothing in a shopper's browser
/// reads them (the tracker traps, the pixel's std prints nowhere), and each
/// site kept a path string and a location record. Measured on 2026-12-02:
/// the tracker 22,685 → 22,485 B brotli, the pixel bundle 55,891 → 47,633 B
/// raw. A `-Z` flag on the stable compiler needs `RUSTC_BOOTSTRAP=1`; the flag
/// has been in rustc since 2021, and should a compiler drop it, rustc refuses
/// the unknown flag and the build fails loudly, not silently bigger.
const WASM_RUSTFLAGS: &str = "-Zlocation-detail=none";

/// [`WASM_RUSTFLAGS`] after the flags the caller set (`CARGO_ENCODED_RUSTFLAGS`,
/// or else `RUSTFLAGS`), which setting the variable would otherwise replace.
fn wasm_rustflags() -> String {
    let mut flags: Vec<String> = match std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        Ok(f) if !f.is_empty() => f.split('\x1f').map(String::from).collect(),
        _ => std::env::var("RUSTFLAGS").unwrap_or_default().split_whitespace().map(String::from).collect(),
    };
    flags.push(WASM_RUSTFLAGS.into());
    flags.join("\x1f")
}

/// `cargo build` of one wasm crate in the size-tuned profile, with `extra` flags.
fn cargo_wasm(package: &str, extra: &[&str]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo)
        .current_dir(root())
        // With `--target`, the flags reach the wasm crates only, not build
        // scripts and proc macros. `RUSTC_BOOTSTRAP` reaches those too:
        // proc-macro2's build script then probes the compiler for its unstable
        // span API and uses it only if the probe compiles.
        .env("CARGO_ENCODED_RUSTFLAGS", wasm_rustflags())
        .env("RUSTC_BOOTSTRAP", "1")
        .args(["build", "--profile", PROFILE, "--target", TARGET, "-p", package])
        .args(extra))
}

/// The tracker: release wasm, glue and loader into the theme extension's
/// assets, and the heatmap overlay the loader imports for merchants.
pub fn tracker() -> anyhow::Result<()> {
    // Without std: panics trap instead of formatting a message (tracker-wasm's
    // `std` feature).
    cargo_wasm("tracker-wasm", &["--no-default-features"])?;
    let out = target_dir().join("wasm");
    let tracker = bindgen("tracker_wasm", "lummmen-tracker", &out, &TRACKER_TUNING)?;
    let assets = theme_assets();
    fs::create_dir_all(&assets)?;
    // Minified: its comments and names are bytes every shopper downloads.
    run(Command::new(npm_bin("esbuild"))
        .arg(root().join("tracker-wasm/js/loader.js"))
        .args(["--minify", "--log-level=warning"])
        .arg(format!("--outfile={}", assets.join("lummmen-loader.js").display())))?;
    minify(&tracker.join("lummmen-tracker.js"), &assets.join("lummmen-tracker.js"))?;
    fs::copy(tracker.join("lummmen-tracker_bg.wasm"), assets.join("lummmen-tracker.wasm"))?;
    overlay()
}

/// The heatmap overlay: its modules bundled and minified into one ES module
/// next to the loader (plain JS, no wasm: it only draws).
pub fn overlay() -> anyhow::Result<()> {
    let assets = theme_assets();
    fs::create_dir_all(&assets)?;
    run(Command::new(npm_bin("esbuild"))
        .arg(overlay_entry())
        .args(["--bundle", "--minify", "--format=esm", "--target=es2020", "--log-level=warning"])
        .arg(format!("--outfile={}", assets.join(OVERLAY_FILE).display())))
}

/// The web pixel: release wasm inlined as generated modules, then Shopify's own
/// `shopify app build` for the bundle.
pub fn pixel() -> anyhow::Result<()> {
    cargo_wasm("pixel-wasm", &[])?;
    let out = target_dir().join("wasm");
    let pixel = bindgen("pixel_wasm", "pixel", &out, &PIXEL_TUNING)?;
    let generated = pixel_ext().join("src/generated");
    fs::create_dir_all(&generated)?;
    // The glue's fallback wasm URL uses `import.meta`, which the pixel's iife
    // bundle lacks; the entry always passes the inlined bytes instead.
    let glue = fs::read_to_string(pixel.join("pixel.js"))?
        .replace("new URL('pixel_bg.wasm', import.meta.url)", "undefined");
    fs::write(generated.join("pixel-glue.js"), glue)?;
    // Gzipped before base64: the bundle's raw size is what Shopify limits, and the
    // entry inflates it with the worker's `DecompressionStream`.
    let wasm = fs::read(pixel.join("pixel_bg.wasm"))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut gz, &wasm)?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish()?);
    fs::write(
        generated.join("pixel-wasm.js"),
        format!("// Generated by `cargo xtask build`: the pixel's wasm, gzipped and inlined\n// because the web pixel must be one JS file of at most 128 KB.\nexport default \"{b64}\";\n"),
    )?;
    shopify_app_build()
}

/// How far wasm-opt goes for one bundle.
struct Tuning {
    /// Shorten the names the module and its glue share ([`names`]).
    short_names: bool,
    /// wasm-opt flags after `-Oz`.
    wasm_opt: &'static [&'static str],
}

/// The tracker, fetched by every storefront page view: everything that makes it
/// smaller without changing what it does. `--converge` repeats `-Oz` until it stops
/// gaining; the stripped sections (toolchain names, target features) are read by
/// tools only, never by browsers. `--low-memory-unused` folds a constant added to
/// an address into the load's or store's offset; the two differ only when the
/// address wraps past 4 GiB, which binaryen rules out by assuming nothing lives in
/// the first kilobyte. The tracker's addresses are a few megabytes at most and
/// never wrap, so the folding is exact for it, whether or not its stack (rustc
/// puts it at the bottom of memory) ever reached that kilobyte.
const TRACKER_TUNING: Tuning = Tuning {
    short_names: true,
    wasm_opt: &["--converge", "--low-memory-unused", "--strip-producers", "--strip-target-features"],
};

const PIXEL_TUNING: Tuning = Tuning { short_names: false, wasm_opt: &[] };

/// Runs wasm-bindgen (web target), then, as `tuning` says, shortens the names the
/// module and its glue share, then wasm-opt; returns the output directory.
fn bindgen(crate_name: &str, out_name: &str, out: &Path, tuning: &Tuning) -> anyhow::Result<PathBuf> {
    let input = target_dir().join(format!("{TARGET}/{PROFILE}/{crate_name}.wasm"));
    let dir = out.join(out_name);
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-name", out_name, "--out-dir"])
        .arg(&dir)
        .arg(&input))?;
    let wasm = dir.join(format!("{out_name}_bg.wasm"));
    if tuning.short_names {
        let glue = dir.join(format!("{out_name}.js"));
        let (module, js) =
            names::shorten(&fs::read(&wasm)?, &fs::read_to_string(&glue)?, &format!("./{out_name}_bg.js"))
                .with_context(|| format!("shortening the names shared by {}", wasm.display()))?;
        fs::write(&wasm, module)?;
        fs::write(&glue, js)?;
    }
    run(Command::new(wasm_opt()?)
        .arg("-Oz")
        .args(tuning.wasm_opt)
        .args(WASM_FEATURES)
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    Ok(dir)
}

/// The npm `binaryen` package's wasm-opt. Debian's binaryen 108 is refused on
/// purpose: it silently breaks wasm-bindgen's externref table export.
fn wasm_opt() -> anyhow::Result<PathBuf> {
    let bin = npm_bin("wasm-opt");
    if !bin.exists() {
        bail!("{} is missing: run scripts/setup.sh (npm ci installs binaryen)", bin.display());
    }
    let version = Command::new(&bin).arg("--version").output().context("wasm-opt --version")?;
    let version = String::from_utf8_lossy(&version.stdout);
    if version.contains("version 108") {
        bail!("refusing binaryen 108 ({version}): it breaks wasm-bindgen output");
    }
    Ok(bin)
}

/// Minifies the wasm-bindgen glue with esbuild (from npm); shoppers download it.
/// Bundled from an entry that re-exports only what the loader calls (`default`,
/// the async init, and `boot`), so the rest of the glue (`initSync`) is left out.
fn minify(input: &Path, output: &Path) -> anyhow::Result<()> {
    let file = input.file_name().and_then(|f| f.to_str()).context("glue file name")?;
    let entry = input.with_file_name("entry.js");
    fs::write(&entry, format!("export {{ default, boot }} from \"./{file}\";\n"))?;
    run(Command::new(npm_bin("esbuild"))
        .arg(&entry)
        .args(["--bundle", "--minify", "--format=esm", "--log-level=warning"])
        .arg(format!("--outfile={}", output.display())))
}

/// Shopify's own build of the web pixel: bundles the extension's entry with the
/// generated modules into one file and refuses bundles over 128 KB.
fn shopify_app_build() -> anyhow::Result<()> {
    let home = target_dir().join("shopify-home");
    fs::create_dir_all(&home)?;
    run(Command::new("timeout")
        .current_dir(root())
        .env("HOME", &home)
        .env("SHOPIFY_CLI_NO_ANALYTICS", "1")
        .env("SHOPIFY_CLI_TTY", "0")
        .env("CI", "1")
        .args(["300"])
        .arg(npm_bin("shopify"))
        .args(["app", "build", "--path", "."]))
}
