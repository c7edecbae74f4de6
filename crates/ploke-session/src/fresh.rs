//! Answers that match the files: before a one-shot command answers, the files changed since
//! the index was written are indexed again (a stat of every indexed file finds them; see
//! [`ploke_index::freshness`]). When a live index in another process (`ploke watch`,
//! `ploke mcp`) holds the index, that one takes the changes in; the command waits briefly
//! for it instead of writing beside it.

use std::time::{Duration, Instant};

use ploke_db::lock::{Wait, WriteLock};
use ploke_index::{Changes, Freshness};
use serde::Serialize;

use crate::events::IndexProgress;
use crate::live::WATCH_LOCK_FILE;
use crate::{Session, SessionError};

/// How long a command waits for another process's live index to take in changed files.
const FOLLOW_WAIT: Duration = Duration::from_secs(2);
/// How long a command waits for another process that is writing the index.
const WRITE_WAIT: Duration = Duration::from_secs(30);

/// What [`Session::refresh`] found and did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "refresh", rename_all = "snake_case")]
pub enum Refresh {
    /// The index matches the files (or this session keeps it live).
    Current,
    /// This process indexed the files changed since the index was written.
    Reindexed {
        /// The changed files, workspace-relative (every file when the workspace itself
        /// changed: a manifest, a new target).
        files: Vec<String>,
        /// Whether the whole workspace was read again (a manifest or target changed, or the
        /// index did not record what it was built from).
        whole: bool,
        /// Milliseconds spent, embedding included.
        ms: f64,
    },
    /// The live index of another process took the changes in.
    Followed {
        /// That process.
        holder: String,
        /// Milliseconds waited.
        ms: f64,
    },
    /// The live index of another process holds the index and has not taken the changes in
    /// yet: the answer comes from the stored state.
    Behind {
        /// That process.
        holder: String,
        /// Files changed that it has not indexed yet.
        files: usize,
    },
}

/// Where the index stands against the files, without changing anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Staleness {
    /// Files changed (or gone) since the index was written, workspace-relative; `None` when
    /// the index does not record what it was built from.
    pub changed: Option<Vec<String>>,
    /// Whether a manifest or a target directory changed (the workspace is read again).
    pub workspace_changed: bool,
}

impl Session {
    /// Which indexed files changed since the index was written (a stat of each; cheap).
    pub fn staleness(&self) -> Result<Staleness, SessionError> {
        let generation = self.db.generation()?;
        Ok(
            match ploke_index::freshness(&self.loc.db_dir, &self.loc.root, generation) {
                Freshness::Fresh => Staleness {
                    changed: Some(Vec::new()),
                    workspace_changed: false,
                },
                Freshness::Stale {
                    changed,
                    rediscover,
                } => Staleness {
                    changed: Some(changed.iter().map(|p| self.relative(p)).collect()),
                    workspace_changed: rediscover,
                },
                Freshness::Unknown => Staleness {
                    changed: None,
                    workspace_changed: false,
                },
            },
        )
    }

    /// The process that keeps this index live, if another one does.
    pub fn live_holder(&self) -> Option<String> {
        ploke_db::lock::holder(&self.loc.db_dir, WATCH_LOCK_FILE)
    }

    /// Brings the index up to date with the files before an answer: indexes the files
    /// changed since it was written (and, with `embed`, embeds their items), or, when a
    /// live index in another process holds it, waits briefly for that one. Nothing to do
    /// costs a stat of every indexed file. `embed` embeds the changed items when the index
    /// holds vectors.
    pub fn refresh(&self, embed: bool) -> Result<Refresh, SessionError> {
        if self.live.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(Refresh::Current);
        }
        let start = Instant::now();
        let stale = self.staleness()?;
        let (paths, whole) = match &stale.changed {
            Some(c) if c.is_empty() && !stale.workspace_changed => return Ok(Refresh::Current),
            Some(c) => (
                c.iter().map(|f| self.loc.root.join(f)).collect::<Vec<_>>(),
                stale.workspace_changed,
            ),
            None => (Vec::new(), true),
        };
        if let Some(holder) = self.live_holder() {
            let generation = self.db.generation()?;
            while start.elapsed() < FOLLOW_WAIT {
                std::thread::sleep(Duration::from_millis(20));
                if self.db.generation()? != generation {
                    let now = self.staleness()?;
                    if now.changed.as_ref().is_some_and(|c| c.is_empty()) {
                        return Ok(Refresh::Followed {
                            holder,
                            ms: start.elapsed().as_secs_f64() * 1000.0,
                        });
                    }
                }
            }
            return Ok(Refresh::Behind {
                holder,
                files: paths.len(),
            });
        }
        let progress = IndexProgress::new(&self.events);
        let report = self.with_writer(|w| {
            let waiting = |who: &str| {
                self.events
                    .info(format!("waiting for {who} to finish writing the index"))
            };
            let lock = WriteLock::acquire(
                &self.loc.db_dir,
                &self.opts.holder,
                Wait::Up(WRITE_WAIT, &waiting),
            )?;
            self.recover_edits(&lock)?;
            let changes = if whole {
                Changes::All
            } else {
                Changes::Paths(paths.clone())
            };
            let report = w.indexer.refresh_locked(&lock, changes, &progress)?;
            drop(lock);
            w.indexer.save_cache();
            Ok(report)
        })?;
        let files: Vec<String> = if whole {
            report.changed_files.clone()
        } else {
            paths.iter().map(|p| self.relative(p)).collect()
        };
        // Embed the changed items only where the index holds vectors already (an index built
        // without embeddings stays without).
        if embed && self.db.get_meta(crate::EMBED_MODEL_KEY)?.is_some() {
            if let Err(e) = self.embed_stage() {
                self.events.warn(self.redact(&format!(
                    "embedding the changed items failed: {e}; they are found by the lexical and graph signals"
                )));
            }
        }
        Ok(Refresh::Reindexed {
            files,
            whole,
            ms: start.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// `path` relative to the workspace root (as the index names files).
    fn relative(&self, path: &std::path::Path) -> String {
        path.strip_prefix(&self.loc.root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/")
    }
}
