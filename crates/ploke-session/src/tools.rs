//! The read-only tools, for every caller: the model during `ask` and `edit`, an MCP client,
//! an editor. One implementation ([`ploke_agent::Toolbox`]) answers them all.

use ploke_retrieve::{Mode, Scope};
use serde::Serialize;

use crate::{Session, SessionError};

/// Where the index stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexStatus {
    /// The workspace root.
    pub workspace: String,
    /// The index directory.
    pub db: String,
    /// The generation searches answer from (raised by every index write).
    pub generation: u64,
    /// Indexed files.
    pub files: usize,
    /// Searchable items (functions, methods, types, traits, impls, modules, macros, consts).
    pub items: usize,
    /// Items with a vector, of those that should have one (`0 / 0` without embeddings).
    pub embedded: usize,
    pub embeddable: usize,
    /// Whether this session keeps the index current as files change.
    pub live: bool,
    /// Another process that keeps the index current (`ploke watch (pid 123)`), if one does.
    pub live_elsewhere: Option<String>,
    /// When the index was last written (seconds since the Unix epoch), if known.
    pub written_at: Option<u64>,
    /// Indexed files changed or gone since then (`None` when the index does not record it).
    pub changed_files: Option<usize>,
    /// Whether a manifest or target directory changed since then.
    pub workspace_changed: bool,
    /// The embedding model whose vectors the index holds, if any.
    pub model: Option<String>,
    /// Bytes the index directory takes on disk.
    pub db_bytes: u64,
    /// The dependencies attached (read-only): `name version` of each library.
    pub dependencies: Vec<String>,
    /// The store that holds their items, shared with every index of the same dependencies.
    pub dependency_store: Option<String>,
}

impl Session {
    /// Runs one of the read-only tools of [`ploke_agent::tool_specs`] on the current
    /// snapshot, exactly as a model's call during `ask` or `edit` runs: `Ok(Ok(answer))`, or
    /// `Ok(Err(why))` for a call that cannot be answered (unknown item with suggestions, bad
    /// arguments, a file that is not indexed), worded for the caller to act on. `Err` only
    /// when the index cannot be read at all.
    pub fn tool(
        &self,
        name: &str,
        args: &serde_json::Value,
    ) -> Result<Result<String, String>, SessionError> {
        let searcher = self.searchable(Mode::Hybrid, &Scope::Workspace)?;
        let (snap, embedder) = (&searcher.snap, &searcher.embedder);
        let embed = |q: &str| crate::embed_query(embedder.as_deref(), q);
        let scoped = |scope: &Scope| {
            self.scoped(snap, scope)
                .map_err(|e| self.redact(&e.to_string()))
        };
        let toolbox =
            ploke_agent::Toolbox::new(&self.db, &snap.retriever, Some(&embed)).with_scopes(&scoped);
        Ok(toolbox.run(name, args))
    }

    /// Where the index stands: generation, sizes, embedding coverage, whether it is live.
    pub fn status(&self) -> Result<IndexStatus, SessionError> {
        let snap = self.snapshot()?;
        let stale = self.staleness()?;
        let (embedded, embeddable) = snap.retriever.vector_coverage();
        let corpus = &snap.retriever.corpus;
        let files: std::collections::HashSet<&str> =
            corpus.nodes.iter().map(|n| n.file.as_str()).collect();
        let (dependencies, dependency_store) = match self.db.dependencies()? {
            Some(store) => {
                let mut names: Vec<String> = store
                    .crates()?
                    .into_iter()
                    .map(|c| format!("{} {}", c.package, c.version))
                    .collect();
                names.sort();
                names.dedup();
                let dir = store.path().parent().map(|d| d.display().to_string());
                (names, dir)
            }
            None => (Vec::new(), None),
        };
        Ok(IndexStatus {
            workspace: self.loc.root.display().to_string(),
            db: self.loc.db_dir.display().to_string(),
            generation: snap.generation,
            files: files.len(),
            items: corpus.nodes.len(),
            embedded,
            embeddable,
            live: self.live.load(std::sync::atomic::Ordering::Acquire),
            live_elsewhere: self.live_holder(),
            written_at: written_at(&self.loc.db_dir),
            changed_files: stale.changed.as_ref().map(Vec::len),
            workspace_changed: stale.workspace_changed,
            model: self.db.get_meta(crate::EMBED_MODEL_KEY)?,
            db_bytes: dir_bytes(&self.loc.db_dir),
            dependencies,
            dependency_store,
        })
    }
}

/// When the index in `dir` was last written: the latest modification time of its database
/// files (the database and its journal).
fn written_at(dir: &std::path::Path) -> Option<u64> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(ploke_db::DB_FILE_NAME)
        })
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
}

/// The bytes of the files under `dir` (not following links).
fn dir_bytes(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}
