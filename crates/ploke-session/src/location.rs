//! Where a workspace and its index are.

use std::path::{Path, PathBuf};

use crate::SessionError;

/// The `meta` key recording the workspace root an index was made from (for `--db` indexes,
/// which do not sit inside their workspace).
pub const WORKSPACE_ROOT_KEY: &str = "workspace_root";

/// A workspace root, its index directory and its edit journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The workspace root (canonical).
    pub root: PathBuf,
    /// The index directory (`<root>/.ploke` unless given).
    pub db_dir: PathBuf,
    /// The edit journal, inside the index directory.
    pub journal_dir: PathBuf,
}

impl Location {
    fn new(root: PathBuf, db_dir: PathBuf) -> Location {
        let journal_dir = db_dir.join("journal");
        Location {
            root,
            db_dir,
            journal_dir,
        }
    }

    /// The workspace that contains `start`, found as Cargo finds it, with its index in `db`
    /// or `<root>/.ploke`. For operations that write the index (and may create it).
    pub fn discover(start: &Path, db: Option<&Path>) -> Result<Location, SessionError> {
        let start = existing(start)?;
        let ws = ploke_workspace::discover(&start)?;
        let db_dir = db
            .map(Path::to_path_buf)
            .unwrap_or_else(|| ploke_index::default_db_dir(&ws.root));
        Ok(Location::new(ws.root, db_dir))
    }

    /// The index that serves `start`: `db` when given (its workspace is the one it was made
    /// from), else the nearest `.ploke` index at or above `start`. Asks nothing of cargo, so
    /// that a read is fast.
    pub fn find(start: &Path, db: Option<&Path>) -> Result<Location, SessionError> {
        let abs = existing(start)?;
        if let Some(dir) = db {
            let root = recorded_root(dir).unwrap_or_else(|| {
                // An index made before roots were recorded: the workspace of `start`.
                ploke_workspace::discover(&abs)
                    .map(|ws| ws.root)
                    .unwrap_or_else(|_| abs.clone())
            });
            return Ok(Location::new(root, dir.to_path_buf()));
        }
        abs.ancestors()
            .find(|d| {
                ploke_index::default_db_dir(d)
                    .join(ploke_db::DB_FILE_NAME)
                    .exists()
            })
            .map(|root| Location::new(root.to_path_buf(), ploke_index::default_db_dir(root)))
            .ok_or(SessionError::NoIndex { start: abs })
    }
}

/// `path`, canonical, or a one-line error when it does not exist.
fn existing(path: &Path) -> Result<PathBuf, SessionError> {
    path.canonicalize().map_err(|_| SessionError::NoSuchPath {
        path: path.to_path_buf(),
    })
}

/// The workspace root recorded in the index at `dir`, if it still exists.
fn recorded_root(dir: &Path) -> Option<PathBuf> {
    let db = ploke_db::Db::open_existing(dir).ok()?;
    let root = PathBuf::from(db.get_meta(WORKSPACE_ROOT_KEY).ok()??);
    root.is_dir().then_some(root)
}
