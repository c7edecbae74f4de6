//! Property tests of `build_graph` on random module trees of generated items.
//!
//! Names come from small pools so references resolve often, cfg twins and same-named items
//! in different modules are common, and re-exports, globs and impls of other modules' types
//! happen. Properties: node ids are unique; every edge endpoint, unresolved source, parent and
//! crate root is a node; the build is deterministic; and adding an unrelated item to one file
//! leaves every other node's id (and path) unchanged.
//!
//! Raise the case count locally with `PROPTEST_CASES=2000 cargo test -p ploke-graph --test prop`.

use std::collections::{BTreeMap, HashMap, HashSet};

use ploke_core::{EdgeKind, Graph, ItemKind, NodeId, TargetKind};
use ploke_graph::{build_graph, CrateInput, ModuleFile};
use ploke_parse::{parse_file, Detail, ParseOptions, ParsedFile};
use proptest::prelude::*;

const FNS: &[&str] = &["alpha", "beta", "gamma", "new"];
const TYPES: &[&str] = &["Foo", "Bar", "Baz"];
const TRAITS: &[&str] = &["Show", "Tr"];
const MODS: &[&str] = &["a", "b", "c"];
const CFGS: &[&str] = &["unix", "windows", "test", "feature = \"x\""];

/// A path as written in code: a prefix, then a name from one of the pools.
fn path_to(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    (
        // Repeats weight the prefixes that resolve most often.
        prop::sample::select(
            &[
                "",
                "",
                "",
                "crate::",
                "crate::",
                "self::",
                "super::",
                "super::",
                "crate::a::",
                "crate::a::",
                "crate::a::b::",
                "b::",
                "other::",
                "std::",
            ][..],
        ),
        prop::sample::select(names),
    )
        .prop_map(|(p, n)| format!("{p}{n}"))
}

#[derive(Debug, Clone)]
enum Gen {
    Fn {
        name: &'static str,
        arg: String,
        calls: Vec<String>,
    },
    Struct {
        name: &'static str,
        fields: Vec<String>,
    },
    Enum {
        name: &'static str,
    },
    Trait {
        name: &'static str,
    },
    Impl {
        ty: String,
        tr: Option<String>,
        methods: Vec<(&'static str, String)>,
    },
    Use {
        path: String,
        alias: Option<&'static str>,
        glob: bool,
        public: bool,
    },
    Const {
        ty: String,
    },
    Macro {
        name: &'static str,
    },
    MacroCall {
        items: Vec<(Option<&'static str>, Gen)>,
    },
    Mod {
        name: &'static str,
        items: Vec<(Option<&'static str>, Gen)>,
    },
}

fn leaf() -> impl Strategy<Value = Gen> {
    let call = prop_oneof![
        path_to(FNS).prop_map(|p| format!("{p}();")),
        path_to(TYPES).prop_map(|p| format!("let _v = {p}::new();")),
        path_to(TYPES).prop_map(|p| format!("let _v: {p} = todo!();")),
        prop::sample::select(FNS).prop_map(|m| format!("x.{m}();")),
        prop::sample::select(&["mac", "println", "other::mac"][..])
            .prop_map(|m| format!("{m}!();")),
        path_to(TYPES).prop_map(|p| format!("let _e = {p}::Unit;")),
    ];
    prop_oneof![
        3 => (prop::sample::select(FNS), path_to(TYPES), prop::collection::vec(call.clone(), 0..4))
            .prop_map(|(name, arg, calls)| Gen::Fn { name, arg, calls }),
        2 => (prop::sample::select(TYPES), prop::collection::vec(path_to(TYPES), 0..3))
            .prop_map(|(name, fields)| Gen::Struct { name, fields }),
        1 => prop::sample::select(TYPES).prop_map(|name| Gen::Enum { name }),
        1 => prop::sample::select(TRAITS).prop_map(|name| Gen::Trait { name }),
        2 => (
            path_to(TYPES),
            prop::option::of(path_to(TRAITS)),
            prop::collection::vec((prop::sample::select(FNS), call), 0..3),
        )
            .prop_map(|(ty, tr, methods)| Gen::Impl { ty, tr, methods }),
        2 => (
            prop_oneof![path_to(FNS), path_to(TYPES), path_to(TRAITS), path_to(MODS)],
            prop::option::of(prop::sample::select(&["renamed", "Other", "_"][..])),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(path, alias, glob, public)| Gen::Use { path, alias, glob, public }),
        1 => path_to(TYPES).prop_map(|ty| Gen::Const { ty }),
        1 => prop::sample::select(&["mac", "other_mac"][..]).prop_map(|name| Gen::Macro { name }),
    ]
}

fn item() -> impl Strategy<Value = (Option<&'static str>, Gen)> {
    let cfg = prop::option::weighted(0.25, prop::sample::select(CFGS));
    (cfg, leaf()).prop_recursive(2, 24, 4, |inner| {
        prop_oneof![
            4 => (prop::option::weighted(0.25, prop::sample::select(CFGS)), leaf()),
            1 => (
                prop::option::weighted(0.25, prop::sample::select(CFGS)),
                prop::sample::select(MODS),
                prop::collection::vec(inner.clone(), 0..4),
            )
                .prop_map(|(c, name, items)| (c, Gen::Mod { name, items })),
            1 => prop::collection::vec(inner, 1..3).prop_map(|items| (None, Gen::MacroCall { items })),
        ]
    })
}

fn render_items(items: &[(Option<&'static str>, Gen)], out: &mut String) {
    for (cfg, g) in items {
        if let Some(c) = cfg {
            out.push_str(&format!("#[cfg({c})]\n"));
        }
        render(g, out);
        out.push('\n');
    }
}

fn render(g: &Gen, out: &mut String) {
    match g {
        Gen::Fn { name, arg, calls } => {
            out.push_str(&format!("pub fn {name}(x: {arg}) -> u32 {{\n"));
            for c in calls {
                out.push_str(&format!("    {c}\n"));
            }
            out.push_str("    0\n}");
        }
        Gen::Struct { name, fields } => {
            out.push_str(&format!("pub struct {name} {{"));
            for (i, f) in fields.iter().enumerate() {
                out.push_str(&format!(" pub f{i}: {f},"));
            }
            out.push_str(" }");
        }
        Gen::Enum { name } => out.push_str(&format!(
            "pub enum {name} {{ Unit, Tup(u8), Rec {{ x: u8 }} }}"
        )),
        Gen::Trait { name } => out.push_str(&format!(
            "pub trait {name} {{ fn show(&self) -> u32; fn beta(&self) {{}} }}"
        )),
        Gen::Impl { ty, tr, methods } => {
            match tr {
                Some(t) => out.push_str(&format!("impl {t} for {ty} {{\n")),
                None => out.push_str(&format!("impl {ty} {{\n")),
            }
            for (m, body) in methods {
                out.push_str(&format!("    pub fn {m}(&self) {{ {body} }}\n"));
            }
            out.push('}');
        }
        Gen::Use {
            path,
            alias,
            glob,
            public,
        } => {
            let vis = if *public { "pub " } else { "" };
            match (glob, alias) {
                (true, _) => out.push_str(&format!("{vis}use {path}::*;")),
                (false, Some(a)) => out.push_str(&format!("{vis}use {path} as {a};")),
                (false, None) => out.push_str(&format!("{vis}use {path};")),
            }
        }
        Gen::Const { ty } => out.push_str(&format!("pub const LIMIT: {ty} = {ty}::new();")),
        Gen::Macro { name } => out.push_str(&format!(
            "#[macro_export]\nmacro_rules! {name} {{ () => {{}}; }}"
        )),
        Gen::MacroCall { items } => {
            out.push_str("cfg_any! {\n");
            render_items(items, out);
            out.push('}');
        }
        Gen::Mod { name, items } => {
            out.push_str(&format!("pub mod {name} {{\n"));
            render_items(items, out);
            out.push('}');
        }
    }
}

/// One file of a module tree: its items, and the out-of-line child modules it declares.
#[derive(Debug, Clone)]
struct FileSpec {
    items: Vec<(Option<&'static str>, Gen)>,
    /// `(position among the items, name, file)`; names are distinct per file.
    children: Vec<(usize, &'static str, FileSpec)>,
}

fn file_spec(depth: u32) -> BoxedStrategy<FileSpec> {
    let items = prop::collection::vec(item(), 0..6);
    if depth == 0 {
        return items
            .prop_map(|items| FileSpec {
                items,
                children: Vec::new(),
            })
            .boxed();
    }
    (
        items,
        prop::sample::subsequence(MODS, 0..=2),
        prop::collection::vec((any::<prop::sample::Index>(), file_spec(depth - 1)), 2),
    )
        .prop_map(|(items, names, mut subs)| {
            let n = items.len() + 1;
            let children = names
                .into_iter()
                .zip(subs.drain(..))
                .map(|(name, (at, f))| (at.index(n), name, f))
                .collect();
            FileSpec { items, children }
        })
        .boxed()
}

#[derive(Debug, Clone)]
struct CrateSpec {
    name: &'static str,
    kind: TargetKind,
    root: FileSpec,
}

fn crates() -> impl Strategy<Value = Vec<CrateSpec>> {
    let one = (
        prop::sample::select(&["demo", "other"][..]),
        prop::sample::select(&[TargetKind::Lib, TargetKind::Bin][..]),
        file_spec(2),
    )
        .prop_map(|(name, kind, root)| CrateSpec { name, kind, root });
    prop::collection::vec(one, 1..=2).prop_filter("target keys must differ", |cs| {
        cs.len() < 2 || (cs[0].name, cs[0].kind) != (cs[1].name, cs[1].kind)
    })
}

/// One rendered and parsed file: `(path, text, parsed, declared_by as (file, mod name))`.
type FileRow = (String, String, ParsedFile, Option<(usize, &'static str)>);

/// A crate's files, in depth-first order (declaring file first).
struct Files {
    files: Vec<FileRow>,
}

fn render_file(spec: &FileSpec) -> String {
    let mut out = String::new();
    let mut children = spec.children.iter().peekable();
    for i in 0..=spec.items.len() {
        while let Some((_, name, _)) = children.next_if(|(at, _, _)| *at <= i) {
            out.push_str(&format!("pub mod {name};\n"));
        }
        if let Some(it) = spec.items.get(i) {
            render_items(std::slice::from_ref(it), &mut out);
        }
    }
    out
}

fn collect_files(
    spec: &FileSpec,
    path: String,
    dir: String,
    declared_by: Option<(usize, &'static str)>,
    out: &mut Files,
) {
    let text = render_file(spec);
    let parsed = parse_file(&text, &ParseOptions::default());
    let me = out.files.len();
    out.files.push((path, text, parsed, declared_by));
    for (_, name, child) in &spec.children {
        collect_files(
            child,
            format!("{dir}/{name}.rs"),
            format!("{dir}/{name}"),
            Some((me, name)),
            out,
        );
    }
}

fn files_of(c: &CrateSpec) -> Files {
    let mut f = Files { files: Vec::new() };
    let root = if c.kind == TargetKind::Lib {
        "lib"
    } else {
        "main"
    };
    // Each target gets its own directory so that two targets never give one path two texts.
    let dir = format!("{}/src-{root}", c.name);
    collect_files(&c.root, format!("{dir}/{root}.rs"), dir, None, &mut f);
    f
}

/// The index of the top-level `mod name;` item in a parsed file.
fn mod_item(p: &ParsedFile, name: &str) -> u32 {
    p.items
        .iter()
        .position(|i| {
            i.parent.is_none()
                && i.name == name
                && matches!(i.detail, Detail::Module { inline: false, .. })
        })
        .unwrap_or_else(|| panic!("no `mod {name};` item")) as u32
}

fn inputs<'a>(specs: &[CrateSpec], files: &'a [Files]) -> Vec<CrateInput<'a>> {
    specs
        .iter()
        .zip(files)
        .map(|(c, f)| CrateInput {
            source: None,
            externs: None,
            name: c.name.to_string(),
            package: c.name.to_string(),
            version: "0.1.0".into(),
            kind: c.kind,
            package_root: c.name.to_string(),
            modules: f
                .files
                .iter()
                .map(|(path, _, parsed, decl)| ModuleFile {
                    path: path.clone(),
                    parsed,
                    declared_by: decl.map(|(fi, name)| (fi, mod_item(&f.files[fi].2, name))),
                })
                .collect(),
        })
        .collect()
}

fn build(specs: &[CrateSpec]) -> (Vec<Files>, Graph) {
    let files: Vec<Files> = specs.iter().map(files_of).collect();
    let g = build_graph(&inputs(specs, &files));
    (files, g)
}

fn check_graph(g: &Graph, files: &[Files]) -> Result<(), TestCaseError> {
    let mut ids = HashSet::new();
    for n in &g.nodes {
        prop_assert!(
            ids.insert(n.id),
            "duplicate id {} for {} `{}`",
            n.id,
            n.kind,
            n.path
        );
    }
    let texts: HashMap<&str, &str> = files
        .iter()
        .flat_map(|f| f.files.iter().map(|(p, t, _, _)| (p.as_str(), t.as_str())))
        .collect();
    let contains: HashSet<(NodeId, NodeId)> = g
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Contains)
        .map(|e| (e.src, e.dst))
        .collect();
    for n in &g.nodes {
        match n.parent {
            Some(p) => {
                prop_assert!(ids.contains(&p), "parent of `{}` is not a node", n.path);
                prop_assert!(
                    contains.contains(&(p, n.id)),
                    "no contains edge to `{}` from its parent",
                    n.path
                );
            }
            None => prop_assert_eq!(n.kind, ItemKind::Crate, "`{}` has no parent", n.path),
        }
        let text = texts.get(n.file.as_str());
        prop_assert!(
            text.is_some(),
            "node `{}` in unknown file {}",
            n.path,
            n.file
        );
        if n.kind != ItemKind::Crate {
            let len = text.map_or(0, |t| t.len()) as u32;
            prop_assert!(
                n.span.start_byte <= n.span.end_byte && n.span.end_byte <= len,
                "span of `{}`",
                n.path
            );
            prop_assert!(
                1 <= n.span.start_line && n.span.start_line <= n.span.end_line,
                "lines of `{}`",
                n.path
            );
        }
    }
    for c in &g.crates {
        prop_assert!(ids.contains(&c.id), "crate {} has no root node", c.name);
    }
    for e in &g.edges {
        prop_assert!(
            ids.contains(&e.src) && ids.contains(&e.dst),
            "edge {:?} has a missing endpoint",
            e
        );
        prop_assert!(
            e.line >= 1 || e.kind == EdgeKind::Contains,
            "edge {:?} without a line",
            e
        );
    }
    for u in &g.unresolved {
        prop_assert!(
            ids.contains(&u.src),
            "unresolved {:?} from a missing node",
            u
        );
    }
    Ok(())
}

fn id_map(g: &Graph) -> BTreeMap<NodeId, (ItemKind, String, String)> {
    g.nodes
        .iter()
        .map(|n| (n.id, (n.kind, n.path.clone(), n.cfg.clone())))
        .collect()
}

/// 128 cases unless `PROPTEST_CASES` says otherwise; no regression files are written.
fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 128;
    }
    c.failure_persistence = None;
    c
}

proptest! {
    #![proptest_config(config())]

    /// Ids are unique, every reference in the graph is to a node, and spans fit their files.
    #[test]
    fn graph_is_well_formed(specs in crates()) {
        let (files, g) = build(&specs);
        for f in &files {
            for (path, text, parsed, _) in &f.files {
                prop_assert!(parsed.issues.is_empty(), "generated file {} does not parse: {:?}\n{}", path, parsed.issues, text);
            }
        }
        check_graph(&g, &files)?;
    }

    /// The same input gives the same graph: twice from the same parse, and from a fresh parse;
    /// canonicalizing the (already canonical) result changes nothing.
    #[test]
    fn build_is_deterministic(specs in crates()) {
        let (files, g1) = build(&specs);
        let g2 = build_graph(&inputs(&specs, &files));
        prop_assert_eq!(&g1, &g2);
        let (_, mut g3) = build(&specs);
        prop_assert_eq!(&g1, &g3);
        g3.canonicalize();
        prop_assert_eq!(&g1, &g3);
    }

    /// The order in which targets are given does not matter to the canonical graph.
    #[test]
    fn crate_order_does_not_matter(specs in crates()) {
        let (_, g1) = build(&specs);
        let rev: Vec<CrateSpec> = specs.iter().rev().cloned().collect();
        let (_, g2) = build(&rev);
        prop_assert_eq!(g1, g2);
    }

    /// Adding an unrelated item to one file keeps every other node's id, kind, path and cfg.
    #[test]
    fn ids_are_stable_under_unrelated_additions(
        specs in crates(),
        which_crate in any::<prop::sample::Index>(),
        which_file in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        kind in 0u8..4,
    ) {
        let (_, before) = build(&specs);
        let mut specs2 = specs.clone();
        let c = which_crate.index(specs2.len());
        // Pick a file of that crate, in the same depth-first order `collect_files` uses.
        fn nth_file<'s>(spec: &'s mut FileSpec, n: &mut usize) -> Option<&'s mut FileSpec> {
            if *n == 0 {
                return Some(spec);
            }
            *n -= 1;
            for (_, _, child) in &mut spec.children {
                if let Some(f) = nth_file(child, n) {
                    return Some(f);
                }
            }
            None
        }
        let count = files_of(&specs2[c]).files.len();
        let mut n = which_file.index(count);
        let file = nth_file(&mut specs2[c].root, &mut n).expect("file index in range");
        let fresh = match kind {
            0 => Gen::Fn { name: "zz_unrelated", arg: "u8".into(), calls: vec![] },
            1 => Gen::Mod { name: "zz_unrelated", items: vec![(None, Gen::Fn { name: "zz_inner", arg: "u8".into(), calls: vec![] })] },
            2 => Gen::MacroCall { items: vec![(None, Gen::Fn { name: "zz_unrelated", arg: "u8".into(), calls: vec![] })] },
            _ => Gen::Trait { name: "ZzUnrelated" },
        };
        let pos = at.index(file.items.len() + 1);
        file.items.insert(pos, (None, fresh));
        let (_, after) = build(&specs2);
        let old = id_map(&before);
        let new = id_map(&after);
        for (id, what) in &old {
            prop_assert_eq!(new.get(id), Some(what), "node {} changed or vanished", id);
        }
        let added: Vec<_> = new.iter().filter(|(id, _)| !old.contains_key(id)).map(|(_, w)| w.1.clone()).collect();
        prop_assert!(!added.is_empty(), "nothing added");
        for p in &added {
            prop_assert!(p.contains("zz_") || p.contains("ZzUnrelated"), "unexpected new node {}", p);
        }
    }
}

fn one_file_graph(src: &str) -> Graph {
    let parsed = parse_file(src, &ParseOptions::default());
    let input = CrateInput {
        source: None,
        externs: None,
        name: "demo".into(),
        package: "demo".into(),
        version: "0.1.0".into(),
        kind: TargetKind::Lib,
        package_root: String::new(),
        modules: vec![ModuleFile {
            path: "src/lib.rs".into(),
            parsed: &parsed,
            declared_by: None,
        }],
    };
    build_graph(&[input])
}

fn duplicate_ids(g: &Graph) -> Vec<String> {
    let mut seen = HashMap::new();
    let mut dups = Vec::new();
    for n in &g.nodes {
        if let Some(prev) = seen.insert(n.id, (n.path.clone(), n.cfg.clone())) {
            dups.push(format!("{} {:?} / {:?}", n.id, prev, (&n.path, &n.cfg)));
        }
    }
    dups
}

/// Regression (found by probing the twin disambiguator): the ordinal suffix `#1` given to the
/// second of two same-path items with the same cfg is also the text of the cfg predicate `#1`,
/// so a third twin written `#[cfg(#1)]` gets the same id as the second. rustc rejects that cfg,
/// but `parse_file` accepts it, so ids are not unique for every input the parser reads.
#[test]
fn twin_ordinal_does_not_collide_with_cfg_text() {
    let g = one_file_graph("fn a() {}\nfn a() {}\n#[cfg(#1)]\nfn a() {}\n");
    assert_eq!(duplicate_ids(&g), Vec::<String>::new());
    let g = one_file_graph(
        "#[cfg(unix)]\nfn a() {}\n#[cfg(unix)]\nfn a() {}\n#[cfg(unix#1)]\nfn a() {}\n",
    );
    assert_eq!(duplicate_ids(&g), Vec::<String>::new());
}
