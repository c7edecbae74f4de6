//! The read-only tools, for every caller: the model during `ask` and `edit`, an MCP client,
//! an editor. One implementation ([`ploke_agent::Toolbox`]) answers them all.

use ploke_retrieve::Mode;
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
        let (snap, embedder) = self.searchable(Mode::Hybrid)?;
        let embed = |q: &str| crate::embed_query(embedder.as_deref(), q);
        let toolbox = ploke_agent::Toolbox::new(&self.db, &snap.retriever, Some(&embed));
        Ok(toolbox.run(name, args))
    }

    /// Where the index stands: generation, sizes, embedding coverage, whether it is live.
    pub fn status(&self) -> Result<IndexStatus, SessionError> {
        let snap = self.snapshot()?;
        let (embedded, embeddable) = snap.retriever.vector_coverage();
        let corpus = &snap.retriever.corpus;
        let files: std::collections::HashSet<&str> =
            corpus.nodes.iter().map(|n| n.file.as_str()).collect();
        Ok(IndexStatus {
            workspace: self.loc.root.display().to_string(),
            db: self.loc.db_dir.display().to_string(),
            generation: snap.generation,
            files: files.len(),
            items: corpus.nodes.len(),
            embedded,
            embeddable,
            live: self.live.load(std::sync::atomic::Ordering::Acquire),
        })
    }
}
