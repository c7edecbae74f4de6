//! Learned re-ranking: the first stage (BM25F, vectors, the graph walk, see
//! [`Retriever::search_with`]) proposes candidates; a tree ensemble trained on real Rust
//! changes ([`Ranker`]) orders them by features of the request, the item, its file and
//! module, and its place in the code graph among the other candidates.
//!
//! The features are computed here and nowhere else, so training (`cargo xtask rank-features`)
//! and search see the same numbers. The model is an XGBoost-format JSON tree ensemble
//! (trained by `cargo xtask train-ranker`); only its order matters.

use std::collections::HashMap;

use ploke_core::{ItemKind, Visibility};
use ploke_search::NUM_FIELDS;

use crate::graph::Rel;
use crate::{Hit, Retriever};

/// Names of the features, in the order of a feature row. A model names the features it was
/// trained with; [`Ranker::from_xgboost_json`] refuses a model whose names differ.
pub const FEATURE_NAMES: [&str; NUM_FEATURES] = [
    "first_score",
    "first_rank",
    "lexical",
    "dense",
    "cosine",
    "graph",
    "lexical_rank",
    "dense_rank",
    "cov_name",
    "cov_path",
    "cov_signature",
    "cov_docs",
    "cov_body",
    "cov_file",
    "cov_any",
    "file_best",
    "file_mean3",
    "file_count",
    "rank_in_file",
    "module_best",
    "module_count",
    "centrality",
    "lines",
    "public",
    "test",
    "aux",
    "kind_fn",
    "kind_method",
    "kind_type",
    "kind_trait",
    "kind_impl",
    "kind_const",
    "kind_macro",
    "kind_module",
    "name_exact",
    "name_words",
    "owner_named",
    "file_named",
    "position_in_file",
    "scope_match",
    "top10_neighbours",
    "top5_calls",
    "top5_members",
    "top5_types",
    "doc_words",
    "query_words",
    "query_code",
];

/// Number of features of a row.
pub const NUM_FEATURES: usize = 47;

/// One candidate's features.
pub type Features = [f32; NUM_FEATURES];

/// The words of a request, lower-cased, and the identifiers it writes as code.
struct QueryWords {
    /// Alphanumeric words, split at `_`, `::` and case changes too.
    words: Vec<String>,
    /// Tokens as written (letters, digits, `_`), lower-cased: `retry_delay`, `retrydelay`.
    tokens: Vec<String>,
    /// Whether the request writes an identifier the way code does (`a_b`, `aB`, `A::b`, `` ` ``).
    code: bool,
}

impl QueryWords {
    fn new(query: &str) -> QueryWords {
        let tokens: Vec<String> = query
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|t| !t.is_empty())
            .map(|t| t.to_lowercase())
            .collect();
        let words = split_words(query);
        let code = query.contains("::")
            || query.contains('`')
            || query
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|t| {
                    t.trim_matches('_').contains('_')
                        || t.chars().skip(1).any(|c| c.is_uppercase())
                            && t.chars().any(|c| c.is_lowercase())
                });
        QueryWords {
            words,
            tokens,
            code,
        }
    }

    /// Whether `words` occur in the request one after another.
    fn has_sequence(&self, words: &[String]) -> bool {
        !words.is_empty()
            && self
                .words
                .windows(words.len())
                .any(|w| w.iter().zip(words).all(|(a, b)| a == b))
    }
}

/// `RetryDelay`, `retry_delay`, `retry delay` → `["retry", "delay"]`.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in s.split(|c: char| !c.is_alphanumeric()) {
        let mut cur = String::new();
        let mut prev_lower = false;
        for c in part.chars() {
            if c.is_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            cur.extend(c.to_lowercase());
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// The last segment of a display name (`Builder::enable_io` → `enable_io`), and its owner
/// (`Builder`), if any. Impl blocks (`impl Display for Error`) name their type.
fn name_parts(display: &str) -> (&str, Option<&str>) {
    if let Some(rest) = display.strip_prefix("impl ") {
        let ty = rest.rsplit(" for ").next().unwrap_or(rest);
        let ty = ty.split('<').next().unwrap_or(ty).trim();
        return (ty.rsplit("::").next().unwrap_or(ty), None);
    }
    match display.rsplit_once("::") {
        Some((owner, last)) => (last, Some(owner.rsplit("::").next().unwrap_or(owner))),
        None => (display, None),
    }
}

fn kind_slot(kind: ItemKind) -> Option<usize> {
    use ItemKind::*;
    Some(match kind {
        Fn | ForeignFn => 0,
        Method => 1,
        Struct | Enum | Union | TypeAlias | AssocType | ForeignType => 2,
        Trait | TraitAlias => 3,
        Impl => 4,
        Const | AssocConst | Static | ForeignStatic => 5,
        Macro => 6,
        Module | Crate => 7,
        _ => return None,
    })
}

fn log_rank(rank: usize) -> f32 {
    (1.0 + rank as f32).ln()
}

impl Retriever {
    /// The features of each of `hits` (the first stage's candidates for `query`, best first,
    /// as [`Retriever::first_stage`] returns them).
    pub fn features(&self, query: &str, hits: &[Hit<'_>]) -> Vec<Features> {
        let n = hits.len();
        let mut rows = vec![[0f32; NUM_FEATURES]; n];
        if n == 0 {
            return rows;
        }
        let q = QueryWords::new(query);
        let top = hits[0].score.max(1e-6);
        let docs: Vec<u32> = hits.iter().map(|h| h.doc).collect();
        let coverage = self.corpus.index.field_coverage(query, &docs);
        let rank_by = |key: &dyn Fn(&Hit) -> f32| -> Vec<usize> {
            let mut order: Vec<usize> = (0..n).filter(|&i| key(&hits[i]) > 0.0).collect();
            order.sort_by(|&a, &b| key(&hits[b]).total_cmp(&key(&hits[a])).then(a.cmp(&b)));
            let mut rank = vec![n; n];
            for (r, i) in order.into_iter().enumerate() {
                rank[i] = r;
            }
            rank
        };
        let lex_rank = rank_by(&|h| h.signals.lexical);
        let dense_rank = rank_by(&|h| h.signals.dense);
        // Files and modules among the candidates: best score, mean of the best three, count,
        // and each item's rank in its file.
        let mut by_file: HashMap<&str, Vec<f32>> = HashMap::new();
        let mut by_module: HashMap<(&str, &str), (f32, usize)> = HashMap::new();
        let mut rank_in_file = vec![0usize; n];
        for (i, h) in hits.iter().enumerate() {
            let v = by_file.entry(h.file).or_default();
            rank_in_file[i] = v.len();
            v.push(h.score);
            let m = by_module
                .entry((h.node.crate_name.as_str(), h.node.module.as_str()))
                .or_insert((0.0, 0));
            m.0 = m.0.max(h.score);
            m.1 += 1;
        }
        let scope = crate::scope_of(query);
        let centrality = self.centrality.get_or_init(|| self.graph.centrality());
        let file_len = self.file_lines();
        let top_docs: Vec<u32> = docs.iter().take(10).copied().collect();
        for (i, h) in hits.iter().enumerate() {
            let node = h.node;
            let d = h.doc as usize;
            let r = &mut rows[i];
            r[0] = h.score / top;
            r[1] = log_rank(i);
            r[2] = h.signals.lexical;
            r[3] = h.signals.dense;
            r[4] = h.signals.cosine;
            r[5] = h.signals.graph;
            r[6] = log_rank(lex_rank[i]);
            r[7] = log_rank(dense_rank[i]);
            debug_assert_eq!(coverage[i].len(), NUM_FIELDS + 1);
            r[8..15].copy_from_slice(&coverage[i]);
            let f = &by_file[h.file];
            r[15] = f[0] / top;
            r[16] = f.iter().take(3).sum::<f32>() / 3.0 / top;
            r[17] = log_rank(f.len());
            r[18] = log_rank(rank_in_file[i]);
            let m = by_module[&(node.crate_name.as_str(), node.module.as_str())];
            r[19] = m.0 / top;
            r[20] = log_rank(m.1);
            r[21] = centrality.get(d).copied().unwrap_or(0.0);
            let lines = node.span.end_line.saturating_sub(node.span.start_line) + 1;
            r[22] = log_rank(lines as usize);
            r[23] = f32::from(u8::from(matches!(node.visibility, Visibility::Public)));
            r[24] = f32::from(u8::from(node.is_test));
            r[25] = f32::from(u8::from(self.corpus.aux[d]));
            if let Some(k) = kind_slot(node.kind) {
                r[26 + k] = 1.0;
            }
            let (last, owner) = name_parts(&node.display_name);
            let last_lc = last.to_lowercase();
            r[34] = f32::from(u8::from(q.tokens.contains(&last_lc)));
            r[35] = f32::from(u8::from(q.has_sequence(&split_words(last))));
            r[36] = f32::from(u8::from(owner.is_some_and(|o| {
                let o = o.to_lowercase();
                q.tokens.contains(&o) || q.has_sequence(&split_words(&o))
            })));
            let stem = h
                .file
                .rsplit('/')
                .next()
                .unwrap_or(h.file)
                .trim_end_matches(".rs");
            let stem = if matches!(stem, "mod" | "lib" | "main") {
                h.file.rsplit('/').nth(1).unwrap_or(stem)
            } else {
                stem
            };
            r[37] = f32::from(u8::from(q.has_sequence(&split_words(stem))));
            let len = file_len.get(&node.file).copied().unwrap_or(1).max(1);
            r[38] = node.span.start_line as f32 / len as f32;
            r[39] = f32::from(u8::from(
                scope
                    .as_deref()
                    .is_some_and(|s| crate::in_scope(s, &node.module, h.file)),
            ));
            let (mut nb10, mut calls5, mut members5, mut types5) = (0f32, 0f32, 0f32, 0f32);
            for (nb, rel) in self.graph.neighbours(h.doc) {
                if let Some(pos) = top_docs.iter().position(|&t| t == nb) {
                    nb10 += 1.0;
                    if pos < 5 {
                        match rel {
                            Rel::Calls | Rel::CalledBy => calls5 += 1.0,
                            Rel::Child | Rel::Parent => members5 += 1.0,
                            Rel::UsesType | Rel::UsedBy | Rel::ImplOf | Rel::ImplBy => {
                                types5 += 1.0
                            }
                        }
                    }
                }
            }
            r[40] = nb10;
            r[41] = calls5;
            r[42] = members5;
            r[43] = types5;
            r[44] = log_rank(node.docs.split_whitespace().count());
            r[45] = log_rank(q.words.len());
            r[46] = f32::from(u8::from(q.code));
        }
        rows
    }

    /// The last line of each file (by graph path) that an item reaches.
    fn file_lines(&self) -> &HashMap<String, u32> {
        self.file_lines.get_or_init(|| {
            let mut m: HashMap<String, u32> = HashMap::new();
            for n in &self.corpus.nodes {
                let e = m.entry(n.file.clone()).or_default();
                *e = (*e).max(n.span.end_line);
            }
            m
        })
    }
}

/// A tree ensemble that scores a candidate from its [`Features`]: higher ranks first.
#[derive(Debug, Clone)]
pub struct Ranker {
    trees: Vec<Tree>,
}

/// One regression tree in arrays: node `i` splits on `feature[i] < threshold[i]` (left when
/// true, or when the value is missing and `default_left[i]`), or is a leaf (`left[i] < 0`)
/// whose value is `threshold[i]`.
#[derive(Debug, Clone)]
struct Tree {
    left: Vec<i32>,
    right: Vec<i32>,
    feature: Vec<u32>,
    threshold: Vec<f32>,
    default_left: Vec<bool>,
}

impl Tree {
    fn eval(&self, x: &[f32]) -> f32 {
        let mut i = 0usize;
        loop {
            let l = self.left[i];
            if l < 0 {
                return self.threshold[i];
            }
            let v = x[self.feature[i] as usize];
            let go_left = if v.is_nan() {
                self.default_left[i]
            } else {
                v < self.threshold[i]
            };
            i = if go_left {
                l as usize
            } else {
                self.right[i] as usize
            };
        }
    }
}

/// Why a model file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RankerError {
    #[error("ranker model is not XGBoost JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("ranker model: {0}")]
    Invalid(String),
}

impl Ranker {
    /// A model in XGBoost's JSON format (`learner.gradient_booster.model.trees`), whose
    /// feature names, when it has them, must be [`FEATURE_NAMES`].
    pub fn from_xgboost_json(text: &str) -> Result<Ranker, RankerError> {
        let v: serde_json::Value = serde_json::from_str(text)?;
        let learner = &v["learner"];
        if let Some(names) = learner["feature_names"].as_array() {
            if !names.is_empty() {
                let names: Vec<&str> = names.iter().filter_map(|n| n.as_str()).collect();
                if names != FEATURE_NAMES {
                    return Err(RankerError::Invalid(format!(
                        "trained with features {names:?}, this build computes {FEATURE_NAMES:?}; retrain with `cargo xtask train-ranker`"
                    )));
                }
            }
        }
        let trees = learner["gradient_booster"]["model"]["trees"]
            .as_array()
            .ok_or_else(|| {
                RankerError::Invalid("no learner.gradient_booster.model.trees".into())
            })?;
        let ints = |t: &serde_json::Value, key: &str| -> Result<Vec<i64>, RankerError> {
            t[key]
                .as_array()
                .ok_or_else(|| RankerError::Invalid(format!("tree without {key}")))?
                .iter()
                .map(|x| {
                    x.as_i64()
                        .or_else(|| x.as_bool().map(i64::from))
                        .ok_or_else(|| RankerError::Invalid(format!("{key}: not an integer")))
                })
                .collect()
        };
        let mut out = Vec::with_capacity(trees.len());
        for t in trees {
            let left = ints(t, "left_children")?;
            let right = ints(t, "right_children")?;
            let feature = ints(t, "split_indices")?;
            let default_left = ints(t, "default_left")?;
            let threshold: Vec<f32> = t["split_conditions"]
                .as_array()
                .ok_or_else(|| RankerError::Invalid("tree without split_conditions".into()))?
                .iter()
                .map(|x| x.as_f64().map(|x| x as f32))
                .collect::<Option<_>>()
                .ok_or_else(|| RankerError::Invalid("split_conditions: not a number".into()))?;
            let n = left.len();
            if [
                right.len(),
                feature.len(),
                default_left.len(),
                threshold.len(),
            ]
            .iter()
            .any(|&l| l != n)
                || n == 0
            {
                return Err(RankerError::Invalid(
                    "tree arrays of different lengths".into(),
                ));
            }
            for i in 0..n {
                let (l, r) = (left[i], right[i]);
                if l >= 0 {
                    let ok = |c: i64| c > i as i64 && (c as usize) < n;
                    if !ok(l) || !ok(r) || feature[i] < 0 || feature[i] as usize >= NUM_FEATURES {
                        return Err(RankerError::Invalid(format!("tree node {i} is malformed")));
                    }
                }
            }
            out.push(Tree {
                left: left.iter().map(|&x| x as i32).collect(),
                right: right.iter().map(|&x| x as i32).collect(),
                feature: feature.iter().map(|&x| x.max(0) as u32).collect(),
                threshold,
                default_left: default_left.iter().map(|&x| x != 0).collect(),
            });
        }
        Ok(Ranker { trees: out })
    }

    /// The model shipped with ploke (`crates/ploke-retrieve/ranker/ranker.json`).
    pub fn builtin() -> &'static Ranker {
        static BUILTIN: std::sync::OnceLock<Ranker> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(|| {
            Ranker::from_xgboost_json(include_str!("../ranker/ranker.json"))
                .expect("the shipped ranker model is valid (checked by its test)")
        })
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// Whether the model has no trees (it then scores every candidate 0).
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// The score of one candidate.
    pub fn score(&self, x: &Features) -> f32 {
        self.trees.iter().map(|t| t.eval(x)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_at_case_and_underscores() {
        assert_eq!(split_words("RetryDelay"), ["retry", "delay"]);
        assert_eq!(split_words("retry_delay()"), ["retry", "delay"]);
        assert_eq!(
            split_words("make the HTTP2 retry"),
            ["make", "the", "http2", "retry"]
        );
        assert_eq!(
            name_parts("Builder::enable_io"),
            ("enable_io", Some("Builder"))
        );
        assert_eq!(name_parts("impl Display for Error<T>"), ("Error", None));
        assert_eq!(name_parts("spawn"), ("spawn", None));
    }

    #[test]
    fn code_in_a_request_is_recognised() {
        assert!(QueryWords::new("make retry_delay configurable").code);
        assert!(QueryWords::new("fix JoinSet::spawn").code);
        assert!(QueryWords::new("add `Notify::notify_last`").code);
        assert!(QueryWords::new("use RetryPolicy here").code);
        assert!(!QueryWords::new("make the retry delay configurable").code);
        assert!(QueryWords::new("make the retry delay configurable")
            .has_sequence(&split_words("RetryDelay")));
    }

    #[test]
    fn trees_follow_splits_and_missing_values() {
        // Node 0: feature 2 < 0.5 → node 1 (leaf 1.0) else node 2 (leaf -1.0).
        let json = r#"{"learner": {"feature_names": [], "gradient_booster": {"model": {"trees": [
            {"left_children": [1, -1, -1], "right_children": [2, -1, -1],
             "split_indices": [2, 0, 0], "split_conditions": [0.5, 1.0, -1.0],
             "default_left": [0, 0, 0]},
            {"left_children": [-1], "right_children": [-1], "split_indices": [0],
             "split_conditions": [0.25], "default_left": [1]}
        ]}}}}"#;
        let r = Ranker::from_xgboost_json(json).unwrap();
        let mut x = [0f32; NUM_FEATURES];
        assert_eq!(r.score(&x), 1.25);
        x[2] = 0.7;
        assert_eq!(r.score(&x), -0.75);
        x[2] = f32::NAN;
        assert_eq!(r.score(&x), -0.75);
        let bad = json.replace("[1, -1, -1]", "[0, -1, -1]");
        assert!(Ranker::from_xgboost_json(&bad).is_err());
        let named = json.replace(r#""feature_names": []"#, r#""feature_names": ["x"]"#);
        assert!(Ranker::from_xgboost_json(&named)
            .unwrap_err()
            .to_string()
            .contains("retrain"));
    }

    #[test]
    fn the_shipped_model_loads() {
        let r = Ranker::builtin();
        assert!(r.len() > 10, "a trained model has trees: {}", r.len());
        // It was trained with this build's features (`from_xgboost_json` checks the names).
        let text = include_str!("../ranker/ranker.json");
        assert!(text.contains(r#""feature_names":["first_score","#));
        assert!(r.score(&[0.0; NUM_FEATURES]).is_finite());
        assert!(r.score(&[f32::NAN; NUM_FEATURES]).is_finite());
    }
}
