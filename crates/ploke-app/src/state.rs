//! What a front end draws: plain data, changed only by [`crate::App`]'s methods and by the
//! replies [`crate::App::poll`] takes in from the workers.

use std::collections::BTreeSet;
use std::time::Duration;

use ploke_session::{
    AppliedEdit, CheckOutcome, IndexStatus, IndexSummary, ItemView, ModuleEntry, Pack, ReviewFile,
    SearchHit, Update,
};

use crate::graph::Neighbourhood;

/// Everything the views show.
#[derive(Debug, Default)]
pub struct State {
    /// The workspace root, as the user named it.
    pub workspace: String,
    pub search: SearchState,
    pub item: ItemState,
    /// The workspace's crates and their module trees (see [`ploke_session::Session::outline`]).
    pub outline: Vec<ModuleEntry>,
    pub pack: PackState,
    pub chat: ChatState,
    pub edit: EditState,
    pub status: StatusState,
    pub settings: SettingsView,
    /// Warnings and notes, newest last (at most [`NOTICES`]).
    pub notices: Vec<Notice>,
}

/// Notices kept.
pub const NOTICES: usize = 100;

/// A warning or a note for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub warning: bool,
    pub text: String,
}

/// Which items a search shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Kinds shown (`fn`, `struct`, …); empty: all.
    pub kinds: BTreeSet<String>,
    /// The one crate shown; `None`: all.
    pub crate_name: Option<String>,
    pub tests: TestFilter,
}

/// Whether test code is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TestFilter {
    #[default]
    All,
    /// Library code only.
    Exclude,
    /// Test code only.
    Only,
}

impl Filters {
    /// Whether `hit` passes.
    pub fn keeps(&self, hit: &SearchHit) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&hit.item.kind))
            && self
                .crate_name
                .as_ref()
                .is_none_or(|c| *c == hit.item.crate_name)
            && match self.tests {
                TestFilter::All => true,
                TestFilter::Exclude => !hit.item.test,
                TestFilter::Only => hit.item.test,
            }
    }
}

/// Search as you type.
#[derive(Debug, Default)]
pub struct SearchState {
    /// The query as typed.
    pub query: String,
    /// Results asked for.
    pub limit: usize,
    pub filters: Filters,
    /// The results of the newest query answered (all of them; see `shown`).
    pub hits: Vec<SearchHit>,
    /// Indices into `hits` that pass the filters, in rank order.
    pub shown: Vec<usize>,
    /// The query `hits` answer (the typed one may be newer).
    pub answered: String,
    /// A newer query is being answered.
    pub busy: bool,
    pub error: Option<String>,
    /// How long the answer took.
    pub took: Duration,
}

impl SearchState {
    /// The kinds and crates among the results, for the filter choices.
    pub fn facets(&self) -> (BTreeSet<String>, BTreeSet<String>) {
        let kinds = self.hits.iter().map(|h| h.item.kind.clone()).collect();
        let crates = self
            .hits
            .iter()
            .map(|h| h.item.crate_name.clone())
            .collect();
        (kinds, crates)
    }

    pub(crate) fn refilter(&mut self) {
        self.shown = (0..self.hits.len())
            .filter(|&i| self.filters.keeps(&self.hits[i]))
            .collect();
    }
}

/// The item on view, and how the user got there.
#[derive(Debug, Default)]
pub struct ItemState {
    pub current: Option<ItemView>,
    /// The neighbourhood of `current`, laid out for drawing.
    pub graph: Neighbourhood,
    /// An item is being loaded.
    pub loading: bool,
    pub error: Option<String>,
    /// Ids of the items before `current` (newest last) and after it (for forward).
    pub back: Vec<String>,
    pub forward: Vec<String>,
}

/// The context pack of a request.
#[derive(Debug, Default)]
pub struct PackState {
    pub request: String,
    /// Tokens the pack may take.
    pub budget: usize,
    pub pack: Option<Pack>,
    pub busy: bool,
    pub error: Option<String>,
    pub took: Duration,
}

/// The conversation: questions and edit requests with what the model said and did.
#[derive(Debug, Default)]
pub struct ChatState {
    pub turns: Vec<Turn>,
    /// The model is working on the last turn.
    pub busy: bool,
}

/// What a turn asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnKind {
    Ask,
    Edit,
}

/// One request and its answer as it streams.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub kind: TurnKind,
    pub request: String,
    /// The answer's text so far.
    pub answer: String,
    /// Tool calls as they happened.
    pub tools: Vec<ToolLine>,
    /// A summary line once the turn ended (model, steps, tokens).
    pub footer: Option<String>,
    pub error: Option<String>,
}

/// One tool call of a turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolLine {
    pub name: String,
    /// Its arguments (JSON, shortened).
    pub arguments: String,
    /// The size of its answer once it came.
    pub chars: Option<usize>,
}

/// Where the edit under way is.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum EditPhase {
    /// No edit under way.
    #[default]
    Idle,
    /// The model is proposing edits.
    Proposing,
    /// Proposed edits wait for the user: accept or reject each file, then apply.
    Review {
        files: Vec<ReviewFile>,
        summary: String,
        /// Set when the files changed since the last review and the diff was made again.
        changed: Vec<String>,
    },
    Applying,
    /// Written (and re-indexed).
    Applied(AppliedEdit),
    /// `cargo check` is running.
    Checking(AppliedEdit),
    /// What `cargo check` said.
    Checked {
        applied: AppliedEdit,
        outcome: CheckOutcome,
    },
}

/// The edit workflow as the review view shows it.
#[derive(Debug, Default)]
pub struct EditState {
    pub phase: EditPhase,
    /// The request of the edit under way.
    pub request: String,
    /// Repair round (0: the first proposal).
    pub round: usize,
    pub error: Option<String>,
    /// What the last undo reverted.
    pub undone: Option<String>,
}

/// Index and watcher.
#[derive(Debug, Default)]
pub struct StatusState {
    pub index: Option<IndexStatus>,
    /// The stage running and its progress.
    pub progress: Option<Progress>,
    /// An index run started from here is under way.
    pub indexing: bool,
    pub last_index: Option<IndexSummary>,
    /// The watcher runs in this process.
    pub watching: bool,
    pub last_update: Option<Update>,
}

/// Progress of a stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub stage: String,
    pub done: u64,
    /// 0 when unknown.
    pub total: u64,
}

impl Progress {
    /// Done as a fraction, when the total is known.
    pub fn fraction(&self) -> Option<f32> {
        (self.total > 0).then(|| (self.done as f32 / self.total as f32).min(1.0))
    }
}

/// The chat model settings as a settings view shows them; the key itself never appears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsView {
    pub provider: String,
    pub model: String,
    pub base_url: String,
    /// Whether an API key was found in the environment.
    pub key_set: bool,
    /// The embedding model, when embeddings are on.
    pub embed: Option<String>,
}
