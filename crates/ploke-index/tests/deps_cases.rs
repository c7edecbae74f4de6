//! Kinds of dependencies, each attached to a small workspace made in a temporary directory
//! (no network: local path crates and a local git repository): a git dependency, a path
//! dependency outside the workspace that changes, a renamed dependency, two versions of one
//! crate, a proc-macro crate, a build-dependency used by the build script, a source that is
//! not on disk, and the scopes `none`, `direct` and `all`. Each checks the graph through
//! `ploke_db::Db`: the dependency's items by path, and the workspace's references resolved
//! into them.

use std::path::{Path, PathBuf};
use std::process::Command;

use ploke_core::Node;
use ploke_db::Db;
use ploke_index::{index, DepCache, DepsReport, DepsScope, IndexOptions, IndexReport, NoProgress};

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, text) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// A library package `name` at `version` in `dir`, with `lib` as its `src/lib.rs` and `extra`
/// appended to its manifest.
fn package(dir: &Path, name: &str, version: &str, extra: &str, lib: &str) {
    write(
        dir,
        &[
            (
                "Cargo.toml",
                &format!(
                    "[package]\nname = \"{name}\"\nversion = \"{version}\"\nedition = \"2021\"\n{extra}"
                ),
            ),
            ("src/lib.rs", lib),
        ],
    );
}

/// The workspace `app` (one package, its own workspace) in `dir` with these dependency
/// sections and files.
fn app(dir: &Path, sections: &str, files: &[(&str, &str)]) -> PathBuf {
    package(
        dir,
        "app",
        "0.1.0",
        &format!("\n{sections}\n[workspace]\n"),
        "",
    );
    write(dir, files);
    dir.to_path_buf()
}

/// `cargo generate-lockfile` and `cargo fetch` in `dir`, offline when cargo can; a local git
/// repository (`file://`) is fetched without the network.
fn lock_and_fetch(dir: &Path) {
    for args in [&["generate-lockfile"][..], &["fetch"]] {
        let offline = cargo()
            .args(args)
            .arg("--offline")
            .current_dir(dir)
            .output()
            .unwrap();
        if offline.status.success() {
            continue;
        }
        let online = cargo().args(args).current_dir(dir).output().unwrap();
        assert!(
            online.status.success(),
            "`cargo {}` failed in {}:\n{}",
            args[0],
            dir.display(),
            String::from_utf8_lossy(&online.stderr)
        );
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository in `dir` holding the package `gitdep` 0.3.0, one commit.
fn git_repo(dir: &Path) {
    package(
        dir,
        "gitdep",
        "0.3.0",
        "",
        "pub mod net {\n    pub fn connect() -> u8 {\n        3\n    }\n}\n\n\
         pub fn from_git() -> u8 {\n    net::connect()\n}\n",
    );
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "init"]);
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
    .unwrap_or_else(|e| panic!("indexing {}: {e}", root.display()))
}

fn deps_of(report: &IndexReport) -> &DepsReport {
    report.deps.as_ref().expect("a dependency report")
}

fn open(root: &Path) -> Db {
    Db::open(&ploke_index::default_db_dir(root)).unwrap()
}

/// The one node at the canonical path `path`.
fn one(db: &Db, path: &str) -> Node {
    let mut found = db.nodes_by_path(path).unwrap();
    assert_eq!(
        found.len(),
        1,
        "{path}: {:?}",
        found.iter().map(|n| (&n.path, &n.file)).collect::<Vec<_>>()
    );
    found.pop().unwrap()
}

fn absent(db: &Db, path: &str) {
    let found = db.nodes_by_path(path).unwrap();
    assert!(
        found.is_empty(),
        "{path} should not be indexed: {:?}",
        found.iter().map(|n| &n.file).collect::<Vec<_>>()
    );
}

fn caller_paths(db: &Db, n: &Node) -> Vec<String> {
    db.callers(n.id)
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.path)
        .collect()
}

fn callee_ids(db: &Db, n: &Node) -> Vec<ploke_core::NodeId> {
    db.callees(n.id)
        .unwrap()
        .into_iter()
        .map(|(c, _)| c.id)
        .collect()
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap()
}

/// A dependency's node: an absolute file under `dir`.
fn assert_dependency_in(n: &Node, dir: &Path) {
    assert!(n.is_dependency(), "{} in {}", n.path, n.file);
    assert!(
        Path::new(&n.file).starts_with(canonical(dir)),
        "{} in {}, expected under {}",
        n.path,
        n.file,
        dir.display()
    );
}

#[test]
fn a_git_dependency_is_indexed_and_the_workspace_calls_resolve_into_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let repo = tmp.path().join("gitdep-repo");
    git_repo(&repo);
    let ws = app(
        &tmp.path().join("ws"),
        &format!(
            "[dependencies]\ngitdep = {{ git = \"file://{}\" }}\n",
            repo.display()
        ),
        &[(
            "src/lib.rs",
            "pub fn use_git() -> u8 {\n    gitdep::net::connect() + gitdep::from_git()\n}\n",
        )],
    );
    lock_and_fetch(&ws);

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!((deps.crates, deps.built), (1, 1), "{deps:?}");
    assert!(
        deps.missing.is_empty() && deps.warnings.is_empty(),
        "{deps:?}"
    );

    let db = open(&ws);
    let connect = one(&db, "gitdep::net::connect");
    // Cargo's checkout of the repository, not the repository itself.
    assert!(connect.is_dependency(), "{}", connect.file);
    assert!(Path::new(&connect.file).is_file());
    assert!(
        !Path::new(&connect.file).starts_with(canonical(&repo)),
        "{}",
        connect.file
    );
    let from_git = one(&db, "gitdep::from_git");
    assert_eq!(from_git.file, connect.file);
    // Its file is known by its absolute path, and its text read from the checkout.
    let rec = db.file(&connect.file).unwrap().expect("the file's record");
    assert_eq!(rec.rel_path, "src/lib.rs");
    assert_eq!(
        db.source(&connect.file).unwrap().as_deref(),
        Some(std::fs::read_to_string(&connect.file).unwrap().as_str())
    );
    let use_git = one(&db, "app::use_git");
    assert!(!use_git.is_dependency());
    // The workspace's calls resolve into the dependency; the dependency's own call too.
    let callers = caller_paths(&db, &connect);
    assert!(
        callers.contains(&"app::use_git".to_string()) && callers.contains(&from_git.path),
        "{callers:?}"
    );
    let callees = callee_ids(&db, &use_git);
    assert!(
        callees.contains(&connect.id) && callees.contains(&from_git.id),
        "{callees:?}"
    );
    drop(db);

    let listed = DepCache::new(cache).list();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (listed[0].name.as_str(), listed[0].version.as_str()),
        ("gitdep", "0.3.0")
    );
    assert!(
        listed[0].source.starts_with("git+file://"),
        "{}",
        listed[0].source
    );
}

#[test]
fn a_path_dependency_outside_the_workspace_is_a_dependency_and_its_changes_make_a_new_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let outside = tmp.path().join("outside");
    package(&outside, "outside", "0.2.0", "", "pub fn elsewhere() {}\n");
    let ws = app(
        &tmp.path().join("ws"),
        "[dependencies]\noutside = { path = \"../outside\" }\n",
        &[(
            "src/lib.rs",
            "pub fn call_out() {\n    outside::elsewhere();\n}\n\npub fn call_new() {\n    outside::added();\n}\n",
        )],
    );
    lock_and_fetch(&ws);

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    // Not a member: the workspace has one crate, `app`.
    assert_eq!(report.crates, 1, "{report:?}");
    let deps = deps_of(&report);
    assert_eq!((deps.crates, deps.built), (1, 1), "{deps:?}");
    let db = open(&ws);
    assert!(
        db.crates().unwrap().iter().all(|c| c.name != "outside"),
        "{:?}",
        db.crates().unwrap()
    );
    assert!(db.all_nodes().unwrap().iter().all(|n| !n.is_dependency()));
    let elsewhere = one(&db, "outside::elsewhere");
    assert_dependency_in(&elsewhere, &outside);
    assert_eq!(
        Path::new(&elsewhere.file),
        canonical(&outside.join("src/lib.rs"))
    );
    assert_eq!(caller_paths(&db, &elsewhere), ["app::call_out"]);
    absent(&db, "outside::added");
    let call_new = one(&db, "app::call_new");
    assert!(callee_ids(&db, &call_new).is_empty());
    drop(db);

    // The dependency changes: its key changes, it is indexed again, the new item is found and
    // the workspace's call to it resolves now.
    std::fs::write(
        outside.join("src/lib.rs"),
        "pub fn elsewhere() {}\n\npub fn added() -> u32 {\n    7\n}\n",
    )
    .unwrap();
    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!((deps.crates, deps.built), (1, 1), "{deps:?}");
    let db = open(&ws);
    let added = one(&db, "outside::added");
    assert_dependency_in(&added, &outside);
    assert_eq!(caller_paths(&db, &added), ["app::call_new"]);
    assert_eq!(
        caller_paths(&db, &one(&db, "outside::elsewhere")),
        ["app::call_out"]
    );
    drop(db);
    let listed = DepCache::new(cache.clone()).list();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed.iter().all(|e| e.name == "outside"));
    assert_ne!(listed[0].key, listed[1].key);

    // Unchanged since: nothing is built.
    let report = run(&ws, &cache, Some(DepsScope::Direct));
    assert_eq!(deps_of(&report).built, 0, "{:?}", report.deps);
}

#[test]
fn a_path_dependency_inside_the_workspace_directory_but_excluded_is_a_dependency() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let ws = tmp.path().join("ws");
    let inner = ws.join("vendor/inner");
    package(&inner, "inner", "0.1.0", "", "pub fn vendored() {}\n");
    package(
        &ws,
        "app",
        "0.1.0",
        "\n[dependencies]\ninner = { path = \"vendor/inner\" }\n\n\
         [workspace]\nexclude = [\"vendor/inner\"]\n",
        "pub fn call_in() {\n    inner::vendored();\n}\n",
    );
    lock_and_fetch(&ws);

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    assert_eq!(report.crates, 1, "{report:?}");
    assert_eq!(deps_of(&report).crates, 1, "{:?}", report.deps);
    assert!(report.orphan_files.is_empty(), "{:?}", report.orphan_files);
    let db = open(&ws);
    let vendored = one(&db, "inner::vendored");
    assert_dependency_in(&vendored, &inner);
    assert_eq!(caller_paths(&db, &vendored), ["app::call_in"]);
    assert!(db.all_nodes().unwrap().iter().all(|n| !n.is_dependency()));
    assert!(
        db.files()
            .unwrap()
            .iter()
            .all(|f| !f.path.contains("vendor")),
        "{:?}",
        db.files().unwrap()
    );
}

#[test]
fn a_renamed_dependency_is_named_by_its_alias_and_resolves_to_the_real_crate() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let real = tmp.path().join("real");
    package(
        &real,
        "real",
        "0.1.0",
        "",
        "pub fn f() -> u32 {\n    1\n}\n\npub struct Thing;\n",
    );
    let ws = app(
        &tmp.path().join("ws"),
        "[dependencies]\nalias = { package = \"real\", path = \"../real\" }\n",
        &[(
            "src/lib.rs",
            "use alias::f as renamed_again;\n\n\
             pub fn g() -> u32 {\n    alias::f()\n}\n\n\
             pub fn h() -> u32 {\n    renamed_again()\n}\n\n\
             pub fn t() -> alias::Thing {\n    alias::Thing\n}\n",
        )],
    );
    lock_and_fetch(&ws);

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    assert_eq!(deps_of(&report).crates, 1, "{:?}", report.deps);
    let db = open(&ws);
    // The dependency's items are under its own crate name, not the alias.
    let f = one(&db, "real::f");
    assert_dependency_in(&f, &real);
    absent(&db, "alias::f");
    assert_eq!(caller_paths(&db, &f), ["app::g", "app::h"]);
    let thing = one(&db, "real::Thing");
    let uses = db
        .edges_from(one(&db, "app::t").id, ploke_core::EdgeKind::UsesType)
        .unwrap();
    assert!(uses.iter().any(|e| e.dst == thing.id), "{uses:?}");
}

#[test]
fn two_versions_of_one_crate_are_both_indexed_and_each_call_resolves_to_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dup1 = tmp.path().join("dup1");
    let dup2 = tmp.path().join("dup2");
    package(
        &dup1,
        "dup",
        "1.0.0",
        "",
        "pub fn f() -> u32 {\n    1\n}\n\npub fn only_v1() {}\n",
    );
    package(
        &dup2,
        "dup",
        "2.0.0",
        "",
        "pub fn f() -> u32 {\n    2\n}\n\npub fn only_v2() {}\n",
    );
    let ws = app(
        &tmp.path().join("ws"),
        "[dependencies]\n\
         a1 = { package = \"dup\", path = \"../dup1\" }\n\
         a2 = { package = \"dup\", path = \"../dup2\" }\n",
        &[(
            "src/lib.rs",
            "pub fn one() -> u32 {\n    a1::f()\n}\n\n\
             pub fn two() -> u32 {\n    a2::f()\n}\n\n\
             pub fn both() {\n    a1::only_v1();\n    a2::only_v2();\n}\n",
        )],
    );
    lock_and_fetch(&ws);
    let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains("version = \"1.0.0\"") && lock.contains("version = \"2.0.0\""),
        "{lock}"
    );

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!((deps.crates, deps.built), (2, 2), "{deps:?}");
    let db = open(&ws);
    let fs = db.nodes_by_path("dup::f").unwrap();
    assert_eq!(fs.len(), 2, "{fs:?}");
    assert_ne!(fs[0].id, fs[1].id);
    let v1 = fs
        .iter()
        .find(|n| Path::new(&n.file).starts_with(canonical(&dup1)))
        .expect("dup 1.0.0's f");
    let v2 = fs
        .iter()
        .find(|n| Path::new(&n.file).starts_with(canonical(&dup2)))
        .expect("dup 2.0.0's f");
    assert_eq!(caller_paths(&db, v1), ["app::one"]);
    assert_eq!(caller_paths(&db, v2), ["app::two"]);
    let only_v1 = one(&db, "dup::only_v1");
    let only_v2 = one(&db, "dup::only_v2");
    assert_dependency_in(&only_v1, &dup1);
    assert_dependency_in(&only_v2, &dup2);
    let both = one(&db, "app::both");
    let mut callees = callee_ids(&db, &both);
    callees.sort();
    let mut want = vec![only_v1.id, only_v2.id];
    want.sort();
    assert_eq!(callees, want);
    drop(db);

    let mut listed: Vec<(String, String)> = DepCache::new(cache)
        .list()
        .into_iter()
        .map(|e| (e.name, e.version))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            ("dup".to_string(), "1.0.0".to_string()),
            ("dup".to_string(), "2.0.0".to_string())
        ]
    );
}

#[test]
fn a_proc_macro_dependency_is_indexed_and_the_workspace_still_is() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let macros = tmp.path().join("mymacros");
    package(
        &macros,
        "mymacros",
        "0.1.0",
        "\n[lib]\nproc-macro = true\n",
        "use proc_macro::TokenStream;\n\n\
         fn helper(input: TokenStream) -> TokenStream {\n    let _ = input;\n    TokenStream::new()\n}\n\n\
         #[proc_macro_derive(Hello)]\n\
         pub fn derive_hello(input: TokenStream) -> TokenStream {\n    helper(input)\n}\n\n\
         #[proc_macro_attribute]\n\
         pub fn traced(_attr: TokenStream, item: TokenStream) -> TokenStream {\n    item\n}\n",
    );
    let ws = app(
        &tmp.path().join("ws"),
        "[dependencies]\nmymacros = { path = \"../mymacros\" }\n",
        &[(
            "src/lib.rs",
            "#[derive(mymacros::Hello)]\npub struct Greeted;\n\n\
             #[mymacros::traced]\npub fn traced_fn() {}\n\n\
             pub fn plain() {\n    traced_fn();\n}\n",
        )],
    );
    lock_and_fetch(&ws);

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!(
        (deps.crates, deps.built, deps.problems),
        (1, 1, 0),
        "{deps:?}"
    );
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    let db = open(&ws);
    let derive = one(&db, "mymacros::derive_hello");
    assert_dependency_in(&derive, &macros);
    one(&db, "mymacros::traced");
    let helper = one(&db, "mymacros::helper");
    assert_eq!(caller_paths(&db, &helper), ["mymacros::derive_hello"]);
    // The workspace's own items and calls.
    one(&db, "app::Greeted");
    let traced_fn = one(&db, "app::traced_fn");
    assert_eq!(caller_paths(&db, &traced_fn), ["app::plain"]);
}

#[test]
fn a_build_dependency_is_attached_and_the_build_script_calls_resolve_into_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let helper = tmp.path().join("buildhelp");
    package(
        &helper,
        "buildhelp",
        "0.1.0",
        "",
        "pub fn emit(name: &str) {\n    let _ = name;\n}\n",
    );
    let ws = app(
        &tmp.path().join("ws"),
        "[build-dependencies]\nbuildhelp = { path = \"../buildhelp\" }\n",
        &[
            ("build.rs", "fn main() {\n    buildhelp::emit(\"x\");\n}\n"),
            ("src/lib.rs", "pub fn lib_fn() {}\n"),
        ],
    );
    lock_and_fetch(&ws);

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!((deps.crates, deps.built), (1, 1), "{deps:?}");
    // The library and the build script.
    assert_eq!(report.crates, 2, "{report:?}");
    let db = open(&ws);
    let emit = one(&db, "buildhelp::emit");
    assert_dependency_in(&emit, &helper);
    let main = one(&db, "build_script_build::main");
    assert_eq!(main.file, "build.rs");
    assert_eq!(caller_paths(&db, &emit), ["build_script_build::main"]);
    assert_eq!(callee_ids(&db, &main), [emit.id]);
}

/// The `source = "…"` line of the package `name` in a lock file.
fn lock_source(lock: &str, name: &str) -> String {
    let start = lock
        .find(&format!("name = \"{name}\""))
        .unwrap_or_else(|| panic!("{name} not in {lock}"));
    let rest = &lock[start..];
    let line = rest
        .lines()
        .find(|l| l.starts_with("source = "))
        .unwrap_or_else(|| panic!("{name} has no source in {lock}"));
    line["source = ".len()..].trim_matches('"').to_string()
}

/// A workspace whose lock file names `gitdep` (checked out by cargo) and `ghost`, a git
/// dependency whose repository never existed, so cargo cannot answer offline and its source
/// is not on disk; `extra_deps` and `extra_lock` add more.
fn workspace_with_a_ghost(tmp: &Path, extra_deps: &str, extra_lock: &str) -> PathBuf {
    let repo = tmp.join("gitdep-repo");
    git_repo(&repo);
    let gitdep = format!("gitdep = {{ git = \"file://{}\" }}\n", repo.display());
    let lib = "pub fn use_git() -> u8 {\n    gitdep::from_git()\n}\n\n\
               pub fn use_ghost() {\n    ghost::boo();\n}\n";
    let ws = app(
        &tmp.join("ws"),
        &format!("[dependencies]\n{gitdep}"),
        &[("src/lib.rs", lib)],
    );
    // Lock and fetch gitdep, then add the ghost to the manifest and the lock file.
    lock_and_fetch(&ws);
    let lock = std::fs::read_to_string(ws.join("Cargo.lock")).unwrap();
    let gitdep_source = lock_source(&lock, "gitdep");
    let ghost_url = format!("file://{}", tmp.join("ghost-repo").display());
    app(
        &ws,
        &format!("[dependencies]\n{gitdep}ghost = {{ git = \"{ghost_url}\" }}\n{extra_deps}"),
        &[],
    );
    write(&ws, &[("src/lib.rs", lib)]);
    let mut app_deps = vec!["ghost".to_string(), "gitdep".to_string()];
    let mut extra_names: Vec<String> = extra_lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .map(|n| n.trim_end_matches('"').to_string())
        .collect();
    app_deps.append(&mut extra_names);
    app_deps.sort();
    let listed: String = app_deps.iter().map(|d| format!(" \"{d}\",\n")).collect();
    write(
        &ws,
        &[(
            "Cargo.lock",
            &format!(
                "version = 3\n\n\
                 [[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\n{listed}]\n\n\
                 [[package]]\nname = \"ghost\"\nversion = \"0.9.0\"\nsource = \"git+{ghost_url}#0123456789abcdef0123456789abcdef01234567\"\n\n\
                 [[package]]\nname = \"gitdep\"\nversion = \"0.3.0\"\nsource = \"{gitdep_source}\"\n\
                 {extra_lock}"
            ),
        )],
    );
    ws
}

#[test]
fn a_source_not_on_disk_is_reported_with_its_fetch_and_the_rest_is_attached() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let ws = workspace_with_a_ghost(tmp.path(), "", "");

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!(deps.missing, ["ghost 0.9.0"], "{deps:?}");
    assert_eq!(
        deps.fetch_hint.as_deref(),
        Some(
            format!(
                "cargo fetch --manifest-path {}",
                report.workspace_root.join("Cargo.toml").display()
            )
            .as_str()
        )
    );
    assert!(
        deps.warnings
            .iter()
            .any(|w| w.contains("read Cargo.lock instead")),
        "{:?}",
        deps.warnings
    );
    assert_eq!((deps.crates, deps.built), (1, 1), "{deps:?}");

    let db = open(&ws);
    let from_git = one(&db, "gitdep::from_git");
    assert!(from_git.is_dependency());
    assert_eq!(caller_paths(&db, &from_git), ["app::use_git"]);
    // The call into the missing crate stays as text.
    let use_ghost = one(&db, "app::use_ghost");
    assert!(callee_ids(&db, &use_ghost).is_empty());
    assert!(
        db.unresolved_from(use_ghost.id)
            .unwrap()
            .iter()
            .any(|u| u.text.contains("ghost::boo")),
        "{:?}",
        db.unresolved_from(use_ghost.id)
    );
}

#[test]
fn a_path_dependency_is_not_dropped_silently_when_the_lock_file_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let outside = tmp.path().join("outside");
    package(&outside, "outside", "0.2.0", "", "pub fn elsewhere() {}\n");
    let ws = workspace_with_a_ghost(
        tmp.path(),
        "outside = { path = \"../outside\" }\n",
        "\n[[package]]\nname = \"outside\"\nversion = \"0.2.0\"\n",
    );

    let report = run(&ws, &cache, Some(DepsScope::Direct));
    let deps = deps_of(&report);
    assert_eq!(deps.missing, ["ghost 0.9.0"], "{deps:?}");
    let named = |w: &String| w.contains("outside");
    // Attached, or at least said: never dropped without a word.
    let attached = open(&ws).nodes_by_path("outside::elsewhere").unwrap().len() == 1;
    assert!(
        attached || deps.missing.iter().any(named) || deps.warnings.iter().any(named),
        "the path dependency `outside` is neither attached nor reported: {deps:?}"
    );
    assert_eq!(deps.crates, 2, "gitdep and outside: {deps:?}");
}

#[test]
fn scope_none_attaches_nothing_direct_the_first_level_and_all_the_transitive_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    package(&second, "second", "0.1.0", "", "pub fn second_fn() {}\n");
    package(
        &first,
        "first",
        "0.1.0",
        "\n[dependencies]\nsecond = { path = \"../second\" }\n",
        "pub fn first_fn() {\n    second::second_fn();\n}\n",
    );
    let ws = app(
        &tmp.path().join("ws"),
        "[dependencies]\nfirst = { path = \"../first\" }\n",
        &[(
            "src/lib.rs",
            "pub fn app_fn() {\n    first::first_fn();\n}\n",
        )],
    );
    lock_and_fetch(&ws);

    // None: the workspace alone; its call into `first` is text.
    let report = run(&ws, &cache, Some(DepsScope::None));
    assert_eq!(
        report.deps.as_ref().map_or(0, |d| d.crates),
        0,
        "{:?}",
        report.deps
    );
    let db = open(&ws);
    assert!(db.dependencies().unwrap().is_none());
    absent(&db, "first::first_fn");
    let app_fn = one(&db, "app::app_fn");
    assert!(callee_ids(&db, &app_fn).is_empty());
    assert!(db
        .unresolved_from(app_fn.id)
        .unwrap()
        .iter()
        .any(|u| u.text.contains("first_fn")));
    drop(db);
    assert!(DepCache::new(cache.clone()).list().is_empty());

    // Direct: `first` only.
    let report = run(&ws, &cache, Some(DepsScope::Direct));
    assert_eq!(deps_of(&report).crates, 1, "{:?}", report.deps);
    let db = open(&ws);
    assert!(db.dependencies().unwrap().is_some());
    let first_fn = one(&db, "first::first_fn");
    assert_dependency_in(&first_fn, &first);
    assert_eq!(caller_paths(&db, &first_fn), ["app::app_fn"]);
    absent(&db, "second::second_fn");
    assert!(callee_ids(&db, &first_fn).is_empty());
    drop(db);

    // All: `second` too, and `first`'s call resolves into it.
    let report = run(&ws, &cache, Some(DepsScope::All));
    assert_eq!(deps_of(&report).crates, 2, "{:?}", report.deps);
    let db = open(&ws);
    let second_fn = one(&db, "second::second_fn");
    assert_dependency_in(&second_fn, &second);
    let first_fn = one(&db, "first::first_fn");
    assert_eq!(caller_paths(&db, &second_fn), ["first::first_fn"]);
    assert_eq!(callee_ids(&db, &first_fn), [second_fn.id]);
    assert_eq!(caller_paths(&db, &first_fn), ["app::app_fn"]);
    drop(db);
    let mut names: Vec<String> = DepCache::new(cache.clone())
        .list()
        .into_iter()
        .map(|e| e.name)
        .collect();
    names.sort();
    // `first` twice: under `direct` its key names no dependency, under `all` it names `second`.
    assert_eq!(names, ["first", "first", "second"]);

    // None again: detached, the workspace intact.
    let report = run(&ws, &cache, Some(DepsScope::None));
    assert_eq!(report.deps.as_ref().map_or(0, |d| d.crates), 0);
    let db = open(&ws);
    assert!(db.dependencies().unwrap().is_none());
    absent(&db, "first::first_fn");
    absent(&db, "second::second_fn");
    let app_fn = one(&db, "app::app_fn");
    assert!(callee_ids(&db, &app_fn).is_empty());
}
