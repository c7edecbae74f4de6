//! The cache beside the database: parse results by file and the last graph written.
//!
//! It is only an accelerator. Its `generation` must match the one stored in the database,
//! else it is ignored and the previous graph is read back from the database instead.

use std::path::{Path, PathBuf};

use fxhash::FxHashMap;
use ploke_core::{ContentHash, Graph};
use ploke_parse::ParsedFile;
use ploke_workspace::Workspace;

const STATE_FILE: &str = "state.bin";
/// Bump when the layout of [`State`] or what the parser extracts changes.
pub(crate) const STATE_VERSION: u32 = 2;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Manifest {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: i128,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct State {
    pub version: u32,
    pub parser_version: u32,
    pub generation: u64,
    pub workspace: Option<Workspace>,
    pub manifests: Vec<Manifest>,
    pub parsed: FxHashMap<PathBuf, (ContentHash, ParsedFile)>,
    /// The workspace's own graph (without the attached dependencies).
    pub graph: Graph,
    pub deps: SavedDeps,
}

/// The dependencies attached at `generation`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct SavedDeps {
    pub scope: Option<ploke_workspace::DepsScope>,
    /// What discovery found (valid while no manifest or lock file changed).
    pub found: Option<ploke_workspace::Dependencies>,
    /// (name, version, key) of each entry attached.
    pub entries: Vec<(String, String, String)>,
}

impl State {
    pub fn load(dir: &Path) -> Option<State> {
        let bytes = std::fs::read(dir.join(STATE_FILE)).ok()?;
        let st: State = postcard::from_bytes(&bytes).ok()?;
        (st.version == STATE_VERSION && st.parser_version == ploke_parse::PARSER_VERSION)
            .then_some(st)
    }

    pub fn remove(dir: &Path) {
        let _ = std::fs::remove_file(dir.join(STATE_FILE));
    }
}

/// A [`State`] to save, borrowed from whoever holds its parts (the same encoding as
/// `State`: postcard writes a reference as its value, a slice as a `Vec`, and a map as its
/// entries).
#[derive(serde::Serialize)]
pub(crate) struct StateRef<'a> {
    pub version: u32,
    pub parser_version: u32,
    pub generation: u64,
    pub workspace: Option<&'a Workspace>,
    pub manifests: &'a [Manifest],
    pub parsed: ParsedMap<'a>,
    pub graph: &'a Graph,
    pub deps: &'a SavedDeps,
}

/// The parse results to save: (path, hash, parse) of each file.
pub(crate) struct ParsedMap<'a>(pub Vec<(&'a Path, ContentHash, &'a ParsedFile)>);

impl serde::Serialize for ParsedMap<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(p, h, f)| (p, (h, f))))
    }
}

impl StateRef<'_> {
    /// Write atomically (temp file + rename) so a crash never leaves half a cache.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = postcard::to_stdvec(self).map_err(std::io::Error::other)?;
        let tmp = dir.join(format!("{STATE_FILE}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, dir.join(STATE_FILE))
    }
}

pub(crate) fn manifest_stamp(path: &Path) -> Option<Manifest> {
    let md = std::fs::metadata(path).ok()?;
    Some(Manifest {
        path: path.to_path_buf(),
        size: md.len(),
        mtime_ns: crate::fresh::mtime_ns(&md),
    })
}

/// The manifests (and target directories) whose change means the workspace must be
/// discovered again.
pub(crate) fn manifests_of(ws: &Workspace) -> Vec<Manifest> {
    let mut paths = vec![ws.root.join("Cargo.toml"), ws.root.join("Cargo.lock")];
    for p in &ws.packages {
        paths.push(p.manifest_dir.join("Cargo.toml"));
        // Cargo finds targets by file name too (src/main.rs, src/bin/x.rs, tests/y.rs,
        // build.rs): a file added to or removed from these directories changes their mtime.
        for dir in ["", "src", "src/bin", "examples", "tests", "benches"] {
            let d = if dir.is_empty() {
                p.manifest_dir.clone()
            } else {
                p.manifest_dir.join(dir)
            };
            if d.is_dir() {
                paths.push(d);
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths.iter().filter_map(|p| manifest_stamp(p)).collect()
}

pub(crate) fn manifests_unchanged(saved: &[Manifest]) -> bool {
    !saved.is_empty()
        && saved.iter().all(|m| {
            manifest_stamp(&m.path)
                .is_some_and(|now| now.size == m.size && now.mtime_ns == m.mtime_ns)
        })
}
