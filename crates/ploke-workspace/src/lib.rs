//! Find the crates, targets and source files of a Cargo workspace.
//!
//! [`discover`] takes any path inside a Cargo project (a workspace root, a package directory,
//! a subdirectory or a file) and returns the [`Workspace`] it belongs to: every member
//! [`Package`] with its compilation [`Target`]s. It asks `cargo metadata --offline --no-deps`
//! first and, when cargo is missing or refuses the project, reads the `Cargo.toml` files
//! itself, applying Cargo's target auto-discovery rules ([`DiscoveryMethod`] says which
//! way was taken, and [`Workspace::warnings`] says why). Neither way touches the network.
//!
//! [`rust_files`] then lists the `.rs` files of one package, the way Cargo would package
//! them: honouring `.gitignore`/`.ignore`, skipping `target/`, hidden directories and the
//! directories of nested packages.

use std::path::{Path, PathBuf};

use ploke_core::TargetKind;

pub mod deps;
mod error;
mod fallback;
mod files;
mod metadata;

pub use deps::{dependencies, DepEdge, DepKind, Dependencies, Dependency, DepsScope, SourceKind};
pub use error::DiscoverError;
pub use files::rust_files;

/// A Cargo workspace (or a lone package, which Cargo treats as a workspace of one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Workspace {
    /// The workspace root: the directory of the root `Cargo.toml`, absolute and canonicalized.
    pub root: PathBuf,
    /// The workspace members, sorted by [`Package::rel_dir`] then [`Package::name`].
    pub packages: Vec<Package>,
    /// How the packages were found.
    pub method: DiscoveryMethod,
    /// Things worth telling the user: why the manifest fallback was used, targets skipped
    /// because their root file is missing, and the like. One line each.
    pub warnings: Vec<String>,
}

impl Workspace {
    /// The member package called `name`, if any.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }
}

/// How [`discover`] found a workspace's packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryMethod {
    /// `cargo metadata --format-version 1 --offline --no-deps` answered.
    CargoMetadata,
    /// The `Cargo.toml` files were read directly (cargo failed, or was not asked).
    ManifestFallback,
}

/// One workspace member.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Package {
    /// The package name as written in `[package] name` (dashes kept).
    pub name: String,
    pub version: String,
    /// The directory holding the package's `Cargo.toml`; absolute.
    pub manifest_dir: PathBuf,
    /// [`Package::manifest_dir`] relative to the workspace root, `/`-separated; `""` for the
    /// root package.
    pub rel_dir: String,
    /// `"2015"`, `"2018"`, `"2021"`, `"2024"`.
    pub edition: String,
    /// The package's targets, sorted by (kind, name), without duplicates.
    pub targets: Vec<Target>,
}

impl Package {
    /// The library target, if the package has one.
    pub fn lib(&self) -> Option<&Target> {
        self.targets.iter().find(|t| t.kind == TargetKind::Lib)
    }
}

/// One compilation target of a package: a crate with its own root module.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// The crate name as used in paths: `-` replaced by `_` (`my_tool`); a build script is
    /// `build_script_build`.
    pub name: String,
    pub kind: TargetKind,
    /// The crate root source file; absolute.
    pub root_file: PathBuf,
}

/// Knobs for [`discover_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Ask `cargo metadata` first (the default). With `false`, the `Cargo.toml` files are
    /// always read directly.
    pub use_cargo_metadata: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            use_cargo_metadata: true,
        }
    }
}

/// Find the workspace that `path` belongs to, with the default [`Options`].
///
/// `path` may be a workspace root, a package directory, a subdirectory or a file inside one:
/// the search walks up to the nearest `Cargo.toml`, and from a member package on to the root of
/// its enclosing workspace. Only workspace members are returned, never dependencies.
pub fn discover(path: &Path) -> Result<Workspace, DiscoverError> {
    discover_with(path, &Options::default())
}

/// [`discover`] with explicit [`Options`].
pub fn discover_with(path: &Path, options: &Options) -> Result<Workspace, DiscoverError> {
    let abs = path
        .canonicalize()
        .map_err(|source| DiscoverError::PathNotFound {
            path: path.to_path_buf(),
            source,
        })?;
    let start = if abs.is_dir() {
        abs.clone()
    } else {
        abs.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| abs.clone())
    };
    let manifest_dir = start
        .ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file())
        .ok_or_else(|| DiscoverError::NoManifest { path: abs.clone() })?
        .to_path_buf();

    let mut ws = if options.use_cargo_metadata {
        match metadata::discover(&manifest_dir) {
            Ok(ws) => ws,
            Err(reason) => {
                // Said once, in the warnings (or, when the manifests cannot be read either,
                // in the error): not logged as well.
                tracing::debug!(dir = %manifest_dir.display(), %reason, "cargo metadata failed; reading Cargo.toml files directly");
                let mut ws = fallback::discover(&manifest_dir)?;
                ws.warnings.insert(
                    0,
                    format!("cargo metadata failed, so the Cargo.toml files were read directly: {reason}"),
                );
                ws
            }
        }
    } else {
        let mut ws = fallback::discover(&manifest_dir)?;
        ws.warnings.insert(
            0,
            "cargo metadata was turned off, so the Cargo.toml files were read directly".to_string(),
        );
        ws
    };
    normalize(&mut ws);
    if ws.packages.is_empty() {
        ws.warnings.push(format!(
            "the workspace at {} has no member packages",
            ws.root.display()
        ));
    }
    Ok(ws)
}

/// Sort packages and targets, drop duplicate targets, recompute `rel_dir`.
fn normalize(ws: &mut Workspace) {
    for pkg in &mut ws.packages {
        pkg.rel_dir = rel_dir(&ws.root, &pkg.manifest_dir);
        pkg.targets
            .sort_by(|a, b| (a.kind, &a.name, &a.root_file).cmp(&(b.kind, &b.name, &b.root_file)));
        pkg.targets
            .dedup_by(|a, b| a.kind == b.kind && a.name == b.name);
    }
    ws.packages
        .sort_by(|a, b| (&a.rel_dir, &a.name).cmp(&(&b.rel_dir, &b.name)));
    ws.packages
        .dedup_by(|a, b| a.manifest_dir == b.manifest_dir && a.name == b.name);
}

/// `dir` relative to `root`, `/`-separated, `""` when equal; `..` steps when `dir` lies
/// outside `root`.
pub(crate) fn rel_dir(root: &Path, dir: &Path) -> String {
    let root: Vec<_> = root.components().collect();
    let dir: Vec<_> = dir.components().collect();
    let common = root.iter().zip(&dir).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..root.len() {
        parts.push("..".to_string());
    }
    for c in &dir[common..] {
        parts.push(c.as_os_str().to_string_lossy().into_owned());
    }
    parts.join("/")
}

/// The crate name as used in paths.
pub(crate) fn crate_name(name: &str) -> String {
    name.replace('-', "_")
}

/// Canonicalize, falling back to the path as given when that fails.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_dir_forms() {
        assert_eq!(rel_dir(Path::new("/a/b"), Path::new("/a/b")), "");
        assert_eq!(rel_dir(Path::new("/a/b"), Path::new("/a/b/c/d")), "c/d");
        assert_eq!(rel_dir(Path::new("/a/b"), Path::new("/a/x")), "../x");
    }
}
