//! `ploke`: index a Rust workspace into a code graph, search it, and show items.
//!
//! The binary is thin: it parses arguments, wires the library crates together and prints.
//! `main` only maps `run()`'s error to an exit code.

mod cmd_ask;
mod cmd_context;
mod cmd_edit;
mod cmd_index;
mod cmd_item;
mod cmd_search;
mod cmd_undo;
mod config;
mod embeddings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Indexing allocates many small strings and vectors; mimalloc handles that markedly faster
/// than the system allocator (measured: see README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "ploke",
    version,
    about = "Understand and search Rust code bases"
)]
struct Cli {
    /// More logging (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Where the workspace and its database are.
#[derive(clap::Args, Debug, Clone)]
pub struct Location {
    /// A path inside the workspace (default: the current directory).
    #[arg(long = "path", value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Database directory (default: `<workspace>/.ploke`).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Index a workspace (incremental: only changed files are parsed again).
    Index {
        /// A path inside the workspace (default: the current directory).
        path: Option<PathBuf>,
        /// Database directory (default: `<workspace>/.ploke`).
        #[arg(long, value_name = "DIR")]
        db: Option<PathBuf>,
        /// Discard the existing database and index from scratch.
        #[arg(long)]
        rebuild: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Skip the embedding stage (search then uses the lexical and graph signals).
        #[arg(long)]
        no_embed: bool,
    },
    /// Search indexed items: BM25, embeddings and the code graph, fused (see --mode).
    Search {
        /// The query (omit with --batch).
        query: Option<String>,
        #[command(flatten)]
        loc: Location,
        /// Number of results.
        #[arg(short, default_value_t = 10)]
        k: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Read JSON lines `{"id", "query"}` from FILE (`-` for stdin), write `{"id", "results"}`.
        #[arg(long, value_name = "FILE")]
        batch: Option<PathBuf>,
        /// Signals to use: hybrid (BM25 + embeddings + code graph), lexical or vector.
        #[arg(long, default_value = "hybrid", value_name = "MODE")]
        mode: ploke_retrieve::Mode,
        /// Ranking parameters as a JSON object (for tuning; see ploke_retrieve::RankParams).
        #[arg(long, hide = true, value_name = "JSON")]
        rank_params: Option<String>,
    },
    /// The code a change request needs, packed for an LLM within a token budget (markdown or
    /// JSON): the best items in full, outlines of their callers, callees, types and traits.
    Context {
        /// The request, in plain language.
        request: String,
        #[command(flatten)]
        loc: Location,
        /// Token budget of the whole pack (counted with cl100k_base).
        #[arg(long, default_value_t = 8000)]
        budget: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Signals to rank with: hybrid, lexical or vector.
        #[arg(long, default_value = "hybrid", value_name = "MODE")]
        mode: ploke_retrieve::Mode,
    },
    /// Ask a chat model about the code: the request's context pack goes with it, and the model
    /// may call read-only tools (search, items, callers, callees, files). Streams the answer.
    Ask {
        /// The question or request, in plain language.
        request: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        llm: config::LlmFlags,
        /// Token budget of the context pack (default 8000; 1000 for a local model, which
        /// reads ~25 tokens/s on a CPU).
        #[arg(long)]
        budget: Option<usize>,
        /// Model turns at most.
        #[arg(long, default_value_t = 8)]
        max_steps: usize,
        /// Offer no tools (the model answers from the context pack alone).
        #[arg(long)]
        no_tools: bool,
    },
    /// Change the code: the model proposes edits as tool calls; ploke validates them, shows the
    /// diff, asks before writing (atomically), journals for `ploke undo`, and re-indexes.
    Edit {
        /// The change request, in plain language.
        request: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        llm: config::LlmFlags,
        /// Token budget of the context pack.
        #[arg(long, default_value_t = 8000)]
        budget: usize,
        /// Model turns at most per round.
        #[arg(long, default_value_t = 12)]
        max_steps: usize,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
        /// Run `cargo check` afterwards and let the model repair errors.
        #[arg(long)]
        check: bool,
        /// Repair rounds with --check.
        #[arg(long, default_value_t = 2)]
        repair_rounds: usize,
    },
    /// Revert the last edit made by `ploke edit`, byte for byte (refused if a file changed since).
    Undo {
        /// A path inside the workspace (default: the current directory).
        path: Option<PathBuf>,
    },
    /// Show an item's source and relations.
    Item {
        /// A canonical path (`tokio::runtime::Builder::new`) or a name (`Builder::new`, `spawn`).
        target: String,
        #[command(flatten)]
        loc: Location,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

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
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging(cli.verbose);
    match cli.command {
        Command::Index {
            path,
            db,
            rebuild,
            json,
            no_embed,
        } => cmd_index::run(path, db, rebuild, json, !no_embed, cli.verbose),
        Command::Search {
            query,
            loc,
            k,
            json,
            batch,
            mode,
            rank_params,
        } => cmd_search::run(
            cmd_search::SearchArgs {
                query,
                k,
                json,
                batch,
                mode,
                rank_params,
            },
            &loc,
        ),
        Command::Context {
            request,
            loc,
            budget,
            json,
            mode,
        } => cmd_context::run(&request, &loc, budget, json, mode),
        Command::Ask {
            request,
            loc,
            llm,
            budget,
            max_steps,
            no_tools,
        } => cmd_ask::run(
            cmd_ask::AskArgs {
                request,
                budget,
                max_steps,
                no_tools,
                flags: llm,
            },
            &loc,
            cli.verbose,
        ),
        Command::Edit {
            request,
            loc,
            llm,
            budget,
            max_steps,
            yes,
            check,
            repair_rounds,
        } => cmd_edit::run(
            cmd_edit::EditArgs {
                request,
                budget,
                max_steps,
                yes,
                check,
                repair_rounds,
                flags: llm,
            },
            &loc,
            cli.verbose,
        ),
        Command::Undo { path } => cmd_undo::run(path),
        Command::Item { target, loc, json } => cmd_item::run(&target, &loc, json),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Open the database of the workspace at `loc`, with an error that says what to do.
pub fn open_db(loc: &Location) -> anyhow::Result<ploke_db::Db> {
    use anyhow::Context;
    let dir = match &loc.db {
        Some(d) => d.clone(),
        None => {
            let start = loc.path.clone().unwrap_or_else(|| PathBuf::from("."));
            let abs = start
                .canonicalize()
                .with_context(|| format!("{}: no such path", start.display()))?;
            abs.ancestors()
                .map(ploke_index::default_db_dir)
                .find(|d| d.join(ploke_db::DB_FILE_NAME).exists())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: no ploke index found here or above; run `ploke index` first",
                        abs.display()
                    )
                })?
        }
    };
    if !dir.join(ploke_db::DB_FILE_NAME).exists() {
        anyhow::bail!(
            "{}: no ploke index in this directory; run `ploke index --db {}` first",
            dir.display(),
            dir.display()
        );
    }
    ploke_db::Db::open(&dir).with_context(|| format!("opening the index in {}", dir.display()))
}
