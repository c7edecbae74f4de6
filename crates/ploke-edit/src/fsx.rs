//! The file system side: confining paths to the workspace, and writing a set of files all or
//! nothing (temp file in the same directory, fsync, rename; restore on failure).

use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::EditError;

/// Where [`crate::Plan::apply_with`] (or an undo) should fail on purpose, to test that a
/// failure in the middle of a write leaves the workspace as it was. Not for production use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailPoint {
    /// After the temp file of the n-th file (0-based, in plan order) is written and synced,
    /// before anything is renamed: as if the process died there.
    BeforeRename(usize),
    /// Instead of renaming the n-th file, after the files before it were renamed into place.
    AtRename(usize),
    /// While recording the journal entry, after every temp file is written.
    Journal,
}

/// The canonical form of `root`.
pub(crate) fn canonical_root(root: &Path) -> Result<PathBuf, EditError> {
    fs::canonicalize(root).map_err(|e| EditError::io(root, "resolving the workspace root", e))
}

/// `given` (relative to `root`, or absolute) resolved through every symlink, if it lies inside
/// `root` (canonical). A path that does not exist is judged by its parent directory, so that
/// `../x.rs` is refused as outside rather than as missing.
pub(crate) fn resolve_in_workspace(root: &Path, given: &str) -> Result<PathBuf, EditError> {
    let outside = || EditError::OutsideWorkspace {
        path: given.to_string(),
        root: root.to_path_buf(),
    };
    let not_found = || EditError::FileNotFound {
        file: given.to_string(),
    };
    let joined = if Path::new(given).is_absolute() {
        PathBuf::from(given)
    } else {
        root.join(given)
    };
    let real = match fs::canonicalize(&joined) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Judge a missing path by its nearest existing ancestor plus the missing names.
            let mut base = joined.clone();
            let mut missing = Vec::new();
            let real_base = loop {
                // `None` when the path ends in `..` or is a root: nothing to create there.
                let Some(name) = base.file_name() else {
                    return Err(outside());
                };
                missing.push(name.to_owned());
                if !base.pop() {
                    return Err(outside());
                }
                if let Ok(real) = fs::canonicalize(&base) {
                    break real;
                }
            };
            let mut would_be = real_base;
            would_be.extend(missing.iter().rev());
            return Err(if would_be.starts_with(root) {
                not_found()
            } else {
                outside()
            });
        }
        Err(e) => return Err(EditError::io(joined, "resolving", e)),
    };
    if !real.starts_with(root) {
        return Err(outside());
    }
    if !real.is_file() {
        return Err(not_found());
    }
    Ok(real)
}

/// `path` relative to `root`, with `/` separators.
pub(crate) fn rel_string(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// `given` as a normalized workspace-relative string (no `.` components), if it can be read
/// that way without touching the file system.
pub(crate) fn lexical_rel(root: &Path, given: &str) -> Option<String> {
    let p = Path::new(given);
    let p = if p.is_absolute() {
        p.strip_prefix(root).ok()?
    } else {
        p
    };
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(s) => parts.push(s.to_str()?.to_string()),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// One file of an all-or-nothing write.
pub(crate) struct FileWrite<'a> {
    /// Workspace-relative path, for messages.
    pub rel: &'a str,
    /// Canonical absolute path.
    pub abs: &'a Path,
    /// What the file must hold right before it is replaced.
    pub expected: &'a [u8],
    /// What it will hold.
    pub new: &'a [u8],
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A temp file beside `path`, named so that it is recognisable (and hidden).
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let seq = TEMP_SEQ.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(
        ".{name}.ploke-edit-{}-{seq}.tmp",
        std::process::id()
    ))
}

/// Writes `bytes` to a new temp file beside `target` with `target`'s permissions, and syncs it.
fn write_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf, EditError> {
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(target) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(EditError::io(target, "writing a temp file beside", e))
        }
    }
}

/// Makes a rename in `dir` durable. Not every platform can open a directory: best effort.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Replaces `path` by `bytes` atomically: temp file, fsync, rename, fsync of the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let tmp = write_temp(path, bytes)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(EditError::io(path, "renaming into place", e));
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

/// Writes every file or none.
///
/// 1. Each file must still hold `expected` (else `changed(rel)`).
/// 2. Every new content goes to a synced temp file beside its target.
/// 3. `prepare` runs (the journal is written there); its failure removes the temp files.
/// 4. The temp files are renamed over their targets. If a rename fails, the files already
///    renamed get their `expected` bytes back (atomically too) and the rest stay untouched.
///
/// On error no temp file is left behind.
pub(crate) fn write_all(
    files: &[FileWrite<'_>],
    changed: &dyn Fn(&str) -> EditError,
    prepare: &mut dyn FnMut() -> Result<(), EditError>,
    fail: Option<FailPoint>,
    rollback_hint: &dyn Fn(usize) -> String,
) -> Result<(), EditError> {
    for f in files {
        let current = fs::read(f.abs).map_err(|e| EditError::io(f.abs, "reading", e))?;
        if current != f.expected {
            return Err(changed(f.rel));
        }
    }
    let mut temps: Vec<PathBuf> = Vec::with_capacity(files.len());
    let remove_temps = |temps: &[PathBuf]| {
        for t in temps {
            let _ = fs::remove_file(t);
        }
    };
    for (i, f) in files.iter().enumerate() {
        match write_temp(f.abs, f.new) {
            Ok(t) => temps.push(t),
            Err(e) => {
                remove_temps(&temps);
                return Err(e);
            }
        }
        if fail == Some(FailPoint::BeforeRename(i)) {
            remove_temps(&temps);
            return Err(simulated(
                f.abs,
                "writing (simulated failure before rename)",
            ));
        }
    }
    let prepared = if fail == Some(FailPoint::Journal) {
        Err(simulated(
            files.first().map_or(Path::new(""), |f| f.abs),
            "recording the journal (simulated failure)",
        ))
    } else {
        prepare()
    };
    if let Err(e) = prepared {
        remove_temps(&temps);
        return Err(e);
    }
    for (i, (f, tmp)) in files.iter().zip(&temps).enumerate() {
        let renamed = if fail == Some(FailPoint::AtRename(i)) {
            Err(std::io::Error::other("simulated failure at rename"))
        } else {
            fs::rename(tmp, f.abs)
        };
        if let Err(e) = renamed {
            remove_temps(&temps[i..]);
            // Put back what was already replaced, newest first.
            for (j, done) in files[..i].iter().enumerate().rev() {
                if let Err(re) = write_atomic(done.abs, done.expected) {
                    let source = match re {
                        EditError::Io { source, .. } => source,
                        other => std::io::Error::other(other.to_string()),
                    };
                    return Err(EditError::RollbackFailed {
                        file: done.rel.to_string(),
                        blob: rollback_hint(j),
                        source,
                    });
                }
            }
            return Err(EditError::io(f.abs, "renaming into place", e));
        }
    }
    let mut dirs: Vec<&Path> = files.iter().filter_map(|f| f.abs.parent()).collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        sync_dir(d);
    }
    Ok(())
}

fn simulated(path: &Path, action: &'static str) -> EditError {
    EditError::io(path, action, std::io::Error::other("simulated failure"))
}
