//! The packing algorithm: three greedy passes over the ranked items, then an exact measure of
//! the rendered markdown (see the crate docs for the policy).

use std::collections::HashSet;

use ploke_core::{Node, NodeId, Span};
use ploke_db::Db;

use crate::neighbours::neighbours;
use crate::view::{is_container, Members, Views};
use crate::{ContextError, Pack, PackItem, PackOptions, Role, TokenCounter};

/// Tokens kept free beyond the header's size, for the header's counts growing as entries are
/// added; the final measurement drops entries if even this was not enough.
const HEADER_SLACK: usize = 12;

/// Rounds of re-rendering to settle the header's own token count (which it prints).
const MEASURE_ROUNDS: usize = 8;

/// A ranked item that exists in the index.
struct Hit {
    rank: usize,
    score: f32,
    node: Node,
}

impl Hit {
    fn reason(&self) -> String {
        format!("search hit #{} (score {:.2})", self.rank, self.score)
    }
}

/// An entry with what is needed to tell which other items it shows.
struct Placed {
    item: PackItem,
    file: String,
    span: Span,
}

/// See [`crate::build_pack`].
pub(crate) fn build(
    db: &Db,
    request: &str,
    ranked: &[(NodeId, f32)],
    opts: &PackOptions,
    counter: &dyn TokenCounter,
) -> Result<Pack, ContextError> {
    opts.validate()?;
    let hits = resolve_hits(db, ranked, opts.max_primaries)?;
    let mut packer = Packer {
        views: Views::new(db)?,
        counter,
        placed: Vec::new(),
        used: 0,
    };

    // What the header will cost: measured with every number as wide as the budget.
    let header = Pack {
        request: request.to_string(),
        budget: opts.budget,
        tokens: opts.budget,
        items: Vec::new(),
        omitted: hits.len().max(1),
    };
    let header_tokens = counter.count(&header.header_markdown());
    if header_tokens > opts.budget {
        return Err(ContextError::BudgetTooSmall {
            budget: opts.budget,
            needed: header_tokens,
        });
    }
    packer.used = header_tokens + HEADER_SLACK;
    let budget = opts.budget;
    let share_limit = (budget as f64 * f64::from(opts.primary_share)).floor() as usize;

    // 1. Full text of ranked items, in rank order, within the primary share. A container that
    //    does not fit is outlined here, since its outline is its natural summary; anything
    //    else that does not fit waits for pass 3.
    let mut anchors: Vec<&Node> = Vec::new();
    let mut deferred: Vec<&Hit> = Vec::new();
    for hit in &hits {
        if packer.shows(&hit.node) {
            continue;
        }
        if let Some(text) = packer.views.full_text(&hit.node)? {
            if packer.try_place(&hit.node, Role::Primary, hit.reason(), text, share_limit) {
                anchors.push(&hit.node);
                continue;
            }
        }
        if is_container(hit.node.kind) {
            let text = packer.views.outline(&hit.node, &Members::All)?;
            if packer.try_place(&hit.node, Role::Outline, hit.reason(), text, share_limit) {
                anchors.push(&hit.node);
                continue;
            }
        }
        deferred.push(hit);
    }

    // 2. With `tests_per_item`: the tests that reach each primary, nearest first, as text
    // when it fits (before the neighbours: for a change, they say what must keep working).
    if opts.tests_per_item > 0 {
        for anchor in &anchors {
            let me = &anchor.display_name;
            let mut added = 0;
            for (test, depth) in db.tests_of(anchor.id)? {
                if added == opts.tests_per_item {
                    break;
                }
                let Some(node) = db.node(test)? else { continue };
                if packer.shows(&node) {
                    continue;
                }
                let reason = if depth == 1 {
                    format!("test of {me} (calls it)")
                } else {
                    format!("test of {me} (reaches it in {depth} calls)")
                };
                let placed = match packer.views.full_text(&node)? {
                    Some(text) => {
                        packer.try_place(&node, Role::Neighbour, reason.clone(), text, budget)
                    }
                    None => false,
                } || packer.place_outline(
                    &node,
                    Role::Neighbour,
                    &reason,
                    &Members::All,
                    budget,
                )?;
                if placed {
                    added += 1;
                }
            }
        }
    }

    // 3. Outlines of the neighbours of what pass 1 placed, by the rank of their primary.
    for anchor in anchors {
        let mut added = 0;
        for n in neighbours(db, anchor)? {
            if added == opts.max_neighbours_per_item {
                break;
            }
            if !packer.shows(&n.node)
                && packer.place_outline(&n.node, Role::Neighbour, &n.reason, &n.members, budget)?
            {
                added += 1;
            }
        }
    }

    // 4. The remaining ranked items as outlines.
    for hit in deferred {
        if !packer.shows(&hit.node) {
            packer.place_outline(
                &hit.node,
                Role::Outline,
                &hit.reason(),
                &Members::All,
                budget,
            )?;
        }
    }

    // The sum of entries' counts is an estimate (BPE can merge across entry boundaries):
    // measure the real thing and drop the least important entries while it is over.
    loop {
        let pack = packer.measure(request, budget, &hits);
        if pack.tokens <= budget {
            return Ok(pack);
        }
        if packer.placed.pop().is_none() {
            return Err(ContextError::BudgetTooSmall {
                budget,
                needed: pack.tokens,
            });
        }
    }
}

/// The ranked items that exist, deduplicated, at most `max` of them, ranks counted from 1 in
/// the order given.
fn resolve_hits(db: &Db, ranked: &[(NodeId, f32)], max: usize) -> Result<Vec<Hit>, ContextError> {
    let mut seen = HashSet::new();
    let mut hits = Vec::new();
    for (i, &(id, score)) in ranked.iter().enumerate() {
        if hits.len() == max {
            break;
        }
        if !seen.insert(id) {
            continue;
        }
        match db.node(id)? {
            Some(node) => hits.push(Hit {
                rank: i + 1,
                score,
                node,
            }),
            None => tracing::warn!(id = %id, "ranked item is not in the index; left out"),
        }
    }
    Ok(hits)
}

struct Packer<'a> {
    views: Views<'a>,
    counter: &'a dyn TokenCounter,
    placed: Vec<Placed>,
    /// Tokens of the header reserve plus every placed entry.
    used: usize,
}

impl Packer<'_> {
    /// Whether the pack already shows `node`: as an entry, or inside a primary's text.
    fn shows(&self, node: &Node) -> bool {
        self.placed.iter().any(|p| {
            p.item.id == node.id
                || (p.item.role == Role::Primary
                    && p.file == node.file
                    && p.span.contains(&node.span))
        })
    }

    /// Places an entry if the pack stays within `limit` tokens with it. A primary replaces the
    /// entries its text already shows (a method placed before its whole impl).
    fn try_place(
        &mut self,
        node: &Node,
        role: Role,
        reason: String,
        text: String,
        limit: usize,
    ) -> bool {
        let mut item = PackItem {
            id: node.id,
            path: node.path.clone(),
            name: node.display_name.clone(),
            kind: node.kind,
            file: node.file.clone(),
            start_line: node.span.start_line,
            end_line: node.span.end_line,
            role,
            reason,
            tokens: 0,
            text,
        };
        item.tokens = self.counter.count(&item.to_markdown());
        let inside = |p: &Placed| {
            role == Role::Primary && p.file == node.file && node.span.contains(&p.span)
        };
        let freed: usize = self
            .placed
            .iter()
            .filter(|p| inside(p))
            .map(|p| p.item.tokens)
            .sum();
        if self.used - freed + item.tokens > limit {
            return false;
        }
        self.placed.retain(|p| !inside(p));
        self.used = self.used - freed + item.tokens;
        self.placed.push(Placed {
            item,
            file: node.file.clone(),
            span: node.span,
        });
        true
    }

    /// Places `node`'s outline within `limit`, falling back to a container's bare header.
    fn place_outline(
        &mut self,
        node: &Node,
        role: Role,
        reason: &str,
        members: &Members,
        limit: usize,
    ) -> Result<bool, ContextError> {
        let text = self.views.outline(node, members)?;
        if self.try_place(node, role, reason.to_string(), text, limit) {
            return Ok(true);
        }
        if is_container(node.kind) && *members != Members::None {
            let text = self.views.outline(node, &Members::None)?;
            return Ok(self.try_place(node, role, reason.to_string(), text, limit));
        }
        Ok(false)
    }

    /// The pack as placed, with `tokens` the exact count of its markdown.
    fn measure(&self, request: &str, budget: usize, hits: &[Hit]) -> Pack {
        let mut pack = Pack {
            request: request.to_string(),
            budget,
            tokens: 0,
            items: self.placed.iter().map(|p| p.item.clone()).collect(),
            omitted: hits.iter().filter(|h| !self.shows(&h.node)).count(),
        };
        // The header prints the total it is part of: re-count until the number it prints is
        // the number it has (for cl100k this settles in two or three rounds).
        for _ in 0..MEASURE_ROUNDS {
            let tokens = self.counter.count(&pack.to_markdown());
            if tokens == pack.tokens {
                break;
            }
            pack.tokens = tokens.max(pack.tokens);
        }
        pack
    }
}
