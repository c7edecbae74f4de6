//! The stages of one index run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use fxhash::{FxHashMap, FxHashSet};
use rayon::prelude::*;

use ploke_core::{ContentHash, FileRecord, Graph, Skipped};
use ploke_db::Db;
use ploke_graph::{CrateInput, ModuleFile};
use ploke_parse::{ParseOptions, ParsedFile};
use ploke_workspace::Workspace;

use crate::state::{manifests_of, manifests_unchanged, State};
use crate::tree::{module_tree, TreeFile};
use crate::{default_db_dir, IndexError, IndexOptions, IndexReport, Progress};

/// One Rust file after reading.
struct Loaded {
    text: Option<String>,
    hash: ContentHash,
    size: u64,
    parsed: ParsedFile,
    /// Why the file could not be read or decoded.
    problem: Option<Skipped>,
    /// Parsed in this run (not taken from the cache).
    fresh: bool,
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
        None => abs.ancestors().map(|a| default_db_dir(a)).collect(),
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

fn read_one(
    path: &Path,
    display: &str,
    cache: Option<(ContentHash, ParsedFile)>,
    opts: &ParseOptions,
) -> Loaded {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return Loaded {
                text: None,
                hash: ContentHash::default(),
                size: 0,
                parsed: ParsedFile::default(),
                problem: Some(Skipped {
                    path: display.to_string(),
                    line: 1,
                    reason: format!("could not read the file: {e}"),
                    whole_file: true,
                }),
                fresh: false,
            }
        }
    };
    let hash = ContentHash::of(&bytes);
    let size = bytes.len() as u64;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let upto = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..upto].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
            return Loaded {
                text: None,
                hash,
                size,
                parsed: ParsedFile::default(),
                problem: Some(Skipped {
                    path: display.to_string(),
                    line,
                    reason: format!("not valid UTF-8 (byte {upto}); Rust source must be UTF-8"),
                    whole_file: true,
                }),
                fresh: false,
            };
        }
    };
    match cache {
        Some((h, parsed)) if h == hash => Loaded {
            text: Some(text),
            hash,
            size,
            parsed,
            problem: None,
            fresh: false,
        },
        _ => {
            let parsed = ploke_parse::parse_file(&text, opts);
            Loaded {
                text: Some(text),
                hash,
                size,
                parsed,
                problem: None,
                fresh: true,
            }
        }
    }
}

/// Index the workspace that contains `path` into its database.
pub fn index(
    path: &Path,
    opts: &IndexOptions,
    progress: &dyn Progress,
) -> Result<IndexReport, IndexError> {
    let mut t = Timer {
        start: Instant::now(),
        stages: Vec::new(),
    };
    let parse_opts = ParseOptions {
        max_file_bytes: opts
            .max_file_bytes
            .unwrap_or(ParseOptions::default().max_file_bytes),
    };

    // Discover (or reuse the workspace of the last run when no manifest changed).
    progress.stage("discover", 0);
    let cached = if opts.rebuild {
        None
    } else {
        cached_workspace(path, opts.db_dir.as_deref())
    };
    let (ws, db_dir, mut state) = match cached {
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
    if opts.rebuild {
        State::remove(&db_dir);
        // The database and SQLite's write-ahead log beside it: a stale log must never be
        // replayed onto a fresh file.
        for name in [ploke_db::DB_FILE_NAME, "graph.db-wal", "graph.db-shm"] {
            let f = db_dir.join(name);
            if f.exists() {
                std::fs::remove_file(&f).map_err(|source| IndexError::Io {
                    path: f.clone(),
                    source,
                })?;
            }
        }
    }
    std::fs::create_dir_all(&db_dir).map_err(|source| IndexError::Io {
        path: db_dir.clone(),
        source,
    })?;
    if opts.db_dir.is_none() {
        // Keep the database out of version control without touching the user's .gitignore.
        let gi = db_dir.join(".gitignore");
        if !gi.exists() {
            let _ = std::fs::write(&gi, "*\n");
        }
    }
    t.lap("discover");

    // Read every Rust file of every package; parse what changed since the cache.
    let mut files: Vec<(PathBuf, usize)> = Vec::new();
    for (pi, pkg) in ws.packages.iter().enumerate() {
        for f in ploke_workspace::rust_files(&ws, pkg) {
            files.push((f, pi));
        }
    }
    progress.stage("parse", files.len() as u64);
    let mut cache = std::mem::take(&mut state.parsed);
    let jobs: Vec<(PathBuf, usize, Option<(ContentHash, ParsedFile)>)> = files
        .into_iter()
        .map(|(f, pi)| {
            let c = cache.remove(&f);
            (f, pi, c)
        })
        .collect();
    // Threads with deep stacks: syn recurses, and most files then parse without the parser
    // having to switch to a fresh stack segment.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(ploke_parse::RECOMMENDED_STACK_BYTES)
        .thread_name(|i| format!("ploke-parse-{i}"))
        .build()
        .ok();
    let parse_all = || -> Vec<(PathBuf, usize, Loaded)> {
        jobs.into_par_iter()
            .map(|(f, pi, c)| {
                let l = read_one(&f, &rel(&ws.root, &f), c, &parse_opts);
                progress.inc(1);
                (f, pi, l)
            })
            .collect()
    };
    let loaded = match &pool {
        Some(p) => p.install(parse_all),
        None => parse_all(),
    };
    let mut table: FxHashMap<PathBuf, (usize, Loaded)> =
        loaded.into_iter().map(|(f, pi, l)| (f, (pi, l))).collect();
    t.lap("parse");

    // Module trees: files reached from each target root (loading `#[path]` files outside the
    // walked set on demand).
    progress.stage("resolve", 0);
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut trees: Vec<(usize, usize, Vec<TreeFile>)> = Vec::new(); // (package, target, files)
    for (pi, pkg) in ws.packages.iter().enumerate() {
        for (ti, target) in pkg.targets.iter().enumerate() {
            let root = crate::tree::normalize(&target.root_file);
            // Load files the tree needs that the walk did not list (`#[path]` outside the
            // package, ignored files), until nothing new is asked for.
            loop {
                let mut extra: Vec<PathBuf> = Vec::new();
                module_tree(
                    &root,
                    |p| match table.get(p) {
                        Some((_, l)) if l.problem.is_none() => Some(&l.parsed),
                        Some(_) => None,
                        None => {
                            if p.is_file() {
                                extra.push(p.to_path_buf());
                            }
                            None
                        }
                    },
                    |p| rel(&ws.root, p),
                    &mut Vec::new(),
                );
                if extra.is_empty() {
                    break;
                }
                for p in extra {
                    let c = cache.remove(&p);
                    let l = read_one(&p, &rel(&ws.root, &p), c, &parse_opts);
                    table.insert(p, (pi, l));
                }
            }
            let mut tree_skipped = Vec::new();
            let tree = module_tree(
                &root,
                |p| match table.get(p) {
                    Some((_, l)) if l.problem.is_none() => Some(&l.parsed),
                    _ => None,
                },
                |p| rel(&ws.root, p),
                &mut tree_skipped,
            );
            skipped.extend(tree_skipped);
            trees.push((pi, ti, tree));
        }
    }

    // File problems, once per file, for files some target reaches or that failed to load.
    let mut in_tree: FxHashSet<&Path> = FxHashSet::default();
    for (_, _, tree) in &trees {
        for f in tree {
            in_tree.insert(&f.path);
        }
    }
    let mut orphan_files = Vec::new();
    for (p, (_, l)) in &table {
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
    orphan_files.sort();

    let crate_inputs: Vec<CrateInput> = trees
        .iter()
        .map(|(pi, ti, tree)| {
            let pkg = &ws.packages[*pi];
            let target = &pkg.targets[*ti];
            CrateInput {
                name: target.name.clone(),
                package: pkg.name.clone(),
                version: pkg.version.clone(),
                kind: target.kind,
                package_root: pkg.rel_dir.clone(),
                modules: tree
                    .iter()
                    .map(|f| ModuleFile {
                        path: rel(&ws.root, &f.path),
                        parsed: &table[&f.path].1.parsed,
                        declared_by: f.declared_by,
                    })
                    .collect(),
            }
        })
        .collect();
    let tb = Instant::now();
    let mut graph = ploke_graph::build_graph(&crate_inputs);
    tracing::debug!(ms = tb.elapsed().as_secs_f64() * 1000.0, "build_graph");

    // File records: every file some target reaches, attributed to the first such target.
    let mut file_records: FxHashMap<&Path, FileRecord> = FxHashMap::default();
    for (pi, ti, tree) in &trees {
        let pkg = &ws.packages[*pi];
        for f in tree {
            let (_, l) = &table[&f.path];
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
    graph.files = file_records.into_values().collect();
    graph.skipped = skipped;
    graph.canonicalize();
    t.lap("resolve");

    // Write the difference to what the database holds.
    progress.stage("write", 0);
    let to = Instant::now();
    let db = Db::open(&db_dir)?;
    tracing::debug!(ms = to.elapsed().as_secs_f64() * 1000.0, "db open");
    let db_generation: u64 = db
        .get_meta("generation")?
        .and_then(|g| g.parse().ok())
        .unwrap_or(0);
    let old_graph = if state.generation == db_generation && db_generation > 0 {
        std::mem::take(&mut state.graph)
    } else if db_generation > 0 {
        db.load_graph()?
    } else {
        Graph::default()
    };
    let td = Instant::now();
    let delta = Graph::diff(&old_graph, &graph);
    tracing::debug!(ms = td.elapsed().as_secs_f64() * 1000.0, "diff");
    let by_path: FxHashMap<String, &PathBuf> =
        table.keys().map(|p| (rel(&ws.root, p), p)).collect();
    // Source text is stored for files that yielded items; a file refused whole (too large,
    // too deeply nested) keeps no text, and any text it had before is dropped.
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut rm_sources: Vec<String> = delta.rm_files.clone();
    for f in &delta.put_files {
        let Some(p) = by_path.get(&f.path) else {
            continue;
        };
        let l = &table[*p].1;
        match &l.text {
            Some(text) if l.parsed.parsed => sources.push((f.path.clone(), text.clone())),
            _ => rm_sources.push(f.path.clone()),
        }
    }
    let generation = db_generation + 1;

    let report = IndexReport {
        workspace_root: ws.root.clone(),
        db_dir: db_dir.clone(),
        crates: graph.crates.len(),
        files: graph.files.len(),
        lines: graph.files.iter().map(|f| f.lines as u64).sum(),
        bytes: graph.files.iter().map(|f| f.size).sum(),
        nodes: graph.nodes.len(),
        edges: graph.edges.len(),
        unresolved: graph.unresolved.len(),
        parsed_files: table.values().filter(|(_, l)| l.fresh).count(),
        orphan_files,
        skipped: graph.skipped.clone(),
        delta_rows: delta.len(),
        stages: Vec::new(),
        warnings: ws.warnings.clone(),
    };

    // The database write and the cache save are independent: do them side by side. The cache
    // carries the generation the database is about to get; if the write fails, the mismatch
    // makes the next run ignore the cache.
    let manifests = manifests_of(&ws);
    let parsed = table
        .into_iter()
        .filter(|(_, (_, l))| l.problem.is_none())
        .map(|(p, (_, l))| (p, (l.hash, l.parsed)))
        .collect();
    let new_state = State {
        version: crate::state::STATE_VERSION,
        parser_version: ploke_parse::PARSER_VERSION,
        generation,
        workspace: Some(ws),
        manifests,
        parsed,
        graph,
    };
    let (db_result, save_result) = std::thread::scope(|s| {
        let saver = s.spawn(|| new_state.save(&db_dir));
        let written = (|| -> Result<(), IndexError> {
            if !delta.is_empty() {
                let ta = Instant::now();
                db.apply(&delta, &sources, &rm_sources)?;
                tracing::debug!(
                    ms = ta.elapsed().as_secs_f64() * 1000.0,
                    rows = delta.len(),
                    "db apply"
                );
            }
            db.set_meta("generation", &generation.to_string())?;
            Ok(())
        })();
        (written, saver.join())
    });
    db_result?;
    match save_result {
        Ok(r) => r.map_err(|source| IndexError::Io {
            path: db_dir.clone(),
            source,
        })?,
        Err(_) => State::remove(&db_dir),
    }
    t.lap("write");
    Ok(IndexReport {
        stages: t.stages,
        ..report
    })
}
