//! Each command: open a session, call one operation, render its result.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use ploke_session::{
    AskEvent, AskRequest, ContextRequest, EditOptions, Environment, Event, IndexRequest,
    OpenOptions, Overrides, SearchRequest, Session, SessionError,
};

use crate::cli::{Cli, Command, LlmFlags, Location};
use crate::render::{shown_path, TerminalEvents};

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PLOKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the command; the exit code on success (a command that did not do what was asked
/// reports it through an error instead).
pub fn run(cli: Cli, env: &Environment) -> anyhow::Result<ExitCode> {
    init_logging(cli.verbose);
    let v = cli.verbose;
    match cli.command {
        Command::Index {
            target,
            rebuild,
            json,
            no_embed,
            no_wait,
        } => index(
            &target.location(),
            env,
            rebuild,
            json,
            !no_embed,
            no_wait,
            v,
        ),
        Command::Watch {
            target,
            no_embed,
            json,
        } => watch(&target.location(), env, !no_embed, json, v),
        Command::Mcp {
            target,
            no_embed,
            allow_edits,
            http,
        } => mcp(&target.location(), env, !no_embed, allow_edits, http, v),
        Command::Search {
            query,
            loc,
            k,
            json,
            batch,
            mode,
            rank_params,
        } => search(&loc, env, query, k, json, batch, mode, rank_params, v),
        Command::Context {
            request,
            loc,
            budget,
            json,
            mode,
        } => context(&loc, env, &request, budget, json, mode, v),
        Command::Ask {
            request,
            loc,
            llm,
            budget,
            max_steps,
            no_tools,
        } => ask(&loc, env, &llm, request, budget, max_steps, no_tools, v),
        Command::Edit {
            request,
            loc,
            llm,
            budget,
            max_steps,
            yes,
            check,
            repair_rounds,
            allow_build_scripts,
        } => edit(
            &loc,
            env,
            &llm,
            &request,
            EditOptions {
                budget,
                max_steps,
                repair_rounds,
                allow_build_scripts,
            },
            yes,
            check,
            v,
        ),
        Command::Undo { target } => undo(&target.location(), env, v),
        Command::Item { target, loc, json } => item(&loc, env, &target, json, v),
    }?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the session for `loc`; `create` for commands that write the index.
fn open(
    loc: &Location,
    env: &Environment,
    overrides: Overrides,
    create: bool,
    holder: &str,
) -> Result<Session, SessionError> {
    let mut opts = OpenOptions::new(loc.path.clone().unwrap_or_else(|| PathBuf::from(".")));
    opts.db = loc.db.clone();
    opts.env = env.clone();
    opts.overrides = overrides;
    opts.create = create;
    opts.holder = holder.to_string();
    Session::open(&opts)
}

fn llm_overrides(f: &LlmFlags) -> Overrides {
    Overrides {
        provider: f.provider.clone(),
        model: f.model.clone(),
        base_url: f.base_url.clone(),
        no_embed: false,
    }
}

fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::new(std::io::stdout().lock())
}

#[allow(clippy::too_many_arguments)]
fn index(
    loc: &Location,
    env: &Environment,
    rebuild: bool,
    json: bool,
    embed: bool,
    no_wait: bool,
    verbose: u8,
) -> anyhow::Result<()> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let mut opts = OpenOptions::new(loc.path.clone().unwrap_or_else(|| PathBuf::from(".")));
    opts.db = loc.db.clone();
    opts.env = env.clone();
    opts.overrides = overrides;
    opts.create = true;
    opts.rebuild = rebuild;
    opts.holder = "ploke index".into();
    let session = Session::open(&opts)?;
    let events = TerminalEvents::new(verbose, json);
    session.subscribe(events.sink());
    let summary = session.index(&IndexRequest {
        rebuild,
        embed,
        wait: no_wait.then_some(std::time::Duration::ZERO),
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
    if json {
        let v = serde_json::json!({
            "schema": ploke_session::results::SCHEMA_VERSION,
            "workspace": summary.workspace,
            "db": summary.db,
            "crates": summary.crates,
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
            "stages_ms": summary.stages_ms.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(out.flush()?);
    }
    // Published crates often declare examples/tests/benches they do not ship: a handful of
    // warnings is worth showing, a wall of them is not.
    const SHOWN_WARNINGS: usize = 3;
    let shown = if verbose > 0 {
        summary.warnings.len()
    } else {
        SHOWN_WARNINGS
    };
    for w in summary.warnings.iter().take(shown) {
        eprintln!("warning: {w}");
    }
    if summary.warnings.len() > shown {
        eprintln!(
            "warning: … and {} more (-v shows them all)",
            summary.warnings.len() - shown
        );
    }
    let total: f64 = summary.stages_ms.iter().map(|(_, ms)| ms).sum::<f64>() / 1000.0;
    writeln!(
        out,
        "indexed {} ({} crates, {} files, {} lines) into {}",
        summary.workspace, summary.crates, summary.files, summary.lines, summary.db
    )?;
    writeln!(
        out,
        "  {} items, {} edges, {} unresolved references; {} files parsed, {} rows written",
        summary.items, summary.edges, summary.unresolved, summary.parsed_files, summary.delta_rows
    )?;
    let stages: Vec<String> = summary
        .stages_ms
        .iter()
        .map(|(n, ms)| format!("{n} {ms:.0} ms"))
        .collect();
    writeln!(out, "  time {:.2} s: {}", total, stages.join(", "))?;
    if embed {
        match &summary.embed {
            Some(e) => writeln!(
                out,
                "  embedded {} items with {} in {:.1} s ({:.1} items/s; {} unchanged reused, {} stale removed)",
                e.stats.embedded,
                e.model,
                e.stats.seconds,
                e.items_per_s,
                e.stats.reused,
                e.stats.removed
            )?,
            None if session.settings().embed.is_none() => {
                writeln!(out, "  embeddings off (PLOKE_EMBED=off)")?
            }
            None => {}
        }
    }
    if !summary.problems.is_empty() {
        writeln!(
            out,
            "  {} problems (the rest was indexed):",
            summary.problems.len()
        )?;
        for s in &summary.problems {
            writeln!(out, "    {s}")?;
        }
    }
    if !summary.orphan_files.is_empty() {
        writeln!(
            out,
            "  {} .rs files are not in any target's module tree (not indexed)",
            summary.orphan_files.len()
        )?;
        if verbose > 0 {
            for f in &summary.orphan_files {
                writeln!(out, "    {f}")?;
            }
        }
    }
    Ok(out.flush()?)
}

fn watch(
    loc: &Location,
    env: &Environment,
    embed: bool,
    json: bool,
    verbose: u8,
) -> anyhow::Result<()> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let session = Arc::new(open(loc, env, overrides, true, "ploke watch")?);
    let events = TerminalEvents::new(verbose, json);
    session.subscribe(events.sink());
    let root = session.location().root.clone();
    // One line per update on stdout.
    session.subscribe(Arc::new(move |ev: &Event| {
        let line = match ev {
            Event::Updated(u) if json => serde_json::to_string(ev).unwrap_or_default(),
            Event::Updated(u) => {
                let files: Vec<String> = u
                    .files
                    .iter()
                    .take(3)
                    .map(|f| shown_path(&root, f))
                    .collect();
                let more = if u.files.len() > 3 {
                    format!(" and {} more", u.files.len() - 3)
                } else {
                    String::new()
                };
                format!(
                    "generation {}: {} {} ({}{more}), {} items changed, {:.0} ms",
                    u.generation,
                    u.files.len(),
                    if u.files.len() == 1 { "file" } else { "files" },
                    files.join(", "),
                    u.items,
                    u.ms
                )
            }
            Event::Embedded { items, ms } if json => {
                let _ = (items, ms);
                serde_json::to_string(ev).unwrap_or_default()
            }
            Event::Embedded { items, ms } => format!("  embedded {items} items in {ms:.0} ms"),
            _ => return,
        };
        let mut out = std::io::stdout().lock();
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
        eprintln!(
            "watching {} (Ctrl-C stops)",
            session.location().root.display()
        );
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        eprintln!("stopping…");
        tokio::task::block_in_place(|| handle.stop());
        anyhow::Ok(())
    })?;
    Ok(())
}

/// `ploke mcp`: the session served over MCP on stdio. stdout carries only the protocol;
/// progress and warnings go to stderr, which MCP clients show as the server's log.
fn mcp(
    loc: &Location,
    env: &Environment,
    embed: bool,
    allow_edits: bool,
    http: Option<std::net::SocketAddr>,
    verbose: u8,
) -> anyhow::Result<()> {
    let overrides = Overrides {
        no_embed: !embed,
        ..Overrides::default()
    };
    let session = Arc::new(open(loc, env, overrides, true, "ploke mcp")?);
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Serve at once; index (and keep the index live) meanwhile: tools wait until it is
        // ready, progress goes to the clients as log messages. When another `ploke watch`
        // or `ploke mcp` keeps the index live already, answer from that one's index.
        let (set_ready, ready) = ploke_mcp::Ready::new();
        let live = {
            let session = session.clone();
            tokio::task::spawn_blocking(move || {
                let live = session.watch_or_follow(
                    ploke_session::LiveOptions {
                        embed,
                        ..ploke_session::LiveOptions::default()
                    },
                    std::time::Duration::from_secs(300),
                );
                match live {
                    Ok(handle) => {
                        set_ready.set(Ok(()));
                        handle
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        set_ready.set(Err(e.to_string()));
                        None
                    }
                }
            })
        };
        let opts = ploke_mcp::McpOptions { allow_edits, ready };
        let root = session.location().root.display().to_string();
        let served = match http {
            Some(addr) => ploke_mcp::serve_http(session.clone(), opts, addr, |at| {
                eprintln!("ploke mcp: serving {root} at http://{at}/mcp (Ctrl-C stops)")
            })
            .await
            .map_err(|e| anyhow::anyhow!("MCP server on {addr}: {e}")),
            None => {
                eprintln!("ploke mcp: serving {root} on stdio");
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
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn search(
    loc: &Location,
    env: &Environment,
    query: Option<String>,
    k: usize,
    json: bool,
    batch: Option<PathBuf>,
    mode: ploke_retrieve::Mode,
    rank_params: Option<String>,
    verbose: u8,
) -> anyhow::Result<()> {
    let session = open(loc, env, Overrides::default(), false, "ploke search")?;
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    if let Some(p) = &rank_params {
        let params = serde_json::from_str(p)
            .context("--rank-params: not a JSON object of ranking parameters")?;
        session.set_rank_params(Some(params));
    }
    let mut out = stdout();
    if let Some(batch) = &batch {
        if query.is_some() {
            bail!("give a QUERY or --batch FILE, not both");
        }
        let queries = read_batch(batch)?;
        let texts: Vec<String> = queries.iter().map(|(_, q)| q.clone()).collect();
        let results = session.search_batch(&texts, k, mode)?;
        for ((id, _), hits) in queries.iter().zip(results) {
            let results: Vec<_> = hits.iter().map(hit_json).collect();
            writeln!(
                out,
                "{}",
                serde_json::json!({ "id": id, "results": results })
            )?;
        }
        return Ok(out.flush()?);
    }
    let Some(query) = query else {
        bail!("give a QUERY, or --batch FILE")
    };
    let hits = session.search(&SearchRequest {
        query: query.clone(),
        k,
        mode,
    })?;
    if json {
        let v: Vec<_> = hits.iter().map(hit_json).collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else if hits.is_empty() {
        writeln!(out, "no results for {query:?}")?;
    } else {
        let root = &session.location().root;
        for h in &hits {
            writeln!(
                out,
                "{:>6.3}  {:<6} {}  {}:{}-{}",
                h.score,
                h.item.kind,
                h.item.path,
                shown_path(root, &h.item.file),
                h.item.start_line,
                h.item.end_line
            )?;
        }
    }
    Ok(out.flush()?)
}

/// A search result as one JSON object: the benchmark's result format (file, name, lines)
/// plus kind, path, score, package and crate. `file` is relative to the workspace root.
fn hit_json(h: &ploke_session::SearchHit) -> serde_json::Value {
    serde_json::json!({
        "file": h.item.file,
        "name": h.item.name,
        "kind": h.item.kind,
        "path": h.item.path,
        "package": h.item.package,
        "crate": h.item.crate_name,
        "start_line": h.item.start_line,
        "end_line": h.item.end_line,
        "score": ((h.score as f64) * 1000.0).round() / 1000.0,
    })
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

fn context(
    loc: &Location,
    env: &Environment,
    request: &str,
    budget: usize,
    json: bool,
    mode: ploke_retrieve::Mode,
    verbose: u8,
) -> anyhow::Result<()> {
    let session = open(loc, env, Overrides::default(), false, "ploke context")?;
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    let pack = session.context(&ContextRequest {
        request: request.to_string(),
        budget,
        mode,
    })?;
    let mut out = stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&pack)?)?;
    } else {
        write!(out, "{}", pack.to_markdown())?;
    }
    Ok(out.flush()?)
}

#[allow(clippy::too_many_arguments)]
fn ask(
    loc: &Location,
    env: &Environment,
    llm: &LlmFlags,
    request: String,
    budget: Option<usize>,
    max_steps: usize,
    no_tools: bool,
    verbose: u8,
) -> anyhow::Result<()> {
    let session = open(loc, env, llm_overrides(llm), false, "ploke ask")?;
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    let req = AskRequest {
        request,
        budget,
        max_steps,
        tools: !no_tools,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = rt.block_on(async {
        let mut on_event = |e: AskEvent| match e {
            AskEvent::Text(t) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(t.as_bytes());
                let _ = out.flush();
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
    let mut out = stdout();
    let Some(answer) = answer else {
        writeln!(out)?;
        out.flush()?;
        bail!("cancelled (Ctrl-C)");
    };
    let answer = answer?;
    writeln!(out)?;
    if let Some(why) = &answer.stopped_by {
        eprintln!("warning: stopped at the {why}; the answer may be incomplete");
    }
    if !answer.cited.is_empty() {
        writeln!(out, "\ncited:")?;
        let root = &session.location().root;
        for i in &answer.cited {
            writeln!(
                out,
                "  {} — {}:{}-{}",
                i.path,
                shown_path(root, &i.file),
                i.start_line,
                i.end_line
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
    Ok(out.flush()?)
}

#[allow(clippy::too_many_arguments)]
fn edit(
    loc: &Location,
    env: &Environment,
    llm: &LlmFlags,
    request: &str,
    opts: EditOptions,
    yes: bool,
    check: bool,
    verbose: u8,
) -> anyhow::Result<()> {
    let session = open(loc, env, llm_overrides(llm), true, "ploke edit")?;
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    let mut flow = session.edit(request, opts)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let root = session.location().root.clone();
    loop {
        let proposed = rt.block_on(async {
            let mut on_event = |e: AskEvent| match e {
                AskEvent::Text(t) => {
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
        eprintln!();
        let Some(proposed) = proposed else {
            bail!("cancelled (Ctrl-C); nothing was written")
        };
        proposed?;
        let mut out = stdout();
        loop {
            let files = flow.review().unwrap_or_default();
            for f in files {
                write!(out, "{}", f.diff)?;
            }
            out.flush()?;
            let n = files.len();
            if !yes && !confirm(&format!("apply the edits to {n} files?"))? {
                bail!("nothing was written (not confirmed)");
            }
            match flow.apply()? {
                ploke_session::ApplyOutcome::Applied(a) => {
                    writeln!(
                        out,
                        "applied edit #{} to {} files (`ploke undo` reverts it)",
                        a.entry,
                        a.files.len()
                    )?;
                    for f in &a.files {
                        writeln!(out, "  {}", shown_path(&root, f))?;
                    }
                    break;
                }
                ploke_session::ApplyOutcome::Changed { files } => {
                    for f in files {
                        eprintln!(
                            "{} changed since it was indexed; the edits were resolved again against its new text:",
                            shown_path(&root, &f)
                        );
                    }
                }
            }
        }
        out.flush()?;
        if !check {
            return Ok(());
        }
        match flow.check()? {
            ploke_session::CheckOutcome::Passed => {
                writeln!(out, "cargo check: ok")?;
                return Ok(out.flush()?);
            }
            ploke_session::CheckOutcome::Failed {
                errors,
                repair: true,
            } => {
                eprintln!(
                    "cargo check failed; repair round {} of {}\n{errors}",
                    flow.round(),
                    flow.options().repair_rounds
                );
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

fn undo(loc: &Location, env: &Environment, verbose: u8) -> anyhow::Result<()> {
    let session = open(loc, env, Overrides::default(), true, "ploke undo")?;
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    let undone = session.undo()?;
    let mut out = stdout();
    writeln!(
        out,
        "undid edit #{} ({} files):",
        undone.entry,
        undone.files.len()
    )?;
    let root = &session.location().root;
    for f in &undone.files {
        writeln!(out, "  {}", shown_path(root, f))?;
    }
    Ok(out.flush()?)
}

fn item(
    loc: &Location,
    env: &Environment,
    target: &str,
    json: bool,
    verbose: u8,
) -> anyhow::Result<()> {
    let session = open(loc, env, Overrides::default(), false, "ploke item")?;
    let events = TerminalEvents::new(verbose, true);
    session.subscribe(events.sink());
    let found = session.item(target)?;
    if found.is_empty() {
        bail!("no item named `{target}`; try `ploke search {target:?}` to find it");
    }
    let mut out = stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&found)?)?;
        return Ok(out.flush()?);
    }
    let root = &session.location().root;
    let at = |r: &ploke_session::ItemRef| format!("{}:{}", shown_path(root, &r.file), r.start_line);
    for (i, v) in found.iter().enumerate() {
        if i > 0 {
            writeln!(out, "\n{}", "-".repeat(60))?;
        }
        let file = shown_path(root, &v.item.file);
        if v.item.kind == "crate" {
            writeln!(out, "{} {}  ({file})", v.item.kind, v.item.path)?;
        } else {
            writeln!(
                out,
                "{} {}  ({file}:{}-{})",
                v.item.kind, v.item.path, v.item.start_line, v.item.end_line
            )?;
        }
        if !v.cfg.is_empty() {
            writeln!(out, "cfg: {}", v.cfg)?;
        }
        if let Some(m) = &v.module {
            writeln!(out, "in module {}  ({})", m.path, at(m))?;
        }
        writeln!(out)?;
        writeln!(out, "{}{}", v.indent, v.source)?;
        let mut section = |title: &str, rows: Vec<String>| -> std::io::Result<()> {
            if !rows.is_empty() {
                writeln!(out, "\n{title}:")?;
                for r in rows {
                    writeln!(out, "  {r}")?;
                }
            }
            Ok(())
        };
        section(
            "implements",
            v.implements
                .iter()
                .map(|t| format!("{}  {}", t.path, at(t)))
                .collect(),
        )?;
        section(
            "implementations",
            v.implementations
                .iter()
                .map(|t| format!("{}  {}", t.path, at(t)))
                .collect(),
        )?;
        section(
            "callers",
            v.callers
                .iter()
                .map(|c| {
                    format!(
                        "{}  {}:{}",
                        c.item.path,
                        shown_path(root, &c.item.file),
                        c.line
                    )
                })
                .collect(),
        )?;
        section(
            "callees",
            v.callees
                .iter()
                .map(|c| format!("{}  {}", c.item.path, at(&c.item)))
                .collect(),
        )?;
        section("unresolved calls", v.unresolved_calls.clone())?;
    }
    Ok(out.flush()?)
}
