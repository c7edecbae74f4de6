//! Fuzz `ploke_parse::parse_file` and `ploke_graph::build_graph` on arbitrary bytes.
//!
//! Any panic aborts the process (libfuzzer-sys installs an aborting panic hook, so even a
//! panic that `parse_file` contains with `catch_unwind` is reported as a crash). Besides "no
//! panic", the target checks cheap invariants of both outputs:
//!
//! * parse: deterministic (small inputs), item parents point backwards, every span is a
//!   half-open byte range inside the text on char boundaries, and its 1-based lines agree
//!   with its byte offsets; issue, use and reference lines lie within the file;
//! * graph: node ids are unique; every edge endpoint, unresolved source and node parent is a
//!   node of the graph; node spans satisfy the same bounds as item spans.
//!
//! The input is one root file of a crate named `fuzz` (kind lib). Its first two top-level
//! `mod foo;` declarations are given the same parsed text as their module file, so the module
//! tree code paths run too.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use ploke_core::{Graph, NodeId, Span, TargetKind};
use ploke_graph::{build_graph, CrateInput, ModuleFile};
use ploke_parse::{parse_file, Detail, LineIndex, ParseOptions, ParsedFile};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let opts = ParseOptions::default();
    let parsed = parse_file(text, &opts);
    check_parsed(text, &parsed);
    if text.len() <= 4096 {
        assert_eq!(parsed, parse_file(text, &opts), "parse_file is not deterministic");
    }

    let mut modules = vec![ModuleFile { path: "src/lib.rs".into(), parsed: &parsed, declared_by: None }];
    for (i, item) in parsed.items.iter().enumerate() {
        if modules.len() > 2 {
            break;
        }
        if item.parent.is_none() && matches!(item.detail, Detail::Module { inline: false, .. }) {
            modules.push(ModuleFile { path: format!("src/{}.rs", item.name), parsed: &parsed, declared_by: Some((0, i as u32)) });
        }
    }
    let input = CrateInput {
        name: "fuzz".into(),
        package: "fuzz".into(),
        version: "0.0.0".into(),
        kind: TargetKind::Lib,
        package_root: String::new(),
        modules,
    };
    let graph = build_graph(std::slice::from_ref(&input));
    check_graph(text, &parsed, &graph);
});

fn check_span(what: &str, text: &str, lines: &LineIndex, line_count: u32, s: &Span) {
    let (a, b) = (s.start_byte as usize, s.end_byte as usize);
    assert!(a <= b && b <= text.len(), "{what}: span {s:?} outside text of {} bytes", text.len());
    assert!(text.is_char_boundary(a) && text.is_char_boundary(b), "{what}: span {s:?} splits a char");
    assert!(1 <= s.start_line && s.start_line <= s.end_line && s.end_line <= line_count.max(1), "{what}: lines of {s:?} outside 1..={line_count}");
    assert_eq!(s.start_line, lines.line_of(s.start_byte), "{what}: start line of {s:?} disagrees with its byte offset");
    let last = if b > a { s.end_byte - 1 } else { s.start_byte };
    assert_eq!(s.end_line, lines.line_of(last), "{what}: end line of {s:?} disagrees with its byte offset");
}

fn check_line(what: &str, line: u32, line_count: u32) {
    assert!(1 <= line && line <= line_count.max(1), "{what}: line {line} outside 1..={line_count}");
}

fn check_parsed(text: &str, p: &ParsedFile) {
    let lines = LineIndex::new(text);
    let n = p.lines;
    for issue in &p.issues {
        assert!(!issue.message.contains("internal parser panic"), "contained panic: {}", issue.message);
        check_line("issue", issue.line, n);
    }
    if !p.parsed {
        assert!(p.items.is_empty(), "unparsed file with items");
    }
    for (i, item) in p.items.iter().enumerate() {
        if let Some(parent) = item.parent {
            assert!((parent as usize) < i, "item {i} has parent {parent} not before it");
            assert!(p.items[parent as usize].span.contains(&item.span), "item {i} {:?} not inside its parent", item.name);
        }
        check_span("item", text, &lines, n, &item.span);
        for r in &item.refs {
            check_line("ref", r.line, n);
        }
        if let Detail::Use { entries } = &item.detail {
            for e in entries {
                check_line("use entry", e.line, n);
            }
        }
    }
}

fn check_graph(text: &str, p: &ParsedFile, g: &Graph) {
    let lines = LineIndex::new(text);
    let mut ids: HashSet<NodeId> = HashSet::with_capacity(g.nodes.len());
    for node in &g.nodes {
        assert!(ids.insert(node.id), "duplicate node id {} ({})", node.id, node.path);
    }
    for node in &g.nodes {
        if let Some(parent) = node.parent {
            assert!(ids.contains(&parent), "parent of {} is not a node", node.path);
        }
        if node.kind != ploke_core::ItemKind::Crate {
            check_span("node", text, &lines, p.lines, &node.span);
        }
    }
    for c in &g.crates {
        assert!(ids.contains(&c.id), "crate record without a root node");
    }
    for e in &g.edges {
        assert!(ids.contains(&e.src) && ids.contains(&e.dst), "edge {e:?} with a missing endpoint");
    }
    for u in &g.unresolved {
        assert!(ids.contains(&u.src), "unresolved {u:?} with a missing source");
    }
}
