//! Node creation: canonical paths, display names, combined cfgs, test flags, stable ids.

use fxhash::FxHashMap;

use ploke_core::{
    CrateRecord, Edge, EdgeKind, Graph, ItemKind, Node, NodeId, Span, TargetKind, Unresolved,
    Visibility,
};
use ploke_parse::{Detail, RawItem};

use crate::externs::{ExtItem, Interface};
use crate::resolve::{Def, Resolver};
use crate::CrateInput;

/// A node under construction.
pub(crate) struct B<'a> {
    pub kind: ItemKind,
    pub name: String,
    pub display: String,
    pub path: String,
    /// Module path inside the crate, `::`-joined (empty at the root).
    pub module: String,
    pub file: String,
    pub span: Span,
    pub cfg: Vec<String>,
    pub is_test: bool,
    pub parent: Option<usize>,
    pub crate_idx: usize,
    /// The module (or crate root) whose namespace names inside this node resolve in.
    pub scope: usize,
    pub raw: Option<&'a RawItem>,
    /// Inner docs (`//! …`) of the file this module or crate root is, if any.
    pub file_docs: String,
    pub id: NodeId,
}

impl B<'_> {
    pub fn is_module(&self) -> bool {
        matches!(self.kind, ItemKind::Crate | ItemKind::Module)
    }
}

fn combined_cfg(parts: &[String]) -> String {
    match parts.len() {
        0 => String::new(),
        1 => parts[0].clone(),
        _ => format!("all({})", parts.join(", ")),
    }
}

/// Turn the module trees of every target into a resolved graph (without file records).
pub fn build_graph(crates: &[CrateInput<'_>]) -> Graph {
    let mut graph = Graph::default();
    for part in build_parts(crates, None).into_iter().flatten() {
        graph.crates.extend(part.crates);
        graph.nodes.extend(part.nodes);
        graph.edges.extend(part.edges);
        graph.unresolved.extend(part.unresolved);
    }
    graph.canonicalize();
    graph
}

/// One graph per target of `crates`: its crate record, its nodes, and the edges and
/// unresolved references out of its nodes (each canonical), resolved with every target of
/// `crates` as context. With `emit`, only the targets it marks get a part; the others are
/// read for resolution only (their namespaces, re-exports and impls), which costs a
/// fraction of building them. A part is the same whatever else is emitted, so parts of
/// different builds can be put together, as long as each build's `crates` holds every target
/// the emitted ones name (see the crate docs).
pub fn build_parts(crates: &[CrateInput<'_>], emit: Option<&[bool]>) -> Vec<Option<Graph>> {
    build(crates, emit, false).0
}

/// As [`build_parts`], with the [`Interface`] of each emitted library target: what crates
/// built later against it (its dependents) resolve their paths into.
pub fn build_with_interfaces(
    crates: &[CrateInput<'_>],
    emit: Option<&[bool]>,
) -> (Vec<Option<Graph>>, Vec<Option<Interface>>) {
    build(crates, emit, true)
}

fn build(
    crates: &[CrateInput<'_>],
    emit: Option<&[bool]>,
    interfaces: bool,
) -> (Vec<Option<Graph>>, Vec<Option<Interface>>) {
    let emitted = |ci: usize| emit.is_none_or(|e| e.get(ci).copied().unwrap_or(false));
    let mut nodes: Vec<B> = Vec::new();
    let mut crate_roots = Vec::with_capacity(crates.len());
    for (ci, c) in crates.iter().enumerate() {
        let root_idx = nodes.len();
        crate_roots.push(root_idx);
        let root_file = c
            .modules
            .first()
            .map(|m| m.path.clone())
            .unwrap_or_default();
        nodes.push(B {
            kind: ItemKind::Crate,
            name: c.name.clone(),
            display: c.name.clone(),
            path: c.name.clone(),
            module: String::new(),
            file: root_file,
            span: Span::default(),
            cfg: Vec::new(),
            is_test: matches!(c.kind, TargetKind::Test),
            parent: None,
            crate_idx: ci,
            scope: root_idx,
            raw: None,
            file_docs: String::new(),
            id: NodeId(0),
        });
        // (file index, item index) -> node index, for `mod foo;` items that own a file.
        let mut file_item: FxHashMap<(usize, u32), usize> = FxHashMap::default();
        for (fi, mf) in c.modules.iter().enumerate() {
            let file_module = match mf.declared_by {
                None => root_idx,
                Some(key) => match file_item.get(&key) {
                    Some(&m) => m,
                    None => continue, // declaring item not found: the tree builder broke its promise
                },
            };
            if !mf.parsed.docs.is_empty() {
                nodes[file_module].file_docs = mf.parsed.docs.clone();
            }
            let mut local: Vec<usize> = Vec::with_capacity(mf.parsed.items.len());
            for (ii, raw) in mf.parsed.items.iter().enumerate() {
                let parent = match raw.parent {
                    Some(p) => local.get(p as usize).copied().unwrap_or(file_module),
                    None => file_module,
                };
                let idx = nodes.len();
                // An item a macro expansion made may have its text in the macro's file.
                let file = raw
                    .file
                    .and_then(|f| mf.parsed.files.get(f as usize))
                    .unwrap_or(&mf.path);
                let b = make_node(&nodes, parent, raw, file, ci, idx);
                local.push(idx);
                if matches!(raw.detail, Detail::Module { inline: false, .. }) {
                    file_item.insert((fi, ii as u32), idx);
                }
                nodes.push(b);
            }
        }
    }
    // Resolve first: the paths of some impl members depend on what their impl's type resolves
    // to, and ids depend on paths.
    let emit_flags: Vec<bool> = (0..crates.len()).map(emitted).collect();
    let mut resolver = Resolver::new(&nodes, crates, &crate_roots, &emit_flags);
    resolver.run();
    let exports: Vec<Option<ExportsOf>> = crates
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            (interfaces && emitted(ci) && c.kind == TargetKind::Lib).then(|| resolver.exports(ci))
        })
        .collect();
    let resolved = resolver.finish();
    for (i, path) in resolved.member_paths {
        nodes[i].path = path;
    }
    // Every node gets its id: edges out of emitted targets may end in any of them.
    assign_ids(&mut nodes, crates);
    let ifaces: Vec<Option<Interface>> = exports
        .into_iter()
        .zip(crates)
        .map(|(e, c)| {
            let (items, members) = e?;
            let items = items
                .into_iter()
                .filter_map(|d| match d {
                    Def::Node(n) => Some(ExtItem {
                        id: nodes[n].id,
                        kind: nodes[n].kind,
                        krate: nodes[crate_roots[nodes[n].crate_idx]].id,
                    }),
                    Def::Ext(x) => Some(x),
                    Def::External(_) => None,
                })
                .collect();
            Some(Interface::new(c.name.clone(), items, members))
        })
        .collect();

    let mut parts: Vec<Option<Graph>> = (0..crates.len())
        .map(|ci| emitted(ci).then(Graph::default))
        .collect();
    for (ci, c) in crates.iter().enumerate() {
        let Some(part) = parts[ci].as_mut() else {
            continue;
        };
        let root = &nodes[crate_roots[ci]];
        part.crates.push(CrateRecord {
            id: root.id,
            name: c.name.clone(),
            package: c.package.clone(),
            version: c.version.clone(),
            kind: c.kind,
            package_root: c.package_root.clone(),
            root_file: root.file.clone(),
        });
    }
    let id = |i: usize| nodes[i].id;
    for e in &resolved.edges {
        if let Some(part) = parts[nodes[e.src].crate_idx].as_mut() {
            part.edges.push(Edge {
                src: id(e.src),
                kind: e.kind,
                dst: id(e.dst),
                line: e.line,
            });
        }
    }
    for e in &resolved.ext_edges {
        if let Some(part) = parts[nodes[e.src].crate_idx].as_mut() {
            part.edges.push(Edge {
                src: id(e.src),
                kind: e.kind,
                dst: e.dst,
                line: e.line,
            });
        }
    }
    for u in resolved.unresolved {
        if let Some(part) = parts[nodes[u.src].crate_idx].as_mut() {
            part.unresolved.push(Unresolved {
                src: id(u.src),
                kind: u.kind,
                text: u.text,
                line: u.line,
            });
        }
    }
    for b in &nodes {
        let Some(part) = parts[b.crate_idx].as_mut() else {
            continue;
        };
        // Structural containment.
        if let Some(p) = b.parent {
            part.edges.push(Edge {
                src: nodes[p].id,
                kind: EdgeKind::Contains,
                dst: b.id,
                line: b.span.start_line,
            });
        }
        part.nodes.push(to_node(b, &nodes, crates));
    }
    for part in parts.iter_mut().flatten() {
        dedup_edges(part);
        part.canonicalize();
    }
    (parts, ifaces)
}

type ExportsOf = (Vec<Def>, Vec<(u32, String, u32)>);

fn dedup_edges(g: &mut Graph) {
    // One row per (src, kind, dst): the first line wins.
    g.edges.sort_by_key(|e| (e.src, e.kind, e.dst, e.line));
    g.edges
        .dedup_by(|a, b| a.src == b.src && a.kind == b.kind && a.dst == b.dst);
    g.unresolved
        .sort_by(|a, b| (a.src, a.kind, &a.text, a.line).cmp(&(b.src, b.kind, &b.text, b.line)));
    g.unresolved
        .dedup_by(|a, b| a.src == b.src && a.kind == b.kind && a.text == b.text);
}

fn make_node<'a>(
    nodes: &[B<'a>],
    parent: usize,
    raw: &'a RawItem,
    file: &str,
    ci: usize,
    idx: usize,
) -> B<'a> {
    let p = &nodes[parent];
    let module_node = if p.is_module() { parent } else { p.scope };
    let m = &nodes[module_node];
    let (path, display, module) = match raw.kind {
        ItemKind::Module => {
            let module = if m.module.is_empty() {
                raw.name.clone()
            } else {
                format!("{}::{}", m.module, raw.name)
            };
            (
                format!("{}::{}", m.path, raw.name),
                raw.name.clone(),
                module,
            )
        }
        ItemKind::Impl => (
            format!("{}::<{}>", m.path, raw.name),
            raw.name.clone(),
            m.module.clone(),
        ),
        ItemKind::Method | ItemKind::AssocConst | ItemKind::AssocType => {
            match (&p.kind, p.raw.map(|r| &r.detail)) {
                (
                    ItemKind::Impl,
                    Some(Detail::Impl {
                        self_name,
                        trait_name,
                        ..
                    }),
                ) => {
                    let path = match trait_name {
                        Some(t) => format!("{}::<{} as {}>::{}", m.path, self_name, t, raw.name),
                        None => format!("{}::{}::{}", m.path, self_name, raw.name),
                    };
                    (
                        path,
                        format!("{}::{}", self_name, raw.name),
                        m.module.clone(),
                    )
                }
                _ => (
                    format!("{}::{}", p.path, raw.name),
                    format!("{}::{}", p.name, raw.name),
                    m.module.clone(),
                ),
            }
        }
        ItemKind::Field | ItemKind::Variant => (
            format!("{}::{}", p.path, raw.name),
            format!("{}::{}", p.display, raw.name),
            m.module.clone(),
        ),
        ItemKind::Use => (
            format!("{}::{{use {}}}", m.path, raw.name),
            raw.name.clone(),
            m.module.clone(),
        ),
        ItemKind::ExternBlock => (
            format!("{}::{{{}}}", m.path, raw.name),
            raw.name.clone(),
            m.module.clone(),
        ),
        _ => (
            format!("{}::{}", m.path, raw.name),
            raw.name.clone(),
            m.module.clone(),
        ),
    };
    let mut cfg = p.cfg.clone();
    for c in &raw.cfg {
        if !cfg.contains(c) {
            cfg.push(c.clone());
        }
    }
    B {
        kind: raw.kind,
        name: raw.name.clone(),
        display,
        path,
        module,
        file: file.to_string(),
        span: raw.span,
        cfg,
        is_test: raw.test_marker || p.is_test,
        parent: Some(parent),
        crate_idx: ci,
        scope: if raw.kind == ItemKind::Module {
            idx
        } else {
            module_node
        },
        raw: Some(raw),
        file_docs: String::new(),
        id: NodeId(0),
    }
}

/// Ids from (crate key, path, kind); twins get their cfg, then an ordinal, as disambiguator.
fn assign_ids(nodes: &mut [B], crates: &[CrateInput]) {
    let keys: Vec<String> = crates.iter().map(|c| c.key()).collect();
    let mut groups: FxHashMap<(usize, &str, ItemKind), Vec<usize>> = FxHashMap::default();
    for (i, b) in nodes.iter().enumerate() {
        groups
            .entry((b.crate_idx, b.path.as_str(), b.kind))
            .or_default()
            .push(i);
    }
    let mut ids = vec![NodeId(0); nodes.len()];
    for ((ci, path, kind), members) in &groups {
        if members.len() == 1 {
            ids[members[0]] = NodeId::new(&keys[*ci], path, *kind, "");
            continue;
        }
        // Twins are told apart by their cfg text, then by an ordinal. A cfg text can itself
        // look like `x#1`, so every disambiguator is checked against those already taken.
        let mut next: FxHashMap<String, usize> = FxHashMap::default();
        let mut taken: fxhash::FxHashSet<String> = fxhash::FxHashSet::default();
        for &i in members {
            let cfg = combined_cfg(&nodes[i].cfg);
            let n = next.entry(cfg.clone()).or_insert(0);
            let mut dis = if *n == 0 {
                cfg.clone()
            } else {
                format!("{cfg}#{n}")
            };
            while taken.contains(&dis) {
                *n += 1;
                dis = format!("{cfg}#{n}");
            }
            *n += 1;
            taken.insert(dis.clone());
            ids[i] = NodeId::new(&keys[*ci], path, *kind, &dis);
        }
    }
    for (b, id) in nodes.iter_mut().zip(ids) {
        b.id = id;
    }
}

fn to_node(b: &B, nodes: &[B], crates: &[CrateInput]) -> Node {
    let raw = b.raw;
    Node {
        id: b.id,
        kind: b.kind,
        crate_name: crates[b.crate_idx].name.clone(),
        name: b.name.clone(),
        display_name: b.display.clone(),
        path: b.path.clone(),
        module: b.module.clone(),
        file: b.file.clone(),
        span: b.span,
        visibility: raw
            .map(|r| r.visibility.clone())
            .unwrap_or(Visibility::Public),
        docs: {
            // A file module's docs: those on its `mod` item, then those inside its file.
            let own = raw.map(|r| r.docs.as_str()).unwrap_or_default();
            match (own.is_empty(), b.file_docs.is_empty()) {
                (_, true) => own.to_string(),
                (true, false) => b.file_docs.clone(),
                (false, false) => format!("{own}\n{}", b.file_docs),
            }
        },
        attrs: raw.map(|r| r.attrs.clone()).unwrap_or_default(),
        cfg: combined_cfg(&b.cfg),
        signature: raw.map(|r| r.signature.clone()).unwrap_or_default(),
        content_hash: raw.map(|r| r.content_hash).unwrap_or_default(),
        is_test: b.is_test,
        parent: b.parent.map(|p| nodes[p].id),
    }
}
