//! What an entry shows of a node: its full source text, or an outline built from the
//! signatures the index stores.
//!
//! Full text is the stored file sliced by the node's byte span, so it is exactly what the
//! parser saw (doc comments and attributes included, since the span starts at them), widened
//! to the start of the first line when only indentation precedes the item. An outline
//! is the doc summary plus the signature; a container (struct, enum, union, trait, impl,
//! module, extern block) also lists its members' signatures, one level deep.

use std::collections::HashMap;

use ploke_core::{ItemKind, Node};
use ploke_db::Db;

use crate::ContextError;

/// Members listed in one container outline at most; the rest are counted in a comment.
const MAX_OUTLINE_MEMBERS: usize = 40;

/// Which members a container outline lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Members {
    /// Every member (up to [`MAX_OUTLINE_MEMBERS`]).
    All,
    /// Only members with this name (a trait shown for one of its methods).
    Named(String),
    /// None: the header alone, `impl Trait for Type { … }`.
    None,
}

/// Reads nodes' texts from the index, caching file sources.
pub(crate) struct Views<'db> {
    db: &'db Db,
    /// Workspace path → stored text (`None`: not stored).
    sources: HashMap<String, Option<String>>,
}

impl<'db> Views<'db> {
    pub(crate) fn new(db: &'db Db) -> Result<Views<'db>, ContextError> {
        Ok(Views {
            db,
            sources: HashMap::new(),
        })
    }

    /// The node's exact source text (from the start of its first line when only indentation
    /// precedes it), or `None` when there is no meaningful full text: a crate root, a
    /// `mod name;` declaration (its items live in another file), a file whose text is not
    /// stored, or a span that no longer fits the stored text.
    pub(crate) fn full_text(&mut self, node: &Node) -> Result<Option<String>, ContextError> {
        if node.kind == ItemKind::Crate {
            return Ok(None);
        }
        if !self.sources.contains_key(&node.file) {
            let text = self.db.source(&node.file)?;
            self.sources.insert(node.file.clone(), text);
        }
        let Some(source) = self.sources.get(&node.file).and_then(Option::as_deref) else {
            tracing::debug!(file = %node.file, "no stored source; showing an outline");
            return Ok(None);
        };
        let (start, end) = (node.span.start_byte as usize, node.span.end_byte as usize);
        let (Some(before), Some(_)) = (source.get(..start), source.get(start..end)) else {
            tracing::warn!(path = %node.path, file = %node.file, "span outside the stored source");
            return Ok(None);
        };
        // Start at the beginning of the first line when only indentation precedes the item, so
        // that every line keeps its indentation (as an edit that quotes the text needs).
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let indented = before[line_start..]
            .bytes()
            .all(|b| b == b' ' || b == b'\t');
        let text = &source[if indented { line_start } else { start }..end];
        if node.kind == ItemKind::Module && text.trim_end().ends_with(';') {
            return Ok(None);
        }
        Ok(Some(text.to_string()))
    }

    /// The node's outline: doc summary, derives of a type, and the signature; for a container,
    /// the `members` it asks for.
    pub(crate) fn outline(&self, node: &Node, members: &Members) -> Result<String, ContextError> {
        let mut out = String::new();
        if let Some(summary) = node.docs.lines().map(str::trim).find(|l| !l.is_empty()) {
            out.push_str("/// ");
            out.push_str(summary);
            out.push('\n');
        }
        if matches!(
            node.kind,
            ItemKind::Struct | ItemKind::Enum | ItemKind::Union
        ) {
            for attr in node.attrs.iter().filter(|a| a.starts_with("#[derive")) {
                out.push_str(attr);
                out.push('\n');
            }
        }
        let mut sig = signature(node);
        if node.kind == ItemKind::Module {
            // `mod name;`: its members live in another file, and are listed all the same.
            sig = sig.trim_end_matches(';').trim_end().to_string();
        }
        if !is_container(node.kind) || sig.ends_with(';') {
            out.push_str(&declaration(node.kind, &sig));
            return Ok(out);
        }
        if *members == Members::None {
            out.push_str(&sig);
            out.push_str(" { … }");
            return Ok(out);
        }
        let mut children: Vec<Node> = self
            .db
            .children(node.id)?
            .into_iter()
            .filter(|c| !matches!(c.kind, ItemKind::Use | ItemKind::ExternCrate))
            .collect();
        children.sort_by(|a, b| {
            (&a.file, a.span.start_byte, &a.path).cmp(&(&b.file, b.span.start_byte, &b.path))
        });
        let total = children.len();
        let shown: Vec<&Node> = match members {
            Members::Named(name) => children.iter().filter(|c| &c.name == name).collect(),
            _ => children.iter().take(MAX_OUTLINE_MEMBERS).collect(),
        };
        if total == 0 {
            out.push_str(&sig);
            out.push_str(" {}");
            return Ok(out);
        }
        out.push_str(&sig);
        out.push_str(" {\n");
        for child in &shown {
            let line = member_line(child);
            out.push_str("    ");
            out.push_str(&line.replace('\n', "\n    "));
            out.push('\n');
        }
        let rest = total - shown.len();
        if rest > 0 {
            let noun = if rest == 1 { "item" } else { "items" };
            out.push_str(&format!("    // … {rest} more {noun}\n"));
        }
        out.push('}');
        Ok(out)
    }
}

/// Containers: items whose outline lists members.
pub(crate) fn is_container(kind: ItemKind) -> bool {
    matches!(
        kind,
        ItemKind::Crate
            | ItemKind::Module
            | ItemKind::Struct
            | ItemKind::Enum
            | ItemKind::Union
            | ItemKind::Trait
            | ItemKind::Impl
            | ItemKind::ExternBlock
    )
}

/// The stored signature, or `kind name` when the parser stored none.
fn signature(node: &Node) -> String {
    let sig = node.signature.trim();
    if sig.is_empty() {
        format!("{} {}", node.kind, node.name)
    } else {
        sig.to_string()
    }
}

/// A member of a container outline: its signature as a declaration, without docs.
fn member_line(node: &Node) -> String {
    let sig = signature(node);
    if is_container(node.kind) && !sig.ends_with(';') {
        format!("{sig} {{ … }}")
    } else {
        declaration(node.kind, &sig)
    }
}

/// A signature written as a complete declaration: `fn f();`, `x: i32,`, `macro_rules! m { … }`.
fn declaration(kind: ItemKind, sig: &str) -> String {
    match kind {
        ItemKind::Field | ItemKind::Variant => format!("{sig},"),
        ItemKind::Macro => format!("{sig} {{ … }}"),
        _ if sig.ends_with(';') || sig.ends_with('}') => sig.to_string(),
        _ => format!("{sig};"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_end_once() {
        assert_eq!(declaration(ItemKind::Fn, "fn f()"), "fn f();");
        assert_eq!(
            declaration(ItemKind::Method, "fn name(&self) -> String;"),
            "fn name(&self) -> String;"
        );
        assert_eq!(declaration(ItemKind::Field, "pub x: i32"), "pub x: i32,");
        assert_eq!(
            declaration(ItemKind::Macro, "macro_rules! m"),
            "macro_rules! m { … }"
        );
    }
}
