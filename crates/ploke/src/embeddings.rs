//! The embedding stage of `ploke index`, and the model a search embeds its request with.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use ploke_db::Db;
use ploke_embed::Embedder;
use ploke_retrieve::embedding::{embed_pending, EmbedStats};
use ploke_retrieve::Corpus;

/// The `meta` key naming the model whose vectors are stored.
pub const EMBED_MODEL_KEY: &str = "embed_model";

/// Loads the embedding model configured for the workspace at `start`; `Ok(None)` when
/// embeddings are turned off.
pub fn load_embedder(start: &Path) -> anyhow::Result<Option<(Embedder, usize)>> {
    let Some(config) = crate::config::embed_config(start)? else {
        return Ok(None);
    };
    let embedder = Embedder::from_config(&config)
        .context("loading the embedding model (PLOKE_EMBED=off skips embeddings)")?;
    Ok(Some((embedder, config.batch_size)))
}

/// Embeds the items of `db` that have no vector yet, with a progress bar on a terminal.
pub fn embed_index(
    db: &Db,
    embedder: &Embedder,
    batch_size: usize,
    show_bar: bool,
) -> anyhow::Result<EmbedStats> {
    let corpus = Corpus::load(db).context("reading items to embed")?;
    let bar = (show_bar && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner}     embed [{bar:30}] {pos}/{len} items, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b
    });
    let stats = embed_pending(db, &corpus, embedder, batch_size, |done, total| {
        if let Some(b) = &bar {
            b.set_length(total as u64);
            b.set_position(done as u64);
        }
    })
    .context("embedding items")?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    db.set_meta(EMBED_MODEL_KEY, embedder.model_id())?;
    Ok(stats)
}
