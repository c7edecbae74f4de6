//! A session over an index with a dependency attached (by hand, as `ploke index --deps` does):
//! searches, context packs, item views, the model's tools and editor navigation keep to the
//! workspace unless asked for another scope; a dependency's texts come from its files on disk,
//! and a changed file is an error that says to re-index.

use ploke_core::{Edge, EdgeKind, ItemKind};
use ploke_session::{
    ContextRequest, Environment, IndexRequest, OpenOptions, Overrides, SearchMode, SearchRequest,
    SearchScope, Session,
};
use ploke_test_support::deps::Dependency;
use ploke_test_support::Project;

const APP: &str = "\
/// Opens a connection and shakes hands with the server.
pub fn open_connection() {
    dep_crate::client::handshake();
}

/// Sends one request over a connection.
pub fn send_request() {}
";

const DEP: &str = "\
//! A dependency.

pub mod client {
    /// Performs the protocol handshake with the server.
    pub fn handshake() {
        negotiate_alpn_protocols();
    }

    fn negotiate_alpn_protocols() {}
}
";

struct Ws {
    project: Project,
    dep: Dependency,
}

fn session(project: &Project, create: bool) -> Session {
    let mut opts = OpenOptions::new(&project.root);
    opts.create = create;
    opts.env = Environment::from_pairs([("HOME".to_string(), "/nonexistent".to_string())]);
    opts.overrides = Overrides {
        no_embed: true,
        ..Overrides::default()
    };
    opts.holder = "deps test".into();
    Session::open(&opts).unwrap()
}

/// The workspace `app` indexed, `dep-crate 1.3.1` attached, `open_connection` calling its
/// `client::handshake`.
fn ws() -> Ws {
    let project = Project::new("app", &[("src/lib.rs", APP)]);
    let s = session(&project, true);
    s.index(&IndexRequest::default()).unwrap();
    let mut dep = Dependency::new(
        &project.tmp.path().join("registry"),
        "dep-crate",
        "1.3.1",
        &[("src/lib.rs", DEP)],
    );
    let handshake = dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "client::handshake",
        "/// Performs the protocol handshake with the server.\n    pub fn handshake() {\n        negotiate_alpn_protocols();\n    }",
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "client::negotiate_alpn_protocols",
        "fn negotiate_alpn_protocols() {}",
    );
    let open = s.db().find_items("app::open_connection").unwrap()[0].id;
    dep.attach(
        s.db(),
        &[Edge {
            src: open,
            kind: EdgeKind::Calls,
            dst: handshake,
            line: 3,
        }],
    );
    Ws { project, dep }
}

fn search(s: &Session, query: &str, scope: SearchScope) -> Vec<ploke_session::SearchHit> {
    s.search(&SearchRequest {
        query: query.into(),
        k: 10,
        mode: SearchMode::Hybrid,
        scope,
    })
    .unwrap()
}

fn paths(hits: &[ploke_session::SearchHit]) -> Vec<&str> {
    hits.iter().map(|h| h.item.path.as_str()).collect()
}

#[test]
fn searches_keep_to_the_workspace_unless_asked() {
    let w = ws();
    let s = session(&w.project, false);
    let hits = search(&s, "handshake connection", SearchScope::Workspace);
    assert_eq!(paths(&hits)[0], "app::open_connection");
    assert!(
        hits.iter().all(|h| !h.item.dependency),
        "{:?}",
        paths(&hits)
    );

    let hits = search(&s, "handshake connection", SearchScope::All);
    let found = paths(&hits);
    assert!(found.contains(&"app::open_connection"), "{found:?}");
    let h = hits
        .iter()
        .find(|h| h.item.path == "dep_crate::client::handshake")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(h.item.dependency);
    assert_eq!(h.item.version.as_deref(), Some("1.3.1"));
    assert_eq!(h.item.package.as_deref(), Some("dep-crate"));
    assert_eq!(h.item.file, w.dep.path("src/lib.rs"), "absolute");
    assert_eq!(h.package_file, "src/lib.rs");
    let json = serde_json::to_value(h).unwrap();
    assert_eq!(json["dependency"], true);
    assert_eq!(json["version"], "1.3.1");
    let ws_json = serde_json::to_value(&hits[0]).unwrap();
    if !hits[0].item.dependency {
        assert!(ws_json.get("dependency").is_none() && ws_json.get("version").is_none());
    }

    // One crate: its items only, a word of a body read from disk.
    let hits = search(&s, "negotiate alpn", SearchScope::Crate("dep_crate".into()));
    assert_eq!(
        paths(&hits),
        [
            "dep_crate::client::negotiate_alpn_protocols",
            "dep_crate::client::handshake"
        ]
    );
    // Batches take the scope too.
    let batch = s
        .search_batch(
            &["send request".to_string()],
            5,
            SearchMode::Lexical,
            &SearchScope::Crate("app".into()),
        )
        .unwrap();
    assert_eq!(paths(&batch[0])[0], "app::send_request");
}

#[test]
fn a_dependency_item_shows_its_text_from_disk_and_a_change_is_an_error() {
    let w = ws();
    let s = session(&w.project, false);
    let views = s.item("dep_crate::client::handshake").unwrap();
    assert_eq!(views.len(), 1);
    let v = &views[0];
    assert!(v.item.dependency);
    assert!(
        v.source.starts_with("/// Performs the protocol handshake")
            && v.source.contains("negotiate_alpn_protocols();"),
        "{}",
        v.source
    );
    assert_eq!(v.callers.len(), 1, "{:?}", v.callers);
    assert_eq!(v.callers[0].item.path, "app::open_connection");
    // The workspace item's callee is the dependency's, with its version.
    let caller = &s.item("open_connection").unwrap()[0];
    assert_eq!(caller.callees[0].item.path, "dep_crate::client::handshake");
    assert_eq!(caller.callees[0].item.version.as_deref(), Some("1.3.1"));

    // The context pack of a dependency scope holds the dependency's text.
    let pack = s
        .context(&ContextRequest {
            scope: SearchScope::All,
            ..ContextRequest::new("protocol handshake with the server")
        })
        .unwrap();
    let item = pack
        .items
        .iter()
        .find(|i| i.path == "dep_crate::client::handshake")
        .unwrap_or_else(|| panic!("{}", pack.to_markdown()));
    assert!(
        item.text.contains("negotiate_alpn_protocols();"),
        "{}",
        item.text
    );

    // The model's tools: read-only, said so; scopes reach the dependency.
    let out = s
        .tool(
            "get_item",
            &serde_json::json!({"path": "dep_crate::client::handshake"}),
        )
        .unwrap()
        .unwrap();
    assert!(
        out.contains("(dependency dep-crate 1.3.1, read-only)"),
        "{out}"
    );
    assert!(out.contains("negotiate_alpn_protocols();"), "{out}");
    let out = s
        .tool(
            "search_code",
            &serde_json::json!({"query": "handshake", "scope": "dep_crate"}),
        )
        .unwrap()
        .unwrap();
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("dep_crate::client::handshake"),
        "{out}"
    );
    let out = s
        .tool("search_code", &serde_json::json!({"query": "handshake"}))
        .unwrap()
        .unwrap();
    assert!(!out.contains("dep_crate::"), "workspace by default: {out}");
    let file = w.dep.path("src/lib.rs");
    let out = s
        .tool(
            "read_file_range",
            &serde_json::json!({"file": file, "start_line": 5, "end_line": 5}),
        )
        .unwrap()
        .unwrap();
    assert!(out.contains("pub fn handshake() {"), "{out}");

    // Changed in cargo's cache since it was indexed: every reader says to re-index.
    w.dep.write("src/lib.rs", &DEP.replace("alpn", "npn"));
    let err = s
        .item("dep_crate::client::handshake")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&file)
            && err.contains("changed since it was indexed")
            && err.contains("ploke index"),
        "{err}"
    );
    let err = s
        .tool(
            "get_item",
            &serde_json::json!({"path": "dep_crate::client::handshake"}),
        )
        .unwrap()
        .unwrap_err();
    assert!(err.contains("changed since it was indexed"), "{err}");
}

#[test]
fn editors_see_dependencies_only_when_asked_and_never_edit_them() {
    let w = ws();
    let s = session(&w.project, false);
    let names = |scope: &SearchScope| -> Vec<String> {
        s.symbols_in("handshake", 10, scope)
            .unwrap()
            .into_iter()
            .map(|i| i.path)
            .collect()
    };
    assert!(names(&SearchScope::Workspace).is_empty());
    assert_eq!(s.symbols("handshake", 10).unwrap().len(), 0);
    assert_eq!(names(&SearchScope::All), ["dep_crate::client::handshake"]);
    // The item at a position of a dependency's file is shown, marked read-only.
    let v = s.item_at(&w.dep.path("src/lib.rs"), 6).unwrap().unwrap();
    assert_eq!(v.item.path, "dep_crate::client::handshake");
    assert!(v.item.dependency);
    // A dependency's buffer never stands for its file.
    let err = s
        .overlay(&w.dep.path("src/lib.rs"), Some(String::new()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("read-only"), "{err}");
}

#[test]
fn without_dependencies_every_item_is_the_workspace_s() {
    let project = Project::new("app", &[("src/lib.rs", APP)]);
    session(&project, true)
        .index(&IndexRequest::default())
        .unwrap();
    let s = session(&project, false);
    let all = search(&s, "send request", SearchScope::All);
    assert_eq!(all, search(&s, "send request", SearchScope::Workspace));
    assert_eq!(paths(&all)[0], "app::send_request");
}

#[test]
fn dependency_items_are_embedded_into_their_store_once_and_found_by_vector_search() {
    use ploke_test_support::http::Server;
    use ploke_test_support::openai::{embedding_inputs, embeddings_reply};
    let embed = Server::start(|_, req| embeddings_reply(req));
    let project = Project::new("app", &[("src/lib.rs", APP)]);
    let open = |create: bool| {
        let mut opts = OpenOptions::new(&project.root);
        opts.create = create;
        opts.env = Environment::from_pairs([
            ("HOME".to_string(), "/nonexistent".to_string()),
            ("PLOKE_EMBED_URL".to_string(), embed.url_at("/v1")),
            ("PLOKE_EMBED_MODEL".to_string(), "test-embed".to_string()),
        ]);
        opts.holder = "deps embed test".into();
        Session::open(&opts).unwrap()
    };
    let s = open(true);
    let summary = s
        .index(&IndexRequest {
            embed: true,
            ..IndexRequest::default()
        })
        .unwrap();
    assert!(summary.embed.is_some(), "{summary:?}");
    let mut dep = Dependency::new(
        &project.tmp.path().join("registry"),
        "dep-crate",
        "1.3.1",
        &[("src/lib.rs", DEP)],
    );
    dep.item(
        "src/lib.rs",
        ItemKind::Fn,
        "client::handshake",
        "/// Performs the protocol handshake with the server.\n    pub fn handshake() {\n        negotiate_alpn_protocols();\n    }",
    );
    dep.attach(s.db(), &[]);
    drop(s);

    let vector = |s: &Session| {
        s.search(&SearchRequest {
            query: "protocol handshake".into(),
            k: 10,
            mode: SearchMode::Vector,
            scope: SearchScope::All,
        })
        .map(|hits| {
            hits.iter()
                .filter(|h| h.item.dependency)
                .map(|h| h.item.path.clone())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
    };
    // Without their vectors, vector search finds no dependency item.
    let s = open(false);
    assert!(vector(&s).is_empty());

    let before = embed.requests().len();
    let e = s
        .embed_dependencies()
        .unwrap()
        .expect("a store and a model");
    assert_eq!(e.stats.embedded, 1, "{e:?}");
    let sent: Vec<String> = embed.requests()[before..]
        .iter()
        .flat_map(embedding_inputs)
        .collect();
    assert!(
        sent.iter().any(|t| t.contains("handshake")),
        "the dependency's item text was embedded: {sent:?}"
    );
    // Kept in the store, not in the workspace's index.
    let store = s.db().dependencies().unwrap().unwrap();
    let in_store = store.embedding_hashes(&e.model).unwrap();
    assert_eq!(in_store.len(), 1, "{}", e.model);
    assert!(s
        .db()
        .embedding_hashes(&e.model)
        .unwrap()
        .iter()
        .all(|h| !in_store.contains(h)));
    drop(s);
    // A new session finds them; a second run embeds nothing.
    let s = open(false);
    assert_eq!(vector(&s), vec!["dep_crate::client::handshake".to_string()]);
    let again = s.embed_dependencies().unwrap().unwrap();
    assert_eq!((again.stats.embedded, again.stats.reused), (0, 1));
}
