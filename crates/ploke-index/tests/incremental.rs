//! Incremental indexing: whatever sequence of edits happens between runs, re-indexing into the
//! same database leaves it holding exactly what a clean index of the same tree into a fresh
//! database holds (graph, stored source text), writes nothing when nothing changed, parses only
//! the files that changed, survives losing or corrupting its cache, and never changes the id of
//! an item that kept its name.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{ids_by_name, load, node, Project};
use ploke_core::{EdgeKind, Graph, NodeId};
use ploke_index::IndexReport;

const LIB: &str = "\
//! The demo crate.
pub mod shapes;
pub mod util;
mod gone;

pub use shapes::Circle;

/// Entry point.
pub fn entry() -> f64 {
    util::helper(2.0) + shapes::Circle::new(1.0).area() + gone::old()
}
";

const SHAPES: &str = "\
use crate::util::helper;

pub trait Shape {
    fn area(&self) -> f64;
}

pub struct Circle {
    pub r: f64,
}

impl Circle {
    pub fn new(r: f64) -> Self {
        Circle { r }
    }
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        helper(self.r) * 3.14
    }
}
";

const UTIL: &str = "\
/// Squares.
pub fn helper(x: f64) -> f64 {
    x * x
}

pub(crate) fn unused() {}
";

const GONE: &str = "pub fn old() -> f64 {\n    0.0\n}\n";

fn project() -> Project {
    Project::new(
        "inc",
        &[
            ("src/lib.rs", LIB),
            ("src/shapes.rs", SHAPES),
            ("src/util.rs", UTIL),
            ("src/gone.rs", GONE),
        ],
    )
}

/// The stored text of every file, by path.
fn sources(db: &Path, g: &Graph) -> BTreeMap<String, Option<String>> {
    let db = ploke_db::Db::open(db).unwrap();
    g.files
        .iter()
        .map(|f| (f.path.clone(), db.source(&f.path).unwrap()))
        .collect()
}

/// Index incrementally into `db`, then check the result against a clean index of the same tree:
/// the same graph, the same stored source text, and stale text of deleted files gone. Returns
/// the incremental run's report and graph.
#[track_caller]
fn reindex_and_compare(p: &Project, db: &Path, step: &str) -> (IndexReport, Graph) {
    let report = p.index(db);
    let incremental = load(db);
    let clean_dir = tempfile::Builder::new()
        .prefix("clean-")
        .tempdir_in(p.tmp.path())
        .unwrap();
    let clean_report = p.index(clean_dir.path());
    let clean = load(clean_dir.path());
    common::assert_same_graph(&incremental, &clean, step);
    assert_eq!(
        sources(db, &incremental),
        sources(clean_dir.path(), &clean),
        "{step}: stored source text"
    );
    for f in &incremental.files {
        let on_disk = std::fs::read_to_string(p.path(&f.path)).unwrap();
        assert_eq!(
            sources(db, &incremental)[&f.path].as_deref(),
            Some(on_disk.as_str()),
            "{step}: {}",
            f.path
        );
    }
    // What the report counts is what the clean run counts.
    let counts = |r: &IndexReport| {
        (
            r.crates,
            r.files,
            r.nodes,
            r.edges,
            r.unresolved,
            r.skipped.clone(),
            r.orphan_files.clone(),
        )
    };
    assert_eq!(
        counts(&report),
        counts(&clean_report),
        "{step}: report counts"
    );
    assert_eq!(
        report.skipped, incremental.skipped,
        "{step}: reported problems are the stored ones"
    );
    (report, incremental)
}

/// Every item that is still called the same (crate, path, kind) keeps its id.
#[track_caller]
fn assert_ids_kept(before: &Graph, after: &Graph, step: &str) {
    let (b, a) = (ids_by_name(before), ids_by_name(after));
    for (key, ids) in &b {
        if let Some(now) = a.get(key) {
            assert_eq!(ids, now, "{step}: id of {key:?} changed");
        }
    }
}

/// A re-index of an unchanged tree parses nothing and writes nothing.
#[track_caller]
fn assert_noop(p: &Project, db: &Path, expected: &Graph, step: &str) {
    let r = p.index(db);
    assert_eq!(
        (r.parsed_files, r.delta_rows),
        (0, 0),
        "{step}: a re-index with no change"
    );
    assert_eq!(&load(db), expected, "{step}: unchanged");
}

#[test]
fn edits_then_reindex_equals_clean_index() {
    let p = project();
    let db = p.db("db");

    let first = p.index(&db);
    assert_eq!(first.parsed_files, 4);
    assert!(first.delta_rows > 0);
    let (_, mut prev) = reindex_and_compare(&p, &db, "first index");
    let entry_id = node(&prev, "inc::entry").id;
    let area_id = node(&prev, "inc::shapes::<Circle as Shape>::area").id;
    common::edge(&prev, "inc::entry", EdgeKind::Calls, "inc::util::helper");
    assert_noop(&p, &db, &prev, "after the first index");

    // 1. A fn body changes: only its file is parsed; its hash changes, its id does not.
    p.edit("src/util.rs", "    x * x\n", "    let y = x;\n    y * x\n");
    let (r, g) = reindex_and_compare(&p, &db, "modify a fn body");
    assert_eq!(r.parsed_files, 1, "only the edited file is parsed");
    assert!(r.delta_rows > 0);
    let (old, new) = (
        node(&prev, "inc::util::helper"),
        node(&g, "inc::util::helper"),
    );
    assert_eq!(old.id, new.id);
    assert_ne!(old.content_hash, new.content_hash);
    assert_eq!(new.span.end_line, old.span.end_line + 1);
    assert_ids_kept(&prev, &g, "modify a fn body");
    assert_noop(&p, &db, &g, "after modifying a fn body");
    prev = g;

    // 2. A new file and its `mod` declaration.
    p.write(
        "src/extra.rs",
        "pub fn extra() -> f64 {\n    crate::util::helper(3.0)\n}\n",
    );
    p.edit(
        "src/lib.rs",
        "pub mod util;\n",
        "pub mod util;\npub mod extra;\n",
    );
    let (r, g) = reindex_and_compare(&p, &db, "add a file and its mod declaration");
    assert_eq!(r.parsed_files, 2);
    common::edge(
        &g,
        "inc::extra::extra",
        EdgeKind::Calls,
        "inc::util::helper",
    );
    assert_ids_kept(&prev, &g, "add a file");
    prev = g;

    // 3. A file is deleted (its declaration stays: one problem), then the declaration goes too.
    p.remove("src/gone.rs");
    let (r, g) = reindex_and_compare(&p, &db, "delete a file");
    assert_eq!(
        r.parsed_files, 0,
        "nothing left to parse: the other files are unchanged"
    );
    assert!(g.files.iter().all(|f| f.path != "src/gone.rs"));
    assert!(g.nodes.iter().all(|n| n.path != "inc::gone::old"));
    assert_eq!(g.skipped.len(), 1, "{:?}", g.skipped);
    assert!(g.skipped[0].reason.contains("`gone`"));
    assert!(
        ploke_db::Db::open(&db)
            .unwrap()
            .source("src/gone.rs")
            .unwrap()
            .is_none(),
        "stale text removed"
    );
    assert_ids_kept(&prev, &g, "delete a file");
    p.edit("src/lib.rs", "mod gone;\n", "");
    p.edit("src/lib.rs", " + gone::old()", "");
    let (r, g) = reindex_and_compare(&p, &db, "remove the declaration of the deleted file");
    assert_eq!(r.parsed_files, 1);
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);
    assert_ids_kept(&prev, &g, "remove a declaration");
    prev = g;

    // 4. An item is renamed, with its uses.
    let before_rename = prev.clone();
    for f in ["src/shapes.rs", "src/lib.rs"] {
        let text = p.read(f).replace("Circle", "Round");
        p.write(f, text);
    }
    let (r, g) = reindex_and_compare(&p, &db, "rename an item");
    assert_eq!(r.parsed_files, 2);
    assert!(
        g.nodes.iter().all(|n| !n.path.contains("Circle")),
        "no trace of the old name"
    );
    node(&g, "inc::shapes::Round");
    let round_area = node(&g, "inc::shapes::<Round as Shape>::area").id;
    assert_ne!(round_area, area_id, "a renamed item is a new item");
    assert_eq!(node(&g, "inc::entry").id, entry_id);
    assert_ids_kept(&prev, &g, "rename an item");
    prev = g;

    // 5. A syntax error comes and goes.
    p.edit("src/shapes.rs", "Round { r }", "Round { r: }");
    let (r, g) = reindex_and_compare(&p, &db, "introduce a syntax error");
    assert_eq!(r.parsed_files, 1);
    assert_eq!(g.skipped.len(), 1, "{:?}", g.skipped);
    assert_eq!(g.skipped[0].path, "src/shapes.rs");
    assert!(g.nodes.iter().all(|n| n.path != "inc::shapes::Round::new"));
    node(&g, "inc::shapes::Round");
    assert_noop(&p, &db, &g, "with a syntax error");
    p.edit("src/shapes.rs", "Round { r: }", "Round { r }");
    let (r, g) = reindex_and_compare(&p, &db, "fix the syntax error");
    assert_eq!(r.parsed_files, 1);
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);
    assert_eq!(g, prev, "back to the graph before the error");
    assert_ids_kept(&prev, &g, "fix a syntax error");

    // 6. Cargo.toml gains a bin target.
    p.write("src/bin/tool.rs", "fn main() {\n    inc::entry();\n}\n");
    let manifest = p.read("Cargo.toml").replace(
        "[workspace]",
        "[[bin]]\nname = \"tool\"\npath = \"src/bin/tool.rs\"\n\n[workspace]",
    );
    p.write("Cargo.toml", manifest);
    let (r, g) = reindex_and_compare(&p, &db, "add a bin target in Cargo.toml");
    assert_eq!(r.crates, 2);
    assert_eq!(r.parsed_files, 1);
    assert!(
        g.crates
            .iter()
            .any(|c| c.name == "tool" && c.kind == ploke_core::TargetKind::Bin),
        "{:?}",
        g.crates
    );
    node(&g, "tool::main");
    assert_ids_kept(&prev, &g, "add a bin target");
    assert_noop(&p, &db, &g, "after adding a bin target");
    let _ = before_rename;

    // 7. The cache is deleted: the next run parses everything again but still writes nothing
    //    (the database is the reference), and edits after that are still applied exactly.
    std::fs::remove_file(db.join("state.bin")).expect("the cache lives in the db dir as state.bin");
    let (r, g2) = reindex_and_compare(&p, &db, "no cache");
    assert_eq!(r.delta_rows, 0, "the database already holds this graph");
    assert_eq!(g2, g);
    std::fs::remove_file(db.join("state.bin")).unwrap();
    p.edit(
        "src/util.rs",
        "pub(crate) fn unused() {}\n",
        "pub(crate) fn unused() {}\n\npub fn more() {}\n",
    );
    let (r, g3) = reindex_and_compare(&p, &db, "edit with no cache");
    assert!(r.delta_rows > 0);
    node(&g3, "inc::util::more");
    assert_ids_kept(&g, &g3, "edit with no cache");
}

#[test]
fn unchanged_tree_parses_and_writes_nothing() {
    let p = project();
    let db = p.db("db");
    p.index(&db);
    let g = load(&db);
    for i in 0..3 {
        assert_noop(&p, &db, &g, &format!("re-index {i}"));
    }
    // Rewriting a file with the same bytes (a new mtime) is no change either.
    p.write("src/util.rs", UTIL);
    assert_noop(&p, &db, &g, "same bytes rewritten");
    // Nor is touching the manifest (the workspace is discovered again, to the same result).
    p.write("Cargo.toml", p.read("Cargo.toml"));
    assert_noop(&p, &db, &g, "manifest rewritten");
}

#[test]
fn one_changed_file_is_the_only_one_parsed() {
    let p = project();
    let db = p.db("db");
    p.index(&db);
    for (i, (file, from, to)) in [
        ("src/util.rs", "x * x", "x * x * 1.0"),
        ("src/shapes.rs", "3.14", "3.14159"),
        ("src/lib.rs", "/// Entry point.", "/// The entry point."),
        ("src/gone.rs", "0.0", "1.0"),
    ]
    .into_iter()
    .enumerate()
    {
        p.edit(file, from, to);
        let (r, _) = reindex_and_compare(&p, &db, &format!("edit {i} of {file}"));
        assert_eq!(r.parsed_files, 1, "edit {i}: only {file} is parsed");
        assert!(r.delta_rows > 0, "edit {i}: something is written");
    }
}

#[test]
fn ids_of_unchanged_items_never_change() {
    let p = project();
    let db = p.db("db");
    p.index(&db);
    let g0 = load(&db);
    let ids0: BTreeMap<String, NodeId> = g0
        .nodes
        .iter()
        .map(|n| (format!("{}|{}", n.path, n.kind), n.id))
        .collect();

    // Edits that move items around without renaming them: new lines above, bodies changed,
    // a new sibling item, reordered items.
    p.edit(
        "src/lib.rs",
        "//! The demo crate.\n",
        "//! The demo crate.\n\n// a comment\n\n",
    );
    p.edit("src/util.rs", "pub(crate) fn unused() {}\n", "");
    p.write(
        "src/util.rs",
        format!(
            "pub(crate) fn unused() {{}}\n\npub const K: u8 = 1;\n\n{}",
            p.read("src/util.rs")
        ),
    );
    let (_, g1) = reindex_and_compare(&p, &db, "moves");
    for n in &g1.nodes {
        if let Some(old) = ids0.get(&format!("{}|{}", n.path, n.kind)) {
            assert_eq!(*old, n.id, "{} kept its id", n.path);
        }
    }
    // And the same tree indexed somewhere else entirely gives the same ids.
    let copy = tempfile::Builder::new()
        .prefix("ploke-copy-")
        .tempdir()
        .unwrap();
    let root = copy.path().join("inc");
    std::process::Command::new("cp")
        .arg("-r")
        .arg(&p.root)
        .arg(&root)
        .status()
        .unwrap();
    common::index_dir(&root, &copy.path().join("db"));
    assert_eq!(
        load(&copy.path().join("db")),
        g1,
        "ids and everything else do not depend on where the tree is"
    );
}

#[test]
fn a_corrupt_or_stale_cache_is_ignored() {
    let p = project();
    let db = p.db("db");
    p.index(&db);
    let saved = std::fs::read(db.join("state.bin")).unwrap();

    // Garbage in place of the cache.
    std::fs::write(db.join("state.bin"), b"not a cache").unwrap();
    p.edit("src/util.rs", "x * x", "x + x");
    reindex_and_compare(&p, &db, "garbage cache");

    // A truncated cache.
    let now = std::fs::read(db.join("state.bin")).unwrap();
    std::fs::write(db.join("state.bin"), &now[..now.len() / 2]).unwrap();
    p.edit("src/util.rs", "x + x", "x - x");
    reindex_and_compare(&p, &db, "truncated cache");

    // The cache of an older run (its generation no longer matches the database): the graph of
    // that older run must not be taken as what the database holds.
    std::fs::write(db.join("state.bin"), &saved).unwrap();
    p.edit("src/util.rs", "x - x", "x * x");
    let (r, _) = reindex_and_compare(&p, &db, "stale cache from an older run");
    assert!(r.delta_rows > 0);
}

#[test]
fn a_new_target_file_found_by_cargo_auto_discovery() {
    let p = project();
    let db = p.db("db");
    p.index(&db);
    // No manifest change: cargo finds `src/main.rs` and `src/bin/*.rs` by itself.
    p.write("src/main.rs", "fn main() {\n    inc::entry();\n}\n");
    let (r, g) = reindex_and_compare(&p, &db, "add src/main.rs");
    assert_eq!(r.crates, 2);
    assert!(g
        .crates
        .iter()
        .any(|c| c.kind == ploke_core::TargetKind::Bin));
    p.write("src/bin/other.rs", "fn main() {}\n");
    reindex_and_compare(&p, &db, "add src/bin/other.rs");
    p.remove("src/main.rs");
    reindex_and_compare(&p, &db, "remove src/main.rs");
}

#[test]
fn gitignore_changes_are_picked_up() {
    let p = project();
    let db = p.db("db");
    p.write("src/generated/mod.rs", "pub fn gen() {}\n");
    p.edit(
        "src/lib.rs",
        "pub mod util;\n",
        "pub mod util;\npub mod generated;\n",
    );
    p.index(&db);
    // A module file that becomes ignored is still reached through its `mod` declaration.
    p.write(".gitignore", "src/generated/\n");
    reindex_and_compare(&p, &db, "ignore a module directory");
    p.remove(".gitignore");
    reindex_and_compare(&p, &db, "stop ignoring it");
}

#[test]
fn moves_and_manifest_edits() {
    let p = project();
    let db = p.db("db");
    p.index(&db);

    // A module file moves to `mod.rs` form.
    let util = p.read("src/util.rs");
    p.remove("src/util.rs");
    p.write("src/util/mod.rs", &util);
    let (r, g) = reindex_and_compare(&p, &db, "util.rs -> util/mod.rs");
    assert_eq!(r.parsed_files, 1);
    assert_eq!(node(&g, "inc::util::helper").file, "src/util/mod.rs");

    // An inline module moves out to its own file, and a file module moves inline.
    p.edit(
        "src/lib.rs",
        "mod gone;\n",
        "mod gone {\n    pub fn old() -> f64 {\n        0.0\n    }\n}\n",
    );
    p.remove("src/gone.rs");
    reindex_and_compare(&p, &db, "file module -> inline module");
    p.edit(
        "src/lib.rs",
        "mod gone {\n    pub fn old() -> f64 {\n        0.0\n    }\n}\n",
        "mod gone;\n",
    );
    p.write("src/gone.rs", GONE);
    reindex_and_compare(&p, &db, "inline module -> file module");

    // The package is renamed: every id changes with the crate name, and nothing of the old
    // name is left behind.
    p.write(
        "Cargo.toml",
        p.read("Cargo.toml")
            .replace("name = \"inc\"", "name = \"renamed\""),
    );
    p.edit(
        "src/lib.rs",
        "pub use shapes::Circle;",
        "pub use crate::shapes::Circle;",
    );
    let (_, g) = reindex_and_compare(&p, &db, "rename the package");
    assert!(g.nodes.iter().all(|n| n.crate_name == "renamed"));
    node(&g, "renamed::util::helper");

    // An explicit rebuild parses everything again and repairs whatever the store holds
    // wrongly: here a node whose stored source position and name were damaged, and an edge
    // that does not exist. It gives the same graph as a clean index.
    let damaged_db = ploke_db::Db::open(&db).unwrap();
    let mut wrong = g.nodes[1].clone();
    wrong.name.push_str("_damaged");
    wrong.span.start_byte += 1;
    let bogus = ploke_core::Edge {
        src: g.nodes[0].id,
        dst: g.nodes[2].id,
        kind: ploke_core::EdgeKind::Calls,
        line: 999,
    };
    let damage = ploke_core::GraphDelta {
        put_nodes: vec![wrong],
        put_edges: vec![bogus],
        ..Default::default()
    };
    damaged_db.apply(&damage, &[], &[]).unwrap();
    drop(damaged_db);
    assert_ne!(load(&db), g);
    let opts = ploke_index::IndexOptions {
        db_dir: Some(db.clone()),
        rebuild: true,
        ..Default::default()
    };
    let r = ploke_index::index(&p.root, &opts, &ploke_index::NoProgress).unwrap();
    assert_eq!(load(&db), g);
    assert_eq!(r.parsed_files, 4);
    assert_eq!(
        r.delta_rows, 2,
        "the damaged node put again, the bogus edge removed"
    );
}

#[test]
fn a_moved_workspace_keeps_its_index() {
    let p = project();
    // The default database directory, `<root>/.ploke`, moves with the tree.
    let opts = ploke_index::IndexOptions::default();
    let first = ploke_index::index(&p.root, &opts, &ploke_index::NoProgress).unwrap();
    assert_eq!(first.db_dir, p.root.canonicalize().unwrap().join(".ploke"));
    let g = load(&first.db_dir);
    let moved = p.tmp.path().join("moved");
    std::fs::rename(&p.root, &moved).unwrap();
    let r = ploke_index::index(&moved, &opts, &ploke_index::NoProgress).unwrap();
    assert_eq!(r.db_dir, moved.canonicalize().unwrap().join(".ploke"));
    assert_eq!(
        r.delta_rows, 0,
        "paths are stored relative to the workspace: nothing to rewrite"
    );
    assert_eq!(load(&r.db_dir), g);
    // And it still follows edits.
    std::fs::write(moved.join("src/util.rs"), UTIL.replace("x * x", "x * 2.0")).unwrap();
    let r = ploke_index::index(&moved, &opts, &ploke_index::NoProgress).unwrap();
    assert_eq!(r.parsed_files, 1);
    let clean = tempfile::Builder::new()
        .prefix("clean-")
        .tempdir_in(p.tmp.path())
        .unwrap();
    common::index_dir(&moved, clean.path());
    common::assert_same_graph(&load(&r.db_dir), &load(clean.path()), "moved workspace");
}
