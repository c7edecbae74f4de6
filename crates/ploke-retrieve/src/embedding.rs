//! Keeping the stored vectors in step with the items: embed what is new or changed, drop
//! what is gone.
//!
//! Vectors live in the database (`embeddings`, keyed by model id and the content hash of the
//! embedded text, see [`crate::embed_text`]), so an unchanged item is never embedded twice,
//! not even after a rebuild of its file, and two items with the same text share one vector.
//! Work is written every [`FLUSH_EVERY`] vectors: an interrupted run keeps what it did, and
//! search meanwhile uses whatever vectors exist (lexical and graph signals need none).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ploke_core::ContentHash;
use ploke_db::Db;
use ploke_embed::Embedder;

use crate::embed_text::{embed_text, should_embed, text_hash};
use crate::{Corpus, RetrieveError};

/// Vectors written to the database per transaction.
pub const FLUSH_EVERY: usize = 256;

/// What [`embed_pending`] did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EmbedStats {
    /// Items that should have a vector.
    pub items: usize,
    /// Distinct texts among them.
    pub texts: usize,
    /// Texts embedded by this run.
    pub embedded: usize,
    /// Texts whose vector was already stored.
    pub reused: usize,
    /// Stored vectors dropped because no item has their text any more.
    pub removed: usize,
    /// Wall time of the embedding itself.
    pub seconds: f64,
}

impl EmbedStats {
    /// Texts embedded per second (0 when nothing was embedded).
    pub fn items_per_second(&self) -> f64 {
        if self.embedded == 0 || self.seconds <= 0.0 {
            0.0
        } else {
            self.embedded as f64 / self.seconds
        }
    }
}

/// Batches embedded at once. A local model's matrix products already use every core, but the
/// rest of a forward pass (attention softmax, GELU, layer norms, tokenizing) runs on the
/// calling thread, so two batches in flight keep two cores busy (measured: see README). A
/// remote endpoint gets two requests in flight.
fn embed_workers(embedder: &Embedder) -> usize {
    match embedder {
        Embedder::Local(_) => std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        Embedder::Remote(_) => 2,
    }
}

/// The texts of `corpus` that get vectors, deduplicated, with their hashes.
pub fn pending_texts(corpus: &Corpus) -> (usize, Vec<(ContentHash, String)>) {
    let mut seen = HashSet::new();
    let mut items = 0;
    let mut out = Vec::new();
    for (node, body) in corpus.nodes.iter().zip(&corpus.bodies) {
        if !should_embed(node) {
            continue;
        }
        items += 1;
        let text = embed_text(node, body);
        let h = text_hash(&text);
        if seen.insert(h) {
            out.push((h, text));
        }
    }
    (items, out)
}

/// Embeds every item of `corpus` whose text has no vector of `embedder`'s model in `db`, and
/// removes that model's vectors that no item uses any more. `progress(done, total)` is called
/// after each batch (`total` counts the texts to embed in this run).
pub fn embed_pending(
    db: &Db,
    corpus: &Corpus,
    embedder: &Embedder,
    batch_size: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<EmbedStats, RetrieveError> {
    let model = embedder.model_id().to_string();
    let (items, texts) = pending_texts(corpus);
    let stored: HashSet<ContentHash> = db.embedding_hashes(&model)?.into_iter().collect();
    let wanted: HashSet<ContentHash> = texts.iter().map(|(h, _)| *h).collect();
    let mut todo: Vec<&(ContentHash, String)> =
        texts.iter().filter(|(h, _)| !stored.contains(h)).collect();
    // Similar lengths in a batch waste less padding.
    todo.sort_by_key(|(_, t)| t.len());
    let stale: Vec<ContentHash> = stored
        .iter()
        .filter(|h| !wanted.contains(h))
        .copied()
        .collect();
    db.remove_embeddings(&model, &stale)?;

    let total = todo.len();
    let started = Instant::now();
    progress(0, total);
    let mut pending: Vec<(ContentHash, Vec<f32>)> = Vec::with_capacity(FLUSH_EVERY);
    let mut done = 0;
    let batches: Vec<&[&(ContentHash, String)]> = todo.chunks(batch_size.max(1)).collect();
    let next = AtomicUsize::new(0);
    let workers = embed_workers(embedder);
    std::thread::scope(|scope| -> Result<(), RetrieveError> {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, batches) = (&next, &batches);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(batch) = batches.get(i) else { break };
                let strs: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
                let result = embedder
                    .embed(&strs)
                    .map(|vecs| batch.iter().map(|(h, _)| *h).zip(vecs).collect::<Vec<_>>());
                let failed = result.is_err();
                if tx.send(result).is_err() || failed {
                    // Stop the others too: the receiver reports the first error.
                    next.store(batches.len(), Ordering::Relaxed);
                    break;
                }
            });
        }
        drop(tx);
        for result in rx {
            let vecs = match result {
                Ok(v) => v,
                Err(e) => {
                    next.store(batches.len(), Ordering::Relaxed);
                    return Err(e.into());
                }
            };
            done += vecs.len();
            pending.extend(vecs);
            if pending.len() >= FLUSH_EVERY {
                db.put_embeddings(&model, &pending)?;
                pending.clear();
            }
            progress(done, total);
        }
        Ok(())
    })?;
    db.put_embeddings(&model, &pending)?;
    Ok(EmbedStats {
        items,
        texts: texts.len(),
        embedded: total,
        reused: texts.len() - total,
        removed: stale.len(),
        seconds: started.elapsed().as_secs_f64(),
    })
}
