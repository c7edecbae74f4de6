//! Loads the real SmolLM2-135M-Instruct Q4_1 file (`scripts/fetch-models.sh smollm2`, which
//! the README's test command runs first) and generates with it. Without the file the test
//! fails and says how to fetch it.

use ploke_local_llm::{ChatMessage, GenerateOptions, LocalModel, StopReason};
use ploke_test_support::models;

#[test]
fn smollm2_loads_applies_its_chat_template_and_generates() {
    let path = models::smollm2_gguf();
    let model = LocalModel::load(&path).unwrap();
    assert!(
        model.name().to_lowercase().contains("smollm2"),
        "{}",
        model.name()
    );
    assert_eq!(
        model.context_length(),
        4096,
        "8192 in the file, capped at candle's MAX_SEQ_LEN"
    );

    // The template from the file: ChatML, with the default system prompt when none is given.
    let msgs = [ChatMessage::new("user", "What is the capital of France?")];
    assert_eq!(
        model.render_chat(&msgs, true).unwrap(),
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    );
    let with_system = [
        ChatMessage::new("system", "Be brief."),
        ChatMessage::new("user", "Hi"),
    ];
    assert_eq!(
        model.render_chat(&with_system, false).unwrap(),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    );

    // Control tokens stay whole; text round-trips through the byte-level BPE.
    let ids = model
        .encode("<|im_start|>user\nfn main() { println!(\"héllo 123\"); }")
        .unwrap();
    assert_eq!(ids[0], 1, "<|im_start|> is token 1");
    assert_eq!(
        model.decode(&ids).unwrap(),
        "<|im_start|>user\nfn main() { println!(\"héllo 123\"); }"
    );

    // Greedy generation streams its text and is deterministic.
    let opts = GenerateOptions {
        max_tokens: 24,
        ..GenerateOptions::default()
    };
    let mut streamed = String::new();
    let a = model
        .chat(&msgs, &opts, |piece| {
            streamed.push_str(piece);
            true
        })
        .unwrap();
    assert!(a.generated_tokens > 0 && a.generated_tokens <= 24, "{a:?}");
    assert_eq!(streamed, a.text, "the callback saw exactly the final text");
    // A 135M model's facts are unreliable; its text is still words, not token debris.
    assert!(
        a.text.chars().filter(|c| c.is_alphabetic()).count() >= 10,
        "{:?}",
        a.text
    );
    assert!(!a.text.contains("<|im_"), "{:?}", a.text);
    assert!(matches!(
        a.stop,
        StopReason::EndOfSequence | StopReason::MaxTokens
    ));
    assert!(a.prompt_tokens > 20 && a.prefill_tokens_per_sec() > 0.0 && a.tokens_per_sec() > 0.0);
    let b = model.chat(&msgs, &opts, |_| true).unwrap();
    assert_eq!(
        a.text, b.text,
        "greedy decoding is deterministic (fresh KV cache each time)"
    );

    // The callback can stop generation.
    let mut pieces = 0;
    let c = model
        .chat(&msgs, &opts, |_| {
            pieces += 1;
            pieces < 2
        })
        .unwrap();
    assert_eq!(c.stop, StopReason::Cancelled);
    assert!(c.generated_tokens <= 3, "{c:?}");
}

#[test]
fn a_file_that_is_not_gguf_is_refused_with_its_path() {
    let dir = std::env::temp_dir().join(format!("ploke-gguf-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-a-model.gguf");
    std::fs::write(&path, b"definitely not gguf").unwrap();
    let err = LocalModel::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("not-a-model.gguf") && err.contains("GGUF"),
        "{err}"
    );
    let missing = LocalModel::load(&dir.join("missing.gguf"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("missing.gguf") && missing.contains("cannot read"),
        "{missing}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
