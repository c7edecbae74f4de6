//! The file system side: confining paths to the workspace, and writing a set of files all or
//! nothing (temp file in the same directory, fsync, rename; restore on failure).
//!
//! No libc: creating a file without replacing one that appeared meanwhile is a hard link of the
//! synced temp file (which fails if the name exists), not `renameat2(RENAME_NOREPLACE)`.

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
    /// While recording the journal entry (the intent record, written before any temp file).
    Journal,
}

/// The steps of an apply, in order, as [`crate::ApplyOptions::step_hook`] sees them: a test
/// that kills the process at each one checks that [`crate::recover`] always finds the
/// workspace whole. Not for production use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyStep {
    /// The blobs of every file's old and new bytes are stored; there is no entry yet and the
    /// workspace is untouched.
    BlobsStored,
    /// The journal entry, marked pending, is on disk (fsynced); the workspace is untouched.
    IntentRecorded,
    /// The temp file of the n-th file (0-based, in plan order) is written and synced.
    TempWritten(usize),
    /// The n-th file is renamed into place.
    Renamed(usize),
    /// Every file is in place; the entry is still marked pending.
    BeforeCommit,
    /// The entry is marked committed; the apply is about to return.
    Committed,
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

/// The first component of the workspace-relative `rel` (`/`-separated) that edits never touch:
/// hidden (`.git`, `.ploke`, `.github`, `.env.rs`) or `target` (build output).
pub(crate) fn protected_component(rel: &str) -> Option<&str> {
    rel.split('/')
        .find(|c| (c.starts_with('.') && *c != "." && *c != "..") || *c == "target")
}

/// Where a file that does not exist yet would be, symlinks of its existing ancestors resolved:
/// `Ok((path, missing_dirs))` with the directories an apply has to create (outermost first),
/// if it lies inside `root` (canonical); [`NewPathError::Exists`] when something has that name.
pub(crate) fn resolve_new_in_workspace(
    root: &Path,
    given: &str,
) -> Result<(PathBuf, Vec<PathBuf>), NewPathError> {
    let joined = if Path::new(given).is_absolute() {
        PathBuf::from(given)
    } else {
        root.join(given)
    };
    if fs::symlink_metadata(&joined).is_ok() {
        return Err(NewPathError::Exists);
    }
    let mut base = joined;
    let mut missing = Vec::new();
    let real_base = loop {
        let Some(name) = base.file_name() else {
            return Err(NewPathError::Outside);
        };
        missing.push(name.to_owned());
        if !base.pop() {
            return Err(NewPathError::Outside);
        }
        if let Ok(real) = fs::canonicalize(&base) {
            break real;
        }
        if fs::symlink_metadata(&base).is_ok() {
            // A dangling link (or unreadable entry) on the way: nothing to create through.
            return Err(NewPathError::Outside);
        }
    };
    if !real_base.starts_with(root) || !real_base.is_dir() {
        return Err(NewPathError::Outside);
    }
    let mut path = real_base;
    let mut dirs = Vec::new();
    while let Some(name) = missing.pop() {
        path.push(name);
        if !missing.is_empty() {
            dirs.push(path.clone());
        }
    }
    Ok((path, dirs))
}

/// Why [`resolve_new_in_workspace`] refused a path.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NewPathError {
    /// It would lie outside the workspace (or under something that is not a directory).
    Outside,
    /// Something already has that name.
    Exists,
}

/// Whether the workspace's `.gitignore` (and `.ignore`) files, from `root` down to the file's
/// directory, ignore the workspace-relative `rel`: the indexer's walk would never see it. A
/// deeper file's verdict overrides a shallower one's, as in git.
pub(crate) fn gitignored(root: &Path, rel: &str) -> bool {
    let path = root.join(rel);
    let mut verdict = false;
    let mut dir = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (depth, part) in parts.iter().enumerate() {
        for name in [".gitignore", ".ignore"] {
            let file = dir.join(name);
            if !file.is_file() {
                continue;
            }
            let mut builder = ignore::gitignore::GitignoreBuilder::new(&dir);
            // A line that does not parse is skipped, as git does; the rest still apply.
            if let Some(e) = builder.add(&file) {
                tracing::debug!("{}: {e}", file.display());
            }
            let Ok(matcher) = builder.build() else {
                continue;
            };
            match matcher.matched_path_or_any_parents(&path, false) {
                ignore::Match::Ignore(_) => verdict = true,
                ignore::Match::Whitelist(_) => verdict = false,
                ignore::Match::None => {}
            }
        }
        if depth + 1 < parts.len() {
            dir.push(part);
        }
    }
    verdict
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

/// `root` joined with the workspace-relative `rel` when `rel` is a plain relative path (no
/// `..`, not empty): for paths read back from the journal, which is data, not trusted.
pub(crate) fn join_inside(root: &Path, rel: &str) -> Option<PathBuf> {
    if Path::new(rel).is_absolute() {
        return None;
    }
    lexical_rel(root, rel)
        .filter(|r| !r.is_empty())
        .map(|r| root.join(r))
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
    /// What the file must hold right before it is replaced; `None`: it must not exist.
    pub expected: Option<&'a [u8]>,
    /// What it will hold; `None`: it is removed.
    pub new: Option<&'a [u8]>,
    /// Directories to create for a new file (outermost first), removed again on rollback.
    pub new_dirs: &'a [PathBuf],
}

/// Records the intent (the journal entry) before anything is written; gets the temp file of
/// each file (`None` for a removal).
pub(crate) type Prepare<'a> = dyn FnMut(&[Option<PathBuf>]) -> Result<(), EditError> + 'a;

/// What [`write_all`] calls between its steps.
pub(crate) struct Hooks<'a> {
    pub prepare: &'a mut Prepare<'a>,
    pub fail: Option<FailPoint>,
    pub step: Option<fn(ApplyStep)>,
}

impl Hooks<'_> {
    fn step(&self, step: ApplyStep) {
        if let Some(f) = self.step {
            f(step);
        }
    }
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A temp file beside `path`, named so that it is recognisable (and hidden):
/// `.<name>.ploke-edit-<pid>-<seq>.tmp`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
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

/// Whether `name` is one of the temp files [`temp_path`] makes.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(".ploke-edit-") && name.ends_with(".tmp")
}

/// Removes the temp files of an interrupted write from `dir` (best effort).
pub(crate) fn remove_stale_temps(dir: &Path) {
    let Ok(read) = fs::read_dir(dir) else { return };
    for entry in read.flatten() {
        if entry.file_name().to_str().is_some_and(is_temp_name)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let path = entry.path();
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(
                    "{}: could not remove a stale temp file: {e}",
                    path.display()
                );
            }
        }
    }
}

/// Writes `bytes` to a new temp file beside `target` with `target`'s permissions, and syncs it.
fn write_temp(target: &Path, bytes: &[u8]) -> Result<PathBuf, EditError> {
    let tmp = temp_path(target);
    write_temp_at(&tmp, target, bytes)?;
    Ok(tmp)
}

/// Writes `bytes` to the new file `tmp` with `target`'s permissions (if it exists), and syncs it.
fn write_temp_at(tmp: &Path, target: &Path, bytes: &[u8]) -> Result<(), EditError> {
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(tmp)?;
        f.write_all(bytes)?;
        if let Ok(meta) = fs::metadata(target) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(tmp);
        EditError::io(target, "writing a temp file beside", e)
    })
}

/// Puts the synced temp file `tmp` at `path`, which must not exist: a hard link fails when the
/// name is taken, where a rename would silently replace a file that appeared meanwhile.
fn link_new(tmp: &Path, path: &Path) -> std::io::Result<()> {
    match fs::hard_link(tmp, path) {
        Ok(()) => {
            let _ = fs::remove_file(tmp);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        // A file system without hard links: check, then rename (a narrow race remains).
        Err(_) if fs::symlink_metadata(path).is_err() => fs::rename(tmp, path),
        Err(e) => Err(e),
    }
}

/// Removes the directories a new file needed (innermost first) if they are empty again.
pub(crate) fn remove_new_dirs(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        if fs::remove_dir(d).is_err() {
            break;
        }
    }
}

/// Removes `path` and then the directories created for it (`dirs`, outermost first) that are
/// empty again.
pub(crate) fn remove_created(path: &Path, dirs: &[PathBuf]) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    remove_new_dirs(dirs);
    Ok(())
}

/// Makes a rename in `dir` durable. Not every platform can open a directory: best effort.
pub(crate) fn sync_dir(dir: &Path) {
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
/// 1. Each file must still hold `expected` (or still not exist), else `changed(rel)`.
/// 2. `hooks.prepare` records the intent with the temp file names (the journal entry); its
///    failure leaves nothing behind.
/// 3. Every new content goes to a synced temp file beside its target (directories of new files
///    are created first).
/// 4. The temp files are renamed over their targets (linked, for new files; a removal removes).
///    If one fails, the files already replaced get their `expected` bytes back (atomically too,
///    new ones are removed) and the rest stay untouched.
///
/// On error no temp file is left behind. A process killed in the middle leaves the intent
/// record, from which `journal::recover` finishes or reverts the write.
pub(crate) fn write_all(
    files: &[FileWrite<'_>],
    changed: &dyn Fn(&str) -> EditError,
    hooks: Hooks<'_>,
    rollback_hint: &dyn Fn(usize) -> String,
) -> Result<(), EditError> {
    for f in files {
        let current = match fs::read(f.abs) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(EditError::io(f.abs, "reading", e)),
        };
        if current.as_deref() != f.expected {
            return Err(changed(f.rel));
        }
    }
    let temps: Vec<Option<PathBuf>> = files
        .iter()
        .map(|f| f.new.map(|_| temp_path(f.abs)))
        .collect();
    if hooks.fail == Some(FailPoint::Journal) {
        return Err(simulated(
            files.first().map_or(Path::new(""), |f| f.abs),
            "recording the journal (simulated failure)",
        ));
    }
    (hooks.prepare)(&temps)?;
    hooks.step(ApplyStep::IntentRecorded);
    let remove_temps = |temps: &[Option<PathBuf>]| {
        for t in temps.iter().flatten() {
            let _ = fs::remove_file(t);
        }
    };
    let undo_dirs = |files: &[FileWrite<'_>]| {
        for f in files {
            remove_new_dirs(f.new_dirs);
        }
    };
    for (i, (f, tmp)) in files.iter().zip(&temps).enumerate() {
        let (Some(tmp), Some(new)) = (tmp, f.new) else {
            continue;
        };
        let written = match f.new_dirs.last() {
            Some(inner) => fs::create_dir_all(inner)
                .map_err(|e| EditError::io(inner, "creating the directory", e)),
            None => Ok(()),
        }
        .and_then(|()| write_temp_at(tmp, f.abs, new));
        if let Err(e) = written {
            remove_temps(&temps[..i]);
            undo_dirs(&files[..=i]);
            return Err(e);
        }
        if hooks.fail == Some(FailPoint::BeforeRename(i)) {
            remove_temps(&temps[..=i]);
            undo_dirs(&files[..=i]);
            return Err(simulated(
                f.abs,
                "writing (simulated failure before rename)",
            ));
        }
        hooks.step(ApplyStep::TempWritten(i));
    }
    for (i, (f, tmp)) in files.iter().zip(&temps).enumerate() {
        let done = if hooks.fail == Some(FailPoint::AtRename(i)) {
            Err(std::io::Error::other("simulated failure at rename"))
        } else {
            match (tmp, f.expected) {
                (Some(tmp), Some(_)) => fs::rename(tmp, f.abs),
                (Some(tmp), None) => link_new(tmp, f.abs),
                (None, _) => fs::remove_file(f.abs),
            }
        };
        if let Err(e) = done {
            remove_temps(&temps[i..]);
            undo_dirs(&files[i..]);
            // Put back what was already replaced, newest first.
            for (j, done) in files[..i].iter().enumerate().rev() {
                let restored = match done.expected {
                    Some(old) => write_atomic(done.abs, old),
                    None => remove_created(done.abs, done.new_dirs)
                        .map_err(|e| EditError::io(done.abs, "removing", e)),
                };
                if let Err(re) = restored {
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
            let action = if f.new.is_some() {
                "renaming into place"
            } else {
                "removing"
            };
            return Err(EditError::io(f.abs, action, e));
        }
        hooks.step(ApplyStep::Renamed(i));
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
