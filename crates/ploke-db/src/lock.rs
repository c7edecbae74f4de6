//! One writer per index directory, across processes.
//!
//! Every process that changes an index (`ploke index`, `watch`, `edit`, `undo`) holds
//! [`WriteLock`] while it writes: an exclusive OS file lock (`flock` on Unix, `LockFileEx` on
//! Windows) on `write.lock` in the index directory. The OS releases it when the process
//! exits, however it exits, so a killed writer never leaves a stale lock behind. The holder
//! writes who it is into the file, so that a waiting process can say whom it waits for.
//!
//! Readers take no lock: they read consistently through [`crate::Db::read_consistent`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::DbError;

/// The lock file's name inside the index directory.
pub const WRITE_LOCK_FILE: &str = "write.lock";

/// Who holds the lock `file` of the index directory `dir` now, without taking it: `None`
/// when it is free (or was never taken).
pub fn holder(dir: &Path, file: &str) -> Option<String> {
    let mut f = OpenOptions::new().read(true).open(dir.join(file)).ok()?;
    match f.try_lock_shared() {
        Ok(()) => {
            let _ = f.unlock();
            None
        }
        Err(std::fs::TryLockError::WouldBlock) => Some(holder_of(&mut f)),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

/// What to do when another process holds the lock.
pub enum Wait<'a> {
    /// Fail at once with [`DbError::Busy`].
    No,
    /// Wait at most this long, calling `waiting` once with the holder's description.
    Up(Duration, &'a dyn Fn(&str)),
    /// Wait until it is free, calling `waiting` once with the holder's description.
    Forever(&'a dyn Fn(&str)),
}

/// The exclusive right to write the index in one directory; released on drop.
#[derive(Debug)]
pub struct WriteLock {
    file: File,
    dir: PathBuf,
}

impl WriteLock {
    /// Takes the write lock of the index in `dir` (created if missing) for `holder` (what
    /// this process is, e.g. `ploke watch`; shown to processes that wait).
    pub fn acquire(dir: &Path, holder: &str, wait: Wait<'_>) -> Result<WriteLock, DbError> {
        Self::acquire_file(dir, WRITE_LOCK_FILE, holder, wait)
    }

    /// An exclusive lock on another file of the index directory, with the same rules (a live
    /// index holds `watch.lock` for its lifetime, so that there is one per index).
    pub fn acquire_file(
        dir: &Path,
        file: &str,
        holder: &str,
        wait: Wait<'_>,
    ) -> Result<WriteLock, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(file);
        let io = |source| DbError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            let who = holder_of(&mut file);
            match &wait {
                Wait::No => {
                    return Err(DbError::Busy {
                        dir: dir.to_path_buf(),
                        holder: who,
                    })
                }
                Wait::Up(limit, _) if start.elapsed() >= *limit => {
                    return Err(DbError::Busy {
                        dir: dir.to_path_buf(),
                        holder: who,
                    });
                }
                Wait::Up(_, waiting) | Wait::Forever(waiting) => {
                    if !told {
                        waiting(&who);
                        told = true;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let me = format!("{holder} (pid {})", std::process::id());
        // Best effort: the description is only for messages.
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()));
        Ok(WriteLock {
            file,
            dir: dir.to_path_buf(),
        })
    }

    /// The index directory this lock is for.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Who holds the lock, as the holder wrote it.
fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file
        .seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text));
    let text = text.trim();
    if text.is_empty() {
        "another process".to_string()
    } else {
        text.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriteLock::acquire(dir.path(), "ploke watch", Wait::No).unwrap();
        match WriteLock::acquire(dir.path(), "ploke index", Wait::No) {
            Err(DbError::Busy { holder, .. }) => {
                assert!(holder.starts_with("ploke watch (pid "), "{holder}")
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        let told = std::cell::Cell::new(String::new());
        let note = |who: &str| told.set(who.to_string());
        let err = WriteLock::acquire(
            dir.path(),
            "ploke index",
            Wait::Up(Duration::from_millis(60), &note),
        )
        .unwrap_err();
        assert!(matches!(err, DbError::Busy { .. }));
        assert!(told.take().starts_with("ploke watch"));
        drop(first);
        let again = WriteLock::acquire(dir.path(), "ploke index", Wait::No).unwrap();
        assert_eq!(again.dir(), dir.path());
    }
}
