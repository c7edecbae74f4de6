//! The CozoDB schema: relations, their columns and indices.
//!
//! | relation     | key                           | values                                   |
//! |--------------|-------------------------------|------------------------------------------|
//! | `meta`       | `key`                         | `value`                                  |
//! | `crates`     | `id`                          | `name, package, version, kind, package_root, root_file` |
//! | `files`      | `path`                        | `rel_path, crate_name, hash, size, lines` |
//! | `sources`    | `path`                        | `text`                                   |
//! | `nodes`      | `id`                          | see [`NODE_COLS`]                        |
//! | `edges`      | `src, kind, dst, line`        | —                                        |
//! | `edges_in`   | `dst, kind, src, line`        | —                                        |
//! | `unresolved` | `src, kind, text, line`       | —                                        |
//! | `skipped`    | `path, line, reason, whole_file` | —                                     |
//! | `embeddings` | `model, hash`                 | `vec` (little-endian `f32` bytes)        |
//!
//! Node ids are stored as `Int` (the same 64 bits, see `NodeId::as_i64`); hashes as 32-digit
//! lower-case hex; kinds and visibility as their text forms. Edges, unresolved references and
//! skip records are keyed by the whole row, exactly as `Graph::diff` treats them, so any graph
//! round-trips. Indices: `nodes:by_name`, `nodes:by_display` and `nodes:by_path`.
//!
//! `edges_in` holds every edge a second time, keyed from its destination (for callers,
//! implementations, `edges_to`). It plays the part of an index on `edges` but is written by
//! [`crate::Db::apply`] itself, in the same transaction: edges are keyed by the whole row, so
//! the reverse row of a removed edge is known without a read, and a relation with no index
//! costs CozoDB no existence check per written row (a CozoDB index would, for 60k edges).

/// The version of the schema below. Bump it whenever a relation, column or index changes: a
/// store with another version is refused with [`crate::DbError::SchemaMismatch`].
pub const SCHEMA_VERSION: i64 = 3;

/// Older versions that [`SCHEMA_VERSION`] only adds relations to: such a store is upgraded in
/// place by creating the missing relations (version 2 added `embeddings`, version 3 the
/// analysis relations).
pub(crate) const UPGRADABLE_FROM: &[i64] = &[1, 2];

/// The `meta` key that holds [`SCHEMA_VERSION`].
pub(crate) const SCHEMA_VERSION_KEY: &str = "schema_version";

/// Relation names and their `:create` bodies, in creation order. `meta` comes first.
pub(crate) const RELATIONS: &[(&str, &str)] = &[
    ("meta", "{key: String => value: String}"),
    (
        "crates",
        "{id: Int => name: String, package: String, version: String, kind: String, \
         package_root: String, root_file: String}",
    ),
    (
        "files",
        "{path: String => rel_path: String, crate_name: String, hash: String, size: Int, \
         lines: Int}",
    ),
    ("sources", "{path: String => text: String}"),
    (
        "nodes",
        "{id: Int => kind: String, crate_name: String, name: String, display_name: String, \
         path: String, module: String, file: String, start_byte: Int, end_byte: Int, \
         start_line: Int, end_line: Int, vis: String, docs: String, attrs: [String], \
         cfg: String, signature: String, hash: String, test: Bool, parent: Int?}",
    ),
    ("edges", "{src: Int, kind: String, dst: Int, line: Int}"),
    ("edges_in", "{dst: Int, kind: String, src: Int, line: Int}"),
    (
        "unresolved",
        "{src: Int, kind: String, text: String, line: Int}",
    ),
    (
        "skipped",
        "{path: String, line: Int, reason: String, whole_file: Bool}",
    ),
    ("embeddings", "{model: String, hash: String => vec: Bytes}"),
    // What `ploke-analyze` derived from the graph (written with the delta it follows).
    ("tests_of", "{item: Int, test: Int => depth: Int}"),
    ("dead", "{id: Int => reason: String}"),
    ("module_deps", "{src: Int, dst: Int => uses: Int}"),
    ("cycles", "{cycle: Int, module: Int}"),
    (
        "api",
        "{generation: Int, crate_name: String, path: String, kind: String => id: Int, \
         signature: String}",
    ),
    (
        "metrics",
        "{id: Int => hash: String, lines: Int, body_lines: Int, nesting: Int, cyclomatic: Int, \
         unsafe_blocks: Int, unwraps: Int, expects: Int, panics: Int}",
    ),
];

/// Indices as `(relation, index name, columns)`.
pub(crate) const INDICES: &[(&str, &str, &str)] = &[
    ("nodes", "by_name", "{name}"),
    ("nodes", "by_display", "{display_name}"),
    ("nodes", "by_path", "{path}"),
];

/// Columns of `nodes`, in stored order (key first). Every node query selects these.
pub(crate) const NODE_COLS: [&str; 20] = [
    "id",
    "kind",
    "crate_name",
    "name",
    "display_name",
    "path",
    "module",
    "file",
    "start_byte",
    "end_byte",
    "start_line",
    "end_line",
    "vis",
    "docs",
    "attrs",
    "cfg",
    "signature",
    "hash",
    "test",
    "parent",
];

/// Columns of `crates`, in stored order.
pub(crate) const CRATE_COLS: [&str; 7] = [
    "id",
    "name",
    "package",
    "version",
    "kind",
    "package_root",
    "root_file",
];

/// Columns of `files`, in stored order.
pub(crate) const FILE_COLS: [&str; 6] = ["path", "rel_path", "crate_name", "hash", "size", "lines"];

/// Columns of `sources`, in stored order.
pub(crate) const SOURCE_COLS: [&str; 2] = ["path", "text"];

/// Columns of `edges`, in stored order (all key).
pub(crate) const EDGE_COLS: [&str; 4] = ["src", "kind", "dst", "line"];

/// Columns of `edges_in`, in stored order (all key).
pub(crate) const EDGE_IN_COLS: [&str; 4] = ["dst", "kind", "src", "line"];

/// Columns of `unresolved`, in stored order (all key).
pub(crate) const UNRESOLVED_COLS: [&str; 4] = ["src", "kind", "text", "line"];

/// Columns of `skipped`, in stored order (all key).
pub(crate) const SKIPPED_COLS: [&str; 4] = ["path", "line", "reason", "whole_file"];

/// `a, b, c`: the columns as a comma-separated binding list.
pub(crate) fn col_list(cols: &[&str]) -> String {
    cols.join(", ")
}
