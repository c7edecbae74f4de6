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
use ploke_index::IndexReport;
use ploke_test_support::{index_dir, Project};

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
    let p = Project::fixture(name);
    prepare(&p.root);
    let db_dir = p.db("db");
    let report = p.index(&db_dir);
    let graph = ploke_db::Db::open(&db_dir).unwrap().load_graph().unwrap();
    check_invariants(&graph);
    Indexed {
        _tmp: p.tmp,
        root: p.root,
        db_dir,
        report,
        graph,
    }
}

fn no_prepare(_: &Path) {}

/// Structural facts every graph must satisfy, whatever the fixture.
fn check_invariants(g: &Graph) {
    let by_id: HashMap<NodeId, &Node> = g.nodes.iter().map(|n| (n.id, n)).collect();
    assert_eq!(by_id.len(), g.nodes.len(), "node ids are unique");
    let roots: BTreeSet<NodeId> = g.crates.iter().map(|c| c.id).collect();
    let mut contains: BTreeSet<(NodeId, NodeId)> = BTreeSet::new();
    for e in &g.edges {
        let src = by_id
            .get(&e.src)
            .unwrap_or_else(|| panic!("edge source {e:?} is a node"));
        let dst = by_id
            .get(&e.dst)
            .unwrap_or_else(|| panic!("edge target {e:?} is a node"));
        assert_ne!(e.src, e.dst, "no self edges: {}", src.path);
        if e.kind == EdgeKind::Contains {
            contains.insert((e.src, e.dst));
            assert_eq!(
                e.line, dst.span.start_line,
                "contains edge line is the child's start line"
            );
        }
    }
    for n in &g.nodes {
        match n.parent {
            None => {
                assert_eq!(
                    n.kind,
                    ItemKind::Crate,
                    "only crate roots lack a parent: {}",
                    n.path
                );
                assert!(roots.contains(&n.id), "{} is a crate record", n.path);
            }
            Some(p) => {
                assert!(by_id.contains_key(&p), "parent of {} exists", n.path);
                assert!(
                    contains.remove(&(p, n.id)),
                    "parent of {} has a contains edge to it",
                    n.path
                );
            }
        }
    }
    assert!(
        contains.is_empty(),
        "every contains edge is a parent link: {contains:?}"
    );
    for u in &g.unresolved {
        assert!(
            by_id.contains_key(&u.src),
            "unresolved source exists: {u:?}"
        );
    }
    // Edges are deduplicated per (src, kind, dst).
    let mut keys = BTreeSet::new();
    for e in &g.edges {
        assert!(
            keys.insert((e.src, e.kind, e.dst)),
            "one edge per (src, kind, dst): {e:?}"
        );
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
    let path_of = |id: NodeId| {
        by_id
            .get(&id)
            .map(|n| n.path.clone())
            .unwrap_or_else(|| format!("<missing {id}>"))
    };
    let mut out = String::new();

    out.push_str("# crates\n");
    let mut crates: Vec<_> = g.crates.iter().collect();
    crates.sort_by(|a, b| {
        (&a.package_root, a.kind, &a.name).cmp(&(&b.package_root, b.kind, &b.name))
    });
    for c in crates {
        let dir = if c.package_root.is_empty() {
            "."
        } else {
            c.package_root.as_str()
        };
        writeln!(
            out,
            "{} {} (package {} {}) dir={} root={}",
            c.kind.as_str(),
            c.name,
            c.package,
            c.version,
            dir,
            c.root_file
        )
        .unwrap();
    }

    out.push_str("\n# files\n");
    for f in &g.files {
        writeln!(
            out,
            "{} ({}) crate={} lines={}",
            f.path, f.rel_path, f.crate_name, f.lines
        )
        .unwrap();
    }
    if !ix.report.orphan_files.is_empty() {
        out.push_str("\n# orphan files\n");
        for f in &ix.report.orphan_files {
            writeln!(out, "{f}").unwrap();
        }
    }

    out.push_str("\n# nodes\n");
    let mut nodes: Vec<&Node> = g.nodes.iter().collect();
    nodes.sort_by(|a, b| {
        (&a.file, a.span.start_line, &a.path, a.span.start_byte).cmp(&(
            &b.file,
            b.span.start_line,
            &b.path,
            b.span.start_byte,
        ))
    });
    let mut file = None;
    for n in nodes {
        if file != Some(&n.file) {
            writeln!(out, "## {}", n.file).unwrap();
            file = Some(&n.file);
        }
        write!(
            out,
            "{} {} [{}-{}]",
            n.kind, n.path, n.span.start_line, n.span.end_line
        )
        .unwrap();
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
        if detail && n.kind == ItemKind::Crate && !n.docs.is_empty() {
            writeln!(out, "    doc: {}", one_line(&n.docs)).unwrap();
        }
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
        .map(|e| {
            format!(
                "{} -{}-> {} @{}",
                path_of(e.src),
                e.kind,
                path_of(e.dst),
                e.line
            )
        })
        .collect();
    edges.sort();
    for e in edges {
        writeln!(out, "{e}").unwrap();
    }

    out.push_str("\n# unresolved\n");
    let mut unresolved: Vec<String> = g
        .unresolved
        .iter()
        .map(|u| format!("{} -{}-> ?{} @{}", path_of(u.src), u.kind, u.text, u.line))
        .collect();
    unresolved.sort();
    for u in unresolved {
        writeln!(out, "{u}").unwrap();
    }

    out.push_str("\n# problems\n");
    for s in &g.skipped {
        writeln!(
            out,
            "{s}{}",
            if s.whole_file { " [whole file]" } else { "" }
        )
        .unwrap();
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
    let found: Vec<&Node> = nodes_at(g, path)
        .into_iter()
        .filter(|n| n.kind == kind)
        .collect();
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
    g.unresolved
        .iter()
        .filter(|u| u.kind == kind && by_id[&u.src].path == src)
        .map(|u| u.text.clone())
        .collect()
}

/// Index a fixture twice in two different temp dirs: the graphs (ids included) are identical.
/// Re-indexing an unchanged copy writes nothing.
fn assert_stable(name: &str, prepare: fn(&Path), first: &Indexed) {
    let second = index_fixture(name, prepare);
    assert_ne!(first.root, second.root);
    let ids = |g: &Graph| -> Vec<(String, ItemKind, String, NodeId)> {
        let mut v: Vec<_> = g
            .nodes
            .iter()
            .map(|n| (n.path.clone(), n.kind, n.cfg.clone(), n.id))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(&first.graph),
        ids(&second.graph),
        "{name}: same ids in two directories"
    );
    assert_eq!(
        first.graph, second.graph,
        "{name}: same graph in two directories"
    );
    let again = index_dir(&second.root, &second.db_dir);
    assert_eq!(
        again.delta_rows, 0,
        "{name}: re-indexing an unchanged tree writes nothing"
    );
    assert_eq!(
        again.parsed_files, 0,
        "{name}: re-indexing an unchanged tree parses nothing"
    );
}

// ---- the fixtures ----

#[test]
fn item_kinds() {
    let ix = index_fixture("item_kinds", no_prepare);
    insta::assert_snapshot!("item_kinds", render(&ix, true));
    let g = &ix.graph;
    assert!(g.skipped.is_empty(), "{:?}", g.skipped);

    // Every item kind that stable Rust can write.
    let kinds: BTreeSet<ItemKind> = g.nodes.iter().map(|n| n.kind).collect();
    let unstable = [ItemKind::TraitAlias, ItemKind::ForeignType];
    for k in ItemKind::ALL {
        assert_eq!(kinds.contains(&k), !unstable.contains(&k), "{k}");
    }

    use ploke_core::Visibility as V;
    let vis = |p: &str| node(g, p).visibility.clone();
    assert_eq!(vis("item_kinds::inline_mod::for_parent"), V::Super);
    assert_eq!(
        vis("item_kinds::inline_mod::restricted"),
        V::Restricted("crate::inline_mod".into())
    );
    assert_eq!(vis("item_kinds::inline_mod::CrateOnly"), V::Crate);
    assert_eq!(vis("item_kinds::inline_mod::self_private"), V::Private);
    assert_eq!(vis("item_kinds::Point::y"), V::Crate);
    assert_eq!(vis("item_kinds::exported_min"), V::Public);
    assert_eq!(vis("item_kinds::local_max"), V::Private);

    // Docs: outer, inner (`//!` in an inline module), and a file module's `//!` docs.
    assert_eq!(
        node(g, "item_kinds").docs,
        "One of every item kind ploke indexes."
    );
    assert_eq!(
        node(g, "item_kinds::file_mod").docs,
        "A module in its own file.\nItems in a file module."
    );
    assert_eq!(
        node(g, "item_kinds::inline_mod").docs,
        "An inline module with every visibility.\nInner docs of the inline module."
    );
    assert_eq!(
        node(g, "item_kinds::Point").attrs,
        vec!["#[derive(Debug, Clone, Default)]"]
    );

    // Impl members hang off their impl, which points at its type and trait.
    let new = node(g, "item_kinds::Point::new");
    assert_eq!(
        (new.kind, new.display_name.as_str()),
        (ItemKind::Method, "Point::new")
    );
    assert_eq!(new.parent, Some(node(g, "item_kinds::<impl Point>").id));
    let name = node(g, "item_kinds::<Point as Named>::name");
    assert_eq!(
        name.parent,
        Some(node(g, "item_kinds::<impl Named for Point>").id)
    );
    assert_edge(
        g,
        "item_kinds::<impl Named for Point>",
        EdgeKind::ImplementsTrait,
        "item_kinds::Named",
    );
    assert_edge(
        g,
        "item_kinds::<impl Named for Point>",
        EdgeKind::ImplFor,
        "item_kinds::Point",
    );
    assert_edge(
        g,
        "item_kinds::<impl Named for Wrapper>",
        EdgeKind::ImplFor,
        "item_kinds::Wrapper",
    );
    // An impl written in another module than its type: members are named after the type.
    let flipped = node(g, "item_kinds::Point::flipped");
    assert_eq!(
        (flipped.file.as_str(), flipped.module.as_str()),
        ("src/file_mod.rs", "file_mod")
    );
    assert_eq!(
        flipped.parent,
        Some(node(g, "item_kinds::file_mod::<impl Point>").id)
    );
    assert_eq!(
        node(g, "item_kinds::<Unit as Named>::name").display_name,
        "Unit::name"
    );
    assert_eq!(node(g, "item_kinds::Shape::Circle").signature, "Circle = 1");
    assert_eq!(
        node_of_kind(g, "item_kinds::abs", ItemKind::ForeignFn).parent,
        Some(node(g, "item_kinds::{extern \"C\"}").id)
    );

    // References: a foreign fn, both macros, a call inside a macro's arguments.
    for dst in [
        "item_kinds::abs",
        "item_kinds::local_max",
        "item_kinds::exported_min",
        "item_kinds::Point::norm",
    ] {
        assert_edge(g, "item_kinds::uses_everything", EdgeKind::Calls, dst);
    }
    // `&self` names no type; `self: Box<Self>` does.
    assert_no_edge(
        g,
        "item_kinds::Point::norm",
        EdgeKind::UsesType,
        "item_kinds::Point",
    );
    assert_edge(
        g,
        "item_kinds::Point::boxed",
        EdgeKind::UsesType,
        "item_kinds::Point",
    );
    assert!(
        unresolved_texts(g, "item_kinds::Point::new", EdgeKind::Calls)
            .contains("std::collections::HashMap::new")
    );

    assert_stable("item_kinds", no_prepare, &ix);
}

#[test]
fn module_tree() {
    let ix = index_fixture("module_tree", no_prepare);
    insta::assert_snapshot!("module_tree", render(&ix, false));
    let g = &ix.graph;
    for (path, file) in [
        ("module_tree::a::a_fn", "src/a.rs"),
        ("module_tree::a::c::c_fn", "src/a/c.rs"),
        (
            "module_tree::a::inner::deep::deep_fn",
            "src/a/inner/deep.rs",
        ),
        ("module_tree::b::b_fn", "src/b/mod.rs"),
        ("module_tree::b::e::e_fn", "src/b/e.rs"),
        ("module_tree::x::x_fn", "src/other/x.rs"),
        ("module_tree::x::y::y_fn", "src/other/y.rs"),
        ("module_tree::inline::d::d_fn", "src/inline/d.rs"),
        ("module_tree::inline::z::z_fn", "src/inline/renamed.rs"),
        ("module_tree::root_fn", "src/lib.rs"),
    ] {
        assert_eq!(node(g, path).file, file, "{path}");
    }
    // The missing file is one problem; the declaration is still a module node.
    assert_eq!(g.skipped.len(), 1, "{:?}", g.skipped);
    let s = &g.skipped[0];
    assert_eq!((s.path.as_str(), s.whole_file), ("src/lib.rs", false));
    assert!(
        s.reason.contains("`missing`") && s.reason.contains("src/missing.rs"),
        "{s}"
    );
    assert_eq!(node(g, "module_tree::missing").kind, ItemKind::Module);
    assert_eq!(ix.report.orphan_files, vec!["src/orphan.rs".to_string()]);
    assert!(g.nodes.iter().all(|n| n.name != "orphan_fn"));
    assert_edge(
        g,
        "module_tree::a::inner::deep::deep_fn",
        EdgeKind::Calls,
        "module_tree::a::c::c_fn",
    );
    assert_edge(
        g,
        "module_tree::x::x_fn",
        EdgeKind::Calls,
        "module_tree::x::y::y_fn",
    );
    assert_stable("module_tree", no_prepare, &ix);
}

#[test]
fn use_resolution() {
    let ix = index_fixture("use_resolution", no_prepare);
    insta::assert_snapshot!("use_resolution", render(&ix, false));
    let g = &ix.graph;
    let target = "use_resolution::defs::deep::target_fn";
    // A re-export of a re-export, renamed, resolves to the defining fn...
    assert_edge(
        g,
        "use_resolution::{use layer2::target_fn as top_fn}",
        EdgeKind::Reexports,
        target,
    );
    // ...and so do calls through it: `crate::top_fn()`, a glob import of a glob re-export.
    assert_eq!(
        targets(g, "use_resolution::root_call", EdgeKind::Calls)
            .iter()
            .filter(|t| *t == target)
            .count(),
        1
    );
    assert_edge(g, "use_resolution::consumer::run", EdgeKind::Calls, target);
    assert_edge(
        g,
        "use_resolution::consumer::run",
        EdgeKind::Calls,
        "use_resolution::defs::deep::deeper::bottom",
    );
    // A renamed import (`Widget as W`) and a renamed re-export (`Widget as Gadget`).
    assert_edge(
        g,
        "use_resolution::consumer::run",
        EdgeKind::Calls,
        "use_resolution::defs::Widget::make",
    );
    assert_edge(
        g,
        "use_resolution::consumer::through_gadget",
        EdgeKind::UsesType,
        "use_resolution::defs::Widget",
    );
    // `use crate::defs::{self, …}` binds `defs`; `use crate::Mode::{self, *}` binds `Mode`.
    assert_edge(
        g,
        "use_resolution::consumer::run",
        EdgeKind::Calls,
        "use_resolution::defs::helper",
    );
    assert_edge(
        g,
        "use_resolution::consumer::pick",
        EdgeKind::UsesType,
        "use_resolution::defs::Mode",
    );
    // `super::super::` from an inline module; `use` items inside a fn body.
    assert_edge(
        g,
        "use_resolution::consumer::local::local_fn",
        EdgeKind::Calls,
        "use_resolution::defs::helper",
    );
    assert_edge(
        g,
        "use_resolution::consumer::local_imports",
        EdgeKind::Calls,
        "use_resolution::defs::helper",
    );
    assert_edge(
        g,
        "use_resolution::consumer::local_imports",
        EdgeKind::Calls,
        "use_resolution::defs::deep::other_fn",
    );
    // External paths stay text, written in full.
    assert!(
        unresolved_texts(g, "use_resolution::consumer::run", EdgeKind::Calls)
            .contains("std::cmp::max")
    );
    assert!(
        unresolved_texts(g, "use_resolution::consumer::read_all", EdgeKind::UsesType)
            .contains("std::io::Result")
    );
    let dep = unresolved_texts(
        g,
        "use_resolution::consumer::with_dependency",
        EdgeKind::Calls,
    );
    assert!(
        dep.contains("some_dep::init") && dep.contains("some_dep::Client::connect"),
        "{dep:?}"
    );
    assert!(g
        .unresolved
        .iter()
        .all(|u| !u.text.starts_with("crate::") && !u.text.starts_with("super::")));
    assert_stable("use_resolution", no_prepare, &ix);
}

#[test]
fn cfg_twins() {
    let ix = index_fixture("cfg_twins", no_prepare);
    insta::assert_snapshot!("cfg_twins", render(&ix, false));
    let g = &ix.graph;
    let imps = nodes_at(g, "cfg_twins::imp");
    assert_eq!(imps.len(), 2);
    assert_ne!(imps[0].id, imps[1].id, "cfg twins have distinct ids");
    let cfgs: BTreeSet<&str> = imps.iter().map(|n| n.cfg.as_str()).collect();
    assert_eq!(cfgs, BTreeSet::from(["unix", "windows"]));
    // A call to a twin reaches both: which one compiles depends on the target.
    let by_id: HashMap<NodeId, &Node> = g.nodes.iter().map(|n| (n.id, n)).collect();
    let platform = node(g, "cfg_twins::platform").id;
    let called: BTreeSet<NodeId> = g
        .edges
        .iter()
        .filter(|e| e.src == platform && e.kind == EdgeKind::Calls)
        .map(|e| e.dst)
        .collect();
    assert_eq!(called, imps.iter().map(|n| n.id).collect());
    // Twins inside twin modules: three `flavor`s, three ids, cfgs combined with the module's.
    let flavors = nodes_at(g, "cfg_twins::sys::flavor");
    assert_eq!(
        flavors.iter().map(|n| n.id).collect::<BTreeSet<_>>().len(),
        3
    );
    let cfgs: BTreeSet<&str> = flavors.iter().map(|n| n.cfg.as_str()).collect();
    assert_eq!(
        cfgs,
        BTreeSet::from([
            "all(unix, target_os = \"linux\")",
            "all(unix, not(target_os = \"linux\"))",
            "not(unix)"
        ])
    );
    for m in nodes_at(g, "cfg_twins::sys") {
        for child in g.nodes.iter().filter(|n| n.parent == Some(m.id)) {
            assert!(
                child.cfg.contains(&m.cfg),
                "{} inherits {}",
                child.path,
                m.cfg
            );
        }
    }
    // Test code: `#[cfg(test)]` items, the tests module and all inside it, `#[test]` fns, and
    // the whole tests/ target.
    for p in [
        "cfg_twins::fixture_value",
        "cfg_twins::unix_test_value",
        "cfg_twins::tests",
        "cfg_twins::tests::helper",
        "cfg_twins::tests::opens",
    ] {
        assert!(node(g, p).is_test, "{p} is test code");
    }
    for p in [
        "cfg_twins::platform",
        "cfg_twins::open",
        "cfg_twins::not_test",
        "cfg_twins",
    ] {
        assert!(!node(g, p).is_test, "{p} is not test code");
    }
    let integration: Vec<&Node> = g
        .nodes
        .iter()
        .filter(|n| n.crate_name == "integration")
        .collect();
    assert!(integration.len() > 2 && integration.iter().all(|n| n.is_test));
    assert!(by_id
        .values()
        .filter(|n| n.crate_name == "cfg_twins" && n.file == "src/lib.rs")
        .any(|n| !n.is_test));
    assert_edge(
        g,
        "integration::platform_is_known",
        EdgeKind::Calls,
        "cfg_twins::platform",
    );
    assert_stable("cfg_twins", no_prepare, &ix);
}

#[test]
fn macros() {
    let ix = index_fixture("macros", no_prepare);
    insta::assert_snapshot!("macros", render(&ix, false));
    let g = &ix.graph;
    // `mod m;` inside a macro body still owns src/m.rs.
    assert_eq!(node(g, "macros::m::g").file, "src/m.rs");
    assert_edge(g, "macros::f", EdgeKind::Calls, "macros::m::g");
    // A leading `#![meta]` in the macro body becomes part of the items' cfg.
    assert_eq!(
        node(g, "macros::extra_fn").cfg,
        "all(cfg_feature!, feature = \"extra\")"
    );
    assert_eq!(
        node(g, "macros::nested_in_two").cfg,
        "all(passthrough!, cfg_feature!)"
    );
    // Calls written inside macro arguments: `assert!(is_even(helper(x)))`, format args.
    for dst in [
        "macros::is_even",
        "macros::helper",
        "macros::describe",
        "macros::m::g",
    ] {
        assert_edge(g, "macros::checks", EdgeKind::Calls, dst);
    }
    // Items of an impl-level macro invocation are members of the impl.
    let imp = node(g, "macros::<impl Counter>").id;
    for p in ["macros::Counter::bump", "macros::Counter::STEP"] {
        let n = node(g, p);
        assert_eq!(
            (n.parent, n.cfg.as_str()),
            (Some(imp), "passthrough!"),
            "{p}"
        );
    }
    assert_edge(
        g,
        "macros::Counter::bump",
        EdgeKind::UsesType,
        "macros::Counter::STEP",
    );
    assert_edge(
        g,
        "macros::<Counter as Default>::default",
        EdgeKind::Calls,
        "macros::Counter::new",
    );
    assert_stable("macros", no_prepare, &ix);
}

#[test]
fn cfg_if() {
    let ix = index_fixture("cfg_if", no_prepare);
    insta::assert_snapshot!("cfg_if", render(&ix, false));
    assert!(ix.report.skipped.is_empty(), "{:?}", ix.report.skipped);
    assert!(
        ix.report.orphan_files.is_empty(),
        "{:?}",
        ix.report.orphan_files
    );
    let g = &ix.graph;
    // Every branch's modules are in the tree, their files indexed, under the branch's cfg.
    let linux = "target_os = \"linux\"";
    let windows = "all(not(target_os = \"linux\"), windows)";
    let other = "not(any(target_os = \"linux\", windows))";
    let wasi = format!("all({other}, target_os = \"wasi\")");
    let fallback = format!("all({other}, not(target_os = \"wasi\"))");
    for (path, file, cfg) in [
        (
            "cfgif::backends::linux::fill",
            "src/backends/linux.rs",
            linux,
        ),
        (
            "cfgif::backends::imp::fill",
            "src/backends/windows_impl.rs",
            windows,
        ),
        (
            "cfgif::backends::fallback::fill",
            "src/backends/fallback.rs",
            &fallback,
        ),
        ("cfgif::util_unix::helper", "src/util_unix.rs", "unix"),
        (
            "cfgif::util_other::helper",
            "src/util_other.rs",
            "not(unix)",
        ),
    ] {
        let n = node(g, path);
        assert_eq!((n.file.as_str(), n.cfg.as_str()), (file, cfg), "{path}");
    }
    // `mod linux;` in two branches (nested `cfg_if!` in the second): cfg twins of one file.
    let twins = nodes_at(g, "cfgif::backends::linux");
    let cfgs: BTreeSet<&str> = twins.iter().map(|n| n.cfg.as_str()).collect();
    assert_eq!(cfgs, BTreeSet::from([linux, wasi.as_str()]));
    // A declaration is where its text is, with its docs.
    let lib = std::fs::read_to_string(ix.root.join("src/lib.rs")).unwrap();
    let util = node(g, "cfgif::util_unix");
    assert_eq!(util.file, "src/lib.rs");
    assert_eq!(util.docs, "Unix helpers.");
    assert_eq!(
        &lib[util.span.start_byte as usize..util.span.end_byte as usize],
        "/// Unix helpers.\n        mod util_unix;"
    );
    assert_eq!(
        util.span.start_line,
        ploke_test_support::line_of(&lib, "/// Unix helpers.")
    );
    let imp = node(g, "cfgif::backends::imp");
    assert_eq!(
        (imp.file.as_str(), imp.span.start_line),
        ("src/backends.rs", 8)
    );
    // A `cfg(test)` branch is test code; impl-level branches are members of the impl.
    assert!(node(g, "cfgif::test_only").is_test);
    assert!(!node(g, "cfgif::entry").is_test);
    let imp_rng = node(g, "cfgif::<impl Rng>").id;
    let nexts = nodes_at(g, "cfgif::Rng::next");
    assert_eq!(nexts.len(), 2);
    assert!(nexts.iter().all(|n| n.parent == Some(imp_rng)));
    let cfgs: BTreeSet<&str> = nexts.iter().map(|n| n.cfg.as_str()).collect();
    assert_eq!(
        cfgs,
        BTreeSet::from(["feature = \"fast\"", "not(feature = \"fast\")"])
    );
    // Calls reach the implementations through the branches' re-exports.
    assert_edge(
        g,
        "cfgif::entry",
        EdgeKind::Calls,
        "cfgif::backends::linux::fill",
    );
    assert_edge(
        g,
        "cfgif::entry",
        EdgeKind::Calls,
        "cfgif::util_unix::helper",
    );
    assert_stable("cfg_if", no_prepare, &ix);
}

/// Replace the placeholder with a file that is valid UTF-8 up to line 3.
fn write_not_utf8(root: &Path) {
    std::fs::write(
        root.join("src/not_utf8.rs"),
        b"pub fn fine() {}\n\n// caf\xe9 is Latin-1, not UTF-8\npub fn later() {}\n",
    )
    .unwrap();
}

#[test]
fn broken_files() {
    let ix = index_fixture("broken_files", write_not_utf8);
    insta::assert_snapshot!("broken_files", render(&ix, false));
    let g = &ix.graph;
    // Items before and after the broken fn are indexed; the broken fn is not.
    for p in [
        "broken_files::syntax_error::before",
        "broken_files::syntax_error::after",
        "broken_files::syntax_error::AfterStruct",
    ] {
        node(g, p);
    }
    assert!(nodes_at(g, "broken_files::syntax_error::broken").is_empty());
    assert_edge(
        g,
        "broken_files::syntax_error::after",
        EdgeKind::Calls,
        "broken_files::syntax_error::before",
    );
    // Each problem once, with its file and line.
    let problems: Vec<(String, u32, bool)> = g
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.line, s.whole_file))
        .collect();
    assert_eq!(
        problems,
        vec![
            ("src/lib.rs".to_string(), 16, false), // the `pub mod missing;` line
            ("src/not_utf8.rs".to_string(), 3, true),
            ("src/syntax_error.rs".to_string(), 8, false),
            ("src/unbalanced.rs".to_string(), 3, true),
        ]
    );
    assert_eq!(ix.report.skipped, g.skipped);
    // Unreadable files have module nodes but nothing inside; the empty file is fine.
    for m in [
        "broken_files::not_utf8",
        "broken_files::unbalanced",
        "broken_files::empty",
        "broken_files::missing",
    ] {
        let id = node(g, m).id;
        assert!(
            g.nodes.iter().all(|n| n.parent != Some(id)),
            "{m} has no children"
        );
    }
    assert!(g
        .files
        .iter()
        .any(|f| f.path == "src/empty.rs" && f.lines == 0));
    assert!(g.files.iter().all(|f| f.path != "src/not_utf8.rs"));
    node(g, "broken_files::ok_root");
    assert_stable("broken_files", write_not_utf8, &ix);
}

#[test]
fn workspace_multi() {
    let ix = index_fixture("workspace_multi", no_prepare);
    insta::assert_snapshot!("workspace_multi", render(&ix, false));
    let g = &ix.graph;
    let crates: BTreeSet<(String, &str, String)> = g
        .crates
        .iter()
        .map(|c| (c.name.clone(), c.kind.as_str(), c.package.clone()))
        .collect();
    assert_eq!(
        crates,
        BTreeSet::from([
            ("app".to_string(), "lib", "app".to_string()),
            ("app".to_string(), "bin", "app".to_string()),
            ("demo".to_string(), "example", "app".to_string()),
            ("shape_kit".to_string(), "lib", "shape-kit".to_string()),
        ])
    );
    // `use shape_kit::Thing` (a re-export) resolves across crates to the defining struct.
    let thing = "shape_kit::geometry::Thing";
    assert_eq!(node(g, thing).crate_name, "shape_kit");
    assert_edge(g, "app::{use shape_kit::Thing}", EdgeKind::Imports, thing);
    assert_edge(
        g,
        "app::build",
        EdgeKind::Calls,
        "shape_kit::geometry::Thing::new",
    );
    assert_edge(g, "app::total_area", EdgeKind::Calls, "shape_kit::area");
    assert_edge(
        g,
        "app::total_area",
        EdgeKind::Calls,
        "shape_kit::geometry::Thing::size",
    );
    // The bin and the example reach the lib by its crate name.
    let lib_build = g.nodes.iter().find(|n| n.path == "app::build").unwrap();
    let main = g.nodes.iter().find(|n| n.path == "app::main").unwrap();
    assert!(g
        .edges
        .iter()
        .any(|e| e.src == main.id && e.dst == lib_build.id && e.kind == EdgeKind::Calls));
    assert_edge(g, "demo::main", EdgeKind::Calls, "app::total_area");
    assert_edge(g, "demo::main", EdgeKind::Calls, "shape_kit::area");
    assert_eq!(
        g.nodes.iter().filter(|n| n.path == "app").count(),
        2,
        "lib and bin roots share a name, not an id"
    );
    assert_stable("workspace_multi", no_prepare, &ix);
}
