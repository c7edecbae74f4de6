//! Search scopes over an index with attached dependencies: the workspace's items by default,
//! every item with `All`, one crate's with `Crate` (a corpus of its own, not a filter of a wider
//! search's hits). A dependency's texts come from its files on disk.

use ploke_core::{Edge, EdgeKind, ItemKind};
use ploke_db::{Db, DbError};
use ploke_retrieve::embed_text::{embed_text, should_embed, text_hash};
use ploke_retrieve::{Hit, Mode, RetrieveError, Retriever, Scope};
use ploke_test_support::deps::Dependency;
use ploke_test_support::Project;

const APP_LIB: &str = "\
/// Opens a connection to the server and performs the handshake.
pub fn open_connection() {
    dep_crate::handshake();
}

/// Reads the connection's settings.
pub fn connection_settings() {}

/// Closes every connection.
pub fn close_connections() {}
";

const DEP_LIB: &str = "\
//! A dependency.

/// Performs the handshake with the server.
pub fn handshake() {
    negotiate_alpn_protocols();
}

fn negotiate_alpn_protocols() {}

/// A connection pool.
pub struct Pool;
";

const OTHER_LIB: &str = "\
/// Builds a connection.
pub fn build_connection() {}
";

struct Fixture {
    _project: Project,
    db: Db,
    dep: Dependency,
}

/// The workspace `app` indexed, with `dep-crate 1.2.3` (called by `open_connection`) and
/// `other-dep 0.3.0` attached.
fn fixture() -> Fixture {
    let project = Project::new("app", &[("src/lib.rs", APP_LIB)]);
    let db_dir = project.db("db");
    project.index(&db_dir);
    let db = Db::open(&db_dir).unwrap();
    let registry = project.tmp.path().join("registry");
    let mut dep = Dependency::new(&registry, "dep-crate", "1.2.3", &[("src/lib.rs", DEP_LIB)]);
    let handshake = dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "handshake",
        "/// Performs the handshake with the server.\npub fn handshake() {\n    negotiate_alpn_protocols();\n}",
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "negotiate_alpn_protocols",
        "fn negotiate_alpn_protocols() {}",
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Struct,
        "Pool",
        "/// A connection pool.\npub struct Pool;",
    );
    let open = db.find_items("app::open_connection").unwrap()[0].id;
    dep.attach(
        &db,
        &[Edge {
            src: open,
            kind: EdgeKind::Calls,
            dst: handshake,
            line: 3,
        }],
    );
    let mut other = Dependency::new(
        &registry,
        "other-dep",
        "0.3.0",
        &[("src/lib.rs", OTHER_LIB)],
    );
    other.item(
        "src/lib.rs",
        ItemKind::Fn,
        "build_connection",
        "/// Builds a connection.\npub fn build_connection() {}",
    );
    other.attach(&db, &[]);
    Fixture {
        _project: project,
        db,
        dep,
    }
}

fn paths<'a>(hits: &'a [Hit<'_>]) -> Vec<&'a str> {
    hits.iter().map(|h| h.node.path.as_str()).collect()
}

fn load(f: &Fixture, scope: &Scope) -> Retriever {
    let (r, unreadable) = Retriever::load_scoped(&f.db, None, scope).unwrap();
    assert!(unreadable.is_empty(), "{unreadable:?}");
    r
}

#[test]
fn the_workspace_scope_leaves_dependencies_out() {
    let f = fixture();
    let r = Retriever::load(&f.db, None).unwrap();
    assert_eq!(r.scope(), &Scope::Workspace);
    assert!(r.corpus.nodes.iter().all(|n| !n.is_dependency()));
    let hits = r
        .search("handshake connection", None, Mode::Hybrid, 20)
        .unwrap();
    assert!(!hits.is_empty());
    assert!(
        paths(&hits).iter().all(|p| p.starts_with("app::")),
        "{:?}",
        paths(&hits)
    );
    // The same as a retriever built from the workspace's stored texts alone.
    let ws = load(&f, &Scope::Workspace);
    assert_eq!(ws.corpus.nodes, r.corpus.nodes);
}

#[test]
fn all_ranks_dependencies_with_their_texts_from_disk() {
    let f = fixture();
    let r = load(&f, &Scope::All);
    // A word only in the body of the dependency's function: its text was read from disk.
    let hits = r
        .search("negotiate_alpn_protocols", None, Mode::Lexical, 5)
        .unwrap();
    assert_eq!(
        paths(&hits)[..2],
        [
            "dep_crate::negotiate_alpn_protocols",
            "dep_crate::handshake"
        ],
        "{:?}",
        paths(&hits)
    );
    let h = &hits[1];
    assert!(h.node.is_dependency());
    assert_eq!(h.file, "src/lib.rs", "package-relative");
    assert_eq!(r.corpus.package[&h.node.file], "dep-crate");
    assert_eq!(r.corpus.version[&h.node.file], "1.2.3");
    assert!(!r.corpus.version.contains_key("src/lib.rs"));
    assert_eq!(r.corpus.package["src/lib.rs"], "app");

    // Workspace and dependencies together, the graph leading from one to the other.
    let hits = r.search("open connection", None, Mode::Hybrid, 10).unwrap();
    let found = paths(&hits);
    assert_eq!(found[0], "app::open_connection", "{found:?}");
    assert!(found.contains(&"dep_crate::handshake"), "{found:?}");
    let hs = hits
        .iter()
        .find(|h| h.node.path == "dep_crate::handshake")
        .unwrap();
    assert!(hs.signals.graph > 0.0, "a callee of the best hit: {hs:?}");
    assert!(found.contains(&"other_dep::build_connection"), "{found:?}");
}

#[test]
fn a_crate_scope_ranks_that_crate_alone() {
    let f = fixture();
    // One hit asked for: the crate's own best item, not the best overall filtered.
    let r = load(&f, &Scope::Crate("other_dep".into()));
    assert!(r.corpus.nodes.iter().all(|n| n.crate_name == "other_dep"));
    let hits = r.search("connection", None, Mode::Hybrid, 1).unwrap();
    assert_eq!(paths(&hits), ["other_dep::build_connection"]);
    let all = load(&f, &Scope::All);
    let wide = all.search("connection", None, Mode::Hybrid, 1).unwrap();
    assert_ne!(paths(&wide), ["other_dep::build_connection"]);

    let r = load(&f, &Scope::Crate("dep_crate".into()));
    let hits = r
        .search("connection pool handshake", None, Mode::Lexical, 10)
        .unwrap();
    let mut found = paths(&hits);
    found.sort();
    assert_eq!(found, ["dep_crate::Pool", "dep_crate::handshake"]);
    // A workspace crate by name.
    let r = load(&f, &Scope::Crate("app".into()));
    assert_eq!(
        r.corpus.nodes,
        Retriever::load(&f.db, None).unwrap().corpus.nodes
    );
    // No such crate: nothing to rank.
    let r = load(&f, &Scope::Crate("nothing".into()));
    assert!(r.corpus.nodes.is_empty());
    assert!(r
        .search("connection", None, Mode::Hybrid, 5)
        .unwrap()
        .is_empty());
}

#[test]
fn a_changed_dependency_file_is_reported_and_its_items_still_found_by_name() {
    let f = fixture();
    f.dep
        .write("src/lib.rs", &DEP_LIB.replace("negotiate", "renegotiate"));
    let (r, unreadable) = Retriever::load_scoped(&f.db, None, &Scope::All).unwrap();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert!(
        matches!(&unreadable[0], DbError::DependencyChanged { path } if *path == f.dep.path("src/lib.rs")),
        "{unreadable:?}"
    );
    let hits = r.search("handshake", None, Mode::Lexical, 5).unwrap();
    assert_eq!(paths(&hits)[0], "dep_crate::handshake");
    // The other dependency is read as before.
    let hits = r
        .search("build_connection", None, Mode::Lexical, 1)
        .unwrap();
    assert_eq!(paths(&hits), ["other_dep::build_connection"]);
}

#[test]
fn hybrid_search_ranks_items_without_vectors_by_the_other_signals() {
    let f = fixture();
    // Every workspace item has a vector, no dependency item has one (never embedded).
    let ws = Retriever::load(&f.db, None).unwrap();
    let axis = |i: usize| {
        let mut v = vec![0.0f32; 4];
        v[i % 4] = 1.0;
        v
    };
    for (i, (n, body)) in ws.corpus.nodes.iter().zip(&ws.corpus.bodies).enumerate() {
        if should_embed(n) {
            f.db.put_embeddings("hand-4", &[(text_hash(&embed_text(n, body)), axis(i))])
                .unwrap();
        }
    }
    let (r, _) = Retriever::load_scoped(&f.db, Some("hand-4"), &Scope::All).unwrap();
    let (with, all) = r.vector_coverage();
    assert!(with > 0 && with < all, "{with}/{all}");
    let q = axis(0);
    let hits = r.search("handshake", Some(&q), Mode::Hybrid, 10).unwrap();
    assert_eq!(
        paths(&hits)[0],
        "dep_crate::handshake",
        "{:?}",
        paths(&hits)
    );
    assert_eq!(hits[0].signals.dense, 0.0);
    assert!(hits[0].signals.lexical > 0.0);

    // Vector search of a dependency without vectors says why it has nothing to rank.
    let (r, _) =
        Retriever::load_scoped(&f.db, Some("hand-4"), &Scope::Crate("dep_crate".into())).unwrap();
    let err = r
        .search("handshake", Some(&q), Mode::Vector, 5)
        .unwrap_err();
    assert!(
        matches!(err, RetrieveError::NoVectorsInScope { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("dep_crate"), "{err}");
}
