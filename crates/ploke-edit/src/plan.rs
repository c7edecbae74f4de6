//! Planning: every edit resolved against the index, every new file text computed and checked
//! in memory; then applying a plan.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use ploke_core::{ContentHash, ItemKind, Node};
use ploke_db::Db;

use crate::fsx::{self, FailPoint, FileWrite};
use crate::journal;
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
}

impl FileChange {
    /// Workspace-relative path, as the index names the file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's text when the plan was made.
    pub fn before(&self) -> &str {
        &self.before
    }

    /// The file's text after the edits.
    pub fn after(&self) -> &str {
        &self.after
    }

    /// A unified diff of this file (`a/<path>` → `b/<path>`, three lines of context).
    pub fn diff(&self) -> String {
        similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{}", self.path), &format!("b/{}", self.path))
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
    /// Right before writing, each file must still hold the text the plan was made from (else
    /// [`EditError::Stale`]). Each new text goes to a temp file in the file's directory, is
    /// synced and renamed over the file (permissions kept). The journal entry is written after
    /// the temp files and before the first rename. If any step fails, the files already
    /// renamed get their old bytes back, temp files are removed and the entry is dropped.
    pub fn apply_with(
        &self,
        journal_dir: &Path,
        opts: &ApplyOptions,
    ) -> Result<Applied, EditError> {
        let writes: Vec<FileWrite<'_>> = self
            .files
            .iter()
            .map(|f| FileWrite {
                rel: &f.path,
                abs: &f.abs,
                expected: f.before.as_bytes(),
                new: f.after.as_bytes(),
            })
            .collect();
        let record: Vec<(String, &[u8], &[u8])> = self
            .files
            .iter()
            .map(|f| {
                (
                    fsx::rel_string(&self.root, &f.abs),
                    f.before.as_bytes(),
                    f.after.as_bytes(),
                )
            })
            .collect();
        let mut entry = None;
        let mut prepare = || {
            entry = Some(journal::record(
                journal_dir,
                opts.request.as_deref(),
                &record,
            )?);
            Ok(())
        };
        let stale = |file: &str| EditError::Stale {
            file: file.to_string(),
        };
        let hint = |i: usize| {
            journal::blob_path(
                journal_dir,
                ContentHash::of(self.files[i].before.as_bytes()),
            )
            .display()
            .to_string()
        };
        let written = fsx::write_all(&writes, &stale, &mut prepare, opts.fail_point, &hint);
        match (written, entry) {
            (Ok(()), Some(entry)) => Ok(Applied {
                entry,
                files: self.changed_files(),
            }),
            (Ok(()), None) => unreachable!("write_all runs prepare before any rename"),
            (Err(e), entry) => {
                // A failed rollback leaves files changed: keep the entry so they can be undone.
                if let (Some(id), false) = (entry, matches!(e, EditError::RollbackFailed { .. })) {
                    journal::forget(journal_dir, id);
                }
                Err(e)
            }
        }
    }
}

/// Resolves `edits` against the index and computes every changed file in memory; nothing is
/// written. For each edit in request order: the item exists, is unambiguous and of a kind the
/// operation takes; its file lies inside the workspace; the file still has the hash the index
/// recorded; a `search` text occurs exactly once. Then per file: no two edits overlap, and an
/// edited `.rs` file still parses (one that did not parse before is not held to that). See the
/// crate docs for the details.
pub fn plan(edits: &[Edit], ctx: &EditContext<'_>) -> Result<Plan, EditError> {
    let root = fsx::canonical_root(ctx.workspace_root)?;
    let indexed = ctx
        .db
        .files()?
        .into_iter()
        .map(|f| (f.path, f.hash))
        .collect();
    let mut p = Planner {
        db: ctx.db,
        root,
        indexed,
        files: BTreeMap::new(),
        crate_roots: None,
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
}

struct Planner<'a> {
    db: &'a Db,
    root: PathBuf,
    indexed: HashMap<String, ContentHash>,
    /// Keyed by canonical path, so that two names of one file are one file.
    files: BTreeMap<PathBuf, Pending>,
    crate_roots: Option<HashSet<String>>,
}

impl Planner<'_> {
    fn add(&mut self, i: usize, edit: &Edit) -> Result<(), EditError> {
        match edit {
            Edit::ReplaceItem { path, code } => {
                const WHAT: &str =
                    "replace_item cannot replace a whole crate; use search_replace on its root file";
                let node = self.find(path, |k| k != ItemKind::Crate, WHAT)?;
                let key = self.load(&node.file, Some(&node.file))?;
                let pending = self.files.get_mut(&key).expect("loaded");
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
                    insert_at_end(self.files.get_mut(&key).expect("loaded"), code, i);
                    return Ok(());
                }
                let key = self.load(&node.file, Some(&node.file))?;
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
                let found = text::occurrences(&pending.text, search);
                match found.len() {
                    0 => {
                        return Err(EditError::SearchNotFound {
                            file: pending.rel.clone(),
                        })
                    }
                    1 => pending.splices.push(Splice {
                        start: found[0],
                        end: found[0] + search.len(),
                        text: replace.clone(),
                        edit: i,
                        fixup: false,
                    }),
                    count => {
                        return Err(EditError::SearchNotUnique {
                            file: pending.rel.clone(),
                            count,
                        })
                    }
                }
            }
        }
        Ok(())
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

    /// Reads the file `given` (workspace-relative or absolute) once: confined to the
    /// workspace, checked against the index's hash when the index has it (`index_path` is how
    /// the index names it, for files found through items), UTF-8. Returns its key.
    fn load(&mut self, given: &str, index_path: Option<&str>) -> Result<PathBuf, EditError> {
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
        let lexical = fsx::lexical_rel(&self.root, given);
        let canonical = fsx::rel_string(&self.root, &abs);
        let key = [
            index_path.map(str::to_string),
            lexical.clone(),
            Some(canonical.clone()),
        ]
        .into_iter()
        .flatten()
        .find(|k| self.indexed.contains_key(k));
        let rel = key.clone().or(lexical).unwrap_or(canonical);
        let bytes = fs::read(&abs).map_err(|e| EditError::io(&abs, "reading", e))?;
        match key {
            Some(k) if ContentHash::of(&bytes) != self.indexed[&k] => {
                return Err(EditError::Stale { file: k })
            }
            Some(_) => {}
            // An item's file that the index does not know: the index is out of date.
            None if index_path.is_some() => return Err(EditError::Stale { file: rel }),
            // A file outside the index (search_replace): no recorded hash to compare with.
            None => {}
        }
        let text =
            String::from_utf8(bytes).map_err(|_| EditError::NotUtf8 { file: rel.clone() })?;
        self.files.insert(
            abs.clone(),
            Pending {
                rel,
                text,
                splices: Vec::new(),
            },
        );
        Ok(abs)
    }

    fn crate_roots(&mut self) -> Result<&HashSet<String>, EditError> {
        if self.crate_roots.is_none() {
            self.crate_roots = Some(self.db.crates()?.into_iter().map(|c| c.root_file).collect());
        }
        Ok(self.crate_roots.as_ref().expect("just set"))
    }

    /// The indexed file that holds the body of the file module declared by `m` (`mod m;`).
    fn module_file(&mut self, m: &Node) -> Result<String, EditError> {
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
        let mod_rs = file_name == "mod.rs" || self.crate_roots()?.contains(&decl);
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
            if after == p.text {
                continue;
            }
            if p.rel.ends_with(".rs") {
                if let Err((line, message)) = text::parse_check(&after) {
                    if text::parse_check(&p.text).is_ok() {
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
            }
            files.push(FileChange {
                path: p.rel,
                abs,
                before: p.text,
                after,
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
    p.splices
        .iter()
        .any(|s| s.start == at && s.end == at && !s.fixup)
}

/// Adds a fix-up once.
fn push_fixup(p: &mut Pending, start: usize, end: usize, text: String, edit: usize) {
    if !p
        .splices
        .iter()
        .any(|s| s.fixup && s.start == start && s.end == end)
    {
        p.splices.push(Splice {
            start,
            end,
            text,
            edit,
            fixup: true,
        });
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
    p.splices.push(Splice {
        start: at,
        end: at,
        text,
        edit,
        fixup: false,
    });
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
    p.splices.push(Splice {
        start: at,
        end: at,
        text,
        edit,
        fixup: false,
    });
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
