//! The store files this process has open, so that it never opens one outside SQLite while
//! one of its SQLite connections has it open.
//!
//! SQLite's locks on Unix are POSIX advisory locks (`fcntl`): they belong to the process and
//! the file, and closing *any* descriptor of the file in the process drops every one of them,
//! those of its open SQLite connections included (<https://sqlite.org/howtocorrupt.html>,
//! 2.2). A connection that lost its lock looks absent to other processes: the next reader to
//! close its connection finds no other one, checkpoints the log and deletes it, and this
//! process goes on committing into the deleted log, where no other process sees its commits
//! until it closes (a live index whose updates never reached `ploke search`).
//!
//! The one place ploke opens the store outside SQLite is the header check before CozoDB opens
//! it; it runs only for the first handle of a file in the process, while no connection of the
//! process has it open.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// A file's identity (device, inode): what POSIX locks belong to.
type FileId = (u64, u64);

/// Open handles per store file.
static OPEN: Mutex<BTreeMap<FileId, usize>> = Mutex::new(BTreeMap::new());

/// One open handle of a store file, counted while it lives. Drop it after the handle's
/// connections are closed.
#[derive(Debug)]
pub(crate) struct OpenFile(Option<FileId>);

impl OpenFile {
    /// Counts a new handle of the file at `path`; `first` (which may open and close the file
    /// outside SQLite) runs when the process has no other handle of it open, and its error
    /// counts nothing.
    pub(crate) fn open<E>(
        path: &Path,
        first: impl FnOnce() -> Result<(), E>,
    ) -> Result<OpenFile, E> {
        let Some(id) = file_id(path) else {
            first()?;
            return Ok(OpenFile(None));
        };
        // Held while `first` runs: no other thread opens a connection to the file meanwhile.
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.get(&id).copied().unwrap_or(0);
        if n == 0 {
            first()?;
        }
        open.insert(id, n + 1);
        Ok(OpenFile(Some(id)))
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        let Some(id) = self.0 else { return };
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&id);
            }
        }
    }
}

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino()))
}

/// Elsewhere closing a handle releases only that handle's locks.
#[cfg(not(unix))]
fn file_id(_path: &Path) -> Option<FileId> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_handle_of_a_file_runs_the_check_and_the_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        let ran = std::cell::Cell::new(0);
        let check = || -> Result<(), ()> {
            ran.set(ran.get() + 1);
            Ok(())
        };
        let a = OpenFile::open(&path, check).unwrap();
        let b = OpenFile::open(&path, check).unwrap();
        assert_eq!(ran.get(), 1);
        drop(a);
        let c = OpenFile::open(&path, check).unwrap();
        assert_eq!(ran.get(), 1, "one handle is still open");
        drop((b, c));
        let _d = OpenFile::open(&path, check).unwrap();
        assert_eq!(ran.get(), 2, "none was open");
        // A failed check counts nothing.
        let other = dir.path().join("g");
        std::fs::write(&other, "y").unwrap();
        assert!(OpenFile::open(&other, || Err(())).is_err());
        let _e = OpenFile::open(&other, check).unwrap();
        assert_eq!(ran.get(), 3);
    }
}
