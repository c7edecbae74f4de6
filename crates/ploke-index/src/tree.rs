//! Module trees: from a target's root file, follow `mod foo;` declarations to files.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use fxhash::{FxHashMap, FxHashSet};
use ploke_core::{ContentHash, ItemKind, Skipped};
use ploke_parse::{CfgPath, Detail, ParsedFile, RawItem};

use crate::macros::{ExpansionMemo, Macros, Scope};

/// One file in a target's module tree.
#[derive(Clone)]
pub(crate) struct TreeFile {
    pub path: PathBuf,
    pub declared_by: Option<(usize, u32)>,
    /// The file's items with its macro invocations expanded, and their hash, when any
    /// expanded (`declared_by` item indices of its children are into these items).
    pub expanded: Option<(Arc<ParsedFile>, ContentHash)>,
}

/// A module declaration as the module tree sees it: (inline module it is in, name, inline,
/// `#[path]`, `#[cfg_attr(…, path)]` twin, `#[macro_use]`).
pub(crate) type ModuleDecl<'a> = (
    Option<u32>,
    &'a str,
    bool,
    Option<&'a str>,
    &'a CfgPath,
    bool,
);

/// What of a file decides the module trees it is part of: its module declarations (name,
/// inline or not, `#[path]`, `#[macro_use]`, the inline module they sit in). A change that
/// leaves this equal, in a file without macro definitions or invocations that may expand
/// (see [`macro_relevant`]), leaves every tree as it was.
pub(crate) fn module_signature(parsed: &ParsedFile) -> Vec<ModuleDecl<'_>> {
    parsed
        .items
        .iter()
        .filter(|i| i.kind == ItemKind::Module)
        .filter_map(|i| match &i.detail {
            Detail::Module {
                inline,
                path_attr,
                cfg_path,
            } => Some((
                i.parent,
                i.name.as_str(),
                *inline,
                path_attr.as_deref(),
                cfg_path,
                i.attrs.iter().any(|a| a.starts_with("#[macro_use")),
            )),
            _ => None,
        })
        .collect()
}

/// Whether the file defines `macro_rules!` macros or has item-level invocations that may
/// expand: then any change to it may change what the module trees hold (the expansions, and
/// the spans of their items), so trees are built again.
pub(crate) fn macro_relevant(parsed: &ParsedFile) -> bool {
    parsed.calls.iter().any(|c| c.expandable())
        || parsed
            .items
            .iter()
            .any(|i| matches!(i.detail, Detail::MacroRules { .. }))
}

/// A module name as a file or directory name: `r#type` is `type`.
pub(crate) fn fs_name(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// Where the children of inline module `name` live.
pub(crate) fn inline_dir(
    name: &str,
    path_attr: Option<&str>,
    parent_dir: Option<&Path>,
    base: &Path,
    file_dir: &Path,
) -> PathBuf {
    match (parent_dir, path_attr) {
        (Some(d), Some(p)) => d.join(p),
        (Some(d), None) => d.join(fs_name(name)),
        (None, Some(p)) => file_dir.join(p),
        (None, None) => base.join(fs_name(name)),
    }
}

/// The files `mod name;` may be, in order, each with whether it owns its directory (as
/// `mod.rs` does): the `#[path]` file; else `name.rs`, `name/mod.rs`.
pub(crate) fn mod_candidates(
    name: &str,
    path_attr: Option<&str>,
    parent_dir: Option<&Path>,
    base: &Path,
    file_dir: &Path,
) -> Vec<(PathBuf, bool)> {
    match path_attr {
        Some(p) => vec![(
            match parent_dir {
                None => file_dir.join(p),
                Some(d) => d.join(p),
            },
            true,
        )],
        None => {
            let d = parent_dir.unwrap_or(base);
            let name = fs_name(name);
            vec![
                (d.join(format!("{name}.rs")), false),
                (d.join(name).join("mod.rs"), true),
            ]
        }
    }
}

/// A `mod name;` declaration: its item's index and item, and the files it may be.
type FileModule<'p> = (u32, &'p RawItem, Vec<(PathBuf, bool)>);

/// The `mod name;` declarations of `parsed` (modules that own a file), each with the files it
/// may be ([`mod_candidates`]) given the directories of its inline ancestors, in item order.
fn file_modules<'p>(parsed: &'p ParsedFile, base: &Path, file_dir: &Path) -> Vec<FileModule<'p>> {
    let mut out = Vec::new();
    // The directory of each inline module's children.
    let mut inline_dirs: FxHashMap<u32, PathBuf> = FxHashMap::default();
    for (ii, item) in parsed.items.iter().enumerate() {
        let ii = ii as u32;
        let Detail::Module {
            inline, path_attr, ..
        } = &item.detail
        else {
            continue;
        };
        if item.kind != ItemKind::Module {
            continue;
        }
        let parent_dir = item.parent.and_then(|p| inline_dirs.get(&p).cloned());
        if *inline {
            let dir = inline_dir(
                &item.name,
                path_attr.as_deref(),
                parent_dir.as_deref(),
                base,
                file_dir,
            );
            inline_dirs.insert(ii, dir);
            continue;
        }
        let candidates = mod_candidates(
            &item.name,
            path_attr.as_deref(),
            parent_dir.as_deref(),
            base,
            file_dir,
        );
        out.push((ii, item, candidates));
    }
    out
}

/// The `#[cfg_attr(…, path)]` twins of `parsed` that are no module of this tree (see
/// [`CfgPath`]): alternatives whose file does not exist, and declarations as written whose
/// files do not exist beside an alternative that does. `None` when there are none; else the
/// file's items without them (the `not(…)` of the declarations left taking back the
/// alternatives that went), with for each item its index there (`u32::MAX`: left out).
fn without_unbuilt_twins(
    parsed: &ParsedFile,
    base: &Path,
    file_dir: &Path,
) -> Option<(ParsedFile, Vec<u32>)> {
    if !parsed.items.iter().any(|i| {
        matches!(
            i.detail,
            Detail::Module {
                cfg_path: CfgPath::Default { .. },
                ..
            }
        )
    }) {
        return None;
    }
    // Whether each module declaration's file exists.
    let exists: FxHashMap<u32, bool> = file_modules(parsed, base, file_dir)
        .into_iter()
        .map(|(ii, _, candidates)| (ii, candidates.iter().any(|(c, _)| normalize(c).is_file())))
        .collect();
    let module = |i: usize| match &parsed.items[i].detail {
        Detail::Module { cfg_path, .. } if parsed.items[i].kind == ItemKind::Module => {
            Some(cfg_path)
        }
        _ => None,
    };
    let mut dropped = vec![false; parsed.items.len()];
    // The alternatives left of each declaration as written.
    let mut kept_preds: FxHashMap<usize, Vec<String>> = FxHashMap::default();
    for i in 0..parsed.items.len() {
        let Some(CfgPath::Default { .. }) = module(i) else {
            continue;
        };
        // Its alternatives follow it (same declaration).
        let span = parsed.items[i].span;
        let alts: Vec<usize> = (i + 1..parsed.items.len())
            .take_while(|&j| {
                parsed.items[j].span == span
                    && matches!(module(j), Some(CfgPath::Alternative { .. }))
            })
            .collect();
        let mut preds = Vec::new();
        for &j in &alts {
            if exists.get(&(j as u32)).copied().unwrap_or(false) {
                if let Some(CfgPath::Alternative { pred }) = module(j) {
                    preds.push(pred.clone());
                }
            } else {
                dropped[j] = true;
            }
        }
        if !exists.get(&(i as u32)).copied().unwrap_or(true) && !preds.is_empty() {
            dropped[i] = true;
        }
        kept_preds.insert(i, preds);
    }
    let changed = dropped.iter().any(|d| *d)
        || kept_preds.iter().any(|(&i, preds)| match module(i) {
            Some(CfgPath::Default { preds: all }) => all != preds,
            _ => false,
        });
    if !changed {
        return None;
    }
    let mut new_idx = Vec::with_capacity(parsed.items.len());
    let mut items: Vec<RawItem> = Vec::with_capacity(parsed.items.len());
    for (i, item) in parsed.items.iter().enumerate() {
        if dropped[i] {
            new_idx.push(u32::MAX);
            continue;
        }
        let mut it = item.clone();
        it.parent = item.parent.map(|p| new_idx[p as usize]);
        if let (Some(kept), Some(CfgPath::Default { preds })) = (kept_preds.get(&i), module(i)) {
            if kept != preds {
                let was = ploke_parse::cfg_none_of(preds);
                if let Some(pos) = it.cfg.iter().position(|c| Some(c) == was.as_ref()) {
                    match ploke_parse::cfg_none_of(kept) {
                        Some(now) => it.cfg[pos] = now,
                        None => {
                            it.cfg.remove(pos);
                        }
                    }
                }
                if let Detail::Module { cfg_path, .. } = &mut it.detail {
                    *cfg_path = CfgPath::Default {
                        preds: kept.clone(),
                    };
                }
            }
        }
        new_idx.push(items.len() as u32);
        items.push(it);
    }
    let out = ParsedFile {
        items,
        issues: parsed.issues.clone(),
        parsed: parsed.parsed,
        lines: parsed.lines,
        docs: parsed.docs.clone(),
        calls: Vec::new(),
        files: parsed.files.clone(),
    };
    Some((out, new_idx))
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
pub(crate) fn owner_dir(file: &Path, mod_rs_like: bool) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    if mod_rs_like || file.file_name().is_some_and(|n| n == "mod.rs") {
        dir
    } else {
        dir.join(file.file_stem().unwrap_or_default())
    }
}

/// Walks of the tree that find a `#[macro_export]`ed macro only after an invocation of it.
const MAX_WALKS: usize = 3;

/// Build one target's module tree. `load` returns the parsed file for a path (reading it if
/// needed), or `None` when the file does not exist or could not be read at all; `text` its
/// text (for expanding macros).
///
/// Item-level invocations of the target's own `macro_rules!` macros are expanded on the way
/// (see [`crate::macros`]): a module an expansion declares is part of the tree.
pub(crate) fn module_tree<'p>(
    root: &Path,
    memo: &ExpansionMemo,
    mut load: impl FnMut(&Path) -> Option<&'p ParsedFile>,
    text: impl Fn(&Path) -> Option<Arc<str>>,
    display: impl Fn(&Path) -> String,
    skipped: &mut Vec<Skipped>,
) -> Vec<TreeFile> {
    let mut prior = FxHashMap::default();
    let mut walk = 1;
    let started = std::time::Instant::now();
    loop {
        let mut problems = Vec::new();
        let mut macros = Macros::new(memo, &text, &display, prior);
        let out = tree_walk(root, &mut load, &mut macros, &display, &mut problems);
        if walk < MAX_WALKS && macros.missed_exported() {
            prior = macros.into_exported();
            walk += 1;
            continue;
        }
        if macros.expanded + macros.failed + macros.reused > 0 {
            let root = display(root);
            tracing::debug!(
                %root,
                ms = started.elapsed().as_secs_f64() * 1000.0,
                expand_ms = macros.expand_time.as_secs_f64() * 1000.0,
                walks = walk,
                expanded = macros.expanded,
                reused = macros.reused,
                not_expanded = macros.failed,
                "macro invocations"
            );
        }
        skipped.extend(problems);
        return out;
    }
}

fn tree_walk<'p>(
    root: &Path,
    load: &mut dyn FnMut(&Path) -> Option<&'p ParsedFile>,
    macros: &mut Macros,
    display: &dyn Fn(&Path) -> String,
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
    // (file, declared_by, mod-rs-like, macros in scope at its declaration)
    type Queued = (PathBuf, Option<(usize, u32)>, bool, Scope);
    let mut queue: std::collections::VecDeque<Queued> = Default::default();
    queue.push_back((root.to_path_buf(), None, true, None));
    while let Some((path, declared_by, mod_rs_like, scope)) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let Some(plain) = load(&path) else {
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
        let walked = macros.walk(&path, plain, &scope, mod_rs_like, load);
        let walked_parse: &ParsedFile = match &walked.parsed {
            Some((p, _)) => p,
            None => plain,
        };
        let base = owner_dir(&path, mod_rs_like);
        let file_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        // `#[cfg_attr(…, path)]` twins that are no module here leave the file's items.
        let pruned = without_unbuilt_twins(walked_parse, &base, &file_dir).map(|(p, map)| {
            let hash = ContentHash::of(&postcard::to_allocvec(&p).unwrap_or_default());
            ((Arc::new(p), hash), map)
        });
        let (expanded, walked_index) = match pruned {
            Some((e, map)) => (Some(e), Some(map)),
            None => (walked.parsed.clone(), None),
        };
        // The index, in what the macro walk saw, of each item of `parsed`.
        let walked_of: Option<Vec<u32>> = walked_index.map(|map| {
            map.iter()
                .enumerate()
                .filter(|(_, &n)| n != u32::MAX)
                .map(|(w, _)| w as u32)
                .collect()
        });
        let idx = out.len();
        out.push(TreeFile {
            path: path.clone(),
            declared_by,
            expanded,
        });
        let parsed: &ParsedFile = match &out[idx].expanded {
            Some((p, _)) => p,
            None => plain,
        };
        resolved.push(path.canonicalize().ok());
        // Where an item's line is: its file, which a macro expansion may have put elsewhere.
        let item_file = |parsed: &ParsedFile, item: &ploke_parse::RawItem| match item.file {
            Some(f) => parsed
                .files
                .get(f as usize)
                .cloned()
                .unwrap_or_else(|| display(&path)),
            None => display(&path),
        };
        for (ii, item, candidates) in file_modules(parsed, &base, &file_dir) {
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
                            path: item_file(parsed, item),
                            line: item.decl_line,
                            reason,
                            whole_file: false,
                        });
                    } else if !twin {
                        queued.insert(file.clone(), (idx, item.name.clone()));
                        let walked_ii = walked_of.as_ref().map_or(ii, |w| w[ii as usize]);
                        let scope = walked.child_scope(walked_ii, &scope);
                        queue.push_back((file, Some((idx, ii)), m, scope));
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
                        path: item_file(parsed, item),
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
