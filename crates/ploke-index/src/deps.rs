//! Dependencies: each crate the workspace builds with, indexed once into a cache shared by
//! every workspace of the user, and attached to a workspace's database read-only.
//!
//! An entry of the cache is one dependency at one exact identity: its name, version and
//! source, the features the build enables, and the identities of the dependencies its code
//! resolves into (so a new version of one of those is a new entry of the dependents too).
//! Entries are immutable: written once to a temporary directory and renamed into place, never
//! changed after. Each holds the crate's graph (nodes, edges into the crates it depends on,
//! file records with absolute paths) and its [`Interface`], which is all that resolving a
//! dependent needs.
//!
//! Dependencies are built in dependency order, those of one level in parallel. Nothing is
//! downloaded: a dependency whose source is not on disk is reported with the `cargo fetch`
//! that brings it, and skipped.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use fxhash::{FxHashMap, FxHashSet};
use ploke_core::{ContentHash, FileRecord, Graph, ItemKind, NodeId, Skipped, TargetKind};
use ploke_graph::{CrateInput, Externs, Interface, ModuleFile};
use ploke_parse::{ParseOptions, ParsedFile};
use ploke_workspace::{DepKind, Dependencies, Dependency, SourceKind};
use rayon::prelude::*;

use crate::tree::{module_tree, normalize};

/// Bump when what an entry holds, or how it is built, changes (with the parser's version,
/// part of every key).
const FORMAT: u32 = 1;
const META_FILE: &str = "meta.json";
const IFACE_FILE: &str = "interface.bin";
const GRAPH_FILE: &str = "graph.bin";
/// Touched whenever a workspace attaches the entry: what `prune` goes by.
const USED_FILE: &str = "used";
/// Where the stores of sets of dependencies live, inside the cache.
const STORES_DIR: &str = ".stores";
/// Written last into a store: the entries it holds.
const COMPLETE_FILE: &str = "entries";

/// The user's dependency cache: `$PLOKE_CACHE_DIR`, else the platform's cache directory
/// (`$XDG_CACHE_HOME` or `~/.cache` on Linux), then `ploke/deps`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("PLOKE_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("deps");
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("ploke")
        .join("deps")
}

/// What an entry is, as `ploke cache list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EntryMeta {
    /// The entry's key (hex): its identity.
    pub key: String,
    pub name: String,
    pub version: String,
    /// Cargo's source string, or the directory of a path dependency.
    pub source: String,
    pub features: Vec<String>,
    /// The library's crate name in paths.
    pub crate_name: String,
    /// Where its sources are (its `Cargo.toml`'s directory).
    pub manifest_dir: PathBuf,
    pub files: usize,
    pub lines: u64,
    pub items: usize,
    /// Files that could not be read or parsed (what parsed is indexed).
    pub problems: usize,
    /// How long building it took.
    pub build_ms: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// When it was built (seconds since the Unix epoch).
    pub created: u64,
    /// When a workspace last attached it (seconds since the Unix epoch); filled in by
    /// [`DepCache::list`].
    #[serde(default)]
    pub last_used: u64,
}

/// One entry, loaded.
#[derive(Debug)]
pub struct Entry {
    pub meta: EntryMeta,
    /// The crate root's node id.
    pub root: NodeId,
    pub iface: Arc<Interface>,
    /// Its graph while it is in memory (just built); otherwise read from the cache.
    graph: std::sync::Mutex<Option<Arc<Graph>>>,
    dir: PathBuf,
}

impl Entry {
    /// The entry's graph (nodes, edges, unresolved references, file records); `None` when it
    /// can no longer be read (pruned meanwhile).
    pub fn graph(&self) -> Option<Arc<Graph>> {
        if let Some(g) = self
            .graph
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            return Some(Arc::clone(g));
        }
        let bytes = std::fs::read(self.dir.join(GRAPH_FILE)).ok()?;
        postcard::from_bytes::<Graph>(&bytes).ok().map(Arc::new)
    }

    /// Drops the graph from memory (it is read from the cache when needed again).
    pub fn release(&self) {
        *self.graph.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The user's dependency cache.
#[derive(Debug, Clone)]
pub struct DepCache {
    dir: PathBuf,
}

/// What [`DepCache::prune`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    pub entries: Vec<EntryMeta>,
    /// Stores of sets of dependencies removed (those of a removed entry, or unused as long).
    pub stores: usize,
    pub bytes: u64,
}

impl DepCache {
    pub fn new(dir: PathBuf) -> DepCache {
        DepCache { dir }
    }

    /// The cache at [`default_cache_dir`].
    pub fn user() -> DepCache {
        DepCache::new(default_cache_dir())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_dir(&self, name: &str, version: &str, key: &str) -> PathBuf {
        self.dir.join(format!("{name}-{version}-{}", &key[..16]))
    }

    /// Every entry, by name and version.
    pub fn list(&self) -> Vec<EntryMeta> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<EntryMeta> = rd
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| read_meta(&e.path()))
            .collect();
        out.sort_by(|a, b| (&a.name, &a.version, &a.key).cmp(&(&b.name, &b.version, &b.key)));
        out
    }

    /// Removes the entries no workspace attached for `unused_for` (all with `Duration::ZERO`).
    /// A workspace whose entry is gone builds it again on its next full index.
    pub fn prune(&self, unused_for: Duration) -> std::io::Result<Pruned> {
        let now = unix_now();
        let mut pruned = Pruned::default();
        for meta in self.list() {
            if now.saturating_sub(meta.last_used) < unused_for.as_secs() && !unused_for.is_zero() {
                continue;
            }
            let dir = self.entry_dir(&meta.name, &meta.version, &meta.key);
            self.remove(&dir)?;
            pruned.bytes += meta.bytes;
            pruned.entries.push(meta);
        }
        for (dir, bytes, used) in self.stores() {
            let gone = std::fs::read_to_string(dir.join(COMPLETE_FILE))
                .map(|list| {
                    list.lines().any(|l| {
                        let mut w = l.split(' ');
                        match (w.next(), w.next(), w.next()) {
                            (Some(n), Some(v), Some(k)) => {
                                read_meta(&self.entry_dir(n, v, k)).is_none_or(|m| m.key != k)
                            }
                            _ => true,
                        }
                    })
                })
                .unwrap_or(true);
            let old = now.saturating_sub(used) >= unused_for.as_secs();
            if gone || old {
                self.remove(&dir)?;
                pruned.bytes += bytes;
                pruned.stores += 1;
            }
        }
        Ok(pruned)
    }

    /// The store that holds the rows of exactly `entries` (a database in the cache, shared
    /// by every index that builds with the same dependencies), written first if there is
    /// none. An index names it ([`ploke_db::DEPS_STORE_KEY`]) and reads it beside its own
    /// ([`ploke_db::Db::dependencies`]).
    pub fn store_for(&self, entries: &[Arc<Entry>]) -> std::io::Result<PathBuf> {
        let mut keys: Vec<&str> = entries.iter().map(|e| e.meta.key.as_str()).collect();
        keys.sort_unstable();
        let id =
            ContentHash::of(format!("store {FORMAT}\n{}", keys.join("\n")).as_bytes()).to_hex();
        let stores = self.dir.join(STORES_DIR);
        let dir = stores.join(&id);
        let _ = std::fs::write(dir.join(USED_FILE), b"");
        if dir.join(COMPLETE_FILE).is_file() {
            return Ok(dir);
        }
        std::fs::create_dir_all(&stores)?;
        let tmp = stores.join(format!(
            ".tmp-{}-{}-{id}",
            std::process::id(),
            unix_now_nanos()
        ));
        let db_err = |e: ploke_db::DbError| std::io::Error::other(e.to_string());
        let build = || -> std::io::Result<()> {
            let db = ploke_db::Db::create_bulk(&tmp).map_err(db_err)?;
            // One transaction: SQLite writes each page once.
            let mut graphs: Vec<Arc<Graph>> = Vec::with_capacity(entries.len());
            for e in entries {
                let Some(g) = e.graph() else {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!(
                            "the dependency cache lost {} {} while it was read; index again",
                            e.meta.name, e.meta.version
                        ),
                    ));
                };
                graphs.push(g);
            }
            let t = Instant::now();
            let refs: Vec<&Graph> = graphs.iter().map(|g| &**g).collect();
            db.put_graphs(&refs, 1).map_err(db_err)?;
            tracing::debug!(
                ms = t.elapsed().as_millis() as u64,
                nodes = refs.iter().map(|g| g.nodes.len()).sum::<usize>(),
                edges = refs.iter().map(|g| g.edges.len()).sum::<usize>(),
                "dependency store written"
            );
            drop(refs);
            drop(graphs);
            drop(db);
            let list: Vec<String> = entries
                .iter()
                .map(|e| format!("{} {} {}", e.meta.name, e.meta.version, e.meta.key))
                .collect();
            std::fs::write(tmp.join(COMPLETE_FILE), list.join("\n"))?;
            std::fs::write(tmp.join(USED_FILE), b"")?;
            Ok(())
        };
        if let Err(e) = build() {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if std::fs::rename(&tmp, &dir).is_err() {
            // Another process wrote it meanwhile (or an unfinished one sits there).
            let _ = std::fs::remove_dir_all(&tmp);
            if !dir.join(COMPLETE_FILE).is_file() {
                let _ = std::fs::remove_dir_all(&dir);
                return self.store_for(entries);
            }
        }
        Ok(dir)
    }

    /// The stores of sets of dependencies: (directory, bytes, last used).
    pub fn stores(&self) -> Vec<(PathBuf, u64, u64)> {
        let Ok(rd) = std::fs::read_dir(self.dir.join(STORES_DIR)) else {
            return Vec::new();
        };
        let mut out: Vec<(PathBuf, u64, u64)> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join(COMPLETE_FILE).is_file())
            .map(|p| {
                let bytes = dir_bytes(&p);
                let used = modified_secs(&p.join(USED_FILE)).unwrap_or(0);
                (p, bytes, used)
            })
            .collect();
        out.sort();
        out
    }

    /// Removes an entry or a store: moved out of the way first (a rename is atomic), so a
    /// reader never sees half of it.
    fn remove(&self, dir: &Path) -> std::io::Result<()> {
        let trash = self.dir.join(format!(
            ".prune-{}-{}",
            std::process::id(),
            unix_now_nanos()
        ));
        std::fs::rename(dir, &trash)?;
        std::fs::remove_dir_all(&trash)
    }

    /// Loads an entry's meta and interface.
    pub(crate) fn load(&self, name: &str, version: &str, key: &str) -> Option<Entry> {
        let dir = self.entry_dir(name, version, key);
        let meta = read_meta(&dir)?;
        if meta.key != key {
            return None;
        }
        let bytes = std::fs::read(dir.join(IFACE_FILE)).ok()?;
        let iface: Interface = postcard::from_bytes(&bytes).ok()?;
        let _ = std::fs::write(dir.join(USED_FILE), b"");
        Some(Entry {
            meta,
            root: iface.root,
            iface: Arc::new(iface),
            graph: std::sync::Mutex::new(None),
            dir,
        })
    }

    /// Writes a new entry (temporary directory, then renamed into place; another process that
    /// wrote the same entry first wins, and the two are the same).
    fn store(&self, meta: &EntryMeta, iface: &Interface, graph: &Graph) -> std::io::Result<u64> {
        std::fs::create_dir_all(&self.dir)?;
        let dir = self.entry_dir(&meta.name, &meta.version, &meta.key);
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}-{}",
            std::process::id(),
            meta.key,
            unix_now_nanos()
        ));
        std::fs::create_dir_all(&tmp)?;
        let write = || -> std::io::Result<u64> {
            let g = postcard::to_stdvec(graph).map_err(std::io::Error::other)?;
            let i = postcard::to_stdvec(iface).map_err(std::io::Error::other)?;
            std::fs::write(tmp.join(GRAPH_FILE), &g)?;
            std::fs::write(tmp.join(IFACE_FILE), &i)?;
            std::fs::write(tmp.join(USED_FILE), b"")?;
            let bytes = (g.len() + i.len()) as u64;
            let meta = EntryMeta {
                bytes,
                ..meta.clone()
            };
            std::fs::write(
                tmp.join(META_FILE),
                serde_json::to_vec_pretty(&meta).map_err(std::io::Error::other)?,
            )?;
            Ok(bytes)
        };
        let bytes = match write() {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        if std::fs::rename(&tmp, &dir).is_err() {
            // Someone else stored it meanwhile (or a stale directory sits there).
            let _ = std::fs::remove_dir_all(&tmp);
            if read_meta(&dir).is_none_or(|m| m.key != meta.key) {
                let _ = std::fs::remove_dir_all(&dir);
                return self.store(meta, iface, graph);
            }
        }
        Ok(bytes)
    }
}

fn read_meta(dir: &Path) -> Option<EntryMeta> {
    let bytes = std::fs::read(dir.join(META_FILE)).ok()?;
    let mut meta: EntryMeta = serde_json::from_slice(&bytes).ok()?;
    meta.last_used = modified_secs(&dir.join(USED_FILE)).unwrap_or(meta.created);
    Some(meta)
}

fn modified_secs(p: &Path) -> Option<u64> {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn unix_now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The dependencies attached to a workspace: their entries and, for each member package,
/// the crates its code can name.
#[derive(Debug, Default)]
pub struct Attached {
    /// Entries in dependency order.
    pub entries: Vec<Arc<Entry>>,
    /// Member package name → its extern prelude and the interfaces behind it.
    pub externs: FxHashMap<String, Arc<Externs>>,
    pub report: DepsReport,
}

impl Attached {
    /// (name, version, key) of the entries, in order: what the index records as attached.
    pub fn keys(&self) -> Vec<(String, String, String)> {
        self.entries
            .iter()
            .map(|e| {
                (
                    e.meta.name.clone(),
                    e.meta.version.clone(),
                    e.meta.key.clone(),
                )
            })
            .collect()
    }
}

/// What attaching the dependencies did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DepsReport {
    /// Dependencies attached.
    pub crates: usize,
    /// Of those, built now (the rest came from the cache).
    pub built: usize,
    /// Files parsed to build them.
    pub parsed_files: usize,
    pub items: usize,
    /// Packages without a library target (nothing to index).
    pub without_lib: usize,
    /// `name version` of each dependency whose source is not on disk.
    pub missing: Vec<String>,
    /// The `cargo fetch` that would bring them.
    pub fetch_hint: Option<String>,
    /// Files of dependencies that could not be read or parsed (what parsed is indexed).
    pub problems: usize,
    pub warnings: Vec<String>,
    pub ms: u64,
}

/// Builds (or finds in `cache`) an entry for every dependency of `deps` that has a library,
/// in dependency order, each level in parallel.
pub fn attach(deps: &Dependencies, cache: &DepCache, parse: &ParseOptions) -> Attached {
    let t0 = Instant::now();
    let mut report = DepsReport {
        missing: deps
            .missing
            .iter()
            .map(|m| format!("{} {}", m.name, m.version))
            .collect(),
        fetch_hint: deps.fetch_hint.clone(),
        warnings: deps.warnings.clone(),
        ..DepsReport::default()
    };
    let by_id: FxHashMap<&str, usize> = deps
        .packages
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    // Levels: a package after every package it depends on (normal dependencies: what its
    // library's code names).
    let lib_deps = |d: &Dependency| -> Vec<(String, usize)> {
        d.deps
            .iter()
            .filter(|e| e.kinds.contains(&DepKind::Normal))
            .filter_map(|e| {
                by_id
                    .get(e.id.as_str())
                    .map(|&i| (e.extern_name.clone(), i))
            })
            .collect()
    };
    let mut level = vec![0usize; deps.packages.len()];
    for (i, d) in deps.packages.iter().enumerate() {
        // Packages come after their dependencies; a cycle (dev-dependencies) is cut.
        level[i] = lib_deps(d)
            .iter()
            .filter(|(_, j)| *j < i)
            .map(|(_, j)| level[*j] + 1)
            .max()
            .unwrap_or(0);
    }
    let top = level.iter().copied().max().unwrap_or(0);
    let mut keys: Vec<Option<String>> = vec![None; deps.packages.len()];
    let mut entries: Vec<Option<Arc<Entry>>> = vec![None; deps.packages.len()];
    let mut built_count = 0usize;
    let mut parsed_files = 0usize;
    for lvl in 0..=top {
        let todo: Vec<usize> = (0..deps.packages.len())
            .filter(|&i| level[i] == lvl)
            .collect();
        // Keys first (they name the keys of the dependencies, known by now).
        let jobs: Vec<(usize, String, Arc<Externs>)> = todo
            .iter()
            .filter_map(|&i| {
                let d = &deps.packages[i];
                d.lib.as_ref()?;
                let prelude: Vec<(String, usize)> = lib_deps(d)
                    .into_iter()
                    .filter(|(_, j)| entries[*j].is_some())
                    .collect();
                let key = entry_key(
                    d,
                    &prelude
                        .iter()
                        .map(|(n, j)| (n.as_str(), keys[*j].as_deref().unwrap_or("")))
                        .collect::<Vec<_>>(),
                );
                let externs = externs_of(&prelude, &entries);
                Some((i, key, externs))
            })
            .collect();
        report.without_lib += todo.len() - jobs.len();
        let done: Vec<(usize, String, Option<Entry>, usize, bool)> = jobs
            .into_par_iter()
            .map(|(i, key, externs)| {
                let d = &deps.packages[i];
                if let Some(e) = cache.load(&d.name, &d.version, &key) {
                    return (i, key, Some(e), 0, false);
                }
                match build_entry(d, &key, externs, parse) {
                    Some((meta, iface, graph)) => {
                        let files = meta.files;
                        if let Err(e) = cache.store(&meta, &iface, &graph) {
                            tracing::warn!(
                                "{}: could not store {} {} in the dependency cache: {e}",
                                cache.dir().display(),
                                d.name,
                                d.version
                            );
                        }
                        let root = iface.root;
                        let dir = cache.entry_dir(&d.name, &d.version, &key);
                        let entry = Entry {
                            meta,
                            root,
                            iface: Arc::new(iface),
                            graph: std::sync::Mutex::new(Some(Arc::new(graph))),
                            dir,
                        };
                        (i, key, Some(entry), files, true)
                    }
                    None => (i, key, None, 0, false),
                }
            })
            .collect();
        for (i, key, entry, files, built) in done {
            keys[i] = Some(key);
            if built {
                built_count += 1;
                parsed_files += files;
            }
            entries[i] = entry.map(Arc::new);
        }
    }
    let mut externs: FxHashMap<String, Arc<Externs>> = FxHashMap::default();
    for (member, edges) in &deps.members {
        let prelude: Vec<(String, usize)> = edges
            .iter()
            .filter_map(|e| {
                by_id
                    .get(e.id.as_str())
                    .map(|&i| (e.extern_name.clone(), i))
            })
            .filter(|(_, i)| entries[*i].is_some())
            .collect();
        externs.insert(member.clone(), externs_of(&prelude, &entries));
    }
    let entries: Vec<Arc<Entry>> = entries.into_iter().flatten().collect();
    report.crates = entries.len();
    report.built = built_count;
    report.parsed_files = parsed_files;
    report.items = entries.iter().map(|e| e.meta.items).sum();
    report.problems = entries.iter().map(|e| e.meta.problems).sum();
    report.ms = t0.elapsed().as_millis() as u64;
    Attached {
        entries,
        externs,
        report,
    }
}

/// The extern prelude `prelude` (extern name, package index) with the interfaces of every
/// entry built so far: walking a re-export into a third crate needs that crate's
/// interface, and an interface nobody names costs nothing.
fn externs_of(prelude: &[(String, usize)], entries: &[Option<Arc<Entry>>]) -> Arc<Externs> {
    let mut e = Externs::default();
    for (name, j) in prelude {
        if let Some(entry) = &entries[*j] {
            e.prelude.insert(name.clone(), entry.root);
        }
    }
    for entry in entries.iter().flatten() {
        e.crates.insert(entry.root, Arc::clone(&entry.iface));
    }
    Arc::new(e)
}

/// An entry's identity: the dependency's name, version, source, features and library, the
/// keys of the dependencies its code names (under the names it gives them), the parser's
/// and this module's versions; for a path dependency (whose files can change) the size,
/// time and name of each of its Rust files too.
fn entry_key(d: &Dependency, deps: &[(&str, &str)]) -> String {
    let mut s = format!(
        "ploke-dep {FORMAT} parser {}\n{}\n{}\n{}\n",
        ploke_parse::PARSER_VERSION,
        d.name,
        d.version,
        d.source
    );
    let mut features = d.features.clone();
    features.sort();
    s.push_str(&features.join(","));
    s.push('\n');
    if let Some(lib) = &d.lib {
        s.push_str(&format!(
            "{} {}\n",
            lib.name,
            lib.root_file
                .strip_prefix(&d.manifest_dir)
                .unwrap_or(&lib.root_file)
                .display()
        ));
    }
    let mut deps: Vec<&(&str, &str)> = deps.iter().collect();
    deps.sort();
    for (n, k) in deps {
        s.push_str(&format!("dep {n} {k}\n"));
    }
    if d.source_kind == SourceKind::Path {
        let mut files = crate::pipeline::rust_files_under(&d.manifest_dir);
        files.sort();
        for f in files {
            if let Ok(md) = std::fs::metadata(&f) {
                s.push_str(&format!(
                    "{} {} {}\n",
                    f.display(),
                    md.len(),
                    crate::fresh::mtime_ns(&md)
                ));
            }
        }
    }
    ContentHash::of(s.as_bytes()).to_hex()
}

struct Read {
    hash: ContentHash,
    size: u64,
    text: Arc<str>,
    parsed: ParsedFile,
}

fn read_parse(path: &Path, opts: &ParseOptions) -> Result<Read, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("could not read the file: {e}"))?;
    let hash = ContentHash::of(&bytes);
    let size = bytes.len() as u64;
    let text = String::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string())?;
    let parsed = ploke_parse::parse_file(&text, opts);
    Ok(Read {
        hash,
        size,
        text: text.into(),
        parsed,
    })
}

/// Indexes one dependency's library: its files read and parsed (on rayon), its module tree
/// (with its own `macro_rules!` expanded), its graph resolved into the crates of `externs`.
fn build_entry(
    d: &Dependency,
    key: &str,
    externs: Arc<Externs>,
    opts: &ParseOptions,
) -> Option<(EntryMeta, Interface, Graph)> {
    let t0 = Instant::now();
    let lib = d.lib.as_ref()?;
    let root = normalize(&lib.root_file);
    let src_dir = root.parent()?.to_path_buf();
    let display = |p: &Path| p.to_string_lossy().into_owned();
    let mut table: FxHashMap<PathBuf, Result<Read, String>> =
        crate::pipeline::rust_files_under(&src_dir)
            .into_par_iter()
            .map(|p| {
                let r = read_parse(&p, opts);
                (normalize(&p), r)
            })
            .collect();
    let memo = crate::macros::ExpansionMemo::default();
    let mut skipped: Vec<Skipped> = Vec::new();
    let tree = loop {
        let mut extra: Vec<PathBuf> = Vec::new();
        let mut problems = Vec::new();
        let tree = module_tree(
            &root,
            &memo,
            |p| match table.get(p) {
                Some(Ok(r)) => Some(&r.parsed),
                Some(Err(_)) => None,
                None => {
                    if p.is_file() {
                        extra.push(p.to_path_buf());
                    }
                    None
                }
            },
            |p| match table.get(p) {
                Some(Ok(r)) => Some(r.text.clone()),
                _ => None,
            },
            display,
            &mut problems,
        );
        if extra.is_empty() {
            skipped.extend(problems);
            break tree;
        }
        for p in extra {
            let r = read_parse(&p, opts);
            table.insert(p, r);
        }
    };
    let held: Vec<&ParsedFile> = tree
        .iter()
        .map(|f| match &f.expanded {
            Some((p, _)) => &**p,
            None => match &table[&f.path] {
                Ok(r) => &r.parsed,
                Err(_) => unreachable_parse(),
            },
        })
        .collect();
    let input = CrateInput {
        name: lib.name.clone(),
        package: d.name.clone(),
        version: d.version.clone(),
        kind: TargetKind::Lib,
        package_root: display(&d.manifest_dir),
        modules: tree
            .iter()
            .zip(&held)
            .map(|(f, parsed)| ModuleFile {
                path: display(&f.path),
                parsed,
                declared_by: f.declared_by,
            })
            .collect(),
        source: Some(d.source.clone()),
        externs: Some(externs),
    };
    let (mut parts, mut ifaces) = ploke_graph::build_with_interfaces(&[input], None);
    let mut graph = parts.pop().flatten()?;
    let iface = ifaces.pop().flatten()?;
    let mut seen: FxHashSet<&Path> = FxHashSet::default();
    for f in &tree {
        if !seen.insert(&f.path) {
            continue;
        }
        match &table[&f.path] {
            Ok(r) => {
                if let Some(first) = r.parsed.issues.first() {
                    skipped.push(Skipped {
                        path: display(&f.path),
                        line: first.line,
                        reason: first.message.clone(),
                        whole_file: !r.parsed.parsed,
                    });
                }
                graph.files.push(FileRecord {
                    path: display(&f.path),
                    rel_path: f
                        .path
                        .strip_prefix(&d.manifest_dir)
                        .unwrap_or(&f.path)
                        .to_string_lossy()
                        .into_owned(),
                    crate_name: lib.name.clone(),
                    hash: r.hash,
                    size: r.size,
                    lines: r.parsed.lines,
                });
            }
            Err(reason) => skipped.push(Skipped {
                path: display(&f.path),
                line: 1,
                reason: reason.clone(),
                whole_file: true,
            }),
        }
    }
    graph.canonicalize();
    let items = graph
        .nodes
        .iter()
        .filter(|n| !matches!(n.kind, ItemKind::Crate))
        .count();
    let meta = EntryMeta {
        key: key.to_string(),
        name: d.name.clone(),
        version: d.version.clone(),
        source: d.source.clone(),
        features: d.features.clone(),
        crate_name: lib.name.clone(),
        manifest_dir: d.manifest_dir.clone(),
        files: graph.files.len(),
        lines: graph.files.iter().map(|f| f.lines as u64).sum(),
        items,
        problems: skipped.len(),
        build_ms: t0.elapsed().as_millis() as u64,
        bytes: 0,
        created: unix_now(),
        last_used: unix_now(),
    };
    Some((meta, iface, graph))
}

/// A file whose read failed is never handed to the module tree (its loader returns `None`
/// for it), so it is never among the tree's files.
fn unreachable_parse() -> &'static ParsedFile {
    static EMPTY: std::sync::OnceLock<ParsedFile> = std::sync::OnceLock::new();
    EMPTY.get_or_init(ParsedFile::default)
}
