//! The errors of planning, applying and undoing edits: one line each, naming the file or item
//! and what to do about it.

use std::path::PathBuf;

/// Everything that can stop an edit, an apply or an undo. When one of these is returned,
/// no file of the workspace has been changed (see the crate docs for the one exception,
/// [`EditError::RollbackFailed`]).
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The tool-call JSON is not a valid edit or list of edits.
    #[error("invalid edit request: {message}; send an object with \"op\" (replace_item, insert_item, search_replace or create_file) and its fields, or a list of them")]
    BadRequest {
        /// serde's message, naming the field.
        message: String,
    },
    /// No file would change.
    #[error("the edits leave every file as it was; nothing to apply")]
    NoChange,
    /// The file on disk no longer has the content the index (or the plan) was made from.
    #[error(
        "{file}: changed on disk since it was indexed or planned; re-index and plan the edit again"
    )]
    Stale {
        /// Workspace-relative path.
        file: String,
    },
    /// The edited file would not parse.
    #[error("{file}:{line}: the file would no longer parse after the edit ({message}); fix the code of the edit")]
    Syntax {
        /// Workspace-relative path.
        file: String,
        /// 1-based line in the edited text.
        line: usize,
        /// syn's message.
        message: String,
    },
    /// The path (after resolving symlinks) lies outside the workspace root.
    #[error("{path}: outside the workspace {root}; edits may only touch files inside it")]
    OutsideWorkspace {
        /// The path as given.
        path: String,
        /// The workspace root.
        root: PathBuf,
    },
    /// The edit names an item or a file of a dependency attached to the index: those are
    /// read-only (cargo's cache, shared by every project that builds with them).
    #[error("`{what}` is in the dependency {dependency} (read-only): ploke never edits dependency sources; change the workspace's code instead")]
    Dependency {
        /// The item's canonical path, or the file as given.
        what: String,
        /// The dependency: its package and version (`hyper 1.3.1`), or its crate name.
        dependency: String,
    },
    /// The file is not one of the Rust source files the index holds.
    #[error("{file}: not an indexed Rust source file of the workspace; only those can be edited (create a new source file with create_file)")]
    NotIndexed {
        /// The path as given (workspace-relative where it could be read that way).
        file: String,
    },
    /// The path lies in a place edits never touch: a hidden file or directory, build output
    /// (`target`), the repository (`.git`) or ploke's own data (`.ploke`).
    #[error("{file}: `{component}` is hidden, build output or tool data; edits may only touch the workspace's source files")]
    Protected {
        /// The path as given.
        file: String,
        /// The offending path component.
        component: String,
    },
    /// The file belongs to a build script (or would be one), and the context does not allow
    /// editing those.
    #[error("{file}: belongs to a build script (cargo runs it at build time); edits may not create or change build scripts unless the user allows it")]
    BuildScript {
        /// Workspace-relative path.
        file: String,
    },
    /// A `create_file` path that cannot be created.
    #[error("{file}: cannot be created: {reason}")]
    BadNewFile {
        /// The path as given.
        file: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// The code of an item edit is not what its place takes.
    #[error("{file}: {op} `{target}`: the code must be {expected}, doc comments and attributes included, and nothing else, but {found}; send just that")]
    BadItemCode {
        /// Workspace-relative path of the file the code would go to.
        file: String,
        /// `replace_item` or `insert_item`.
        op: &'static str,
        /// The item or parent as given.
        target: String,
        /// What the code must be.
        expected: String,
        /// What it is (or syn's message, with the line of the code).
        found: String,
    },
    /// A text of an edit is larger than any source file may be.
    #[error("edit {index} (`{target}`): its `{field}` text is {bytes} bytes, over the {limit}-byte limit of a source file; send smaller edits")]
    TextTooLarge {
        /// Index of the edit in the request (0-based).
        index: usize,
        /// What the edit targets.
        target: String,
        /// The field (`code`, `search`, `replace`).
        field: &'static str,
        /// Its length in bytes.
        bytes: usize,
        /// The limit ([`ploke_parse::MAX_FILE_BYTES`]).
        limit: usize,
    },
    /// The edited file would be skipped whole by the indexer (too large, nested too deep), so
    /// every item in it would vanish from the index.
    #[error("{file}: the indexer would skip the edited file whole ({reason}), dropping its items from the index; make it smaller (split it into modules)")]
    OverLimit {
        /// Workspace-relative path.
        file: String,
        /// The parser's reason.
        reason: String,
    },
    /// A file named by an edit does not exist or is not a regular file.
    #[error("{file}: no such file in the workspace; give a path relative to the workspace root")]
    FileNotFound {
        /// The path as given.
        file: String,
    },
    /// A file is not UTF-8, so it cannot be edited as text.
    #[error("{file}: not valid UTF-8; only UTF-8 source files can be edited")]
    NotUtf8 {
        /// Workspace-relative path.
        file: String,
    },
    /// No indexed item has this path or name.
    #[error("no item `{name}` in the index; give its canonical path (`my_crate::Type::method`) or re-index if it is new")]
    ItemNotFound {
        /// The path or name as given.
        name: String,
    },
    /// Several indexed items have this path or name.
    #[error("`{name}` is ambiguous: {}; use one of these canonical paths (or search_replace for items that share one)", .candidates.join(", "))]
    Ambiguous {
        /// The path or name as given.
        name: String,
        /// Each candidate as `canonical::path (file:line)`.
        candidates: Vec<String>,
    },
    /// The item exists, but this operation cannot target its kind.
    #[error("`{name}` is a {kind}; {what}")]
    WrongKind {
        /// The path or name as given.
        name: String,
        /// The item's kind.
        kind: String,
        /// What the operation accepts.
        what: &'static str,
    },
    /// A file module's own file could not be found among the indexed files.
    #[error("the file of module `{module}` is not in the index; re-index, or give an item of that file as the target")]
    ModuleFileNotFound {
        /// The module's canonical path.
        module: String,
    },
    /// The indexed span of an item does not fit the file's text.
    #[error("{file}: the indexed position of `{item}` does not match the file; re-index and plan the edit again")]
    BadSpan {
        /// Workspace-relative path.
        file: String,
        /// The item's canonical path.
        item: String,
    },
    /// `search` is empty.
    #[error("{file}: the search text is empty; give the exact text to replace")]
    EmptySearch {
        /// The file as given.
        file: String,
    },
    /// `search` does not occur in the file.
    #[error("{file}: the search text occurs 0 times; it must occur exactly once (copy it exactly from the file)")]
    SearchNotFound {
        /// Workspace-relative path.
        file: String,
    },
    /// `search` occurs more than once.
    #[error("{file}: the search text occurs {count} times; it must occur exactly once (include more surrounding lines)")]
    SearchNotUnique {
        /// Workspace-relative path.
        file: String,
        /// How many occurrences there are: at least 2; occurrences that overlap an earlier one
        /// are not counted beyond that.
        count: usize,
    },
    /// Two edits of one request change overlapping text.
    #[error("{file}: edits {first} and {second} overlap (lines {line_a} and {line_b}); combine them into one edit")]
    Overlap {
        /// Workspace-relative path.
        file: String,
        /// Index of the earlier edit in the request (0-based).
        first: usize,
        /// Index of the later edit in the request (0-based).
        second: usize,
        /// Line where the first one starts.
        line_a: usize,
        /// Line where the second one starts.
        line_b: usize,
    },
    /// Undo refused: the file no longer holds what the edit wrote.
    #[error("{file}: changed since edit {entry} was applied; undo would lose those changes, so nothing was undone (revert them first, or fix the file by hand)")]
    ChangedSinceEdit {
        /// Workspace-relative path.
        file: String,
        /// The journal entry.
        entry: u64,
    },
    /// Undo with an empty journal.
    #[error("{dir}: the journal holds no edit to undo")]
    NothingToUndo {
        /// The journal directory.
        dir: PathBuf,
    },
    /// The journal could not be read back.
    #[error("{path}: corrupt journal ({reason}); inspect or remove the entry by hand")]
    Journal {
        /// The journal file or blob.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A write failed and restoring a file that had already been replaced failed too.
    #[error("{file}: could not be restored after a failed write ({source}); restore it from the journal blob {blob} by hand")]
    RollbackFailed {
        /// Workspace-relative path.
        file: String,
        /// Where its previous bytes are kept.
        blob: String,
        /// Why the restore failed.
        #[source]
        source: std::io::Error,
    },
    /// A file-system operation failed.
    #[error("{path}: {action} failed: {source}; check the path and its permissions")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done (`reading`, `renaming into place`, …).
        action: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The index database could not answer.
    #[error(transparent)]
    Db(#[from] ploke_db::DbError),
}

impl EditError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> EditError {
        EditError::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
