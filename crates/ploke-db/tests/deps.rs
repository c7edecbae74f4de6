//! An attached dependency (its records in a dependency store the index names): its files are
//! absolute paths whose texts are not stored but read from disk, checked against the indexed
//! hash; names find the workspace's items first.

use ploke_core::{
    ContentHash, CrateRecord, FileRecord, Graph, ItemKind, Node, NodeId, Span, TargetKind,
    Visibility,
};
use ploke_db::{Db, DbError};

const WS_LIB: &str = "pub fn connect() -> u8 {\n    0\n}\n";
const DEP_LIB: &str = "//! A dependency.\n\n/// Opens a connection.\npub fn connect() -> u16 {\n    7\n}\n\npub fn handshake() {}\n";

fn record(name: &str, package_root: &str, root_file: &str, version: &str) -> CrateRecord {
    CrateRecord {
        id: NodeId::new(name, name, ItemKind::Crate, package_root),
        name: name.into(),
        package: name.replace('_', "-"),
        version: version.into(),
        kind: TargetKind::Lib,
        package_root: package_root.into(),
        root_file: root_file.into(),
    }
}

fn file(path: &str, crate_name: &str, text: &str) -> FileRecord {
    FileRecord {
        path: path.into(),
        rel_path: "src/lib.rs".into(),
        crate_name: crate_name.into(),
        hash: ContentHash::of(text.as_bytes()),
        size: text.len() as u64,
        lines: text.lines().count() as u32,
    }
}

/// The function `name` of `crate_name`, whose text is the first `pub fn {name}` item of `text`.
fn func(crate_name: &str, name: &str, file: &str, text: &str) -> Node {
    let start = text.find(&format!("pub fn {name}")).unwrap();
    let end = start + text[start..].find("}\n").unwrap() + 1;
    let line = |b: usize| text[..b].matches('\n').count() as u32 + 1;
    let path = format!("{crate_name}::{name}");
    Node {
        id: NodeId::new(crate_name, &path, ItemKind::Fn, ""),
        kind: ItemKind::Fn,
        crate_name: crate_name.into(),
        name: name.into(),
        display_name: name.into(),
        path,
        module: String::new(),
        file: file.into(),
        span: Span {
            start_byte: start as u32,
            end_byte: end as u32,
            start_line: line(start),
            end_line: line(end),
        },
        visibility: Visibility::Public,
        docs: String::new(),
        attrs: Vec::new(),
        cfg: String::new(),
        signature: format!("pub fn {name}()"),
        content_hash: ContentHash::of(&text.as_bytes()[start..end]),
        is_test: false,
        parent: None,
    }
}

struct Fixture {
    _tmp: tempfile::TempDir,
    db: Db,
    dep_file: std::path::PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dep_root = tmp.path().join("registry/dep-crate-1.2.3");
    std::fs::create_dir_all(dep_root.join("src")).unwrap();
    let dep_file = dep_root.join("src/lib.rs");
    std::fs::write(&dep_file, DEP_LIB).unwrap();
    let dep_path = dep_file.to_str().unwrap();
    let mut ws = Graph {
        crates: vec![record("app", "", "src/lib.rs", "0.1.0")],
        files: vec![file("src/lib.rs", "app", WS_LIB)],
        nodes: vec![func("app", "connect", "src/lib.rs", WS_LIB)],
        ..Graph::default()
    };
    ws.canonicalize();
    // The dependency in a store of its own, as `ploke index` attaches one.
    let store = tmp.path().join("deps-store");
    let mut dep = Graph {
        crates: vec![record(
            "dep_crate",
            dep_root.to_str().unwrap(),
            dep_path,
            "1.2.3",
        )],
        files: vec![file(dep_path, "dep_crate", DEP_LIB)],
        nodes: vec![
            func("dep_crate", "connect", dep_path, DEP_LIB),
            func("dep_crate", "handshake", dep_path, DEP_LIB),
        ],
        ..Graph::default()
    };
    dep.canonicalize();
    Db::open(&store)
        .unwrap()
        .apply(&Graph::diff(&Graph::default(), &dep), &[], &[])
        .unwrap();
    let db = Db::open(&tmp.path().join("db")).unwrap();
    // Only the workspace's text is stored.
    let sources = vec![("src/lib.rs".to_string(), std::sync::Arc::from(WS_LIB))];
    db.commit_with_meta(
        &Graph::diff(&Graph::default(), &ws),
        &sources,
        &[],
        1,
        &[(ploke_db::DEPS_STORE_KEY, store.to_str().unwrap())],
    )
    .unwrap();
    Fixture {
        _tmp: tmp,
        db,
        dep_file,
    }
}

#[test]
fn a_dependency_text_is_read_from_disk_and_checked() {
    let f = fixture();
    let dep = f.dep_file.to_str().unwrap();
    assert_eq!(f.db.source_paths().unwrap(), ["src/lib.rs"], "not stored");
    assert_eq!(f.db.source(dep).unwrap().as_deref(), Some(DEP_LIB));
    assert_eq!(f.db.source("src/lib.rs").unwrap().as_deref(), Some(WS_LIB));
    assert_eq!(f.db.source("/no/such/indexed/file.rs").unwrap(), None);

    let n = f.db.find_items("dep_crate::handshake").unwrap().remove(0);
    assert!(n.is_dependency());
    let src = f.db.item_source(&n).unwrap().unwrap();
    assert_eq!(src.text, "pub fn handshake() {}");
    let lines = f.db.file_lines(dep, 4, 4).unwrap().unwrap();
    assert_eq!(lines, [(4, "pub fn connect() -> u16 {".to_string())]);

    // The file changed in cargo's cache: an error that says to re-index.
    std::fs::write(&f.dep_file, DEP_LIB.replace('7', "8")).unwrap();
    let err = f.db.item_source(&n).unwrap_err();
    assert!(matches!(err, DbError::DependencyChanged { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(dep)
            && msg.contains("changed since it was indexed")
            && msg.contains("ploke index"),
        "{msg}"
    );
    // Gone from the cache.
    std::fs::remove_file(&f.dep_file).unwrap();
    let err = f.db.source(dep).unwrap_err();
    assert!(
        matches!(err, DbError::DependencyUnreadable { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("cargo fetch"), "{err}");
}

#[test]
fn names_find_the_workspace_first_and_paths_find_dependencies() {
    let f = fixture();
    // `connect` is in both: the name means the workspace's.
    let found = f.db.find_items("connect").unwrap();
    assert_eq!(
        found.iter().map(|n| n.path.as_str()).collect::<Vec<_>>(),
        ["app::connect"]
    );
    // Only the dependency has `handshake`: found by name too.
    let found = f.db.find_items("handshake").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "dep_crate::handshake");
    // A canonical path names the dependency's.
    let found = f.db.find_items("dep_crate::connect").unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].is_dependency());
}

#[test]
fn the_crate_record_of_an_item_is_the_one_whose_package_holds_its_file() {
    let f = fixture();
    let crates = f.db.all_crates().unwrap();
    assert_eq!(
        crates.len(),
        2,
        "the index's and its dependency store's: {crates:?}"
    );
    let dep = f.dep_file.to_str().unwrap();
    let c = ploke_db::crate_of(&crates, "dep_crate", dep).unwrap();
    assert_eq!(
        (c.package.as_str(), c.version.as_str()),
        ("dep-crate", "1.2.3")
    );
    let c = ploke_db::crate_of(&crates, "app", "src/lib.rs").unwrap();
    assert_eq!(c.package, "app");
    // Two versions of one crate name.
    let mut two = crates.clone();
    two.push(record(
        "dep_crate",
        "/elsewhere/dep-crate-0.9.0",
        "/elsewhere/dep-crate-0.9.0/src/lib.rs",
        "0.9.0",
    ));
    let c = ploke_db::crate_of(&two, "dep_crate", "/elsewhere/dep-crate-0.9.0/src/lib.rs").unwrap();
    assert_eq!(c.version, "0.9.0");
    let c = ploke_db::crate_of(&two, "dep_crate", dep).unwrap();
    assert_eq!(c.version, "1.2.3");
    assert!(ploke_db::crate_of(&two, "nothing", dep).is_none());
}
