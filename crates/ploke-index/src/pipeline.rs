//! The stages of an index run, and the [`Indexer`] that keeps them in memory between runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use fxhash::{FxHashMap, FxHashSet};
use rayon::prelude::*;

use ploke_core::{ContentHash, FileRecord, Graph, GraphDelta, Skipped};
use ploke_db::lock::{Wait, WriteLock};
use ploke_db::Db;
use ploke_graph::{CrateInput, ModuleFile};
use ploke_parse::{ParseOptions, ParsedFile};
use ploke_workspace::{DepsScope, Workspace};

use crate::deps::{Attached, DepCache, DepsReport};
use crate::fresh::{now_ns, Seen};
use crate::parts::{changed_names, contexts, split, NamesCache, TargetState, Tree};
use crate::state::{
    manifest_stamp, manifests_of, manifests_unchanged, ParsedMap, SavedDeps, State, StateRef,
};
use crate::tree::{module_tree, TreeFile};
use crate::{default_db_dir, Changes, IndexError, IndexOptions, IndexReport, Progress};

/// One Rust file after reading.
#[derive(Clone)]
struct Loaded {
    /// The file's text, when this process has read it (a file taken from the cache has none
    /// until it is needed).
    text: Option<Arc<str>>,
    hash: ContentHash,
    size: u64,
    parsed: Arc<ParsedFile>,
    /// Why the file could not be read or decoded.
    problem: Option<Skipped>,
    /// Parsed in this run (not taken from the cache).
    fresh: bool,
    /// The file as last looked at (size and modification time from before its bytes were
    /// read, and their hash): its stamp in `stamps.bin`. The same as `hash` and `size` except
    /// for a file whose last good version is kept (it is the version that was refused).
    seen: Seen,
}

impl Loaded {
    fn failed(
        display: &str,
        hash: ContentHash,
        size: u64,
        line: u32,
        reason: String,
        seen: Seen,
    ) -> Loaded {
        Loaded {
            text: None,
            hash,
            size,
            seen,
            parsed: Arc::new(ParsedFile::default()),
            problem: Some(Skipped {
                path: display.to_string(),
                line,
                reason,
                whole_file: true,
            }),
            fresh: false,
        }
    }
}

struct Timer {
    start: Instant,
    stages: Vec<(&'static str, std::time::Duration)>,
}

impl Timer {
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.stages.push((name, now - self.start));
        self.start = now;
    }
}

/// Find the cache of an earlier run that covers `path`, so discovery can be skipped when no
/// manifest changed.
fn cached_workspace(path: &Path, db_dir: Option<&Path>) -> Option<(Workspace, PathBuf, State)> {
    let abs = path.canonicalize().ok()?;
    let candidates: Vec<PathBuf> = match db_dir {
        Some(d) => vec![d.to_path_buf()],
        None => abs.ancestors().map(default_db_dir).collect(),
    };
    for dir in candidates {
        let Some(state) = State::load(&dir) else {
            continue;
        };
        let Some(ws) = state.workspace.clone() else {
            continue;
        };
        if abs.starts_with(&ws.root) && manifests_unchanged(&state.manifests) {
            return Some((ws, dir, state));
        }
    }
    None
}

fn rel(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.to_string_lossy().replace('\\', "/"),
        Err(_) => p.to_string_lossy().into_owned(),
    }
}

/// Reads a file's bytes with its metadata, taken from the open file before the bytes are read
/// (so that a write racing with the read changes what the next stat sees). The metadata is
/// there whenever the file could be stat'ed, even if it could not be read.
fn read_stamped(path: &Path) -> (Option<std::fs::Metadata>, std::io::Result<Vec<u8>>) {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return (std::fs::metadata(path).ok(), Err(e)),
    };
    let md = match f.metadata() {
        Ok(md) => md,
        Err(e) => return (None, Err(e)),
    };
    let mut bytes = Vec::with_capacity(usize::try_from(md.len()).unwrap_or(0).saturating_add(1));
    let read = f.read_to_end(&mut bytes).map(|_| bytes);
    (Some(md), read)
}

/// Reads one file and parses it unless `cache` holds the parse of the same bytes.
fn read_one(
    path: &Path,
    display: &str,
    cache: Option<(ContentHash, Arc<ParsedFile>)>,
    opts: &ParseOptions,
    overlay: Option<&Arc<str>>,
) -> Loaded {
    let at_ns = now_ns();
    // An editor's unsaved buffer stands for the file; the stamp stays the file's on disk (so
    // that another process sees the files unchanged while only the buffer changes).
    let (md, bytes, disk_hash) = match overlay {
        Some(text) => {
            let (md, disk) = read_stamped(path);
            let disk_hash = disk.ok().map(|b| ContentHash::of(&b));
            (md, Ok(text.as_bytes().to_vec()), Some(disk_hash))
        }
        None => {
            let (md, bytes) = read_stamped(path);
            (md, bytes, None)
        }
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            return Loaded::failed(
                display,
                ContentHash::default(),
                0,
                1,
                format!("could not read the file: {e}"),
                Seen::of(md.as_ref(), None, at_ns),
            )
        }
    };
    let hash = ContentHash::of(&bytes);
    let size = bytes.len() as u64;
    let seen = match disk_hash {
        Some(disk_hash) => Seen::of(md.as_ref(), disk_hash, at_ns),
        None => Seen {
            // What was read, should the file have grown or shrunk while it was.
            size,
            ..Seen::of(md.as_ref(), Some(hash), at_ns)
        },
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let upto = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..upto].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            return Loaded::failed(
                display,
                hash,
                size,
                line,
                format!("not valid UTF-8 (byte {upto}); Rust source must be UTF-8"),
                seen,
            );
        }
    };
    let (parsed, fresh) = match cache {
        Some((h, parsed)) if h == hash => (parsed, false),
        _ => (Arc::new(ploke_parse::parse_file(&text, opts)), true),
    };
    Loaded {
        text: Some(text.into()),
        hash,
        size,
        parsed,
        problem: None,
        fresh,
        seen,
    }
}

/// Index the workspace that contains `path` into its database: every file read, those that
/// changed since the last run parsed again, the difference written. Takes the index's write
/// lock for the run (waiting for another writer, see [`IndexOptions::wait`]).
pub fn index(
    path: &Path,
    opts: &IndexOptions,
    progress: &dyn Progress,
) -> Result<IndexReport, IndexError> {
    let mut indexer = Indexer::open(path, opts)?;
    let report = indexer.refresh(Changes::All, progress)?;
    indexer.save_cache();
    Ok(report)
}

/// The module tree of one target: (package, target, its files).
type TargetTree = (usize, usize, Vec<TreeFile>);

/// A file to read: its path, the parse cached for it (hash and result), and what the last
/// run loaded from it.
type ReadJob = (
    PathBuf,
    Option<(ContentHash, Arc<ParsedFile>)>,
    Option<Loaded>,
);

/// An index kept in memory between runs: the parse of every file, the last graph written and
/// the open database. [`Indexer::refresh`] brings the database up to date with the files; a
/// long-running process (a watcher) calls it with the files that changed, and only those
/// are read and parsed again.
pub struct Indexer {
    ws: Workspace,
    db_dir: PathBuf,
    db: Db,
    opts: IndexOptions,
    parse_opts: ParseOptions,
    pool: Option<rayon::ThreadPool>,
    /// Every Rust file known, by absolute path.
    table: FxHashMap<PathBuf, Loaded>,
    /// Parses of an earlier run (the cache), by path, until the file is read again.
    cache: FxHashMap<PathBuf, (ContentHash, Arc<ParsedFile>)>,
    /// The graph the database holds at `generation` (as far as this indexer knows), one part
    /// per target (in the workspace's target order, keyed by `target_keys`) ...
    targets: Vec<TargetState>,
    target_keys: Vec<String>,
    /// ... and the file and skip records.
    rest: Graph,
    generation: u64,
    names: NamesCache,
    /// Texts that stand for files (an editor's unsaved buffers), by absolute path.
    overlays: FxHashMap<PathBuf, Arc<str>>,
    /// The manifests (and target directories) as they were when the workspace was discovered.
    manifests: Vec<crate::state::Manifest>,
    /// Whether `table` holds every file of the workspace (false until the first full read).
    complete: bool,
    /// Whether the cache on disk is behind what is in memory.
    unsaved: bool,
    /// Problems of files whose last good parse is kept (see [`IndexOptions::keep_last_good`]),
    /// by path: reported when they change.
    held_back: FxHashMap<PathBuf, Skipped>,
    /// Held-back problems not reported yet.
    new_problems: Vec<Skipped>,
    /// The module trees of the last build (package, target, files) and their problems ...
    trees: Option<(Vec<TargetTree>, Vec<Skipped>)>,
    /// ... and whether a file appeared, went or changed its module declarations since.
    trees_stale: bool,
    /// Macro expansions of the last build of the trees, for the next.
    expansions: crate::macros::ExpansionMemo,
    /// The dependencies the database holds at `generation` (as the cache says) ...
    saved_deps: SavedDeps,
    /// ... the ones attached in this process (their interfaces resolve the workspace) ...
    attached: Option<Attached>,
    /// ... the store of their rows (in the cache), named in the database by every commit ...
    deps_store: Option<PathBuf>,
    /// ... and what attaching them did, for the next report.
    deps_report: Option<DepsReport>,
    /// The analysis stored with `generation` (and its newest API surface), when this
    /// process wrote or read it: the next commit writes only what changed.
    analysis: Option<(ploke_db::StoredAnalysis, Vec<ploke_analyze::ApiItem>, u64)>,
}

impl Indexer {
    /// Finds the workspace that contains `path` (reusing the discovery of the last run when
    /// no manifest changed), opens (or creates) its database and loads the cache beside it.
    /// Reads no source file yet. With [`IndexOptions::rebuild`] the cache is ignored and an
    /// unreadable database is replaced.
    pub fn open(path: &Path, opts: &IndexOptions) -> Result<Indexer, IndexError> {
        let cached = if opts.rebuild {
            None
        } else {
            cached_workspace(path, opts.db_dir.as_deref())
        };
        let (ws, db_dir, state) = match cached {
            Some(c) => c,
            None => {
                let ws = ploke_workspace::discover(path)?;
                let dir = opts
                    .db_dir
                    .clone()
                    .unwrap_or_else(|| default_db_dir(&ws.root));
                let state = if opts.rebuild {
                    State::default()
                } else {
                    State::load(&dir).unwrap_or_default()
                };
                (ws, dir, state)
            }
        };
        std::fs::create_dir_all(&db_dir).map_err(|source| IndexError::Io {
            path: db_dir.clone(),
            source,
        })?;
        if db_dir == default_db_dir(&ws.root) {
            // Keep the database out of version control without touching the user's .gitignore.
            let gi = db_dir.join(".gitignore");
            if !gi.exists() {
                let _ = std::fs::write(&gi, "*\n");
            }
        }
        let db = match Db::open(&db_dir) {
            Ok(db) => db,
            Err(e @ (ploke_db::DbError::Corrupt(_) | ploke_db::DbError::SchemaMismatch { .. }))
                if opts.rebuild =>
            {
                tracing::warn!("{e}; replacing the database");
                replace_database(&db_dir, opts)?
            }
            Err(e) => return Err(e.into()),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .stack_size(ploke_parse::RECOMMENDED_STACK_BYTES)
            .thread_name(|i| format!("ploke-parse-{i}"))
            .build()
            .ok();
        let parse_opts = ParseOptions {
            max_file_bytes: opts
                .max_file_bytes
                .unwrap_or(ParseOptions::default().max_file_bytes),
        };
        let State {
            generation,
            parsed,
            graph,
            manifests,
            deps: saved_deps,
            ..
        } = state;
        let manifests = if manifests.is_empty() {
            manifests_of(&ws)
        } else {
            manifests
        };
        // The cached graph, split per crate: the base the first refresh diffs against (every
        // target is built on that first refresh; their trees are not known yet).
        let roots: Vec<(String, ploke_core::NodeId)> = graph
            .crates
            .iter()
            .map(|c| {
                (
                    format!("{}/{}/{}", c.package, c.kind.as_str(), c.name),
                    c.id,
                )
            })
            .collect();
        let (parts, rest) = if generation > 0 && !graph.nodes.is_empty() {
            split(&graph, &roots.iter().map(|(_, id)| *id).collect::<Vec<_>>())
        } else {
            (Vec::new(), Graph::default())
        };
        let target_keys: Vec<String> = if parts.is_empty() {
            Vec::new()
        } else {
            roots.into_iter().map(|(k, _)| k).collect()
        };
        let targets: Vec<TargetState> = parts
            .into_iter()
            .map(|part| TargetState {
                part,
                ..TargetState::default()
            })
            .collect();
        Ok(Indexer {
            ws,
            db_dir,
            db,
            opts: opts.clone(),
            parse_opts,
            pool,
            table: FxHashMap::default(),
            cache: parsed
                .into_iter()
                .map(|(p, (h, f))| (p, (h, Arc::new(f))))
                .collect(),
            targets,
            target_keys,
            rest,
            generation,
            names: NamesCache::default(),
            overlays: FxHashMap::default(),
            manifests,
            complete: false,
            unsaved: false,
            held_back: FxHashMap::default(),
            new_problems: Vec::new(),
            trees: None,
            trees_stale: true,
            expansions: Default::default(),
            saved_deps,
            attached: None,
            deps_store: None,
            deps_report: None,
            analysis: None,
        })
    }

    /// Attach the dependencies `scope` says from the next refresh on (which finds them
    /// again).
    pub fn set_dependencies(&mut self, scope: DepsScope) {
        if self.opts.deps != Some(scope) {
            self.opts.deps = Some(scope);
            self.attached = None;
        }
    }

    /// Which dependencies the index attaches (as last set); `None` for an index that never
    /// said.
    pub fn dependency_scope(&self) -> Option<DepsScope> {
        self.opts.deps.or(self.saved_deps.scope)
    }

    /// The dependencies attached to the index: (name, version, cache key) of each.
    pub fn dependencies(&self) -> &[(String, String, String)] {
        &self.saved_deps.entries
    }

    /// Attaches the dependencies the options ask for (those the index was built with when
    /// they say nothing): found again when a manifest changed, each built into the cache
    /// unless it is there, and the rows that change what the database holds made ready for
    /// the next commit. Cheap when nothing changed: the interfaces are read from the cache.
    fn attach_deps(
        &mut self,
        rediscovered: bool,
        progress: &dyn Progress,
    ) -> Result<(), IndexError> {
        let scope = self
            .opts
            .deps
            .or(self.saved_deps.scope)
            .unwrap_or(DepsScope::None);
        let same_scope = self.saved_deps.scope.unwrap_or(DepsScope::None) == scope;
        if self.attached.is_some() && !rediscovered && same_scope {
            return Ok(());
        }
        let found = match (&self.saved_deps.found, rediscovered || !same_scope) {
            _ if scope == DepsScope::None => ploke_workspace::Dependencies::default(),
            (Some(found), false) => found.clone(),
            _ => {
                progress.stage("dependencies", 0);
                let found = ploke_workspace::dependencies(&self.ws.root, scope);
                // Cargo may have written the lock file while it resolved: what it wrote
                // follows from the manifests discovery stamped, so it is stamped as seen.
                self.manifests = manifests_of(&self.ws);
                found
            }
        };
        let cache = DepCache::new(
            self.opts
                .dep_cache
                .clone()
                .unwrap_or_else(crate::default_cache_dir),
        );
        let parse_opts = &self.parse_opts;
        let run = || crate::deps::attach(&found, &cache, parse_opts);
        let attached = match &self.pool {
            Some(pool) => pool.install(run),
            None => run(),
        };
        let keys = attached.keys();
        if keys != self.saved_deps.entries {
            // Every target resolves again, against the new dependencies.
            self.target_keys.clear();
        }
        // Their rows live in one store shared by every index with the same dependencies.
        self.deps_store = if attached.entries.is_empty() {
            None
        } else {
            progress.stage("dependency store", 0);
            match cache.store_for(&attached.entries) {
                Ok(dir) => Some(dir),
                Err(e) => {
                    return Err(IndexError::Io {
                        path: cache.dir().to_path_buf(),
                        source: e,
                    })
                }
            }
        };
        for e in &attached.entries {
            e.release();
        }
        self.saved_deps = SavedDeps {
            scope: Some(scope),
            found: Some(found),
            entries: keys,
        };
        self.deps_report = Some(attached.report.clone());
        self.attached = Some(attached);
        Ok(())
    }

    /// The workspace being indexed.
    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    /// The index directory.
    pub fn db_dir(&self) -> &Path {
        &self.db_dir
    }

    /// The open database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Makes `text` stand for the file at `path` (absolute) from the next refresh on, or
    /// (`None`) the file on disk again: an editor's unsaved buffer. Refresh `path` after
    /// either. The file's stamp stays that of the file on disk, so other processes see an
    /// index that matches the files as long as they do not change on disk.
    pub fn set_overlay(&mut self, path: PathBuf, text: Option<Arc<str>>) {
        match text {
            Some(t) => {
                self.overlays.insert(path, t);
            }
            None => {
                self.overlays.remove(&path);
            }
        }
    }

    /// The generation of the database after the last refresh.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Brings the database up to date with the files, under the index's write lock.
    ///
    /// [`Changes::All`] reads every file (parsing only those whose bytes changed since they
    /// were last parsed); [`Changes::Paths`] reads only the paths given (changed, created or
    /// deleted files) and keeps what is known of the rest. A changed manifest, or a first
    /// refresh, always reads everything. Whatever was asked, the database ends up holding
    /// exactly the graph a clean index of the same files would give.
    pub fn refresh(
        &mut self,
        changes: Changes,
        progress: &dyn Progress,
    ) -> Result<IndexReport, IndexError> {
        let lock = self.lock(progress)?;
        self.refresh_locked(&lock, changes, progress)
    }

    /// Takes the index's write lock (waiting as [`IndexOptions::wait`] says, telling
    /// `progress` whom it waits for).
    pub fn lock(&self, progress: &dyn Progress) -> Result<WriteLock, IndexError> {
        let holder = self.opts.holder.as_deref().unwrap_or("ploke index");
        let wait_note = |who: &str| progress.waiting(who);
        let wait = match self.opts.wait {
            Some(limit) => Wait::Up(limit, &wait_note),
            None => Wait::Forever(&wait_note),
        };
        Ok(WriteLock::acquire(&self.db_dir, holder, wait)?)
    }

    /// [`Indexer::refresh`] for a caller that holds the write lock already (to write files
    /// and index them under one lock, as an edit does).
    pub fn refresh_locked(
        &mut self,
        lock: &WriteLock,
        changes: Changes,
        progress: &dyn Progress,
    ) -> Result<IndexReport, IndexError> {
        debug_assert_eq!(lock.dir(), self.db_dir.as_path());
        let mut t = Timer {
            start: Instant::now(),
            stages: Vec::new(),
        };
        progress.stage("discover", 0);
        let mut changes = changes;
        // Until every file has been read once, and whenever another process wrote the index
        // since this one did, what changed is not known: read everything.
        if !self.complete || self.db.generation()? != self.generation {
            changes = Changes::All;
        }
        let mut rediscovered = false;
        if matches!(changes, Changes::All) && !manifests_unchanged(&self.manifests) {
            // Members or targets may have changed: ask cargo again.
            self.rediscover()?;
            rediscovered = true;
        }
        t.lap("discover");

        match &changes {
            Changes::All => self.read_all(progress),
            Changes::Paths(paths) => {
                if self.manifest_changed(paths) {
                    self.rediscover()?;
                    rediscovered = true;
                    self.read_all(progress);
                } else {
                    self.read_paths(paths, progress);
                    // The files that appeared in or left a target directory are among
                    // `paths` and none is a target: the directories' new times are known.
                    for m in &mut self.manifests {
                        if m.path.is_dir() {
                            if let Some(now) = manifest_stamp(&m.path) {
                                *m = now;
                            }
                        }
                    }
                }
            }
        }
        t.lap("parse");

        self.attach_deps(rediscovered, progress)?;
        t.lap("dependencies");

        progress.stage("resolve", 0);
        let built = self.build()?;
        t.lap("resolve");

        progress.stage("write", 0);
        let report = self.write(built, t)?;
        self.complete = true;
        self.unsaved = true;
        Ok(report)
    }

    fn rediscover(&mut self) -> Result<(), IndexError> {
        self.ws = ploke_workspace::discover(&self.ws.root)?;
        self.manifests = manifests_of(&self.ws);
        Ok(())
    }

    /// Whether one of `paths` is a manifest (or sits where Cargo finds targets by file name)
    /// so that discovery must run again.
    fn manifest_changed(&self, paths: &[PathBuf]) -> bool {
        paths.iter().any(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if matches!(name, "Cargo.toml" | "Cargo.lock") {
                return true;
            }
            // A file added to or removed from src/bin, examples, tests or benches, or a
            // build.rs or main.rs next to the manifest, is a target Cargo finds by its name.
            let appeared_or_went = !self.table.contains_key(p) || !p.exists();
            appeared_or_went
                && self.ws.packages.iter().any(|pkg| {
                    let Ok(inside) = p.strip_prefix(&pkg.manifest_dir) else {
                        return false;
                    };
                    let parts: Vec<_> = inside.components().collect();
                    let first = |s: &str| parts.first().is_some_and(|c| c.as_os_str() == s);
                    (parts.len() == 1 && matches!(name, "build.rs"))
                        || (parts.len() == 2
                            && first("src")
                            && matches!(name, "main.rs" | "lib.rs"))
                        || (parts.len() >= 2
                            && (first("examples") || first("tests") || first("benches")))
                        || (parts.len() >= 3 && first("src") && parts[1].as_os_str() == "bin")
                })
        })
    }

    /// Reads every Rust file of every package, parsing those whose bytes are not parsed yet.
    fn read_all(&mut self, progress: &dyn Progress) {
        self.trees_stale = true;
        let mut files: Vec<PathBuf> = Vec::new();
        for pkg in &self.ws.packages {
            files.extend(ploke_workspace::rust_files(&self.ws, pkg));
        }
        files.sort();
        files.dedup();
        let old = std::mem::take(&mut self.table);
        let jobs: Vec<ReadJob> = files
            .into_iter()
            .map(|f| {
                let prev = old.get(&f).cloned();
                let cached = prev
                    .as_ref()
                    .map(|l| (l.hash, l.parsed.clone()))
                    .or_else(|| self.cache.remove(&f));
                (f, cached, prev)
            })
            .collect();
        progress.stage("parse", jobs.len() as u64);
        let loaded = self.read_jobs(jobs, progress);
        self.table = loaded.into_iter().collect();
    }

    /// Reads `paths` again (removing those that are gone), keeping every other file as known.
    fn read_paths(&mut self, paths: &[PathBuf], progress: &dyn Progress) {
        let mut jobs = Vec::new();
        let mut todo: Vec<PathBuf> = Vec::new();
        for p in paths {
            if p.is_dir() {
                // A directory that appeared (a checkout, a new module directory): its files may
                // have been written before anyone watched it.
                todo.extend(rust_files_under(p));
            } else if !p.exists() {
                // Gone: the file, or every file under a directory that went.
                let gone: Vec<PathBuf> = self
                    .table
                    .keys()
                    .filter(|k| k.starts_with(p))
                    .cloned()
                    .collect();
                for k in gone {
                    self.table.remove(&k);
                    self.trees_stale = true;
                }
            } else {
                todo.push(p.clone());
            }
        }
        todo.sort();
        todo.dedup();
        for p in &todo {
            let prev = self.table.remove(p);
            if !p.is_file() {
                continue;
            }
            if p.extension() != Some(std::ffi::OsStr::new("rs")) {
                if let Some(prev) = prev {
                    self.table.insert(p.clone(), prev);
                }
                continue;
            }
            // A new file outside every package is not ours (the module tree may still load
            // it through `#[path]`).
            if prev.is_none()
                && !self
                    .ws
                    .packages
                    .iter()
                    .any(|pkg| p.starts_with(&pkg.manifest_dir))
            {
                continue;
            }
            let cached = prev
                .as_ref()
                .map(|l| (l.hash, l.parsed.clone()))
                .or_else(|| self.cache.remove(p));
            jobs.push((p.clone(), cached, prev));
        }
        progress.stage("parse", jobs.len() as u64);
        let loaded = self.read_jobs(jobs, progress);
        self.table.extend(loaded);
    }

    /// Reads and parses files on the parse pool. `prev` is what was known of the file before,
    /// kept instead of a parse that fails when [`IndexOptions::keep_last_good`] is set.
    fn read_jobs(&mut self, jobs: Vec<ReadJob>, progress: &dyn Progress) -> Vec<(PathBuf, Loaded)> {
        let root = &self.ws.root;
        let parse_opts = &self.parse_opts;
        let overlays = &self.overlays;
        let keep = self.opts.keep_last_good;
        let run = || -> Vec<(PathBuf, Loaded, Option<Loaded>)> {
            jobs.into_par_iter()
                .map(|(f, cached, prev)| {
                    let l = read_one(&f, &rel(root, &f), cached, parse_opts, overlays.get(&f));
                    progress.inc(1);
                    (f, l, prev)
                })
                .collect()
        };
        let results = match &self.pool {
            Some(p) => p.install(run),
            None => run(),
        };
        let mut out = Vec::with_capacity(results.len());
        for (f, l, prev) in results {
            let same_tree = prev.as_ref().is_some_and(|p| {
                p.problem.is_none() == l.problem.is_none()
                    && (Arc::ptr_eq(&p.parsed, &l.parsed)
                        || (crate::tree::module_signature(&p.parsed)
                            == crate::tree::module_signature(&l.parsed)
                            && !crate::tree::macro_relevant(&p.parsed)
                            && !crate::tree::macro_relevant(&l.parsed)))
            });
            if !same_tree {
                self.trees_stale = true;
            }
            let broken = l.problem.is_some() || !l.parsed.issues.is_empty();
            match prev {
                Some(prev)
                    if keep
                        && broken
                        && prev.problem.is_none()
                        && prev.parsed.issues.is_empty() =>
                {
                    // Half-written or mid-edit: keep the last good parse (and its text, so
                    // stored spans and sources agree), and say so once per problem.
                    let problem = l.problem.clone().unwrap_or_else(|| {
                        let first = &l.parsed.issues[0];
                        Skipped {
                            path: rel(root, &f),
                            line: first.line,
                            reason: format!(
                                "{} (its last good version stays indexed)",
                                first.message
                            ),
                            whole_file: false,
                        }
                    });
                    if self.held_back.get(&f) != Some(&problem) {
                        self.new_problems.push(problem.clone());
                        self.held_back.insert(f.clone(), problem);
                    }
                    // Stamped as the version seen: the index is as this run means it to be.
                    let prev = Loaded {
                        seen: l.seen,
                        ..prev
                    };
                    out.push((f, prev));
                }
                _ => {
                    self.held_back.remove(&f);
                    out.push((f, l));
                }
            }
        }
        out
    }

    /// The module tree of every target, the parts of the targets that need building, the
    /// file records; and the delta to what the database holds.
    fn build(&mut self) -> Result<Built, IndexError> {
        let t0 = Instant::now();
        let ws = &self.ws;
        let mut skipped: Vec<Skipped> = Vec::new();
        let mut trees: Vec<TargetTree> = Vec::new(); // (package, target, files)
        let reuse = match self.trees.take() {
            Some(t) if !self.trees_stale => Some(t),
            _ => None,
        };
        let reused = reuse.is_some();
        if let Some((t, problems)) = reuse {
            trees = t;
            skipped.extend(problems);
        }
        if !reused {
            let roots: Vec<(usize, usize, PathBuf)> = ws
                .packages
                .iter()
                .enumerate()
                .flat_map(|(pi, pkg)| {
                    pkg.targets.iter().enumerate().map(move |(ti, target)| {
                        (pi, ti, crate::tree::normalize(&target.root_file))
                    })
                })
                .collect();
            // The trees are independent: built on the parse pool (whose threads have the
            // stack that expanding macros may need). A tree that needs files the walk did not
            // list (`#[path]` outside the package, ignored files) is built again once they
            // are read, until nothing new is asked for.
            let mut built: Vec<Option<(Vec<TreeFile>, Vec<Skipped>)>> = vec![None; roots.len()];
            loop {
                let todo: Vec<usize> = (0..roots.len()).filter(|&i| built[i].is_none()).collect();
                if todo.is_empty() {
                    break;
                }
                let table = &self.table;
                let root_dir = &ws.root;
                let expansions = &self.expansions;
                // (target, its tree, the tree's problems, files it needs that are not read)
                type TreeResult = (usize, Vec<TreeFile>, Vec<Skipped>, Vec<PathBuf>);
                let run = || -> Vec<TreeResult> {
                    todo.par_iter()
                        .map(|&i| {
                            let mut extra: Vec<PathBuf> = Vec::new();
                            let mut tree_skipped = Vec::new();
                            let tree = module_tree(
                                &roots[i].2,
                                expansions,
                                |p| match table.get(p) {
                                    Some(l) if l.problem.is_none() => Some(&*l.parsed),
                                    Some(_) => None,
                                    None => {
                                        if p.is_file() {
                                            extra.push(p.to_path_buf());
                                        }
                                        None
                                    }
                                },
                                |p| table.get(p).and_then(|l| l.text.clone()),
                                |p| rel(root_dir, p),
                                &mut tree_skipped,
                            );
                            (i, tree, tree_skipped, extra)
                        })
                        .collect()
                };
                let results = match &self.pool {
                    Some(pool) => pool.install(run),
                    None => run(),
                };
                let mut extra: Vec<PathBuf> = Vec::new();
                for (i, tree, tree_skipped, more) in results {
                    if more.is_empty() {
                        built[i] = Some((tree, tree_skipped));
                    } else {
                        extra.extend(more);
                    }
                }
                extra.sort();
                extra.dedup();
                for p in extra {
                    let c = self.cache.remove(&p);
                    let l = read_one(
                        &p,
                        &rel(&ws.root, &p),
                        c,
                        &self.parse_opts,
                        self.overlays.get(&p),
                    );
                    self.table.insert(p, l);
                }
            }
            self.expansions.end_build();
            for ((pi, ti, _), b) in roots.iter().zip(built) {
                let (tree, tree_skipped) = b.unwrap_or_default();
                skipped.extend(tree_skipped);
                trees.push((*pi, *ti, tree));
            }
        }

        self.trees = Some((trees.clone(), skipped.clone()));
        self.trees_stale = false;

        // File problems, once per file, for files some target reaches or that failed to load.
        let mut in_tree: FxHashSet<&Path> = FxHashSet::default();
        for (_, _, tree) in &trees {
            for f in tree {
                in_tree.insert(&f.path);
            }
        }
        let mut orphan_files = Vec::new();
        for (p, l) in &self.table {
            if let Some(problem) = &l.problem {
                skipped.push(problem.clone());
                continue;
            }
            if !in_tree.contains(p.as_path()) {
                orphan_files.push(rel(&ws.root, p));
                continue;
            }
            let display = rel(&ws.root, p);
            if let Some(first) = l.parsed.issues.first() {
                let whole = !l.parsed.parsed;
                let reason = if whole {
                    first.message.clone()
                } else {
                    format!("{} (items before and after it are indexed)", first.message)
                };
                skipped.push(Skipped {
                    path: display,
                    line: first.line,
                    reason,
                    whole_file: whole,
                });
            }
        }
        for (p, problem) in &self.held_back {
            if in_tree.contains(p.as_path()) {
                skipped.push(problem.clone());
            }
        }
        orphan_files.sort();

        // The parses the trees need, held apart from the table so that the targets' state
        // can change while they are read.
        let held: Vec<Vec<Arc<ParsedFile>>> = trees
            .iter()
            .map(|(_, _, tree)| {
                tree.iter()
                    .map(|f| match &f.expanded {
                        Some((p, _)) => p.clone(),
                        None => self.table[&f.path].parsed.clone(),
                    })
                    .collect()
            })
            .collect();
        let t_trees = t0.elapsed();
        let crate_inputs: Vec<CrateInput> = trees
            .iter()
            .zip(&held)
            .map(|((pi, ti, tree), parsed)| {
                let pkg = &ws.packages[*pi];
                let target = &pkg.targets[*ti];
                CrateInput {
                    source: None,
                    name: target.name.clone(),
                    package: pkg.name.clone(),
                    version: pkg.version.clone(),
                    kind: target.kind,
                    package_root: pkg.rel_dir.clone(),
                    externs: self
                        .attached
                        .as_ref()
                        .and_then(|a| a.externs.get(&pkg.name).cloned()),
                    modules: tree
                        .iter()
                        .zip(parsed)
                        .map(|(f, parsed)| ModuleFile {
                            path: rel(&ws.root, &f.path),
                            parsed,
                            declared_by: f.declared_by,
                        })
                        .collect(),
                }
            })
            .collect();
        let keys: Vec<String> = crate_inputs.iter().map(CrateInput::key).collect();
        let new_trees: Vec<Tree> = trees
            .iter()
            .map(|(_, _, tree)| {
                tree.iter()
                    .map(|f| {
                        // A file with expansions is as new as they are.
                        let hash = match &f.expanded {
                            Some((_, h)) => *h,
                            None => self.table[&f.path].hash,
                        };
                        (f.path.clone(), f.declared_by, hash)
                    })
                    .collect()
            })
            .collect();
        let rest = self.rest_of(&trees, skipped);
        let t_rest = t0.elapsed();

        // The parts can be built incrementally when the targets are the ones of the last
        // build and the database holds what this indexer wrote.
        let db_generation = self.db.generation()?;
        let incremental = self.generation == db_generation
            && db_generation > 0
            && self.target_keys == keys
            && self.targets.len() == keys.len()
            && self.targets.iter().all(|t| !t.tree.is_empty());
        let tb = Instant::now();
        let (delta, rebuilt) = if incremental {
            let dirty: Vec<bool> = new_trees
                .iter()
                .zip(&self.targets)
                .map(|(new, old)| *new != old.tree)
                .collect();
            let (mut delta, rebuilt) = self.rebuild_incrementally(&crate_inputs, dirty, &new_trees);
            delta.extend(Graph::diff(&self.rest, &rest));
            (delta, rebuilt)
        } else {
            // The base to diff against: what the database holds.
            let old_graph = if db_generation == 0 {
                Graph::default()
            } else if self.generation == db_generation && !self.targets.is_empty() {
                // The last graph written (from the cache): as good as reading it back.
                self.graph()
            } else {
                self.db.load_graph()?
            };
            let parts = ploke_graph::build_parts(&crate_inputs, None);
            self.targets = parts
                .into_iter()
                .zip(&new_trees)
                .map(|(part, tree)| TargetState {
                    tree: tree.clone(),
                    part: part.unwrap_or_default(),
                    ..TargetState::default()
                })
                .collect();
            self.target_keys = keys;
            self.refresh_names(&crate_inputs, &new_trees, &vec![true; crate_inputs.len()]);
            let mut whole = self.assemble();
            whole.files = rest.files.clone();
            whole.skipped = rest.skipped.clone();
            whole.canonicalize();
            (Graph::diff(&old_graph, &whole), self.targets.len())
        };
        self.rest = rest;
        tracing::debug!(
            ms = tb.elapsed().as_secs_f64() * 1000.0,
            incremental,
            rebuilt,
            ?t_trees,
            ?t_rest,
            "build parts"
        );
        Ok(Built {
            delta,
            orphan_files,
            rebuilt,
        })
    }

    /// File records and skip records, as one graph with nothing else.
    fn rest_of(&self, trees: &[(usize, usize, Vec<TreeFile>)], skipped: Vec<Skipped>) -> Graph {
        let ws = &self.ws;
        // File records: every file some target reaches, attributed to the first such target.
        let mut file_records: FxHashMap<&Path, FileRecord> = FxHashMap::default();
        for (pi, ti, tree) in trees {
            let pkg = &ws.packages[*pi];
            for f in tree {
                let l = &self.table[&f.path];
                file_records.entry(&f.path).or_insert_with(|| FileRecord {
                    path: rel(&ws.root, &f.path),
                    rel_path: rel(&pkg.manifest_dir, &f.path),
                    crate_name: pkg.targets[*ti].name.clone(),
                    hash: l.hash,
                    size: l.size,
                    lines: l.parsed.lines,
                });
            }
        }
        let mut g = Graph {
            files: file_records.into_values().collect(),
            skipped,
            ..Graph::default()
        };
        g.canonicalize();
        g
    }

    /// Recomputes the names of the targets marked in `which` from their files.
    fn refresh_names(&mut self, inputs: &[CrateInput<'_>], trees: &[Tree], which: &[bool]) {
        for (t, input) in inputs.iter().enumerate() {
            if !which[t] {
                continue;
            }
            let mut first = FxHashSet::default();
            let mut all = FxHashSet::default();
            for (m, (path, _, hash)) in input.modules.iter().zip(&trees[t]) {
                let names = self.names.get(path, *hash, m.parsed);
                first.extend(names.first.iter().cloned());
                all.extend(names.all.iter().cloned());
            }
            self.targets[t].first = first;
            self.targets[t].all = all;
        }
    }

    /// Builds the parts of the `dirty` targets, then of every target a changed name reaches,
    /// until no name changes (see the `parts` module). Returns the delta of the rebuilt parts
    /// and how many were rebuilt.
    fn rebuild_incrementally(
        &mut self,
        inputs: &[CrateInput<'_>],
        mut dirty: Vec<bool>,
        new_trees: &[Tree],
    ) -> (GraphDelta, usize) {
        let n = inputs.len();
        self.refresh_names(inputs, new_trees, &dirty);
        let libs: FxHashMap<&str, usize> = inputs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == ploke_core::TargetKind::Lib)
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        let firsts: Vec<&FxHashSet<String>> = self.targets.iter().map(|t| &t.first).collect();
        let ctx = contexts(&firsts, &libs);
        let mut done = vec![false; n];
        let mut delta = GraphDelta::default();
        let mut rebuilt = 0;
        while dirty.iter().any(|&d| d) {
            // Every target the dirty ones read, as context.
            let mut need = vec![false; n];
            for t in (0..n).filter(|&t| dirty[t]) {
                for &c in &ctx[t] {
                    need[c] = true;
                }
            }
            let picked: Vec<usize> = (0..n).filter(|&t| need[t]).collect();
            let sub: Vec<CrateInput> = picked.iter().map(|&t| inputs[t].clone()).collect();
            let emit: Vec<bool> = picked.iter().map(|&t| dirty[t]).collect();
            let parts = ploke_graph::build_parts(&sub, Some(&emit));
            let mut changed: Vec<(usize, FxHashSet<String>)> = Vec::new();
            for (&t, part) in picked.iter().zip(parts) {
                let Some(part) = part else { continue };
                let old = std::mem::replace(&mut self.targets[t].part, part);
                let new = &self.targets[t].part;
                let names = changed_names(&old, new);
                delta.extend(Graph::diff(&old, new));
                if !names.is_empty() {
                    changed.push((t, names));
                }
                self.targets[t].tree = new_trees[t].clone();
                done[t] = true;
                rebuilt += 1;
            }
            dirty = vec![false; n];
            for d in (0..n).filter(|&d| !done[d]) {
                dirty[d] = changed.iter().any(|(t, names)| {
                    ctx[d].contains(t) && names.iter().any(|nm| self.targets[d].all.contains(nm))
                });
            }
            self.refresh_names(inputs, new_trees, &dirty);
        }
        (delta, rebuilt)
    }

    /// The parts of every target, as one canonical graph (without file or skip records).
    fn assemble(&self) -> Graph {
        let mut g = Graph::default();
        for t in &self.targets {
            g.crates.extend(t.part.crates.iter().cloned());
            g.nodes.extend(t.part.nodes.iter().cloned());
            g.edges.extend(t.part.edges.iter().cloned());
            g.unresolved.extend(t.part.unresolved.iter().cloned());
        }
        g.canonicalize();
        g
    }

    /// The whole graph the database holds after the last refresh (assembled from the parts).
    pub fn graph(&self) -> Graph {
        let mut g = self.assemble();
        g.files = self.rest.files.clone();
        g.skipped = self.rest.skipped.clone();
        g.canonicalize();
        g
    }

    /// The graph as parts, one per target plus one holding the file and skip records: what
    /// [`Indexer::graph`] assembles, without copying it.
    pub fn parts(&self) -> Vec<&Graph> {
        self.targets
            .iter()
            .map(|t| &t.part)
            .chain(std::iter::once(&self.rest))
            .collect()
    }

    /// Writes the delta, with the generation.
    fn write(&mut self, built: Built, mut t: Timer) -> Result<IndexReport, IndexError> {
        let Built {
            delta,
            orphan_files,
            rebuilt,
        } = built;
        let db_generation = self.db.generation()?;
        let by_path: FxHashMap<String, &PathBuf> = self
            .table
            .keys()
            .map(|p| (rel(&self.ws.root, p), p))
            .collect();
        // Source text is stored for files that yielded items; a file refused whole (too large,
        // too deeply nested) keeps no text, and any text it had before is dropped.
        let mut sources: Vec<(String, Arc<str>)> = Vec::new();
        let mut rm_sources: Vec<String> = delta.rm_files.clone();
        for f in &delta.put_files {
            let Some(p) = by_path.get(&f.path) else {
                continue;
            };
            let l = &self.table[*p];
            if !l.parsed.parsed {
                rm_sources.push(f.path.clone());
                continue;
            }
            match self.text_of(p, l) {
                Some(text) => sources.push((f.path.clone(), text)),
                None => rm_sources.push(f.path.clone()),
            }
        }
        if self.opts.rebuild {
            // Whatever a damaged store held: every text again, and none of files that are gone.
            let kept: FxHashSet<&str> = self.rest.files.iter().map(|f| f.path.as_str()).collect();
            let written: FxHashSet<String> = sources.iter().map(|(p, _)| p.clone()).collect();
            for f in &self.rest.files {
                if written.contains(&f.path) {
                    continue;
                }
                let Some(p) = by_path.get(&f.path) else {
                    continue;
                };
                let l = &self.table[*p];
                if let (true, Some(text)) = (l.parsed.parsed, self.text_of(p, l)) {
                    sources.push((f.path.clone(), text));
                }
            }
            for p in self.db.source_paths()? {
                if !kept.contains(p.as_str()) {
                    rm_sources.push(p);
                }
            }
            rm_sources.sort();
            rm_sources.dedup();
        }
        let generation = db_generation + 1;
        let count = |f: fn(&Graph) -> usize| self.targets.iter().map(|t| f(&t.part)).sum::<usize>();
        let report = IndexReport {
            workspace_root: self.ws.root.clone(),
            db_dir: self.db_dir.clone(),
            crates: count(|g| g.crates.len()),
            files: self.rest.files.len(),
            lines: self.rest.files.iter().map(|f| f.lines as u64).sum(),
            bytes: self.rest.files.iter().map(|f| f.size).sum(),
            nodes: count(|g| g.nodes.len()),
            edges: count(|g| g.edges.len()),
            unresolved: count(|g| g.unresolved.len()),
            parsed_files: self.table.values().filter(|l| l.fresh).count(),
            orphan_files,
            skipped: self.rest.skipped.clone(),
            delta_rows: delta.len(),
            items_changed: delta.put_nodes.len() + delta.rm_nodes.len(),
            stages: Vec::new(),
            warnings: self.ws.warnings.clone(),
            generation,
            changed_files: delta
                .put_files
                .iter()
                .map(|f| f.path.clone())
                .chain(delta.rm_files.iter().cloned())
                .collect(),
            rebuilt_targets: rebuilt,
            new_problems: std::mem::take(&mut self.new_problems),
            sources_written: sources.clone(),
            sources_removed: rm_sources.clone(),
            deps: self.deps_report.take(),
        };
        let ta = Instant::now();
        let store = match (&self.deps_store, self.saved_deps.scope) {
            (Some(dir), _) => dir.to_string_lossy().into_owned(),
            _ => String::new(),
        };
        let (analysis, stored) = self.analyze(&delta, db_generation, generation)?;
        t.lap("analyze");
        let generation_text = generation.to_string();
        self.db.commit_with_analysis(
            &delta,
            &sources,
            &rm_sources,
            generation,
            &[
                (ploke_db::DEPS_STORE_KEY, &store),
                (ploke_db::ANALYSIS_KEY, &generation_text),
            ],
            Some(&analysis),
        )?;
        self.analysis = Some(stored);
        tracing::debug!(
            ms = ta.elapsed().as_secs_f64() * 1000.0,
            rows = delta.len(),
            "db commit"
        );
        for l in self.table.values_mut() {
            l.fresh = false;
        }
        self.generation = generation;
        self.save_stamps();
        t.lap("write");
        Ok(IndexReport {
            stages: t.stages,
            ..report
        })
    }

    /// The analysis of the graph after `delta` (see [`crate::analysis`]), as the rows to
    /// write and the state to keep.
    #[allow(clippy::type_complexity)]
    fn analyze(
        &mut self,
        delta: &GraphDelta,
        db_generation: u64,
        generation: u64,
    ) -> Result<
        (
            ploke_db::AnalysisDelta,
            (ploke_db::StoredAnalysis, Vec<ploke_analyze::ApiItem>, u64),
        ),
        IndexError,
    > {
        let prev = match self.analysis.take() {
            Some((stored, last_api, g)) if g == db_generation => crate::analysis::Previous {
                stored,
                last_api,
                current: true,
            },
            _ => {
                let stored = self.db.stored_analysis()?;
                let current = db_generation > 0
                    && self.db.get_meta(ploke_db::ANALYSIS_KEY)?.as_deref()
                        == Some(db_generation.to_string().as_str());
                let last_api = match stored.api_generations.last() {
                    Some(&g) => self.db.api_surface(g)?,
                    None => Vec::new(),
                };
                crate::analysis::Previous {
                    stored,
                    last_api,
                    current,
                }
            }
        };
        let nodes: Vec<ploke_core::Node> = self
            .targets
            .iter()
            .flat_map(|t| t.part.nodes.iter().cloned())
            .collect();
        let edges: Vec<ploke_core::Edge> = self
            .targets
            .iter()
            .flat_map(|t| t.part.edges.iter().cloned())
            .collect();
        let wanted = crate::analysis::files_to_measure(&nodes, delta, prev.current);
        let files: FxHashMap<String, Arc<str>> = self
            .table
            .iter()
            .filter_map(|(p, l)| {
                let rel = rel(&self.ws.root, p);
                if !wanted.contains(rel.as_str()) {
                    return None;
                }
                Some((rel, self.text_of(p, l)?))
            })
            .collect();
        let (mut out, mut stored, last_api) =
            crate::analysis::update(&nodes, &edges, delta, prev, generation, &files);
        // Only the newest surfaces are kept.
        while stored.api_generations.len() > crate::analysis::API_GENERATIONS_KEPT {
            let g = stored.api_generations.remove(0);
            for a in self.db.api_surface(g)? {
                out.rm_api.push((g, a.crate_name, a.path, a.kind));
            }
        }
        Ok((out, (stored, last_api, generation)))
    }

    /// The text of a file (read again when this process has not read it yet). `None` when it
    /// can no longer be read or no longer holds the bytes that were parsed.
    fn text_of(&self, path: &Path, l: &Loaded) -> Option<Arc<str>> {
        if let Some(t) = &l.text {
            return Some(t.clone());
        }
        let bytes = std::fs::read(path).ok()?;
        if ContentHash::of(&bytes) != l.hash {
            // Changed since it was parsed: the next refresh reads it again. Until then the
            // store keeps no text for it rather than a text its spans do not fit.
            return None;
        }
        String::from_utf8(bytes).ok().map(Into::into)
    }

    /// Saves the stamps of the generation just written (`stamps.bin`, see
    /// [`crate::freshness`]): every file of the table as last seen, and the discovery stamps.
    fn save_stamps(&self) {
        let t = Instant::now();
        let files = self.table.iter().map(|(p, l)| (p.as_path(), &l.seen));
        let saved = crate::fresh::save(
            &self.db_dir,
            &self.ws.root,
            self.generation,
            files,
            &self.manifests,
        );
        tracing::debug!(
            ms = t.elapsed().as_secs_f64() * 1000.0,
            files = self.table.len(),
            "save stamps"
        );
        if let Err(e) = saved {
            tracing::warn!(
                "{}: could not save the index stamps: {e}",
                self.db_dir.display()
            );
            crate::fresh::remove(&self.db_dir);
        }
    }

    /// Writes the cache (parse results and the graph) beside the database, so that the next
    /// process starts from here. Cheap to call when nothing changed since the last save.
    pub fn save_cache(&mut self) {
        if !self.unsaved {
            return;
        }
        let parsed = self
            .table
            .iter()
            .filter(|(_, l)| l.problem.is_none())
            .map(|(p, l)| (p.as_path(), l.hash, &*l.parsed))
            .collect();
        let graph = self.graph();
        // The stamps of when the workspace was discovered: a manifest changed since then
        // makes the next run discover it again.
        let manifests = &self.manifests;
        let state = StateRef {
            version: crate::state::STATE_VERSION,
            parser_version: ploke_parse::PARSER_VERSION,
            generation: self.generation,
            workspace: Some(&self.ws),
            manifests,
            parsed: ParsedMap(parsed),
            graph: &graph,
            deps: &self.saved_deps,
        };
        match state.save(&self.db_dir) {
            Ok(()) => self.unsaved = false,
            Err(e) => {
                tracing::warn!(
                    "{}: could not save the index cache: {e}",
                    self.db_dir.display()
                );
                State::remove(&self.db_dir);
            }
        }
    }
}

/// The `.rs` files below `dir`, skipping hidden and `target` directories.
pub(crate) fn rust_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && name.ends_with(".rs") => out.push(path),
                _ => {}
            }
        }
    }
    out
}

/// What [`Indexer::build`] produced.
struct Built {
    /// What to write so that the database holds the new graph.
    delta: GraphDelta,
    orphan_files: Vec<String>,
    /// Targets whose part was built.
    rebuilt: usize,
}

/// Replaces a database that cannot be read (damaged, or of an older schema) by an empty one,
/// under the write lock: the new store is made beside it and renamed over it, so no reader
/// ever opens a half-made one.
fn replace_database(db_dir: &Path, opts: &IndexOptions) -> Result<Db, IndexError> {
    let holder = opts.holder.as_deref().unwrap_or("ploke index --rebuild");
    let note = |who: &str| tracing::warn!("waiting for {who} to finish writing the index");
    let _lock = WriteLock::acquire(db_dir, holder, Wait::Forever(&note))?;
    let fresh_dir = db_dir.join("rebuild.tmp");
    let _ = std::fs::remove_dir_all(&fresh_dir);
    {
        // Created complete (schema and all), then closed so that SQLite folds its log into
        // the file before the file moves.
        let _fresh = Db::open(&fresh_dir)?;
    }
    let io = |path: &Path, source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    };
    for name in ["graph.db-wal", "graph.db-shm"] {
        let f = db_dir.join(name);
        if f.exists() {
            std::fs::remove_file(&f).map_err(|e| io(&f, e))?;
        }
    }
    let from = fresh_dir.join(ploke_db::DB_FILE_NAME);
    let to = db_dir.join(ploke_db::DB_FILE_NAME);
    std::fs::rename(&from, &to).map_err(|e| io(&to, e))?;
    let _ = std::fs::remove_dir_all(&fresh_dir);
    State::remove(db_dir);
    crate::fresh::remove(db_dir);
    Ok(Db::open(db_dir)?)
}
