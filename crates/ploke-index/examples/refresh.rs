//! Times in-process refreshes after one-file edits: `cargo run --release -p ploke-index
//! --example refresh -- PATH [EDITS]`. Works on a copy it makes of nothing: it edits PATH's
//! files (appending a function, then restoring), so point it at a scratch copy.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::Instant;

use ploke_index::{Changes, IndexOptions, Indexer, NoProgress};

/// The allocator the `ploke` binary uses, so that the times are the ones it sees.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLOKE_LOG"))
        .with_writer(std::io::stderr)
        .try_init();
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("PATH"));
    let edits: usize = args.next().map_or(10, |n| n.parse().expect("EDITS"));
    let opts = IndexOptions::default();
    let t = Instant::now();
    let mut ix = Indexer::open(&path, &opts).expect("open");
    let r = ix.refresh(Changes::All, &NoProgress).expect("refresh");
    println!(
        "full refresh {:.0} ms ({} files, {} items): {:?}",
        t.elapsed().as_secs_f64() * 1000.0,
        r.files,
        r.nodes,
        r.stages
    );
    let root = ix.workspace().root.clone();
    let mut files: Vec<PathBuf> = ix
        .graph()
        .files
        .iter()
        .filter(|f| f.path.contains("src/") && !f.path.contains("test"))
        .map(|f| root.join(&f.path))
        .collect();
    files.sort();
    let step = (files.len() / edits.max(1)).max(1);
    let mut times = Vec::new();
    for (i, f) in files.iter().step_by(step).take(edits).enumerate() {
        let before = std::fs::read_to_string(f).unwrap();
        std::fs::write(
            f,
            format!("{before}\npub fn ploke_refresh_marker_{i}() {{}}\n"),
        )
        .unwrap();
        let t = Instant::now();
        let r = ix
            .refresh(Changes::Paths(vec![f.clone()]), &NoProgress)
            .expect("refresh");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        times.push(ms);
        let stages: Vec<String> = r
            .stages
            .iter()
            .map(|(n, d)| format!("{n} {:.1}", d.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{ms:7.1} ms  rows {:5}  {}  {}",
            r.delta_rows,
            stages.join(", "),
            f.display()
        );
        std::fs::write(f, before).unwrap();
        ix.refresh(Changes::Paths(vec![f.clone()]), &NoProgress)
            .expect("refresh");
    }
    times.sort_by(f64::total_cmp);
    if !times.is_empty() {
        println!(
            "median {:.1} ms over {} edits",
            times[times.len() / 2],
            times.len()
        );
    }
}
