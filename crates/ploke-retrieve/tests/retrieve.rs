//! Retrieval over real indexes: a fixture crate or a small crate written by the test is
//! indexed with `ploke_index` in a temp directory, and the [`Retriever`] is asked about it.
//!
//! Vectors are hand-made (a few dimensions, one direction per item of interest) except in the
//! embedding tests, which run the real all-MiniLM-L6-v2 from `target/models/` (put there by
//! `scripts/fetch-models.sh`, which the README's test command runs first). Without the model
//! those fail and say how to fetch it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ploke_db::Db;
use ploke_embed::{EmbedConfig, Embedder};
use ploke_retrieve::embed_text::{embed_text, should_embed, text_hash};
use ploke_retrieve::embedding::embed_pending;
use ploke_retrieve::{Corpus, Hit, Mode, RetrieveError, Retriever};
use ploke_test_support::{models, Project};

// ---------------------------------------------------------------------------------------------
// Indexes in temp directories

/// One indexed crate in a temp directory.
struct Indexed {
    project: Project,
    db_dir: PathBuf,
}

impl Indexed {
    fn new(project: Project) -> Indexed {
        let db_dir = project.db("db");
        let ix = Indexed { project, db_dir };
        ix.index();
        ix
    }

    /// A copy of fixture `name`, indexed.
    fn fixture(name: &str) -> Indexed {
        Indexed::new(Project::fixture(name))
    }

    /// A one-crate package `name` with these files (paths relative to the package), indexed.
    fn files(name: &str, files: &[(&str, &str)]) -> Indexed {
        Indexed::new(Project::new(name, files))
    }

    /// The package root.
    fn root(&self) -> &Path {
        &self.project.root
    }

    /// (Re-)index the tree (incremental after the first time).
    fn index(&self) {
        let report = self.project.index(&self.db_dir);
        assert!(
            report.skipped.is_empty(),
            "problems indexing {}: {:?}",
            self.root().display(),
            report.skipped
        );
    }

    fn db(&self) -> Db {
        Db::open(&self.db_dir).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Looking at results

/// The document number of the one corpus item with this display name.
#[track_caller]
fn doc(corpus: &Corpus, display_name: &str) -> usize {
    let found: Vec<usize> = (0..corpus.nodes.len())
        .filter(|&i| corpus.nodes[i].display_name == display_name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one item named `{display_name}` in the corpus: {:?}",
        names_of(corpus)
    );
    found[0]
}

fn names_of(corpus: &Corpus) -> Vec<&str> {
    corpus
        .nodes
        .iter()
        .map(|n| n.display_name.as_str())
        .collect()
}

fn names<'a>(hits: &'a [Hit<'_>]) -> Vec<&'a str> {
    hits.iter().map(|h| h.node.display_name.as_str()).collect()
}

/// The hit named `name`, if any.
fn hit<'a, 'b>(hits: &'a [Hit<'b>], name: &str) -> Option<&'a Hit<'b>> {
    hits.iter().find(|h| h.node.display_name == name)
}

/// Position of `name` in `hits`.
#[track_caller]
fn rank(hits: &[Hit], name: &str) -> usize {
    hits.iter()
        .position(|h| h.node.display_name == name)
        .unwrap_or_else(|| panic!("`{name}` not among the hits {:?}", names(hits)))
}

#[track_caller]
fn assert_sorted(hits: &[Hit]) {
    for w in hits.windows(2) {
        assert!(
            w[0].score >= w[1].score,
            "not sorted by score: {:?}",
            hits.iter()
                .map(|h| (h.node.display_name.as_str(), h.score))
                .collect::<Vec<_>>()
        );
    }
    // Vector mode scores are cosine similarities (an orthogonal vector scores 0); the fused
    // modes only return items with a positive score.
    for h in hits {
        let vector_only = h.signals.lexical == 0.0 && h.signals.graph == 0.0;
        assert!(
            h.score.is_finite() && (h.score > 0.0 || (vector_only && h.score >= -1.0)),
            "{h:?}"
        );
    }
}

/// A vector of `dims` floats: `weights` at the given axes, 0 elsewhere.
fn vector(dims: usize, weights: &[(usize, f32)]) -> Vec<f32> {
    let mut v = vec![0.0; dims];
    for &(i, w) in weights {
        v[i] = w;
    }
    v
}

/// Stores `vec` as item `i`'s vector of `model`, under the hash `Retriever::load` looks for.
fn put_vector(db: &Db, corpus: &Corpus, model: &str, i: usize, vec: Vec<f32>) {
    let h = text_hash(&embed_text(&corpus.nodes[i], &corpus.bodies[i]));
    db.put_embeddings(model, &[(h, vec)]).unwrap();
}

fn embeddable(corpus: &Corpus) -> Vec<usize> {
    (0..corpus.nodes.len())
        .filter(|&i| should_embed(&corpus.nodes[i]))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Lexical

#[test]
fn lexical_finds_items_by_a_word_of_their_name_or_docs() {
    let ix = Indexed::fixture("item_kinds");
    let r = Retriever::load(&ix.db(), None).unwrap();
    assert_eq!(r.vector_coverage().0, 0);

    // A word only in the docs: "Shapes with explicit discriminants."
    let hits = r.search("discriminants", None, Mode::Lexical, 5).unwrap();
    assert_eq!(names(&hits).first(), Some(&"Shape"), "{:?}", names(&hits));
    let top = &hits[0];
    assert_eq!(top.file, "src/lib.rs");
    assert_eq!(top.node.path, "item_kinds::Shape");
    assert_eq!(top.signals.lexical, 1.0, "the best hit scales to 1");
    assert_eq!(
        (top.signals.dense, top.signals.graph),
        (0.0, 0.0),
        "lexical mode uses no other signal"
    );

    // "A trait with supertraits."
    let hits = r.search("supertraits", None, Mode::Lexical, 5).unwrap();
    assert_eq!(names(&hits).first(), Some(&"Loud"), "{:?}", names(&hits));

    // A word of a name: `Point::boxed`.
    let hits = r.search("boxed", None, Mode::Lexical, 5).unwrap();
    assert_eq!(
        names(&hits).first(),
        Some(&"Point::boxed"),
        "{:?}",
        names(&hits)
    );

    // A word many items match: sorted, at most k, and a prefix of a longer list.
    let few = r.search("point", None, Mode::Lexical, 3).unwrap();
    let many = r.search("point", None, Mode::Lexical, 50).unwrap();
    assert_eq!(few.len(), 3);
    assert!(many.len() > 3, "{:?}", names(&many));
    assert!(many.len() <= 50);
    assert_sorted(&few);
    assert_sorted(&many);
    assert_eq!(names(&few), names(&many[..3]));
    for h in &many {
        assert_eq!(
            h.node.id, r.corpus.nodes[h.doc as usize].id,
            "doc numbers index the corpus"
        );
    }

    // Nothing matches: nothing is returned, in any mode that does not need vectors.
    assert!(r
        .search("zyxwvut", None, Mode::Lexical, 5)
        .unwrap()
        .is_empty());
    assert!(r
        .search("zyxwvut", None, Mode::Hybrid, 5)
        .unwrap()
        .is_empty());
}

// ---------------------------------------------------------------------------------------------
// Vectors (hand-made)

const DIMS: usize = 8;

#[test]
fn vector_search_with_hand_made_vectors() {
    let ix = Indexed::fixture("item_kinds");
    let db = ix.db();
    let corpus = Corpus::load(&db).unwrap();
    let (shape, loud, new) = (
        doc(&corpus, "Shape"),
        doc(&corpus, "Loud"),
        doc(&corpus, "Point::new"),
    );
    let all = embeddable(&corpus);
    assert!(all.len() > 10, "{:?}", names_of(&corpus));
    assert!(all.contains(&shape) && all.contains(&loud) && all.contains(&new));
    // Three items get an axis each; every other item points (mostly) along axis 7.
    for &i in &all {
        let v = match i {
            i if i == shape => vector(DIMS, &[(0, 1.0)]),
            i if i == loud => vector(DIMS, &[(1, 1.0)]),
            i if i == new => vector(DIMS, &[(2, 1.0)]),
            i => vector(DIMS, &[(7, 1.0), (6, 0.01 * (i % 10) as f32)]),
        };
        put_vector(&db, &corpus, "hand-8", i, v);
    }
    // Another model's vectors are not this model's.
    put_vector(&db, &corpus, "other-8", shape, vector(DIMS, &[(5, 1.0)]));

    let r = Retriever::load(&db, Some("hand-8")).unwrap();
    assert_eq!(r.vector_coverage(), (all.len(), all.len()));

    // Nearest to Shape's axis, a little towards Loud's: Shape, then Loud. The query text does
    // not count in vector mode (it names `Point::boxed`).
    let q = vector(DIMS, &[(0, 0.9), (1, 0.4)]);
    let hits = r.search("boxed", Some(&q), Mode::Vector, 5).unwrap();
    assert_eq!(names(&hits)[..2], ["Shape", "Loud"], "{:?}", names(&hits));
    assert_sorted(&hits);
    assert!(hits.len() <= 5);
    assert_eq!(hits[0].signals.dense, 1.0);
    assert!(
        hits.iter()
            .all(|h| h.signals.lexical == 0.0 && h.signals.graph == 0.0),
        "{hits:?}"
    );

    let q = vector(DIMS, &[(2, 1.0), (7, 0.1)]);
    let hits = r.search("", Some(&q), Mode::Vector, 3).unwrap();
    assert_eq!(
        names(&hits).first(),
        Some(&"Point::new"),
        "{:?}",
        names(&hits)
    );
    assert!(hits.len() <= 3);

    // A query vector of another length is an error, in every mode that uses vectors.
    for mode in [Mode::Vector, Mode::Hybrid] {
        match r.search("shape", Some(&[1.0; 5]), mode, 5) {
            Err(RetrieveError::Dims { got: 5, want: DIMS }) => {}
            other => panic!("{mode:?}: expected a Dims error, got {other:?}"),
        }
    }
    let msg = r
        .search("", Some(&[1.0; 5]), Mode::Vector, 5)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("5 dimensions") && msg.contains(&DIMS.to_string()),
        "{msg}"
    );
    // ... but lexical search ignores the vector.
    assert!(!r
        .search("discriminants", Some(&[1.0; 5]), Mode::Lexical, 5)
        .unwrap()
        .is_empty());

    // Other model id: only its one vector.
    let other = Retriever::load(&db, Some("other-8")).unwrap();
    assert_eq!(other.vector_coverage(), (1, all.len()));
}

#[test]
fn vector_search_without_stored_vectors_is_an_error() {
    let ix = Indexed::fixture("item_kinds");
    let db = ix.db();
    let q = vector(DIMS, &[(0, 1.0)]);

    // Loaded without a model.
    let r = Retriever::load(&db, None).unwrap();
    assert_eq!(r.vector_coverage(), (0, 0));
    match r.search("shape", Some(&q), Mode::Vector, 5) {
        Err(RetrieveError::NoVectors(_)) => {}
        other => panic!("expected NoVectors, got {other:?}"),
    }
    // Hybrid search falls back to the other signals.
    let hits = r
        .search("discriminants", Some(&q), Mode::Hybrid, 5)
        .unwrap();
    assert_eq!(names(&hits).first(), Some(&"Shape"));
}

/// Regression: `Retriever::load(db, Some(model))` used to panic in `VectorIndex::new(0)` when
/// no vector of `model` was stored (`ploke search` then crashed on an index whose crate has no
/// embeddable item).
#[test]
fn vector_search_with_a_model_that_has_no_stored_vectors_is_an_error() {
    let ix = Indexed::fixture("item_kinds");
    let db = ix.db();
    let q = vector(DIMS, &[(0, 1.0)]);
    let r = Retriever::load(&db, Some("never-stored")).unwrap();
    let n = embeddable(&r.corpus).len();
    assert!(n > 0);
    assert_eq!(r.vector_coverage(), (0, n));
    match r.search("shape", Some(&q), Mode::Vector, 5) {
        Err(e @ RetrieveError::NoVectors(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("never-stored") && msg.contains("ploke index"),
                "{msg}"
            );
        }
        other => panic!("expected NoVectors, got {other:?}"),
    }
    let hits = r
        .search("discriminants", Some(&q), Mode::Hybrid, 5)
        .unwrap();
    assert_eq!(names(&hits).first(), Some(&"Shape"));
}

#[test]
fn hybrid_with_vectors_for_some_items_still_finds_the_others_lexically() {
    let ix = Indexed::fixture("item_kinds");
    let db = ix.db();
    let corpus = Corpus::load(&db).unwrap();
    let (shape, loud, boxed) = (
        doc(&corpus, "Shape"),
        doc(&corpus, "Loud"),
        doc(&corpus, "Point::boxed"),
    );
    put_vector(&db, &corpus, "partial-8", shape, vector(DIMS, &[(0, 1.0)]));
    put_vector(&db, &corpus, "partial-8", loud, vector(DIMS, &[(1, 1.0)]));

    let r = Retriever::load(&db, Some("partial-8")).unwrap();
    let n = embeddable(&corpus).len();
    assert_eq!(r.vector_coverage(), (2, n));

    // "boxed" matches `Point::boxed` (no vector) by name; the vector points at Shape.
    let q = vector(DIMS, &[(0, 1.0), (1, 0.2)]);
    let hits = r.search("boxed", Some(&q), Mode::Hybrid, 10).unwrap();
    assert_sorted(&hits);
    let b = hit(&hits, "Point::boxed")
        .unwrap_or_else(|| panic!("no Point::boxed in {:?}", names(&hits)));
    assert_eq!(b.doc as usize, boxed);
    assert_eq!((b.signals.lexical, b.signals.dense), (1.0, 0.0), "{b:?}");
    let s = hit(&hits, "Shape").unwrap_or_else(|| panic!("no Shape in {:?}", names(&hits)));
    assert_eq!((s.signals.lexical, s.signals.dense), (0.0, 1.0), "{s:?}");
    // A full lexical signal beats a full dense one: the lexical weight is the larger.
    assert!(r.params.lexical > r.params.dense, "{:?}", r.params);
    assert!(
        rank(&hits, "Point::boxed") < rank(&hits, "Shape"),
        "{:?}",
        names(&hits)
    );

    // Without a query vector, hybrid is lexical (and graph) only.
    let hits = r.search("boxed", None, Mode::Hybrid, 10).unwrap();
    assert_eq!(names(&hits).first(), Some(&"Point::boxed"));
    assert!(hits.iter().all(|h| h.signals.dense == 0.0), "{hits:?}");

    // Vector mode returns only items that have a vector.
    let hits = r.search("boxed", Some(&q), Mode::Vector, 10).unwrap();
    assert_eq!(names(&hits).first(), Some(&"Shape"));
    assert!(
        hits.iter()
            .all(|h| h.doc as usize == shape || h.doc as usize == loud),
        "{:?}",
        names(&hits)
    );
}

/// Regression: dense scores are scaled so that the vector at rank `dense_floor_rank` (or the
/// last one, when fewer are stored) scores 0, and zero-score hits used to be dropped, so
/// vector search never returned the worst of up to 101 stored vectors: with one stored vector
/// it returned nothing.
#[test]
fn vector_search_returns_every_item_with_a_vector_when_k_allows() {
    let ix = Indexed::fixture("item_kinds");
    let db = ix.db();
    let corpus = Corpus::load(&db).unwrap();
    put_vector(
        &db,
        &corpus,
        "one-8",
        doc(&corpus, "Shape"),
        vector(DIMS, &[(0, 1.0)]),
    );
    let r = Retriever::load(&db, Some("one-8")).unwrap();
    assert_eq!(r.vector_coverage().0, 1);
    let hits = r
        .search("", Some(&vector(DIMS, &[(0, 1.0)])), Mode::Vector, 5)
        .unwrap();
    assert_eq!(
        names(&hits),
        ["Shape"],
        "the one stored vector is an exact match"
    );

    put_vector(
        &db,
        &corpus,
        "two-8",
        doc(&corpus, "Shape"),
        vector(DIMS, &[(0, 1.0)]),
    );
    put_vector(
        &db,
        &corpus,
        "two-8",
        doc(&corpus, "Loud"),
        vector(DIMS, &[(0, 0.8), (1, 0.6)]),
    );
    let r = Retriever::load(&db, Some("two-8")).unwrap();
    let hits = r
        .search("", Some(&vector(DIMS, &[(0, 1.0)])), Mode::Vector, 5)
        .unwrap();
    assert_eq!(names(&hits), ["Shape", "Loud"], "Loud's cosine is 0.8");
}

// ---------------------------------------------------------------------------------------------
// Graph

const SCHEDULER: &str = "//! Request scheduling.

/// Schedules the retry delay after a failed request.
pub fn schedule_retry_delay(attempt: u32) -> u64 {
    compute_backoff_jitter(attempt) + 10
}

fn compute_backoff_jitter(n: u32) -> u64 {
    (n as u64) * 7 % 13
}

/// Formats a banner line.
pub fn format_banner(title: &str) -> String {
    format!(\"== {title} ==\")
}

/// Counts the vowels of a word.
pub fn count_vowels(word: &str) -> usize {
    word.chars().filter(|c| \"aeiou\".contains(*c)).count()
}
";

#[test]
fn graph_brings_in_the_callee_of_the_top_hit() {
    let ix = Indexed::files("sched", &[("src/lib.rs", SCHEDULER)]);
    let r = Retriever::load(&ix.db(), None).unwrap();
    let (caller, callee) = (
        doc(&r.corpus, "schedule_retry_delay") as u32,
        doc(&r.corpus, "compute_backoff_jitter") as u32,
    );
    assert!(
        r.graph
            .neighbours(caller)
            .any(|(d, rel)| d == callee && rel == ploke_retrieve::Rel::Calls),
        "the call edge is in the graph"
    );

    let query = "schedule retry delay";
    let lexical = r.search(query, None, Mode::Lexical, 10).unwrap();
    assert_eq!(
        names(&lexical),
        ["schedule_retry_delay"],
        "only the caller matches the words"
    );

    let hybrid = r.search(query, None, Mode::Hybrid, 10).unwrap();
    assert_sorted(&hybrid);
    assert_eq!(
        names(&hybrid),
        ["schedule_retry_delay", "compute_backoff_jitter"],
        "{hybrid:?}"
    );
    let c = &hybrid[1];
    assert!(c.signals.graph > 0.0, "{c:?}");
    assert_eq!((c.signals.lexical, c.signals.dense), (0.0, 0.0), "{c:?}");
    assert!(hybrid[0].signals.lexical == 1.0);

    // The other way round: the callee matches, its caller comes along.
    let hybrid = r.search("backoff jitter", None, Mode::Hybrid, 10).unwrap();
    assert_eq!(
        names(&hybrid),
        ["compute_backoff_jitter", "schedule_retry_delay"],
        "{hybrid:?}"
    );
    assert!(hybrid[1].signals.graph > 0.0);
    // The caller's own text names the callee (`compute_backoff_jitter(attempt)`), so check the
    // lexical list does not already hold it only through that.
    let lexical = r.search("backoff jitter", None, Mode::Lexical, 10).unwrap();
    if let Some(h) = hit(&lexical, "schedule_retry_delay") {
        assert!(hit(&hybrid, "schedule_retry_delay").unwrap().score > h.score);
    }

    // Without the graph weight the callee is not found.
    let mut r = r;
    r.params.graph = 0.0;
    let hybrid = r.search(query, None, Mode::Hybrid, 10).unwrap();
    assert_eq!(names(&hybrid), ["schedule_retry_delay"]);
}

#[test]
fn centrality_ranks_what_much_of_the_code_refers_to() {
    let ix = Indexed::files(
        "hub",
        &[(
            "src/lib.rs",
            "pub fn hub() -> u32 { 1 }\n\
             pub fn a() -> u32 { hub() + 1 }\n\
             pub fn b() -> u32 { hub() + 2 }\n\
             pub fn c() -> u32 { hub() + a() }\n\
             pub fn lonely() -> u32 { 4 }\n",
        )],
    );
    let r = Retriever::load(&ix.db(), None).unwrap();
    let c = r.graph.centrality();
    assert_eq!(c.len(), r.corpus.nodes.len());
    let at = |name: &str| c[doc(&r.corpus, name)];
    assert!(
        (at("hub") - 1.0).abs() < 1e-6,
        "the most central item has 1"
    );
    assert!(at("hub") > at("a") && at("a") > at("b"), "{c:?}");
    assert!(at("b") >= at("lonely") && at("lonely") > 0.0);
}

#[test]
fn features_describe_candidates_and_a_ranker_reorders_them() {
    let ix = Indexed::files("sched", &[("src/lib.rs", SCHEDULER)]);
    let r = Retriever::load(&ix.db(), None).unwrap();
    let p = ploke_retrieve::RankParams::default();
    let query = "make the retry delay of `compute_backoff_jitter` configurable";
    let hits = r.first_stage(&p, query, None, Mode::Hybrid, 10).unwrap();
    let rows = r.features(query, &hits);
    assert_eq!(rows.len(), hits.len());
    let f = |name: &str| {
        ploke_retrieve::rerank::FEATURE_NAMES
            .iter()
            .position(|n| *n == name)
            .unwrap()
    };
    let row = |item: &str| {
        rows[hits
            .iter()
            .position(|h| h.node.display_name == item)
            .unwrap()]
    };
    let (jitter, schedule) = (row("compute_backoff_jitter"), row("schedule_retry_delay"));
    assert_eq!(jitter[f("name_exact")], 1.0);
    assert_eq!(schedule[f("name_exact")], 0.0);
    assert_eq!(
        schedule[f("name_words")],
        0.0,
        "`schedule` is not in the request"
    );
    assert!(schedule[f("cov_name")] > 0.0 && schedule[f("cov_name")] < 1.0);
    assert_eq!(jitter[f("query_code")], 1.0);
    assert_eq!(jitter[f("public")], 0.0);
    assert_eq!(schedule[f("public")], 1.0);
    assert_eq!(schedule[f("kind_fn")], 1.0);
    assert!(
        jitter[f("top5_calls")] >= 1.0,
        "its caller is among the best: {jitter:?}"
    );
    assert_eq!(rows[0][f("first_score")], 1.0);

    // A one-tree model that prefers private items puts the callee first.
    let public = f("public");
    let model = format!(
        r#"{{"learner": {{"gradient_booster": {{"model": {{"trees": [{{
            "left_children": [1, -1, -1], "right_children": [2, -1, -1],
            "split_indices": [{public}, 0, 0], "split_conditions": [0.5, 2.0, -2.0],
            "default_left": [0, 0, 0]}}]}}}}}}}}"#
    );
    let ranker = ploke_retrieve::rerank::Ranker::from_xgboost_json(&model).unwrap();
    let mut reranked = hits.clone();
    r.rerank(&ranker, query, &mut reranked, 10);
    assert_eq!(reranked[0].node.display_name, "compute_backoff_jitter");
    assert_sorted(&reranked);
    assert_eq!(reranked.len(), hits.len());
}

// ---------------------------------------------------------------------------------------------
// Test code

const CHECKSUMS: &str = "//! Checksums.

/// Computes the checksum of a buffer.
pub fn checksum(buf: &[u8]) -> u32 {
    buf.iter().map(|b| *b as u32).sum()
}

/// Formats a banner line.
pub fn format_banner(title: &str) -> String {
    format!(\"== {title} ==\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_checksum_bytes() {
        // The checksum of the checksum bytes is the checksum.
        assert_eq!(checksum(b\"checksum\"), checksum(b\"checksum\"));
    }
}
";

#[test]
fn test_code_ranks_below_unless_the_query_is_about_tests() {
    let ix = Indexed::files("sums", &[("src/lib.rs", CHECKSUMS)]);
    let r = Retriever::load(&ix.db(), None).unwrap();
    let t = doc(&r.corpus, "checksum_of_checksum_bytes");
    assert!(r.corpus.nodes[t].is_test);
    assert!(!r.corpus.nodes[doc(&r.corpus, "checksum")].is_test);
    let factor = r.params.test_factor;
    assert!(factor < 1.0);

    for mode in [Mode::Lexical, Mode::Hybrid] {
        let hits = r.search("checksum", None, mode, 10).unwrap();
        assert_sorted(&hits);
        let (test, code) = (
            hit(&hits, "checksum_of_checksum_bytes").unwrap(),
            hit(&hits, "checksum").unwrap(),
        );
        // The test matches at least as well (it says "checksum" more often) ...
        assert!(
            test.signals.lexical >= code.signals.lexical,
            "{mode:?}: {test:?} {code:?}"
        );
        // ... and still ranks below.
        assert!(
            rank(&hits, "checksum") < rank(&hits, "checksum_of_checksum_bytes"),
            "{mode:?}: {:?}",
            names(&hits)
        );
        if mode == Mode::Lexical {
            assert!(
                (test.score - factor * test.signals.lexical).abs() < 1e-6,
                "{test:?}"
            );
        }
    }

    // Asking about tests: no demotion, and the test (the better match) comes first.
    for query in ["checksum test", "tests of checksum", "Testing the checksum"] {
        let hits = r.search(query, None, Mode::Lexical, 10).unwrap();
        let test = hit(&hits, "checksum_of_checksum_bytes").unwrap();
        assert!(
            (test.score - test.signals.lexical).abs() < 1e-6,
            "{query}: {test:?}"
        );
        assert!(
            rank(&hits, "checksum_of_checksum_bytes") < rank(&hits, "checksum"),
            "{query}: {:?}",
            names(&hits)
        );
    }
    // A word that merely contains "test" is not about tests.
    let hits = r
        .search("checksum attestation", None, Mode::Lexical, 10)
        .unwrap();
    assert!(
        rank(&hits, "checksum") < rank(&hits, "checksum_of_checksum_bytes"),
        "{:?}",
        names(&hits)
    );
}

// ---------------------------------------------------------------------------------------------
// Embeddings with the real model

/// The model, loaded once per test binary; a missing model fails the test and names
/// `scripts/fetch-models.sh`.
fn model() -> &'static Embedder {
    static MODEL: OnceLock<Embedder> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut config = EmbedConfig::default();
        config.local.dir = Some(models::minilm_dir());
        config.batch_size = 4;
        Embedder::from_config(&config).expect("load all-MiniLM-L6-v2")
    })
}

const NETKIT: &str = "//! Network helpers.

/// Waits before trying the request again: the delay grows with each attempt.
pub fn retry_delay(attempt: u32) -> u64 {
    100 * 2u64.pow(attempt.min(6))
}

/// Parses a TCP port number from text.
pub fn parse_port(text: &str) -> Option<u16> {
    text.trim().parse().ok()
}

/// Renders a table of names and sizes as aligned columns.
pub fn render_table(rows: &[(String, u64)]) -> String {
    rows.iter().map(|(n, s)| format!(\"{n:<20}{s:>10}\\n\")).collect()
}

/// A user account.
pub struct Account {
    pub name: String,
    pub email: String,
}

impl Account {
    /// Whether the email address has an at sign.
    pub fn email_is_valid(&self) -> bool {
        self.email.contains('@')
    }
}

/// Colours of the terminal palette.
pub enum Colour {
    Red,
    Green,
}

#[cfg(test)]
mod tests {
    #[test]
    fn delay_grows() {
        assert!(super::retry_delay(2) > super::retry_delay(1));
    }
}
";

#[test]
fn embed_pending_embeds_only_new_text_and_vectors_find_paraphrases() {
    let model = model();
    let ix = Indexed::files("netkit", &[("src/lib.rs", NETKIT)]);
    let id = model.model_id().to_string();

    let run = |ix: &Indexed| {
        let db = ix.db();
        let corpus = Corpus::load(&db).unwrap();
        let mut calls = Vec::new();
        let stats = embed_pending(&db, &corpus, model, 2, |done, total| {
            calls.push((done, total))
        })
        .unwrap();
        (stats, calls)
    };

    // First run: everything that gets a vector is embedded (not the test code).
    let (first, calls) = run(&ix);
    let corpus = Corpus::load(&ix.db()).unwrap();
    let expected = embeddable(&corpus);
    assert!(
        corpus.nodes.iter().any(|n| n.is_test),
        "the fixture has test code"
    );
    assert_eq!(first.items, expected.len());
    assert_eq!(first.texts, expected.len(), "every item's text differs");
    assert!(first.texts >= 7, "{first:?}: {:?}", names_of(&corpus));
    assert_eq!(
        (first.embedded, first.reused, first.removed),
        (first.texts, 0, 0),
        "{first:?}"
    );
    assert_eq!(calls.first(), Some(&(0, first.texts)));
    assert_eq!(calls.last(), Some(&(first.texts, first.texts)));
    assert_eq!(ix.db().embedding_hashes(&id).unwrap().len(), first.texts);

    // Second run: nothing to do.
    let (second, _) = run(&ix);
    assert_eq!(
        (second.embedded, second.reused, second.removed),
        (0, first.texts, 0),
        "{second:?}"
    );

    // One function's body changes: one text embedded, its old vector removed.
    let lib = ix.root().join("src/lib.rs");
    let edited = NETKIT.replace("attempt.min(6)", "attempt.min(8)");
    assert_ne!(edited, NETKIT);
    std::fs::write(&lib, edited).unwrap();
    ix.index();
    let (third, _) = run(&ix);
    assert_eq!(
        (third.embedded, third.reused, third.removed),
        (1, first.texts - 1, 1),
        "{third:?}"
    );
    assert_eq!(ix.db().embedding_hashes(&id).unwrap().len(), first.texts);

    // Every item has its vector; a paraphrase of retry_delay's docs finds it.
    let db = ix.db();
    let r = Retriever::load(&db, Some(&id)).unwrap();
    assert_eq!(r.vector_coverage(), (first.items, first.items));
    let query = "how long to pause between attempts";
    let q = model.embed(&[query]).unwrap().remove(0);
    let hits = r.search(query, Some(&q), Mode::Vector, 3).unwrap();
    assert!(
        names(&hits).contains(&"retry_delay"),
        "{query}: {:?}",
        names(&hits)
    );
    let hits = r.search(query, Some(&q), Mode::Hybrid, 3).unwrap();
    assert!(
        names(&hits).contains(&"retry_delay"),
        "hybrid {query}: {:?}",
        names(&hits)
    );
    let query = "check that an e-mail address looks right";
    let q = model.embed(&[query]).unwrap().remove(0);
    let hits = r.search(query, Some(&q), Mode::Vector, 3).unwrap();
    assert!(
        names(&hits).contains(&"Account::email_is_valid"),
        "{query}: {:?}",
        names(&hits)
    );
}
