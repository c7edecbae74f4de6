//! The provider-neutral conversation: messages, tools, requests, responses and stream events.
//!
//! Every backend translates these to and from its own wire format; nothing here knows about
//! HTTP. All types are serde-serializable so that a caller can save and replay a transcript.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the whole conversation.
    System,
    /// The person (or the program acting for them).
    User,
    /// The model.
    Assistant,
    /// The result of a tool the model asked to call.
    Tool,
}

/// One turn of a conversation.
///
/// A conversation that uses tools goes: `User`, `Assistant` with `tool_calls`, one `Tool`
/// message per call (matching [`ToolResult::call_id`] to [`ToolCall::id`]), `Assistant`, …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    /// Instructions. Usually given once as [`ChatRequest::system`]; system messages in the list
    /// are sent where the provider allows (Anthropic: appended to the top-level system text).
    System {
        /// The instructions.
        text: String,
    },
    /// A user's turn.
    User {
        /// What the user said.
        text: String,
    },
    /// A model's turn: text, tool calls, or both.
    Assistant {
        /// What the model said (may be empty when it only calls tools).
        #[serde(default)]
        text: String,
        /// The tools it asked to call, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, sent back to the model.
    Tool(ToolResult),
}

impl Message {
    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Message::System { text: text.into() }
    }

    /// A user message.
    pub fn user(text: impl Into<String>) -> Self {
        Message::User { text: text.into() }
    }

    /// An assistant message with text only.
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::Assistant {
            text: text.into(),
            tool_calls: Vec::new(),
        }
    }

    /// A successful tool result for the call with id `call_id`.
    pub fn tool_result(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message::Tool(ToolResult {
            call_id: call_id.into(),
            content: content.into(),
            is_error: false,
        })
    }

    /// A failed tool result: `content` says what went wrong, so the model can try again.
    pub fn tool_error(call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message::Tool(ToolResult {
            call_id: call_id.into(),
            content: content.into(),
            is_error: true,
        })
    }

    /// Who wrote this message.
    pub fn role(&self) -> Role {
        match self {
            Message::System { .. } => Role::System,
            Message::User { .. } => Role::User,
            Message::Assistant { .. } => Role::Assistant,
            Message::Tool(_) => Role::Tool,
        }
    }
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The name the model calls it by (`[a-zA-Z0-9_-]{1,64}` is accepted by every provider).
    pub name: String,
    /// What it does and when to use it; models read this.
    pub description: String,
    /// A JSON Schema (`{"type": "object", "properties": …}`) for the arguments.
    pub parameters: Value,
}

/// A call the model asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's id for the call; the result must carry the same id.
    pub id: String,
    /// The tool's name, as in [`ToolSpec::name`].
    pub name: String,
    /// The arguments, normally a JSON object. If the model produced text that is not JSON, it
    /// is kept here as a JSON string so the caller can report the mistake back to the model.
    pub arguments: Value,
}

/// The outcome of a tool call, sent back to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The [`ToolCall::id`] this answers.
    pub call_id: String,
    /// What the tool returned (or why it failed), as text.
    pub content: String,
    /// The call failed; `content` explains. (Anthropic receives the flag; OpenAI only the text.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

/// One request to a chat model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model's name at the provider. Empty means the model the backend was connected with
    /// ([`crate::LlmConfig::model`]).
    #[serde(default)]
    pub model: String,
    /// Instructions for the whole conversation.
    #[serde(default)]
    pub system: Option<String>,
    /// The conversation so far, oldest first.
    pub messages: Vec<Message>,
    /// The tools the model may call; empty for none.
    #[serde(default)]
    pub tools: Vec<ToolSpec>,
    /// The most tokens to generate. `None`: the provider's default (Anthropic, which requires
    /// a value, gets [`crate::DEFAULT_MAX_TOKENS`]).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature; `None`: the provider's default.
    #[serde(default)]
    pub temperature: Option<f32>,
}

impl ChatRequest {
    /// A request for `messages` to the backend's default model, with no tools.
    pub fn new(messages: Vec<Message>) -> Self {
        ChatRequest {
            messages,
            ..ChatRequest::default()
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its turn.
    #[default]
    EndTurn,
    /// It hit `max_tokens`; the text is cut off.
    MaxTokens,
    /// It wants the tool calls answered before it goes on.
    ToolUse,
    /// It produced a stop sequence.
    StopSequence,
    /// The provider's content filter stopped it.
    ContentFilter,
    /// Anything else, as the provider named it.
    Other(String),
}

/// Token counts for one request, as the provider reported them (zero when it did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
}

/// The complete answer to a [`ChatRequest`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatResponse {
    /// All text the model produced, concatenated.
    pub text: String,
    /// The tools it asked to call, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Token counts.
    pub usage: Usage,
}

impl ChatResponse {
    /// The response as the assistant turn to append to the conversation.
    pub fn to_message(&self) -> Message {
        Message::Assistant {
            text: self.text.clone(),
            tool_calls: self.tool_calls.clone(),
        }
    }
}

/// What a backend reports while it streams, in order.
///
/// A stream is any number of `TextDelta`s and `ToolCall`s, then exactly one `Done` when the
/// response is complete (not when the request fails). Concatenating the deltas gives
/// [`ChatResponse::text`]; the `ToolCall`s are [`ChatResponse::tool_calls`].
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// New text, as soon as it arrives.
    TextDelta(String),
    /// A tool call, once its arguments are complete.
    ToolCall(ToolCall),
    /// The response is complete.
    Done {
        /// Why the model stopped.
        stop_reason: StopReason,
        /// Token counts.
        usage: Usage,
    },
}
