//! The one typed configuration of an [`Embedder`](crate::Embedder).
//!
//! Every field has a default, so an empty table is a working config (the local
//! all-MiniLM-L6-v2, fetched from the model hub on first use); unknown keys are rejected so a
//! typo is an error rather than a silently ignored setting. In TOML:
//!
//! ```toml
//! backend = "local"          # or "remote"
//! max_tokens = 128
//! batch_size = 32
//!
//! [local]
//! dir = "target/models/all-MiniLM-L6-v2"   # or leave out and use hub_id
//!
//! [remote]
//! url = "http://localhost:11434/v1"
//! model = "all-minilm"
//! ```

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::EmbedError;

/// Which backend computes the vectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A BERT-family sentence model run in this process on the CPU ([`LocalBert`](crate::LocalBert)).
    #[default]
    Local,
    /// An OpenAI-compatible `POST {url}/embeddings` endpoint ([`OpenAiEmbedder`](crate::OpenAiEmbedder)).
    Remote,
}

/// Configuration of an [`Embedder`](crate::Embedder); see the module docs for an example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedConfig {
    pub backend: Backend,
    /// Inputs are cut to this many model tokens (local backend; special tokens included).
    /// Small caps keep CPU embedding fast: attention cost grows with the square of length.
    pub max_tokens: usize,
    /// Texts per forward pass (local) or per HTTP request (remote).
    pub batch_size: usize,
    pub local: LocalConfig,
    pub remote: RemoteConfig,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        Self {
            backend: Backend::Local,
            max_tokens: 128,
            batch_size: 32,
            local: LocalConfig::default(),
            remote: RemoteConfig::default(),
        }
    }
}

/// Where the local model comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalConfig {
    /// A directory holding `model.safetensors`, `tokenizer.json`, `config.json` and optionally
    /// `1_Pooling/config.json`. When set, nothing is downloaded.
    pub dir: Option<PathBuf>,
    /// Model-hub id downloaded (once) when `dir` is not set.
    pub hub_id: String,
    /// Where hub downloads are cached; `None` is the standard Hugging Face cache
    /// (`~/.cache/huggingface/hub`).
    pub cache_dir: Option<PathBuf>,
    /// Base URL of the model hub or a mirror; `None` is huggingface.co.
    pub hub_endpoint: Option<String>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            dir: None,
            hub_id: DEFAULT_HUB_MODEL.to_string(),
            cache_dir: None,
            hub_endpoint: None,
        }
    }
}

/// The default local model: 384 dimensions, mean pooling, 22M parameters.
pub const DEFAULT_HUB_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// An OpenAI-compatible embeddings endpoint: OpenAI, Ollama (`/v1`), TEI, vLLM, ...
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    /// Base URL; requests go to `{url}/embeddings`.
    pub url: String,
    /// Sent as `Authorization: Bearer ...` when set. The library never reads the environment:
    /// the caller fills this in (e.g. from `OPENAI_API_KEY`).
    pub api_key: Option<String>,
    /// The `model` field of each request.
    pub model: String,
    /// Vector length, when known. `None` asks the endpoint once at start-up.
    pub dims: Option<usize>,
    /// Limit for one HTTP request, connecting included.
    pub timeout_secs: u64,
    /// Retries after a 429 or 5xx answer (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        Self {
            url: "http://localhost:11434/v1".to_string(),
            api_key: None,
            model: "all-minilm".to_string(),
            dims: None,
            timeout_secs: 60,
            max_retries: 3,
        }
    }
}

// Hand-written so that logging a config never prints the key.
impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("dims", &self.dims)
            .field("timeout_secs", &self.timeout_secs)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl EmbedConfig {
    /// Checks the values serde cannot: non-zero sizes, a usable URL.
    pub fn validate(&self) -> Result<(), EmbedError> {
        let bad = |msg: String| Err(EmbedError::Config(msg));
        if self.max_tokens < 2 {
            return bad(format!(
                "max_tokens must be at least 2 (the special tokens), got {}",
                self.max_tokens
            ));
        }
        if self.batch_size == 0 {
            return bad("batch_size must be at least 1".to_string());
        }
        match self.backend {
            Backend::Local => {
                if self.local.dir.is_none() && self.local.hub_id.trim().is_empty() {
                    return bad("local backend needs local.dir or local.hub_id".to_string());
                }
            }
            Backend::Remote => {
                let url = &self.remote.url;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return bad(format!(
                        "remote.url must start with http:// or https://, got {url:?}"
                    ));
                }
                if self.remote.model.trim().is_empty() {
                    return bad("remote.model must name the model to ask for".to_string());
                }
                if self.remote.timeout_secs == 0 {
                    return bad("remote.timeout_secs must be at least 1".to_string());
                }
                if self.remote.dims == Some(0) {
                    return bad("remote.dims must be positive when set".to_string());
                }
            }
        }
        Ok(())
    }
}
