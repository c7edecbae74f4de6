//! What can go wrong talking to a model, each as one line that says what to do.

use thiserror::Error;

/// An error from a chat backend. The `Display` text is one line meant for the user.
///
/// [`LlmError::is_user_fault`] splits configuration mistakes (wrong URL, key, model) from
/// failures of the provider or the network.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LlmError {
    /// The configuration cannot work (missing model, bad URL, unknown provider…).
    #[error("LLM configuration: {0}")]
    Config(String),

    /// Nothing answered at the URL.
    #[error(
        "cannot reach {url} ({reason}); is the model server running and `base_url` right? \
         `ploke context` prints the context without a model"
    )]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why the connection failed.
        reason: String,
    },

    /// The provider refused the request for want of a valid API key (HTTP 401 or 403).
    #[error("{url} refused the request (HTTP {status}: {message}); {}", auth_hint(*.key_given, .env_var))]
    Auth {
        /// The URL tried.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The environment variable that supplies the key for this provider.
        env_var: &'static str,
        /// Whether a key was sent at all.
        key_given: bool,
        /// The provider's explanation (with the key, if echoed, redacted).
        message: String,
    },

    /// HTTP 404: the model (or the endpoint) does not exist.
    #[error(
        "model `{model}` not found at {url} (HTTP 404: {message}); check the model name \
         (for Ollama: `ollama pull {model}`) and `base_url`"
    )]
    ModelNotFound {
        /// The model asked for.
        model: String,
        /// The URL tried.
        url: String,
        /// The provider's explanation.
        message: String,
    },

    /// Any other HTTP error status (after retries, for 429 and 5xx).
    #[error("{url} answered HTTP {status}: {message}{}", retried_note(*.retries))]
    Http {
        /// The URL tried.
        url: String,
        /// The status code.
        status: u16,
        /// The provider's explanation (its error message, or the start of the body).
        message: String,
        /// How many times the request was retried before giving up.
        retries: u32,
    },

    /// No bytes arrived for the configured time (connecting, waiting for the answer, or
    /// between two pieces of the stream).
    #[error("no answer from {url} within {secs}s (`timeout_secs`); the server may be overloaded or stuck")]
    Timeout {
        /// The URL tried.
        url: String,
        /// The timeout that expired.
        secs: f64,
    },

    /// The connection failed after it was made (reset, closed early…).
    #[error("connection to {url} failed: {reason}")]
    Transport {
        /// The URL tried.
        url: String,
        /// What failed.
        reason: String,
    },

    /// The server's answer did not follow the provider's stream format.
    #[error("malformed stream from {url}: {detail}")]
    MalformedStream {
        /// The URL tried.
        url: String,
        /// What was wrong.
        detail: String,
    },

    /// The provider reported an error inside an otherwise valid stream.
    #[error("{url} reported an error while streaming: {message}")]
    Provider {
        /// The URL tried.
        url: String,
        /// The provider's error (type and message).
        message: String,
    },
}

fn auth_hint(key_given: bool, env_var: &str) -> String {
    if key_given {
        format!("check the API key in {env_var} (or PLOKE_API_KEY)")
    } else {
        format!("no API key was given: set {env_var} (or PLOKE_API_KEY)")
    }
}

fn retried_note(retries: u32) -> String {
    match retries {
        0 => String::new(),
        1 => " (after 1 retry)".to_string(),
        n => format!(" (after {n} retries)"),
    }
}

impl LlmError {
    /// True when the user can fix this in the configuration or the environment (URL, key,
    /// model, other 4xx answers); false for provider, network and stream failures.
    pub fn is_user_fault(&self) -> bool {
        match self {
            LlmError::Config(_)
            | LlmError::Unreachable { .. }
            | LlmError::Auth { .. }
            | LlmError::ModelNotFound { .. } => true,
            LlmError::Http { status, .. } => (400..500).contains(status) && *status != 429,
            LlmError::Timeout { .. }
            | LlmError::Transport { .. }
            | LlmError::MalformedStream { .. }
            | LlmError::Provider { .. } => false,
        }
    }
}
