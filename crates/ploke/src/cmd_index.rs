//! `ploke index`: run the pipeline with a progress bar, then print a summary.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

struct Bar(ProgressBar);

impl ploke_index::Progress for Bar {
    fn stage(&self, name: &'static str, total: u64) {
        self.0.set_message(name);
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
}

pub fn run(
    path: Option<PathBuf>,
    db: Option<PathBuf>,
    rebuild: bool,
    json: bool,
    embed: bool,
    verbose: u8,
) -> anyhow::Result<()> {
    let path = path.unwrap_or_else(|| PathBuf::from("."));
    let opts = ploke_index::IndexOptions {
        db_dir: db,
        rebuild,
        max_file_bytes: None,
        ..Default::default()
    };
    let bar = if std::io::stderr().is_terminal() && !json {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg:>9} [{bar:30}] {pos}/{len} files")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Some(b)
    } else {
        None
    };
    let report = match &bar {
        Some(b) => ploke_index::index(&path, &opts, &Bar(b.clone())),
        None => ploke_index::index(&path, &opts, &ploke_index::NoProgress),
    }
    .with_context(|| format!("indexing {}", path.display()))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // Search works from here on (lexically); embeddings come after, and are kept as they are
    // written if this is interrupted.
    let embedded = if embed {
        Some(embed_stage(&path, &report.db_dir, !json))
    } else {
        None
    };
    let (embed_json, embed_line) = match &embedded {
        None => (serde_json::Value::Null, None),
        Some(Ok(None)) => (serde_json::json!({"off": true}), Some("  embeddings off (PLOKE_EMBED=off)".to_string())),
        Some(Ok(Some((model, st)))) => (
            serde_json::json!({"model": model, "stats": st, "items_per_s": st.items_per_second()}),
            Some(format!(
                "  embedded {} items with {model} in {:.1} s ({:.1} items/s; {} unchanged reused, {} stale removed)",
                st.embedded,
                st.seconds,
                st.items_per_second(),
                st.reused,
                st.removed
            )),
        ),
        Some(Err(e)) => (
            serde_json::json!({"error": format!("{e:#}")}),
            Some(format!("warning: embeddings skipped: {e:#}; search uses the lexical and graph signals")),
        ),
    };
    if json {
        let v = serde_json::json!({
            "workspace": report.workspace_root,
            "db": report.db_dir,
            "crates": report.crates,
            "files": report.files,
            "lines": report.lines,
            "items": report.nodes,
            "edges": report.edges,
            "unresolved": report.unresolved,
            "parsed_files": report.parsed_files,
            "delta_rows": report.delta_rows,
            "skipped": report.skipped.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "orphan_files": report.orphan_files,
            "embed": embed_json,
            "stages_ms": report.stages.iter().map(|(n, d)| (n.to_string(), d.as_secs_f64() * 1000.0)).collect::<std::collections::BTreeMap<_, _>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    // Published crates often declare examples/tests/benches they do not ship: a handful of
    // warnings is worth showing, a wall of them is not.
    const SHOWN_WARNINGS: usize = 3;
    let shown = if verbose > 0 {
        report.warnings.len()
    } else {
        SHOWN_WARNINGS
    };
    for w in report.warnings.iter().take(shown) {
        eprintln!("warning: {w}");
    }
    if report.warnings.len() > shown {
        eprintln!(
            "warning: … and {} more (-v shows them all)",
            report.warnings.len() - shown
        );
    }
    let total: f64 = report.stages.iter().map(|(_, d)| d.as_secs_f64()).sum();
    println!(
        "indexed {} ({} crates, {} files, {} lines) into {}",
        report.workspace_root.display(),
        report.crates,
        report.files,
        report.lines,
        report.db_dir.display()
    );
    println!(
        "  {} items, {} edges, {} unresolved references; {} files parsed, {} rows written",
        report.nodes, report.edges, report.unresolved, report.parsed_files, report.delta_rows
    );
    let stages: Vec<String> = report
        .stages
        .iter()
        .map(|(n, d)| format!("{n} {:.0} ms", d.as_secs_f64() * 1000.0))
        .collect();
    println!("  time {:.2} s: {}", total, stages.join(", "));
    if let Some(line) = embed_line {
        println!("{line}");
    }
    if !report.skipped.is_empty() {
        println!(
            "  {} problems (the rest was indexed):",
            report.skipped.len()
        );
        for s in &report.skipped {
            println!("    {s}");
        }
    }
    if !report.orphan_files.is_empty() {
        println!(
            "  {} .rs files are not in any target's module tree (not indexed)",
            report.orphan_files.len()
        );
        if verbose > 0 {
            for f in &report.orphan_files {
                println!("    {f}");
            }
        }
    }
    Ok(())
}

/// Loads the model and embeds what is new; `Ok(None)` when embeddings are off.
fn embed_stage(
    path: &std::path::Path,
    db_dir: &std::path::Path,
    bar: bool,
) -> anyhow::Result<Option<(String, ploke_retrieve::embedding::EmbedStats)>> {
    let Some((embedder, batch)) = crate::embeddings::load_embedder(path)? else {
        return Ok(None);
    };
    let db = ploke_db::Db::open(db_dir).with_context(|| format!("opening {}", db_dir.display()))?;
    let stats = crate::embeddings::embed_index(&db, &embedder, batch, bar)?;
    Ok(Some((embedder.model_id().to_string(), stats)))
}
