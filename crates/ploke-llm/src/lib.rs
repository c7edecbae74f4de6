//! Chat models for ploke: one provider-neutral conversation, several backends.
//!
//! # A tour
//!
//! - [`types`]: the conversation — [`Message`]s (system, user, assistant with tool calls,
//!   tool results), [`ToolSpec`]s, a [`ChatRequest`], the [`ChatResponse`] and the
//!   [`StreamEvent`]s reported while it streams.
//! - [`ChatModel`]: the one trait every backend implements. Answers always stream: text
//!   deltas reach the caller's callback as they arrive, tool calls once their arguments are
//!   complete, then `Done`; the assembled [`ChatResponse`] is returned.
//! - [`OpenAiCompatible`]: `POST {base_url}/chat/completions` with `stream: true`. Speaks to
//!   Ollama (the default, `http://localhost:11434/v1`), llama.cpp's server, vLLM, LM Studio,
//!   OpenRouter and OpenAI.
//! - [`Anthropic`]: `POST {base_url}/v1/messages` with `stream: true`, API version
//!   `2023-06-01`.
//! - [`LlmConfig`] (`[llm]` in `ploke.toml`) and [`connect`], which builds the backend it
//!   names. The in-process GGUF backend lives in another crate and plugs in through
//!   [`connect_with`].
//! - [`env`](mod@env): the only code here that reads the environment (API keys), for the binary to
//!   call.
//!
//! # Robustness
//!
//! Requests that fail with HTTP 429 or 5xx before anything streamed are retried up to
//! [`LlmConfig::max_retries`] times, waiting `retry-after` when the server says (capped at
//! [`LlmConfig::max_retry_wait_secs`]) and otherwise an exponential backoff with jitter.
//! [`LlmConfig::timeout_secs`] bounds connecting, the wait for the answer, and every pause
//! inside the stream. Every failure is an [`LlmError`] whose message is one line saying what
//! to do. API keys are wrapped in [`ApiKey`], whose `Debug` is redacted; they are never
//! logged, serialized, or echoed in an error.
//!
//! # Runtime
//!
//! The clients are async and run on tokio: call them inside a runtime with I/O and timers
//! enabled (`#[tokio::main]`, or `Builder::new_current_thread().enable_all()`).
//!
//! # Cancellation
//!
//! Drop the future returned by [`ChatModel::chat`] (for example, lose a `tokio::select!`
//! race against Ctrl-C): the connection is closed and nothing more is reported. There is no
//! token to pass.
//!
//! # Adding a provider
//!
//! Wire formats live only in this crate, one module each. A new one: a module with a client
//! struct that builds its request body from a [`ChatRequest`], posts it through the shared
//! transport (`http.rs`: retries, timeouts, HTTP errors, server-sent events), feeds the
//! events to a [`ResponseBuilder`], and implements [`ChatModel`]; then a [`ProviderKind`]
//! variant, its key variable in [`env::provider_key_var`], an arm in [`connect_with`], and a
//! test against the loopback server in `tests/` replaying the provider's documented stream.
//!
//! ```no_run
//! # async fn example() -> Result<(), ploke_llm::LlmError> {
//! use ploke_llm::{connect, env, LlmConfig, Message, StreamEvent};
//!
//! let mut config = LlmConfig { model: "qwen2.5-coder:7b".into(), ..LlmConfig::default() };
//! env::fill_api_key_from_env(&mut config); // In the binary, never in a library.
//! let model = connect(&config)?;
//! let request = config.request(vec![Message::user("What does `Graph::diff` return?")]);
//! let response = model
//!     .chat(&request, &mut |event| {
//!         if let StreamEvent::TextDelta(text) = event {
//!             print!("{text}");
//!         }
//!     })
//!     .await?;
//! println!("\n{} tokens in, {} out", response.usage.input_tokens, response.usage.output_tokens);
//! # Ok(()) }
//! ```

mod anthropic;
mod config;
pub mod env;
mod error;
mod http;
mod openai;
mod sse;
pub mod types;

use std::future::Future;
use std::pin::Pin;

pub use anthropic::Anthropic;
pub use config::{
    ApiKey, LlmConfig, ProviderKind, DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_MAX_TOKENS,
    DEFAULT_OPENAI_BASE_URL,
};
pub use error::LlmError;
pub use openai::OpenAiCompatible;
pub use types::{
    ChatRequest, ChatResponse, Message, Role, StopReason, StreamEvent, ToolCall, ToolResult,
    ToolSpec, Usage,
};

/// A boxed, sendable future: what [`ChatModel::chat`] returns, so that the trait stays
/// object-safe (`Box<dyn ChatModel>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The callback that receives [`StreamEvent`]s as they happen.
pub type EventSink<'a> = &'a mut (dyn FnMut(StreamEvent) + Send);

/// A chat model: takes a conversation, streams the answer, returns it assembled.
///
/// Implementations report events through `on_event` in the order described on
/// [`StreamEvent`] (a [`ResponseBuilder`] keeps that promise) and must be cancel-safe on
/// drop. Implement `chat` as `Box::pin(async move { … })`.
pub trait ChatModel: Send + Sync {
    /// A short description for messages, such as `openai qwen2.5-coder:7b at http://localhost:11434/v1`.
    fn name(&self) -> &str;

    /// Sends `request` and streams the answer to `on_event`. Returns the complete response,
    /// or the first error; events already reported stay reported.
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: EventSink<'a>,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>>;
}

/// Assembles a [`ChatResponse`] while reporting each piece as a [`StreamEvent`], so that the
/// events and the returned response always agree. For backends, including out-of-crate ones.
pub struct ResponseBuilder<'s, 'f> {
    on_event: &'s mut (dyn FnMut(StreamEvent) + Send + 'f),
    response: ChatResponse,
}

impl<'s, 'f> ResponseBuilder<'s, 'f> {
    /// A builder reporting to `on_event`.
    pub fn new(on_event: &'s mut (dyn FnMut(StreamEvent) + Send + 'f)) -> Self {
        ResponseBuilder {
            on_event,
            response: ChatResponse::default(),
        }
    }

    /// Appends text and reports it (empty text is neither).
    pub fn text(&mut self, delta: &str) {
        if !delta.is_empty() {
            self.response.text.push_str(delta);
            (self.on_event)(StreamEvent::TextDelta(delta.to_string()));
        }
    }

    /// Appends a complete tool call and reports it.
    pub fn tool_call(&mut self, call: ToolCall) {
        self.response.tool_calls.push(call.clone());
        (self.on_event)(StreamEvent::ToolCall(call));
    }

    /// The text so far.
    pub fn text_so_far(&self) -> &str {
        &self.response.text
    }

    /// Reports `Done` and returns the response.
    pub fn finish(mut self, stop_reason: StopReason, usage: Usage) -> ChatResponse {
        (self.on_event)(StreamEvent::Done {
            stop_reason: stop_reason.clone(),
            usage,
        });
        self.response.stop_reason = stop_reason;
        self.response.usage = usage;
        self.response
    }
}

/// Builds the in-process backend for [`ProviderKind::Local`]; supplied by the crate that
/// implements it, passed to [`connect_with`] by the binary.
pub type LocalFactory<'a> = &'a dyn Fn(&LlmConfig) -> Result<Box<dyn ChatModel>, LlmError>;

/// The backend `config` names, for `openai` and `anthropic`. `local` is an error here: the
/// in-process model is built by its own crate (use [`connect_with`]).
pub fn connect(config: &LlmConfig) -> Result<Box<dyn ChatModel>, LlmError> {
    connect_with(config, None)
}

/// [`connect`], with `local` built by `local` when given.
pub fn connect_with(
    config: &LlmConfig,
    local: Option<LocalFactory<'_>>,
) -> Result<Box<dyn ChatModel>, LlmError> {
    config.validate()?;
    match (config.provider, local) {
        (ProviderKind::OpenAi, _) => Ok(Box::new(OpenAiCompatible::new(config)?)),
        (ProviderKind::Anthropic, _) => Ok(Box::new(Anthropic::new(config)?)),
        (ProviderKind::Local, Some(factory)) => factory(config),
        (ProviderKind::Local, None) => Err(LlmError::Config(
            "provider `local` (a GGUF model run in-process) is not available in this build; \
             use provider `openai` with a local server such as Ollama"
                .to_string(),
        )),
    }
}
