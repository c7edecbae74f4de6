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

    /// How central each document is: PageRank over the references between documents (calls,
    /// type uses and impls, from the referrer to what it names; containment is not a
    /// reference), scaled so that the most central document has 1 and one of average rank
    /// about `ln 2 / ln(1 + max/mean)`: `ln(1 + rank/mean) / ln(1 + max/mean)`.
    pub fn centrality(&self) -> Vec<f32> {
        const DAMPING: f32 = 0.85;
        const ROUNDS: usize = 30;
        let n = self.start.len().saturating_sub(1);
        if n == 0 {
            return Vec::new();
        }
        let refers = |r: Rel| matches!(r, Rel::Calls | Rel::UsesType | Rel::ImplOf);
        let out: Vec<u32> = (0..n as u32)
            .map(|d| self.neighbours(d).filter(|&(_, r)| refers(r)).count() as u32)
            .collect();
        let mut rank = vec![1.0 / n as f32; n];
        let mut next = vec![0.0f32; n];
        for _ in 0..ROUNDS {
            // Rank of documents that name nothing is spread over all of them.
            let dangling: f32 = (0..n).filter(|&d| out[d] == 0).map(|d| rank[d]).sum();
            let base = (1.0 - DAMPING) / n as f32 + DAMPING * dangling / n as f32;
            next.iter_mut().for_each(|x| *x = base);
            for d in 0..n {
                if out[d] == 0 {
                    continue;
                }
                let share = DAMPING * rank[d] / out[d] as f32;
                for (nb, r) in self.neighbours(d as u32) {
                    if refers(r) {
                        next[nb as usize] += share;
                    }
                }
            }
            std::mem::swap(&mut rank, &mut next);
        }
        let mean = 1.0 / n as f32;
        let max = rank.iter().copied().fold(0.0f32, f32::max);
        let top = (1.0 + max / mean).ln().max(1e-6);
        rank.iter().map(|&r| (1.0 + r / mean).ln() / top).collect()
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
