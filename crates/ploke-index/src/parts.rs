//! The graph kept per target, so that a change re-resolves only the targets it can affect.
//!
//! A target's part (its crate record, its nodes, and the edges and unresolved references out
//! of them) is a function of the parsed files of the targets its resolution reads: itself,
//! and the workspace libraries its paths name, transitively (their namespaces, re-exports and
//! impls). The resolver looks at no other target's impls, though one may add members to those
//! libraries' types (a test's extension trait for a library type; the orphan rule allows it),
//! and takes these contexts from the same paths ([`ploke_graph::for_each_path`]). So after a
//! change:
//!
//! 1. the targets whose module tree or files changed are built again, with their context;
//! 2. the names whose definition changed (items that appeared, went or changed identity,
//!    imports that now resolve elsewhere) are collected;
//! 3. every other target whose context holds a changed target and whose files mention one of
//!    those names is built again too, until no more names change.
//!
//! A target whose files mention none of the changed names resolves exactly as before: every
//! lookup it makes is by a name it mentions. The result equals a clean build (tested against
//! one after every step of long edit sequences).

use std::path::PathBuf;
use std::sync::Arc;

use fxhash::{FxHashMap, FxHashSet};
use ploke_core::{ContentHash, EdgeKind, Graph, ItemKind, NodeId};
use ploke_parse::{Detail, ParsedFile};

/// The path segments one file's items use.
#[derive(Debug, Default)]
pub(crate) struct FileNames {
    /// First segments: the crate names a path may start with.
    pub first: FxHashSet<String>,
    /// Every segment, and every name an item declares or imports.
    pub all: FxHashSet<String>,
}

impl FileNames {
    pub fn of(parsed: &ParsedFile) -> FileNames {
        let mut n = FileNames::default();
        for item in &parsed.items {
            n.all.insert(item.name.clone());
            if let Detail::Use { entries } = &item.detail {
                for e in entries.iter().filter_map(|e| e.alias.as_ref()) {
                    n.all.insert(e.clone());
                }
            }
        }
        // The paths ploke-graph takes a target's context from.
        ploke_graph::for_each_path(parsed, |segs| {
            if let Some(f) = segs.iter().find(|s| !s.is_empty()) {
                n.first.insert(f.clone());
            }
            for s in segs {
                if !s.is_empty() {
                    n.all.insert(s.clone());
                }
            }
        });
        n
    }
}

/// A target's module tree: (file, declared by) with the hash of each file.
pub(crate) type Tree = Vec<(PathBuf, Option<(usize, u32)>, ContentHash)>;

/// What the indexer remembers of one target between refreshes.
#[derive(Debug, Default)]
pub(crate) struct TargetState {
    /// Its module tree as last built: (file, declared by), with each file's hash.
    pub tree: Tree,
    /// Its part of the graph.
    pub part: Graph,
    /// Union of its files' [`FileNames`].
    pub first: FxHashSet<String>,
    pub all: FxHashSet<String>,
}

/// The names whose definition differs between two builds of one target's part: items that
/// appeared or went (a changed path or kind is a new id), and everything an import whose
/// resolution changed may bind.
pub(crate) fn changed_names(old: &Graph, new: &Graph) -> FxHashSet<String> {
    let mut names = FxHashSet::default();
    let old_ids: FxHashSet<NodeId> = old.nodes.iter().map(|n| n.id).collect();
    let new_ids: FxHashSet<NodeId> = new.nodes.iter().map(|n| n.id).collect();
    let mut uses: FxHashSet<NodeId> = FxHashSet::default();
    for n in old.nodes.iter().filter(|n| !new_ids.contains(&n.id)) {
        names.insert(n.name.clone());
        if n.kind == ItemKind::Use {
            uses.insert(n.id);
        }
    }
    for n in new.nodes.iter().filter(|n| !old_ids.contains(&n.id)) {
        names.insert(n.name.clone());
        if n.kind == ItemKind::Use {
            uses.insert(n.id);
        }
    }
    // Imports whose targets changed.
    let imports = |g: &Graph| -> FxHashSet<(NodeId, EdgeKind, NodeId)> {
        g.edges
            .iter()
            .filter(|e| matches!(e.kind, EdgeKind::Imports | EdgeKind::Reexports))
            .map(|e| (e.src, e.kind, e.dst))
            .collect()
    };
    let unresolved_imports = |g: &Graph| -> FxHashSet<(NodeId, String)> {
        g.unresolved
            .iter()
            .filter(|u| matches!(u.kind, EdgeKind::Imports | EdgeKind::Reexports))
            .map(|u| (u.src, u.text.clone()))
            .collect()
    };
    let (oi, ni) = (imports(old), imports(new));
    uses.extend(oi.symmetric_difference(&ni).map(|(src, _, _)| *src));
    let (ou, nu) = (unresolved_imports(old), unresolved_imports(new));
    uses.extend(ou.symmetric_difference(&nu).map(|(src, _)| *src));
    if !uses.is_empty() {
        // What a use item binds is somewhere in its text: take every word of it.
        for n in old
            .nodes
            .iter()
            .chain(&new.nodes)
            .filter(|n| uses.contains(&n.id))
        {
            for w in n
                .signature
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
            {
                names.insert(w.to_string());
            }
            names.insert(n.name.clone());
        }
    }
    names
}

/// For each target, the targets its resolution reads: itself and the libraries named by the
/// first segments of its paths, transitively.
pub(crate) fn contexts(
    first: &[&FxHashSet<String>],
    libs: &FxHashMap<&str, usize>,
) -> Vec<FxHashSet<usize>> {
    let direct: Vec<Vec<usize>> = first
        .iter()
        .map(|f| {
            let mut v: Vec<usize> = f
                .iter()
                .filter_map(|name| libs.get(name.as_str()).copied())
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    (0..first.len())
        .map(|t| {
            let mut seen: FxHashSet<usize> = FxHashSet::default();
            let mut stack = vec![t];
            while let Some(x) = stack.pop() {
                if seen.insert(x) {
                    stack.extend(direct[x].iter().copied());
                }
            }
            seen
        })
        .collect()
}

/// Splits a whole graph into one part per crate (by walking each node up to its crate root)
/// and what belongs to no crate (files and skip records). `roots` are the crate root ids in
/// target order; nodes of crates not listed are dropped.
pub(crate) fn split(graph: &Graph, roots: &[NodeId]) -> (Vec<Graph>, Graph) {
    let index_of: FxHashMap<NodeId, usize> =
        roots.iter().enumerate().map(|(i, r)| (*r, i)).collect();
    let parent: FxHashMap<NodeId, Option<NodeId>> =
        graph.nodes.iter().map(|n| (n.id, n.parent)).collect();
    let mut owner: FxHashMap<NodeId, usize> = FxHashMap::default();
    for n in &graph.nodes {
        let mut cur = n.id;
        let mut chain = Vec::new();
        let found = loop {
            if let Some(&o) = owner.get(&cur) {
                break Some(o);
            }
            if let Some(&o) = index_of.get(&cur) {
                break Some(o);
            }
            chain.push(cur);
            match parent.get(&cur).copied().flatten() {
                Some(p) if chain.len() < 4096 => cur = p,
                _ => break None,
            }
        };
        if let Some(o) = found {
            owner.insert(cur, o);
            for c in chain {
                owner.insert(c, o);
            }
        }
    }
    let mut parts: Vec<Graph> = (0..roots.len()).map(|_| Graph::default()).collect();
    for c in &graph.crates {
        if let Some(&i) = index_of.get(&c.id) {
            parts[i].crates.push(c.clone());
        }
    }
    for n in &graph.nodes {
        if let Some(&i) = owner.get(&n.id) {
            parts[i].nodes.push(n.clone());
        }
    }
    for e in &graph.edges {
        if let Some(&i) = owner.get(&e.src) {
            parts[i].edges.push(e.clone());
        }
    }
    for u in &graph.unresolved {
        if let Some(&i) = owner.get(&u.src) {
            parts[i].unresolved.push(u.clone());
        }
    }
    for p in &mut parts {
        p.canonicalize();
    }
    let rest = Graph {
        files: graph.files.clone(),
        skipped: graph.skipped.clone(),
        ..Graph::default()
    };
    (parts, rest)
}

/// The parse of each file a target's names were computed from, cached by file.
#[derive(Default)]
pub(crate) struct NamesCache {
    files: FxHashMap<PathBuf, (ContentHash, Arc<FileNames>)>,
}

impl NamesCache {
    pub fn get(
        &mut self,
        path: &PathBuf,
        hash: ContentHash,
        parsed: &ParsedFile,
    ) -> Arc<FileNames> {
        match self.files.get(path) {
            Some((h, n)) if *h == hash => n.clone(),
            _ => {
                let n = Arc::new(FileNames::of(parsed));
                self.files.insert(path.clone(), (hash, n.clone()));
                n
            }
        }
    }
}
