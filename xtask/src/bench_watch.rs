//! `cargo xtask bench-watch [--edits N] [--memory-edits N] [--ra DIR] [tokio|ra]…`: the live
//! index measured as a user feels it, in one process with the watcher running.
//!
//! - **write → search**: a function is appended to one file at a time (N different files);
//!   the time from the write to `search` (lexical, in the same process) returning it, median
//!   and p90;
//! - **burst**: 200 files written at once (as `git checkout` or `cargo fmt` do): the time
//!   until every one of them is in the index;
//! - **idle CPU**: the process's CPU time over 10 s with nothing changing;
//! - **memory**: resident memory after the first edit and after `--memory-edits` more (each
//!   renames a function an earlier one added, so the code does not grow);
//! - **two processes**: `ploke index --rebuild` running while 20 `ploke search` processes (4
//!   at a time) ask: how many succeed, and whether any saw a mixed state.
//!
//! Trees: tokio 1.38 (from the benchmark corpus, fetched with cargo) and, with `--ra DIR`,
//! rust-analyzer's own repository (a checkout or `git archive` of rust-lang/rust-analyzer).
//! Everything works on copies in a temp directory.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ploke_session::{
    Environment, Event, LiveOptions, OpenOptions, Overrides, SearchMode, SearchRequest, Session,
};

struct Args {
    edits: usize,
    memory_edits: usize,
    ra: Option<PathBuf>,
    trees: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        edits: 100,
        memory_edits: 1000,
        ra: None,
        trees: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "--edits" => a.edits = it.next().context("--edits N")?.parse()?,
            "--memory-edits" => a.memory_edits = it.next().context("--memory-edits N")?.parse()?,
            "--ra" => a.ra = Some(PathBuf::from(it.next().context("--ra DIR")?)),
            t if !t.starts_with('-') => a.trees.push(t.to_string()),
            other => bail!("unknown option {other}; usage: cargo xtask bench-watch [--edits N] [--memory-edits N] [--ra DIR] [tokio|ra]…"),
        }
    }
    if a.trees.is_empty() {
        a.trees.push("tokio".into());
        if a.ra.is_some() {
            a.trees.push("ra".into());
        }
    }
    Ok(a)
}

pub fn run(args: &[String]) -> Result<()> {
    let args = parse(args)?;
    let ploke = crate::build_ploke()?;
    let mut rows = Vec::new();
    for tree in &args.trees {
        let src = match tree.as_str() {
            "tokio" => crate::corpus()?
                .into_iter()
                .find(|(c, v, _)| c == "tokio" && v == "1.38.0")
                .map(|(_, _, dir)| dir)
                .context("tokio 1.38.0 is not in the benchmark corpus")?,
            "ra" => args
                .ra
                .clone()
                .context("`ra` needs --ra DIR (a rust-analyzer checkout)")?,
            other => bail!("unknown tree {other}: tokio or ra"),
        };
        eprintln!("== {tree}: {}", src.display());
        let memory_edits = if tree == "tokio" {
            args.memory_edits
        } else {
            0
        };
        rows.push((
            tree.clone(),
            bench_tree(&src, args.edits, memory_edits, &ploke)?,
        ));
    }
    println!();
    println!("| tree | files | write→search median ms | p90 ms | 200-file burst s | idle CPU % (10 s) | RSS MB after 1st / after N edits | concurrent searches during rebuild |");
    println!("|---|---|---|---|---|---|---|---|");
    for (tree, r) in rows {
        let mem = match r.rss_after_many {
            Some((n, mb)) => format!(
                "{:.0} / {:.0} ({n} edits, {:+.1}%)",
                r.rss_after_first,
                mb,
                (mb / r.rss_after_first - 1.0) * 100.0
            ),
            None => format!("{:.0} / —", r.rss_after_first),
        };
        println!(
            "| {tree} | {} | **{:.0}** | {:.0} | {:.2} | {:.2} | {mem} | {}/{} ok, {} mixed |",
            r.files,
            r.median_ms,
            r.p90_ms,
            r.burst_s,
            r.idle_cpu_pct,
            r.searches_ok,
            r.searches,
            r.mixed
        );
    }
    Ok(())
}

struct Result_ {
    files: usize,
    median_ms: f64,
    p90_ms: f64,
    burst_s: f64,
    idle_cpu_pct: f64,
    rss_after_first: f64,
    rss_after_many: Option<(usize, f64)>,
    searches: usize,
    searches_ok: usize,
    mixed: usize,
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces, inside parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of /proc/PID/stat: 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A function name whose words no other name shares (`ploke_edit_zqbc`): numbers are no
/// search terms, so `marker_7` would tie with every other marker.
fn marker(kind: &str, i: usize) -> String {
    let mut word = String::from("zq");
    let mut n = i;
    loop {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    format!("ploke_{kind}_{word}")
}

fn bench_tree(src: &Path, edits: usize, memory_edits: usize, ploke: &Path) -> Result<Result_> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("tree");
    crate::copy_dir(src, &root)?;
    let root = root.canonicalize()?;
    let mut opts = OpenOptions::new(&root);
    opts.create = true;
    opts.env = Environment::from_pairs([("HOME".to_string(), "/nonexistent".to_string())]);
    opts.overrides = Overrides {
        no_embed: true,
        ..Overrides::default()
    };
    opts.holder = "cargo xtask bench-watch".into();
    let session = Arc::new(Session::open(&opts)?);
    // (when, files, ms) of every update.
    type Seen = Vec<(Instant, Vec<String>, f64)>;
    let updates: Arc<Mutex<Seen>> = Arc::new(Mutex::new(Vec::new()));
    let parts_ms: Arc<Mutex<Vec<(f64, f64, f64)>>> = Arc::new(Mutex::new(Vec::new()));
    let sink = updates.clone();
    let parts_sink = parts_ms.clone();
    session.subscribe(Arc::new(move |e: &Event| match e {
        Event::Updated(u) => {
            sink.lock()
                .unwrap()
                .push((Instant::now(), u.files.clone(), u.ms));
            parts_sink
                .lock()
                .unwrap()
                .push((u.ms, u.index_ms, u.snapshot_ms));
        }
        Event::Warning { message } => eprintln!("warning: {message}"),
        _ => {}
    }));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let _guard = rt.enter();
    let t = Instant::now();
    let handle = session.watch(LiveOptions {
        embed: false,
        ..LiveOptions::default()
    })?;
    eprintln!(
        "first index and snapshot in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Files of the library targets, spread over the tree. Files of test modules
    // (`#[cfg(test)] mod tests;`) are left out: search ranks test code down on purpose, so a
    // marker there may rank below k while being indexed; this measures freshness, not ranking.
    let db = ploke_db::Db::open_existing(&session.location().db_dir)?;
    let non_test: std::collections::HashSet<String> = db
        .all_nodes()?
        .into_iter()
        .filter(|n| !n.is_test)
        .map(|n| n.file)
        .collect();
    let lib_files: Vec<String> = {
        let crates = db.crates()?;
        let libs: std::collections::HashSet<String> = crates
            .iter()
            .filter(|c| c.kind == ploke_core::TargetKind::Lib)
            .map(|c| c.name.clone())
            .collect();
        db.files()?
            .into_iter()
            .filter(|f| {
                libs.contains(&f.crate_name)
                    && f.path.ends_with(".rs")
                    && non_test.contains(&f.path)
            })
            .map(|f| f.path)
            .collect()
    };
    let n_files = db.files()?.len();
    drop(db);
    let step = (lib_files.len() / edits.max(1)).max(1);
    let picked: Vec<&String> = lib_files.iter().step_by(step).take(edits).collect();
    let search = |q: &str| -> Vec<String> {
        session
            .search(&SearchRequest {
                query: q.to_string(),
                k: 3,
                mode: SearchMode::Lexical,
                scope: Default::default(),
            })
            .map(|h| h.into_iter().map(|h| h.item.path).collect())
            .unwrap_or_default()
    };
    let append = |rel: &str, text: &str| -> Result<()> {
        let p = root.join(rel);
        let mut t = std::fs::read_to_string(&p)?;
        t.push_str(text);
        std::fs::write(&p, t)?;
        Ok(())
    };
    let wait_for = |name: &str, limit: Duration| -> Option<Duration> {
        let t0 = Instant::now();
        while t0.elapsed() < limit {
            if search(name).iter().any(|p| p.ends_with(name)) {
                return Some(t0.elapsed());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        None
    };

    // 1. Write → search, one file at a time.
    let mut lat = Vec::new();
    let mut rss_after_first = 0.0;
    for (i, rel) in picked.iter().enumerate() {
        let name = marker("edit", i);
        let t0 = Instant::now();
        append(rel, &format!("\npub fn {name}() {{}}\n"))?;
        match wait_for(&name, Duration::from_secs(10)) {
            Some(_) => lat.push(t0.elapsed().as_secs_f64() * 1000.0),
            None => eprintln!("warning: {name} in {rel} never became searchable"),
        }
        if i == 0 {
            rss_after_first = rss_mb();
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    let (median_ms, p90_ms) = (pct(0.5), pct(0.9));
    eprintln!(
        "write→search over {} edits: median {median_ms:.0} ms, p90 {p90_ms:.0} ms",
        lat.len()
    );
    {
        let p = parts_ms.lock().unwrap();
        let med = |f: fn(&(f64, f64, f64)) -> f64| {
            let mut v: Vec<f64> = p.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        eprintln!(
            "  per update (median of {}): first event to snapshot {:.0} ms, of which index {:.0} ms and snapshot {:.0} ms",
            p.len(),
            med(|x| x.0),
            med(|x| x.1),
            med(|x| x.2)
        );
    }

    // 2. A burst of 200 files.
    let burst: Vec<&String> = lib_files
        .iter()
        .rev()
        .step_by((lib_files.len() / 200).max(1))
        .take(200)
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    updates.lock().unwrap().clear();
    let t0 = Instant::now();
    for (i, rel) in burst.iter().enumerate() {
        append(rel, &format!("\npub fn {}() {{}}\n", marker("burst", i)))?;
    }
    let wanted: std::collections::HashSet<&str> = burst.iter().map(|s| s.as_str()).collect();
    let settled = loop {
        let seen: std::collections::HashSet<String> = updates
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, f, _)| f.clone())
            .collect();
        if wanted.iter().all(|w| seen.contains(*w)) {
            break updates.lock().unwrap().last().map(|(at, _, _)| *at - t0);
        }
        if t0.elapsed() > Duration::from_secs(60) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let burst_s = settled.map_or(f64::NAN, |d| d.as_secs_f64());
    eprintln!(
        "200-file burst settled in {burst_s:.2} s ({} updates)",
        updates.lock().unwrap().len()
    );

    // 3. Idle CPU (after the cache has been saved).
    std::thread::sleep(Duration::from_secs(3));
    let (c0, t0) = (cpu_seconds(), Instant::now());
    std::thread::sleep(Duration::from_secs(10));
    let idle_cpu_pct = (cpu_seconds() - c0) / t0.elapsed().as_secs_f64() * 100.0;
    eprintln!("idle CPU {idle_cpu_pct:.2}%");

    // 4. Memory after many edits (each one applied before the next). An edit renames the
    // function the previous memory edit of that file added, so the workspace stays the same
    // size: what grows is what the live index keeps, not the code.
    let rss_after_many = if memory_edits > 0 {
        let mut last: HashMap<&str, String> = HashMap::new();
        for i in 0..memory_edits {
            let rel = picked[i % picked.len()];
            let name = marker("memory", i);
            let new_fn = format!("\npub fn {name}() {{}}\n");
            match last.insert(rel.as_str(), name.clone()) {
                Some(prev) => {
                    let p = root.join(rel);
                    let text = std::fs::read_to_string(&p)?;
                    let old_fn = format!("\npub fn {prev}() {{}}\n");
                    std::fs::write(&p, text.replacen(&old_fn, &new_fn, 1))?;
                }
                None => append(rel, &new_fn)?,
            }
            wait_for(&name, Duration::from_secs(10));
            if i % 100 == 99 {
                eprintln!("  {} edits, RSS {:.0} MB", i + 1, rss_mb());
            }
        }
        Some((memory_edits, rss_mb()))
    } else {
        None
    };
    handle.stop();
    drop(session);

    // 5. Another process rebuilds while 20 searches run.
    let (searches, searches_ok, mixed) = concurrent_searches(&root, ploke)?;
    eprintln!("concurrent searches: {searches_ok}/{searches} ok, {mixed} mixed");
    Ok(Result_ {
        files: n_files,
        median_ms,
        p90_ms,
        burst_s,
        idle_cpu_pct,
        rss_after_first,
        rss_after_many,
        searches,
        searches_ok,
        mixed,
    })
}

/// `ploke index --rebuild` in a loop while 20 `ploke search` processes run, 4 at a time.
/// A search is correct when it exits 0 and its best hit for the first marker is the marker.
fn concurrent_searches(root: &Path, ploke: &Path) -> Result<(usize, usize, usize)> {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (root, ploke, stop) = (root.to_path_buf(), ploke.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ok = std::process::Command::new(&ploke)
                    .args(["index", "--rebuild", "--no-embed"])
                    .current_dir(&root)
                    .env("PLOKE_EMBED", "off")
                    .output()
                    .is_ok_and(|o| o.status.success());
                if !ok {
                    eprintln!("warning: a rebuild failed");
                }
                n += 1;
            }
            n
        })
    };
    let (mut ok, mut mixed) = (0, 0);
    let total = 20;
    for chunk in 0..total / 4 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                std::process::Command::new(ploke)
                    .args([
                        "search",
                        &marker("edit", 0),
                        "--json",
                        "-k",
                        "3",
                        "--mode",
                        "lexical",
                    ])
                    .current_dir(root)
                    .env("PLOKE_EMBED", "off")
                    .output()
            })
            .collect();
        for c in children {
            let out = c?;
            let text = String::from_utf8_lossy(&out.stdout);
            let good = out.status.success()
                && serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| {
                        v.get(0).and_then(|h| {
                            h["path"].as_str().map(|p| p.ends_with(&marker("edit", 0)))
                        })
                    })
                    .unwrap_or(false);
            if good {
                ok += 1;
            } else if out.status.success() {
                mixed += 1;
            } else {
                eprintln!(
                    "search failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        let _ = chunk;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rebuilds = writer.join().unwrap_or(0);
    eprintln!("{rebuilds} rebuilds ran meanwhile");
    Ok((total, ok, mixed))
}
