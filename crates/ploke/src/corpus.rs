//! The searchable view of an index: item documents built from the database, and the lexical
//! index over them.

use std::collections::HashMap;

use anyhow::Context;
use ploke_core::{ItemKind, Node};
use ploke_db::Db;
use ploke_search::{Bm25Params, ItemDoc, LexicalIndex};

/// Kinds whose own text is their header plus what is not inside a member that is indexed on
/// its own (the methods of an impl, the items of an inline module).
fn is_container(kind: ItemKind) -> bool {
    matches!(kind, ItemKind::Impl | ItemKind::Trait | ItemKind::Module | ItemKind::ExternBlock)
}

/// Kinds returned by search: items a person would edit as a unit.
fn is_result_kind(kind: ItemKind) -> bool {
    kind.is_searchable() && !matches!(kind, ItemKind::Field | ItemKind::Variant)
}

/// The item's text after its doc comments (indexed as their own field) and attributes.
fn strip_doc_lines(body: &str) -> &str {
    let mut rest = body;
    loop {
        let line_end = rest.find('\n').map(|i| i + 1).unwrap_or(rest.len());
        let t = rest[..line_end].trim_start();
        if t.starts_with("///") || t.starts_with("//!") || t.starts_with("#[doc") || (t.starts_with("#[") && t.trim_end().ends_with(']')) {
            rest = &rest[line_end..];
            if rest.is_empty() {
                return body;
            }
        } else {
            return rest;
        }
    }
}

pub struct Corpus {
    pub nodes: Vec<Node>,
    /// Workspace path -> package-relative path, for results.
    pub rel_path: HashMap<String, String>,
    pub index: LexicalIndex,
}

/// Score factor for test code: it ranks below the code it tests.
const TEST_FACTOR: f32 = 0.3;

pub struct Hit<'a> {
    pub node: &'a Node,
    pub file: &'a str,
    pub score: f32,
}

impl Corpus {
    pub fn load(db: &Db) -> anyhow::Result<Corpus> {
        let files = db.files().context("reading file records")?;
        let mut sources: HashMap<String, String> = HashMap::with_capacity(files.len());
        for f in &files {
            if let Some(text) = db.source(&f.path).context("reading stored source")? {
                sources.insert(f.path.clone(), text);
            }
        }
        let rel_path = files.iter().map(|f| (f.path.clone(), f.rel_path.clone())).collect();
        let all = db.all_nodes().context("reading items")?;
        // Spans of members to cut out of their container's text.
        let mut member_spans: HashMap<ploke_core::NodeId, Vec<(u32, u32)>> = HashMap::new();
        let kind_of: HashMap<ploke_core::NodeId, (ItemKind, &str)> = all.iter().map(|n| (n.id, (n.kind, n.file.as_str()))).collect();
        for n in &all {
            if let Some(p) = n.parent {
                if let Some((k, file)) = kind_of.get(&p) {
                    if is_container(*k) && *file == n.file {
                        member_spans.entry(p).or_default().push((n.span.start_byte, n.span.end_byte));
                    }
                }
            }
        }
        let mut nodes: Vec<Node> = all.iter().filter(|n| is_result_kind(n.kind)).cloned().collect();
        nodes.sort_by(|a, b| (&a.file, a.span.start_byte, a.id).cmp(&(&b.file, b.span.start_byte, b.id)));
        let bodies: Vec<String> = nodes
            .iter()
            .map(|n| {
                let Some(src) = sources.get(&n.file) else { return String::new() };
                let (s, e) = (n.span.start_byte as usize, (n.span.end_byte as usize).min(src.len()));
                if s > e || !src.is_char_boundary(s) || !src.is_char_boundary(e) {
                    return String::new();
                }
                match member_spans.get(&n.id) {
                    Some(spans) if is_container(n.kind) => {
                        let mut spans = spans.clone();
                        spans.sort();
                        let mut out = String::new();
                        let mut pos = s;
                        for (ms, me) in spans {
                            let (ms, me) = (ms as usize, me as usize);
                            if ms >= pos && me <= e && src.is_char_boundary(ms) && src.is_char_boundary(me) {
                                out.push_str(&src[pos..ms]);
                                out.push('\n');
                                pos = me;
                            }
                        }
                        out.push_str(&src[pos..e]);
                        out
                    }
                    _ => src[s..e].to_string(),
                }
            })
            .map(|body| strip_doc_lines(&body).to_string())
            .collect();
        let empty = String::new();
        let index = {
            let rel: &HashMap<String, String> = &rel_path;
            LexicalIndex::build(
                nodes.iter().zip(&bodies).map(|(n, body)| ItemDoc {
                    name: &n.display_name,
                    path: &n.path,
                    signature: &n.signature,
                    docs: &n.docs,
                    body,
                    file: rel.get(&n.file).unwrap_or(&empty),
                }),
                Bm25Params::default(),
            )
        };
        Ok(Corpus { nodes, rel_path, index })
    }

    pub fn search(&self, query: &str, k: usize) -> Vec<Hit<'_>> {
        // Over-fetch so that demoting test code can let other items in.
        let raw = self.index.search(query, k.saturating_mul(2).max(k + 20));
        let mut hits: Vec<Hit> = raw
            .into_iter()
            .map(|(i, score)| {
                let node = &self.nodes[i as usize];
                let score = if node.is_test { score * TEST_FACTOR } else { score };
                Hit { node, file: self.rel_path.get(&node.file).map(|s| s.as_str()).unwrap_or(&node.file), score }
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.node.id.cmp(&b.node.id)));
        hits.truncate(k);
        hits
    }
}

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
