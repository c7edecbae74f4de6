//! The learned re-ranker's data and training:
//!
//! - `cargo xtask rank-features [--dev] [--pairs FILE] [--depth N] --out FILE`: runs the first
//!   stage of search for every request (the DEV benchmark over the indexes `cargo xtask eval`
//!   leaves in `target/eval/`, or mined pairs whose `db` names their index) and writes each
//!   candidate's features ([`ploke_retrieve::rerank::FEATURE_NAMES`]) with the targets it hits,
//!   judged as the benchmark's `score.py` judges a result.
//! - `cargo xtask train-ranker --train FILE… --dev FILE [--rounds N] [--out PATH]`: trains a
//!   LambdaMART tree ensemble (hessboost, XGBoost's algorithm in Rust) on the training files,
//!   stops early on repositories held out of them, reports DEV before and after (all requests,
//!   per crate, and those that name no target) and writes the model (XGBoost JSON) to
//!   `crates/ploke-retrieve/ranker/ranker.json` unless `--out` says otherwise.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use hessboost::objective::LambdaRank;
use hessboost::prelude::*;
use ploke_retrieve::rerank::{Ranker, FEATURE_NAMES, NUM_FEATURES};
use ploke_retrieve::{Mode, RankParams, Retriever};
use serde_json::{json, Value};

use crate::{bench_dir, repo_root};

/// One target of a request, as the benchmark writes it.
#[derive(Debug, Clone)]
struct Target {
    file: String,
    name: String,
    start: u32,
    end: u32,
}

fn targets_of(q: &Value) -> Vec<Target> {
    q["targets"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .map(|t| Target {
                    file: t["file"].as_str().unwrap_or_default().to_string(),
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    start: t["start_line"].as_u64().unwrap_or(0) as u32,
                    end: t["end_line"].as_u64().unwrap_or(0) as u32,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `score.py`'s name rule: equal, or one side unqualified and equal to the other's last
/// `::` segment.
fn names_match(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let last = |s: &str| s.rsplit("::").next().unwrap_or(s).trim().to_string();
    a == b || (!a.contains("::") && a == last(b)) || (!b.contains("::") && b == last(a))
}

/// `score.py`'s hit rule: same file, and the names match or at least half of the result's
/// lines lie in the target's span.
fn hits(file: &str, name: &str, start: u32, end: u32, t: &Target) -> bool {
    if file != t.file {
        return false;
    }
    if names_match(name, &t.name) {
        return true;
    }
    let (rs, re) = (start.min(end), start.max(end));
    let (lo, hi) = (rs.max(t.start), re.min(t.end));
    hi >= lo && (hi - lo + 1) * 2 >= (re - rs + 1)
}

/// `cargo xtask rank-features`.
pub fn features(args: &[String]) -> Result<()> {
    let (mut dev, mut pairs, mut out, mut depth) = (false, None, None, 100usize);
    let mut no_vectors = false;
    let mut texts_out: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dev" => dev = true,
            "--no-vectors" => no_vectors = true,
            "--texts-out" => texts_out = Some(PathBuf::from(it.next().context("--texts-out FILE")?)),
            "--pairs" => pairs = Some(PathBuf::from(it.next().context("--pairs FILE")?)),
            "--out" => out = Some(PathBuf::from(it.next().context("--out FILE")?)),
            "--depth" => depth = it.next().context("--depth N")?.parse()?,
            other => bail!("unknown option {other}; usage: cargo xtask rank-features [--dev] [--pairs FILE] [--depth N] [--no-vectors] [--texts-out FILE] --out FILE"),
        }
    }
    let out = out.context("--out FILE is required")?;
    let mut requests: Vec<Value> = Vec::new();
    if dev {
        let eval = repo_root().join("target/eval");
        for l in std::fs::read_to_string(bench_dir().join("queries.jsonl"))?.lines() {
            let mut q: Value = serde_json::from_str(l)?;
            let db = eval.join(format!("{}.db", q["crate"].as_str().unwrap_or_default()));
            q["db"] = json!(db);
            q["repo"] = q["crate"].clone();
            requests.push(q);
        }
    }
    if let Some(p) = &pairs {
        for l in std::fs::read_to_string(p)
            .with_context(|| p.display().to_string())?
            .lines()
        {
            if l.trim().is_empty() {
                continue;
            }
            let mut q: Value = serde_json::from_str(l)?;
            // As in the benchmark, the targets are the library and binary code a change edited:
            // its tests, benches and examples are not asked for.
            if let Some(ts) = q["targets"].as_array_mut() {
                ts.retain(|t| !is_aux_target(t));
                if ts.is_empty() {
                    continue;
                }
            }
            requests.push(q);
        }
    }
    if requests.is_empty() {
        bail!("no requests: give --dev and/or --pairs FILE");
    }
    let mut by_db: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for q in &requests {
        let db = q["db"].as_str().context("a request without `db`")?;
        by_db.entry(db.to_string()).or_default().push(q);
    }
    let embedder = crate::local_embedder()?;
    let params = RankParams::default();
    let mut w = std::io::BufWriter::new(std::fs::File::create(&out)?);
    // (request, texts of the targets among the candidates, texts of the best other
    // candidates): data for fine-tuning the embedding model (`cargo xtask finetune-embed`).
    let mut texts_w = match &texts_out {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let t = Instant::now();
    let (mut n_req, mut n_found, mut n_targets) = (0usize, 0usize, 0usize);
    for (db_path, qs) in &by_db {
        let db_dir = Path::new(db_path);
        if !db_dir.join(ploke_db::DB_FILE_NAME).exists() {
            eprintln!("skipping {} requests: no index at {db_path}", qs.len());
            continue;
        }
        let db = ploke_db::Db::open(db_dir)?;
        let retriever = Retriever::load(&db, Some(embedder.model_id()))?;
        let (with_vec, all) = if no_vectors {
            (0, 0)
        } else {
            retriever.vector_coverage()
        };
        let texts: Vec<&str> = qs
            .iter()
            .map(|q| q["query"].as_str().unwrap_or(""))
            .collect();
        let mut vecs = Vec::with_capacity(texts.len());
        if with_vec > 0 {
            for chunk in texts.chunks(32) {
                vecs.extend(embedder.embed(chunk)?);
            }
        }
        for (i, q) in qs.iter().enumerate() {
            let query = texts[i];
            let targets = targets_of(q);
            if targets.is_empty() {
                continue;
            }
            let hits = retriever.first_stage(
                &params,
                query,
                vecs.get(i).map(|v| v.as_slice()),
                Mode::Hybrid,
                depth,
            )?;
            let mut rows = retriever.features(query, &hits);
            if with_vec == 0 {
                // An index without vectors (mined snapshots are not embedded): the dense
                // features are missing, not zero, so that the trees learn nothing from them.
                for row in &mut rows {
                    for f in ["dense", "cosine", "dense_rank"] {
                        row[feature(f)] = f32::NAN;
                    }
                }
            }
            let mut found = 0u64;
            let cands: Vec<Value> = hits
                .iter()
                .zip(&rows)
                .map(|(h, row)| {
                    let mut mask = 0u64;
                    for (ti, t) in targets.iter().enumerate().take(64) {
                        if hits_any(h, t) {
                            mask |= 1 << ti;
                        }
                    }
                    found |= mask;
                    json!({
                        "file": h.file,
                        "hits": mask,
                        // Missing values as null.
                        "f": row.iter().map(|x| (!x.is_nan()).then(|| (x * 1e4).round() / 1e4)).collect::<Vec<Option<f32>>>(),
                    })
                })
                .collect();
            if let Some(tw) = texts_w.as_mut() {
                let text = |h: &ploke_retrieve::Hit<'_>| {
                    ploke_retrieve::embed_text::embed_text(
                        h.node,
                        &retriever.corpus.bodies[h.doc as usize],
                    )
                };
                let mut pos: Vec<String> = hits
                    .iter()
                    .zip(&cands)
                    .filter(|(_, c)| c["hits"].as_u64() != Some(0))
                    .map(|(h, _)| text(h))
                    .collect();
                // Targets the first stage missed are the ones to learn most from: their
                // items found in the whole corpus.
                let c = &retriever.corpus;
                for (ti, t) in targets.iter().enumerate().take(64) {
                    if found & (1 << ti) != 0 {
                        continue;
                    }
                    if let Some(d) = (0..c.nodes.len()).find(|&d| {
                        let n = &c.nodes[d];
                        self::hits(
                            c.rel_file(d),
                            &n.display_name,
                            n.span.start_line,
                            n.span.end_line,
                            t,
                        )
                    }) {
                        pos.push(ploke_retrieve::embed_text::embed_text(
                            &c.nodes[d],
                            &c.bodies[d],
                        ));
                    }
                }
                let neg: Vec<String> = hits
                    .iter()
                    .zip(&cands)
                    .filter(|(_, c)| c["hits"].as_u64() == Some(0))
                    .take(3)
                    .map(|(h, _)| text(h))
                    .collect();
                if !pos.is_empty() {
                    writeln!(
                        tw,
                        "{}",
                        json!({"repo": q["repo"], "query": query, "pos": pos, "neg": neg})
                    )?;
                }
            }
            n_req += 1;
            n_targets += targets.len();
            n_found += found.count_ones() as usize;
            let target_files: Vec<&str> = {
                let mut v: Vec<&str> = targets.iter().map(|t| t.file.as_str()).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let row = json!({
                "id": q["id"],
                "repo": q["repo"],
                "crate": q["crate"],
                "n_targets": targets.len(),
                "target_files": target_files,
                "mentions_target_name": q["mentions_target_name"],
                "cands": cands,
            });
            writeln!(w, "{row}")?;
        }
        eprintln!("{db_path}: {} requests, vectors {with_vec}/{all}", qs.len());
    }
    w.flush()?;
    if let Some(tw) = texts_w.as_mut() {
        tw.flush()?;
    }
    println!(
        "{n_req} requests, {n_found}/{n_targets} targets among the first {depth} candidates ({:.3}), {:.1} s → {}",
        n_found as f64 / n_targets.max(1) as f64,
        t.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Whether a mined target is test, bench or example code.
fn is_aux_target(t: &Value) -> bool {
    t["is_test"].as_bool().unwrap_or(false)
        || t["file"].as_str().is_some_and(|f| {
            f.split('/')
                .any(|seg| matches!(seg, "tests" | "benches" | "examples" | "test" | "bench"))
                || f.ends_with("build.rs")
        })
}

/// The position of a feature in a row.
fn feature(name: &str) -> usize {
    FEATURE_NAMES
        .iter()
        .position(|n| *n == name)
        .unwrap_or_else(|| panic!("no feature {name}"))
}

fn hits_any(h: &ploke_retrieve::Hit<'_>, t: &Target) -> bool {
    hits(
        h.file,
        &h.node.display_name,
        h.node.span.start_line,
        h.node.span.end_line,
        t,
    ) || (h.node.file != h.file
        && hits(
            &h.node.file,
            &h.node.display_name,
            h.node.span.start_line,
            h.node.span.end_line,
            t,
        ))
}

/// One request's candidates, read back from a features file.
#[derive(Clone)]
struct Group {
    repo: String,
    krate: String,
    n_targets: usize,
    target_files: Vec<String>,
    names_target: bool,
    files: Vec<String>,
    masks: Vec<u64>,
    rows: Vec<[f32; NUM_FEATURES]>,
}

fn read_groups(path: &Path) -> Result<Vec<Group>> {
    let f = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut out = Vec::new();
    for l in std::io::BufReader::new(f).lines() {
        let l = l?;
        if l.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(&l)?;
        let cands = v["cands"].as_array().context("cands")?;
        let mut g = Group {
            repo: v["repo"].as_str().unwrap_or_default().to_string(),
            krate: v["crate"].as_str().unwrap_or_default().to_string(),
            n_targets: v["n_targets"].as_u64().unwrap_or(1) as usize,
            target_files: v["target_files"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            names_target: v["mentions_target_name"].as_bool().unwrap_or(false),
            files: Vec::with_capacity(cands.len()),
            masks: Vec::with_capacity(cands.len()),
            rows: Vec::with_capacity(cands.len()),
        };
        for c in cands {
            let f = c["f"].as_array().context("f")?;
            if f.len() != NUM_FEATURES {
                bail!(
                    "{}: rows of {} features, this build computes {NUM_FEATURES}; run rank-features again",
                    path.display(),
                    f.len()
                );
            }
            let mut row = [0f32; NUM_FEATURES];
            for (x, v) in row.iter_mut().zip(f) {
                *x = v.as_f64().map_or(f32::NAN, |v| v as f32);
            }
            g.files
                .push(c["file"].as_str().unwrap_or_default().to_string());
            g.masks.push(c["hits"].as_u64().unwrap_or(0));
            g.rows.push(row);
        }
        out.push(g);
    }
    Ok(out)
}

/// The benchmark's metrics of one request ranked by `order` (candidate indices, best first).
#[derive(Debug, Default, Clone, Copy)]
struct Metrics {
    item_r10: f64,
    item_r5: f64,
    file_r5: f64,
    mrr: f64,
}

fn metrics(g: &Group, order: &[usize]) -> Metrics {
    let mut seen = 0u64;
    let mut m = Metrics::default();
    let mut files: Vec<&str> = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        let mask = g.masks[i];
        if mask != 0 && m.mrr == 0.0 {
            m.mrr = 1.0 / (rank + 1) as f64;
        }
        seen |= mask;
        if rank + 1 == 5 {
            m.item_r5 = seen.count_ones() as f64 / g.n_targets as f64;
        }
        if rank + 1 == 10 {
            m.item_r10 = seen.count_ones() as f64 / g.n_targets as f64;
        }
        if files.len() < 5 && !files.contains(&g.files[i].as_str()) {
            files.push(&g.files[i]);
        }
    }
    if order.len() < 10 {
        m.item_r10 = seen.count_ones() as f64 / g.n_targets as f64;
        if order.len() < 5 {
            m.item_r5 = m.item_r10;
        }
    }
    let tf = g.target_files.len().max(1);
    m.file_r5 = g
        .target_files
        .iter()
        .filter(|f| files.contains(&f.as_str()))
        .count() as f64
        / tf as f64;
    m
}

fn mean(ms: &[Metrics]) -> Metrics {
    let n = ms.len().max(1) as f64;
    Metrics {
        item_r10: ms.iter().map(|m| m.item_r10).sum::<f64>() / n,
        item_r5: ms.iter().map(|m| m.item_r5).sum::<f64>() / n,
        file_r5: ms.iter().map(|m| m.file_r5).sum::<f64>() / n,
        mrr: ms.iter().map(|m| m.mrr).sum::<f64>() / n,
    }
}

/// Candidate order by a score per row, best first (ties: first-stage order).
fn order_by(scores: &[f32]) -> Vec<usize> {
    let mut o: Vec<usize> = (0..scores.len()).collect();
    o.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    o
}

fn matrix(groups: &[&Group]) -> Result<DMatrix> {
    let n: usize = groups.iter().map(|g| g.rows.len()).sum();
    let mut x = Vec::with_capacity(n * NUM_FEATURES);
    let mut y = Vec::with_capacity(n);
    let mut sizes = Vec::with_capacity(groups.len());
    for g in groups {
        for (row, &mask) in g.rows.iter().zip(&g.masks) {
            x.extend_from_slice(row);
            y.push(if mask != 0 { 1.0 } else { 0.0 });
        }
        sizes.push(g.rows.len());
    }
    Ok(DMatrix::from_dense_vec(x, n, NUM_FEATURES)?
        .with_labels(&y)?
        .with_group_sizes(&sizes)?)
}

/// Report of one evaluation set: first stage vs the model, all requests and per crate.
fn report(title: &str, groups: &[Group], model: &Ranker) {
    let mut by_crate: BTreeMap<&str, (Vec<Metrics>, Vec<Metrics>)> = BTreeMap::new();
    let (mut base_all, mut new_all, mut base_nn, mut new_nn) = (vec![], vec![], vec![], vec![]);
    for g in groups {
        let first: Vec<usize> = (0..g.rows.len()).collect();
        let scores: Vec<f32> = g.rows.iter().map(|r| model.score(r)).collect();
        let (b, n) = (metrics(g, &first), metrics(g, &order_by(&scores)));
        let e = by_crate.entry(&g.krate).or_default();
        e.0.push(b);
        e.1.push(n);
        base_all.push(b);
        new_all.push(n);
        if !g.names_target {
            base_nn.push(b);
            new_nn.push(n);
        }
    }
    println!("\n{title}: first stage → learned ranker");
    println!(
        "{:<16} {:>5}  {:>15} {:>15} {:>15} {:>15}",
        "", "n", "item_R@10", "item_R@5", "file_R@5", "MRR"
    );
    let line = |name: &str, b: &[Metrics], n: &[Metrics]| {
        let (b, n2) = (mean(b), mean(n));
        println!(
            "{name:<16} {:>5}  {:.3} → {:.3}   {:.3} → {:.3}   {:.3} → {:.3}   {:.3} → {:.3}",
            n.len(),
            b.item_r10,
            n2.item_r10,
            b.item_r5,
            n2.item_r5,
            b.file_r5,
            n2.file_r5,
            b.mrr,
            n2.mrr
        );
    };
    for (c, (b, n)) in &by_crate {
        line(c, b, n);
    }
    line("all", &base_all, &new_all);
    line("names no target", &base_nn, &new_nn);
}

/// `cargo xtask train-ranker`.
pub fn train(args: &[String]) -> Result<()> {
    let (mut train_files, mut dev_file, mut rounds, mut out) = (Vec::new(), None, 400usize, None);
    let (mut depth, mut eta, mut holdout) = (4usize, 0.05f64, 0.2f64);
    let mut model = None;
    let mut drop: Vec<usize> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--train" => train_files.push(PathBuf::from(it.next().context("--train FILE")?)),
            "--dev" => dev_file = Some(PathBuf::from(it.next().context("--dev FILE")?)),
            "--rounds" => rounds = it.next().context("--rounds N")?.parse()?,
            "--max-depth" => depth = it.next().context("--max-depth N")?.parse()?,
            "--eta" => eta = it.next().context("--eta X")?.parse()?,
            "--holdout" => holdout = it.next().context("--holdout SHARE")?.parse()?,
            "--out" => out = Some(PathBuf::from(it.next().context("--out PATH")?)),
            "--drop" => {
                // Ablation: these features are missing everywhere (train, held-out, DEV).
                for f in it.next().context("--drop F1,F2")?.split(',') {
                    drop.push(
                        FEATURE_NAMES
                            .iter()
                            .position(|n| *n == f)
                            .with_context(|| format!("no feature {f}"))?,
                    );
                }
            }
            "--model" => {
                // Evaluate a trained model on --dev only.
                let m = PathBuf::from(it.next().context("--model PATH")?);
                model = Some(Ranker::from_xgboost_json(&std::fs::read_to_string(&m)?)?);
            }
            other => bail!("unknown option {other}; usage: cargo xtask train-ranker [--model PATH] --train FILE… --dev FILE [--rounds N] [--max-depth N] [--eta X] [--holdout SHARE] [--drop F1,F2] [--out PATH]"),
        }
    }
    let read = |p: &Path| -> Result<Vec<Group>> {
        let mut gs = read_groups(p)?;
        for g in &mut gs {
            for row in &mut g.rows {
                for &f in &drop {
                    row[f] = f32::NAN;
                }
            }
        }
        Ok(gs)
    };
    if let Some(model) = &model {
        let dev = dev_file.context("--model needs --dev FILE")?;
        report("DEV benchmark", &read(&dev)?, model);
        return Ok(());
    }
    if train_files.is_empty() {
        bail!("--train FILE is required (from `cargo xtask rank-features --pairs …`)");
    }
    let mut groups = Vec::new();
    for f in &train_files {
        groups.extend(read(f)?);
    }
    // Only requests with a target among the candidates teach an order.
    groups.retain(|g| g.masks.iter().any(|&m| m != 0) && g.masks.contains(&0));
    // Repositories held out for early stopping: every k-th by name, never split.
    let mut repos: Vec<&str> = groups.iter().map(|g| g.repo.as_str()).collect();
    repos.sort_unstable();
    repos.dedup();
    let step = (1.0 / holdout.clamp(0.05, 0.5)).round() as usize;
    let held: Vec<String> = repos
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == step / 2)
        .map(|(_, r)| r.to_string())
        .collect();
    let (tr, va): (Vec<&Group>, Vec<&Group>) = groups.iter().partition(|g| !held.contains(&g.repo));
    println!(
        "training on {} requests from {} repositories; early stopping on {} requests from {} held-out repositories",
        tr.len(),
        repos.len() - held.len(),
        va.len(),
        held.len()
    );
    let dtrain = matrix(&tr)?;
    let dvalid = matrix(&va)?;
    let params = TrainingParams::builder()
        .objective(Objective::RankNdcg(LambdaRank::default()))
        .max_depth(depth)
        .eta(eta)
        .min_child_weight(1.0)
        .subsample(0.8)
        .colsample_bytree(0.8)
        .lambda(1.0)
        .seed(7)
        .nthread(2)
        .eval_metric(EvalMetric::Ndcg(hessboost::metric::Cutoff::top(10)?))
        .build()?;
    let t = Instant::now();
    let result = Trainer::new(&params, &dtrain, rounds)
        .eval(&dvalid, "held-out")
        .early_stopping_rounds(NonZeroUsize::new(40).context("nonzero")?)
        .train()?;
    println!(
        "trained in {:.1} s; best round {:?}, held-out ndcg@10 {:?}",
        t.elapsed().as_secs_f64(),
        result.model.best_iteration(),
        result.best_score
    );
    let out = out.unwrap_or_else(|| repo_root().join("crates/ploke-retrieve/ranker/ranker.json"));
    let tmp = std::env::temp_dir().join(format!("ploke-ranker-{}.json", std::process::id()));
    result.model.save(&tmp, ModelFormat::XgboostJson)?;
    let text = std::fs::read_to_string(&tmp)?;
    let _ = std::fs::remove_file(&tmp);
    let model_json = trim_model(&text, result.model.best_iteration())?;
    let ranker = Ranker::from_xgboost_json(&model_json)?;
    // The evaluator in ploke-retrieve must agree with hessboost's own predictions.
    let check = &va.first().or(tr.first()).context("no requests")?.rows;
    for row in check.iter().take(20) {
        let theirs = result.model.predict_margin_row(row, Iterations::Best)?;
        let ours = ranker.score(row);
        let base = base_score(&text);
        if (theirs - (ours + base)).abs() > 1e-3 {
            bail!("ploke-retrieve's tree evaluator disagrees with hessboost: {ours} + {base} vs {theirs}");
        }
    }
    report(
        "held-out repositories (mined)",
        &va.iter().map(|g| (*g).clone()).collect::<Vec<_>>(),
        &ranker,
    );
    if let Some(dev) = &dev_file {
        report("DEV benchmark", &read(dev)?, &ranker);
    }
    std::fs::write(&out, model_json)?;
    println!("\nmodel: {} ({} trees)", out.display(), ranker.len());
    Ok(())
}

fn base_score(xgb_json: &str) -> f32 {
    serde_json::from_str::<Value>(xgb_json)
        .ok()
        .and_then(|v| {
            let b = &v["learner"]["learner_model_param"]["base_score"];
            b.as_str()
                .and_then(|s| s.trim_matches(|c| c == '[' || c == ']').parse().ok())
                .or_else(|| b.as_f64())
        })
        .unwrap_or(0.0) as f32
}

/// The model's JSON with the trees up to the best iteration, the feature names set, and of
/// each tree only the arrays inference reads.
fn trim_model(xgb_json: &str, best: Option<usize>) -> Result<String> {
    let mut v: Value = serde_json::from_str(xgb_json)?;
    let learner = &mut v["learner"];
    learner["feature_names"] = json!(FEATURE_NAMES.as_slice());
    if let (Some(best), Some(trees)) = (
        best,
        learner["gradient_booster"]["model"]["trees"].as_array_mut(),
    ) {
        trees.truncate(best + 1);
    }
    // Only what inference reads (`ploke_retrieve::rerank::Ranker`): the split arrays.
    if let Some(trees) = learner["gradient_booster"]["model"]["trees"].as_array_mut() {
        for t in trees {
            if let Some(t) = t.as_object_mut() {
                t.retain(|k, _| {
                    matches!(
                        k.as_str(),
                        "id" | "left_children"
                            | "right_children"
                            | "split_indices"
                            | "split_conditions"
                            | "default_left"
                    )
                });
            }
        }
    }
    Ok(serde_json::to_string(&v)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_follow_the_scorer() {
        let t = Target {
            file: "src/a.rs".into(),
            name: "Conn::retry".into(),
            start: 10,
            end: 20,
        };
        assert!(hits("src/a.rs", "retry", 50, 60, &t));
        assert!(hits("src/a.rs", "Conn::retry", 50, 60, &t));
        assert!(!hits("src/a.rs", "Other::retry", 50, 60, &t));
        assert!(!hits("src/b.rs", "retry", 10, 20, &t));
        assert!(hits("src/a.rs", "helper", 12, 15, &t));
        assert!(!hits("src/a.rs", "impl Conn", 1, 100, &t));
    }

    #[test]
    fn metrics_count_targets_files_and_the_first_hit() {
        let g = Group {
            repo: "r".into(),
            krate: "c".into(),
            n_targets: 2,
            target_files: vec!["a.rs".into(), "b.rs".into()],
            names_target: false,
            files: ["x.rs", "a.rs", "y.rs", "b.rs"].map(String::from).to_vec(),
            masks: vec![0, 1, 0, 2],
            rows: vec![[0.0; NUM_FEATURES]; 4],
        };
        let m = metrics(&g, &[0, 1, 2, 3]);
        assert_eq!(m.mrr, 0.5);
        assert_eq!(m.item_r10, 1.0);
        assert_eq!(m.file_r5, 1.0);
        let m = metrics(&g, &[3, 0, 2]);
        assert_eq!(m.mrr, 1.0);
        assert_eq!(m.item_r10, 0.5);
        assert_eq!(m.file_r5, 0.5);
    }
}
