//! Anthropic's messages wire format (API version `2023-06-01`).
//!
//! Request: `POST {base_url}/v1/messages` with headers `x-api-key` and `anthropic-version`,
//! `stream: true`, the system text top-level, tools as `{name, description, input_schema}`.
//! Turns must alternate, so consecutive messages of one role are merged into one message of
//! content blocks: an assistant's calls are `tool_use` blocks, results are `tool_result`
//! blocks in the next user message (first, as the API requires).
//!
//! Answer: server-sent events `message_start` (input usage), `content_block_start` (a `text`
//! or `tool_use` block with its id and name), `content_block_delta` (`text_delta`, or
//! `input_json_delta` carrying a piece of the call's JSON in `partial_json`),
//! `content_block_stop`, `message_delta` (`stop_reason`, output usage), `message_stop`;
//! `ping` is ignored, `error` fails the request, and unknown events are skipped as the API's
//! versioning policy asks.

use std::collections::HashMap;
use std::fmt;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{json, Map, Value};
use tracing::warn;

use crate::config::{ApiKey, LlmConfig, DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_MAX_TOKENS};
use crate::http::{message_from_json, preview, Flow, StreamError, Target, Transport};
use crate::{
    BoxFuture, ChatModel, ChatRequest, ChatResponse, EventSink, LlmError, Message, ResponseBuilder,
    StopReason, ToolCall, Usage,
};

/// The API version this module speaks.
const API_VERSION: &str = "2023-06-01";
const KEY_VAR: &str = "ANTHROPIC_API_KEY";

/// A client for Anthropic's messages API.
pub struct Anthropic {
    transport: Transport,
    /// Where requests go.
    endpoint: String,
    /// `endpoint` as messages show it (a password in the URL masked).
    url: String,
    model: String,
    api_key: Option<ApiKey>,
    name: String,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .finish_non_exhaustive()
    }
}

impl Anthropic {
    /// A client for `config.base_url` (default: `https://api.anthropic.com`) with
    /// `config.api_key`. Nothing is sent until the first request.
    pub fn new(config: &LlmConfig) -> Result<Self, LlmError> {
        let base_url = config
            .base_url
            .as_deref()
            .unwrap_or(DEFAULT_ANTHROPIC_BASE_URL)
            .trim_end_matches('/')
            .to_string();
        let transport = Transport::new(config, &base_url)?;
        Ok(Anthropic {
            transport,
            endpoint: format!("{base_url}/v1/messages"),
            url: ploke_core::redact::url_for_display(&format!("{base_url}/v1/messages")),
            name: format!(
                "anthropic {} at {}",
                config.model,
                ploke_core::redact::url_for_display(&base_url)
            ),
            model: config.model.clone(),
            api_key: config.api_key.clone(),
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
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        if let Some(key) = &self.api_key {
            let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                LlmError::Config(format!(
                    "the API key in {KEY_VAR} has characters a header cannot carry"
                ))
            })?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static("x-api-key"), value);
        }
        let target = Target {
            endpoint: &self.endpoint,
            url: &self.url,
            model,
            key_var: KEY_VAR,
            secret: self.api_key.as_ref().map(ApiKey::expose),
        };
        let response = self.transport.post(&target, headers, &body).await?;
        let mut builder = ResponseBuilder::new(on_event);
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

impl ChatModel for Anthropic {
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
    let mut system: Vec<&str> = request.system.as_deref().into_iter().collect();
    let mut messages: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let (role, blocks) = match message {
            Message::System { text } => {
                system.push(text);
                continue;
            }
            Message::User { text } => ("user", text_block(text).into_iter().collect()),
            Message::Assistant { text, tool_calls } => {
                let mut blocks: Vec<Value> = text_block(text).into_iter().collect();
                blocks.extend(tool_calls.iter().map(|call| {
                    // `input` must be an object; arguments that were not JSON cannot go back.
                    let input = match &call.arguments {
                        Value::Object(_) => call.arguments.clone(),
                        _ => Value::Object(Map::new()),
                    };
                    json!({"type": "tool_use", "id": call.id, "name": call.name, "input": input})
                }));
                ("assistant", blocks)
            }
            Message::Tool(result) => {
                let mut block = json!({"type": "tool_result", "tool_use_id": result.call_id, "content": result.content});
                if result.is_error {
                    block["is_error"] = json!(true);
                }
                ("user", vec![block])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match messages.last_mut() {
            Some((last_role, last_blocks)) if *last_role == role => last_blocks.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)),
    );
    body.insert("stream".into(), json!(true));
    system.retain(|text| !text.is_empty());
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    let messages = messages
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    body.insert("messages".into(), Value::Array(messages));
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|tool| json!({"name": tool.name, "description": tool.description, "input_schema": tool.parameters}))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    Value::Object(body)
}

/// A text block, or none for empty text (the API rejects empty text blocks).
fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({"type": "text", "text": text}))
}

/// A `tool_use` block whose input is still arriving.
struct ToolBlock {
    id: String,
    name: String,
    /// The input given with the block's start (normally `{}`), used if no delta follows.
    start_input: Value,
    json: String,
}

#[derive(Default)]
struct StreamState {
    tools: HashMap<u64, ToolBlock>,
    stop_reason: Option<StopReason>,
    usage: Usage,
    events: usize,
    stopped: bool,
}

impl StreamState {
    fn on_data(
        &mut self,
        data: &str,
        builder: &mut ResponseBuilder<'_, '_>,
    ) -> Result<Flow, StreamError> {
        self.events += 1;
        let event: Value = serde_json::from_str(data).map_err(|e| {
            StreamError::Malformed(format!("an event is not JSON ({e}): {}", preview(data)))
        })?;
        let index = || event.get("index").and_then(Value::as_u64).unwrap_or(0);
        match event
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
        {
            "message_start" => {
                if let Some(usage) = event.pointer("/message/usage") {
                    self.add_usage(usage);
                }
            }
            "content_block_start" => {
                let block = event.get("content_block").unwrap_or(&Value::Null);
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => builder.text(
                        block
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                    ),
                    Some("tool_use") => {
                        let text = |field: &str| {
                            block
                                .get(field)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string()
                        };
                        let tool = ToolBlock {
                            id: text("id"),
                            name: text("name"),
                            start_input: block.get("input").cloned().unwrap_or(Value::Null),
                            json: String::new(),
                        };
                        self.tools.insert(index(), tool);
                    }
                    _ => {} // Thinking and server-tool blocks carry nothing we report.
                }
            }
            "content_block_delta" => {
                let delta = event.get("delta").unwrap_or(&Value::Null);
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => builder.text(
                        delta
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or_default(),
                    ),
                    Some("input_json_delta") => {
                        let piece = delta
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        match self.tools.get_mut(&index()) {
                            Some(tool) => tool.json.push_str(piece),
                            None => {
                                return Err(StreamError::Malformed(format!(
                                    "input_json_delta for block {} that is not a tool_use block",
                                    index()
                                )))
                            }
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(tool) = self.tools.remove(&index()) {
                    builder.tool_call(finish_tool(tool));
                }
            }
            "message_delta" => {
                if let Some(reason) = event.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(stop_reason(reason));
                }
                if let Some(usage) = event.get("usage") {
                    self.add_usage(usage);
                }
            }
            "message_stop" => {
                self.stopped = true;
                return Ok(Flow::Stop);
            }
            "error" => {
                let message = message_from_json(&event).unwrap_or_else(|| preview(data));
                return Err(StreamError::Provider(message));
            }
            _ => {} // `ping`, and event types added after this was written.
        }
        Ok(Flow::More)
    }

    /// Takes the counts a usage object has: `input_tokens` (plus cache reads and writes) from
    /// `message_start`, the cumulative `output_tokens` from `message_delta`.
    fn add_usage(&mut self, usage: &Value) {
        let count = |field: &str| usage.get(field).and_then(Value::as_u64);
        if let Some(input) = count("input_tokens") {
            self.usage.input_tokens = input
                + count("cache_creation_input_tokens").unwrap_or(0)
                + count("cache_read_input_tokens").unwrap_or(0);
        }
        if let Some(output) = count("output_tokens") {
            self.usage.output_tokens = output;
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
                detail: "the answer held no server-sent events; is this Anthropic's messages API?"
                    .into(),
            });
        }
        if !self.stopped && self.stop_reason.is_none() {
            return Err(LlmError::MalformedStream {
                url: url.to_string(),
                detail: "the stream ended before the answer was complete (no stop_reason, no message_stop)".into(),
            });
        }
        // Blocks left open by a stream that ended early.
        let mut open: Vec<_> = self.tools.drain().collect();
        open.sort_by_key(|(index, _)| *index);
        for (_, tool) in open {
            builder.tool_call(finish_tool(tool));
        }
        let stop_reason = self.stop_reason.take().unwrap_or(StopReason::EndTurn);
        Ok(builder.finish(stop_reason, self.usage))
    }
}

fn finish_tool(tool: ToolBlock) -> ToolCall {
    let arguments = if tool.json.trim().is_empty() {
        match tool.start_input {
            Value::Object(_) => tool.start_input,
            _ => Value::Object(Map::new()),
        }
    } else {
        serde_json::from_str(&tool.json).unwrap_or_else(|e| {
            warn!(tool = tool.name, "the model's tool input is not JSON: {e}");
            Value::String(tool.json.clone())
        })
    };
    ToolCall {
        id: tool.id,
        name: tool.name,
        arguments,
    }
}

fn stop_reason(reason: &str) -> StopReason {
    match reason {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "tool_use" => StopReason::ToolUse,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}
