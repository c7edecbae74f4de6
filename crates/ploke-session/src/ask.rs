//! Questions to a chat model about the code: the request's context pack goes with it, and
//! the model may call the read-only tools.

use ploke_agent::ask::{ask, AskEvent, AskOptions};
use ploke_agent::local::LocalChat;
use ploke_agent::Toolbox;
use ploke_llm::{ChatModel, LlmConfig, LlmError, ProviderKind};
use ploke_retrieve::{Mode, Scope};
use serde::Serialize;

use crate::results::ItemRef;
use crate::{Session, SessionError};

/// A question.
#[derive(Debug, Clone)]
pub struct AskRequest {
    pub request: String,
    /// Tokens of the context pack; `None`: 8,000, or 1,000 for a local model (a CPU reads a
    /// prompt at ~25 tokens/s).
    pub budget: Option<usize>,
    /// Model turns at most.
    pub max_steps: usize,
    /// Offer the read-only tools (local models never get them).
    pub tools: bool,
}

impl AskRequest {
    /// `request` with the default bounds.
    pub fn new(request: impl Into<String>) -> AskRequest {
        AskRequest {
            request: request.into(),
            budget: None,
            max_steps: 8,
            tools: true,
        }
    }
}

/// Context pack budget for a model behind an API.
const DEFAULT_BUDGET: usize = 8000;
/// Context pack budget for a local model.
const LOCAL_BUDGET: usize = 1000;

/// The answer.
#[derive(Debug, Clone, Serialize)]
pub struct AskAnswer {
    pub answer: String,
    /// The indexed items of the context pack that the answer names.
    pub cited: Vec<ItemRef>,
    /// The model's name.
    pub model: String,
    /// Items and tokens of the context pack sent.
    pub context_items: usize,
    pub context_tokens: usize,
    pub steps: usize,
    pub tool_calls: usize,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Set when a bound stopped the model before it finished.
    pub stopped_by: Option<String>,
}

impl Session {
    /// The chat model of the settings (a local GGUF model is loaded in-process).
    pub fn connect(&self) -> Result<Box<dyn ChatModel>, SessionError> {
        let local = |c: &LlmConfig| -> Result<Box<dyn ChatModel>, LlmError> {
            if c.model.is_empty() {
                return Err(LlmError::Config("provider `local` needs --model PATH.gguf (e.g. target/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf from scripts/fetch-models.sh smollm2)".into()));
            }
            Ok(Box::new(LocalChat::load(
                std::path::Path::new(&c.model),
                c.max_tokens as usize,
            )?))
        };
        Ok(ploke_llm::connect_with(&self.settings.llm, Some(&local))?)
    }

    /// Asks the configured model about the code: the request's context pack goes with it,
    /// and (unless the model is local) it may call the read-only tools. Text and tool calls
    /// stream to `on_event`. Cancel by dropping the future.
    pub async fn ask(
        &self,
        req: &AskRequest,
        on_event: &mut (dyn FnMut(AskEvent) + Send),
    ) -> Result<AskAnswer, SessionError> {
        let local = self.settings.llm.provider == ProviderKind::Local;
        let budget = req
            .budget
            .unwrap_or(if local { LOCAL_BUDGET } else { DEFAULT_BUDGET });
        let searcher = self.searchable(Mode::Hybrid, &Scope::Workspace)?;
        let (snap, embedder) = (&searcher.snap, &searcher.embedder);
        let pack = self.pack_with(
            &snap.retriever,
            embedder.as_deref(),
            &req.request,
            budget,
            Mode::Hybrid,
            0,
        )?;
        let model = self.connect()?;
        let embed = |q: &str| crate::embed_query(embedder.as_deref(), q);
        let scoped = |scope: &Scope| {
            self.scoped(snap, scope)
                .map_err(|e| self.redact(&e.to_string()))
        };
        let toolbox = Toolbox::new(&self.db, &snap.retriever, Some(&embed)).with_scopes(&scoped);
        let opts = AskOptions {
            max_steps: req.max_steps,
            tools: req.tools && !local,
            ..AskOptions::default()
        };
        let outcome = ask(
            model.as_ref(),
            &toolbox,
            &req.request,
            &pack.to_markdown(),
            &opts,
            on_event,
        )
        .await?;
        let cited = pack
            .items
            .iter()
            .filter(|i| {
                outcome.answer.contains(&i.path)
                    || (i.name.len() > 3 && outcome.answer.contains(&format!("`{}`", i.name)))
            })
            .map(|i| {
                let crate_name = i.path.split("::").next().unwrap_or_default().to_string();
                let c = self.crate_of(&self.db, &crate_name, &i.file);
                let dependency = ploke_core::is_dependency_path(&i.file);
                ItemRef {
                    id: i.id.to_hex(),
                    kind: i.kind.as_str().to_string(),
                    name: i.name.clone(),
                    path: i.path.clone(),
                    package: c.as_ref().map(|c| c.package.clone()),
                    crate_name,
                    file: i.file.clone(),
                    start_line: i.start_line,
                    end_line: i.end_line,
                    dependency,
                    version: c.filter(|_| dependency).map(|c| c.version),
                    test: false,
                }
            })
            .collect();
        Ok(AskAnswer {
            answer: outcome.answer,
            cited,
            model: model.name().to_string(),
            context_items: pack.items.len(),
            context_tokens: pack.tokens,
            steps: outcome.steps,
            tool_calls: outcome.tool_calls,
            input_tokens: outcome.usage.input_tokens,
            output_tokens: outcome.usage.output_tokens,
            stopped_by: outcome.stopped_by,
        })
    }
}
