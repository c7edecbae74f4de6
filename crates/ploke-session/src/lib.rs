//! A workspace opened for work: the one layer behind every front end.
//!
//! [`Session`] owns what the CLI, the MCP and LSP servers, the GUI and the TUI all need:
//! where the workspace and its index are ([`Location`]), the settings merged once
//! ([`Settings`]), the open index, a search snapshot, the embedding model, and the
//! operations: [`Session::search`], [`Session::context`], [`Session::item`],
//! [`Session::ask`], [`Session::edit`] (a workflow the caller drives, see [`EditFlow`]),
//! [`Session::undo`] and [`Session::index`]. [`Session::refresh`] brings the index up to date
//! with the files before a one-shot answer. A live session ([`Session::watch`]) keeps the
//! index current as files change, and readers always see one whole generation of it.
//!
//! Results are plain serializable data ([`results`]); progress and warnings are
//! [`Event`]s a front end subscribes to. Nothing here prints.
//!
//! ```no_run
//! use ploke_session::{OpenOptions, Session, SearchRequest};
//! let session = Session::open(&OpenOptions::new(".")).unwrap();
//! for hit in session.search(&SearchRequest::new("make the retry delay configurable")).unwrap() {
//!     println!("{} {}:{}", hit.item.path, hit.item.file, hit.item.start_line);
//! }
//! ```

mod analysis;
mod ask;
mod edit;
mod error;
mod events;
mod fresh;
mod live;
mod location;
mod navigate;
pub mod results;
pub mod settings;
mod tools;
mod write;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use ploke_core::{CrateRecord, Node};
use ploke_db::Db;
use ploke_embed::Embedder;
use ploke_retrieve::{Mode, RankParams, Retriever, Scope, Vectors};

pub use analysis::{
    test_runs, DeadItem, FunctionMetrics, Impact, ImpactedItem, ModuleCycle, ReachingTest, TestRun,
};
pub use ask::{AskAnswer, AskRequest};
pub use edit::{
    AppliedEdit, ApplyOutcome, CheckOutcome, DirectEdit, EditFlow, EditOptions, EditState, Review,
    ReviewFile,
};
pub use error::SessionError;
pub use events::{Event, EventSink, Update};
pub use fresh::{Refresh, Staleness};
pub use ploke_analyze::{ApiDiff, ApiItem, FnMetrics};

pub use live::{LiveOptions, WatchHandle};
pub use location::{Location, WORKSPACE_ROOT_KEY};
pub use navigate::ModuleEntry;
pub use ploke_agent::ask::AskEvent;
pub use ploke_context::Pack;
pub use ploke_edit::Edit;
pub use ploke_embed::Backend as EmbedBackend;
pub use ploke_index::{default_cache_dir, DepCache, DepsReport, DepsScope, EntryMeta, Pruned};
pub use ploke_retrieve::Mode as SearchMode;
pub use ploke_retrieve::Scope as SearchScope;
pub use results::{IndexSummary, ItemRef, ItemView, Related, SearchHit};
pub use settings::{Environment, Overrides, Settings};
pub use tools::IndexStatus;
pub use write::IndexRequest;

use events::Events;

/// A request's vector for the dense signal; `None` without a model (or when embedding it
/// fails), and search then ranks by the lexical and graph signals.
pub(crate) fn embed_query(embedder: Option<&Embedder>, query: &str) -> Option<Vec<f32>> {
    embedder
        .and_then(|e| e.embed(&[query]).ok())
        .and_then(|mut v| v.pop())
}

/// The stored vectors and the model that embeds queries for them.
type VectorSearch = (Arc<Vectors>, Arc<Embedder>);

/// The `meta` key naming the model whose vectors the index holds.
pub const EMBED_MODEL_KEY: &str = "embed_model";

/// How to open a session.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// A path inside the workspace.
    pub path: PathBuf,
    /// The index directory (default `<workspace>/.ploke`).
    pub db: Option<PathBuf>,
    /// The environment variables ploke reads (see [`Environment::capture`]).
    pub env: Environment,
    /// Choices that override the config file and the environment.
    pub overrides: Overrides,
    /// Create the index if there is none (for sessions that index, edit or watch); without
    /// it, opening a workspace that has no index is [`SessionError::NoIndex`].
    pub create: bool,
    /// How this process names itself to others waiting for the index's write lock.
    pub holder: String,
    /// With `create`: an index that cannot be read (damaged, of an older schema) is replaced
    /// by an empty one, for `index --rebuild` to fill; without, opening it is an error that
    /// says to rebuild.
    pub rebuild: bool,
}

impl OpenOptions {
    /// Open the index of the workspace at `path`, which must exist, with no environment.
    pub fn new(path: impl Into<PathBuf>) -> OpenOptions {
        OpenOptions {
            path: path.into(),
            db: None,
            env: Environment::default(),
            overrides: Overrides::default(),
            create: false,
            holder: "ploke".to_string(),
            rebuild: false,
        }
    }
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    /// Results wanted.
    pub k: usize,
    pub mode: Mode,
    /// Which items are ranked: the workspace's (the default), with its attached dependencies'
    /// too, or one crate's.
    pub scope: Scope,
}

impl SearchRequest {
    /// The 10 best workspace items for `query`, all signals fused.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            k: 10,
            mode: Mode::Hybrid,
            scope: Scope::Workspace,
        }
    }
}

/// A context pack for a request.
#[derive(Debug, Clone)]
pub struct ContextRequest {
    pub request: String,
    /// Tokens the whole pack may take (cl100k).
    pub budget: usize,
    pub mode: Mode,
    /// Which items are ranked for the pack (see [`SearchRequest::scope`]); the outlines of
    /// their neighbours may come from anywhere in the index.
    pub scope: Scope,
    /// Tests of each primary item to bring in (nearest first; 0: none), for a change.
    pub tests: usize,
}

impl ContextRequest {
    /// The pack of `request` within 8000 tokens, from the workspace's items, all signals fused.
    pub fn new(request: impl Into<String>) -> ContextRequest {
        ContextRequest {
            request: request.into(),
            budget: 8000,
            mode: Mode::Hybrid,
            scope: Scope::Workspace,
            tests: 0,
        }
    }
}

/// Ranked items handed to the packer (it uses as many as fit).
const PACK_CANDIDATES: usize = 30;

/// How a target named the items of a [`Lookup`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Match {
    /// Their canonical path (several items only for cfg variants of one item).
    Path,
    /// A public path that re-exports the definition at `of`.
    Reexport {
        /// The definition's canonical path.
        of: String,
    },
    /// Their name or display name (`new`, `Builder::new`).
    Name,
}

/// What [`Session::lookup`] found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Lookup {
    pub how: Match,
    pub items: Vec<ItemView>,
}

impl Lookup {
    /// Whether a name matched different items (not cfg variants of one path): a front end
    /// lists them and asks for one.
    pub fn ambiguous(&self) -> bool {
        self.how == Match::Name
            && self
                .items
                .iter()
                .any(|v| v.item.path != self.items[0].item.path)
    }
}

/// One generation of the index as search sees it.
pub(crate) struct Snapshot {
    pub generation: u64,
    /// The workspace's items.
    pub retriever: Retriever,
    /// Retrievers of other scopes (dependencies included), built from the store when first
    /// asked for; they go with the snapshot.
    scoped: Mutex<HashMap<Scope, Arc<Retriever>>>,
}

impl Snapshot {
    pub(crate) fn new(generation: u64, retriever: Retriever) -> Snapshot {
        Snapshot {
            generation,
            retriever,
            scoped: Mutex::new(HashMap::new()),
        }
    }
}

/// Retrievers of other scopes kept per snapshot at most (a few crates asked for in turn).
const SCOPED_RETRIEVERS: usize = 8;

/// What a search runs on: the snapshot and, for a scope other than the workspace, that scope's
/// retriever; with the embedding model when the mode uses vectors.
pub(crate) struct Searcher {
    pub snap: Arc<Snapshot>,
    scoped: Option<Arc<Retriever>>,
    pub embedder: Option<Arc<Embedder>>,
}

impl Searcher {
    /// The retriever of the scope asked for.
    pub fn retriever(&self) -> &Retriever {
        self.scoped.as_deref().unwrap_or(&self.snap.retriever)
    }
}

/// A workspace opened for work. `Send + Sync`: share it (`Arc<Session>`) between the threads
/// of a server.
pub struct Session {
    loc: Location,
    settings: Settings,
    opts: OpenOptions,
    events: Events,
    db: Db,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// Serializes loads of the snapshot (a second caller waits and reuses it).
    loading: Mutex<()>,
    /// The embedding model, once asked for: `None` when off or when it failed to load.
    embedder: OnceLock<Option<Arc<Embedder>>>,
    /// The vectors of the stored model, shared by every snapshot, once wanted.
    vectors: OnceLock<Option<Arc<Vectors>>>,
    /// Ranking parameters other than the defaults (for tuning).
    rank: RwLock<Option<RankParams>>,
    /// The crate (target) records and the generation they were read at, once asked for
    /// (read again when an item's crate is not among them and the index changed since).
    crates: RwLock<Option<(u64, Arc<[CrateRecord]>)>>,
    /// The indexer and what goes with it, for sessions that write.
    writer: Mutex<Option<write::Writer>>,
    /// Set while a live index keeps the snapshot current.
    live: std::sync::atomic::AtomicBool,
}

impl Session {
    /// Opens the workspace at `opts.path`: its settings and its index (see
    /// [`OpenOptions::create`]). Cheap: nothing is loaded until an operation needs it.
    pub fn open(opts: &OpenOptions) -> Result<Session, SessionError> {
        let loc = if opts.create {
            Location::discover(&opts.path, opts.db.as_deref())?
        } else {
            Location::find(&opts.path, opts.db.as_deref())?
        };
        let settings = Settings::load(&loc.root, &opts.env, &opts.overrides)?;
        let db = if opts.create {
            match Db::open(&loc.db_dir) {
                Ok(db) => db,
                Err(ploke_db::DbError::Corrupt(_) | ploke_db::DbError::SchemaMismatch { .. })
                    if opts.rebuild =>
                {
                    // Opening the indexer for a rebuild replaces what cannot be read.
                    ploke_index::Indexer::open(
                        &loc.root,
                        &ploke_index::IndexOptions {
                            db_dir: Some(loc.db_dir.clone()),
                            rebuild: true,
                            holder: Some(opts.holder.clone()),
                            ..ploke_index::IndexOptions::default()
                        },
                    )?;
                    Db::open(&loc.db_dir)?
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            Db::open_existing(&loc.db_dir)?
        };
        Ok(Session {
            loc,
            settings,
            opts: opts.clone(),
            events: Events::default(),
            db,
            snapshot: RwLock::new(None),
            loading: Mutex::new(()),
            embedder: OnceLock::new(),
            vectors: OnceLock::new(),
            rank: RwLock::new(None),
            crates: RwLock::new(None),
            writer: Mutex::new(None),
            live: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Where the workspace and its index are.
    pub fn location(&self) -> &Location {
        &self.loc
    }

    /// The merged settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The open index (for front ends that query it directly; prefer the operations).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Calls `sink` with every event from now on.
    pub fn subscribe(&self, sink: EventSink) {
        self.events.subscribe(sink);
    }

    /// `text` with every secret of the settings hidden: for front ends that show errors.
    pub fn redact(&self, text: &str) -> String {
        self.settings.redact(text)
    }

    /// Replaces the ranking parameters (for tuning; `None` restores the defaults).
    pub fn set_rank_params(&self, params: Option<RankParams>) {
        *self.rank.write().unwrap_or_else(|e| e.into_inner()) = params;
    }

    /// The search snapshot of the current generation, loaded once per generation (a live
    /// session keeps it current itself).
    pub(crate) fn snapshot(&self) -> Result<Arc<Snapshot>, SessionError> {
        let current = self
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some(s) = &current {
            if self.live.load(std::sync::atomic::Ordering::Acquire) {
                return Ok(s.clone());
            }
        }
        let _loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        let generation = self.db.generation()?;
        if let Some(s) = self
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            if s.generation == generation {
                return Ok(s);
            }
        }
        if generation == 0 {
            return Err(SessionError::Db(ploke_db::DbError::NoIndex {
                dir: self.loc.db_dir.clone(),
                partial: true,
            }));
        }
        let (retriever, generation) =
            self.db
                .read_consistent(|db| -> Result<_, ploke_db::DbError> {
                    let graph = db.load_graph()?;
                    let sources = db.sources()?;
                    Ok(Retriever::build(
                        &[&graph],
                        &|p| sources.get(p).map(String::as_str),
                        &mut ploke_retrieve::AnalysisCache::default(),
                        &ploke_retrieve::Scope::Workspace,
                    ))
                })?;
        let snap = Arc::new(Snapshot::new(generation, retriever));
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Some(snap.clone());
        Ok(snap)
    }

    /// Installs a new snapshot (the live index does, after each update).
    pub(crate) fn swap_snapshot(&self, snap: Arc<Snapshot>) {
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Some(snap);
    }

    /// The embedding model of the settings, loaded once; `None` (with a warning) when it
    /// cannot be loaded, and when embeddings are off.
    pub fn embedder(&self) -> Option<Arc<Embedder>> {
        self.embedder
            .get_or_init(|| {
                let config = self.settings.embed.as_ref()?;
                match Embedder::from_config(config) {
                    Ok(e) => Some(Arc::new(e)),
                    Err(e) => {
                        // The hint once: the download error names it already.
                        let e = e.to_string();
                        let hint = if e.contains("PLOKE_EMBED=off") {
                            ""
                        } else {
                            " (PLOKE_EMBED=off turns this off)"
                        };
                        self.events.warn(self.redact(&format!(
                            "embedding model: {e}; searching without vectors{hint}"
                        )));
                        None
                    }
                }
            })
            .clone()
    }

    /// The vectors search may use: those of the model the index holds vectors of, if it is
    /// the configured one. Says why not once (as a warning) when it is not.
    fn usable_vectors(&self, mode: Mode) -> Result<Option<VectorSearch>, SessionError> {
        if mode == Mode::Lexical {
            return Ok(None);
        }
        let Some(stored) = self.db.get_meta(EMBED_MODEL_KEY)? else {
            if mode == Mode::Vector {
                return Err(SessionError::Vectors(
                    "no embeddings in this index; run `ploke index` with embeddings on, or use --mode lexical".into(),
                ));
            }
            return Ok(None);
        };
        if self.settings.embed.is_none() {
            if mode == Mode::Vector {
                return Err(SessionError::Vectors(
                    "embeddings are turned off (PLOKE_EMBED=off)".into(),
                ));
            }
            return Ok(None);
        }
        let Some(embedder) = self.embedder() else {
            if mode == Mode::Vector {
                return Err(SessionError::Vectors(
                    "the embedding model could not be loaded".into(),
                ));
            }
            return Ok(None);
        };
        if embedder.model_id() != stored {
            let msg = format!(
                "the index holds vectors of {stored}, but the configured model is {}; run `ploke index` to re-embed",
                embedder.model_id()
            );
            if mode == Mode::Vector {
                return Err(SessionError::Vectors(msg));
            }
            // Once per session.
            if self.vectors.set(None).is_ok() {
                self.events
                    .warn(format!("{msg} (searching without vectors)"));
            }
            return Ok(None);
        }
        let vectors = self
            .vectors
            .get_or_init(|| Some(Arc::new(Vectors::new(&stored))))
            .clone();
        Ok(vectors.map(|v| (v, embedder)))
    }

    /// The retriever of `scope` with vectors attached and in step with it, when the mode uses
    /// them. The workspace's is the snapshot's; another scope's is built on first use (see
    /// [`Session::scoped`]).
    pub(crate) fn searchable(&self, mode: Mode, scope: &Scope) -> Result<Searcher, SessionError> {
        let snap = self.snapshot()?;
        let scoped = self.scoped(&snap, scope)?;
        let Some((vectors, embedder)) = self.usable_vectors(mode)? else {
            return Ok(Searcher {
                snap,
                scoped,
                embedder: None,
            });
        };
        match &scoped {
            None if snap.retriever.vectors().is_none() => {
                if !self.live.load(std::sync::atomic::Ordering::Acquire) {
                    self.db
                        .read_consistent(|db| vectors.sync(&snap.retriever.corpus, db))?;
                }
                snap.retriever.attach_vectors(vectors);
            }
            // Vectors of its own: syncing the shared ones with another corpus would drop the
            // workspace's items that corpus lacks.
            Some(r) if r.vectors().is_none() => {
                let own = Arc::new(Vectors::new(vectors.model()));
                self.db.read_consistent(|db| own.sync(&r.corpus, db))?;
                r.attach_vectors(own);
            }
            _ => {}
        }
        Ok(Searcher {
            snap,
            scoped,
            embedder: Some(embedder),
        })
    }

    /// The retriever of `scope` for `snap`; `None` when the snapshot's own answers it (the
    /// workspace, or every item when no dependency is attached). Built from the store the
    /// first time it is asked for, with the dependencies' texts read from disk, and kept with
    /// the snapshot. Dependency files that changed since they were indexed are said once (as a
    /// warning) per build. Costs nothing until a search asks for another scope.
    pub(crate) fn scoped(
        &self,
        snap: &Snapshot,
        scope: &Scope,
    ) -> Result<Option<Arc<Retriever>>, SessionError> {
        match scope {
            Scope::Workspace => return Ok(None),
            Scope::All if self.db.dependencies()?.is_none() => return Ok(None),
            _ => {}
        }
        let mut scoped = snap.scoped.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = scoped.get(scope) {
            return Ok(Some(r.clone()));
        }
        let ((retriever, unreadable), _) = self
            .db
            .read_consistent(|db| Retriever::load_scoped(db, None, scope))?;
        if let Some(first) = unreadable.first() {
            let more = match unreadable.len() {
                1 => String::new(),
                n => format!(" ({} more files alike)", n - 1),
            };
            self.events.warn(format!(
                "{first}{more}; their items are searched by name, path, signature and docs only"
            ));
        }
        if scoped.len() >= SCOPED_RETRIEVERS {
            scoped.clear();
        }
        let r = Arc::new(retriever);
        scoped.insert(scope.clone(), r.clone());
        Ok(Some(r))
    }

    /// The best items for a request.
    pub fn search(&self, req: &SearchRequest) -> Result<Vec<SearchHit>, SessionError> {
        Ok(self
            .search_batch(
                std::slice::from_ref(&req.query),
                req.k,
                req.mode,
                &req.scope,
            )?
            .pop()
            .unwrap_or_default())
    }

    /// Many searches of one scope against one snapshot, their requests embedded in one batch.
    pub fn search_batch(
        &self,
        queries: &[String],
        k: usize,
        mode: Mode,
        scope: &Scope,
    ) -> Result<Vec<Vec<SearchHit>>, SessionError> {
        let searcher = self.searchable(mode, scope)?;
        let retriever = searcher.retriever();
        let vecs = self.embed_queries(searcher.embedder.as_deref(), queries)?;
        let params = self.rank.read().unwrap_or_else(|e| e.into_inner()).clone();
        queries
            .iter()
            .zip(vecs)
            .map(|(q, v)| {
                let hits = match &params {
                    Some(p) => retriever.search_with(p, q, v.as_deref(), mode, k)?,
                    None => retriever.search(q, v.as_deref(), mode, k)?,
                };
                Ok(hits
                    .iter()
                    .map(|h| SearchHit {
                        item: ItemRef::in_corpus(h.node, &retriever.corpus),
                        package_file: h.file.to_string(),
                        score: h.score,
                        signals: h.signals,
                    })
                    .collect())
            })
            .collect()
    }

    fn embed_queries(
        &self,
        embedder: Option<&Embedder>,
        queries: &[String],
    ) -> Result<Vec<Option<Vec<f32>>>, SessionError> {
        match embedder {
            None => Ok(vec![None; queries.len()]),
            Some(e) => {
                let texts: Vec<&str> = queries.iter().map(String::as_str).collect();
                Ok(e.embed(&texts)?.into_iter().map(Some).collect())
            }
        }
    }

    /// The context pack of a request: its best items in full, outlines of their neighbours,
    /// within the budget.
    pub fn context(&self, req: &ContextRequest) -> Result<Pack, SessionError> {
        let searcher = self.searchable(req.mode, &req.scope)?;
        self.pack_with(
            searcher.retriever(),
            searcher.embedder.as_deref(),
            &req.request,
            req.budget,
            req.mode,
            req.tests,
        )
    }

    pub(crate) fn pack_with(
        &self,
        retriever: &Retriever,
        embedder: Option<&Embedder>,
        request: &str,
        budget: usize,
        mode: Mode,
        tests_per_item: usize,
    ) -> Result<Pack, SessionError> {
        let v = self
            .embed_queries(embedder, &[request.to_string()])?
            .pop()
            .flatten();
        let hits = retriever.search(request, v.as_deref(), mode, PACK_CANDIDATES)?;
        let ranked: Vec<_> = hits.iter().map(|h| (h.node.id, h.score)).collect();
        let opts = ploke_context::PackOptions {
            budget,
            tests_per_item,
            ..ploke_context::PackOptions::default()
        };
        let counter =
            ploke_context::Cl100k::new().map_err(|e| SessionError::Context(e.to_string()))?;
        let (pack, _) = self
            .db
            .read_consistent(|db| ploke_context::build_pack(db, request, &ranked, &opts, &counter))
            .map_err(|e| SessionError::Context(e.to_string()))?;
        Ok(pack)
    }

    /// The items `target` names (a canonical path, else a name or `Type::method`), each with
    /// its source and relations; test code last. Empty when nothing has that name.
    pub fn item(&self, target: &str) -> Result<Vec<ItemView>, SessionError> {
        Ok(self.lookup(target)?.items)
    }

    /// The items `target` names, with how it named them: a canonical path, a public path
    /// through `pub use` re-exports (resolved to the definition), or a name (then possibly
    /// several different items: see [`Lookup::ambiguous`]). Empty when nothing matches.
    pub fn lookup(&self, target: &str) -> Result<Lookup, SessionError> {
        let ((items, found), _) =
            self.db
                .read_consistent(|db| -> Result<_, ploke_db::DbError> {
                    let (nodes, found) = db.find_items_how(target)?;
                    let views = nodes
                        .iter()
                        .map(|n| self.view_of(db, n))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((views, found))
                })?;
        let how = match found {
            ploke_db::Found::Path => Match::Path,
            ploke_db::Found::Reexport => Match::Reexport {
                of: items
                    .first()
                    .map(|v| v.item.path.clone())
                    .unwrap_or_default(),
            },
            ploke_db::Found::Name => Match::Name,
        };
        Ok(Lookup { how, items })
    }

    fn view_of(&self, db: &Db, n: &Node) -> Result<ItemView, ploke_db::DbError> {
        let r = db.relations(n)?;
        let src = db.item_source(n)?.unwrap_or_default();
        let item_ref = |m: &Node| {
            let c = self.crate_of(db, &m.crate_name, &m.file);
            ItemRef::of(
                m,
                c.as_ref().map(|c| c.package.as_str()),
                c.as_ref().map(|c| c.version.as_str()),
            )
        };
        let related = |rows: &[(Node, u32)]| {
            rows.iter()
                .map(|(m, line)| Related {
                    item: item_ref(m),
                    line: *line,
                })
                .collect()
        };
        Ok(ItemView {
            item: item_ref(n),
            signature: n.signature.clone(),
            visibility: n.visibility.as_text(),
            docs: n.docs.clone(),
            cfg: n.cfg.clone(),
            attrs: n.attrs.clone(),
            is_test: n.is_test,
            source: src.text,
            indent: src.indent,
            module: r.module.as_ref().map(item_ref),
            parent: r.parent.as_ref().map(item_ref),
            callers: related(&r.callers),
            callees: related(&r.callees),
            implementations: r.implementations.iter().map(item_ref).collect(),
            implements: r.implements.iter().map(item_ref).collect(),
            unresolved_calls: r
                .unresolved_calls
                .iter()
                .map(|u| format!("{} (line {})", u.text, u.line))
                .collect(),
        })
    }

    /// The crate (target) record of an item of crate `crate_name` in `file`: its package and,
    /// for a dependency, its version (see [`ploke_db::crate_of`]).
    pub(crate) fn crate_of(&self, db: &Db, crate_name: &str, file: &str) -> Option<CrateRecord> {
        let cached = self
            .crates
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if let Some((_, cs)) = &cached {
            if let Some(c) = ploke_db::crate_of(cs.iter(), crate_name, file) {
                return Some(c.clone());
            }
        }
        // Not known yet, or a dependency was attached since: read the records again.
        let generation = db.generation().ok()?;
        if cached.as_ref().is_some_and(|(g, _)| *g == generation) {
            return None;
        }
        let fresh: Arc<[CrateRecord]> = db.all_crates().ok()?.into();
        let found = ploke_db::crate_of(fresh.iter(), crate_name, file).cloned();
        *self.crates.write().unwrap_or_else(|e| e.into_inner()) = Some((generation, fresh));
        found
    }
}
