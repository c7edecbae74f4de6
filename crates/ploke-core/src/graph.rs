//! The records of the code graph: what the resolver produces and the database stores.

use std::fmt;
use std::str::FromStr;

use crate::{ContentHash, ItemKind, NodeId, Span};

/// Declared visibility of an item.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// No modifier (private to the module, or inherited for trait items / enum variants).
    Private,
    Public,
    Crate,
    Super,
    /// `pub(in path)`; the path as written.
    Restricted(String),
}

impl Visibility {
    pub fn as_text(&self) -> String {
        match self {
            Visibility::Private => String::new(),
            Visibility::Public => "pub".into(),
            Visibility::Crate => "pub(crate)".into(),
            Visibility::Super => "pub(super)".into(),
            Visibility::Restricted(p) => format!("pub(in {p})"),
        }
    }

    pub fn from_text(s: &str) -> Self {
        match s {
            "" => Visibility::Private,
            "pub" => Visibility::Public,
            "pub(crate)" => Visibility::Crate,
            "pub(super)" => Visibility::Super,
            other => Visibility::Restricted(
                other
                    .strip_prefix("pub(in ")
                    .and_then(|r| r.strip_suffix(')'))
                    .unwrap_or(other)
                    .to_string(),
            ),
        }
    }
}

/// One indexed item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub kind: ItemKind,
    /// The crate (package target) name, e.g. `tokio`, or `bat` for a binary target.
    pub crate_name: String,
    /// The item's own name: `spawn`, `JoinHandle`, `impl Future for JoinHandle`.
    pub name: String,
    /// The name as the benchmark writes it: `Type::method`, `Trait::method`, `impl Trait for Type`,
    /// plain names for everything else.
    pub display_name: String,
    /// Canonical path from the crate root: `tokio::runtime::Builder::new`,
    /// `tokio::task::<JoinHandle as Future>::poll`.
    pub path: String,
    /// Module path inside the crate (`runtime::builder`; empty at the root).
    pub module: String,
    /// Workspace-relative path of the file that holds the item.
    pub file: String,
    pub span: Span,
    pub visibility: Visibility,
    pub docs: String,
    /// Attributes other than doc comments, as written (`#[inline]`, `#[derive(Debug)]`).
    pub attrs: Vec<String>,
    /// The combined `cfg` predicate in force for the item (its own and its parents'), or empty.
    pub cfg: String,
    /// The declaration without its body: `pub fn spawn<F>(future: F) -> JoinHandle<F::Output>`.
    pub signature: String,
    /// Hash of the item's exact source text.
    pub content_hash: ContentHash,
    /// Test code: `#[test]`, `#[cfg(test)]`, inside a tests module or a tests/ target.
    pub is_test: bool,
    /// The containing item (module, impl, trait, type), or `None` for a crate root.
    pub parent: Option<NodeId>,
}

impl Node {
    /// Whether the item belongs to a dependency attached to the index (read-only), not to
    /// the workspace: see [`is_dependency_path`].
    pub fn is_dependency(&self) -> bool {
        is_dependency_path(&self.file)
    }
}

/// Whether a graph path (`Node::file`, `FileRecord::path`, `CrateRecord::package_root`)
/// names a dependency's file. Workspace files are workspace-relative; the files of an
/// attached dependency (cargo's registry or git checkouts, a path dependency outside the
/// workspace) are absolute.
pub fn is_dependency_path(path: &str) -> bool {
    std::path::Path::new(path).is_absolute()
}

/// Relation kinds between nodes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// module → item, impl/trait → member, type → field/variant.
    Contains,
    /// impl → trait it implements.
    ImplementsTrait,
    /// impl → self type.
    ImplFor,
    /// fn → fn/method it calls (path calls and method calls).
    Calls,
    /// item → type named in its signature, fields or body.
    UsesType,
    /// `use` item → the item it imports.
    Imports,
    /// `pub use` item → the item it re-exports.
    Reexports,
}

impl EdgeKind {
    pub const ALL: [EdgeKind; 7] = [
        EdgeKind::Contains,
        EdgeKind::ImplementsTrait,
        EdgeKind::ImplFor,
        EdgeKind::Calls,
        EdgeKind::UsesType,
        EdgeKind::Imports,
        EdgeKind::Reexports,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Contains => "contains",
            EdgeKind::ImplementsTrait => "implements",
            EdgeKind::ImplFor => "impl_for",
            EdgeKind::Calls => "calls",
            EdgeKind::UsesType => "uses_type",
            EdgeKind::Imports => "imports",
            EdgeKind::Reexports => "reexports",
        }
    }
}

impl fmt::Display for EdgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EdgeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EdgeKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown edge kind `{s}`"))
    }
}

/// A resolved relation between two indexed nodes.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Edge {
    pub src: NodeId,
    pub kind: EdgeKind,
    pub dst: NodeId,
    /// 1-based line (in the source node's file) of the first occurrence; the node's own start
    /// line for structural edges.
    pub line: u32,
}

/// A relation whose target could not be resolved to an indexed node (an external crate, a
/// macro, a method call on a receiver of unknown type). Kept as text, never dropped.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Unresolved {
    pub src: NodeId,
    pub kind: EdgeKind,
    /// The path or method name as written: `std::mem::take`, `.poll_next`, `Arc`.
    pub text: String,
    pub line: u32,
}

/// Where a crate's source came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Lib,
    Bin,
    Example,
    Test,
    Bench,
    BuildScript,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Lib => "lib",
            TargetKind::Bin => "bin",
            TargetKind::Example => "example",
            TargetKind::Test => "test",
            TargetKind::Bench => "bench",
            TargetKind::BuildScript => "build",
        }
    }
}

/// One compilation target of a package (a node tree with its own root module).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CrateRecord {
    /// The root node id of this target.
    pub id: NodeId,
    /// Target name as used in paths (`tokio`, `bat`, `build_script_build`).
    pub name: String,
    pub package: String,
    pub version: String,
    pub kind: TargetKind,
    /// Workspace-relative directory of the package (the directory of its `Cargo.toml`).
    pub package_root: String,
    /// Workspace-relative path of the root source file.
    pub root_file: String,
}

/// Whether a file was indexed, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum FileStatus {
    Indexed,
    /// Parsed with errors; what parsed is indexed. The reason names the first error.
    Partial(String),
    Skipped(String),
}

/// One source file of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileRecord {
    /// Workspace-relative path.
    pub path: String,
    /// Package-relative path (what search results show as `file`).
    pub rel_path: String,
    pub crate_name: String,
    pub hash: ContentHash,
    pub size: u64,
    pub lines: u32,
}

/// A problem with one input file, reported once: `file:line: reason`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Skipped {
    pub path: String,
    pub line: u32,
    pub reason: String,
    /// True when nothing of the file was indexed; false when what parsed was kept.
    pub whole_file: bool,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.reason)
    }
}

/// A whole resolved code graph: what one index run produces.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Graph {
    pub crates: Vec<CrateRecord>,
    pub files: Vec<FileRecord>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub unresolved: Vec<Unresolved>,
    pub skipped: Vec<Skipped>,
}

impl Graph {
    /// Sort every list into its canonical order so two graphs of the same tree compare equal.
    pub fn canonicalize(&mut self) {
        self.crates.sort_by_key(|c| c.id);
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.nodes.sort_by_key(|n| n.id);
        self.edges.sort();
        self.edges.dedup();
        self.unresolved.sort();
        self.unresolved.dedup();
        self.skipped.sort();
        self.skipped.dedup();
    }
}
