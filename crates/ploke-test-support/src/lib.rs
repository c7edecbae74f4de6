//! Helpers shared by ploke's test suites, and nothing else: a dev-dependency only, never a
//! dependency of a library or of the binary.
//!
//! - [`Project`]: a source tree in a fresh temp directory (written file by file, or a copy of a
//!   fixture crate from `tests/fixtures/`), with database directories beside it; with the
//!   `index` feature, [`Project::index`] and [`index_dir`] run the real pipeline into one.
//! - [`registry_crate`]: a published crate, exactly as crates.io serves it, fetched into the
//!   cargo cache with cargo itself.
//! - [`models`]: the model files the model tests load, put into `target/models/` by
//!   `scripts/fetch-models.sh`; a missing one fails the test and says how to fetch it.
//! - [`http`]: a loopback HTTP/1.1 server that plays a model server (plain and streamed
//!   answers, any status, delays, stalls), every request recorded; [`openai`]: the bodies of
//!   chat completions with tool calls and of embeddings.
//! - `deps` (feature `deps`): a dependency crate written to disk and attached to an index by
//!   hand, its files absolute paths, as `ploke index --deps` attaches one.
//! - [`copy_dir`], [`fixture`], [`line_of`]: the small things every suite needed a copy of.
//!
//! A helper lives here only when two or more suites use it; what one suite needs stays in
//! that suite. The helpers panic with a message that names the file and the action: they are
//! for tests, where a panic is the failure report.

#[cfg(feature = "deps")]
pub mod deps;
pub mod http;
pub mod models;
pub mod openai;
mod project;
mod registry;

use std::path::{Path, PathBuf};

pub use project::{manifest, Project};
pub use registry::{registry_crate, registry_workspace};

#[cfg(feature = "index")]
pub use project::index_dir;

/// The root of the ploke repository (the directory of the workspace `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/ploke-test-support sits two levels below the repository root")
        .to_path_buf()
}

/// The fixture crates shared by the suites: `<repo>/tests/fixtures/`.
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("tests/fixtures")
}

/// The directory of fixture crate `name` (`tests/fixtures/<name>/`); panics if there is none.
#[track_caller]
pub fn fixture(name: &str) -> PathBuf {
    let dir = fixtures_dir().join(name);
    assert!(
        dir.join("Cargo.toml").is_file(),
        "no fixture crate at {}",
        dir.display()
    );
    dir
}

/// Copies the directory tree `src` to `dst` (created if needed), leaving out `target`
/// directories and `Cargo.lock` files: build output or a lock file left by a `cargo check` of
/// a fixture is not part of it.
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap_or_else(|e| panic!("creating {}: {e}", dst.display()));
    let entries =
        std::fs::read_dir(src).unwrap_or_else(|e| panic!("listing {}: {e}", src.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", src.display()));
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        let (from, to) = (entry.path(), dst.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&from, &to);
        } else {
            std::fs::copy(&from, &to)
                .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
        }
    }
}

/// The 1-based number of the one line of `text` that contains `needle`; panics unless exactly
/// one line does (so a test never checks a span against the wrong occurrence).
#[track_caller]
pub fn line_of(text: &str, needle: &str) -> u32 {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "`{needle}` is on exactly one line: {hits:?}");
    hits[0] as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_of_counts_from_one() {
        assert_eq!(line_of("a\nb\nc\n", "b"), 2);
        assert_eq!(line_of("only", "only"), 1);
    }

    #[test]
    #[should_panic(expected = "exactly one line")]
    fn line_of_refuses_two_lines() {
        line_of("x\nx\n", "x");
    }

    #[test]
    fn copy_dir_leaves_out_build_output_and_lock_files() {
        let src = Project::with_files(
            "src",
            &[
                ("Cargo.toml", "[package]\n"),
                ("Cargo.lock", "# lock\n"),
                ("src/lib.rs", "pub fn f() {}\n"),
                ("target/debug/x", "bin"),
            ],
        );
        let dst = tempfile::tempdir().unwrap();
        copy_dir(&src.root, dst.path());
        assert!(dst.path().join("src/lib.rs").is_file());
        assert!(dst.path().join("Cargo.toml").is_file());
        assert!(!dst.path().join("Cargo.lock").exists());
        assert!(!dst.path().join("target").exists());
    }

    /// This crate is for tests only: in every manifest of the repository it may appear as a
    /// dev-dependency (and in `[workspace.dependencies]`, which only names it), never as a
    /// normal or build dependency.
    #[test]
    fn only_ever_a_dev_dependency() {
        let root = repo_root();
        let mut manifests = vec![root.join("Cargo.toml"), root.join("xtask/Cargo.toml")];
        for e in std::fs::read_dir(root.join("crates")).unwrap() {
            let m = e.unwrap().path().join("Cargo.toml");
            if m.is_file() {
                manifests.push(m);
            }
        }
        let mut wrong = Vec::new();
        for m in &manifests {
            let text = std::fs::read_to_string(m).unwrap();
            let mut section = String::new();
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.starts_with('[') {
                    section = line.to_string();
                    // `[dependencies.ploke-test-support]`
                    if section.contains("ploke-test-support")
                        && !section.contains("dev-dependencies.")
                    {
                        wrong.push(format!("{}:{}: {section}", m.display(), i + 1));
                    }
                } else if line.starts_with("ploke-test-support")
                    && section != "[workspace.dependencies]"
                    && !section.ends_with("dev-dependencies]")
                {
                    wrong.push(format!("{}:{}: under {section}", m.display(), i + 1));
                }
            }
        }
        assert!(manifests.len() > 10, "{manifests:?}");
        assert!(
            wrong.is_empty(),
            "ploke-test-support is a dev-dependency only: {wrong:#?}"
        );
    }

    #[test]
    fn fixtures_are_found() {
        assert!(fixture("item_kinds").join("src/lib.rs").is_file());
    }
}
