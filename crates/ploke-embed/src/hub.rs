//! One-time download of a model from the Hugging Face hub (or a mirror) into a cache
//! directory, with a progress bar on stderr. Files already in the cache are used without any
//! network access, so a downloaded model keeps working offline.

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::Cache;

use crate::error::error_chain;
use crate::local::ModelFiles;
use crate::{EmbedError, LocalConfig};

pub(crate) fn fetch(config: &LocalConfig) -> Result<ModelFiles, EmbedError> {
    let model = config.hub_id.trim().to_string();
    let download_err = |reason: String| EmbedError::Download {
        model: model.clone(),
        reason,
    };

    let mut builder = match &config.cache_dir {
        Some(dir) => ApiBuilder::from_cache(Cache::new(dir.clone())),
        None => ApiBuilder::new(),
    };
    builder = builder.with_progress(true);
    if let Some(endpoint) = &config.hub_endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/').to_string());
    }
    let api = builder.build().map_err(|e| download_err(describe(&e)))?;
    let repo = api.model(model.clone());

    let get = |file: &str| {
        repo.get(file)
            .map_err(|e| download_err(format!("{file}: {}", describe(&e))))
    };
    let config_path = get("config.json")?;
    let tokenizer = get("tokenizer.json")?;
    let weights = get("model.safetensors")?;
    // Optional: plain BERT repos have no pooling config and get mean pooling. Any failure here
    // (usually 404) means "absent"; the required files above already proved the hub works.
    let pooling = match repo.get("1_Pooling/config.json") {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::debug!(model = %model, error = %describe(&e), "no 1_Pooling/config.json; using mean pooling");
            None
        }
    };
    Ok(ModelFiles {
        weights,
        tokenizer,
        config: config_path,
        pooling,
    })
}

fn describe(err: &ApiError) -> String {
    error_chain(err)
}
