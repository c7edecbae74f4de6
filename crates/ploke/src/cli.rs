//! The command line: every flag, validated by clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ploke_retrieve::Mode;

/// When to colour the output.
#[derive(clap::ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it).
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Parser, Debug)]
#[command(
    name = "ploke",
    version,
    about = "Understand, search and change Rust code bases",
    after_help = "Exit status: 0 found (or done), 1 nothing found (or nothing done), 2 error."
)]
pub struct Cli {
    /// More logging (-v: info, -vv: debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print results and errors only: no progress, notes, warnings or summaries.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour the output.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub color: ColorWhen,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the workspace and its index are: `[PATH]` after the command's other arguments, or
/// `--path PATH`, on every command.
#[derive(Args, Debug, Clone, Default)]
pub struct Location {
    /// A path inside the workspace (default: the current directory).
    #[arg(value_name = "PATH")]
    pub positional: Option<PathBuf>,
    /// The same, as a flag.
    #[arg(long = "path", value_name = "PATH", conflicts_with = "positional")]
    pub path: Option<PathBuf>,
    /// Index directory (default: `<workspace>/.ploke`).
    #[arg(long, value_name = "DIR")]
    pub db: Option<PathBuf>,
    /// Words after PATH (a query of several words without quotes): refused with a hint.
    #[arg(hide = true, value_name = "MORE")]
    pub extra: Vec<String>,
}

/// Whether to bring the index up to date with the files before answering.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct Fresh {
    /// Answer from the stored index as it is, without re-indexing files changed since.
    #[arg(long)]
    pub no_refresh: bool,
}

/// Which items a search ranks.
#[derive(Args, Debug, Clone, Default)]
pub struct ScopeFlags {
    /// Items to rank: workspace (the default), all (with the dependencies `ploke index
    /// --deps` attached, read-only), or one crate of either by name (`hyper`, `hyper_util`).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<ploke_retrieve::Scope>,
    /// Short for --scope all.
    #[arg(long, conflicts_with = "scope")]
    pub deps: bool,
}

impl ScopeFlags {
    /// The scope asked for.
    pub fn scope(&self) -> ploke_retrieve::Scope {
        match (&self.scope, self.deps) {
            (_, true) => ploke_retrieve::Scope::All,
            (Some(s), false) => s.clone(),
            (None, false) => ploke_retrieve::Scope::Workspace,
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
        loc: Location,
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
        /// Which dependencies to index with the workspace (each once, into a cache shared by
        /// all workspaces): none, direct (what the members name; the default for a new
        /// index) or all (everything they build with). Kept by later runs unless given.
        #[arg(long, value_name = "none|direct|all")]
        deps: Option<ploke_session::DepsScope>,
        /// Embed the dependencies' items too (into their shared store: each is embedded once
        /// for every workspace with the same dependencies); slow with the in-process model
        /// on a large tree, quick with a remote one.
        #[arg(long, conflicts_with = "no_embed")]
        embed_deps: bool,
    },
    /// Keep the index current: index, then take in every change to the workspace's files
    /// as it happens (one line per update). Ctrl-C stops.
    Watch {
        #[command(flatten)]
        loc: Location,
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
        loc: Location,
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
    /// Serve the index to an editor as a Language Server (stdio), beside rust-analyzer:
    /// workspace symbols, hover, references, call hierarchy and code lenses from the code
    /// graph. Indexes if needed and keeps the index live.
    Lsp {
        #[command(flatten)]
        loc: Location,
        /// Do not embed (search then uses the lexical and graph signals).
        #[arg(long)]
        no_embed: bool,
    },
    /// Open the workspace in a window: search as you type, items and their neighbourhood
    /// drawn as a graph, the module tree, context packs, chat, and the review of edits.
    /// Indexes if needed.
    Gui {
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        llm: LlmFlags,
        /// Do not embed (search then uses the lexical and graph signals).
        #[arg(long)]
        no_embed: bool,
    },
    /// The same flows in the terminal (keyboard first, mouse optional, works over SSH).
    /// Indexes if needed.
    Tui {
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        llm: LlmFlags,
        /// Do not embed (search then uses the lexical and graph signals).
        #[arg(long)]
        no_embed: bool,
    },
    /// Search indexed items: BM25, embeddings and the code graph, fused (see --mode).
    Search {
        /// The query; quote a query of several words (omit with --batch).
        query: Option<String>,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
        /// Number of results.
        #[arg(short = 'k', long = "limit", value_name = "N", default_value_t = 10)]
        limit: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Read JSON lines `{"id", "query"}` from FILE (`-` for stdin), write `{"id", "results"}`.
        #[arg(long, value_name = "FILE")]
        batch: Option<PathBuf>,
        /// Signals to use: hybrid (BM25 + embeddings + code graph), lexical or vector.
        #[arg(long, default_value = "hybrid", value_name = "MODE")]
        mode: Mode,
        #[command(flatten)]
        scope: ScopeFlags,
        /// Ranking parameters as a JSON object (for tuning; see ploke_retrieve::RankParams).
        #[arg(long, hide = true, value_name = "JSON")]
        rank_params: Option<String>,
    },
    /// The code a change request needs, packed for an LLM within a token budget (markdown or
    /// JSON): the best items in full, outlines of their callers, callees, types and traits.
    Context {
        /// The request, in plain language (quoted).
        request: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
        /// Token budget of the whole pack (counted with cl100k_base).
        #[arg(long, default_value_t = 8000)]
        budget: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Signals to rank with: hybrid, lexical or vector.
        #[arg(long, default_value = "hybrid", value_name = "MODE")]
        mode: Mode,
        #[command(flatten)]
        scope: ScopeFlags,
        /// Bring in up to N tests of each primary item (those that reach it in the fewest
        /// calls), for a change to keep them passing.
        #[arg(long, value_name = "N", default_value_t = 0)]
        tests: usize,
    },
    /// Ask a chat model about the code: the request's context pack goes with it, and the model
    /// may call read-only tools (search, items, callers, callees, files). Streams the answer.
    Ask {
        /// The question or request, in plain language (quoted).
        request: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
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
        /// The change request, in plain language (quoted).
        request: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
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
        /// With --check: then run only the tests that reach the edited items (the index's
        /// test map), with `cargo test`.
        #[arg(long, requires = "check")]
        test: bool,
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
        loc: Location,
    },
    /// Show an item's source and relations.
    Item {
        /// A canonical path (`tokio::runtime::Builder::new`) or a name (`Builder::new`, `spawn`).
        target: String,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Show every item the name matches (by default several matches are listed for you
        /// to pick one).
        #[arg(long)]
        all: bool,
    },
    /// What changing an item (or the files of a diff) reaches: the items that depend on it
    /// (callers, implementors, users of a type, re-exports, through trait dispatch) and the
    /// tests that exercise it, with the `cargo test` arguments that run only those.
    Impact {
        /// A canonical path or a name, as `ploke item` takes; omit with --diff.
        target: Option<String>,
        /// The items a `git diff REV` changes (default HEAD: the uncommitted changes).
        #[arg(long, value_name = "REV", num_args = 0..=1, default_missing_value = "HEAD")]
        diff: Option<String>,
        /// Steps of dependence followed.
        #[arg(long, default_value_t = 6)]
        depth: u32,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The analyses the index keeps: dead code candidates, module cycles, the public API
    /// and how it changed, per-function metrics (size, nesting, complexity, unsafe, panics).
    Analyze {
        #[command(subcommand)]
        what: Option<AnalyzeWhat>,
        #[command(flatten)]
        loc: Location,
        #[command(flatten)]
        fresh: Fresh,
        /// JSON output (everything, for dashboards, without a subcommand).
        #[arg(long, global = true)]
        json: bool,
    },
    /// Where the index stands: age, files changed since, items, vectors and model, size on
    /// disk, and whether a live index (`ploke watch`, `ploke mcp`) keeps it current.
    Status {
        #[command(flatten)]
        loc: Location,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// The dependency cache every workspace shares (`$PLOKE_CACHE_DIR`, else the user's cache
    /// directory): each dependency indexed once per version, source and features.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Print a shell completion script (e.g. `ploke completions bash > /etc/bash_completion.d/ploke`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `ploke man > ~/.local/share/man/man1/ploke.1`.
    Man,
}

/// One analysis of `ploke analyze`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum AnalyzeWhat {
    /// Items nothing in the workspace uses that are not public API or entry points.
    Dead,
    /// Modules that depend on each other in a cycle, and the module dependencies.
    Modules,
    /// The public API of the library crates.
    Api,
    /// How the public API changed between the two newest surfaces the index keeps, or from
    /// another index's (what a semver check would flag).
    ApiDiff {
        /// The old side: another workspace (or checkout, or version) with its own index.
        #[arg(long, value_name = "PATH")]
        against: Option<std::path::PathBuf>,
    },
    /// Per-function metrics, most complex first.
    Metrics,
}

#[derive(Debug, clap::Subcommand)]
pub enum CacheAction {
    /// List the cached dependencies: name, version, items, files, size, last use.
    List {
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Remove the entries no index attached in the last DAYS days (and the stores of sets of
    /// dependencies that held them); an index whose entry went builds it again on its next
    /// full run.
    Prune {
        /// Keep what was used in the last DAYS days.
        #[arg(
            long,
            value_name = "DAYS",
            default_value_t = 30,
            conflicts_with = "all"
        )]
        older_than: u64,
        /// Remove everything.
        #[arg(long)]
        all: bool,
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
}
