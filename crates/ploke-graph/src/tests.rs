//! Unit tests of resolution rules, on one-file crates.

use ploke_core::{EdgeKind, Graph, TargetKind};
use ploke_parse::{parse_file, ParseOptions, ParsedFile};

use crate::{build_graph, CrateInput, ModuleFile};

fn input<'a>(name: &str, kind: TargetKind, parsed: &'a ParsedFile) -> CrateInput<'a> {
    CrateInput {
        source: None,
        externs: None,
        name: name.into(),
        package: name.into(),
        version: "0.1.0".into(),
        kind,
        package_root: name.into(),
        modules: vec![ModuleFile {
            path: format!("{name}/src/lib.rs"),
            parsed,
            declared_by: None,
        }],
    }
}

fn path_of(g: &Graph, id: ploke_core::NodeId) -> &str {
    &g.nodes.iter().find(|n| n.id == id).unwrap().path
}

fn edges(g: &Graph, kind: EdgeKind) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = g
        .edges
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (path_of(g, e.src).to_string(), path_of(g, e.dst).to_string()))
        .collect();
    v.sort();
    v
}

fn has(g: &Graph, kind: EdgeKind, src: &str, dst: &str) -> bool {
    edges(g, kind).contains(&(src.to_string(), dst.to_string()))
}

#[test]
fn self_in_a_use_group_binds_the_module() {
    let src = "mod a { pub fn f() {} pub enum E { X } }\nuse a::{self};\nuse a::E::{self as Kind};\nfn g(_: Kind) { a::f(); }\n";
    let p = parse_file(src, &ParseOptions::default());
    let g = build_graph(&[input("c", TargetKind::Lib, &p)]);
    assert!(
        has(&g, EdgeKind::Calls, "c::g", "c::a::f"),
        "{:#?}",
        edges(&g, EdgeKind::Calls)
    );
    assert!(has(&g, EdgeKind::UsesType, "c::g", "c::a::E"));
    assert!(g.unresolved.is_empty(), "{:?}", g.unresolved);
}

#[test]
fn external_self_imports_keep_the_full_path() {
    let src = "use std::io::{self, Read};\nfn g() -> io::Result<()> { Ok(()) }\n";
    let p = parse_file(src, &ParseOptions::default());
    let g = build_graph(&[input("c", TargetKind::Lib, &p)]);
    assert!(
        g.unresolved.iter().any(|u| u.text == "std::io::Result"),
        "{:?}",
        g.unresolved
    );
}

#[test]
fn impl_members_are_named_after_their_type() {
    let src = "pub mod defs { pub struct W; pub trait T { fn t(&self); } }\nmod other {\n    use crate::defs::W as Alias;\n    impl Alias { pub fn m(&self) {} }\n    impl crate::defs::T for super::defs::W { fn t(&self) {} }\n    impl std::fmt::Debug for Vec<u8> {}\n}\n";
    let p = parse_file(src, &ParseOptions::default());
    let g = build_graph(&[input("c", TargetKind::Lib, &p)]);
    let paths: Vec<&str> = g.nodes.iter().map(|n| n.path.as_str()).collect();
    for want in [
        "c::defs::W::m",
        "c::defs::<W as T>::t",
        "c::other::<impl Alias>",
        "c::other::<impl T for W>",
    ] {
        assert!(paths.contains(&want), "{want} in {paths:#?}");
    }
    let m = g.nodes.iter().find(|n| n.path == "c::defs::W::m").unwrap();
    assert_eq!(
        (m.module.as_str(), m.display_name.as_str()),
        ("other", "Alias::m")
    );
}

#[test]
fn method_calls_reach_other_workspace_crates() {
    let lib = parse_file(
        "pub struct Thing; impl Thing { pub fn size(&self) -> u32 { 1 } }\n",
        &ParseOptions::default(),
    );
    let app = parse_file(
        "fn run(t: other::Thing) -> u32 { t.size() }\n",
        &ParseOptions::default(),
    );
    let g = build_graph(&[
        input("other", TargetKind::Lib, &lib),
        input("app", TargetKind::Bin, &app),
    ]);
    assert!(
        has(&g, EdgeKind::Calls, "app::run", "other::Thing::size"),
        "{:#?}",
        edges(&g, EdgeKind::Calls)
    );
}

#[test]
fn file_docs_become_module_docs() {
    let root = parse_file(
        "//! Crate docs.\n/// Outer.\npub mod m;\n",
        &ParseOptions::default(),
    );
    let m = parse_file("//! Inner.\npub fn f() {}\n", &ParseOptions::default());
    let mut c = input("c", TargetKind::Lib, &root);
    c.modules.push(ModuleFile {
        path: "c/src/m.rs".into(),
        parsed: &m,
        declared_by: Some((0, 0)),
    });
    let g = build_graph(&[c]);
    let docs = |p: &str| g.nodes.iter().find(|n| n.path == p).unwrap().docs.clone();
    assert_eq!(docs("c"), "Crate docs.");
    assert_eq!(docs("c::m"), "Outer.\nInner.");
}

/// A test target's extension trait implemented for a library type (tokio's
/// `tests/sync_oneshot.rs` does this for `oneshot::Sender`) adds a method only the test can
/// call: the library's own call of its inherent method does not resolve to it too, so the
/// library's part is the same built alone or with the test (the live index rebuilds it
/// alone).
#[test]
fn a_dependent_targets_extension_trait_adds_nothing_to_the_library() {
    let lib = parse_file(
        "pub struct Sender;\nimpl Sender {\n    pub fn poll_closed(&self) {}\n    pub fn closed(&self) { self.poll_closed() }\n}\n",
        &ParseOptions::default(),
    );
    let test = parse_file(
        "trait SenderExt { fn poll_closed(&self); }\nimpl SenderExt for lib::Sender { fn poll_closed(&self) {} }\nfn check(s: lib::Sender) { lib::Sender::closed(&s); }\n",
        &ParseOptions::default(),
    );
    let alone = build_graph(&[input("lib", TargetKind::Lib, &lib)]);
    let both = build_graph(&[
        input("lib", TargetKind::Lib, &lib),
        input("t", TargetKind::Test, &test),
    ]);
    let from_lib = |g: &Graph| -> Vec<(String, String)> {
        edges(g, EdgeKind::Calls)
            .into_iter()
            .filter(|(s, _)| s.starts_with("lib::"))
            .collect()
    };
    assert_eq!(
        from_lib(&both),
        [(
            "lib::Sender::closed".to_string(),
            "lib::Sender::poll_closed".to_string()
        )]
    );
    assert_eq!(from_lib(&both), from_lib(&alone));
    // The test still reaches the library's members.
    assert!(
        has(&both, EdgeKind::Calls, "t::check", "lib::Sender::closed"),
        "{:#?}",
        edges(&both, EdgeKind::Calls)
    );
}
