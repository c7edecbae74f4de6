//! Watching a workspace for source changes.
//!
//! [`Watcher::start`] watches a directory tree with the OS's file notifications (`notify`:
//! inotify, FSEvents, ReadDirectoryChangesW), keeps the events that can change an index
//! (Rust files, manifests, `.gitignore` files, directories that appear or go) and drops the
//! rest: ignored paths (`.gitignore`, `.ignore`, `.git/info/exclude`), `target/`, hidden
//! directories, and the directories it is told to leave alone (the index's own). A tokio task
//! debounces them: a burst (`git checkout`, `cargo fmt`, a branch switch) becomes one
//! [`Batch`] once events stop for a moment, or after a bounded delay while they keep coming.
//!
//! The consumer (the indexer, on its own thread) calls [`Watcher::next`]. Work never queues
//! up: while the consumer is busy, new events merge into the one pending batch, whose size is
//! bounded (past [`WatchOptions::max_paths`] it becomes [`Batch::Rescan`]). No timer runs
//! while nothing happens.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use notify::{EventKind, RecursiveMode, Watcher as _};

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    /// These paths changed, appeared or went (files or directories).
    Paths {
        paths: Vec<PathBuf>,
        /// When the first event of the batch arrived.
        since: Instant,
    },
    /// Too much changed to list (or the OS dropped events): look at everything.
    Rescan { since: Instant },
}

impl Batch {
    /// When the first event of the batch arrived.
    pub fn since(&self) -> Instant {
        match self {
            Batch::Paths { since, .. } | Batch::Rescan { since } => *since,
        }
    }
}

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Directories whose changes are never of interest (the index directory).
    pub exclude: Vec<PathBuf>,
    /// A batch is handed over once no event came for this long ...
    pub quiet: Duration,
    /// ... or this long after its first event, whichever is first.
    pub max_delay: Duration,
    /// More distinct paths than this in one batch make it a [`Batch::Rescan`].
    pub max_paths: usize,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            exclude: Vec::new(),
            quiet: Duration::from_millis(20),
            max_delay: Duration::from_millis(250),
            max_paths: 10_000,
        }
    }
}

/// Why watching could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{path}: cannot watch: {source}")]
    Notify {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("no tokio runtime to debounce events on: start the watcher inside one")]
    NoRuntime,
}

/// The batch being collected.
#[derive(Default)]
struct Pending {
    paths: BTreeSet<PathBuf>,
    since: Option<Instant>,
    rescan: bool,
    /// A batch is complete (quiet or max delay reached) and waits for the consumer.
    ready: bool,
}

/// A running watch. Dropping it stops the OS watch and the debouncer.
pub struct Watcher {
    _os: notify::RecommendedWatcher,
    pending: Arc<Mutex<Pending>>,
    /// Signalled (capacity 1) when a batch is ready.
    ready_rx: flume::Receiver<()>,
    stop_tx: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Watcher {
    /// Watches `root` recursively. Must be called inside a tokio runtime (the debouncer is a
    /// task on it).
    pub fn start(root: &Path, opts: WatchOptions) -> Result<Watcher, WatchError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| WatchError::NoRuntime)?;
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let filter = Filter::new(&root, &opts.exclude);
        // Raw events: bounded, so that a storm cannot queue without limit; a full channel
        // turns the next batch into a rescan.
        let (raw_tx, raw_rx) = flume::bounded::<RawEvent>(4096);
        let overflow = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let over = overflow.clone();
        let mut os = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            let ev = match res {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::warn!("file watcher: {e}; looking at every file");
                    over.store(true, std::sync::atomic::Ordering::Release);
                    let _ = raw_tx.try_send(RawEvent::Rescan);
                    return;
                }
            };
            if ev.need_rescan() {
                let _ = raw_tx.try_send(RawEvent::Rescan);
                return;
            }
            if matches!(ev.kind, EventKind::Access(_)) {
                return;
            }
            for p in ev.paths {
                if raw_tx.try_send(RawEvent::Path(p)).is_err() {
                    over.store(true, std::sync::atomic::Ordering::Release);
                }
            }
        })
        .map_err(|source| WatchError::Notify {
            path: root.clone(),
            source,
        })?;
        os.watch(&root, RecursiveMode::Recursive)
            .map_err(|source| WatchError::Notify {
                path: root.clone(),
                source,
            })?;
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (ready_tx, ready_rx) = flume::bounded(1);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        runtime.spawn(debounce(
            raw_rx,
            pending.clone(),
            ready_tx,
            stop_rx,
            filter,
            overflow,
            opts,
        ));
        Ok(Watcher {
            _os: os,
            pending,
            ready_rx,
            stop_tx: Some(stop_tx),
        })
    }

    /// Blocks until a batch is ready (`None` once the watcher stopped).
    pub fn next(&self) -> Option<Batch> {
        self.ready_rx.recv().ok()?;
        Some(self.take())
    }

    /// Like [`Watcher::next`], but gives up after `timeout` (`Ok(None)`): for a consumer that
    /// has something to do when idle.
    pub fn next_timeout(&self, timeout: Duration) -> Result<Option<Batch>, Stopped> {
        match self.ready_rx.recv_timeout(timeout) {
            Ok(()) => Ok(Some(self.take())),
            Err(flume::RecvTimeoutError::Timeout) => Ok(None),
            Err(flume::RecvTimeoutError::Disconnected) => Err(Stopped),
        }
    }

    /// The channel that signals a ready batch, for consumers that wait on several things
    /// (`recv_async` on a runtime, `flume::Selector` on a thread); take the batch with
    /// [`Watcher::take`].
    pub fn ready(&self) -> &flume::Receiver<()> {
        &self.ready_rx
    }

    /// The batch collected so far, leaving an empty one.
    pub fn take(&self) -> Batch {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let since = p.since.take().unwrap_or_else(Instant::now);
        let batch = if std::mem::take(&mut p.rescan) {
            p.paths.clear();
            Batch::Rescan { since }
        } else {
            Batch::Paths {
                paths: std::mem::take(&mut p.paths).into_iter().collect(),
                since,
            }
        };
        p.ready = false;
        batch
    }

    /// Stops watching (also done on drop).
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The watcher stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

enum RawEvent {
    Path(PathBuf),
    Rescan,
}

/// Collects raw events into the pending batch and signals it ready once quiet.
async fn debounce(
    raw: flume::Receiver<RawEvent>,
    pending: Arc<Mutex<Pending>>,
    ready: flume::Sender<()>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    mut filter: Filter,
    overflow: Arc<std::sync::atomic::AtomicBool>,
    opts: WatchOptions,
) {
    // The deadline of the batch being collected (`None` while nothing is pending).
    let mut deadline: Option<(tokio::time::Instant, tokio::time::Instant)> = None; // (quiet, max)
    loop {
        let wake = deadline.map(|(q, m)| q.min(m));
        tokio::select! {
            _ = &mut stop => return,
            ev = raw.recv_async() => {
                let Ok(ev) = ev else { return };
                let now = tokio::time::Instant::now();
                let relevant = {
                    let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
                    let relevant = match ev {
                        RawEvent::Rescan => {
                            p.rescan = true;
                            true
                        }
                        RawEvent::Path(path) => match filter.keep(&path) {
                            Keep::No => false,
                            Keep::Yes => {
                                if !p.rescan {
                                    p.paths.insert(path);
                                }
                                true
                            }
                            // The ignore rules changed: what is indexed may have too.
                            Keep::Rescan => {
                                filter.reload();
                                p.rescan = true;
                                true
                            }
                        },
                    };
                    if overflow.swap(false, std::sync::atomic::Ordering::AcqRel) || p.paths.len() > opts.max_paths {
                        p.rescan = true;
                        p.paths.clear();
                    }
                    if relevant && p.since.is_none() {
                        p.since = Some(Instant::now());
                    }
                    relevant
                };
                if relevant {
                    let max = deadline.map_or(now + opts.max_delay, |(_, m)| m);
                    deadline = Some((now + opts.quiet, max));
                }
            }
            _ = sleep_until(wake), if wake.is_some() => {
                deadline = None;
                let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
                if !p.ready && (p.rescan || !p.paths.is_empty()) {
                    p.ready = true;
                    // Capacity 1: a signal already waiting covers this batch too.
                    let _ = ready.try_send(());
                }
            }
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

enum Keep {
    Yes,
    No,
    Rescan,
}

/// Which paths matter to an index.
struct Filter {
    root: PathBuf,
    exclude: Vec<PathBuf>,
    ignore: Gitignore,
}

impl Filter {
    fn new(root: &Path, exclude: &[PathBuf]) -> Filter {
        let exclude = exclude
            .iter()
            .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
            .collect();
        let mut f = Filter {
            root: root.to_path_buf(),
            exclude,
            ignore: Gitignore::empty(),
        };
        f.reload();
        f
    }

    /// Reads every `.gitignore` and `.ignore` of the tree (skipping what they and the
    /// built-in rules exclude), and `.git/info/exclude`.
    fn reload(&mut self) {
        let mut b = GitignoreBuilder::new(&self.root);
        let _ = b.add(self.root.join(".git/info/exclude"));
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for name in [".gitignore", ".ignore"] {
                let f = dir.join(name);
                if f.is_file() {
                    if let Some(e) = b.add(&f) {
                        tracing::debug!("{}: {e}", f.display());
                    }
                }
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if e.file_type().is_ok_and(|t| t.is_dir()) && !self.built_in_skip(&p) {
                    stack.push(p);
                }
            }
        }
        self.ignore = b.build().unwrap_or_else(|_| Gitignore::empty());
    }

    /// Hidden directories, `target`, and the excluded directories.
    fn built_in_skip(&self, p: &Path) -> bool {
        if self.exclude.iter().any(|x| p.starts_with(x)) {
            return true;
        }
        let Ok(rel) = p.strip_prefix(&self.root) else {
            return true;
        };
        rel.components().any(|c| {
            let s = c.as_os_str().to_string_lossy();
            s.starts_with('.') || s == "target"
        })
    }

    fn keep(&self, p: &Path) -> Keep {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        if name == ".gitignore" || name == ".ignore" {
            return if self.exclude.iter().any(|x| p.starts_with(x)) {
                Keep::No
            } else {
                Keep::Rescan
            };
        }
        if self.built_in_skip(p) {
            return Keep::No;
        }
        let is_dir = p.is_dir();
        let wanted = is_dir
            || name.ends_with(".rs")
            || name == "Cargo.toml"
            || name == "Cargo.lock"
            // A directory or file that is gone: its kind is unknown, its name says little.
            || !p.exists() && !name.contains('.');
        if !wanted {
            return Keep::No;
        }
        if self
            .ignore
            .matched_path_or_any_parents(p, is_dir)
            .is_ignore()
        {
            return Keep::No;
        }
        Keep::Yes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_keeps_sources_and_manifests_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join(".gitignore"), "generated/\n*.bak.rs\n").unwrap();
        for d in ["src", "generated", "target/debug", ".ploke", ".git", "sub"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("sub/.gitignore"), "local.rs\n").unwrap();
        let f = Filter::new(&root, &[root.join(".ploke")]);
        let keep = |rel: &str| matches!(f.keep(&root.join(rel)), Keep::Yes);
        assert!(keep("src/lib.rs"));
        assert!(keep("Cargo.toml"));
        assert!(keep("src"), "a directory");
        assert!(
            keep("src/gone_dir"),
            "something that went, without an extension"
        );
        assert!(!keep("README.md"));
        assert!(!keep("generated/x.rs"), "ignored by .gitignore");
        assert!(!keep("src/old.bak.rs"), "ignored by a pattern");
        assert!(!keep("sub/local.rs"), "ignored by a nested .gitignore");
        assert!(keep("sub/other.rs"));
        assert!(!keep("target/debug/build.rs"));
        assert!(!keep(".ploke/graph.db"));
        assert!(!keep(".git/HEAD"));
        assert!(matches!(f.keep(&root.join("sub/.gitignore")), Keep::Rescan));
    }
}

#[cfg(test)]
mod live_tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join(".ploke")).unwrap();
        (dir, root)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_save_becomes_one_batch_and_the_index_dir_is_ignored() {
        let (_dir, root) = setup();
        let w = Watcher::start(
            &root,
            WatchOptions {
                exclude: vec![root.join(".ploke")],
                ..WatchOptions::default()
            },
        )
        .unwrap();
        std::fs::write(root.join(".ploke/graph.db"), "x").unwrap();
        std::fs::write(root.join("src/lib.rs"), "fn a() {}").unwrap();
        std::fs::write(root.join("src/lib.rs"), "fn a() {} fn b() {}").unwrap();
        let batch = tokio::task::spawn_blocking(move || {
            w.next_timeout(Duration::from_secs(5)).map(|b| (b, w))
        })
        .await
        .unwrap()
        .unwrap();
        let (Some(Batch::Paths { paths, .. }), w) = batch else {
            panic!("expected paths")
        };
        assert_eq!(paths, vec![root.join("src/lib.rs")]);
        // Nothing else is pending: the index's own write left no trace.
        let idle = tokio::task::spawn_blocking(move || w.next_timeout(Duration::from_millis(300)))
            .await
            .unwrap();
        assert_eq!(idle, Ok(None));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_is_merged_while_the_consumer_is_busy() {
        let (_dir, root) = setup();
        let w = Watcher::start(&root, WatchOptions::default()).unwrap();
        for i in 0..200 {
            std::fs::write(root.join(format!("src/f{i}.rs")), "fn f() {}").unwrap();
        }
        // The consumer is busy for a while; then everything is in one or two batches.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let got = tokio::task::spawn_blocking(move || {
            let mut seen = BTreeSet::new();
            let mut batches = 0;
            while let Ok(Some(b)) = w.next_timeout(Duration::from_millis(400)) {
                batches += 1;
                if let Batch::Paths { paths, .. } = b {
                    seen.extend(paths);
                }
            }
            (seen.len(), batches)
        })
        .await
        .unwrap();
        assert_eq!(got.0, 200);
        assert!(got.1 <= 2, "{} batches", got.1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn more_than_max_paths_is_a_rescan() {
        let (_dir, root) = setup();
        let w = Watcher::start(
            &root,
            WatchOptions {
                max_paths: 10,
                ..WatchOptions::default()
            },
        )
        .unwrap();
        for i in 0..50 {
            std::fs::write(root.join(format!("src/g{i}.rs")), "").unwrap();
        }
        let b = tokio::task::spawn_blocking(move || w.next_timeout(Duration::from_secs(5)))
            .await
            .unwrap();
        assert!(matches!(b, Ok(Some(Batch::Rescan { .. }))), "{b:?}");
    }
}
