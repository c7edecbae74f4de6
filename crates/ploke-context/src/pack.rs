//! The pack: its entries and its two renderings (markdown for people and LLMs, JSON via serde).
//!
//! The markdown is what the budget is measured on, so rendering lives here, next to the data,
//! and [`crate::build_pack`] counts tokens of exactly these strings.

use std::fmt::Write as _;

use ploke_core::{ItemKind, NodeId};
use serde::{Deserialize, Serialize};

/// How much of an item an entry shows, and why it is in the pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A ranked item with its full source text (doc comments and attributes included).
    Primary,
    /// A ranked item shown as an outline: its signature, or a container's header and member
    /// signatures, because its full text did not fit.
    Outline,
    /// An item related to a primary (caller, callee, type, trait, implementation), shown as an
    /// outline.
    Neighbour,
}

impl Role {
    /// The role as the markdown and JSON write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Outline => "outline",
            Role::Neighbour => "neighbour",
        }
    }
}

/// One item of a pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackItem {
    /// The node's id (16 hex digits in JSON).
    #[serde(with = "hex_id")]
    pub id: NodeId,
    /// Canonical path: `my_crate::module::Type::method`.
    pub path: String,
    /// Display name: `Type::method`.
    pub name: String,
    /// What the item is (`fn`, `method`, `impl`, …).
    pub kind: ItemKind,
    /// The file, relative to the workspace root (`crates/net/src/lib.rs`).
    pub file: String,
    /// First line of the item (1-based, inclusive).
    pub start_line: u32,
    /// Last line of the item (1-based, inclusive).
    pub end_line: u32,
    /// How much of the item the entry shows.
    pub role: Role,
    /// Why the item is here: `search hit #1 (score 3.20)`, `caller of Point::new`, …
    pub reason: String,
    /// Tokens of this entry as rendered in the markdown (header, reason and code block).
    pub tokens: usize,
    /// The source text ([`Role::Primary`]) or the outline.
    pub text: String,
}

/// A token-budgeted context pack: what [`crate::build_pack`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pack {
    /// The request the ranking answered, as given.
    pub request: String,
    /// The budget in tokens.
    pub budget: usize,
    /// Tokens of [`Pack::to_markdown`], the whole rendered pack; at most `budget`.
    pub tokens: usize,
    /// The entries, most important first.
    pub items: Vec<PackItem>,
    /// Ranked items (among those considered) that appear nowhere in the pack, not even inside
    /// another entry, because the budget ran out.
    pub omitted: usize,
}

/// The most characters of the request the markdown header repeats; the JSON keeps it whole.
const REQUEST_SHOWN_CHARS: usize = 200;

impl Pack {
    /// The pack as markdown: a two-line header (the request; tokens used of the budget, entry
    /// counts by role, ranked items left out), then one section per entry.
    pub fn to_markdown(&self) -> String {
        let mut out = self.header_markdown();
        for item in &self.items {
            item.write_markdown(&mut out);
        }
        out
    }

    /// The header alone (everything before the first entry).
    pub(crate) fn header_markdown(&self) -> String {
        let mut counts = Vec::new();
        for role in [Role::Primary, Role::Outline, Role::Neighbour] {
            let n = self.items.iter().filter(|i| i.role == role).count();
            if n > 0 {
                counts.push(format!("{n} {}", role.as_str()));
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "# Context pack: {}", one_line(&self.request));
        let _ = write!(out, "{}/{} tokens · ", self.tokens, self.budget);
        if counts.is_empty() {
            out.push_str("no items");
        } else {
            out.push_str(&counts.join(", "));
        }
        if self.omitted > 0 {
            let _ = write!(out, " · {} ranked items left out", self.omitted);
        }
        out.push_str("\n\n");
        out
    }
}

impl PackItem {
    /// The entry's markdown section, as [`Pack::to_markdown`] writes it.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        self.write_markdown(&mut out);
        out
    }

    fn write_markdown(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "### {} ({}) — {}:{}-{}",
            self.path, self.kind, self.file, self.start_line, self.end_line
        );
        let _ = writeln!(out, "{}: {}\n", self.role.as_str(), one_line(&self.reason));
        let fence = fence_for(&self.text);
        let _ = writeln!(out, "{fence}rust");
        out.push_str(&self.text);
        if !self.text.ends_with('\n') {
            out.push('\n');
        }
        let _ = writeln!(out, "{fence}\n");
    }
}

/// A backtick fence longer than any run of backticks in `text` (doc comments often hold
/// fenced examples of their own).
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// `text` on one line, shortened to [`REQUEST_SHOWN_CHARS`] characters.
fn one_line(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(REQUEST_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// Node ids as 16 hex digits: a JSON number would lose bits in JavaScript.
mod hex_id {
    use ploke_core::NodeId;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &NodeId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&id.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NodeId, D::Error> {
        let text = String::deserialize(d)?;
        NodeId::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a hex node id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fence_outgrows_backticks_in_text() {
        assert_eq!(fence_for("fn f() {}"), "```");
        assert_eq!(fence_for("/// ```\n/// x\n/// ```"), "````");
        assert_eq!(fence_for("/// `````"), "``````");
    }

    #[test]
    fn request_is_one_shortened_line() {
        assert_eq!(one_line("find\n  the   parser"), "find the parser");
        let long = "é".repeat(REQUEST_SHOWN_CHARS + 5);
        let shown = one_line(&long);
        assert_eq!(shown.chars().count(), REQUEST_SHOWN_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
