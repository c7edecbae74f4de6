//! The errors of a session: one line each, naming the file, item or setting and what to do.

use std::path::PathBuf;

/// Everything a session operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// `ploke.toml` (or the environment) holds a bad setting.
    #[error("{}: {message}", file.as_ref().map_or("settings".to_string(), |f| f.display().to_string()))]
    Config {
        /// The config file, if the setting came from one.
        file: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// The path given does not exist.
    #[error("{path}: no such file or directory")]
    NoSuchPath {
        /// The path as given.
        path: PathBuf,
    },
    /// No index was found for the path.
    #[error("{start}: no ploke index here or above; run `ploke index` first")]
    NoIndex {
        /// Where the search started.
        start: PathBuf,
    },
    /// The workspace could not be found or read.
    #[error(transparent)]
    Discover(#[from] ploke_workspace::DiscoverError),
    /// The index could not be read or written.
    #[error(transparent)]
    Db(#[from] ploke_db::DbError),
    /// An analysis could not be made (a `git diff` that failed, with git's words).
    #[error("{0}")]
    Analysis(String),
    /// An index run failed as a whole.
    #[error(transparent)]
    Index(#[from] ploke_index::IndexError),
    /// Search failed.
    #[error(transparent)]
    Retrieve(#[from] ploke_retrieve::RetrieveError),
    /// The embedding model could not be loaded or run.
    #[error("embedding model: {0} (PLOKE_EMBED=off turns embeddings off)")]
    Embed(#[from] ploke_embed::EmbedError),
    /// The chat model failed.
    #[error(transparent)]
    Llm(#[from] ploke_llm::LlmError),
    /// An edit was refused or could not be applied.
    #[error(transparent)]
    Edit(#[from] ploke_edit::EditError),
    /// A context pack could not be built.
    #[error("building the context pack: {0}")]
    Context(String),
    /// Vector search was asked for, but cannot be done.
    #[error("{0}")]
    Vectors(String),
    /// The model was asked for edits and proposed none.
    #[error("the model proposed no edits; nothing was written{}", if summary.is_empty() { String::new() } else { format!(" (it said: {})", one_line(summary)) })]
    NoEdits {
        /// What the model answered instead.
        summary: String,
    },
    /// An operation that needs a chat model with tool calls was asked of one without.
    #[error("{0}")]
    Unsupported(String),
    /// An operation was asked in a state of the edit workflow where it does not fit.
    #[error("the edit is {state}; {what}")]
    EditState {
        /// The state it is in.
        state: &'static str,
        /// What the caller should do instead.
        what: &'static str,
    },
    /// [`crate::EditFlow::decide`] was given a file that the proposal under review does not
    /// change.
    #[error("{file}: not part of the proposal under review; decide on one of its files: {}", files.join(", "))]
    NotInReview {
        /// The path as given.
        file: String,
        /// The files of the proposal (workspace-relative).
        files: Vec<String>,
    },
    /// `cargo check` could not be run.
    #[error("running cargo check in {dir}: {source}")]
    Check {
        /// The workspace root.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Another process keeps this index live already (one live index per index).
    #[error("watching {path}: {holder} keeps this index live already")]
    LiveElsewhere {
        /// The workspace root.
        path: PathBuf,
        /// Who: `ploke watch (pid 123)`.
        holder: String,
    },
    /// Watching the workspace failed.
    #[error("watching {path}: {message}")]
    Watch {
        /// The workspace root.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl SessionError {
    /// Whether this is `undo` finding no edit to take back (nothing done, not a failure).
    pub fn is_nothing_to_undo(&self) -> bool {
        matches!(
            self,
            SessionError::Edit(ploke_edit::EditError::NothingToUndo { .. })
        )
    }
}

/// The first line of `text`, at most 200 characters.
fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}
