//! `cargo xtask bench-deps [ROUNDS]`: what indexing a workspace's dependencies costs, on a
//! workspace that depends on reqwest 0.12.4 (default features: ~100 crates with everything
//! they build with), one `ploke index --no-embed` process per measurement, as a user runs it:
//!
//! - **first, all**: `--deps all` with an empty dependency cache: every dependency parsed,
//!   resolved, written into the cache, and their store written;
//! - **second workspace, all**: another workspace with the same lock file, the cache warm:
//!   nothing parsed (the report says so), the store reused;
//! - **first, direct**: `--deps direct` with an empty cache (reqwest alone);
//! - **none**: the workspace alone.
//!
//! For each: wall time, peak memory of the process (its VmHWM, sampled every 20 ms), the
//! dependencies attached, their items, and the cache's size on disk. Medians of ROUNDS rounds
//! (default 3), the variants interleaved so that a noisy neighbour hits them alike.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

const MANIFEST: &str = r#"[package]
name = "NAME"
version = "0.1.0"
edition = "2021"

[dependencies]
reqwest = "=0.12.4"

[workspace]
"#;

const LIB: &str = "pub async fn get(url: &str) -> reqwest::Result<String> {\n    \
                   reqwest::get(url).await?.text().await\n}\n";

pub fn run(args: &[String]) -> Result<()> {
    let rounds: usize = match args.first() {
        Some(n) => n
            .parse()
            .with_context(|| format!("{n}: usage: cargo xtask bench-deps [ROUNDS]"))?,
        None => 3,
    };
    if rounds == 0 {
        bail!("usage: cargo xtask bench-deps [ROUNDS] (at least 1)");
    }
    let ploke = crate::build_ploke()?;
    let tmp = tempfile::tempdir()?;
    let first = workspace(tmp.path(), "first", None)?;
    let second = workspace(tmp.path(), "second", Some(&first.join("Cargo.lock")))?;

    let mut runs: Vec<(&str, Vec<Run>)> = vec![
        ("first index, --deps all (empty cache)", Vec::new()),
        ("second workspace, --deps all (warm cache)", Vec::new()),
        ("first index, --deps direct (empty cache)", Vec::new()),
        ("workspace alone, --deps none", Vec::new()),
    ];
    for round in 0..rounds {
        let cache = tmp.path().join(format!("cache-{round}"));
        let direct_cache = tmp.path().join(format!("cache-direct-{round}"));
        let a = index(&ploke, &first, &cache, "all")?;
        let b = index(&ploke, &second, &cache, "all")?;
        if b.built != 0 || b.parsed != 0 {
            bail!("the second workspace parsed dependencies again: {b:?}");
        }
        let c = index(&ploke, &first, &direct_cache, "direct")?;
        let d = index(&ploke, &first, &tmp.path().join("cache-none"), "none")?;
        runs[0].1.push(a);
        runs[1].1.push(b);
        runs[2].1.push(c);
        runs[3].1.push(d);
        let _ = std::fs::remove_dir_all(&cache);
        let _ = std::fs::remove_dir_all(&direct_cache);
    }
    println!(
        "a workspace depending on reqwest 0.12.4 (default features), {rounds} rounds, \
         `ploke index --no-embed` (medians)"
    );
    println!(
        "  {:<44} {:>8} {:>9} {:>7} {:>8} {:>8} {:>10}",
        "", "wall s", "peak MiB", "crates", "built", "items", "cache MiB"
    );
    let mut medians = Vec::new();
    for (name, v) in &runs {
        let med = |f: fn(&Run) -> f64| crate::bench_mcp::median_p90(v.iter().map(f).collect()).0;
        let wall = med(|r| r.wall_s);
        medians.push(wall);
        println!(
            "  {name:<44} {wall:>8.2} {:>9.0} {:>7.0} {:>8.0} {:>8.0} {:>10.0}",
            med(|r| r.peak_mib),
            med(|r| r.crates as f64),
            med(|r| r.built as f64),
            med(|r| r.items as f64),
            med(|r| r.cache_mib),
        );
    }
    println!(
        "  second workspace / first: {:.3} (goal <= 0.10); first, all: {:.1} s (goal <= 20 s)",
        medians[1] / medians[0],
        medians[0]
    );
    Ok(())
}

#[derive(Debug)]
struct Run {
    wall_s: f64,
    peak_mib: f64,
    crates: u64,
    built: u64,
    parsed: u64,
    items: u64,
    cache_mib: f64,
}

/// A workspace depending on reqwest, its lock file copied from `lock` or resolved (from
/// cargo's cache when it can, else crates.io), its sources fetched.
fn workspace(dir: &Path, name: &str, lock: Option<&Path>) -> Result<PathBuf> {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("src"))?;
    std::fs::write(root.join("Cargo.toml"), MANIFEST.replace("NAME", name))?;
    std::fs::write(root.join("src/lib.rs"), LIB)?;
    if let Some(lock) = lock {
        let text = std::fs::read_to_string(lock)?.replace("\"first\"", &format!("\"{name}\""));
        std::fs::write(root.join("Cargo.lock"), text)?;
    }
    let offline = Command::new("cargo")
        .args(["fetch", "--offline"])
        .current_dir(&root)
        .output()?;
    if !offline.status.success() {
        let online = Command::new("cargo")
            .arg("fetch")
            .current_dir(&root)
            .output()?;
        if !online.status.success() {
            bail!(
                "cargo fetch for reqwest 0.12.4 failed: {}",
                String::from_utf8_lossy(&online.stderr)
            );
        }
    }
    Ok(root)
}

/// One `ploke index --deps SCOPE` from a fresh index directory.
fn index(ploke: &Path, root: &Path, cache: &Path, scope: &str) -> Result<Run> {
    let _ = std::fs::remove_dir_all(root.join(".ploke"));
    let t = Instant::now();
    let mut child = Command::new(ploke)
        .args(["index", "--no-embed", "--json", "--deps", scope])
        .current_dir(root)
        .env("PLOKE_CACHE_DIR", cache)
        .env("PLOKE_EMBED", "off")
        .env_remove("PLOKE_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0f64;
    let stdout = child.stdout.take().context("stdout")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout));
    loop {
        if let Some(kib) = vm_hwm_kib(&status_file) {
            peak_kib = peak_kib.max(kib);
        }
        if child.try_wait()?.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output()?;
    let wall_s = t.elapsed().as_secs_f64();
    let stdout = reader.join().map_err(|_| anyhow::anyhow!("reader"))??;
    if !out.status.success() {
        bail!(
            "ploke index --deps {scope} in {} failed: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: serde_json::Value = serde_json::from_str(&stdout)
        .with_context(|| format!("ploke index --json printed {stdout}"))?;
    let deps = &v["dependencies"];
    let n = |k: &str| deps[k].as_u64().unwrap_or(0);
    Ok(Run {
        wall_s,
        peak_mib: peak_kib / 1024.0,
        crates: n("crates"),
        built: n("built"),
        parsed: n("parsed_files"),
        items: n("items"),
        cache_mib: dir_bytes(&cache.join("deps")) as f64 / (1024.0 * 1024.0),
    })
}

fn vm_hwm_kib(status_file: &str) -> Option<f64> {
    std::fs::read_to_string(status_file)
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
