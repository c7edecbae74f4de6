//! [`Project`]: a throwaway source tree in a temp directory, and indexing it.

use std::path::{Path, PathBuf};

use crate::copy_dir;

/// A source tree in a fresh temp directory: the tree is `<tmp>/<name>/` ([`Project::root`]),
/// and database directories go beside it ([`Project::db`]), outside the walked tree.
///
/// The temp directory's name has no leading dot: the indexer's file walk skips hidden
/// directories. Everything is removed when the `Project` is dropped.
pub struct Project {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
}

/// The manifest of a one-package workspace called `name`, with `extra` (more tables) before
/// the empty `[workspace]` table that keeps cargo from looking for a workspace above the temp
/// directory.
pub fn manifest(name: &str, extra: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n{extra}\n[workspace]\n"
    )
}

impl Project {
    /// An empty directory `<tmp>/<name>/`.
    pub fn empty(name: &str) -> Project {
        let tmp = tempfile::Builder::new()
            .prefix("ploke-test-")
            .tempdir()
            .expect("creating a temp dir");
        let root = tmp.path().join(name);
        std::fs::create_dir_all(&root)
            .unwrap_or_else(|e| panic!("creating {}: {e}", root.display()));
        Project { tmp, root }
    }

    /// A package called `name` ([`manifest`]`(name, "")`) with `files` (path relative to the
    /// package root, contents).
    pub fn new(name: &str, files: &[(&str, &str)]) -> Project {
        let p = Project::empty(name);
        p.write("Cargo.toml", manifest(name, ""));
        for (path, text) in files {
            p.write(path, text);
        }
        p
    }

    /// `<tmp>/<name>/` holding exactly `files` (path relative to it, contents): no manifest is
    /// added.
    pub fn with_files(name: &str, files: &[(&str, &str)]) -> Project {
        let p = Project::empty(name);
        for (path, text) in files {
            p.write(path, text);
        }
        p
    }

    /// A copy of fixture crate `name` (`tests/fixtures/<name>/`) at `<tmp>/<name>/`.
    pub fn fixture(name: &str) -> Project {
        Project::copy_of(&crate::fixture(name), name)
    }

    /// A copy of the tree `src` at `<tmp>/<name>/` (see [`copy_dir`] for what is left out).
    pub fn copy_of(src: &Path, name: &str) -> Project {
        let p = Project::empty(name);
        copy_dir(src, &p.root);
        p
    }

    /// `rel` under the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes file `rel`, creating its directory.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, contents).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    }

    /// The text of file `rel`.
    pub fn read(&self, rel: &str) -> String {
        let p = self.path(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    }

    /// Replaces the one occurrence of `from` in file `rel` by `to`.
    #[track_caller]
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` occurs once in {rel}"
        );
        self.write(rel, text.replace(from, to));
    }

    /// Removes file `rel`.
    pub fn remove(&self, rel: &str) {
        let p = self.path(rel);
        std::fs::remove_file(&p).unwrap_or_else(|e| panic!("removing {}: {e}", p.display()));
    }

    /// A database directory `<tmp>/<name>`: beside the sources, outside the walked tree. Not
    /// created: the indexer creates it.
    pub fn db(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

#[cfg(feature = "index")]
impl Project {
    /// Indexes the tree with the real pipeline into `db` (incrementally, when `db` already
    /// holds an index of it).
    pub fn index(&self, db: &Path) -> ploke_index::IndexReport {
        index_dir(&self.root, db)
    }
}

/// Indexes the workspace at `root` into the database directory `db` with the default options
/// and no progress display; panics naming both if the pipeline fails.
#[cfg(feature = "index")]
pub fn index_dir(root: &Path, db: &Path) -> ploke_index::IndexReport {
    let opts = ploke_index::IndexOptions {
        db_dir: Some(db.to_path_buf()),
        ..Default::default()
    };
    ploke_index::index(root, &opts, &ploke_index::NoProgress)
        .unwrap_or_else(|e| panic!("indexing {} into {}: {e}", root.display(), db.display()))
}
