//! Dependencies through the command line, as a user meets them: a workspace that builds with
//! reqwest 0.12.4, hyper, hyper-util, tokio and http from the registry; `ploke index` attaches
//! the direct ones; `item` and `search --scope all` reach into them; a second workspace reuses
//! the cache; `ploke cache list|prune` manage it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{json, ok, ploke, run, tempdir};

const MANIFEST: &str = r#"[package]
name = "NAME"
version = "0.1.0"
edition = "2021"

[dependencies]
reqwest = "=0.12.4"
hyper = { version = "1", features = ["client", "http1"] }
hyper-util = { version = "0.1", features = ["tokio", "client-legacy", "http1"] }
tokio = { version = "1", features = ["net"] }
http = "1"

[workspace]
"#;

const LIB: &str = r#"use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

/// Opens an HTTP/1 connection over a TCP stream.
pub async fn connect(stream: tokio::net::TcpStream) {
    let io = TokioIo::new(stream);
    let (_sender, _conn) = http1::handshake::<_, String>(io).await.unwrap();
}
"#;

/// A workspace depending on published crates, their sources fetched by cargo (its cache
/// first, then crates.io).
fn workspace(dir: &Path, name: &str) -> PathBuf {
    ploke_test_support::registry_workspace(
        dir,
        name,
        MANIFEST,
        &[("src/lib.rs", LIB)],
        "reqwest 0.12.4 and its dependencies",
    )
}

fn with_cache(mut cmd: Command, cache: &Path) -> Command {
    cmd.env("PLOKE_CACHE_DIR", cache);
    cmd
}

#[test]
fn the_index_knows_the_dependencies_the_workspace_builds_with() {
    let tmp = tempdir();
    let cache = tmp.path().join("cache");
    let first = workspace(tmp.path(), "first");
    let index = ok(&mut with_cache(ploke(&first, &["index", "--json"]), &cache));
    let deps = &json(&index.stdout)["dependencies"];
    // The five it names, and the crates they re-export from.
    let n = deps["crates"].as_u64().unwrap();
    assert!(n >= 5, "{}", index.stdout);
    assert_eq!(deps["built"], n, "{}", index.stdout);

    // An item of a dependency, by its path through a re-export, with the callers of the
    // workspace and of the other dependencies (reqwest's connector).
    let item = ok(&mut with_cache(
        ploke(&first, &["item", "hyper_util::rt::TokioIo::new"]),
        &cache,
    ));
    assert!(item.stdout.contains("pub fn new"), "{}", item.stdout);
    assert!(item.stdout.contains("first::connect"), "{}", item.stdout);
    assert!(
        item.stdout
            .lines()
            .any(|l| l.contains("reqwest::connect::") && l.contains("src/connect.rs")),
        "{}",
        item.stdout
    );
    let handshake = ok(&mut with_cache(
        ploke(&first, &["item", "hyper::client::conn::http1::handshake"]),
        &cache,
    ));
    assert!(
        handshake.stdout.contains("pub async fn handshake"),
        "{}",
        handshake.stdout
    );

    // Search ranks the workspace's items by default; the dependency scope reaches hyper.
    let query = "perform the HTTP/1 client handshake on a connection";
    let own = ok(&mut with_cache(
        ploke(&first, &["search", query, "--json", "-k", "10"]),
        &cache,
    ));
    let hits = json(&own.stdout).as_array().unwrap().clone();
    assert!(
        hits.iter().all(|h| h["dependency"] != true),
        "{}",
        own.stdout
    );
    let all = ok(&mut with_cache(
        ploke(
            &first,
            &["search", query, "--scope", "all", "--json", "-k", "10"],
        ),
        &cache,
    ));
    let hits = json(&all.stdout).as_array().unwrap().clone();
    assert!(
        hits.iter().any(|h| h["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("hyper::client::conn::http1::"))),
        "{}",
        all.stdout
    );

    // Status names them.
    let status = ok(&mut with_cache(ploke(&first, &["status"]), &cache));
    assert!(
        status.stdout.contains(&format!("{n} crates attached")),
        "{}",
        status.stdout
    );

    // A second workspace with the same dependencies parses none of them.
    let second = workspace(tmp.path(), "second");
    let index = ok(&mut with_cache(
        ploke(&second, &["index", "--json"]),
        &cache,
    ));
    let deps = &json(&index.stdout)["dependencies"];
    assert_eq!(
        (&deps["crates"], &deps["built"], &deps["parsed_files"]),
        (&n.into(), &0.into(), &0.into()),
        "{}",
        index.stdout
    );

    // The cache lists each once and prunes them all.
    let list = ok(&mut with_cache(
        ploke(tmp.path(), &["cache", "list", "--json"]),
        &cache,
    ));
    let listed = json(&list.stdout);
    assert_eq!(listed["entries"].as_array().unwrap().len() as u64, n);
    assert_eq!(listed["stores"].as_array().unwrap().len(), 1);
    let prune = ok(&mut with_cache(
        ploke(tmp.path(), &["cache", "prune", "--all"]),
        &cache,
    ));
    assert!(
        prune.stdout.contains(&format!("pruned {n} entries")),
        "{}",
        prune.stdout
    );
    let empty = run(&mut with_cache(
        ploke(tmp.path(), &["cache", "list"]),
        &cache,
    ));
    assert_eq!(empty.code, Some(1), "nothing cached: {}", empty.show());

    // An index whose store was pruned says so and answers for the workspace alone.
    let gone = run(&mut with_cache(
        ploke(
            &second,
            &[
                "item",
                "hyper::client::conn::http1::handshake",
                "--no-refresh",
            ],
        ),
        &cache,
    ));
    assert_eq!(gone.code, Some(1), "{}", gone.show());
}

/// A workspace whose library calls into a path dependency outside it.
fn with_path_dependency(dir: &Path) -> PathBuf {
    common::write_files(
        dir,
        &[
            (
                "helper/Cargo.toml",
                "[package]\nname = \"helper\"\nversion = \"0.3.0\"\nedition = \"2021\"\n\n[workspace]\n",
            ),
            (
                "helper/src/lib.rs",
                "pub mod net {\n    /// Retries a connection with a delay.\n    pub fn retry_with_delay(ms: u64) -> u64 {\n        ms * 2\n    }\n}\n",
            ),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nhelper = { path = \"../helper\" }\n\n[workspace]\n",
            ),
            (
                "app/src/lib.rs",
                "pub fn connect() -> u64 {\n    helper::net::retry_with_delay(10)\n}\n",
            ),
        ],
    );
    dir.join("app")
}

#[test]
fn a_one_shot_refresh_after_an_edit_resolves_into_the_dependencies_it_kept() {
    let tmp = tempdir();
    let cache = tmp.path().join("cache");
    let app = with_path_dependency(tmp.path());
    let index = ok(&mut with_cache(ploke(&app, &["index", "--json"]), &cache));
    assert_eq!(
        json(&index.stdout)["dependencies"]["crates"],
        1,
        "{}",
        index.stdout
    );
    // A new caller, written after the index: the next command re-indexes that file and
    // resolves its call into the attached dependency without asking cargo again.
    std::fs::write(
        app.join("src/lib.rs"),
        "pub fn connect() -> u64 {\n    helper::net::retry_with_delay(10)\n}\n\npub fn reconnect() -> u64 {\n    helper::net::retry_with_delay(20)\n}\n",
    )
    .unwrap();
    let item = ok(&mut with_cache(
        ploke(&app, &["item", "helper::net::retry_with_delay"]),
        &cache,
    ));
    assert!(
        item.stderr.contains("re-indexed 1 changed file"),
        "{}",
        item.show()
    );
    assert!(item.stdout.contains("app::connect"), "{}", item.stdout);
    assert!(item.stdout.contains("app::reconnect"), "{}", item.stdout);
    // The dependency's item is where its file is, outside the workspace.
    let dep_file = tmp.path().join("helper/src/lib.rs");
    let shown = item.stdout.lines().next().unwrap_or_default().to_string();
    assert!(
        shown.contains(&*dep_file.canonicalize().unwrap().to_string_lossy()),
        "a dependency's item is shown at its absolute path: {shown}"
    );
}
