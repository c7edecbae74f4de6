//! The searchable view of an index: item documents built from the database, and the lexical
//! index over them.

use crate::{RetrieveError as Error, Scope};

use std::collections::HashMap;

use fxhash::FxHashMap;
use rayon::prelude::*;
use std::sync::Arc;

use ploke_core::{is_dependency_path, ContentHash, CrateRecord, Graph, ItemKind, Node, TargetKind};
use ploke_db::Db;
use ploke_search::{Analyzer, Bm25Params, DocTerms, ItemDoc, LexicalIndex, Vocabulary};

/// Kinds whose own text is their header plus what is not inside a member that is indexed on
/// its own (the methods of an impl, the items of an inline module).
fn is_container(kind: ItemKind) -> bool {
    matches!(
        kind,
        ItemKind::Impl | ItemKind::Trait | ItemKind::Module | ItemKind::ExternBlock
    )
}

/// Kinds returned by search: items a person would edit as a unit.
pub fn is_result_kind(kind: ItemKind) -> bool {
    kind.is_searchable() && !matches!(kind, ItemKind::Field | ItemKind::Variant)
}

/// The item's text after its doc comments (indexed as their own field) and attributes.
fn strip_doc_lines(body: &str) -> &str {
    let mut rest = body;
    loop {
        let line_end = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        let t = rest[..line_end].trim_start();
        if t.starts_with("///")
            || t.starts_with("//!")
            || t.starts_with("#[doc")
            || (t.starts_with("#[") && t.trim_end().ends_with(']'))
        {
            rest = &rest[line_end..];
            if rest.is_empty() {
                return body;
            }
        } else {
            return rest;
        }
    }
}

/// The items a search can return, in a fixed order (file, then position): a node's index in
/// [`Corpus::nodes`] is its document number in every index built over the corpus.
pub struct Corpus {
    pub nodes: Vec<Node>,
    /// Each node's own text: its source after doc comments and attributes, with the members
    /// that are items of their own cut out of containers (impls, traits, inline modules).
    pub bodies: Vec<String>,
    /// Workspace path -> package-relative path, for results.
    pub rel_path: HashMap<String, String>,
    /// Workspace path -> package name.
    pub package: HashMap<String, String>,
    /// A dependency's file (absolute path) -> the dependency's version; workspace files have
    /// none.
    pub version: HashMap<String, String>,
    /// Whether node `i` belongs only to auxiliary targets (examples, benches, integration
    /// tests, build scripts) rather than a library or binary.
    pub aux: Vec<bool>,
    pub index: LexicalIndex,
}

/// The analysis of every document of the last corpus built with it, so that building the
/// corpus again after a change tokenizes only the documents whose text changed. Keep one per
/// index and pass it to every [`Corpus::build`]; a fresh one is always correct, only slower.
#[derive(Default)]
pub struct AnalysisCache {
    vocab: Arc<Vocabulary>,
    analyzer: Analyzer,
    /// By the hash of the document's fields.
    docs: FxHashMap<ContentHash, Arc<DocTerms>>,
}

/// The source text of a file by its graph path (workspace-relative, or absolute for a
/// dependency's), for [`Corpus::build`].
pub type SourceOf<'s> = dyn Fn(&str) -> Option<&'s str> + Sync + 's;

impl Corpus {
    /// Reads every workspace item and source text from `db` and builds the lexical index. (For
    /// reads that must see one generation of an index that is being written, run it inside
    /// [`Db::read_consistent`].)
    pub fn load(db: &Db) -> Result<Corpus, Error> {
        let graph = db.load_graph()?;
        let sources = db.sources()?;
        Ok(Corpus::build(
            &[&graph],
            &|p| sources.get(p).map(String::as_str),
            &mut AnalysisCache::default(),
            &Scope::Workspace,
        ))
    }

    /// The corpus of the items of a graph given as parts (see `ploke_index::Indexer::parts`; a
    /// whole graph is one part) that `scope` holds, whose files' texts `source` gives.
    /// Documents whose fields are unchanged since `cache` last saw them are not tokenized
    /// again.
    pub fn build(
        parts: &[&Graph],
        source: &SourceOf<'_>,
        cache: &mut AnalysisCache,
        scope: &Scope,
    ) -> Corpus {
        // A container and its members share a file, hence a scope: the items of other scopes
        // are not looked at at all.
        let all = || {
            parts
                .iter()
                .flat_map(|g| &g.nodes)
                .filter(|n| scope.admits(n))
        };
        let files = || {
            parts
                .iter()
                .flat_map(|g| &g.files)
                .filter(|f| scope.admits_file(&f.crate_name, &f.path))
        };
        let crates = || parts.iter().flat_map(|g| &g.crates);
        let rel_path: HashMap<String, String> = files()
            .map(|f| (f.path.clone(), f.rel_path.clone()))
            .collect();
        // Spans of members to cut out of their container's text.
        let mut member_spans: FxHashMap<ploke_core::NodeId, Vec<(u32, u32)>> = FxHashMap::default();
        let kind_of: FxHashMap<ploke_core::NodeId, (ItemKind, &str)> =
            all().map(|n| (n.id, (n.kind, n.file.as_str()))).collect();
        for n in all() {
            if let Some(p) = n.parent {
                if let Some((k, file)) = kind_of.get(&p) {
                    if is_container(*k) && *file == n.file {
                        member_spans
                            .entry(p)
                            .or_default()
                            .push((n.span.start_byte, n.span.end_byte));
                    }
                }
            }
        }
        let t0 = std::time::Instant::now();
        let mut order: Vec<&Node> = all().filter(|n| is_result_kind(n.kind)).collect();
        order.par_sort_unstable_by(|a, b| {
            (&a.file, a.span.start_byte, a.id).cmp(&(&b.file, b.span.start_byte, b.id))
        });
        let nodes: Vec<Node> = order.par_iter().map(|&n| n.clone()).collect();
        drop(order);
        let bodies: Vec<String> = nodes
            .par_iter()
            .map(|n| {
                let Some(src) = source(&n.file) else {
                    return String::new();
                };
                let (s, e) = (
                    n.span.start_byte as usize,
                    (n.span.end_byte as usize).min(src.len()),
                );
                if s > e || !src.is_char_boundary(s) || !src.is_char_boundary(e) {
                    return String::new();
                }
                let body = match member_spans.get(&n.id) {
                    Some(spans) if is_container(n.kind) => {
                        let mut spans = spans.clone();
                        spans.sort();
                        let mut out = String::new();
                        let mut pos = s;
                        for (ms, me) in spans {
                            let (ms, me) = (ms as usize, me as usize);
                            if ms >= pos
                                && me <= e
                                && src.is_char_boundary(ms)
                                && src.is_char_boundary(me)
                            {
                                out.push_str(&src[pos..ms]);
                                out.push('\n');
                                pos = me;
                            }
                        }
                        out.push_str(&src[pos..e]);
                        out
                    }
                    _ => return strip_doc_lines(&src[s..e]).to_string(),
                };
                strip_doc_lines(&body).to_string()
            })
            .collect();
        let empty = String::new();
        let doc_files: Vec<&str> = nodes
            .iter()
            .map(|n| rel_path.get(&n.file).unwrap_or(&empty).as_str())
            .collect();
        let t_bodies = std::time::Instant::now();
        let index = cache.index(&nodes, &bodies, &doc_files);
        tracing::debug!(nodes_and_bodies = ?(t_bodies - t0), index = ?t_bodies.elapsed(), "corpus lexical index");
        // A crate name is primary when any target of that name is a library or binary.
        let mut primary: FxHashMap<&str, bool> = FxHashMap::default();
        for c in crates() {
            let p = matches!(c.kind, TargetKind::Lib | TargetKind::Bin);
            *primary.entry(c.name.as_str()).or_default() |= p;
        }
        let aux = nodes
            .iter()
            .map(|n| primary.get(n.crate_name.as_str()) == Some(&false))
            .collect();
        let mut named: FxHashMap<&str, Vec<&CrateRecord>> = FxHashMap::default();
        for c in crates() {
            named.entry(c.name.as_str()).or_default().push(c);
        }
        let mut package = HashMap::new();
        let mut version = HashMap::new();
        for f in files() {
            let Some(named) = named.get(f.crate_name.as_str()) else {
                continue;
            };
            let Some(c) = ploke_db::crate_of(named.iter().copied(), &f.crate_name, &f.path) else {
                continue;
            };
            package.insert(f.path.clone(), c.package.clone());
            if is_dependency_path(&f.path) {
                version.insert(f.path.clone(), c.version.clone());
            }
        }
        Corpus {
            nodes,
            bodies,
            rel_path,
            package,
            version,
            aux,
            index,
        }
    }

    /// The package-relative path of node `i`'s file.
    pub fn rel_file(&self, i: usize) -> &str {
        let f = &self.nodes[i].file;
        self.rel_path.get(f).map(|s| s.as_str()).unwrap_or(f)
    }
}

impl AnalysisCache {
    /// The lexical index of the documents, analyzing only those not seen last time.
    fn index(&mut self, nodes: &[Node], bodies: &[String], files: &[&str]) -> LexicalIndex {
        let mut docs: Vec<Arc<DocTerms>> = Vec::with_capacity(nodes.len());
        let mut keep: FxHashMap<ContentHash, Arc<DocTerms>> =
            FxHashMap::with_capacity_and_hasher(nodes.len(), Default::default());
        let doc = |i: usize| {
            let n = &nodes[i];
            ItemDoc {
                name: &n.display_name,
                path: &n.path,
                signature: &n.signature,
                docs: &n.docs,
                body: &bodies[i],
                file: files[i],
            }
        };
        let keys: Vec<ContentHash> = (0..nodes.len())
            .into_par_iter()
            .map(|i| doc_key(&doc(i)))
            .collect();
        for (i, key) in keys.into_iter().enumerate() {
            let doc = doc(i);
            let terms = match self.docs.get(&key).or_else(|| keep.get(&key)) {
                Some(t) => t.clone(),
                None => {
                    // Numbers new terms; a vocabulary still shared with an older index is
                    // copied first (that index keeps the numbering it was built with).
                    let vocab = Arc::make_mut(&mut self.vocab);
                    Arc::new(self.analyzer.analyze(&doc, vocab))
                }
            };
            keep.insert(key, terms.clone());
            docs.push(terms);
        }
        self.docs = keep;
        let refs: Vec<(&DocTerms, &str)> = docs
            .iter()
            .map(|d| &**d)
            .zip(files.iter().copied())
            .collect();
        LexicalIndex::assemble(self.vocab.clone(), &refs, Bm25Params::default())
    }
}

/// What identifies a document's analysis: the hash of all its fields.
fn doc_key(doc: &ItemDoc<'_>) -> ContentHash {
    let mut h = blake3::Hasher::new();
    for f in [
        doc.name,
        doc.path,
        doc.signature,
        doc.docs,
        doc.body,
        doc.file,
    ] {
        h.update(&(f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.finalize().as_bytes()[..16]);
    ContentHash(u128::from_le_bytes(b))
}
