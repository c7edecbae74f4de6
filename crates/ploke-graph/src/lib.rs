//! From parsed files to a resolved code graph.
//!
//! Input: for each compilation target, its module tree as a list of [`ModuleFile`]s (the root
//! file first, each other file tied to the `mod foo;` item that declares it). Output: a
//! [`ploke_core::Graph`] of nodes with stable ids, canonical paths, combined `cfg`s and test
//! flags, the structural edges (contains, implements, impl-for), and the reference edges
//! (calls, uses-type, imports, re-exports) resolved through the module tree, `use` trees,
//! globs, renames and re-exports. What cannot be resolved is kept as
//! [`ploke_core::Unresolved`] text. Pure and deterministic: the same input gives the same graph.

mod build;
mod externs;
mod resolve;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use ploke_core::TargetKind;
use ploke_parse::ParsedFile;

pub use build::{build_graph, build_parts, build_with_interfaces};
pub use externs::{ExtItem, Externs, Interface};

/// One compilation target to turn into nodes.
#[derive(Debug, Clone)]
pub struct CrateInput<'a> {
    /// Crate name as used in paths (`tokio`, `bat`).
    pub name: String,
    pub package: String,
    pub version: String,
    pub kind: TargetKind,
    /// Workspace-relative package directory.
    pub package_root: String,
    /// The module tree; `modules[0]` is the root file.
    pub modules: Vec<ModuleFile<'a>>,
    /// For a dependency built on its own: where it comes from (a registry, a git revision, a
    /// path), so that two versions or sources of one crate get different ids. `None` for
    /// workspace targets.
    pub source: Option<String>,
    /// The crates built elsewhere that this target's code names (its dependencies).
    pub externs: Option<Arc<Externs>>,
}

impl CrateInput<'_> {
    /// What makes this target's ids unique: a lib and a bin may share a name; a dependency's
    /// version and source are part of its key.
    pub fn key(&self) -> String {
        match &self.source {
            None => format!("{}/{}/{}", self.package, self.kind.as_str(), self.name),
            Some(src) => format!(
                "{}@{}#{src}/{}/{}",
                self.package,
                self.version,
                self.kind.as_str(),
                self.name
            ),
        }
    }
}

/// Calls `f` with every path the items of `parsed` write: references, imports, impl self
/// types and traits, and an `extern crate` as a path of its one name. The first segments of
/// these name the library crates a target reads (its context: see [`build_parts`]).
pub fn for_each_path(parsed: &ParsedFile, mut f: impl FnMut(&[String])) {
    use ploke_parse::Detail;
    for item in &parsed.items {
        for r in &item.refs {
            f(&r.path);
        }
        match &item.detail {
            Detail::Use { entries } => {
                for e in entries {
                    f(&e.path);
                }
            }
            Detail::Impl {
                self_path,
                trait_path,
                ..
            } => {
                f(self_path);
                if let Some(t) = trait_path {
                    f(t);
                }
            }
            Detail::ExternCrate { crate_name } => f(std::slice::from_ref(crate_name)),
            _ => {}
        }
    }
}

/// One file of a module tree.
#[derive(Debug, Clone)]
pub struct ModuleFile<'a> {
    /// Workspace-relative path.
    pub path: String,
    pub parsed: &'a ParsedFile,
    /// `(index of the declaring file in `modules`, index of the `mod` item in its items)`;
    /// `None` for the root. The declaring file comes earlier in the list.
    pub declared_by: Option<(usize, u32)>,
}
