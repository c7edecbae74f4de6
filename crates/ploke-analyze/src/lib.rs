//! Static analyses of a workspace's code graph, the ones that make a change safer and a
//! context better: what a change reaches ([`impact`]), which tests exercise which items
//! ([`test_map`]), items nothing uses ([`dead_code`]), how modules depend on each other and
//! where they form cycles ([`modules`]), what each library crate offers its users
//! ([`api_surface`], [`api_diff`]), and per-function metrics ([`metrics`]).
//!
//! Pure: nodes and edges in, plain data out (the index stores it, the session answers
//! from it). The walks over all tests and the metrics of all functions run on rayon.

mod graph;
pub mod metrics;

use std::collections::VecDeque;

use fxhash::{FxHashMap, FxHashSet};
use ploke_core::{ItemKind, Node, NodeId, Visibility};
use rayon::prelude::*;
use serde::Serialize;

pub use graph::{is_test_fn, CodeGraph, Via};
pub use metrics::FnMetrics;

/// An item a change reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Impacted {
    pub id: NodeId,
    /// Steps from the changed items (1: depends on one directly).
    pub depth: u32,
    /// How it depends on `from`.
    pub via: Via,
    /// The item it depends on, one step closer to the change.
    pub from: NodeId,
}

/// The items that transitively depend on `roots` (callers, implementors, users of a type,
/// re-exports; the implementations of a changed trait method and, through dispatch, the
/// callers of the trait method an impl's method implements), at most `depth` steps away,
/// nearest first. The roots themselves are left out.
pub fn impact(g: &CodeGraph<'_>, roots: &[NodeId], depth: u32) -> Vec<Impacted> {
    let mut seen: FxHashSet<u32> = FxHashSet::default();
    let mut queue = VecDeque::new();
    for r in roots {
        if let Some(i) = g.index_of(*r) {
            if seen.insert(i) {
                queue.push_back((i, 0u32));
            }
        }
    }
    let mut out = Vec::new();
    while let Some((i, d)) = queue.pop_front() {
        if d >= depth {
            continue;
        }
        for &(dep, via) in g.dependents_of(i) {
            if seen.insert(dep) {
                out.push(Impacted {
                    id: g.node(dep).id,
                    depth: d + 1,
                    via,
                    from: g.node(i).id,
                });
                queue.push_back((dep, d + 1));
            }
        }
    }
    out
}

/// A test function that exercises an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TestReach {
    /// The item (never itself a test function).
    pub item: NodeId,
    pub test: NodeId,
    /// Calls from the test to the item (1: the test calls it).
    pub depth: u32,
}

/// How deep a test's calls are followed.
pub const TEST_DEPTH: u32 = 12;

/// For every test function, the items it reaches through calls (and dispatch from a trait
/// method to its implementations), at most [`TEST_DEPTH`] calls deep: which tests exercise
/// which items. Sorted by item, then test.
pub fn test_map(g: &CodeGraph<'_>) -> Vec<TestReach> {
    let tests: Vec<u32> = (0..g.nodes.len() as u32)
        .filter(|&i| is_test_fn(g.node(i)))
        .collect();
    let mut out: Vec<TestReach> = tests
        .par_iter()
        .flat_map_iter(|&t| reach_of_test(g, t))
        .collect();
    out.sort_unstable();
    out
}

/// The test map's rows of the tests `tests` only (for an update that affects only them).
pub fn test_map_of(g: &CodeGraph<'_>, tests: &[NodeId]) -> Vec<TestReach> {
    let idx: Vec<u32> = tests
        .iter()
        .filter_map(|t| g.index_of(*t))
        .filter(|&i| is_test_fn(g.node(i)))
        .collect();
    let mut out: Vec<TestReach> = idx
        .par_iter()
        .flat_map_iter(|&t| reach_of_test(g, t))
        .collect();
    out.sort_unstable();
    out
}

/// The test functions whose reach a change of `changed` can alter: those that reach any of
/// them now (walking dependents through calls), and those among them.
pub fn tests_reaching(g: &CodeGraph<'_>, changed: &[NodeId]) -> Vec<NodeId> {
    let mut seen: FxHashSet<u32> = FxHashSet::default();
    let mut queue: VecDeque<(u32, u32)> = changed
        .iter()
        .filter_map(|c| g.index_of(*c))
        .filter(|&i| seen.insert(i))
        .map(|i| (i, 0))
        .collect();
    let mut tests = Vec::new();
    while let Some((i, d)) = queue.pop_front() {
        if is_test_fn(g.node(i)) {
            tests.push(g.node(i).id);
        }
        if d >= TEST_DEPTH {
            continue;
        }
        for &(dep, via) in g.dependents_of(i) {
            if matches!(via, Via::Calls | Via::Dispatch) && seen.insert(dep) {
                queue.push_back((dep, d + 1));
            }
        }
    }
    tests.sort_unstable();
    tests
}

fn reach_of_test(g: &CodeGraph<'_>, t: u32) -> Vec<TestReach> {
    let test = g.node(t).id;
    let mut seen: FxHashSet<u32> = FxHashSet::default();
    seen.insert(t);
    let mut queue = VecDeque::from([(t, 0u32)]);
    let mut out = Vec::new();
    while let Some((i, d)) = queue.pop_front() {
        if d >= TEST_DEPTH {
            continue;
        }
        for &(next, via) in g.dependencies_of(i) {
            if !matches!(via, Via::Calls | Via::Dispatch) || !seen.insert(next) {
                continue;
            }
            let n = g.node(next);
            if is_test_fn(n) {
                continue;
            }
            out.push(TestReach {
                item: n.id,
                test,
                depth: d + 1,
            });
            queue.push_back((next, d + 1));
        }
    }
    out
}

/// An item that nothing in the workspace uses and no user outside it can reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dead {
    pub id: NodeId,
    /// Why it is only a candidate (`no references`, `only used by itself`…).
    pub reason: String,
}

/// Dead code candidates: functions, methods, types, traits, consts, statics and macros
/// with no reference from anywhere else in the workspace, that are not public API of a
/// library (reachable from its root through `pub` items and `pub use` re-exports), and not
/// an entry point: `main` of a binary, tests, benches, `#[no_mangle]`/`#[export_name]`
/// and `extern` functions, proc macros, the members of trait impls (the trait is their
/// user) and of public traits.
pub fn dead_code(g: &CodeGraph<'_>) -> Vec<Dead> {
    let api = public_items(g);
    let mut out: Vec<Dead> = (0..g.nodes.len() as u32)
        .into_par_iter()
        .filter_map(|i| {
            let n = g.node(i);
            if !dead_candidate_kind(n.kind) || api.contains(&i) || is_entry(g, i) {
                return None;
            }
            // Uses from elsewhere: not itself, not its own members, not its inherent impls.
            let impls_of_it: FxHashSet<u32> = g
                .dependents_of(i)
                .iter()
                .filter(|&&(_, via)| via == Via::ImplFor)
                .map(|&(d, _)| d)
                .collect();
            let not_a_use = |d: u32, via: Via| {
                matches!(via, Via::Holds | Via::ImplFor)
                    || impls_of_it.contains(&d)
                    || is_inside(g, d, i)
                    || (via == Via::Dispatch && is_trait_member(g, i))
            };
            let used = g
                .dependents_of(i)
                .iter()
                .any(|&(d, via)| !not_a_use(d, via));
            if used {
                return None;
            }
            // A type is used when one of its impls' or its members' items is.
            if matches!(n.kind, ItemKind::Struct | ItemKind::Enum | ItemKind::Union) {
                let via_impl = g.dependents_of(i).iter().any(|&(imp, via)| {
                    via == Via::ImplFor
                        && g.node(imp).kind == ItemKind::Impl
                        && implements_trait(g, imp)
                });
                if via_impl {
                    return None;
                }
            }
            let reason = if g.dependents_of(i).is_empty() {
                "no references in the workspace"
            } else {
                "referenced only from inside itself"
            };
            Some(Dead {
                id: n.id,
                reason: reason.to_string(),
            })
        })
        .collect();
    out.sort_by_key(|d| d.id);
    out
}

fn dead_candidate_kind(k: ItemKind) -> bool {
    matches!(
        k,
        ItemKind::Fn
            | ItemKind::Method
            | ItemKind::Struct
            | ItemKind::Enum
            | ItemKind::Union
            | ItemKind::Trait
            | ItemKind::TypeAlias
            | ItemKind::Const
            | ItemKind::Static
            | ItemKind::Macro
    )
}

/// Whether `inner` is `outer` or inside it.
fn is_inside(g: &CodeGraph<'_>, inner: u32, outer: u32) -> bool {
    let mut at = Some(inner);
    while let Some(c) = at {
        if c == outer {
            return true;
        }
        at = g.node(c).parent.and_then(|p| g.index_of(p));
    }
    false
}

fn parent_of(g: &CodeGraph<'_>, i: u32) -> Option<u32> {
    g.node(i).parent.and_then(|p| g.index_of(p))
}

fn is_trait_member(g: &CodeGraph<'_>, i: u32) -> bool {
    parent_of(g, i).is_some_and(|p| g.node(p).kind == ItemKind::Trait)
}

fn implements_trait(g: &CodeGraph<'_>, imp: u32) -> bool {
    g.dependencies_of(imp)
        .iter()
        .any(|&(_, via)| via == Via::Implements)
        || g.node(imp).name.starts_with("impl ") && g.node(imp).name.contains(" for ")
}

/// Entry points and items used from outside the graph.
fn is_entry(g: &CodeGraph<'_>, i: u32) -> bool {
    let n = g.node(i);
    if n.is_test || is_test_fn(n) {
        return true;
    }
    let attr = |want: &str| n.attrs.iter().any(|a| a.contains(want));
    if attr("no_mangle")
        || attr("export_name")
        || attr("proc_macro")
        || attr("bench")
        || attr("used")
        || attr("panic_handler")
        || n.signature.contains("extern \"")
    {
        return true;
    }
    if n.kind == ItemKind::Fn && n.name == "main" && n.module.is_empty() {
        return true;
    }
    if let Some(p) = parent_of(g, i) {
        let parent = g.node(p);
        // Members of trait impls are called through the trait; a trait's own methods are
        // what its impls implement.
        if parent.kind == ItemKind::Impl && implements_trait(g, p) {
            return true;
        }
        if parent.kind == ItemKind::Trait {
            return true;
        }
    }
    false
}

/// The nodes reachable from a library crate's root through public items: public all the
/// way from the root (modules, types, their public members, trait members), and the targets
/// of `pub use` items in such modules.
fn public_items(g: &CodeGraph<'_>) -> FxHashSet<u32> {
    let mut out = FxHashSet::default();
    let mut queue: VecDeque<u32> = (0..g.nodes.len() as u32)
        .filter(|&i| g.node(i).kind == ItemKind::Crate && is_library_root(g.node(i)))
        .collect();
    out.extend(queue.iter().copied());
    while let Some(i) = queue.pop_front() {
        let parent = g.node(i);
        for &c in &g.children[i as usize] {
            let n = g.node(c);
            let visible = match parent.kind {
                // Trait members are as public as the trait; variants and impl members of
                // trait impls too.
                ItemKind::Trait | ItemKind::Enum => true,
                ItemKind::Impl => n.visibility == Visibility::Public || implements_trait(g, i),
                _ => n.visibility == Visibility::Public,
            };
            // An impl is public when its self type is (it sits in any module).
            let visible = visible || n.kind == ItemKind::Impl;
            if visible && out.insert(c) {
                queue.push_back(c);
            }
        }
        // What public `use` items re-export.
        if matches!(parent.kind, ItemKind::Module | ItemKind::Crate) {
            for &c in &g.children[i as usize] {
                let n = g.node(c);
                if n.kind == ItemKind::Use && n.visibility == Visibility::Public {
                    for &(t, via) in g.dependencies_of(c) {
                        if via == Via::Reexports && out.insert(t) {
                            queue.push_back(t);
                        }
                    }
                }
            }
        }
    }
    // Impls of types that are not public are not API.
    out.retain(|&i| {
        let n = g.node(i);
        n.kind != ItemKind::Impl
            || g.dependencies_of(i)
                .iter()
                .any(|&(t, via)| via == Via::ImplFor && out_contains_type(g, t))
    });
    out
}

/// Whether a type is reachable publicly, checked by its own visibility chain (used to
/// prune impls after the walk).
fn out_contains_type(g: &CodeGraph<'_>, t: u32) -> bool {
    let mut at = Some(t);
    while let Some(c) = at {
        let n = g.node(c);
        if n.kind == ItemKind::Crate {
            return is_library_root(n);
        }
        if n.visibility != Visibility::Public {
            return false;
        }
        at = parent_of(g, c);
    }
    false
}

fn is_library_root(n: &Node) -> bool {
    // Binaries, tests, examples and benches are roots too, but export nothing; their crate
    // root file says which they are.
    !(n.is_test
        || n.file.contains("/bin/")
        || n.file.ends_with("main.rs")
        || n.file.starts_with("tests/")
        || n.file.starts_with("examples/")
        || n.file.starts_with("benches/")
        || n.file.contains("/tests/")
        || n.file.contains("/examples/")
        || n.file.contains("/benches/")
        || n.file == "build.rs"
        || n.file.ends_with("/build.rs"))
}

/// One item of a crate's public API.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ApiItem {
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// The path users name it by (its canonical path, or where a `pub use` puts it).
    pub path: String,
    pub kind: String,
    /// Its declaration without the body; a change here is a change of the API.
    pub signature: String,
    pub id: NodeId,
}

/// The public API of every library crate of the graph: each item reachable from its root
/// through public items and re-exports, with its signature. Sorted by crate and path.
pub fn api_surface(g: &CodeGraph<'_>) -> Vec<ApiItem> {
    let public = public_items(g);
    let mut out: Vec<ApiItem> = public
        .iter()
        .map(|&i| g.node(i))
        .filter(|n| !matches!(n.kind, ItemKind::Use | ItemKind::Crate | ItemKind::Impl))
        .map(|n| ApiItem {
            crate_name: n.crate_name.clone(),
            path: n.path.clone(),
            kind: n.kind.as_str().to_string(),
            signature: normalize(&n.signature),
            id: n.id,
        })
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.crate_name == b.crate_name && a.path == b.path && a.kind == b.kind);
    out
}

/// Whitespace-insensitive signature text.
fn normalize(sig: &str) -> String {
    sig.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What changed between two API surfaces: what a semver check would flag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiDiff {
    /// Items the old surface has and the new one lacks (breaking).
    pub removed: Vec<ApiItem>,
    /// Items whose signature changed: (old, new) (breaking unless only additive).
    pub changed: Vec<(ApiItem, ApiItem)>,
    /// Items only the new surface has.
    pub added: Vec<ApiItem>,
}

impl ApiDiff {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.changed.is_empty() && self.added.is_empty()
    }
}

/// The difference between two surfaces, matched by crate, path and kind.
pub fn api_diff(old: &[ApiItem], new: &[ApiItem]) -> ApiDiff {
    let key = |a: &ApiItem| (a.crate_name.clone(), a.path.clone(), a.kind.clone());
    let new_by: FxHashMap<_, &ApiItem> = new.iter().map(|a| (key(a), a)).collect();
    let old_by: FxHashMap<_, &ApiItem> = old.iter().map(|a| (key(a), a)).collect();
    let mut d = ApiDiff::default();
    for o in old {
        match new_by.get(&key(o)) {
            None => d.removed.push(o.clone()),
            Some(n) if n.signature != o.signature => d.changed.push((o.clone(), (*n).clone())),
            Some(_) => {}
        }
    }
    for n in new {
        if !old_by.contains_key(&key(n)) {
            d.added.push(n.clone());
        }
    }
    d
}

/// Module dependencies of one crate: `from` uses items of `to` this many times.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ModuleDep {
    pub from: NodeId,
    pub to: NodeId,
    pub uses: u32,
}

/// The module dependency graph (within each crate: calls, type uses, impls and re-exports
/// of items in another module; a module does not depend on its own submodules through
/// containment) and its cycles: each a strongly connected set of two or more modules.
pub fn modules(g: &CodeGraph<'_>) -> (Vec<ModuleDep>, Vec<Vec<NodeId>>) {
    let mut counts: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    for i in 0..g.nodes.len() as u32 {
        let Some(from) = g.module_of(i) else { continue };
        for &(t, via) in g.dependencies_of(i) {
            if via == Via::Holds {
                continue;
            }
            let Some(to) = g.module_of(t) else { continue };
            if from != to && g.node(from).crate_name == g.node(to).crate_name {
                *counts.entry((from, to)).or_default() += 1;
            }
        }
    }
    let mut deps: Vec<ModuleDep> = counts
        .iter()
        .map(|(&(f, t), &n)| ModuleDep {
            from: g.node(f).id,
            to: g.node(t).id,
            uses: n,
        })
        .collect();
    deps.sort();
    // Tarjan's strongly connected components over the module graph.
    let mut adj: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for &(f, t) in counts.keys() {
        adj.entry(f).or_default().push(t);
    }
    for v in adj.values_mut() {
        v.sort_unstable();
    }
    let mut nodes: Vec<u32> = adj.keys().copied().collect();
    nodes.sort_unstable();
    let cycles = scc(&nodes, &adj)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|mut c| {
            c.sort_by(|a, b| g.node(*a).path.cmp(&g.node(*b).path));
            c.into_iter().map(|i| g.node(i).id).collect()
        })
        .collect();
    (deps, cycles)
}

/// Strongly connected components (iterative Tarjan).
fn scc(nodes: &[u32], adj: &FxHashMap<u32, Vec<u32>>) -> Vec<Vec<u32>> {
    let mut index: FxHashMap<u32, u32> = FxHashMap::default();
    let mut low: FxHashMap<u32, u32> = FxHashMap::default();
    let mut on_stack: FxHashSet<u32> = FxHashSet::default();
    let mut stack: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0u32;
    let empty = Vec::new();
    for &start in nodes {
        if index.contains_key(&start) {
            continue;
        }
        // (node, position in its adjacency list)
        let mut work: Vec<(u32, usize)> = vec![(start, 0)];
        index.insert(start, next);
        low.insert(start, next);
        next += 1;
        stack.push(start);
        on_stack.insert(start);
        while let Some(&mut (v, ref mut k)) = work.last_mut() {
            let succ = adj.get(&v).unwrap_or(&empty);
            if *k < succ.len() {
                let w = succ[*k];
                *k += 1;
                if let std::collections::hash_map::Entry::Vacant(e) = index.entry(w) {
                    e.insert(next);
                    low.insert(w, next);
                    next += 1;
                    stack.push(w);
                    on_stack.insert(w);
                    work.push((w, 0));
                } else if on_stack.contains(&w) {
                    let lw = index[&w];
                    let lv = low.get_mut(&v).expect("visited");
                    *lv = (*lv).min(lw);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    let lv = low[&v];
                    let lp = low.get_mut(&parent).expect("visited");
                    *lp = (*lp).min(lv);
                }
                if low[&v] == index[&v] {
                    let mut comp = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack.remove(&w);
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(comp);
                }
            }
        }
    }
    out
}
