//! Module trees: from a target's root file, follow `mod foo;` declarations to files.

use std::path::{Component, Path, PathBuf};

use fxhash::{FxHashMap, FxHashSet};
use ploke_core::{ItemKind, Skipped};
use ploke_parse::{Detail, ParsedFile};

/// One file in a target's module tree.
#[derive(Clone)]
pub(crate) struct TreeFile {
    pub path: PathBuf,
    pub declared_by: Option<(usize, u32)>,
}

/// What of a file decides the module trees it is part of: its module declarations (name,
/// inline or not, `#[path]`, the inline module they sit in). A change that leaves this equal
/// leaves every tree as it was.
pub(crate) fn module_signature(
    parsed: &ParsedFile,
) -> Vec<(Option<u32>, &str, bool, Option<&str>)> {
    parsed
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Module)
        .filter_map(|i| match &i.detail {
            Detail::Module { inline, path_attr } => {
                Some((i.parent, i.name.as_str(), *inline, path_attr.as_deref()))
            }
            _ => None,
        })
        .collect()
}

/// Lexically normalise `a/b/../c` to `a/c` (no filesystem access, so symlinked paths keep
/// their names).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where a file's child modules live: its own directory for crate roots, `mod.rs` and files
/// loaded through `#[path]`; `dir/stem/` for other files.
fn owner_dir(file: &Path, mod_rs_like: bool) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    if mod_rs_like || file.file_name().is_some_and(|n| n == "mod.rs") {
        dir
    } else {
        dir.join(file.file_stem().unwrap_or_default())
    }
}

/// Build one target's module tree. `load` returns the parsed file for a path (reading it if
/// needed), or `None` when the file does not exist or could not be read at all.
pub(crate) fn module_tree<'p>(
    root: &Path,
    mut load: impl FnMut(&Path) -> Option<&'p ParsedFile>,
    display: impl Fn(&Path) -> String,
    skipped: &mut Vec<Skipped>,
) -> Vec<TreeFile> {
    let mut out: Vec<TreeFile> = Vec::new();
    // The resolved path of each file in `out` (same index), to spot a module that is its own
    // ancestor through a symbolic link (`src/m/mod.rs` declaring `mod m;` with `src/m/m -> .`).
    // Lexically those paths never repeat, so without this the tree would grow one level per
    // link hop until the OS gives up resolving (ELOOP), each level a copy of the same items.
    let mut resolved: Vec<Option<PathBuf>> = Vec::new();
    // Files taken from the queue, and files ever put in it.
    let mut seen: FxHashSet<PathBuf> = FxHashSet::default();
    // File -> (declaring file, module name) of the declaration that queued it.
    let mut queued: FxHashMap<PathBuf, (usize, String)> = FxHashMap::default();
    queued.insert(root.to_path_buf(), (usize::MAX, String::new()));
    // (file, declared_by, mod-rs-like)
    type Queued = (PathBuf, Option<(usize, u32)>, bool);
    let mut queue: std::collections::VecDeque<Queued> = Default::default();
    queue.push_back((root.to_path_buf(), None, true));
    while let Some((path, declared_by, mod_rs_like)) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let Some(parsed) = load(&path) else {
            if declared_by.is_none() {
                skipped.push(Skipped {
                    path: display(&path),
                    line: 1,
                    reason: "target root file could not be read".into(),
                    whole_file: true,
                });
            }
            continue;
        };
        let idx = out.len();
        out.push(TreeFile {
            path: path.clone(),
            declared_by,
        });
        resolved.push(path.canonicalize().ok());
        let base = owner_dir(&path, mod_rs_like);
        let file_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut inline_dirs: FxHashMap<u32, PathBuf> = FxHashMap::default();
        for (ii, item) in parsed.items.iter().enumerate() {
            let ii = ii as u32;
            let Detail::Module { inline, path_attr } = &item.detail else {
                continue;
            };
            if item.kind != ItemKind::Module {
                continue;
            }
            // Directory for this module's children given its inline ancestors.
            let parent_dir = item.parent.and_then(|p| inline_dirs.get(&p).cloned());
            if *inline {
                let dir = match (&parent_dir, path_attr) {
                    (Some(d), Some(p)) => d.join(p),
                    (Some(d), None) => d.join(&item.name),
                    (None, Some(p)) => file_dir.join(p),
                    (None, None) => base.join(&item.name),
                };
                inline_dirs.insert(ii, dir);
                continue;
            }
            let candidates: Vec<(PathBuf, bool)> = match (path_attr, &parent_dir) {
                (Some(p), None) => vec![(file_dir.join(p), true)],
                (Some(p), Some(d)) => vec![(d.join(p), true)],
                (None, dir) => {
                    let d = dir.clone().unwrap_or_else(|| base.clone());
                    vec![
                        (d.join(format!("{}.rs", item.name)), false),
                        (d.join(&item.name).join("mod.rs"), true),
                    ]
                }
            };
            let found = candidates
                .iter()
                .map(|(c, m)| (normalize(c), *m))
                .find(|(c, _)| c.is_file());
            match found {
                Some((file, m)) => {
                    let lexical = ancestor(idx, &out, |i| out[i].path == file);
                    let linked = match lexical {
                        Some(_) => None,
                        None => linked_ancestor(&file, idx, &out, &resolved),
                    };
                    let twin = queued
                        .get(&file)
                        .is_some_and(|(f, name)| *f == idx && *name == item.name);
                    let problem = if lexical.is_some() {
                        Some(format!(
                            "module `{}` points at {} again (module cycle); not followed",
                            item.name,
                            display(&file)
                        ))
                    } else if let Some(again) = linked {
                        Some(format!(
                            "module `{}` at {} is {} again through a symbolic link (module cycle); not followed",
                            item.name,
                            display(&file),
                            display(&out[again].path)
                        ))
                    } else if twin {
                        // cfg twins of one module (`cfg_rt! { pub mod runtime; }` beside
                        // `cfg_not_rt! { pub(crate) mod runtime; }`): one file, one module, no
                        // problem to report.
                        None
                    } else if queued.contains_key(&file) {
                        // Rust would compile the file twice, as two modules; the index holds a
                        // file once per crate, under the module that declared it first.
                        Some(format!(
                            "module `{}` is {}, which is already another module of this crate; indexed once, under the first",
                            item.name,
                            display(&file)
                        ))
                    } else {
                        None
                    };
                    if let Some(reason) = problem {
                        skipped.push(Skipped {
                            path: display(&path),
                            line: item.decl_line,
                            reason,
                            whole_file: false,
                        });
                    } else if !twin {
                        queued.insert(file.clone(), (idx, item.name.clone()));
                        queue.push_back((file, Some((idx, ii)), m));
                    }
                }
                None => {
                    // A symbolic link that does not lead to a file is not a missing file.
                    let link = candidates
                        .iter()
                        .map(|(c, _)| normalize(c))
                        .find_map(|c| unresolved_link(&c).map(|why| (c, why)));
                    let reason = match link {
                        Some((c, why)) => format!(
                            "module `{}`: {} is a symbolic link {why}; not followed",
                            item.name,
                            display(&c)
                        ),
                        None => {
                            let tried: Vec<String> = candidates
                                .iter()
                                .map(|(c, _)| display(&normalize(c)))
                                .collect();
                            format!(
                                "module `{}` is declared but its file is missing (looked for {})",
                                item.name,
                                tried.join(" and ")
                            )
                        }
                    };
                    skipped.push(Skipped {
                        path: display(&path),
                        line: item.decl_line,
                        reason,
                        whole_file: false,
                    });
                }
            }
        }
    }
    out
}

/// Why `path`, a symbolic link that leads to no file, leads nowhere: "in a loop" when
/// following it comes back to a link already followed, else "to a missing file". `None`
/// when `path` is not such a link.
fn unresolved_link(path: &Path) -> Option<&'static str> {
    if !std::fs::symlink_metadata(path)
        .ok()?
        .file_type()
        .is_symlink()
        || path.is_file()
    {
        return None;
    }
    // Follow the chain by hand: the OS only says "too many levels" (ELOOP) for a loop.
    const HOPS: usize = 64;
    let mut seen = FxHashSet::default();
    let mut cur = path.to_path_buf();
    for _ in 0..HOPS {
        if !seen.insert(cur.clone()) {
            return Some("in a loop");
        }
        match std::fs::read_link(&cur) {
            Ok(to) => cur = normalize(&cur.parent().unwrap_or(Path::new("")).join(to)),
            Err(_) => return Some("to a missing file"),
        }
    }
    Some("in a loop")
}

/// The first of `from` and its ancestors in the module tree (by `declared_by`) that satisfies
/// `is`.
fn ancestor(from: usize, out: &[TreeFile], is: impl Fn(usize) -> bool) -> Option<usize> {
    let mut cur = Some(from);
    while let Some(i) = cur {
        if is(i) {
            return Some(i);
        }
        cur = out[i].declared_by.map(|(p, _)| p);
    }
    None
}

/// The index of the file in `out`, among `parent` and its ancestors, that `file` resolves to
/// (following symbolic links), if any.
fn linked_ancestor(
    file: &Path,
    parent: usize,
    out: &[TreeFile],
    resolved: &[Option<PathBuf>],
) -> Option<usize> {
    let target = file.canonicalize().ok()?;
    ancestor(parent, out, |i| resolved[i].as_ref() == Some(&target))
}
