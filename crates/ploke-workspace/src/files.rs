//! Listing a package's Rust source files.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;

use crate::{Package, Workspace};

/// Every `.rs` file of `pkg`, sorted, as absolute paths under [`Package::manifest_dir`].
///
/// The walk honours `.gitignore` files (also outside a git repository), `.git/info/exclude` and
/// `.ignore` files, but not the user's global git excludes, so that the same tree gives the same
/// list on every machine. It skips:
/// - hidden files and directories;
/// - Cargo output: a `target/` directory at the package or workspace root, and any directory
///   tagged with `CACHEDIR.TAG`;
/// - directories of other packages nested inside this one: other workspace members, and (as
///   `cargo package` does) any subdirectory holding its own `Cargo.toml`.
///
/// Symbolic links to directories are not followed (so link loops cannot hang the walk); a
/// symbolic link to a file is listed (under its own path) when it resolves to a file inside the
/// workspace root. Unreadable entries are skipped.
pub fn rust_files(ws: &Workspace, pkg: &Package) -> Vec<PathBuf> {
    let pkg_dir = pkg.manifest_dir.clone();
    let ws_root = ws.root.clone();
    let nested: Vec<PathBuf> = ws
        .packages
        .iter()
        .map(|p| p.manifest_dir.clone())
        .filter(|d| *d != pkg_dir && d.starts_with(&pkg_dir))
        .collect();

    let mut builder = WalkBuilder::new(&pkg_dir);
    builder
        .standard_filters(true)
        .hidden(true)
        .ignore(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .parents(true)
        .require_git(false)
        .follow_links(false);
    {
        let pkg_dir = pkg_dir.clone();
        let ws_root = ws_root.clone();
        builder.filter_entry(move |entry| {
            if entry.depth() == 0 {
                return true;
            }
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            if !is_dir {
                return true;
            }
            let path = entry.path();
            !skip_dir(path, &pkg_dir, &ws_root, &nested)
        });
    }

    let mut files = Vec::new();
    for entry in builder.build() {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                tracing::debug!(%err, "skipping unreadable entry");
                continue;
            }
        };
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_file() {
            files.push(path.to_path_buf());
        } else if file_type.is_symlink() {
            match path.canonicalize() {
                Ok(target) if target.is_file() && target.starts_with(&ws_root) => {
                    files.push(path.to_path_buf())
                }
                Ok(target) => {
                    tracing::debug!(link = %path.display(), target = %target.display(), "skipping symlink that leaves the workspace or is no file")
                }
                Err(err) => {
                    tracing::debug!(link = %path.display(), %err, "skipping broken symlink")
                }
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

fn skip_dir(path: &Path, pkg_dir: &Path, ws_root: &Path, nested: &[PathBuf]) -> bool {
    if path.file_name().is_some_and(|n| n == "target")
        && path.parent().is_some_and(|p| p == pkg_dir || p == ws_root)
    {
        return true;
    }
    if path.join("CACHEDIR.TAG").is_file() {
        return true;
    }
    if nested.iter().any(|n| n == path) {
        return true;
    }
    path.join("Cargo.toml").is_file()
}
