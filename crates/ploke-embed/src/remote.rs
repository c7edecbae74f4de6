//! [`OpenAiEmbedder`]: any server speaking OpenAI's embeddings API — OpenAI itself, Ollama
//! (`http://localhost:11434/v1`), Hugging Face TEI, vLLM, llama.cpp's server.
//!
//! Wire format (OpenAI's public API reference, "Create embeddings"):
//! `POST {url}/embeddings` with `{"model": "...", "input": ["...", ...]}`, answered by
//! `{"data": [{"index": 0, "embedding": [...]}, ...]}`. Vectors are placed by `index`, not by
//! their position in `data`.
//!
//! Retries: a 429 or 5xx answer is retried up to `max_retries` times, waiting as long as the
//! server's `retry-after` header says (capped at a minute) or else 0.5 s, 1 s, 2 s, ...
//! Timeouts and unreachable servers are not retried: they are configuration problems far
//! more often than blips, and retrying them multiplies the wait before the error shows.
//!
//! Uses a blocking client, always driven from a short-lived thread of its own
//! (`off_runtime`): callers may be async code (`ploke ask` embeds the request inside its
//! tokio runtime), where reqwest's blocking client must not run (it would stall the runtime,
//! and debug builds panic).

use std::fmt;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::error::error_chain;
use crate::{normalize, EmbedConfig, EmbedError};

/// Longest wait between two attempts, whatever `retry-after` asks for.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
/// First backoff step when the server gives no `retry-after`; doubled per attempt.
const BASE_BACKOFF: Duration = Duration::from_millis(500);
/// How much of an error body to quote.
const BODY_EXCERPT: usize = 300;

/// A client for one model on one OpenAI-compatible endpoint.
pub struct OpenAiEmbedder {
    client: Client,
    url: String,
    /// `url` as messages show it: a password in the URL masked.
    shown: String,
    api_key: Option<String>,
    model: String,
    dims: usize,
    batch_size: usize,
    timeout_secs: u64,
    max_retries: u32,
    model_id: String,
}

impl fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("endpoint", &self.shown)
            .field("model_id", &self.model_id)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct EmbeddingsRequest<'a> {
    model: &'a str,
    input: &'a [&'a str],
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingDatum>,
}

#[derive(Deserialize)]
struct EmbeddingDatum {
    index: usize,
    embedding: Vec<f32>,
}

impl OpenAiEmbedder {
    /// Builds the client from `config.remote` (and `config.batch_size`). When
    /// `remote.dims` is not set this sends one short request to learn the vector length, so
    /// an unreachable endpoint fails here rather than in the middle of indexing.
    pub fn from_config(config: &EmbedConfig) -> Result<Self, EmbedError> {
        off_runtime(|| Self::build(config))
    }

    fn build(config: &EmbedConfig) -> Result<Self, EmbedError> {
        let mut probe = config.clone();
        probe.backend = crate::Backend::Remote;
        probe.validate()?;
        let remote = &config.remote;
        let endpoint = format!("{}/embeddings", remote.url.trim_end_matches('/'));
        let shown = ploke_core::redact::url_for_display(&endpoint);
        let client = Client::builder()
            .timeout(Duration::from_secs(remote.timeout_secs))
            .build()
            .map_err(|e| EmbedError::Transport {
                url: shown.clone(),
                reason: ploke_core::redact::redact(&error_chain(&e), &[]),
            })?;
        let mut embedder = Self {
            client,
            url: endpoint,
            shown,
            api_key: remote.api_key.clone().filter(|k| !k.is_empty()),
            model: remote.model.clone(),
            dims: remote.dims.unwrap_or(0),
            batch_size: config.batch_size,
            timeout_secs: remote.timeout_secs,
            max_retries: remote.max_retries,
            model_id: String::new(),
        };
        if embedder.dims == 0 {
            let probe = embedder.request(&["dimension probe"])?;
            embedder.dims = probe[0].len();
            tracing::debug!(endpoint = %embedder.shown, dims = embedder.dims, "probed embedding dims");
        }
        embedder.model_id = format!("openai:{}:d{}", embedder.model, embedder.dims);
        Ok(embedder)
    }

    /// Length of every vector (configured or probed).
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// `openai:{model}:d{dims}`. The URL is left out on purpose: the same model behind
    /// `localhost` or `127.0.0.1` gives the same vectors.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The URL requests go to, as it may be shown (a password in it masked).
    pub fn endpoint(&self) -> &str {
        &self.shown
    }

    /// `text` (from the server or the HTTP client) without the key or the URL's password.
    fn redact(&self, text: &str) -> String {
        let mut secrets: Vec<&str> = self.api_key.iter().map(String::as_str).collect();
        secrets.extend(ploke_core::redact::url_password(&self.url));
        ploke_core::redact::redact(text, &secrets)
    }

    /// L2-normalised vectors, one per text, in input order; at most `batch_size` texts per
    /// request.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        off_runtime(|| self.embed_here(texts))
    }

    fn embed_here(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.batch_size) {
            let vectors = self.request(batch)?;
            if let Some(v) = vectors.iter().find(|v| v.len() != self.dims) {
                return Err(self.bad(format!(
                    "expected {}-dimensional vectors, got {} (remote.dims or the model changed?)",
                    self.dims,
                    v.len()
                )));
            }
            out.extend(vectors);
        }
        Ok(out)
    }

    /// One batch, with retries on 429/5xx.
    fn request(&self, inputs: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let body = EmbeddingsRequest {
            model: &self.model,
            input: inputs,
        };
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut request = self.client.post(&self.url).json(&body);
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key);
            }
            let response = request.send().map_err(|e| self.transport_error(&e))?;
            let status = response.status();
            if status.is_success() {
                let text = response.text().map_err(|e| self.transport_error(&e))?;
                return self.parse(&text, inputs.len());
            }

            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            let wait = retry_after(response.headers())
                .unwrap_or_else(|| BASE_BACKOFF * 2u32.saturating_pow(attempt - 1))
                .min(MAX_RETRY_WAIT);
            let text = response.text().unwrap_or_default();
            if retryable && attempt <= self.max_retries {
                tracing::warn!(
                    url = %self.shown,
                    status = status.as_u16(),
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "embedding request failed; retrying"
                );
                std::thread::sleep(wait);
                continue;
            }
            return Err(EmbedError::Status {
                url: self.shown.clone(),
                status: status.as_u16(),
                attempts: attempt,
                body: self.redact(&excerpt(&text)),
            });
        }
    }

    fn parse(&self, text: &str, expected: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
        let response: EmbeddingsResponse = serde_json::from_str(text).map_err(|e| {
            self.bad(format!(
                "not an embeddings response ({e}): {}",
                self.redact(&excerpt(text))
            ))
        })?;
        if response.data.len() != expected {
            return Err(self.bad(format!(
                "sent {expected} inputs, got {} embeddings",
                response.data.len()
            )));
        }
        let mut out: Vec<Option<Vec<f32>>> = vec![None; expected];
        for datum in response.data {
            let slot = out
                .get_mut(datum.index)
                .ok_or_else(|| self.bad(format!("index {} out of range", datum.index)))?;
            if slot.is_some() {
                return Err(self.bad(format!("index {} appears twice", datum.index)));
            }
            let mut vector = datum.embedding;
            if vector.is_empty() {
                return Err(self.bad(format!("empty embedding at index {}", datum.index)));
            }
            normalize(&mut vector);
            *slot = Some(vector);
        }
        // Every slot is filled: `expected` distinct in-range indices were seen.
        Ok(out.into_iter().flatten().collect())
    }

    fn bad(&self, reason: String) -> EmbedError {
        EmbedError::BadResponse {
            url: self.shown.clone(),
            reason: self.redact(&reason),
        }
    }

    fn transport_error(&self, err: &reqwest::Error) -> EmbedError {
        if err.is_timeout() {
            EmbedError::Timeout {
                url: self.shown.clone(),
                secs: self.timeout_secs,
            }
        } else {
            EmbedError::Transport {
                url: self.shown.clone(),
                reason: self.redact(&error_chain(err)),
            }
        }
    }
}

/// Runs `f` on a thread of its own and waits for it: reqwest's blocking client must not run
/// on a thread that drives an async runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// `retry-after` in seconds (fractions accepted). The HTTP-date form is rare on APIs and
/// falls back to exponential backoff.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = value.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

fn excerpt(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
