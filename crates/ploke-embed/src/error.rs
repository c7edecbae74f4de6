//! [`EmbedError`]: every way embedding can fail, each message naming the file or URL and,
//! where there is one, what to do about it.

use std::path::PathBuf;

/// Errors of both backends.
///
/// The first group is the user's to fix (configuration, missing files, an endpoint that
/// refuses); see [`EmbedError::is_user_fixable`]. The rest are failures inside the model or
/// unexpected answers.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A config value out of range.
    #[error("invalid embedding config: {0}")]
    Config(String),

    /// A model directory without one of the files it needs.
    #[error(
        "model directory {dir}: missing {file}; it needs model.safetensors, tokenizer.json and \
         config.json (scripts/fetch-models.sh puts all-MiniLM-L6-v2 in target/models/)"
    )]
    MissingModelFile { dir: PathBuf, file: &'static str },

    /// The model hub could not be reached (or does not have the model).
    #[error(
        "cannot download {model} from the Hugging Face hub (offline?): {reason}; put its \
         model.safetensors, tokenizer.json and config.json in a directory and set \
         PLOKE_EMBED_DIR=DIR (or embed.local.dir in ploke.toml), or PLOKE_EMBED=off"
    )]
    Download { model: String, reason: String },

    /// A model file that exists but cannot be read or understood.
    #[error("cannot load {path}: {reason}")]
    ModelLoad { path: PathBuf, reason: String },

    /// The tokenizer rejected an input.
    #[error("tokenizer failed: {0}")]
    Tokenize(String),

    /// A tensor operation failed while running the model.
    #[error("model inference failed: {0}")]
    Inference(#[from] candle_core::Error),

    /// One HTTP request took longer than `remote.timeout_secs`.
    #[error("request to {url} timed out after {secs} s (remote.timeout_secs)")]
    Timeout { url: String, secs: u64 },

    /// The endpoint could not be reached at all (refused, DNS, TLS, ...).
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },

    /// The endpoint answered with an error status (after any retries).
    #[error("{url} answered HTTP {status} after {attempts} attempt(s): {body}")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        body: String,
    },

    /// The endpoint answered 2xx with something that is not a usable embeddings response.
    #[error("bad response from {url}: {reason}")]
    BadResponse { url: String, reason: String },
}

impl EmbedError {
    /// True for errors the user fixes by changing configuration, files or the endpoint
    /// (a 4xx other than 429 included); false for failures inside the model or the server.
    pub fn is_user_fixable(&self) -> bool {
        match self {
            EmbedError::Config(_)
            | EmbedError::MissingModelFile { .. }
            | EmbedError::Download { .. }
            | EmbedError::Timeout { .. }
            | EmbedError::Transport { .. } => true,
            EmbedError::Status { status, .. } => (400..500).contains(status) && *status != 429,
            EmbedError::ModelLoad { .. }
            | EmbedError::Tokenize(_)
            | EmbedError::Inference(_)
            | EmbedError::BadResponse { .. } => false,
        }
    }
}

/// An error and its sources on one line: `reqwest` and `ureq` put the useful part
/// ("Connection refused") in the source chain, not in `Display`.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
