//! The question loop: the request and its context go to the model; the model may call the
//! read-only tools; their answers go back; until it answers in text or a bound is reached.

use ploke_llm::{ChatModel, ChatRequest, LlmError, Message, StreamEvent, ToolSpec, Usage};

use crate::{tool_specs, Toolbox};

/// The instructions every question starts with.
pub const SYSTEM_PROMPT: &str = "You are ploke, an expert Rust engineer answering questions about one code base. \
The user's request comes with a context pack: the items a code search ranked for it, with file paths and line numbers. \
Answer from that code; when it is not enough, call the tools to search, read items, follow callers and callees, or read file lines. \
Cite every item you rely on as `path::to::item` (file:line). Be concise and concrete; say so when the code does not answer the question.";

/// Bounds of one question.
#[derive(Debug, Clone, PartialEq)]
pub struct AskOptions {
    /// Model turns at most (each may call tools).
    pub max_steps: usize,
    /// Input + output tokens the loop may spend, as the provider reports them.
    pub max_tokens: u64,
    /// Offer the tools (a model without tool support answers from the context alone).
    pub tools: bool,
}

impl Default for AskOptions {
    fn default() -> Self {
        AskOptions {
            max_steps: 8,
            max_tokens: 200_000,
            tools: true,
        }
    }
}

/// What happened while answering, for the caller to show.
#[derive(Debug, Clone, PartialEq)]
pub enum AskEvent {
    /// Answer text, as it streams.
    Text(String),
    /// A tool call about to run.
    ToolCall {
        name: String,
        arguments: serde_json::Value,
    },
    /// Its answer's size.
    ToolResult { name: String, chars: usize },
}

/// The final answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AskOutcome {
    pub answer: String,
    pub steps: usize,
    pub tool_calls: usize,
    pub usage: Usage,
    /// Set when a bound stopped the loop before the model finished.
    pub stopped_by: Option<String>,
}

/// The first user message: the context pack, then the request.
pub fn user_message(request: &str, context_markdown: &str) -> String {
    format!("{context_markdown}\n\n---\n\nRequest: {request}")
}

/// Answers `request` given `context_markdown`, letting the model call the tools of `toolbox`.
pub async fn ask(
    model: &dyn ChatModel,
    toolbox: &Toolbox<'_>,
    request: &str,
    context_markdown: &str,
    opts: &AskOptions,
    on_event: &mut (dyn FnMut(AskEvent) + Send),
) -> Result<AskOutcome, LlmError> {
    let mut none = |_: &ploke_llm::ToolCall| -> Option<(String, bool)> { None };
    run_loop(
        model,
        toolbox,
        SYSTEM_PROMPT,
        &user_message(request, context_markdown),
        Vec::new(),
        &mut none,
        opts,
        on_event,
    )
    .await
}

/// Handles the calls of extra tools: `Some((answer, is_error))`, or `None` for a tool it
/// does not know (then the read-only toolbox answers).
pub type ExtraTools<'h> = dyn FnMut(&ploke_llm::ToolCall) -> Option<(String, bool)> + Send + 'h;

/// The loop behind [`ask`] and the edit command: `extra` tools are offered beside the
/// read-only ones and answered by `handle`.
#[allow(clippy::too_many_arguments)]
pub async fn run_loop(
    model: &dyn ChatModel,
    toolbox: &Toolbox<'_>,
    system: &str,
    first_message: &str,
    extra: Vec<ToolSpec>,
    handle: &mut ExtraTools<'_>,
    opts: &AskOptions,
    on_event: &mut (dyn FnMut(AskEvent) + Send),
) -> Result<AskOutcome, LlmError> {
    let mut tools: Vec<ToolSpec> = extra;
    if opts.tools {
        tools.extend(tool_specs().into_iter().map(|t| ToolSpec {
            name: t.name.to_string(),
            description: t.description.to_string(),
            parameters: t.parameters,
        }));
    }
    let mut messages = vec![Message::user(first_message.to_string())];
    let mut out = AskOutcome::default();
    loop {
        if out.steps >= opts.max_steps {
            out.stopped_by = Some(format!("step limit ({})", opts.max_steps));
            break;
        }
        if out.usage.input_tokens + out.usage.output_tokens >= opts.max_tokens {
            out.stopped_by = Some(format!("token limit ({})", opts.max_tokens));
            break;
        }
        // The last allowed step gets no tools, so that it answers.
        let last = out.steps + 1 == opts.max_steps;
        let mut req = ChatRequest::new(messages.clone());
        req.system = Some(system.to_string());
        req.tools = if last { Vec::new() } else { tools.clone() };
        let response = model
            .chat(&req, &mut |ev| {
                if let StreamEvent::TextDelta(t) = ev {
                    on_event(AskEvent::Text(t));
                }
            })
            .await?;
        out.steps += 1;
        out.usage.input_tokens += response.usage.input_tokens;
        out.usage.output_tokens += response.usage.output_tokens;
        out.answer.push_str(&response.text);
        messages.push(response.to_message());
        if response.tool_calls.is_empty() {
            break;
        }
        for call in &response.tool_calls {
            on_event(AskEvent::ToolCall {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            });
            let (result, is_error) = match handle(call) {
                Some(r) => r,
                None => {
                    let r = toolbox.call(&call.name, &call.arguments);
                    let e = r.starts_with("error: ");
                    (r, e)
                }
            };
            tracing::info!(tool = %call.name, args = %call.arguments, chars = result.len(), "tool call");
            on_event(AskEvent::ToolResult {
                name: call.name.clone(),
                chars: result.len(),
            });
            out.tool_calls += 1;
            messages.push(if is_error {
                Message::tool_error(call.id.clone(), result)
            } else {
                Message::tool_result(call.id.clone(), result)
            });
        }
    }
    Ok(out)
}
