//! The local backend with the real all-MiniLM-L6-v2 from `target/models/` (put there by
//! `scripts/fetch-models.sh`, which the README's test command runs first). Without the model
//! these tests fail and say how to get it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use ploke_embed::{cosine, EmbedConfig, EmbedError, Embedder, LocalBert};
use ploke_test_support::http::{closed_port, Response, Server};
use ploke_test_support::models;

/// The model, loaded once per test binary; a missing model fails the test and names
/// `scripts/fetch-models.sh`.
fn model() -> &'static Embedder {
    static MODEL: OnceLock<Embedder> = OnceLock::new();
    MODEL.get_or_init(|| {
        let mut config = EmbedConfig::default();
        config.local.dir = Some(models::minilm_dir());
        config.batch_size = 4; // small, so the tests below cross batch boundaries
        Embedder::from_config(&config).expect("load all-MiniLM-L6-v2")
    })
}

fn embed_one(model: &Embedder, text: &str) -> Vec<f32> {
    model.embed(&[text]).unwrap().remove(0)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn dims_and_model_id() {
    let model = model();
    assert_eq!(model.dims(), 384);
    let id = model.model_id();
    assert!(id.starts_with("bert:all-MiniLM-L6-v2:"), "{id}");
    assert!(id.ends_with(":mean:t128"), "{id}");
    assert!(matches!(model, Embedder::Local(_)));
}

/// Agreement with an independent implementation: `tests/data/reference_bert.py` runs the
/// same weights through a plain-numpy BERT with mean pooling.
#[test]
fn matches_independent_numpy_reference() {
    let model = model();
    #[derive(serde::Deserialize)]
    struct Reference {
        text: String,
        embedding: Vec<f32>,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/minilm_reference.json"
    );
    let refs: Vec<Reference> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();
    let vectors = model.embed(&texts).unwrap();
    for (r, v) in refs.iter().zip(&vectors) {
        let diff = max_abs_diff(v, &r.embedding);
        assert!(diff < 1e-4, "{:?}: max |diff| {diff}", r.text);
        assert!(cosine(v, &r.embedding) > 0.99999, "{:?}", r.text);
    }
}

#[test]
fn vectors_have_unit_norm() {
    let model = model();
    let vectors = model
        .embed(&[
            "fn main() {}",
            "pub struct Runtime { handle: Handle }",
            "",
            "ä 漢字 🦀",
        ])
        .unwrap();
    for v in &vectors {
        assert_eq!(v.len(), 384);
        let norm = cosine(v, v).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
}

#[test]
fn related_texts_are_closer() {
    let model = model();
    let v = model
        .embed(&[
            "how to spawn a task",
            "spawn a new asynchronous task",
            "parse a json number",
        ])
        .unwrap();
    let related = cosine(&v[0], &v[1]);
    let unrelated = cosine(&v[0], &v[2]);
    assert!(
        related > unrelated,
        "cos(related) {related} <= cos(unrelated) {unrelated}"
    );
    assert!(related > 0.5, "cos(related) {related}");
}

#[test]
fn deterministic() {
    let model = model();
    let text =
        "impl<T> Sender<T> { pub async fn send(&self, value: T) -> Result<(), SendError<T>> }";
    let a = embed_one(model, text);
    let b = embed_one(model, text);
    assert!(max_abs_diff(&a, &b) < 1e-6);
}

#[test]
fn batching_and_order_do_not_change_vectors() {
    let model = model();
    let target = "fn spawn_blocking<F, R>(f: F) -> JoinHandle<R> where F: FnOnce() -> R + Send";
    let alone = embed_one(model, target);

    // Texts much shorter and much longer than the target, so that it is padded in the batch,
    // and more of them than one batch (batch_size is 4 here).
    let long = "pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> ".repeat(20);
    let mut batch: Vec<&str> = vec![
        "a",
        "mod io;",
        &long,
        "struct X;",
        "fn f() {}",
        &long,
        "enum E { A, B }",
    ];
    batch.insert(3, target);
    let vectors = model.embed(&batch).unwrap();
    assert!(
        max_abs_diff(&alone, &vectors[3]) < 1e-4,
        "in a batch: diff {}",
        max_abs_diff(&alone, &vectors[3])
    );

    // Same texts reversed: every vector follows its text.
    let reversed: Vec<&str> = batch.iter().rev().copied().collect();
    let back = model.embed(&reversed).unwrap();
    for (i, v) in vectors.iter().enumerate() {
        let j = batch.len() - 1 - i;
        assert!(max_abs_diff(v, &back[j]) < 1e-4, "text {i} moved");
    }
}

#[test]
fn long_texts_are_truncated_to_max_tokens() {
    let model = model();
    let Embedder::Local(bert) = model else {
        unreachable!()
    };
    let head = "let x = compute(a, b, c); ".repeat(40); // well past 128 tokens
    let a = format!("{head} fn tail_one() {{}}");
    let b = format!("{head} struct TailTwo;");
    let counts = bert.token_counts(&[&a, "fn f() {}"]).unwrap();
    assert_eq!(counts[0], 128);
    assert!(counts[1] < 10);
    // Only the first 128 tokens count, so different tails give the same vector.
    let v = model.embed(&[&a, &b]).unwrap();
    assert!(max_abs_diff(&v[0], &v[1]) < 1e-5);
}

#[test]
fn empty_input_gives_no_vectors() {
    let model = model();
    assert!(model.embed(&[]).unwrap().is_empty());
}

#[test]
fn missing_files_name_the_directory_and_the_fix() {
    // Needs no model.
    let dir = tempfile::tempdir().unwrap();
    let err = LocalBert::from_dir(dir.path(), &EmbedConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            EmbedError::MissingModelFile {
                file: "model.safetensors",
                ..
            }
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&dir.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("scripts/fetch-models.sh"), "{message}");
}

#[test]
fn offline_hub_download_says_what_to_do() {
    // Needs no model: the "hub" is a loopback port where nothing listens.
    let cache = tempfile::tempdir().unwrap();
    let mut config = EmbedConfig::default();
    config.local.cache_dir = Some(cache.path().to_path_buf());
    config.local.hub_endpoint = Some(format!("http://{}", closed_port()));
    let err = Embedder::from_config(&config).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, EmbedError::Download { .. }), "{err:?}");
    assert!(
        message.starts_with(
            "cannot download sentence-transformers/all-MiniLM-L6-v2 from the Hugging Face hub \
             (offline?): "
        ),
        "{message}"
    );
    // What a user who installed with cargo (no source tree, no scripts) can do.
    assert!(
        message.ends_with(
            "; put its model.safetensors, tokenizer.json and config.json in a directory and \
             set PLOKE_EMBED_DIR=DIR (or embed.local.dir in ploke.toml), or PLOKE_EMBED=off"
        ),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
}

/// A model hub on loopback serving the model directory the way huggingface.co serves a
/// repository to `hf-hub`: `GET /{repo}/resolve/main/{file}`, first with `Range: bytes=0-0`
/// for the metadata (`etag`, `x-repo-commit`, `content-range`), then `Range: bytes=N-`.
fn fake_hub(dir: &Path, repo: &str) -> Server {
    let mut files = HashMap::new();
    for name in [
        "model.safetensors",
        "tokenizer.json",
        "config.json",
        "1_Pooling/config.json",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let path = format!("/{repo}/resolve/main/{name}");
        files.insert(path, Arc::new(bytes));
    }
    Server::start(move |_, request| {
        let Some(bytes) = files.get(&request.path) else {
            return Response::new(404, "Entry not found");
        };
        let size = bytes.len();
        let start: usize = request
            .header("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.split('-').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let end = match request.header("range") {
            Some("bytes=0-0") => 0,
            _ => size - 1,
        };
        Response::new(206, bytes[start..=end].to_vec())
            .with_header("etag", format!("\"{}\"", blake3::hash(bytes).to_hex()))
            .with_header("x-repo-commit", "0123456789abcdef0123456789abcdef01234567")
            .with_header("content-range", format!("bytes {start}-{end}/{size}"))
    })
}

#[test]
fn hub_id_downloads_once_then_works_offline() {
    let reference = model();
    let cache = tempfile::tempdir().unwrap();
    let mut config = EmbedConfig::default();
    config.local.cache_dir = Some(cache.path().to_path_buf());

    let hub = fake_hub(&models::minilm_dir(), &config.local.hub_id);
    config.local.hub_endpoint = Some(hub.url());
    let downloaded = Embedder::from_config(&config).unwrap();
    let requests = hub.requests().len();
    assert!(requests >= 8, "metadata + body for 4 files, got {requests}");
    drop(hub);

    // Same files, same vectors and the same id as the directory they came from.
    assert_eq!(downloaded.model_id(), reference.model_id());
    let text = "pub fn block_on<F: Future>(&self, future: F) -> F::Output";
    assert!(max_abs_diff(&embed_one(&downloaded, text), &embed_one(reference, text)) < 1e-6);

    // The hub is gone: the cache alone is enough.
    config.local.hub_endpoint = Some(format!("http://{}", closed_port()));
    let offline = Embedder::from_config(&config).unwrap();
    assert_eq!(offline.model_id(), reference.model_id());
}
