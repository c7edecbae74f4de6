//! The graph in the shape the analyses walk: nodes by dense index, edges out and in, with
//! the two relations the stored edges leave implicit: a trait method and the methods of the
//! impls that implement it (dispatch), and a field or variant and the type that holds it.

use fxhash::FxHashMap;
use ploke_core::{EdgeKind, ItemKind, Node, NodeId};

/// How one item depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// It calls it.
    Calls,
    /// It names the type in its signature, fields or body.
    UsesType,
    /// It is an impl of the trait.
    Implements,
    /// It is an impl for the type.
    ImplFor,
    /// It re-exports it (`pub use`).
    Reexports,
    /// It is an implementation of the trait method (a change of the trait's method changes
    /// what it must be); or, from an impl's method, the trait method whose callers reach it
    /// through dispatch.
    Dispatch,
    /// It is the type that holds the field or variant.
    Holds,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Calls => "calls",
            Via::UsesType => "uses type",
            Via::Implements => "implements",
            Via::ImplFor => "impl for",
            Via::Reexports => "re-exports",
            Via::Dispatch => "dispatch",
            Via::Holds => "holds",
        }
    }

    fn of(kind: EdgeKind) -> Option<Via> {
        Some(match kind {
            EdgeKind::Calls => Via::Calls,
            EdgeKind::UsesType => Via::UsesType,
            EdgeKind::ImplementsTrait => Via::Implements,
            EdgeKind::ImplFor => Via::ImplFor,
            EdgeKind::Reexports => Via::Reexports,
            // A `use` depends on what it imports, but the code that uses the name has its own
            // edge to the item; containment is not a dependency.
            EdgeKind::Imports | EdgeKind::Contains => return None,
        })
    }
}

/// The graph, indexed.
pub struct CodeGraph<'a> {
    pub nodes: &'a [Node],
    pos: FxHashMap<NodeId, u32>,
    /// Dependents: for each node, the nodes that depend on it and how.
    pub(crate) dependents: Vec<Vec<(u32, Via)>>,
    /// Dependencies: for each node, the nodes it depends on and how.
    pub(crate) depends_on: Vec<Vec<(u32, Via)>>,
    /// The nearest module or crate root holding each node (itself for one).
    pub(crate) module: Vec<Option<u32>>,
    /// Children by containment.
    pub(crate) children: Vec<Vec<u32>>,
}

impl<'a> CodeGraph<'a> {
    /// Indexes `nodes` and `edges` (edges whose ends are not among the nodes, such as those
    /// into dependencies, are left out).
    pub fn new(nodes: &'a [Node], edges: &[ploke_core::Edge]) -> CodeGraph<'a> {
        let n = nodes.len();
        let pos: FxHashMap<NodeId, u32> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i as u32))
            .collect();
        let mut dependents = vec![Vec::new(); n];
        let mut depends_on = vec![Vec::new(); n];
        let mut children = vec![Vec::new(); n];
        fn add(
            dependents: &mut [Vec<(u32, Via)>],
            depends_on: &mut [Vec<(u32, Via)>],
            src: u32,
            dst: u32,
            via: Via,
        ) {
            if src != dst {
                dependents[dst as usize].push((src, via));
                depends_on[src as usize].push((dst, via));
            }
        }
        for e in edges {
            let (Some(&s), Some(&d)) = (pos.get(&e.src), pos.get(&e.dst)) else {
                continue;
            };
            if let Some(via) = Via::of(e.kind) {
                add(&mut dependents, &mut depends_on, s, d, via);
            }
        }
        for (i, node) in nodes.iter().enumerate() {
            if let Some(&p) = node.parent.and_then(|p| pos.get(&p)) {
                children[p as usize].push(i as u32);
                // A field or variant is part of its type.
                if matches!(node.kind, ItemKind::Field | ItemKind::Variant) {
                    add(&mut dependents, &mut depends_on, p, i as u32, Via::Holds);
                }
            }
        }
        // Trait methods and the impl methods that implement them, by name.
        for (t, trait_node) in nodes.iter().enumerate() {
            if trait_node.kind != ItemKind::Trait {
                continue;
            }
            let members: FxHashMap<&str, u32> = children[t]
                .iter()
                .map(|&c| (nodes[c as usize].name.as_str(), c))
                .collect();
            if members.is_empty() {
                continue;
            }
            let impls: Vec<u32> = dependents[t]
                .iter()
                .filter(|(_, v)| *v == Via::Implements)
                .map(|(i, _)| *i)
                .collect();
            for imp in impls {
                for &m in &children[imp as usize] {
                    if let Some(&decl) = members.get(nodes[m as usize].name.as_str()) {
                        // The impl's method must follow the declaration ...
                        add(&mut dependents, &mut depends_on, m, decl, Via::Dispatch);
                        // ... and a call of the declaration may run it.
                        add(&mut dependents, &mut depends_on, decl, m, Via::Dispatch);
                    }
                }
            }
        }
        for list in dependents.iter_mut().chain(depends_on.iter_mut()) {
            list.sort_unstable();
            list.dedup();
        }
        let module: Vec<Option<u32>> = (0..n as u32)
            .map(|i| {
                let mut at = Some(i);
                while let Some(c) = at {
                    let node = &nodes[c as usize];
                    if matches!(node.kind, ItemKind::Module | ItemKind::Crate) {
                        return Some(c);
                    }
                    at = node.parent.and_then(|p| pos.get(&p).copied());
                }
                None
            })
            .collect();
        CodeGraph {
            nodes,
            pos,
            dependents,
            depends_on,
            module,
            children,
        }
    }

    /// The index of `id`.
    pub fn index_of(&self, id: NodeId) -> Option<u32> {
        self.pos.get(&id).copied()
    }

    pub fn node(&self, i: u32) -> &'a Node {
        &self.nodes[i as usize]
    }

    /// The items that depend on `i` and how.
    pub fn dependents_of(&self, i: u32) -> &[(u32, Via)] {
        &self.dependents[i as usize]
    }

    /// The items `i` depends on and how.
    pub fn dependencies_of(&self, i: u32) -> &[(u32, Via)] {
        &self.depends_on[i as usize]
    }

    /// The module (or crate root) that holds `i`.
    pub fn module_of(&self, i: u32) -> Option<u32> {
        self.module[i as usize]
    }
}

/// Whether `n` is a test function: `#[test]` or a test framework's attribute on a function
/// (`#[tokio::test]`, `#[wasm_bindgen_test]`, a crate's own `#[maybe_tokio_test]`,
/// `#[rstest]`, `#[test_case(…)]`, `#[cfg_attr(…, test)]`, …).
pub fn is_test_fn(n: &Node) -> bool {
    matches!(n.kind, ItemKind::Fn | ItemKind::Method)
        && n.attrs.iter().any(|a| {
            let body = a.trim_start_matches("#[").trim_end_matches(']');
            let name = body.split(['(', ' ', '=']).next().unwrap_or("");
            name.ends_with("test")
                || matches!(name, "rstest" | "test_case" | "quickcheck" | "proptest")
                || (name == "cfg_attr" && (body.contains(", test") || body.contains("::test")))
        })
}
