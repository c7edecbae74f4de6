//! Embedding throughput of the local model on real code, sorted vs unsorted batches.
//!
//! ```text
//! scripts/fetch-models.sh
//! cargo run --release -p ploke-embed --example throughput -- DIR [ITEMS] [MODEL_DIR]
//! ```
//!
//! Reads the `.rs` files under DIR, cuts them into items at the lines that open one (`fn`,
//! `struct`, `impl`, ...; at most 40 lines each) written as "kind name\nsource", takes ITEMS of them
//! (default 300) spread over the whole tree, and embeds them twice at the default config
//! (128-token cap, batch 32): once in input order, batch by batch (each batch padded to its
//! longest text), and once in one `embed` call, which sorts by length before batching.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use ploke_embed::{EmbedConfig, LocalBert};

const LINES_PER_ITEM: usize = 40;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: throughput DIR [ITEMS] [MODEL_DIR]")?,
    );
    let items: usize = match args.next() {
        Some(n) => n.parse()?,
        None => 300,
    };
    let model_dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .unwrap();
        repo.join("target/models/all-MiniLM-L6-v2")
    });

    let mut files = Vec::new();
    collect_rs_files(&dir, &mut files)?;
    files.sort();
    let mut all = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file)?;
        all.extend(split_items(&source));
    }
    if all.is_empty() {
        return Err(format!("no .rs files under {}", dir.display()).into());
    }
    // Every k-th item, so the sample covers the whole tree rather than its first files.
    let step = (all.len() / items.max(1)).max(1);
    let texts: Vec<&str> = all
        .iter()
        .step_by(step)
        .take(items)
        .map(String::as_str)
        .collect();

    let config = EmbedConfig::default();
    let load = Instant::now();
    let model = LocalBert::from_dir(&model_dir, &config)?;
    println!(
        "model {} loaded in {:.2} s; {} files, {} items (at most {} lines), {} sampled",
        model.model_id(),
        load.elapsed().as_secs_f64(),
        files.len(),
        all.len(),
        LINES_PER_ITEM,
        texts.len()
    );

    let counts = model.token_counts(&texts)?;
    let real_tokens: usize = counts.iter().sum();
    let truncated = counts.iter().filter(|&&c| c >= model.max_tokens()).count();
    println!(
        "tokens: {real_tokens} real ({:.0} per item, {truncated} items cut at {}); batch {}",
        real_tokens as f64 / texts.len() as f64,
        model.max_tokens(),
        config.batch_size
    );

    // Warm-up: first calls pay for allocation and thread-pool start.
    model.embed(&texts[..texts.len().min(8)])?;

    let padded = |order: &[usize]| -> usize {
        order
            .chunks(config.batch_size)
            .map(|b| b.len() * b.iter().map(|&i| counts[i]).max().unwrap_or(0))
            .sum()
    };
    let input_order: Vec<usize> = (0..texts.len()).collect();
    let mut sorted_order = input_order.clone();
    sorted_order.sort_by_key(|&i| counts[i]);

    let start = Instant::now();
    for batch in texts.chunks(config.batch_size) {
        model.embed(batch)?;
    }
    report(
        "unsorted",
        start.elapsed().as_secs_f64(),
        texts.len(),
        real_tokens,
        padded(&input_order),
    );

    let start = Instant::now();
    model.embed(&texts)?;
    report(
        "sorted",
        start.elapsed().as_secs_f64(),
        texts.len(),
        real_tokens,
        padded(&sorted_order),
    );
    Ok(())
}

fn report(label: &str, secs: f64, items: usize, real: usize, padded: usize) {
    println!(
        "{label:>9}: {secs:6.2} s  {:6.1} items/s  {:7.0} tokens/s  (padded tokens {padded}, {:.0}% real)",
        items as f64 / secs,
        real as f64 / secs,
        100.0 * real as f64 / padded as f64
    );
}

/// Cuts a file into item-sized pieces: a new piece starts at each line that opens an item
/// (at most one level of indentation, so methods in an `impl` count) and no piece is longer
/// than `LINES_PER_ITEM`. Each becomes "kind name\nsource".
fn split_items(source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut starts = vec![0];
    for (i, line) in lines.iter().enumerate().skip(1) {
        let indent = line.len() - line.trim_start().len();
        let since = i - starts.last().copied().unwrap_or(0);
        if (indent <= 4 && item_head(line).is_some()) || since >= LINES_PER_ITEM {
            starts.push(i);
        }
    }
    starts.push(lines.len());
    starts
        .windows(2)
        .filter_map(|w| {
            let chunk = &lines[w[0]..w[1]];
            if chunk.iter().all(|l| l.trim().is_empty()) {
                return None;
            }
            let (kind, name) = chunk
                .iter()
                .find_map(|l| item_head(l))
                .unwrap_or(("chunk", "anonymous".to_string()));
            Some(format!("{kind} {name}\n{}", chunk.join("\n").trim()))
        })
        .collect()
}

/// `(kind, name)` of a line that starts an item, e.g. `pub(crate) async fn spawn<F>(` →
/// `("fn", "spawn")`.
fn item_head(line: &str) -> Option<(&'static str, String)> {
    const KINDS: [&str; 9] = [
        "fn",
        "struct",
        "enum",
        "trait",
        "impl",
        "mod",
        "type",
        "const",
        "macro_rules!",
    ];
    let mut words = line.split_whitespace().peekable();
    while let Some(word) = words.peek() {
        if word.starts_with("pub") || ["async", "unsafe", "const", "extern"].contains(word) {
            // `const` is also a kind: only a qualifier when another kind follows.
            if *word == "const" {
                let mut rest = words.clone();
                rest.next();
                if !matches!(rest.peek(), Some(w) if KINDS.contains(w)) {
                    break;
                }
            }
            words.next();
        } else {
            break;
        }
    }
    let kind = KINDS.iter().find(|k| words.peek() == Some(*k))?;
    words.next();
    let name: String = words
        .next()?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    Some((
        kind,
        if name.is_empty() {
            "_".to_string()
        } else {
            name
        },
    ))
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}
