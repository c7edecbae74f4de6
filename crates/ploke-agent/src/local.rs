//! The in-process GGUF model ([`ploke_local_llm`]) as a [`ChatModel`]: generation runs on a
//! blocking thread and its text streams back through a channel. Small local models do not
//! call tools: tool specs in a request are ignored and the model answers in text.

use std::sync::Arc;

use ploke_llm::{
    BoxFuture, ChatModel, ChatRequest, ChatResponse, EventSink, LlmError, Message, ResponseBuilder,
    StopReason, Usage,
};
use ploke_local_llm::{ChatMessage, GenerateOptions, LocalModel};

/// A loaded GGUF model that answers chat requests.
pub struct LocalChat {
    model: Arc<LocalModel>,
    name: String,
    max_tokens: usize,
}

impl LocalChat {
    /// Loads the GGUF file at `path`.
    pub fn load(path: &std::path::Path, max_tokens: usize) -> Result<LocalChat, LlmError> {
        let model = LocalModel::load(path).map_err(|e| LlmError::Config(e.to_string()))?;
        let name = format!("local {} ({})", model.name(), path.display());
        Ok(LocalChat {
            model: Arc::new(model),
            name,
            max_tokens,
        })
    }
}

fn to_chat_messages(req: &ChatRequest) -> Vec<ChatMessage> {
    let mut out = Vec::new();
    if let Some(s) = &req.system {
        out.push(ChatMessage::new("system", s.clone()));
    }
    for m in &req.messages {
        match m {
            Message::System { text } => out.push(ChatMessage::new("system", text.clone())),
            Message::User { text } => out.push(ChatMessage::new("user", text.clone())),
            Message::Assistant { text, .. } => {
                out.push(ChatMessage::new("assistant", text.clone()))
            }
            Message::Tool(r) => out.push(ChatMessage::new(
                "user",
                format!("Tool result:\n{}", r.content),
            )),
        }
    }
    out
}

impl ChatModel for LocalChat {
    fn name(&self) -> &str {
        &self.name
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_event: EventSink<'a>,
    ) -> BoxFuture<'a, Result<ChatResponse, LlmError>> {
        Box::pin(async move {
            let messages = to_chat_messages(request);
            let opts = GenerateOptions {
                max_tokens: request.max_tokens.map_or(self.max_tokens, |m| m as usize),
                temperature: request.temperature.unwrap_or(0.0) as f64,
                ..GenerateOptions::default()
            };
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let model = Arc::clone(&self.model);
            // Dropping this future drops `rx`: the next send fails and generation stops.
            let job = tokio::task::spawn_blocking(move || {
                model.chat(&messages, &opts, |piece| tx.send(piece.to_string()).is_ok())
            });
            let mut builder = ResponseBuilder::new(on_event);
            while let Some(piece) = rx.recv().await {
                builder.text(&piece);
            }
            let generation = job
                .await
                .map_err(|e| LlmError::Config(format!("local model thread: {e}")))?
                .map_err(|e| LlmError::Config(e.to_string()))?;
            let stop = match generation.stop {
                ploke_local_llm::StopReason::MaxTokens => StopReason::MaxTokens,
                _ => StopReason::EndTurn,
            };
            let usage = Usage {
                input_tokens: generation.prompt_tokens as u64,
                output_tokens: generation.generated_tokens as u64,
            };
            Ok(builder.finish(stop, usage))
        })
    }
}
