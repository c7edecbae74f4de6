//! Which model to talk to and how: [`LlmConfig`], read from `ploke.toml`'s `[llm]` table.
//!
//! The API key is never part of the file: the binary fills [`LlmConfig::api_key`] from the
//! environment with [`crate::env::api_key_from_env`].

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::LlmError;

/// Ollama's OpenAI-compatible endpoint, the default for [`ProviderKind::OpenAi`].
pub const DEFAULT_OPENAI_BASE_URL: &str = "http://localhost:11434/v1";
/// Anthropic's API, the default for [`ProviderKind::Anthropic`].
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// The generation limit sent when neither the request nor the configuration sets one
/// (Anthropic requires a value).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Which wire format (and so which client) to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI's chat completions API and every server that copies it: Ollama, llama.cpp's
    /// server, vLLM, LM Studio, OpenRouter, OpenAI.
    #[default]
    #[serde(rename = "openai")]
    OpenAi,
    /// Anthropic's messages API.
    Anthropic,
    /// A GGUF model run in-process; built by the local-model crate, not this one
    /// (see [`crate::connect_with`]).
    Local,
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Local => "local",
        })
    }
}

/// An API key. Its `Debug` output is redacted and it is never serialized, so it cannot end
/// up in logs, error messages or files by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that puts it in a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How to reach a chat model. `ploke.toml`'s `[llm]` table; every field has a default and
/// unknown fields are rejected.
///
/// ```toml
/// [llm]
/// provider = "openai"              # openai | anthropic | local
/// model = "qwen2.5-coder:7b"
/// base_url = "http://localhost:11434/v1"
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmConfig {
    /// The wire format.
    pub provider: ProviderKind,
    /// The model's name at the provider (for `local`: the GGUF file or hub id).
    pub model: String,
    /// Where the API lives; `None` for the provider's default ([`DEFAULT_OPENAI_BASE_URL`],
    /// [`DEFAULT_ANTHROPIC_BASE_URL`]). For OpenAI-compatible servers it ends before
    /// `/chat/completions` (usually in `/v1`); for Anthropic it ends before `/v1/messages`.
    pub base_url: Option<String>,
    /// The API key, filled by the caller from the environment; never read from or written to
    /// a file.
    #[serde(skip)]
    pub api_key: Option<ApiKey>,
    /// Seconds to wait for a connection, for the answer to start, and between two pieces of
    /// a streamed answer. Not a limit on the whole answer.
    pub timeout_secs: f64,
    /// How many times a request is retried after HTTP 429 or 5xx (0: never).
    pub max_retries: u32,
    /// The first wait before a retry, in milliseconds; it doubles on each retry (with jitter).
    pub retry_backoff_ms: u64,
    /// The longest single wait before a retry, in seconds, also when the server's
    /// `retry-after` header asks for longer.
    pub max_retry_wait_secs: f64,
    /// The most tokens to generate per request.
    pub max_tokens: u32,
    /// Sampling temperature; `None` for the provider's default.
    pub temperature: Option<f32>,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            provider: ProviderKind::OpenAi,
            model: String::new(),
            base_url: None,
            api_key: None,
            timeout_secs: 120.0,
            max_retries: 3,
            retry_backoff_ms: 500,
            max_retry_wait_secs: 30.0,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: None,
        }
    }
}

impl LlmConfig {
    /// The base URL in use: the configured one without a trailing `/`, or the provider's
    /// default (`None` for `local`).
    pub fn effective_base_url(&self) -> Option<String> {
        match (&self.base_url, self.provider) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
            (None, ProviderKind::OpenAi) => Some(DEFAULT_OPENAI_BASE_URL.to_string()),
            (None, ProviderKind::Anthropic) => Some(DEFAULT_ANTHROPIC_BASE_URL.to_string()),
            (None, ProviderKind::Local) => None,
        }
    }

    /// A request for `messages` with this configuration's model, `max_tokens` and
    /// `temperature`, and no system text or tools.
    pub fn request(&self, messages: Vec<crate::Message>) -> crate::ChatRequest {
        crate::ChatRequest {
            model: self.model.clone(),
            system: None,
            messages,
            tools: Vec::new(),
            max_tokens: Some(self.max_tokens),
            temperature: self.temperature,
        }
    }

    /// Checks the values that do not need a server: a model name, a sane timeout.
    pub fn validate(&self) -> Result<(), LlmError> {
        if self.model.trim().is_empty() {
            return Err(LlmError::Config(format!(
                "no model set for provider `{}`; set `model` in the [llm] table of ploke.toml",
                self.provider
            )));
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return Err(LlmError::Config(format!(
                "`timeout_secs` must be a positive number of seconds, not {}",
                self.timeout_secs
            )));
        }
        if !(self.max_retry_wait_secs.is_finite() && self.max_retry_wait_secs >= 0.0) {
            return Err(LlmError::Config(format!(
                "`max_retry_wait_secs` must be zero or more seconds, not {}",
                self.max_retry_wait_secs
            )));
        }
        Ok(())
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }
}
