//! Applying code edits safely, with a journal and undo.
//!
//! An LLM proposes [`Edit`]s in a tool call ([`parse_edits`] reads its JSON): replace an item,
//! insert an item into a module, impl or trait, or replace one exact occurrence of some text.
//! This crate is the only place that writes source files. It works in two steps:
//!
//! 1. [`plan`] resolves every edit against the index (`ploke_db`) and computes every new file
//!    text in memory. Nothing is written. [`Plan::diff`] shows the result as unified diffs.
//! 2. [`Plan::apply`] writes the files and records them in a journal; [`undo`] takes the most
//!    recent entry back; [`history`] lists the entries.
//!
//! After an apply or an undo the caller re-indexes the files it reports (`Applied::files`,
//! `Undone::files`).
//!
//! # Guarantees, in the order they are checked
//!
//! [`plan`], before anything is written, for each edit in request order:
//!
//! 1. **Existence.** Every item named exists in the index and is the only one of that name
//!    (else [`EditError::ItemNotFound`], or [`EditError::Ambiguous`] listing the candidates'
//!    canonical paths) and of a kind the operation can target.
//! 2. **Confinement.** Every file path, after resolving symlinks (the parent directory for a
//!    path that does not exist), lies inside the workspace root: `../x.rs`, absolute paths
//!    elsewhere and symlinks that lead out are refused ([`EditError::OutsideWorkspace`]).
//! 3. **Freshness.** Every file read has the hash (`ContentHash` of its bytes, as `ploke-index`
//!    computes it) the index recorded, so the indexed spans are still true
//!    ([`EditError::Stale`]: re-index and plan again). A file the index does not hold (a
//!    `search_replace` on a manifest, say) has no recorded hash; its exact-once search is its
//!    only check.
//! 4. **Exactly once.** A `search` text occurs exactly once in its file.
//!
//! then, per file:
//!
//! 5. **No overlap.** All offsets refer to the text as read, and the edits of a file are
//!    spliced in offset order, so no edit moves another's span; two edits that touch the same
//!    text are refused ([`EditError::Overlap`]). Insertions at one place keep the request order.
//! 6. **Still Rust.** Every edited `.rs` file parses (`syn::parse_file`), else
//!    [`EditError::Syntax`] names the file and line. (A file that did not parse before the edit
//!    is not held to this.)
//!
//! [`Plan::apply`]:
//!
//! 7. **Nothing changed meanwhile.** Right before writing, every file still holds exactly the
//!    bytes the plan was made from ([`EditError::Stale`]).
//! 8. **Atomic files.** Each new text goes to a temp file in the same directory, is fsynced and
//!    renamed over the original (permissions kept); a file is never seen half-written.
//! 9. **All or nothing.** The journal entry (blobs of every before and after, then the entry) is
//!    written after every temp file and before the first rename. If a rename fails, the files
//!    already renamed get their old bytes back, temp files are removed and the entry is
//!    dropped. Only if that restore fails too is [`EditError::RollbackFailed`] returned, naming
//!    the file and the journal blob that holds its old bytes (the entry is then kept).
//!
//! [`undo`]:
//!
//! 10. **Undo never loses work.** It restores the newest entry's files byte for byte (atomically,
//!     all or nothing), and refuses, changing nothing, when a file holds neither what the edit
//!     wrote nor what it replaced ([`EditError::ChangedSinceEdit`]). A file that already holds
//!     its old bytes is left alone, so an interrupted undo can simply be run again.
//!
//! One writer at a time: nothing here locks the workspace against a concurrent apply.
//!
//! [`FailPoint`] makes an apply or undo fail at a chosen step, for tests of these guarantees.

mod edit;
mod error;
mod fsx;
mod journal;
mod plan;
mod text;

pub use edit::{parse_edits, Edit};
pub use error::EditError;
pub use fsx::FailPoint;
pub use journal::{history, undo, undo_with, JournalEntry, JournalFile, Undone};
pub use plan::{plan, Applied, ApplyOptions, EditContext, FileChange, Plan};
