//! [`Dependency`]: a dependency crate attached to an index by hand, as `ploke index --deps`
//! attaches one: its files written under a directory of the test's (absolute paths, as cargo's
//! registry holds them), its crate, files, items and edges written to the dependency store the
//! index names (`ploke_db::DEPS_STORE_KEY`), its texts not stored.

use std::path::{Path, PathBuf};

use ploke_core::{
    ContentHash, CrateRecord, Edge, EdgeKind, FileRecord, Graph, ItemKind, Node, NodeId, Span,
    TargetKind, Visibility,
};

/// A library crate of a dependency, written to disk, with the items a test gives it.
pub struct Dependency {
    /// The package directory (absolute): `<dir>/<package>-<version>/`.
    pub root: PathBuf,
    /// The crate name as paths write it (`dep_crate` for package `dep-crate`).
    pub name: String,
    pub package: String,
    pub version: String,
    /// The id of the crate root node.
    pub root_id: NodeId,
    graph: Graph,
    texts: Vec<(String, String)>,
}

impl Dependency {
    /// Package `package` `version` at `<dir>/<package>-<version>/` with `files` (path relative
    /// to the package, text) written there; `src/lib.rs` must be one of them (the crate root,
    /// spanning the whole file).
    pub fn new(dir: &Path, package: &str, version: &str, files: &[(&str, &str)]) -> Dependency {
        let root = dir.join(format!("{package}-{version}"));
        let name = package.replace('-', "_");
        let mut graph = Graph::default();
        let mut texts = Vec::new();
        for (rel, text) in files {
            let abs = root.join(rel);
            std::fs::create_dir_all(abs.parent().unwrap()).unwrap();
            std::fs::write(&abs, text).unwrap_or_else(|e| panic!("writing {}: {e}", abs.display()));
            let path = abs.to_str().expect("a UTF-8 temp path").to_string();
            graph.files.push(FileRecord {
                path: path.clone(),
                rel_path: rel.to_string(),
                crate_name: name.clone(),
                hash: ContentHash::of(text.as_bytes()),
                size: text.len() as u64,
                lines: text.lines().count() as u32,
            });
            texts.push((path, text.to_string()));
        }
        let root_file = root.join("src/lib.rs").to_str().unwrap().to_string();
        let lib = &texts
            .iter()
            .find(|(p, _)| *p == root_file)
            .expect("a dependency needs src/lib.rs")
            .1;
        let root_id = NodeId::new(&name, &name, ItemKind::Crate, "");
        graph.nodes.push(Node {
            id: root_id,
            kind: ItemKind::Crate,
            crate_name: name.clone(),
            name: name.clone(),
            display_name: name.clone(),
            path: name.clone(),
            module: String::new(),
            file: root_file.clone(),
            span: span_of(lib, 0, lib.len()),
            visibility: Visibility::Public,
            docs: String::new(),
            attrs: Vec::new(),
            cfg: String::new(),
            signature: String::new(),
            content_hash: ContentHash::of(lib.as_bytes()),
            is_test: false,
            parent: None,
        });
        graph.crates.push(CrateRecord {
            id: root_id,
            name: name.clone(),
            package: package.to_string(),
            version: version.to_string(),
            kind: TargetKind::Lib,
            package_root: root.to_str().unwrap().to_string(),
            root_file,
        });
        Dependency {
            root,
            name,
            package: package.to_string(),
            version: version.to_string(),
            root_id,
            graph,
            texts,
        }
    }

    /// The absolute path of package file `rel`, as the graph names it.
    pub fn path(&self, rel: &str) -> String {
        self.root.join(rel).to_str().unwrap().to_string()
    }

    /// Adds an item of `kind` at `path` inside the crate (`client::handshake`: name
    /// `handshake`, module `client`), a child of the crate root, whose text is the first
    /// occurrence of `text` in file `rel` (doc comments above it become its docs when `text`
    /// starts with them). Its signature is `text` up to its first `{` or `;`.
    #[track_caller]
    pub fn item(&mut self, rel: &str, kind: ItemKind, path: &str, text: &str) -> NodeId {
        let file = self.path(rel);
        let src = &self
            .texts
            .iter()
            .find(|(p, _)| *p == file)
            .unwrap_or_else(|| panic!("no file {rel} in {}", self.package))
            .1;
        let start = src
            .find(text)
            .unwrap_or_else(|| panic!("`{text}` is not in {rel}"));
        let (module, name) = path.rsplit_once("::").unwrap_or(("", path));
        let full = format!("{}::{path}", self.name);
        let docs: Vec<&str> = text
            .lines()
            .map(str::trim_start)
            .take_while(|l| l.starts_with("///"))
            .map(|l| l.trim_start_matches('/').trim())
            .collect();
        let code = text.lines().skip(docs.len()).collect::<Vec<_>>().join("\n");
        let signature = code
            .split(['{', ';'])
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let id = NodeId::new(&self.name, &full, kind, "");
        self.graph.nodes.push(Node {
            id,
            kind,
            crate_name: self.name.clone(),
            name: name.to_string(),
            display_name: name.to_string(),
            path: full,
            module: module.to_string(),
            file,
            span: span_of(src, start, start + text.len()),
            visibility: Visibility::Public,
            docs: docs.join("\n"),
            attrs: Vec::new(),
            cfg: String::new(),
            signature,
            content_hash: ContentHash::of(text.as_bytes()),
            is_test: false,
            parent: Some(self.root_id),
        });
        self.graph.edges.push(Edge {
            src: self.root_id,
            kind: EdgeKind::Contains,
            dst: id,
            line: 1,
        });
        id
    }

    /// The crate's graph: its crate record, files, crate root and items, and their edges.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Attaches the crate to the index in `db`, plus `edges` (from the workspace's items to
    /// this crate's, say), as `ploke index` attaches dependencies: its records go to the
    /// dependency store the index names (a new one beside the index directory,
    /// `<index dir>-deps`, for the first), its texts nowhere; `edges` join the index, which
    /// names the store, in one commit of the next generation.
    pub fn attach(&self, db: &ploke_db::Db, edges: &[Edge]) {
        let store = match db.get_meta(ploke_db::DEPS_STORE_KEY).unwrap() {
            Some(s) if !s.is_empty() => PathBuf::from(s),
            _ => {
                let dir = db.path().parent().expect("an index on disk");
                let mut name = dir.file_name().unwrap().to_os_string();
                name.push("-deps");
                dir.with_file_name(name)
            }
        };
        {
            let deps = ploke_db::Db::open(&store)
                .unwrap_or_else(|e| panic!("opening {}: {e}", store.display()));
            let g = &self.graph;
            let delta = ploke_core::GraphDelta {
                put_crates: g.crates.clone(),
                put_files: g.files.clone(),
                put_nodes: g.nodes.clone(),
                put_edges: g.edges.clone(),
                ..Default::default()
            };
            deps.apply(&delta, &[], &[])
                .unwrap_or_else(|e| panic!("attaching {}: {e}", self.package));
        }
        let old = db.load_graph().expect("loading the stored graph");
        let mut new = old.clone();
        new.edges.extend(edges.iter().cloned());
        new.canonicalize();
        let generation = db.generation().expect("reading the generation") + 1;
        let store = store.to_str().unwrap();
        db.commit_with_meta(
            &Graph::diff(&old, &new),
            &[],
            &[],
            generation,
            &[(ploke_db::DEPS_STORE_KEY, store)],
        )
        .unwrap_or_else(|e| panic!("attaching {}: {e}", self.package));
    }

    /// Overwrites package file `rel` (to make it differ from what was indexed).
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    }
}

/// The span of `text[start..end]`.
fn span_of(text: &str, start: usize, end: usize) -> Span {
    let line = |b: usize| text[..b].matches('\n').count() as u32 + 1;
    Span {
        start_byte: start as u32,
        end_byte: end as u32,
        start_line: line(start),
        end_line: line(end.saturating_sub(1).max(start)),
    }
}
