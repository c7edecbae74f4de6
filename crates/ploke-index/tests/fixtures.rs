//! Snapshot tests of the graph extracted from the fixture crates in `tests/fixtures/`.
//!
//! Each fixture is a small real Cargo project exercising one language feature. A test copies it
//! into a temp directory, indexes it, reads the graph back from the database and renders it as
//! deterministic text (no ids, no hashes) that is compared with the snapshot in `snapshots/`.
//! Targeted assertions then pin the key facts, and every fixture is indexed twice in different
//! directories to check that ids do not depend on where the tree lives.
//!
//! Regenerate the snapshots with `INSTA_UPDATE=always cargo test -p ploke-index --test fixtures`
//! and read the diff: every line is a claim about Rust semantics.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ploke_core::{EdgeKind, Graph, ItemKind, Node, NodeId};
use ploke_index::{IndexOptions, IndexReport, NoProgress};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        // Build output or a lock file left by a `cargo check` of the fixture is not part of it.
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        let from = entry.path();
        let to = dst.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
}

/// One indexed copy of a fixture.
struct Indexed {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    db_dir: PathBuf,
    report: IndexReport,
    graph: Graph,
}

/// Copy fixture `name` to a fresh temp directory, let `prepare` adjust the copy, index it and
/// load the graph back from the database.
fn index_fixture(name: &str, prepare: fn(&Path)) -> Indexed {
    // No leading dot: the file walk skips hidden directories.
    let tmp = tempfile::Builder::new().prefix("ploke-fixture-").tempdir().unwrap();
    let root = tmp.path().join(name);
    copy_dir(&fixtures_dir().join(name), &root);
    prepare(&root);
    let db_dir = tmp.path().join("db");
    let opts = IndexOptions { db_dir: Some(db_dir.clone()), ..Default::default() };
    let report = ploke_index::index(&root, &opts, &NoProgress).unwrap();
    let graph = ploke_db::Db::open(&db_dir).unwrap().load_graph().unwrap();
    check_invariants(&graph);
    Indexed { _tmp: tmp, root, db_dir, report, graph }
}

fn no_prepare(_: &Path) {}

/// Structural facts every graph must satisfy, whatever the fixture.
fn check_invariants(g: &Graph) {
    let by_id: HashMap<NodeId, &Node> = g.nodes.iter().map(|n| (n.id, n)).collect();
    assert_eq!(by_id.len(), g.nodes.len(), "node ids are unique");
    let roots: BTreeSet<NodeId> = g.crates.iter().map(|c| c.id).collect();
    let mut contains: BTreeSet<(NodeId, NodeId)> = BTreeSet::new();
    for e in &g.edges {
        let src = by_id.get(&e.src).unwrap_or_else(|| panic!("edge source {e:?} is a node"));
        let dst = by_id.get(&e.dst).unwrap_or_else(|| panic!("edge target {e:?} is a node"));
        assert_ne!(e.src, e.dst, "no self edges: {}", src.path);
        if e.kind == EdgeKind::Contains {
            contains.insert((e.src, e.dst));
            assert_eq!(e.line, dst.span.start_line, "contains edge line is the child's start line");
        }
    }
    for n in &g.nodes {
        match n.parent {
            None => {
                assert_eq!(n.kind, ItemKind::Crate, "only crate roots lack a parent: {}", n.path);
                assert!(roots.contains(&n.id), "{} is a crate record", n.path);
            }
            Some(p) => {
                assert!(by_id.contains_key(&p), "parent of {} exists", n.path);
                assert!(contains.remove(&(p, n.id)), "parent of {} has a contains edge to it", n.path);
            }
        }
    }
    assert!(contains.is_empty(), "every contains edge is a parent link: {contains:?}");
    for u in &g.unresolved {
        assert!(by_id.contains_key(&u.src), "unresolved source exists: {u:?}");
    }
    // Edges are deduplicated per (src, kind, dst).
    let mut keys = BTreeSet::new();
    for e in &g.edges {
        assert!(keys.insert((e.src, e.kind, e.dst)), "one edge per (src, kind, dst): {e:?}");
    }
}

fn one_line(s: &str) -> String {
    s.replace('\n', " ⏎ ")
}

/// The graph as text: crates, files, nodes by (file, line, path), edges, unresolved, problems.
/// `detail` adds each node's signature, docs, attributes and display name.
fn render(ix: &Indexed, detail: bool) -> String {
    let g = &ix.graph;
    let by_id: HashMap<NodeId, &Node> = g.nodes.iter().map(|n| (n.id, n)).collect();
    let path_of = |id: NodeId| by_id.get(&id).map(|n| n.path.clone()).unwrap_or_else(|| format!("<missing {id}>"));
    let mut out = String::new();

    out.push_str("# crates\n");
    let mut crates: Vec<_> = g.crates.iter().collect();
    crates.sort_by(|a, b| (&a.package_root, a.kind, &a.name).cmp(&(&b.package_root, b.kind, &b.name)));
    for c in crates {
        let dir = if c.package_root.is_empty() { "." } else { c.package_root.as_str() };
        writeln!(out, "{} {} (package {} {}) dir={} root={}", c.kind.as_str(), c.name, c.package, c.version, dir, c.root_file).unwrap();
    }

    out.push_str("\n# files\n");
    for f in &g.files {
        writeln!(out, "{} ({}) crate={} lines={}", f.path, f.rel_path, f.crate_name, f.lines).unwrap();
    }
    if !ix.report.orphan_files.is_empty() {
        out.push_str("\n# orphan files\n");
        for f in &ix.report.orphan_files {
            writeln!(out, "{f}").unwrap();
        }
    }

    out.push_str("\n# nodes\n");
    let mut nodes: Vec<&Node> = g.nodes.iter().collect();
    nodes.sort_by(|a, b| (&a.file, a.span.start_line, &a.path, a.span.start_byte).cmp(&(&b.file, b.span.start_line, &b.path, b.span.start_byte)));
    let mut file = None;
    for n in nodes {
        if file != Some(&n.file) {
            writeln!(out, "## {}", n.file).unwrap();
            file = Some(&n.file);
        }
        write!(out, "{} {} [{}-{}]", n.kind, n.path, n.span.start_line, n.span.end_line).unwrap();
        let vis = n.visibility.as_text();
        if !vis.is_empty() {
            write!(out, " {vis}").unwrap();
        }
        if !n.cfg.is_empty() {
            write!(out, " cfg={}", n.cfg).unwrap();
        }
        if n.is_test {
            out.push_str(" test");
        }
        if let Some(p) = n.parent {
            let pp = path_of(p);
            // The parent is usually the path prefix; say which one it is when it is not.
            if !n.path.starts_with(&format!("{pp}::")) {
                write!(out, " in={pp}").unwrap();
            }
        }
        out.push('\n');
        if detail && n.kind != ItemKind::Crate {
            if n.display_name != n.name {
                writeln!(out, "    display: {}", n.display_name).unwrap();
            }
            if !n.signature.is_empty() {
                writeln!(out, "    sig: {}", n.signature).unwrap();
            }
            if !n.docs.is_empty() {
                writeln!(out, "    doc: {}", one_line(&n.docs)).unwrap();
            }
            if !n.attrs.is_empty() {
                writeln!(out, "    attrs: {}", n.attrs.join(" ")).unwrap();
            }
        }
    }

    out.push_str("\n# edges (contains edges are the parent links above)\n");
    let mut edges: Vec<String> = g
        .edges
        .iter()
        .filter(|e| e.kind != EdgeKind::Contains)
        .map(|e| format!("{} -{}-> {} @{}", path_of(e.src), e.kind, path_of(e.dst), e.line))
        .collect();
    edges.sort();
    for e in edges {
        writeln!(out, "{e}").unwrap();
    }

    out.push_str("\n# unresolved\n");
    let mut unresolved: Vec<String> =
        g.unresolved.iter().map(|u| format!("{} -{}-> ?{} @{}", path_of(u.src), u.kind, u.text, u.line)).collect();
    unresolved.sort();
    for u in unresolved {
        writeln!(out, "{u}").unwrap();
    }

    out.push_str("\n# problems\n");
    for s in &g.skipped {
        writeln!(out, "{s}{}", if s.whole_file { " [whole file]" } else { "" }).unwrap();
    }
    out
}

// ---- lookups for targeted assertions ----

fn nodes_at<'g>(g: &'g Graph, path: &str) -> Vec<&'g Node> {
    g.nodes.iter().filter(|n| n.path == path).collect()
}

#[track_caller]
fn node<'g>(g: &'g Graph, path: &str) -> &'g Node {
    let found = nodes_at(g, path);
    assert_eq!(found.len(), 1, "exactly one node at `{path}`: {found:#?}");
    found[0]
}

#[track_caller]
fn node_of_kind<'g>(g: &'g Graph, path: &str, kind: ItemKind) -> &'g Node {
    let found: Vec<&Node> = nodes_at(g, path).into_iter().filter(|n| n.kind == kind).collect();
    assert_eq!(found.len(), 1, "exactly one {kind} at `{path}`: {found:#?}");
    found[0]
}

/// Target paths of the `kind` edges leaving any node at `src`.
fn targets(g: &Graph, src: &str, kind: EdgeKind) -> BTreeSet<String> {
    let by_id: HashMap<NodeId, &Node> = g.nodes.iter().map(|n| (n.id, n)).collect();
    g.edges
        .iter()
        .filter(|e| e.kind == kind && by_id[&e.src].path == src)
        .map(|e| by_id[&e.dst].path.clone())
        .collect()
}

#[track_caller]
fn assert_edge(g: &Graph, src: &str, kind: EdgeKind, dst: &str) {
    let t = targets(g, src, kind);
    assert!(t.contains(dst), "`{src}` -{kind}-> `{dst}`; it has {t:#?}");
}

#[track_caller]
fn assert_no_edge(g: &Graph, src: &str, kind: EdgeKind, dst: &str) {
    let t = targets(g, src, kind);
    assert!(!t.contains(dst), "no `{src}` -{kind}-> `{dst}`");
}

/// Unresolved texts of the `kind` references leaving `src`.
fn unresolved_texts(g: &Graph, src: &str, kind: EdgeKind) -> BTreeSet<String> {
    let by_id: HashMap<NodeId, &Node> = g.nodes.iter().map(|n| (n.id, n)).collect();
    g.unresolved.iter().filter(|u| u.kind == kind && by_id[&u.src].path == src).map(|u| u.text.clone()).collect()
}

/// Index a fixture twice in two different temp dirs: the graphs (ids included) are identical.
/// Re-indexing an unchanged copy writes nothing.
fn assert_stable(name: &str, prepare: fn(&Path), first: &Indexed) {
    let second = index_fixture(name, prepare);
    assert_ne!(first.root, second.root);
    let ids = |g: &Graph| -> Vec<(String, ItemKind, String, NodeId)> {
        let mut v: Vec<_> = g.nodes.iter().map(|n| (n.path.clone(), n.kind, n.cfg.clone(), n.id)).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&first.graph), ids(&second.graph), "{name}: same ids in two directories");
    assert_eq!(first.graph, second.graph, "{name}: same graph in two directories");
    let opts = IndexOptions { db_dir: Some(second.db_dir.clone()), ..Default::default() };
    let again = ploke_index::index(&second.root, &opts, &NoProgress).unwrap();
    assert_eq!(again.delta_rows, 0, "{name}: re-indexing an unchanged tree writes nothing");
    assert_eq!(again.parsed_files, 0, "{name}: re-indexing an unchanged tree parses nothing");
}

// ---- the fixtures ----

#[test]
fn item_kinds() {
    let ix = index_fixture("item_kinds", no_prepare);
    insta::assert_snapshot!("item_kinds", render(&ix, true));
    let g = &ix.graph;
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);
    assert_stable("item_kinds", no_prepare, &ix);
}

#[test]
fn module_tree() {
    let ix = index_fixture("module_tree", no_prepare);
    insta::assert_snapshot!("module_tree", render(&ix, false));
    assert_stable("module_tree", no_prepare, &ix);
}

#[test]
fn use_resolution() {
    let ix = index_fixture("use_resolution", no_prepare);
    insta::assert_snapshot!("use_resolution", render(&ix, false));
    assert_stable("use_resolution", no_prepare, &ix);
}

#[test]
fn cfg_twins() {
    let ix = index_fixture("cfg_twins", no_prepare);
    insta::assert_snapshot!("cfg_twins", render(&ix, false));
    assert_stable("cfg_twins", no_prepare, &ix);
}

#[test]
fn macros() {
    let ix = index_fixture("macros", no_prepare);
    insta::assert_snapshot!("macros", render(&ix, false));
    assert_stable("macros", no_prepare, &ix);
}

/// Replace the placeholder with a file that is valid UTF-8 up to line 3.
fn write_not_utf8(root: &Path) {
    std::fs::write(root.join("src/not_utf8.rs"), b"pub fn fine() {}\n\n// caf\xe9 is Latin-1, not UTF-8\npub fn later() {}\n").unwrap();
}

#[test]
fn broken_files() {
    let ix = index_fixture("broken_files", write_not_utf8);
    insta::assert_snapshot!("broken_files", render(&ix, false));
    assert_stable("broken_files", write_not_utf8, &ix);
}

#[test]
fn workspace_multi() {
    let ix = index_fixture("workspace_multi", no_prepare);
    insta::assert_snapshot!("workspace_multi", render(&ix, false));
    assert_stable("workspace_multi", no_prepare, &ix);
}
