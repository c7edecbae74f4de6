//! Published crates from crates.io, materialised the way `shared/bench/corpus.sh` does it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The cargo that runs the tests (`$CARGO`), or `cargo` from `PATH`.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// The unpacked source directory of `name` `version` as published on crates.io
/// (`$CARGO_HOME/registry/src/<index>/<name>-<version>/`), fetched into the cargo cache first
/// when it is not there yet.
///
/// Cargo does the work: a throwaway project that depends on `name = "=version"` (default
/// features off), `cargo fetch` (from the cache alone when it can, else from crates.io), then
/// `cargo metadata` to learn where the source was unpacked. Without crates.io and without the
/// crate in the cache this panics, and the message says what to fetch. Treat the directory as
/// read-only: copy it (see [`crate::Project::copy_of`]) before writing anything next to it.
pub fn registry_crate(name: &str, version: &str) -> PathBuf {
    let scratch = tempfile::Builder::new()
        .prefix("ploke-registry-")
        .tempdir()
        .expect("creating a temp dir");
    let proj = scratch.path();
    std::fs::create_dir_all(proj.join("src")).unwrap();
    std::fs::write(proj.join("src/lib.rs"), "").unwrap();
    std::fs::write(
        proj.join("Cargo.toml"),
        format!(
            "[package]\nname = \"ploke-registry-probe\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\n{name} = {{ version = \"={version}\", default-features = false }}\n\n[workspace]\n"
        ),
    )
    .unwrap();
    fetch(
        proj,
        &format!(
            "{name} {version} (fetch it once with network: `cargo fetch` in a project that \
             depends on {name} = \"={version}\")"
        ),
    );
    // Everything is local now.
    let meta = run(cargo()
        .args(["metadata", "--offline", "--format-version", "1"])
        .current_dir(proj));
    assert!(
        meta.status.success(),
        "`cargo metadata` for {name} {version} failed:\n{}",
        String::from_utf8_lossy(&meta.stderr)
    );
    // Every package's `"manifest_path":"…/Cargo.toml"`; the registry unpacks a crate into a
    // directory named `<name>-<version>`. (No JSON parser needed for that.)
    let json = String::from_utf8(meta.stdout).expect("cargo metadata prints UTF-8");
    let key = "\"manifest_path\":\"";
    let want = format!("{name}-{version}");
    let dir = json
        .match_indices(key)
        .map(|(i, _)| {
            let rest = &json[i + key.len()..];
            PathBuf::from(&rest[..rest.find('"').unwrap()])
        })
        .filter_map(|m| m.parent().map(Path::to_path_buf))
        .find(|d| d.file_name().is_some_and(|n| n.to_string_lossy() == want))
        .unwrap_or_else(|| panic!("cargo metadata does not list {name} {version}"));
    assert!(
        dir.join("Cargo.toml").is_file(),
        "{} holds the crate",
        dir.display()
    );
    dir
}

/// `cargo fetch` in the project at `proj`: from cargo's cache when it can (no waiting on a
/// network that is not there), else from crates.io. Panics, naming `what` the project needs,
/// when neither works.
fn fetch(proj: &Path, what: &str) {
    let mut fetch = run(cargo().args(["fetch", "--offline"]).current_dir(proj));
    if !fetch.status.success() {
        fetch = run(cargo().arg("fetch").current_dir(proj));
    }
    assert!(
        fetch.status.success(),
        "`cargo fetch` failed: this test needs crates.io, or a cargo cache that holds {what}.\n{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
}

/// A workspace `dir/name` with `manifest` (`NAME` in it replaced by `name`) and `files`, that
/// depends on published crates: its lock file resolved and their sources fetched by cargo
/// (see [`registry_crate`] for where from). Panics, naming `what` it needs, without them.
pub fn registry_workspace(
    dir: &Path,
    name: &str,
    manifest: &str,
    files: &[(&str, &str)],
    what: &str,
) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("Cargo.toml"), manifest.replace("NAME", name)).unwrap();
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fetch(&root, what);
    root
}
