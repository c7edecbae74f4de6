//! What a person or a model asks about one item, answered in one place: its source, its
//! module and parent, its callers and callees, its implementations, the trait it implements.
//! The CLI, the session's front ends and the tools a model calls all read items through
//! these, so that "the implementations of a type" means one thing everywhere.

use ploke_core::{EdgeKind, ItemKind, Node, Unresolved};

use crate::{Db, DbError};

/// An item's relations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Relations {
    /// The nearest enclosing module or crate root.
    pub module: Option<Node>,
    /// The item that contains it (a module, impl, trait or type).
    pub parent: Option<Node>,
    /// Items that call it, with the line of the call (in the caller's file).
    pub callers: Vec<(Node, u32)>,
    /// Items it calls, with the line of the call (in its own file).
    pub callees: Vec<(Node, u32)>,
    /// For a trait: its impl blocks; for a type: the impl blocks for it.
    pub implementations: Vec<Node>,
    /// For an impl block: the trait it implements.
    pub implements: Vec<Node>,
    /// Calls it makes that could not be resolved to an indexed item.
    pub unresolved_calls: Vec<Unresolved>,
}

/// An item's source text, exactly its span.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemSource {
    /// The whitespace before the item on its first line (so that a method prints with the
    /// same indentation on every line).
    pub indent: String,
    /// The text of its span (doc comments and attributes included).
    pub text: String,
}

impl Db {
    /// Everything [`Relations`] lists for `n`.
    pub fn relations(&self, n: &Node) -> Result<Relations, DbError> {
        let parent = match n.parent {
            Some(p) => self.node(p)?,
            None => None,
        };
        let mut module = parent.clone();
        while let Some(m) = &module {
            if matches!(m.kind, ItemKind::Module | ItemKind::Crate) {
                break;
            }
            module = match m.parent {
                Some(p) => self.node(p)?,
                None => None,
            };
        }
        let mut implements = Vec::new();
        if n.kind == ItemKind::Impl {
            for e in self.edges_from(n.id, EdgeKind::ImplementsTrait)? {
                if let Some(t) = self.node(e.dst)? {
                    implements.push(t);
                }
            }
        }
        let unresolved_calls = self
            .unresolved_from(n.id)?
            .into_iter()
            .filter(|u| u.kind == EdgeKind::Calls)
            .collect();
        Ok(Relations {
            module,
            parent,
            callers: self.callers(n.id)?,
            callees: self.callees(n.id)?,
            implementations: self.implementations_of(n)?,
            implements,
            unresolved_calls,
        })
    }

    /// The impl blocks of a trait, or the impl blocks for a type; nothing for other kinds.
    pub fn implementations_of(&self, n: &Node) -> Result<Vec<Node>, DbError> {
        match n.kind {
            ItemKind::Trait => self.implementations(n.id),
            k if k.is_type_like() => {
                let mut out = Vec::new();
                for e in self.edges_to(n.id, EdgeKind::ImplFor)? {
                    if let Some(i) = self.node(e.src)? {
                        out.push(i);
                    }
                }
                out.sort_by(|a, b| (&a.path, a.id).cmp(&(&b.path, b.id)));
                Ok(out)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// The source of `n` (a dependency's read from disk, see [`Db::source`]); `None` when its
    /// file has no stored text or the span does not fit it (the index is out of date).
    pub fn item_source(&self, n: &Node) -> Result<Option<ItemSource>, DbError> {
        let Some(text) = self.source(&n.file)? else {
            return Ok(None);
        };
        Ok(source_in(&text, n))
    }

    /// Lines `start..=end` (1-based) of an indexed file ([`Db::source`]), each with its number; `end` past the
    /// file's end is cut. `None` when the file has no stored text; empty when `start` is past
    /// its end.
    pub fn file_lines(
        &self,
        path: &str,
        start: usize,
        end: usize,
    ) -> Result<Option<Vec<(usize, String)>>, DbError> {
        let Some(text) = self.source(path)? else {
            return Ok(None);
        };
        Ok(Some(
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l))
                .skip(start.max(1) - 1)
                .take_while(|(i, _)| *i <= end)
                .map(|(i, l)| (i, l.to_string()))
                .collect(),
        ))
    }
}

/// The source of `n` inside its file's `text`.
pub fn source_in(text: &str, n: &Node) -> Option<ItemSource> {
    let (s, e) = (n.span.start_byte as usize, n.span.end_byte as usize);
    let src = text.get(s..e)?;
    let line_start = text[..s].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..s];
    let indent = if before.chars().all(|c| c == ' ' || c == '\t') {
        before
    } else {
        ""
    };
    Some(ItemSource {
        indent: indent.to_string(),
        text: src.to_string(),
    })
}
