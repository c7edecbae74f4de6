//! The dependencies of real workspaces: published crates from the registry (fetched with
//! cargo when the cache does not hold them), a renamed dependency, two versions of one crate,
//! build, dev and proc-macro dependencies, a path dependency outside the workspace, a git
//! dependency (a local repository), and a source that was never fetched.

use std::path::Path;
use std::process::Command;

use ploke_workspace::deps::{DepKind, SourceKind};
use ploke_workspace::{dependencies, Dependencies, DepsScope};

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

/// `cargo generate-lockfile` and `cargo fetch` in `dir`: from the cache alone when it can,
/// else from crates.io (the test needs one of them and says so).
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
            "`cargo {}` failed: this test needs crates.io or a cargo cache holding http 1.5.0, indexmap 2.2.6 and 1.9.3, autocfg 1.5.1, serde_derive 1.0.229:\n{}",
            args[0],
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
        .output()
        .expect("git is installed");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A two-member workspace (`app`, `tool`) with every kind of dependency, locked and fetched.
fn workspace(tmp: &Path) -> std::path::PathBuf {
    // A crate in a local git repository.
    let repo = tmp.join("gitdep-repo");
    write(
        &repo,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"gitdep\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
            ),
            ("src/lib.rs", "pub fn from_git() -> u8 { 3 }\n"),
        ],
    );
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    // A path dependency outside the workspace.
    write(
        &tmp.join("outside"),
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"outside\"\nversion = \"0.2.0\"\nedition = \"2021\"\n",
            ),
            ("src/lib.rs", "pub fn elsewhere() {}\n"),
        ],
    );
    let ws = tmp.join("ws");
    write(
        &ws,
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"tool\"]\nresolver = \"2\"\n",
            ),
            (
                "app/Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\n\
                 myhttp = { package = \"http\", version = \"=1.5.0\" }\n\
                 indexmap = \"=2.2.6\"\n\
                 old_indexmap = { package = \"indexmap\", version = \"=1.9.3\" }\n\n\
                 [build-dependencies]\nautocfg = \"=1.5.1\"\n\n\
                 [dev-dependencies]\nserde_derive = \"=1.0.229\"\n",
            ),
            ("app/src/lib.rs", "pub fn app() {}\n"),
            ("app/build.rs", "fn main() {}\n"),
            (
                "tool/Cargo.toml",
                &format!(
                    "[package]\nname = \"tool\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                     [dependencies]\napp = {{ path = \"../app\" }}\n\
                     outside = {{ path = \"../../outside\" }}\n\
                     gitdep = {{ git = \"file://{}\" }}\n",
                    repo.display()
                ),
            ),
            ("tool/src/lib.rs", "pub fn tool() {}\n"),
        ],
    );
    lock_and_fetch(&ws);
    ws
}

fn find<'a>(d: &'a Dependencies, name: &str, version: &str) -> &'a ploke_workspace::Dependency {
    d.packages
        .iter()
        .find(|p| p.name == name && p.version == version)
        .unwrap_or_else(|| panic!("{name} {version} not listed: {:#?}", names(d)))
}

fn names(d: &Dependencies) -> Vec<String> {
    d.packages
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect()
}

#[test]
fn exact_versions_sources_renames_and_kinds_of_direct_and_all_dependencies() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = workspace(tmp.path());

    let direct = dependencies(&ws, DepsScope::Direct);
    assert!(direct.missing.is_empty(), "{:?}", direct.missing);
    assert!(direct.warnings.is_empty(), "{:?}", direct.warnings);
    // The members themselves are not dependencies; `app` is a path dependency of `tool`.
    assert!(direct
        .packages
        .iter()
        .all(|p| p.name != "app" && p.name != "tool"));

    let http = find(&direct, "http", "1.5.0");
    assert!(http.direct);
    assert_eq!(http.source_kind, SourceKind::Registry);
    assert!(http.source.starts_with("registry+"), "{}", http.source);
    let lib = http.lib.as_ref().expect("http has a library");
    assert_eq!(lib.name, "http");
    assert!(lib.root_file.ends_with("src/lib.rs"), "{:?}", lib.root_file);
    assert!(
        !http.features.is_empty(),
        "enabled features come from cargo"
    );

    // A renamed dependency is named as the code names it; two versions of one crate.
    let app = &direct.members["app"];
    let edge = |extern_name: &str| {
        app.iter()
            .find(|e| e.extern_name == extern_name)
            .unwrap_or_else(|| panic!("no `{extern_name}` in {app:#?}"))
    };
    assert_eq!(edge("myhttp").id, http.id);
    let new_map = find(&direct, "indexmap", "2.2.6");
    let old_map = find(&direct, "indexmap", "1.9.3");
    assert_ne!(new_map.id, old_map.id);
    assert_eq!(edge("indexmap").id, new_map.id);
    assert_eq!(edge("old_indexmap").id, old_map.id);

    // Build and dev dependencies, and a proc-macro crate.
    let autocfg = find(&direct, "autocfg", "1.5.1");
    assert_eq!(autocfg.reached_as, [DepKind::Build]);
    let derive = find(&direct, "serde_derive", "1.0.229");
    assert!(derive.proc_macro);
    assert_eq!(derive.reached_as, [DepKind::Dev]);
    assert!(derive.lib.is_some());

    // A path dependency outside the workspace, and a git dependency.
    let outside = find(&direct, "outside", "0.2.0");
    assert_eq!(outside.source_kind, SourceKind::Path);
    assert_eq!(
        outside.manifest_dir,
        tmp.path().join("outside").canonicalize().unwrap()
    );
    let gitdep = find(&direct, "gitdep", "0.3.0");
    assert_eq!(gitdep.source_kind, SourceKind::Git);
    assert!(
        gitdep.source.starts_with("git+file://"),
        "{}",
        gitdep.source
    );
    assert!(gitdep.manifest_dir.join("src/lib.rs").is_file());

    // Direct stops there: http's own dependencies come with `all`, each after what it needs.
    assert!(
        direct.packages.iter().all(|p| p.name != "bytes"),
        "{:?}",
        names(&direct)
    );
    let all = dependencies(&ws, DepsScope::All);
    let pos = |name: &str| {
        all.packages
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} not in {:?}", names(&all)))
    };
    assert!(pos("bytes") < pos("http"), "{:?}", names(&all));
    assert!(
        pos("proc-macro2") < pos("serde_derive"),
        "{:?}",
        names(&all)
    );
    let bytes = &all.packages[pos("bytes")];
    assert!(!bytes.direct);
    // Both versions of hashbrown, one for each indexmap.
    let hashbrowns = all
        .packages
        .iter()
        .filter(|p| p.name == "hashbrown")
        .count();
    assert!(hashbrowns >= 2, "{:?}", names(&all));
    let http_all = &all.packages[pos("http")];
    assert!(
        http_all.deps.iter().any(|e| e.extern_name == "bytes"),
        "{:#?}",
        http_all.deps
    );

    assert_eq!(dependencies(&ws, DepsScope::None), Dependencies::default());
}

#[test]
fn a_source_that_was_never_fetched_is_reported_with_the_fetch_that_brings_it() {
    let tmp = tempfile::tempdir().unwrap();
    // Make sure one real crate is in the cache: fnv 1.0.7 (fetched with cargo if needed).
    let probe = tmp.path().join("probe");
    write(
        &probe,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nfnv = \"=1.0.7\"\n\n[workspace]\n",
            ),
            ("src/lib.rs", ""),
        ],
    );
    lock_and_fetch(&probe);
    // A lock file that names fnv and a crate no registry has.
    let ws = tmp.path().join("ws");
    write(
        &ws,
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"lonely\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nfnv = \"=1.0.7\"\nploke_never_published_xyz = \"1.2.3\"\n\n[workspace]\n",
            ),
            ("src/lib.rs", ""),
            (
                "Cargo.lock",
                "version = 3\n\n\
                 [[package]]\nname = \"fnv\"\nversion = \"1.0.7\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
                 [[package]]\nname = \"lonely\"\nversion = \"0.1.0\"\ndependencies = [\n \"fnv\",\n \"ploke_never_published_xyz\",\n]\n\n\
                 [[package]]\nname = \"ploke_never_published_xyz\"\nversion = \"1.2.3\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
            ),
        ],
    );
    let d = dependencies(&ws, DepsScope::Direct);
    assert_eq!(d.missing.len(), 1, "{d:#?}");
    assert_eq!(d.missing[0].name, "ploke_never_published_xyz");
    assert_eq!(d.missing[0].version, "1.2.3");
    assert_eq!(
        d.fetch_hint.as_deref(),
        Some(
            format!(
                "cargo fetch --manifest-path {}",
                ws.join("Cargo.toml").display()
            )
            .as_str()
        )
    );
    // The rest is still listed, from the lock file, and the warning says how.
    let fnv = find(&d, "fnv", "1.0.7");
    assert!(fnv.direct);
    assert!(fnv.lib.is_some());
    assert!(
        d.warnings.len() == 1 && d.warnings[0].contains("read Cargo.lock instead"),
        "{:?}",
        d.warnings
    );
    assert_eq!(d.members["lonely"].len(), 2);
}
