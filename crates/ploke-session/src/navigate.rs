//! Navigation for editors: symbols by fuzzy name, the item at a position, the items of a
//! file. All answered from the search snapshot in memory (no database query), so they are
//! cheap enough for every keystroke of a symbol search. The workspace's items by default; a
//! dependency's (its files are absolute paths) from the retriever of the scope that holds them,
//! built on first use.

use std::sync::Arc;

use ploke_core::{is_dependency_path, ItemKind, Node};
use ploke_retrieve::{Retriever, Scope};

use crate::results::{ItemRef, ItemView};
use crate::{Session, SessionError};

/// How well a name matches a symbol query; lower is better.
fn name_rank(name: &str, query: &str, lower_query: &str) -> Option<u8> {
    if name == query {
        return Some(0);
    }
    let lower = name.to_lowercase();
    if lower == lower_query {
        return Some(1);
    }
    if lower.starts_with(lower_query) {
        return Some(2);
    }
    if let Some(at) = lower.find(lower_query) {
        // At a word boundary (`retry_delay` for `delay`, `RetryDelay` for `delay`).
        let b = name.as_bytes();
        let boundary = at > 0
            && (b[at - 1] == b'_'
                || b[at - 1] == b':'
                || (b[at].is_ascii_uppercase() && b[at - 1].is_ascii_lowercase()));
        return Some(if boundary { 3 } else { 4 });
    }
    // Every character of the query, in order.
    let mut chars = lower.chars();
    lower_query
        .chars()
        .all(|q| chars.any(|c| c == q))
        .then_some(5)
}

impl Session {
    /// Workspace items whose name fuzzily matches `query` (exact, then prefix, word,
    /// substring, subsequence; library code before tests, short names first), at most
    /// `limit`. For an editor's workspace symbol search.
    pub fn symbols(&self, query: &str, limit: usize) -> Result<Vec<ItemRef>, SessionError> {
        self.symbols_in(query, limit, &Scope::Workspace)
    }

    /// [`Session::symbols`] among the items of `scope` (the workspace's items before a
    /// dependency's of the same rank).
    pub fn symbols_in(
        &self,
        query: &str,
        limit: usize,
        scope: &Scope,
    ) -> Result<Vec<ItemRef>, SessionError> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(Vec::new());
        }
        let snap = self.snapshot()?;
        let scoped = self.scoped(&snap, scope)?;
        let corpus = &scoped.as_deref().unwrap_or(&snap.retriever).corpus;
        let lower = query.to_lowercase();
        let mut ranked: Vec<(u8, bool, bool, bool, usize, &str, usize)> = corpus
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| !matches!(n.kind, ItemKind::Crate | ItemKind::Use))
            .filter_map(|(i, n)| {
                let rank = [n.name.as_str(), n.display_name.as_str()]
                    .iter()
                    .filter_map(|name| name_rank(name, query, &lower))
                    .min()?;
                Some((
                    rank,
                    n.is_dependency(),
                    n.is_test,
                    corpus.aux[i],
                    n.name.len(),
                    n.path.as_str(),
                    i,
                ))
            })
            .collect();
        ranked.sort_unstable();
        Ok(ranked
            .into_iter()
            .take(limit)
            .map(|(.., i)| ItemRef::in_corpus(&corpus.nodes[i], corpus))
            .collect())
    }

    /// The retriever whose corpus holds the items of `file`: the snapshot's for a workspace
    /// file, the one of every item for a dependency's (an absolute path).
    fn holding(
        &self,
        file: &str,
    ) -> Result<(Arc<crate::Snapshot>, Option<Arc<Retriever>>), SessionError> {
        let snap = self.snapshot()?;
        let scoped = if is_dependency_path(file) {
            self.scoped(&snap, &Scope::All)?
        } else {
            None
        };
        Ok((snap, scoped))
    }

    /// The innermost item of `file` (workspace-relative, or a dependency's absolute path)
    /// whose lines hold `line` (1-based), with its source and relations; `None` outside every
    /// item. A dependency's item is read-only: its view says so ([`ItemRef::dependency`]).
    pub fn item_at(&self, file: &str, line: u32) -> Result<Option<ItemView>, SessionError> {
        let (snap, scoped) = self.holding(file)?;
        let innermost = scoped
            .as_deref()
            .unwrap_or(&snap.retriever)
            .corpus
            .nodes
            .iter()
            .filter(|n| n.file == file && n.kind != ItemKind::Crate && n.kind != ItemKind::Use)
            .filter(|n| n.span.start_line <= line && line <= n.span.end_line)
            .min_by_key(|n| (n.span.end_line - n.span.start_line, n.span.start_line));
        match innermost {
            Some(n) => self.view(n).map(Some),
            None => Ok(None),
        }
    }

    /// The items of `file` (workspace-relative, or a dependency's absolute path) in the order
    /// they start, modules and `use` items left out.
    pub fn items_in(&self, file: &str) -> Result<Vec<ItemRef>, SessionError> {
        let (snap, scoped) = self.holding(file)?;
        let corpus = &scoped.as_deref().unwrap_or(&snap.retriever).corpus;
        let mut nodes: Vec<&Node> = corpus
            .nodes
            .iter()
            .filter(|n| n.file == file)
            .filter(|n| !matches!(n.kind, ItemKind::Crate | ItemKind::Use | ItemKind::Module))
            .collect();
        nodes.sort_by_key(|n| (n.span.start_line, n.span.end_line));
        Ok(nodes
            .iter()
            .map(|n| ItemRef::in_corpus(n, corpus))
            .collect())
    }

    /// The item with the id `id` (16 hex digits, as [`ItemRef::id`]) with its source and
    /// relations; an item that is not a search document (a dependency's, when the relations of
    /// a workspace item lead there) is read from the index.
    pub fn item_by_id(&self, id: &str) -> Result<Option<ItemView>, SessionError> {
        let Some(id) = ploke_core::NodeId::from_hex(id) else {
            return Ok(None);
        };
        let snap = self.snapshot()?;
        let found = snap.retriever.corpus.nodes.iter().find(|n| n.id == id);
        match found {
            Some(n) => self.view(n).map(Some),
            None => match self.db.node(id)? {
                Some(n) => self.view(&n).map(Some),
                None => Ok(None),
            },
        }
    }

    fn view(&self, n: &Node) -> Result<ItemView, SessionError> {
        let (v, _) = self
            .db
            .read_consistent(|db| -> Result<_, ploke_db::DbError> { self.view_of(db, n) })?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::name_rank;

    #[test]
    fn names_rank_exact_prefix_word_substring_subsequence() {
        let r = |name: &str, q: &str| name_rank(name, q, &q.to_lowercase());
        assert_eq!(r("retry_delay", "retry_delay"), Some(0));
        assert_eq!(r("RetryDelay", "retrydelay"), Some(1));
        assert_eq!(r("retry_delay", "retry"), Some(2));
        assert_eq!(r("retry_delay", "delay"), Some(3));
        assert_eq!(r("RetryDelay", "delay"), Some(3));
        assert_eq!(r("redelay", "delay"), Some(4));
        assert_eq!(r("retry_delay", "rtdl"), Some(5));
        assert_eq!(r("retry_delay", "xyz"), None);
    }
}

/// A crate or module of the workspace with its submodules: the tree a crate browser shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleEntry {
    /// The crate root or module.
    #[serde(flatten)]
    pub item: ItemRef,
    /// Items defined directly in it (modules and `use` items left out; an impl's members
    /// count with the impl's module).
    pub items: usize,
    /// Items in it and all its submodules.
    pub total: usize,
    /// Its submodules, by name.
    pub children: Vec<ModuleEntry>,
}

impl Session {
    /// The workspace's crates (binaries, tests and examples included), each with its module
    /// tree and the number of items in every module, crates and modules sorted by name.
    pub fn outline(&self) -> Result<Vec<ModuleEntry>, SessionError> {
        use std::collections::HashMap;
        let snap = self.snapshot()?;
        let corpus = &snap.retriever.corpus;
        let mut nodes: HashMap<ploke_core::NodeId, &Node> = corpus
            .nodes
            .iter()
            .filter(|n| !n.is_dependency())
            .map(|n| (n.id, n))
            .collect();
        // Crate roots are no search documents: read them from the index.
        let missing: Vec<ploke_core::NodeId> = {
            let mut m: Vec<_> = nodes
                .values()
                .filter_map(|n| n.parent)
                .filter(|p| !nodes.contains_key(p))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        let roots_read = self.db.nodes_by_ids(&missing)?;
        nodes.extend(roots_read.iter().map(|n| (n.id, n)));
        let is_module = |n: &Node| matches!(n.kind, ItemKind::Crate | ItemKind::Module);
        // The nearest module or crate root holding `n` (itself for one).
        let module_of = |n: &Node| -> Option<ploke_core::NodeId> {
            let mut at = n.parent;
            while let Some(id) = at {
                let p = nodes.get(&id)?;
                if is_module(p) {
                    return Some(id);
                }
                at = p.parent;
            }
            None
        };
        let mut direct: HashMap<ploke_core::NodeId, usize> = HashMap::new();
        let mut children: HashMap<ploke_core::NodeId, Vec<&Node>> = HashMap::new();
        let mut roots = Vec::new();
        for n in nodes.values() {
            if is_module(n) {
                match module_of(n) {
                    Some(m) if n.kind == ItemKind::Module => children.entry(m).or_default().push(n),
                    _ => roots.push(*n),
                }
            } else if n.kind != ItemKind::Use {
                if let Some(m) = module_of(n) {
                    *direct.entry(m).or_default() += 1;
                }
            }
        }
        fn build(
            n: &Node,
            corpus: &ploke_retrieve::Corpus,
            direct: &HashMap<ploke_core::NodeId, usize>,
            children: &HashMap<ploke_core::NodeId, Vec<&Node>>,
        ) -> ModuleEntry {
            let mut kids: Vec<ModuleEntry> = children
                .get(&n.id)
                .into_iter()
                .flatten()
                .map(|c| build(c, corpus, direct, children))
                .collect();
            kids.sort_by(|a, b| {
                a.item
                    .name
                    .cmp(&b.item.name)
                    .then(a.item.id.cmp(&b.item.id))
            });
            let items = direct.get(&n.id).copied().unwrap_or(0);
            ModuleEntry {
                item: ItemRef::in_corpus(n, corpus),
                items,
                total: items + kids.iter().map(|k| k.total).sum::<usize>(),
                children: kids,
            }
        }
        let mut out: Vec<ModuleEntry> = roots
            .iter()
            .map(|n| build(n, corpus, &direct, &children))
            .collect();
        out.sort_by(|a, b| {
            (a.item.test, &a.item.crate_name, &a.item.file).cmp(&(
                b.item.test,
                &b.item.crate_name,
                &b.item.file,
            ))
        });
        Ok(out)
    }
}
