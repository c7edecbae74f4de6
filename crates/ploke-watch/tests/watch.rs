//! The watcher on a real directory with real OS notifications: a burst arrives as one batch,
//! a storm past the bound as one rescan, a busy consumer finds one merged batch (work never
//! queues up), and ignored paths wake nobody.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ploke_watch::{Batch, WatchOptions, Watcher};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A package with a `.gitignore`, a `target/`, a hidden and an index directory, all made
/// before the watcher starts.
fn tree() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().canonicalize().unwrap();
    for d in ["src", "target/debug", "ignored", ".hidden", ".ploke"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"w\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
    std::fs::write(root.join("src/lib.rs"), "pub fn a() {}\n").unwrap();
    (tmp, root)
}

fn options(root: &Path, quiet_ms: u64, max_paths: usize) -> WatchOptions {
    WatchOptions {
        exclude: vec![root.join(".ploke")],
        quiet: Duration::from_millis(quiet_ms),
        max_delay: Duration::from_secs(5),
        max_paths,
    }
}

fn paths(b: &Batch) -> BTreeSet<PathBuf> {
    match b {
        Batch::Paths { paths, .. } => paths.iter().cloned().collect(),
        Batch::Rescan { .. } => panic!("expected paths, got a rescan"),
    }
}

/// Lets the OS watch settle before the test writes (inotify watches are in place when
/// `start` returns; this only keeps the first write clear of the start).
fn settle() {
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn a_burst_arrives_as_one_batch_with_every_file() {
    let rt = runtime();
    let _guard = rt.enter();
    let (_tmp, root) = tree();
    let w = Watcher::start(&root, options(&root, 300, 10_000)).unwrap();
    settle();
    let written: BTreeSet<PathBuf> = (0..30)
        .map(|i| {
            let p = root.join(format!("src/m{i}.rs"));
            std::fs::write(&p, format!("pub fn f{i}() {{}}\n")).unwrap();
            p
        })
        .collect();
    let b = w
        .next_timeout(Duration::from_secs(10))
        .unwrap()
        .expect("a batch within 10 s");
    let got = paths(&b);
    assert!(
        written.is_subset(&got),
        "missing from the batch: {:?}",
        written.difference(&got).collect::<Vec<_>>()
    );
    assert!(
        w.next_timeout(Duration::from_millis(800))
            .unwrap()
            .is_none(),
        "the burst came as one batch"
    );
}

#[test]
fn a_storm_past_the_bound_becomes_one_rescan() {
    let rt = runtime();
    let _guard = rt.enter();
    let (_tmp, root) = tree();
    let w = Watcher::start(&root, options(&root, 300, 10)).unwrap();
    settle();
    for i in 0..50 {
        std::fs::write(root.join(format!("src/s{i}.rs")), "pub fn s() {}\n").unwrap();
    }
    let b = w
        .next_timeout(Duration::from_secs(10))
        .unwrap()
        .expect("a batch within 10 s");
    assert!(matches!(b, Batch::Rescan { .. }), "got {b:?}");
    assert!(w
        .next_timeout(Duration::from_millis(800))
        .unwrap()
        .is_none());
}

#[test]
fn a_busy_consumer_finds_one_merged_batch() {
    let rt = runtime();
    let _guard = rt.enter();
    let (_tmp, root) = tree();
    let w = Watcher::start(&root, options(&root, 50, 10_000)).unwrap();
    settle();
    // Two bursts while the consumer is busy elsewhere: each one is ready on its own ...
    let a = root.join("src/a.rs");
    let b = root.join("src/b.rs");
    std::fs::write(&a, "pub fn a() {}\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    std::fs::write(&b, "pub fn b() {}\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    // ... but nothing queued: one batch holds both, and no second one follows.
    let got = paths(&w.next_timeout(Duration::from_secs(5)).unwrap().unwrap());
    assert!(got.contains(&a) && got.contains(&b), "{got:?}");
    assert!(w
        .next_timeout(Duration::from_millis(500))
        .unwrap()
        .is_none());
}

#[test]
fn ignored_paths_wake_nobody_and_sources_do() {
    let rt = runtime();
    let _guard = rt.enter();
    let (_tmp, root) = tree();
    let w = Watcher::start(&root, options(&root, 50, 10_000)).unwrap();
    settle();
    for (rel, text) in [
        ("target/debug/build.rs", "fn main() {}\n"),
        ("ignored/x.rs", "pub fn x() {}\n"),
        (".hidden/y.rs", "pub fn y() {}\n"),
        (".ploke/graph.db", "not a source"),
        ("notes.txt", "not a source"),
        ("src/data.json", "{}"),
    ] {
        std::fs::write(root.join(rel), text).unwrap();
    }
    assert!(
        w.next_timeout(Duration::from_millis(1000))
            .unwrap()
            .is_none(),
        "nothing of interest changed"
    );
    let lib = root.join("src/lib.rs");
    std::fs::write(&lib, "pub fn a() { let _ = 1; }\n").unwrap();
    let got = paths(&w.next_timeout(Duration::from_secs(5)).unwrap().unwrap());
    assert_eq!(got, BTreeSet::from([lib]));
}

#[test]
fn a_stopped_watcher_says_so() {
    let rt = runtime();
    let _guard = rt.enter();
    let (_tmp, root) = tree();
    let mut w = Watcher::start(&root, options(&root, 50, 10_000)).unwrap();
    w.stop();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match w.next_timeout(Duration::from_millis(100)) {
            Err(_) => break,
            Ok(_) if std::time::Instant::now() < deadline => continue,
            Ok(b) => panic!("still running 5 s after stop: {b:?}"),
        }
    }
}
