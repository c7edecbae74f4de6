//! Settings, merged once: defaults < `ploke.toml` < environment < flags.
//!
//! `ploke.toml` is looked for in the workspace (the start path and every directory above it),
//! then in the user's config directory (`$PLOKE_CONFIG_DIR`, `$XDG_CONFIG_HOME/ploke`,
//! `~/.config/ploke`). Every key is optional; an unknown key is an error naming the file.
//! API keys come only from the environment, never from a file.
//!
//! ```toml
//! [embed]                       # ploke_embed::EmbedConfig
//! backend = "local"             # or "remote" (an OpenAI-compatible /v1/embeddings)
//! local.dir = "models/all-MiniLM-L6-v2"
//!
//! [llm]
//! provider = "openai"           # openai | anthropic | local
//! model = "qwen2.5-coder:7b"
//! base_url = "http://localhost:11434/v1"
//! ```
//!
//! The library reads no environment variable itself: the front end captures them once
//! ([`Environment::capture`]) and hands them over, so tests pass their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ploke_embed::{Backend, EmbedConfig};
use ploke_llm::{LlmConfig, ProviderKind};

use crate::SessionError;

/// The config file name looked for in the workspace and its ancestors.
pub const CONFIG_FILE: &str = "ploke.toml";

/// Model used with the default provider (Ollama's OpenAI-compatible API) when none is named.
pub const DEFAULT_OLLAMA_MODEL: &str = "qwen2.5-coder:7b";

/// Tokens a local (in-process) model generates per answer unless `max_tokens` is set: small
/// CPU models generate ~10–20 tokens/s.
pub const LOCAL_MAX_TOKENS: u32 = 256;

/// The environment variables ploke reads, captured once.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

/// Every variable [`Environment::capture`] takes (and so every variable that can change what
/// ploke does).
pub const VARIABLES: &[&str] = &[
    "PLOKE_EMBED",
    "PLOKE_EMBED_DIR",
    "PLOKE_EMBED_URL",
    "PLOKE_EMBED_MODEL",
    "PLOKE_EMBED_API_KEY",
    "PLOKE_EMBED_MAX_TOKENS",
    "PLOKE_PROVIDER",
    "PLOKE_MODEL",
    "PLOKE_BASE_URL",
    "PLOKE_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENROUTER_API_KEY",
    "PLOKE_CONFIG_DIR",
    "XDG_CONFIG_HOME",
    "HOME",
];

impl Environment {
    /// The variables ploke reads, from this process's environment.
    pub fn capture() -> Environment {
        Environment::from_pairs(
            VARIABLES
                .iter()
                .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v))),
        )
    }

    /// An environment of exactly these variables (for tests and embedders).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Environment {
        Environment {
            vars: pairs.into_iter().collect(),
        }
    }

    /// A variable's value; empty or blank counts as unset.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Every secret among the variables (API keys), for redaction.
    pub fn secrets(&self) -> Vec<&str> {
        self.vars
            .iter()
            .filter(|(k, _)| k.ends_with("_API_KEY"))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
            .collect()
    }
}

/// Choices made on the command line (or in a front end's UI); they override the file and
/// the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `openai`, `anthropic` or `local`.
    pub provider: Option<String>,
    /// The model name at the provider (the GGUF file for `local`).
    pub model: Option<String>,
    /// The API's base URL.
    pub base_url: Option<String>,
    /// Turn embeddings off for this session (`--no-embed`).
    pub no_embed: bool,
}

/// Every setting of a session.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The embedding model; `None` when embeddings are off.
    pub embed: Option<EmbedConfig>,
    /// The chat model, fully resolved (key from the environment).
    pub llm: LlmConfig,
    /// The config file the settings came from, if any.
    pub file: Option<PathBuf>,
    /// Secrets to keep out of every message: the API keys, passwords in URLs.
    pub secrets: Vec<String>,
}

/// `ploke.toml` as written.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    embed: Option<toml::Table>,
    llm: Option<LlmFile>,
}

/// The `[llm]` table: every key optional, unset meaning "the default for the provider".
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LlmFile {
    provider: Option<ProviderKind>,
    model: Option<String>,
    base_url: Option<String>,
    timeout_secs: Option<f64>,
    max_retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    max_retry_wait_secs: Option<f64>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    /// Refused: keys come from the environment only.
    api_key: Option<toml::Value>,
}

impl Settings {
    /// The settings of the workspace at `start`.
    pub fn load(
        start: &Path,
        env: &Environment,
        overrides: &Overrides,
    ) -> Result<Settings, SessionError> {
        let file = find_config(start, env);
        let parsed = match &file {
            Some(path) => read_config(path)?,
            None => FileConfig::default(),
        };
        let invalid = |path: &Option<PathBuf>, message: String| SessionError::Config {
            file: path.clone(),
            message,
        };
        let embed = embed_settings(parsed.embed, env, overrides).map_err(|m| invalid(&file, m))?;
        let llm = llm_settings(parsed.llm.unwrap_or_default(), env, overrides)
            .map_err(|m| invalid(&file, m))?;
        let mut secrets: Vec<String> = env.secrets().into_iter().map(str::to_string).collect();
        let urls = [
            llm.base_url.as_deref(),
            embed.as_ref().map(|e| e.remote.url.as_str()),
        ];
        secrets.extend(
            urls.into_iter()
                .flatten()
                .filter_map(ploke_core::redact::url_password)
                .map(str::to_string),
        );
        secrets.sort();
        secrets.dedup();
        Ok(Settings {
            embed,
            llm,
            file,
            secrets,
        })
    }

    /// `text` without any secret of these settings (and without URL passwords).
    pub fn redact(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        ploke_core::redact::redact(text, &secrets)
    }
}

fn read_config(path: &Path) -> Result<FileConfig, SessionError> {
    let text = std::fs::read_to_string(path).map_err(|e| SessionError::Config {
        file: Some(path.to_path_buf()),
        message: format!("cannot read it: {e}"),
    })?;
    toml::from_str(&text).map_err(|e| SessionError::Config {
        file: Some(path.to_path_buf()),
        // toml's message spans several lines (the offending line, a caret): keep the gist.
        message: e.message().to_string(),
    })
}

fn embed_settings(
    table: Option<toml::Table>,
    env: &Environment,
    overrides: &Overrides,
) -> Result<Option<EmbedConfig>, String> {
    if overrides.no_embed {
        return Ok(None);
    }
    if let Some(v) = env.get("PLOKE_EMBED") {
        if matches!(v.trim(), "off" | "0" | "false" | "no") {
            return Ok(None);
        }
    }
    let mut table = table.unwrap_or_default();
    // The token cap: ploke's default unless the file sets one.
    table.entry("max_tokens").or_insert_with(|| {
        toml::Value::Integer(ploke_retrieve::embed_text::DEFAULT_MAX_TOKENS as i64)
    });
    let mut config: EmbedConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| format!("[embed]: {}", e.message()))?;
    if config.remote.api_key.is_some() {
        return Err("API keys are not read from files; set PLOKE_EMBED_API_KEY instead".into());
    }
    if let Some(dir) = env.get("PLOKE_EMBED_DIR") {
        config.backend = Backend::Local;
        config.local.dir = Some(PathBuf::from(dir));
    }
    if let Some(url) = env.get("PLOKE_EMBED_URL") {
        config.backend = Backend::Remote;
        config.remote.url = url.to_string();
    }
    if let Some(n) = env.get("PLOKE_EMBED_MAX_TOKENS") {
        config.max_tokens = n
            .trim()
            .parse()
            .map_err(|_| format!("PLOKE_EMBED_MAX_TOKENS={n}: not a number"))?;
    }
    if let Some(model) = env.get("PLOKE_EMBED_MODEL") {
        config.remote.model = model.to_string();
    }
    config.remote.api_key = env
        .get("PLOKE_EMBED_API_KEY")
        .or_else(|| env.get("OPENAI_API_KEY"))
        .map(str::to_string);
    Ok(Some(config))
}

fn llm_settings(
    file: LlmFile,
    env: &Environment,
    overrides: &Overrides,
) -> Result<LlmConfig, String> {
    if file.api_key.is_some() {
        return Err("[llm] api_key: keys are not read from files; set PLOKE_API_KEY (or the provider's variable) instead".into());
    }
    let provider = match overrides
        .provider
        .as_deref()
        .or_else(|| env.get("PLOKE_PROVIDER"))
    {
        Some(p) => parse_provider(p)?,
        None => file.provider.unwrap_or_default(),
    };
    let model = overrides
        .model
        .clone()
        .or_else(|| env.get("PLOKE_MODEL").map(str::to_string))
        .or(file.model);
    let model = match (model, provider) {
        (Some(m), _) => m,
        (None, ProviderKind::OpenAi) => DEFAULT_OLLAMA_MODEL.to_string(),
        // Anthropic has no default model worth guessing, and a local model is a file: both
        // are asked for by `validate` when the model is used.
        (None, _) => String::new(),
    };
    let base_url = overrides
        .base_url
        .clone()
        .or_else(|| env.get("PLOKE_BASE_URL").map(str::to_string))
        .or(file.base_url);
    let defaults = LlmConfig::default();
    let max_tokens = file.max_tokens.unwrap_or(match provider {
        ProviderKind::Local => LOCAL_MAX_TOKENS,
        _ => defaults.max_tokens,
    });
    let mut config = LlmConfig {
        provider,
        model,
        base_url,
        api_key: None,
        timeout_secs: file.timeout_secs.unwrap_or(defaults.timeout_secs),
        max_retries: file.max_retries.unwrap_or(defaults.max_retries),
        retry_backoff_ms: file.retry_backoff_ms.unwrap_or(defaults.retry_backoff_ms),
        max_retry_wait_secs: file
            .max_retry_wait_secs
            .unwrap_or(defaults.max_retry_wait_secs),
        max_tokens,
        temperature: file.temperature.or(defaults.temperature),
    };
    config.api_key = ploke_llm::env::api_key_with(provider, config.base_url.as_deref(), |name| {
        env.get(name).map(str::to_string)
    });
    Ok(config)
}

fn parse_provider(p: &str) -> Result<ProviderKind, String> {
    match p.trim().to_ascii_lowercase().as_str() {
        "openai" => Ok(ProviderKind::OpenAi),
        "anthropic" => Ok(ProviderKind::Anthropic),
        "local" => Ok(ProviderKind::Local),
        other => Err(format!(
            "unknown provider `{other}`: use openai, anthropic or local"
        )),
    }
}

/// The workspace's `ploke.toml` (here or above), else the user's.
fn find_config(start: &Path, env: &Environment) -> Option<PathBuf> {
    let in_workspace = start.canonicalize().ok().and_then(|abs| {
        abs.ancestors()
            .map(|d| d.join(CONFIG_FILE))
            .find(|p| p.is_file())
    });
    in_workspace.or_else(|| {
        user_config_dir(env)
            .map(|d| d.join(CONFIG_FILE))
            .filter(|p| p.is_file())
    })
}

fn user_config_dir(env: &Environment) -> Option<PathBuf> {
    env.get("PLOKE_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            env.get("XDG_CONFIG_HOME")
                .map(|d| Path::new(d).join("ploke"))
        })
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".config/ploke")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn workspace(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), config).unwrap();
        dir
    }

    #[test]
    fn defaults_file_environment_flags_in_that_order() {
        let dir = workspace("[llm]\nprovider = \"anthropic\"\nmodel = \"from-file\"\n");
        let none = env(&[("HOME", "/nonexistent")]);
        let s = Settings::load(dir.path(), &none, &Overrides::default()).unwrap();
        assert_eq!(s.llm.provider, ProviderKind::Anthropic);
        assert_eq!(s.llm.model, "from-file");
        assert_eq!(s.llm.max_tokens, LlmConfig::default().max_tokens);
        let e = env(&[
            ("PLOKE_MODEL", "from-env"),
            ("ANTHROPIC_API_KEY", "sk-ant-secret"),
        ]);
        let s = Settings::load(dir.path(), &e, &Overrides::default()).unwrap();
        assert_eq!(s.llm.model, "from-env");
        assert!(s.llm.api_key.is_some());
        assert_eq!(s.secrets, vec!["sk-ant-secret".to_string()]);
        let flags = Overrides {
            model: Some("from-flag".into()),
            provider: Some("openai".into()),
            ..Overrides::default()
        };
        let s = Settings::load(dir.path(), &e, &flags).unwrap();
        assert_eq!(s.llm.model, "from-flag");
        assert_eq!(s.llm.provider, ProviderKind::OpenAi);
    }

    #[test]
    fn unset_means_the_providers_default() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(&[("HOME", "/nonexistent")]);
        let s = Settings::load(dir.path(), &e, &Overrides::default()).unwrap();
        assert_eq!(s.llm.model, DEFAULT_OLLAMA_MODEL);
        let local = Overrides {
            provider: Some("local".into()),
            ..Overrides::default()
        };
        let s = Settings::load(dir.path(), &e, &local).unwrap();
        assert_eq!(s.llm.max_tokens, LOCAL_MAX_TOKENS);
        assert_eq!(s.llm.model, "");
        // A local model whose file sets max_tokens keeps it, whatever its value.
        let dir = workspace(&format!(
            "[llm]\nmax_tokens = {}\n",
            LlmConfig::default().max_tokens
        ));
        let s = Settings::load(dir.path(), &e, &local).unwrap();
        assert_eq!(s.llm.max_tokens, LlmConfig::default().max_tokens);
    }

    #[test]
    fn bad_files_and_keys_in_files_are_refused_naming_the_file() {
        let e = env(&[("HOME", "/nonexistent")]);
        for bad in [
            "[llm]\nmodle = \"x\"\n",
            "[llm]\napi_key = \"sk-x\"\n",
            "[embed]\nremote.api_key = \"sk-x\"\n",
            "[embed]\nbackend = \"nope\"\n",
            "not toml at all [",
        ] {
            let dir = workspace(bad);
            let err = Settings::load(dir.path(), &e, &Overrides::default()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("ploke.toml"), "{bad}: {msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
            assert!(!msg.contains("sk-x"), "{msg}");
        }
    }

    #[test]
    fn embeddings_off_and_overridden() {
        let dir = tempfile::tempdir().unwrap();
        let e = env(&[("PLOKE_EMBED", "off")]);
        assert!(Settings::load(dir.path(), &e, &Overrides::default())
            .unwrap()
            .embed
            .is_none());
        let e = env(&[
            ("PLOKE_EMBED_URL", "http://user:pw-secret@localhost:1/v1"),
            ("PLOKE_EMBED_MAX_TOKENS", "32"),
        ]);
        let s = Settings::load(dir.path(), &e, &Overrides::default()).unwrap();
        let embed = s.embed.as_ref().unwrap();
        assert_eq!(embed.backend, Backend::Remote);
        assert_eq!(embed.max_tokens, 32);
        assert!(s.secrets.contains(&"pw-secret".to_string()));
        assert_eq!(
            s.redact("at http://user:pw-secret@localhost:1/v1"),
            "at http://user:<redacted>@localhost:1/v1"
        );
        let off = Overrides {
            no_embed: true,
            ..Overrides::default()
        };
        assert!(Settings::load(dir.path(), &env(&[]), &off)
            .unwrap()
            .embed
            .is_none());
    }
}
