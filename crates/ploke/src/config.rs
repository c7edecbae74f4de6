//! Settings: `ploke.toml` in the workspace (found by walking up from the given path) or else in
//! the user's config directory (`$PLOKE_CONFIG_DIR`, `$XDG_CONFIG_HOME/ploke`,
//! `~/.config/ploke`), then environment variables. Keys come only from the environment.
//!
//! ```toml
//! [embed]                       # ploke_embed::EmbedConfig; every key optional
//! backend = "local"             # or "remote" (an OpenAI-compatible /v1/embeddings)
//! local.dir = "models/all-MiniLM-L6-v2"
//! ```
//!
//! Environment: `PLOKE_EMBED=off` turns embeddings off; `PLOKE_EMBED_DIR` a local model
//! directory; `PLOKE_EMBED_URL` / `PLOKE_EMBED_MODEL` a remote endpoint and model;
//! `PLOKE_EMBED_API_KEY` (or `OPENAI_API_KEY`) its key; `PLOKE_EMBED_MAX_TOKENS` the token cap.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ploke_embed::{Backend, EmbedConfig};

/// The config file name looked for in the workspace and its ancestors.
pub const CONFIG_FILE: &str = "ploke.toml";

/// Token cap of embedded item texts unless configured.
const DEFAULT_EMBED_MAX_TOKENS: usize = ploke_retrieve::embed_text::DEFAULT_MAX_TOKENS;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    embed: Option<EmbedConfig>,
    llm: Option<ploke_llm::LlmConfig>,
}

/// Model used with the default provider (Ollama's OpenAI-compatible API) when none is named.
pub const DEFAULT_OLLAMA_MODEL: &str = "qwen2.5-coder:7b";

/// Command-line choices that override the file and the environment.
#[derive(Debug, Clone, Default, clap::Args)]
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

/// Chat model settings for the workspace at `start`: `[llm]` in `ploke.toml`, then
/// `PLOKE_PROVIDER` / `PLOKE_MODEL` / `PLOKE_BASE_URL`, then flags; the key from the
/// environment only.
pub fn llm_config(start: &Path, flags: &LlmFlags) -> anyhow::Result<ploke_llm::LlmConfig> {
    let mut config = match find_config(start) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            let file: FileConfig = toml::from_str(&text).with_context(|| {
                format!(
                    "{}: invalid config (see README, \"Configuration\")",
                    path.display()
                )
            })?;
            file.llm.unwrap_or_default()
        }
        None => ploke_llm::LlmConfig::default(),
    };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let provider = flags.provider.clone().or_else(|| var("PLOKE_PROVIDER"));
    if let Some(p) = provider {
        config.provider = match p.to_ascii_lowercase().as_str() {
            "openai" => ploke_llm::ProviderKind::OpenAi,
            "anthropic" => ploke_llm::ProviderKind::Anthropic,
            "local" => ploke_llm::ProviderKind::Local,
            other => anyhow::bail!("unknown provider `{other}`: use openai, anthropic or local"),
        };
    }
    if let Some(m) = flags.model.clone().or_else(|| var("PLOKE_MODEL")) {
        config.model = m;
    }
    if let Some(u) = flags.base_url.clone().or_else(|| var("PLOKE_BASE_URL")) {
        config.base_url = Some(u);
    }
    if config.model.is_empty() && config.provider == ploke_llm::ProviderKind::OpenAi {
        config.model = DEFAULT_OLLAMA_MODEL.to_string();
    }
    ploke_llm::env::fill_api_key_from_env(&mut config);
    Ok(config)
}

/// Embedding settings for the workspace at `start`, or `None` when turned off.
pub fn embed_config(start: &Path) -> anyhow::Result<Option<EmbedConfig>> {
    let mut config = match find_config(start) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            let file: FileConfig = toml::from_str(&text).with_context(|| {
                format!(
                    "{}: invalid config (see README, \"Configuration\")",
                    path.display()
                )
            })?;
            let raw: toml::Table = toml::from_str(&text).unwrap_or_default();
            let cap_set = raw.get("embed").and_then(|e| e.get("max_tokens")).is_some();
            let mut embed = file.embed.unwrap_or_default();
            if !cap_set {
                embed.max_tokens = DEFAULT_EMBED_MAX_TOKENS;
            }
            if embed.remote.api_key.is_some() {
                anyhow::bail!(
                    "{}: API keys are not read from files; set PLOKE_EMBED_API_KEY instead",
                    path.display()
                );
            }
            embed
        }
        None => EmbedConfig {
            max_tokens: DEFAULT_EMBED_MAX_TOKENS,
            ..EmbedConfig::default()
        },
    };
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if let Some(v) = var("PLOKE_EMBED") {
        if matches!(v.as_str(), "off" | "0" | "false" | "no") {
            return Ok(None);
        }
    }
    if let Some(dir) = var("PLOKE_EMBED_DIR") {
        config.backend = Backend::Local;
        config.local.dir = Some(PathBuf::from(dir));
    }
    if let Some(url) = var("PLOKE_EMBED_URL") {
        config.backend = Backend::Remote;
        config.remote.url = url;
    }
    if let Some(n) = var("PLOKE_EMBED_MAX_TOKENS") {
        config.max_tokens = n
            .trim()
            .parse()
            .with_context(|| format!("PLOKE_EMBED_MAX_TOKENS={n}: not a number"))?;
    }
    if let Some(model) = var("PLOKE_EMBED_MODEL") {
        config.remote.model = model;
    }
    if config.remote.api_key.is_none() {
        config.remote.api_key = var("PLOKE_EMBED_API_KEY").or_else(|| var("OPENAI_API_KEY"));
    }
    Ok(Some(config))
}

/// The workspace's `ploke.toml` (here or above), else the user's
/// (`$PLOKE_CONFIG_DIR`, `$XDG_CONFIG_HOME/ploke` or `~/.config/ploke`, file `ploke.toml`).
fn find_config(start: &Path) -> Option<PathBuf> {
    let in_workspace = start.canonicalize().ok().and_then(|abs| {
        abs.ancestors()
            .map(|d| d.join(CONFIG_FILE))
            .find(|p| p.is_file())
    });
    in_workspace.or_else(|| {
        user_config_dir()
            .map(|d| d.join(CONFIG_FILE))
            .filter(|p| p.is_file())
    })
}

fn user_config_dir() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("PLOKE_CONFIG_DIR")
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("ploke")))
        .or_else(|| var("HOME").map(|h| h.join(".config/ploke")))
}
