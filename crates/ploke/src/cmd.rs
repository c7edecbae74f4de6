//! Each command: open a session, call one operation, render its result.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use ploke_session::{
    AskEvent, AskRequest, ContextRequest, EditOptions, Environment, Event, IndexRequest,
    OpenOptions, Overrides, Refresh, SearchRequest, Session, SessionError,
};

use crate::cli::{Cli, Command, Fresh, LlmFlags, Location};
use crate::render::{files_line, paint, shown_path, style, Places, TerminalEvents};

fn init_logging(ui: &Ui) {
    let level = match (ui.quiet, ui.verbose) {
        (true, _) => "error",
        (_, 0) => "warn",
        (_, 1) => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLOKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Escape codes only to a terminal that wants colour: never into a log file.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(crate::render::stderr_colored())
        .with_writer(std::io::stderr)
        .try_init();
}

/// How a command that ran went: its exit status is 0 or 1 (errors are 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Found what was asked for, or did it.
    Found,
    /// Nothing found (search, item), or nothing done (edit, undo); said on stderr.
    Nothing,
}

/// What every command shows besides its results.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    pub verbose: u8,
    /// Results and errors only.
    pub quiet: bool,
}

impl Ui {
    /// A note on stderr (not with --quiet).
    fn note(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            crate::render::note(msg);
        }
    }

    /// A warning on stderr (not with --quiet).
    fn warn(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            crate::render::warning(msg);
        }
    }

    /// The terminal events of a session: progress bars unless `json`/quiet.
    fn events(&self, bars: bool) -> TerminalEvents {
        TerminalEvents::new(self.verbose, self.quiet, !bars || self.quiet)
    }
}

/// Runs the command.
pub fn run(cli: Cli, env: &Environment) -> anyhow::Result<Outcome> {
    let ui = Ui {
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    init_logging(&ui);
    match cli.command {
        Command::Index {
            loc,
            rebuild,
            json,
            no_embed,
            no_wait,
            deps,
            embed_deps,
        } => index(
            &where_(&loc, None)?,
            env,
            rebuild,
            json,
            !no_embed,
            no_wait,
            deps,
            embed_deps,
            &ui,
        ),
        Command::Watch {
            loc,
            no_embed,
            json,
        } => watch(&where_(&loc, None)?, env, !no_embed, json, &ui),
        Command::Mcp {
            loc,
            no_embed,
            allow_edits,
            http,
        } => mcp(&where_(&loc, None)?, env, !no_embed, allow_edits, http, &ui),
        Command::Lsp { loc, no_embed } => lsp(&where_(&loc, None)?, env, !no_embed, &ui),
        Command::Gui { loc, llm, no_embed } => {
            // The front end opens the workspace on its own threads (creating and indexing
            // it when needed).
            let overrides = Overrides {
                no_embed,
                ..llm_overrides(&llm)
            };
            gui(options(
                &where_(&loc, None)?,
                env,
                overrides,
                true,
                "ploke gui",
            ))
        }
        Command::Tui { loc, llm, no_embed } => {
            let overrides = Overrides {
                no_embed,
                ..llm_overrides(&llm)
            };
            ploke_tui::run(options(
                &where_(&loc, None)?,
                env,
                overrides,
                true,
                "ploke tui",
            ))?;
            Ok(Outcome::Found)
        }
        Command::Search {
            query,
            loc,
            fresh,
            limit,
            json,
            batch,
            mode,
            scope,
            rank_params,
        } => {
            let at = match (&batch, &query) {
                (Some(_), Some(q)) => bail!(
                    "give a QUERY or --batch FILE, not both (`{q}` would be ignored); with --batch give the workspace as --path"
                ),
                (None, None) => bail!("give a QUERY (quoted if several words), or --batch FILE"),
                (Some(_), None) => where_(&loc, None)?,
                (None, Some(q)) => where_(&loc, Some(("search", q)))?,
            };
            search(
                &at,
                env,
                fresh,
                query,
                limit,
                json,
                batch,
                mode,
                &scope.scope(),
                rank_params,
                &ui,
            )
        }
        Command::Context {
            request,
            loc,
            fresh,
            budget,
            json,
            mode,
            scope,
            tests,
        } => context(
            &where_(&loc, Some(("context", &request)))?,
            env,
            fresh,
            ContextRequest {
                request: request.clone(),
                budget,
                mode,
                scope: scope.scope(),
                tests,
            },
            json,
            &ui,
        ),
        Command::Ask {
            request,
            loc,
            fresh,
            llm,
            budget,
            max_steps,
            no_tools,
        } => ask(
            &where_(&loc, Some(("ask", &request)))?,
            env,
            fresh,
            &llm,
            request,
            budget,
            max_steps,
            no_tools,
            &ui,
        ),
        Command::Edit {
            request,
            loc,
            fresh,
            llm,
            budget,
            max_steps,
            yes,
            check,
            test,
            repair_rounds,
            allow_build_scripts,
        } => edit(
            &where_(&loc, Some(("edit", &request)))?,
            env,
            fresh,
            &llm,
            &request,
            EditOptions {
                budget,
                max_steps,
                repair_rounds,
                allow_build_scripts,
            },
            yes,
            Check { check, test },
            &ui,
        ),
        Command::Undo { loc } => undo(&where_(&loc, None)?, env, &ui),
        Command::Item {
            target,
            loc,
            fresh,
            json,
            all,
        } => item(
            &where_(&loc, Some(("item", &target)))?,
            env,
            fresh,
            &target,
            json,
            all,
            &ui,
        ),
        Command::Status { loc, json } => status(&where_(&loc, None)?, env, json, &ui),
        Command::Cache { action } => crate::cache::run(action),
        Command::Impact {
            target,
            diff,
            depth,
            loc,
            fresh,
            json,
        } => {
            let at = where_(&loc, target.as_deref().map(|t| ("impact", t)))?;
            let session = open(&at, env, Overrides::default(), false, "ploke impact")?;
            refresh(&session, fresh, false, &ui);
            crate::analyze::ready(&session)?;
            crate::analyze::impact(&session, target.as_deref(), diff.as_deref(), depth, json)
        }
        Command::Analyze {
            what,
            loc,
            fresh,
            json,
        } => {
            let at = where_(&loc, None)?;
            let session = open(&at, env, Overrides::default(), false, "ploke analyze")?;
            refresh(&session, fresh, false, &ui);
            crate::analyze::ready(&session)?;
            crate::analyze::run(&session, what, json, env)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut cmd, "ploke", &mut out);
            out.flush()?;
            Ok(Outcome::Found)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
            Ok(Outcome::Found)
        }
    }
}

/// Where the workspace is: `[PATH]` (after the command's text) or `--path`, and `--db`.
/// Words after PATH, or a PATH that does not exist after a command's text, are most likely
/// a query of several words without quotes: refused with the command that works.
struct Where {
    path: PathBuf,
    db: Option<PathBuf>,
}

fn where_(loc: &Location, text: Option<(&str, &str)>) -> anyhow::Result<Where> {
    let stray = match (&loc.positional, loc.extra.first()) {
        (_, Some(_)) => true,
        (Some(p), None) => text.is_some() && !p.exists(),
        (None, None) => false,
    };
    if stray {
        let words: Vec<String> = loc
            .positional
            .iter()
            .map(|p| p.display().to_string())
            .chain(loc.extra.iter().cloned())
            .collect();
        match text {
            Some((cmd, text)) => bail!(
                "`{}` is not a file or directory; quote several words to make one argument: ploke {cmd} \"{text} {}\"",
                words[0],
                words.join(" ")
            ),
            None => bail!(
                "unexpected argument `{}`: give one PATH (or --path PATH)",
                words.last().map(String::as_str).unwrap_or("")
            ),
        }
    }
    Ok(Where {
        path: loc
            .positional
            .clone()
            .or_else(|| loc.path.clone())
            .unwrap_or_else(|| PathBuf::from(".")),
        db: loc.db.clone(),
    })
}

/// Opens the session at `at`; `create` for commands that write the index.
fn open(
    at: &Where,
    env: &Environment,
    overrides: Overrides,
    create: bool,
    holder: &str,
) -> Result<Session, SessionError> {
    Session::open(&options(at, env, overrides, create, holder))
}

fn options(
    at: &Where,
    env: &Environment,
    overrides: Overrides,
    create: bool,
    holder: &str,
) -> OpenOptions {
    let mut opts = OpenOptions::new(at.path.clone());
    opts.db = at.db.clone();
    opts.env = env.clone();
    opts.overrides = overrides;
    opts.create = create;
    opts.holder = holder.to_string();
    opts
}

/// Brings the index up to date with the files before answering (unless --no-refresh), and
/// says so when it did something.
fn refresh(session: &Session, fresh: Fresh, embed: bool, ui: &Ui) {
    if fresh.no_refresh {
        return;
    }
    match session.refresh(embed) {
        Ok(Refresh::Current) => {}
        Ok(Refresh::Reindexed { files, whole, ms }) => {
            let what = if whole && files.is_empty() {
                "the workspace".to_string()
            } else {
                format!(
                    "{} ({})",
                    count(files.len(), "changed file", "changed files"),
                    files_line(&files, 3)
                )
            };
            ui.note(format!(
                "re-indexed {what} in {} (--no-refresh answers from the stored index)",
                duration(ms)
            ))
        }
        Ok(Refresh::Followed { holder, ms }) => ui.note(format!(
            "{holder} keeps this index live; waited {} for it to index the changed files",
            duration(ms)
        )),
        Ok(Refresh::Behind { holder, files }) => ui.warn(format!(
            "{holder} keeps this index live and has not indexed {} yet; answering from the stored index",
            count(files, "changed file", "changed files")
        )),
        Err(e) => ui.warn(format!(
            "could not bring the index up to date ({}); answering from the stored index",
            session.redact(&e.to_string())
        )),
    }
}

fn llm_overrides(f: &LlmFlags) -> Overrides {
    Overrides {
        provider: f.provider.clone(),
        model: f.model.clone(),
        base_url: f.base_url.clone(),
        no_embed: false,
    }
}

/// Buffered stdout that colours (or strips colour) as `--color` and the terminal say.
pub(crate) fn stdout() -> std::io::BufWriter<anstream::AutoStream<std::io::StdoutLock<'static>>> {
    std::io::BufWriter::new(anstream::stdout().lock())
}

/// `n` and the noun in the right number: `1 file`, `7 files`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A duration for people: `34 ms`, `1.25 s`.
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// A rate with as many digits as it deserves: `0.83`, `12.5`, `431`.
pub fn rate(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Every JSON document ploke prints carries the schema version of its results.
pub(crate) fn with_schema(v: serde_json::Value) -> serde_json::Value {
    let mut doc = serde_json::Map::new();
    doc.insert(
        "schema".into(),
        serde_json::json!(ploke_session::results::SCHEMA_VERSION),
    );
    match v {
        serde_json::Value::Object(m) => doc.extend(m),
        other => {
            doc.insert("value".into(), other);
        }
    }
    serde_json::Value::Object(doc)
}

#[allow(clippy::too_many_arguments)]
fn index(
    at: &Where,
    env: &Environment,
    rebuild: bool,
    json: bool,
    embed: bool,
    no_wait: bool,
    deps: Option<ploke_session::DepsScope>,
    embed_deps: bool,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let mut opts = options(at, env, overrides, true, "ploke index");
    opts.rebuild = rebuild;
    let session = Session::open(&opts)?;
    let events = ui.events(!json);
    session.subscribe(events.sink());
    let summary = session.index(&IndexRequest {
        rebuild,
        embed,
        wait: no_wait.then_some(std::time::Duration::ZERO),
        deps,
        embed_deps,
    });
    events.finish();
    let summary = summary?;
    let mut out = stdout();
    let embed_json = match (&summary.embed, embed, session.settings().embed.is_some()) {
        (_, false, _) => serde_json::Value::Null,
        (_, true, false) => serde_json::json!({"off": true}),
        (Some(e), _, _) => serde_json::to_value(e)?,
        (None, _, _) => serde_json::json!({"error": "the embedding model could not be loaded"}),
    };
    let embed_ms = summary
        .embed
        .as_ref()
        .map(|e| e.stats.seconds * 1000.0)
        .unwrap_or(0.0);
    let total_ms: f64 = summary.stages_ms.iter().map(|(_, ms)| ms).sum::<f64>() + embed_ms;
    if json {
        let v = serde_json::json!({
            "workspace": summary.workspace,
            "db": summary.db,
            "packages": summary.packages,
            "targets": summary.targets,
            "files": summary.files,
            "lines": summary.lines,
            "items": summary.items,
            "edges": summary.edges,
            "unresolved": summary.unresolved,
            "parsed_files": summary.parsed_files,
            "delta_rows": summary.delta_rows,
            "generation": summary.generation,
            "skipped": summary.problems,
            "orphan_files": summary.orphan_files,
            "warnings": summary.warnings,
            "embed": embed_json,
            "dependencies": summary.deps,
            "embed_dependencies": summary.embed_deps,
            "stages_ms": summary.stages_ms.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "total_ms": total_ms,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&with_schema(v))?)?;
        out.flush()?;
        return Ok(Outcome::Found);
    }
    if ui.quiet {
        return Ok(Outcome::Found);
    }
    // Published crates often declare examples/tests/benches they do not ship: a handful of
    // warnings is worth showing, a wall of them is not.
    const SHOWN_WARNINGS: usize = 3;
    let shown = if ui.verbose > 0 {
        summary.warnings.len()
    } else {
        SHOWN_WARNINGS
    };
    for w in summary.warnings.iter().take(shown) {
        ui.warn(w);
    }
    if summary.warnings.len() > shown {
        ui.warn(format!(
            "… and {} more (-v shows them all)",
            summary.warnings.len() - shown
        ));
    }
    let root = PathBuf::from(&summary.workspace);
    writeln!(
        out,
        "indexed {} ({}, {}, {}, {}) into {}",
        paint(style::FILE, shown_path(&root, "")),
        count(summary.packages, "package", "packages"),
        count(summary.targets, "target", "targets"),
        count(summary.files, "file", "files"),
        count(summary.lines as usize, "line", "lines"),
        paint(
            style::FILE,
            shown_path(&root, &relative_to(&root, &summary.db))
        ),
    )?;
    writeln!(
        out,
        "  {}, {}, {}; {} parsed, {} written",
        count(summary.items, "item", "items"),
        count(summary.edges, "edge", "edges"),
        count(
            summary.unresolved,
            "unresolved reference",
            "unresolved references"
        ),
        count(summary.parsed_files, "file", "files"),
        count(summary.delta_rows, "row", "rows"),
    )?;
    let mut stages: Vec<String> = summary
        .stages_ms
        .iter()
        .map(|(n, ms)| format!("{n} {}", duration(*ms)))
        .collect();
    if summary.embed.is_some() {
        stages.push(format!("embed {}", duration(embed_ms)));
    }
    writeln!(out, "  time {}: {}", duration(total_ms), stages.join(", "))?;
    if let Some(d) = summary
        .deps
        .as_ref()
        .filter(|d| d.crates > 0 || !d.missing.is_empty())
    {
        writeln!(
            out,
            "  dependencies: {} attached read-only ({} built, {} from the cache at {}), {}",
            count(d.crates, "crate", "crates"),
            d.built,
            d.crates - d.built,
            ploke_session::default_cache_dir().display(),
            count(d.items, "item", "items"),
        )?;
        if !d.missing.is_empty() {
            ui.warn(format!(
                "{} not on disk, skipped: {}{}",
                count(d.missing.len(), "dependency is", "dependencies are"),
                d.missing.join(", "),
                d.fetch_hint
                    .as_ref()
                    .map(|h| format!("; `{h}` brings them"))
                    .unwrap_or_default()
            ));
        }
    }
    if embed {
        match &summary.embed {
            Some(e) => writeln!(
                out,
                "  embedded {} with {} ({} items/s; {} unchanged, {} stale removed)",
                count(e.stats.embedded, "item", "items"),
                e.model,
                rate(e.items_per_s),
                e.stats.reused,
                e.stats.removed
            )?,
            None if session.settings().embed.is_none() => {
                writeln!(out, "  embeddings off (PLOKE_EMBED=off)")?
            }
            None => {}
        }
    }
    if let Some(e) = &summary.embed_deps {
        writeln!(
            out,
            "  embedded {} of the dependencies with {} ({} items/s; {} unchanged)",
            count(e.stats.embedded, "item", "items"),
            e.model,
            rate(e.items_per_s),
            e.stats.reused,
        )?;
    }
    if !summary.problems.is_empty() {
        writeln!(
            out,
            "  {} (the rest was indexed):",
            count(summary.problems.len(), "problem", "problems")
        )?;
        for s in &summary.problems {
            writeln!(out, "    {s}")?;
        }
    }
    if !summary.orphan_files.is_empty() {
        writeln!(
            out,
            "  {} not in any target's module tree (not indexed){}",
            count(summary.orphan_files.len(), ".rs file is", ".rs files are"),
            if ui.verbose > 0 {
                ":"
            } else {
                "; -v lists them"
            }
        )?;
        if ui.verbose > 0 {
            for f in &summary.orphan_files {
                writeln!(out, "    {}", shown_path(&root, f))?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Found)
}

/// `path` relative to `root` when it lies inside, else as it is.
fn relative_to(root: &Path, path: &str) -> String {
    Path::new(path)
        .strip_prefix(root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

fn watch(
    at: &Where,
    env: &Environment,
    embed: bool,
    json: bool,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let session = Arc::new(open(at, env, overrides, true, "ploke watch")?);
    let events = ui.events(!json);
    session.subscribe(events.sink());
    let root = session.location().root.clone();
    let quiet = ui.quiet;
    // One line per update on stdout.
    session.subscribe(Arc::new(move |ev: &Event| {
        let line = match ev {
            Event::Updated(_) | Event::Embedded { .. } if json => match serde_json::to_value(ev) {
                Ok(v) => with_schema(v).to_string(),
                Err(_) => return,
            },
            _ if quiet => return,
            Event::Updated(u) => {
                let files: Vec<String> = u.files.iter().map(|f| shown_path(&root, f)).collect();
                let list = if files.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", files_line(&files, 3))
                };
                format!(
                    "generation {}: {}{list}, {} changed, {}",
                    u.generation,
                    count(u.files.len(), "file", "files"),
                    count(u.items, "item", "items"),
                    duration(u.ms)
                )
            }
            Event::Embedded { items, ms } => format!(
                "  embedded {} in {}",
                count(*items, "item", "items"),
                duration(*ms)
            ),
            _ => return,
        };
        let mut out = anstream::stdout().lock();
        // A closed stdout ends nothing here; Ctrl-C does.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let handle = session.watch(ploke_session::LiveOptions {
            embed,
            ..ploke_session::LiveOptions::default()
        })?;
        events.finish();
        if !ui.quiet {
            eprintln!(
                "watching {} (Ctrl-C stops)",
                session.location().root.display()
            );
        }
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        if !ui.quiet {
            eprintln!("stopping…");
        }
        tokio::task::block_in_place(|| handle.stop());
        anyhow::Ok(())
    })?;
    Ok(Outcome::Found)
}

/// `ploke mcp`: the session served over MCP on stdio. stdout carries only the protocol;
/// progress and warnings go to stderr, which MCP clients show as the server's log.
fn mcp(
    at: &Where,
    env: &Environment,
    embed: bool,
    allow_edits: bool,
    http: Option<std::net::SocketAddr>,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let session = Arc::new(open(at, env, overrides, true, "ploke mcp")?);
    let events = ui.events(false);
    session.subscribe(events.sink());
    let quiet = ui.quiet;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Serve at once; index (and keep the index live) meanwhile: tools wait until it is
        // ready, progress goes to the clients as log messages. When another `ploke watch`
        // or `ploke mcp` keeps the index live already, answer from that one's index.
        let (set_ready, ready) = ploke_mcp::Ready::new();
        let live = keep_live(
            &tokio::runtime::Handle::current(),
            &session,
            embed,
            move |r| set_ready.set(r),
        );
        let opts = ploke_mcp::McpOptions { allow_edits, ready };
        let root = session.location().root.display().to_string();
        let served = match http {
            Some(addr) => ploke_mcp::serve_http(session.clone(), opts, addr, |at| {
                if !quiet {
                    eprintln!("ploke mcp: serving {root} at http://{at}/mcp (Ctrl-C stops)")
                }
            })
            .await
            .map_err(|e| anyhow::anyhow!("MCP server on {addr}: {e}")),
            None => {
                if !quiet {
                    eprintln!("ploke mcp: serving {root} on stdio");
                }
                ploke_mcp::serve_stdio(session.clone(), opts)
                    .await
                    .map_err(|e| anyhow::anyhow!("MCP server: {e}"))
            }
        };
        // Stops the live index (when it started).
        drop(live.await);
        events.finish();
        served
    })?;
    Ok(Outcome::Found)
}

/// For a server (`ploke mcp`, `ploke lsp`): keeps the index live on `rt`'s blocking pool, or
/// follows the process that does (waiting up to 5 minutes for its index); `started` hears
/// whether that worked, an error is printed once. The task's handle stops the live index
/// when dropped.
fn keep_live(
    rt: &tokio::runtime::Handle,
    session: &Arc<Session>,
    embed: bool,
    started: impl FnOnce(Result<(), String>) + Send + 'static,
) -> tokio::task::JoinHandle<Option<ploke_session::WatchHandle>> {
    let session = session.clone();
    rt.spawn_blocking(move || {
        let live = session.watch_or_follow(
            ploke_session::LiveOptions {
                embed,
                ..ploke_session::LiveOptions::default()
            },
            std::time::Duration::from_secs(300),
        );
        match live {
            Ok(handle) => {
                started(Ok(()));
                handle
            }
            Err(e) => {
                crate::render::error(&e);
                started(Err(e.to_string()));
                None
            }
        }
    })
}

#[cfg(feature = "gui")]
fn gui(opts: OpenOptions) -> anyhow::Result<Outcome> {
    ploke_gui::run(opts)?;
    Ok(Outcome::Found)
}

#[cfg(not(feature = "gui"))]
fn gui(_: OpenOptions) -> anyhow::Result<Outcome> {
    bail!("this ploke was built without its GUI (the `gui` feature): build it with `cargo install --path crates/ploke --features gui`, or use `ploke tui`")
}

/// `ploke lsp`: the session served as a Language Server on stdio. stdout carries only the
/// protocol; the index is kept live meanwhile (or followed, when another process keeps it).
fn lsp(at: &Where, env: &Environment, embed: bool, ui: &Ui) -> anyhow::Result<Outcome> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let session = Arc::new(open(at, env, overrides, true, "ploke lsp")?);
    let events = ui.events(false);
    session.subscribe(events.sink());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // The live index needs the runtime (its watcher); requests are answered on this thread.
    let live = keep_live(rt.handle(), &session, embed, |_| {});
    let (conn, transport) = ploke_lsp::transport::stdio();
    let served = ploke_lsp::serve(session.clone(), conn, ploke_lsp::LspOptions::default());
    transport.join();
    // Stops the live index (when it started).
    drop(rt.block_on(live));
    events.finish();
    served.map_err(|e| anyhow::anyhow!("LSP server: {e}"))?;
    Ok(Outcome::Found)
}

#[allow(clippy::too_many_arguments)]
fn search(
    at: &Where,
    env: &Environment,
    fresh: Fresh,
    query: Option<String>,
    limit: usize,
    json: bool,
    batch: Option<PathBuf>,
    mode: ploke_retrieve::Mode,
    scope: &ploke_retrieve::Scope,
    rank_params: Option<String>,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let session = open(at, env, Overrides::default(), false, "ploke search")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    if let Some(p) = &rank_params {
        let params = serde_json::from_str(p)
            .context("--rank-params: not a JSON object of ranking parameters")?;
        session.set_rank_params(Some(params));
    }
    let embeds = mode != ploke_retrieve::Mode::Lexical;
    let mut out = stdout();
    if let Some(batch) = &batch {
        let queries = read_batch(batch)?;
        refresh(&session, fresh, embeds, ui);
        let texts: Vec<String> = queries.iter().map(|(_, q)| q.clone()).collect();
        let results = session.search_batch(&texts, limit, mode, scope)?;
        let mut found = false;
        for ((id, _), hits) in queries.iter().zip(results) {
            found |= !hits.is_empty();
            let results: Vec<_> = hits.iter().map(hit_json).collect();
            writeln!(
                out,
                "{}",
                with_schema(serde_json::json!({ "id": id, "results": results }))
            )?;
        }
        out.flush()?;
        return Ok(if found {
            Outcome::Found
        } else {
            Outcome::Nothing
        });
    }
    let query = query.unwrap_or_default();
    refresh(&session, fresh, embeds, ui);
    let hits = session.search(&SearchRequest {
        query: query.clone(),
        k: limit,
        mode,
        scope: scope.clone(),
    })?;
    if json {
        let v: Vec<_> = hits.iter().map(hit_json).collect();
        let doc = with_schema(serde_json::json!({"query": query, "results": v}));
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        let root = &session.location().root;
        let mut places = Places::default();
        let kind_width = hits.iter().map(|h| h.item.kind.len()).max().unwrap_or(0);
        for h in &hits {
            writeln!(
                out,
                "{}  {}  {}  {}",
                paint(style::SCORE, format!("{:>6.3}", h.score)),
                paint(style::KIND, format!("{:<kind_width$}", h.item.kind)),
                paint(style::PATH, &h.item.path),
                places.at(root, &h.item.file, h.item.start_line),
            )?;
        }
    }
    out.flush()?;
    if hits.is_empty() {
        if !json {
            ui.note(format!("no results for {query:?}"));
        }
        return Ok(Outcome::Nothing);
    }
    Ok(Outcome::Found)
}

/// A search result as one JSON object: the benchmark's result format (file, name, lines)
/// plus kind, path, id, score and why (signals), package and crate. `file` is relative to the
/// workspace root, `package_file` to the package's directory; a dependency's item has an
/// absolute `file`, `"dependency": true` and its `version`.
fn hit_json(h: &ploke_session::SearchHit) -> serde_json::Value {
    let mut v = serde_json::json!({
        "id": h.item.id,
        "package_file": h.package_file,
        "signals": h.signals,
        "file": h.item.file,
        "name": h.item.name,
        "kind": h.item.kind,
        "path": h.item.path,
        "package": h.item.package,
        "crate": h.item.crate_name,
        "start_line": h.item.start_line,
        "end_line": h.item.end_line,
        "score": ((h.score as f64) * 1000.0).round() / 1000.0,
    });
    if h.item.dependency {
        v["dependency"] = serde_json::json!(true);
        v["version"] = serde_json::json!(h.item.version);
    }
    v
}

/// Reads `{"id", "query"}` JSON lines from `path` (`-`: stdin).
fn read_batch(path: &Path) -> anyhow::Result<Vec<(serde_json::Value, String)>> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path)
                .with_context(|| format!("{}: cannot open the batch file", path.display()))?,
        ))
    };
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("{}: read error", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).with_context(|| {
            format!(
                "{}:{}: not a JSON object with \"id\" and \"query\"",
                path.display(),
                n + 1
            )
        })?;
        let (Some(id), Some(q)) = (v.get("id"), v.get("query").and_then(|q| q.as_str())) else {
            bail!(
                "{}:{}: each line needs \"id\" and \"query\"",
                path.display(),
                n + 1
            );
        };
        out.push((id.clone(), q.to_string()));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn context(
    at: &Where,
    env: &Environment,
    fresh: Fresh,
    req: ContextRequest,
    json: bool,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let session = open(at, env, Overrides::default(), false, "ploke context")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    refresh(
        &session,
        fresh,
        req.mode != ploke_retrieve::Mode::Lexical,
        ui,
    );
    let pack = session.context(&req)?;
    let mut out = stdout();
    if json {
        let doc = with_schema(serde_json::to_value(&pack)?);
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        write!(out, "{}", pack.to_markdown())?;
    }
    out.flush()?;
    if pack.items.is_empty() {
        ui.note(format!("nothing in the index matches {:?}", req.request));
        return Ok(Outcome::Nothing);
    }
    Ok(Outcome::Found)
}

#[allow(clippy::too_many_arguments)]
fn ask(
    at: &Where,
    env: &Environment,
    fresh: Fresh,
    llm: &LlmFlags,
    request: String,
    budget: Option<usize>,
    max_steps: usize,
    no_tools: bool,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let session = open(at, env, llm_overrides(llm), false, "ploke ask")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    refresh(&session, fresh, true, ui);
    let verbose = ui.verbose;
    let req = AskRequest {
        request,
        budget,
        max_steps,
        tools: !no_tools,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut closed: Option<std::io::Error> = None;
    let answer = rt.block_on(async {
        let mut on_event = |e: AskEvent| match e {
            AskEvent::Text(t) if closed.is_none() => {
                let mut out = std::io::stdout().lock();
                if let Err(e) = out.write_all(t.as_bytes()).and_then(|()| out.flush()) {
                    closed = Some(e);
                }
            }
            AskEvent::ToolCall { name, arguments } if verbose > 0 => {
                eprintln!("\n[tool] {name} {arguments}")
            }
            AskEvent::ToolResult { name, chars } if verbose > 0 => {
                eprintln!("[tool] {name} → {chars} chars")
            }
            _ => {}
        };
        tokio::select! {
            r = session.ask(&req, &mut on_event) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    if let Some(e) = closed {
        // The reader went away (`| head`): the rest of the answer has nowhere to go.
        return Err(e.into());
    }
    let mut out = stdout();
    let Some(answer) = answer else {
        writeln!(out)?;
        out.flush()?;
        bail!("cancelled (Ctrl-C)");
    };
    let answer = answer?;
    writeln!(out)?;
    if let Some(why) = &answer.stopped_by {
        ui.warn(format!(
            "stopped at the {why}; the answer may be incomplete"
        ));
    }
    if !answer.cited.is_empty() {
        writeln!(out, "\ncited:")?;
        let root = &session.location().root;
        let mut places = Places::default();
        for i in &answer.cited {
            writeln!(
                out,
                "  {}  {}",
                paint(style::PATH, &i.path),
                places.at(root, &i.file, i.start_line),
            )?;
        }
    }
    if verbose > 0 {
        eprintln!(
            "model: {}; context: {} items, {} tokens; {} steps, {} tool calls, {} tokens in, {} out",
            answer.model,
            answer.context_items,
            answer.context_tokens,
            answer.steps,
            answer.tool_calls,
            answer.input_tokens,
            answer.output_tokens
        );
    }
    out.flush()?;
    Ok(Outcome::Found)
}

#[allow(clippy::too_many_arguments)]
fn edit(
    at: &Where,
    env: &Environment,
    fresh: Fresh,
    llm: &LlmFlags,
    request: &str,
    opts: EditOptions,
    yes: bool,
    Check { check, test }: Check,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let session = open(at, env, llm_overrides(llm), true, "ploke edit")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    refresh(&session, fresh, true, ui);
    let verbose = ui.verbose;
    let quiet = ui.quiet;
    let mut flow = session.edit(request, opts)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let root = session.location().root.clone();
    loop {
        let proposed = rt.block_on(async {
            let mut on_event = |e: AskEvent| match e {
                AskEvent::Text(t) if !quiet => {
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(t.as_bytes());
                    let _ = err.flush();
                }
                AskEvent::ToolCall { name, arguments } if verbose > 0 => {
                    eprintln!("\n[tool] {name} {}", short(&arguments.to_string()))
                }
                AskEvent::ToolResult { name, chars } if verbose > 0 => {
                    eprintln!("[tool] {name} → {chars} chars")
                }
                _ => {}
            };
            tokio::select! {
                r = flow.propose(&mut on_event) => Some(r.map(|files| files.len())),
                _ = tokio::signal::ctrl_c() => None,
            }
        });
        if !quiet {
            eprintln!();
        }
        let Some(proposed) = proposed else {
            bail!("cancelled (Ctrl-C); nothing was written")
        };
        match proposed {
            Ok(_) => {}
            Err(e @ SessionError::NoEdits { .. }) => {
                crate::render::error(&anyhow::Error::new(e));
                return Ok(Outcome::Nothing);
            }
            Err(e) => return Err(e.into()),
        }
        let mut out = stdout();
        loop {
            let files = flow.review().unwrap_or_default();
            for f in files {
                write!(out, "{}", crate::render::diff(&f.diff))?;
            }
            out.flush()?;
            let n = files.len();
            if !yes
                && !confirm(&format!(
                    "apply the edits to {}?",
                    count(n, "file", "files")
                ))?
            {
                ui.note("nothing was written (not confirmed)");
                return Ok(Outcome::Nothing);
            }
            match flow.apply()? {
                ploke_session::ApplyOutcome::Applied(a) => {
                    writeln!(
                        out,
                        "applied edit #{} to {} (`ploke undo` reverts it)",
                        a.entry,
                        count(a.files.len(), "file", "files")
                    )?;
                    for f in &a.files {
                        writeln!(out, "  {}", paint(style::FILE, shown_path(&root, f)))?;
                    }
                    break;
                }
                ploke_session::ApplyOutcome::Changed { files } => {
                    for f in files {
                        ui.note(format!(
                            "{} changed since it was indexed; the edits were resolved again against its new text:",
                            shown_path(&root, &f)
                        ));
                    }
                }
            }
        }
        out.flush()?;
        if !check {
            return Ok(Outcome::Found);
        }
        match flow.check()? {
            ploke_session::CheckOutcome::Passed => {
                writeln!(out, "cargo check: ok")?;
                out.flush()?;
                if test {
                    run_affected_tests(&session, &flow, ui)?;
                }
                return Ok(Outcome::Found);
            }
            ploke_session::CheckOutcome::Failed {
                errors,
                repair: true,
            } => {
                ui.note(format!(
                    "cargo check failed; repair round {} of {}",
                    flow.round(),
                    flow.options().repair_rounds
                ));
                if !quiet {
                    eprintln!("{errors}");
                }
            }
            ploke_session::CheckOutcome::Failed {
                errors,
                repair: false,
            } => bail!(
                "cargo check still fails after {} repair rounds (the edits stay applied; `ploke undo` reverts each): {}",
                flow.options().repair_rounds,
                errors.lines().next().unwrap_or("")
            ),
        }
    }
}

/// What `ploke edit` checks after applying: `cargo check` (`--check`), then the tests that
/// reach the edited items (`--test`).
struct Check {
    check: bool,
    test: bool,
}

/// `ploke edit --check --test`: runs the tests that reach the edited items; an error when one
/// fails (the edits stay applied).
fn run_affected_tests(
    session: &Session,
    flow: &ploke_session::EditFlow<'_>,
    ui: &Ui,
) -> anyhow::Result<()> {
    let tests = flow.affected_tests()?;
    let mut out = stdout();
    if tests.is_empty() {
        ui.note("no test reaches the edited items (the index's test map): nothing to run");
        return Ok(());
    }
    writeln!(
        out,
        "running the {} the edit reaches:",
        count(tests.len(), "test", "tests")
    )?;
    out.flush()?;
    let run = session.run_tests(&tests)?;
    for c in &run.commands {
        writeln!(out, "  {c}")?;
    }
    for r in &run.results {
        writeln!(out, "{r}")?;
    }
    out.flush()?;
    if !run.passed {
        bail!(
            "{} after the edit ({}); the edits stay applied: `ploke undo` reverts each",
            if run.failed.is_empty() {
                "the tests did not run".to_string()
            } else {
                format!("{} failed", count(run.failed.len(), "test", "tests"))
            },
            crate::render::files_line(&run.failed, 5)
        );
    }
    Ok(())
}

fn short(s: &str) -> String {
    match s.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_string(),
    }
}

fn confirm(question: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("{question} needs a yes: run in a terminal, or pass --yes (nothing was written)");
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}

fn undo(at: &Where, env: &Environment, ui: &Ui) -> anyhow::Result<Outcome> {
    let session = open(at, env, Overrides::default(), true, "ploke undo")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    let undone = match session.undo() {
        Ok(u) => u,
        Err(e) if e.is_nothing_to_undo() => {
            ui.note(format!("nothing to undo: {e}"));
            return Ok(Outcome::Nothing);
        }
        Err(e) => return Err(e.into()),
    };
    let mut out = stdout();
    writeln!(
        out,
        "undid edit #{} ({}):",
        undone.entry,
        count(undone.files.len(), "file", "files")
    )?;
    let root = &session.location().root;
    for f in &undone.files {
        writeln!(out, "  {}", paint(style::FILE, shown_path(root, f)))?;
    }
    out.flush()?;
    Ok(Outcome::Found)
}

fn status(at: &Where, env: &Environment, json: bool, ui: &Ui) -> anyhow::Result<Outcome> {
    let session = open(at, env, Overrides::default(), false, "ploke status")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    let st = session.status()?;
    let mut out = stdout();
    if json {
        let doc = with_schema(serde_json::to_value(&st)?);
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        out.flush()?;
        return Ok(Outcome::Found);
    }
    let root = &session.location().root;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let age = st
        .written_at
        .map(|t| format!("{} ago", ago(now.saturating_sub(t))))
        .unwrap_or_else(|| "unknown".into());
    writeln!(
        out,
        "workspace  {}",
        paint(style::FILE, shown_path(root, ""))
    )?;
    writeln!(
        out,
        "index      {} (generation {}, {}, written {age})",
        paint(style::FILE, shown_path(root, &relative_to(root, &st.db))),
        st.generation,
        bytes(st.db_bytes)
    )?;
    let changed = match (st.changed_files, st.workspace_changed) {
        (_, true) => paint(
            style::WARN,
            "the workspace changed (a manifest or target); the next command re-indexes it",
        ),
        (Some(0), _) => "none".to_string(),
        (Some(n), _) => paint(
            style::WARN,
            format!(
                "{}; the next command re-indexes {}",
                count(n, "file", "files"),
                if n == 1 { "it" } else { "them" }
            ),
        ),
        (None, _) => "unknown (the next command reads every file)".into(),
    };
    writeln!(out, "changed    {changed}")?;
    writeln!(
        out,
        "contents   {}, {}",
        count(st.files, "file", "files"),
        count(st.items, "searchable item", "searchable items")
    )?;
    let vectors = match &st.model {
        Some(m) => format!("{} of {} items, model {m}", st.embedded, st.embeddable),
        None => "none (search uses the lexical and graph signals)".into(),
    };
    writeln!(out, "vectors    {vectors}")?;
    let deps = match (st.dependencies.len(), &st.dependency_store) {
        (0, _) => "none (`ploke index --deps direct` attaches them)".to_string(),
        (n, Some(store)) => format!(
            "{} attached read-only (`ploke search --scope all`), store {store}",
            count(n, "crate", "crates")
        ),
        (n, None) => count(n, "crate", "crates"),
    };
    writeln!(out, "deps       {deps}")?;
    let live = match &st.live_elsewhere {
        Some(h) => format!("kept live by {h}"),
        None => "not kept live (`ploke watch` or `ploke mcp` would)".into(),
    };
    writeln!(out, "live       {live}")?;
    out.flush()?;
    Ok(Outcome::Found)
}

/// `90` seconds as `1 min`, and so on.
pub(crate) fn ago(secs: u64) -> String {
    match secs {
        0..=59 => count(secs as usize, "second", "seconds"),
        60..=3599 => count((secs / 60) as usize, "minute", "minutes"),
        3600..=86_399 => count((secs / 3600) as usize, "hour", "hours"),
        _ => count((secs / 86_400) as usize, "day", "days"),
    }
}

/// A size for people: `812 KiB`, `41.3 MiB`.
pub(crate) fn bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if f < K {
        format!("{n} B")
    } else if f < K * K {
        format!("{:.0} KiB", f / K)
    } else if f < K * K * K {
        format!("{:.1} MiB", f / (K * K))
    } else {
        format!("{:.2} GiB", f / (K * K * K))
    }
}

fn item(
    at: &Where,
    env: &Environment,
    fresh: Fresh,
    target: &str,
    json: bool,
    all: bool,
    ui: &Ui,
) -> anyhow::Result<Outcome> {
    let session = open(at, env, Overrides::default(), false, "ploke item")?;
    let events = ui.events(false);
    session.subscribe(events.sink());
    refresh(&session, fresh, false, ui);
    let found = session.lookup(target)?;
    let root = &session.location().root;
    let mut out = stdout();
    let mut places = Places::default();
    if found.items.is_empty() {
        if json {
            let doc = with_schema(serde_json::json!({"target": target, "items": []}));
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            out.flush()?;
        }
        ui.note(format!(
            "no item named `{target}`; `ploke search {target:?}` finds items by words"
        ));
        return Ok(Outcome::Nothing);
    }
    if found.ambiguous() && !all {
        let candidates: Vec<&ploke_session::ItemRef> =
            found.items.iter().map(|v| &v.item).collect();
        if json {
            let doc = with_schema(serde_json::json!({
                "target": target,
                "ambiguous": true,
                "candidates": candidates,
            }));
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            out.flush()?;
        } else {
            let kind_width = candidates.iter().map(|c| c.kind.len()).max().unwrap_or(0);
            for c in &candidates {
                writeln!(
                    out,
                    "{}  {}  {}",
                    paint(style::KIND, format!("{:<kind_width$}", c.kind)),
                    paint(style::PATH, &c.path),
                    places.at(root, &c.file, c.start_line)
                )?;
            }
            out.flush()?;
        }
        bail!(
            "`{target}` names {}; give one of the paths above (`ploke item {}`), or --all to show them all",
            count(candidates.len(), "item", "items"),
            candidates[0].path
        );
    }
    if json {
        let doc = with_schema(serde_json::json!({
            "target": target,
            "match": found.how,
            "items": found.items,
        }));
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        out.flush()?;
        return Ok(Outcome::Found);
    }
    if let ploke_session::Match::Reexport { of } = &found.how {
        ui.note(format!("`{target}` is a re-export of `{of}`"));
    }
    for (i, v) in found.items.iter().enumerate() {
        if i > 0 {
            writeln!(out, "\n{}", "-".repeat(60))?;
        }
        writeln!(
            out,
            "{} {}  {}",
            paint(style::KIND, &v.item.kind),
            paint(style::PATH, &v.item.path),
            places.at(root, &v.item.file, v.item.start_line)
        )?;
        if v.item.dependency {
            writeln!(
                out,
                "in the dependency {} {} (read-only)",
                v.item.package.as_deref().unwrap_or(&v.item.crate_name),
                v.item.version.as_deref().unwrap_or("")
            )?;
        }
        if !v.cfg.is_empty() {
            writeln!(out, "cfg: {}", v.cfg)?;
        }
        if let Some(m) = &v.module {
            writeln!(
                out,
                "in module {}  {}",
                paint(style::PATH, &m.path),
                places.at(root, &m.file, m.start_line)
            )?;
        }
        writeln!(out)?;
        writeln!(out, "{}{}", v.indent, v.source)?;
        let mut rows: Vec<(&str, Vec<String>)> = Vec::new();
        let mut refs = |title: &'static str, items: &mut dyn Iterator<Item = (&str, &str, u32)>| {
            let r: Vec<String> = items
                .map(|(path, file, line)| {
                    format!(
                        "{}  {}",
                        paint(style::PATH, path),
                        places.at(root, file, line)
                    )
                })
                .collect();
            rows.push((title, r));
        };
        refs(
            "implements",
            &mut v
                .implements
                .iter()
                .map(|t| (t.path.as_str(), t.file.as_str(), t.start_line)),
        );
        refs(
            "implementations",
            &mut v
                .implementations
                .iter()
                .map(|t| (t.path.as_str(), t.file.as_str(), t.start_line)),
        );
        refs(
            "callers",
            &mut v
                .callers
                .iter()
                .map(|c| (c.item.path.as_str(), c.item.file.as_str(), c.line)),
        );
        refs(
            "callees",
            &mut v.callees.iter().map(|c| {
                (
                    c.item.path.as_str(),
                    c.item.file.as_str(),
                    c.item.start_line,
                )
            }),
        );
        rows.push(("unresolved calls", v.unresolved_calls.clone()));
        for (title, rows) in rows {
            if !rows.is_empty() {
                writeln!(out, "\n{title}:")?;
                for r in rows {
                    writeln!(out, "  {r}")?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Found)
}
