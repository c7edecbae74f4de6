//! Planning: every edit resolved against the index, every new file text computed and checked
//! in memory; then applying a plan.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use ploke_core::{ContentHash, ItemKind, Node, TargetKind};
use ploke_db::Db;
use ploke_parse::{ParseOptions, MAX_FILE_BYTES};

use crate::fsx::{self, ApplyStep, FailPoint, FileWrite, Hooks, NewPathError};
use crate::items::{self, Place};
use crate::journal::{self, Intent, JournalEntry};
use crate::text::{
    self, deeper, end_of_content_before, line_indent, line_of, line_start, reindent,
};
use crate::{Edit, EditError};

/// What [`plan`] needs: the index and the workspace it describes.
#[derive(Clone, Copy)]
pub struct EditContext<'a> {
    /// The index of the workspace (items, their spans, and file hashes).
    pub db: &'a Db,
    /// The workspace root the index's file paths are relative to.
    pub workspace_root: &'a Path,
    /// Whether edits may change build scripts (`build.rs` and the modules it declares), which
    /// run at build time with the user's rights. Off unless the user asked for it.
    pub allow_build_scripts: bool,
}

/// Validated edits, ready to be shown ([`Plan::diff`]) and applied ([`Plan::apply`]).
#[derive(Debug, Clone)]
pub struct Plan {
    root: PathBuf,
    files: Vec<FileChange>,
}

/// The new text of one file.
#[derive(Debug, Clone)]
pub struct FileChange {
    path: String,
    abs: PathBuf,
    before: String,
    after: String,
    /// For a file the plan creates: the directories to create for it, outermost first.
    new: Option<Vec<PathBuf>>,
}

/// How long [`FileChange::diff`] looks for a minimal diff before it settles for a larger one.
const DIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

impl FileChange {
    /// Workspace-relative path, as the index names the file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's text when the plan was made (empty for a new file).
    pub fn before(&self) -> &str {
        &self.before
    }

    /// The file's text after the edits.
    pub fn after(&self) -> &str {
        &self.after
    }

    /// Whether the plan creates this file (`create_file`).
    pub fn is_new(&self) -> bool {
        self.new.is_some()
    }

    /// A unified diff of this file (`a/<path>` → `b/<path>`, or `/dev/null` → `b/<path>` for a
    /// new file; three lines of context).
    pub fn diff(&self) -> String {
        let old = if self.is_new() {
            "/dev/null".to_string()
        } else {
            format!("a/{}", self.path)
        };
        // A minimal diff costs (lines × differences): seconds for a few thousand changed lines,
        // hours for a few hundred thousand. Past the timeout the diff is still right, only
        // longer than it needs to be.
        similar::TextDiff::configure()
            .timeout(DIFF_TIMEOUT)
            .diff_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&old, &format!("b/{}", self.path))
            .to_string()
    }
}

/// How to apply a plan.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// The request behind the edits, kept in the journal entry.
    pub request: Option<String>,
    /// Fail on purpose at this point (tests only).
    pub fail_point: Option<FailPoint>,
    /// Called after each step of the apply (tests only: one that kills the process there
    /// checks that [`crate::recover`] finds the workspace whole).
    pub step_hook: Option<fn(ApplyStep)>,
}

/// What [`Plan::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The journal entry that records it (what [`crate::undo`] will undo next).
    pub entry: u64,
    /// Workspace-relative paths of the changed files: re-index these.
    pub files: Vec<String>,
}

impl Plan {
    /// The changed files, ordered by path.
    pub fn files(&self) -> &[FileChange] {
        &self.files
    }

    /// Workspace-relative paths of the files the plan changes, ordered.
    pub fn changed_files(&self) -> Vec<String> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    /// Unified diffs of every changed file, one after the other, paths relative to the
    /// workspace.
    pub fn diff(&self) -> String {
        self.files.iter().map(FileChange::diff).collect()
    }

    /// Writes the plan: see [`Plan::apply_with`].
    pub fn apply(&self, journal_dir: &Path) -> Result<Applied, EditError> {
        self.apply_with(journal_dir, &ApplyOptions::default())
    }

    /// Writes every file of the plan or none, and records it in the journal in `journal_dir`.
    ///
    /// First runs [`crate::recover`] for an apply that was killed before. Right before writing,
    /// each file must still hold the text the plan was made from, and a new file must still not
    /// exist (else [`EditError::Stale`]). The journal entry is written, marked pending, before
    /// anything else; then each new text goes to a temp file in the file's directory, is synced
    /// and renamed over the file (permissions kept; a new file is linked into place, never over
    /// a file that appeared meanwhile); then the entry is marked committed. If any step fails,
    /// the files already renamed get their old bytes back, temp files are removed and the entry
    /// is dropped. If the process dies on the way, the next [`crate::recover`] finishes the
    /// apply or takes it back.
    pub fn apply_with(
        &self,
        journal_dir: &Path,
        opts: &ApplyOptions,
    ) -> Result<Applied, EditError> {
        if let Some(recovered) = journal::recover(journal_dir, &self.root)? {
            tracing::warn!("{recovered}");
        }
        let writes: Vec<FileWrite<'_>> = self
            .files
            .iter()
            .map(|f| FileWrite {
                rel: &f.path,
                abs: &f.abs,
                expected: (!f.is_new()).then_some(f.before.as_bytes()),
                new: Some(f.after.as_bytes()),
                new_dirs: f.new.as_deref().unwrap_or_default(),
            })
            .collect();
        let mut entry: Option<JournalEntry> = None;
        let mut prepare = |temps: &[Option<PathBuf>]| {
            let intents: Vec<Intent<'_>> = self
                .files
                .iter()
                .zip(temps)
                .map(|(f, temp)| Intent {
                    path: fsx::rel_string(&self.root, &f.abs),
                    before: (!f.is_new()).then_some(f.before.as_bytes()),
                    after: f.after.as_bytes(),
                    temp: temp.as_ref().map(|t| fsx::rel_string(&self.root, t)),
                    created_dirs: f
                        .new
                        .iter()
                        .flatten()
                        .map(|d| fsx::rel_string(&self.root, d))
                        .collect(),
                })
                .collect();
            let blobs_stored = || {
                if let Some(f) = opts.step_hook {
                    f(ApplyStep::BlobsStored);
                }
            };
            entry = Some(journal::record_pending(
                journal_dir,
                opts.request.as_deref(),
                &intents,
                &blobs_stored,
            )?);
            Ok(())
        };
        let stale = |file: &str| EditError::Stale {
            file: file.to_string(),
        };
        let hint = |i: usize| {
            let f = &self.files[i];
            if f.is_new() {
                return "(none: the edit created the file; delete it)".to_string();
            }
            journal::blob_path(journal_dir, ContentHash::of(f.before.as_bytes()))
                .display()
                .to_string()
        };
        let hooks = Hooks {
            prepare: &mut prepare,
            fail: opts.fail_point,
            step: opts.step_hook,
        };
        let written = fsx::write_all(&writes, &stale, hooks, &hint);
        let step = |s: ApplyStep| {
            if let Some(f) = opts.step_hook {
                f(s);
            }
        };
        match (written, entry) {
            (Ok(()), Some(entry)) => {
                step(ApplyStep::BeforeCommit);
                if let Err(e) = journal::commit(journal_dir, &entry) {
                    // Every file is written; the next recover (every apply and undo runs one)
                    // finds them all new and commits the entry.
                    tracing::warn!("the edit is written, but marking it done failed: {e}");
                }
                step(ApplyStep::Committed);
                Ok(Applied {
                    entry: entry.id,
                    files: self.changed_files(),
                })
            }
            (Ok(()), None) => unreachable!("write_all records the intent before any write"),
            (Err(e), Some(entry)) => {
                if matches!(e, EditError::RollbackFailed { .. }) {
                    // Some files keep their new bytes: keep the entry, done, so that undo can
                    // take them back (it leaves the files that hold their old bytes alone).
                    if let Err(ce) = journal::commit(journal_dir, &entry) {
                        tracing::warn!("keeping the journal entry of a failed apply: {ce}");
                    }
                } else {
                    journal::forget(journal_dir, entry.id);
                }
                Err(e)
            }
            (Err(e), None) => Err(e),
        }
    }
}

/// Resolves `edits` against the index and computes every changed file in memory; nothing is
/// written. For each edit in request order: its texts are within the parser's size limit; the
/// item exists, is unambiguous and of a kind the operation takes; its file lies inside the
/// workspace, is an indexed Rust source file (not hidden, not build output, not a build script
/// unless allowed) and still has the hash the index recorded; item code is exactly what its
/// place takes; a `search` text occurs exactly once; a new file is a new `.rs` file in a
/// package. Then per file: no two edits overlap, the result is within the parser's limits, and
/// an edited file still parses (one that did not parse before is not held to that). See the
/// crate docs for the details.
pub fn plan(edits: &[Edit], ctx: &EditContext<'_>) -> Result<Plan, EditError> {
    let root = fsx::canonical_root(ctx.workspace_root)?;
    let files = ctx.db.files()?;
    let crates = ctx.db.crates()?;
    // A build script's files: its root, and what its module tree reaches (attributed to it).
    let mut build_scripts = HashSet::new();
    for c in crates.iter().filter(|c| c.kind == TargetKind::BuildScript) {
        build_scripts.insert(c.root_file.clone());
        let dir = package_dir(&c.package_root);
        build_scripts.extend(
            files
                .iter()
                .filter(|f| f.crate_name == c.name && in_dir(&f.path, &dir))
                .map(|f| f.path.clone()),
        );
    }
    let mut package_roots: Vec<String> = crates
        .iter()
        .map(|c| package_dir(&c.package_root))
        .collect();
    package_roots.sort();
    package_roots.dedup();
    let mut p = Planner {
        db: ctx.db,
        root,
        indexed: files.into_iter().map(|f| (f.path, f.hash)).collect(),
        files: BTreeMap::new(),
        crate_roots: crates.into_iter().map(|c| c.root_file).collect(),
        package_roots,
        build_scripts,
        allow_build_scripts: ctx.allow_build_scripts,
    };
    for (i, edit) in edits.iter().enumerate() {
        p.add(i, edit)?;
    }
    p.finish()
}

/// A replacement of `text[start..end]` by the edit at index `edit` of the request.
struct Splice {
    start: usize,
    end: usize,
    text: String,
    edit: usize,
    /// A whitespace fix-up that closes an insertion (a newline before a `}` that shared a line
    /// with the body, a final newline): planned once, after the insertions at its offset.
    fixup: bool,
}

struct Pending {
    rel: String,
    text: String,
    splices: Vec<Splice>,
    /// Offsets of the insertions planned so far, and the fix-ups: asked once per insertion,
    /// so a set, not a scan of `splices` (a request may hold thousands of edits).
    inserts: HashSet<usize>,
    fixups: HashSet<(usize, usize)>,
    /// For a file `create_file` makes: the directories to create for it.
    new: Option<Vec<PathBuf>>,
}

impl Pending {
    fn new(rel: String, text: String) -> Pending {
        Pending {
            rel,
            text,
            splices: Vec::new(),
            inserts: HashSet::new(),
            fixups: HashSet::new(),
            new: None,
        }
    }
}

struct Planner<'a> {
    db: &'a Db,
    root: PathBuf,
    indexed: HashMap<String, ContentHash>,
    /// Keyed by canonical path, so that two names of one file are one file.
    files: BTreeMap<PathBuf, Pending>,
    crate_roots: HashSet<String>,
    /// Workspace-relative package directories (`` for one at the root), sorted.
    package_roots: Vec<String>,
    /// Workspace-relative files of build scripts.
    build_scripts: HashSet<String>,
    allow_build_scripts: bool,
}

/// `package_root` as a directory prefix: `` for the workspace root.
fn package_dir(package_root: &str) -> String {
    package_root
        .trim_matches('/')
        .trim_start_matches("./")
        .to_string()
}

/// Whether the workspace-relative `path` lies inside the workspace-relative directory `dir`.
fn in_dir(path: &str, dir: &str) -> bool {
    dir.is_empty() || dir == "." || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// The texts of an edit that go into a file (or are searched for), by field name.
fn texts(edit: &Edit) -> Vec<(&'static str, &str)> {
    match edit {
        Edit::ReplaceItem { code, .. }
        | Edit::InsertItem { code, .. }
        | Edit::CreateFile { code, .. } => vec![("code", code)],
        Edit::SearchReplace {
            search, replace, ..
        } => vec![("search", search), ("replace", replace)],
    }
}

impl Planner<'_> {
    fn add(&mut self, i: usize, edit: &Edit) -> Result<(), EditError> {
        // First and cheapest: nothing larger than a source file may be is lexed or searched.
        for (field, text) in texts(edit) {
            if text.len() > MAX_FILE_BYTES {
                return Err(EditError::TextTooLarge {
                    index: i,
                    target: edit.target().to_string(),
                    field,
                    bytes: text.len(),
                    limit: MAX_FILE_BYTES,
                });
            }
        }
        match edit {
            Edit::ReplaceItem { path, code } => {
                const WHAT: &str =
                    "replace_item cannot replace a whole crate; use search_replace on its root file";
                let node = self.find(path, |k| k != ItemKind::Crate, WHAT)?;
                let key = self.load(&node.file, Some(&node.file))?;
                let place = self.place_of(&node)?;
                let pending = self.files.get_mut(&key).expect("loaded");
                within_limits(&pending.rel, code)?;
                items::check_replacement(code, node.kind, place).map_err(|found| {
                    EditError::BadItemCode {
                        file: pending.rel.clone(),
                        op: "replace_item",
                        target: path.clone(),
                        expected: items::expected_one(node.kind, place),
                        found,
                    }
                })?;
                let (start, end) = span_in(pending, &node)?;
                let indent = line_indent(&pending.text, start).to_string();
                pending.splices.push(Splice {
                    start,
                    end,
                    text: reindent(code, &indent, false),
                    edit: i,
                    fixup: false,
                });
            }
            Edit::InsertItem { parent, code } => {
                let accept = |k| {
                    matches!(
                        k,
                        ItemKind::Crate | ItemKind::Module | ItemKind::Impl | ItemKind::Trait
                    )
                };
                let node = self.find(
                    parent,
                    accept,
                    "insert_item needs a module, a crate, an impl or a trait as parent",
                )?;
                let place = match node.kind {
                    ItemKind::Impl => Place::Impl,
                    ItemKind::Trait => Place::Trait,
                    _ => Place::Module,
                };
                // The file is checked below, before the code is parsed; the code's nesting is
                // bounded here so that parsing it cannot exhaust the stack.
                within_limits(&node.file, code)?;
                let check = |file: &str| {
                    items::check_insertion(code, place).map_err(|found| EditError::BadItemCode {
                        file: file.to_string(),
                        op: "insert_item",
                        target: parent.clone(),
                        expected: items::expected_many(place),
                        found,
                    })
                };
                // A crate root or a `mod m;` (its signature ends with `;`): the end of its file,
                // found without reading the file that declares it.
                let file = match node.kind {
                    ItemKind::Crate => Some(node.file.clone()),
                    ItemKind::Module if node.signature.trim_end().ends_with(';') => {
                        Some(self.module_file(&node)?)
                    }
                    _ => None,
                };
                if let Some(file) = file {
                    let key = self.load(&file, Some(&file))?;
                    check(&file)?;
                    insert_at_end(self.files.get_mut(&key).expect("loaded"), code, i);
                    return Ok(());
                }
                let key = self.load(&node.file, Some(&node.file))?;
                check(&node.file)?;
                let pending = self.files.get_mut(&key).expect("loaded");
                let (_, end) = span_in(pending, &node)?;
                if !pending.text[..end].ends_with('}') {
                    return Err(EditError::BadSpan {
                        file: pending.rel.clone(),
                        item: node.path,
                    });
                }
                insert_before_brace(pending, end - 1, code, i);
            }
            Edit::SearchReplace {
                file,
                search,
                replace,
            } => {
                if search.is_empty() {
                    return Err(EditError::EmptySearch { file: file.clone() });
                }
                let key = self.load(file, None)?;
                let pending = self.files.get_mut(&key).expect("loaded");
                match text::find_unique(&pending.text, search) {
                    Err(0) => {
                        return Err(EditError::SearchNotFound {
                            file: pending.rel.clone(),
                        })
                    }
                    Ok(at) => pending.splices.push(Splice {
                        start: at,
                        end: at + search.len(),
                        text: replace.clone(),
                        edit: i,
                        fixup: false,
                    }),
                    Err(count) => {
                        return Err(EditError::SearchNotUnique {
                            file: pending.rel.clone(),
                            count,
                        })
                    }
                }
            }
            Edit::CreateFile { file, code } => self.create(i, file, code)?,
        }
        Ok(())
    }

    /// Plans a new file: a workspace-relative `.rs` path inside a package that does not exist,
    /// is not hidden, build output or ignored, holding code that parses.
    fn create(&mut self, i: usize, file: &str, code: &str) -> Result<(), EditError> {
        let bad = |reason: &str| EditError::BadNewFile {
            file: file.to_string(),
            reason: reason.to_string(),
        };
        if Path::new(file).is_absolute() {
            return Err(bad(
                "give a path relative to the workspace root, such as `src/net.rs`",
            ));
        }
        let Some(rel) = fsx::lexical_rel(&self.root, file).filter(|r| !r.is_empty()) else {
            return Err(bad(
                "give a plain path relative to the workspace root, without `..`",
            ));
        };
        protected(file, &rel)?;
        if !rel.ends_with(".rs") {
            return Err(bad("only Rust source files (`.rs`) can be created"));
        }
        if rel.chars().any(|c| c == '\\' || c.is_control()) {
            return Err(bad(
                "the path holds a backslash or a control character; use `/` between names",
            ));
        }
        let (abs, new_dirs) =
            match fsx::resolve_new_in_workspace(&self.root, &rel) {
                Ok(found) => found,
                Err(NewPathError::Exists) => return Err(bad(
                    "it exists already; change it with replace_item, insert_item or search_replace",
                )),
                Err(NewPathError::Outside) => {
                    return Err(EditError::OutsideWorkspace {
                        path: file.to_string(),
                        root: self.root.clone(),
                    })
                }
            };
        // Symlinked directories on the way are judged by where they lead.
        let canonical = fsx::rel_string(&self.root, &abs);
        protected(file, &canonical)?;
        if self.files.contains_key(&abs) {
            return Err(bad("an earlier edit of this request creates it already"));
        }
        if !self.package_roots.iter().any(|d| in_dir(&canonical, d)) {
            return Err(bad(
                "it lies in no package of the workspace; create it inside a package directory (its src/, say)",
            ));
        }
        // Cargo runs a `build.rs` beside a manifest at build time without being asked to.
        let is_build_script = self
            .package_roots
            .iter()
            .any(|d| canonical == join_rel(d, "build.rs"));
        if is_build_script && !self.allow_build_scripts {
            return Err(EditError::BuildScript { file: canonical });
        }
        if fsx::gitignored(&self.root, &canonical) {
            return Err(bad(
                "the workspace's .gitignore ignores it, so it would never be indexed; choose another path",
            ));
        }
        within_limits(&canonical, code)?;
        let mut text = code.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let mut pending = Pending::new(canonical, String::new());
        pending.splices.push(Splice {
            start: 0,
            end: 0,
            text,
            edit: i,
            fixup: false,
        });
        pending.new = Some(new_dirs);
        self.files.insert(abs, pending);
        Ok(())
    }

    /// Where `node` stands, which decides what its replacement must parse as.
    fn place_of(&self, node: &Node) -> Result<Place, EditError> {
        Ok(match node.kind {
            ItemKind::Method | ItemKind::AssocConst | ItemKind::AssocType => {
                let parent = match node.parent {
                    Some(id) => self.db.node(id)?,
                    None => None,
                };
                match parent {
                    Some(p) if p.kind == ItemKind::Trait => Place::Trait,
                    _ => Place::Impl,
                }
            }
            ItemKind::ForeignFn | ItemKind::ForeignStatic | ItemKind::ForeignType => Place::Foreign,
            ItemKind::Field if node.name.parse::<usize>().is_ok() => Place::UnnamedField,
            ItemKind::Field => Place::NamedField,
            ItemKind::Variant => Place::Variant,
            _ => Place::Module,
        })
    }

    /// The one node called `name` (canonical path first, then name or display name) whose
    /// kind `accept`s.
    fn find(
        &self,
        name: &str,
        accept: impl Fn(ItemKind) -> bool,
        what: &'static str,
    ) -> Result<Node, EditError> {
        let mut found = self.db.nodes_by_path(name)?;
        if let (true, Some(rest)) = (found.is_empty(), name.strip_prefix("crate::")) {
            // `crate::a::b` as written inside some crate of the workspace.
            let mut crates: Vec<String> = self.db.crates()?.into_iter().map(|c| c.name).collect();
            crates.sort();
            crates.dedup();
            for c in crates {
                found.extend(self.db.nodes_by_path(&format!("{c}::{rest}"))?);
            }
        }
        if found.is_empty() {
            found = self.db.nodes_by_name(name)?;
        }
        let mut seen = HashSet::new();
        found.retain(|n| seen.insert(n.id));
        // A dependency's items are read-only: a name that only they answer to is refused as
        // such; one the workspace's items answer to too means those.
        if let Some(dep) = found.iter().find(|n| n.is_dependency()) {
            if found.iter().all(|n| n.is_dependency()) {
                return Err(self.dependency(&dep.path, &dep.crate_name, &dep.file));
            }
            found.retain(|n| !n.is_dependency());
        }
        let Some(first) = found.first() else {
            return Err(EditError::ItemNotFound {
                name: name.to_string(),
            });
        };
        let first_kind = first.kind;
        let mut fit: Vec<Node> = found.into_iter().filter(|n| accept(n.kind)).collect();
        match fit.len() {
            0 => Err(EditError::WrongKind {
                name: name.to_string(),
                kind: first_kind.to_string(),
                what,
            }),
            1 => Ok(fit.pop().expect("one")),
            _ => {
                let mut candidates: Vec<String> = fit
                    .iter()
                    .map(|n| format!("{} ({}:{})", n.path, n.file, n.span.start_line))
                    .collect();
                candidates.sort();
                Err(EditError::Ambiguous {
                    name: name.to_string(),
                    candidates,
                })
            }
        }
    }

    /// [`EditError::Dependency`] for `what` (an item's path or a file), of crate `crate_name`
    /// whose file is `file`.
    fn dependency(&self, what: &str, crate_name: &str, file: &str) -> EditError {
        let crates = self.db.all_crates().unwrap_or_default();
        let dependency = match ploke_db::crate_of(&crates, crate_name, file) {
            Some(c) => format!("{} {}", c.package, c.version),
            None => crate_name.to_string(),
        };
        EditError::Dependency {
            what: what.to_string(),
            dependency,
        }
    }

    /// Reads the file `given` (workspace-relative or absolute) once: confined to the
    /// workspace, not hidden or build output, one of the index's files (`index_path` is how the
    /// index names it, for files found through items), not a dependency's, not a build script
    /// unless allowed, checked against the index's hash, UTF-8. Returns its key.
    fn load(&mut self, given: &str, index_path: Option<&str>) -> Result<PathBuf, EditError> {
        let lexical = fsx::lexical_rel(&self.root, given);
        // A dependency's file (an absolute path outside the workspace that the index holds).
        if lexical.is_none() && ploke_core::is_dependency_path(given) {
            if let Some(rec) = self.db.file(given)? {
                return Err(self.dependency(given, &rec.crate_name, &rec.path));
            }
        }
        // Judged by name first, so that a hidden path is refused as such even when it is
        // missing.
        if let Some(rel) = &lexical {
            protected(given, rel)?;
        }
        let abs = match fsx::resolve_in_workspace(&self.root, given) {
            // An indexed file that is gone: the index is out of date.
            Err(EditError::FileNotFound { .. }) if index_path.is_some() => {
                return Err(EditError::Stale {
                    file: given.to_string(),
                })
            }
            other => other?,
        };
        if self.files.contains_key(&abs) {
            return Ok(abs);
        }
        let canonical = fsx::rel_string(&self.root, &abs);
        // A symlink is judged by where it leads.
        protected(given, &canonical)?;
        let key = [
            index_path.map(str::to_string),
            lexical.clone(),
            Some(canonical.clone()),
        ]
        .into_iter()
        .flatten()
        .find(|k| self.indexed.contains_key(k));
        let Some(key) = key else {
            return Err(match index_path {
                // An item's file that the index does not know: the index is out of date.
                Some(_) => EditError::Stale {
                    file: lexical.unwrap_or(canonical),
                },
                None => EditError::NotIndexed {
                    file: lexical.unwrap_or_else(|| given.to_string()),
                },
            });
        };
        if !self.allow_build_scripts
            && (self.build_scripts.contains(&key) || self.build_scripts.contains(&canonical))
        {
            return Err(EditError::BuildScript { file: key });
        }
        let bytes = fs::read(&abs).map_err(|e| EditError::io(&abs, "reading", e))?;
        if ContentHash::of(&bytes) != self.indexed[&key] {
            return Err(EditError::Stale { file: key });
        }
        let text =
            String::from_utf8(bytes).map_err(|_| EditError::NotUtf8 { file: key.clone() })?;
        self.files.insert(abs.clone(), Pending::new(key, text));
        Ok(abs)
    }

    /// The indexed file that holds the body of the file module declared by `m` (`mod m;`).
    fn module_file(&self, m: &Node) -> Result<String, EditError> {
        // Its items say where it lives.
        if let Some(child) = self
            .db
            .children(m.id)?
            .into_iter()
            .find(|c| c.file != m.file)
        {
            return Ok(child.file);
        }
        // An empty module: the language's rules, every reading of them checked against the
        // index (a file loaded through `#[path]` may count as mod-rs or not).
        let decl = m.file.clone();
        let (dir, file_name) = decl.rsplit_once('/').unwrap_or(("", decl.as_str()));
        let stem = file_name.strip_suffix(".rs").unwrap_or(file_name);
        let mod_rs = file_name == "mod.rs" || self.crate_roots.contains(&decl);
        let mut inline = Vec::new();
        let mut up = m.parent;
        while let Some(id) = up {
            match self.db.node(id)? {
                Some(p) if p.kind == ItemKind::Module && p.file == decl => {
                    inline.push(unraw(&p.name).to_string());
                    up = p.parent;
                }
                _ => break,
            }
        }
        inline.reverse();
        let inline = inline.join("/");
        let own = join_rel(dir, &inline);
        let nested = join_rel(&join_rel(dir, stem), &inline);
        let bases = if mod_rs { [own, nested] } else { [nested, own] };
        let mut candidates = Vec::new();
        let name = unraw(&m.name);
        match path_attr(&m.attrs) {
            Some(p) => {
                if inline.is_empty() {
                    candidates.push(join_rel(dir, &p));
                }
                candidates.extend(bases.iter().map(|b| join_rel(b, &p)));
            }
            None => {
                for b in &bases {
                    candidates.push(join_rel(b, &format!("{name}.rs")));
                    candidates.push(join_rel(b, &format!("{name}/mod.rs")));
                }
            }
        }
        candidates
            .into_iter()
            .find(|c| self.indexed.contains_key(c))
            .ok_or_else(|| EditError::ModuleFileNotFound {
                module: m.path.clone(),
            })
    }

    /// Applies the splices of every file, checks them, and builds the plan.
    fn finish(self) -> Result<Plan, EditError> {
        let mut files = Vec::new();
        for (abs, mut p) in self.files {
            p.splices.sort_by_key(|s| (s.start, s.end, s.fixup, s.edit));
            let mut after = String::with_capacity(p.text.len());
            let mut cursor = 0;
            // Sorted by start and not overlapping, each splice ends where the text resumes.
            let mut last: Option<&Splice> = None;
            for s in &p.splices {
                if let Some(prev) = last {
                    if s.start < cursor {
                        let (first, second) = (prev.edit.min(s.edit), prev.edit.max(s.edit));
                        return Err(EditError::Overlap {
                            file: p.rel,
                            first,
                            second,
                            line_a: line_of(&p.text, prev.start),
                            line_b: line_of(&p.text, s.start),
                        });
                    }
                }
                after.push_str(&p.text[cursor..s.start]);
                after.push_str(&s.text);
                cursor = s.end;
                last = Some(s);
            }
            after.push_str(&p.text[cursor..]);
            if after == p.text && p.new.is_none() {
                continue;
            }
            // The indexer skips such a file whole: every item in it would leave the index.
            if let Some(reason) = ploke_parse::over_limits(&after, &ParseOptions::default()) {
                return Err(EditError::OverLimit {
                    file: p.rel,
                    reason,
                });
            }
            if let Err((line, message)) = text::parse_check(&after) {
                let parsed_before = ploke_parse::over_limits(&p.text, &ParseOptions::default())
                    .is_none()
                    && text::parse_check(&p.text).is_ok();
                if parsed_before {
                    return Err(EditError::Syntax {
                        file: p.rel,
                        line,
                        message,
                    });
                }
                tracing::warn!(
                    "{}: did not parse before the edit and does not after it",
                    p.rel
                );
            }
            files.push(FileChange {
                path: p.rel,
                abs,
                before: p.text,
                after,
                new: p.new,
            });
        }
        if files.is_empty() {
            return Err(EditError::NoChange);
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Plan {
            root: self.root,
            files,
        })
    }
}

/// The byte range of `node` in the loaded file, checked against the text.
fn span_in(p: &Pending, node: &Node) -> Result<(usize, usize), EditError> {
    let (start, end) = (node.span.start_byte as usize, node.span.end_byte as usize);
    if start < end
        && end <= p.text.len()
        && p.text.is_char_boundary(start)
        && p.text.is_char_boundary(end)
    {
        Ok((start, end))
    } else {
        Err(EditError::BadSpan {
            file: p.rel.clone(),
            item: node.path.clone(),
        })
    }
}

/// Whether an insertion (not a fix-up) is already planned at `at`.
fn inserts_at(p: &Pending, at: usize) -> bool {
    p.inserts.contains(&at)
}

/// Adds an insertion of `text` at `at`.
fn push_insert(p: &mut Pending, at: usize, text: String, edit: usize) {
    p.inserts.insert(at);
    p.splices.push(Splice {
        start: at,
        end: at,
        text,
        edit,
        fixup: false,
    });
}

/// Adds a fix-up once.
fn push_fixup(p: &mut Pending, start: usize, end: usize, text: String, edit: usize) {
    if p.fixups.insert((start, end)) {
        p.splices.push(Splice {
            start,
            end,
            text,
            edit,
            fixup: true,
        });
    }
}

/// Refuses a path with a hidden or `target` component; `rel` is workspace-relative.
fn protected(given: &str, rel: &str) -> Result<(), EditError> {
    match fsx::protected_component(rel) {
        Some(component) => Err(EditError::Protected {
            file: given.to_string(),
            component: component.to_string(),
        }),
        None => Ok(()),
    }
}

/// Refuses `code` nested deeper than the parser takes (which also bounds the stack that
/// parsing it needs). Its size is checked before.
fn within_limits(file: &str, code: &str) -> Result<(), EditError> {
    match ploke_parse::over_limits(code, &ParseOptions::default()) {
        Some(reason) => Err(EditError::OverLimit {
            file: file.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Inserts `code` at the end of a file, after a blank line, at column 0.
fn insert_at_end(p: &mut Pending, code: &str, edit: usize) {
    let at = end_of_content_before(&p.text, p.text.len());
    let sep = if at == 0 && !inserts_at(p, at) {
        ""
    } else {
        "\n\n"
    };
    let text = format!("{sep}{}", reindent(code, "", true));
    push_insert(p, at, text, edit);
    if at == p.text.len() {
        // The file had no final newline (or no content): end it with one.
        push_fixup(p, at, at, "\n".into(), edit);
    }
}

/// Inserts `code` as the last member of the block whose closing brace is at `close`, one level
/// deeper than the brace's line, after a blank line unless it is the first member.
fn insert_before_brace(p: &mut Pending, close: usize, code: &str, edit: usize) {
    let at = end_of_content_before(&p.text, close);
    let empty_body = p.text[..at].ends_with('{');
    let brace_line = line_start(&p.text, close);
    let brace_indent = line_indent(&p.text, close).to_string();
    let member = deeper(&brace_indent);
    let sep = if empty_body && !inserts_at(p, at) {
        "\n"
    } else {
        "\n\n"
    };
    let text = format!("{sep}{}", reindent(code, &member, true));
    push_insert(p, at, text, edit);
    if brace_line <= at {
        // The brace shares its line with the body (`impl X {}`): move it to a line of its own.
        push_fixup(p, at, close, format!("\n{brace_indent}"), edit);
    }
}

/// The value of a `#[path = "…"]` among an item's attributes.
fn path_attr(attrs: &[String]) -> Option<String> {
    attrs.iter().find_map(|a| {
        let parsed = syn::parse::Parser::parse_str(syn::Attribute::parse_outer, a).ok()?;
        parsed.into_iter().find_map(|attr| match attr.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
    })
}

fn unraw(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// `dir/tail`, with `.` and `..` resolved lexically; `/` separators.
fn join_rel(dir: &str, tail: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in tail.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}
