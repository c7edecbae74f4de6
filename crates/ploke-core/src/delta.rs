//! The difference between two graphs: what an incremental re-index writes.

use std::collections::{BTreeSet, HashMap};

use crate::{CrateRecord, Edge, FileRecord, Graph, Node, NodeId, Skipped, Unresolved};

/// Rows to put and keys to remove so that a store holding `old` ends up holding `new`.
/// Applying `Graph::diff(&Graph::default(), g)` to an empty store writes `g` whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphDelta {
    pub put_crates: Vec<CrateRecord>,
    pub rm_crates: Vec<NodeId>,
    pub put_files: Vec<FileRecord>,
    pub rm_files: Vec<String>,
    pub put_nodes: Vec<Node>,
    pub rm_nodes: Vec<NodeId>,
    pub put_edges: Vec<Edge>,
    pub rm_edges: Vec<Edge>,
    pub put_unresolved: Vec<Unresolved>,
    pub rm_unresolved: Vec<Unresolved>,
    pub put_skipped: Vec<Skipped>,
    pub rm_skipped: Vec<Skipped>,
}

impl GraphDelta {
    pub fn is_empty(&self) -> bool {
        self.put_crates.is_empty()
            && self.rm_crates.is_empty()
            && self.put_files.is_empty()
            && self.rm_files.is_empty()
            && self.put_nodes.is_empty()
            && self.rm_nodes.is_empty()
            && self.put_edges.is_empty()
            && self.rm_edges.is_empty()
            && self.put_unresolved.is_empty()
            && self.rm_unresolved.is_empty()
            && self.put_skipped.is_empty()
            && self.rm_skipped.is_empty()
    }

    /// Adds the rows of `other`, a delta over rows disjoint from this one's (another part of
    /// the graph).
    pub fn extend(&mut self, other: GraphDelta) {
        self.put_crates.extend(other.put_crates);
        self.rm_crates.extend(other.rm_crates);
        self.put_files.extend(other.put_files);
        self.rm_files.extend(other.rm_files);
        self.put_nodes.extend(other.put_nodes);
        self.rm_nodes.extend(other.rm_nodes);
        self.put_edges.extend(other.put_edges);
        self.rm_edges.extend(other.rm_edges);
        self.put_unresolved.extend(other.put_unresolved);
        self.rm_unresolved.extend(other.rm_unresolved);
        self.put_skipped.extend(other.put_skipped);
        self.rm_skipped.extend(other.rm_skipped);
    }

    /// Number of rows written or removed.
    pub fn len(&self) -> usize {
        self.put_crates.len()
            + self.rm_crates.len()
            + self.put_files.len()
            + self.rm_files.len()
            + self.put_nodes.len()
            + self.rm_nodes.len()
            + self.put_edges.len()
            + self.rm_edges.len()
            + self.put_unresolved.len()
            + self.rm_unresolved.len()
            + self.put_skipped.len()
            + self.rm_skipped.len()
    }
}

fn keyed_diff<T: Clone + PartialEq, K: std::hash::Hash + Eq + Clone>(
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Vec<K>) {
    let old_by: HashMap<K, &T> = old.iter().map(|x| (key(x), x)).collect();
    let new_keys: std::collections::HashSet<K> = new.iter().map(&key).collect();
    let put = new
        .iter()
        .filter(|x| old_by.get(&key(x)).is_none_or(|o| *o != *x))
        .cloned()
        .collect();
    let rm = old_by
        .keys()
        .filter(|k| !new_keys.contains(*k))
        .cloned()
        .collect();
    (put, rm)
}

fn set_diff<T: Ord + Clone>(old: &[T], new: &[T]) -> (Vec<T>, Vec<T>) {
    let o: BTreeSet<&T> = old.iter().collect();
    let n: BTreeSet<&T> = new.iter().collect();
    (
        n.difference(&o).map(|x| (*x).clone()).collect(),
        o.difference(&n).map(|x| (*x).clone()).collect(),
    )
}

impl Graph {
    /// What to write so that a store holding `old` holds `new`.
    pub fn diff(old: &Graph, new: &Graph) -> GraphDelta {
        let (put_crates, rm_crates) = keyed_diff(&old.crates, &new.crates, |c| c.id);
        let (put_files, rm_files) = keyed_diff(&old.files, &new.files, |f| f.path.clone());
        let (put_nodes, rm_nodes) = keyed_diff(&old.nodes, &new.nodes, |n| n.id);
        // Edges and unresolved references are whole-row keys: a changed line is a remove + put
        // of rows that differ, which the store handles as key updates.
        let (put_edges, rm_edges) = set_diff(&old.edges, &new.edges);
        let (put_unresolved, rm_unresolved) = set_diff(&old.unresolved, &new.unresolved);
        let (put_skipped, rm_skipped) = set_diff(&old.skipped, &new.skipped);
        GraphDelta {
            put_crates,
            rm_crates,
            put_files,
            rm_files,
            put_nodes,
            rm_nodes,
            put_edges,
            rm_edges,
            put_unresolved,
            rm_unresolved,
            put_skipped,
            rm_skipped,
        }
    }
}
