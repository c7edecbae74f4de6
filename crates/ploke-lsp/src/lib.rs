//! `ploke lsp`: the session served as a Language Server, beside rust-analyzer (not instead
//! of it): workspace symbols by fuzzy name, hover with an item's canonical path, relation
//! counts and docs, references and the call hierarchy from the code graph, and code lenses
//! ("N callers · M impls").
//!
//! Workspace symbols are the workspace's items; the initialization option
//! `{"symbolScope": "all"}` (or a crate's name) adds the dependencies attached to the index,
//! whose files are opened by their absolute paths. A dependency's items are read-only: no
//! code action edits them, and their buffers never become overlays.
//!
//! Built on `lsp-server` and `lsp-types`, the transport and protocol types rust-analyzer
//! itself uses: a synchronous loop over a channel of messages, so every request is answered
//! on this thread from the session's in-memory snapshot (no async runtime in the request
//! path). The front end keeps the index live (its watcher takes in saved files) and passes
//! the session here; indexing progress reaches the editor as `$/progress` reports, warnings
//! as `window/logMessage`.
//!
//! The protocol's rules are kept: a frame that is not JSON gets `ParseError` and one that is
//! not a message `InvalidRequest` (see [`transport`]), requests before `initialize` get
//! `ServerNotInitialized`, unknown requests `MethodNotFound`, bad parameters `InvalidParams`,
//! a position outside every item an empty answer; nothing a client sends ends the server but
//! `exit` (or closing its input).

mod convert;
pub mod transport;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CallHierarchyIncomingCall, CallHierarchyItem, CallHierarchyOutgoingCall,
    CallHierarchyServerCapability, CodeLens, Command, HoverContents, HoverProviderCapability,
    InitializeResult, MarkupContent, MarkupKind, OneOf, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind,
};
use ploke_session::{Event, ItemRef, ItemView, SearchScope, Session};

pub use convert::uri_of;
use convert::{file_of, location, range_of, symbol_kind};

/// How the server runs.
#[derive(Debug, Clone, Default)]
pub struct LspOptions {}

/// Serves `session` over `conn` until the client sends `exit` (or goes away). Returns an
/// error only for a broken connection.
pub fn serve(session: Arc<Session>, conn: Connection, _opts: LspOptions) -> Result<(), String> {
    let server = Server {
        root: session.location().root.clone(),
        session,
        sender: conn.sender.clone(),
        progress_started: Arc::new(AtomicBool::new(false)),
        initialized: Arc::new(AtomicBool::new(false)),
        progress: Arc::new(AtomicBool::new(false)),
        docs: Arc::default(),
        next_request: std::sync::atomic::AtomicU64::new(0),
        symbol_scope: std::sync::Mutex::new(SearchScope::Workspace),
    };
    server.forward_events();
    let mut initialized = false;
    let mut shutdown = false;
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if req.method == lsp_types::request::Initialize::METHOD {
                    initialized = true;
                    // Progress only to a client that says it shows it.
                    let progress = req
                        .params
                        .pointer("/capabilities/window/workDoneProgress")
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false);
                    server.progress.store(progress, Ordering::Release);
                    let scope = req
                        .params
                        .pointer("/initializationOptions/symbolScope")
                        .and_then(|v| v.as_str())
                        .map(str::parse::<SearchScope>);
                    let bad_scope = match scope {
                        Some(Ok(s)) => {
                            *server
                                .symbol_scope
                                .lock()
                                .unwrap_or_else(|e| e.into_inner()) = s;
                            None
                        }
                        Some(Err(e)) => Some(e),
                        None => None,
                    };
                    server.reply(Response::new_ok(req.id, server.capabilities()));
                    server.initialized.store(true, Ordering::Release);
                    if let Some(e) = bad_scope {
                        server.log(2, &format!("initializationOptions.symbolScope: {e}; workspace symbols are the workspace's"));
                    }
                } else if !initialized {
                    server.error(
                        req.id,
                        ErrorCode::ServerNotInitialized,
                        "the server is not initialized yet: send `initialize` first",
                    );
                } else if req.method == lsp_types::request::Shutdown::METHOD {
                    shutdown = true;
                    server.reply(Response::new_ok(req.id, ()));
                } else if shutdown {
                    server.error(
                        req.id,
                        ErrorCode::InvalidRequest,
                        "the server is shutting down",
                    );
                } else {
                    server.request(req);
                }
            }
            Message::Notification(n) => {
                if n.method == lsp_types::notification::Exit::METHOD {
                    return Ok(());
                }
                // Saved files reach the index through the live index's watcher; the
                // buffers' versions and dirtiness are kept for edits.
                server.document(n);
            }
            Message::Response(r) => server.response(r),
        }
    }
    Err("the client closed the connection without `exit`".into())
}

struct Server {
    root: PathBuf,
    session: Arc<Session>,
    sender: crossbeam_channel::Sender<Message>,
    progress_started: Arc<AtomicBool>,
    /// Set once `initialize` is answered: the protocol allows no notification before.
    initialized: Arc<AtomicBool>,
    /// Whether the client shows work-done progress (its `window.workDoneProgress`).
    progress: Arc<AtomicBool>,
    /// Open buffers: version, and whether they hold changes not saved yet.
    docs: Arc<std::sync::Mutex<std::collections::HashMap<String, (i32, bool)>>>,
    /// Numbers the requests this server sends the client (`workspace/applyEdit`).
    next_request: std::sync::atomic::AtomicU64,
    /// The items workspace symbols come from (`initializationOptions.symbolScope`).
    symbol_scope: std::sync::Mutex<SearchScope>,
}

/// The command of the "Ask ploke about this" code action.
pub const ASK_COMMAND: &str = "ploke.ask";
/// The command of the "Edit with ploke…" code action.
pub const EDIT_COMMAND: &str = "ploke.edit";

/// The token of the indexing progress this server reports.
const PROGRESS_TOKEN: &str = "ploke/index";

impl Server {
    fn reply(&self, resp: Response) {
        let _ = self.sender.send(Message::Response(resp));
    }

    fn error(&self, id: RequestId, code: ErrorCode, message: impl Into<String>) {
        self.reply(Response::new_err(id, code as i32, message.into()));
    }

    /// Whether workspace symbols (and so the files an editor opens from them) include the
    /// dependencies' items.
    fn with_dependencies(&self) -> bool {
        *self.symbol_scope.lock().unwrap_or_else(|e| e.into_inner()) != SearchScope::Workspace
    }

    /// A `window/logMessage` (1 error, 2 warning, 3 info).
    fn log(&self, level: u8, message: &str) {
        let _ = self.sender.send(Message::Notification(Notification::new(
            lsp_types::notification::LogMessage::METHOD.into(),
            serde_json::json!({"type": level, "message": message}),
        )));
    }

    fn capabilities(&self) -> InitializeResult {
        InitializeResult {
            capabilities: ServerCapabilities {
                // Open/close/change/save: unsaved buffers are an overlay of the index (whole
                // texts: one file re-parsed per change either way), and edits go to the editor
                // against the buffer's version.
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    lsp_types::TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::FULL),
                        save: Some(lsp_types::TextDocumentSyncSaveOptions::Supported(true)),
                        ..lsp_types::TextDocumentSyncOptions::default()
                    },
                )),
                code_action_provider: Some(lsp_types::CodeActionProviderCapability::Simple(true)),
                execute_command_provider: Some(lsp_types::ExecuteCommandOptions {
                    commands: vec![ASK_COMMAND.into(), EDIT_COMMAND.into()],
                    work_done_progress_options: Default::default(),
                }),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                references_provider: Some(OneOf::Left(true)),
                call_hierarchy_provider: Some(CallHierarchyServerCapability::Simple(true)),
                code_lens_provider: Some(lsp_types::CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "ploke".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
        }
    }

    /// Session events to the editor: indexing stages as work-done progress, warnings as log
    /// messages.
    fn forward_events(&self) {
        let sender = self.sender.clone();
        let started = self.progress_started.clone();
        let initialized = self.initialized.clone();
        let shows_progress = self.progress.clone();
        self.session.subscribe(Arc::new(move |ev: &Event| {
            if !initialized.load(Ordering::Acquire) {
                return;
            }
            let is_progress = matches!(
                ev,
                Event::Stage { .. } | Event::Progress { .. } | Event::Updated(_)
            );
            if is_progress && !shows_progress.load(Ordering::Acquire) {
                return;
            }
            let send = |method: &str, params: serde_json::Value| {
                let _ = sender.send(Message::Notification(Notification::new(
                    method.into(),
                    params,
                )));
            };
            let progress = |value: serde_json::Value| {
                send(
                    lsp_types::notification::Progress::METHOD,
                    serde_json::json!({"token": PROGRESS_TOKEN, "value": value}),
                )
            };
            match ev {
                Event::Stage { stage, total } => {
                    if !started.swap(true, Ordering::AcqRel) {
                        // The token is the server's: created before it is used.
                        let _ = sender.send(Message::Request(Request::new(
                            RequestId::from("ploke/progress-create".to_string()),
                            lsp_types::request::WorkDoneProgressCreate::METHOD.into(),
                            serde_json::json!({"token": PROGRESS_TOKEN}),
                        )));
                        progress(serde_json::json!({
                            "kind": "begin", "title": "ploke: indexing", "message": stage,
                            "percentage": 0
                        }));
                    } else {
                        progress(serde_json::json!({
                            "kind": "report", "message": format!("{stage} ({total})")
                        }));
                    }
                }
                Event::Progress { stage, done, total } if *total > 0 => {
                    progress(serde_json::json!({
                        "kind": "report",
                        "message": format!("{stage} {done}/{total}"),
                        "percentage": (*done * 100 / *total).min(100)
                    }))
                }
                Event::Updated(u) if started.swap(false, Ordering::AcqRel) => {
                    progress(serde_json::json!({
                        "kind": "end",
                        "message": format!("generation {}", u.generation)
                    }))
                }
                Event::Warning { message } => send(
                    lsp_types::notification::LogMessage::METHOD,
                    serde_json::json!({"type": 2, "message": message}),
                ),
                Event::Info { message } => send(
                    lsp_types::notification::LogMessage::METHOD,
                    serde_json::json!({"type": 3, "message": message}),
                ),
                _ => {}
            }
        }));
    }

    fn request(&self, req: Request) {
        use lsp_types::request as r;
        let id = req.id.clone();
        let result = match req.method.as_str() {
            r::WorkspaceSymbolRequest::METHOD => {
                self.handle::<r::WorkspaceSymbolRequest>(req, |s, p| s.symbols(p))
            }
            r::HoverRequest::METHOD => self.handle::<r::HoverRequest>(req, |s, p| s.hover(p)),
            r::References::METHOD => self.handle::<r::References>(req, |s, p| s.references(p)),
            r::CallHierarchyPrepare::METHOD => {
                self.handle::<r::CallHierarchyPrepare>(req, |s, p| s.prepare_calls(p))
            }
            r::CallHierarchyIncomingCalls::METHOD => {
                self.handle::<r::CallHierarchyIncomingCalls>(req, |s, p| s.incoming(p))
            }
            r::CallHierarchyOutgoingCalls::METHOD => {
                self.handle::<r::CallHierarchyOutgoingCalls>(req, |s, p| s.outgoing(p))
            }
            r::CodeLensRequest::METHOD => {
                self.handle::<r::CodeLensRequest>(req, |s, p| s.lenses(p))
            }
            r::CodeActionRequest::METHOD => {
                self.handle::<r::CodeActionRequest>(req, |s, p| s.actions(p))
            }
            r::ExecuteCommand::METHOD => {
                // Answered later, from the thread that runs the model.
                match serde_json::from_value::<lsp_types::ExecuteCommandParams>(req.params) {
                    Ok(p) => match self.execute(id.clone(), p) {
                        Ok(()) => return,
                        Err((code, message)) => Err((code, message)),
                    },
                    Err(e) => Err((
                        ErrorCode::InvalidParams,
                        format!("workspace/executeCommand: invalid parameters: {e}"),
                    )),
                }
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("ploke does not answer `{other}`"),
            )),
        };
        match result {
            Ok(value) => self.reply(Response::new_ok(id, value)),
            Err((code, message)) => self.error(id, code, message),
        }
    }

    /// Decodes the parameters of `R`, answers with `f`, encodes the result.
    fn handle<R: lsp_types::request::Request>(
        &self,
        req: Request,
        f: impl FnOnce(&Self, R::Params) -> Result<R::Result, String>,
    ) -> Result<serde_json::Value, (ErrorCode, String)> {
        let params: R::Params = serde_json::from_value(req.params).map_err(|e| {
            (
                ErrorCode::InvalidParams,
                format!("{}: invalid parameters: {e}", R::METHOD),
            )
        })?;
        let result = f(self, params).map_err(|e| (ErrorCode::RequestFailed, e))?;
        serde_json::to_value(result).map_err(|e| (ErrorCode::InternalError, e.to_string()))
    }

    fn err(&self, e: ploke_session::SessionError) -> String {
        self.session.redact(&e.to_string())
    }

    /// The item at a document position: in a workspace file, or (when workspace symbols
    /// include them) in an attached dependency's file.
    fn at(&self, pos: &lsp_types::TextDocumentPositionParams) -> Result<Option<ItemView>, String> {
        let file = match file_of(&self.root, &pos.text_document.uri) {
            Some(f) => f,
            None if self.with_dependencies() => match convert::path_of(&pos.text_document.uri) {
                Some(p) => p,
                None => return Ok(None),
            },
            None => return Ok(None),
        };
        self.session
            .item_at(&file, pos.position.line + 1)
            .map_err(|e| self.err(e))
    }

    fn symbols(
        &self,
        p: lsp_types::WorkspaceSymbolParams,
    ) -> Result<Option<lsp_types::WorkspaceSymbolResponse>, String> {
        let scope = self
            .symbol_scope
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let found = self
            .session
            .symbols_in(&p.query, 100, &scope)
            .map_err(|e| self.err(e))?;
        #[allow(deprecated)] // `deprecated` is a required field of the type.
        let symbols = found
            .iter()
            .map(|i| lsp_types::SymbolInformation {
                name: i.name.clone(),
                kind: symbol_kind(&i.kind),
                tags: None,
                deprecated: None,
                location: location(&self.root, &i.file, i.start_line, i.end_line),
                container_name: i.path.rsplit_once("::").map(|(m, _)| m.to_string()),
            })
            .collect();
        Ok(Some(lsp_types::WorkspaceSymbolResponse::Flat(symbols)))
    }

    fn hover(&self, p: lsp_types::HoverParams) -> Result<Option<lsp_types::Hover>, String> {
        let Some(v) = self.at(&p.text_document_position_params)? else {
            return Ok(None);
        };
        let mut text = format!("```rust\n{}\n```\n\n`{}`", v.signature.trim(), v.item.path);
        let counts = [
            (v.callers.len(), "caller", "callers"),
            (v.callees.len(), "callee", "callees"),
            (v.implementations.len(), "implementation", "implementations"),
        ];
        let counts: Vec<String> = counts
            .iter()
            .filter(|(n, ..)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect();
        if !counts.is_empty() {
            text.push_str(&format!(" · {}", counts.join(" · ")));
        }
        if let Some(t) = v.implements.first() {
            text.push_str(&format!("\n\nimplements `{}`", t.path));
        }
        if let Some(first) = v.docs.lines().map(str::trim).find(|l| !l.is_empty()) {
            text.push_str(&format!("\n\n{first}"));
        }
        Ok(Some(lsp_types::Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: Some(range_of(v.item.start_line, v.item.end_line)),
        }))
    }

    fn references(
        &self,
        p: lsp_types::ReferenceParams,
    ) -> Result<Option<Vec<lsp_types::Location>>, String> {
        let Some(v) = self.at(&p.text_document_position)? else {
            return Ok(None);
        };
        let mut out: Vec<lsp_types::Location> = v
            .callers
            .iter()
            .map(|c| location(&self.root, &c.item.file, c.line, c.line))
            .collect();
        out.extend(
            v.implementations
                .iter()
                .map(|i| location(&self.root, &i.file, i.start_line, i.start_line)),
        );
        if p.context.include_declaration {
            out.insert(
                0,
                location(&self.root, &v.item.file, v.item.start_line, v.item.end_line),
            );
        }
        Ok(Some(out))
    }

    fn call_item(&self, i: &ItemRef) -> CallHierarchyItem {
        let loc = location(&self.root, &i.file, i.start_line, i.end_line);
        CallHierarchyItem {
            name: i.name.clone(),
            kind: symbol_kind(&i.kind),
            tags: None,
            detail: Some(i.path.clone()),
            uri: loc.uri,
            range: loc.range,
            selection_range: range_of(i.start_line, i.start_line),
            data: Some(serde_json::json!({ "id": i.id })),
        }
    }

    fn item_of(&self, item: &CallHierarchyItem) -> Result<ItemView, String> {
        let id = item
            .data
            .as_ref()
            .and_then(|d| d.get("id"))
            .and_then(|i| i.as_str())
            .ok_or("a call hierarchy item without ploke's `data.id`")?;
        self.session
            .item_by_id(id)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| format!("item {id} is no longer in the index"))
    }

    fn prepare_calls(
        &self,
        p: lsp_types::CallHierarchyPrepareParams,
    ) -> Result<Option<Vec<CallHierarchyItem>>, String> {
        Ok(self
            .at(&p.text_document_position_params)?
            .map(|v| vec![self.call_item(&v.item)]))
    }

    /// Call relations grouped by the item at their other end (in order of first appearance),
    /// with every call line: what both directions of the call hierarchy answer.
    fn grouped_calls(
        &self,
        rows: &[ploke_session::Related],
    ) -> Vec<(CallHierarchyItem, Vec<lsp_types::Range>)> {
        let mut out: Vec<(&str, CallHierarchyItem, Vec<lsp_types::Range>)> = Vec::new();
        for c in rows {
            let range = range_of(c.line, c.line);
            match out.iter_mut().find(|(id, ..)| *id == c.item.id) {
                Some((_, _, ranges)) => ranges.push(range),
                None => out.push((&c.item.id, self.call_item(&c.item), vec![range])),
            }
        }
        out.into_iter().map(|(_, item, r)| (item, r)).collect()
    }

    fn incoming(
        &self,
        p: lsp_types::CallHierarchyIncomingCallsParams,
    ) -> Result<Option<Vec<CallHierarchyIncomingCall>>, String> {
        let v = self.item_of(&p.item)?;
        Ok(Some(
            self.grouped_calls(&v.callers)
                .into_iter()
                .map(|(from, from_ranges)| CallHierarchyIncomingCall { from, from_ranges })
                .collect(),
        ))
    }

    fn outgoing(
        &self,
        p: lsp_types::CallHierarchyOutgoingCallsParams,
    ) -> Result<Option<Vec<CallHierarchyOutgoingCall>>, String> {
        let v = self.item_of(&p.item)?;
        Ok(Some(
            self.grouped_calls(&v.callees)
                .into_iter()
                .map(|(to, from_ranges)| CallHierarchyOutgoingCall { to, from_ranges })
                .collect(),
        ))
    }

    /// Keeps the version of every open buffer and whether it holds unsaved changes, and makes
    /// an unsaved buffer's text stand for its file in the index (until saved or closed).
    fn document(&self, n: Notification) {
        use lsp_types::notification as no;
        use lsp_types::{
            DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
            DidSaveTextDocumentParams,
        };
        // (uri, new overlay: Some(text) or None for the disk again)
        let overlay: Option<(lsp_types::Uri, Option<String>)> = {
            let mut docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
            match n.method.as_str() {
                no::DidOpenTextDocument::METHOD => {
                    match serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                        Ok(p) => {
                            let d = p.text_document;
                            docs.insert(d.uri.as_str().to_string(), (d.version, false));
                            None
                        }
                        Err(_) => None,
                    }
                }
                no::DidChangeTextDocument::METHOD => {
                    match serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                        Ok(p) => {
                            let d = p.text_document;
                            docs.insert(d.uri.as_str().to_string(), (d.version, true));
                            // Full sync: the last change holds the whole text.
                            p.content_changes
                                .into_iter()
                                .last()
                                .filter(|c| c.range.is_none())
                                .map(|c| (d.uri, Some(c.text)))
                        }
                        Err(_) => None,
                    }
                }
                no::DidSaveTextDocument::METHOD => {
                    match serde_json::from_value::<DidSaveTextDocumentParams>(n.params) {
                        Ok(p) => {
                            let was_dirty = docs
                                .get_mut(p.text_document.uri.as_str())
                                .map(|d| std::mem::replace(&mut d.1, false))
                                .unwrap_or(false);
                            was_dirty.then_some((p.text_document.uri, None))
                        }
                        Err(_) => None,
                    }
                }
                no::DidCloseTextDocument::METHOD => {
                    match serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                        Ok(p) => {
                            let was = docs.remove(p.text_document.uri.as_str());
                            was.is_some_and(|(_, dirty)| dirty)
                                .then_some((p.text_document.uri, None))
                        }
                        Err(_) => None,
                    }
                }
                _ => None,
            }
        };
        let Some((uri, text)) = overlay else { return };
        let Some(file) = file_of(&self.root, &uri).filter(|f| f.ends_with(".rs")) else {
            return;
        };
        if let Err(e) = self.session.overlay(&file, text) {
            let _ = self.sender.send(Message::Notification(Notification::new(
                lsp_types::notification::LogMessage::METHOD.into(),
                serde_json::json!({"type": 2, "message": format!("{file}: {}", self.err(e))}),
            )));
        }
    }

    /// The client's answer to a request of this server: what became of an edit.
    fn response(&self, r: Response) {
        if !r.id.to_string().contains("ploke/apply") {
            return;
        }
        let field = |k: &str| r.result.as_ref().and_then(|v| v.get(k)).cloned();
        let applied = field("applied").and_then(|a| a.as_bool()).unwrap_or(false);
        let message = if applied {
            "ploke: the edit was applied in the editor (undo there takes it back)".to_string()
        } else {
            let why = field("failureReason")
                .and_then(|a| a.as_str().map(str::to_string))
                .unwrap_or_else(|| "the editor refused it".into());
            format!("ploke: the edit was not applied: {why}")
        };
        let _ = self.sender.send(Message::Notification(Notification::new(
            lsp_types::notification::ShowMessage::METHOD.into(),
            serde_json::json!({"type": if applied { 3 } else { 2 }, "message": message}),
        )));
    }

    /// "Ask ploke about this" and "Edit with ploke…" on the item at the range's start.
    fn actions(
        &self,
        p: lsp_types::CodeActionParams,
    ) -> Result<Option<lsp_types::CodeActionResponse>, String> {
        let at = lsp_types::TextDocumentPositionParams {
            text_document: p.text_document.clone(),
            position: p.range.start,
        };
        let Some(v) = self.at(&at)? else {
            return Ok(Some(Vec::new()));
        };
        // A dependency's item is read-only: nothing to offer (ask about the workspace's code
        // that uses it instead).
        if v.item.dependency {
            return Ok(Some(Vec::new()));
        }
        let args = serde_json::json!({
            "uri": p.text_document.uri.as_str(),
            "line": p.range.start.line,
            "path": v.item.path,
        });
        // Bare commands (the protocol allows them in a code action answer): every client
        // runs them the same way.
        let action = |title: String, command: &str| {
            lsp_types::CodeActionOrCommand::Command(Command {
                title,
                command: command.into(),
                arguments: Some(vec![args.clone()]),
            })
        };
        Ok(Some(vec![
            action(format!("Ask ploke about `{}`", v.item.name), ASK_COMMAND),
            action(format!("Edit `{}` with ploke…", v.item.name), EDIT_COMMAND),
        ]))
    }

    /// Runs `ploke.ask` or `ploke.edit` on a worker thread (the model takes seconds); the
    /// answer to `id` comes from there.
    fn execute(
        &self,
        id: RequestId,
        p: lsp_types::ExecuteCommandParams,
    ) -> Result<(), (ErrorCode, String)> {
        let arg = p.arguments.first().cloned().unwrap_or_default();
        let get = |k: &str| arg.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let path = get("path");
        let job = match p.command.as_str() {
            ASK_COMMAND => {
                let question = get("question").or_else(|| {
                    path.as_ref().map(|p| {
                        format!(
                            "Explain `{p}`: what it does, who calls it, and what to watch for when changing it."
                        )
                    })
                });
                let Some(question) = question else {
                    return Err((
                        ErrorCode::InvalidParams,
                        "ploke.ask needs `question` or `path` in its argument".into(),
                    ));
                };
                Job::Ask { question }
            }
            EDIT_COMMAND => {
                let Some(request) = get("request") else {
                    return Err((
                        ErrorCode::InvalidParams,
                        "ploke.edit needs the change request as `request` in its argument (the editor asks the user for it)".into(),
                    ));
                };
                let request = match &path {
                    Some(p) => format!("{request} (in `{p}`)"),
                    None => request,
                };
                // Edits go to the editor against the buffer it holds: a buffer with unsaved
                // changes is not what the index (and the model) saw.
                if let Some(u) = get("uri") {
                    let inside = lsp_types::Uri::from_str(&u)
                        .ok()
                        .and_then(|uri| file_of(&self.root, &uri))
                        .is_some();
                    if !inside {
                        return Err((
                            ErrorCode::RequestFailed,
                            format!("{u} is not a file of the workspace: ploke never edits dependency sources; change the workspace's code instead"),
                        ));
                    }
                    let docs = self.docs.lock().unwrap_or_else(|e| e.into_inner());
                    if docs.get(&u).is_some_and(|(_, dirty)| *dirty) {
                        return Err((
                            ErrorCode::RequestFailed,
                            "save the file first: ploke edits the saved text".into(),
                        ));
                    }
                }
                Job::Edit { request }
            }
            other => {
                return Err((
                    ErrorCode::InvalidParams,
                    format!(
                        "unknown command `{other}` (ploke offers {ASK_COMMAND} and {EDIT_COMMAND})"
                    ),
                ))
            }
        };
        let session = self.session.clone();
        let sender = self.sender.clone();
        let root = self.root.clone();
        let docs = self.docs.clone();
        let apply_id = self.next_request.fetch_add(1, Ordering::Relaxed);
        std::thread::Builder::new()
            .name("ploke-lsp-model".into())
            .spawn(move || {
                let reply = run_job(&session, &root, &docs, &sender, job, apply_id);
                let resp = match reply {
                    Ok(v) => Response::new_ok(id, v),
                    Err(e) => {
                        Response::new_err(id, ErrorCode::RequestFailed as i32, session.redact(&e))
                    }
                };
                let _ = sender.send(Message::Response(resp));
            })
            .map_err(|e| (ErrorCode::InternalError, e.to_string()))?;
        Ok(())
    }

    fn lenses(&self, p: lsp_types::CodeLensParams) -> Result<Option<Vec<CodeLens>>, String> {
        let Some(file) = file_of(&self.root, &p.text_document.uri) else {
            return Ok(None);
        };
        let items = self.session.items_in(&file).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for i in items.iter().filter(|i| {
            matches!(
                i.kind.as_str(),
                "fn" | "method" | "trait" | "struct" | "enum" | "union"
            )
        }) {
            let Some(v) = self.session.item_by_id(&i.id).map_err(|e| self.err(e))? else {
                continue;
            };
            let callers = v.callers.len();
            let impls = v.implementations.len();
            let mut parts = vec![format!(
                "{callers} {}",
                if callers == 1 { "caller" } else { "callers" }
            )];
            if impls > 0 || matches!(i.kind.as_str(), "trait" | "struct" | "enum" | "union") {
                parts.push(format!(
                    "{impls} {}",
                    if impls == 1 { "impl" } else { "impls" }
                ));
            }
            // The tests that reach it through calls (the index's test map), when any do.
            if matches!(i.kind.as_str(), "fn" | "method") && !v.is_test {
                let tests = self.session.test_count(&i.id).map_err(|e| self.err(e))?;
                if tests > 0 {
                    parts.push(format!(
                        "{tests} {}",
                        if tests == 1 { "test" } else { "tests" }
                    ));
                }
            }
            out.push(CodeLens {
                range: range_of(i.start_line, i.start_line),
                command: Some(Command {
                    title: parts.join(" · "),
                    command: String::new(),
                    arguments: None,
                }),
                data: None,
            });
        }
        Ok(Some(out))
    }
}

/// What a command asks of the model.
enum Job {
    Ask { question: String },
    Edit { request: String },
}

/// Open buffers by URI: version, and whether they hold unsaved changes.
type Docs = std::sync::Mutex<std::collections::HashMap<String, (i32, bool)>>;

/// Runs `job` with the session's chat model: an answer is shown as a message (and returned);
/// an edit's files go to the editor as one `workspace/applyEdit`, versioned against the open
/// buffers, after ploke's checks of every proposed edit (nothing is written to disk here).
fn run_job(
    session: &Session,
    root: &std::path::Path,
    docs: &Docs,
    sender: &crossbeam_channel::Sender<Message>,
    job: Job,
    apply_id: u64,
) -> Result<serde_json::Value, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    match job {
        Job::Ask { question } => {
            let req = ploke_session::AskRequest::new(question);
            let answer = rt
                .block_on(session.ask(&req, &mut |_| {}))
                .map_err(|e| e.to_string())?;
            let _ = sender.send(Message::Notification(Notification::new(
                lsp_types::notification::ShowMessage::METHOD.into(),
                serde_json::json!({"type": 3, "message": answer.answer}),
            )));
            Ok(serde_json::json!({"answer": answer.answer}))
        }
        Job::Edit { request } => {
            let mut flow = session
                .edit(&request, ploke_session::EditOptions::default())
                .map_err(|e| e.to_string())?;
            let files = rt
                .block_on(flow.propose(&mut |_| {}))
                .map_err(|e| e.to_string())?
                .to_vec();
            let docs = docs.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let mut changes = Vec::new();
            for f in &files {
                let uri = convert::uri_of(root, &f.path);
                let version = docs.get(uri.as_str()).map(|(v, _)| *v);
                if f.new_file {
                    changes.push(serde_json::json!({"kind": "create", "uri": uri.as_str()}));
                }
                changes.push(serde_json::json!({
                    "textDocument": {"uri": uri.as_str(), "version": version},
                    "edits": [{"range": convert::whole(&f.before), "newText": f.after}],
                }));
            }
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let _ = sender.send(Message::Request(Request::new(
                RequestId::from(format!("ploke/apply/{apply_id}")),
                lsp_types::request::ApplyWorkspaceEdit::METHOD.into(),
                serde_json::json!({
                    "label": format!("ploke: {request}"),
                    "edit": {"documentChanges": changes},
                }),
            )));
            Ok(serde_json::json!({"files": paths}))
        }
    }
}
