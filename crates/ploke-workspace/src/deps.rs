//! The dependencies a workspace builds with: the exact version and source of each package in
//! its `Cargo.lock`, where cargo unpacked it, its library target, its enabled features, and
//! the names under which other packages refer to it (a renamed dependency, `package = "..."`,
//! is `extern crate` under its new name).
//!
//! Cargo answers (`cargo metadata --offline --filter-platform HOST`): the packages the host
//! builds, all of them already on disk. When cargo cannot answer offline (a source that was
//! never fetched), the lock file is read instead: each package is looked up in cargo's
//! registry and git caches, and those that are not there are reported as [`Missing`] with the
//! `cargo fetch` that brings them; nothing is ever downloaded here.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::{DependencyKind, MetadataCommand};
use ploke_core::TargetKind;

use crate::{canonical, crate_name, Target};

/// Which dependencies to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepsScope {
    /// None: the workspace alone.
    None,
    /// The packages the workspace's members depend on directly (normal, build and dev
    /// dependencies).
    #[default]
    Direct,
    /// Everything the members build with, transitively.
    All,
}

impl std::str::FromStr for DepsScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(DepsScope::None),
            "direct" => Ok(DepsScope::Direct),
            "all" => Ok(DepsScope::All),
            other => Err(format!("`{other}`: expected none, direct or all")),
        }
    }
}

impl DepsScope {
    pub fn as_str(self) -> &'static str {
        match self {
            DepsScope::None => "none",
            DepsScope::Direct => "direct",
            DepsScope::All => "all",
        }
    }
}

/// Where a package comes from.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum SourceKind {
    /// A registry (crates.io or another).
    Registry,
    /// A git repository at a commit.
    Git,
    /// A directory on disk (a path dependency outside the workspace).
    Path,
}

/// How a package depends on another.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum DepKind {
    Normal,
    Build,
    Dev,
}

/// One edge of the dependency graph: `extern_name` is how the dependent's code names the
/// crate (the dependency's library name, or its new name when renamed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DepEdge {
    /// The crate name in the dependent's code (`http` for `myhttp = { package = "http" }` is
    /// `myhttp`).
    pub extern_name: String,
    /// The package depended on ([`Dependency::id`]).
    pub id: String,
    /// Normal, build and/or dev.
    pub kinds: Vec<DepKind>,
}

/// A package the workspace builds with, at the exact version of the lock file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dependency {
    /// Cargo's package id (unique per name, version and source).
    pub id: String,
    pub name: String,
    pub version: String,
    pub source_kind: SourceKind,
    /// Cargo's source string (`registry+https://github.com/rust-lang/crates.io-index`,
    /// `git+https://…?rev=…#commit`), or the directory for a path dependency.
    pub source: String,
    /// Where its `Cargo.toml` is.
    pub manifest_dir: PathBuf,
    /// Its library (or proc-macro) target; `None` for a package without one (a binary-only
    /// package), which has nothing to index as a dependency.
    pub lib: Option<Target>,
    /// A proc-macro crate (its code runs in the compiler; its items are still indexed).
    pub proc_macro: bool,
    /// The features the build enables (empty when only the lock file was read).
    pub features: Vec<String>,
    /// Whether a workspace member depends on it directly.
    pub direct: bool,
    /// How the workspace reaches it: through normal, build or dev dependencies.
    pub reached_as: Vec<DepKind>,
    /// Its own dependencies, among those taken.
    pub deps: Vec<DepEdge>,
}

/// A package of the lock file whose source is not on disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Missing {
    pub name: String,
    pub version: String,
    pub source: String,
}

/// What [`dependencies`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dependencies {
    /// The packages taken, each after those it depends on.
    pub packages: Vec<Dependency>,
    /// Each workspace member's direct dependencies (package name → edges).
    pub members: BTreeMap<String, Vec<DepEdge>>,
    /// Packages of the lock file whose sources are not on disk (skipped).
    pub missing: Vec<Missing>,
    /// The `cargo fetch` that would bring the missing sources.
    pub fetch_hint: Option<String>,
    /// Things worth saying (how the answer was obtained when cargo could not give it).
    pub warnings: Vec<String>,
}

/// The dependencies of the workspace whose root (the directory of its root `Cargo.toml`) is
/// `root`, as `scope` says. Never fails: what cannot be found is in [`Dependencies::missing`]
/// and [`Dependencies::warnings`].
pub fn dependencies(root: &Path, scope: DepsScope) -> Dependencies {
    if scope == DepsScope::None {
        return Dependencies::default();
    }
    match from_metadata(root, scope) {
        Ok(d) => d,
        Err(why) => {
            let mut d = from_lock_file(root, scope);
            d.warnings.insert(
                0,
                format!(
                    "cargo metadata could not list the dependencies offline ({why}); read Cargo.lock instead (renamed dependencies and features are not known this way)"
                ),
            );
            d
        }
    }
}

/// Which of the crates `names` (extern names) the Rust files under `dir` re-export from:
/// `pub use name::…`, `pub use ::name::…`, `pub use name as …`, `pub extern crate name`. A
/// look at the text, not a parse: it only decides what else to index.
fn reexported_crates(dir: &Path, names: &[&str]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|x| x == "rs") => {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    for line in text.lines() {
                        let line = line.trim_start();
                        let rest = line
                            .strip_prefix("pub use ")
                            .or_else(|| line.strip_prefix("pub extern crate "));
                        let Some(rest) = rest else { continue };
                        let rest = rest.trim_start().trim_start_matches("::");
                        let first: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if names.contains(&first.as_str()) {
                            found.insert(first);
                        }
                    }
                }
                _ => {}
            }
        }
        if found.len() == names.len() {
            break;
        }
    }
    found
}

/// The host's target triple (`rustc -vV`), for `--filter-platform`.
fn host_triple() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
}

fn kind_of(k: DependencyKind) -> DepKind {
    match k {
        DependencyKind::Development => DepKind::Dev,
        DependencyKind::Build => DepKind::Build,
        _ => DepKind::Normal,
    }
}

fn from_metadata(root: &Path, scope: DepsScope) -> Result<Dependencies, String> {
    let mut opts = vec!["--offline".to_string()];
    if let Some(host) = host_triple() {
        // Only what this machine builds: platform-specific dependencies of other targets
        // (windows-sys on Linux) are often not fetched at all.
        opts.extend(["--filter-platform".to_string(), host]);
    }
    let metadata = MetadataCommand::new()
        .current_dir(root)
        .manifest_path(root.join("Cargo.toml"))
        .other_options(opts)
        .env("CARGO_NET_OFFLINE", "true")
        .env("RUSTUP_AUTO_INSTALL", "0")
        .exec()
        .map_err(|e| crate::metadata::one_line(&e.to_string()))?;
    let resolve = metadata
        .resolve
        .as_ref()
        .ok_or("cargo metadata gave no dependency resolution")?;
    let members: BTreeSet<String> = metadata
        .workspace_members
        .iter()
        .map(|id| id.repr.clone())
        .collect();
    let packages: HashMap<String, &cargo_metadata::Package> = metadata
        .packages
        .iter()
        .map(|p| (p.id.repr.clone(), p))
        .collect();
    // Every node's edges, with the name the dependent uses.
    let mut edges: HashMap<String, Vec<DepEdge>> = HashMap::new();
    let mut features: HashMap<String, Vec<String>> = HashMap::new();
    for node in &resolve.nodes {
        let e = node
            .deps
            .iter()
            .map(|d| {
                let mut kinds: Vec<DepKind> = d.dep_kinds.iter().map(|k| kind_of(k.kind)).collect();
                kinds.sort();
                kinds.dedup();
                if kinds.is_empty() {
                    kinds.push(DepKind::Normal);
                }
                DepEdge {
                    extern_name: d.name.clone(),
                    id: d.pkg.repr.clone(),
                    kinds,
                }
            })
            .collect();
        edges.insert(node.id.repr.clone(), e);
        features.insert(node.id.repr.clone(), node.features.clone());
    }
    let mut out = Dependencies::default();
    let mut reached: BTreeMap<String, BTreeSet<DepKind>> = BTreeMap::new();
    let mut direct: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, DepKind)> = VecDeque::new();
    for m in &members {
        let name = packages.get(m).map(|p| p.name.clone()).unwrap_or_default();
        let mine: Vec<DepEdge> = edges
            .get(m)
            .map(|e| {
                e.iter()
                    .filter(|d| !members.contains(&d.id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for d in &mine {
            direct.insert(d.id.clone());
            for k in &d.kinds {
                queue.push_back((d.id.clone(), *k));
            }
        }
        out.members.insert(name, mine);
    }
    // Breadth first from the members' direct dependencies; below them, normal and build
    // dependencies (the dev dependencies of a dependency are not built).
    while let Some((id, how)) = queue.pop_front() {
        if members.contains(&id) {
            continue;
        }
        if !reached.entry(id.clone()).or_default().insert(how) {
            continue;
        }
        if scope == DepsScope::All {
            for d in edges.get(&id).into_iter().flatten() {
                if d.kinds.iter().any(|k| *k != DepKind::Dev) {
                    queue.push_back((d.id.clone(), how));
                }
            }
        } else if scope == DepsScope::Direct {
            // A facade (futures re-exports futures-util's items) is understood only with the
            // crates behind it: those its library re-exports from are taken too.
            let normal: Vec<&DepEdge> = edges
                .get(&id)
                .into_iter()
                .flatten()
                .filter(|d| d.kinds.contains(&DepKind::Normal))
                .collect();
            let src_dir = packages.get(&id).and_then(|p| {
                p.targets
                    .iter()
                    .find(|t| t.kind.iter().any(|k| matches!(k.as_str(), "lib" | "rlib")))
                    .and_then(|t| t.src_path.parent().map(|d| d.as_std_path().to_path_buf()))
            });
            if let (false, Some(dir)) = (normal.is_empty(), src_dir) {
                let names: Vec<&str> = normal.iter().map(|d| d.extern_name.as_str()).collect();
                let again = reexported_crates(&dir, &names);
                for d in normal {
                    if again.contains(d.extern_name.as_str()) {
                        queue.push_back((d.id.clone(), how));
                    }
                }
            }
        }
    }
    for (id, how) in &reached {
        let Some(p) = packages.get(id) else {
            continue;
        };
        let manifest_dir = p
            .manifest_path
            .parent()
            .map(|d| canonical(d.as_std_path()))
            .unwrap_or_default();
        let lib_target = p.targets.iter().find(|t| {
            t.kind
                .iter()
                .any(|k| matches!(k.as_str(), "lib" | "rlib" | "proc-macro" | "dylib"))
        });
        let proc_macro = lib_target.is_some_and(|t| t.kind.iter().any(|k| k == "proc-macro"));
        let lib = lib_target.filter(|t| t.src_path.is_file()).map(|t| Target {
            name: crate_name(&t.name),
            kind: TargetKind::Lib,
            root_file: canonical(t.src_path.as_std_path()),
        });
        let (source_kind, source) = match &p.source {
            Some(s) if s.repr.starts_with("git+") => (SourceKind::Git, s.repr.clone()),
            Some(s) => (SourceKind::Registry, s.repr.clone()),
            None => (SourceKind::Path, manifest_dir.display().to_string()),
        };
        out.packages.push(Dependency {
            id: id.clone(),
            name: p.name.clone(),
            version: p.version.to_string(),
            source_kind,
            source,
            manifest_dir,
            lib,
            proc_macro,
            features: features.get(id).cloned().unwrap_or_default(),
            direct: direct.contains(id),
            reached_as: how.iter().copied().collect(),
            deps: edges
                .get(id)
                .map(|e| {
                    e.iter()
                        .filter(|d| {
                            reached.contains_key(&d.id)
                                && d.kinds.iter().any(|k| *k != DepKind::Dev)
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    out.packages = topological(out.packages);
    Ok(out)
}

/// `packages` ordered so that each comes after those it depends on (ties by name, version);
/// a cycle (possible only through dev dependencies, which are not followed) keeps the rest in
/// name order.
fn topological(packages: Vec<Dependency>) -> Vec<Dependency> {
    let mut packages = packages;
    packages.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));
    let index: HashMap<&str, usize> = packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut pending: Vec<usize> = packages
        .iter()
        .map(|p| {
            p.deps
                .iter()
                .filter(|d| index.contains_key(d.id.as_str()))
                .count()
        })
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); packages.len()];
    for (i, p) in packages.iter().enumerate() {
        for d in &p.deps {
            if let Some(&j) = index.get(d.id.as_str()) {
                dependents[j].push(i);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..packages.len()).filter(|&i| pending[i] == 0).collect();
    let mut order = Vec::with_capacity(packages.len());
    let mut done = vec![false; packages.len()];
    while order.len() < packages.len() {
        let next = match ready.pop_first() {
            Some(i) => i,
            // A cycle: take the first not done.
            None => (0..packages.len()).find(|&i| !done[i]).expect("some left"),
        };
        if done[next] {
            continue;
        }
        done[next] = true;
        order.push(next);
        for &k in &dependents[next] {
            pending[k] = pending[k].saturating_sub(1);
            if pending[k] == 0 && !done[k] {
                ready.insert(k);
            }
        }
    }
    let mut slots: Vec<Option<Dependency>> = packages.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// One `[[package]]` of a lock file.
#[derive(serde::Deserialize)]
struct LockPackage {
    name: String,
    version: String,
    source: Option<String>,
    #[serde(default)]
    dependencies: Vec<String>,
}

#[derive(serde::Deserialize)]
struct LockFile {
    #[serde(default)]
    package: Vec<LockPackage>,
}

/// The answer from `Cargo.lock` and cargo's caches alone (when cargo cannot answer offline).
fn from_lock_file(root: &Path, scope: DepsScope) -> Dependencies {
    let mut out = Dependencies::default();
    let lock_path = root.join("Cargo.lock");
    let lock: LockFile = match std::fs::read_to_string(&lock_path)
        .map_err(|e| e.to_string())
        .and_then(|t| toml::from_str(&t).map_err(|e| crate::metadata::one_line(&e.to_string())))
    {
        Ok(l) => l,
        Err(e) => {
            out.warnings.push(format!(
                "{}: {e}; run `cargo generate-lockfile` in {} to record the dependencies' versions",
                lock_path.display(),
                root.display()
            ));
            return out;
        }
    };
    let key = |name: &str, version: &str| format!("{name} {version}");
    // Workspace members and path packages have no source.
    let by_key: HashMap<String, &LockPackage> = lock
        .package
        .iter()
        .map(|p| (key(&p.name, &p.version), p))
        .collect();
    let by_name: HashMap<&str, Vec<&LockPackage>> =
        lock.package.iter().fold(HashMap::new(), |mut m, p| {
            m.entry(p.name.as_str()).or_default().push(p);
            m
        });
    // A lock entry's dependency is `name`, `name version` or `name version (source)`.
    let target_of = |dep: &str| -> Option<&LockPackage> {
        let mut parts = dep.split_whitespace();
        let name = parts.next()?;
        match parts.next() {
            Some(v) => by_key.get(&key(name, v)).copied(),
            None => by_name.get(name).and_then(|v| v.first().copied()),
        }
    };
    // Packages without a source are the members and the path dependencies: tell them apart
    // by what the manifests say (cargo answers that offline even when it cannot resolve).
    let paths = path_packages(root);
    let members: Vec<&LockPackage> = lock
        .package
        .iter()
        .filter(|p| {
            p.source.is_none()
                && paths
                    .as_ref()
                    .is_none_or(|(members, _)| members.contains(&p.name))
        })
        .collect();
    let member_names: BTreeSet<&str> = members.iter().map(|p| p.name.as_str()).collect();
    let mut taken: BTreeMap<String, (&LockPackage, bool)> = BTreeMap::new();
    let mut queue: VecDeque<(&LockPackage, bool)> = VecDeque::new();
    for m in &members {
        let mut mine = Vec::new();
        for d in &m.dependencies {
            let Some(t) = target_of(d) else { continue };
            if t.source.is_none() && member_names.contains(t.name.as_str()) {
                continue;
            }
            mine.push(DepEdge {
                extern_name: crate_name(&t.name),
                id: key(&t.name, &t.version),
                kinds: vec![DepKind::Normal],
            });
            queue.push_back((t, true));
        }
        out.members.insert(m.name.clone(), mine);
    }
    while let Some((p, direct)) = queue.pop_front() {
        let k = key(&p.name, &p.version);
        if let Some(seen) = taken.get_mut(&k) {
            seen.1 |= direct;
            continue;
        }
        taken.insert(k, (p, direct));
        if scope == DepsScope::All {
            for d in &p.dependencies {
                if let Some(t) = target_of(d) {
                    queue.push_back((t, false));
                }
            }
        }
    }
    for (id, (p, direct)) in &taken {
        let source = p.source.clone().unwrap_or_default();
        let (source_kind, dir) = if source.starts_with("registry+") || source.starts_with("sparse+")
        {
            (SourceKind::Registry, registry_dir(&p.name, &p.version))
        } else if source.starts_with("git+") {
            (SourceKind::Git, git_dir(&p.name, &source))
        } else {
            // A path package that is not a member: where the manifests say it is.
            let dir = paths
                .as_ref()
                .and_then(|(_, dirs)| dirs.get(&p.name))
                .cloned();
            (SourceKind::Path, dir)
        };
        let source = match (&source_kind, &dir) {
            (SourceKind::Path, Some(d)) => d.display().to_string(),
            _ => source,
        };
        let Some(dir) = dir else {
            out.missing.push(Missing {
                name: p.name.clone(),
                version: p.version.clone(),
                source,
            });
            continue;
        };
        let lib = lib_of_manifest(&dir, &p.name);
        out.packages.push(Dependency {
            id: id.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            source_kind,
            source,
            manifest_dir: canonical(&dir),
            proc_macro: lib.as_ref().is_some_and(|(_, pm)| *pm),
            lib: lib.map(|(t, _)| t),
            features: Vec::new(),
            direct: *direct,
            reached_as: vec![DepKind::Normal],
            deps: p
                .dependencies
                .iter()
                .filter_map(|d| target_of(d))
                .filter(|t| taken.contains_key(&key(&t.name, &t.version)))
                .map(|t| DepEdge {
                    extern_name: crate_name(&t.name),
                    id: key(&t.name, &t.version),
                    kinds: vec![DepKind::Normal],
                })
                .collect(),
        });
    }
    if !out.missing.is_empty() {
        out.fetch_hint = Some(format!(
            "cargo fetch --manifest-path {}",
            root.join("Cargo.toml").display()
        ));
    }
    out.packages = topological(out.packages);
    out
}

/// `$CARGO_HOME` (default `~/.cargo`).
fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
}

/// Where cargo unpacked `name-version` from a registry, if it did.
/// The workspace's member names and the directories of the path packages its manifests
/// reach (members' path dependencies, theirs, and so on), by package name; `None` when
/// cargo cannot list the members.
fn path_packages(root: &Path) -> Option<(BTreeSet<String>, HashMap<String, PathBuf>)> {
    let meta = MetadataCommand::new()
        .manifest_path(root.join("Cargo.toml"))
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        .exec()
        .ok()?;
    let members: BTreeSet<String> = meta.packages.iter().map(|p| p.name.to_string()).collect();
    let mut dirs: HashMap<String, PathBuf> = HashMap::new();
    let mut todo: Vec<PathBuf> = meta
        .packages
        .iter()
        .flat_map(|p| p.dependencies.iter())
        .filter_map(|d| d.path.as_ref().map(|p| PathBuf::from(p.as_std_path())))
        .collect();
    let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
    while let Some(dir) = todo.pop() {
        let dir = canonical(&dir);
        if !seen.insert(dir.clone()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let Ok(manifest) = toml::from_str::<toml::Table>(&text) else {
            continue;
        };
        let Some(name) = manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
        else {
            continue;
        };
        if !members.contains(name) {
            dirs.entry(name.to_string()).or_insert_with(|| dir.clone());
        }
        for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
            let Some(deps) = manifest.get(table).and_then(|t| t.as_table()) else {
                continue;
            };
            for spec in deps.values() {
                if let Some(p) = spec.get("path").and_then(|p| p.as_str()) {
                    todo.push(dir.join(p));
                }
            }
        }
    }
    Some((members, dirs))
}

fn registry_dir(name: &str, version: &str) -> Option<PathBuf> {
    let src = cargo_home()?.join("registry/src");
    std::fs::read_dir(src)
        .ok()?
        .flatten()
        .map(|index| index.path().join(format!("{name}-{version}")))
        .find(|d| d.join("Cargo.toml").is_file())
}

/// Where cargo checked out the git source `source` (`git+URL…#COMMIT`), if it did: a
/// directory of `$CARGO_HOME/git/checkouts/*/` named after the commit's first 7 characters
/// that holds the package `name`.
fn git_dir(name: &str, source: &str) -> Option<PathBuf> {
    let commit = source.rsplit_once('#')?.1;
    let short = commit.get(..7)?;
    let checkouts = cargo_home()?.join("git/checkouts");
    for repo in std::fs::read_dir(checkouts).ok()?.flatten() {
        let dir = repo.path().join(short);
        if !dir.is_dir() {
            continue;
        }
        // The package may sit anywhere in the repository (a workspace).
        for entry in ignore::WalkBuilder::new(&dir)
            .hidden(true)
            .build()
            .flatten()
        {
            if entry.file_name() == "Cargo.toml" {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                if let Ok(v) = toml::from_str::<toml::Value>(&text) {
                    if v.get("package")
                        .and_then(|p| p.get("name"))
                        .and_then(|n| n.as_str())
                        == Some(name)
                    {
                        return entry.path().parent().map(Path::to_path_buf);
                    }
                }
            }
        }
    }
    None
}

/// The library target of the package in `dir` from its manifest (`[lib] path`, else
/// `src/lib.rs`), and whether it is a proc-macro crate.
fn lib_of_manifest(dir: &Path, name: &str) -> Option<(Target, bool)> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let v: toml::Value = toml::from_str(&text).ok()?;
    let lib = v.get("lib");
    let path = lib
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
        .map(|p| dir.join(p))
        .unwrap_or_else(|| dir.join("src/lib.rs"));
    if !path.is_file() {
        return None;
    }
    let lib_name = lib
        .and_then(|l| l.get("name"))
        .and_then(|n| n.as_str())
        .map(crate_name)
        .unwrap_or_else(|| crate_name(name));
    let proc_macro = lib
        .and_then(|l| l.get("proc-macro").or_else(|| l.get("proc_macro")))
        .and_then(|b| b.as_bool())
        .unwrap_or(false);
    Some((
        Target {
            name: lib_name,
            kind: TargetKind::Lib,
            root_file: canonical(&path),
        },
        proc_macro,
    ))
}
