//! Runs the change-request benchmark with one `LexicalIndex` per crate.
//!
//! ```text
//! cargo run --release -p ploke-search --example bench_items -- \
//!     [--bench /work/shared/bench] [--dirs /work/corpus/dirs.tsv] [--out run.jsonl] \
//!     [--set KEY=V1,V2,...]... [--no-score]
//! ```
//!
//! Items come from the benchmark's item lists, not from ploke's parser: every source line
//! belongs to its innermost item (inline `mod` blocks are namespaces and get no document),
//! items of test code are skipped, and an item's document is
//! name = item name, path = `crate::module::name`, signature = its declaration line,
//! docs = its doc-comment lines, body = its other own lines, file = its file.
//!
//! With one value per `--set` key the run is written to `--out` (top 100 per query) and
//! scored with the benchmark's `score.py` (all queries, then those that name no target).
//! With several values the cartesian product is evaluated in-process (same metrics as
//! `score.py`) and one line per combination is printed.

// An example prints what it measures.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ploke_search::{Bm25Params, FieldParams, ItemDoc, LexicalIndex};
use serde::Deserialize;

type Error = Box<dyn std::error::Error>;

#[derive(Deserialize, Clone)]
struct Item {
    file: String,
    kind: String,
    name: String,
    module: String,
    start_line: usize,
    end_line: usize,
    decl_line: usize,
    test: bool,
}

#[derive(Deserialize)]
struct Target {
    file: String,
    name: String,
    start_line: usize,
    end_line: usize,
}

#[derive(Deserialize)]
struct Query {
    id: String,
    #[serde(rename = "crate")]
    krate: String,
    version: String,
    query: String,
    targets: Vec<Target>,
    mentions_target_name: bool,
}

/// Owned text of one document, field by field.
struct Doc {
    item: usize,
    name: String,
    path: String,
    signature: String,
    docs: String,
    body: String,
    file: String,
}

impl Doc {
    fn bytes(&self) -> usize {
        self.name.len()
            + self.path.len()
            + self.signature.len()
            + self.docs.len()
            + self.body.len()
            + self.file.len()
    }
}

struct Corpus {
    items: Vec<Item>,
    docs: Vec<Doc>,
    queries: Vec<usize>,
}

struct Args {
    bench: PathBuf,
    dirs: PathBuf,
    out: PathBuf,
    sets: Vec<(String, Vec<f32>)>,
    score: bool,
}

fn parse_args() -> Result<Args, Error> {
    let mut args = Args {
        bench: "/work/shared/bench".into(),
        dirs: "/work/corpus/dirs.tsv".into(),
        out: "target/bench_items.run.jsonl".into(),
        sets: Vec::new(),
        score: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--bench" => args.bench = val()?.into(),
            "--dirs" => args.dirs = val()?.into(),
            "--out" => args.out = val()?.into(),
            "--no-score" => args.score = false,
            "--set" => {
                let v = val()?;
                let (k, vs) = v.split_once('=').ok_or("--set KEY=V1,V2")?;
                let vs = vs
                    .split(',')
                    .map(|x| x.parse::<f32>())
                    .collect::<Result<Vec<_>, _>>()?;
                args.sets.push((k.to_owned(), vs));
            }
            _ => return Err(format!("unknown argument {a}").into()),
        }
    }
    Ok(args)
}

fn field_mut<'a>(p: &'a mut Bm25Params, f: &str) -> Option<&'a mut FieldParams> {
    Some(match f {
        "name" => &mut p.name,
        "path" => &mut p.path,
        "signature" => &mut p.signature,
        "docs" => &mut p.docs,
        "body" => &mut p.body,
        "file" => &mut p.file,
        _ => return None,
    })
}

fn set_param(p: &mut Bm25Params, key: &str, v: f32) -> Result<(), Error> {
    match key {
        "k1" => p.k1 = v,
        "code_name_boost" => p.code_name_boost = v,
        "word_name_boost" => p.word_name_boost = v,
        "first_line_weight" => p.first_line_weight = v,
        "query_tf_exponent" => p.query_tf_exponent = v,
        "length_prior" => p.length_prior = v,
        "file_context" => p.file_context = v,
        "file_context_items" => p.file_context_items = v as u32,
        _ => {
            let (f, what) = key
                .split_once('.')
                .ok_or_else(|| format!("unknown key {key}"))?;
            let fp = field_mut(p, f).ok_or_else(|| format!("unknown field {f}"))?;
            match what {
                "weight" | "w" => fp.weight = v,
                "b" => fp.b = v,
                _ => return Err(format!("unknown key {key}").into()),
            }
        }
    }
    Ok(())
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, Error> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{}: {e}", path.display()).into()))
        .collect()
}

fn is_doc_line(line: &str) -> Option<&str> {
    let t = line.trim_start();
    t.strip_prefix("///")
        .or_else(|| t.strip_prefix("//!"))
        .or_else(|| t.strip_prefix("#[doc"))
}

/// Builds the documents of one crate as described in the module docs.
fn load_corpus(krate: &str, root: &Path, items: Vec<Item>) -> Corpus {
    let mut files: HashMap<String, Vec<String>> = HashMap::new();
    for it in &items {
        files.entry(it.file.clone()).or_insert_with(|| {
            fs::read_to_string(root.join(&it.file))
                .map(|s| s.split('\n').map(str::to_owned).collect())
                .unwrap_or_default()
        });
    }
    // Innermost owner of every line; inline modules own nothing.
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        if it.kind == "mod" && it.end_line > it.decl_line {
            continue;
        }
        by_file.entry(&it.file).or_default().push(i);
    }
    let mut owned: HashMap<usize, Vec<usize>> = HashMap::new();
    for (f, mut idxs) in by_file {
        let lines = &files[f];
        let mut owner: Vec<Option<usize>> = vec![None; lines.len() + 2];
        idxs.sort_by_key(|&i| std::cmp::Reverse(items[i].end_line - items[i].start_line));
        for i in idxs {
            let it = &items[i];
            for o in owner
                .iter_mut()
                .take(it.end_line.min(lines.len()) + 1)
                .skip(it.start_line)
            {
                *o = Some(i);
            }
        }
        for (ln, o) in owner.iter().enumerate().take(lines.len() + 1).skip(1) {
            if let Some(i) = o {
                owned.entry(*i).or_default().push(ln);
            }
        }
    }
    let mut docs = Vec::new();
    for (i, it) in items.iter().enumerate() {
        if it.test {
            continue;
        }
        let Some(own) = owned.get(&i) else { continue };
        let lines = &files[&it.file];
        let line = |ln: usize| lines.get(ln - 1).map(String::as_str).unwrap_or("");
        let mut doc_text = String::new();
        // Doc comments right above the span (when the span starts at the item keyword).
        let mut above = Vec::new();
        let mut ln = it.start_line;
        while ln > 1 {
            ln -= 1;
            match is_doc_line(line(ln)) {
                Some(d) => above.push(d),
                None => break,
            }
        }
        for d in above.iter().rev() {
            doc_text.push_str(d);
            doc_text.push('\n');
        }
        let mut body = String::new();
        for &ln in own {
            let l = line(ln);
            match is_doc_line(l) {
                Some(d) if ln < it.decl_line => {
                    doc_text.push_str(d);
                    doc_text.push('\n');
                }
                _ => {
                    body.push_str(l);
                    body.push('\n');
                }
            }
        }
        let path = if it.module.is_empty() {
            format!("{krate}::{}", it.name)
        } else {
            format!("{krate}::{}::{}", it.module, it.name)
        };
        docs.push(Doc {
            item: i,
            name: it.name.clone(),
            path,
            signature: line(it.decl_line.max(1)).trim().to_owned(),
            docs: doc_text,
            body,
            file: it.file.clone(),
        });
    }
    Corpus {
        items,
        docs,
        queries: Vec::new(),
    }
}

fn build(c: &Corpus, params: &Bm25Params) -> LexicalIndex {
    LexicalIndex::build(
        c.docs.iter().map(|d| ItemDoc {
            name: &d.name,
            path: &d.path,
            signature: &d.signature,
            docs: &d.docs,
            body: &d.body,
            file: &d.file,
        }),
        params.clone(),
    )
}

// ---- In-process scoring, the same definitions as score.py ----

fn last_seg(n: &str) -> &str {
    n.rsplit("::").next().unwrap_or(n).trim()
}

fn names_match(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a == b || (!a.contains("::") && a == last_seg(b)) || (!b.contains("::") && b == last_seg(a))
}

fn hits(r: &Item, t: &Target) -> bool {
    if r.file != t.file {
        return false;
    }
    if names_match(&r.name, &t.name) {
        return true;
    }
    let (rs, re) = (r.start_line, r.end_line);
    let (lo, hi) = (rs.max(t.start_line), re.min(t.end_line));
    // At least half of the result's lines lie inside the target.
    hi >= lo && (hi - lo + 1) * 2 > re - rs
}

#[derive(Default, Clone, Copy)]
struct Metrics {
    n: f64,
    item_r10: f64,
    file_r5: f64,
    mrr: f64,
}

impl Metrics {
    fn add(&mut self, q: &Query, ranked: &[&Item]) {
        let mut files: Vec<&str> = Vec::new();
        for r in ranked {
            if !files.contains(&r.file.as_str()) {
                files.push(&r.file);
            }
        }
        let mut tfiles: Vec<&str> = q.targets.iter().map(|t| t.file.as_str()).collect();
        tfiles.sort();
        tfiles.dedup();
        let got = tfiles
            .iter()
            .filter(|f| files[..files.len().min(5)].contains(f))
            .count();
        self.file_r5 += got as f64 / tfiles.len() as f64;
        let hit10 = q
            .targets
            .iter()
            .filter(|t| ranked.iter().take(10).any(|r| hits(r, t)))
            .count();
        self.item_r10 += hit10 as f64 / q.targets.len() as f64;
        if let Some(p) = ranked
            .iter()
            .take(100)
            .position(|r| q.targets.iter().any(|t| hits(r, t)))
        {
            self.mrr += 1.0 / (p + 1) as f64;
        }
        self.n += 1.0;
    }

    fn line(&self) -> String {
        format!(
            "item_R@10={:.3} file_R@5={:.3} mrr={:.3} n={}",
            self.item_r10 / self.n,
            self.file_r5 / self.n,
            self.mrr / self.n,
            self.n
        )
    }
}

fn main() -> Result<(), Error> {
    let args = parse_args()?;

    let queries: Vec<Query> = read_jsonl(&args.bench.join("queries.jsonl"))?;
    let dirs = fs::read_to_string(&args.dirs)?;
    let mut corpora: BTreeMap<(String, String), Corpus> = BTreeMap::new();
    let t0 = Instant::now();
    for line in dirs.lines().filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split('\t');
        let (Some(k), Some(v), Some(dir)) = (cols.next(), cols.next(), cols.next()) else {
            return Err(format!("bad line in {}: {line}", args.dirs.display()).into());
        };
        let items: Vec<Item> = read_jsonl(&args.bench.join(format!("items/{k}-{v}.jsonl")))?;
        corpora.insert(
            (k.to_owned(), v.to_owned()),
            load_corpus(k, Path::new(dir), items),
        );
    }
    for (qi, q) in queries.iter().enumerate() {
        match corpora.get_mut(&(q.krate.clone(), q.version.clone())) {
            Some(c) => c.queries.push(qi),
            None => eprintln!("no corpus for query {}", q.id),
        }
    }
    eprintln!("loaded corpora in {:.2?}", t0.elapsed());

    // Cartesian product of the --set values.
    let mut combos: Vec<Vec<(String, f32)>> = vec![Vec::new()];
    for (k, vs) in &args.sets {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                vs.iter().map(move |&v| {
                    let mut c = c.clone();
                    c.push((k.clone(), v));
                    c
                })
            })
            .collect();
    }
    let grid = combos.len() > 1;
    for combo in &combos {
        let mut params = Bm25Params::default();
        for (k, v) in combo {
            set_param(&mut params, k, *v)?;
        }
        let (mut all, mut hard) = (Metrics::default(), Metrics::default());
        let mut out = if grid {
            None
        } else {
            Some(std::io::BufWriter::new(fs::File::create(&args.out)?))
        };
        let (mut t_build, mut t_query, mut n_docs, mut bytes) = (0.0, 0.0, 0usize, 0usize);
        let mut worst_query = 0f64;
        for ((krate, _), c) in &corpora {
            let t = Instant::now();
            let index = build(c, &params);
            let dt = t.elapsed().as_secs_f64();
            t_build += dt;
            if !grid {
                let mb: usize = c.docs.iter().map(Doc::bytes).sum();
                eprintln!(
                    "  {krate:<14} {:>6} docs {:>5.2} MB  build {:>6.1} ms",
                    index.len(),
                    mb as f64 / 1e6,
                    dt * 1e3
                );
            }
            n_docs += index.len();
            bytes += c.docs.iter().map(Doc::bytes).sum::<usize>();
            for &qi in &c.queries {
                let q = &queries[qi];
                let t = Instant::now();
                let res = index.search(&q.query, 100);
                let dt = t.elapsed().as_secs_f64();
                t_query += dt;
                worst_query = worst_query.max(dt);
                let ranked: Vec<&Item> = res
                    .iter()
                    .map(|&(d, _)| &c.items[c.docs[d as usize].item])
                    .collect();
                all.add(q, &ranked);
                if !q.mentions_target_name {
                    hard.add(q, &ranked);
                }
                if let Some(out) = out.as_mut() {
                    let results: Vec<serde_json::Value> = res
                        .iter()
                        .map(|&(d, s)| {
                            let it = &c.items[c.docs[d as usize].item];
                            serde_json::json!({"file": it.file, "name": it.name,
                                "start_line": it.start_line, "end_line": it.end_line, "score": s})
                        })
                        .collect();
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({"id": q.id, "results": results})
                    )?;
                }
            }
        }
        if !grid {
            // Worst case: every query of the benchmark as one request, on the largest crate.
            if let Some(c) = corpora.values().max_by_key(|c| c.docs.len()) {
                let index = build(c, &params);
                let all_text: String = queries
                    .iter()
                    .map(|q| q.query.as_str())
                    .collect::<Vec<_>>()
                    .join("\n");
                let t = Instant::now();
                let n = index.search(&all_text, 100).len();
                eprintln!(
                    "one {:.0} KB query over {} docs: {:.2} ms ({n} hits)",
                    all_text.len() as f64 / 1e3,
                    index.len(),
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        let desc: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "[{}] all: {} | hard: {}",
            desc.join(" "),
            all.line(),
            hard.line()
        );
        if !grid {
            drop(out);
            eprintln!(
                "built {n_docs} docs ({:.1} MB) in {:.1} ms total; {} queries in {:.1} ms ({:.3} ms/query, worst {:.3} ms)",
                bytes as f64 / 1e6,
                t_build * 1e3,
                all.n,
                t_query * 1e3,
                t_query * 1e3 / all.n,
                worst_query * 1e3
            );
            if args.score {
                let score = args.bench.join("score.py");
                let qs = args.bench.join("queries.jsonl");
                for filter in [None, Some("mentions_target_name=false")] {
                    let mut cmd = Command::new("python3");
                    cmd.arg(&score).arg(&qs).arg(&args.out);
                    if let Some(f) = filter {
                        cmd.args(["--filter", f]);
                    }
                    println!(
                        "$ python3 {} {} {} {}",
                        score.display(),
                        qs.display(),
                        args.out.display(),
                        filter.map(|f| format!("--filter {f}")).unwrap_or_default()
                    );
                    let status = cmd.status()?;
                    if !status.success() {
                        eprintln!("score.py failed: {status}");
                    }
                }
            }
        }
    }
    Ok(())
}
