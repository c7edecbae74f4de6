//! The searchable view of an index: item documents built from the database, and the lexical
//! index over them.

use crate::RetrieveError as Error;

use std::collections::HashMap;

use ploke_core::{ItemKind, Node, TargetKind};
use ploke_db::Db;
use ploke_search::{Bm25Params, ItemDoc, LexicalIndex};

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
    /// Whether node `i` belongs only to auxiliary targets (examples, benches, integration
    /// tests, build scripts) rather than a library or binary.
    pub aux: Vec<bool>,
    pub index: LexicalIndex,
}

impl Corpus {
    /// Reads every item and source text from `db` and builds the lexical index.
    pub fn load(db: &Db) -> Result<Corpus, Error> {
        let files = db.files()?;
        let mut sources: HashMap<String, String> = HashMap::with_capacity(files.len());
        for f in &files {
            if let Some(text) = db.source(&f.path)? {
                sources.insert(f.path.clone(), text);
            }
        }
        let rel_path = files
            .iter()
            .map(|f| (f.path.clone(), f.rel_path.clone()))
            .collect();
        let all = db.all_nodes()?;
        // Spans of members to cut out of their container's text.
        let mut member_spans: HashMap<ploke_core::NodeId, Vec<(u32, u32)>> = HashMap::new();
        let kind_of: HashMap<ploke_core::NodeId, (ItemKind, &str)> = all
            .iter()
            .map(|n| (n.id, (n.kind, n.file.as_str())))
            .collect();
        for n in &all {
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
        let mut nodes: Vec<Node> = all
            .iter()
            .filter(|n| is_result_kind(n.kind))
            .cloned()
            .collect();
        nodes.sort_by(|a, b| {
            (&a.file, a.span.start_byte, a.id).cmp(&(&b.file, b.span.start_byte, b.id))
        });
        let bodies: Vec<String> = nodes
            .iter()
            .map(|n| {
                let Some(src) = sources.get(&n.file) else {
                    return String::new();
                };
                let (s, e) = (
                    n.span.start_byte as usize,
                    (n.span.end_byte as usize).min(src.len()),
                );
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
        // A crate name is primary when any target of that name is a library or binary.
        let mut primary: HashMap<&str, bool> = HashMap::new();
        let crates = db.crates()?;
        for c in &crates {
            let p = matches!(c.kind, TargetKind::Lib | TargetKind::Bin);
            *primary.entry(c.name.as_str()).or_default() |= p;
        }
        let aux = nodes
            .iter()
            .map(|n| primary.get(n.crate_name.as_str()) == Some(&false))
            .collect();
        Ok(Corpus {
            nodes,
            bodies,
            rel_path,
            aux,
            index,
        })
    }

    /// The package-relative path of node `i`'s file.
    pub fn rel_file(&self, i: usize) -> &str {
        let f = &self.nodes[i].file;
        self.rel_path.get(f).map(|s| s.as_str()).unwrap_or(f)
    }
}
