//! What `ploke gui` and `ploke tui` share, so that each is only a view: an [`App`] owns a
//! session, runs every operation of it on worker threads (the UI thread never waits on the
//! index, the model or the disk), and keeps a [`State`] that both views draw. It holds the
//! logic of the interactive flows, not any toolkit's: search as you type (a stale answer
//! never replaces a newer one), an item view with back and forward history, the context pack
//! of a request re-packed as its budget changes, chat with the streamed answer and tool
//! calls, the edit review (accept or reject per file, apply, `cargo check`, undo), index runs
//! and the watcher with their progress, and the chat model's settings.
//!
//! ```no_run
//! # use std::sync::Arc;
//! let opts = ploke_session::OpenOptions::new(".");
//! let mut app = ploke_app::App::start(opts, Arc::new(|| {}))?;
//! app.set_query("retry delay");
//! loop {
//!     if app.poll() {
//!         // draw app.state()
//!     }
//! #   break;
//! }
//! # Ok::<(), ploke_session::SessionError>(())
//! ```

pub mod diff;
pub mod graph;
pub mod highlight;
mod state;
mod worker;

use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use flume::{Receiver, Sender};
use ploke_session::{
    ContextRequest, Event, OpenOptions, Overrides, SearchRequest, Session, SessionError,
};

pub use graph::{GraphNode, Neighbourhood, Relation};
pub use state::*;
pub use worker::Waker;

use worker::{ChatUpdate, EditUpdate, ModelCmd, Outbox, Query, Reply, Shared};

/// Results a search asks for unless told otherwise.
pub const DEFAULT_LIMIT: usize = 200;
/// Nodes drawn on each side of an item's neighbourhood.
pub const GRAPH_PER_SIDE: usize = 8;

/// A workspace opened for a front end.
pub struct App {
    state: State,
    shared: Shared,
    opts: OpenOptions,
    queries: Option<Sender<Query>>,
    model: Option<Sender<ModelCmd>>,
    cancel: Sender<u64>,
    /// The newest chat turn sent to the model lane (what a cancel names).
    turn: u64,
    replies: Receiver<Reply>,
    threads: Vec<JoinHandle<()>>,
    /// The newest request of each kind sent, and the one whose answer is shown.
    search_seq: u64,
    item_seq: u64,
    pack_seq: u64,
}

impl App {
    /// Opens the workspace of `opts` (creating its index when there is none, and indexing
    /// it then), starts the workers and asks for the status and the outline. `waker` is
    /// called from the workers whenever a reply waits for [`App::poll`].
    pub fn start(mut opts: OpenOptions, waker: Waker) -> Result<App, SessionError> {
        opts.create = true;
        let session = Arc::new(Session::open(&opts)?);
        let (reply_tx, replies) = flume::unbounded();
        let out = Outbox {
            tx: reply_tx,
            waker,
        };
        worker::subscribe(&session, &out);
        let mut state = State {
            workspace: session.location().root.display().to_string(),
            settings: settings_view(&session),
            ..State::default()
        };
        state.search.limit = DEFAULT_LIMIT;
        state.pack.budget = 8000;
        let shared: Shared = Arc::new(RwLock::new(session));
        let (qtx, qrx) = flume::unbounded();
        let (mtx, mrx) = flume::unbounded();
        let (ctx, crx) = flume::unbounded();
        let threads = vec![
            spawn("ploke-app queries", {
                let (shared, out) = (shared.clone(), out.clone());
                move || worker::query_lane(shared, qrx, out)
            }),
            spawn("ploke-app model", {
                let shared = shared.clone();
                move || worker::model_lane(shared, mrx, crx, out)
            }),
        ];
        let mut app = App {
            state,
            shared,
            opts,
            queries: Some(qtx),
            model: Some(mtx),
            cancel: ctx,
            turn: 0,
            replies,
            threads,
            search_seq: 0,
            item_seq: 0,
            pack_seq: 0,
        };
        let indexed = worker::current(&app.shared)
            .status()
            .map(|s| s.generation > 0)
            .unwrap_or(false);
        if !indexed {
            app.index(false);
        }
        app.query(Query::Status);
        app.query(Query::Outline);
        Ok(app)
    }

    /// What the views draw.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The session (for what a view reads directly, such as its location).
    pub fn session(&self) -> Arc<Session> {
        worker::current(&self.shared)
    }

    /// Takes in the replies that arrived; whether anything changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        while let Ok(reply) = self.replies.try_recv() {
            self.take(reply);
            changed = true;
        }
        changed
    }

    /// Waits up to `timeout` for a reply and takes it in with any others (for tests and
    /// terminal loops); whether anything changed.
    pub fn wait(&mut self, timeout: std::time::Duration) -> bool {
        match self.replies.recv_timeout(timeout) {
            Ok(reply) => {
                self.take(reply);
                self.poll();
                true
            }
            Err(_) => false,
        }
    }

    /// Whether a worker is busy on something the views show as pending.
    pub fn busy(&self) -> bool {
        let s = &self.state;
        s.search.busy
            || s.item.loading
            || s.pack.busy
            || s.chat.busy
            || s.status.indexing
            || matches!(
                s.edit.phase,
                EditPhase::Proposing | EditPhase::Applying | EditPhase::Checking(_)
            )
    }

    // ---- search ----

    /// The query typed so far; searches it (an empty query clears the results).
    pub fn set_query(&mut self, query: impl Into<String>) {
        let query = query.into();
        if query == self.state.search.query && (self.state.search.busy || !query.is_empty()) {
            return;
        }
        self.state.search.query = query.clone();
        self.search_seq += 1;
        if query.trim().is_empty() {
            let s = &mut self.state.search;
            s.hits.clear();
            s.shown.clear();
            s.answered.clear();
            s.busy = false;
            s.error = None;
            return;
        }
        self.state.search.busy = true;
        let mut req = SearchRequest::new(query);
        req.k = self.state.search.limit;
        self.query(Query::Search {
            seq: self.search_seq,
            req,
        });
    }

    /// Results a search asks for; searches again.
    pub fn set_limit(&mut self, limit: usize) {
        self.state.search.limit = limit.max(1);
        let q = std::mem::take(&mut self.state.search.query);
        self.set_query(q);
    }

    /// Which results are shown (no new search).
    pub fn set_filters(&mut self, filters: Filters) {
        self.state.search.filters = filters;
        self.state.search.refilter();
    }

    // ---- items ----

    /// Opens the item with id `id` (or the first one a path or name finds), the current one
    /// going onto the back history.
    pub fn open(&mut self, id: &str) {
        if let Some(cur) = &self.state.item.current {
            if cur.item.id == id {
                return;
            }
            self.state.item.back.push(cur.item.id.clone());
        }
        self.state.item.forward.clear();
        self.load_item(id);
    }

    /// Back to the previous item; whether there was one.
    pub fn back(&mut self) -> bool {
        let Some(prev) = self.state.item.back.pop() else {
            return false;
        };
        if let Some(cur) = &self.state.item.current {
            self.state.item.forward.push(cur.item.id.clone());
        }
        self.load_item(&prev);
        true
    }

    /// Forward again; whether there was an item to go to.
    pub fn forward(&mut self) -> bool {
        let Some(next) = self.state.item.forward.pop() else {
            return false;
        };
        if let Some(cur) = &self.state.item.current {
            self.state.item.back.push(cur.item.id.clone());
        }
        self.load_item(&next);
        true
    }

    fn load_item(&mut self, target: &str) {
        self.item_seq += 1;
        self.state.item.loading = true;
        self.query(Query::Item {
            seq: self.item_seq,
            target: target.to_string(),
        });
    }

    // ---- context ----

    /// The request whose context pack is shown; packs it.
    pub fn set_pack_request(&mut self, request: impl Into<String>) {
        self.state.pack.request = request.into();
        self.repack();
    }

    /// The pack's budget in tokens; packs again.
    pub fn set_budget(&mut self, budget: usize) {
        if budget == self.state.pack.budget {
            return;
        }
        self.state.pack.budget = budget.max(100);
        self.repack();
    }

    fn repack(&mut self) {
        self.pack_seq += 1;
        if self.state.pack.request.trim().is_empty() {
            self.state.pack.pack = None;
            self.state.pack.busy = false;
            return;
        }
        self.state.pack.busy = true;
        let mut req = ContextRequest::new(self.state.pack.request.clone());
        req.budget = self.state.pack.budget;
        self.query(Query::Context {
            seq: self.pack_seq,
            req,
        });
    }

    /// The pack as markdown (what `ploke context` prints), for the clipboard.
    pub fn pack_markdown(&self) -> Option<String> {
        self.state.pack.pack.as_ref().map(|p| p.to_markdown())
    }

    // ---- chat and edits ----

    /// Asks the chat model about the code; the answer streams into a new turn.
    pub fn ask(&mut self, request: impl Into<String>) -> Result<(), String> {
        self.start_turn(TurnKind::Ask, request.into())
    }

    /// Asks the chat model for an edit; it ends in a review (see [`EditPhase::Review`]).
    pub fn edit(&mut self, request: impl Into<String>) -> Result<(), String> {
        self.start_turn(TurnKind::Edit, request.into())
    }

    fn start_turn(&mut self, kind: TurnKind, request: String) -> Result<(), String> {
        if request.trim().is_empty() {
            return Err("type a request first".into());
        }
        if self.state.chat.busy {
            return Err("the model is still answering: wait, or cancel it".into());
        }
        if !matches!(
            self.state.edit.phase,
            EditPhase::Idle | EditPhase::Checked { .. } | EditPhase::Applied(_)
        ) {
            return Err("an edit is under review: apply or discard it first".into());
        }
        if !matches!(self.state.edit.phase, EditPhase::Idle) {
            // A finished edit's flow is left behind for the new request.
            self.model(ModelCmd::Discard);
        }
        self.state.chat.busy = true;
        self.state.chat.turns.push(Turn {
            kind,
            request: request.clone(),
            answer: String::new(),
            tools: Vec::new(),
            footer: None,
            error: None,
        });
        self.turn += 1;
        let turn = self.turn;
        match kind {
            TurnKind::Ask => self.model(ModelCmd::Ask { turn, request }),
            TurnKind::Edit => {
                self.state.edit = EditState {
                    phase: EditPhase::Proposing,
                    request: request.clone(),
                    ..EditState::default()
                };
                self.model(ModelCmd::Edit { turn, request })
            }
        }
        Ok(())
    }

    /// Stops the model's answer or proposal under way (nothing is written).
    pub fn cancel(&mut self) {
        if self.state.chat.busy {
            let _ = self.cancel.send(self.turn);
        }
    }

    /// Accepts or rejects one file of the review.
    pub fn decide(&mut self, file: &str, accept: bool) {
        if let EditPhase::Review { files, .. } = &mut self.state.edit.phase {
            // Shown at once; the flow's answer confirms it.
            for f in files.iter_mut().filter(|f| f.path == file) {
                f.accepted = accept;
            }
            self.model(ModelCmd::Decide {
                file: file.to_string(),
                accept,
            });
        }
    }

    /// Applies the accepted files of the review.
    pub fn apply(&mut self) {
        if matches!(self.state.edit.phase, EditPhase::Review { .. }) {
            self.state.edit.phase = EditPhase::Applying;
            self.model(ModelCmd::Apply);
        }
    }

    /// Runs `cargo check` on the applied edit (errors go back to the model while repair
    /// rounds are left).
    pub fn check(&mut self) {
        if let EditPhase::Applied(a) = &self.state.edit.phase {
            self.state.edit.phase = EditPhase::Checking(a.clone());
            self.model(ModelCmd::Check);
        }
    }

    /// Leaves the edit under way: a review is dropped unwritten; an applied edit stays
    /// (undo reverts it).
    pub fn discard(&mut self) {
        if !matches!(self.state.edit.phase, EditPhase::Idle) {
            self.model(ModelCmd::Discard);
        }
    }

    /// Reverts the newest applied edit.
    pub fn undo(&mut self) {
        self.query(Query::Undo);
    }

    // ---- index, watcher, settings ----

    /// Brings the index up to date (from scratch with `rebuild`), with progress.
    pub fn index(&mut self, rebuild: bool) {
        if !self.state.status.indexing {
            self.state.status.indexing = true;
            self.query(Query::Index { rebuild });
        }
    }

    /// Starts or stops keeping the index live as files change.
    pub fn watch(&mut self, on: bool) {
        self.query(Query::Watch(on));
    }

    /// Asks for the index status again.
    pub fn refresh_status(&mut self) {
        self.query(Query::Status);
    }

    /// Opens the session again with another chat model (keys still come only from the
    /// environment).
    pub fn set_model(&mut self, provider: &str, model: &str, base_url: &str) {
        let none_if_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        self.opts.overrides = Overrides {
            provider: none_if_empty(provider),
            model: none_if_empty(model),
            base_url: none_if_empty(base_url),
            ..self.opts.overrides.clone()
        };
        self.query(Query::Reopen(Box::new(self.opts.clone())));
    }

    fn query(&self, q: Query) {
        if let Some(tx) = &self.queries {
            let _ = tx.send(q);
        }
    }

    fn model(&self, cmd: ModelCmd) {
        if let Some(tx) = &self.model {
            let _ = tx.send(cmd);
        }
    }

    fn notice(&mut self, warning: bool, text: impl Into<String>) {
        let n = &mut self.state.notices;
        n.push(Notice {
            warning,
            text: text.into(),
        });
        if n.len() > NOTICES {
            n.remove(0);
        }
    }

    /// Takes one reply into the state.
    fn take(&mut self, reply: Reply) {
        match reply {
            Reply::Search { seq, result, took } => {
                if seq != self.search_seq {
                    return;
                }
                let s = &mut self.state.search;
                s.busy = false;
                s.took = took;
                match result {
                    Ok(hits) => {
                        s.hits = hits;
                        s.answered = s.query.clone();
                        s.error = None;
                        s.refilter();
                    }
                    Err(e) => s.error = Some(e),
                }
            }
            Reply::Item { seq, result } => {
                if seq != self.item_seq {
                    return;
                }
                let it = &mut self.state.item;
                it.loading = false;
                match result {
                    Ok(Some(view)) => {
                        it.graph = Neighbourhood::of(&view, GRAPH_PER_SIDE);
                        it.current = Some(*view);
                        it.error = None;
                    }
                    Ok(None) => it.error = Some("no such item in the index".into()),
                    Err(e) => it.error = Some(e),
                }
            }
            Reply::Context { seq, result, took } => {
                if seq != self.pack_seq {
                    return;
                }
                let p = &mut self.state.pack;
                p.busy = false;
                p.took = took;
                match result {
                    Ok(pack) => {
                        p.pack = Some(pack);
                        p.error = None;
                    }
                    Err(e) => p.error = Some(e),
                }
            }
            Reply::Outline(Ok(o)) => self.state.outline = o,
            Reply::Outline(Err(e)) => self.notice(true, e),
            Reply::Status(Ok(s)) => self.state.status.index = Some(*s),
            Reply::Status(Err(e)) => self.notice(true, e),
            Reply::Indexed(result) => {
                let st = &mut self.state.status;
                st.indexing = false;
                st.progress = None;
                match result {
                    Ok(summary) => {
                        let ms: f64 = summary.stages_ms.iter().map(|(_, ms)| ms).sum();
                        let text = format!(
                            "indexed {} files, {} items in {ms:.0} ms",
                            summary.files, summary.items
                        );
                        st.last_index = Some(*summary);
                        self.notice(false, text);
                        // Answers from the new generation.
                        let q = std::mem::take(&mut self.state.search.query);
                        self.set_query(q);
                    }
                    Err(e) => self.notice(true, e),
                }
            }
            Reply::Undone(result) => match result {
                Ok(text) => {
                    self.state.edit.undone = Some(text.clone());
                    self.state.edit.phase = EditPhase::Idle;
                    self.notice(false, text);
                    self.reload_views();
                }
                Err(e) => {
                    self.state.edit.error = Some(e.clone());
                    self.notice(true, e);
                }
            },
            Reply::Watching(Ok(on)) => self.state.status.watching = on,
            Reply::Watching(Err(e)) => {
                self.state.status.watching = false;
                self.notice(true, e);
            }
            Reply::Reopened(Ok(session)) => {
                self.state.settings = settings_view(&session);
                self.notice(false, "settings applied");
            }
            Reply::Reopened(Err(e)) => self.notice(true, e),
            Reply::Event(e) => self.event(e),
            Reply::Chat(u) => self.chat(u),
            Reply::Edit(u) => self.edit_update(u),
        }
    }

    fn event(&mut self, e: Event) {
        match e {
            Event::Stage { stage, total } => {
                self.state.status.progress = Some(Progress {
                    stage,
                    done: 0,
                    total,
                })
            }
            Event::Progress { stage, done, total } => {
                self.state.status.progress = Some(Progress { stage, done, total })
            }
            Event::Warning { message } => self.notice(true, message),
            Event::Info { message } => self.notice(false, message),
            Event::Updated(u) => {
                self.state.status.last_update = Some(u);
                self.query(Query::Status);
                self.query(Query::Outline);
                self.reload_views();
            }
            Event::Embedded { .. } => self.query(Query::Status),
        }
    }

    /// Asks again for what the views show from the index (after it changed).
    fn reload_views(&mut self) {
        let q = std::mem::take(&mut self.state.search.query);
        self.set_query(q);
        if let Some(cur) = self.state.item.current.as_ref().map(|c| c.item.id.clone()) {
            self.load_item(&cur);
        }
        if self.state.pack.pack.is_some() {
            self.repack();
        }
    }

    fn chat(&mut self, u: ChatUpdate) {
        let Some(turn) = self.state.chat.turns.last_mut() else {
            return;
        };
        match u {
            ChatUpdate::Text(t) => turn.answer.push_str(&t),
            ChatUpdate::ToolCall { name, arguments } => turn.tools.push(ToolLine {
                name,
                arguments,
                chars: None,
            }),
            ChatUpdate::ToolResult { name, chars } => {
                if let Some(t) = turn
                    .tools
                    .iter_mut()
                    .rev()
                    .find(|t| t.name == name && t.chars.is_none())
                {
                    t.chars = Some(chars);
                }
            }
            ChatUpdate::Done(a) => {
                if turn.answer.trim().is_empty() {
                    turn.answer = a.answer.clone();
                }
                turn.footer = Some(format!(
                    "{} · {} context items, {} tokens · {} steps, {} tool calls · {} in / {} out tokens{}",
                    a.model,
                    a.context_items,
                    a.context_tokens,
                    a.steps,
                    a.tool_calls,
                    a.input_tokens,
                    a.output_tokens,
                    a.stopped_by.map(|s| format!(" · stopped: {s}")).unwrap_or_default()
                ));
                self.state.chat.busy = false;
            }
            ChatUpdate::Proposed { files, summary } => {
                if turn.answer.trim().is_empty() {
                    turn.answer = summary;
                }
                turn.footer = Some(format!(
                    "proposed edits to {files} file{}: review them",
                    if files == 1 { "" } else { "s" }
                ));
                self.state.chat.busy = false;
            }
            ChatUpdate::Failed(e) => {
                turn.error = Some(e);
                self.state.chat.busy = false;
            }
        }
    }

    fn edit_update(&mut self, u: EditUpdate) {
        let ed = &mut self.state.edit;
        match u {
            EditUpdate::Proposing { round } => {
                ed.round = round;
                ed.phase = EditPhase::Proposing;
                self.state.chat.busy = true;
            }
            EditUpdate::Review {
                files,
                summary,
                changed,
                round,
            } => {
                ed.round = round;
                ed.error = None;
                let summary = match (&ed.phase, summary.is_empty()) {
                    (EditPhase::Review { summary: old, .. }, true) => old.clone(),
                    _ => summary,
                };
                ed.phase = EditPhase::Review {
                    files,
                    summary,
                    changed,
                };
            }
            EditUpdate::Decided(new) => {
                if let EditPhase::Review { files, .. } = &mut ed.phase {
                    *files = new;
                }
            }
            EditUpdate::Applying => ed.phase = EditPhase::Applying,
            EditUpdate::Applied(a) => {
                let text = format!(
                    "applied edit #{} to {} (undo reverts it)",
                    a.entry,
                    a.files.join(", ")
                );
                ed.phase = EditPhase::Applied(a);
                self.notice(false, text);
                self.reload_views();
            }
            EditUpdate::Checking(a) => ed.phase = EditPhase::Checking(a),
            EditUpdate::Checked {
                applied,
                outcome,
                round,
            } => {
                ed.round = round;
                ed.phase = EditPhase::Checked { applied, outcome };
            }
            EditUpdate::Ended(why) => {
                ed.phase = EditPhase::Idle;
                if let Some(w) = why {
                    self.notice(false, w);
                }
            }
            EditUpdate::Failed(e) => {
                ed.error = Some(e.clone());
                if matches!(ed.phase, EditPhase::Proposing) {
                    ed.phase = EditPhase::Idle;
                }
                self.notice(true, e);
            }
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.cancel.send(u64::MAX);
        // Closing the channels ends the lanes once they finish what they are doing.
        self.queries = None;
        self.model = None;
        for t in self.threads.drain(..) {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .expect("spawning a worker thread")
}

fn settings_view(session: &Session) -> SettingsView {
    let s = session.settings();
    SettingsView {
        provider: s.llm.provider.to_string(),
        model: s.llm.model.clone(),
        base_url: s.llm.base_url.clone().unwrap_or_default(),
        key_set: s.llm.api_key.is_some(),
        // Named from the settings: loading the model here would stall the window's opening.
        embed: s.embed.as_ref().map(|e| match e.backend {
            ploke_session::EmbedBackend::Local => e
                .local
                .dir
                .as_ref()
                .map_or_else(|| e.local.hub_id.clone(), |d| d.display().to_string()),
            ploke_session::EmbedBackend::Remote => {
                format!("{} at {}", e.remote.model, e.remote.url)
            }
        }),
    }
}

/// Everything a view can ask of an [`App`], as data: views return these from a frame's
/// input and the loop hands them to [`App::dispatch`], so a view can be drawn (and tested)
/// from a [`State`] alone.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    SetQuery(String),
    SetLimit(usize),
    SetFilters(Filters),
    /// Open an item by id (or path or name).
    Open(String),
    Back,
    Forward,
    SetPackRequest(String),
    SetBudget(usize),
    Ask(String),
    Edit(String),
    Cancel,
    Decide {
        file: String,
        accept: bool,
    },
    Apply,
    Check,
    Discard,
    Undo,
    Index {
        rebuild: bool,
    },
    Watch(bool),
    RefreshStatus,
    SetModel {
        provider: String,
        model: String,
        base_url: String,
    },
}

impl App {
    /// Does what `action` asks; an error is a one-line reason it was refused (shown to the
    /// user, nothing done).
    pub fn dispatch(&mut self, action: Action) -> Result<(), String> {
        match action {
            Action::SetQuery(q) => self.set_query(q),
            Action::SetLimit(n) => self.set_limit(n),
            Action::SetFilters(f) => self.set_filters(f),
            Action::Open(id) => self.open(&id),
            Action::Back => {
                self.back();
            }
            Action::Forward => {
                self.forward();
            }
            Action::SetPackRequest(r) => self.set_pack_request(r),
            Action::SetBudget(b) => self.set_budget(b),
            Action::Ask(r) => return self.ask(r),
            Action::Edit(r) => return self.edit(r),
            Action::Cancel => self.cancel(),
            Action::Decide { file, accept } => self.decide(&file, accept),
            Action::Apply => self.apply(),
            Action::Check => self.check(),
            Action::Discard => self.discard(),
            Action::Undo => self.undo(),
            Action::Index { rebuild } => self.index(rebuild),
            Action::Watch(on) => self.watch(on),
            Action::RefreshStatus => self.refresh_status(),
            Action::SetModel {
                provider,
                model,
                base_url,
            } => self.set_model(&provider, &model, &base_url),
        }
        Ok(())
    }
}
