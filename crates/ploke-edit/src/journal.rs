//! The journal of applied edits, undo, and recovery of an apply that was killed.
//!
//! Layout of the journal directory (the caller passes `<workspace>/.ploke/journal`):
//!
//! ```text
//! entries/0000000001.json   one plan: id, time, request, state, per file path + hashes
//! undone/0000000001.json    an entry after it was undone (kept; its id is never reused)
//! blobs/<hash>              file contents before and after, named by their ContentHash
//! ```
//!
//! An apply stores the blobs, then writes its entry marked `pending` with the temp file name of
//! each file (the intent record, fsynced), and only then writes temp files and renames them into
//! place; after the last rename it rewrites the entry as `committed`. So every change on disk
//! has an entry, and a pending entry says exactly what a killed apply may have left:
//! [`recover`] finishes it (every file holds its old or its new bytes) or reverts it (someone
//! changed a file since), and removes its temp files. Every journal file is written atomically.

use std::fs;
use std::path::{Path, PathBuf};

use ploke_core::ContentHash;
use serde::{Deserialize, Serialize};

use crate::fsx::{self, FailPoint, FileWrite, Hooks};
use crate::EditError;

/// One applied plan, as recorded in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Increasing from 1, never reused.
    pub id: u64,
    /// When it was applied, in seconds since the Unix epoch.
    pub timestamp: u64,
    /// The request that produced the edit (the user's or the model's words), if given.
    pub request: Option<String>,
    /// Whether the apply finished. Entries written before this field existed are committed.
    #[serde(default)]
    pub state: EntryState,
    /// The files it changed.
    pub files: Vec<JournalFile>,
}

/// Whether the apply of a [`JournalEntry`] finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Written before the first file was touched; the apply has not finished (or was killed).
    /// [`recover`] settles it.
    Pending,
    /// Every file was written.
    #[default]
    Committed,
}

/// One file of a [`JournalEntry`]; its contents are stored as blobs named by these hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalFile {
    /// Workspace-relative path (symlinks resolved).
    pub path: String,
    /// Hash of the bytes before the edit; `None` for a file the edit created.
    #[serde(with = "hex_hash_opt")]
    pub before: Option<ContentHash>,
    /// Hash of the bytes the edit wrote.
    #[serde(with = "hex_hash")]
    pub after: ContentHash,
    /// While the entry is pending: the workspace-relative temp file the new bytes are written to
    /// before the rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp: Option<String>,
    /// Directories the edit created for a new file (workspace-relative, outermost first); undo
    /// removes them when they are empty again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_dirs: Vec<String>,
}

/// What [`undo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    /// The entry that was undone.
    pub entry: u64,
    /// Workspace-relative paths of the files restored or (created by the edit) removed:
    /// re-index these. A file that already held its "before" bytes is not rewritten and not
    /// listed.
    pub files: Vec<String>,
}

/// What [`recover`] did with the pending entry of an apply that was killed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    /// The journal entry.
    pub entry: u64,
    /// Finished or reverted.
    pub outcome: Recovery,
    /// Workspace-relative paths of the entry's files whose content the apply or the recovery
    /// changed: re-index these.
    pub files: Vec<String>,
}

/// How [`recover`] settled a pending entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Every file held its old or its new bytes: the rest were written, the entry is committed
    /// (and can be undone).
    RolledForward,
    /// `changed` holds neither (someone changed it since): the files already written got their
    /// old bytes back and the entry was dropped.
    RolledBack {
        /// Workspace-relative path of the first file that holds neither.
        changed: String,
    },
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.files.len();
        match &self.outcome {
            Recovery::RolledForward => write!(
                f,
                "edit #{} was interrupted; finished writing it ({n} files; undo reverts it as usual)",
                self.entry
            ),
            Recovery::RolledBack { changed } => write!(
                f,
                "edit #{} was interrupted and {changed} changed since; reverted it ({n} files restored)",
                self.entry
            ),
        }
    }
}

mod hex_hash {
    use ploke_core::ContentHash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &ContentHash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&h.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ContentHash, D::Error> {
        let s = String::deserialize(d)?;
        ContentHash::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a hex hash")))
    }
}

/// `null` for a file that did not exist.
mod hex_hash_opt {
    use ploke_core::ContentHash;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &Option<ContentHash>, s: S) -> Result<S::Ok, S::Error> {
        match h {
            Some(h) => s.serialize_str(&h.to_hex()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ContentHash>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => ContentHash::from_hex(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a hex hash"))),
        }
    }
}

const ENTRIES: &str = "entries";
const UNDONE: &str = "undone";
const BLOBS: &str = "blobs";

fn entry_name(id: u64) -> String {
    format!("{id:010}.json")
}

pub(crate) fn blob_path(dir: &Path, hash: ContentHash) -> PathBuf {
    dir.join(BLOBS).join(hash.to_hex())
}

fn create_dir(dir: &Path) -> Result<(), EditError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| EditError::io(dir, "creating the journal directory", e))?;
    // The new directory's name must survive a crash too, or the entry in it is lost.
    if let Some(parent) = dir.parent() {
        fsx::sync_dir(parent);
    }
    Ok(())
}

/// Writes a new file atomically (temp file, fsync, rename).
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    fsx::write_atomic(path, bytes)
}

/// Stores `bytes` as a blob (once), returning its hash.
fn store_blob(dir: &Path, bytes: &[u8]) -> Result<ContentHash, EditError> {
    let hash = ContentHash::of(bytes);
    let path = blob_path(dir, hash);
    let present = fs::read(&path).is_ok_and(|b| ContentHash::of(&b) == hash);
    if !present {
        write_new(&path, bytes)?;
    }
    Ok(hash)
}

/// The bytes of a blob, checked against their name.
fn read_blob(dir: &Path, hash: ContentHash) -> Result<Vec<u8>, EditError> {
    let path = blob_path(dir, hash);
    let bytes = fs::read(&path).map_err(|e| EditError::Journal {
        path: path.clone(),
        reason: format!("blob unreadable: {e}"),
    })?;
    if ContentHash::of(&bytes) != hash {
        return Err(EditError::Journal {
            path,
            reason: "blob content does not match its hash".into(),
        });
    }
    Ok(bytes)
}

/// Ids of the entry files in `dir/<sub>`, ascending.
fn ids_in(dir: &Path, sub: &str) -> Result<Vec<u64>, EditError> {
    let path = dir.join(sub);
    let read = match fs::read_dir(&path) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(EditError::io(path, "listing the journal", e)),
    };
    let mut ids = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| EditError::io(&path, "listing the journal", e))?;
        let name = entry.file_name();
        // Temp files and anything else that is not `<id>.json` are not entries.
        if let Some(id) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".json"))
            .and_then(|n| n.parse::<u64>().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

fn read_entry(dir: &Path, id: u64) -> Result<JournalEntry, EditError> {
    let path = dir.join(ENTRIES).join(entry_name(id));
    let text = fs::read_to_string(&path)
        .map_err(|e| EditError::io(&path, "reading the journal entry", e))?;
    serde_json::from_str(&text).map_err(|e| EditError::Journal {
        path,
        reason: e.to_string(),
    })
}

/// One file of a plan about to be applied, for [`record_pending`].
pub(crate) struct Intent<'a> {
    /// Workspace-relative path (symlinks resolved).
    pub path: String,
    /// `None` for a file the plan creates.
    pub before: Option<&'a [u8]>,
    pub after: &'a [u8],
    /// Workspace-relative temp file.
    pub temp: Option<String>,
    /// Directories created for a new file, workspace-relative, outermost first.
    pub created_dirs: Vec<String>,
}

/// Records a plan about to be applied: blobs of every before and after, then (after calling
/// `blobs_stored`) the entry marked pending with the temp file names (synced). Returns the
/// entry.
pub(crate) fn record_pending(
    dir: &Path,
    request: Option<&str>,
    files: &[Intent<'_>],
    blobs_stored: &dyn Fn(),
) -> Result<JournalEntry, EditError> {
    create_dir(dir)?;
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        out.push(JournalFile {
            path: f.path.clone(),
            before: f.before.map(|b| store_blob(dir, b)).transpose()?,
            after: store_blob(dir, f.after)?,
            temp: f.temp.clone(),
            created_dirs: f.created_dirs.clone(),
        });
    }
    blobs_stored();
    let last = ids_in(dir, ENTRIES)?
        .into_iter()
        .chain(ids_in(dir, UNDONE)?)
        .max()
        .unwrap_or(0);
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let entry = JournalEntry {
        id: last + 1,
        timestamp,
        request: request.map(str::to_string),
        state: EntryState::Pending,
        files: out,
    };
    write_entry(dir, &entry)?;
    Ok(entry)
}

/// Writes (or atomically rewrites) an entry.
fn write_entry(dir: &Path, entry: &JournalEntry) -> Result<(), EditError> {
    let json = serde_json::to_vec_pretty(entry).map_err(|e| EditError::Journal {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_new(&dir.join(ENTRIES).join(entry_name(entry.id)), &json)
}

/// Marks an entry committed: every file is written. Its temp file names are dropped.
pub(crate) fn commit(dir: &Path, entry: &JournalEntry) -> Result<(), EditError> {
    let mut entry = entry.clone();
    entry.state = EntryState::Committed;
    for f in &mut entry.files {
        f.temp = None;
    }
    write_entry(dir, &entry)
}

/// Removes an entry whose plan was not applied after all.
pub(crate) fn forget(dir: &Path, id: u64) {
    let path = dir.join(ENTRIES).join(entry_name(id));
    if let Err(e) = fs::remove_file(&path) {
        tracing::warn!(
            "{}: could not remove the journal entry of a failed apply: {e}",
            path.display()
        );
    }
    fsx::sync_dir(&dir.join(ENTRIES));
}

/// The applied entries of the journal in `journal_dir`, oldest first (undone ones and the
/// pending entry of an interrupted apply, which [`recover`] settles, are not listed). An absent
/// journal has no entries.
pub fn history(journal_dir: &Path) -> Result<Vec<JournalEntry>, EditError> {
    let mut out = Vec::new();
    for id in ids_in(journal_dir, ENTRIES)? {
        let entry = read_entry(journal_dir, id)?;
        if entry.state == EntryState::Committed {
            out.push(entry);
        }
    }
    Ok(out)
}

/// Settles an apply that was killed before it finished; run it before any other journal
/// operation ([`undo`] and [`crate::Plan::apply_with`] run it themselves). Returns what it did,
/// or `None` when no apply was interrupted.
///
/// The newest entry, if pending, names every file of the apply with its old and new bytes.
/// If every file holds one or the other, the rest are written (atomically, all or nothing) and
/// the entry is committed: the apply is finished. If some file holds neither (it was changed
/// since), the files that hold their new bytes get their old bytes back and the entry is
/// dropped. Either way the temp files of the apply (and any other ploke-edit temp file beside
/// its files or in the journal) are removed. Running it again after it was itself interrupted
/// is safe.
pub fn recover(journal_dir: &Path, workspace_root: &Path) -> Result<Option<Recovered>, EditError> {
    // Temp files of an interrupted journal write: never a committed entry or a whole blob.
    for sub in [ENTRIES, UNDONE, BLOBS] {
        fsx::remove_stale_temps(&journal_dir.join(sub));
    }
    // Every apply and undo recovers first, so only the newest entry can be pending.
    let Some(&id) = ids_in(journal_dir, ENTRIES)?.last() else {
        return Ok(None);
    };
    let entry = read_entry(journal_dir, id)?;
    if entry.state != EntryState::Pending {
        return Ok(None);
    }
    let root = fsx::canonical_root(workspace_root)?;
    // Only names this crate makes, inside the workspace, are removed: the journal is data.
    let inside = |rel: &str| fsx::join_inside(&root, rel);
    let mut dirs: Vec<PathBuf> = Vec::new();
    for f in &entry.files {
        if let Some(tmp) = f.temp.as_deref().and_then(inside) {
            if tmp
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(fsx::is_temp_name)
            {
                let _ = fs::remove_file(&tmp);
            }
        }
        if let Some(dir) = inside(&f.path).as_deref().and_then(Path::parent) {
            dirs.push(dir.to_path_buf());
        }
    }
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        fsx::remove_stale_temps(d);
    }
    let mut states = Vec::with_capacity(entry.files.len());
    for f in &entry.files {
        states.push(file_state(&root, f)?);
    }
    let changed = entry
        .files
        .iter()
        .zip(&states)
        .find(|(_, s)| matches!(s, FileState::Neither))
        .map(|(f, _)| f.path.clone());
    // Rolling forward writes the files still at their old bytes; rolling back, those already at
    // their new bytes.
    let mut work: Vec<Rewrite> = Vec::new();
    for (f, state) in entry.files.iter().zip(states) {
        let (abs, current) = match (state, &changed) {
            (FileState::Before { abs, current }, None)
            | (FileState::After { abs, current }, Some(_)) => (abs, current),
            _ => continue,
        };
        let target = match (&changed, f.before) {
            (None, _) => Some(read_blob(journal_dir, f.after)?),
            (Some(_), Some(before)) => Some(read_blob(journal_dir, before)?),
            (Some(_), None) => None,
        };
        // Where the bytes this write replaces are kept, should putting them back fail.
        let kept = match &changed {
            None => f
                .before
                .map(|h| blob_path(journal_dir, h).display().to_string()),
            Some(_) => Some(blob_path(journal_dir, f.after).display().to_string()),
        };
        work.push(Rewrite {
            rel: f.path.clone(),
            abs,
            current,
            target,
            new_dirs: f.created_dirs.iter().filter_map(|d| inside(d)).collect(),
            kept: kept.unwrap_or_else(|| "(none: the file did not exist; delete it)".into()),
        });
    }
    let writes: Vec<FileWrite<'_>> = work
        .iter()
        .map(|w| FileWrite {
            rel: &w.rel,
            abs: &w.abs,
            expected: w.current.as_deref(),
            new: w.target.as_deref(),
            new_dirs: if w.current.is_none() {
                &w.new_dirs
            } else {
                &[]
            },
        })
        .collect();
    let moved = |file: &str| EditError::ChangedSinceEdit {
        file: file.to_string(),
        entry: id,
    };
    let hint = |i: usize| work[i].kept.clone();
    let mut no_intent = |_: &[Option<PathBuf>]| Ok(());
    let hooks = Hooks {
        prepare: &mut no_intent,
        fail: None,
        step: None,
    };
    fsx::write_all(&writes, &moved, hooks, &hint)?;
    match changed {
        None => {
            commit(journal_dir, &entry)?;
            Ok(Some(Recovered {
                entry: id,
                outcome: Recovery::RolledForward,
                files: entry.files.iter().map(|f| f.path.clone()).collect(),
            }))
        }
        Some(changed) => {
            for w in work.iter().filter(|w| w.target.is_none()) {
                fsx::remove_new_dirs(&w.new_dirs);
            }
            forget(journal_dir, id);
            Ok(Some(Recovered {
                entry: id,
                outcome: Recovery::RolledBack { changed },
                files: work.into_iter().map(|w| w.rel).collect(),
            }))
        }
    }
}

/// Where a file of a pending entry stands.
enum FileState {
    /// It holds its old bytes (`current`; `None`: a file the edit creates does not exist yet).
    Before {
        abs: PathBuf,
        current: Option<Vec<u8>>,
    },
    /// It holds the bytes the edit writes.
    After {
        abs: PathBuf,
        current: Option<Vec<u8>>,
    },
    /// Neither: changed by someone else since.
    Neither,
}

fn file_state(root: &Path, f: &JournalFile) -> Result<FileState, EditError> {
    let (abs, current) = match fsx::resolve_in_workspace(root, &f.path) {
        Ok(abs) => {
            let bytes = fs::read(&abs).map_err(|e| EditError::io(&abs, "reading", e))?;
            (abs, Some(bytes))
        }
        Err(EditError::FileNotFound { .. }) => match fsx::resolve_new_in_workspace(root, &f.path) {
            Ok((abs, _)) => (abs, None),
            Err(_) => return Ok(FileState::Neither),
        },
        Err(e) => return Err(e),
    };
    let hash = current.as_deref().map(ContentHash::of);
    Ok(if hash == f.before {
        FileState::Before { abs, current }
    } else if hash == Some(f.after) {
        FileState::After { abs, current }
    } else {
        FileState::Neither
    })
}

/// One file recovery writes.
struct Rewrite {
    rel: String,
    abs: PathBuf,
    current: Option<Vec<u8>>,
    /// `None`: remove the file (a created file being rolled back).
    target: Option<Vec<u8>>,
    new_dirs: Vec<PathBuf>,
    /// The blob that holds `current`, for [`EditError::RollbackFailed`].
    kept: String,
}

/// Undoes the most recent entry of the journal: restores each of its files, byte for byte, to
/// what it held before the edit (all or nothing, atomically; a file the edit created is
/// removed), then moves the entry to `undone/`.
///
/// Runs [`recover`] first. When that reverts an interrupted apply, that apply is the edit
/// undone (its entry was dropped) and nothing else is touched.
///
/// Refuses, changing nothing, when a file holds neither what the edit wrote nor what it
/// replaced (it was changed since). A file that already holds its old bytes is left alone, so
/// an undo interrupted half-way can simply be run again. Calling it again undoes the entry
/// before.
pub fn undo(journal_dir: &Path, workspace_root: &Path) -> Result<Undone, EditError> {
    undo_with(journal_dir, workspace_root, None)
}

/// [`undo`], failing on purpose at `fail` (for tests).
pub fn undo_with(
    journal_dir: &Path,
    workspace_root: &Path,
    fail: Option<FailPoint>,
) -> Result<Undone, EditError> {
    match recover(journal_dir, workspace_root)? {
        // The interrupted edit is the newest, and recovery already took it back.
        Some(Recovered {
            entry,
            outcome: Recovery::RolledBack { .. },
            files,
        }) => return Ok(Undone { entry, files }),
        Some(r) => tracing::warn!("{r}"),
        None => {}
    }
    let root = fsx::canonical_root(workspace_root)?;
    let id = *ids_in(journal_dir, ENTRIES)?
        .last()
        .ok_or_else(|| EditError::NothingToUndo {
            dir: journal_dir.to_path_buf(),
        })?;
    let entry = read_entry(journal_dir, id)?;
    let changed = |file: &str| EditError::ChangedSinceEdit {
        file: file.to_string(),
        entry: id,
    };
    let mut restore: Vec<Restore> = Vec::new();
    for f in &entry.files {
        let (abs, current) = match fsx::resolve_in_workspace(&root, &f.path) {
            Ok(abs) => {
                let current = fs::read(&abs).map_err(|e| EditError::io(&abs, "reading", e))?;
                (abs, current)
            }
            // A file the edit created and someone removed since: as it was before.
            Err(EditError::FileNotFound { .. }) if f.before.is_none() => continue,
            Err(EditError::FileNotFound { .. }) => return Err(changed(&f.path)),
            Err(e) => return Err(e),
        };
        let hash = ContentHash::of(&current);
        if Some(hash) == f.before {
            continue;
        }
        if hash != f.after {
            return Err(changed(&f.path));
        }
        let before = f.before.map(|h| read_blob(journal_dir, h)).transpose()?;
        restore.push(Restore {
            rel: f.path.clone(),
            abs,
            current,
            before,
            after: f.after,
            created_dirs: f
                .created_dirs
                .iter()
                .filter_map(|d| fsx::join_inside(&root, d))
                .collect(),
        });
    }
    let writes: Vec<FileWrite<'_>> = restore
        .iter()
        .map(|r| FileWrite {
            rel: &r.rel,
            abs: &r.abs,
            expected: Some(&r.current),
            new: r.before.as_deref(),
            new_dirs: &[],
        })
        .collect();
    let hint = |i: usize| {
        blob_path(journal_dir, restore[i].after)
            .display()
            .to_string()
    };
    let mut no_intent = |_: &[Option<PathBuf>]| Ok(());
    let hooks = Hooks {
        prepare: &mut no_intent,
        fail,
        step: None,
    };
    fsx::write_all(&writes, &changed, hooks, &hint)?;
    for r in restore.iter().filter(|r| r.before.is_none()) {
        fsx::remove_new_dirs(&r.created_dirs);
    }
    let from = journal_dir.join(ENTRIES).join(entry_name(id));
    let undone_dir = journal_dir.join(UNDONE);
    create_dir(&undone_dir)?;
    fs::rename(&from, undone_dir.join(entry_name(id)))
        .map_err(|e| EditError::io(&from, "moving the undone journal entry", e))?;
    Ok(Undone {
        entry: id,
        files: restore.into_iter().map(|r| r.rel).collect(),
    })
}

/// One file an undo puts back.
struct Restore {
    rel: String,
    abs: PathBuf,
    /// What it holds now: what the edit wrote.
    current: Vec<u8>,
    /// What it held before the edit; `None`: the edit created it, undo removes it.
    before: Option<Vec<u8>>,
    after: ContentHash,
    /// Directories the edit created for it, removed when empty.
    created_dirs: Vec<PathBuf>,
}
