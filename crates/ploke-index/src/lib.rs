//! The index pipeline: workspace → files → parsed items → resolved graph → database.
//!
//! [`index`] discovers the workspace, reads and hashes every Rust file, parses the changed ones
//! on rayon, builds each target's module tree (following `mod` declarations and `#[path]`,
//! expanding item-level invocations of the target's own `macro_rules!` macros on the way),
//! resolves the graph, and writes only the difference to what the database already holds. A
//! cache beside the database (`state.bin`) keeps the parse results and the last graph, so a
//! re-index after editing one file re-parses that file alone. Broken input never stops a run:
//! each problem becomes one [`ploke_core::Skipped`] line (`file:line: reason`).
//!
//! Every write also saves the stamps of the files it indexed (`stamps.bin`: size,
//! modification time and hash of each), so that [`freshness`] can tell whether the index still
//! matches the files from a `stat` of each, without reading them.

mod analysis;
mod deps;
mod fresh;
mod macros;
mod parts;
mod pipeline;
mod state;
mod tree;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use deps::{
    attach, default_cache_dir, Attached, DepCache, DepsReport, Entry, EntryMeta, Pruned,
};
pub use fresh::{freshness, Freshness};
pub use pipeline::{index, Indexer};
pub use ploke_workspace::DepsScope;

/// Workspace-relative paths of the files the last run in `db_dir` indexed (from its cache).
pub fn indexed_files(db_dir: &Path) -> Result<Vec<String>, IndexError> {
    let state = state::State::load(db_dir).ok_or_else(|| IndexError::Io {
        path: db_dir.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no index cache here; run an index first",
        ),
    })?;
    Ok(state.graph.files.iter().map(|f| f.path.clone()).collect())
}

/// Name of the directory, inside the workspace root, that holds the database by default.
pub const DEFAULT_DIR: &str = ".ploke";

/// Where the database of a workspace lives unless `--db` says otherwise.
pub fn default_db_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join(DEFAULT_DIR)
}

/// Receives progress as the pipeline runs (the binary draws a progress bar with it).
pub trait Progress: Sync {
    fn stage(&self, name: &'static str, total: u64);
    fn inc(&self, n: u64);
    /// Another process holds the write lock; the run waits for it (`holder` says who).
    fn waiting(&self, holder: &str) {
        let _ = holder;
    }
}

/// A progress sink that ignores everything.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &'static str, _: u64) {}
    fn inc(&self, _: u64) {}
}

/// How to run an index.
#[derive(Debug, Clone, Default)]
pub struct IndexOptions {
    /// Database directory; `<workspace root>/.ploke` when `None`.
    pub db_dir: Option<PathBuf>,
    /// Parse every file again, ignoring the cache, and write the whole graph; a database that
    /// cannot be read (damaged, older schema) is replaced by a new one.
    pub rebuild: bool,
    /// Parse limits.
    pub max_file_bytes: Option<usize>,
    /// How this process names itself to others that wait for the write lock
    /// (default `ploke index`).
    pub holder: Option<String>,
    /// How long to wait for another writer; `None` waits until it is done.
    pub wait: Option<Duration>,
    /// Keep the last good parse of a file that no longer parses (a file saved half-written
    /// or mid-edit) instead of indexing what can be recovered from it; its problem is
    /// reported once. For long-running processes that see every save.
    pub keep_last_good: bool,
    /// Which dependencies to attach (see the `deps` module); `None` keeps what the index
    /// was built with (none for a new index).
    pub deps: Option<ploke_workspace::DepsScope>,
    /// The dependency cache; the user's ([`default_cache_dir`]) when `None`.
    pub dep_cache: Option<PathBuf>,
}

/// What [`Indexer::refresh`] should look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// Every file of the workspace.
    All,
    /// These absolute paths changed, appeared or went (files or directories); the rest is
    /// as the last refresh saw it.
    Paths(Vec<PathBuf>),
}

/// What an index run did.
#[derive(Debug, Clone, Default)]
pub struct IndexReport {
    pub workspace_root: PathBuf,
    pub db_dir: PathBuf,
    pub crates: usize,
    pub files: usize,
    pub lines: u64,
    pub bytes: u64,
    pub nodes: usize,
    pub edges: usize,
    pub unresolved: usize,
    /// Files read and parsed this run (the rest came from the cache unchanged).
    pub parsed_files: usize,
    /// Rust files under the packages that no target's module tree reaches.
    pub orphan_files: Vec<String>,
    pub skipped: Vec<ploke_core::Skipped>,
    /// Rows written or removed in the database.
    pub delta_rows: usize,
    /// Items (nodes) written or removed: new, changed, moved or gone.
    pub items_changed: usize,
    pub stages: Vec<(&'static str, Duration)>,
    pub warnings: Vec<String>,
    /// The database's generation after the run.
    pub generation: u64,
    /// Workspace-relative paths of the files whose records changed, appeared or went.
    pub changed_files: Vec<String>,
    /// Targets whose part of the graph was built (all on a first run; after a change, those
    /// it can affect).
    pub rebuilt_targets: usize,
    /// Files whose last good version was kept because the new one does not parse (with
    /// [`IndexOptions::keep_last_good`]), reported the first time each problem is seen.
    pub new_problems: Vec<ploke_core::Skipped>,
    /// The texts stored by the run (workspace-relative path, text) ...
    pub sources_written: Vec<(String, std::sync::Arc<str>)>,
    /// ... and the paths whose stored text was removed.
    pub sources_removed: Vec<String>,
    /// The dependencies attached, when this run attached them (again).
    pub deps: Option<DepsReport>,
}

/// Why an index run could not happen at all (a broken file is not one of these).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Discover(#[from] ploke_workspace::DiscoverError),
    #[error(transparent)]
    Db(#[from] ploke_db::DbError),
    #[error("{path}: {source}; check the path and its permissions")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
