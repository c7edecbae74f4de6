//! Name resolution: module namespaces, `use` imports (globs, renames, re-exports) to a fixed
//! point, impl self types and traits, then every reference found in signatures and bodies.

use fxhash::{FxHashMap, FxHashSet};

use ploke_core::{EdgeKind, ItemKind, NodeId, Visibility};
use ploke_parse::{Detail, Receiver, RecvBase, RefKind, UseEntry};

use crate::build::B;
use crate::externs::{ExtItem, Externs};
use crate::CrateInput;

/// Methods so common on std types that a call `.name()` says nothing about which crate
/// method is meant, unless the caller's own type has it.
const COMMON_METHODS: &[&str] = &[
    "clone",
    "len",
    "is_empty",
    "into",
    "from",
    "iter",
    "iter_mut",
    "into_iter",
    "unwrap",
    "expect",
    "map",
    "map_err",
    "and_then",
    "ok",
    "err",
    "as_ref",
    "as_mut",
    "to_string",
    "to_owned",
    "get",
    "get_mut",
    "insert",
    "remove",
    "push",
    "pop",
    "take",
    "replace",
    "contains",
    "default",
    "new",
    "next",
    "fmt",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "hash",
    "drop",
    "deref",
    "deref_mut",
    "borrow",
    "borrow_mut",
    "lock",
    "read",
    "write",
    "flush",
    "poll",
    "send",
    "recv",
    "extend",
    "clear",
    "as_str",
    "as_bytes",
    "as_ptr",
    "unwrap_or",
    "unwrap_or_else",
    "unwrap_or_default",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "filter",
    "collect",
    "fold",
    "any",
    "all",
    "find",
    "position",
    "chain",
    "zip",
    "rev",
    "enumerate",
    "skip",
    "count",
    "sum",
    "max",
    "min",
    "first",
    "last",
    "split",
    "join",
    "trim",
    "parse",
    "with_capacity",
    "reserve",
    "truncate",
    "into_inner",
    "as_slice",
    "to_vec",
    "copied",
    "cloned",
    "load",
    "store",
    "swap",
    "call",
    "wake",
    "start",
    "stop",
    "run",
    "close",
    "set",
    "build",
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Def {
    Node(usize),
    /// An item of a crate built elsewhere (a dependency), through its interface.
    Ext(ExtItem),
    /// A path into a crate outside the workspace (or std): kept as text.
    External(String),
}

#[derive(Default)]
struct Namespace {
    defs: FxHashMap<String, Vec<Def>>,
    imports: FxHashMap<String, Vec<Def>>,
    globs: FxHashMap<String, Vec<Def>>,
    /// Names imported by `pub use` (explicit or glob): part of the module's public names.
    exported: FxHashSet<String>,
}

pub(crate) struct Resolver<'n, 'a> {
    nodes: &'n [B<'a>],
    /// Whether each target's references are resolved (the others are context only).
    emit: &'n [bool],
    crate_roots: &'n [usize],
    /// Workspace library crates by name, for `other_crate::item` paths.
    lib_crates: FxHashMap<String, usize>,
    /// For each crate, the crates whose items it can reach (see [`contexts`]).
    sees: Vec<FxHashSet<usize>>,
    /// For each crate, the crates built elsewhere that it can name (its dependencies).
    externs: Vec<Option<std::sync::Arc<Externs>>>,
    ns: FxHashMap<usize, Namespace>,
    /// type / trait node -> associated items by name (methods, consts, types, variants).
    assoc: FxHashMap<usize, FxHashMap<String, Vec<usize>>>,
    /// impl node -> resolved self types.
    impl_self: FxHashMap<usize, Vec<usize>>,
    /// (crate, method name) -> method nodes.
    methods: FxHashMap<(usize, String), Vec<usize>>,
    /// (crate, macro name) -> macro_rules nodes.
    macros: FxHashMap<(usize, String), Vec<usize>>,
    /// Impl members named after their impl's self type: node -> path (see [`Self::place_impl_members`]).
    member_paths: FxHashMap<usize, String>,
    /// (struct / union / enum node, field name) -> field node: what `self.field.method()` calls.
    fields: FxHashMap<(usize, String), usize>,
    edges: Vec<RawEdge>,
    ext_edges: Vec<RawExtEdge>,
    unresolved: Vec<RawUnresolved>,
}

/// An edge between node indices; ids are given once every path is final.
pub(crate) struct RawEdge {
    pub src: usize,
    pub kind: EdgeKind,
    pub dst: usize,
    pub line: u32,
}

/// An edge to an item of a crate built elsewhere.
pub(crate) struct RawExtEdge {
    pub src: usize,
    pub kind: EdgeKind,
    pub dst: NodeId,
    pub line: u32,
}

pub(crate) struct RawUnresolved {
    pub src: usize,
    pub kind: EdgeKind,
    pub text: String,
    pub line: u32,
}

/// What resolution produced.
pub(crate) struct Resolved {
    pub edges: Vec<RawEdge>,
    pub ext_edges: Vec<RawExtEdge>,
    pub unresolved: Vec<RawUnresolved>,
    /// New paths for impl members whose type lives in another module than the impl.
    pub member_paths: FxHashMap<usize, String>,
}

impl<'n, 'a> Resolver<'n, 'a> {
    pub(crate) fn new(
        nodes: &'n [B<'a>],
        crates: &[CrateInput],
        crate_roots: &'n [usize],
        emit: &'n [bool],
    ) -> Self {
        let mut lib_crates = FxHashMap::default();
        for (ci, c) in crates.iter().enumerate() {
            if c.kind == ploke_core::TargetKind::Lib {
                lib_crates.insert(c.name.clone(), crate_roots[ci]);
            }
        }
        Resolver {
            nodes,
            emit,
            crate_roots,
            lib_crates,
            sees: contexts(crates),
            externs: crates.iter().map(|c| c.externs.clone()).collect(),
            ns: FxHashMap::default(),
            assoc: FxHashMap::default(),
            impl_self: FxHashMap::default(),
            methods: FxHashMap::default(),
            macros: FxHashMap::default(),
            member_paths: FxHashMap::default(),
            fields: FxHashMap::default(),
            edges: Vec::new(),
            ext_edges: Vec::new(),
            unresolved: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> Resolved {
        Resolved {
            edges: self.edges,
            ext_edges: self.ext_edges,
            unresolved: self.unresolved,
            member_paths: self.member_paths,
        }
    }

    pub(crate) fn run(&mut self) {
        self.declare();
        self.resolve_imports();
        self.resolve_impls();
        self.place_impl_members();
        for (i, b) in self.nodes.iter().enumerate() {
            if b.kind == ItemKind::Field {
                if let Some(p) = b.parent {
                    self.fields.insert((p, b.name.clone()), i);
                }
            }
        }
        self.resolve_refs();
    }

    /// An impl may sit in another module than its type (`impl super::Widget { … }`, platform
    /// files): its members are named after the type's path, as rustdoc shows them
    /// (`crate::defs::Widget::extra`, `crate::defs::<Widget as Trait>::f`), not after the
    /// module of the impl. Only where the self type is one workspace type (cfg twins of it
    /// count as one) of the impl's own crate. The impl node keeps the path where it is written.
    fn place_impl_members(&mut self) {
        let mut homes: Vec<(usize, usize)> = Vec::new();
        for (&imp, tys) in &self.impl_self {
            let Some(&first) = tys.first() else { continue };
            let (ci, path) = (self.nodes[first].crate_idx, &self.nodes[first].path);
            let one = tys
                .iter()
                .all(|&t| self.nodes[t].crate_idx == ci && self.nodes[t].path == *path);
            if one && ci == self.nodes[imp].crate_idx {
                homes.push((imp, first));
            }
        }
        let home_of: FxHashMap<usize, usize> = homes.into_iter().collect();
        for (i, b) in self.nodes.iter().enumerate() {
            let Some(imp) = b.parent else { continue };
            let Some(&ty) = home_of.get(&imp) else {
                continue;
            };
            if !matches!(
                b.kind,
                ItemKind::Method | ItemKind::AssocConst | ItemKind::AssocType
            ) {
                continue;
            }
            let Some(Detail::Impl { trait_name, .. }) = self.nodes[imp].raw.map(|r| &r.detail)
            else {
                continue;
            };
            let t = &self.nodes[ty];
            let path = match trait_name {
                None => format!("{}::{}", t.path, b.name),
                Some(tr) => format!(
                    "{}::<{} as {tr}>::{}",
                    self.nodes[t.scope].path, t.name, b.name
                ),
            };
            if path != b.path {
                self.member_paths.insert(i, path);
            }
        }
    }

    /// A node's final path.
    fn path_of(&self, i: usize) -> &str {
        self.member_paths
            .get(&i)
            .map(String::as_str)
            .unwrap_or(&self.nodes[i].path)
    }

    fn edge(&mut self, src: usize, kind: EdgeKind, dst: usize, line: u32) {
        if src == dst {
            return;
        }
        self.edges.push(RawEdge {
            src,
            kind,
            dst,
            line,
        });
    }

    /// An edge to a node or to an item of another crate.
    fn edge_to(&mut self, src: usize, kind: EdgeKind, dst: &Def, line: u32) {
        match dst {
            Def::Node(d) => self.edge(src, kind, *d, line),
            Def::Ext(x) => self.ext_edges.push(RawExtEdge {
                src,
                kind,
                dst: x.id,
                line,
            }),
            Def::External(_) => {}
        }
    }

    /// The kind of a resolved target.
    fn kind_of(&self, d: &Def) -> Option<ItemKind> {
        match d {
            Def::Node(n) => Some(self.nodes[*n].kind),
            Def::Ext(x) => Some(x.kind),
            Def::External(_) => None,
        }
    }

    /// The root of a crate built elsewhere that crate `ci` names `name`.
    fn extern_root(&self, ci: usize, name: &str) -> Option<Def> {
        self.externs[ci]
            .as_ref()
            .and_then(|e| e.root(name))
            .map(Def::Ext)
    }

    fn unresolved(&mut self, src: usize, kind: EdgeKind, text: String, line: u32) {
        self.unresolved.push(RawUnresolved {
            src,
            kind,
            text,
            line,
        });
    }

    /// Register every item in its module's namespace.
    fn declare(&mut self) {
        for (i, b) in self.nodes.iter().enumerate() {
            if b.is_module() {
                self.ns.entry(i).or_default();
            }
            let Some(parent) = b.parent else { continue };
            let p = &self.nodes[parent];
            let in_module = p.is_module() || p.kind == ItemKind::ExternBlock;
            match b.kind {
                ItemKind::Method => {
                    self.methods
                        .entry((b.crate_idx, b.name.clone()))
                        .or_default()
                        .push(i);
                }
                ItemKind::Macro => {
                    self.macros
                        .entry((b.crate_idx, b.name.clone()))
                        .or_default()
                        .push(i);
                }
                _ => {}
            }
            // Associated items of traits and types (impl members are added once self types resolve).
            if matches!(p.kind, ItemKind::Trait | ItemKind::Enum) {
                self.assoc
                    .entry(parent)
                    .or_default()
                    .entry(b.name.clone())
                    .or_default()
                    .push(i);
            }
            if !in_module {
                continue;
            }
            let scope = b.scope;
            match b.kind {
                ItemKind::Use | ItemKind::Impl | ItemKind::ExternBlock => {}
                ItemKind::ExternCrate => {
                    let target = match b.raw.map(|r| &r.detail) {
                        Some(Detail::ExternCrate { crate_name }) => match crate_name.as_str() {
                            "self" => Def::Node(self.crate_roots[b.crate_idx]),
                            n => match self.lib_crates.get(n) {
                                Some(&r) => Def::Node(r),
                                None => self
                                    .extern_root(b.crate_idx, n)
                                    .unwrap_or_else(|| Def::External(n.to_string())),
                            },
                        },
                        _ => continue,
                    };
                    self.ns
                        .entry(scope)
                        .or_default()
                        .defs
                        .entry(b.name.clone())
                        .or_default()
                        .push(target);
                }
                ItemKind::Macro => {
                    self.ns
                        .entry(scope)
                        .or_default()
                        .defs
                        .entry(b.name.clone())
                        .or_default()
                        .push(Def::Node(i));
                    if matches!(
                        b.raw.map(|r| &r.detail),
                        Some(Detail::MacroRules { exported: true })
                    ) {
                        let root = self.crate_roots[b.crate_idx];
                        self.ns
                            .entry(root)
                            .or_default()
                            .defs
                            .entry(b.name.clone())
                            .or_default()
                            .push(Def::Node(i));
                    }
                }
                _ => {
                    // A module's own namespace entry lives in its parent's scope.
                    let scope = if b.kind == ItemKind::Module {
                        self.nodes[parent].scope_of_module(parent, self.nodes)
                    } else {
                        scope
                    };
                    self.ns
                        .entry(scope)
                        .or_default()
                        .defs
                        .entry(b.name.clone())
                        .or_default()
                        .push(Def::Node(i));
                }
            }
        }
    }

    /// The public names of crate `ci` (see [`crate::externs`]): every item reachable from its
    /// root through public names, and `(owner, name, item)` as indices into those items. The
    /// root is the first item. Deterministic: names are visited in order.
    pub(crate) fn exports(&self, ci: usize) -> (Vec<Def>, Vec<(u32, String, u32)>) {
        let root = self.crate_roots[ci];
        let mut items: Vec<Def> = vec![Def::Node(root)];
        let mut index: FxHashMap<Def, u32> = FxHashMap::default();
        index.insert(Def::Node(root), 0);
        let mut members: Vec<(u32, String, u32)> = Vec::new();
        let mut seen: FxHashSet<usize> = FxHashSet::default();
        seen.insert(root);
        let mut queue = std::collections::VecDeque::from([root]);
        let public = |n: usize| {
            self.nodes[n]
                .raw
                .is_none_or(|r| r.visibility == Visibility::Public)
        };
        // Members of traits, enums and trait impls are as visible as their parent.
        let public_member = |m: usize| {
            if public(m) {
                return true;
            }
            let Some(p) = self.nodes[m].parent else {
                return false;
            };
            match self.nodes[p].kind {
                ItemKind::Trait | ItemKind::Enum => true,
                ItemKind::Impl => matches!(
                    self.nodes[p].raw.map(|r| &r.detail),
                    Some(Detail::Impl {
                        trait_path: Some(_),
                        ..
                    })
                ),
                _ => false,
            }
        };
        while let Some(owner) = queue.pop_front() {
            let oi = index[&Def::Node(owner)];
            let mut named: Vec<(String, Vec<Def>)> = Vec::new();
            if self.nodes[owner].is_module() {
                if let Some(ns) = self.ns.get(&owner) {
                    let mut names: Vec<&String> = ns
                        .defs
                        .keys()
                        .chain(ns.imports.keys())
                        .chain(ns.globs.keys())
                        .collect();
                    names.sort();
                    names.dedup();
                    for name in names {
                        let non_empty = |t: &FxHashMap<String, Vec<Def>>| {
                            t.get(name).filter(|d| !d.is_empty()).cloned()
                        };
                        let ds = match non_empty(&ns.defs) {
                            Some(ds) => ds
                                .into_iter()
                                .filter(|d| matches!(d, Def::Node(n) if public(*n)))
                                .collect(),
                            None if ns.exported.contains(name) => non_empty(&ns.imports)
                                .or_else(|| non_empty(&ns.globs))
                                .unwrap_or_default(),
                            None => Vec::new(),
                        };
                        named.push((name.clone(), ds));
                    }
                }
            } else if let Some(a) = self.assoc.get(&owner) {
                let mut names: Vec<&String> = a.keys().collect();
                names.sort();
                for name in names {
                    let ds = a[name]
                        .iter()
                        .filter(|&&m| public_member(m))
                        .map(|&m| Def::Node(m))
                        .collect();
                    named.push((name.clone(), ds));
                }
            }
            for (name, ds) in named {
                for d in ds {
                    if matches!(d, Def::External(_)) {
                        continue;
                    }
                    let next = items.len() as u32;
                    let idx = *index.entry(d.clone()).or_insert(next);
                    if idx == next {
                        items.push(d.clone());
                    }
                    members.push((oi, name.clone(), idx));
                    if let Def::Node(n) = d {
                        let b = &self.nodes[n];
                        if b.crate_idx == ci
                            && (b.is_module() || self.assoc.contains_key(&n))
                            && seen.insert(n)
                        {
                            queue.push_back(n);
                        }
                    }
                }
            }
        }
        members.sort();
        members.dedup();
        (items, members)
    }

    fn parent_module(&self, m: usize) -> Option<usize> {
        let p = self.nodes[m].parent?;
        Some(self.nodes[p].scope_of_module(p, self.nodes))
    }

    /// Look a name up in a module: its items, its imports, then its globs.
    fn lookup(&self, module: usize, name: &str) -> Vec<Def> {
        if let Some(ns) = self.ns.get(&module) {
            for table in [&ns.defs, &ns.imports, &ns.globs] {
                if let Some(d) = table.get(name) {
                    if !d.is_empty() {
                        return d.clone();
                    }
                }
            }
        }
        Vec::new()
    }

    /// The start of a path: `crate`, `self`, `super`, a name in scope, a workspace crate.
    fn resolve_first(
        &self,
        module: usize,
        segs: &[String],
        self_ty: &[usize],
    ) -> (Vec<Def>, usize) {
        let ci = self.nodes[module].crate_idx;
        let root = self.crate_roots[ci];
        match segs[0].as_str() {
            "crate" => (vec![Def::Node(root)], 1),
            "$crate" => (vec![Def::Node(root)], 1),
            "self" => (vec![Def::Node(module)], 1),
            "super" => {
                let mut m = module;
                let mut i = 0;
                while i < segs.len() && segs[i] == "super" {
                    match self.parent_module(m) {
                        Some(p) => m = p,
                        None => return (Vec::new(), i),
                    }
                    i += 1;
                }
                (vec![Def::Node(m)], i)
            }
            "Self" => (self_ty.iter().map(|&t| Def::Node(t)).collect(), 1),
            "" => match segs.get(1).and_then(|n| self.lib_crates.get(n)) {
                Some(&r) => (vec![Def::Node(r)], 2),
                None => match segs.get(1).and_then(|n| self.extern_root(ci, n)) {
                    Some(d) => (vec![d], 2),
                    None => (vec![Def::External(segs[1..].join("::"))], segs.len()),
                },
            },
            name => {
                let found = self.lookup(module, name);
                if !found.is_empty() {
                    return (found, 1);
                }
                if let Some(&r) = self.lib_crates.get(name) {
                    return (vec![Def::Node(r)], 1);
                }
                if let Some(d) = self.extern_root(ci, name) {
                    return (vec![d], 1);
                }
                (Vec::new(), 0)
            }
        }
    }

    /// Member `seg` of `d`, as code of crate `from` sees it.
    fn member(&self, from: usize, d: &Def, seg: &str, out: &mut Vec<Def>) {
        match d {
            Def::External(p) => out.push(Def::External(format!("{p}::{seg}"))),
            Def::Ext(x) => {
                if let Some(e) = &self.externs[from] {
                    let mut found = Vec::new();
                    e.member(x, seg, &mut found);
                    out.extend(found.into_iter().map(Def::Ext));
                }
            }
            Def::Node(n) => {
                let b = &self.nodes[*n];
                if b.is_module() {
                    out.extend(self.lookup(*n, seg));
                } else if let Some(m) = self.assoc.get(n).and_then(|a| a.get(seg)) {
                    out.extend(
                        m.iter()
                            .filter(|&&x| self.sees[from].contains(&self.nodes[x].crate_idx))
                            .map(|&x| Def::Node(x)),
                    );
                }
            }
        }
    }

    /// Resolve a whole path. `Ok(items)` when it ends at items of the crates built here or of
    /// crates built elsewhere (never `Def::External`), `Err(text)` otherwise.
    fn resolve_path(
        &self,
        module: usize,
        segs: &[String],
        self_ty: &[usize],
    ) -> Result<Vec<Def>, String> {
        let Some(cur) = self.walk_path(module, segs, self_ty) else {
            return Err(segs.join("::"));
        };
        let nodes: Vec<Def> = cur
            .iter()
            .filter(|d| !matches!(d, Def::External(_)))
            .cloned()
            .collect();
        if nodes.is_empty() {
            Err(match cur.first() {
                Some(Def::External(p)) => p.clone(),
                _ => segs.join("::"),
            })
        } else {
            Ok(nodes)
        }
    }

    /// Follow a path segment by segment; `None` when some segment names nothing (yet).
    fn walk_path(&self, module: usize, segs: &[String], self_ty: &[usize]) -> Option<Vec<Def>> {
        if segs.is_empty() {
            return None;
        }
        let (mut cur, used) = self.resolve_first(module, segs, self_ty);
        if cur.is_empty() {
            return None;
        }
        for seg in &segs[used..] {
            let mut next = Vec::new();
            for d in &cur {
                self.member(self.nodes[module].crate_idx, d, seg, &mut next);
            }
            next.dedup();
            if next.is_empty() {
                return None;
            }
            cur = next;
        }
        Some(cur)
    }

    /// Explicit and glob imports, iterated to a fixed point (re-exports of re-exports).
    fn resolve_imports(&mut self) {
        struct Pending<'e> {
            module: usize,
            node: usize,
            entry: &'e UseEntry,
        }
        let mut pending: Vec<Pending> = Vec::new();
        for (i, b) in self.nodes.iter().enumerate() {
            if let (ItemKind::Use, Some(Detail::Use { entries })) =
                (b.kind, b.raw.map(|r| &r.detail))
            {
                for e in entries {
                    pending.push(Pending {
                        module: b.scope,
                        node: i,
                        entry: e,
                    });
                }
            }
        }
        let mut done = vec![false; pending.len()];
        for _round in 0..32 {
            let mut changed = false;
            for (pi, p) in pending.iter().enumerate() {
                let e = p.entry;
                if e.glob {
                    let targets = match self.walk_path(p.module, &e.path, &[]) {
                        Some(t) => t,
                        None => continue,
                    };
                    let public = self.nodes[p.node]
                        .raw
                        .is_some_and(|r| r.visibility == Visibility::Public);
                    let ci = self.nodes[p.module].crate_idx;
                    for t in targets {
                        let src = match t {
                            Def::Node(src) => src,
                            Def::Ext(x) => {
                                let names = match &self.externs[ci] {
                                    Some(e) => e.all_members(&x),
                                    None => continue,
                                };
                                let ns = self.ns.entry(p.module).or_default();
                                for (k, v) in names {
                                    if ns.defs.contains_key(&k) || ns.imports.contains_key(&k) {
                                        continue;
                                    }
                                    if public {
                                        ns.exported.insert(k.clone());
                                    }
                                    let slot = ns.globs.entry(k).or_default();
                                    let d = Def::Ext(v);
                                    if !slot.contains(&d) {
                                        slot.push(d);
                                        changed = true;
                                    }
                                }
                                continue;
                            }
                            Def::External(_) => continue,
                        };
                        let names: Vec<(String, Vec<Def>)> = if self.nodes[src].is_module() {
                            match self.ns.get(&src) {
                                Some(ns) => {
                                    let mut all: FxHashMap<&String, &Vec<Def>> =
                                        FxHashMap::default();
                                    for table in [&ns.globs, &ns.imports, &ns.defs] {
                                        for (k, v) in table {
                                            all.insert(k, v);
                                        }
                                    }
                                    all.into_iter()
                                        .map(|(k, v)| (k.clone(), v.clone()))
                                        .collect()
                                }
                                None => Vec::new(),
                            }
                        } else {
                            self.assoc
                                .get(&src)
                                .map(|a| {
                                    a.iter()
                                        .map(|(k, v)| {
                                            (k.clone(), v.iter().map(|&x| Def::Node(x)).collect())
                                        })
                                        .collect()
                                })
                                .unwrap_or_default()
                        };
                        let ns = self.ns.entry(p.module).or_default();
                        for (k, v) in names {
                            if ns.defs.contains_key(&k) || ns.imports.contains_key(&k) {
                                continue;
                            }
                            if public {
                                ns.exported.insert(k.clone());
                            }
                            let slot = ns.globs.entry(k).or_default();
                            for d in v {
                                if !slot.contains(&d) {
                                    slot.push(d);
                                    changed = true;
                                }
                            }
                        }
                    }
                    if !done[pi] {
                        done[pi] = true;
                    }
                    continue;
                }
                if done[pi] {
                    continue;
                }
                let Some((path, name)) = binding(e) else {
                    done[pi] = true;
                    continue;
                };
                let Some(targets) = self.walk_path(p.module, path, &[]) else {
                    continue;
                };
                done[pi] = true;
                changed = true;
                if name == "_" {
                    continue;
                }
                let public = self.nodes[p.node]
                    .raw
                    .is_some_and(|r| r.visibility == Visibility::Public);
                let ns = self.ns.entry(p.module).or_default();
                if public {
                    ns.exported.insert(name.clone());
                }
                let slot = ns.imports.entry(name).or_default();
                for t in targets {
                    if !slot.contains(&t) {
                        slot.push(t);
                    }
                }
            }
            if !changed {
                break;
            }
        }
        // What is still unresolved names something outside the workspace (std, a dependency):
        // bind the name to that path so references through it keep the full text.
        for (pi, p) in pending.iter().enumerate() {
            let e = p.entry;
            if done[pi] || e.glob || e.path.is_empty() {
                continue;
            }
            let first = e.path[0].as_str();
            if matches!(first, "crate" | "self" | "super" | "Self" | "$crate") {
                continue;
            }
            if !self.resolve_first(p.module, &e.path, &[]).0.is_empty() {
                continue;
            }
            let Some((path, name)) = binding(e) else {
                continue;
            };
            if name == "_" {
                continue;
            }
            let ext = Def::External(
                path.iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("::"),
            );
            let slot = self
                .ns
                .entry(p.module)
                .or_default()
                .imports
                .entry(name)
                .or_default();
            if !slot.contains(&ext) {
                slot.push(ext);
            }
        }
        // Edges from each use item to what it brings in.
        for p in &pending {
            let e = p.entry;
            let path: Vec<String> = if !e.glob && e.path.last().is_some_and(|s| s == "self") {
                e.path[..e.path.len() - 1].to_vec()
            } else {
                e.path.clone()
            };
            let kind = if self.nodes[p.node]
                .raw
                .is_some_and(|r| r.visibility != Visibility::Private)
            {
                EdgeKind::Reexports
            } else {
                EdgeKind::Imports
            };
            match self.resolve_path(p.module, &path, &[]) {
                Ok(ts) => {
                    for t in ts {
                        self.edge_to(p.node, kind, &t, e.line);
                    }
                }
                Err(text) => {
                    let text = if e.glob { format!("{text}::*") } else { text };
                    self.unresolved(p.node, kind, text, e.line);
                }
            }
        }
    }

    fn resolve_impls(&mut self) {
        let mut impl_members: Vec<(usize, usize)> = Vec::new();
        for (i, b) in self.nodes.iter().enumerate() {
            if let Some(p) = b.parent {
                if self.nodes[p].kind == ItemKind::Impl {
                    impl_members.push((p, i));
                }
            }
        }
        for i in 0..self.nodes.len() {
            let b = &self.nodes[i];
            let Some(Detail::Impl {
                self_path,
                self_name,
                trait_path,
                ..
            }) = b.raw.map(|r| &r.detail)
            else {
                continue;
            };
            let line = b.span.start_line;
            if !self_path.is_empty() {
                match self.resolve_path(b.scope, self_path, &[]) {
                    Ok(ts) => {
                        let ts: Vec<Def> = ts
                            .into_iter()
                            .filter(|t| self.kind_of(t).is_some_and(|k| k.is_type_like()))
                            .collect();
                        for t in &ts {
                            self.edge_to(i, EdgeKind::ImplFor, t, line);
                        }
                        if ts.is_empty() {
                            self.unresolved(i, EdgeKind::ImplFor, self_path.join("::"), line);
                        }
                        let local: Vec<usize> = ts
                            .iter()
                            .filter_map(|t| match t {
                                Def::Node(n) => Some(*n),
                                _ => None,
                            })
                            .collect();
                        self.impl_self.insert(i, local);
                    }
                    Err(text) => self.unresolved(i, EdgeKind::ImplFor, text, line),
                }
            } else {
                self.unresolved(i, EdgeKind::ImplFor, self_name.clone(), line);
            }
            if let Some(tp) = trait_path {
                match self.resolve_path(b.scope, tp, &[]) {
                    Ok(ts) => {
                        for t in ts {
                            if self.kind_of(&t) == Some(ItemKind::Trait) {
                                self.edge_to(i, EdgeKind::ImplementsTrait, &t, line);
                            }
                        }
                    }
                    Err(text) => self.unresolved(i, EdgeKind::ImplementsTrait, text, line),
                }
            }
        }
        for (imp, member) in impl_members {
            let name = self.nodes[member].name.clone();
            for &t in self
                .impl_self
                .get(&imp)
                .map(|v| v.as_slice())
                .unwrap_or(&[])
            {
                self.assoc
                    .entry(t)
                    .or_default()
                    .entry(name.clone())
                    .or_default()
                    .push(member);
            }
        }
    }

    /// The types `Self` means inside node `i`.
    fn self_types(&self, i: usize) -> Vec<usize> {
        let mut cur = Some(i);
        while let Some(c) = cur {
            let b = &self.nodes[c];
            match b.kind {
                ItemKind::Impl => return self.impl_self.get(&c).cloned().unwrap_or_default(),
                ItemKind::Trait | ItemKind::Struct | ItemKind::Enum | ItemKind::Union => {
                    return vec![c]
                }
                ItemKind::Module | ItemKind::Crate => return Vec::new(),
                _ => cur = b.parent,
            }
        }
        Vec::new()
    }

    fn resolve_refs(&mut self) {
        for i in 0..self.nodes.len() {
            let b = &self.nodes[i];
            if !self.emit[b.crate_idx] {
                continue;
            }
            let Some(raw) = b.raw else { continue };
            if raw.refs.is_empty() {
                continue;
            }
            let self_ty = self.self_types(i);
            let scope = b.scope;
            let ci = b.crate_idx;
            for r in &raw.refs {
                match r.kind {
                    RefKind::Call => match self.resolve_path(scope, &r.path, &self_ty) {
                        Ok(ts) => {
                            for t in ts {
                                let k = if matches!(
                                    self.kind_of(&t),
                                    Some(ItemKind::Fn | ItemKind::Method | ItemKind::ForeignFn)
                                ) {
                                    EdgeKind::Calls
                                } else {
                                    EdgeKind::UsesType
                                };
                                self.edge_to(i, k, &t, r.line);
                            }
                        }
                        Err(text) => self.unresolved(i, EdgeKind::Calls, text, r.line),
                    },
                    RefKind::Method => {
                        let name = &r.path[0];
                        let targets = match &r.recv {
                            // `self.f()`: the caller's own type first, as without a receiver.
                            Some(Receiver {
                                base: RecvBase::SelfValue,
                                fields,
                            }) if fields.is_empty() => self.method_targets(ci, name, &self_ty),
                            Some(recv) => match self.receiver_types(scope, &self_ty, recv) {
                                Some(tys) => self.method_targets(ci, name, &tys),
                                // A type outside the workspace and its dependencies (std).
                                None => Vec::new(),
                            },
                            None => self.method_targets(ci, name, &self_ty),
                        };
                        if targets.is_empty() {
                            self.unresolved(i, EdgeKind::Calls, format!(".{name}"), r.line);
                        } else {
                            for t in targets {
                                self.edge(i, EdgeKind::Calls, t, r.line);
                            }
                        }
                    }
                    RefKind::Type => match self.resolve_path(scope, &r.path, &self_ty) {
                        Ok(ts) => {
                            for t in ts {
                                self.edge_to(i, EdgeKind::UsesType, &t, r.line);
                            }
                        }
                        Err(text) => self.unresolved(i, EdgeKind::UsesType, text, r.line),
                    },
                    RefKind::Value => match self.resolve_path(scope, &r.path, &self_ty) {
                        Ok(ts) => {
                            for t in ts {
                                let k = if matches!(
                                    self.kind_of(&t),
                                    Some(ItemKind::Fn | ItemKind::Method)
                                ) {
                                    EdgeKind::Calls
                                } else {
                                    EdgeKind::UsesType
                                };
                                self.edge_to(i, k, &t, r.line);
                            }
                        }
                        Err(text) => {
                            // `Type::CONST` or `Enum::Variant` of a type we know: point at the type.
                            let n = r.path.len();
                            match (n >= 2)
                                .then(|| self.resolve_path(scope, &r.path[..n - 1], &self_ty))
                            {
                                Some(Ok(ts)) => {
                                    for t in ts {
                                        if !matches!(
                                            self.kind_of(&t),
                                            Some(ItemKind::Module | ItemKind::Crate)
                                        ) {
                                            self.edge_to(i, EdgeKind::UsesType, &t, r.line);
                                        }
                                    }
                                }
                                _ => self.unresolved(i, EdgeKind::UsesType, text, r.line),
                            }
                        }
                    },
                    RefKind::Macro => {
                        let name = r.path.last().cloned().unwrap_or_default();
                        match self.macros.get(&(ci, name.clone())) {
                            Some(ts) => {
                                for t in ts.clone() {
                                    self.edge(i, EdgeKind::Calls, t, r.line);
                                }
                            }
                            None => self.unresolved(
                                i,
                                EdgeKind::Calls,
                                format!("{}!", r.path.join("::")),
                                r.line,
                            ),
                        }
                    }
                }
            }
        }
    }

    /// The types a method call's receiver has, as far as the code names them: `Self` or a
    /// named type, then the declared type of each field taken. `Some(empty)` when the code
    /// says nothing resolvable (the caller falls back to the method's name alone); `None`
    /// when the receiver is of a type outside what is indexed (`Vec`, `String`), whose
    /// methods no indexed method is.
    fn receiver_types(
        &self,
        scope: usize,
        self_ty: &[usize],
        recv: &Receiver,
    ) -> Option<Vec<usize>> {
        let is_type = |n: usize| {
            matches!(
                self.nodes[n].kind,
                ItemKind::Struct | ItemKind::Enum | ItemKind::Union | ItemKind::Trait
            )
        };
        let mut tys: Vec<usize> = match &recv.base {
            RecvBase::SelfValue => self_ty.to_vec(),
            RecvBase::Typed(path) => match self.walk_path(scope, path, self_ty) {
                None => return Some(Vec::new()),
                Some(defs) => {
                    if defs.iter().all(|d| matches!(d, Def::External(_))) {
                        return None;
                    }
                    defs.iter()
                        .filter_map(|d| match d {
                            Def::Node(n) if is_type(*n) => Some(*n),
                            _ => None,
                        })
                        .collect()
                }
            },
        };
        for field in &recv.fields {
            let mut next = Vec::new();
            for &t in &tys {
                let Some(&f) = self.fields.get(&(t, field.clone())) else {
                    continue;
                };
                let fb = &self.nodes[f];
                let Some(raw) = fb.raw else { continue };
                for r in raw.refs.iter().filter(|r| r.kind == RefKind::Type) {
                    if let Ok(defs) = self.resolve_path(fb.scope, &r.path, &[t]) {
                        next.extend(defs.iter().filter_map(|d| match d {
                            Def::Node(n) if is_type(*n) => Some(*n),
                            _ => None,
                        }));
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            tys = next;
        }
        Some(tys)
    }

    /// Which crate methods a `.name()` call can mean: the caller's own type's method when it
    /// has one; otherwise the only method of that name in the crate (not for names so common
    /// on std types that the call most likely means those).
    fn method_targets(&self, ci: usize, name: &str, self_ty: &[usize]) -> Vec<usize> {
        let mut own: Vec<usize> = Vec::new();
        for t in self_ty {
            if let Some(m) = self.assoc.get(t).and_then(|a| a.get(name)) {
                own.extend(m.iter().copied().filter(|&x| {
                    self.nodes[x].kind == ItemKind::Method
                        && self.sees[ci].contains(&self.nodes[x].crate_idx)
                }));
            }
        }
        if !own.is_empty() {
            return own;
        }
        if COMMON_METHODS.contains(&name) {
            return Vec::new();
        }
        // The caller's crate first; when it has no method of that name, the library crates
        // it reads (a call on a type from another member, `thing.size()`).
        let candidates: Vec<usize> = match self.methods.get(&(ci, name.to_string())) {
            Some(ms) => ms.clone(),
            None => {
                let mut libs: Vec<usize> = self
                    .lib_crates
                    .values()
                    .map(|&root| self.nodes[root].crate_idx)
                    .filter(|&c| c != ci && self.sees[ci].contains(&c))
                    .collect();
                libs.sort_unstable();
                libs.iter()
                    .filter_map(|&c| self.methods.get(&(c, name.to_string())))
                    .flatten()
                    .copied()
                    .collect()
            }
        };
        // Cfg twins of one method count as one.
        let distinct: FxHashSet<(usize, &str)> = candidates
            .iter()
            .map(|&m| (self.nodes[m].crate_idx, self.path_of(m)))
            .collect();
        if distinct.len() == 1 {
            candidates
        } else {
            Vec::new()
        }
    }
}

/// For each crate, the crates its code can reach: itself and the library crates the first
/// segments of its paths name ([`crate::for_each_path`]), transitively. Only their impls add
/// members to the types it uses: a test's extension trait implemented for a library's type
/// gives the library's own calls nothing to resolve to. So a crate resolves the same whether
/// it is built with the whole workspace or with just these (ploke-index rebuilds a target
/// with exactly its context, computed the same way).
fn contexts(crates: &[CrateInput]) -> Vec<FxHashSet<usize>> {
    let libs: FxHashMap<&str, usize> = crates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == ploke_core::TargetKind::Lib)
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let direct: Vec<FxHashSet<usize>> = crates
        .iter()
        .map(|c| {
            let mut named = FxHashSet::default();
            for m in &c.modules {
                crate::for_each_path(m.parsed, |segs| {
                    let first = segs.iter().find(|s| !s.is_empty());
                    if let Some(&l) = first.and_then(|f| libs.get(f.as_str())) {
                        named.insert(l);
                    }
                });
            }
            named
        })
        .collect();
    (0..crates.len())
        .map(|c| {
            let mut seen = FxHashSet::default();
            let mut stack = vec![c];
            while let Some(x) = stack.pop() {
                if seen.insert(x) {
                    stack.extend(direct[x].iter().copied());
                }
            }
            seen
        })
        .collect()
}

/// What a non-glob use entry binds: the path it imports (a trailing `self` dropped) and the
/// name it binds there (`use a::b::{self}` binds `b`; `use a::b as c` binds `c`). `None` for
/// entries that bind nothing (`use self;`).
fn binding(e: &UseEntry) -> Option<(&[String], String)> {
    let path: &[String] = match e.path.split_last() {
        Some((last, rest)) if last == "self" => rest,
        _ => &e.path,
    };
    let last = path
        .last()
        .filter(|s| !s.is_empty() && !matches!(s.as_str(), "crate" | "self" | "super"));
    let name = e.alias.clone().or_else(|| last.cloned())?;
    Some((path, name))
}

impl B<'_> {
    /// The module a module-like node `idx` stands for, or the scope of any other node.
    pub(crate) fn scope_of_module(&self, idx: usize, _nodes: &[B]) -> usize {
        if self.is_module() {
            idx
        } else {
            self.scope
        }
    }
}
