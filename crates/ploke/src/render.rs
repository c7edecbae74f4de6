//! Rendering for a terminal: one-line errors, progress bars, paths a person can click.

use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use ploke_session::{Event, EventSink};

/// Whether the error is a write to a closed stdout (a pipe whose reader went away).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line: each cause once (a message that already contains
/// its cause's text does not repeat it), line breaks folded, secrets hidden.
pub fn error_line(e: &anyhow::Error, secrets: &[&str]) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let msg = cause.to_string();
        let msg = msg.split_whitespace().collect::<Vec<_>>().join(" ");
        if msg.is_empty() || text.contains(&msg) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&msg);
    }
    ploke_core::redact::redact(&text, secrets)
}

/// `file` (relative to `root`) as a path relative to the current directory, so that a
/// terminal or an editor can open it.
pub fn shown_path(root: &Path, file: &str) -> String {
    let abs = root.join(file);
    let Ok(cwd) = std::env::current_dir() else {
        return abs.display().to_string();
    };
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    relative(&abs, &cwd).display().to_string()
}

/// `path` relative to `base` (both absolute), with `..` where needed.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Shows events on stderr: progress bars on a terminal (unless `quiet`), warnings always,
/// information with `-v`.
pub struct TerminalEvents {
    bar: Arc<Mutex<Option<ProgressBar>>>,
    bars: bool,
    verbose: u8,
}

impl TerminalEvents {
    pub fn new(verbose: u8, quiet: bool) -> TerminalEvents {
        TerminalEvents {
            bar: Arc::new(Mutex::new(None)),
            bars: !quiet && std::io::stderr().is_terminal(),
            verbose,
        }
    }

    /// The sink to subscribe to a session.
    pub fn sink(&self) -> EventSink {
        let (slot, bars, verbose) = (self.bar.clone(), self.bars, self.verbose);
        Arc::new(move |ev: &Event| {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            let say = |slot: &Option<ProgressBar>, line: String| match slot {
                Some(b) => b.suspend(|| eprintln!("{line}")),
                None => eprintln!("{line}"),
            };
            match ev {
                Event::Stage { stage, total } if bars => {
                    let b = slot.get_or_insert_with(|| {
                        let b = ProgressBar::new(0);
                        b.set_style(
                            ProgressStyle::with_template(
                                "{spinner} {msg:>9} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                        );
                        b
                    });
                    b.set_message(stage.clone());
                    b.set_length(*total);
                    b.set_position(0);
                }
                Event::Progress { done, total, .. } if bars => {
                    if let Some(b) = slot.as_ref() {
                        b.set_length(*total);
                        b.set_position(*done);
                    }
                }
                Event::Warning { message } => say(&slot, format!("warning: {message}")),
                Event::Info { message } if verbose > 0 => say(&slot, format!("note: {message}")),
                _ => {}
            }
        })
    }

    /// Clears the progress bar, if one is drawn.
    pub fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_where_needed() {
        let p = Path::new("/ws/crates/a/src/lib.rs");
        assert_eq!(
            relative(p, Path::new("/ws")),
            PathBuf::from("crates/a/src/lib.rs")
        );
        assert_eq!(
            relative(p, Path::new("/ws/crates/b")),
            PathBuf::from("../a/src/lib.rs")
        );
        assert_eq!(
            relative(p, Path::new("/ws/crates/a/src/lib.rs")),
            PathBuf::from(".")
        );
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "No such file or directory (os error 2)",
        );
        let e = anyhow::Error::new(io).context("reading x: No such file or directory (os error 2)");
        assert_eq!(
            error_line(&e, &[]),
            "reading x: No such file or directory (os error 2)"
        );
        let e = anyhow::anyhow!("multi\nline").context("key sk-planted-1 leaked");
        assert_eq!(
            error_line(&e, &["sk-planted-1"]),
            "key <redacted> leaked: multi line"
        );
    }
}
