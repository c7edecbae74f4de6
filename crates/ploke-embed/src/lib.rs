//! Dense embeddings of code items: text in, unit-length `f32` vectors out.
//!
//! [`Embedder`] is the one interface, a closed enum over the two backends:
//! - [`LocalBert`] runs a BERT-family sentence model (default
//!   `sentence-transformers/all-MiniLM-L6-v2`, 384 dims) in this process on the CPU with
//!   candle. Loads from a directory (`model.safetensors`, `tokenizer.json`, `config.json`,
//!   optional `1_Pooling/config.json`) or downloads a model-hub id once into a cache.
//! - [`OpenAiEmbedder`] calls any OpenAI-compatible `POST {url}/embeddings` endpoint
//!   (OpenAI, Ollama, TEI, vLLM) with batching, timeouts and retries.
//!
//! Both return vectors L2-normalised (so cosine similarity is a dot product) and in the
//! order of the input. [`Embedder::model_id`] names the model and every setting that changes
//! the vectors; store it beside them and re-embed when it changes.
//!
//! ```no_run
//! use ploke_embed::{EmbedConfig, Embedder};
//!
//! let mut config = EmbedConfig::default();
//! config.local.dir = Some("target/models/all-MiniLM-L6-v2".into());
//! let embedder = Embedder::from_config(&config)?;
//! let vectors = embedder.embed(&["fn spawn<F>(future: F) -> JoinHandle<F::Output>"])?;
//! assert_eq!(vectors[0].len(), embedder.dims());
//! # Ok::<(), ploke_embed::EmbedError>(())
//! ```
//!
//! What this crate knows nothing of: items, the graph, the database, where vectors are
//! stored or searched. It takes strings. It has no async runtime and reads no environment
//! variables: the binary decides config (API keys included) and calls `embed` from a blocking
//! thread.
//!
//! Speed (all-MiniLM-L6-v2, 2 CPU cores): about 20 items/s for ~130-token code items at the
//! default 128-token cap; see `examples/throughput.rs`.

mod config;
mod error;
mod hub;
mod local;
mod remote;

pub use config::{Backend, EmbedConfig, LocalConfig, RemoteConfig, DEFAULT_HUB_MODEL};
pub use error::EmbedError;
pub use local::{LocalBert, Pooling};
pub use remote::OpenAiEmbedder;

/// An embedding model, local or remote.
#[derive(Debug)]
pub enum Embedder {
    Local(LocalBert),
    Remote(OpenAiEmbedder),
}

impl Embedder {
    /// Builds the backend `config.backend` names. Local: loads (or downloads) the model.
    /// Remote: builds the client and, unless `remote.dims` is set, asks the endpoint once for
    /// the vector length.
    pub fn from_config(config: &EmbedConfig) -> Result<Self, EmbedError> {
        config.validate()?;
        Ok(match config.backend {
            Backend::Local => Embedder::Local(LocalBert::from_config(config)?),
            Backend::Remote => Embedder::Remote(OpenAiEmbedder::from_config(config)?),
        })
    }

    /// Length of every vector.
    pub fn dims(&self) -> usize {
        match self {
            Embedder::Local(m) => m.dims(),
            Embedder::Remote(m) => m.dims(),
        }
    }

    /// Identifies the model and the settings that shape its vectors; vectors stored under a
    /// different id must be recomputed.
    pub fn model_id(&self) -> &str {
        match self {
            Embedder::Local(m) => m.model_id(),
            Embedder::Remote(m) => m.model_id(),
        }
    }

    /// L2-normalised vectors of `dims()` floats, one per text, in input order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Embedder::Local(m) => m.embed(texts),
            Embedder::Remote(m) => m.embed(texts),
        }
    }
}

// Embedders are shared across threads (one model, many callers).
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Embedder>();
};

/// Scales `v` to unit length in place; a zero vector stays zero.
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product; the cosine similarity of two vectors from [`Embedder::embed`].
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
