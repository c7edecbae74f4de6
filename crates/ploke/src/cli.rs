//! The command line: every flag, validated by clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ploke_retrieve::Mode;

#[derive(Parser, Debug)]
#[command(
    name = "ploke",
    version,
    about = "Understand, search and change Rust code bases"
)]
pub struct Cli {
    /// More logging (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the workspace and its index are.
#[derive(Args, Debug, Clone, Default)]
pub struct Location {
    /// A path inside the workspace (default: the current directory).
    #[arg(long = "path", value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Index directory (default: `<workspace>/.ploke`).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
}

/// A workspace given as an argument (or with --path), and its index directory.
#[derive(Args, Debug, Clone, Default)]
pub struct Target {
    /// A path inside the workspace (default: the current directory).
    #[arg(value_name = "PATH", conflicts_with = "path")]
    pub positional: Option<PathBuf>,
    /// The same, as a flag.
    #[arg(long = "path", value_name = "PATH", hide = true)]
    pub path: Option<PathBuf>,
    /// Index directory (default: `<workspace>/.ploke`).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
}

impl Target {
    pub fn location(&self) -> Location {
        Location {
            path: self.positional.clone().or_else(|| self.path.clone()),
            db: self.db.clone(),
        }
    }
}

/// The chat model to use (overrides `ploke.toml` and the environment).
#[derive(Args, Debug, Clone, Default)]
pub struct LlmFlags {
    /// openai (any OpenAI-compatible server: Ollama, llama.cpp, vLLM, LM Studio, OpenRouter,
    /// OpenAI), anthropic, or local (a GGUF file run in-process) [env: PLOKE_PROVIDER]
    #[arg(long, value_name = "PROVIDER")]
    pub provider: Option<String>,
    /// Model name at the provider, or the GGUF file for `local` [env: PLOKE_MODEL]
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// API base URL (default: Ollama at http://localhost:11434/v1) [env: PLOKE_BASE_URL]
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Index a workspace (incremental: only changed files are parsed again).
    Index {
        #[command(flatten)]
        target: Target,
        /// Parse everything again and repair the stored index (a damaged one is replaced).
        #[arg(long)]
        rebuild: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
        /// Skip the embedding stage (search then uses the lexical and graph signals).
        #[arg(long)]
        no_embed: bool,
        /// Fail at once if another process is writing the index, instead of waiting.
        #[arg(long)]
        no_wait: bool,
    },
    /// Keep the index current: index, then take in every change to the workspace's files
    /// as it happens (one line per update). Ctrl-C stops.
    Watch {
        #[command(flatten)]
        target: Target,
        /// Do not embed changed items (search then uses the lexical and graph signals for them).
        #[arg(long)]
        no_embed: bool,
        /// Print each update as a JSON line.
        #[arg(long)]
        json: bool,
    },
    /// Serve the index to coding agents over the Model Context Protocol (stdio): indexes if
    /// needed, keeps the index live, answers code-search and code-graph tool calls.
    Mcp {
        #[command(flatten)]
        target: Target,
        /// Do not embed (search then uses the lexical and graph signals).
        #[arg(long)]
        no_embed: bool,
        /// Offer edit tools (replace_item, insert_item, search_replace, undo), checked as
        /// `ploke edit` checks a model's edits.
        #[arg(long)]
        allow_edits: bool,
        /// Serve streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:8931) instead of stdio:
        /// one server several clients share. Only loopback Host headers are accepted.
        #[arg(long, value_name = "ADDR")]
        http: Option<std::net::SocketAddr>,
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
        mode: Mode,
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
        mode: Mode,
    },
    /// Ask a chat model about the code: the request's context pack goes with it, and the model
    /// may call read-only tools (search, items, callers, callees, files). Streams the answer.
    Ask {
        /// The question or request, in plain language.
        request: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        llm: LlmFlags,
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
        llm: LlmFlags,
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
        /// Let the model edit build scripts (`build.rs`).
        #[arg(long)]
        allow_build_scripts: bool,
    },
    /// Revert the last edit made by `ploke edit`, byte for byte (refused if a file changed since).
    Undo {
        #[command(flatten)]
        target: Target,
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
