//! OpenAI's chat completions wire format, spoken by Ollama, llama.cpp's server, vLLM,
//! LM Studio, OpenRouter and OpenAI itself.
//!
//! Request: `POST {base_url}/chat/completions` with `stream: true` and
//! `stream_options: {include_usage: true}`; tools as `{type: "function", function: {name,
//! description, parameters}}`; an assistant's calls as its `tool_calls` (arguments as a JSON
//! string); results as `{role: "tool", tool_call_id, content}`.
//!
//! Answer: server-sent events whose `data:` is a `chat.completion.chunk` — text in
//! `choices[0].delta.content`, tool calls in `choices[0].delta.tool_calls[]` as fragments keyed
//! by `index` (the id and name first, then pieces of the arguments string), then
//! `finish_reason`, a last chunk with `usage` and empty `choices`, and `data: [DONE]`. A server
//! that ignores `stream` and answers one `chat.completion` JSON object is understood too.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Map, Value};
use tracing::warn;

use crate::config::{ApiKey, LlmConfig, DEFAULT_OPENAI_BASE_URL};
use crate::http::{message_from_json, preview, Flow, StreamError, Target, Transport};
use crate::{
    BoxFuture, ChatModel, ChatRequest, ChatResponse, EventSink, LlmError, Message, ResponseBuilder,
    StopReason, ToolCall, Usage,
};

/// A client for any OpenAI-compatible chat completions endpoint.
pub struct OpenAiCompatible {
    transport: Transport,
    /// Where requests go.
    endpoint: String,
    /// `endpoint` as messages show it (a password in the URL masked).
    url: String,
    model: String,
    api_key: Option<ApiKey>,
    key_var: &'static str,
    name: String,
}

impl fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl OpenAiCompatible {
    /// A client for `config.base_url` (default: Ollama's), sending `config.api_key` as a
    /// bearer token when there is one. Nothing is sent until the first request.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        let base_url = config
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_OPENAI_BASE_URL)
            .trim_end_matches('/')
            .to_string();
        let transport = Transport::new(config, &base_url)?;
        let key_var = crate::env::provider_key_var(crate::ProviderKind::OpenAi, Some(&base_url))
            .unwrap_or("OPENAI_API_KEY");
        Ok(OpenAiCompatible {
            transport,
            endpoint: format!("{base_url}/chat/completions"),
            url: ploke_core::redact::url_for_display(&format!("{base_url}/chat/completions")),
            name: format!(
                "openai {} at {}",
                config.model,
                ploke_core::redact::url_for_display(&base_url)
            ),
            model: config.model.clone(),
            api_key: config.api_key.clone(),
            key_var,
        })
    }

    async fn run(
        &self,
        request: &ChatRequest,
        on_event: EventSink<'_>,
    ) -> Result<ChatResponse, LlmError> {
        let model = if request.model.is_empty() {
            &self.model
        } else {
            &request.model
        };
        let body = request_body(request, model);
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    LlmError::Config(format!(
                        "the API key in {} has characters a header cannot carry",
                        self.key_var
                    ))
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let target = Target {
            endpoint: &self.endpoint,
            url: &self.url,
            model,
            key_var: self.key_var,
            secret: self.api_key.as_ref().map(ApiKey::expose),
        };
        let response = self.transport.post(&target, headers, &body).await?;
        let mut builder = ResponseBuilder::new(on_event);
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let body = self.transport.read_all(response, &self.url).await?;
            return complete_response(&body, builder, &self.url);
        }
        let mut stream = StreamState::default();
        self.transport
            .read_events(response, &self.url, |event| {
                stream
                    .on_data(&event.data, &mut builder)
                    .map_err(|e| e.into_error(&self.url))
            })
            .await?;
        stream.finish(builder, &self.url)
    }
}

impl ChatModel for OpenAiCompatible {
    fn name(&self) -> &str {
        &self.name
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: EventSink<'a>,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(self.run(request, on_event))
    }
}

/// The JSON body for `request`, streaming, to `model`.
pub(crate) fn request_body(request: &ChatRequest, model: &str) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = request.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.extend(request.messages.iter().map(message_json));
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    if let Some(max_tokens) = request.max_tokens {
        body.insert("max_tokens".into(), json!(max_tokens));
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|tool| {
                json!({"type": "function", "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                }})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    Value::Object(body)
}

fn message_json(message: &Message) -> Value {
    match message {
        Message::System { text } => json!({"role": "system", "content": text}),
        Message::User { text } => json!({"role": "user", "content": text}),
        Message::Assistant { text, tool_calls } if tool_calls.is_empty() => {
            json!({"role": "assistant", "content": text})
        }
        Message::Assistant { text, tool_calls } => {
            let calls: Vec<Value> = tool_calls
                .iter()
                .map(|call| {
                    // The arguments go back exactly as the model wrote them.
                    let arguments = match &call.arguments {
                        Value::String(raw) => raw.clone(),
                        other => other.to_string(),
                    };
                    json!({"id": call.id, "type": "function",
                           "function": {"name": call.name, "arguments": arguments}})
                })
                .collect();
            let content = if text.is_empty() {
                Value::Null
            } else {
                json!(text)
            };
            json!({"role": "assistant", "content": content, "tool_calls": calls})
        }
        Message::Tool(result) => {
            json!({"role": "tool", "tool_call_id": result.call_id, "content": result.content})
        }
    }
}

/// A tool call whose fragments are still arriving.
#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Default)]
struct StreamState {
    calls: BTreeMap<u64, PartialCall>,
    stop_reason: Option<StopReason>,
    usage: Usage,
    events: usize,
    done: bool,
}

impl StreamState {
    fn on_data(
        &mut self,
        data: &str,
        builder: &mut ResponseBuilder<'_, '_>,
    ) -> Result<Flow, StreamError> {
        self.events += 1;
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(Flow::Stop);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            StreamError::Malformed(format!("an event is not JSON ({e}): {}", preview(data)))
        })?;
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            let message = message_from_json(&chunk).unwrap_or_else(|| preview(data));
            return Err(StreamError::Provider(message));
        }
        if let Some(usage) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = usage_from(usage);
        }
        let Some(choice) = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|c| c.first())
        else {
            return Ok(Flow::More); // The usage chunk, or a keep-alive.
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            builder.text(text);
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (position, fragment) in calls.iter().enumerate() {
                self.add_fragment(position as u64, fragment);
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.stop_reason = Some(stop_reason(reason));
            self.flush_calls(builder);
        }
        Ok(Flow::More)
    }

    fn add_fragment(&mut self, position: u64, fragment: &Value) {
        let index = fragment
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position);
        let call = self.calls.entry(index).or_default();
        if let Some(id) = fragment.get("id").and_then(Value::as_str) {
            if call.id.is_empty() {
                call.id = id.to_string();
            }
        }
        let function = fragment.get("function").unwrap_or(&Value::Null);
        if let Some(name) = function.get("name").and_then(Value::as_str) {
            // The name comes whole in the first fragment; some servers repeat it.
            if call.name != name {
                call.name.push_str(name);
            }
        }
        match function.get("arguments") {
            Some(Value::String(piece)) => call.arguments.push_str(piece),
            Some(Value::Null) | None => {}
            // Some servers send the arguments as an object rather than a string.
            Some(object) => call.arguments.push_str(&object.to_string()),
        }
    }

    /// Reports the assembled tool calls, in index order.
    fn flush_calls(&mut self, builder: &mut ResponseBuilder<'_, '_>) {
        for (index, call) in std::mem::take(&mut self.calls) {
            let id = if call.id.is_empty() {
                format!("call_{index}")
            } else {
                call.id
            };
            builder.tool_call(ToolCall {
                arguments: parse_arguments(&call.name, &call.arguments),
                id,
                name: call.name,
            });
        }
    }

    fn finish(
        mut self,
        mut builder: ResponseBuilder<'_, '_>,
        url: &str,
    ) -> Result<ChatResponse, LlmError> {
        if self.events == 0 {
            return Err(LlmError::MalformedStream {
                url: url.to_string(),
                detail:
                    "the answer held no server-sent events; is this an OpenAI-compatible endpoint?"
                        .into(),
            });
        }
        // A missing `[DONE]` is forgiven once `finish_reason` came; a missing `finish_reason`
        // is forgiven once `[DONE]` came.
        if !self.done && self.stop_reason.is_none() {
            return Err(LlmError::MalformedStream {
                url: url.to_string(),
                detail:
                    "the stream ended before the answer was complete (no finish_reason, no [DONE])"
                        .into(),
            });
        }
        self.flush_calls(&mut builder);
        let stop_reason = self.stop_reason.take().unwrap_or(StopReason::EndTurn);
        Ok(builder.finish(stop_reason, self.usage))
    }
}

/// Parses the (complete) arguments of a call; text that is not JSON is kept as a string.
fn parse_arguments(name: &str, raw: &str) -> Value {
    if raw.trim().is_empty() {
        return Value::Object(Map::new());
    }
    serde_json::from_str(raw).unwrap_or_else(|e| {
        warn!(tool = name, "the model's tool arguments are not JSON: {e}");
        Value::String(raw.to_string())
    })
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

fn usage_from(usage: &Value) -> Usage {
    let count = |field: &str| usage.get(field).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: count("prompt_tokens"),
        output_tokens: count("completion_tokens"),
    }
}

/// A whole `chat.completion` object, from a server that did not stream.
fn complete_response(
    body: &[u8],
    mut builder: ResponseBuilder<'_, '_>,
    url: &str,
) -> Result<ChatResponse, LlmError> {
    let malformed = |detail: String| LlmError::MalformedStream {
        url: url.to_string(),
        detail,
    };
    let completion: Value = serde_json::from_slice(body).map_err(|e| {
        malformed(format!(
            "the JSON answer does not parse ({e}): {}",
            preview(&String::from_utf8_lossy(body))
        ))
    })?;
    if completion.get("error").is_some_and(|e| !e.is_null()) {
        let message = message_from_json(&completion).unwrap_or_default();
        return Err(LlmError::Provider {
            url: url.to_string(),
            message,
        });
    }
    let choice = completion
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| malformed("the JSON answer has no `choices`".into()))?;
    let message = choice.get("message").unwrap_or(&Value::Null);
    if let Some(text) = message.get("content").and_then(Value::as_str) {
        builder.text(text);
    }
    let mut state = StreamState::default();
    if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
        for (position, call) in calls.iter().enumerate() {
            state.add_fragment(position as u64, call);
        }
    }
    state.flush_calls(&mut builder);
    let reason = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .map(stop_reason);
    let usage = completion.get("usage").map(usage_from).unwrap_or_default();
    Ok(builder.finish(reason.unwrap_or(StopReason::EndTurn), usage))
}
