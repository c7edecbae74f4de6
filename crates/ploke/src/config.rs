//! Settings: `ploke.toml` in the workspace (found by walking up from the given path), then
//! environment variables. Keys come only from the environment.
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
}

/// Embedding settings for the workspace at `start`, or `None` when turned off.
pub fn embed_config(start: &Path) -> anyhow::Result<Option<EmbedConfig>> {
    let mut config = match find_config(start) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            let file: FileConfig =
                toml::from_str(&text).with_context(|| format!("{}: invalid config (see README, \"Configuration\")", path.display()))?;
            let raw: toml::Table = toml::from_str(&text).unwrap_or_default();
            let cap_set = raw.get("embed").and_then(|e| e.get("max_tokens")).is_some();
            let mut embed = file.embed.unwrap_or_default();
            if !cap_set {
                embed.max_tokens = DEFAULT_EMBED_MAX_TOKENS;
            }
            if embed.remote.api_key.is_some() {
                anyhow::bail!("{}: API keys are not read from files; set PLOKE_EMBED_API_KEY instead", path.display());
            }
            embed
        }
        None => EmbedConfig { max_tokens: DEFAULT_EMBED_MAX_TOKENS, ..EmbedConfig::default() },
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
        config.max_tokens = n.trim().parse().with_context(|| format!("PLOKE_EMBED_MAX_TOKENS={n}: not a number"))?;
    }
    if let Some(model) = var("PLOKE_EMBED_MODEL") {
        config.remote.model = model;
    }
    if config.remote.api_key.is_none() {
        config.remote.api_key = var("PLOKE_EMBED_API_KEY").or_else(|| var("OPENAI_API_KEY"));
    }
    Ok(Some(config))
}

fn find_config(start: &Path) -> Option<PathBuf> {
    let abs = start.canonicalize().ok()?;
    abs.ancestors().map(|d| d.join(CONFIG_FILE)).find(|p| p.is_file())
}
