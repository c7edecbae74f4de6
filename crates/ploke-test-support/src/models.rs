//! The real model files the model tests load. `scripts/fetch-models.sh` puts them into
//! `<repo>/target/models/` (the README's test command runs it first); a test that needs one
//! that is missing fails and names the script, it never passes without running.

use std::path::PathBuf;

/// Where `scripts/fetch-models.sh` puts the models: `<repo>/target/models/` (whatever
/// `CARGO_TARGET_DIR` says).
pub fn models_dir() -> PathBuf {
    crate::repo_root().join("target/models")
}

/// The all-MiniLM-L6-v2 sentence-embedding model directory (`model.safetensors`,
/// `tokenizer.json`, `config.json`); panics, naming the fix, when it is not there.
#[track_caller]
pub fn minilm_dir() -> PathBuf {
    let dir = models_dir().join("all-MiniLM-L6-v2");
    for file in ["model.safetensors", "tokenizer.json", "config.json"] {
        assert!(
            dir.join(file).is_file(),
            "all-MiniLM-L6-v2 is missing ({} not found): run `scripts/fetch-models.sh minilm` \
             (or `scripts/fetch-models.sh all`, as the README's test command does)",
            dir.join(file).display()
        );
    }
    dir
}

/// The SmolLM2-135M-Instruct Q4_1 GGUF file; panics, naming the fix, when it is not there.
#[track_caller]
pub fn smollm2_gguf() -> PathBuf {
    let path = models_dir().join("smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run `scripts/fetch-models.sh smollm2` (or `scripts/fetch-models.sh \
         all`, as the README's test command does)",
        path.display()
    );
    path
}
