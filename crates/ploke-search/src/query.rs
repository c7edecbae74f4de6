//! Reading a query: weighted terms, and the identifiers it names.
//!
//! A change request mixes prose with code: `` `Builder::enable_io` ``, `parse_u32`,
//! `TcpStream`, `json!`, `a::b::c`. Its terms go through the same [`Tokenizer`] as the
//! documents; on top of that, every word written as code becomes a *name key* that can hit
//! an item whose name it equals, and plain words become weaker name keys.

use std::sync::OnceLock;

use fxhash::{FxHashMap, FxHashSet};

use crate::index::Bm25Params;
use crate::tokenize::{is_stop_word, stem, Tokenizer};

/// An identifier from the query, lower-cased, to be compared with item names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameKey {
    pub key: String,
    /// Written as code (as opposed to a plain word).
    pub code: bool,
}

/// A query ready to run: distinct terms with weights, and name keys.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pub terms: Vec<(String, f32)>,
    pub names: Vec<NameKey>,
}

/// Words that say what kind of change a request asks for, not where it belongs. They are
/// dropped from queries unless the query writes them as code (`IndexMap::remove`).
#[rustfmt::skip]
const REQUEST_WORDS: &[&str] = &[
    "fix", "add", "remove", "support", "allow", "update", "change", "improve", "implement",
    "feat", "chore", "refactor", "bump", "cleanup", "clean", "minor", "simplify", "tweak",
    "ensure", "avoid", "proper", "properly", "correctly", "better", "unnecessary", "issue",
    "bug",
];

fn request_stems() -> &'static FxHashSet<String> {
    static SET: OnceLock<FxHashSet<String>> = OnceLock::new();
    SET.get_or_init(|| REQUEST_WORDS.iter().map(|w| stem(w)).collect())
}

pub(crate) fn analyze(text: &str, params: &Bm25Params) -> Query {
    let names = identifiers(text);
    let mut tk = Tokenizer::new();
    // Request words the query writes as code stay.
    let mut keep: FxHashSet<String> = FxHashSet::default();
    for k in names.iter().filter(|k| k.code && !k.key.contains("::")) {
        tk.tokens(&k.key, |t| {
            keep.insert(t.to_owned());
        });
    }
    let drop = request_stems();
    // Every token with its line weight; request words are marked.
    let mut weights: FxHashMap<String, (f32, bool)> = FxHashMap::default();
    let mut order: Vec<String> = Vec::new();
    let mut first = true;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let w = if first { params.first_line_weight } else { 1.0 };
        first = false;
        tk.tokens(line, |t| match weights.get_mut(t) {
            Some(x) => x.0 += w,
            None => {
                let request = drop.contains(t) && !keep.contains(t);
                weights.insert(t.to_owned(), (w, request));
                order.push(t.to_owned());
            }
        });
    }
    // A query made only of request words ("remove") still searches for them.
    let only_request = weights.values().all(|&(_, request)| request);
    let exp = params.query_tf_exponent;
    let terms = order
        .into_iter()
        .filter_map(|t| {
            let (w, request) = weights[&t];
            if request && !only_request {
                return None;
            }
            let w = if exp == 1.0 { w } else { w.max(0.0).powf(exp) };
            (w > 0.0).then_some((t, w))
        })
        .collect();
    Query { terms, names }
}

/// Collects the name keys of a query, each once; a key seen both as code and as a plain
/// word counts as code.
pub(crate) fn identifiers(text: &str) -> Vec<NameKey> {
    let mut out: Vec<NameKey> = Vec::new();
    let mut seen: FxHashMap<String, usize> = FxHashMap::default();
    let mut push = |key: String, code: bool| match seen.get(&key) {
        Some(&i) => out[i].code |= code,
        None => {
            seen.insert(key.clone(), out.len());
            out.push(NameKey { key, code });
        }
    };
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut in_code = false;
    let mut i = 0;
    while i < n {
        let b = bytes[i];
        if b == b'`' {
            in_code = !in_code;
            i += 1;
            continue;
        }
        if !(b.is_ascii_alphabetic() || b == b'_') {
            i += 1;
            continue;
        }
        // A path: ident (:: ident)*
        let start = i;
        let mut segs: Vec<(usize, usize)> = Vec::new();
        loop {
            let s = i;
            while i < n && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            segs.push((s, i));
            if i + 2 < n
                && bytes[i] == b':'
                && bytes[i + 1] == b':'
                && (bytes[i + 2].is_ascii_alphabetic() || bytes[i + 2] == b'_')
            {
                i += 2;
            } else {
                break;
            }
        }
        // A word glued to non-ASCII letters is not an identifier of ours.
        if (start > 0 && bytes[start - 1] >= 0x80) || (i < n && bytes[i] >= 0x80) {
            while i < n && bytes[i] >= 0x80 {
                i += 1;
            }
            continue;
        }
        let called = i < n && (bytes[i] == b'(' || bytes[i] == b'!');
        let is_path = segs.len() > 1;
        for (k, &(s, e)) in segs.iter().enumerate() {
            let word = &text[s..e];
            let code = in_code || is_path || called || looks_like_code(word);
            let key = word.trim_matches('_').to_ascii_lowercase();
            if key.len() < 2 || is_stop_word(&key) {
                continue;
            }
            if code {
                push(key.clone(), true);
                if k > 0 {
                    let (ps, pe) = segs[k - 1];
                    let owner = text[ps..pe].to_ascii_lowercase();
                    push(format!("{owner}::{key}"), true);
                }
            } else if key.len() >= 3 {
                push(key, false);
            }
        }
    }
    out
}

/// `snake_case` (an inner `_`) or `CamelCase` (a capital after a lower-case letter).
fn looks_like_code(word: &str) -> bool {
    let w = word.trim_matches('_').as_bytes();
    if w.contains(&b'_') {
        return true;
    }
    w.windows(2)
        .any(|p| (p[0].is_ascii_lowercase() || p[0].is_ascii_digit()) && p[1].is_ascii_uppercase())
}

/// The keys under which an item named `name` can be hit: its last path segment (for
/// `impl Display for Error`, `error`), and `owner::item` for qualified names. Generic
/// arguments are ignored.
pub(crate) fn name_keys(name: &str, out: &mut Vec<String>) {
    let mut clean = String::with_capacity(name.len());
    let mut depth = 0u32;
    for ch in name.chars() {
        match ch {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => clean.push(ch),
            _ => {}
        }
    }
    let last_word = clean.split_whitespace().last().unwrap_or("");
    let mut segs = last_word.rsplit("::").filter(|s| !s.is_empty());
    let Some(last) = segs.next() else {
        return;
    };
    let last = last.trim_matches('_').to_lowercase();
    if last.is_empty() {
        return;
    }
    if let Some(owner) = segs.next() {
        out.push(format!("{}::{last}", owner.to_lowercase()));
    }
    out.push(last);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(q: &str) -> Vec<(String, bool)> {
        identifiers(q)
            .into_iter()
            .map(|k| (k.key, k.code))
            .collect()
    }

    #[test]
    fn code_like_identifiers() {
        assert_eq!(
            keys("fix `RequestBuilder::form` overwriting CONTENT_TYPE in TcpStream"),
            [
                ("fix".to_owned(), false),
                ("requestbuilder".to_owned(), true),
                ("form".to_owned(), true),
                ("requestbuilder::form".to_owned(), true),
                ("overwriting".to_owned(), false),
                ("content_type".to_owned(), true),
                ("tcpstream".to_owned(), true),
            ]
        );
        assert_eq!(
            keys("Fix json! macro"),
            [
                ("fix".to_owned(), false),
                ("json".to_owned(), true),
                ("macro".to_owned(), false)
            ]
        );
    }

    #[test]
    fn item_name_keys() {
        let mut out = Vec::new();
        name_keys("Builder::enable_io", &mut out);
        name_keys("impl<T> Display for Wrapper<T>", &mut out);
        name_keys("spawn", &mut out);
        assert_eq!(out, ["builder::enable_io", "enable_io", "wrapper", "spawn"]);
    }
}
