//! The operations that write the index: index, undo, and what edits and the live index share
//! (the indexer kept between refreshes, the embedding stage, recovery of a killed edit).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ploke_db::lock::WriteLock;
use ploke_index::{Changes, IndexOptions, IndexReport, Indexer};
use ploke_retrieve::embedding::embed_pending;
use ploke_retrieve::{AnalysisCache, Corpus};

use crate::events::{Event, IndexProgress};
use crate::results::{EmbedSummary, IndexSummary};
use crate::{Session, SessionError, EMBED_MODEL_KEY, WORKSPACE_ROOT_KEY};

/// How to index.
#[derive(Debug, Clone, Default)]
pub struct IndexRequest {
    /// Parse everything again and repair the stored index (a damaged one is replaced).
    pub rebuild: bool,
    /// Run the embedding stage after the graph is written.
    pub embed: bool,
    /// How long to wait for another writer (`None`: until it is done).
    pub wait: Option<Duration>,
    /// Which dependencies to attach; `None` keeps those the index has (the direct ones for
    /// a new index).
    pub deps: Option<ploke_index::DepsScope>,
    /// Embed the attached dependencies' items too (with `embed`): their vectors are kept in
    /// the dependency store, shared by every index with the same dependencies.
    pub embed_deps: bool,
}

/// What a writing session keeps between operations.
pub(crate) struct Writer {
    pub indexer: Indexer,
    /// The analysis of every search document, for cheap rebuilds of the snapshot.
    pub cache: AnalysisCache,
    /// The text of every indexed file, by workspace-relative path (kept by the live index).
    pub sources: HashMap<String, Arc<str>>,
}

impl Session {
    fn index_options(&self, rebuild: bool, wait: Option<Duration>) -> IndexOptions {
        IndexOptions {
            db_dir: Some(self.loc.db_dir.clone()),
            rebuild,
            holder: Some(self.opts.holder.clone()),
            wait,
            keep_last_good: self.live.load(std::sync::atomic::Ordering::Acquire),
            ..IndexOptions::default()
        }
    }

    /// Runs `f` with the writer, opening the indexer first if this session has none.
    pub(crate) fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let indexer = Indexer::open(&self.loc.root, &self.index_options(false, None))?;
            *guard = Some(Writer {
                indexer,
                cache: AnalysisCache::default(),
                sources: HashMap::new(),
            });
        }
        f(guard.as_mut().expect("set above"))
    }

    /// Indexes the workspace: every file read, the changed ones parsed, the difference
    /// written (under the index's write lock); then, if asked, the embedding stage.
    pub fn index(&self, req: &IndexRequest) -> Result<IndexSummary, SessionError> {
        let progress = IndexProgress::new(&self.events);
        let report = {
            let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            if req.rebuild || guard.is_none() {
                let indexer =
                    Indexer::open(&self.loc.root, &self.index_options(req.rebuild, req.wait))?;
                *guard = Some(Writer {
                    indexer,
                    cache: AnalysisCache::default(),
                    sources: HashMap::new(),
                });
            }
            let w = guard.as_mut().expect("set above");
            match req.deps {
                Some(scope) => w.indexer.set_dependencies(scope),
                None if w.indexer.dependency_scope().is_none() => {
                    w.indexer.set_dependencies(ploke_index::DepsScope::Direct)
                }
                None => {}
            }
            let lock = w.indexer.lock(&progress)?;
            self.recover_edits(&lock)?;
            let report = w.indexer.refresh_locked(&lock, Changes::All, &progress)?;
            drop(lock);
            w.indexer.save_cache();
            report
        };
        self.record_root();
        let mut summary = IndexSummary::of(&report);
        summary.packages = self
            .db
            .crates()
            .map(|cs| {
                cs.iter()
                    .map(|c| c.package.as_str())
                    .collect::<std::collections::HashSet<_>>()
                    .len()
            })
            .unwrap_or(0);
        if req.embed {
            // The graph is written and searchable: a model that fails is a warning.
            summary.embed = match self.embed_stage() {
                Ok(e) => e,
                Err(e) => {
                    self.events.warn(self.redact(&format!(
                        "embeddings skipped: {e}; search uses the lexical and graph signals"
                    )));
                    None
                }
            };
            if req.embed_deps {
                summary.embed_deps = match self.embed_dependencies() {
                    Ok(e) => e,
                    Err(e) => {
                        self.events.warn(
                            self.redact(&format!("embeddings of the dependencies skipped: {e}")),
                        );
                        None
                    }
                };
            }
        }
        Ok(summary)
    }

    /// Reverts the last edit byte for byte (refused, changing nothing, if a file changed
    /// since), then indexes the files it restored and embeds their items.
    pub fn undo(&self) -> Result<ploke_edit::Undone, SessionError> {
        let progress = IndexProgress::new(&self.events);
        let undone = self.with_writer(|w| {
            let lock = w.indexer.lock(&progress)?;
            self.recover_edits(&lock)?;
            let undone = ploke_edit::undo(&self.loc.journal_dir, &self.loc.root)?;
            let paths = undone.files.iter().map(|f| self.loc.root.join(f)).collect();
            w.indexer
                .refresh_locked(&lock, Changes::Paths(paths), &progress)?;
            w.indexer.save_cache();
            Ok(undone)
        })?;
        self.after_write()?;
        Ok(undone)
    }

    /// Finishes or takes back an edit whose apply was killed, before anything else writes.
    pub(crate) fn recover_edits(&self, _lock: &WriteLock) -> Result<Vec<String>, SessionError> {
        match ploke_edit::recover(&self.loc.journal_dir, &self.loc.root)? {
            Some(r) => {
                self.events.warn(r.to_string());
                Ok(r.files)
            }
            None => Ok(Vec::new()),
        }
    }

    /// Brings the index up to date with `paths` under a write lock the caller holds.
    pub(crate) fn refresh_paths(
        &self,
        w: &mut Writer,
        lock: &WriteLock,
        paths: Vec<PathBuf>,
    ) -> Result<IndexReport, SessionError> {
        let progress = IndexProgress::new(&self.events);
        Ok(w.indexer
            .refresh_locked(lock, Changes::Paths(paths), &progress)?)
    }

    /// After an edit or an undo outside a live index: the stored vectors of the changed
    /// items (a live index does this in the background).
    pub(crate) fn after_write(&self) -> Result<(), SessionError> {
        if !self.live.load(std::sync::atomic::Ordering::Acquire) {
            self.embed_stage()?;
        }
        Ok(())
    }

    /// Records the workspace root in the index (for indexes kept outside their workspace).
    fn record_root(&self) {
        let root = self.loc.root.display().to_string();
        if self
            .db
            .get_meta(WORKSPACE_ROOT_KEY)
            .ok()
            .flatten()
            .as_deref()
            != Some(root.as_str())
        {
            if let Err(e) = self.db.set_meta(WORKSPACE_ROOT_KEY, &root) {
                self.events
                    .warn(format!("could not record the workspace root: {e}"));
            }
        }
    }

    /// Embeds every item whose text has no stored vector yet (with progress events);
    /// `Ok(None)` when embeddings are off or the model cannot be loaded (with a warning).
    pub fn embed_stage(&self) -> Result<Option<EmbedSummary>, SessionError> {
        let Some(config) = self.settings.embed.as_ref() else {
            return Ok(None);
        };
        let Some(embedder) = self.embedder() else {
            return Ok(None);
        };
        let (corpus, _) = self.db.read_consistent(Corpus::load)?;
        self.embed_corpus(&corpus, &embedder, config.batch_size)
            .map(Some)
    }

    /// Embeds the items of the attached dependencies that have no vector yet, into their
    /// store (where every index with the same dependencies finds them; vectors are keyed by
    /// model and text, so only what is new is embedded). `None` without an embedding model
    /// or a dependency store.
    pub fn embed_dependencies(&self) -> Result<Option<EmbedSummary>, SessionError> {
        let Some(config) = self.settings.embed.as_ref() else {
            return Ok(None);
        };
        let Some(embedder) = self.embedder() else {
            return Ok(None);
        };
        let Some(store) = self.db.dependencies()? else {
            return Ok(None);
        };
        let graph = store.load_graph()?;
        let texts: HashMap<String, String> = graph
            .files
            .iter()
            .filter_map(|f| match ploke_db::read_dependency_file(f) {
                Ok(t) => Some((f.path.clone(), t)),
                Err(e) => {
                    self.events.warn(e.to_string());
                    None
                }
            })
            .collect();
        let corpus = Corpus::build(
            &[&graph],
            &|p| texts.get(p).map(String::as_str),
            &mut AnalysisCache::default(),
            &ploke_retrieve::Scope::All,
        );
        self.embed_into(
            &store,
            &corpus,
            &embedder,
            config.batch_size,
            "embed dependencies",
        )
        .map(Some)
    }

    pub(crate) fn embed_corpus(
        &self,
        corpus: &Corpus,
        embedder: &ploke_embed::Embedder,
        batch_size: usize,
    ) -> Result<EmbedSummary, SessionError> {
        self.embed_into(&self.db, corpus, embedder, batch_size, "embed")
    }

    fn embed_into(
        &self,
        db: &ploke_db::Db,
        corpus: &Corpus,
        embedder: &ploke_embed::Embedder,
        batch_size: usize,
        stage: &str,
    ) -> Result<EmbedSummary, SessionError> {
        let mut started = false;
        let stats = embed_pending(db, corpus, embedder, batch_size, |done, total| {
            if !started {
                started = true;
                self.events.emit(Event::Stage {
                    stage: stage.into(),
                    total: total as u64,
                });
            }
            self.events.emit(Event::Progress {
                stage: stage.into(),
                done: done as u64,
                total: total as u64,
            });
        })
        .map_err(|e| match e {
            ploke_retrieve::RetrieveError::Embed(e) => SessionError::Embed(e),
            other => SessionError::Retrieve(other),
        })?;
        db.set_meta(EMBED_MODEL_KEY, embedder.model_id())?;
        Ok(EmbedSummary {
            model: embedder.model_id().to_string(),
            items_per_s: stats.items_per_second(),
            stats,
        })
    }
}
