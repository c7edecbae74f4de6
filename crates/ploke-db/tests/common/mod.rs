//! Deterministic synthetic graphs for the tests and the timing example.
#![allow(dead_code)]

use ploke_core::{
    ContentHash, CrateRecord, Edge, EdgeKind, FileRecord, Graph, ItemKind, Node, NodeId, Skipped,
    Span, TargetKind, Unresolved, Visibility,
};

/// A tiny xorshift generator: deterministic across runs and platforms.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const DOCS: &[&str] = &[
    "",
    "Plain docs.",
    "Ünïcödé — “quotes” and 'single' and \"double\"; emoji 🦀; CJK 漢字",
    "Line one\nline two with a backslash \\ and a tab\t.\n```rust\nlet x = \"s\";\n```",
    "$param-looking text and {braces} and :put nodes {id} -- not a query",
];

const VIS: &[fn() -> Visibility] = &[
    || Visibility::Private,
    || Visibility::Public,
    || Visibility::Crate,
    || Visibility::Super,
    || Visibility::Restricted("crate::a::b".into()),
    || Visibility::Restricted("super".into()),
];

/// A node with every field set from `rng`.
pub fn node(rng: &mut Rng, crate_name: &str, file: &str, i: usize, parent: Option<NodeId>) -> Node {
    let kind = *rng.pick(&ItemKind::ALL);
    let name = format!("item_{i}");
    let path = format!("{crate_name}::m{}::{name}", i % 7);
    let start_line = rng.below(5000) as u32 + 1;
    let start_byte = rng.below(1 << 20) as u32;
    let attrs = match rng.below(3) {
        0 => vec![],
        1 => vec!["#[inline]".to_string()],
        _ => vec![
            "#[derive(Debug, Clone)]".to_string(),
            "#[cfg_attr(feature = \"x\", allow(dead_code))]".to_string(),
        ],
    };
    Node {
        id: NodeId::new(crate_name, &path, kind, ""),
        kind,
        crate_name: crate_name.to_string(),
        display_name: if rng.below(4) == 0 {
            format!("Type{}::{name}", i % 11)
        } else {
            name.clone()
        },
        name,
        path,
        module: format!("m{}", i % 7),
        file: file.to_string(),
        span: Span {
            start_byte,
            end_byte: start_byte + rng.below(4000) as u32,
            start_line,
            end_line: start_line + rng.below(80) as u32,
        },
        visibility: rng.pick(VIS)(),
        docs: rng.pick(DOCS).to_string(),
        attrs,
        cfg: if rng.below(5) == 0 {
            "all(unix, feature = \"fs\")".into()
        } else {
            String::new()
        },
        signature: format!(
            "pub fn item_{i}<T: Into<String>>(x: &'static str) -> Result<(), \"E\">"
        ),
        content_hash: ContentHash(((rng.next() as u128) << 64) | rng.next() as u128),
        is_test: rng.below(10) == 0,
        parent,
    }
}

/// A deterministic graph with about `n_nodes` nodes spread over `n_files` files of one crate,
/// `edges_per_node` edges per node (a mix of all kinds), unresolved references and skip records.
pub fn synthetic(seed: u64, n_files: usize, n_nodes: usize, edges_per_node: usize) -> Graph {
    let mut rng = Rng::new(seed);
    let crate_name = "synth";
    let root = NodeId::new(crate_name, crate_name, ItemKind::Crate, "");
    let mut g = Graph::default();
    g.crates.push(CrateRecord {
        id: root,
        name: crate_name.into(),
        package: "synth-pkg".into(),
        version: "0.1.0".into(),
        kind: TargetKind::Lib,
        package_root: "crates/synth".into(),
        root_file: "crates/synth/src/lib.rs".into(),
    });
    g.crates.push(CrateRecord {
        id: NodeId(u64::MAX - 1),
        name: "build_script_build".into(),
        package: "synth-pkg".into(),
        version: "0.1.0".into(),
        kind: TargetKind::BuildScript,
        package_root: "crates/synth".into(),
        root_file: "crates/synth/build.rs".into(),
    });
    let files: Vec<String> = (0..n_files)
        .map(|i| format!("crates/synth/src/f{i}.rs"))
        .collect();
    for (i, f) in files.iter().enumerate() {
        g.files.push(FileRecord {
            path: f.clone(),
            rel_path: f.trim_start_matches("crates/synth/").to_string(),
            crate_name: crate_name.into(),
            hash: ContentHash::of(f.as_bytes()),
            size: 1000 + i as u64 * 37,
            lines: 100 + i as u32,
        });
    }
    for i in 0..n_nodes {
        let parent = if i == 0 {
            None
        } else {
            Some(g.nodes[rng.below(i as u64) as usize].id)
        };
        let file = &files[i % files.len()];
        let mut n = node(&mut rng, crate_name, file, i, parent);
        if i == 0 {
            n.id = root;
        }
        g.nodes.push(n);
    }
    for i in 0..n_nodes {
        let src = g.nodes[i].id;
        if let Some(p) = g.nodes[i].parent {
            g.edges.push(Edge {
                src: p,
                kind: EdgeKind::Contains,
                dst: src,
                line: g.nodes[i].span.start_line,
            });
        }
        for _ in 1..edges_per_node {
            let dst = g.nodes[rng.below(n_nodes as u64) as usize].id;
            let kind = *rng.pick(&EdgeKind::ALL);
            g.edges.push(Edge {
                src,
                kind,
                dst,
                line: rng.below(5000) as u32 + 1,
            });
        }
        if rng.below(3) == 0 {
            g.unresolved.push(Unresolved {
                src,
                kind: EdgeKind::Calls,
                text: format!("std::mem::take::<\"{}\">", rng.below(100)),
                line: rng.below(5000) as u32 + 1,
            });
        }
    }
    g.skipped.push(Skipped {
        path: files[0].clone(),
        line: 3,
        reason: "expected `;`, found `}`".into(),
        whole_file: false,
    });
    g.skipped.push(Skipped {
        path: "crates/synth/src/bad.rs".into(),
        line: 0,
        reason: "invalid UTF-8 — skipped".into(),
        whole_file: true,
    });
    g.canonicalize();
    g
}

/// Synthetic source text for every file of `g`, about `bytes_per_file` bytes each.
pub fn sources(g: &Graph, bytes_per_file: usize) -> Vec<(String, String)> {
    let line = "    let x = foo(\"bar\", 'c', 42); // ünïcode comment\n";
    g.files
        .iter()
        .map(|f| {
            let mut text = format!("//! {}\n", f.path);
            while text.len() < bytes_per_file {
                text.push_str(line);
            }
            (f.path.clone(), text)
        })
        .collect()
}
