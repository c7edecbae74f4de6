//! `cargo xtask bench-cli [ROUNDS]`: what the command line's freshness costs on tokio 1.38
//! (lexical search, so that no model load blurs it), one process per command, as a user runs
//! it, measured side by side in one run:
//!
//! - **search, stored**: `ploke search Q --no-refresh` (process start, opening the index,
//!   loading the snapshot, searching, printing);
//! - **search, nothing changed**: `ploke search Q`: the same plus the check that every indexed
//!   file is unchanged (a stat of each);
//! - **search, one file changed**: a line appended to one file before each run: the check,
//!   re-indexing that file, then the search on the new generation; and the re-index alone as
//!   the command reports it;
//! - **status**, and **item** by a re-export path.
//!
//! Medians (and p90) of ROUNDS runs each (default 15), interleaved so that a noisy neighbour
//! hits every variant alike.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

pub fn run(args: &[String]) -> Result<()> {
    let rounds: usize = match args.first() {
        Some(n) => n
            .parse()
            .with_context(|| format!("{n}: usage: cargo xtask bench-cli [ROUNDS]"))?,
        None => 15,
    };
    let ploke = crate::build_ploke()?;
    let tmp = tempfile::tempdir()?;
    let root = crate::tokio_copy(tmp.path())?;
    let cmd = |args: &[&str]| {
        let mut c = Command::new(&ploke);
        c.args(args)
            .current_dir(&root)
            .env("PLOKE_EMBED", "off")
            .env_remove("PLOKE_LOG");
        c
    };
    let t = Instant::now();
    if !cmd(&["index"]).output()?.status.success() {
        bail!("ploke index {} failed", root.display());
    }
    eprintln!("indexed tokio in {:.1} s", t.elapsed().as_secs_f64());

    let query = "make the retry delay configurable";
    let search = ["search", query, "--mode", "lexical"];
    let changed = root.join("src/time/sleep.rs");
    if !changed.exists() {
        bail!("{}: missing in the corpus copy", changed.display());
    }
    let mut stored = Vec::new();
    let mut unchanged = Vec::new();
    let mut after_change = Vec::new();
    let mut reindex_ms = Vec::new();
    let mut status = Vec::new();
    let mut item = Vec::new();
    let timed = |c: &mut Command| -> Result<(f64, String)> {
        let t = Instant::now();
        let out = c.output()?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if out.status.code() == Some(2) {
            bail!("{c:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok((ms, String::from_utf8_lossy(&out.stderr).into_owned()))
    };
    // One warm-up of each, then ROUNDS interleaved rounds.
    for round in 0..=rounds {
        let mut with = search.to_vec();
        with.push("--no-refresh");
        let a = timed(&mut cmd(&with))?.0;
        let b = timed(&mut cmd(&search))?.0;
        append(&changed, &format!("\n// bench-cli edit {round}\n"))?;
        let (c, note) = timed(&mut cmd(&search))?;
        let r = reported_ms(&note)
            .with_context(|| format!("no re-index note after a change: {note}"))?;
        let s = timed(&mut cmd(&["status"]))?.0;
        let i = timed(&mut cmd(&["item", "tokio::sync::Mutex", "--no-refresh"]))?.0;
        if round > 0 {
            stored.push(a);
            unchanged.push(b);
            after_change.push(c);
            reindex_ms.push(r);
            status.push(s);
            item.push(i);
        }
    }
    println!("tokio 1.38.0, {rounds} rounds, one process per command (ms: median / p90)");
    let (s_med, _) = crate::bench_mcp::median_p90(stored.clone());
    for (name, v) in [
        ("search --no-refresh (stored index)", stored),
        ("search, nothing changed (check)", unchanged.clone()),
        ("search, one file changed", after_change),
        ("  re-index of that file, as reported", reindex_ms),
        ("status", status),
        ("item tokio::sync::Mutex (re-export)", item),
    ] {
        let (med, p90) = crate::bench_mcp::median_p90(v);
        println!("  {name:<40} {med:>8.1} / {p90:>8.1}");
    }
    let (u_med, _) = crate::bench_mcp::median_p90(unchanged);
    println!(
        "  freshness check overhead: {:+.1} ms ({:.3}x of a stored search)",
        u_med - s_med,
        u_med / s_med
    );
    Ok(())
}

/// Appends `text` to `path`.
fn append(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// The milliseconds of `note: re-indexed … in N ms` (or `N.NN s`).
fn reported_ms(stderr: &str) -> Option<f64> {
    let line = stderr.lines().find(|l| l.contains("re-indexed"))?;
    let tail = line.rsplit_once(" in ")?.1;
    let mut words = tail.split_whitespace();
    let n: f64 = words.next()?.parse().ok()?;
    match words.next()? {
        "ms" => Some(n),
        "s" => Some(n * 1000.0),
        _ => None,
    }
}
