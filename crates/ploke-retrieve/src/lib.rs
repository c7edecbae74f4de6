//! Hybrid retrieval over a ploke index: lexical BM25, dense vectors and the code graph.
//!
//! A [`Retriever`] is loaded once from the database ([`Retriever::load`]) and answers many
//! queries. Its documents are the items a person edits as a unit (functions, methods, types,
//! traits, impls, modules, macros, consts; not fields, variants or imports), built by
//! [`Corpus`]. Three signals score them:
//!
//! - **lexical**: BM25F over name, path, signature, docs, body and file ([`ploke_search`]),
//!   which also boosts items whose name the request writes as code;
//! - **dense**: cosine similarity between the request's vector and the item's, from the
//!   vectors stored in the database by [`embedding::embed_pending`] and searched with an exact
//!   scan ([`ploke_vector`]); items without a vector yet just lack this signal;
//! - **graph**: the best-scoring items pass part of their score to their neighbours in the
//!   code graph ([`DocGraph`]): callees and callers, members and containers, the types they
//!   use, the traits and types an impl is for. A request rarely names every item it needs
//!   changed; the items it does name lead to the others.
//!
//! Each list is scaled to `[0, 1]` by its own best score, the scaled scores are summed with
//! weights ([`RankParams`], fitted on the DEV split of the change-request benchmark, the same
//! for every crate), the graph adds its share, and test code is scaled down unless the request
//! is about tests.
//!
//! That is the first stage ([`Retriever::first_stage`]). A learned second stage
//! ([`rerank`], opt-in through [`RankParams::rerank`]) orders its best candidates by 47
//! features with a tree ensemble trained on changes mined from public repositories.
//!
//! A retriever holds the items of one [`Scope`]: the workspace's (the default), or also those
//! of the dependencies attached to the index (their files are absolute paths; their texts are
//! read from cargo's cache, not from the store), or one crate's. The scope picks the corpus's
//! documents, so a narrower scope still returns as many hits as asked for.
//!
//! The crate has no async runtime and reads no configuration: the caller loads the model,
//! embeds the request and passes its vector.

mod corpus;
pub mod embed_text;
pub mod embedding;
mod graph;
pub mod rerank;
mod scope;

use fxhash::FxHashMap;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use ploke_core::{is_dependency_path, ContentHash, FileRecord, Graph, Node, NodeId};
use ploke_db::Db;
use ploke_vector::VectorIndex;
use rayon::prelude::*;

pub use corpus::{is_result_kind, AnalysisCache, Corpus, SourceOf};
pub use graph::{DocGraph, Rel, NUM_RELS};
pub use scope::Scope;

/// Errors of loading or searching.
#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    #[error(transparent)]
    Db(#[from] ploke_db::DbError),
    #[error(transparent)]
    Embed(#[from] ploke_embed::EmbedError),
    #[error("the request's vector has {got} dimensions but the stored vectors have {want}; re-run `ploke index` after changing the embedding model")]
    Dims { got: usize, want: usize },
    #[error("no vectors of model `{0}` are stored; run `ploke index` (with embeddings enabled) first, or use --mode lexical")]
    NoVectors(String),
    #[error("vector search needs the request's vector")]
    NoQueryVector,
    #[error("no item in scope `{scope}` has a vector of model `{model}` (a dependency's items have none unless its texts were embedded); use --mode hybrid or lexical")]
    NoVectorsInScope { scope: Scope, model: String },
}

/// Which signals a search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// BM25 only.
    Lexical,
    /// Dense vectors only.
    Vector,
    /// BM25, vectors and the code graph, fused.
    #[default]
    Hybrid,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lexical" => Ok(Mode::Lexical),
            "vector" => Ok(Mode::Vector),
            "hybrid" => Ok(Mode::Hybrid),
            _ => Err(format!("unknown mode `{s}`: use lexical, vector or hybrid")),
        }
    }
}

/// Weights of the hybrid ranking. The defaults are fitted on the DEV split of the
/// change-request benchmark and used unchanged for every crate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RankParams {
    /// Candidates taken from each list.
    pub candidates: usize,
    /// Weight of the scaled BM25 score.
    pub lexical: f32,
    /// Weight of the scaled dense score.
    pub dense: f32,
    /// Dense scores are scaled between the score at this rank (0) and the best (1).
    pub dense_floor_rank: usize,
    /// Items whose fused score seeds the graph step.
    pub seeds: usize,
    /// Share of a seed's score passed over each relation ([`Rel`] order).
    pub rel_weights: [f32; NUM_RELS],
    /// Overall weight of what the graph step passes on.
    pub graph: f32,
    /// Steps the graph step takes (2: a method's siblings through its impl).
    pub graph_hops: usize,
    /// Factor of each further step's share.
    pub hop_decay: f32,
    /// Score factor of test code when the request is not about tests.
    pub test_factor: f32,
    /// Score factor of code in examples, benches, integration tests and build scripts.
    pub aux_factor: f32,
    /// Added (times the item's best scaled score) when the item's module or file path holds
    /// the request's scope (`sync: …`, `fix(http2): …`; see [`scope_of`]).
    pub scope: f32,
    /// Weight of the file's score (the mean of its best [`RankParams::file_items`] items)
    /// added to each item's.
    pub file: f32,
    /// Items averaged into a file's score.
    pub file_items: usize,
    /// Added (times the item's best scaled score) per unit of the item's centrality in the
    /// code graph ([`DocGraph::centrality`]): among equally relevant items, the ones much of
    /// the code refers to first.
    pub centrality: f32,
    /// Re-rank the first stage's best [`RankParams::rerank_depth`] hybrid candidates with
    /// the learned model ([`rerank::Ranker::builtin`]). Off by default: trained on 4,215
    /// mined changes from 73 repositories, it lifts item_R@10 on 18 held-out repositories
    /// (0.699 → 0.724) but not on the DEV benchmark (0.621 → 0.608) nor the question set
    /// (file NDCG@10 0.813 → 0.803); see the README's retrieval section.
    pub rerank: bool,
    /// Candidates the learned model orders; the rest follow in first-stage order.
    pub rerank_depth: usize,
}

impl Default for RankParams {
    fn default() -> Self {
        RankParams {
            candidates: 200,
            lexical: 1.0,
            dense: 0.25,
            dense_floor_rank: 100,
            seeds: 30,
            //            calls called_by child parent uses used_by impl_of impl_by
            rel_weights: [1.0, 0.5, 1.0, 0.2, 0.3, 0.3, 0.5, 0.3],
            graph: 0.2,
            graph_hops: 2,
            hop_decay: 0.5,
            test_factor: 0.3,
            aux_factor: 0.5,
            scope: 0.6,
            file: 0.0,
            file_items: 3,
            centrality: 0.0,
            rerank: false,
            rerank_depth: 100,
        }
    }
}

/// One result.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    /// Document number in [`Retriever::corpus`].
    pub doc: u32,
    pub node: &'a Node,
    /// Package-relative file path.
    pub file: &'a str,
    /// Final score (higher is better; comparable within one result list only).
    pub score: f32,
    /// The scaled signals behind the score.
    pub signals: Signals,
}

/// The parts of a hit's score, each scaled to `[0, 1]` before weighting.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Signals {
    pub lexical: f32,
    pub dense: f32,
    pub graph: f32,
    /// The raw cosine similarity behind `dense` (0 without a vector).
    pub cosine: f32,
}

/// Everything needed to answer queries over one index: a snapshot of one generation of it
/// (its vectors excepted, which join as they are embedded, see [`Vectors`]).
pub struct Retriever {
    pub corpus: Corpus,
    pub graph: DocGraph,
    /// Document number of each node of the corpus.
    doc_of: FxHashMap<NodeId, u32>,
    /// Set once, when vectors are wanted (see [`Retriever::attach_vectors`]).
    vectors: OnceLock<Arc<Vectors>>,
    /// [`DocGraph::centrality`] of each document, computed when first wanted.
    centrality: OnceLock<Vec<f32>>,
    /// The last line any item reaches in each file, computed when first wanted.
    file_lines: OnceLock<HashMap<String, u32>>,
    pub params: RankParams,
    /// The items the corpus holds.
    scope: Scope,
}

/// The stored vectors of one model, by node: loaded from the database, and kept in step with
/// the items by [`Vectors::sync`]. Shared by the retrievers built one after another over a
/// changing index, so that vectors embedded in the background join every later snapshot.
pub struct Vectors {
    model: String,
    inner: RwLock<VectorState>,
}

#[derive(Default)]
struct VectorState {
    /// `None` until the first vector is known (its length fixes the dimensions).
    index: Option<VectorIndex>,
    /// The hash of the text each node's vector was embedded from.
    hash: HashMap<NodeId, ContentHash>,
}

/// Above this many missing vectors one scan of every stored vector beats asking for each.
const BULK_VECTOR_READ: usize = 512;

impl Vectors {
    /// No vectors yet, of `model`.
    pub fn new(model: &str) -> Vectors {
        Vectors {
            model: model.to_string(),
            inner: RwLock::new(VectorState::default()),
        }
    }

    /// The model whose vectors these are.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Items with a vector.
    pub fn len(&self) -> usize {
        self.read().index.as_ref().map_or(0, VectorIndex::len)
    }

    /// Whether no item has a vector.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, VectorState> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the vectors in line with `corpus`: every item that should have a vector gets
    /// the one stored in `db` for its current text, if there is one; items that are gone, or
    /// whose text changed and has no vector yet, lose theirs. Returns the number of items
    /// that should have a vector.
    pub fn sync(&self, corpus: &Corpus, db: &Db) -> Result<usize, RetrieveError> {
        let mut wanted: HashMap<NodeId, ContentHash> = HashMap::new();
        for (node, body) in corpus.nodes.iter().zip(&corpus.bodies) {
            if embed_text::should_embed(node) {
                let h = embed_text::text_hash(&embed_text::embed_text(node, body));
                wanted.insert(node.id, h);
            }
        }
        let missing: Vec<ContentHash> = {
            let st = self.read();
            let mut m: Vec<ContentHash> = wanted
                .iter()
                .filter(|(id, h)| st.hash.get(id) != Some(h))
                .map(|(_, h)| *h)
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        let mut stored: HashMap<ContentHash, Vec<f32>> = if missing.len() > BULK_VECTOR_READ {
            db.embeddings(&self.model)?.into_iter().collect()
        } else {
            db.embeddings_for(&self.model, &missing)?
                .into_iter()
                .collect()
        };
        if missing.len() > BULK_VECTOR_READ && db.dependencies()?.is_some() {
            // The bulk read is of the index's own vectors; a dependency's are in its store.
            let rest: Vec<ContentHash> = missing
                .iter()
                .filter(|h| !stored.contains_key(h))
                .copied()
                .collect();
            stored.extend(db.embeddings_for(&self.model, &rest)?);
        }
        let mut st = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let VectorState { index, hash } = &mut *st;
        // Gone, or changed without a vector for the new text yet.
        let stale: Vec<NodeId> = hash
            .iter()
            .filter(|(id, h)| match wanted.get(id) {
                None => true,
                Some(w) => w != *h && !stored.contains_key(w),
            })
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            hash.remove(&id);
            if let Some(ix) = index.as_mut() {
                ix.remove(id.0);
            }
        }
        for (id, h) in &wanted {
            if hash.get(id) == Some(h) {
                continue;
            }
            if let Some(v) = stored.get(h) {
                let ix = index.get_or_insert_with(|| VectorIndex::new(v.len()));
                // A vector of the wrong length (a changed model under the same id) is
                // skipped: the item falls back to the other signals.
                match ix.upsert(id.0, v) {
                    Ok(()) => {
                        hash.insert(*id, *h);
                    }
                    Err(_) => {
                        tracing::warn!(item = id.0, "stored vector has the wrong length; skipped")
                    }
                }
            }
        }
        Ok(wanted.len())
    }
}

impl Retriever {
    /// Loads the workspace's corpus, the graph and (when `model` is given) that model's stored
    /// vectors. Run it inside [`Db::read_consistent`] when a writer may be committing
    /// meanwhile.
    pub fn load(db: &Db, model: Option<&str>) -> Result<Retriever, RetrieveError> {
        Ok(Retriever::load_scoped(db, model, &Scope::Workspace)?.0)
    }

    /// [`Retriever::load`] of the items `scope` holds: for a scope that reaches the
    /// dependencies, with the graph of the dependency store attached to the index
    /// ([`Db::dependencies`]). A dependency's texts are not stored: its files are read from
    /// disk and checked against their indexed hashes ([`ploke_db::read_dependency_file`]). A file that cannot be read, or changed since it
    /// was indexed, is returned with the retriever (its items are still searched by name,
    /// path, signature and docs). A dependency's items have vectors only when its texts were
    /// embedded; without, hybrid search ranks them by the lexical and graph signals.
    pub fn load_scoped(
        db: &Db,
        model: Option<&str>,
        scope: &Scope,
    ) -> Result<(Retriever, Vec<ploke_db::DbError>), RetrieveError> {
        let graph = db.load_graph()?;
        let deps = match db.dependencies()? {
            Some(store) if scope.reaches_dependencies() => Some(store.load_graph()?),
            _ => None,
        };
        let parts: Vec<&Graph> = std::iter::once(&graph).chain(deps.as_ref()).collect();
        let files: Vec<&FileRecord> = parts
            .iter()
            .flat_map(|g| &g.files)
            .filter(|f| scope.admits_file(&f.crate_name, &f.path))
            .collect();
        let stored = if files.iter().any(|f| !is_dependency_path(&f.path)) {
            db.sources()?
        } else {
            HashMap::new()
        };
        let read: Vec<(&str, Result<String, ploke_db::DbError>)> = files
            .par_iter()
            .filter(|f| is_dependency_path(&f.path))
            .map(|f| (f.path.as_str(), ploke_db::read_dependency_file(f)))
            .collect();
        let mut unreadable = Vec::new();
        let mut texts: HashMap<&str, String> = HashMap::new();
        for (path, text) in read {
            match text {
                Ok(t) => {
                    texts.insert(path, t);
                }
                Err(e) => unreadable.push(e),
            }
        }
        let r = Retriever::build(
            &parts,
            &|p| stored.get(p).or_else(|| texts.get(p)).map(String::as_str),
            &mut AnalysisCache::default(),
            scope,
        );
        if let Some(model) = model {
            let v = Arc::new(Vectors::new(model));
            v.sync(&r.corpus, db)?;
            r.attach_vectors(v);
        }
        Ok((r, unreadable))
    }

    /// The retriever of the items `scope` holds of a graph given as parts (a whole graph is one
    /// part), whose files' texts `source` gives; documents unchanged since `cache` last saw
    /// them are not tokenized again. It has no vectors until [`Retriever::attach_vectors`].
    pub fn build(
        parts: &[&Graph],
        source: &SourceOf<'_>,
        cache: &mut AnalysisCache,
        scope: &Scope,
    ) -> Retriever {
        let t = std::time::Instant::now();
        let corpus = Corpus::build(parts, source, cache, scope);
        let t_corpus = t.elapsed();
        let doc_of: FxHashMap<NodeId, u32> = corpus
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i as u32))
            .collect();
        let doc_graph = DocGraph::build(parts, &doc_of);
        tracing::debug!(?t_corpus, total = ?t.elapsed(), docs = doc_of.len(), "retriever built");
        Retriever {
            corpus,
            graph: doc_graph,
            doc_of,
            vectors: OnceLock::new(),
            centrality: OnceLock::new(),
            file_lines: OnceLock::new(),
            params: RankParams::default(),
            scope: scope.clone(),
        }
    }

    /// Searches with `vectors` from now on (the first vectors attached stay). They need not
    /// be synced with this corpus: vectors of items it does not hold are skipped, and
    /// [`Vectors::sync`] brings them in step whenever convenient.
    pub fn attach_vectors(&self, vectors: Arc<Vectors>) {
        let _ = self.vectors.set(vectors);
    }

    /// The items this retriever searches.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The vectors this retriever searches (shared with the retrievers built after it).
    pub fn vectors(&self) -> Option<&Arc<Vectors>> {
        self.vectors.get()
    }

    /// The document number of a node, if it is in the corpus.
    pub fn doc_of(&self, id: NodeId) -> Option<u32> {
        self.doc_of.get(&id).copied()
    }

    /// (items with a vector, items that should have one); `(0, 0)` without vectors.
    pub fn vector_coverage(&self) -> (usize, usize) {
        match self.vectors.get() {
            None => (0, 0),
            Some(v) => {
                let st = v.read();
                let with = self
                    .corpus
                    .nodes
                    .iter()
                    .filter(|n| embed_text::should_embed(n) && st.hash.contains_key(&n.id))
                    .count();
                let all = self
                    .corpus
                    .nodes
                    .iter()
                    .filter(|n| embed_text::should_embed(n))
                    .count();
                (with, all)
            }
        }
    }

    /// The best `k` items for `query`. `query_vec` is the request embedded with the model the
    /// retriever was loaded with; without it (or without stored vectors) hybrid search uses
    /// the lexical and graph signals, and vector search is an error.
    pub fn search(
        &self,
        query: &str,
        query_vec: Option<&[f32]>,
        mode: Mode,
        k: usize,
    ) -> Result<Vec<Hit<'_>>, RetrieveError> {
        self.search_with(&self.params, query, query_vec, mode, k)
    }

    /// [`Retriever::search`] with other ranking parameters than this retriever's.
    pub fn search_with(
        &self,
        p: &RankParams,
        query: &str,
        query_vec: Option<&[f32]>,
        mode: Mode,
        k: usize,
    ) -> Result<Vec<Hit<'_>>, RetrieveError> {
        if mode != Mode::Hybrid || !p.rerank || k == 0 {
            return self.first_stage(p, query, query_vec, mode, k);
        }
        let mut hits = self.first_stage(p, query, query_vec, mode, k.max(p.rerank_depth))?;
        self.rerank(rerank::Ranker::builtin(), query, &mut hits, p.rerank_depth);
        hits.truncate(k);
        Ok(hits)
    }

    /// Orders the best `depth` of `hits` (first-stage candidates, best first) by `ranker`.
    /// Their scores become `1 + sigmoid(model score)`; the hits after them keep their order,
    /// scaled below 1.
    pub fn rerank(&self, ranker: &rerank::Ranker, query: &str, hits: &mut [Hit<'_>], depth: usize) {
        let depth = depth.min(hits.len());
        if depth == 0 || ranker.is_empty() {
            return;
        }
        let top = hits[0].score.max(1e-6);
        let rows = self.features(query, &hits[..depth]);
        for (h, row) in hits[..depth].iter_mut().zip(&rows) {
            h.score = 1.0 + 1.0 / (1.0 + (-ranker.score(row)).exp());
        }
        for h in &mut hits[depth..] {
            h.score = (h.score / top).min(1.0);
        }
        // Stable: equal model scores keep the first stage's order.
        hits[..depth].sort_by(|a, b| b.score.total_cmp(&a.score));
    }

    /// The first stage of a search: BM25F, vectors and the graph walk fused (hybrid), or one
    /// of the first two alone; the best `k`, best first.
    pub fn first_stage(
        &self,
        p: &RankParams,
        query: &str,
        query_vec: Option<&[f32]>,
        mode: Mode,
        k: usize,
    ) -> Result<Vec<Hit<'_>>, RetrieveError> {
        let n = p.candidates.max(k);
        let mut sig: HashMap<u32, Signals> = HashMap::new();
        if mode != Mode::Vector {
            let lex = self.corpus.index.search(query, n);
            if let Some(&(_, best)) = lex.first() {
                for (d, s) in lex {
                    sig.entry(d).or_default().lexical = s / best;
                }
            }
        }
        if mode != Mode::Lexical {
            let st = self.vectors.get().map(|v| v.read());
            let index = st
                .as_ref()
                .and_then(|st| st.index.as_ref())
                .filter(|ix| !ix.is_empty());
            match (query_vec, index) {
                (Some(q), Some(index)) => {
                    if q.len() != index.dims() {
                        return Err(RetrieveError::Dims {
                            got: q.len(),
                            want: index.dims(),
                        });
                    }
                    // Vectors of items this snapshot does not hold (changed or added since) are
                    // skipped.
                    let dense: Vec<(u32, f32)> = index
                        .search(q, n)
                        .into_iter()
                        .filter_map(|(id, s)| self.doc_of(NodeId(id)).map(|d| (d, s)))
                        .collect();
                    if let (Some(&(_, best)), Some(&(_, last))) = (dense.first(), dense.last()) {
                        // Scaled between the score at the floor rank (or just below the last
                        // one, when there are fewer hits) and the best.
                        let floor = dense
                            .get(p.dense_floor_rank)
                            .map_or(last - (best - last).max(1e-3) * 0.1, |h| h.1);
                        let span = (best - floor).max(1e-6);
                        for (d, s) in dense {
                            let e = sig.entry(d).or_default();
                            e.dense = ((s - floor) / span).max(0.0);
                            e.cosine = s;
                        }
                    }
                }
                (None, Some(_)) if mode == Mode::Vector => {
                    return Err(RetrieveError::NoQueryVector)
                }
                _ if mode == Mode::Vector => {
                    let model = self.vectors.get().map_or("(none)", |v| v.model());
                    if self.scope.reaches_dependencies() && self.vectors.get().is_some() {
                        return Err(RetrieveError::NoVectorsInScope {
                            scope: self.scope.clone(),
                            model: model.to_string(),
                        });
                    }
                    return Err(RetrieveError::NoVectors(model.to_string()));
                }
                _ => {}
            }
        }
        let about_tests = mentions_tests(query);
        let base = |s: &Signals| match mode {
            Mode::Lexical => s.lexical,
            // Plain cosine similarity, so that every stored vector can be returned.
            Mode::Vector => s.cosine,
            Mode::Hybrid => p.lexical * s.lexical + p.dense * s.dense,
        };
        if mode == Mode::Hybrid && p.graph > 0.0 {
            let mut seeds: Vec<(u32, f32)> = sig.iter().map(|(&d, s)| (d, base(s))).collect();
            seeds.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            seeds.truncate(p.seeds);
            let mut frontier = seeds;
            let mut decay = 1.0;
            for _ in 0..p.graph_hops.max(1) {
                let mut passed: HashMap<u32, f32> = HashMap::new();
                for &(d, score) in &frontier {
                    // A node spreads its score over its neighbours: hubs pass less to each.
                    let spread = 1.0 / (1.0 + (1.0 + self.graph.degree(d) as f32).ln());
                    for (nb, rel) in self.graph.neighbours(d) {
                        *passed.entry(nb).or_default() +=
                            score * spread * p.rel_weights[rel as usize];
                    }
                }
                for (&nb, &g) in &passed {
                    sig.entry(nb).or_default().graph += decay * g;
                }
                frontier = passed.into_iter().collect();
                frontier.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                frontier.truncate(p.seeds);
                decay *= p.hop_decay;
            }
        }
        let scope = if mode == Mode::Hybrid && p.scope > 0.0 {
            scope_of(query)
        } else {
            None
        };
        let centrality = (mode == Mode::Hybrid && p.centrality > 0.0)
            .then(|| self.centrality.get_or_init(|| self.graph.centrality()));
        let mut hits: Vec<Hit> = sig
            .into_iter()
            .map(|(d, s)| {
                let i = d as usize;
                let node = &self.corpus.nodes[i];
                let mut score = base(&s)
                    + if mode == Mode::Hybrid {
                        p.graph * s.graph
                    } else {
                        0.0
                    };
                if let Some(c) = centrality {
                    score += p.centrality * c[i] * s.lexical.max(s.dense);
                }
                if let Some(scope) = &scope {
                    if in_scope(scope, &node.module, self.corpus.rel_file(i)) {
                        score += p.scope * s.lexical.max(s.dense);
                    }
                }
                if node.is_test && !about_tests {
                    score *= p.test_factor;
                }
                if self.corpus.aux[i] {
                    score *= p.aux_factor;
                }
                Hit {
                    doc: d,
                    node,
                    file: self.corpus.rel_file(i),
                    score,
                    signals: s,
                }
            })
            .filter(|h| h.score > 0.0 || mode == Mode::Vector)
            .collect();
        if mode == Mode::Hybrid && p.file > 0.0 {
            add_file_scores(&mut hits, p.file, p.file_items.max(1));
        }
        hits.sort_unstable_by(|a, b| b.score.total_cmp(&a.score).then(a.node.id.cmp(&b.node.id)));
        hits.truncate(k);
        Ok(hits)
    }
}

/// Adds to each hit `weight` times the mean of the best `m` scores in its file.
fn add_file_scores(hits: &mut [Hit], weight: f32, m: usize) {
    let mut by_file: HashMap<&str, Vec<f32>> = HashMap::new();
    for h in hits.iter() {
        by_file.entry(h.file).or_default().push(h.score);
    }
    let file_score: HashMap<&str, f32> = by_file
        .into_iter()
        .map(|(f, mut v)| {
            v.sort_unstable_by(|a, b| b.total_cmp(a));
            (f, v.iter().take(m).sum::<f32>() / m as f32)
        })
        .collect();
    for h in hits.iter_mut() {
        h.score += weight * file_score[h.file];
    }
}

/// Words that open a commit-style request but name the kind of change, not its place.
const CHANGE_KINDS: &[&str] = &[
    "fix", "feat", "feature", "docs", "doc", "chore", "refactor", "test", "tests", "ci", "perf",
    "style", "build", "deps", "revert", "bench", "release", "breaking", "change", "changes",
    "update", "wip", "misc", "cleanup",
];

/// The scope a commit-style request names for itself, lower-cased: `sync` in
/// "sync: add `Notify::notify_last`", `http2` in "fix(http2): …", `client` in
/// "feat(client)!: …". `None` when the first line has no `scope:` prefix or the prefix only
/// names a kind of change ("fix: …").
pub fn scope_of(query: &str) -> Option<String> {
    let line = query.lines().next()?.trim();
    let (head, _) = line.split_once(": ")?;
    let head = head.trim_end_matches('!');
    let (kind, paren) = match head.split_once('(') {
        Some((k, rest)) => (k, rest.strip_suffix(')')),
        None => (head, None),
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 24
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
    };
    let scope = match paren {
        Some(p) if valid(p) => p,
        Some(_) => return None,
        None => kind,
    };
    let scope = scope.to_ascii_lowercase();
    (valid(&scope) && !CHANGE_KINDS.contains(&scope.as_str())).then_some(scope)
}

/// Whether an item in `module` (`sync::watch`) and `file` (`src/sync/watch.rs`) lies in
/// `scope` (`sync`, `sync::watch`, `watch`).
fn in_scope(scope: &str, module: &str, file: &str) -> bool {
    let scope = scope.replace('-', "_");
    let last = scope.rsplit("::").next().unwrap_or(&scope);
    module.split("::").any(|seg| seg.eq_ignore_ascii_case(last))
        || file
            .trim_end_matches(".rs")
            .split('/')
            .any(|seg| seg.eq_ignore_ascii_case(last))
}

/// Whether a request is about test code (then tests are not ranked down).
fn mentions_tests(query: &str) -> bool {
    query.split(|c: char| !c.is_alphanumeric()).any(|w| {
        matches!(
            w.to_ascii_lowercase().as_str(),
            "test" | "tests" | "testing" | "unittest" | "unittests"
        )
    })
}

/// A result as one JSON object: the benchmark's result format plus kind, path and score.
pub fn hit_json(h: &Hit) -> serde_json::Value {
    serde_json::json!({
        "file": h.file,
        "name": h.node.display_name,
        "kind": h.node.kind.as_str(),
        "path": h.node.path,
        "start_line": h.node.span.start_line,
        "end_line": h.node.span.end_line,
        "score": ((h.score as f64) * 1000.0).round() / 1000.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_is_the_commit_prefix_that_names_a_place() {
        assert_eq!(
            scope_of("sync: add `Notify::notify_last`").as_deref(),
            Some("sync")
        );
        assert_eq!(
            scope_of("fix(http2): `initial_max_send_streams` defaults to 100").as_deref(),
            Some("http2")
        );
        assert_eq!(
            scope_of("feat(client)!: drop the old builder\n\nlong text").as_deref(),
            Some("client")
        );
        assert_eq!(
            scope_of("fix: handle EOF"),
            None,
            "a kind of change is not a place"
        );
        assert_eq!(scope_of("docs: fix documentation build on Windows"), None);
        assert_eq!(scope_of("Make the retry delay configurable"), None);
        assert_eq!(
            scope_of("note: see https://x.y/z for why"),
            Some("note".into())
        );
        assert_eq!(
            scope_of("a very long sentence with a colon somewhere: here"),
            None
        );
    }

    #[test]
    fn scope_matches_module_or_file_segments() {
        assert!(in_scope("sync", "sync::watch", "src/sync/watch.rs"));
        assert!(in_scope("watch", "sync::watch", "src/sync/watch.rs"));
        assert!(in_scope("sync::watch", "sync::watch", "src/sync/watch.rs"));
        assert!(in_scope("h2", "", "src/proto/h2/client.rs"));
        assert!(in_scope(
            "multi-thread",
            "runtime::multi_thread",
            "src/runtime/multi_thread/mod.rs"
        ));
        assert!(
            !in_scope("sync", "synchronous", "src/synchronous.rs"),
            "whole segments only"
        );
        assert!(!in_scope("io", "net::tcp", "src/net/tcp/stream.rs"));
    }

    #[test]
    fn test_words_are_whole_words() {
        assert!(mentions_tests("add a test for realtime signals"));
        assert!(mentions_tests("tests: fix flaky timer"));
        assert!(!mentions_tests("attest the certificate chain"));
        assert!(!mentions_tests("latest version"));
    }

    #[test]
    fn modes_parse_from_their_names() {
        assert_eq!("hybrid".parse::<Mode>(), Ok(Mode::Hybrid));
        assert_eq!("vector".parse::<Mode>(), Ok(Mode::Vector));
        assert_eq!("lexical".parse::<Mode>(), Ok(Mode::Lexical));
        assert!("bm25"
            .parse::<Mode>()
            .unwrap_err()
            .contains("lexical, vector or hybrid"));
    }
}
