//! The code graph as ranking sees it: a compact adjacency over the corpus's documents.
//!
//! Edges of the stored graph are mapped onto search documents: an edge that ends at a node
//! which is not a document (a field, a variant) ends at the nearest enclosing document
//! instead (the struct, the enum), and every edge is kept in both directions with the
//! relation it has from each end.

use fxhash::FxHashMap;
use rayon::prelude::*;

use ploke_core::{EdgeKind, Graph, NodeId};

/// How a neighbour relates to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Rel {
    /// The document calls the neighbour.
    Calls = 0,
    /// The neighbour calls the document.
    CalledBy,
    /// The neighbour is a member of the document (an impl's method, a module's item).
    Child,
    /// The neighbour contains the document.
    Parent,
    /// The document names the neighbour's type.
    UsesType,
    /// The neighbour names the document's type.
    UsedBy,
    /// The document (an impl) implements the neighbour (a trait) or is for it (a type).
    ImplOf,
    /// The neighbour is an impl of the document (a trait or a type).
    ImplBy,
}

/// Number of [`Rel`] values.
pub const NUM_RELS: usize = 8;

/// Adjacency lists of the documents, deduplicated per (neighbour, relation).
#[derive(Debug, Default)]
pub struct DocGraph {
    start: Vec<u32>,
    nbr: Vec<u32>,
    rel: Vec<Rel>,
}

impl DocGraph {
    /// Builds the adjacency of documents `docs` (document `i` is node `docs[i]`) from a graph
    /// given as parts (a whole graph is one part).
    pub fn build(parts: &[&Graph], doc_of_node: &FxHashMap<NodeId, u32>) -> DocGraph {
        let n_docs = doc_of_node.len();
        let parent: FxHashMap<NodeId, NodeId> = parts
            .iter()
            .flat_map(|g| &g.nodes)
            .filter_map(|n| n.parent.map(|p| (n.id, p)))
            .collect();
        // A node's document: itself, or its nearest ancestor that is one (at most a few hops).
        let doc = |mut id: NodeId| -> Option<u32> {
            for _ in 0..4 {
                if let Some(&d) = doc_of_node.get(&id) {
                    return Some(d);
                }
                id = *parent.get(&id)?;
            }
            None
        };
        let mut pairs: Vec<(u32, u32, Rel)> = parts
            .par_iter()
            .flat_map_iter(|g| &g.edges)
            .flat_map_iter(|e| {
                let rels = match e.kind {
                    EdgeKind::Calls => Some((Rel::Calls, Rel::CalledBy)),
                    EdgeKind::Contains => Some((Rel::Child, Rel::Parent)),
                    EdgeKind::UsesType => Some((Rel::UsesType, Rel::UsedBy)),
                    EdgeKind::ImplFor | EdgeKind::ImplementsTrait => {
                        Some((Rel::ImplOf, Rel::ImplBy))
                    }
                    EdgeKind::Imports | EdgeKind::Reexports => None,
                };
                let pair = rels.and_then(|(fwd, back)| {
                    let (s, d) = (doc(e.src)?, doc(e.dst)?);
                    (s != d).then_some([(s, d, fwd), (d, s, back)])
                });
                pair.into_iter().flatten()
            })
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        let mut start = vec![0u32; n_docs + 1];
        for &(s, _, _) in &pairs {
            start[s as usize + 1] += 1;
        }
        for i in 0..n_docs {
            start[i + 1] += start[i];
        }
        DocGraph {
            start,
            nbr: pairs.iter().map(|p| p.1).collect(),
            rel: pairs.iter().map(|p| p.2).collect(),
        }
    }

    /// The neighbours of document `d` with their relation to it.
    pub fn neighbours(&self, d: u32) -> impl Iterator<Item = (u32, Rel)> + '_ {
        let (s, e) = match (self.start.get(d as usize), self.start.get(d as usize + 1)) {
            (Some(&s), Some(&e)) => (s as usize, e as usize),
            _ => (0, 0),
        };
        self.nbr[s..e]
            .iter()
            .copied()
            .zip(self.rel[s..e].iter().copied())
    }

    /// Number of neighbours of `d`.
    pub fn degree(&self, d: u32) -> usize {
        match (self.start.get(d as usize), self.start.get(d as usize + 1)) {
            (Some(&s), Some(&e)) => (e - s) as usize,
            _ => 0,
        }
    }

    /// Total number of (directed) adjacency entries.
    pub fn len(&self) -> usize {
        self.nbr.len()
    }

    /// Whether the graph has no edges.
    pub fn is_empty(&self) -> bool {
        self.nbr.is_empty()
    }
}
