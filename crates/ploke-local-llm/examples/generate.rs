//! Tokens per second of a GGUF chat model on this machine.
//!
//! ```text
//! scripts/fetch-models.sh smollm2
//! cargo run --release -p ploke-local-llm --example generate -- [MODEL.gguf] [MAX_TOKENS]
//! ```
//!
//! Loads the model, renders a short conversation with the file's chat template, generates
//! greedily (streaming to stdout) and prints load time, prefill and generation speed. Runs
//! three times and prints the median.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use ploke_local_llm::{ChatMessage, GenerateOptions, LocalModel};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    let max_tokens: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(128);
    let t = Instant::now();
    let model = LocalModel::load(&path)?;
    println!(
        "loaded {} in {:.2} s",
        model.name(),
        t.elapsed().as_secs_f64()
    );
    let msgs = [
        ChatMessage::new("system", "You are a Rust expert. Answer briefly."),
        ChatMessage::new(
            "user",
            "How do I make the retry delay of an HTTP client configurable in Rust?",
        ),
    ];
    let opts = GenerateOptions {
        max_tokens,
        ..GenerateOptions::default()
    };
    let (mut pre, mut gen) = (Vec::new(), Vec::new());
    for run in 0..3 {
        let g = model.chat(&msgs, &opts, |piece| {
            if run == 0 {
                print!("{piece}");
                let _ = std::io::stdout().flush();
            }
            true
        })?;
        if run == 0 {
            println!();
        }
        println!(
            "run {run}: prompt {} tokens, prefill {:.1} tokens/s; generated {} tokens at {:.1} tokens/s ({:?})",
            g.prompt_tokens,
            g.prefill_tokens_per_sec(),
            g.generated_tokens,
            g.tokens_per_sec(),
            g.stop
        );
        pre.push(g.prefill_tokens_per_sec());
        gen.push(g.tokens_per_sec());
    }
    pre.sort_by(f64::total_cmp);
    gen.sort_by(f64::total_cmp);
    println!(
        "median: prefill {:.1} tokens/s, generation {:.1} tokens/s",
        pre[1], gen[1]
    );
    Ok(())
}
