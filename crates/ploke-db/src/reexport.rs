//! Public re-export paths: `indexmap::IndexMap` for the struct defined at
//! `indexmap::map::IndexMap` and brought into the crate root by `pub use crate::map::IndexMap;`.
//!
//! The graph stores every `use` item as a node (kind `use`, `name` = the use tree as written,
//! e.g. `crate::map::{IndexMap, Entry as E}`) contained in its module, with `reexports` edges
//! from a non-private `use` to what it brings in (already resolved through chains of imports
//! where the resolver could; the module or enum itself for a glob). A path that names no node
//! is resolved here the way rustc reads it, one segment at a time:
//!
//! * `prefix::name`: `prefix` is resolved the same way (its own canonical path first, else
//!   through re-exports), and `name` looked up in each container it names;
//! * in a container `C`, `name` is first the item with canonical path `C::name` (for a module,
//!   one that is not private: a private item is not reachable from outside its module);
//! * else, for a module or crate root, the items its `use` children re-export under `name`
//!   (plainly or `as name`); explicit re-exports shadow globs as in Rust;
//! * else the items found under `name` in each module or enum re-exported by a glob
//!   (`pub use self::inner::*`), recursively.
//!
//! Every step is a point query (a path lookup, or one join from a module over its `contains`
//! edges to its `use` children and over their `reexports` edges); recursion is bounded by
//! [`MAX_DEPTH`] and memoised, which also cuts cycles of glob re-exports.

use std::collections::{BTreeMap, HashMap};

use cozo::DataValue;
use ploke_core::{EdgeKind, ItemKind, Node, NodeId, Visibility};

use crate::{codec, params, Db, DbError};

/// How deep re-export resolution recurses (segments of the path plus glob hops).
pub(crate) const MAX_DEPTH: usize = 8;

/// How [`Db::find_items_how`] found the items it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// The target is the items' canonical path.
    Path,
    /// The target is a public path through `pub use` re-exports (or globs) of the items,
    /// which are returned as their definitions: their canonical path differs from the target.
    Reexport,
    /// The target is the items' name or display name (also the answer when nothing matched:
    /// the name lookup was the last one tried).
    Name,
}

/// One `reexports` edge of a `use` child of a module: the use item and what it brings in.
struct Reexport {
    use_id: NodeId,
    use_text: String,
    dst: NodeId,
    dst_kind: ItemKind,
    dst_name: String,
}

/// One entry of a use tree: `a::b::c as d` is path `[a, b, c]`, alias `d`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UseEntry {
    pub(crate) path: Vec<String>,
    pub(crate) alias: Option<String>,
    pub(crate) glob: bool,
}

impl UseEntry {
    /// The name the entry binds in its module (`None` for a glob or `as _`), and the name of
    /// the item it brings in (the last segment; for `a::b::{self}` the one before `self`).
    fn binding(&self) -> Option<(&str, &str)> {
        if self.glob {
            return None;
        }
        let mut segs = self.path.iter().map(String::as_str);
        let last = segs.next_back()?;
        let original = if last == "self" {
            segs.next_back().unwrap_or(last)
        } else {
            last
        };
        match self.alias.as_deref() {
            Some("_") => None,
            Some(alias) => Some((alias, original)),
            None => Some((original, original)),
        }
    }
}

/// Parses the text of a use tree as the parser writes it (`a::b::{self, c as d, e::*}`,
/// optionally with a leading `::`) into its entries. Malformed text yields what parsed.
pub(crate) fn parse_use_tree(text: &str) -> Vec<UseEntry> {
    let tokens = tokenize(text);
    let mut out = Vec::new();
    let mut pos = 0;
    let mut prefix = Vec::new();
    if tokens.first() == Some(&"::") {
        prefix.push(String::new());
        pos = 1;
    }
    tree(&tokens, &mut pos, &mut prefix, &mut out, 0);
    out
}

fn tokenize(text: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c.is_whitespace() {
            rest = &rest[c.len_utf8()..];
        } else if rest.starts_with("::") {
            tokens.push("::");
            rest = &rest[2..];
        } else if matches!(c, '{' | '}' | ',' | '*') {
            tokens.push(&rest[..1]);
            rest = &rest[1..];
        } else {
            let end = rest
                .find(|ch: char| ch.is_whitespace() || matches!(ch, '{' | '}' | ',' | '*' | ':'))
                .unwrap_or(rest.len());
            // A lone `:` (not `::`) is not part of any use tree: skip it.
            let end = end.max(c.len_utf8());
            tokens.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    tokens
}

fn tree(
    tokens: &[&str],
    pos: &mut usize,
    prefix: &mut Vec<String>,
    out: &mut Vec<UseEntry>,
    nesting: usize,
) {
    // Deeper nesting than any real use tree: stop rather than recurse without bound.
    if nesting > 64 {
        *pos = tokens.len();
        return;
    }
    let Some(&tok) = tokens.get(*pos) else { return };
    match tok {
        "{" => {
            *pos += 1;
            while let Some(&t) = tokens.get(*pos) {
                match t {
                    "}" => {
                        *pos += 1;
                        return;
                    }
                    "," => *pos += 1,
                    _ => {
                        let before = *pos;
                        tree(tokens, pos, prefix, out, nesting + 1);
                        if *pos == before {
                            *pos += 1;
                        }
                    }
                }
            }
        }
        "*" => {
            *pos += 1;
            out.push(UseEntry {
                path: prefix.clone(),
                alias: None,
                glob: true,
            });
        }
        "}" | "," | "::" => {}
        ident => {
            *pos += 1;
            match tokens.get(*pos) {
                Some(&"::") => {
                    *pos += 1;
                    prefix.push(ident.to_string());
                    tree(tokens, pos, prefix, out, nesting + 1);
                    prefix.pop();
                }
                Some(&"as") => {
                    *pos += 1;
                    let alias = tokens.get(*pos).map(|a| a.to_string());
                    if alias.is_some() {
                        *pos += 1;
                    }
                    let mut path = prefix.clone();
                    path.push(ident.to_string());
                    out.push(UseEntry {
                        path,
                        alias,
                        glob: false,
                    });
                }
                _ => {
                    let mut path = prefix.clone();
                    path.push(ident.to_string());
                    out.push(UseEntry {
                        path,
                        alias: None,
                        glob: false,
                    });
                }
            }
        }
    }
}

/// A path keyword that names a module without naming it (`crate`, `self`, `super`, or the
/// empty first segment of `::a`).
fn is_path_keyword(seg: &str) -> bool {
    matches!(seg, "" | "crate" | "self" | "super" | "$crate")
}

fn is_module(kind: ItemKind) -> bool {
    matches!(kind, ItemKind::Module | ItemKind::Crate)
}

/// One resolution of one target: memoised lookups against one [`Db`].
struct Resolver<'a> {
    db: &'a Db,
    /// Resolved paths; `None` while one is being resolved (a cycle resolves to nothing).
    paths: HashMap<String, Option<Vec<Node>>>,
    /// Lookups of a name in a container, likewise.
    members: HashMap<(NodeId, String), Option<Vec<Node>>>,
}

impl<'a> Resolver<'a> {
    fn new(db: &'a Db) -> Self {
        Resolver {
            db,
            paths: HashMap::new(),
            members: HashMap::new(),
        }
    }

    /// The items `path` names: those with that canonical path, else those it reaches through
    /// re-exports. Never `use` nodes.
    fn path(&mut self, path: &str, depth: usize) -> Result<Vec<Node>, DbError> {
        if let Some(done) = self.paths.get(path) {
            return Ok(done.clone().unwrap_or_default());
        }
        self.paths.insert(path.to_string(), None);
        let mut found = self.db.nodes_by_path(path)?;
        found.retain(|n| n.kind != ItemKind::Use);
        if found.is_empty() {
            found = self.reexported(path, depth)?;
        }
        self.paths.insert(path.to_string(), Some(found.clone()));
        Ok(found)
    }

    /// The items `path` reaches through re-exports (not by its own canonical path).
    fn reexported(&mut self, path: &str, depth: usize) -> Result<Vec<Node>, DbError> {
        if depth >= MAX_DEPTH {
            return Ok(Vec::new());
        }
        let Some((prefix, name)) = path.rsplit_once("::") else {
            return Ok(Vec::new());
        };
        if prefix.is_empty() || name.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for container in self.path(prefix, depth + 1)? {
            out.extend(self.member(&container, name, depth + 1)?);
        }
        Ok(dedup(out))
    }

    /// The items `name` names inside `container`: its own item of that name, else (in a
    /// module) what its `use` children re-export as `name`, else what its glob re-exports
    /// bring in under `name`.
    fn member(&mut self, container: &Node, name: &str, depth: usize) -> Result<Vec<Node>, DbError> {
        let key = (container.id, name.to_string());
        if let Some(done) = self.members.get(&key) {
            return Ok(done.clone().unwrap_or_default());
        }
        self.members.insert(key.clone(), None);
        let found = self.member_uncached(container, name, depth)?;
        self.members.insert(key, Some(found.clone()));
        Ok(found)
    }

    fn member_uncached(
        &mut self,
        container: &Node,
        name: &str,
        depth: usize,
    ) -> Result<Vec<Node>, DbError> {
        let in_module = is_module(container.kind);
        let mut own = self
            .db
            .nodes_by_path(&format!("{}::{}", container.path, name))?;
        own.retain(|n| {
            n.kind != ItemKind::Use && !(in_module && n.visibility == Visibility::Private)
        });
        if !own.is_empty() || !in_module {
            return Ok(own);
        }

        // Group the re-exports by their use item, in a stable order.
        let mut by_use: BTreeMap<NodeId, (String, Vec<Reexport>)> = BTreeMap::new();
        for r in self.db.reexports_in(container.id)? {
            by_use
                .entry(r.use_id)
                .or_insert_with(|| (r.use_text.clone(), Vec::new()))
                .1
                .push(r);
        }

        let mut explicit: Vec<NodeId> = Vec::new();
        // Modules and enums whose items globs bring in.
        let mut globbed: Vec<NodeId> = Vec::new();
        for (text, dsts) in by_use.values() {
            let entries = parse_use_tree(text);
            let bindings: Vec<(&str, &str)> =
                entries.iter().filter_map(UseEntry::binding).collect();
            let plain_entries = entries.iter().filter(|e| !e.glob).count();
            // What the entries that bind `name` bring in.
            for &(_, original) in bindings.iter().filter(|(b, _)| *b == name) {
                let mut hits: Vec<NodeId> = dsts
                    .iter()
                    .filter(|d| {
                        if is_path_keyword(original) {
                            is_module(d.dst_kind)
                        } else {
                            d.dst_name == original
                        }
                    })
                    .map(|d| d.dst)
                    .collect();
                // A single-entry use whose one import is named otherwise (a crate root
                // re-exported `as` something): what it brings in is what it binds.
                if hits.is_empty() && entries.len() == 1 && plain_entries == 1 {
                    hits = dsts.iter().map(|d| d.dst).collect();
                }
                explicit.extend(hits);
            }
            // Globs: the module or enum each names (by its last segment when that is a name;
            // else any module or enum the use brings in that no plain entry names).
            for glob in entries.iter().filter(|e| e.glob) {
                let last = glob.path.last().map(String::as_str).unwrap_or("");
                for d in dsts {
                    let container_kind = is_module(d.dst_kind) || d.dst_kind == ItemKind::Enum;
                    let named = if is_path_keyword(last) {
                        !bindings.iter().any(|(_, o)| *o == d.dst_name)
                    } else {
                        d.dst_name == last
                    };
                    if container_kind && named && !globbed.contains(&d.dst) {
                        globbed.push(d.dst);
                    }
                }
            }
        }

        if !explicit.is_empty() {
            let mut out = Vec::new();
            for id in explicit {
                if let Some(n) = self.db.node(id)? {
                    if n.kind != ItemKind::Use {
                        out.push(n);
                    }
                }
            }
            return Ok(dedup(out));
        }
        if depth >= MAX_DEPTH {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for id in globbed {
            if let Some(inner) = self.db.node(id)? {
                out.extend(self.member(&inner, name, depth + 1)?);
            }
        }
        Ok(dedup(out))
    }
}

/// `nodes` without repeated ids, ordered by path then id.
fn dedup(mut nodes: Vec<Node>) -> Vec<Node> {
    crate::sort_nodes(&mut nodes);
    nodes.dedup_by_key(|n| n.id);
    nodes
}

impl Db {
    /// The definitions that `path` names through public re-exports when no node has that
    /// canonical path: `indexmap::IndexMap` → the struct `indexmap::map::IndexMap` re-exported
    /// by `pub use crate::map::IndexMap;` in the crate root. Follows plain and renamed (`as`)
    /// re-exports, globs of modules and enums, and modules that are themselves reached through
    /// re-exports (`futures::stream::StreamExt`), to a bounded depth. Only non-private `use`
    /// items count (their `reexports` edges); `use` nodes are never returned.
    ///
    /// Empty when `path` has no `::`, or names nothing this way. A path that is itself a
    /// canonical path returns its nodes. Ordered by path then id.
    pub fn resolve_reexport(&self, path: &str) -> Result<Vec<Node>, DbError> {
        if !path.contains("::") {
            return Ok(Vec::new());
        }
        Resolver::new(self).path(path, 0)
    }

    /// The items a person means by `target`, and how they were found: nodes with that
    /// canonical path ([`Found::Path`]); else, for a path, the definitions it names through
    /// `pub use` re-exports ([`Found::Reexport`], see [`Db::resolve_reexport`]); else nodes
    /// with that name or display name ([`Found::Name`], also when nothing matched; only the
    /// workspace's when it has some, see [`Node::is_dependency`]). `use` items are left out;
    /// the workspace's items before a dependency's, non-test code first, then by path and id.
    pub fn find_items_how(&self, target: &str) -> Result<(Vec<Node>, Found), DbError> {
        let not_use = |mut v: Vec<Node>| {
            v.retain(|n| n.kind != ItemKind::Use);
            v
        };
        let mut found = not_use(self.nodes_by_path(target)?);
        let mut how = Found::Path;
        if found.is_empty() && target.contains("::") {
            found = not_use(self.resolve_reexport(target)?);
            how = Found::Reexport;
        }
        if found.is_empty() {
            found = not_use(self.nodes_by_name(target)?);
            how = Found::Name;
            // A name means the workspace's items when it has some: an attached dependency's
            // items of that name are found by their paths.
            if found.iter().any(|n| !n.is_dependency()) {
                found.retain(|n| !n.is_dependency());
            }
        }
        found.sort_by(|a, b| {
            (a.is_dependency(), a.is_test, &a.path, a.id).cmp(&(
                b.is_dependency(),
                b.is_test,
                &b.path,
                b.id,
            ))
        });
        Ok((found, how))
    }

    /// The `reexports` edges of the `use` items that module `id` contains, with what each
    /// edge leads to.
    fn reexports_in(&self, id: NodeId) -> Result<Vec<Reexport>, DbError> {
        let p = params([
            ("me", codec::id(id)),
            ("contains", EdgeKind::Contains.as_str().into()),
            ("reexports", EdgeKind::Reexports.as_str().into()),
            ("use_kind", ItemKind::Use.as_str().into()),
        ]);
        if self.dependencies()?.is_none() {
            let rows = self.query(
                "reading re-exports",
                "?[u, text, dst, dst_kind, dst_name] := \
                     *edges{src: $me, kind: $contains, dst: u}, \
                     *nodes{id: u, kind: u_kind, name: text}, u_kind == $use_kind, \
                     *edges{src: u, kind: $reexports, dst}, \
                     *nodes{id: dst, kind: dst_kind, name: dst_name}",
                p,
            )?;
            return rows.iter().map(|r| decode_reexport(r)).collect();
        }
        // The use item is stored with its module; what it re-exports may be in the other
        // store (a workspace's `pub use hyper::Client`).
        let rows = self.query_all(
            "reading re-exports",
            "?[u, text, dst] := \
                 *edges{src: $me, kind: $contains, dst: u}, \
                 *nodes{id: u, kind: u_kind, name: text}, u_kind == $use_kind, \
                 *edges{src: u, kind: $reexports, dst}",
            p,
        )?;
        let mut out = Vec::with_capacity(rows.len());
        let dsts: Vec<NodeId> = rows
            .iter()
            .map(|r| codec::node_id_at(r, 2))
            .collect::<Result<_, _>>()?;
        let nodes: HashMap<NodeId, Node> = self
            .nodes_by_ids(&dsts)?
            .into_iter()
            .map(|n| (n.id, n))
            .collect();
        for (r, dst) in rows.iter().zip(dsts) {
            let use_id = codec::node_id_at(r, 0)?;
            let text = r
                .get(1)
                .and_then(DataValue::get_str)
                .ok_or_else(|| DbError::Corrupt(format!("bad re-export row: {r:?}")))?;
            if let Some(n) = nodes.get(&dst) {
                out.push(Reexport {
                    use_id,
                    use_text: text.to_string(),
                    dst: n.id,
                    dst_kind: n.kind,
                    dst_name: n.name.clone(),
                });
            }
        }
        Ok(out)
    }
}

fn decode_reexport(row: &[DataValue]) -> Result<Reexport, DbError> {
    let bad = || DbError::Corrupt(format!("bad re-export row: {row:?}"));
    let int = |i: usize| match row.get(i) {
        Some(DataValue::Num(cozo::Num::Int(v))) => Ok(NodeId::from_i64(*v)),
        _ => Err(bad()),
    };
    let text = |i: usize| {
        row.get(i)
            .and_then(DataValue::get_str)
            .map(str::to_owned)
            .ok_or_else(bad)
    };
    Ok(Reexport {
        use_id: int(0)?,
        use_text: text(1)?,
        dst: int(2)?,
        dst_kind: text(3)?.parse().map_err(|e: String| DbError::Corrupt(e))?,
        dst_name: text(4)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &[&str], alias: Option<&str>, glob: bool) -> UseEntry {
        UseEntry {
            path: path.iter().map(|s| s.to_string()).collect(),
            alias: alias.map(str::to_string),
            glob,
        }
    }

    #[test]
    fn parses_use_trees() {
        assert_eq!(
            parse_use_tree("crate::map::IndexMap"),
            vec![e(&["crate", "map", "IndexMap"], None, false)]
        );
        assert_eq!(
            parse_use_tree("a::b::{self, c as d, e::*}"),
            vec![
                e(&["a", "b", "self"], None, false),
                e(&["a", "b", "c"], Some("d"), false),
                e(&["a", "b", "e"], None, true),
            ]
        );
        assert_eq!(
            parse_use_tree("::std::fmt::{Debug, Display as D}"),
            vec![
                e(&["", "std", "fmt", "Debug"], None, false),
                e(&["", "std", "fmt", "Display"], Some("D"), false),
            ]
        );
        assert_eq!(
            parse_use_tree("self::inner::*"),
            vec![e(&["self", "inner"], None, true)]
        );
        assert_eq!(parse_use_tree("*"), vec![e(&[], None, true)]);
        assert_eq!(
            parse_use_tree("x::{a::{b, c}, d}"),
            vec![
                e(&["x", "a", "b"], None, false),
                e(&["x", "a", "c"], None, false),
                e(&["x", "d"], None, false),
            ]
        );
        // Malformed text parses as far as it goes, without panicking.
        parse_use_tree("a::{b, c");
        parse_use_tree("}}::,as");
        parse_use_tree("a : b");
        parse_use_tree("");
    }

    #[test]
    fn bindings() {
        assert_eq!(e(&["a", "B"], None, false).binding(), Some(("B", "B")));
        assert_eq!(e(&["a", "B"], Some("C"), false).binding(), Some(("C", "B")));
        assert_eq!(
            e(&["a", "m", "self"], None, false).binding(),
            Some(("m", "m"))
        );
        assert_eq!(e(&["a", "T"], Some("_"), false).binding(), None);
        assert_eq!(e(&["a"], None, true).binding(), None);
    }
}
