//! Discovery and file listing on real directory trees built in temporary directories.

use std::fs;
use std::path::Path;

use ploke_core::TargetKind;
use ploke_test_support::registry_crate;
use ploke_workspace::{
    discover, discover_with, rust_files, DiscoverError, DiscoveryMethod, Options, Package,
    Workspace,
};

/// Write `files` (path, contents) under a fresh temporary directory.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("ploke-ws-")
        .tempdir()
        .unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn fallback(path: &Path) -> Workspace {
    discover_with(
        path,
        &Options {
            use_cargo_metadata: false,
        },
    )
    .unwrap()
}

/// Discover with both methods, check that cargo answered and that both agree.
fn both(path: &Path) -> Workspace {
    let cargo = discover(path).unwrap();
    assert_eq!(
        cargo.method,
        DiscoveryMethod::CargoMetadata,
        "cargo metadata should accept this fixture; warnings: {:?}",
        cargo.warnings
    );
    let manual = fallback(path);
    assert_eq!(manual.method, DiscoveryMethod::ManifestFallback);
    assert_eq!(cargo.root, manual.root);
    assert_eq!(
        cargo.packages, manual.packages,
        "cargo metadata and the fallback disagree"
    );
    cargo
}

/// (kind, name, root file relative to the package dir) of each target.
fn targets(pkg: &Package) -> Vec<(TargetKind, String, String)> {
    pkg.targets
        .iter()
        .map(|t| {
            let rel = t.root_file.strip_prefix(&pkg.manifest_dir).unwrap();
            (
                t.kind,
                t.name.clone(),
                rel.to_string_lossy().replace('\\', "/"),
            )
        })
        .collect()
}

fn t(kind: TargetKind, name: &str, file: &str) -> (TargetKind, String, String) {
    (kind, name.to_string(), file.to_string())
}

/// Files of `pkg`, relative to the workspace root.
fn files(ws: &Workspace, pkg: &Package) -> Vec<String> {
    rust_files(ws, pkg)
        .iter()
        .map(|f| {
            f.strip_prefix(&ws.root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

const LIB: &str = "pub fn f() {}\n";
const MAIN: &str = "fn main() {}\n";

fn multi_workspace() -> tempfile::TempDir {
    tree(&[
        (
            "Cargo.toml",
            r#"[workspace]
members = ["crates/*", "tools/cli"]
exclude = ["crates/excluded"]
resolver = "2"

[workspace.package]
version = "1.2.3"
edition = "2021"

[workspace.dependencies]
helper = { path = "libs/helper" }
"#,
        ),
        (
            "crates/alpha/Cargo.toml",
            r#"[package]
name = "alpha"
version = "0.1.0"
edition = "2021"

[dependencies]
helper.workspace = true
"#,
        ),
        ("crates/alpha/src/lib.rs", LIB),
        ("crates/alpha/src/inner/mod.rs", LIB),
        (
            "crates/beta-gamma/Cargo.toml",
            "[package]\nname = \"beta-gamma\"\nversion.workspace = true\nedition.workspace = true\n",
        ),
        ("crates/beta-gamma/src/lib.rs", LIB),
        (
            "crates/excluded/Cargo.toml",
            "[package]\nname = \"excluded\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/excluded/src/lib.rs", LIB),
        (
            "tools/cli/Cargo.toml",
            "[package]\nname = \"my-cli\"\nversion = \"0.2.0\"\nedition = \"2018\"\n",
        ),
        ("tools/cli/src/main.rs", MAIN),
        (
            "libs/helper/Cargo.toml",
            "[package]\nname = \"helper\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
        ),
        ("libs/helper/src/lib.rs", LIB),
        ("docs/notes/readme.txt", "notes\n"),
    ])
}

#[test]
fn multi_package_workspace_with_globs() {
    let dir = multi_workspace();
    let ws = both(dir.path());
    assert_eq!(ws.root, dir.path().canonicalize().unwrap());
    let summary: Vec<_> = ws
        .packages
        .iter()
        .map(|p| {
            (
                p.rel_dir.as_str(),
                p.name.as_str(),
                p.version.as_str(),
                p.edition.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("crates/alpha", "alpha", "0.1.0", "2021"),
            ("crates/beta-gamma", "beta-gamma", "1.2.3", "2021"),
            // A path dependency inside the workspace is a member too.
            ("libs/helper", "helper", "0.3.0", "2021"),
            ("tools/cli", "my-cli", "0.2.0", "2018"),
        ]
    );
    let beta = ws.package("beta-gamma").unwrap();
    assert_eq!(
        targets(beta),
        vec![t(TargetKind::Lib, "beta_gamma", "src/lib.rs")]
    );
    let cli = ws.package("my-cli").unwrap();
    assert_eq!(
        targets(cli),
        vec![t(TargetKind::Bin, "my_cli", "src/main.rs")]
    );
    for pkg in &ws.packages {
        assert!(pkg.manifest_dir.is_absolute());
        assert!(pkg.manifest_dir.starts_with(&ws.root));
    }
    let alpha = ws.package("alpha").unwrap();
    assert_eq!(
        files(&ws, alpha),
        vec!["crates/alpha/src/inner/mod.rs", "crates/alpha/src/lib.rs"]
    );
}

#[test]
fn path_inside_walks_up_to_workspace_root() {
    let dir = multi_workspace();
    let root = dir.path().canonicalize().unwrap();
    for start in [
        "crates/alpha",
        "crates/alpha/src",
        "crates/alpha/src/lib.rs",
        "crates/alpha/Cargo.toml",
        "crates/alpha/src/inner",
        "docs/notes",
        "docs/notes/readme.txt",
    ] {
        let path = dir.path().join(start);
        let ws = discover(&path).unwrap();
        assert_eq!(ws.root, root, "from {start}");
        assert_eq!(ws.method, DiscoveryMethod::CargoMetadata, "from {start}");
        assert_eq!(ws.packages.len(), 4, "from {start}");
        let ws = fallback(&path);
        assert_eq!(ws.root, root, "fallback from {start}");
        assert_eq!(ws.packages.len(), 4, "fallback from {start}");
    }
}

#[test]
fn conventional_targets_of_one_package() {
    let dir = tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"my-app\"\nversion = \"0.5.0\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", LIB),
        ("src/main.rs", MAIN),
        ("src/bin/foo/main.rs", MAIN),
        ("src/bin/foo/helper.rs", LIB),
        ("src/bin/other-tool.rs", MAIN),
        ("examples/ex1.rs", MAIN),
        ("examples/multi/main.rs", MAIN),
        ("examples/multi/part.rs", LIB),
        ("tests/it.rs", LIB),
        ("tests/suite/main.rs", LIB),
        ("tests/suite/cases.rs", LIB),
        ("tests/common/mod.rs", LIB),
        ("benches/speed.rs", MAIN),
        ("build.rs", MAIN),
    ]);
    let ws = both(dir.path());
    assert_eq!(ws.packages.len(), 1);
    let pkg = &ws.packages[0];
    assert_eq!(pkg.rel_dir, "");
    assert_eq!(pkg.name, "my-app");
    assert_eq!(
        targets(pkg),
        vec![
            t(TargetKind::Lib, "my_app", "src/lib.rs"),
            t(TargetKind::Bin, "foo", "src/bin/foo/main.rs"),
            t(TargetKind::Bin, "my_app", "src/main.rs"),
            t(TargetKind::Bin, "other_tool", "src/bin/other-tool.rs"),
            t(TargetKind::Example, "ex1", "examples/ex1.rs"),
            t(TargetKind::Example, "multi", "examples/multi/main.rs"),
            t(TargetKind::Test, "it", "tests/it.rs"),
            t(TargetKind::Test, "suite", "tests/suite/main.rs"),
            t(TargetKind::Bench, "speed", "benches/speed.rs"),
            t(TargetKind::BuildScript, "build_script_build", "build.rs"),
        ]
    );
    assert_eq!(pkg.lib().unwrap().name, "my_app");
    assert_eq!(files(&ws, pkg).len(), 14);
}

#[test]
fn explicit_targets_and_lib_path_override() {
    let dir = tree(&[
        (
            "Cargo.toml",
            r#"[package]
name = "odd-layout"
version = "0.1.0"
edition = "2021"
build = "tools/gen.rs"
autobins = false
autoexamples = false

[lib]
name = "core_impl"
path = "lib/core.rs"

[[bin]]
name = "tool"
path = "cli/tool.rs"

[[bin]]
name = "named"

[[test]]
name = "custom"
path = "checks/custom.rs"
"#,
        ),
        ("lib/core.rs", LIB),
        ("src/lib.rs", LIB),   // not the library: [lib] path wins
        ("src/main.rs", MAIN), // autobins = false
        ("src/bin/named.rs", MAIN),
        ("src/bin/ignored.rs", MAIN),
        ("cli/tool.rs", MAIN),
        ("examples/ex.rs", MAIN), // autoexamples = false
        ("checks/custom.rs", LIB),
        ("tests/auto.rs", LIB),
        ("tools/gen.rs", MAIN),
    ]);
    let ws = both(dir.path());
    assert_eq!(
        targets(&ws.packages[0]),
        vec![
            t(TargetKind::Lib, "core_impl", "lib/core.rs"),
            t(TargetKind::Bin, "named", "src/bin/named.rs"),
            t(TargetKind::Bin, "tool", "cli/tool.rs"),
            t(TargetKind::Test, "auto", "tests/auto.rs"),
            t(TargetKind::Test, "custom", "checks/custom.rs"),
            t(
                TargetKind::BuildScript,
                "build_script_build",
                "tools/gen.rs"
            ),
        ]
    );
}

#[test]
fn fallback_when_cargo_rejects_the_manifest() {
    let dir = tree(&[
        (
            "Cargo.toml",
            r#"[workspace]
members = ["app"]

[workspace.package]
version = "9.9.9"
edition = "2021"
"#,
        ),
        (
            "app/Cargo.toml",
            r#"[package]
name = "app"
version.workspace = true
edition.workspace = true

[dependencies]
gone = { path = "../does-not-exist" }
"#,
        ),
        ("app/src/lib.rs", LIB),
        ("app/tests/t.rs", LIB),
    ]);
    let ws = discover(&dir.path().join("app/src")).unwrap();
    assert_eq!(ws.method, DiscoveryMethod::ManifestFallback);
    assert_eq!(ws.root, dir.path().canonicalize().unwrap());
    assert!(
        ws.warnings[0].starts_with("cargo metadata failed"),
        "{:?}",
        ws.warnings
    );
    assert!(!ws.warnings[0].contains('\n'));
    let app = ws.package("app").unwrap();
    assert_eq!(app.version, "9.9.9");
    assert_eq!(app.edition, "2021");
    assert_eq!(app.rel_dir, "app");
    assert_eq!(
        targets(app),
        vec![
            t(TargetKind::Lib, "app", "src/lib.rs"),
            t(TargetKind::Test, "t", "tests/t.rs"),
        ]
    );
}

#[test]
fn package_outside_its_enclosing_workspace_stands_alone() {
    let dir = tree(&[
        ("Cargo.toml", "[workspace]\nmembers = [\"a\"]\n"),
        (
            "a/Cargo.toml",
            "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
        ),
        ("a/src/lib.rs", LIB),
        (
            "fixtures/b/Cargo.toml",
            "[package]\nname = \"b\"\nversion = \"0.1.0\"\n",
        ),
        ("fixtures/b/src/lib.rs", LIB),
    ]);
    // Cargo refuses (`b` believes it is in a workspace when it is not); the fallback copes.
    let ws = discover(&dir.path().join("fixtures/b")).unwrap();
    assert_eq!(
        ws.root,
        dir.path().join("fixtures/b").canonicalize().unwrap()
    );
    assert_eq!(ws.packages.len(), 1);
    assert_eq!(ws.packages[0].name, "b");
    assert_eq!(ws.packages[0].edition, "2015");
    assert!(
        ws.warnings.iter().any(|w| w.contains("not a member")),
        "{:?}",
        ws.warnings
    );
}

#[test]
fn ignored_hidden_and_target_files_are_skipped() {
    let dir = tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        (".gitignore", "/src/generated.rs\nscratch/\n"),
        ("src/.ignore", "local_only.rs\n"),
        ("src/lib.rs", LIB),
        ("src/generated.rs", LIB),
        ("src/local_only.rs", LIB),
        ("src/scratch/x.rs", LIB),
        ("src/kept/target/mod.rs", LIB), // a module named `target` is source, not output
        ("src/kept/mod.rs", LIB),
        ("src/.hidden/h.rs", LIB),
        ("src/.dotfile.rs", LIB),
        ("src/notes.txt", "not rust\n"),
        ("target/debug/build/out.rs", LIB),
        (
            "out-dir/CACHEDIR.TAG",
            "Signature: 8a477f597d28d172789f06886806bc55\n",
        ),
        ("out-dir/debug/gen.rs", LIB),
    ]);
    let ws = both(dir.path());
    assert_eq!(
        files(&ws, &ws.packages[0]),
        vec!["src/kept/mod.rs", "src/kept/target/mod.rs", "src/lib.rs"]
    );
}

#[test]
fn nested_package_files_belong_to_the_nested_package() {
    let dir = tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"outer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\nmembers = [\"inner\"]\n",
        ),
        ("src/lib.rs", LIB),
        ("inner/Cargo.toml", "[package]\nname = \"inner\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        ("inner/src/lib.rs", LIB),
        // Not a member, but a package of its own all the same (as `cargo package` sees it).
        ("tests/fixtures/proj/Cargo.toml", "[package]\nname = \"proj\"\nversion = \"0.1.0\"\n"),
        ("tests/fixtures/proj/src/lib.rs", LIB),
        ("tests/smoke.rs", LIB),
    ]);
    let ws = both(dir.path());
    let names: Vec<_> = ws
        .packages
        .iter()
        .map(|p| (p.rel_dir.as_str(), p.name.as_str()))
        .collect();
    assert_eq!(names, vec![("", "outer"), ("inner", "inner")]);
    let outer = ws.package("outer").unwrap();
    assert_eq!(files(&ws, outer), vec!["src/lib.rs", "tests/smoke.rs"]);
    let inner = ws.package("inner").unwrap();
    assert_eq!(files(&ws, inner), vec!["inner/src/lib.rs"]);
}

#[cfg(unix)]
#[test]
fn symlinks_neither_loop_nor_escape() {
    use std::os::unix::fs::symlink;

    let outside = tree(&[("secret.rs", LIB)]);
    let dir = tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"links\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        ),
        ("src/lib.rs", LIB),
        ("shared/real.rs", LIB),
    ]);
    let src = dir.path().join("src");
    symlink(&src, src.join("loop")).unwrap(); // directory loop
    symlink(dir.path(), src.join("up")).unwrap(); // to an ancestor
    symlink(src.join("b.rs"), src.join("a.rs")).unwrap(); // file link loop
    symlink(src.join("a.rs"), src.join("b.rs")).unwrap();
    symlink(dir.path().join("shared/real.rs"), src.join("alias.rs")).unwrap();
    symlink(outside.path().join("secret.rs"), src.join("escape.rs")).unwrap();
    symlink(src.join("missing.rs"), src.join("dangling.rs")).unwrap();

    let ws = both(dir.path());
    let pkg = &ws.packages[0];
    assert_eq!(
        files(&ws, pkg),
        vec!["shared/real.rs", "src/alias.rs", "src/lib.rs"]
    );
}

#[test]
fn errors_name_the_path() {
    let dir = tree(&[
        ("empty/readme.txt", "hi\n"),
        ("bad/Cargo.toml", "[package\nname = "),
    ]);

    let missing = dir.path().join("nope");
    let err = discover(&missing).unwrap_err();
    assert!(matches!(err, DiscoverError::PathNotFound { .. }), "{err}");
    assert!(err.to_string().contains("nope"), "{err}");

    let err = discover(&dir.path().join("empty")).unwrap_err();
    assert!(matches!(err, DiscoverError::NoManifest { .. }), "{err}");
    assert!(err.to_string().contains("empty"), "{err}");

    let err = discover(&dir.path().join("bad")).unwrap_err();
    assert!(matches!(err, DiscoverError::ParseManifest { .. }), "{err}");
    assert!(err.to_string().contains("bad/Cargo.toml"), "{err}");
}

/// A crate as published: the normalized manifest in the registry cache (fetched there with
/// cargo when it is not yet; without crates.io or a cache that holds it, the test fails and
/// says so).
#[test]
fn published_tokio_from_the_registry() {
    let dir = registry_crate("tokio", "1.38.0");
    let ws = discover(&dir).unwrap();
    assert_eq!(ws.packages.len(), 1);
    let tokio = &ws.packages[0];
    assert_eq!(
        (tokio.name.as_str(), tokio.version.as_str()),
        ("tokio", "1.38.0")
    );
    let lib = tokio.lib().unwrap();
    assert_eq!(lib.name, "tokio");
    assert!(lib.root_file.ends_with("src/lib.rs"));
    let tests: Vec<_> = tokio
        .targets
        .iter()
        .filter(|t| t.kind == TargetKind::Test)
        .collect();
    assert!(tests.len() > 50, "only {} test targets", tests.len());
    assert!(tests
        .iter()
        .all(|t| t.root_file.starts_with(dir.join("tests"))));
    assert!(tests.iter().any(|t| t.name == "fs_file"));

    // The fallback reads the same out of the published manifest.
    let manual = fallback(&dir);
    assert_eq!(manual.packages, ws.packages);

    let files = rust_files(&ws, tokio);
    assert!(files.iter().any(|f| f.ends_with("src/runtime/mod.rs")));
}

/// In the 2015 edition, an explicit `[[bin]]` turns off auto-discovery of binaries.
#[test]
fn edition_2015_explicit_bins_disable_inference() {
    let dir = tree(&[
        (
            "Cargo.toml",
            "[package]\nname = \"old\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"one\"\npath = \"src/one.rs\"\n",
        ),
        ("src/one.rs", MAIN),
        ("src/main.rs", MAIN),
        ("src/bin/two.rs", MAIN),
        ("tests/t.rs", LIB),
    ]);
    let ws = both(dir.path());
    let pkg = &ws.packages[0];
    assert_eq!(pkg.edition, "2015");
    assert_eq!(
        targets(pkg),
        vec![
            t(TargetKind::Bin, "one", "src/one.rs"),
            t(TargetKind::Test, "t", "tests/t.rs"),
        ]
    );
}

/// Compare both methods on every crate in the registry cache (slow; run by hand with
/// `cargo test -p ploke-workspace -- --ignored`). The cache is found where cargo unpacks the
/// crates fetched for the tests, so it holds at least those.
#[test]
#[ignore = "slow: every crate in the cargo registry cache"]
fn registry_crates_agree() {
    let fetched = [
        registry_crate("either", "1.16.0"),
        registry_crate("tokio", "1.38.0"),
    ];
    // `<cargo home>/registry/src/<index>/<name>-<version>`: every index of the cache.
    let src = fetched[0]
        .ancestors()
        .nth(2)
        .expect("a registry crate sits in <registry>/src/<index>/")
        .to_path_buf();
    let mut checked = 0;
    let mut differ = Vec::new();
    for index in fs::read_dir(&src).unwrap().flatten() {
        for krate in fs::read_dir(index.path()).unwrap().flatten() {
            let dir = krate.path();
            let Ok(cargo) = discover(&dir) else { continue };
            if cargo.method != DiscoveryMethod::CargoMetadata {
                continue;
            }
            let manual = fallback(&dir);
            checked += 1;
            if cargo.packages != manual.packages {
                let only = |a: &Workspace, b: &Workspace| -> Vec<String> {
                    let all = |w: &Workspace| -> Vec<String> {
                        w.packages
                            .iter()
                            .flat_map(|p| {
                                let head = format!("{} {} {}", p.name, p.version, p.edition);
                                std::iter::once(head.clone()).chain(p.targets.iter().map(
                                    move |t| {
                                        format!(
                                            "{head} {:?} {} {}",
                                            t.kind,
                                            t.name,
                                            t.root_file.display()
                                        )
                                    },
                                ))
                            })
                            .collect()
                    };
                    let other = all(b);
                    all(a).into_iter().filter(|x| !other.contains(x)).collect()
                };
                differ.push(format!(
                    "{}: only cargo {:?}; only fallback {:?}",
                    dir.display(),
                    only(&cargo, &manual),
                    only(&manual, &cargo)
                ));
            }
        }
    }
    println!("checked {checked} crates in {}", src.display());
    assert!(
        checked >= fetched.len(),
        "only {checked} crates of {} checked (the fetched ones: {fetched:?})",
        src.display()
    );
    assert!(differ.is_empty(), "methods disagree on: {differ:#?}");
}
