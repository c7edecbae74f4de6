//! `cargo xtask bench-analyze [ROUNDS]`: what the analyses cost on tokio 1.38 (the benchmark
//! corpus's copy), in process, release build: the full analysis of a clean index (the
//! `analyze` stage of an index run, and the analysis rows it writes) and the update after a
//! one-file change (a live indexer's refresh: the `analyze` stage, and the whole refresh),
//! each a median of ROUNDS runs measured side by side; then `ploke impact` of the internal
//! `batch_semaphore::Semaphore::acquire`, with the items and tests it must reach.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ploke_index::{Changes, IndexOptions, Indexer, NoProgress};

fn stage(report: &ploke_index::IndexReport, name: &str) -> f64 {
    report
        .stages
        .iter()
        .filter(|(s, _)| *s == name)
        .map(|(_, d)| d.as_secs_f64() * 1000.0)
        .sum()
}

pub fn run(args: &[String]) -> Result<()> {
    let rounds: usize = match args.first() {
        Some(n) => n.parse().context("ROUNDS is a number")?,
        None => 5,
    };
    let src = crate::corpus()?
        .into_iter()
        .find(|(c, v, _)| c == "tokio" && v == "1.38.0")
        .map(|(_, _, dir)| dir)
        .context("tokio 1.38.0 is not in the benchmark corpus")?;
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().join("tokio");
    crate::copy_dir(&src, &root)?;
    let file = root.join("src/sync/batch_semaphore.rs");
    let original = std::fs::read_to_string(&file)?;

    let (mut full_analyze, mut full_total) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let db = tmp.path().join(format!("db-full-{r}"));
        let opts = IndexOptions {
            db_dir: Some(db),
            deps: Some(ploke_index::DepsScope::None),
            ..IndexOptions::default()
        };
        let t = Instant::now();
        let report = ploke_index::index(&root, &opts, &NoProgress)?;
        full_total.push(t.elapsed().as_secs_f64() * 1000.0);
        full_analyze.push(stage(&report, "analyze"));
    }

    // One live indexer, one file edited between refreshes (as the watcher runs it).
    let opts = IndexOptions {
        db_dir: Some(tmp.path().join("db-live")),
        deps: Some(ploke_index::DepsScope::None),
        ..IndexOptions::default()
    };
    let mut ix = Indexer::open(&root, &opts)?;
    ix.refresh(Changes::All, &NoProgress)?;
    let (mut one_analyze, mut one_total, mut one_rows) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let text = original.replacen(
            "pub(crate) fn acquire(&self, num_permits: usize) -> Acquire<'_> {",
            &format!("pub(crate) fn acquire(&self, num_permits: usize) -> Acquire<'_> {{\n        let _round = {r};"),
            1,
        );
        if text == original {
            bail!("{}: the edited line is not there", file.display());
        }
        std::fs::write(&file, text)?;
        let t = Instant::now();
        let report = ix.refresh(Changes::Paths(vec![file.clone()]), &NoProgress)?;
        one_total.push(t.elapsed().as_secs_f64() * 1000.0);
        one_analyze.push(stage(&report, "analyze"));
        one_rows.push(report.delta_rows as f64);
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(&file, &original)?;

    let (fa, fa90) = crate::bench_mcp::median_p90(full_analyze);
    let (ft, _) = crate::bench_mcp::median_p90(full_total);
    let (oa, oa90) = crate::bench_mcp::median_p90(one_analyze);
    let (ot, ot90) = crate::bench_mcp::median_p90(one_total);
    println!("tokio 1.38.0, {rounds} rounds, medians (p90):");
    println!("  full analysis (analyze stage of a clean index): {fa:.0} ms ({fa90:.0}); whole index run {ft:.0} ms   [goal ≤ 2000 ms]");
    println!("  one-file change, analysis update:                {oa:.1} ms ({oa90:.1}); whole refresh {ot:.0} ms ({ot90:.0})   [goal ≤ 200 ms]");

    // The impact the issue names.
    let s = ploke_session::Session::open(&ploke_session::OpenOptions {
        db: Some(tmp.path().join("db-live")),
        ..ploke_session::OpenOptions::new(&root)
    })?;
    let t = Instant::now();
    let impact = s.impact("tokio::sync::batch_semaphore::Semaphore::acquire", 6)?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let reached: Vec<&str> = impact
        .impacted
        .iter()
        .map(|i| i.item.path.as_str())
        .collect();
    println!(
        "  impact of batch_semaphore::Semaphore::acquire: {} items, {} tests, {ms:.0} ms",
        impact.impacted.len(),
        impact.tests.len()
    );
    for want in [
        "tokio::sync::mutex::Mutex::lock",
        "tokio::sync::rwlock::RwLock::read",
        "tokio::sync::rwlock::RwLock::write",
        "tokio::sync::semaphore::Semaphore::acquire",
    ] {
        println!(
            "    {} {want}",
            if reached.contains(&want) {
                "✓"
            } else {
                "✗"
            }
        );
    }
    for f in [
        "tests/sync_mutex.rs",
        "tests/sync_rwlock.rs",
        "tests/sync_semaphore.rs",
    ] {
        let n = impact.tests.iter().filter(|t| t.item.file == f).count();
        println!("    {} {n} tests in {f}", if n > 0 { "✓" } else { "✗" });
    }
    Ok(())
}
