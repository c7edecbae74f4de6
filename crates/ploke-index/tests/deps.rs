//! Dependencies indexed into a shared cache and attached to workspaces: real crates from the
//! registry (reqwest 0.12.4 with hyper, hyper-util, tokio and http), cross-crate resolution,
//! reuse of the cache by a second workspace, and detaching.

use std::path::{Path, PathBuf};

use ploke_core::{EdgeKind, Node};
use ploke_db::Db;
use ploke_index::{index, DepCache, DepsScope, IndexOptions, IndexReport, NoProgress};

const MANIFEST: &str = r#"[package]
name = "NAME"
version = "0.1.0"
edition = "2021"

[dependencies]
reqwest = "=0.12.4"
hyper = { version = "1", features = ["client", "http1"] }
hyper-util = { version = "0.1", features = ["tokio", "client-legacy", "http1"] }
tokio = { version = "1", features = ["net"] }
myhttp = { package = "http", version = "1" }

[workspace]
"#;

const LIB: &str = r#"use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

pub async fn connect(stream: tokio::net::TcpStream) {
    let io = TokioIo::new(stream);
    let (_sender, _conn) = http1::handshake::<_, String>(io).await.unwrap();
}

pub fn method() -> myhttp::Method {
    myhttp::Method::GET
}
"#;

/// A workspace that depends on real published crates, its lock file resolved and their
/// sources fetched by cargo (from its cache when it can, else from crates.io).
fn workspace(dir: &Path, name: &str) -> PathBuf {
    ploke_test_support::registry_workspace(
        dir,
        name,
        MANIFEST,
        &[("src/lib.rs", LIB)],
        "reqwest 0.12.4 and its dependencies",
    )
}

fn run(root: &Path, cache: &Path, deps: Option<DepsScope>) -> IndexReport {
    index(
        root,
        &IndexOptions {
            deps,
            dep_cache: Some(cache.to_path_buf()),
            ..IndexOptions::default()
        },
        &NoProgress,
    )
    .unwrap()
}

fn one(db: &Db, path: &str) -> Node {
    let found = db.find_items(path).unwrap();
    assert!(!found.is_empty(), "no item {path}");
    found.into_iter().next().unwrap()
}

#[test]
fn dependencies_are_indexed_once_shared_and_resolved_into() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let a = workspace(tmp.path(), "first");
    let report = run(&a, &cache, Some(DepsScope::Direct));
    let deps = report.deps.expect("dependencies attached");
    // The five it names, and the crates they re-export from (reqwest's `pub use url::Url`).
    let n = deps.crates;
    assert!(n >= 5, "{deps:?}");
    assert_eq!(deps.built, n);
    assert!(deps.parsed_files > 100, "{deps:?}");

    let db = Db::open(&ploke_index::default_db_dir(&a)).unwrap();
    // A dependency's item, with its file in cargo's registry.
    let handshake = one(&db, "hyper::client::conn::http1::handshake");
    assert!(handshake.is_dependency(), "{}", handshake.file);
    assert!(Path::new(&handshake.file).is_file());
    // The workspace's calls resolve into the dependencies (also through a renamed one).
    let callers = db.callers(handshake.id).unwrap();
    assert!(
        callers.iter().any(|(n, _)| n.path == "first::connect"),
        "{callers:?}"
    );
    // An edge is stored with its source: the workspace's callees are found in the other store.
    let connect = one(&db, "first::connect");
    let callees = db.callees(connect.id).unwrap();
    assert!(
        callees.iter().any(|(n, _)| n.id == handshake.id),
        "{callees:?}"
    );
    let tokio_io_new = one(&db, "hyper_util::rt::TokioIo::new");
    let callers = db.callers(tokio_io_new.id).unwrap();
    assert!(
        callers.iter().any(|(n, _)| n.path == "first::connect"),
        "{callers:?}"
    );
    // ... and so do the dependencies' own calls: reqwest's connector.
    assert!(
        callers
            .iter()
            .any(|(n, _)| n.crate_name == "reqwest" && n.file.ends_with("src/connect.rs")),
        "{:?}",
        callers
            .iter()
            .map(|(n, _)| (&n.path, &n.file))
            .collect::<Vec<_>>()
    );
    let method = one(&db, "first::method");
    let uses = db.edges_from(method.id, EdgeKind::UsesType).unwrap();
    let http_method = one(&db, "http::method::Method");
    assert!(
        uses.iter().any(|e| e.dst == http_method.id),
        "{uses:?} {}",
        http_method.path
    );
    drop(db);

    // A second workspace with the same dependencies parses none of them.
    let b = workspace(tmp.path(), "second");
    let report = run(&b, &cache, Some(DepsScope::Direct));
    let deps = report.deps.expect("dependencies attached");
    assert_eq!((deps.crates, deps.built, deps.parsed_files), (n, 0, 0));
    let db = Db::open(&ploke_index::default_db_dir(&b)).unwrap();
    let handshake = one(&db, "hyper::client::conn::http1::handshake");
    assert!(db
        .callers(handshake.id)
        .unwrap()
        .iter()
        .any(|(n, _)| n.path == "second::connect"));
    drop(db);

    // Listed once each; the index keeps its scope when a later run does not say.
    let listed = DepCache::new(cache.clone()).list();
    assert_eq!(listed.len(), n, "{listed:?}");
    for name in ["reqwest", "hyper", "hyper-util", "tokio", "http", "url"] {
        assert!(listed.iter().any(|e| e.name == name), "{name}: {listed:?}");
    }
    let again = run(&b, &cache, None);
    assert_eq!(again.delta_rows, 0, "nothing changed");

    // The dependencies' rows are in one store, shared: the workspace's own database holds
    // only its rows (and its edges into the dependencies).
    let db = Db::open(&ploke_index::default_db_dir(&b)).unwrap();
    assert!(db.all_nodes().unwrap().iter().all(|n| !n.is_dependency()));
    let store = db.dependencies().unwrap().expect("a dependency store");
    drop(db);
    let first = Db::open(&ploke_index::default_db_dir(&a)).unwrap();
    assert_eq!(
        first.dependencies().unwrap().unwrap().path(),
        store.path(),
        "both workspaces read one store"
    );
    drop(first);
    assert_eq!(DepCache::new(cache.clone()).stores().len(), 1);

    // Detached: nothing of the dependencies is found, nothing of the workspace is lost.
    let before = Db::open(&ploke_index::default_db_dir(&b))
        .unwrap()
        .all_nodes()
        .unwrap()
        .len();
    run(&b, &cache, Some(DepsScope::None));
    let db = Db::open(&ploke_index::default_db_dir(&b)).unwrap();
    assert!(db.dependencies().unwrap().is_none());
    assert!(db
        .find_items("hyper::client::conn::http1::handshake")
        .unwrap()
        .is_empty());
    assert_eq!(db.all_nodes().unwrap().len(), before);
    // The workspace's call into hyper is unresolved text again.
    let connect = one(&db, "second::connect");
    assert!(db.callees(connect.id).unwrap().is_empty());
    assert!(db
        .unresolved_from(connect.id)
        .unwrap()
        .iter()
        .any(|u| u.text.contains("handshake")));
    drop(db);

    // Pruning everything empties the cache.
    let pruned = DepCache::new(cache.clone())
        .prune(std::time::Duration::ZERO)
        .unwrap();
    assert_eq!((pruned.entries.len(), pruned.stores), (n, 1));
    assert!(DepCache::new(cache).list().is_empty());
}
