//! `ploke edit`: the model proposes edits as tool calls; ploke validates them, shows the
//! diff, asks for confirmation (`--yes` skips), writes atomically, journals for `ploke undo`
//! and re-indexes. `--check` runs `cargo check` and gives errors back to the model for a
//! bounded number of repair rounds.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use ploke_agent::ask::{AskEvent, AskOptions};
use ploke_agent::edit::propose;
use ploke_agent::Toolbox;
use ploke_edit::{ApplyOptions, EditContext};
use ploke_retrieve::Mode;

use crate::cmd_search::Engine;
use crate::config::LlmFlags;
use crate::Location;

/// Options of `ploke edit`.
pub struct EditArgs {
    pub request: String,
    pub budget: usize,
    pub max_steps: usize,
    pub yes: bool,
    pub check: bool,
    pub repair_rounds: usize,
    pub flags: LlmFlags,
}

pub fn run(args: EditArgs, loc: &Location, verbose: u8) -> anyhow::Result<()> {
    let start = loc.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = crate::config::llm_config(&start, &args.flags)?;
    if config.provider == ploke_llm::ProviderKind::Local {
        bail!("`ploke edit` needs a model that calls tools; use --provider openai or anthropic (local GGUF models only answer `ploke ask`)");
    }
    let root = ploke_workspace::discover(&start)
        .with_context(|| format!("{}: finding the workspace", start.display()))?
        .root;
    let journal = ploke_index::default_db_dir(&root).join("journal");
    let model = crate::cmd_ask::connect(&config)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut request = args.request.clone();
    // An earlier apply that was killed is finished or taken back before anything else.
    if let Some(recovered) = ploke_edit::recover(&journal, &root)? {
        eprintln!("{recovered}");
    }
    // The files may have changed since the last index; each apply below re-indexes too.
    reindex(&root)?;
    for round in 0..=args.repair_rounds {
        let engine = Engine::load(loc, Mode::Hybrid)?;
        let db = &engine.db;
        let pack = crate::cmd_context::pack_for(&engine, &request, args.budget, Mode::Hybrid)?;
        let embed = |q: &str| engine.embed(&[q]).ok().and_then(|mut v| v.pop().flatten());
        let toolbox = Toolbox::new(db, &engine.retriever, Some(&embed));
        let ctx = EditContext {
            db,
            workspace_root: &root,
            allow_build_scripts: false,
        };
        let opts = AskOptions {
            max_steps: args.max_steps,
            ..AskOptions::default()
        };
        let context_md = pack.to_markdown();
        let proposal = rt.block_on(async {
            let mut on_event = |e: AskEvent| match e {
                AskEvent::Text(t) => {
                    let mut err = std::io::stderr().lock();
                    let _ = err.write_all(t.as_bytes());
                    let _ = err.flush();
                }
                AskEvent::ToolCall { name, arguments } if verbose > 0 => eprintln!("\n[tool] {name} {}", short(&arguments.to_string())),
                AskEvent::ToolResult { name, chars } if verbose > 0 => eprintln!("[tool] {name} → {chars} chars"),
                _ => {}
            };
            tokio::select! {
                r = propose(model.as_ref(), &toolbox, &ctx, &request, &context_md, &opts, &mut on_event) => Some(r),
                _ = tokio::signal::ctrl_c() => None,
            }
        });
        eprintln!();
        let Some(proposal) = proposal else {
            bail!("cancelled (Ctrl-C); nothing was written")
        };
        let proposal = proposal.map_err(|e| anyhow::anyhow!("{e}"))?;
        let Some(plan) = proposal.plan else {
            println!("the model proposed no edits; nothing was written");
            return Ok(());
        };
        print!("{}", plan.diff());
        if !args.yes
            && !confirm(&format!(
                "apply {} edits to {} files?",
                proposal.edits.len(),
                plan.changed_files().len()
            ))?
        {
            println!("nothing was written");
            return Ok(());
        }
        let apply_opts = ApplyOptions {
            request: Some(args.request.clone()),
            ..ApplyOptions::default()
        };
        let applied = match plan.apply_with(&journal, &apply_opts) {
            // A file changed while the model worked: re-index, resolve the same edits against
            // the new text once, and show what that gives before writing it.
            Err(ploke_edit::EditError::Stale { file }) => {
                eprintln!("{file} changed since it was indexed; re-indexing and resolving the edits again");
                reindex(&root)?;
                let db = crate::open_db(loc)?;
                let replanned = ploke_edit::plan(
                    &proposal.edits,
                    &EditContext {
                        db: &db,
                        workspace_root: &root,
                        allow_build_scripts: false,
                    },
                )
                .context("the edits no longer apply to the changed files (nothing was written)")?;
                print!("{}", replanned.diff());
                if !args.yes && !confirm("apply the edits to the changed files?")? {
                    println!("nothing was written");
                    return Ok(());
                }
                replanned
                    .apply_with(&journal, &apply_opts)
                    .context("applying the edits (nothing was written)")?
            }
            other => other.context("applying the edits (nothing was written)")?,
        };
        println!(
            "applied edit #{} to {} files (`ploke undo` reverts it)",
            applied.entry,
            applied.files.len()
        );
        reindex(&root)?;
        if !args.check {
            return Ok(());
        }
        match cargo_check(&root)? {
            None => {
                println!("cargo check: ok");
                return Ok(());
            }
            Some(errors) if round < args.repair_rounds => {
                eprintln!("cargo check failed; repair round {} of {}", round + 1, args.repair_rounds);
                request = format!("{}\n\nThe edits were applied, but `cargo check` fails. Fix these errors:\n{errors}", args.request);
            }
            Some(errors) => bail!("cargo check still fails after {} repair rounds (the edits stay applied; `ploke undo` reverts each):\n{errors}", args.repair_rounds),
        }
    }
    Ok(())
}

fn short(s: &str) -> String {
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.to_string()
    }
}

fn reindex(root: &Path) -> anyhow::Result<()> {
    ploke_index::index(
        root,
        &ploke_index::IndexOptions::default(),
        &ploke_index::NoProgress,
    )
    .context("re-indexing")?;
    Ok(())
}

/// `None` when `cargo check` passes, else its error lines (at most 60).
fn cargo_check(root: &Path) -> anyhow::Result<Option<String>> {
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
        .context("running cargo check")?;
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
