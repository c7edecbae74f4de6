//! Write and read timings on a synthetic graph the size of a ~100k-line crate:
//! 15k nodes, 60k edges, 150 files with 3 MB of source text.
//!
//! `cargo run --release -p ploke-db --example timings [dir]` (a temporary directory by default).
//! Wall time and this thread's CPU time are printed; on a shared machine the CPU time is the
//! steadier number.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use ploke_core::{EdgeKind, Graph};
use ploke_db::Db;

/// CPU time of this thread in nanoseconds (Linux), to tell work from waiting on a busy machine.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn time<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (t, c) = (Instant::now(), cpu_ns());
    let out = f();
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    match (c, cpu_ns()) {
        (Some(a), Some(b)) => println!(
            "{what:<44} {wall:>8.1} ms  (cpu {:>7.1} ms)",
            (b - a) as f64 / 1e6
        ),
        _ => println!("{what:<44} {wall:>8.1} ms"),
    }
    out
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("index"));
    let g = time("build synthetic graph", || {
        common::synthetic(42, 150, 15_000, 4)
    });
    let srcs = common::sources(&g, 20_000);
    let src_bytes: usize = srcs.iter().map(|(_, t)| t.len()).sum();
    println!(
        "graph: {} nodes, {} edges, {} unresolved, {} files, {:.1} MB source",
        g.nodes.len(),
        g.edges.len(),
        g.unresolved.len(),
        g.files.len(),
        src_bytes as f64 / 1e6
    );

    let db = time("open (create schema, sqlite)", || Db::open(&dir).unwrap());
    let delta = time("Graph::diff(empty, g)", || {
        Graph::diff(&Graph::default(), &g)
    });
    time("apply full write (sqlite, incl. sources)", || {
        db.apply(&delta, &srcs, &[]).unwrap()
    });
    let loaded = time("load_graph", || db.load_graph().unwrap());
    assert_eq!(loaded, g);
    let nodes = time("all_nodes", || db.all_nodes().unwrap());
    assert_eq!(nodes.len(), g.nodes.len());
    time("stats", || db.stats().unwrap());
    time("files + crates + skipped", || {
        (
            db.files().unwrap(),
            db.crates().unwrap(),
            db.skipped().unwrap(),
        )
    });

    let sample: Vec<_> = g.nodes.iter().step_by(150).collect();
    let n = sample.len() as f64;
    let t = Instant::now();
    for node in &sample {
        assert_eq!(db.node(node.id).unwrap().as_ref(), Some(*node));
    }
    println!(
        "{:<48} {:>9.3} ms",
        "node(id), each",
        t.elapsed().as_secs_f64() * 1000.0 / n
    );
    let t = Instant::now();
    for node in &sample {
        assert!(!db.nodes_by_name(&node.name).unwrap().is_empty());
    }
    println!(
        "{:<48} {:>9.3} ms",
        "nodes_by_name, each",
        t.elapsed().as_secs_f64() * 1000.0 / n
    );
    let t = Instant::now();
    for node in &sample {
        assert!(!db.nodes_by_path(&node.path).unwrap().is_empty());
    }
    println!(
        "{:<48} {:>9.3} ms",
        "nodes_by_path, each",
        t.elapsed().as_secs_f64() * 1000.0 / n
    );
    let t = Instant::now();
    for node in &sample {
        db.callers(node.id).unwrap();
        db.callees(node.id).unwrap();
    }
    println!(
        "{:<48} {:>9.3} ms",
        "callers + callees, each pair",
        t.elapsed().as_secs_f64() * 1000.0 / n
    );
    let t = Instant::now();
    for node in &sample {
        db.children(node.id).unwrap();
        db.edges_to(node.id, EdgeKind::UsesType).unwrap();
    }
    println!(
        "{:<48} {:>9.3} ms",
        "children + edges_to, each pair",
        t.elapsed().as_secs_f64() * 1000.0 / n
    );
    time("source(path)", || db.source(&srcs[7].0).unwrap());

    // An incremental update: one file's nodes edited, their edges' lines shifted.
    let file = g.files[3].path.clone();
    let mut g2 = g.clone();
    let ids: std::collections::HashSet<_> = g2
        .nodes
        .iter()
        .filter(|n| n.file == file)
        .map(|n| n.id)
        .collect();
    for n in g2.nodes.iter_mut().filter(|n| n.file == file) {
        n.span.start_line += 1;
        n.span.end_line += 1;
    }
    for e in g2.edges.iter_mut().filter(|e| ids.contains(&e.src)) {
        e.line += 1;
    }
    g2.canonicalize();
    let d2 = Graph::diff(&g, &g2);
    println!("incremental delta: {} rows", d2.len());
    time("apply incremental (one file)", || {
        db.apply(&d2, &[(file.clone(), srcs[3].1.clone())], &[])
            .unwrap()
    });
    drop(db);
    let db = time("reopen", || Db::open(&dir).unwrap());
    assert_eq!(db.load_graph().unwrap(), g2);

    let mem = Db::open_in_memory().unwrap();
    time("apply full write (mem engine)", || {
        mem.apply(&delta, &srcs, &[]).unwrap()
    });
    time("load_graph (mem engine)", || mem.load_graph().unwrap());
    let size = std::fs::metadata(dir.join(ploke_db::DB_FILE_NAME))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("graph.db size: {:.1} MB", size as f64 / 1e6);
}
