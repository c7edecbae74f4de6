//! Chat models in GGUF files, run in this process on the CPU with candle: no server, no C++
//! runtime, nothing to download beyond the file itself.
//!
//! [`LocalModel::load`] reads a llama-architecture GGUF file (SmolLM2, Llama, Qwen2-style
//! llama exports, ...) and everything needed to talk to it from the file's own metadata:
//! - the tokenizer: the GPT-2-style byte-level BPE vocabulary and merges
//!   (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`), with control tokens
//!   (`<|im_start|>`, ...) kept whole;
//! - the chat template (`tokenizer.chat_template`, Jinja), rendered with minijinja exactly as
//!   the model's authors wrote it ([`LocalModel::render_chat`]);
//! - the end-of-sequence token.
//!
//! [`LocalModel::chat`] renders the conversation, runs the prompt through the model in one
//! pass (prefill), then samples one token at a time (greedy at temperature 0), handing each
//! piece of text to a callback as soon as it decodes, until the end-of-sequence token, the
//! token limit, or the callback says stop.
//!
//! Speed on 2 CPU cores (SmolLM2-135M-Instruct Q4_1): see the README and
//! `examples/generate.rs`. Small models are for small prompts; long contexts belong on a
//! server.
//!
//! No async runtime: generation is CPU work; call it from a blocking thread.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::quantized_llama::ModelWeights;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper, Tokenizer};

/// Errors of loading a model or generating with it.
#[derive(Debug, thiserror::Error)]
pub enum LocalLlmError {
    #[error("{path}: cannot read the model file: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a usable GGUF model: {reason}")]
    BadModel { path: PathBuf, reason: String },
    #[error("{path}: the file has no chat template (tokenizer.chat_template); pass a prompt to `generate` instead")]
    NoTemplate { path: PathBuf },
    #[error("rendering the chat template: {0}")]
    Template(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("the prompt has {tokens} tokens; the model's context is {context}")]
    PromptTooLong { tokens: usize, context: usize },
    #[error("model: {0}")]
    Candle(#[from] candle_core::Error),
}

/// One message of a conversation, as chat templates expect it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// How to sample.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Tokens generated at most.
    pub max_tokens: usize,
    /// 0 is greedy (deterministic).
    pub temperature: f64,
    /// Nucleus sampling when `temperature > 0`.
    pub top_p: Option<f64>,
    /// Seed of the sampler.
    pub seed: u64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 512,
            temperature: 0.0,
            top_p: None,
            seed: 299_792_458,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced its end-of-sequence token.
    EndOfSequence,
    /// `max_tokens` were generated.
    MaxTokens,
    /// The callback asked to stop (e.g. Ctrl-C).
    Cancelled,
}

/// What [`LocalModel::generate`] produced, with timings.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    pub stop: StopReason,
    /// Seconds spent on the prompt (one forward pass over it).
    pub prefill_secs: f64,
    /// Seconds spent generating.
    pub generate_secs: f64,
}

impl Generation {
    /// Prompt tokens processed per second.
    pub fn prefill_tokens_per_sec(&self) -> f64 {
        rate(self.prompt_tokens, self.prefill_secs)
    }
    /// Tokens generated per second.
    pub fn tokens_per_sec(&self) -> f64 {
        rate(self.generated_tokens, self.generate_secs)
    }
}

fn rate(n: usize, secs: f64) -> f64 {
    if secs > 0.0 {
        n as f64 / secs
    } else {
        0.0
    }
}

/// A GGUF chat model loaded in memory.
pub struct LocalModel {
    name: String,
    weights: Mutex<ModelWeights>,
    tokenizer: Tokenizer,
    template: Option<String>,
    bos_token: String,
    eos_token: String,
    eos_id: u32,
    context: usize,
    path: PathBuf,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

impl LocalModel {
    /// Loads a llama-architecture GGUF file with its tokenizer and chat template.
    pub fn load(path: &Path) -> Result<LocalModel, LocalLlmError> {
        let io = |source| LocalLlmError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bad = |reason: String| LocalLlmError::BadModel {
            path: path.to_path_buf(),
            reason,
        };
        let mut reader = BufReader::new(File::open(path).map_err(io)?);
        let content = Content::read(&mut reader).map_err(|e| bad(e.to_string()))?;
        let md = &content.metadata;
        let arch = md
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if arch != "llama" {
            return Err(bad(format!(
                "architecture `{arch}` is not supported (llama only)"
            )));
        }
        let tk_model = md
            .get("tokenizer.ggml.model")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        if tk_model != "gpt2" {
            return Err(bad(format!(
                "tokenizer `{tk_model}` is not supported (GPT-2-style byte-level BPE only)"
            )));
        }
        let strings = |key: &str| -> Result<Vec<String>, LocalLlmError> {
            match md.get(key) {
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.to_string()
                            .cloned()
                            .map_err(|_| bad(format!("{key}: not a string array")))
                    })
                    .collect(),
                _ => Err(bad(format!("missing {key}"))),
            }
        };
        let tokens = strings("tokenizer.ggml.tokens")?;
        let merges = strings("tokenizer.ggml.merges")?;
        let types: Vec<i32> = match md.get("tokenizer.ggml.token_type") {
            Some(Value::Array(items)) => items.iter().map(|v| v.to_i32().unwrap_or(1)).collect(),
            _ => vec![1; tokens.len()],
        };
        let id_of = |key: &str| md.get(key).and_then(|v| v.to_u32().ok());
        let eos_id = id_of("tokenizer.ggml.eos_token_id")
            .ok_or_else(|| bad("missing tokenizer.ggml.eos_token_id".into()))?;
        let bos_id = id_of("tokenizer.ggml.bos_token_id");
        let token_text = |id: Option<u32>| {
            id.and_then(|i| tokens.get(i as usize))
                .cloned()
                .unwrap_or_default()
        };
        let (bos_token, eos_token) = (token_text(bos_id), token_text(Some(eos_id)));
        let template = md
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .cloned();
        // candle's llama precomputes rotary tables for MAX_SEQ_LEN positions: no more fit.
        let context = (md
            .get("llama.context_length")
            .and_then(|v| v.to_u32().ok())
            .unwrap_or(2048) as usize)
            .min(candle_transformers::models::quantized_llama::MAX_SEQ_LEN);
        let name = md
            .get("general.name")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let tokenizer = build_tokenizer(&tokens, &merges, &types)
            .map_err(|e| bad(format!("tokenizer: {e}")))?;
        let weights = ModelWeights::from_gguf(content, &mut reader, &Device::Cpu)
            .map_err(|e| bad(e.to_string()))?;
        Ok(LocalModel {
            name,
            weights: Mutex::new(weights),
            tokenizer,
            template,
            bos_token,
            eos_token,
            eos_id,
            context,
            path: path.to_path_buf(),
        })
    }

    /// The model's name from its metadata (`general.name`), or the file stem.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Context length in tokens (the model's, at most what candle's implementation supports).
    pub fn context_length(&self) -> usize {
        self.context
    }

    /// Token ids of `text` (control tokens written in the text are kept whole).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LocalLlmError> {
        Ok(self
            .tokenizer
            .encode(text, false)
            .map_err(|e| LocalLlmError::Tokenizer(e.to_string()))?
            .get_ids()
            .to_vec())
    }

    /// Text of token ids.
    pub fn decode(&self, ids: &[u32]) -> Result<String, LocalLlmError> {
        self.tokenizer
            .decode(ids, false)
            .map_err(|e| LocalLlmError::Tokenizer(e.to_string()))
    }

    /// The prompt for `messages` as the model's own chat template writes it, ending with the
    /// start of the assistant's turn when `add_generation_prompt`.
    pub fn render_chat(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, LocalLlmError> {
        let Some(template) = &self.template else {
            return Err(LocalLlmError::NoTemplate {
                path: self.path.clone(),
            });
        };
        let mut env = minijinja::Environment::new();
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    msg,
                ))
            },
        );
        env.add_template("chat", template)
            .map_err(|e| LocalLlmError::Template(e.to_string()))?;
        let tmpl = env
            .get_template("chat")
            .map_err(|e| LocalLlmError::Template(e.to_string()))?;
        tmpl.render(minijinja::context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token,
            eos_token => self.eos_token,
        })
        .map_err(|e| LocalLlmError::Template(e.to_string()))
    }

    /// Renders `messages` with the chat template and generates the assistant's answer.
    pub fn chat(
        &self,
        messages: &[ChatMessage],
        opts: &GenerateOptions,
        on_text: impl FnMut(&str) -> bool,
    ) -> Result<Generation, LocalLlmError> {
        let prompt = self.render_chat(messages, true)?;
        self.generate(&prompt, opts, on_text)
    }

    /// Continues `prompt` (already in the model's format). `on_text` gets each new piece of
    /// text as soon as it decodes; returning `false` stops generation.
    pub fn generate(
        &self,
        prompt: &str,
        opts: &GenerateOptions,
        mut on_text: impl FnMut(&str) -> bool,
    ) -> Result<Generation, LocalLlmError> {
        let prompt_ids = self.encode(prompt)?;
        if prompt_ids.is_empty() || prompt_ids.len() + 1 >= self.context {
            return Err(LocalLlmError::PromptTooLong {
                tokens: prompt_ids.len(),
                context: self.context,
            });
        }
        let max_new = opts.max_tokens.min(self.context - prompt_ids.len());
        let sampling = if opts.temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            match opts.top_p {
                Some(p) => Sampling::TopP {
                    p,
                    temperature: opts.temperature,
                },
                None => Sampling::All {
                    temperature: opts.temperature,
                },
            }
        };
        let mut sampler = LogitsProcessor::from_sampling(opts.seed, sampling);
        // One model, one generation at a time: the weights hold the KV cache.
        let mut weights = self.weights.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        let input = Tensor::new(prompt_ids.as_slice(), &Device::Cpu)?.unsqueeze(0)?;
        // index_pos 0 starts a fresh KV cache.
        let logits = weights.forward(&input, 0)?.squeeze(0)?;
        let mut next = sampler.sample(&logits)?;
        let prefill_secs = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut generated: Vec<u32> = Vec::new();
        let mut text = String::new();
        let mut stop = StopReason::MaxTokens;
        while generated.len() < max_new {
            if next == self.eos_id {
                stop = StopReason::EndOfSequence;
                break;
            }
            generated.push(next);
            // Decode everything so far and emit the new suffix: byte-level pieces of one
            // character can span several tokens.
            let all = self.decode(&generated)?;
            if all.len() > text.len() && !all.ends_with('\u{FFFD}') {
                let piece = all[text.len()..].to_string();
                text = all;
                if !on_text(&piece) {
                    stop = StopReason::Cancelled;
                    break;
                }
            }
            if generated.len() >= max_new {
                break;
            }
            let input = Tensor::new(&[next], &Device::Cpu)?.unsqueeze(0)?;
            let logits = weights
                .forward(&input, prompt_ids.len() + generated.len() - 1)?
                .squeeze(0)?;
            next = sampler.sample(&logits)?;
        }
        let all = self.decode(&generated)?;
        if all.len() > text.len() && stop != StopReason::Cancelled {
            on_text(&all[text.len()..]);
        }
        Ok(Generation {
            text: all,
            prompt_tokens: prompt_ids.len(),
            generated_tokens: generated.len(),
            stop,
            prefill_secs,
            generate_secs: started.elapsed().as_secs_f64(),
        })
    }
}

/// A GPT-2-style byte-level BPE tokenizer from GGUF vocabulary and merges. Control and
/// user-defined tokens (GGUF token types 3 and 4) are added as special tokens so that they
/// are matched whole in text.
fn build_tokenizer(
    tokens: &[String],
    merges: &[String],
    types: &[i32],
) -> Result<Tokenizer, String> {
    let vocab: ahash::AHashMap<String, u32> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let merges: Vec<(String, String)> = merges
        .iter()
        .filter_map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| e.to_string())?;
    let mut tk = Tokenizer::new(bpe);
    let pre = Sequence::new(vec![
        PreTokenizerWrapper::Digits(Digits::new(true)),
        PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
    ]);
    tk.with_pre_tokenizer(Some(pre));
    tk.with_decoder(Some(ByteLevelDecoder::default()));
    let special: Vec<AddedToken> = tokens
        .iter()
        .zip(types)
        .filter(|(_, &ty)| ty == 3 || ty == 4)
        .map(|(t, _)| AddedToken::from(t.clone(), true))
        .collect();
    tk.add_special_tokens(&special);
    Ok(tk)
}
