//! What a session tells its front ends while it works: progress, warnings, index updates.
//! The CLI draws them as progress bars and `warning:` lines; a GUI, an editor or an MCP
//! client turns them into its own notifications. Libraries below print nothing.

use std::sync::{Arc, RwLock};

use serde::Serialize;

/// One thing worth telling the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A stage of a long operation started (`total` units, 0 when unknown).
    Stage {
        /// `discover`, `parse`, `resolve`, `write`, `embed`.
        stage: String,
        /// Units in this stage.
        total: u64,
    },
    /// Units of the current stage done so far.
    Progress {
        /// The stage.
        stage: String,
        /// Done.
        done: u64,
        /// Of.
        total: u64,
    },
    /// Something went wrong that did not stop the operation.
    Warning {
        /// One line.
        message: String,
    },
    /// Something the user may want to know.
    Info {
        /// One line.
        message: String,
    },
    /// The live index took in a change.
    Updated(Update),
    /// Vectors of changed items joined vector search.
    Embedded {
        /// Items embedded.
        items: usize,
        /// Wall time, milliseconds.
        ms: f64,
    },
}

/// One update of the live index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Update {
    /// The index generation after it.
    pub generation: u64,
    /// Files whose change it took in (workspace-relative).
    pub files: Vec<String>,
    /// Rows of the graph written or removed.
    pub rows: usize,
    /// Items written or removed (new, changed, moved or gone).
    pub items: usize,
    /// Targets whose part of the graph was built again.
    pub targets: usize,
    /// From the first event of the batch to the new snapshot, milliseconds ...
    pub ms: f64,
    /// ... of which bringing the index up to date (read, parse, resolve, write) ...
    pub index_ms: f64,
    /// ... and building the new search snapshot.
    pub snapshot_ms: f64,
}

/// Receives events. Called on whatever thread the work runs on: keep it short.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// The sinks of one session.
#[derive(Default, Clone)]
pub(crate) struct Events {
    sinks: Arc<RwLock<Vec<EventSink>>>,
}

impl Events {
    pub fn subscribe(&self, sink: EventSink) {
        self.sinks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(sink);
    }

    pub fn emit(&self, event: Event) {
        for s in self.sinks.read().unwrap_or_else(|e| e.into_inner()).iter() {
            s(&event);
        }
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.emit(Event::Warning {
            message: message.into(),
        });
    }

    pub fn info(&self, message: impl Into<String>) {
        self.emit(Event::Info {
            message: message.into(),
        });
    }
}

/// Index progress turned into events.
pub(crate) struct IndexProgress<'e> {
    pub events: &'e Events,
    pub stage: std::sync::Mutex<(&'static str, u64, u64)>,
}

impl<'e> IndexProgress<'e> {
    pub fn new(events: &'e Events) -> Self {
        IndexProgress {
            events,
            stage: std::sync::Mutex::new(("", 0, 0)),
        }
    }
}

impl ploke_index::Progress for IndexProgress<'_> {
    fn stage(&self, name: &'static str, total: u64) {
        *self.stage.lock().unwrap_or_else(|e| e.into_inner()) = (name, 0, total);
        self.events.emit(Event::Stage {
            stage: name.to_string(),
            total,
        });
    }

    fn inc(&self, n: u64) {
        let (stage, done, total) = {
            let mut s = self.stage.lock().unwrap_or_else(|e| e.into_inner());
            s.1 += n;
            *s
        };
        self.events.emit(Event::Progress {
            stage: stage.to_string(),
            done,
            total,
        });
    }

    fn waiting(&self, holder: &str) {
        self.events
            .info(format!("waiting for {holder} to finish writing the index"));
    }
}
