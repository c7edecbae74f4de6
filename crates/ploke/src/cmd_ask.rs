//! `ploke ask`: a request, its context pack and the read-only tools go to a chat model; the
//! answer streams to stdout, followed by the indexed items it cites.

use std::io::Write;

use ploke_agent::ask::{ask, AskEvent, AskOptions};
use ploke_agent::local::LocalChat;
use ploke_agent::Toolbox;
use ploke_llm::{ChatModel, LlmConfig, LlmError};
use ploke_retrieve::Mode;

use crate::cmd_search::Engine;
use crate::config::LlmFlags;
use crate::Location;

/// Options of `ploke ask`.
pub struct AskArgs {
    pub request: String,
    /// `None`: [`DEFAULT_BUDGET`], or [`LOCAL_BUDGET`] for a local model.
    pub budget: Option<usize>,
    pub max_steps: usize,
    pub no_tools: bool,
    pub flags: LlmFlags,
}

/// Context pack budget for a model behind an API.
const DEFAULT_BUDGET: usize = 8000;
/// Context pack budget for a local model: a CPU reads a prompt at ~25 tokens/s.
const LOCAL_BUDGET: usize = 1000;

/// Tokens a local model generates per answer unless `max_tokens` is configured.
const LOCAL_MAX_TOKENS: usize = 256;

/// Builds the chat backend `config` names (the local one in-process).
pub fn connect(config: &LlmConfig) -> Result<Box<dyn ChatModel>, LlmError> {
    let local = |c: &LlmConfig| -> Result<Box<dyn ChatModel>, LlmError> {
        if c.model.is_empty() {
            return Err(LlmError::Config("provider `local` needs --model PATH.gguf (e.g. target/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf from scripts/fetch-models.sh smollm2)".into()));
        }
        // Small CPU models generate ~10–20 tokens/s: keep answers short unless configured.
        let max_tokens = if c.max_tokens == ploke_llm::DEFAULT_MAX_TOKENS {
            LOCAL_MAX_TOKENS
        } else {
            c.max_tokens as usize
        };
        Ok(Box::new(LocalChat::load(
            std::path::Path::new(&c.model),
            max_tokens,
        )?))
    };
    ploke_llm::connect_with(config, Some(&local))
}

pub fn run(args: AskArgs, loc: &Location, verbose: u8) -> anyhow::Result<()> {
    let start = loc
        .path
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let config = crate::config::llm_config(&start, &args.flags)?;
    let engine = Engine::load(loc, Mode::Hybrid)?;
    let local = config.provider == ploke_llm::ProviderKind::Local;
    let budget = args
        .budget
        .unwrap_or(if local { LOCAL_BUDGET } else { DEFAULT_BUDGET });
    let pack = crate::cmd_context::pack_for(&engine, &args.request, budget, Mode::Hybrid)?;
    let model = connect(&config)?;
    if verbose > 0 {
        eprintln!(
            "model: {}; context: {} items, {} tokens",
            model.name(),
            pack.items.len(),
            pack.tokens
        );
    }
    let embed = |q: &str| engine.embed(&[q]).ok().and_then(|mut v| v.pop().flatten());
    let toolbox = Toolbox::new(&engine.db, &engine.retriever, Some(&embed));
    // Local models do not call tools.
    let tools = !args.no_tools && !local;
    let opts = AskOptions {
        max_steps: args.max_steps,
        tools,
        ..AskOptions::default()
    };
    let context_md = pack.to_markdown();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let stdout = std::io::stdout();
    let outcome = rt.block_on(async {
        let mut on_event = |e: AskEvent| match e {
            AskEvent::Text(t) => {
                let mut out = stdout.lock();
                let _ = out.write_all(t.as_bytes());
                let _ = out.flush();
            }
            AskEvent::ToolCall { name, arguments } if verbose > 0 => eprintln!("\n[tool] {name} {arguments}"),
            AskEvent::ToolResult { name, chars } if verbose > 0 => eprintln!("[tool] {name} → {chars} chars"),
            _ => {}
        };
        tokio::select! {
            r = ask(model.as_ref(), &toolbox, &args.request, &context_md, &opts, &mut on_event) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(outcome) = outcome else {
        println!();
        anyhow::bail!("cancelled (Ctrl-C)");
    };
    let outcome = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!();
    if let Some(why) = &outcome.stopped_by {
        eprintln!("warning: stopped at the {why}; the answer may be incomplete");
    }
    // The indexed items the answer names.
    let cited: Vec<_> = pack
        .items
        .iter()
        .filter(|i| {
            outcome.answer.contains(&i.path)
                || (i.name.len() > 3 && outcome.answer.contains(&format!("`{}`", i.name)))
        })
        .collect();
    if !cited.is_empty() {
        println!("\ncited:");
        for i in cited {
            println!("  {} — {}:{}-{}", i.path, i.file, i.start_line, i.end_line);
        }
    }
    if verbose > 0 {
        eprintln!(
            "{} steps, {} tool calls, {} tokens in, {} out",
            outcome.steps,
            outcome.tool_calls,
            outcome.usage.input_tokens,
            outcome.usage.output_tokens
        );
    }
    Ok(())
}
