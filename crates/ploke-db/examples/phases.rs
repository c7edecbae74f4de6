//! Scratch: where the time of a full write goes.
#[path = "../tests/common/mod.rs"]
mod common;
use ploke_core::{Graph, GraphDelta};
use ploke_db::Db;
use std::time::Instant;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_default();
    let engine = std::env::args().nth(2).unwrap_or("sqlite".into());
    let g = common::synthetic(42, 150, 15_000, 4);
    let srcs = common::sources(&g, 20_000);
    let full = Graph::diff(&Graph::default(), &g);
    let parts: Vec<(&str, GraphDelta, bool)> = vec![
        (
            "nodes",
            GraphDelta {
                put_nodes: full.put_nodes.clone(),
                ..Default::default()
            },
            false,
        ),
        (
            "edges",
            GraphDelta {
                put_edges: full.put_edges.clone(),
                ..Default::default()
            },
            false,
        ),
        (
            "unresolved",
            GraphDelta {
                put_unresolved: full.put_unresolved.clone(),
                ..Default::default()
            },
            false,
        ),
        ("sources", GraphDelta::default(), true),
        ("all", full.clone(), true),
    ];
    for (name, d, with_src) in &parts {
        if !which.is_empty() && which != *name {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let db = if engine == "mem" {
            Db::open_in_memory().unwrap()
        } else {
            Db::open(tmp.path()).unwrap()
        };
        let s: &[(String, String)] = if *with_src { &srcs } else { &[] };
        let t = Instant::now();
        let c = cpu();
        db.apply(d, s, &[]).unwrap();
        let c = cpu() - c;
        println!(
            "{engine:<7} {name:<12} {:>8.1} ms {:>8.1} cpu-ms",
            t.elapsed().as_secs_f64() * 1000.0,
            c as f64 / 1e6
        );
    }
}

fn cpu() -> u64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    s.split_whitespace().next().unwrap().parse().unwrap()
}
