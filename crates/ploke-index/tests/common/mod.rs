//! Helpers shared by this crate's integration tests that build small Cargo projects at run
//! time.
//!
//! Each test writes its own project into a fresh temp directory ([`Project`], from
//! `ploke-test-support`, like [`index_dir`] and [`line_of`]), indexes it with the real pipeline
//! into a real database directory, and reads the graph back with `Db::load_graph`. What only
//! these suites need (looking nodes and edges up in a graph, comparing two graphs) is here.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use ploke_core::{Edge, EdgeKind, Graph, ItemKind, Node, NodeId};

#[allow(unused_imports)] // each test binary uses its own part
pub use ploke_test_support::{index_dir, line_of, Project};

/// The graph stored in `db`.
pub fn load(db: &Path) -> Graph {
    ploke_db::Db::open(db).unwrap().load_graph().unwrap()
}

/// The one node at canonical path `path` (panics listing near misses otherwise).
pub fn node<'g>(g: &'g Graph, path: &str) -> &'g Node {
    let found: Vec<&Node> = g.nodes.iter().filter(|n| n.path == path).collect();
    match found.as_slice() {
        [n] => n,
        [] => {
            let last = path.rsplit("::").next().unwrap_or(path);
            let near: Vec<&str> = g
                .nodes
                .iter()
                .filter(|n| n.path.contains(last))
                .map(|n| n.path.as_str())
                .collect();
            panic!("no node at `{path}`; nodes with `{last}`: {near:?}")
        }
        many => panic!("{} nodes at `{path}`: {many:#?}", many.len()),
    }
}

pub fn has_node(g: &Graph, path: &str) -> bool {
    g.nodes.iter().any(|n| n.path == path)
}

pub fn node_by_id(g: &Graph, id: NodeId) -> &Node {
    g.nodes
        .iter()
        .find(|n| n.id == id)
        .expect("edge end is a node")
}

/// The edges of `kind` out of the node at `src`, as destination paths.
pub fn edges_from(g: &Graph, src: &str, kind: EdgeKind) -> Vec<String> {
    let id = node(g, src).id;
    let mut out: Vec<String> = g
        .edges
        .iter()
        .filter(|e| e.src == id && e.kind == kind)
        .map(|e| node_by_id(g, e.dst).path.clone())
        .collect();
    out.sort();
    out
}

pub fn edge<'g>(g: &'g Graph, src: &str, kind: EdgeKind, dst: &str) -> &'g Edge {
    let (s, d) = (node(g, src).id, node(g, dst).id);
    g.edges
        .iter()
        .find(|e| e.src == s && e.dst == d && e.kind == kind)
        .unwrap_or_else(|| {
            panic!(
                "no {kind} edge {src} -> {dst}; {kind} edges out of {src}: {:?}",
                edges_from(g, src, kind)
            )
        })
}

/// Paths of the nodes of `kind`, sorted.
pub fn paths_of_kind(g: &Graph, kind: ItemKind) -> Vec<String> {
    let mut v: Vec<String> = g
        .nodes
        .iter()
        .filter(|n| n.kind == kind)
        .map(|n| n.path.clone())
        .collect();
    v.sort();
    v
}

/// Node ids by (crate, path, kind): what an item is called, mapped to the id it got.
pub fn ids_by_name(g: &Graph) -> BTreeMap<(String, String, ItemKind), Vec<NodeId>> {
    let mut m: BTreeMap<(String, String, ItemKind), Vec<NodeId>> = BTreeMap::new();
    for n in &g.nodes {
        m.entry((n.crate_name.clone(), n.path.clone(), n.kind))
            .or_default()
            .push(n.id);
    }
    for v in m.values_mut() {
        v.sort();
    }
    m
}

/// A readable account of how graph `b` differs from graph `a` (empty when equal); `an` and
/// `bn` name them.
pub fn graph_difference(a: &Graph, b: &Graph, an: &str, bn: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let d = Graph::diff(a, b);
    let mut section = |title: &str, rows: Vec<String>| {
        if !rows.is_empty() {
            let _ = writeln!(out, "{title}:");
            for r in rows.iter().take(20) {
                let _ = writeln!(out, "  {r}");
            }
            if rows.len() > 20 {
                let _ = writeln!(out, "  … {} more", rows.len() - 20);
            }
        }
    };
    let name = |g: &Graph, id: NodeId| {
        g.nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.path.clone())
            .unwrap_or_else(|| id.to_hex())
    };
    section(
        &format!("in {bn}, not in {an}: crates"),
        d.put_crates.iter().map(|c| format!("{c:?}")).collect(),
    );
    section(
        &format!("in {an}, not in {bn}: crates"),
        d.rm_crates.iter().map(|c| name(a, *c)).collect(),
    );
    section(
        &format!("in {bn}, not in {an}: files"),
        d.put_files.iter().map(|f| format!("{f:?}")).collect(),
    );
    section(&format!("in {an}, not in {bn}: files"), d.rm_files.clone());
    section(
        &format!("in {bn}, not in {an}: nodes"),
        d.put_nodes
            .iter()
            .map(|n| match a.nodes.iter().find(|o| o.id == n.id) {
                Some(o) => format!("{} changed: was {o:?}\n    now {n:?}", n.path),
                None => format!("{} {} ({})", n.kind, n.path, n.file),
            })
            .collect(),
    );
    section(
        &format!("in {an}, not in {bn}: nodes"),
        d.rm_nodes.iter().map(|id| name(a, *id)).collect(),
    );
    let edge = |g: &Graph, e: &Edge| {
        format!(
            "{} -{}-> {} (line {})",
            name(g, e.src),
            e.kind,
            name(g, e.dst),
            e.line
        )
    };
    section(
        &format!("in {bn}, not in {an}: edges"),
        d.put_edges.iter().map(|e| edge(b, e)).collect(),
    );
    section(
        &format!("in {an}, not in {bn}: edges"),
        d.rm_edges.iter().map(|e| edge(a, e)).collect(),
    );
    section(
        &format!("in {bn}, not in {an}: unresolved"),
        d.put_unresolved
            .iter()
            .map(|u| format!("{} {} {} line {}", name(b, u.src), u.kind, u.text, u.line))
            .collect(),
    );
    section(
        &format!("in {an}, not in {bn}: unresolved"),
        d.rm_unresolved
            .iter()
            .map(|u| format!("{} {} {} line {}", name(a, u.src), u.kind, u.text, u.line))
            .collect(),
    );
    section(
        &format!("in {bn}, not in {an}: problems"),
        d.put_skipped.iter().map(|s| s.to_string()).collect(),
    );
    section(
        &format!("in {an}, not in {bn}: problems"),
        d.rm_skipped.iter().map(|s| s.to_string()).collect(),
    );
    out
}

/// Assert two graphs are identical, printing a readable difference otherwise.
#[track_caller]
pub fn assert_same_graph(incremental: &Graph, clean: &Graph, context: &str) {
    if incremental != clean {
        panic!(
            "{context}: the incremental graph differs from a clean index of the same tree\n{}",
            graph_difference(clean, incremental, "clean", "incremental")
        );
    }
}
