//! What operations return: plain data, serializable, that every front end renders its own way.
//! Files are named relative to the workspace root (a dependency's by its absolute path), and
//! every item names its package and crate, so a result is unambiguous in a workspace of many
//! crates; an item of a dependency attached to the index says so (`dependency`, `version`).

use serde::Serialize;

use ploke_core::Node;
use ploke_retrieve::Signals;

/// The version of the JSON these types serialize to; raised when a field changes meaning or
/// goes away (new fields do not raise it).
pub const SCHEMA_VERSION: u32 = 1;

/// An item, as results refer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRef {
    /// Stable id (hex).
    pub id: String,
    /// `fn`, `method`, `struct`, `impl`, …
    pub kind: String,
    /// `Type::method`, `spawn`, `impl Display for Error`.
    pub name: String,
    /// Canonical path: `tokio::runtime::Builder::enable_io`.
    pub path: String,
    /// The package the item belongs to (`None` only for an index written before packages
    /// were recorded).
    pub package: Option<String>,
    /// The crate (target) name: `tokio`, or a binary's name.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// The file, relative to the workspace root; absolute for a dependency's item.
    pub file: String,
    /// 1-based first line (a crate root shows line 1).
    pub start_line: u32,
    /// 1-based last line.
    pub end_line: u32,
    /// Whether the item belongs to a dependency attached to the index (read-only: ploke
    /// never edits it); only written when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dependency: bool,
    /// The dependency's version (dependencies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether the item is test code (a `#[test]` function, or inside `#[cfg(test)]` or a
    /// test target); only written when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
}

impl ItemRef {
    /// The reference to `n`, in `package` (and, for a dependency's item, its `version`).
    pub fn of(n: &Node, package: Option<&str>, version: Option<&str>) -> ItemRef {
        let dependency = n.is_dependency();
        ItemRef {
            id: n.id.to_hex(),
            kind: n.kind.as_str().to_string(),
            name: n.display_name.clone(),
            path: n.path.clone(),
            package: package.map(str::to_string),
            crate_name: n.crate_name.clone(),
            file: n.file.clone(),
            start_line: n.span.start_line.max(1),
            end_line: n.span.end_line.max(1),
            dependency,
            version: version.filter(|_| dependency).map(str::to_string),
            test: n.is_test,
        }
    }

    /// The reference to `n`, an item of `corpus`, with the package and version it records.
    pub fn in_corpus(n: &Node, corpus: &ploke_retrieve::Corpus) -> ItemRef {
        ItemRef::of(
            n,
            corpus.package.get(&n.file).map(String::as_str),
            corpus.version.get(&n.file).map(String::as_str),
        )
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    #[serde(flatten)]
    pub item: ItemRef,
    /// The file relative to its package's directory.
    pub package_file: String,
    /// Higher is better; comparable within one result list.
    pub score: f32,
    /// Why it ranked where it did: each signal scaled to `[0, 1]`.
    pub signals: Signals,
}

/// A relation to another item, with the line where it happens (a call site).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    #[serde(flatten)]
    pub item: ItemRef,
    /// The line of the relation.
    pub line: u32,
}

/// An item with its source and relations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemView {
    #[serde(flatten)]
    pub item: ItemRef,
    pub signature: String,
    /// `pub`, `pub(crate)`, … (empty: private).
    pub visibility: String,
    pub docs: String,
    /// The combined `cfg` in force (empty: none).
    pub cfg: String,
    pub attrs: Vec<String>,
    pub is_test: bool,
    /// The exact text of its span (empty when the index holds no text for its file).
    pub source: String,
    /// The whitespace before it on its first line.
    pub indent: String,
    pub module: Option<ItemRef>,
    pub parent: Option<ItemRef>,
    pub callers: Vec<Related>,
    pub callees: Vec<Related>,
    pub implementations: Vec<ItemRef>,
    pub implements: Vec<ItemRef>,
    /// Calls that could not be resolved: `text (line N)`.
    pub unresolved_calls: Vec<String>,
}

/// What an index run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexSummary {
    pub workspace: String,
    pub db: String,
    /// Workspace packages indexed.
    pub packages: usize,
    /// Their targets (library, binaries, tests, examples, benches): each a crate to rustc.
    pub targets: usize,
    pub files: usize,
    pub lines: u64,
    pub items: usize,
    pub edges: usize,
    pub unresolved: usize,
    pub parsed_files: usize,
    pub delta_rows: usize,
    pub generation: u64,
    /// `file:line: reason`, once per file.
    pub problems: Vec<String>,
    /// `.rs` files no target's module tree reaches (not indexed).
    pub orphan_files: Vec<String>,
    /// Warnings from workspace discovery.
    pub warnings: Vec<String>,
    /// Milliseconds per stage.
    pub stages_ms: Vec<(String, f64)>,
    /// The embedding stage, when it ran.
    pub embed: Option<EmbedSummary>,
    /// The dependencies attached, when this run attached them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deps: Option<ploke_index::DepsReport>,
    /// The embedding of the dependencies' items, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embed_deps: Option<EmbedSummary>,
}

/// What the embedding stage did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbedSummary {
    /// The model's id (vectors are stored per model).
    pub model: String,
    pub stats: ploke_retrieve::embedding::EmbedStats,
    pub items_per_s: f64,
}

impl IndexSummary {
    pub(crate) fn of(r: &ploke_index::IndexReport) -> IndexSummary {
        IndexSummary {
            workspace: r.workspace_root.display().to_string(),
            db: r.db_dir.display().to_string(),
            packages: 0,
            targets: r.crates,
            files: r.files,
            lines: r.lines,
            items: r.nodes,
            edges: r.edges,
            unresolved: r.unresolved,
            parsed_files: r.parsed_files,
            delta_rows: r.delta_rows,
            generation: r.generation,
            problems: r.skipped.iter().map(|s| s.to_string()).collect(),
            orphan_files: r.orphan_files.clone(),
            warnings: r.warnings.clone(),
            stages_ms: r
                .stages
                .iter()
                .map(|(n, d)| (n.to_string(), d.as_secs_f64() * 1000.0))
                .collect(),
            embed: None,
            deps: r.deps.clone(),
            embed_deps: None,
        }
    }
}
