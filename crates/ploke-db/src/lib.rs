//! CozoDB store of the code graph: schema, batched writes, queries.
//!
//! [`Db`] wraps an embedded [CozoDB](https://docs.cozodb.org) instance (SQLite engine, one
//! file `graph.db` in the index directory) holding one [`Graph`]: its crates, files, nodes,
//! edges, unresolved references and skip records, plus the full text of every indexed workspace
//! file and a small key/value `meta` table. An attached dependency's files (absolute paths) are
//! not stored: [`Db::source`] reads them from disk and checks their hash. The schema is described in the `schema` module and
//! versioned by [`SCHEMA_VERSION`]; a store written with another version is refused. A new
//! store's SQLite file is set up before CozoDB opens it (a `WITHOUT ROWID` table, 8 KiB pages,
//! a 64 MiB page cache, write-ahead logging) for bulk-write speed and concurrent readers.
//!
//! Writes go through [`Db::apply`], which takes a [`GraphDelta`] (see [`Graph::diff`]) and
//! writes it in one CozoDB transaction with bulk imports (removals first, then puts). Reads
//! are either whole ([`Db::load_graph`], [`Db::all_nodes`]) or point queries that use the
//! relation keys and indices (by id, name, path, caller/callee, implementations, children).
//!
//! No query is ever built from user text: every value is passed as a script parameter.
//!
//! Queries name indices explicitly (`*nodes:by_name{name: $name, id}` joined back to
//! `*nodes{id, ..}`) instead of relying on CozoDB's automatic index selection: in cozo 0.7.6 an
//! automatically chosen index that must be joined back to its relation joins on the wrong
//! column and silently returns nothing. Queries against a relation whose first key column is
//! bound never trigger that selection.
//!
//! ```
//! use ploke_core::Graph;
//! let db = ploke_db::Db::open_in_memory().unwrap();
//! db.apply(&Graph::diff(&Graph::default(), &Graph::default()), &[], &[]).unwrap();
//! assert_eq!(db.load_graph().unwrap(), Graph::default());
//! ```

#![warn(missing_docs)]

mod analysis;
mod codec;
mod error;
pub mod lock;
mod open;
mod reexport;
mod schema;
mod view;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cozo::{DataValue, DbInstance, NamedRows, ScriptMutability};
use ploke_core::{
    ContentHash, CrateRecord, Edge, EdgeKind, FileRecord, Graph, GraphDelta, Node, NodeId, Skipped,
    Unresolved,
};

pub use analysis::{AnalysisDelta, StoredAnalysis};
pub use error::DbError;
pub use reexport::Found;
pub use schema::SCHEMA_VERSION;
pub use view::{source_in, ItemSource, Relations};

use schema::{
    col_list, CRATE_COLS, EDGE_COLS, EDGE_IN_COLS, FILE_COLS, INDICES, NODE_COLS, RELATIONS,
    SCHEMA_VERSION_KEY, SKIPPED_COLS, SOURCE_COLS, UNRESOLVED_COLS,
};

/// The file name of the database inside the index directory.
pub const DB_FILE_NAME: &str = "graph.db";

/// Row counts of the store, as shown by `ploke status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Crate (target) records.
    pub crates: u64,
    /// File records.
    pub files: u64,
    /// Nodes (items).
    pub nodes: u64,
    /// Resolved edges.
    pub edges: u64,
    /// Unresolved references.
    pub unresolved: u64,
    /// Skip records (problems with input files).
    pub skipped: u64,
}

/// The `meta` key of the generation: a number that every write of the graph
/// ([`Db::commit`]) raises in the same transaction. Readers compare it before and after they
/// read ([`Db::read_consistent`]); caches beside the store are valid for one generation.
pub const GENERATION_KEY: &str = "generation";

/// The `meta` key naming the dependency store attached to the index (its directory; empty
/// or absent for none): see [`Db::dependencies`]. Written with the generation.
pub const DEPS_STORE_KEY: &str = "deps_store";

/// The `meta` key naming the generation whose analysis the analysis relations hold.
pub const ANALYSIS_KEY: &str = "analysis_generation";

/// The code-graph store. Cheap to share across threads (`Send + Sync`); every method takes
/// `&self`, and CozoDB serialises writes internally.
///
/// CozoDB's SQLite engine panics on some SQLite errors (a database locked by another
/// program, a file that is not a database) instead of returning them. Every call into it is
/// made through one guard that turns such a panic into a [`DbError`]; after one, open the
/// store again rather than go on using this handle. Opening and reads that find the database
/// locked (another ploke process opening it, or checkpointing its log as it exits: CozoDB
/// sets no busy timeout) are tried again for a few seconds before that is reported.
pub struct Db {
    inst: DbInstance,
    /// The database file (empty for an in-memory store), for messages.
    path: PathBuf,
    /// Counts this handle among the process's open handles of the file (`None` in memory);
    /// dropped after `inst`, whose connections it outlives.
    _open: Option<open::OpenFile>,
    /// The dependency store last opened for this index: (its directory, the store).
    deps: std::sync::Mutex<Option<(String, Arc<Db>)>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let engine = match &self.inst {
            DbInstance::Mem(_) => "mem",
            _ => "sqlite",
        };
        f.debug_struct("Db").field("engine", &engine).finish()
    }
}

type Params = BTreeMap<String, DataValue>;

fn params<const N: usize>(pairs: [(&str, DataValue); N]) -> Params {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `?[cols] := *nodes{cols}` bindings, used by every query that returns whole nodes.
fn node_bindings() -> String {
    col_list(&NODE_COLS)
}

impl Db {
    /// Opens (or creates) the store in `dir`, creating the directory and the schema when new.
    /// For processes that write the index; readers use [`Db::open_existing`].
    ///
    /// Fails with [`DbError::SchemaMismatch`] when the store was written with another
    /// [`SCHEMA_VERSION`], and with [`DbError::Corrupt`] when the file is not a readable
    /// database; both messages tell the user to rebuild.
    pub fn open(dir: &Path) -> Result<Db, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE_NAME);
        // A missing or empty file is a new store (empty: one whose creation was interrupted).
        if std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
            create_sqlite_file(&path, true)?;
        }
        let db = Db::connect(&path)?;
        db.init_schema()?;
        Ok(db)
    }

    /// Creates a new store in the empty directory `dir` to be written once, in bulk, then
    /// only read (a dependency store): a rollback journal instead of the write-ahead log (a
    /// transaction into an empty file journals nothing, where the log would write every page
    /// twice) and a larger page cache (its rows come in key order per relation, its index
    /// entries do not).
    pub fn create_bulk(dir: &Path) -> Result<Db, DbError> {
        std::fs::create_dir_all(dir).map_err(|source| DbError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE_NAME);
        create_sqlite_file(&path, false)?;
        let db = Db::connect(&path)?;
        db.init_schema()?;
        Ok(db)
    }

    /// Opens the existing, complete store in `dir` without changing anything: no directory,
    /// file or schema is created, so a reader that races a writer creating the store never
    /// leaves a half-made one behind. [`DbError::NoIndex`] when there is none (or its first
    /// index run has not finished).
    pub fn open_existing(dir: &Path) -> Result<Db, DbError> {
        let path = dir.join(DB_FILE_NAME);
        let no_index = |partial| DbError::NoIndex {
            dir: dir.to_path_buf(),
            partial,
        };
        match std::fs::metadata(&path) {
            Ok(m) if m.len() > 0 => {}
            Ok(_) => return Err(no_index(true)),
            Err(_) => return Err(no_index(false)),
        }
        let db = Db::connect(&path)?;
        let has_meta = db
            .run(
                "listing relations",
                "::relations",
                Params::new(),
                ScriptMutability::Immutable,
            )?
            .rows
            .iter()
            .any(|r| r.first().and_then(|v| v.get_str()) == Some("meta"));
        if !has_meta {
            return Err(no_index(true));
        }
        match db.get_meta(SCHEMA_VERSION_KEY)? {
            None => Err(no_index(true)),
            Some(v) => match v.trim().parse::<i64>() {
                Ok(found) if found == SCHEMA_VERSION => Ok(db),
                Ok(found) => Err(DbError::SchemaMismatch {
                    found,
                    expected: SCHEMA_VERSION,
                }),
                Err(_) => Err(DbError::Corrupt(format!(
                    "schema version `{v}` is not a number"
                ))),
            },
        }
    }

    /// CozoDB on the SQLite file at `path`, after checking that it is one.
    fn connect(path: &Path) -> Result<Db, DbError> {
        // Reading the header opens the file outside SQLite, which would cancel the locks of
        // this process's open connections to it: only the first handle reads it.
        let open = open::OpenFile::open(path, || check_sqlite_header(path))?;
        // Opening only reads (CozoDB's table exists: `create_sqlite_file` made it).
        let inst = guard(path, "opening the database", Retry::WhileBusy, || {
            DbInstance::new("sqlite", path, "")
        })?;
        Ok(Db {
            inst,
            path: path.to_path_buf(),
            _open: Some(open),
            deps: std::sync::Mutex::new(None),
        })
    }

    /// A fresh store in memory (CozoDB's `mem` engine), for tests.
    pub fn open_in_memory() -> Result<Db, DbError> {
        let inst =
            DbInstance::new("mem", "", "").map_err(|e| DbError::cozo("opening the database", e))?;
        let db = Db {
            inst,
            path: PathBuf::new(),
            _open: None,
            deps: std::sync::Mutex::new(None),
        };
        db.init_schema()?;
        Ok(db)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates whatever part of the schema is missing and checks the schema version.
    ///
    /// A store whose `meta` holds a schema version is complete (the version is written last);
    /// one without it is new or was interrupted while being created, and is completed here.
    fn init_schema(&self) -> Result<(), DbError> {
        const OP: &str = "creating the schema";
        let existing: Vec<String> = self
            .run(
                "listing relations",
                "::relations",
                Params::new(),
                ScriptMutability::Immutable,
            )?
            .rows
            .iter()
            .filter_map(|r| r.first().and_then(|v| v.get_str()).map(str::to_owned))
            .collect();
        let has = |name: &str| existing.iter().any(|e| e == name);

        if has("meta") {
            if let Some(found) = self.get_meta(SCHEMA_VERSION_KEY)? {
                let found: i64 = found.trim().parse().map_err(|_| {
                    DbError::Corrupt(format!("schema version `{found}` is not a number"))
                })?;
                if found == SCHEMA_VERSION {
                    return Ok(());
                }
                if !schema::UPGRADABLE_FROM.contains(&found) {
                    return Err(DbError::SchemaMismatch {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
                tracing::info!(from = found, to = SCHEMA_VERSION, "upgrading the schema");
            }
        }

        // All missing relations in one transaction (chained queries), then the indices.
        let script: String = RELATIONS
            .iter()
            .filter(|(name, _)| !has(name))
            .map(|(name, body)| format!("{{:create {name} {body}}}\n"))
            .collect();
        if !script.is_empty() {
            self.run(OP, &script, Params::new(), ScriptMutability::Mutable)?;
        }
        for (rel, idx, cols) in INDICES {
            if !has(&format!("{rel}:{idx}")) {
                self.run(
                    OP,
                    &format!("::index create {rel}:{idx} {cols}"),
                    Params::new(),
                    ScriptMutability::Mutable,
                )?;
            }
        }
        self.set_meta(SCHEMA_VERSION_KEY, &SCHEMA_VERSION.to_string())
    }

    fn run(
        &self,
        op: &'static str,
        script: &str,
        params: Params,
        mutability: ScriptMutability,
    ) -> Result<NamedRows, DbError> {
        match mutability {
            ScriptMutability::Immutable => guard(&self.path, op, Retry::WhileBusy, || {
                self.inst.run_script(script, params.clone(), mutability)
            }),
            // A write that fails part-way leaves this handle unusable (see [`Db`]): only
            // reads are tried again.
            ScriptMutability::Mutable => {
                let mut params = Some(params);
                guard(&self.path, op, Retry::No, || {
                    self.inst
                        .run_script(script, params.take().unwrap_or_default(), mutability)
                })
            }
        }
    }

    fn import(&self, op: &'static str, data: BTreeMap<String, NamedRows>) -> Result<(), DbError> {
        let mut data = Some(data);
        guard(&self.path, op, Retry::No, || {
            self.inst.import_relations(data.take().unwrap_or_default())
        })
    }

    fn query(
        &self,
        op: &'static str,
        script: &str,
        params: Params,
    ) -> Result<Vec<Vec<DataValue>>, DbError> {
        Ok(self
            .run(op, script, params, ScriptMutability::Immutable)?
            .rows)
    }

    fn query_nodes(
        &self,
        op: &'static str,
        script: &str,
        params: Params,
    ) -> Result<Vec<Node>, DbError> {
        let mut nodes = decode_all(&self.query_all(op, script, params)?, codec::node)?;
        sort_nodes(&mut nodes);
        Ok(nodes)
    }

    /// A read over this index and its attached dependency store ([`Db::dependencies`]): the
    /// rows of both, each once. For scripts that read one store's relations at a time (a
    /// join across the two stores finds nothing: see [`Db::nodes_by_ids`]).
    fn query_all(
        &self,
        op: &'static str,
        script: &str,
        params: Params,
    ) -> Result<Vec<Vec<DataValue>>, DbError> {
        let mut rows = self.query(op, script, params.clone())?;
        if let Some(deps) = self.dependencies()? {
            rows.extend(deps.query(op, script, params)?);
            rows.sort();
            rows.dedup();
        }
        Ok(rows)
    }

    /// The store of the dependencies attached to this index, when it has one: their items,
    /// edges and files, read-only and shared by every index that builds with the same
    /// dependencies (ploke-index writes it into the user's dependency cache and names it
    /// under [`DEPS_STORE_KEY`]). Point lookups of this handle (by id, path, name; edges,
    /// neighbours, file records) read both stores; bulk reads (`all_nodes`, `load_graph`,
    /// `files`, `crates`, `stats`) read this index's own rows only. A store that is gone
    /// (pruned since) is as none, with a warning.
    pub fn dependencies(&self) -> Result<Option<Arc<Db>>, DbError> {
        let want = self.get_meta(DEPS_STORE_KEY)?.filter(|s| !s.is_empty());
        let mut held = self.deps.lock().unwrap_or_else(|e| e.into_inner());
        let Some(want) = want else {
            *held = None;
            return Ok(None);
        };
        if let Some((dir, db)) = held.as_ref() {
            if *dir == want {
                return Ok(Some(Arc::clone(db)));
            }
        }
        match Db::open_existing(Path::new(&want)) {
            Ok(db) => {
                let db = Arc::new(db);
                *held = Some((want, Arc::clone(&db)));
                Ok(Some(db))
            }
            Err(e) => {
                tracing::warn!(
                    "{want}: the dependency store of this index cannot be opened ({e}); \
                     run `ploke index` to attach the dependencies again"
                );
                *held = None;
                Ok(None)
            }
        }
    }

    /// The nodes with these ids, in this index or its dependency store, ordered by id.
    pub fn nodes_by_ids(&self, ids: &[NodeId]) -> Result<Vec<Node>, DbError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let cols = node_bindings();
        let list = DataValue::List(ids.iter().map(|id| codec::id(*id)).collect());
        let script = format!("?[{cols}] := id in $ids, *nodes{{{cols}}}");
        let mut nodes = decode_all(
            &self.query_all("reading nodes", &script, params([("ids", list)]))?,
            codec::node,
        )?;
        nodes.sort_by_key(|n| n.id);
        Ok(nodes)
    }

    /// Writes `delta`, stores the text of `sources` (workspace-relative path, full text) and
    /// deletes the stored text of `rm_sources`, all in one CozoDB transaction, without
    /// changing the generation. Writers of an index use [`Db::commit`].
    pub fn apply(
        &self,
        delta: &GraphDelta,
        sources: &[(String, String)],
        rm_sources: &[String],
    ) -> Result<(), DbError> {
        let texts: Vec<(&str, &str)> = sources
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        self.write_delta(delta, &texts, rm_sources, None, &[], None)
    }

    /// Writes the crates, files, nodes and edges of `graphs` (their unresolved references
    /// and skip records are left out) into a store that holds none of their rows, in one
    /// transaction, and sets the generation: how a dependency store is made. The rows are
    /// encoded straight from the graphs, with no copy of them in between.
    pub fn put_graphs(&self, graphs: &[&Graph], generation: u64) -> Result<(), DbError> {
        let mut data: BTreeMap<String, NamedRows> = BTreeMap::new();
        let mut add = |name: &str, cols: &[&str], rows| add_rows(&mut data, name, cols, rows);
        let all = || graphs.iter().copied();
        add(
            "crates",
            &CRATE_COLS,
            all()
                .flat_map(|g| &g.crates)
                .map(codec::crate_row)
                .collect(),
        );
        add(
            "files",
            &FILE_COLS,
            all().flat_map(|g| &g.files).map(codec::file_row).collect(),
        );
        add(
            "nodes",
            &NODE_COLS,
            all().flat_map(|g| &g.nodes).map(codec::node_row).collect(),
        );
        add(
            "edges",
            &EDGE_COLS,
            all().flat_map(|g| &g.edges).map(codec::edge_row).collect(),
        );
        add(
            "edges_in",
            &EDGE_IN_COLS,
            all()
                .flat_map(|g| &g.edges)
                .map(codec::edge_in_row)
                .collect(),
        );
        add(
            "meta",
            &["key", "value"],
            vec![vec![
                DataValue::from(GENERATION_KEY),
                DataValue::from(generation.to_string()),
            ]],
        );
        self.import("writing a dependency store", data)
    }

    /// Writes `delta`, the text of `sources` (workspace-relative path, full text), deletes the
    /// stored text of `rm_sources`, and sets the generation ([`GENERATION_KEY`]) to
    /// `generation`, all in one CozoDB transaction: a reader sees all of it or none.
    ///
    /// Every removal is applied before any put, so a row that comes as remove(old) + put(new)
    /// with the same key (an edge whose line changed) ends up as `new`. Nothing cascades: a
    /// removed node's edges are removed only if the delta says so (as `Graph::diff` does).
    /// The caller holds the [`lock::WriteLock`] and has checked that the stored generation is
    /// the one its delta was computed against.
    pub fn commit(
        &self,
        delta: &GraphDelta,
        sources: &[(String, std::sync::Arc<str>)],
        rm_sources: &[String],
        generation: u64,
    ) -> Result<(), DbError> {
        self.commit_with_meta(delta, sources, rm_sources, generation, &[])
    }

    /// [`Db::commit`], with `meta` entries written in the same transaction (the attached
    /// dependency store, [`DEPS_STORE_KEY`]).
    pub fn commit_with_meta(
        &self,
        delta: &GraphDelta,
        sources: &[(String, std::sync::Arc<str>)],
        rm_sources: &[String],
        generation: u64,
        meta: &[(&str, &str)],
    ) -> Result<(), DbError> {
        self.commit_with_analysis(delta, sources, rm_sources, generation, meta, None)
    }

    /// [`Db::commit_with_meta`], with the analysis of the new graph in the same transaction.
    pub fn commit_with_analysis(
        &self,
        delta: &GraphDelta,
        sources: &[(String, std::sync::Arc<str>)],
        rm_sources: &[String],
        generation: u64,
        meta: &[(&str, &str)],
        analysis: Option<&AnalysisDelta>,
    ) -> Result<(), DbError> {
        let texts: Vec<(&str, &str)> = sources.iter().map(|(p, t)| (p.as_str(), &**t)).collect();
        self.write_delta(delta, &texts, rm_sources, Some(generation), meta, analysis)
    }

    fn write_delta(
        &self,
        delta: &GraphDelta,
        sources: &[(&str, &str)],
        rm_sources: &[String],
        generation: Option<u64>,
        meta: &[(&str, &str)],
        analysis: Option<&AnalysisDelta>,
    ) -> Result<(), DbError> {
        let old_cycles = match analysis {
            Some(a) if a.cycles.is_some() => self.cycle_rows()?,
            _ => Vec::new(),
        };
        // CozoDB imports relations in the order of the map's keys; `-name` (removals) sorts
        // before every plain name (puts), which gives removals-then-puts in one transaction.
        let mut data: BTreeMap<String, NamedRows> = BTreeMap::new();
        // Rows in key order ([`add_rows`]).
        let mut add = |name: &str, cols: &[&str], rows| add_rows(&mut data, name, cols, rows);
        let str_key = |s: &String| vec![DataValue::from(s.as_str())];
        let id_key = |id: &NodeId| vec![codec::id(*id)];

        add(
            "-crates",
            &CRATE_COLS[..1],
            delta.rm_crates.iter().map(id_key).collect(),
        );
        add(
            "-files",
            &FILE_COLS[..1],
            delta.rm_files.iter().map(str_key).collect(),
        );
        add(
            "-sources",
            &SOURCE_COLS[..1],
            rm_sources.iter().map(str_key).collect(),
        );
        add(
            "-nodes",
            &NODE_COLS[..1],
            delta.rm_nodes.iter().map(id_key).collect(),
        );
        add(
            "-edges",
            &EDGE_COLS,
            delta.rm_edges.iter().map(codec::edge_row).collect(),
        );
        add(
            "-edges_in",
            &EDGE_IN_COLS,
            delta.rm_edges.iter().map(codec::edge_in_row).collect(),
        );
        add(
            "-unresolved",
            &UNRESOLVED_COLS,
            delta
                .rm_unresolved
                .iter()
                .map(codec::unresolved_row)
                .collect(),
        );
        add(
            "-skipped",
            &SKIPPED_COLS,
            delta.rm_skipped.iter().map(codec::skipped_row).collect(),
        );

        add(
            "crates",
            &CRATE_COLS,
            delta.put_crates.iter().map(codec::crate_row).collect(),
        );
        add(
            "files",
            &FILE_COLS,
            delta.put_files.iter().map(codec::file_row).collect(),
        );
        add(
            "sources",
            &SOURCE_COLS,
            sources
                .iter()
                .map(|(p, t)| vec![DataValue::from(*p), DataValue::from(*t)])
                .collect(),
        );
        add(
            "nodes",
            &NODE_COLS,
            delta.put_nodes.iter().map(codec::node_row).collect(),
        );
        add(
            "edges",
            &EDGE_COLS,
            delta.put_edges.iter().map(codec::edge_row).collect(),
        );
        add(
            "edges_in",
            &EDGE_IN_COLS,
            delta.put_edges.iter().map(codec::edge_in_row).collect(),
        );
        add(
            "unresolved",
            &UNRESOLVED_COLS,
            delta
                .put_unresolved
                .iter()
                .map(codec::unresolved_row)
                .collect(),
        );
        add(
            "skipped",
            &SKIPPED_COLS,
            delta.put_skipped.iter().map(codec::skipped_row).collect(),
        );

        if let Some(a) = analysis {
            add("-cycles", &analysis::CYCLE_COLS, old_cycles);
            a.add_to(&mut add);
        }

        let mut meta_rows: Vec<Vec<DataValue>> = meta
            .iter()
            .map(|(k, v)| vec![DataValue::from(*k), DataValue::from(*v)])
            .collect();
        if let Some(g) = generation {
            meta_rows.push(vec![
                DataValue::from(GENERATION_KEY),
                DataValue::from(g.to_string()),
            ]);
        }
        if !meta_rows.is_empty() {
            add("meta", &["key", "value"], meta_rows);
        }
        if data.is_empty() {
            return Ok(());
        }
        tracing::debug!(
            rows = delta.len()
                + sources.len()
                + rm_sources.len()
                + analysis.map_or(0, AnalysisDelta::len),
            "applying graph delta"
        );
        self.import("applying a graph delta", data)
    }

    /// The generation of the stored graph (0 for a store never written by an index run).
    pub fn generation(&self) -> Result<u64, DbError> {
        match self.get_meta(GENERATION_KEY)? {
            None => Ok(0),
            Some(g) => g
                .trim()
                .parse()
                .map_err(|_| DbError::Corrupt(format!("generation `{g}` is not a number"))),
        }
    }

    /// Runs the reads of `f` so that they all see one generation of the index: the
    /// generation is read before and after, and `f` runs again when a writer committed in
    /// between ([`DbError::Unstable`] after many tries). A commit writes the graph, the
    /// sources and the generation in one transaction (see [`Db::commit`]), so equal
    /// generations mean no commit came between the reads.
    ///
    /// Returns `f`'s value and the generation it saw.
    pub fn read_consistent<T, E: From<DbError>>(
        &self,
        mut f: impl FnMut(&Db) -> Result<T, E>,
    ) -> Result<(T, u64), E> {
        const ATTEMPTS: u32 = 60;
        let mut pause = Duration::from_millis(5);
        for _ in 0..ATTEMPTS {
            let before = self.generation()?;
            let value = f(self);
            let after = self.generation()?;
            if before == after {
                return value.map(|v| (v, after));
            }
            // A read cut by a commit may fail for reasons that vanish on retry (an item
            // gone between two queries): only an error in a stable read counts.
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
        Err(DbError::Unstable { attempts: ATTEMPTS }.into())
    }

    /// Paths of every stored source text.
    pub fn source_paths(&self) -> Result<Vec<String>, DbError> {
        let rows = self.query(
            "listing source texts",
            "?[path] := *sources{path}",
            Params::new(),
        )?;
        let mut out = rows
            .iter()
            .map(|r| codec::single_string(r))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort();
        Ok(out)
    }

    /// The whole stored graph, canonicalized ([`Graph::canonicalize`]).
    ///
    /// Read in one CozoDB read transaction, which writes through this handle wait for. Against
    /// a second process writing at the same moment, each relation is read consistently (one
    /// SQLite statement each) but two relations may straddle that writer's commit.
    pub fn load_graph(&self) -> Result<Graph, DbError> {
        let rels = ["crates", "files", "nodes", "edges", "unresolved", "skipped"];
        let mut data = self.export(&rels)?;
        let mut take = |name: &str| data.remove(name).map(|r| r.rows).unwrap_or_default();
        let mut g = Graph {
            crates: decode_all(&take("crates"), codec::crate_record)?,
            files: decode_all(&take("files"), codec::file_record)?,
            nodes: decode_all(&take("nodes"), codec::node)?,
            edges: decode_all(&take("edges"), codec::edge)?,
            unresolved: decode_all(&take("unresolved"), codec::unresolved)?,
            skipped: decode_all(&take("skipped"), codec::skipped)?,
        };
        g.canonicalize();
        Ok(g)
    }

    fn export(&self, rels: &[&str]) -> Result<BTreeMap<String, NamedRows>, DbError> {
        guard(&self.path, "reading relations", Retry::WhileBusy, || {
            self.inst.export_relations(rels.iter())
        })
    }

    fn export_one(&self, rel: &str) -> Result<Vec<Vec<DataValue>>, DbError> {
        Ok(self
            .export(&[rel])?
            .remove(rel)
            .map(|r| r.rows)
            .unwrap_or_default())
    }

    /// Stores `value` under `key` in the `meta` table (replacing any previous value).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), DbError> {
        self.run(
            "writing meta",
            "?[key, value] <- [[$key, $value]] :put meta {key => value}",
            params([("key", key.into()), ("value", value.into())]),
            ScriptMutability::Mutable,
        )?;
        Ok(())
    }

    /// The value stored under `key` in the `meta` table.
    pub fn get_meta(&self, key: &str) -> Result<Option<String>, DbError> {
        let rows = self.query(
            "reading meta",
            "?[value] := *meta{key: $key, value}",
            params([("key", key.into())]),
        )?;
        rows.first().map(|r| codec::single_string(r)).transpose()
    }

    /// Row counts of the graph relations.
    pub fn stats(&self) -> Result<Stats, DbError> {
        let count = |rel: &str, col: &str| -> Result<u64, DbError> {
            let rows = self.query(
                "counting rows",
                &format!("?[count({col})] := *{rel}{{{col}}}"),
                Params::new(),
            )?;
            rows.first().map_or(Ok(0), |r| codec::u64_at(r, 0))
        };
        Ok(Stats {
            crates: count("crates", "id")?,
            files: count("files", "path")?,
            // The path index holds one small row per node: no node values to decode.
            nodes: count("nodes:by_path", "id")?,
            edges: count("edges", "src")?,
            unresolved: count("unresolved", "src")?,
            skipped: count("skipped", "path")?,
        })
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> Result<Option<Node>, DbError> {
        let cols = node_bindings();
        let script = format!("?[{cols}] := id = $id, *nodes{{{cols}}}");
        Ok(self
            .query_nodes("reading a node", &script, params([("id", codec::id(id))]))?
            .pop())
    }

    /// Nodes whose canonical path is exactly `canonical_path` (several for cfg twins, or an
    /// item and a same-named module), ordered by path then id.
    pub fn nodes_by_path(&self, canonical_path: &str) -> Result<Vec<Node>, DbError> {
        let cols = node_bindings();
        let script = format!("?[{cols}] := *nodes:by_path{{path: $path, id}}, *nodes{{{cols}}}");
        self.query_nodes(
            "finding nodes by path",
            &script,
            params([("path", canonical_path.into())]),
        )
    }

    /// Nodes whose `name` or `display_name` is exactly `name` (both indexed), ordered by path
    /// then id.
    pub fn nodes_by_name(&self, name: &str) -> Result<Vec<Node>, DbError> {
        let cols = node_bindings();
        let script = format!(
            "?[{cols}] := *nodes:by_name{{name: $name, id}}, *nodes{{{cols}}}\n\
             ?[{cols}] := *nodes:by_display{{display_name: $name, id}}, *nodes{{{cols}}}"
        );
        self.query_nodes(
            "finding nodes by name",
            &script,
            params([("name", name.into())]),
        )
    }

    /// The items a person means by `target`: nodes with that canonical path, else (for a
    /// path) the definitions it names through `pub use` re-exports, else nodes with that name
    /// or display name (the workspace's, when it has some); `use` items left out; workspace
    /// before dependencies, non-test code first, then by path and id. See
    /// [`Db::find_items_how`] for which of these matched.
    pub fn find_items(&self, target: &str) -> Result<Vec<Node>, DbError> {
        Ok(self.find_items_how(target)?.0)
    }

    /// Every node, ordered by id.
    pub fn all_nodes(&self) -> Result<Vec<Node>, DbError> {
        let rows = self.export_one("nodes")?;
        let mut nodes = decode_all(&rows, codec::node)?;
        nodes.sort_by_key(|n| n.id);
        Ok(nodes)
    }

    /// Nodes with a `Calls` edge into `id`, each with the line of the call; ordered by the
    /// caller's path, then line.
    pub fn callers(&self, id: NodeId) -> Result<Vec<(Node, u32)>, DbError> {
        self.neighbours(id, EdgeKind::Calls, Direction::In)
    }

    /// Nodes that `id` calls (`Calls` edges out of `id`), each with the line of the call;
    /// ordered by the callee's path, then line.
    pub fn callees(&self, id: NodeId) -> Result<Vec<(Node, u32)>, DbError> {
        self.neighbours(id, EdgeKind::Calls, Direction::Out)
    }

    fn neighbours(
        &self,
        id: NodeId,
        kind: EdgeKind,
        dir: Direction,
    ) -> Result<Vec<(Node, u32)>, DbError> {
        let cols = node_bindings();
        // `id` is the neighbour's id; the given node is `$me`.
        let edge = match dir {
            Direction::In => "*edges_in{dst: $me, kind: $kind, src: id, line: edge_line}",
            Direction::Out => "*edges{src: $me, kind: $kind, dst: id, line: edge_line}",
        };
        let p = params([("me", codec::id(id)), ("kind", kind.as_str().into())]);
        if dir == Direction::Out && self.dependencies()?.is_some() {
            // An edge is stored with its source; its end may be in the other store.
            let ends =
                self.query_all("following edges", &format!("?[id, edge_line] := {edge}"), p)?;
            let ids: Vec<NodeId> = ends
                .iter()
                .map(|r| codec::node_id_at(r, 0))
                .collect::<Result<_, _>>()?;
            let nodes: std::collections::HashMap<NodeId, Node> = self
                .nodes_by_ids(&ids)?
                .into_iter()
                .map(|n| (n.id, n))
                .collect();
            let mut out = Vec::new();
            for r in &ends {
                if let Some(n) = nodes.get(&codec::node_id_at(r, 0)?) {
                    out.push((n.clone(), codec::u32_at(r, 1)?));
                }
            }
            out.sort_by(|(a, la), (b, lb)| (&a.path, la, a.id).cmp(&(&b.path, lb, b.id)));
            return Ok(out);
        }
        let script = format!("?[{cols}, edge_line] := {edge}, *nodes{{{cols}}}");
        let rows = self.query_all("following edges", &script, p)?;
        let mut out = rows
            .iter()
            .map(|r| Ok((codec::node(r)?, codec::u32_at(r, NODE_COLS.len())?)))
            .collect::<Result<Vec<_>, DbError>>()?;
        out.sort_by(|(a, la), (b, lb)| (&a.path, la, a.id).cmp(&(&b.path, lb, b.id)));
        Ok(out)
    }

    /// Unresolved references made by `id`, in canonical order.
    pub fn unresolved_from(&self, id: NodeId) -> Result<Vec<Unresolved>, DbError> {
        let cols = col_list(&UNRESOLVED_COLS);
        let script = format!("?[{cols}] := src = $src, *unresolved{{{cols}}}");
        let rows = self.query_all(
            "reading unresolved references",
            &script,
            params([("src", codec::id(id))]),
        )?;
        let mut out = decode_all(&rows, codec::unresolved)?;
        out.sort();
        Ok(out)
    }

    /// Edges of `kind` out of `id`, in canonical order.
    pub fn edges_from(&self, id: NodeId, kind: EdgeKind) -> Result<Vec<Edge>, DbError> {
        self.edges(id, kind, "edges", "src")
    }

    /// Edges of `kind` into `id`, in canonical order.
    pub fn edges_to(&self, id: NodeId, kind: EdgeKind) -> Result<Vec<Edge>, DbError> {
        self.edges(id, kind, "edges_in", "dst")
    }

    /// Edges of `kind` whose `end` column is `id`, read from `rel`: `edges` (keyed from
    /// `src`) or `edges_in` (keyed from `dst`).
    fn edges(
        &self,
        id: NodeId,
        kind: EdgeKind,
        rel: &str,
        end: &str,
    ) -> Result<Vec<Edge>, DbError> {
        let cols = col_list(&EDGE_COLS);
        let script = format!("?[{cols}] := {end} = $id, kind = $kind, *{rel}{{{cols}}}");
        let rows = self.query_all(
            "reading edges",
            &script,
            params([("id", codec::id(id)), ("kind", kind.as_str().into())]),
        )?;
        let mut out = decode_all(&rows, codec::edge)?;
        out.sort();
        Ok(out)
    }

    /// The impl nodes with an `ImplementsTrait` edge to `trait_id`, ordered by path then id.
    pub fn implementations(&self, trait_id: NodeId) -> Result<Vec<Node>, DbError> {
        self.linked_nodes(trait_id, EdgeKind::ImplementsTrait, Direction::In)
    }

    /// The nodes `id` contains (`Contains` edges), ordered by path then id.
    pub fn children(&self, id: NodeId) -> Result<Vec<Node>, DbError> {
        self.linked_nodes(id, EdgeKind::Contains, Direction::Out)
    }

    /// Distinct neighbour nodes over `kind` edges, ordered by path then id.
    fn linked_nodes(
        &self,
        id: NodeId,
        kind: EdgeKind,
        dir: Direction,
    ) -> Result<Vec<Node>, DbError> {
        let cols = node_bindings();
        let edge = match dir {
            Direction::In => "*edges_in{dst: $me, kind: $kind, src: id}",
            Direction::Out => "*edges{src: $me, kind: $kind, dst: id}",
        };
        let script = format!("?[{cols}] := {edge}, *nodes{{{cols}}}");
        self.query_nodes(
            "following edges",
            &script,
            params([("me", codec::id(id)), ("kind", kind.as_str().into())]),
        )
    }

    /// The text of the indexed file at `path`: the stored text of a workspace file
    /// (workspace-relative path), or, for a dependency's file (an absolute path, see
    /// [`ploke_core::is_dependency_path`]), its text read from disk and checked against the
    /// hash it was indexed with ([`read_dependency_file`]): dependency texts are not stored.
    /// `None` when the index holds no such file.
    pub fn source(&self, path: &str) -> Result<Option<String>, DbError> {
        if ploke_core::is_dependency_path(path) {
            return match self.file(path)? {
                Some(rec) => read_dependency_file(&rec).map(Some),
                None => Ok(None),
            };
        }
        let rows = self.query(
            "reading source text",
            "?[text] := *sources{path: $path, text}",
            params([("path", path.into())]),
        )?;
        rows.first().map(|r| codec::single_string(r)).transpose()
    }

    /// Every stored source text, by workspace-relative path.
    pub fn sources(&self) -> Result<std::collections::HashMap<String, String>, DbError> {
        self.export_one("sources")?
            .iter()
            .map(|r| {
                let path = r
                    .first()
                    .and_then(|v| v.get_str())
                    .ok_or_else(|| DbError::Corrupt("a source row without a path".to_string()))?;
                Ok((path.to_string(), codec::single_string(&r[1..])?))
            })
            .collect()
    }

    /// The record of the indexed file at `path`.
    pub fn file(&self, path: &str) -> Result<Option<FileRecord>, DbError> {
        let cols = col_list(&FILE_COLS);
        let rows = self.query_all(
            "reading a file record",
            &format!("?[{cols}] := path = $path, *files{{{cols}}}"),
            params([("path", path.into())]),
        )?;
        rows.first().map(|r| codec::file_record(r)).transpose()
    }

    /// Every file record, ordered by path.
    pub fn files(&self) -> Result<Vec<FileRecord>, DbError> {
        let rows = self.export_one("files")?;
        let mut out = decode_all(&rows, codec::file_record)?;
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Every crate (target) record, ordered by id.
    pub fn crates(&self) -> Result<Vec<CrateRecord>, DbError> {
        let rows = self.export_one("crates")?;
        let mut out = decode_all(&rows, codec::crate_record)?;
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// Every crate (target) record of this index and of its dependency store
    /// ([`Db::dependencies`]): the workspace's targets, then the dependencies', each ordered
    /// by id. What [`crate_of`] looks an item's package and version up in.
    pub fn all_crates(&self) -> Result<Vec<CrateRecord>, DbError> {
        let mut out = self.crates()?;
        if let Some(deps) = self.dependencies()? {
            out.extend(deps.crates()?);
        }
        Ok(out)
    }

    /// Stores embedding vectors of `model`, each keyed by the content hash of the text it
    /// embeds (replacing any stored under the same key), in one transaction.
    pub fn put_embeddings(
        &self,
        model: &str,
        rows: &[(ContentHash, Vec<f32>)],
    ) -> Result<(), DbError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut sorted: Vec<Vec<DataValue>> = rows
            .iter()
            .map(|(h, v)| {
                vec![
                    DataValue::from(model),
                    DataValue::from(h.to_hex()),
                    DataValue::Bytes(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
                ]
            })
            .collect();
        sorted.sort_by(|a, b| a[..2].cmp(&b[..2]));
        let headers = ["model", "hash", "vec"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let data = BTreeMap::from([("embeddings".to_string(), NamedRows::new(headers, sorted))]);
        self.import("writing embeddings", data)
    }

    /// Every stored vector of `model`, keyed by content hash.
    pub fn embeddings(&self, model: &str) -> Result<Vec<(ContentHash, Vec<f32>)>, DbError> {
        let rows = self.query(
            "reading embeddings",
            "?[hash, vec] := *embeddings{model: $model, hash, vec}",
            params([("model", model.into())]),
        )?;
        rows.iter().map(|r| decode_embedding(r)).collect()
    }

    /// The stored vectors of `model` for these content hashes (those that have one).
    pub fn embeddings_for(
        &self,
        model: &str,
        hashes: &[ContentHash],
    ) -> Result<Vec<(ContentHash, Vec<f32>)>, DbError> {
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let list = DataValue::List(hashes.iter().map(|h| DataValue::from(h.to_hex())).collect());
        // The dependency store keeps the vectors of its items (`ploke index --embed-deps`).
        let rows = self.query_all(
            "reading embeddings",
            "?[hash, vec] := hash in $hashes, *embeddings{model: $model, hash, vec}",
            params([("model", model.into()), ("hashes", list)]),
        )?;
        rows.iter().map(|r| decode_embedding(r)).collect()
    }

    /// Content hashes of the stored vectors of `model`.
    pub fn embedding_hashes(&self, model: &str) -> Result<Vec<ContentHash>, DbError> {
        let rows = self.query(
            "reading embedding keys",
            "?[hash] := *embeddings{model: $model, hash}",
            params([("model", model.into())]),
        )?;
        rows.iter().map(|r| codec::hash_at(r, 0)).collect()
    }

    /// Deletes the vectors of `model` with these content hashes (vectors of items that no
    /// longer exist), in one transaction.
    pub fn remove_embeddings(&self, model: &str, hashes: &[ContentHash]) -> Result<(), DbError> {
        if hashes.is_empty() {
            return Ok(());
        }
        let mut rows: Vec<Vec<DataValue>> = hashes
            .iter()
            .map(|h| vec![DataValue::from(model), DataValue::from(h.to_hex())])
            .collect();
        rows.sort();
        let headers = ["model", "hash"].iter().map(|c| c.to_string()).collect();
        let data = BTreeMap::from([("-embeddings".to_string(), NamedRows::new(headers, rows))]);
        self.import("removing embeddings", data)
    }

    /// Every skip record, in canonical order.
    pub fn skipped(&self) -> Result<Vec<Skipped>, DbError> {
        let rows = self.export_one("skipped")?;
        let mut out = decode_all(&rows, codec::skipped)?;
        out.sort();
        Ok(out)
    }
}

/// The text of a dependency's file, read from disk and checked against the hash `rec` holds:
/// a dependency's texts are not stored in the index (cargo's cache keeps them, and never
/// changes them). [`DbError::DependencyChanged`] when the file's bytes are not those indexed,
/// [`DbError::DependencyUnreadable`] when it cannot be read; both say to re-index.
pub fn read_dependency_file(rec: &FileRecord) -> Result<String, DbError> {
    let bytes = std::fs::read(&rec.path).map_err(|source| DbError::DependencyUnreadable {
        path: rec.path.clone(),
        source,
    })?;
    if ContentHash::of(&bytes) != rec.hash {
        return Err(DbError::DependencyChanged {
            path: rec.path.clone(),
        });
    }
    // The indexer only stores files that are UTF-8; the same bytes are.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The crate record (target) an item of crate `crate_name` in `file` belongs to: among the
/// targets of that name (a dependency may share its name with a workspace crate, two versions
/// of a dependency share theirs), the one whose package directory holds the file (the
/// innermost), else the first.
pub fn crate_of<'c>(
    crates: impl IntoIterator<Item = &'c CrateRecord>,
    crate_name: &str,
    file: &str,
) -> Option<&'c CrateRecord> {
    let mut named = crates
        .into_iter()
        .filter(|c| c.name == crate_name)
        .peekable();
    let first = *named.peek()?;
    let holds = |c: &&CrateRecord| {
        let root = c.package_root.trim_end_matches('/');
        let root = root.strip_prefix("./").unwrap_or(root);
        if root.is_empty() || root == "." {
            return !ploke_core::is_dependency_path(file);
        }
        file.strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    Some(
        named
            .filter(holds)
            .max_by_key(|c| c.package_root.len())
            .unwrap_or(first),
    )
}

/// Whether [`guard`] tries a call again while SQLite reports the database locked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Report [`DbError::Locked`] at once (writes: one that failed part-way poisoned the
    /// handle).
    No,
    /// Try again for up to [`BUSY_WAIT`]: another ploke process holds SQLite's lock for a
    /// moment when it opens the database, recovers the write-ahead log, or checkpoints it
    /// as it closes (CozoDB's connections have no busy timeout of their own).
    WhileBusy,
}

/// An error that another process opening or closing the database causes for a moment: the
/// database locked, or an I/O error of a connection opened while the last one of another
/// process checkpointed and removed the write-ahead log.
fn transient(e: &DbError) -> bool {
    match e {
        DbError::Locked { .. } => true,
        DbError::Cozo { message, .. } => message.to_ascii_lowercase().contains("disk i/o error"),
        _ => false,
    }
}

/// How long a read waits for SQLite's lock before it reports the database locked.
const BUSY_WAIT: Duration = Duration::from_secs(3);

/// Runs one CozoDB call, turning its error or its panic into a [`DbError`] that says what
/// to do: a database locked by another program, a file that is not a database (or a
/// damaged one), or CozoDB's own message. With [`Retry::WhileBusy`] a call that finds the
/// database locked is made again until [`BUSY_WAIT`] has passed.
fn guard<T>(
    path: &Path,
    op: &'static str,
    retry: Retry,
    mut f: impl FnMut() -> Result<T, cozo::Error>,
) -> Result<T, DbError> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match guard_once(path, op, &mut f) {
            Err(e) if retry == Retry::WhileBusy && transient(&e) && start.elapsed() < BUSY_WAIT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

fn guard_once<T>(
    path: &Path,
    op: &'static str,
    f: &mut impl FnMut() -> Result<T, cozo::Error>,
) -> Result<T, DbError> {
    quiet_panics::install();
    let result = quiet_panics::QUIET.with(|q| {
        q.set(q.get() + 1);
        let r = std::panic::catch_unwind(AssertUnwindSafe(&mut *f));
        q.set(q.get() - 1);
        r
    });
    let message = match result {
        Ok(Ok(v)) => return Ok(v),
        // CozoDB's own message and causes; `op` is added once, below.
        Ok(Err(e)) => match DbError::cozo(op, e) {
            DbError::Cozo { message, .. } => message,
            other => other.to_string(),
        },
        Err(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "CozoDB panicked".to_string()),
    };
    let lower = message.to_ascii_lowercase();
    if lower.contains("database is locked") || lower.contains("database table is locked") {
        return Err(DbError::Locked {
            path: path.to_path_buf(),
        });
    }
    if lower.contains("file is not a database")
        || lower.contains("malformed")
        || lower.contains("disk image")
        || lower.contains("corrupt")
    {
        return Err(DbError::Corrupt(format!(
            "{}: {}",
            path.display(),
            one_line(&message)
        )));
    }
    Err(DbError::Cozo {
        op,
        message: one_line(&message),
    })
}

/// The first line of a message (CozoDB's errors carry multi-line diagnostics).
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Panics caught by [`guard`] are errors returned to the caller; the default hook would
/// still print each one as a crash. A hook installed once passes every panic on to the
/// previous hook except those raised while the panicking thread is inside [`guard`].
mod quiet_panics {
    use std::cell::Cell;
    use std::sync::Once;

    thread_local! {
        pub static QUIET: Cell<u32> = const { Cell::new(0) };
    }

    static INSTALL: Once = Once::new();

    pub fn install() {
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if QUIET.with(Cell::get) == 0 {
                    previous(info);
                }
            }));
        });
    }
}

/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that is not a SQLite database before CozoDB (which panics on one) sees it.
/// Opens the file outside SQLite: only while no connection of this process has it open (see
/// the `open` module).
fn check_sqlite_header(path: &Path) -> Result<(), DbError> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let read = std::fs::File::open(path).and_then(|mut f| f.read(&mut head));
    match read {
        Ok(16) if &head == SQLITE_MAGIC => Ok(()),
        Ok(_) => Err(DbError::Corrupt(format!(
            "{}: not a SQLite database",
            path.display()
        ))),
        Err(source) => Err(DbError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// SQLite page size of a new store, in bytes.
const SQLITE_PAGE_SIZE: u32 = 8192;
/// Page cache of every connection to the store, in pages (64 MiB), stored in the file header.
const SQLITE_CACHE_PAGES: u32 = 8192;
/// Page cache of a store written in bulk ([`Db::create_bulk`]), in pages (256 MiB at most).
const SQLITE_BULK_CACHE_PAGES: u32 = 32768;

/// Creates the SQLite file of a new store before CozoDB opens it: CozoDB's one table
/// (`CREATE TABLE IF NOT EXISTS cozo (k BLOB PRIMARY KEY, v BLOB)`, which it then finds in
/// place) made `WITHOUT ROWID`, 8 KiB pages, a page cache size stored in the file header, and
/// write-ahead logging.
///
/// CozoDB opens its connections with SQLite's defaults: a 2 MiB page cache, with which a bulk
/// write of a mid-sized crate spills dirty pages to disk and reads them back, and a rowid
/// table, which stores every key twice (table plus primary-key index). On the 15k-node
/// benchmark (`examples/timings.rs`) these settings cut a full write by roughly 40% (the cache
/// size most of it) and shrink the file. WAL makes small updates about twice as fast and lets
/// other processes read while the index is written.
/// Every statement CozoDB runs on the table (get/put/delete by `k`, range scans ordered by
/// `k`) works unchanged on a `WITHOUT ROWID` table.
fn create_sqlite_file(path: &Path, wal: bool) -> Result<(), DbError> {
    let err = |e: sqlite::Error| DbError::Sqlite(e.to_string());
    let conn = sqlite::Connection::open(path).map_err(err)?;
    let (cache, journal) = if wal {
        (SQLITE_CACHE_PAGES, "WAL")
    } else {
        (SQLITE_BULK_CACHE_PAGES, "DELETE")
    };
    // page_size only takes effect before the first table exists; default_cache_size (kept in
    // the file header) needs an initialised database, so it comes after the table.
    conn.execute(format!(
        "PRAGMA page_size = {SQLITE_PAGE_SIZE};\n\
         CREATE TABLE IF NOT EXISTS cozo (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID;\n\
         PRAGMA default_cache_size = {cache};\n\
         PRAGMA journal_mode = {journal};"
    ))
    .map_err(err)
}

/// A `(hash, vec)` row of the embeddings relation.
fn decode_embedding(r: &[DataValue]) -> Result<(ContentHash, Vec<f32>), DbError> {
    let hash = codec::hash_at(r, 0)?;
    let bytes = match &r[1] {
        DataValue::Bytes(b) if b.len() % 4 == 0 => b,
        other => {
            return Err(DbError::Corrupt(format!(
                "embedding is not f32 bytes: {other:?}"
            )))
        }
    };
    let v = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok((hash, v))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    In,
    Out,
}

/// Adds `rows` of relation `name` (`-name` for removals) to an import, sorted into key order
/// (a stable sort: of two rows with one key, the later one still wins). CozoDB's key encoding
/// preserves value order, so SQLite then inserts into its B-tree sequentially rather than at
/// random pages, which matters once the store outgrows the page cache.
fn add_rows(
    data: &mut BTreeMap<String, NamedRows>,
    name: &str,
    cols: &[&str],
    mut rows: Vec<Vec<DataValue>>,
) {
    if rows.is_empty() {
        return;
    }
    let keys = key_len(name.trim_start_matches('-'));
    rows.sort_by(|a, b| a[..keys].cmp(&b[..keys]));
    let headers = cols.iter().map(|c| c.to_string()).collect();
    data.insert(name.to_string(), NamedRows::new(headers, rows));
}

/// The number of key columns of a relation (the leading columns of its rows).
fn key_len(rel: &str) -> usize {
    match rel {
        "edges" | "edges_in" | "unresolved" | "skipped" => 4,
        "api" => 4,
        "tests_of" | "module_deps" | "cycles" => 2,
        _ => 1,
    }
}

fn decode_all<T>(
    rows: &[Vec<DataValue>],
    f: fn(&[DataValue]) -> Result<T, DbError>,
) -> Result<Vec<T>, DbError> {
    rows.iter().map(|r| f(r)).collect()
}

fn sort_nodes(nodes: &mut [Node]) {
    nodes.sort_by(|a, b| (&a.path, a.id).cmp(&(&b.path, b.id)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Db>();
    }
}
