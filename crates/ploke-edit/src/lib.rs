//! Applying code edits safely, with a journal and undo.
//!
//! An LLM proposes [`Edit`]s in a tool call ([`parse_edits`] reads its JSON): replace an item,
//! insert items into a module, impl or trait, replace one exact occurrence of some text, or
//! create a new source file. Its reply is untrusted input: every edit is checked before
//! anything is written. This crate is the only place that writes source files. It works in two
//! steps:
//!
//! 1. [`plan`] resolves every edit against the index (`ploke_db`) and computes every new file
//!    text in memory. Nothing is written. [`Plan::diff`] shows the result as unified diffs.
//! 2. [`Plan::apply`] writes the files and records them in a journal; [`undo`] takes the most
//!    recent entry back; [`history`] lists the entries; [`recover`] settles an apply that was
//!    killed half-way (apply and undo run it first).
//!
//! After an apply, an undo or a recovery the caller re-indexes the files it reports
//! (`Applied::files`, `Undone::files`, `Recovered::files`).
//!
//! # Guarantees, in the order they are checked
//!
//! [`plan`], before anything is written, for each edit in request order:
//!
//! 1. **Bounded input.** No `code`, `search` or `replace` text is larger than a source file may
//!    be ([`ploke_parse::MAX_FILE_BYTES`], the size past which the indexer skips a file), else
//!    [`EditError::TextTooLarge`], before anything is lexed, searched or read.
//! 2. **Existence.** Every item named exists in the index and is the only one of that name
//!    (else [`EditError::ItemNotFound`], or [`EditError::Ambiguous`] listing the candidates'
//!    canonical paths) and of a kind the operation can target.
//! 3. **Confinement.** Only the Rust source files the index holds (those of workspace packages
//!    that some target's module tree reaches) are edited; anything else is refused
//!    ([`EditError::NotIndexed`]: a manifest, a vendored or orphan file, a text file). Every
//!    path, after resolving symlinks (the nearest existing ancestor for a path that does not
//!    exist), lies inside the workspace root ([`EditError::OutsideWorkspace`]), and neither the
//!    path as given nor where it leads has a hidden component (`.git`, `.ploke`, `.github`, …)
//!    or a `target` component ([`EditError::Protected`]), even if indexed. A build script's
//!    files (`build.rs` and the modules it declares) are refused
//!    ([`EditError::BuildScript`]) unless [`EditContext::allow_build_scripts`].
//! 4. **Freshness.** Every file read has the hash (`ContentHash` of its bytes, as `ploke-index`
//!    computes it) the index recorded, so the indexed spans are still true
//!    ([`EditError::Stale`]: re-index and plan again).
//! 5. **One item of the right kind.** `replace_item` code parses on its own as exactly one item
//!    of the same kind family as the one it replaces (a function stays a function, free or
//!    method; a struct stays a struct), as what stands there (a module item, an impl or trait
//!    member, a field, a variant); `insert_item` code parses on its own as one or more items
//!    that its parent can hold. Doc comments and attributes belong to the item. Else
//!    [`EditError::BadItemCode`]: the whole file parsing afterwards is not enough, since
//!    `fn a() {} } impl X {` would close the block and open another.
//! 6. **Exactly once.** A `search` text occurs exactly once in its file.
//! 7. **New files.** A `create_file` path is workspace-relative, ends in `.rs`, lies inside a
//!    package's directory, does not exist, is not hidden, under `target` or ignored by the
//!    workspace's `.gitignore`/`.ignore` files, and is created at most once per request
//!    ([`EditError::BadNewFile`]).
//!
//! then, per file:
//!
//! 8. **No overlap.** All offsets refer to the text as read, and the edits of a file are
//!    spliced in offset order, so no edit moves another's span; two edits that touch the same
//!    text are refused ([`EditError::Overlap`]). Insertions at one place keep the request order.
//! 9. **Indexable.** The new text is within the parser's limits (size, nesting), so the indexer
//!    will not skip the file and drop its items ([`EditError::OverLimit`]).
//! 10. **Still Rust.** Every edited or new file parses (`syn::parse_file`), else
//!     [`EditError::Syntax`] names the file and line. (A file that did not parse before the
//!     edit is not held to this.)
//!
//! Planning is linear in the size of the files and texts involved (re-indenting, finding the
//! one occurrence, splicing, parsing); [`Plan::diff`] bounds its search for a minimal diff.
//!
//! [`Plan::apply`]:
//!
//! 11. **Nothing changed meanwhile.** Right before writing, every file still holds exactly the
//!     bytes the plan was made from, and a new file still does not exist ([`EditError::Stale`]).
//! 12. **Intent first.** The journal entry (after the blobs of every before and after) is
//!     written, marked pending and naming every file's temp file, and synced before anything
//!     in the workspace is touched.
//! 13. **Atomic files.** Each new text goes to a temp file in the same directory, is fsynced and
//!     renamed over the original (permissions kept); a file is never seen half-written. A new
//!     file is linked into place, so it never replaces a file that appeared meanwhile.
//! 14. **All or nothing.** After the last rename the entry is marked committed. If a step
//!     fails, the files already renamed get their old bytes back (new files are removed), temp
//!     files are removed and the entry is dropped. Only if that restore fails too is
//!     [`EditError::RollbackFailed`] returned, naming the file and the journal blob that holds
//!     its old bytes (the entry is then kept, committed, so that [`undo`] can finish the job).
//! 15. **Killed at any point, recoverable.** If the process dies during an apply, [`recover`]
//!     (which apply and undo run first) finds the pending entry: when every file holds its old
//!     or its new bytes it writes the rest and commits the entry; when some file holds neither
//!     (changed since), it puts the new ones back to their old bytes and drops the entry. It
//!     removes the apply's temp files either way. The workspace then holds all the old bytes
//!     (and no entry) or all the new ones (and a committed entry).
//!
//! [`undo`]:
//!
//! 16. **Undo never loses work.** It restores the newest entry's files byte for byte (atomically,
//!     all or nothing; a file the edit created is removed), and refuses, changing nothing, when a
//!     file holds neither what the edit wrote nor what it replaced
//!     ([`EditError::ChangedSinceEdit`]). A file that already holds its old bytes is left
//!     alone, so an interrupted undo can simply be run again.
//!
//! One writer at a time: nothing here locks the workspace against a concurrent apply.
//!
//! [`FailPoint`] makes an apply or undo fail at a chosen step, and
//! [`ApplyOptions::step_hook`] runs code (in tests: kills the process) after each
//! [`ApplyStep`], for tests of these guarantees.

mod edit;
mod error;
mod fsx;
mod items;
mod journal;
mod plan;
mod text;

pub use edit::{parse_edits, Edit};
pub use error::EditError;
pub use fsx::{ApplyStep, FailPoint};
pub use journal::{
    history, recover, undo, undo_with, EntryState, JournalEntry, JournalFile, Recovered, Recovery,
    Undone,
};
pub use plan::{plan, Applied, ApplyOptions, EditContext, FileChange, Plan};
