//! `ploke search` and `ploke context` with `--scope`, run the way a user runs them, over an
//! index with a dependency attached (by hand, as `ploke index --deps` attaches one): the
//! workspace's items by default, a dependency's with `--scope all`, `--deps` or its crate's
//! name, marked in JSON and shown at their absolute paths.

mod common;

use common::{ok, ploke, run};
use ploke_core::{Edge, EdgeKind, ItemKind};
use ploke_session::{Environment, OpenOptions, Session};
use ploke_test_support::deps::Dependency;
use ploke_test_support::Project;

const APP: &str = "\
/// Opens a connection and shakes hands with the server.
pub fn open_connection() {
    dep_crate::client::handshake();
}
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

fn attached() -> (Project, Dependency) {
    let project = Project::new("app", &[("src/lib.rs", APP)]);
    ok(&mut ploke(&project.root, &["index", "-q"]));
    let mut opts = OpenOptions::new(&project.root);
    opts.env = Environment::from_pairs([("HOME".to_string(), "/nonexistent".to_string())]);
    let s = Session::open(&opts).unwrap();
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
    (project, dep)
}

fn results(stdout: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(stdout).unwrap();
    doc["results"].as_array().unwrap().clone()
}

#[test]
fn search_scopes_and_how_dependency_hits_look() {
    let (p, dep) = attached();
    let search = |args: &[&str]| {
        let mut all = vec!["search", "protocol handshake", "--json", "--no-refresh"];
        all.extend_from_slice(args);
        results(&ok(&mut ploke(&p.root, &all)).stdout)
    };
    // The workspace's items by default.
    let hits = search(&[]);
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h.get("dependency").is_none()),
        "{hits:?}"
    );
    assert!(hits.iter().all(|h| h["crate"] == "app"), "{hits:?}");

    for scope in [
        &["--scope", "all"][..],
        &["--deps"],
        &["--scope", "dep-crate"],
    ] {
        let hits = search(scope);
        let h = hits
            .iter()
            .find(|h| h["path"] == "dep_crate::client::handshake")
            .unwrap_or_else(|| panic!("{scope:?}: {hits:?}"));
        assert_eq!(h["dependency"], true);
        assert_eq!(h["version"], "1.3.1");
        assert_eq!(h["package"], "dep-crate");
        assert_eq!(h["file"], dep.path("src/lib.rs"));
        assert_eq!(h["package_file"], "src/lib.rs");
    }
    let hits = search(&["--scope", "dep_crate"]);
    assert!(hits.iter().all(|h| h["crate"] == "dep_crate"), "{hits:?}");

    // For people: the dependency's file by its absolute path (it is outside the workspace).
    let out = ok(&mut ploke(
        &p.root,
        &[
            "search",
            "protocol handshake",
            "--deps",
            "--no-refresh",
            "--color",
            "never",
        ],
    ));
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("dep_crate::client::handshake"))
        .unwrap_or_else(|| panic!("{}", out.show()));
    assert!(
        line.ends_with(&format!("{}:4:5", dep.path("src/lib.rs"))),
        "{line}"
    );

    // The context pack of a dependency scope quotes its text, read from disk.
    let out = ok(&mut ploke(
        &p.root,
        &[
            "context",
            "protocol handshake with the server",
            "--scope",
            "all",
            "--no-refresh",
        ],
    ));
    assert!(
        out.stdout.contains("negotiate_alpn_protocols();"),
        "{}",
        out.show()
    );

    // An item of the dependency: its text from disk, said to be read-only.
    let out = ok(&mut ploke(
        &p.root,
        &[
            "item",
            "dep_crate::client::handshake",
            "--no-refresh",
            "--color",
            "never",
        ],
    ));
    assert!(
        out.stdout
            .contains("in the dependency dep-crate 1.3.1 (read-only)")
            && out.stdout.contains("negotiate_alpn_protocols();"),
        "{}",
        out.show()
    );

    // A scope that is no crate name is refused before anything runs.
    let out = run(&mut ploke(
        &p.root,
        &["search", "x", "--scope", "tokio::sync"],
    ));
    assert_eq!(out.code, Some(2), "{}", out.show());
    assert!(
        out.stderr.contains("workspace, all, or a crate name"),
        "{}",
        out.show()
    );
    let out = run(&mut ploke(
        &p.root,
        &["search", "x", "--scope", "all", "--deps"],
    ));
    assert_eq!(out.code, Some(2), "{}", out.show());
}
