//! The two threads that do a front end's work, so its UI thread only draws:
//!
//! - the query lane answers searches, items, context packs and the outline, runs index
//!   runs, undo and the watcher. A burst of keystrokes costs one search: queued requests of
//!   one kind are dropped for the newest.
//! - the model lane talks to the chat model (a tokio runtime of its own): questions, and the
//!   edit workflow, whose flow lives on this thread between the user's decisions. A cancel
//!   drops the model's future at once.
//!
//! Every answer goes back as a [`Reply`]; the waker tells the UI to take it in.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use flume::{Receiver, Sender};
use ploke_session::{
    AppliedEdit, ApplyOutcome, AskAnswer, AskEvent, AskRequest, CheckOutcome, ContextRequest,
    EditOptions, Event, IndexRequest, IndexStatus, IndexSummary, ItemView, LiveOptions,
    ModuleEntry, OpenOptions, Pack, ReviewFile, SearchHit, SearchRequest, Session, SessionError,
    WatchHandle,
};

/// Wakes the UI when a reply is waiting (an egui repaint, a terminal loop's wake-up).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// The session every lane uses; replaced when the settings change.
pub(crate) type Shared = Arc<RwLock<Arc<Session>>>;

pub(crate) fn current(shared: &Shared) -> Arc<Session> {
    shared.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Work for the query lane.
pub(crate) enum Query {
    Search { seq: u64, req: SearchRequest },
    Item { seq: u64, target: String },
    Context { seq: u64, req: ContextRequest },
    Outline,
    Status,
    Index { rebuild: bool },
    Undo,
    Watch(bool),
    Reopen(Box<OpenOptions>),
}

impl Query {
    /// Requests of which only the newest matters.
    fn slot(&self) -> Option<u8> {
        match self {
            Query::Search { .. } => Some(0),
            Query::Item { .. } => Some(1),
            Query::Context { .. } => Some(2),
            Query::Outline => Some(3),
            Query::Status => Some(4),
            _ => None,
        }
    }
}

/// Work for the model lane.
pub(crate) enum ModelCmd {
    /// A question, numbered: a cancel names the turn it cancels.
    Ask {
        turn: u64,
        request: String,
    },
    Edit {
        turn: u64,
        request: String,
    },
    Decide {
        file: String,
        accept: bool,
    },
    Apply,
    Check,
    /// Leave the edit under way (nothing more is written).
    Discard,
}

/// What the lanes send back.
pub(crate) enum Reply {
    Search {
        seq: u64,
        result: Result<Vec<SearchHit>, String>,
        took: std::time::Duration,
    },
    Item {
        seq: u64,
        result: Result<Option<Box<ItemView>>, String>,
    },
    Context {
        seq: u64,
        result: Result<Pack, String>,
        took: std::time::Duration,
    },
    Outline(Result<Vec<ModuleEntry>, String>),
    Status(Result<Box<IndexStatus>, String>),
    Indexed(Result<Box<IndexSummary>, String>),
    Undone(Result<String, String>),
    Watching(Result<bool, String>),
    Reopened(Result<Arc<Session>, String>),
    Event(Event),
    Chat(ChatUpdate),
    Edit(EditUpdate),
}

/// A step of a chat turn.
pub(crate) enum ChatUpdate {
    Text(String),
    ToolCall {
        name: String,
        arguments: String,
    },
    ToolResult {
        name: String,
        chars: usize,
    },
    Done(AskAnswer),
    /// The model proposed edits to this many files.
    Proposed {
        files: usize,
        summary: String,
    },
    Failed(String),
}

/// A step of the edit workflow.
pub(crate) enum EditUpdate {
    /// The model is proposing (again, in a repair round).
    Proposing {
        round: usize,
    },
    Review {
        files: Vec<ReviewFile>,
        summary: String,
        changed: Vec<String>,
        round: usize,
    },
    Decided(Vec<ReviewFile>),
    Applying,
    Applied(AppliedEdit),
    Checking(AppliedEdit),
    Checked {
        applied: AppliedEdit,
        outcome: CheckOutcome,
        round: usize,
    },
    /// Back to idle (discarded, cancelled, or nothing to do), with why.
    Ended(Option<String>),
    Failed(String),
}

/// Sends replies and wakes the UI.
#[derive(Clone)]
pub(crate) struct Outbox {
    pub tx: Sender<Reply>,
    pub waker: Waker,
}

impl Outbox {
    pub fn send(&self, reply: Reply) {
        if self.tx.send(reply).is_ok() {
            (self.waker)();
        }
    }
}

fn text(e: SessionError) -> String {
    e.to_string()
}

/// Runs the query lane until the app is dropped.
pub(crate) fn query_lane(shared: Shared, rx: Receiver<Query>, out: Outbox) {
    let mut watch: Option<WatchHandle> = None;
    let mut runtime: Option<tokio::runtime::Runtime> = None;
    while let Ok(first) = rx.recv() {
        // Take everything queued; of each kind that only needs its newest, keep the newest.
        let mut batch = vec![first];
        batch.extend(rx.drain());
        let mut newest: [Option<usize>; 5] = [None; 5];
        for (i, q) in batch.iter().enumerate() {
            if let Some(s) = q.slot() {
                newest[s as usize] = Some(i);
            }
        }
        for (i, q) in batch.into_iter().enumerate() {
            if q.slot().is_some_and(|s| newest[s as usize] != Some(i)) {
                continue;
            }
            let session = current(&shared);
            match q {
                Query::Search { seq, req } => {
                    let t = Instant::now();
                    let result = session.search(&req).map_err(text);
                    out.send(Reply::Search {
                        seq,
                        result,
                        took: t.elapsed(),
                    });
                }
                Query::Item { seq, target } => {
                    let result = item(&session, &target)
                        .map(|v| v.map(Box::new))
                        .map_err(text);
                    out.send(Reply::Item { seq, result });
                }
                Query::Context { seq, req } => {
                    let t = Instant::now();
                    let result = session.context(&req).map_err(text);
                    out.send(Reply::Context {
                        seq,
                        result,
                        took: t.elapsed(),
                    });
                }
                Query::Outline => out.send(Reply::Outline(session.outline().map_err(text))),
                Query::Status => {
                    out.send(Reply::Status(session.status().map(Box::new).map_err(text)))
                }
                Query::Index { rebuild } => {
                    let req = IndexRequest {
                        rebuild,
                        embed: session.settings().embed.is_some(),
                        ..IndexRequest::default()
                    };
                    out.send(Reply::Indexed(
                        session.index(&req).map(Box::new).map_err(text),
                    ));
                    out.send(Reply::Status(session.status().map(Box::new).map_err(text)));
                    out.send(Reply::Outline(session.outline().map_err(text)));
                }
                Query::Undo => {
                    let result = match session.undo() {
                        Ok(u) => Ok(format!("undid edit #{} ({})", u.entry, u.files.join(", "))),
                        Err(e) => Err(text(e)),
                    };
                    out.send(Reply::Undone(result));
                    out.send(Reply::Outline(session.outline().map_err(text)));
                }
                Query::Watch(on) => {
                    let result = if on {
                        match (&watch, watch_rt(&mut runtime)) {
                            (Some(_), _) => Ok(true),
                            (None, Err(e)) => Err(e),
                            (None, Ok(rt)) => {
                                // The watcher's debouncer runs on the runtime entered here.
                                let _in = rt.enter();
                                session
                                    .watch(LiveOptions::default())
                                    .map(|h| {
                                        watch = Some(h);
                                        true
                                    })
                                    .map_err(text)
                            }
                        }
                    } else {
                        if let Some(h) = watch.take() {
                            h.stop();
                        }
                        Ok(false)
                    };
                    out.send(Reply::Watching(result));
                    if watch.is_some() {
                        out.send(Reply::Status(session.status().map(Box::new).map_err(text)));
                    }
                }
                Query::Reopen(opts) => {
                    if let Some(h) = watch.take() {
                        h.stop();
                        out.send(Reply::Watching(Ok(false)));
                    }
                    let result = Session::open(&opts).map(|s| {
                        let s = Arc::new(s);
                        subscribe(&s, &out);
                        *shared.write().unwrap_or_else(|e| e.into_inner()) = s.clone();
                        s
                    });
                    out.send(Reply::Reopened(result.map_err(text)));
                }
            }
        }
    }
    if let Some(h) = watch.take() {
        h.stop();
    }
}

/// The runtime the watcher runs on, started the first time it is wanted.
fn watch_rt(rt: &mut Option<tokio::runtime::Runtime>) -> Result<&tokio::runtime::Runtime, String> {
    if rt.is_none() {
        *rt = Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("ploke-app watch")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the watcher's runtime: {e}"))?,
        );
    }
    Ok(rt.as_ref().expect("just set"))
}

/// The item with id `target`, else the first item its path or name finds.
fn item(session: &Session, target: &str) -> Result<Option<ItemView>, SessionError> {
    if target.len() == 16 && target.bytes().all(|b| b.is_ascii_hexdigit()) {
        if let Some(v) = session.item_by_id(target)? {
            return Ok(Some(v));
        }
    }
    Ok(session.lookup(target)?.items.into_iter().next())
}

/// Forwards the session's events as replies.
pub(crate) fn subscribe(session: &Session, out: &Outbox) {
    let out = out.clone();
    session.subscribe(Arc::new(move |e: &Event| out.send(Reply::Event(e.clone()))));
}

/// Runs the model lane until the app is dropped.
pub(crate) fn model_lane(
    shared: Shared,
    rx: Receiver<ModelCmd>,
    cancel: Receiver<u64>,
    out: Outbox,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.send(Reply::Chat(ChatUpdate::Failed(format!(
                "cannot start the model's runtime: {e}"
            ))));
            return;
        }
    };
    while let Ok(cmd) = rx.recv() {
        let session = current(&shared);
        match cmd {
            ModelCmd::Ask { turn, request } => ask(&rt, &session, &request, (&cancel, turn), &out),
            ModelCmd::Edit { turn, request } => {
                edit(&rt, &session, &request, &rx, (&cancel, turn), &out)
            }
            ModelCmd::Decide { .. } | ModelCmd::Apply | ModelCmd::Check | ModelCmd::Discard => {
                out.send(Reply::Edit(EditUpdate::Ended(Some(
                    "no edit is under review".into(),
                ))));
            }
        }
    }
}

/// Resolves when the turn is cancelled: a cancel names the turn it was sent in (sent before
/// the lane took the turn up, it still counts; one left over from an earlier turn does not).
async fn cancelled((rx, turn): (&Receiver<u64>, u64)) {
    loop {
        match rx.recv_async().await {
            Ok(t) if t >= turn => return,
            Ok(_) => continue,
            // The app is gone: nothing will cancel.
            Err(_) => std::future::pending::<()>().await,
        }
    }
}

fn chat_sink(out: &Outbox) -> impl FnMut(AskEvent) + Send + '_ {
    move |e| {
        let update = match e {
            AskEvent::Text(t) => ChatUpdate::Text(t),
            AskEvent::ToolCall { name, arguments } => ChatUpdate::ToolCall {
                name,
                arguments: short(&arguments.to_string(), 200),
            },
            AskEvent::ToolResult { name, chars } => ChatUpdate::ToolResult { name, chars },
        };
        out.send(Reply::Chat(update));
    }
}

fn ask(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    request: &str,
    cancel: (&Receiver<u64>, u64),
    out: &Outbox,
) {
    let req = AskRequest::new(request);
    let mut sink = chat_sink(out);
    let result = rt.block_on(async {
        tokio::select! {
            r = session.ask(&req, &mut sink) => Some(r),
            _ = cancelled(cancel) => None,
        }
    });
    let update = match result {
        Some(Ok(answer)) => ChatUpdate::Done(answer),
        Some(Err(e)) => ChatUpdate::Failed(session.redact(&e.to_string())),
        None => ChatUpdate::Failed("cancelled".into()),
    };
    out.send(Reply::Chat(update));
}

/// One edit request from proposal to its end, taking the user's decisions from `rx`.
fn edit(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    request: &str,
    rx: &Receiver<ModelCmd>,
    cancel: (&Receiver<u64>, u64),
    out: &Outbox,
) {
    let failed = |e: SessionError| {
        out.send(Reply::Chat(ChatUpdate::Failed(
            session.redact(&e.to_string()),
        )));
        out.send(Reply::Edit(EditUpdate::Failed(
            session.redact(&e.to_string()),
        )));
    };
    let mut flow = match session.edit(request, EditOptions::default()) {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    let mut changed = Vec::new();
    'propose: loop {
        out.send(Reply::Edit(EditUpdate::Proposing {
            round: flow.round(),
        }));
        let mut sink = chat_sink(out);
        let proposed = rt.block_on(async {
            tokio::select! {
                r = flow.propose(&mut sink) => Some(r.map(|files| files.to_vec())),
                _ = cancelled(cancel) => None,
            }
        });
        drop(sink);
        let files = match proposed {
            None => {
                out.send(Reply::Chat(ChatUpdate::Failed("cancelled".into())));
                out.send(Reply::Edit(EditUpdate::Ended(Some(
                    "cancelled; nothing was written".into(),
                ))));
                return;
            }
            Some(Err(e @ SessionError::NoEdits { .. })) => {
                out.send(Reply::Chat(ChatUpdate::Failed(e.to_string())));
                out.send(Reply::Edit(EditUpdate::Ended(Some(e.to_string()))));
                return;
            }
            Some(Err(e)) => return failed(e),
            Some(Ok(files)) => files,
        };
        let summary = match flow.state() {
            ploke_session::EditState::Review(r) => r.summary.clone(),
            _ => String::new(),
        };
        out.send(Reply::Chat(ChatUpdate::Proposed {
            files: files.len(),
            summary: summary.clone(),
        }));
        out.send(Reply::Edit(EditUpdate::Review {
            files,
            summary,
            changed: std::mem::take(&mut changed),
            round: flow.round(),
        }));
        // The user's decisions, until the edit ends or needs another proposal.
        loop {
            let Ok(cmd) = rx.recv() else { return };
            match cmd {
                ModelCmd::Decide { file, accept } => match flow.decide(&file, accept) {
                    Ok(()) => out.send(Reply::Edit(EditUpdate::Decided(
                        flow.review().unwrap_or_default().to_vec(),
                    ))),
                    Err(e) => out.send(Reply::Edit(EditUpdate::Failed(e.to_string()))),
                },
                ModelCmd::Apply => {
                    out.send(Reply::Edit(EditUpdate::Applying));
                    match flow.apply() {
                        Ok(ApplyOutcome::Applied(a)) => {
                            out.send(Reply::Edit(EditUpdate::Applied(a)));
                        }
                        Ok(ApplyOutcome::Changed { files }) => {
                            out.send(Reply::Edit(EditUpdate::Review {
                                files: flow.review().unwrap_or_default().to_vec(),
                                summary: String::new(),
                                changed: files,
                                round: flow.round(),
                            }));
                        }
                        Err(e) => {
                            // Still under review: show it again with the error.
                            out.send(Reply::Edit(EditUpdate::Review {
                                files: flow.review().unwrap_or_default().to_vec(),
                                summary: String::new(),
                                changed: Vec::new(),
                                round: flow.round(),
                            }));
                            out.send(Reply::Edit(EditUpdate::Failed(e.to_string())));
                        }
                    }
                }
                ModelCmd::Check => {
                    let applied = match flow.state() {
                        ploke_session::EditState::Applied(a) => a.clone(),
                        _ => {
                            out.send(Reply::Edit(EditUpdate::Failed(
                                "nothing applied to check".into(),
                            )));
                            continue;
                        }
                    };
                    out.send(Reply::Edit(EditUpdate::Checking(applied.clone())));
                    match flow.check() {
                        Ok(outcome) => {
                            let repair =
                                matches!(outcome, CheckOutcome::Failed { repair: true, .. });
                            out.send(Reply::Edit(EditUpdate::Checked {
                                applied,
                                outcome,
                                round: flow.round(),
                            }));
                            if repair {
                                continue 'propose;
                            }
                        }
                        Err(e) => {
                            out.send(Reply::Edit(EditUpdate::Checked {
                                applied,
                                outcome: CheckOutcome::Failed {
                                    errors: e.to_string(),
                                    repair: false,
                                },
                                round: flow.round(),
                            }));
                        }
                    }
                }
                ModelCmd::Discard => {
                    out.send(Reply::Edit(EditUpdate::Ended(None)));
                    return;
                }
                ModelCmd::Ask { .. } | ModelCmd::Edit { .. } => out.send(Reply::Chat(
                    ChatUpdate::Failed("an edit is under way: apply or discard it first".into()),
                )),
            }
        }
    }
}

/// `s` cut to `max` characters.
pub(crate) fn short(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_string(),
    }
}
