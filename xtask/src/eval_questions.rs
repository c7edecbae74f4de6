//! `cargo xtask eval-questions [CRATE…] [--rank-params JSON]`: file-level retrieval on the
//! hand-written question set of `bench/questions/` (see its README).
//!
//! Materialises the crates of `bench/questions/crates.tsv` with the benchmark's `corpus.sh`,
//! indexes and embeds each into `target/eval-questions/<crate>.db` (kept between runs, so a
//! second run re-embeds nothing), runs every question through `ploke search --batch -k 100
//! --mode hybrid`, ranks files by their first appearance in the results, and prints file
//! NDCG@10, Recall@5, Recall@10 and MRR per crate, overall, and split by whether the question
//! names an identifier. The raw run goes to `target/eval-questions/run.jsonl`.

use std::collections::{BTreeMap, HashSet};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// One question of `bench/questions/questions.jsonl`.
#[derive(Debug, Clone)]
struct Question {
    id: String,
    krate: String,
    query: String,
    files: Vec<String>,
    names_identifier: bool,
}

/// The four file-level scores of one question.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Scores {
    ndcg10: f64,
    r5: f64,
    r10: f64,
    mrr: f64,
}

/// Files in the order they first appear in a result list (each file once).
fn file_ranking<'a>(results: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in results {
        if seen.insert(f) {
            out.push(f.to_string());
        }
    }
    out
}

/// NDCG@k with binary relevance: gain 1 for each relevant file at rank i (1-based) discounted
/// by log2(i + 1), over the ideal DCG of min(|relevant|, k) relevant files at the top.
fn ndcg_at(ranking: &[String], relevant: &HashSet<&str>, k: usize) -> f64 {
    let dcg: f64 = ranking
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, f)| relevant.contains(f.as_str()))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    if ideal == 0.0 {
        0.0
    } else {
        dcg / ideal
    }
}

/// |relevant files among the first k of the ranking| / |relevant files|.
fn recall_at(ranking: &[String], relevant: &HashSet<&str>, k: usize) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    let hits = ranking
        .iter()
        .take(k)
        .filter(|f| relevant.contains(f.as_str()))
        .count();
    hits as f64 / relevant.len() as f64
}

/// 1 / rank of the first relevant file, 0 when none is ranked.
fn reciprocal_rank(ranking: &[String], relevant: &HashSet<&str>) -> f64 {
    ranking
        .iter()
        .position(|f| relevant.contains(f.as_str()))
        .map(|i| 1.0 / (i + 1) as f64)
        .unwrap_or(0.0)
}

fn score(ranking: &[String], files: &[String]) -> Scores {
    let relevant: HashSet<&str> = files.iter().map(|s| s.as_str()).collect();
    Scores {
        ndcg10: ndcg_at(ranking, &relevant, 10),
        r5: recall_at(ranking, &relevant, 5),
        r10: recall_at(ranking, &relevant, 10),
        mrr: reciprocal_rank(ranking, &relevant),
    }
}

/// Mean of each score over a group (all zero for an empty group).
fn mean(scores: &[Scores]) -> Scores {
    if scores.is_empty() {
        return Scores::default();
    }
    let n = scores.len() as f64;
    Scores {
        ndcg10: scores.iter().map(|s| s.ndcg10).sum::<f64>() / n,
        r5: scores.iter().map(|s| s.r5).sum::<f64>() / n,
        r10: scores.iter().map(|s| s.r10).sum::<f64>() / n,
        mrr: scores.iter().map(|s| s.mrr).sum::<f64>() / n,
    }
}

fn parse_question(line: &str) -> Result<Question> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    let s = |k: &str| -> Result<String> {
        Ok(v[k]
            .as_str()
            .with_context(|| format!("question without \"{k}\": {line}"))?
            .to_string())
    };
    let files: Vec<String> = v["files"]
        .as_array()
        .with_context(|| format!("question without \"files\": {line}"))?
        .iter()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    if files.is_empty() {
        bail!("question with no files: {line}");
    }
    Ok(Question {
        id: s("id")?,
        krate: s("crate")?,
        query: s("question")?,
        files,
        names_identifier: v["names_identifier"].as_bool().unwrap_or(false),
    })
}

struct Args {
    crates: Vec<String>,
    rank_params: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut a = Args {
        crates: Vec::new(),
        rank_params: None,
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "--rank-params" => {
                a.rank_params = Some(it.next().context("--rank-params JSON")?.clone());
            }
            c if !c.starts_with('-') => a.crates.push(c.to_string()),
            other => bail!(
                "unknown option {other}; usage: cargo xtask eval-questions [CRATE…] [--rank-params JSON]"
            ),
        }
    }
    Ok(a)
}

fn row(label: &str, n: usize, s: Scores) -> String {
    format!(
        "{label:<22} {n:>5} {:>8.3} {:>6.3} {:>6.3} {:>6.3}",
        s.ndcg10, s.r5, s.r10, s.mrr
    )
}

pub fn run(args: &[String]) -> Result<()> {
    let args = parse_args(args)?;
    let root = crate::repo_root();
    let qdir = root.join("bench/questions");
    let questions: Vec<Question> = std::fs::read_to_string(qdir.join("questions.jsonl"))
        .context("reading bench/questions/questions.jsonl")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_question)
        .collect::<Result<_>>()?;
    let ploke = crate::build_ploke()?;
    let embed_dir = crate::fetched_local_model_dir()?;
    let work = root.join("target/eval-questions");
    std::fs::create_dir_all(&work)?;
    let t_all = Instant::now();
    let corpus = crate::corpus_of(
        &qdir.join("crates.tsv"),
        &std::env::temp_dir().join("ploke-corpus-questions"),
    )?;
    let mut all_runs = String::new();
    // (crate, question) → scores, in corpus order.
    let mut scored: Vec<(String, Question, Scores)> = Vec::new();
    let mut timing = Vec::new();
    for (name, _version, dir) in corpus {
        if !args.crates.is_empty() && !args.crates.contains(&name) {
            continue;
        }
        let qs: Vec<&Question> = questions.iter().filter(|q| q.krate == name).collect();
        if qs.is_empty() {
            continue;
        }
        let db = work.join(format!("{name}.db"));
        let t = Instant::now();
        let out = Command::new(&ploke)
            .arg("index")
            .arg(&dir)
            .arg("--db")
            .arg(&db)
            .arg("--json")
            .env("PLOKE_EMBED_DIR", &embed_dir)
            .output()?;
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
        for q in &qs {
            batch.push_str(&serde_json::json!({"id": q.id, "query": q.query}).to_string());
            batch.push('\n');
        }
        let qfile = work.join(format!("{name}.questions.jsonl"));
        std::fs::write(&qfile, batch)?;
        let t = Instant::now();
        let mut cmd = Command::new(&ploke);
        cmd.arg("search")
            .arg("--db")
            .arg(&db)
            .arg("--batch")
            .arg(&qfile)
            .args(["-k", "100", "--mode", "hybrid"])
            .env("PLOKE_EMBED_DIR", &embed_dir);
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
        let stdout = String::from_utf8_lossy(&out.stdout);
        all_runs.push_str(&stdout);
        let mut rankings: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for l in stdout.lines().filter(|l| l.trim_start().starts_with('{')) {
            let v: serde_json::Value = serde_json::from_str(l)?;
            let Some(id) = v["id"].as_str() else { continue };
            let files = v["results"]
                .as_array()
                .map(|rs| {
                    rs.iter()
                        .filter_map(|r| r["file"].as_str())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            rankings.insert(id.to_string(), file_ranking(files));
        }
        for q in qs {
            let ranking = rankings.get(&q.id).cloned().unwrap_or_default();
            if !rankings.contains_key(&q.id) {
                eprintln!("warning: no results for {} (scored as a miss)", q.id);
            }
            scored.push((name.clone(), q.clone(), score(&ranking, &q.files)));
        }
        timing.push(format!(
            "{name:<22} {:>6} {:>9} {:>9.1} {:>8.1}",
            report["items"],
            report["embed"]["stats"]["embedded"].as_u64().unwrap_or(0),
            t_index,
            t_search
        ));
    }
    let run_file = work.join("run.jsonl");
    std::fs::write(&run_file, all_runs)?;
    println!(
        "{:<22} {:>6} {:>9} {:>9} {:>8}",
        "crate", "items", "embedded", "index_s", "search_s"
    );
    for t in &timing {
        println!("{t}");
    }
    println!(
        "whole run {:.1} s (corpus + index + embed + search, mode hybrid)\n",
        t_all.elapsed().as_secs_f64()
    );
    println!(
        "{:<22} {:>5} {:>8} {:>6} {:>6} {:>6}",
        "file-level", "n", "NDCG@10", "R@5", "R@10", "MRR"
    );
    let mut crates: Vec<&str> = Vec::new();
    for (c, _, _) in &scored {
        if !crates.contains(&c.as_str()) {
            crates.push(c);
        }
    }
    let group = |f: &dyn Fn(&(String, Question, Scores)) -> bool| -> Vec<Scores> {
        scored.iter().filter(|x| f(x)).map(|x| x.2).collect()
    };
    for c in &crates {
        let g = group(&|x| x.0 == *c);
        println!("{}", row(c, g.len(), mean(&g)));
    }
    let all = group(&|_| true);
    println!("{}", row("ALL", all.len(), mean(&all)));
    let named = group(&|x| x.1.names_identifier);
    println!("{}", row("  names identifier", named.len(), mean(&named)));
    let plain = group(&|x| !x.1.names_identifier);
    println!("{}", row("  plain words", plain.len(), mean(&plain)));
    println!("\nrun file: {}", run_file.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ranking_keeps_first_appearance() {
        let r = file_ranking(["a.rs", "b.rs", "a.rs", "c.rs", "b.rs"]);
        assert_eq!(r, v(&["a.rs", "b.rs", "c.rs"]));
    }

    #[test]
    fn ndcg_hand_computed() {
        // Relevant {b, d}; ranking a b c d.
        // DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
        // IDCG = 1/log2(2) + 1/log2(3) = 1 + 0.63093 = 1.63093
        let ranking = v(&["a", "b", "c", "d"]);
        let rel: HashSet<&str> = ["b", "d"].into_iter().collect();
        let got = ndcg_at(&ranking, &rel, 10);
        assert!((got - 1.06161 / 1.63093).abs() < 1e-4, "{got}");
        // Perfect ranking scores 1; a relevant file past k scores nothing.
        assert!((ndcg_at(&v(&["b", "d"]), &rel, 10) - 1.0).abs() < 1e-12);
        assert_eq!(ndcg_at(&v(&["a", "b"]), &rel, 1), 0.0);
    }

    #[test]
    fn ndcg_ideal_is_capped_at_k() {
        // 3 relevant files, k = 2: the ideal holds only two of them.
        let rel: HashSet<&str> = ["a", "b", "c"].into_iter().collect();
        assert!((ndcg_at(&v(&["a", "b"]), &rel, 2) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn recall_and_mrr() {
        let ranking = v(&["x", "a", "y", "z", "w", "b"]);
        let files = v(&["a", "b"]);
        let s = score(&ranking, &files);
        assert_eq!(s.r5, 0.5);
        assert_eq!(s.r10, 1.0);
        assert_eq!(s.mrr, 0.5);
        let miss = score(&v(&["x"]), &files);
        assert_eq!(miss, Scores::default());
    }

    #[test]
    fn mean_of_groups() {
        let a = Scores {
            ndcg10: 1.0,
            r5: 1.0,
            r10: 1.0,
            mrr: 1.0,
        };
        let m = mean(&[a, Scores::default()]);
        assert_eq!(m.ndcg10, 0.5);
        assert_eq!(m.mrr, 0.5);
        assert_eq!(mean(&[]), Scores::default());
    }

    #[test]
    fn parses_a_question() {
        let q = parse_question(
            r#"{"id":"x-q01","crate":"x","version":"1","question":"how?","files":["src/a.rs"],"kind":"how","names_identifier":true}"#,
        )
        .unwrap();
        assert_eq!(q.id, "x-q01");
        assert_eq!(q.files, v(&["src/a.rs"]));
        assert!(q.names_identifier);
        assert!(parse_question(r#"{"id":"x","crate":"x","question":"q","files":[]}"#).is_err());
    }
}
