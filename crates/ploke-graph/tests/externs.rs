//! Resolution into crates built elsewhere: a dependency built once exports its interface,
//! and crates built later resolve their paths into it, ending at its node ids.

use std::sync::Arc;

use ploke_core::{EdgeKind, Graph, NodeId, TargetKind};
use ploke_graph::{build_with_interfaces, CrateInput, Externs, Interface, ModuleFile};
use ploke_parse::{parse_file, ParseOptions, ParsedFile};

fn input<'a>(
    name: &str,
    parsed: &'a ParsedFile,
    source: Option<&str>,
    deps: &[(&str, &Arc<Interface>)],
) -> CrateInput<'a> {
    let externs = (!deps.is_empty()).then(|| {
        let mut e = Externs::default();
        for (extern_name, iface) in deps {
            e.prelude.insert(extern_name.to_string(), iface.root);
            e.crates.insert(iface.root, Arc::clone(iface));
        }
        Arc::new(e)
    });
    CrateInput {
        name: name.into(),
        package: name.into(),
        version: "1.0.0".into(),
        kind: TargetKind::Lib,
        package_root: format!("/deps/{name}"),
        modules: vec![ModuleFile {
            path: format!("/deps/{name}/src/lib.rs"),
            parsed,
            declared_by: None,
        }],
        source: source.map(str::to_string),
        externs,
    }
}

/// Builds one crate alone, as a dependency is built: its graph and its interface.
fn build(input: CrateInput) -> (Graph, Arc<Interface>) {
    let (mut parts, mut ifaces) = build_with_interfaces(&[input], None);
    (
        parts.remove(0).unwrap(),
        Arc::new(ifaces.remove(0).unwrap()),
    )
}

fn id_of(g: &Graph, path: &str) -> NodeId {
    g.nodes
        .iter()
        .find(|n| n.path == path)
        .unwrap_or_else(|| panic!("no node {path}"))
        .id
}

fn edge(g: &Graph, src: &str, kind: EdgeKind, dst: NodeId) -> bool {
    let s = id_of(g, src);
    g.edges
        .iter()
        .any(|e| e.src == s && e.kind == kind && e.dst == dst)
}

const BASE: &str = r#"
pub mod io {
    pub struct Stream;
    impl Stream {
        pub fn new() -> Stream { Stream }
        fn private_helper(&self) {}
    }
    pub trait Read { fn read(&mut self); }
    pub fn handshake(s: Stream) {}
    fn hidden() {}
}
mod private { pub fn reachable_only_by_reexport() {} }
pub use private::reachable_only_by_reexport as exported;
pub mod prelude { pub use crate::io::{Read, Stream}; }
"#;

const FACADE: &str = r#"
pub use base::io;
pub mod sync { pub use base::io::Stream as Mutex; }
pub mod prelude { pub use base::prelude::*; }
"#;

const APP: &str = r#"
use base::io::{self, handshake};
use facade::sync::Mutex;
use facade::prelude::*;
use renamed as b2;

pub struct Mine;
impl Read for Mine { fn read(&mut self) {} }

pub fn run() {
    let s = io::Stream::new();
    handshake(s);
    let m: Mutex = Mutex::new();
    base::exported();
    b2::io::handshake(Stream::new());
    base::io::hidden();
}
"#;

#[test]
fn paths_resolve_into_dependencies_and_through_facades() {
    let opts = ParseOptions::default();
    let (pb, pf, pa) = (
        parse_file(BASE, &opts),
        parse_file(FACADE, &opts),
        parse_file(APP, &opts),
    );
    let (base, base_if) = build(input("base", &pb, Some("registry"), &[]));
    let (facade, facade_if) = build(input(
        "facade",
        &pf,
        Some("registry"),
        &[("base", &base_if)],
    ));
    // The facade's interface names base's items, with base as their crate.
    assert!(facade_if
        .items
        .iter()
        .any(|i| i.id == id_of(&base, "base::io::Stream") && i.krate == base_if.root));
    // Its re-exports point at base's nodes.
    assert!(facade
        .edges
        .iter()
        .any(|e| e.kind == EdgeKind::Reexports && e.dst == id_of(&base, "base::io")));

    // The app names base twice (once renamed) and the facade.
    let mut app_in = input(
        "app",
        &pa,
        None,
        &[
            ("base", &base_if),
            ("renamed", &base_if),
            ("facade", &facade_if),
        ],
    );
    app_in.package_root = "app".into();
    let (app, _) = build(app_in);
    let stream_new = id_of(&base, "base::io::Stream::new");
    let handshake = id_of(&base, "base::io::handshake");
    assert!(edge(&app, "app::run", EdgeKind::Calls, stream_new));
    assert!(edge(&app, "app::run", EdgeKind::Calls, handshake));
    // Through the facade's renamed re-export, to base's own type.
    assert!(edge(
        &app,
        "app::run",
        EdgeKind::UsesType,
        id_of(&base, "base::io::Stream")
    ));
    // A private item re-exported publicly.
    assert!(edge(
        &app,
        "app::run",
        EdgeKind::Calls,
        id_of(&base, "base::private::reachable_only_by_reexport")
    ));
    // A trait from a glob of a glob, implemented for a workspace type.
    let imp = app
        .nodes
        .iter()
        .find(|n| n.kind == ploke_core::ItemKind::Impl)
        .unwrap();
    assert!(app.edges.iter().any(|e| e.src == imp.id
        && e.kind == EdgeKind::ImplementsTrait
        && e.dst == id_of(&base, "base::io::Read")));
    // What is not public stays unresolved text.
    assert!(
        app.unresolved.iter().any(|u| u.text == "base::io::hidden"),
        "{:?}",
        app.unresolved
    );
    // Nothing of base or facade is emitted into the app's graph.
    assert!(app.nodes.iter().all(|n| n.crate_name == "app"));
}

#[test]
fn interfaces_hold_only_public_names_and_are_deterministic() {
    let opts = ParseOptions::default();
    let pb = parse_file(BASE, &opts);
    let (base, a) = build(input("base", &pb, Some("registry"), &[]));
    let (_, b) = build(input("base", &pb, Some("registry"), &[]));
    assert_eq!(a, b);
    let hidden = id_of(&base, "base::io::hidden");
    let helper = id_of(&base, "base::io::Stream::private_helper");
    assert!(a.items.iter().all(|i| i.id != hidden && i.id != helper));
    assert!(a
        .items
        .iter()
        .any(|i| i.id == id_of(&base, "base::io::Stream::new")));
    // Another source of the same crate and version has other ids.
    let (other, _) = build(input("base", &pb, Some("git"), &[]));
    assert_ne!(
        id_of(&other, "base::io::handshake"),
        id_of(&base, "base::io::handshake")
    );
}
