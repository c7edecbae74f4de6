//! `cargo xtask …`: benchmarks and evaluation that are too heavy for the test suite.
//!
//! - `bench-index [CRATE…]`: index the benchmark crates from scratch, one process per crate,
//!   and print per crate: files, lines, items, edges, seconds per stage, peak memory, the ratio
//!   of index time to a plain single-threaded `syn::parse_file` of the same files (measured in
//!   the same process), and the median time of a re-index after one file changed.
//! - `eval [--mode hybrid|lexical|vector] [--fresh] [CRATE…]`: the retrieval benchmark end to
//!   end: index and embed every DEV crate of `../shared/bench`, run its queries through
//!   `ploke search --batch`, print `score.py`'s tables and the time of each step.
//! - `bench-watch [--ra DIR] [tokio|ra]`: the live index (write → search latency, bursts,
//!   idle CPU, memory over many edits, searches in other processes during a rebuild); see
//!   `bench_watch.rs`.
//! - `bench-mcp [--embed]`: `ploke mcp` on tokio through the protocol (start to first answer,
//!   `search_code` and `get_item` latency, idle memory).
//! - `bench-cli [ROUNDS]`: one-shot commands on tokio: the cost of checking and refreshing
//!   the index before answering (see `bench_cli.rs`).
//! - `bench-deps [ROUNDS]`: indexing a workspace's dependencies (reqwest 0.12.4 and all it
//!   builds with): first index, a second workspace on the warm cache, direct only, none
//!   (see `bench_deps.rs`).
//! - `bench-lsp [ROUNDS]`: `ploke lsp` on tokio over stdio: workspace/symbol, hover, save →
//!   symbol latency (see `bench_lsp.rs`).
//! - `bench-search [CRATE]`: hybrid search latency per request (embedding included, model
//!   loaded) over an index left by `eval` (default tokio); medians and p90.
//! - `coverage DB ITEMS.jsonl`: which items of an item list an index lacks.
//! - `coverage-top [--list-only] [CRATE…]`: item coverage on the 30 most downloaded crates
//!   against an independent tree-sitter lister (see `coverage_top.rs`).
//! - `mine [--repos FILE] [--out DIR] [--fresh] [OWNER/NAME…]`: re-ranker training pairs (commit
//!   message, items it changed) from git histories, into `target/mine/` (see `mine.rs`).
//!
//! Both materialise the exact crate sources with the benchmark's `corpus.sh` (cargo only).

// A command-line program: printing its results is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench_analyze;
mod bench_cli;
mod bench_deps;
mod bench_lsp;
mod bench_mcp;
mod bench_watch;
mod coverage_top;
mod eval_questions;
mod finetune;
mod mine;
mod rank;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Indexing allocates many small strings and vectors; mimalloc handles that markedly faster
/// than the system allocator (measured: see README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repo")
        .to_path_buf()
}

fn bench_dir() -> PathBuf {
    std::env::var_os("PLOKE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/bench"))
}

/// (crate, version, source dir) for every benchmark crate.
fn corpus() -> Result<Vec<(String, String, PathBuf)>> {
    corpus_of(
        &bench_dir().join("crates.tsv"),
        &std::env::temp_dir().join("ploke-corpus"),
    )
}

/// (crate, version, source dir) for every crate of `manifest` (the benchmark's `crates.tsv`
/// format), materialised under `scratch` by the benchmark's `corpus.sh`.
fn corpus_of(manifest: &Path, scratch: &Path) -> Result<Vec<(String, String, PathBuf)>> {
    let bench = bench_dir();
    let out = Command::new("bash")
        .arg(bench.join("corpus.sh"))
        .arg(manifest)
        .arg(scratch)
        .output()
        .with_context(|| format!("running {}/corpus.sh", bench.display()))?;
    if !out.status.success() {
        bail!("corpus.sh failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split('\t');
            Some((
                it.next()?.to_string(),
                it.next()?.to_string(),
                PathBuf::from(it.next()?),
            ))
        })
        .collect())
}

/// A fresh copy of tokio 1.38.0 from the benchmark corpus in `tmp` (benchmarks edit it).
fn tokio_copy(tmp: &Path) -> Result<PathBuf> {
    let src = corpus()?
        .into_iter()
        .find(|(c, v, _)| c == "tokio" && v == "1.38.0")
        .map(|(_, _, dir)| dir)
        .context("tokio 1.38.0 is not in the benchmark corpus")?;
    let root = tmp.join("tokio");
    copy_dir(&src, &root)?;
    Ok(root)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn copy_dir(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let ty = e.file_type()?;
        let to = dst.join(e.file_name());
        if ty.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else if ty.is_file() {
            std::fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}

/// One crate, in this process: full index, raw parse, re-index after an edit.
fn index_one(src: &Path) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let work = tmp.path().join("crate");
    copy_dir(src, &work)?;
    let db = tmp.path().join("db");
    let opts = ploke_index::IndexOptions {
        db_dir: Some(db.clone()),
        rebuild: true,
        max_file_bytes: None,
        ..Default::default()
    };
    // Warm the page cache so the first measured run is not an I/O benchmark.
    let ws = ploke_workspace::discover(&work)?;
    let mut files = Vec::new();
    for p in &ws.packages {
        files.extend(ploke_workspace::rust_files(&ws, p));
    }
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();

    let t0 = Instant::now();
    let report = ploke_index::index(&work, &opts, &ploke_index::NoProgress)?;
    let index_s = t0.elapsed().as_secs_f64();

    // The floor: a plain single-threaded syn parse of the files the index covered.
    let covered: std::collections::HashSet<PathBuf> = {
        let graph_files: Vec<String> = report_files(&db)?;
        graph_files.into_iter().map(|f| work.join(f)).collect()
    };
    let cov_texts: Vec<&String> = files
        .iter()
        .zip(&texts)
        .filter(|(f, _)| covered.contains(*f))
        .map(|(_, t)| t)
        .collect();
    let mut raw = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        for text in &cov_texts {
            let _ = std::hint::black_box(syn::parse_file(text));
        }
        raw.push(t.elapsed().as_secs_f64());
    }
    raw.sort_by(f64::total_cmp);
    let raw_s = raw[1];

    // Re-index after changing one file: append a comment to a mid-sized file, five times.
    let opts_inc = ploke_index::IndexOptions {
        rebuild: false,
        ..opts.clone()
    };
    let mut target: Vec<&PathBuf> = covered.iter().collect();
    target.sort();
    let edit = target[target.len() / 2].clone();
    let mut inc = Vec::new();
    let mut inc_parsed = 0;
    for i in 0..5 {
        let mut text = std::fs::read_to_string(&edit)?;
        text.push_str(&format!(
            "\n// ploke bench edit {i}\nfn ploke_bench_added_{i}() {{}}\n"
        ));
        std::fs::write(&edit, text)?;
        let t = Instant::now();
        let r = ploke_index::index(&work, &opts_inc, &ploke_index::NoProgress)?;
        inc.push(t.elapsed().as_secs_f64());
        inc_parsed = r.parsed_files;
    }
    inc.sort_by(f64::total_cmp);

    let stages: serde_json::Map<String, serde_json::Value> = report
        .stages
        .iter()
        .map(|(n, d)| (n.to_string(), d.as_secs_f64().into()))
        .collect();
    let v = serde_json::json!({
        "files": report.files, "lines": report.lines, "bytes": report.bytes, "items": report.nodes,
        "edges": report.edges, "unresolved": report.unresolved, "skipped": report.skipped.len(),
        "index_s": index_s, "raw_parse_s": raw_s, "stages": stages, "peak_mb": peak_rss_mb(),
        "reindex_one_file_median_s": inc[inc.len() / 2], "reindex_parsed_files": inc_parsed,
    });
    println!("{v}");
    Ok(())
}

fn report_files(db: &Path) -> Result<Vec<String>> {
    let state = ploke_index::indexed_files(db)?;
    Ok(state)
}

fn bench_index(filter: &[String]) -> Result<()> {
    let exe = std::env::current_exe()?;
    println!(
        "{:<14} {:>6} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>10}",
        "crate",
        "files",
        "lines",
        "items",
        "edges",
        "parse_s",
        "resolv_s",
        "write_s",
        "total_s",
        "raw_s",
        "ratio",
        "peakMB",
        "reindex_ms"
    );
    for (name, version, dir) in corpus()? {
        if !filter.is_empty() && !filter.contains(&name) {
            continue;
        }
        let out = Command::new(&exe).arg("index-one").arg(&dir).output()?;
        if !out.status.success() {
            println!(
                "{name}-{version}: failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let st = |k: &str| v["stages"][k].as_f64().unwrap_or(0.0);
        let total = v["index_s"].as_f64().unwrap_or(0.0);
        let raw = v["raw_parse_s"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<14} {:>6} {:>7} {:>7} {:>7} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>7.2} {:>7.0} {:>10.1}",
            format!("{name}"),
            v["files"], v["lines"], v["items"], v["edges"],
            st("parse"), st("resolve"), st("write") + st("cache"), total, raw, total / raw,
            v["peak_mb"].as_f64().unwrap_or(0.0),
            v["reindex_one_file_median_s"].as_f64().unwrap_or(0.0) * 1000.0,
        );
    }
    println!("(total_s: full index from scratch incl. discovery and database write; raw_s: single-threaded syn::parse_file of the same files, median of 3; reindex_ms: median of 5 re-indexes after appending a fn to one file)");
    Ok(())
}

/// Options of `cargo xtask eval`.
struct EvalArgs {
    mode: String,
    fresh: bool,
    rank_params: Option<String>,
    crates: Vec<String>,
}

fn parse_eval_args(args: &[String]) -> Result<EvalArgs> {
    let mut e = EvalArgs {
        mode: "hybrid".into(),
        fresh: false,
        rank_params: None,
        crates: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mode" => e.mode = it.next().context("--mode lexical|vector|hybrid")?.clone(),
            "--fresh" => e.fresh = true,
            "--rank-params" => e.rank_params = Some(it.next().context("--rank-params JSON")?.clone()),
            c if !c.starts_with('-') => e.crates.push(c.to_string()),
            other => bail!("unknown option {other}; usage: cargo xtask eval [--mode M] [--fresh] [--rank-params JSON] [CRATE…]"),
        }
    }
    Ok(e)
}

/// Builds the `ploke` binary (release, without the GUI, which no benchmark runs) and returns
/// its path.
/// The local embedding model: `PLOKE_EMBED_DIR`, else the MiniLM of `scripts/fetch-models.sh`.
fn local_model_dir() -> PathBuf {
    std::env::var_os("PLOKE_EMBED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/models/all-MiniLM-L6-v2"))
}

/// [`local_model_dir`], fetching the MiniLM first when it is the default and not there yet.
fn fetched_local_model_dir() -> Result<PathBuf> {
    let dir = local_model_dir();
    if std::env::var_os("PLOKE_EMBED_DIR").is_none() && !dir.join("model.safetensors").exists() {
        let st = Command::new("bash")
            .arg(repo_root().join("scripts/fetch-models.sh"))
            .arg("minilm")
            .status()?;
        if !st.success() {
            bail!("scripts/fetch-models.sh minilm failed");
        }
    }
    Ok(dir)
}

/// The local embedding model ([`local_model_dir`]) loaded as ploke embeds items.
fn local_embedder() -> Result<ploke_embed::Embedder> {
    let mut config = ploke_embed::EmbedConfig {
        max_tokens: ploke_retrieve::embed_text::DEFAULT_MAX_TOKENS,
        ..Default::default()
    };
    config.local.dir = Some(local_model_dir());
    Ok(ploke_embed::Embedder::from_config(&config)?)
}

fn build_ploke() -> Result<PathBuf> {
    let root = repo_root();
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "ploke", "--no-default-features"])
        .current_dir(&root)
        .status()?;
    if !status.success() {
        bail!("building ploke failed");
    }
    Ok(root.join("target/release/ploke"))
}

/// The whole benchmark end to end: fetch the corpus, index and embed every crate (into
/// `target/eval/`, kept between runs so unchanged items are not embedded again; `--fresh`
/// starts from nothing), run every DEV query through `ploke search --batch`, and print
/// `score.py`'s tables with the time of each step.
fn eval(args: &[String]) -> Result<()> {
    let args = parse_eval_args(args)?;
    let root = repo_root();
    let ploke = build_ploke()?;
    let embed_dir = if args.mode == "lexical" {
        local_model_dir()
    } else {
        fetched_local_model_dir()?
    };
    let bench = bench_dir();
    let queries = std::fs::read_to_string(bench.join("queries.jsonl"))?;
    let work = root.join("target/eval");
    if args.fresh && work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let t_all = Instant::now();
    let corpus = corpus()?;
    let t_corpus = t_all.elapsed().as_secs_f64();
    let mut all_runs = String::new();
    let mut rows = Vec::new();
    for (name, _version, dir) in corpus {
        if !args.crates.is_empty() && !args.crates.contains(&name) {
            continue;
        }
        let db = work.join(format!("{name}.db"));
        let t = Instant::now();
        let mut cmd = Command::new(&ploke);
        cmd.arg("index")
            .arg(&dir)
            .arg("--db")
            .arg(&db)
            .arg("--json")
            .env("PLOKE_EMBED_DIR", &embed_dir);
        if args.mode == "lexical" {
            cmd.arg("--no-embed");
        }
        let out = cmd.output()?;
        if !out.status.success() {
            bail!(
                "indexing {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("ploke index --json output")?;
        if let Some(err) = report["embed"]["error"].as_str() {
            bail!("embedding {name} failed: {err}");
        }
        let t_index = t.elapsed().as_secs_f64();
        let mut batch = String::new();
        let mut n = 0;
        for l in queries.lines() {
            let q: serde_json::Value = serde_json::from_str(l)?;
            if q["crate"] == name.as_str() {
                batch
                    .push_str(&serde_json::json!({"id": q["id"], "query": q["query"]}).to_string());
                batch.push('\n');
                n += 1;
            }
        }
        let qfile = work.join(format!("{name}.queries.jsonl"));
        std::fs::write(&qfile, batch)?;
        let t = Instant::now();
        let mut cmd = Command::new(&ploke);
        cmd.arg("search")
            .arg("--db")
            .arg(&db)
            .arg("--batch")
            .arg(&qfile)
            .args(["-k", "100", "--mode", &args.mode]);
        cmd.env("PLOKE_EMBED_DIR", &embed_dir);
        if let Some(p) = &args.rank_params {
            cmd.arg("--rank-params").arg(p);
        }
        let out = cmd.output()?;
        if !out.status.success() {
            bail!(
                "search on {name} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let t_search = t.elapsed().as_secs_f64();
        all_runs.push_str(&String::from_utf8_lossy(&out.stdout));
        let st = &report["embed"]["stats"];
        rows.push(format!(
            "{name:<13} {:>6} {:>9} {:>9.1} {:>7} {:>9.1} {:>8.1}",
            report["items"],
            st["embedded"].as_u64().unwrap_or(0),
            report["embed"]["items_per_s"].as_f64().unwrap_or(0.0),
            n,
            t_index,
            t_search
        ));
    }
    let total = t_all.elapsed().as_secs_f64();
    let run = work.join(format!("run.{}.jsonl", args.mode));
    std::fs::write(&run, all_runs)?;
    println!(
        "{:<13} {:>6} {:>9} {:>9} {:>7} {:>9} {:>8}",
        "crate", "items", "embedded", "items/s", "queries", "index_s", "search_s"
    );
    for r in &rows {
        println!("{r}");
    }
    println!(
        "corpus {t_corpus:.1} s; whole run {total:.1} s (index + embed + search, mode {})",
        args.mode
    );
    for filter in [None, Some("mentions_target_name=false")] {
        let mut cmd = Command::new("python3");
        cmd.arg(bench.join("score.py"))
            .arg(bench.join("queries.jsonl"))
            .arg(&run);
        if let Some(f) = filter {
            cmd.args(["--filter", f]);
            println!("\n-- queries that do not name a target --");
        }
        let st = cmd.status()?;
        if !st.success() {
            bail!("score.py failed");
        }
    }
    println!("\nrun file: {}", run.display());
    Ok(())
}

/// Hybrid search latency on one indexed crate (default tokio, from `cargo xtask eval`), model
/// loaded: every DEV query is embedded and searched one at a time; prints medians.
fn bench_search(args: &[String]) -> Result<()> {
    let name = args.first().map(|s| s.as_str()).unwrap_or("tokio");
    let root = repo_root();
    let db_dir = root.join("target/eval").join(format!("{name}.db"));
    if !db_dir.join(ploke_db::DB_FILE_NAME).exists() {
        bail!(
            "{}: no index; run `cargo xtask eval {name}` first",
            db_dir.display()
        );
    }
    let db = ploke_db::Db::open(&db_dir)?;
    let embedder = local_embedder()?;
    let t = Instant::now();
    let retriever = ploke_retrieve::Retriever::load(&db, Some(embedder.model_id()))?;
    let load_s = t.elapsed().as_secs_f64();
    let (with_vec, embeddable) = retriever.vector_coverage();
    if with_vec == 0 {
        bail!(
            "{}: no vectors of {}; run `cargo xtask eval {name}` first",
            db_dir.display(),
            embedder.model_id()
        );
    }
    let queries: Vec<String> = std::fs::read_to_string(bench_dir().join("queries.jsonl"))?
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|q| q["query"].as_str().map(str::to_string))
        .collect();
    let (mut embed_ms, mut search_ms, mut total_ms) = (Vec::new(), Vec::new(), Vec::new());
    // The learned re-ranker (off by default), measured on the same requests side by side.
    let rerank = ploke_retrieve::RankParams {
        rerank: true,
        ..retriever.params.clone()
    };
    let mut rerank_ms = Vec::new();
    for q in &queries {
        let t0 = Instant::now();
        let v = embedder.embed(&[q.as_str()])?.pop().context("one vector")?;
        let t1 = Instant::now();
        let hits = retriever.search(q, Some(&v), ploke_retrieve::Mode::Hybrid, 10)?;
        let t2 = Instant::now();
        std::hint::black_box(hits);
        let t3 = Instant::now();
        let hits = retriever.search_with(&rerank, q, Some(&v), ploke_retrieve::Mode::Hybrid, 10)?;
        std::hint::black_box(hits);
        rerank_ms.push(t3.elapsed().as_secs_f64() * 1000.0);
        embed_ms.push((t1 - t0).as_secs_f64() * 1000.0);
        search_ms.push((t2 - t1).as_secs_f64() * 1000.0);
        total_ms.push((t2 - t0).as_secs_f64() * 1000.0);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let p90 = |v: &Vec<f64>| v[(v.len() * 9) / 10];
    println!("{name}: {} items ({with_vec}/{embeddable} with vectors), {} queries (all DEV requests), retriever load {load_s:.2} s", retriever.corpus.nodes.len(), queries.len());
    let (e, s, tt) = (med(&mut embed_ms), med(&mut search_ms), med(&mut total_ms));
    println!("median per query: total {tt:.1} ms (p90 {:.1}) = embed request {e:.1} ms (p90 {:.1}) + hybrid search {s:.1} ms (p90 {:.1})", p90(&total_ms), p90(&embed_ms), p90(&search_ms));
    let r = med(&mut rerank_ms);
    println!(
        "hybrid search with the learned re-ranker (100 candidates): {r:.2} ms (p90 {:.2}), {:.2} ms more than without",
        p90(&rerank_ms),
        r - s
    );
    Ok(())
}

/// Single-threaded cost of ploke's parser against a plain `syn::parse_file` on the same files.
fn parse_cost(dir: &Path) -> Result<()> {
    let ws = ploke_workspace::discover(dir)?;
    let mut texts = Vec::new();
    for p in &ws.packages {
        for f in ploke_workspace::rust_files(&ws, p) {
            if let Ok(t) = std::fs::read_to_string(&f) {
                texts.push(t);
            }
        }
    }
    let opts = ploke_parse::ParseOptions::default();
    for round in 0..3 {
        let t = Instant::now();
        for text in &texts {
            let _ = std::hint::black_box(syn::parse_file(text));
        }
        let syn_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut items = 0;
        for text in &texts {
            items += ploke_parse::parse_file(text, &opts).items.len();
        }
        let ploke_s = t.elapsed().as_secs_f64();
        println!("round {round}: {} files, syn {syn_s:.3} s, ploke-parse {ploke_s:.3} s ({:.2}x), {items} items", texts.len(), ploke_s / syn_s);
    }
    Ok(())
}

/// What resolved and what did not, by edge kind, with the most common unresolved texts.
fn graph_stats(db: &Path) -> Result<()> {
    let g = ploke_db::Db::open(db)?.load_graph()?;
    let mut by_kind: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for e in &g.edges {
        by_kind.entry(e.kind.to_string()).or_default().0 += 1;
    }
    let mut texts: std::collections::HashMap<(String, String), usize> = Default::default();
    for u in &g.unresolved {
        by_kind.entry(u.kind.to_string()).or_default().1 += 1;
        *texts
            .entry((u.kind.to_string(), u.text.clone()))
            .or_default() += 1;
    }
    println!("{:<12} {:>8} {:>10}", "kind", "resolved", "unresolved");
    for (k, (r, u)) in &by_kind {
        println!("{k:<12} {r:>8} {u:>10}");
    }
    let mut top: Vec<_> = texts.into_iter().collect();
    top.sort_by_key(|x| std::cmp::Reverse(x.1));
    for ((k, t), n) in top.iter().take(60) {
        println!("{n:>6}  {k:<10} {t}");
    }
    Ok(())
}

/// Which items of an independent item list (`../shared/bench/items/*.jsonl`) the index lacks:
/// an item counts as found when a node in the same file has the same name and start line
/// (or, loosely, the same kind and name); see `coverage_top::measure`.
fn coverage(db: &Path, items: &Path) -> Result<()> {
    let c = coverage_top::measure(db, &coverage_top::read_items(items)?)?;
    println!(
        "{} items: {} same name+line, {} same name other line, {} missing",
        c.total,
        c.strict,
        c.other_line,
        c.missing.len()
    );
    for m in c.missing.iter().take(40) {
        println!("  missing {}", m.item.place());
    }
    Ok(())
}

fn main() -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("PLOKE_LOG"))
        .with_writer(std::io::stderr)
        .try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(|s| s.as_str()) {
        Some("bench-index") => bench_index(&args[1..]),
        Some("index-one") => index_one(Path::new(args.get(1).context("index-one DIR")?)),
        Some("eval") => eval(&args[1..]),
        Some("rank-features") => rank::features(&args[1..]),
        Some("train-ranker") => rank::train(&args[1..]),
        Some("finetune-embed") => finetune::run(&args[1..]),
        Some("eval-questions") => eval_questions::run(&args[1..]),
        Some("bench-search") => bench_search(&args[1..]),
        Some("bench-watch") => bench_watch::run(&args[1..]),
        Some("bench-mcp") => bench_mcp::run(&args[1..]),
        Some("bench-cli") => bench_cli::run(&args[1..]),
        Some("bench-deps") => bench_deps::run(&args[1..]),
        Some("bench-analyze") => bench_analyze::run(&args[1..]),
        Some("bench-lsp") => bench_lsp::run(&args[1..]),
        Some("graph-stats") => graph_stats(Path::new(args.get(1).context("graph-stats DB_DIR")?)),
        Some("coverage") => coverage(
            Path::new(args.get(1).context("coverage DB_DIR ITEMS.jsonl")?),
            Path::new(args.get(2).context("ITEMS.jsonl")?),
        ),
        Some("coverage-top") => coverage_top::run(&args[1..]),
        Some("mine") => mine::run(&args[1..]),
        Some("parse-cost") => parse_cost(Path::new(args.get(1).context("parse-cost DIR")?)),
        _ => {
            eprintln!("usage: cargo xtask bench-index [CRATE…] | bench-watch [--edits N] [--memory-edits N] [--ra DIR] [tokio|ra]… | eval [--mode M] [--fresh] [CRATE…] | rank-features [--dev] [--pairs FILE] --out FILE | train-ranker --train FILE… --dev FILE | finetune-embed --texts FILE [--out DIR] | eval-questions [CRATE…] [--rank-params JSON] | bench-search | bench-mcp [--embed] | bench-cli [ROUNDS] | bench-deps [ROUNDS] | bench-analyze [ROUNDS] | bench-lsp [ROUNDS] | coverage DB ITEMS | coverage-top [--list-only] [CRATE…] | graph-stats DB | parse-cost DIR | mine [--repos FILE] [--out DIR] [--fresh] [OWNER/NAME…]");
            std::process::exit(2);
        }
    }
}
