//! The index as a Model Context Protocol server, for coding agents (Claude Code, Cursor, Zed,
//! Codex, …), built on the official Rust SDK (`rmcp`).
//!
//! [`PlokeMcp`] is thin: every tool is a [`Session`] operation. The code-reading tools are the
//! ones a model gets inside `ploke ask` and `ploke edit` ([`Session::tool`], one
//! implementation); `get_context` is the context pack of `ploke context`; `index_status` is
//! [`Session::status`]. A tool that cannot answer (an unknown item, a file that is not
//! indexed, bad arguments) returns a tool error whose text says what to do instead; the server
//! keeps serving. Session calls are CPU work and run on tokio's blocking pool.
//!
//! With [`McpOptions::allow_edits`] the server also offers `replace_item`, `insert_item`,
//! `search_replace` and `undo`: [`Session::apply_edits`], the checks of `ploke edit`, the
//! diff as the answer.
//!
//! ```no_run
//! # async fn run(session: std::sync::Arc<ploke_session::Session>) {
//! ploke_mcp::serve_stdio(session, ploke_mcp::McpOptions::default()).await.unwrap();
//! # }
//! ```

use std::sync::Arc;

use ploke_session::{ContextRequest, DirectEdit, Edit, Event, SearchMode, SearchScope, Session};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
#[allow(deprecated)]
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};
use rmcp::service::{NotificationContext, Peer, RoleServer};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

/// Default and largest token budget of `get_context`.
const DEFAULT_BUDGET: usize = 6000;
const MAX_BUDGET: usize = 32_000;

/// Arguments of `search_code`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchArgs {
    /// What to look for: a change request, a description, or identifiers
    /// (`retry delay`, `Builder::enable_io`, `fn spawn_blocking`).
    pub query: String,
    /// Number of results (default 10, at most 50).
    pub k: Option<u32>,
    /// Signals to rank with: `hybrid` (default: BM25 + embeddings + code graph), `lexical` or
    /// `vector`.
    pub mode: Option<String>,
    /// Where to search: `workspace` (the default: the workspace's own items), `all` (also the
    /// dependencies indexed with it, which are read-only), a crate of either (`tokio`,
    /// `hyper_util`), a path prefix (`tokio::sync`), or a directory of the workspace
    /// (`crates/app/`).
    pub scope: Option<String>,
}

/// Arguments of the tools that take an item.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ItemArgs {
    /// Canonical path (`tokio::runtime::Builder::enable_io`) or a name (`Builder::enable_io`,
    /// `spawn`) as `search_code` shows it.
    pub path: String,
}

/// Arguments of `list_module`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ModuleArgs {
    /// Canonical path of the module (`tokio::runtime`); a crate name alone lists its root.
    pub path: String,
}

/// Arguments of `read_file_range`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FileRangeArgs {
    /// The file as results show it (relative to the workspace root).
    pub file: String,
    /// First line, 1-based.
    pub start_line: u32,
    /// Last line, inclusive.
    pub end_line: u32,
}

/// Arguments of `get_context`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ContextArgs {
    /// The change request or question, in plain language.
    pub request: String,
    /// Token budget of the whole pack (cl100k tokens; default 6000, at most 32000).
    pub budget: Option<u32>,
    /// Which items are ranked for the pack: `workspace` (the default), `all` (also the
    /// dependencies indexed with it, read-only), or one crate of either (`hyper`).
    pub scope: Option<String>,
    /// For a change: up to this many tests of each primary item (those that reach it in the
    /// fewest calls) join the pack. Default 0.
    pub tests: Option<usize>,
}

/// Arguments of `impact`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ImpactArgs {
    /// The item about to change: canonical path or name, as the search tools show it.
    pub path: String,
    /// Steps of dependence followed (default 6).
    pub depth: Option<u32>,
}

/// Arguments of `replace_item`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReplaceArgs {
    /// The item: canonical path or name, as the search tools show it.
    pub path: String,
    /// Its complete new source: exactly one item of the same kind, with the doc comments and
    /// attributes it should keep (they are part of the replaced text).
    pub code: String,
}

/// Arguments of `insert_item`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct InsertArgs {
    /// Where: a module or crate path, an impl (`impl Thing`, `crate::<impl Thing>`) or a trait.
    pub parent: String,
    /// The new item(s), with doc comments and attributes; added at the end of the parent.
    pub code: String,
}

/// Arguments of `search_replace`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SearchReplaceArgs {
    /// Workspace-relative path of an indexed Rust source file.
    pub file: String,
    /// Text that occurs exactly once in the file, whitespace included.
    pub search: String,
    /// What to put in its place.
    pub replace: String,
}

/// Arguments of `index_status` (none).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct NoArgs {}

/// The MCP server of one session.
#[derive(Clone)]
pub struct PlokeMcp {
    session: Arc<Session>,
    tool_router: ToolRouter<Self>,
    ready: Ready,
    peers: Peers,
}

/// Whether the index can be answered from: tools wait for it while the server indexes on
/// start. `Err` holds why indexing failed (every call then says so).
#[derive(Clone)]
pub struct Ready(tokio::sync::watch::Receiver<Option<Result<(), String>>>);

/// Says when the index is ready (or why it will not be).
pub struct SetReady(tokio::sync::watch::Sender<Option<Result<(), String>>>);

impl Ready {
    /// A pair: the server waits on [`Ready`], the code that indexes calls [`SetReady::set`].
    pub fn new() -> (SetReady, Ready) {
        let (tx, rx) = tokio::sync::watch::channel(None);
        (SetReady(tx), Ready(rx))
    }

    /// Ready from the start (the index exists and nothing runs before serving).
    pub fn now() -> Ready {
        let (set, ready) = Ready::new();
        set.set(Ok(()));
        ready
    }

    async fn wait(&self) -> Result<(), String> {
        let mut rx = self.0.clone();
        let state = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => return Err("the index was never built (the server is stopping)".into()),
        };
        state.unwrap_or(Ok(()))
    }
}

impl SetReady {
    pub fn set(&self, state: Result<(), String>) {
        let _ = self.0.send(Some(state));
    }
}

/// The clients connected to this server (HTTP serves several), for log notifications.
type Peers = Arc<std::sync::Mutex<Vec<Peer<RoleServer>>>>;

/// What the server may do.
#[derive(Clone)]
pub struct McpOptions {
    /// Offer the edit tools (`replace_item`, `insert_item`, `search_replace`, `undo`).
    pub allow_edits: bool,
    /// When the index can be answered from.
    pub ready: Ready,
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            allow_edits: false,
            ready: Ready::now(),
        }
    }
}

fn text(t: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(t)])
}

fn tool_error(t: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(t)])
}

impl PlokeMcp {
    /// A server answering from `session`; read-only unless `opts.allow_edits`.
    pub fn new(session: Arc<Session>, opts: McpOptions) -> PlokeMcp {
        PlokeMcp::with_peers(session, opts, Peers::default())
    }

    fn with_peers(session: Arc<Session>, opts: McpOptions, peers: Peers) -> PlokeMcp {
        let mut tool_router = Self::tool_router();
        if opts.allow_edits {
            tool_router += Self::edit_tools();
        }
        PlokeMcp {
            session,
            tool_router,
            ready: opts.ready,
            peers,
        }
    }

    /// Writes one edit through the session (all checks of `ploke edit`); the diff as answer.
    async fn edit(&self, edit: Edit) -> Result<CallToolResult, ErrorData> {
        self.blocking(move |s| {
            s.apply_edits(std::slice::from_ref(&edit), "an edit over MCP", false)
                .map(|d| render_edit(&d))
                .map_err(|e| s.redact(&e.to_string()))
        })
        .await
    }

    /// Runs `f` on the blocking pool; a session error or a panic becomes a tool error.
    async fn blocking(
        &self,
        f: impl FnOnce(&Session) -> Result<String, String> + Send + 'static,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(why) = self.ready.wait().await {
            return Ok(tool_error(format!("no index to answer from: {why}")));
        }
        let session = self.session.clone();
        let out = tokio::task::spawn_blocking(move || f(&session)).await;
        Ok(match out {
            Ok(Ok(t)) => text(t),
            Ok(Err(why)) => tool_error(why),
            Err(e) => tool_error(format!("internal error: {e}")),
        })
    }

    /// One of the session's read-only tools, by its name there.
    async fn agent_tool(
        &self,
        name: &'static str,
        args: serde_json::Value,
    ) -> Result<CallToolResult, ErrorData> {
        self.blocking(move |s| match s.tool(name, &args) {
            Ok(answer) => answer,
            Err(e) => Err(s.redact(&e.to_string())),
        })
        .await
    }
}

#[tool_router]
impl PlokeMcp {
    #[tool(
        description = "Find the code a request is about: items (functions, methods, types, traits, impls, modules) of the Rust workspace ranked by BM25 over names, paths, signatures, docs and bodies, embeddings, and the code graph (callers, callees, members). One line per item: kind, canonical path, file:start-end. Use the path with get_item, callers, callees or implementations. The workspace's items by default; scope `all` (or a crate name) also searches the dependencies indexed with `ploke index --deps`, which are read-only.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn search_code(
        &self,
        Parameters(a): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let mut args = json!({ "query": a.query, "k": a.k.unwrap_or(10) });
        if let Some(mode) = a.mode {
            args["mode"] = json!(mode);
        }
        if let Some(scope) = a.scope {
            args["scope"] = json!(scope);
        }
        self.agent_tool("search_code", args).await
    }

    #[tool(
        description = "A token-budgeted context pack for a change request or question: the best-ranked items as exact source, then outlines of their callers, callees, types, traits and implementations, each with file, lines and why it is there. Markdown. Use it first for a broad request; use search_code and get_item for narrow look-ups. Ranks the workspace's items unless `scope` says `all` or a crate.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_context(
        &self,
        Parameters(a): Parameters<ContextArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let budget = (a.budget.map_or(DEFAULT_BUDGET, |b| b as usize)).clamp(500, MAX_BUDGET);
        self.blocking(move |s| {
            let scope = match a.scope.as_deref().map(str::trim) {
                None | Some("") => SearchScope::Workspace,
                Some(s) => s.parse()?,
            };
            s.context(&ContextRequest {
                request: a.request,
                budget,
                mode: SearchMode::Hybrid,
                scope,
                tests: a.tests.unwrap_or(0),
            })
            .map(|p| p.to_markdown())
            .map_err(|e| s.redact(&e.to_string()))
        })
        .await
    }

    #[tool(
        description = "The source of one item (function, method, type, trait, impl, module) with its file and lines. Takes a canonical path or a name; an ambiguous or unknown name gets the candidates.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn get_item(
        &self,
        Parameters(a): Parameters<ItemArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.agent_tool("get_item", json!({ "path": a.path })).await
    }

    #[tool(
        description = "The functions and methods that call an item, resolved through the module tree and imports (not text matches), with the line of each call.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn callers(
        &self,
        Parameters(a): Parameters<ItemArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.agent_tool("get_callers", json!({ "path": a.path }))
            .await
    }

    #[tool(
        description = "The functions and methods an item calls, with the line of each call.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn callees(
        &self,
        Parameters(a): Parameters<ItemArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.agent_tool("get_callees", json!({ "path": a.path }))
            .await
    }

    #[tool(
        description = "The impl blocks of a trait (who implements it), or the impl blocks for a type (which traits it implements and its inherent impls).",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn implementations(
        &self,
        Parameters(a): Parameters<ItemArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.agent_tool("find_implementations", json!({ "path": a.path }))
            .await
    }

    #[tool(
        description = "The items a module contains, one line each with its signature: an outline of a module or crate root.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn list_module(
        &self,
        Parameters(a): Parameters<ModuleArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.agent_tool("list_module", json!({ "path": a.path }))
            .await
    }

    #[tool(
        description = "Lines of an indexed source file of the workspace (1-based, inclusive), as the index holds them. Only files the index holds can be read.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn read_file_range(
        &self,
        Parameters(a): Parameters<FileRangeArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.agent_tool(
            "read_file_range",
            json!({ "file": a.file, "start_line": a.start_line, "end_line": a.end_line }),
        )
        .await
    }

    #[tool(
        description = "Where the index stands: workspace, generation, indexed files and items, how many items have embeddings, and whether the index follows file changes live.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn index_status(
        &self,
        Parameters(_): Parameters<NoArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.blocking(|s| {
            s.status()
                .map_err(|e| s.redact(&e.to_string()))
                .and_then(|st| serde_json::to_string_pretty(&st).map_err(|e| e.to_string()))
        })
        .await
    }

    #[tool(
        description = "Before changing an item: what depends on it (callers, implementors, users of its type, re-exports, through trait dispatch), nearest first, and the tests that reach it through calls with the `cargo test` arguments that run only them. JSON.",
        annotations(read_only_hint = true, open_world_hint = false)
    )]
    async fn impact(
        &self,
        Parameters(a): Parameters<ImpactArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.blocking(move |s| {
            s.impact(&a.path, a.depth.unwrap_or(6).min(20))
                .map_err(|e| s.redact(&e.to_string()))
                .and_then(|r| serde_json::to_string_pretty(&r).map_err(|e| e.to_string()))
        })
        .await
    }
}

#[tool_router(router = edit_tools)]
impl PlokeMcp {
    #[tool(
        description = "Replace one item (function, method, type, impl, …) by new source. The item is found by canonical path or name at its current location; `code` must be exactly one item of the same kind and parse. Refused: files the index does not hold, stale or ambiguous targets, paths outside the workspace. Written atomically, journaled (undo reverts it), re-indexed; the answer is the diff.",
        annotations(
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn replace_item(
        &self,
        Parameters(a): Parameters<ReplaceArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.edit(Edit::ReplaceItem {
            path: a.path,
            code: a.code,
        })
        .await
    }

    #[tool(
        description = "Add new items at the end of a module, an impl block or a trait. Same checks as replace_item; the answer is the diff.",
        annotations(
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn insert_item(
        &self,
        Parameters(a): Parameters<InsertArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.edit(Edit::InsertItem {
            parent: a.parent,
            code: a.code,
        })
        .await
    }

    #[tool(
        description = "Replace text that occurs exactly once in an indexed Rust source file (for changes that are not whole items). The result must parse. The answer is the diff.",
        annotations(
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn search_replace(
        &self,
        Parameters(a): Parameters<SearchReplaceArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        self.edit(Edit::SearchReplace {
            file: a.file,
            search: a.search,
            replace: a.replace,
        })
        .await
    }

    #[tool(
        description = "Revert the newest edit (made here or by `ploke edit`) byte for byte; refused, changing nothing, if one of its files changed since.",
        annotations(
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn undo(&self, Parameters(_): Parameters<NoArgs>) -> Result<CallToolResult, ErrorData> {
        self.blocking(|s| {
            s.undo()
                .map(|u| format!("undid edit {}: {}", u.entry, u.files.join(", ")))
                .map_err(|e| s.redact(&e.to_string()))
        })
        .await
    }
}

/// An applied edit as an answer: the journal entry and each file's diff.
fn render_edit(d: &DirectEdit) -> String {
    let mut out = format!("applied edit {} (undo reverts it)\n", d.entry);
    for f in &d.files {
        out.push_str(&f.diff);
        if !f.diff.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for PlokeMcp {
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(context.peer);
    }

    // Logging: see `forward_events`.
    #[allow(deprecated)]
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
        .with_server_info(Implementation::new("ploke", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "ploke indexes this Rust workspace into a code graph (items, calls, impls, \
                 imports resolved through the module tree). Start a broad task with \
                 get_context or search_code; follow up with get_item, callers, callees, \
                 implementations and list_module on the canonical paths they return.",
        )
    }
}

/// Sends the session's progress and warnings to every connected client as MCP log
/// notifications (`notifications/message`, logger `ploke`): indexing stages, warnings,
/// live updates, embedding. Per-item progress is left out. (Logging is deprecated from the
/// 2026-07-28 protocol revision on, SEP-2577; clients of earlier revisions, today's agents,
/// show these messages.)
#[allow(deprecated)]
fn forward_events(session: &Session, peers: Peers) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(256);
    session.subscribe(Arc::new(move |ev: &Event| {
        if !matches!(ev, Event::Progress { .. }) {
            // A full channel drops the event rather than stall the indexer.
            let _ = tx.try_send(ev.clone());
        }
    }));
    tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            let level = match ev {
                Event::Warning { .. } => LoggingLevel::Warning,
                _ => LoggingLevel::Info,
            };
            let data = serde_json::to_value(&ev).unwrap_or_default();
            let now: Vec<Peer<RoleServer>> =
                peers.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let mut gone = Vec::new();
            for (i, p) in now.iter().enumerate() {
                let mut param = LoggingMessageNotificationParam::new(level, data.clone());
                param.logger = Some("ploke".into());
                if p.notify_logging_message(param).await.is_err() {
                    gone.push(i);
                }
            }
            if !gone.is_empty() {
                // Only this task removes; others append: the indices still hold.
                let mut all = peers.lock().unwrap_or_else(|e| e.into_inner());
                for i in gone.into_iter().rev() {
                    all.remove(i);
                }
            }
        }
    });
}

/// Serves `session` over streamable HTTP at `http://ADDR/mcp` (one server that several
/// clients share) until Ctrl-C. `bound` is told the address actually bound (for port 0).
/// Only loopback `Host`s are accepted (rmcp's protection against DNS rebinding).
pub async fn serve_http(
    session: Arc<Session>,
    opts: McpOptions,
    addr: std::net::SocketAddr,
    bound: impl FnOnce(std::net::SocketAddr),
) -> Result<(), Box<dyn std::error::Error>> {
    use rmcp::transport::streamable_http_server::{
        session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
    };
    let config = StreamableHttpServerConfig::default();
    let stop = config.cancellation_token.clone();
    let peers = Peers::default();
    forward_events(&session, peers.clone());
    let service: StreamableHttpService<PlokeMcp, LocalSessionManager> = StreamableHttpService::new(
        move || {
            Ok(PlokeMcp::with_peers(
                session.clone(),
                opts.clone(),
                peers.clone(),
            ))
        },
        Default::default(),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    bound(listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
        })
        .await?;
    Ok(())
}

/// Serves `session` over stdin/stdout until the client closes the connection.
pub async fn serve_stdio(
    session: Arc<Session>,
    opts: McpOptions,
) -> Result<(), Box<dyn std::error::Error>> {
    let peers = Peers::default();
    forward_events(&session, peers.clone());
    let server = PlokeMcp::with_peers(session, opts, peers)
        .serve(rmcp::transport::stdio())
        .await?;
    server.waiting().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::PlokeMcp;

    /// The tool's argument schema, as clients see it.
    fn schema(tool: &str) -> serde_json::Value {
        let t = PlokeMcp::tool_router()
            .list_all()
            .into_iter()
            .find(|t| t.name == tool)
            .unwrap_or_else(|| panic!("no tool {tool}"));
        serde_json::Value::Object((*t.input_schema).clone())
    }

    #[test]
    fn search_and_context_take_a_documented_scope() {
        for tool in ["search_code", "get_context"] {
            let s = schema(tool);
            let scope = &s["properties"]["scope"];
            let doc = scope["description"].as_str().unwrap_or_default();
            assert!(
                doc.contains("`workspace`") && doc.contains("`all`") && doc.contains("crate"),
                "{tool}: {s}"
            );
            let required = s["required"].as_array().cloned().unwrap_or_default();
            assert!(!required.contains(&"scope".into()), "{tool}: optional: {s}");
        }
    }
}
