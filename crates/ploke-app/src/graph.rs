//! An item's neighbourhood as a small graph a front end can draw: the item in the middle,
//! its callers to the left, its callees to the right, its module and parent above, the
//! traits it implements and its implementations below. Positions are in a unit grid
//! (columns -1, 0, 1; rows from the top), so a GUI scales them to its canvas and a terminal
//! lists them by side.

use ploke_session::{ItemRef, ItemView};

/// How a node relates to the item in the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The item itself.
    Center,
    /// The module that holds it.
    Module,
    /// The impl, trait or type that holds it.
    Parent,
    /// Calls it.
    Caller,
    /// It calls.
    Callee,
    /// An implementation of it (a trait's impls, a type's impls).
    Implementation,
    /// A trait it implements.
    Implements,
}

impl Relation {
    /// The word a view labels the relation with.
    pub fn label(self) -> &'static str {
        match self {
            Relation::Center => "item",
            Relation::Module => "module",
            Relation::Parent => "parent",
            Relation::Caller => "caller",
            Relation::Callee => "callee",
            Relation::Implementation => "implementation",
            Relation::Implements => "implements",
        }
    }
}

/// One node of a neighbourhood.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphNode {
    pub item: ItemRef,
    pub relation: Relation,
    /// The line of the relation (a call site), when there is one.
    pub line: Option<u32>,
    /// Column (-1 left, 0 middle, 1 right) and row (0 at the top), in grid units.
    pub x: f32,
    pub y: f32,
}

/// The drawn neighbourhood of an item: nodes, and edges as (from, to) indices in the
/// direction of the relation (a caller points at the item, the item at a callee).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Neighbourhood {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<(usize, usize)>,
    /// Relations left out because a side had more than the most drawn.
    pub hidden: usize,
}

impl Neighbourhood {
    /// The neighbourhood of `view`, with at most `per_side` nodes in each column (callers,
    /// callees, and implementations below).
    pub fn of(view: &ItemView, per_side: usize) -> Neighbourhood {
        // An item at a crate's root has the crate as module and as parent: drawn once.
        let parent = view
            .parent
            .as_ref()
            .filter(|p| view.module.as_ref().is_none_or(|m| m.id != p.id));
        let mut g = Neighbourhood::default();
        let push = |g: &mut Neighbourhood, item: &ItemRef, relation, line, x, y| {
            g.nodes.push(GraphNode {
                item: item.clone(),
                relation,
                line,
                x,
                y,
            });
            g.nodes.len() - 1
        };
        let above = usize::from(view.module.is_some()).max(usize::from(parent.is_some()));
        let callers = view.callers.len().min(per_side);
        let callees = view.callees.len().min(per_side);
        // The middle row sits level with the middle of the taller side column.
        let side_rows = callers.max(callees).max(1);
        let mid = above as f32 + (side_rows as f32 - 1.0) / 2.0;
        let center = push(&mut g, &view.item, Relation::Center, None, 0.0, mid);
        if let Some(m) = &view.module {
            let x = if parent.is_some() { -0.5 } else { 0.0 };
            let i = push(&mut g, m, Relation::Module, None, x, 0.0);
            g.edges.push((i, center));
        }
        if let Some(p) = parent {
            let x = if view.module.is_some() { 0.5 } else { 0.0 };
            let i = push(&mut g, p, Relation::Parent, None, x, 0.0);
            g.edges.push((i, center));
        }
        let column = |n: usize| -> Vec<f32> {
            // Centred on the middle row.
            let top = mid - (n as f32 - 1.0) / 2.0;
            (0..n).map(|k| top + k as f32).collect()
        };
        for (r, y) in view.callers.iter().zip(column(callers)) {
            let i = push(&mut g, &r.item, Relation::Caller, Some(r.line), -1.0, y);
            g.edges.push((i, center));
        }
        for (r, y) in view.callees.iter().zip(column(callees)) {
            let i = push(&mut g, &r.item, Relation::Callee, Some(r.line), 1.0, y);
            g.edges.push((center, i));
        }
        let below_y = above as f32 + side_rows as f32;
        let below: Vec<(&ItemRef, Relation)> = view
            .implements
            .iter()
            .map(|t| (t, Relation::Implements))
            .chain(
                view.implementations
                    .iter()
                    .map(|t| (t, Relation::Implementation)),
            )
            .take(per_side)
            .collect();
        let n = below.len();
        for (k, (item, rel)) in below.into_iter().enumerate() {
            let x = if n == 1 {
                0.0
            } else {
                -1.0 + 2.0 * k as f32 / (n - 1) as f32
            };
            let i = push(&mut g, item, rel, None, x, below_y);
            match rel {
                Relation::Implements => g.edges.push((center, i)),
                _ => g.edges.push((i, center)),
            }
        }
        g.hidden = view.callers.len() - callers + view.callees.len() - callees
            + (view.implements.len() + view.implementations.len()).saturating_sub(n);
        g
    }

    /// Rows the grid spans.
    pub fn rows(&self) -> f32 {
        self.nodes.iter().map(|n| n.y).fold(0.0, f32::max) + 1.0
    }
}
