//! The live index: a watcher feeds the indexer, every update swaps in a new search snapshot,
//! and the vectors of changed items follow in the background.
//!
//! ```text
//! files --notify--> ploke-watch (tokio task: filter, debounce, one pending batch)
//!                       | ready
//!                       v
//!                update thread: Indexer::refresh(paths) (parsing on rayon)
//!                       -> commit (graph + generation, one transaction)
//!                       -> new Retriever from the parts in memory -> swap snapshot
//!                       | changed
//!                       v
//!                embed thread: embed what has no vector -> store -> join vector search
//! ```
//!
//! Lexical and graph search see a change as soon as the update thread swaps the snapshot;
//! readers keep the snapshot they hold until they are done with it. One live index per index
//! directory: it holds `watch.lock` there for its lifetime.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ploke_db::lock::{Wait, WriteLock};
use ploke_index::Changes;
use ploke_retrieve::Retriever;
use ploke_watch::{Batch, WatchOptions, Watcher};

use crate::events::{Event, IndexProgress, Update};
use crate::{Session, SessionError, Snapshot, EMBED_MODEL_KEY};

/// The lock file a live index holds in the index directory.
pub const WATCH_LOCK_FILE: &str = "watch.lock";

/// How the live index runs.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Quiet time that ends a burst of events.
    pub quiet: Duration,
    /// The longest a batch waits while events keep coming.
    pub max_delay: Duration,
    /// Embed changed items in the background.
    pub embed: bool,
    /// Save the index cache once no update came for this long.
    pub save_after: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            quiet: Duration::from_millis(20),
            max_delay: Duration::from_millis(250),
            embed: true,
            save_after: Duration::from_secs(2),
        }
    }
}

/// A running live index; [`WatchHandle::stop`] (or dropping it) stops it cleanly.
pub struct WatchHandle {
    watcher: Option<Arc<Mutex<Watcher>>>,
    stop: flume::Sender<()>,
    update: Option<JoinHandle<()>>,
    embed: Option<(flume::Sender<()>, JoinHandle<()>)>,
    _lock: WriteLock,
}

impl WatchHandle {
    /// Stops watching, waits for the update in progress, saves the index cache.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(());
        if let Some(w) = self.watcher.take() {
            w.lock().unwrap_or_else(|e| e.into_inner()).stop();
        }
        if let Some(h) = self.update.take() {
            let _ = h.join();
        }
        if let Some((tx, h)) = self.embed.take() {
            drop(tx);
            let _ = h.join();
        }
    }
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Session {
    /// Keeps the index live when this process may; when another process does already
    /// ([`SessionError::LiveElsewhere`]), waits at most `wait` until that one's index can be
    /// read and answers from it (`Ok(None)`, said once as a warning). A live index that
    /// cannot start for another reason is followed the same way when an index exists. For
    /// servers that several processes may run on one workspace (MCP, LSP); `ploke watch`
    /// refuses instead.
    pub fn watch_or_follow(
        self: &Arc<Self>,
        opts: LiveOptions,
        wait: Duration,
    ) -> Result<Option<WatchHandle>, SessionError> {
        let e = match self.watch(opts) {
            Ok(handle) => return Ok(Some(handle)),
            Err(e) => e,
        };
        // The process that keeps it live may still be building it: wait for that one only.
        let held = matches!(e, SessionError::LiveElsewhere { .. });
        let since = Instant::now();
        loop {
            match self.status() {
                Ok(_) => break,
                Err(_) if held && since.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(_) => return Err(e),
            }
        }
        self.events
            .warn(format!("{e}; serving the index without keeping it live"));
        Ok(None)
    }

    /// Makes `text` stand for `file` (workspace-relative) in the index, or (`None`) the file
    /// on disk again: an editor's unsaved buffer, as the user sees it. Taken in at once, as a
    /// saved change would be (search, relations and context answer for it); closing the buffer
    /// falls back to the disk. Only a session that keeps the index live can do this.
    pub fn overlay(&self, file: &str, text: Option<String>) -> Result<(), SessionError> {
        if ploke_core::is_dependency_path(file) {
            return Err(SessionError::Watch {
                path: self.loc.root.clone(),
                message: format!("{file} is a dependency's file (read-only): ploke never takes in changes to dependency sources"),
            });
        }
        if !self.live.load(Ordering::Acquire) {
            return Err(SessionError::Watch {
                path: self.loc.root.clone(),
                message: "unsaved buffers need the live index of this process (another process keeps it live, or none does)".into(),
            });
        }
        let path = self.loc.root.join(file);
        self.with_writer(|w| {
            w.indexer.set_overlay(path.clone(), text.map(Arc::from));
            Ok(())
        })?;
        self.update(Batch::Paths {
            paths: vec![path],
            since: Instant::now(),
        })?;
        Ok(())
    }

    /// Keeps this session's index current: indexes what changed since the last run, then
    /// watches the workspace and takes in every change (see the module docs). Call inside a
    /// tokio runtime (the watcher's debouncer runs on it). Fails when another process keeps
    /// this index live already.
    pub fn watch(self: &Arc<Self>, opts: LiveOptions) -> Result<WatchHandle, SessionError> {
        let lock = WriteLock::acquire_file(
            &self.loc.db_dir,
            WATCH_LOCK_FILE,
            &self.opts.holder,
            Wait::No,
        )
        .map_err(|e| match e {
            ploke_db::DbError::Busy { holder, .. } => SessionError::LiveElsewhere {
                path: self.loc.root.clone(),
                holder,
            },
            other => SessionError::Db(other),
        })?;
        self.live.store(true, Ordering::Release);
        // Watch first, so that nothing written during the first index is missed.
        let watcher = Watcher::start(
            &self.loc.root,
            WatchOptions {
                exclude: vec![self.loc.db_dir.clone()],
                quiet: opts.quiet,
                max_delay: opts.max_delay,
                ..WatchOptions::default()
            },
        )
        .map_err(|e| SessionError::Watch {
            path: self.loc.root.clone(),
            message: e.to_string(),
        })?;
        let start = Instant::now();
        self.update(Batch::Rescan { since: start })?;
        let embed = if opts.embed && self.settings.embed.is_some() {
            let (tx, rx) = flume::bounded::<()>(1);
            let me = self.clone();
            let h = std::thread::Builder::new()
                .name("ploke-embed".into())
                .spawn(move || {
                    while rx.recv().is_ok() {
                        me.embed_live();
                    }
                })
                .map_err(|e| SessionError::Watch {
                    path: self.loc.root.clone(),
                    message: format!("cannot start the embedding thread: {e}"),
                })?;
            let _ = tx.try_send(());
            Some((tx, h))
        } else {
            None
        };
        let embed_tx = embed.as_ref().map(|(tx, _)| tx.clone());
        let watcher = Arc::new(Mutex::new(watcher));
        let (stop_tx, stop_rx) = flume::bounded::<()>(1);
        let me = self.clone();
        let w = watcher.clone();
        let save_after = opts.save_after;
        let update = std::thread::Builder::new()
            .name("ploke-live".into())
            .spawn(move || {
                let ready = w.lock().unwrap_or_else(|e| e.into_inner()).ready().clone();
                let mut unsaved = false;
                loop {
                    // Wait for a batch (or stop); with unsaved work, only as long as the
                    // save delay.
                    let got = flume::Selector::new()
                        .recv(&ready, |r| r.map(|()| true))
                        .recv(&stop_rx, |_| Ok(false));
                    let got = if unsaved {
                        got.wait_timeout(save_after).ok()
                    } else {
                        Some(got.wait())
                    };
                    match got {
                        None => {
                            me.save_live_cache();
                            unsaved = false;
                        }
                        Some(Ok(true)) => {
                            let batch = w.lock().unwrap_or_else(|e| e.into_inner()).take();
                            match me.update(batch) {
                                Ok(true) => {
                                    unsaved = true;
                                    if let Some(tx) = &embed_tx {
                                        let _ = tx.try_send(());
                                    }
                                }
                                Ok(false) => {}
                                Err(e) => me.events.warn(me.redact(&format!("update failed: {e}"))),
                            }
                        }
                        Some(_) => break,
                    }
                }
                me.save_live_cache();
            })
            .map_err(|e| SessionError::Watch {
                path: self.loc.root.clone(),
                message: format!("cannot start the update thread: {e}"),
            })?;
        Ok(WatchHandle {
            watcher: Some(watcher),
            stop: stop_tx,
            update: Some(update),
            embed,
            _lock: lock,
        })
    }

    /// Takes in one batch of changes: refresh, new snapshot, event. `Ok(false)` when nothing
    /// the index holds changed.
    fn update(&self, batch: Batch) -> Result<bool, SessionError> {
        let since = batch.since();
        let changes = match batch {
            Batch::Paths { paths, .. } => Changes::Paths(paths),
            Batch::Rescan { .. } => Changes::All,
        };
        let first = matches!(changes, Changes::All);
        let progress = IndexProgress::new(&self.events);
        let (snap, update) = self.with_writer(|w| {
            let lock = w.indexer.lock(&progress)?;
            let recovered = self.recover_edits(&lock)?;
            let changes = match changes {
                Changes::Paths(mut p) if !recovered.is_empty() => {
                    p.extend(recovered.iter().map(|f| self.loc.root.join(f)));
                    Changes::Paths(p)
                }
                other => other,
            };
            let t_index = Instant::now();
            let report = w.indexer.refresh_locked(&lock, changes, &progress)?;
            drop(lock);
            let index_ms = t_index.elapsed().as_secs_f64() * 1000.0;
            tracing::debug!(
                index_ms,
                stages = ?report.stages,
                targets = report.rebuilt_targets,
                "live update indexed"
            );
            for p in &report.new_problems {
                self.events.warn(p.to_string());
            }
            if w.sources.is_empty() || first {
                // Every text, once (later only what changed).
                w.sources = self
                    .db
                    .sources()?
                    .into_iter()
                    .map(|(p, t)| (p, Arc::from(t.as_str())))
                    .collect::<HashMap<_, _>>();
            } else {
                for (p, t) in &report.sources_written {
                    w.sources.insert(p.clone(), t.clone());
                }
                for p in &report.sources_removed {
                    w.sources.remove(p);
                }
            }
            if report.delta_rows == 0
                && !first
                && self
                    .snapshot
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .is_some()
            {
                return Ok((None, None));
            }
            let t_snap = Instant::now();
            let parts = w.indexer.parts();
            let sources = &w.sources;
            let retriever = Retriever::build(
                &parts,
                &|p| sources.get(p).map(|t| &**t),
                &mut w.cache,
                &ploke_retrieve::Scope::Workspace,
            );
            let update = Update {
                generation: report.generation,
                files: report.changed_files.clone(),
                rows: report.delta_rows,
                items: report.items_changed,
                targets: report.rebuilt_targets,
                ms: 0.0,
                index_ms,
                snapshot_ms: t_snap.elapsed().as_secs_f64() * 1000.0,
            };
            Ok((
                Some(Snapshot::new(report.generation, retriever)),
                Some(update),
            ))
        })?;
        let (Some(snap), Some(mut update)) = (snap, update) else {
            return Ok(false);
        };
        // Vectors already known join at once; those of changed items once embedded.
        if let Ok(Some((vectors, _))) = self.usable_vectors(ploke_retrieve::Mode::Hybrid) {
            snap.retriever.attach_vectors(vectors);
        }
        self.swap_snapshot(Arc::new(snap));
        update.ms = since.elapsed().as_secs_f64() * 1000.0;
        self.events.emit(Event::Updated(update));
        Ok(true)
    }

    fn save_live_cache(&self) {
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = guard.as_mut() {
            w.indexer.save_cache();
        }
    }

    /// Embeds what the current snapshot holds without a vector, and brings the shared
    /// vectors in step (background thread of the live index).
    fn embed_live(&self) {
        let (Some(config), Some(embedder)) = (self.settings.embed.as_ref(), self.embedder()) else {
            return;
        };
        // An index without vectors yet gets this model's.
        match self.db.get_meta(EMBED_MODEL_KEY) {
            Ok(Some(m)) if m != embedder.model_id() => return,
            Ok(_) => {}
            Err(e) => {
                self.events.warn(format!("embedding: {e}"));
                return;
            }
        }
        let Ok(snap) = self.snapshot() else { return };
        let t = Instant::now();
        let embedded = match self.embed_corpus(&snap.retriever.corpus, &embedder, config.batch_size)
        {
            Ok(s) => s.stats.embedded,
            Err(e) => {
                self.events
                    .warn(self.redact(&format!("embedding changed items: {e}")));
                return;
            }
        };
        match self.usable_vectors(ploke_retrieve::Mode::Hybrid) {
            Ok(Some((vectors, _))) => {
                // The newest snapshot (another update may have come meanwhile).
                let now = self.snapshot().unwrap_or(snap);
                if let Err(e) = vectors.sync(&now.retriever.corpus, &self.db) {
                    self.events.warn(format!("loading vectors: {e}"));
                    return;
                }
                now.retriever.attach_vectors(vectors);
            }
            Ok(None) => return,
            Err(e) => {
                self.events.warn(e.to_string());
                return;
            }
        }
        if embedded > 0 {
            self.events.emit(Event::Embedded {
                items: embedded,
                ms: t.elapsed().as_secs_f64() * 1000.0,
            });
        }
    }
}
