//! The neighbours of a primary item: what a reader needs beside its text to use or change it.
//!
//! - a function or method: its callees (in the order of the calls) interleaved with its callers
//!   (non-test callers first), so that a cap keeps some of each;
//! - a method: first the type its impl is for and, for a trait impl, the trait (showing the
//!   trait's declaration of that method); a trait's own method: the trait;
//! - an impl: its self type and its trait;
//! - a trait: the headers of its implementations, numbered (`2 of 5`);
//! - a struct, enum or union: its impls with their member signatures.

use std::collections::HashSet;

use ploke_core::{EdgeKind, ItemKind, Node, NodeId};
use ploke_db::Db;

use crate::view::Members;
use crate::ContextError;

/// One related item and why it is related.
#[derive(Debug, Clone)]
pub(crate) struct Neighbour {
    pub node: Node,
    /// `caller of Point::new`, `type of method Point::new`, …
    pub reason: String,
    /// What its outline lists.
    pub members: Members,
}

/// The neighbours of `anchor`, most useful first, without duplicates or `anchor` itself.
pub(crate) fn neighbours(db: &Db, anchor: &Node) -> Result<Vec<Neighbour>, ContextError> {
    let me = &anchor.display_name;
    let mut out = Vec::new();
    let mut add = |node: Node, reason: String, members: Members| {
        out.push(Neighbour {
            node,
            reason,
            members,
        })
    };
    match anchor.kind {
        ItemKind::Method => {
            let parent = match anchor.parent {
                Some(id) => db.node(id)?,
                None => None,
            };
            match parent {
                Some(imp) if imp.kind == ItemKind::Impl => {
                    if let Some(ty) = impl_end(db, imp.id, EdgeKind::ImplFor)? {
                        add(ty, format!("type of method {me}"), Members::All);
                    }
                    if let Some(tr) = impl_end(db, imp.id, EdgeKind::ImplementsTrait)? {
                        let only = Members::Named(anchor.name.clone());
                        add(tr, format!("trait implemented by {me}"), only);
                    }
                }
                Some(tr) if tr.kind == ItemKind::Trait => {
                    add(tr, format!("trait of method {me}"), Members::All);
                }
                _ => {}
            }
        }
        ItemKind::Impl => {
            if let Some(ty) = impl_end(db, anchor.id, EdgeKind::ImplFor)? {
                add(ty, format!("type of {me}"), Members::All);
            }
            if let Some(tr) = impl_end(db, anchor.id, EdgeKind::ImplementsTrait)? {
                add(tr, format!("trait implemented by {me}"), Members::None);
            }
        }
        ItemKind::Trait => {
            let impls = db.implementations(anchor.id)?;
            let total = impls.len();
            for (i, imp) in impls.into_iter().enumerate() {
                let reason = format!("implementation of {me} ({} of {total})", i + 1);
                add(imp, reason, Members::None);
            }
        }
        ItemKind::Struct | ItemKind::Enum | ItemKind::Union => {
            for edge in db.edges_to(anchor.id, EdgeKind::ImplFor)? {
                if let Some(imp) = db.node(edge.src)? {
                    add(imp, format!("impl of {me}"), Members::All);
                }
            }
        }
        _ => {}
    }
    if matches!(anchor.kind, ItemKind::Fn | ItemKind::Method) {
        let mut callees = db.callees(anchor.id)?;
        callees.sort_by_key(|(n, line)| (*line, n.span.start_byte));
        let mut callers = db.callers(anchor.id)?;
        // Stable: callers stay ordered by path within each group.
        callers.sort_by_key(|(n, _)| n.is_test);
        let mut callees = callees.into_iter().map(|(n, _)| n);
        let mut callers = callers.into_iter().map(|(n, _)| n);
        loop {
            let (callee, caller) = (callees.next(), callers.next());
            if callee.is_none() && caller.is_none() {
                break;
            }
            if let Some(n) = callee {
                add(n, format!("callee of {me}"), Members::All);
            }
            if let Some(n) = caller {
                add(n, format!("caller of {me}"), Members::All);
            }
        }
    }
    let mut seen: HashSet<NodeId> = HashSet::from([anchor.id]);
    out.retain(|n| seen.insert(n.node.id));
    Ok(out)
}

/// The node at the other end of an impl's `ImplFor` (self type) or `ImplementsTrait` edge.
fn impl_end(db: &Db, imp: NodeId, kind: EdgeKind) -> Result<Option<Node>, ContextError> {
    match db.edges_from(imp, kind)?.first() {
        Some(edge) => Ok(db.node(edge.dst)?),
        None => Ok(None),
    }
}
