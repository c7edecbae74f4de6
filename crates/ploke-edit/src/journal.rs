//! The journal of applied edits, and undo.
//!
//! Layout of the journal directory (the caller passes `<workspace>/.ploke/journal`):
//!
//! ```text
//! entries/0000000001.json   one applied plan: id, time, request, per file path + hashes
//! undone/0000000001.json    an entry after it was undone (kept; its id is never reused)
//! blobs/<hash>              file contents before and after, named by their ContentHash
//! ```
//!
//! An entry is written (after its blobs) before any file is renamed into place and removed
//! again if the write fails, so every change on disk has an entry. Every journal file is
//! written atomically.

use std::fs;
use std::path::{Path, PathBuf};

use ploke_core::ContentHash;
use serde::{Deserialize, Serialize};

use crate::fsx::{self, FailPoint, FileWrite};
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
    /// The files it changed.
    pub files: Vec<JournalFile>,
}

/// One file of a [`JournalEntry`]; its contents are stored as blobs named by these hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalFile {
    /// Workspace-relative path (symlinks resolved).
    pub path: String,
    /// Hash of the bytes before the edit.
    #[serde(with = "hex_hash")]
    pub before: ContentHash,
    /// Hash of the bytes the edit wrote.
    #[serde(with = "hex_hash")]
    pub after: ContentHash,
}

/// What [`undo`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    /// The entry that was undone.
    pub entry: u64,
    /// Workspace-relative paths of the files restored (re-index these). A file that already
    /// held its "before" bytes is not rewritten and not listed.
    pub files: Vec<String>,
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
    fs::create_dir_all(dir).map_err(|e| EditError::io(dir, "creating the journal directory", e))
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

/// Records a plan about to be applied: blobs of every before and after, then the entry.
/// `files` holds (workspace-relative path, before, after). Returns the new entry's id.
pub(crate) fn record(
    dir: &Path,
    request: Option<&str>,
    files: &[(String, &[u8], &[u8])],
) -> Result<u64, EditError> {
    create_dir(dir)?;
    let mut out = Vec::with_capacity(files.len());
    for (path, before, after) in files {
        out.push(JournalFile {
            path: path.clone(),
            before: store_blob(dir, before)?,
            after: store_blob(dir, after)?,
        });
    }
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
        files: out,
    };
    let json = serde_json::to_vec_pretty(&entry).map_err(|e| EditError::Journal {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    write_new(&dir.join(ENTRIES).join(entry_name(entry.id)), &json)?;
    Ok(entry.id)
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
}

/// The applied entries of the journal in `journal_dir`, oldest first (undone ones are not
/// listed). An absent journal has no entries.
pub fn history(journal_dir: &Path) -> Result<Vec<JournalEntry>, EditError> {
    ids_in(journal_dir, ENTRIES)?
        .into_iter()
        .map(|id| read_entry(journal_dir, id))
        .collect()
}

/// Undoes the most recent entry of the journal: restores each of its files, byte for byte, to
/// what it held before the edit (all or nothing, atomically), then moves the entry to `undone/`.
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
        let abs = match fsx::resolve_in_workspace(&root, &f.path) {
            Ok(abs) => abs,
            Err(EditError::FileNotFound { .. }) => return Err(changed(&f.path)),
            Err(e) => return Err(e),
        };
        let current = fs::read(&abs).map_err(|e| EditError::io(&abs, "reading", e))?;
        let hash = ContentHash::of(&current);
        if hash == f.before {
            continue;
        }
        if hash != f.after {
            return Err(changed(&f.path));
        }
        let before = read_blob(journal_dir, f.before)?;
        restore.push(Restore {
            rel: f.path.clone(),
            abs,
            current,
            before,
            after: f.after,
        });
    }
    let writes: Vec<FileWrite<'_>> = restore
        .iter()
        .map(|r| FileWrite {
            rel: &r.rel,
            abs: &r.abs,
            expected: &r.current,
            new: &r.before,
        })
        .collect();
    let hint = |i: usize| {
        blob_path(journal_dir, restore[i].after)
            .display()
            .to_string()
    };
    fsx::write_all(&writes, &changed, &mut || Ok(()), fail, &hint)?;
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
    /// What it held before the edit.
    before: Vec<u8>,
    after: ContentHash,
}
