//! Other crates' public names, for resolving paths that leave the crates being built.
//!
//! A library built once (a dependency, indexed into a cache) exports its [`Interface`]: every
//! item reachable from its root through public names (modules, types, traits, functions,
//! re-exports, globs), with each module's namespace and each type's and trait's associated
//! items. A crate that depends on it resolves `hyper::client::conn::http1::handshake` by
//! walking these tables from the root that its extern prelude names (`CrateInput::externs`),
//! and its edges end at the dependency's node ids, which are stable: the dependency is never
//! built again for it.
//!
//! A name re-exported from a third crate (`tokio::sync::Mutex` is tokio's own, `futures`'
//! `StreamExt` is `futures_util`'s) is listed with the crate that defines it, so walking into
//! it continues in that crate's interface, when it is among the [`Externs`].

use std::sync::{Arc, OnceLock};

use fxhash::FxHashMap;
use ploke_core::{ItemKind, NodeId};

/// One item an interface names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ExtItem {
    pub id: NodeId,
    pub kind: ItemKind,
    /// The root node id of the crate that defines it.
    pub krate: NodeId,
}

/// What other crates see of a library crate: its public names.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Interface {
    /// Crate name as used in paths.
    pub name: String,
    /// The crate root's node id.
    pub root: NodeId,
    /// Every item a public path leads to; `items[0]` is the root.
    pub items: Vec<ExtItem>,
    /// `(owner, name, item)` as indices into `items`: the owner (a module of this crate, or a
    /// type or trait of it) has `name` for `item`. Members of items that another crate
    /// defines are in that crate's interface.
    pub members: Vec<(u32, String, u32)>,
    #[serde(skip)]
    lookup: OnceLock<Lookup>,
}

#[derive(Debug, Default)]
struct Lookup {
    index: FxHashMap<NodeId, u32>,
    /// Members by owner: (name, item index), sorted by name.
    members: FxHashMap<u32, Vec<(String, u32)>>,
}

impl Clone for Interface {
    fn clone(&self) -> Self {
        Interface {
            name: self.name.clone(),
            root: self.root,
            items: self.items.clone(),
            members: self.members.clone(),
            lookup: OnceLock::new(),
        }
    }
}

impl PartialEq for Interface {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.root == other.root
            && self.items == other.items
            && self.members == other.members
    }
}

impl Interface {
    pub(crate) fn new(name: String, items: Vec<ExtItem>, members: Vec<(u32, String, u32)>) -> Self {
        Interface {
            name,
            root: items.first().map(|i| i.id).unwrap_or(NodeId(0)),
            items,
            members,
            lookup: OnceLock::new(),
        }
    }

    fn lookup(&self) -> &Lookup {
        self.lookup.get_or_init(|| {
            let mut l = Lookup::default();
            for (i, item) in self.items.iter().enumerate() {
                if item.krate == self.root {
                    l.index.entry(item.id).or_insert(i as u32);
                }
            }
            for (owner, name, item) in &self.members {
                l.members
                    .entry(*owner)
                    .or_default()
                    .push((name.clone(), *item));
            }
            for v in l.members.values_mut() {
                v.sort();
            }
            l
        })
    }

    /// The items `owner` (one of this crate's own items) has under `name`.
    fn member(&self, owner: NodeId, name: &str, out: &mut Vec<ExtItem>) {
        let l = self.lookup();
        let Some(o) = l.index.get(&owner) else { return };
        let Some(ms) = l.members.get(o) else { return };
        let start = ms.partition_point(|(n, _)| n.as_str() < name);
        for (n, i) in &ms[start..] {
            if n != name {
                break;
            }
            out.push(self.items[*i as usize]);
        }
    }

    /// Every name of `owner` with what it names.
    fn all_members(&self, owner: NodeId) -> Vec<(String, ExtItem)> {
        let l = self.lookup();
        let Some(o) = l.index.get(&owner) else {
            return Vec::new();
        };
        l.members
            .get(o)
            .map(|ms| {
                ms.iter()
                    .map(|(n, i)| (n.clone(), self.items[*i as usize]))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The root as an item.
    pub fn root_item(&self) -> ExtItem {
        ExtItem {
            id: self.root,
            kind: ItemKind::Crate,
            krate: self.root,
        }
    }

    /// Number of public names.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// The crates a target's code can name but that are not built with it: its extern prelude
/// (the names its manifest gives its dependencies) and the interfaces of those crates and of
/// every crate they re-export from.
#[derive(Debug, Default, Clone)]
pub struct Externs {
    /// Extern name (`hyper_util`, or the rename in `Cargo.toml`) → the crate's root.
    pub prelude: FxHashMap<String, NodeId>,
    /// Interfaces by crate root id.
    pub crates: FxHashMap<NodeId, Arc<Interface>>,
}

impl Externs {
    /// The root a name of the extern prelude stands for.
    pub(crate) fn root(&self, name: &str) -> Option<ExtItem> {
        let root = self.prelude.get(name)?;
        self.crates.get(root).map(|i| i.root_item())
    }

    /// What `item` has under `name` (nothing when its crate is not among these).
    pub(crate) fn member(&self, item: &ExtItem, name: &str, out: &mut Vec<ExtItem>) {
        if let Some(iface) = self.crates.get(&item.krate) {
            iface.member(item.id, name, out);
        }
    }

    /// Every name `item` has (for glob imports).
    pub(crate) fn all_members(&self, item: &ExtItem) -> Vec<(String, ExtItem)> {
        self.crates
            .get(&item.krate)
            .map(|i| i.all_members(item.id))
            .unwrap_or_default()
    }
}
