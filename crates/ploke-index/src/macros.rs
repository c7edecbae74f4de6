//! Which `macro_rules!` macros are in scope where, over a target's module tree, and the
//! expansion of the item-level invocations that name one of them.
//!
//! Textual scope as rustc has it for the common cases: a macro is visible after its definition
//! in the same module and in the modules declared after it there (files included); past the
//! end of a module only when the module is `#[macro_use]`. A `#[macro_use] mod m;` therefore
//! needs `m`'s file walked when the declaration is reached (depth first), ahead of the
//! breadth-first order of the module tree. `#[macro_export]`ed macros are also found by name
//! from anywhere (and as `crate::m!`/`$crate::m!`); one defined after its first use in walk
//! order is picked up by walking the tree again (see [`crate::tree::module_tree`]).
//!
//! A file with an invocation that expands gets a new list of items: its own, with the
//! expansions' items where the invocations were ([`Walked::parsed`]). What an expansion
//! declares takes part in the walk like anything else: its `mod foo;` is a module of the
//! invoking module (its file found from the invoking module's directory), its macros are in
//! scope after the invocation.
//!
//! `cfg_if!` is read by the parser as the well-known macro of the `cfg-if` crate (each
//! branch's items under its cfg, [`ploke_parse::MacroCall::branches`]); a crate that has its
//! own `macro_rules! cfg_if` in scope gets its own expansion instead, in place of those items.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use fxhash::{FxHashMap, FxHashSet};
use ploke_core::{ContentHash, ItemKind, Span};
use ploke_parse::{Detail, ExpandLimits, Expander, MacroDefSite, ParsedFile, RawItem};

use crate::tree::{inline_dir, mod_candidates, normalize, owner_dir};

/// A macro definition in scope.
#[derive(Clone)]
pub(crate) struct Def {
    name: Rc<str>,
    /// The file its text is in.
    file: Rc<Path>,
    span: Span,
    /// Hash of its text.
    hash: ContentHash,
}

/// The macros in scope at a point, latest first (a persistent list: snapshots are cheap).
pub(crate) type Scope = Option<Rc<ScopeNode>>;

pub(crate) struct ScopeNode {
    def: Def,
    prev: Scope,
}

fn push(scope: &Scope, def: Def) -> Scope {
    Some(Rc::new(ScopeNode {
        def,
        prev: scope.clone(),
    }))
}

fn find<'s>(mut scope: &'s Scope, name: &str) -> Option<&'s Def> {
    while let Some(n) = scope {
        if &*n.def.name == name {
            return Some(&n.def);
        }
        scope = &n.prev;
    }
    None
}

fn same(a: &Scope, b: &Scope) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Rc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// The definitions pushed on `inner` since `outer`, oldest first.
fn since(inner: &Scope, outer: &Scope) -> Vec<Def> {
    let mut out = Vec::new();
    let mut cur = inner;
    while let Some(n) = cur {
        if same(cur, outer) {
            break;
        }
        out.push(n.def.clone());
        cur = &n.prev;
    }
    out.reverse();
    out
}

/// A definition as an expansion found it: its file, span and the hash of its text.
type Found = Option<(PathBuf, Span, ContentHash)>;

/// Generations of the memo: (used by this build, left from the last).
type MemoMaps = (FxHashMap<MemoKey, Arc<Memo>>, FxHashMap<MemoKey, Arc<Memo>>);

/// An invocation's expansion as last computed, with what it depended on.
pub(crate) struct Memo {
    /// Every macro path the expansion looked up, and the definition it found: the expansion
    /// holds while each still finds the same.
    asked: Vec<(Vec<String>, Found)>,
    /// The items (`None`: it did not expand), their `file` an index into `files`.
    items: Option<Vec<RawItem>>,
    files: Vec<PathBuf>,
}

/// Which invocation: its file, its span (lines included) and the hash of its text.
type MemoKey = (PathBuf, Span, ContentHash);

/// Expansions shared by the module trees of one build (a file many targets include is
/// expanded once) and kept for the next build (only invocations whose text or definitions
/// changed are expanded again). Entries no build used are dropped at the end of the next.
#[derive(Default)]
pub(crate) struct ExpansionMemo {
    maps: std::sync::Mutex<MemoMaps>,
}

impl ExpansionMemo {
    fn get(&self, key: &MemoKey) -> Option<Arc<Memo>> {
        let mut m = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        let (this, last) = &mut *m;
        if let Some(v) = this.get(key) {
            return Some(v.clone());
        }
        let v = last.remove(key)?;
        this.insert(key.clone(), v.clone());
        Some(v)
    }

    fn put(&self, key: MemoKey, memo: Memo) {
        let mut m = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        m.0.insert(key, Arc::new(memo));
    }

    /// A build of module trees is over: what it did not use goes.
    pub fn end_build(&self) {
        let mut m = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        let (this, last) = &mut *m;
        *last = std::mem::take(this);
    }
}

/// What walking one file gave.
pub(crate) struct Walked {
    /// Its items with the invocations that expanded replaced by their items, and a hash of
    /// them; `None` when nothing expanded (the parse is the file's own).
    pub parsed: Option<(Arc<ParsedFile>, ContentHash)>,
    /// The macros it leaves in scope for a `#[macro_use]` declaration of it.
    exports: Vec<Def>,
    /// The scope at each `mod foo;` item (by index into the items), when it differs from the
    /// scope the file was walked with.
    child_scopes: Option<FxHashMap<u32, Scope>>,
}

impl Walked {
    /// The scope a module file declared by item `item` starts with.
    pub fn child_scope(&self, item: u32, walked_with: &Scope) -> Scope {
        self.child_scopes
            .as_ref()
            .and_then(|m| m.get(&item).cloned())
            .unwrap_or_else(|| walked_with.clone())
    }
}

fn is_macro_use(item: &RawItem) -> bool {
    item.attrs.iter().any(|a| a.starts_with("#[macro_use"))
}

/// Whether anything in the file can change a scope or expand.
fn relevant(p: &ParsedFile) -> bool {
    p.calls.iter().any(|c| c.expandable())
        || p.items.iter().any(|i| {
            matches!(i.detail, Detail::MacroRules { .. })
                || (i.kind == ItemKind::Module && is_macro_use(i))
        })
}

/// The scopes of one walk over a target's module tree.
pub(crate) struct Macros<'a> {
    memo: &'a ExpansionMemo,
    text: &'a dyn Fn(&Path) -> Option<Arc<str>>,
    display: &'a dyn Fn(&Path) -> String,
    /// `#[macro_export]`ed macros seen in an earlier walk of the same tree ...
    prior: FxHashMap<Rc<str>, Def>,
    /// ... and in this one (the first of a name wins).
    exported: FxHashMap<Rc<str>, Def>,
    /// Names invocations asked for that nothing in scope defined.
    missed: FxHashSet<String>,
    /// Files walked ahead of the tree (`#[macro_use] mod`), until the tree reaches them.
    ahead: FxHashMap<PathBuf, Walked>,
    walking: FxHashSet<PathBuf>,
    /// Files by id (for [`ploke_parse::expand_call`]): path and text.
    paths: Vec<Rc<Path>>,
    texts: Vec<Option<Arc<str>>>,
    ids: FxHashMap<Rc<Path>, u32>,
    expander: Expander,
    /// Invocations expanded, and those of a macro in scope that did not expand.
    pub expanded: usize,
    pub failed: usize,
    /// Expansions taken from the memo.
    pub reused: usize,
    /// Time spent expanding.
    pub expand_time: std::time::Duration,
}

impl<'a> Macros<'a> {
    pub fn new(
        memo: &'a ExpansionMemo,
        text: &'a dyn Fn(&Path) -> Option<Arc<str>>,
        display: &'a dyn Fn(&Path) -> String,
        prior: FxHashMap<Rc<str>, Def>,
    ) -> Macros<'a> {
        let mut m = Macros {
            memo,
            text,
            display,
            prior: FxHashMap::default(),
            exported: FxHashMap::default(),
            missed: FxHashSet::default(),
            ahead: FxHashMap::default(),
            walking: FxHashSet::default(),
            paths: Vec::new(),
            texts: Vec::new(),
            ids: FxHashMap::default(),
            expander: Expander::new(ExpandLimits::default()),
            expanded: 0,
            failed: 0,
            reused: 0,
            expand_time: std::time::Duration::ZERO,
        };
        for d in prior.values() {
            m.id(&d.file);
        }
        m.prior = prior;
        m
    }

    /// Whether a macro that an invocation missed turned up later in the walk: walking again
    /// with [`Macros::into_exported`] as the prior would expand it.
    pub fn missed_exported(&self) -> bool {
        self.missed
            .iter()
            .any(|n| self.exported.contains_key(n.as_str()))
    }

    pub fn into_exported(self) -> FxHashMap<Rc<str>, Def> {
        let mut all = self.prior;
        for (k, v) in self.exported {
            all.entry(k).or_insert(v);
        }
        all
    }

    fn id(&mut self, path: &Path) -> u32 {
        if let Some(&id) = self.ids.get(path) {
            return id;
        }
        let id = self.paths.len() as u32;
        let p: Rc<Path> = path.into();
        self.paths.push(p.clone());
        self.texts.push((self.text)(path));
        self.ids.insert(p, id);
        id
    }

    /// Walks `path` (parsed as `plain`) in scope `scope`: its macros, its invocations expanded.
    /// `load` gives the parse of another file of the tree (for `#[macro_use] mod`).
    pub fn walk<'p>(
        &mut self,
        path: &Path,
        plain: &ParsedFile,
        scope: &Scope,
        mod_rs_like: bool,
        load: &mut dyn FnMut(&Path) -> Option<&'p ParsedFile>,
    ) -> Walked {
        if let Some(w) = self.ahead.remove(path) {
            return w;
        }
        self.walk_file(path, plain, scope, mod_rs_like, load)
    }

    fn walk_file<'p>(
        &mut self,
        path: &Path,
        plain: &ParsedFile,
        scope_in: &Scope,
        mod_rs_like: bool,
        load: &mut dyn FnMut(&Path) -> Option<&'p ParsedFile>,
    ) -> Walked {
        if !relevant(plain) {
            return Walked {
                parsed: None,
                exports: Vec::new(),
                child_scopes: None,
            };
        }
        self.walking.insert(path.to_path_buf());
        let here: Rc<Path> = path.into();
        let mut w = FileWalk {
            base: owner_dir(path, mod_rs_like),
            file_dir: path.parent().unwrap_or(Path::new("")).to_path_buf(),
            scope: scope_in.clone(),
            open: Vec::new(),
            mod_parent: FxHashMap::default(),
            inline_dirs: FxHashMap::default(),
            child_scopes: FxHashMap::default(),
        };
        // Expansions by the position of their call among the file's items, with the end of
        // the items they replace (their position when they replace none).
        let mut expansions: Vec<(usize, usize, Vec<RawItem>)> = Vec::new();
        // Index among the derived items of each plain item (`u32::MAX`: replaced).
        let mut derived_of: Vec<u32> = Vec::with_capacity(plain.items.len());
        let mut derived = 0u32;
        // The last call whose expansion replaces the items read from its body (`cfg_if!` with
        // the crate's own definition): what is written inside it is not looked at.
        let mut replaced: Option<&ploke_parse::MacroCall> = None;
        let mut calls = plain.calls.iter().peekable();
        for i in 0..=plain.items.len() {
            while let Some(call) = calls.next_if(|c| c.items.0 as usize <= i) {
                if !call.expandable() || replaced.is_some_and(|r| r.encloses(call)) {
                    continue;
                }
                let parent = call
                    .parent
                    .and_then(|p| derived_of.get(p as usize).copied());
                self.close_to(&mut w, parent);
                let Some(items) = self.expand(&here, call, &w.scope) else {
                    continue;
                };
                let base = derived;
                let mut items = items;
                call.adopt(&mut items, base, parent);
                for (k, it) in items.iter().enumerate() {
                    let file = match it.file {
                        Some(id) => self.paths[id as usize].clone(),
                        None => here.clone(),
                    };
                    self.effect(&mut w, base + k as u32, it, &file, load);
                }
                derived += items.len() as u32;
                let end = if call.replaces_items() {
                    replaced = Some(call);
                    call.items.1 as usize
                } else {
                    i
                };
                expansions.push((i, end, items));
            }
            let Some(item) = plain.items.get(i) else {
                break;
            };
            if replaced.is_some_and(|r| i < r.items.1 as usize) {
                derived_of.push(u32::MAX);
                continue;
            }
            let d = derived;
            derived += 1;
            derived_of.push(d);
            if matches!(
                item.detail,
                Detail::MacroRules { .. } | Detail::Module { .. }
            ) {
                let mut it = item.clone();
                it.parent = item
                    .parent
                    .and_then(|p| derived_of.get(p as usize).copied());
                self.effect(&mut w, d, &it, &here, load);
            }
        }
        self.close_to(&mut w, None);
        self.walking.remove(path);
        let exports = since(&w.scope, scope_in);
        let parsed = (!expansions.is_empty()).then(|| self.derive(plain, expansions, &derived_of));
        Walked {
            parsed,
            exports,
            child_scopes: Some(w.child_scopes),
        }
    }

    /// The definition `path` names in `scope`.
    fn lookup<'s>(&'s self, path: &[String], scope: &'s Scope) -> Option<&'s Def> {
        let exported = |n: &str| self.exported.get(n).or_else(|| self.prior.get(n));
        match path {
            [name] => find(scope, name).or_else(|| exported(name)),
            [root, name] if matches!(root.as_str(), "crate" | "$crate" | "self") => {
                exported(name).or_else(|| find(scope, name))
            }
            _ => None,
        }
    }

    fn expand(
        &mut self,
        file: &Rc<Path>,
        call: &ploke_parse::MacroCall,
        scope: &Scope,
    ) -> Option<Vec<RawItem>> {
        // Only names that could be this crate's macros are worth another walk.
        let local = matches!(call.path.as_slice(), [_])
            || matches!(call.path.as_slice(), [r, _] if matches!(r.as_str(), "crate" | "$crate" | "self"));
        if !local {
            return None;
        }
        if self.lookup(&call.path, scope).is_none() {
            if let Some(n) = call.path.last() {
                self.missed.insert(n.clone());
            }
            return None;
        }
        let key: MemoKey = (file.to_path_buf(), call.span, call.content_hash);
        if let Some(memo) = self.memo.get(&key) {
            if let Some(out) = self.replay(&memo, scope) {
                self.reused += 1;
                return out;
            }
        }
        let call_id = self.id(file);
        let mut expander =
            std::mem::replace(&mut self.expander, Expander::new(ExpandLimits::default()));
        let texts = &self.texts;
        let text = |id: u32| texts.get(id as usize).and_then(|t| t.as_deref());
        let mut asked: Vec<(Vec<String>, Found)> = Vec::new();
        let this = &*self;
        let mut resolve = |path: &[String]| -> Option<MacroDefSite> {
            let def = this.lookup(path, scope);
            asked.push((
                path.to_vec(),
                def.map(|d| (d.file.to_path_buf(), d.span, d.hash)),
            ));
            let d = def?;
            this.ids
                .get(&d.file)
                .map(|&file| MacroDefSite { file, span: d.span })
        };
        let t = std::time::Instant::now();
        let out = expander.expand(call_id, call, &text, &mut resolve);
        let took = t.elapsed();
        self.expand_time += took;
        self.expander = expander;
        for (path, def) in &asked {
            if let (None, Some(n)) = (def, path.last()) {
                self.missed.insert(n.clone());
            }
        }
        // Kept with file paths: ids are this walk's.
        let mut files: Vec<PathBuf> = Vec::new();
        let mut local: FxHashMap<u32, u32> = FxHashMap::default();
        let stored = out.as_ref().map(|items| {
            items
                .iter()
                .map(|it| {
                    let mut it = it.clone();
                    it.file = it.file.map(|id| {
                        *local.entry(id).or_insert_with(|| {
                            files.push(self.paths[id as usize].to_path_buf());
                            files.len() as u32 - 1
                        })
                    });
                    it
                })
                .collect()
        });
        self.memo.put(
            key,
            Memo {
                asked,
                items: stored,
                files,
            },
        );
        match out {
            Some(ref items) => {
                self.expanded += 1;
                tracing::trace!(
                    "{}:{}: `{}!` expanded to {} items ({took:?})",
                    (self.display)(file),
                    call.span.start_line,
                    call.path.join("::"),
                    items.len()
                );
            }
            None => {
                self.failed += 1;
                tracing::trace!(
                    "{}:{}: `{}!` did not expand",
                    (self.display)(file),
                    call.span.start_line,
                    call.path.join("::")
                );
            }
        }
        out
    }

    /// The memo's expansion, if every definition it used is still the one in scope.
    fn replay(&mut self, memo: &Memo, scope: &Scope) -> Option<Option<Vec<RawItem>>> {
        for (path, was) in &memo.asked {
            let now = self.lookup(path, scope);
            let same = match (now, was) {
                (None, None) => true,
                (Some(d), Some((file, span, hash))) => {
                    *d.file == **file && d.span == *span && d.hash == *hash
                }
                _ => false,
            };
            if !same {
                return None;
            }
        }
        for (path, was) in &memo.asked {
            if let (None, Some(n)) = (was, path.last()) {
                self.missed.insert(n.clone());
            }
        }
        let ids: Vec<u32> = memo.files.iter().map(|f| self.id(f)).collect();
        Some(memo.items.as_ref().map(|items| {
            items
                .iter()
                .map(|it| {
                    let mut it = it.clone();
                    it.file = it.file.map(|i| ids[i as usize]);
                    it
                })
                .collect()
        }))
    }

    /// Closes the inline modules of `w` that `parent` is not inside.
    fn close_to(&self, w: &mut FileWalk, parent: Option<u32>) {
        while let Some(&(m, ref at_entry, macro_use)) = w.open.last() {
            let mut cur = parent;
            let mut inside = false;
            while let Some(c) = cur {
                if c == m {
                    inside = true;
                    break;
                }
                cur = w.mod_parent.get(&c).copied().flatten();
            }
            if inside {
                break;
            }
            if !macro_use {
                w.scope = at_entry.clone();
            }
            w.open.pop();
        }
    }

    /// What item `it` (at index `d` of the file's items, its text in `file`) does to scopes.
    fn effect<'p>(
        &mut self,
        w: &mut FileWalk,
        d: u32,
        it: &RawItem,
        file: &Rc<Path>,
        load: &mut dyn FnMut(&Path) -> Option<&'p ParsedFile>,
    ) {
        match &it.detail {
            Detail::MacroRules { exported } => {
                self.close_to(w, it.parent);
                self.id(file);
                let def = Def {
                    name: it.name.as_str().into(),
                    file: file.clone(),
                    span: it.span,
                    hash: it.content_hash,
                };
                if *exported {
                    self.exported
                        .entry(def.name.clone())
                        .or_insert_with(|| def.clone());
                }
                w.scope = push(&w.scope, def);
            }
            Detail::Module {
                inline, path_attr, ..
            } if it.kind == ItemKind::Module => {
                self.close_to(w, it.parent);
                let parent_dir = it.parent.and_then(|p| w.inline_dirs.get(&p).cloned());
                if *inline {
                    let dir = inline_dir(
                        &it.name,
                        path_attr.as_deref(),
                        parent_dir.as_deref(),
                        &w.base,
                        &w.file_dir,
                    );
                    w.inline_dirs.insert(d, dir);
                    w.mod_parent.insert(d, it.parent);
                    w.open.push((d, w.scope.clone(), is_macro_use(it)));
                    return;
                }
                w.child_scopes.insert(d, w.scope.clone());
                if !is_macro_use(it) {
                    return;
                }
                let candidates = mod_candidates(
                    &it.name,
                    path_attr.as_deref(),
                    parent_dir.as_deref(),
                    &w.base,
                    &w.file_dir,
                );
                let Some((child, m)) = candidates
                    .iter()
                    .map(|(c, m)| (normalize(c), *m))
                    .find(|(c, _)| c.is_file())
                else {
                    return;
                };
                if self.walking.contains(&child) {
                    return;
                }
                if !self.ahead.contains_key(&child) {
                    let Some(parsed) = load(&child) else { return };
                    let walked = self.walk_file(&child, parsed, &w.scope, m, load);
                    self.ahead.insert(child.clone(), walked);
                }
                for def in self.ahead[&child].exports.clone() {
                    w.scope = push(&w.scope, def);
                }
            }
            _ => {}
        }
    }

    /// The file's items with `expansions` (by call position, with the end of the items each
    /// replaces) put in.
    fn derive(
        &self,
        plain: &ParsedFile,
        expansions: Vec<(usize, usize, Vec<RawItem>)>,
        derived_of: &[u32],
    ) -> (Arc<ParsedFile>, ContentHash) {
        let extra: usize = expansions.iter().map(|(_, _, v)| v.len()).sum();
        let mut items = Vec::with_capacity(plain.items.len() + extra);
        let mut files: Vec<String> = Vec::new();
        let mut local: FxHashMap<u32, u32> = FxHashMap::default();
        let mut expansions = expansions.into_iter().peekable();
        let mut skip_to = 0usize;
        for i in 0..=plain.items.len() {
            while let Some((_, end, exp)) = expansions.next_if(|(at, _, _)| *at <= i) {
                skip_to = skip_to.max(end);
                for mut it in exp {
                    it.file = it.file.map(|id| {
                        *local.entry(id).or_insert_with(|| {
                            files.push((self.display)(&self.paths[id as usize]));
                            files.len() as u32 - 1
                        })
                    });
                    items.push(it);
                }
            }
            let Some(item) = plain.items.get(i) else {
                break;
            };
            if i < skip_to {
                continue;
            }
            let mut it = item.clone();
            it.parent = item
                .parent
                .and_then(|p| derived_of.get(p as usize).copied());
            items.push(it);
        }
        let parsed = ParsedFile {
            items,
            issues: plain.issues.clone(),
            parsed: plain.parsed,
            lines: plain.lines,
            docs: plain.docs.clone(),
            calls: Vec::new(),
            files,
        };
        let hash = ContentHash::of(&postcard::to_allocvec(&parsed).unwrap_or_default());
        (Arc::new(parsed), hash)
    }
}

/// The state of walking one file.
struct FileWalk {
    base: PathBuf,
    file_dir: PathBuf,
    scope: Scope,
    /// Inline modules open at this point: (item, scope at their start, `#[macro_use]`).
    open: Vec<(u32, Scope, bool)>,
    /// Parent of each inline module.
    mod_parent: FxHashMap<u32, Option<u32>>,
    inline_dirs: FxHashMap<u32, PathBuf>,
    child_scopes: FxHashMap<u32, Scope>,
}
