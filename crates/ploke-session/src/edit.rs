//! The edit workflow as a state machine the caller drives: the model proposes, the caller
//! shows the diff and decides per file, the accepted edits are applied (re-validated against
//! the files as they are then), `cargo check` runs, and its errors go back to the model for a
//! bounded number of repair rounds. A CLI drives it with a prompt, a GUI with buttons, an
//! editor or an MCP client with messages; nothing here reads stdin.
//!
//! ```text
//! Ready --propose--> Review --apply--> Applied --check--> Done
//!   ^                  |  ^   (changed)   |
//!   |                  +--+               | errors, rounds left
//!   +-------------------------------------+
//! ```

use std::collections::BTreeSet;
use std::path::Path;

use ploke_agent::ask::{AskEvent, AskOptions};
use ploke_agent::Toolbox;
use ploke_edit::{ApplyOptions, Edit, EditContext, EditError, Plan};
use ploke_llm::ChatModel;
use ploke_retrieve::{Mode, Scope};
use serde::Serialize;

use crate::events::IndexProgress;
use crate::{Session, SessionError};

/// Tests of each primary item an edit's context pack brings in (those that reach it in the
/// fewest calls): what the model needs to keep passing.
pub const EDIT_TESTS_PER_ITEM: usize = 2;

/// Bounds and permissions of an edit.
#[derive(Debug, Clone)]
pub struct EditOptions {
    /// Tokens of the context pack sent with the request.
    pub budget: usize,
    /// Model turns per round.
    pub max_steps: usize,
    /// Rounds in which `cargo check` errors go back to the model.
    pub repair_rounds: usize,
    /// Let the model edit build scripts (`build.rs`).
    pub allow_build_scripts: bool,
}

impl Default for EditOptions {
    fn default() -> Self {
        EditOptions {
            budget: 8000,
            max_steps: 12,
            repair_rounds: 2,
            allow_build_scripts: false,
        }
    }
}

/// One file of a proposal, for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewFile {
    /// Workspace-relative path.
    pub path: String,
    /// Unified diff (`a/path` → `b/path`).
    pub diff: String,
    /// The edit creates the file.
    pub new_file: bool,
    /// Whether it will be applied (all are, until the caller decides otherwise).
    pub accepted: bool,
    /// The file's text the edits were planned against (empty for a new file), and its text
    /// after them: for a front end that hands the change to an editor instead of writing it
    /// (an LSP `workspace/applyEdit`).
    #[serde(skip)]
    pub before: String,
    #[serde(skip)]
    pub after: String,
}

/// An applied edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedEdit {
    /// Its journal entry (`ploke undo` reverts the newest).
    pub entry: u64,
    /// Workspace-relative paths of the files it wrote.
    pub files: Vec<String>,
}

/// What `cargo check` said after an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum CheckOutcome {
    /// It passes: the edit is done.
    Passed,
    /// It fails. With `repair`, the errors went back to the model: call
    /// [`EditFlow::propose`] for the next round. Without, the rounds are used up.
    Failed {
        /// The error lines (at most 60).
        errors: String,
        repair: bool,
    },
}

/// Where an edit is.
#[derive(Debug, Clone)]
pub enum EditState {
    /// Waiting for [`EditFlow::propose`].
    Ready,
    /// The model proposed edits: review, decide, then [`EditFlow::apply`].
    Review(Review),
    /// Written; [`EditFlow::check`] or stop here.
    Applied(AppliedEdit),
    /// Nothing more to do.
    Done,
}

/// A proposal under review.
#[derive(Debug, Clone)]
pub struct Review {
    edits: Vec<Edit>,
    /// The files each edit touches (an edit is applied only if all of them are accepted).
    edit_files: Vec<BTreeSet<String>>,
    files: Vec<ReviewFile>,
    /// What the model said alongside.
    pub summary: String,
}

/// What [`EditFlow::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Written and re-indexed.
    Applied(AppliedEdit),
    /// A file changed since the review: the edits were resolved again and the diff differs.
    /// The flow is back in review with the new diff: show it and apply again.
    Changed {
        /// The files whose diff is not the one reviewed (workspace-relative).
        files: Vec<String>,
    },
}

/// An edit request on its way through the workflow.
pub struct EditFlow<'s> {
    session: &'s Session,
    model: Box<dyn ChatModel>,
    request: String,
    prompt: String,
    opts: EditOptions,
    round: usize,
    state: EditState,
    /// The lines the applied edits changed (new side, 1-based), by workspace-relative file,
    /// over every round.
    changed: std::collections::HashMap<String, Vec<(u32, u32)>>,
}

impl Session {
    /// Starts an edit of the workspace for `request`, with the configured chat model (one
    /// that calls tools: an OpenAI-compatible server or Anthropic).
    pub fn edit(&self, request: &str, opts: EditOptions) -> Result<EditFlow<'_>, SessionError> {
        if self.settings.llm.provider == ploke_llm::ProviderKind::Local {
            return Err(SessionError::Unsupported(
                "editing needs a model that calls tools; use --provider openai or anthropic (local GGUF models only answer `ploke ask`)".into(),
            ));
        }
        let model = self.connect()?;
        Ok(EditFlow {
            session: self,
            model,
            request: request.to_string(),
            prompt: request.to_string(),
            opts,
            round: 0,
            state: EditState::Ready,
            changed: Default::default(),
        })
    }

    fn edit_context<'a>(&'a self, allow_build_scripts: bool) -> EditContext<'a> {
        EditContext {
            db: &self.db,
            workspace_root: &self.loc.root,
            allow_build_scripts,
        }
    }

    /// Re-indexes one workspace-relative file (it changed while the model worked).
    fn refresh_file(&self, file: &str) -> Result<(), SessionError> {
        let path = self.loc.root.join(file);
        let progress = IndexProgress::new(&self.events);
        self.with_writer(|w| {
            let lock = w.indexer.lock(&progress)?;
            self.refresh_paths(w, &lock, vec![path])?;
            Ok(())
        })
    }
}

impl EditFlow<'_> {
    /// Where the edit is.
    pub fn state(&self) -> &EditState {
        &self.state
    }

    /// The repair round (0 for the first proposal).
    pub fn round(&self) -> usize {
        self.round
    }

    /// The options the edit runs with.
    pub fn options(&self) -> &EditOptions {
        &self.opts
    }

    /// The files of the proposal under review.
    pub fn review(&self) -> Option<&[ReviewFile]> {
        match &self.state {
            EditState::Review(r) => Some(&r.files),
            _ => None,
        }
    }

    fn state_name(&self) -> &'static str {
        match self.state {
            EditState::Ready => "waiting for a proposal",
            EditState::Review(_) => "under review",
            EditState::Applied(_) => "applied",
            EditState::Done => "done",
        }
    }

    /// Asks the model for edits (streaming what it says and does to `on_event`); each edit
    /// is validated as it is proposed, refusals go back to the model. Ends in review, or with
    /// [`SessionError::NoEdits`] when the model proposed none.
    pub async fn propose(
        &mut self,
        on_event: &mut (dyn FnMut(AskEvent) + Send),
    ) -> Result<&[ReviewFile], SessionError> {
        if !matches!(self.state, EditState::Ready) {
            return Err(SessionError::EditState {
                state: self.state_name(),
                what: "propose only when ready (at the start, or after a failed check with rounds left)",
            });
        }
        let s = self.session;
        // The files may have changed since the last index.
        let progress = IndexProgress::new(&s.events);
        s.with_writer(|w| {
            let lock = w.indexer.lock(&progress)?;
            s.recover_edits(&lock)?;
            w.indexer
                .refresh_locked(&lock, ploke_index::Changes::All, &progress)?;
            w.indexer.save_cache();
            Ok(())
        })?;
        let searcher = s.searchable(Mode::Hybrid, &Scope::Workspace)?;
        let (snap, embedder) = (&searcher.snap, &searcher.embedder);
        let pack = s.pack_with(
            &snap.retriever,
            embedder.as_deref(),
            &self.prompt,
            self.opts.budget,
            Mode::Hybrid,
            EDIT_TESTS_PER_ITEM,
        )?;
        let embed = |q: &str| crate::embed_query(embedder.as_deref(), q);
        let scoped = |scope: &Scope| s.scoped(snap, scope).map_err(|e| s.redact(&e.to_string()));
        let toolbox = Toolbox::new(&s.db, &snap.retriever, Some(&embed)).with_scopes(&scoped);
        let ctx = s.edit_context(self.opts.allow_build_scripts);
        let ask = AskOptions {
            max_steps: self.opts.max_steps,
            ..AskOptions::default()
        };
        let mut refresh = |file: &str| s.refresh_file(file).map_err(|e| s.redact(&e.to_string()));
        let proposal = ploke_agent::edit::propose(
            self.model.as_ref(),
            &toolbox,
            &ctx,
            &self.prompt,
            &pack.to_markdown(),
            &ask,
            &mut refresh,
            on_event,
        )
        .await?;
        let summary = proposal.outcome.answer.clone();
        let Some(plan) = proposal.plan else {
            self.state = EditState::Done;
            return Err(SessionError::NoEdits { summary });
        };
        let all: BTreeSet<String> = plan.changed_files().into_iter().collect();
        let edit_files = proposal
            .edits
            .iter()
            .map(|e| files_of(e, &ctx, &all))
            .collect();
        self.state = EditState::Review(Review {
            edits: proposal.edits,
            edit_files,
            files: review_files(&plan),
            summary,
        });
        Ok(self.review().unwrap_or_default())
    }

    /// Accepts or rejects one file of the proposal (by its workspace-relative path, as the
    /// review shows it; any other is [`SessionError::NotInReview`]). An edit that touches a
    /// rejected file is not applied.
    pub fn decide(&mut self, file: &str, accept: bool) -> Result<(), SessionError> {
        let EditState::Review(r) = &mut self.state else {
            return Err(SessionError::EditState {
                state: self.state_name(),
                what: "decide on files while the proposal is under review",
            });
        };
        match r.files.iter_mut().find(|f| f.path == file) {
            Some(f) => {
                f.accepted = accept;
                Ok(())
            }
            None => Err(SessionError::NotInReview {
                file: file.to_string(),
                files: r.files.iter().map(|f| f.path.clone()).collect(),
            }),
        }
    }

    /// Writes the accepted edits, all files or none (journaled for undo), and indexes them.
    /// The edits are resolved again against the files as they are now: when that changes the
    /// diff, nothing is written and the flow is back in review ([`ApplyOutcome::Changed`]).
    pub fn apply(&mut self) -> Result<ApplyOutcome, SessionError> {
        let EditState::Review(r) = &self.state else {
            return Err(SessionError::EditState {
                state: self.state_name(),
                what: "apply a proposal under review",
            });
        };
        let accepted: BTreeSet<&str> = r
            .files
            .iter()
            .filter(|f| f.accepted)
            .map(|f| f.path.as_str())
            .collect();
        let edits: Vec<Edit> = r
            .edits
            .iter()
            .zip(&r.edit_files)
            .filter(|(_, files)| files.iter().all(|f| accepted.contains(f.as_str())))
            .map(|(e, _)| e.clone())
            .collect();
        let reviewed: Vec<ReviewFile> = r.files.iter().filter(|f| f.accepted).cloned().collect();
        let summary = r.summary.clone();
        if edits.is_empty() {
            self.state = EditState::Done;
            return Err(SessionError::NoEdits {
                summary: "every proposed file was rejected".into(),
            });
        }
        let s = self.session;
        let progress = IndexProgress::new(&s.events);
        let ctx = s.edit_context(self.opts.allow_build_scripts);
        let request = self.request.clone();
        let outcome = s.with_writer(|w| {
            let lock = w.indexer.lock(&progress)?;
            s.recover_edits(&lock)?;
            // A file changed since the review: index it and resolve the edits again, as
            // often as there are changed files (planning stops at the first stale one).
            let mut refreshed = BTreeSet::new();
            let plan = loop {
                match ploke_edit::plan(&edits, &ctx) {
                    Err(EditError::Stale { file }) if refreshed.insert(file.clone()) => {
                        s.refresh_paths(w, &lock, vec![s.loc.root.join(&file)])?;
                    }
                    other => break other?,
                }
            };
            let now = review_files(&plan);
            if now
                .iter()
                .map(|f| (&f.path, &f.diff))
                .ne(reviewed.iter().map(|f| (&f.path, &f.diff)))
            {
                return Ok(Err(now));
            }
            let applied = plan.apply_with(
                &s.loc.journal_dir,
                &ApplyOptions {
                    request: Some(request.clone()),
                    ..ApplyOptions::default()
                },
            )?;
            let paths = applied.files.iter().map(|f| s.loc.root.join(f)).collect();
            s.refresh_paths(w, &lock, paths)?;
            w.indexer.save_cache();
            Ok(Ok(AppliedEdit {
                entry: applied.entry,
                files: applied.files,
            }))
        })?;
        match outcome {
            Ok(applied) => {
                self.session.after_write()?;
                for f in &reviewed {
                    self.changed
                        .entry(f.path.clone())
                        .or_default()
                        .extend(changed_lines(&f.before, &f.after));
                }
                self.state = EditState::Applied(applied.clone());
                Ok(ApplyOutcome::Applied(applied))
            }
            Err(files) => {
                let changed = files
                    .iter()
                    .filter(|f| {
                        !reviewed
                            .iter()
                            .any(|r| r.path == f.path && r.diff == f.diff)
                    })
                    .map(|f| f.path.clone())
                    .collect();
                let all: BTreeSet<String> = files.iter().map(|f| f.path.clone()).collect();
                let edit_files = edits.iter().map(|e| files_of(e, &ctx, &all)).collect();
                self.state = EditState::Review(Review {
                    edits,
                    edit_files,
                    files,
                    summary,
                });
                Ok(ApplyOutcome::Changed { files: changed })
            }
        }
    }

    /// The tests that reach the items the applied edits changed (through calls; the
    /// index's test map), nearest first: what `ploke edit --check --test` runs.
    pub fn affected_tests(&self) -> Result<Vec<crate::ReachingTest>, SessionError> {
        let ids = self.session.items_in_ranges(&self.changed)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.session.impact_of(&ids, 0)?.tests)
    }

    /// Runs `cargo check` on the workspace. When it fails and repair rounds are left, its
    /// errors become the next round's request and the flow is ready to propose again.
    pub fn check(&mut self) -> Result<CheckOutcome, SessionError> {
        if !matches!(self.state, EditState::Applied(_)) {
            return Err(SessionError::EditState {
                state: self.state_name(),
                what: "check after an apply",
            });
        }
        match cargo_check(&self.session.loc.root)? {
            None => {
                self.state = EditState::Done;
                Ok(CheckOutcome::Passed)
            }
            Some(errors) if self.round < self.opts.repair_rounds => {
                self.round += 1;
                self.prompt = format!(
                    "{}\n\nThe edits were applied, but `cargo check` fails. Fix these errors:\n{errors}",
                    self.request
                );
                self.state = EditState::Ready;
                Ok(CheckOutcome::Failed {
                    errors,
                    repair: true,
                })
            }
            Some(errors) => {
                self.state = EditState::Done;
                Ok(CheckOutcome::Failed {
                    errors,
                    repair: false,
                })
            }
        }
    }
}

/// Edits given directly (by an MCP client or an editor whose user is the model), written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectEdit {
    /// Its journal entry (`ploke undo` reverts the newest).
    pub entry: u64,
    /// What was written: each file's unified diff.
    pub files: Vec<ReviewFile>,
}

impl Session {
    /// Writes `edits` at once, checked exactly as a model's proposal is checked (indexed Rust
    /// source files of the workspace only, inside it after symlinks, the item found and
    /// unambiguous, one item of the same kind, the result parses and stays under the
    /// parser's limits): all files or none, journaled for [`Session::undo`], and indexed
    /// (vectors included). A file changed on disk since it was indexed is indexed again and
    /// the edits resolved against what it holds now.
    pub fn apply_edits(
        &self,
        edits: &[Edit],
        request: &str,
        allow_build_scripts: bool,
    ) -> Result<DirectEdit, SessionError> {
        let progress = IndexProgress::new(&self.events);
        let ctx = self.edit_context(allow_build_scripts);
        let done = self.with_writer(|w| {
            let lock = w.indexer.lock(&progress)?;
            self.recover_edits(&lock)?;
            let mut refreshed = BTreeSet::new();
            let plan = loop {
                match ploke_edit::plan(edits, &ctx) {
                    Err(EditError::Stale { file }) if refreshed.insert(file.clone()) => {
                        self.refresh_paths(w, &lock, vec![self.loc.root.join(&file)])?;
                    }
                    other => break other?,
                }
            };
            let files = review_files(&plan);
            let applied = plan.apply_with(
                &self.loc.journal_dir,
                &ApplyOptions {
                    request: Some(request.to_string()),
                    ..ApplyOptions::default()
                },
            )?;
            let paths = applied
                .files
                .iter()
                .map(|f| self.loc.root.join(f))
                .collect();
            self.refresh_paths(w, &lock, paths)?;
            w.indexer.save_cache();
            Ok(DirectEdit {
                entry: applied.entry,
                files,
            })
        })?;
        self.after_write()?;
        Ok(done)
    }
}

/// The review of a plan: every file accepted.
fn review_files(plan: &Plan) -> Vec<ReviewFile> {
    plan.files()
        .iter()
        .map(|f| ReviewFile {
            path: f.path().to_string(),
            diff: f.diff(),
            new_file: f.is_new(),
            accepted: true,
            before: f.before().to_string(),
            after: f.after().to_string(),
        })
        .collect()
}

/// The files one edit touches (planned alone). An edit that cannot be planned alone (it
/// builds on another of the proposal) goes with every file of the proposal, `all`.
fn files_of(edit: &Edit, ctx: &EditContext<'_>, all: &BTreeSet<String>) -> BTreeSet<String> {
    match ploke_edit::plan(std::slice::from_ref(edit), ctx) {
        Ok(p) => p.changed_files().into_iter().collect(),
        Err(_) => all.clone(),
    }
}

/// `None` when `cargo check` passes, else its error lines (at most 60).
fn cargo_check(root: &Path) -> Result<Option<String>, SessionError> {
    let out = std::process::Command::new("cargo")
        .args([
            "check",
            "--all-targets",
            "--message-format",
            "short",
            "--quiet",
        ])
        .current_dir(root)
        .output()
        .map_err(|source| SessionError::Check {
            dir: root.to_path_buf(),
            source,
        })?;
    if out.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stderr);
    Ok(Some(
        text.lines()
            .filter(|l| l.contains("error"))
            .take(60)
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

/// The lines of `after` (1-based, inclusive) that differ from `before`; a removal is the line
/// where it happened.
fn changed_lines(before: &str, after: &str) -> Vec<(u32, u32)> {
    similar::TextDiff::from_lines(before, after)
        .ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .map(|op| {
            let r = op.new_range();
            let start = r.start as u32 + 1;
            (start, (r.end as u32).max(start))
        })
        .collect()
}
