//! Discovery without cargo: read the `Cargo.toml` files and apply Cargo's rules.
//!
//! Used when `cargo metadata` is missing or refuses the project (a broken lock file, a published
//! crate from the registry cache, a manifest naming paths that are not there, ...). It follows
//! Cargo's rules where they matter for finding source files, and is more lenient than Cargo
//! where Cargo would give up: a member that cannot be read, or a target whose file is missing,
//! is skipped with a warning instead of failing the whole workspace.
//!
//! What it understands:
//! - the workspace root: a `[workspace]` table in the manifest itself, `package.workspace`, or
//!   the first enclosing `[workspace]` that lists the package as a member;
//! - members: `[workspace] members` with globs (`*`, `?`, `[a-z]`, `**`), `exclude`, the root
//!   package, and path dependencies inside the workspace root (transitively), as Cargo does;
//! - `[package]` `name`, `version` and `edition`, including `version.workspace = true`
//!   inheritance from `[workspace.package]` (defaults `0.0.0` and `2015`);
//! - targets: `[lib]`, `[[bin]]`, `[[example]]`, `[[test]]`, `[[bench]]`, `build`, and
//!   Cargo's auto-discovery (`src/lib.rs`, `src/main.rs`, `src/bin/*.rs`, `src/bin/*/main.rs`,
//!   `examples/`, `tests/`, `benches/`, `build.rs`) with `autolib`, `autobins`, `autoexamples`,
//!   `autotests` and `autobenches`, and the 2015-edition rule that explicit targets of a kind
//!   turn off auto-discovery of that kind.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Component, Path, PathBuf};

use ploke_core::TargetKind;
use toml::{Table, Value};

use crate::{canonical, crate_name, DiscoverError, DiscoveryMethod, Package, Target, Workspace};

/// Discover the workspace around the package or workspace whose manifest is in `manifest_dir`.
pub(crate) fn discover(manifest_dir: &Path) -> Result<Workspace, DiscoverError> {
    let mut reader = Reader::default();
    let start_dir = canonical(manifest_dir);
    let start = reader.read(&start_dir)?;
    if !start.contains_key("package")
        && !start.contains_key("project")
        && !start.contains_key("workspace")
    {
        return Err(DiscoverError::InvalidManifest {
            path: start_dir.join("Cargo.toml"),
            reason: "it has neither a [package] nor a [workspace] table".into(),
        });
    }

    let root_dir = find_root(&mut reader, &start_dir, &start)?;
    let root = reader.read(&root_dir)?;
    let member_dirs = if root.contains_key("workspace") {
        members(&mut reader, &root_dir, &root)
    } else {
        vec![root_dir.clone()]
    };
    let ws_package = root
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(Value::as_table)
        .cloned();

    let mut packages = Vec::new();
    for dir in member_dirs {
        let manifest = match reader.read(&dir) {
            Ok(m) => m,
            Err(e) => {
                reader
                    .warnings
                    .push(format!("skipped workspace member: {e}"));
                continue;
            }
        };
        match package(&dir, &manifest, ws_package.as_ref(), &mut reader.warnings) {
            Some(pkg) => packages.push(pkg),
            None if dir == root_dir => {} // a virtual manifest
            None => reader.warnings.push(format!(
                "skipped workspace member {}: its Cargo.toml has no [package] name",
                dir.display()
            )),
        }
    }

    Ok(Workspace {
        root: root_dir,
        packages,
        method: DiscoveryMethod::ManifestFallback,
        warnings: reader.warnings,
    })
}

/// Reads and caches manifests; collects warnings.
#[derive(Default)]
struct Reader {
    cache: HashMap<PathBuf, Table>,
    warnings: Vec<String>,
}

impl Reader {
    /// The parsed `Cargo.toml` in `dir` (canonical).
    fn read(&mut self, dir: &Path) -> Result<Table, DiscoverError> {
        if let Some(t) = self.cache.get(dir) {
            return Ok(t.clone());
        }
        let path = dir.join("Cargo.toml");
        let text = fs::read_to_string(&path).map_err(|source| DiscoverError::ReadManifest {
            path: path.clone(),
            source,
        })?;
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            DiscoverError::ParseManifest {
                path: path.clone(),
                line,
                message: e.message().trim().to_string(),
            }
        })?;
        self.cache.insert(dir.to_path_buf(), table.clone());
        Ok(table)
    }
}

/// The workspace root for the manifest in `start_dir`.
fn find_root(
    reader: &mut Reader,
    start_dir: &Path,
    start: &Table,
) -> Result<PathBuf, DiscoverError> {
    if start.contains_key("workspace") {
        return Ok(start_dir.to_path_buf());
    }
    if let Some(rel) = package_table(start)
        .and_then(|p| p.get("workspace"))
        .and_then(Value::as_str)
    {
        let dir = start_dir.join(rel);
        let dir = dir
            .canonicalize()
            .map_err(|source| DiscoverError::ReadManifest {
                path: dir.join("Cargo.toml"),
                source,
            })?;
        return Ok(dir);
    }
    for ancestor in start_dir.ancestors().skip(1) {
        if !ancestor.join("Cargo.toml").is_file() {
            continue;
        }
        let manifest = match reader.read(ancestor) {
            Ok(m) => m,
            Err(e) => {
                reader
                    .warnings
                    .push(format!("ignored an enclosing manifest: {e}"));
                continue;
            }
        };
        let Some(ws) = manifest.get("workspace").and_then(Value::as_table) else {
            continue;
        };
        if is_excluded(ancestor, ws, start_dir) {
            continue;
        }
        if members(reader, ancestor, &manifest)
            .iter()
            .any(|m| m == start_dir)
        {
            return Ok(ancestor.to_path_buf());
        }
        reader.warnings.push(format!(
            "{} is not a member of the workspace at {}; treated it as a workspace of its own",
            start_dir.display(),
            ancestor.display()
        ));
        break;
    }
    Ok(start_dir.to_path_buf())
}

/// Cargo's rule: excluded when under an `exclude` path and not under a literal `members` path.
fn is_excluded(root_dir: &Path, ws: &Table, dir: &Path) -> bool {
    let under = |key: &str| {
        string_list(ws.get(key))
            .iter()
            .any(|p| dir.starts_with(normalize(&root_dir.join(p))))
    };
    under("exclude") && !under("members")
}

/// Canonical directories of all members of the workspace rooted at `root_dir`, in discovery
/// order, without duplicates.
fn members(reader: &mut Reader, root_dir: &Path, root: &Table) -> Vec<PathBuf> {
    let empty = Table::new();
    let ws = root
        .get("workspace")
        .and_then(Value::as_table)
        .unwrap_or(&empty);
    let ws_deps = ws.get("dependencies").and_then(Value::as_table).cloned();
    let mut found: Vec<PathBuf> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |dir: PathBuf, found: &mut Vec<PathBuf>| {
        if seen.insert(dir.clone()) {
            found.push(dir);
        }
    };

    if package_table(root).is_some() {
        push(root_dir.to_path_buf(), &mut found);
    }
    for pattern in string_list(ws.get("members")) {
        let is_glob = pattern.contains(['*', '?', '[']);
        let dirs = expand(root_dir, &pattern);
        if dirs.is_empty() && !is_glob {
            reader.warnings.push(format!(
                "workspace member `{pattern}` in {} does not exist",
                root_dir.join("Cargo.toml").display()
            ));
        }
        for dir in dirs {
            if is_excluded(root_dir, ws, &normalize(&dir)) {
                continue;
            }
            if dir.join("Cargo.toml").is_file() {
                push(canonical(&dir), &mut found);
            } else if dir.is_dir() {
                reader.warnings.push(format!(
                    "workspace member {} (from `{pattern}`) has no Cargo.toml; skipped it",
                    dir.display()
                ));
            }
        }
    }

    // Path dependencies inside the workspace root are members too, transitively.
    let mut i = 0;
    while i < found.len() {
        let dir = found[i].clone();
        i += 1;
        let Ok(manifest) = reader.read(&dir) else {
            continue;
        };
        for dep in path_deps(&manifest, &dir, root_dir, ws_deps.as_ref()) {
            if dep.join("Cargo.toml").is_file() {
                let dep = canonical(&dep);
                if dep.starts_with(root_dir) && !is_excluded(root_dir, ws, &dep) {
                    push(dep, &mut found);
                }
            }
        }
    }
    found
}

/// Directories named by `path` dependencies (also through `workspace = true`).
fn path_deps(
    manifest: &Table,
    dir: &Path,
    root_dir: &Path,
    ws_deps: Option<&Table>,
) -> Vec<PathBuf> {
    const KEYS: [&str; 5] = [
        "dependencies",
        "dev-dependencies",
        "dev_dependencies",
        "build-dependencies",
        "build_dependencies",
    ];
    let mut tables: Vec<&Table> = KEYS
        .iter()
        .filter_map(|k| manifest.get(*k).and_then(Value::as_table))
        .collect();
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for cfg in targets.values().filter_map(Value::as_table) {
            tables.extend(
                KEYS.iter()
                    .filter_map(|k| cfg.get(*k).and_then(Value::as_table)),
            );
        }
    }
    let mut out = Vec::new();
    for table in tables {
        for (name, dep) in table {
            let Some(dep) = dep.as_table() else { continue };
            if let Some(p) = dep.get("path").and_then(Value::as_str) {
                out.push(normalize(&dir.join(p)));
            } else if dep.get("workspace").and_then(Value::as_bool) == Some(true) {
                if let Some(p) = ws_deps
                    .and_then(|d| d.get(name))
                    .and_then(|d| d.get("path"))
                    .and_then(Value::as_str)
                {
                    out.push(normalize(&root_dir.join(p)));
                }
            }
        }
    }
    out
}

/// `[package]` (or the old `[project]`).
fn package_table(manifest: &Table) -> Option<&Table> {
    manifest
        .get("package")
        .or_else(|| manifest.get("project"))
        .and_then(Value::as_table)
}

/// The package in `dir`, or `None` when the manifest has no `[package]` name.
fn package(
    dir: &Path,
    manifest: &Table,
    ws_package: Option<&Table>,
    warnings: &mut Vec<String>,
) -> Option<Package> {
    let pkg = package_table(manifest)?;
    let name = pkg.get("name")?.as_str()?.to_string();
    let inherited = |key: &str| -> Option<String> {
        match pkg.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Table(t) if t.get("workspace").and_then(Value::as_bool) == Some(true) => {
                ws_package?.get(key)?.as_str().map(str::to_string)
            }
            _ => None,
        }
    };
    let version = inherited("version").unwrap_or_else(|| "0.0.0".into());
    let edition = inherited("edition").unwrap_or_else(|| "2015".into());
    let targets = targets(dir, manifest, pkg, &name, &edition, warnings);
    Some(Package {
        name,
        version,
        manifest_dir: dir.to_path_buf(),
        rel_dir: String::new(),
        edition,
        targets,
    })
}

/// One kind of array-of-tables target (`[[bin]]` etc.) and its discovery rules.
struct Kind {
    kind: TargetKind,
    key: &'static str,
    auto_key: &'static str,
    dir: &'static str,
}

const ARRAY_KINDS: [Kind; 4] = [
    Kind {
        kind: TargetKind::Bin,
        key: "bin",
        auto_key: "autobins",
        dir: "src/bin",
    },
    Kind {
        kind: TargetKind::Example,
        key: "example",
        auto_key: "autoexamples",
        dir: "examples",
    },
    Kind {
        kind: TargetKind::Test,
        key: "test",
        auto_key: "autotests",
        dir: "tests",
    },
    Kind {
        kind: TargetKind::Bench,
        key: "bench",
        auto_key: "autobenches",
        dir: "benches",
    },
];

fn targets(
    dir: &Path,
    manifest: &Table,
    pkg: &Table,
    pkg_name: &str,
    edition: &str,
    warnings: &mut Vec<String>,
) -> Vec<Target> {
    let mut out = Vec::new();
    let mut add = |name: &str, kind: TargetKind, path: PathBuf, warnings: &mut Vec<String>| {
        if path.is_file() {
            out.push(Target {
                name: crate_name(name),
                kind,
                root_file: canonical(&path),
            });
        } else {
            warnings.push(format!(
                "skipped {} target `{name}` of package `{pkg_name}`: {} does not exist",
                kind.as_str(),
                path.display()
            ));
        }
    };

    // The library.
    let auto = |key: &str| pkg.get(key).and_then(Value::as_bool) != Some(false);
    if let Some(lib) = manifest.get("lib").and_then(Value::as_table) {
        let name = lib.get("name").and_then(Value::as_str).unwrap_or(pkg_name);
        let path = lib
            .get("path")
            .and_then(Value::as_str)
            .map(|p| dir.join(p))
            .unwrap_or_else(|| dir.join("src/lib.rs"));
        add(name, TargetKind::Lib, path, warnings);
    } else if auto("autolib") && dir.join("src/lib.rs").is_file() {
        add(pkg_name, TargetKind::Lib, dir.join("src/lib.rs"), warnings);
    }

    // Binaries, examples, tests, benches.
    for kind in &ARRAY_KINDS {
        let mut inferred = infer_dir(&dir.join(kind.dir));
        if kind.kind == TargetKind::Bin && dir.join("src/main.rs").is_file() {
            inferred.insert(0, (pkg_name.to_string(), dir.join("src/main.rs")));
        }
        let explicit: Vec<&Table> = manifest
            .get(kind.key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_table).collect())
            .unwrap_or_default();
        let mut names = BTreeSet::new();
        let mut paths = BTreeSet::new();
        for t in explicit {
            let path = t.get("path").and_then(Value::as_str).map(|p| dir.join(p));
            let name = match (t.get("name").and_then(Value::as_str), &path) {
                (Some(n), _) => n.to_string(),
                (None, Some(p)) => match name_from_path(p) {
                    Some(n) => n,
                    None => continue,
                },
                (None, None) => {
                    warnings.push(format!(
                        "skipped a [[{}]] of package `{pkg_name}` with neither name nor path",
                        kind.key
                    ));
                    continue;
                }
            };
            let path = path.unwrap_or_else(|| {
                inferred
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, p)| p.clone())
                    .unwrap_or_else(|| dir.join(kind.dir).join(format!("{name}.rs")))
            });
            names.insert(name.clone());
            paths.insert(normalize(&path));
            add(&name, kind.kind, path, warnings);
        }
        let autodiscover = match pkg.get(kind.auto_key).and_then(Value::as_bool) {
            Some(flag) => flag,
            // The 2015 edition: explicit targets of a kind turn off its auto-discovery.
            None => edition != "2015" || names.is_empty(),
        };
        if autodiscover {
            for (name, path) in inferred {
                if !names.contains(&name) && !paths.contains(&normalize(&path)) {
                    add(&name, kind.kind, path, warnings);
                }
            }
        }
    }

    // The build script.
    let build = match pkg.get("build") {
        Some(Value::String(p)) => Some(dir.join(p)),
        Some(Value::Boolean(false)) => None,
        Some(Value::Boolean(true)) => Some(dir.join("build.rs")),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str).map(|p| dir.join(p)),
        _ => Some(dir.join("build.rs")).filter(|p| p.is_file()),
    };
    if let Some(path) = build {
        add(
            "build-script-build",
            TargetKind::BuildScript,
            path,
            warnings,
        );
    }
    out
}

/// Auto-discovered targets in a directory: `*.rs` files and `*/main.rs`, sorted by name.
fn infer_dir(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_file() {
            if let Some(stem) = file_name.strip_suffix(".rs") {
                out.push((stem.to_string(), path));
            }
        } else if path.is_dir() && path.join("main.rs").is_file() {
            out.push((file_name.to_string(), path.join("main.rs")));
        }
    }
    out.sort();
    out
}

/// A target name from its path: the file stem, or the directory name for a `main.rs`.
fn name_from_path(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    if stem == "main" {
        if let Some(parent) = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
        {
            if parent != "src" {
                return Some(parent.to_string());
            }
        }
    }
    Some(stem.to_string())
}

/// Strings from a TOML array (non-strings ignored).
fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Lexically resolve `.` and `..` (no file system access).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Expand a `members` entry into the existing directories it names.
fn expand(root_dir: &Path, pattern: &str) -> Vec<PathBuf> {
    let pattern = pattern.replace('\\', "/");
    let mut current = vec![if Path::new(&pattern).is_absolute() {
        PathBuf::from("/")
    } else {
        root_dir.to_path_buf()
    }];
    for seg in pattern.split('/') {
        current = match seg {
            "" | "." => current,
            ".." => current
                .into_iter()
                .map(|p| p.parent().map(Path::to_path_buf).unwrap_or(p))
                .collect(),
            "**" => {
                let mut all = Vec::new();
                for p in current {
                    descendants(&p, &mut all, 0);
                }
                all
            }
            s if s.contains(['*', '?', '[']) => current
                .iter()
                .flat_map(|p| {
                    subdirs(p).into_iter().filter(|d| {
                        d.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| glob_match(s, n))
                    })
                })
                .collect(),
            s => current
                .into_iter()
                .map(|p| p.join(s))
                .filter(|p| p.exists())
                .collect(),
        };
    }
    let mut seen = BTreeSet::new();
    current.retain(|p| seen.insert(p.clone()));
    current
}

/// Subdirectories of `dir`, sorted.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// `dir` and every directory below it, not following links, skipping hidden and `target` dirs.
fn descendants(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    out.push(dir.to_path_buf());
    if depth > 32 {
        return;
    }
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut children: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && n != "target")
        })
        .collect();
    children.sort();
    for child in children {
        descendants(&child, out, depth + 1);
    }
}

/// Shell-style match of one path segment: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|i| go(&p[1..], &n[i..])),
            Some('?') => !n.is_empty() && go(&p[1..], &n[1..]),
            Some('[') => {
                let Some(close) = p.iter().skip(2).position(|&c| c == ']').map(|i| i + 2) else {
                    return n.first() == Some(&'[') && go(&p[1..], &n[1..]);
                };
                let Some(&c) = n.first() else { return false };
                let mut class = &p[1..close];
                let negate = matches!(class.first(), Some('!') | Some('^'));
                if negate {
                    class = &class[1..];
                }
                let mut hit = false;
                let mut i = 0;
                while i < class.len() {
                    if i + 2 < class.len() && class[i + 1] == '-' {
                        hit |= class[i] <= c && c <= class[i + 2];
                        i += 3;
                    } else {
                        hit |= class[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(&p[close + 1..], &n[1..])
            }
            Some(&c) => n.first() == Some(&c) && go(&p[1..], &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*", "abc"));
        assert!(glob_match("a*c", "abbbc"));
        assert!(!glob_match("a*c", "abd"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("[a-c]x", "bx"));
        assert!(!glob_match("[!a-c]x", "bx"));
        assert!(glob_match("ploke-*", "ploke-core"));
        assert!(!glob_match("ploke-*", "xtask"));
    }

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }

    #[test]
    fn names_from_paths() {
        assert_eq!(
            name_from_path(Path::new("src/bin/foo/main.rs")).as_deref(),
            Some("foo")
        );
        assert_eq!(
            name_from_path(Path::new("src/bin/bar.rs")).as_deref(),
            Some("bar")
        );
        assert_eq!(
            name_from_path(Path::new("src/main.rs")).as_deref(),
            Some("main")
        );
    }
}
