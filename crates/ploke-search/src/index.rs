//! The BM25F index: building it from item documents and answering queries.

use std::sync::Arc;

use fxhash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::query::{self, NameKey};
use crate::tokenize::Tokenizer;

/// Number of fields of an [`ItemDoc`].
pub const NUM_FIELDS: usize = 6;

/// The text of one item, field by field. All fields may be empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ItemDoc<'a> {
    /// The item's name as the graph shows it: `spawn`, `Builder::enable_io`,
    /// `impl Display for Error`.
    pub name: &'a str,
    /// Canonical path: `tokio::runtime::Builder::enable_io`.
    pub path: &'a str,
    /// The declaration line(s): `pub fn enable_io(&mut self) -> &mut Self`.
    pub signature: &'a str,
    /// Doc comments attached to the item.
    pub docs: &'a str,
    /// The item's own source text. For best results leave out nested items that are
    /// indexed as documents of their own (the methods of an `impl`, the items of a `mod`).
    pub body: &'a str,
    /// Package-relative file path, e.g. `src/runtime/builder.rs`.
    pub file: &'a str,
}

impl<'a> ItemDoc<'a> {
    fn fields(&self) -> [&'a str; NUM_FIELDS] {
        [
            self.name,
            self.path,
            self.signature,
            self.docs,
            self.body,
            self.file,
        ]
    }
}

/// Weight and length normalisation of one field (BM25F).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldParams {
    /// How much one occurrence in this field counts, relative to the others.
    pub weight: f32,
    /// Length normalisation in `[0, 1]`: 0 ignores the field's length, 1 divides by it
    /// relative to the field's average length.
    pub b: f32,
}

impl FieldParams {
    /// A field with this weight and length normalisation.
    pub const fn new(weight: f32, b: f32) -> Self {
        Self { weight, b }
    }
}

/// Parameters of the ranking. [`Default`] holds the values tuned on the change-request
/// benchmark (see the crate docs); every field has a serde default, so a configuration file
/// only names what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bm25Params {
    /// Term-frequency saturation of BM25 (applied once, to the weighted sum of the fields).
    pub k1: f32,
    /// [`ItemDoc::name`].
    pub name: FieldParams,
    /// [`ItemDoc::path`].
    pub path: FieldParams,
    /// [`ItemDoc::signature`].
    pub signature: FieldParams,
    /// [`ItemDoc::docs`].
    pub docs: FieldParams,
    /// [`ItemDoc::body`].
    pub body: FieldParams,
    /// [`ItemDoc::file`].
    pub file: FieldParams,
    /// Added, times the IDF of the name among item names, when an identifier that the query
    /// writes as code (`snake_case`, `CamelCase`, `a::b`, `` `backticked` ``, `call()`,
    /// `macro!`) equals the item's name (its last path segment, or `Owner::item`).
    pub code_name_boost: f32,
    /// The same for a plain query word (`sleep`) equal to an item's name.
    pub word_name_boost: f32,
    /// Weight of query terms on the first non-empty line (the summary line of a change
    /// request); terms on later lines weigh 1.
    pub first_line_weight: f32,
    /// Exponent applied to a query term's weighted count: 1 sums repetitions, 0.5 takes the
    /// square root, 0 counts every distinct term once.
    pub query_tf_exponent: f32,
    /// Longer items are more often the ones a change touches: scores are multiplied by
    /// `(1 + tokens in the document) ^ length_prior`. 0 turns it off.
    pub length_prior: f32,
    /// Evidence from the item's file: each hit gains `file_context` times the mean of the
    /// best [`file_context_items`](Self::file_context_items) scores in its file. 0 turns
    /// it off.
    pub file_context: f32,
    /// How many of a file's best hits make up its evidence.
    pub file_context_items: u32,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Self {
            k1: 1.0,
            name: FieldParams::new(3.0, 0.3),
            path: FieldParams::new(2.0, 0.3),
            signature: FieldParams::new(1.0, 0.3),
            docs: FieldParams::new(1.0, 0.75),
            body: FieldParams::new(1.0, 0.35),
            file: FieldParams::new(0.5, 0.3),
            code_name_boost: 0.5,
            word_name_boost: 0.0,
            first_line_weight: 2.0,
            query_tf_exponent: 0.5,
            length_prior: 0.1,
            file_context: 0.2,
            file_context_items: 3,
        }
    }
}

impl Bm25Params {
    fn fields(&self) -> [FieldParams; NUM_FIELDS] {
        [
            self.name,
            self.path,
            self.signature,
            self.docs,
            self.body,
            self.file,
        ]
    }
}

/// The terms of the documents an index is built from: each distinct term gets a number,
/// the first time a document with it is analyzed. Append-only, so that the analysis of a
/// document stays valid for every index built later with the same vocabulary.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vocabulary {
    ids: FxHashMap<Box<str>, u32>,
}

impl Vocabulary {
    /// An empty vocabulary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct terms.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no term has been seen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn id(&mut self, term: &str) -> u32 {
        match self.ids.get(term) {
            Some(&id) => id,
            None => {
                let id = self.ids.len() as u32;
                self.ids.insert(term.into(), id);
                id
            }
        }
    }

    fn get(&self, term: &str) -> Option<u32> {
        self.ids.get(term).copied()
    }
}

/// One document as the index needs it: its terms (numbered by a [`Vocabulary`]) with their
/// counts per field, its field lengths and the keys of its name. Computing it is the costly
/// part of building an index (tokenizing); assembling an index from analyzed documents
/// ([`LexicalIndex::assemble`]) only counts and sums, so a caller that keeps the analysis of
/// unchanged documents rebuilds the index after a change for a fraction of the cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocTerms {
    /// (term, occurrences in each field), each term once, in first-seen order.
    terms: Vec<(u32, [u16; NUM_FIELDS])>,
    lens: [u32; NUM_FIELDS],
    /// Lower-cased keys of the item's name (see `query::name_keys`).
    name_keys: Vec<Box<str>>,
}

/// Tokenizes documents into [`DocTerms`], numbering their terms in a vocabulary.
#[derive(Default)]
pub struct Analyzer {
    tk: Tokenizer,
    /// Per-term scratch counts of the current document (indexed by term number), and
    /// which terms it touched.
    counts: Vec<[u16; NUM_FIELDS]>,
    order: Vec<u32>,
    key_buf: Vec<String>,
}

impl Analyzer {
    /// A fresh analyzer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The terms of `doc`, numbered in `vocab` (which learns the new ones).
    pub fn analyze(&mut self, doc: &ItemDoc<'_>, vocab: &mut Vocabulary) -> DocTerms {
        let mut lens = [0u32; NUM_FIELDS];
        for (f, text) in doc.fields().into_iter().enumerate() {
            let len = &mut lens[f];
            let (counts, order) = (&mut self.counts, &mut self.order);
            self.tk.tokens(text, |t| {
                let id = vocab.id(t);
                if counts.len() <= id as usize {
                    counts.resize(id as usize + 1, [0; NUM_FIELDS]);
                }
                let c = &mut counts[id as usize];
                if c.iter().all(|&x| x == 0) {
                    order.push(id);
                }
                c[f] = c[f].saturating_add(1);
                *len += 1;
            });
        }
        let terms = self
            .order
            .drain(..)
            .map(|id| (id, std::mem::take(&mut self.counts[id as usize])))
            .collect();
        self.key_buf.clear();
        query::name_keys(doc.name, &mut self.key_buf);
        let mut name_keys: Vec<Box<str>> = Vec::with_capacity(self.key_buf.len());
        for k in self.key_buf.drain(..) {
            if !name_keys.iter().any(|n| **n == *k) {
                name_keys.push(k.into_boxed_str());
            }
        }
        DocTerms {
            terms,
            lens,
            name_keys,
        }
    }
}

/// An in-memory BM25F index over item documents. Immutable once built; `Send + Sync`.
///
/// Scores are precomputed per (term, document) at build time, so a query only sums posting
/// weights: cost is linear in the postings of the query's terms.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LexicalIndex {
    params: Bm25Params,
    n_docs: u32,
    vocab: Arc<Vocabulary>,
    /// `postings_start[t]..postings_start[t + 1]` are the postings of term `t`.
    postings_start: Vec<u32>,
    posting_doc: Vec<u32>,
    /// `idf(t) * saturated BM25F term frequency` of the posting.
    posting_weight: Vec<f32>,
    /// Bit `f` set when the posting's term occurs in field `f` of its document.
    #[serde(default)]
    posting_fields: Vec<u8>,
    /// Lower-cased item name keys (last segment, and full name when qualified) → documents.
    names: FxHashMap<Box<str>, Vec<u32>>,
    /// Per-document multiplier (see [`Bm25Params::length_prior`]).
    prior: Vec<f32>,
    /// File number of each document (files numbered in order of first appearance).
    doc_file: Vec<u32>,
    n_files: u32,
}

impl LexicalIndex {
    /// Builds the index. Document `i` of the iterator is reported as `i` by [`search`].
    ///
    /// [`search`]: LexicalIndex::search
    pub fn build<'a>(docs: impl IntoIterator<Item = ItemDoc<'a>>, params: Bm25Params) -> Self {
        let mut vocab = Vocabulary::new();
        let mut analyzer = Analyzer::new();
        let mut analyzed = Vec::new();
        let mut files = Vec::new();
        for doc in docs {
            analyzed.push(analyzer.analyze(&doc, &mut vocab));
            files.push(doc.file);
        }
        let refs: Vec<(&DocTerms, &str)> = analyzed.iter().zip(files).collect();
        Self::assemble(Arc::new(vocab), &refs, params)
    }

    /// Builds the index from analyzed documents (each with its file, for the file-context
    /// signal), whose terms are numbered in `vocab`. Document `i` of `docs` is reported as
    /// `i`. The result equals [`LexicalIndex::build`] over the same documents.
    pub fn assemble(
        vocab: Arc<Vocabulary>,
        docs: &[(&DocTerms, &str)],
        params: Bm25Params,
    ) -> Self {
        let n_docs = docs.len();
        let n_terms = vocab.len();
        let mut avg = [0f32; NUM_FIELDS];
        for (d, _) in docs {
            for (a, &l) in avg.iter_mut().zip(&d.lens) {
                *a += l as f32;
            }
        }
        for a in &mut avg {
            *a = (*a / n_docs.max(1) as f32).max(1.0);
        }

        // Document frequencies → CSR offsets.
        let mut postings_start = vec![0u32; n_terms + 1];
        for (d, _) in docs {
            for &(t, _) in &d.terms {
                postings_start[t as usize + 1] += 1;
            }
        }
        for t in 0..n_terms {
            postings_start[t + 1] += postings_start[t];
        }
        let idf: Vec<f32> = (0..n_terms)
            .map(|t| {
                let df = (postings_start[t + 1] - postings_start[t]) as f32;
                idf(n_docs as f32, df)
            })
            .collect();

        let fields = params.fields();
        let k1 = params.k1.max(0.0);
        let total = postings_start[n_terms] as usize;
        let mut cursor: Vec<u32> = postings_start[..n_terms].to_vec();
        let mut posting_doc = vec![0u32; total];
        let mut posting_weight = vec![0f32; total];
        let mut posting_fields = vec![0u8; total];
        let mut names: FxHashMap<Box<str>, Vec<u32>> = FxHashMap::default();
        let mut file_ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut doc_file: Vec<u32> = Vec::with_capacity(n_docs);
        let mut prior = Vec::with_capacity(n_docs);
        for (d, (doc, file)) in docs.iter().enumerate() {
            // Per-field factor weight / length normalisation of this document.
            let mut norm = [0f32; NUM_FIELDS];
            for f in 0..NUM_FIELDS {
                let fp = fields[f];
                let b = fp.b.clamp(0.0, 1.0);
                norm[f] = fp.weight / (1.0 - b + b * doc.lens[f] as f32 / avg[f]);
            }
            for &(t, counts) in &doc.terms {
                let t = t as usize;
                let tf: f32 = counts.iter().zip(&norm).map(|(&c, &n)| c as f32 * n).sum();
                let sat = if tf > 0.0 {
                    tf * (k1 + 1.0) / (tf + k1)
                } else {
                    0.0
                };
                let p = cursor[t] as usize;
                cursor[t] += 1;
                posting_doc[p] = d as u32;
                posting_weight[p] = idf[t] * sat;
                posting_fields[p] = counts
                    .iter()
                    .enumerate()
                    .filter(|(_, &c)| c > 0)
                    .fold(0u8, |m, (f, _)| m | 1 << f);
            }
            for key in &doc.name_keys {
                names.entry(key.clone()).or_default().push(d as u32);
            }
            let nf = file_ids.len() as u32;
            doc_file.push(*file_ids.entry(file).or_insert(nf));
            prior.push((1.0 + doc.lens.iter().sum::<u32>() as f32).powf(params.length_prior));
        }
        Self {
            n_files: file_ids.len() as u32,
            doc_file,
            prior,
            params,
            n_docs: n_docs as u32,
            vocab,
            postings_start,
            posting_doc,
            posting_weight,
            posting_fields,
            names,
        }
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.n_docs as usize
    }

    /// Whether the index holds no document.
    pub fn is_empty(&self) -> bool {
        self.n_docs == 0
    }

    /// Number of distinct terms.
    pub fn vocabulary_len(&self) -> usize {
        self.vocab.len()
    }

    /// The parameters the index was built with.
    pub fn params(&self) -> &Bm25Params {
        &self.params
    }

    /// The best `k` documents for `query`, best first, as (document index, score). Only
    /// documents with a positive score are returned; equal scores are ordered by index.
    pub fn search(&self, query: &str, k: usize) -> Vec<(u32, f32)> {
        if k == 0 || self.n_docs == 0 {
            return Vec::new();
        }
        let q = query::analyze(query, &self.params);
        let mut scores = vec![0f32; self.n_docs as usize];
        let mut any = false;
        for (term, weight) in &q.terms {
            let Some(t) = self.vocab.get(term.as_str()) else {
                continue;
            };
            let (s, e) = (
                self.postings_start[t as usize] as usize,
                self.postings_start[t as usize + 1] as usize,
            );
            for (&d, &w) in self.posting_doc[s..e]
                .iter()
                .zip(&self.posting_weight[s..e])
            {
                scores[d as usize] += weight * w;
            }
            any = true;
        }
        for NameKey { key, code } in &q.names {
            let boost = if *code {
                self.params.code_name_boost
            } else {
                self.params.word_name_boost
            };
            if boost == 0.0 {
                continue;
            }
            if let Some(docs) = self.names.get(key.as_str()) {
                let w = boost * idf(self.n_docs as f32, docs.len() as f32);
                for &d in docs {
                    scores[d as usize] += w;
                }
                any = true;
            }
        }
        if !any {
            return Vec::new();
        }
        let mut hits: Vec<(u32, f32)> = scores
            .iter()
            .enumerate()
            .zip(&self.prior)
            .filter(|((_, &s), _)| s > 0.0)
            .map(|((d, &s), &p)| (d as u32, s * p))
            .collect();
        if self.params.file_context > 0.0 {
            self.add_file_context(&mut hits);
        }
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if hits.len() > k {
            hits.select_nth_unstable_by(k - 1, order);
            hits.truncate(k);
        }
        hits.sort_unstable_by(order);
        hits
    }
}

impl LexicalIndex {
    /// How much of `query` each of `docs` holds, field by field: for each document, the share
    /// of the query's weight (each term's query weight times its idf) whose terms occur in
    /// each field ([`ItemDoc`] order), and last the share that occurs in any field. Features
    /// for a re-ranker: which part of an item the request's words name.
    pub fn field_coverage(&self, query: &str, docs: &[u32]) -> Vec<[f32; NUM_FIELDS + 1]> {
        let mut out = vec![[0f32; NUM_FIELDS + 1]; docs.len()];
        if docs.is_empty() || self.n_docs == 0 || self.posting_fields.is_empty() {
            return out;
        }
        let slot: FxHashMap<u32, usize> = docs.iter().enumerate().map(|(i, &d)| (d, i)).collect();
        let q = query::analyze(query, &self.params);
        let mut total = 0.0;
        for (term, weight) in &q.terms {
            let Some(t) = self.vocab.get(term.as_str()) else {
                // A word no item has still counts against the coverage.
                total += weight * idf(self.n_docs as f32, 0.0);
                continue;
            };
            let (s, e) = (
                self.postings_start[t as usize] as usize,
                self.postings_start[t as usize + 1] as usize,
            );
            let w = weight * idf(self.n_docs as f32, (e - s) as f32);
            total += w;
            for p in s..e {
                if let Some(&i) = slot.get(&self.posting_doc[p]) {
                    let m = self.posting_fields[p];
                    for (f, c) in out[i][..NUM_FIELDS].iter_mut().enumerate() {
                        if m & (1 << f) != 0 {
                            *c += w;
                        }
                    }
                    out[i][NUM_FIELDS] += w;
                }
            }
        }
        if total > 0.0 {
            for row in &mut out {
                row.iter_mut().for_each(|c| *c /= total);
            }
        }
        out
    }

    /// Adds to each hit the weighted mean of the best scores in its file.
    fn add_file_context(&self, hits: &mut [(u32, f32)]) {
        let m = self.params.file_context_items.max(1) as usize;
        let mut by_file: Vec<(u32, f32)> = hits
            .iter()
            .map(|&(d, s)| (self.doc_file[d as usize], s))
            .collect();
        by_file.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut agg = vec![0f32; self.n_files as usize];
        let mut i = 0;
        while i < by_file.len() {
            let f = by_file[i].0;
            let mut j = i;
            let mut sum = 0.0;
            while j < by_file.len() && by_file[j].0 == f {
                if j - i < m {
                    sum += by_file[j].1;
                }
                j += 1;
            }
            agg[f as usize] = sum / m as f32;
            i = j;
        }
        let g = self.params.file_context;
        for (d, s) in hits.iter_mut() {
            *s += g * agg[self.doc_file[*d as usize] as usize];
        }
    }
}

/// BM25 inverse document frequency (always positive).
fn idf(n: f32, df: f32) -> f32 {
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
}
