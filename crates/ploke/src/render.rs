//! Rendering for a terminal: one-line errors, progress bars, paths a person can click,
//! colour where it helps (following `--color`, `NO_COLOR` and whether the stream is a
//! terminal; never escape codes into a file or a pipe).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use anstyle::{AnsiColor, Style};

use indicatif::{ProgressBar, ProgressStyle};
use ploke_session::{Event, EventSink};

/// The colours of the output.
pub mod style {
    use super::{AnsiColor, Style};

    pub const KIND: Style = AnsiColor::Cyan.on_default();
    pub const PATH: Style = Style::new().bold();
    pub const FILE: Style = AnsiColor::Magenta.on_default();
    pub const LINE: Style = AnsiColor::Green.on_default();
    pub const SCORE: Style = Style::new().dimmed();
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
    pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
    pub const ADDED: Style = AnsiColor::Green.on_default();
    pub const REMOVED: Style = AnsiColor::Red.on_default();
    pub const HUNK: Style = AnsiColor::Cyan.on_default();
    pub const HEADER: Style = Style::new().bold().underline();
}

/// Sets the colour choice of the whole process from `--color` (`auto` leaves it to
/// `NO_COLOR`, `CLICOLOR_FORCE` and whether each stream is a terminal).
pub fn init_color(when: crate::cli::ColorWhen) {
    let choice = match when {
        crate::cli::ColorWhen::Auto => anstream::ColorChoice::Auto,
        crate::cli::ColorWhen::Always => anstream::ColorChoice::Always,
        crate::cli::ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Whether what goes to stderr is coloured.
pub fn stderr_colored() -> bool {
    anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
}

/// `text` in `style` (the escape codes are removed on the way out where colour is off).
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// `error: …` on stderr.
pub fn error(e: &dyn std::fmt::Display) {
    let _ = writeln_stderr(format!("{}: {e}", paint(style::ERROR, "error")));
}

/// `warning: …` on stderr.
pub fn warning(msg: impl std::fmt::Display) {
    let _ = writeln_stderr(format!("{}: {msg}", paint(style::WARN, "warning")));
}

/// `note: …` on stderr.
pub fn note(msg: impl std::fmt::Display) {
    let _ = writeln_stderr(format!("{}: {msg}", paint(style::NOTE, "note")));
}

fn writeln_stderr(line: String) -> std::io::Result<()> {
    use std::io::Write;
    let mut err = anstream::stderr().lock();
    writeln!(err, "{line}")
}

/// A unified diff with added, removed and hunk lines coloured.
pub fn diff(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let st = if line.starts_with("+++") || line.starts_with("---") {
            style::PATH
        } else if line.starts_with('+') {
            style::ADDED
        } else if line.starts_with('-') {
            style::REMOVED
        } else if line.starts_with("@@") {
            style::HUNK
        } else {
            out.push_str(line);
            continue;
        };
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        out.push_str(&paint(st, body));
        out.push_str(nl);
    }
    out
}

/// `file:line:col` locations relative to the current directory, the form terminals and
/// editors open with a click; the column is where the line's text starts (each file is
/// read once).
#[derive(Default)]
pub struct Places {
    lines: HashMap<String, Option<Vec<u32>>>,
}

impl Places {
    /// `file` (workspace-relative, under `root`) at `line`, painted.
    pub fn at(&mut self, root: &Path, file: &str, line: u32) -> String {
        let cols = self.lines.entry(file.to_string()).or_insert_with(|| {
            let text = std::fs::read_to_string(root.join(file)).ok()?;
            Some(
                text.lines()
                    .map(|l| (l.chars().take_while(|c| c.is_whitespace()).count() + 1) as u32)
                    .collect(),
            )
        });
        let col = cols
            .as_ref()
            .and_then(|c| c.get(line.saturating_sub(1) as usize).copied())
            .unwrap_or(1);
        format!(
            "{}:{}",
            paint(style::FILE, shown_path(root, file)),
            paint(style::LINE, format!("{line}:{col}"))
        )
    }
}

/// A list of files for a message: the first `shown` and how many more.
pub fn files_line(files: &[String], shown: usize) -> String {
    let mut s = files
        .iter()
        .take(shown)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > shown {
        s.push_str(&format!(" and {} more", files.len() - shown));
    }
    s
}

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
/// terminal or an editor can open it; a dependency's file (outside the workspace, in cargo's
/// cache) as its absolute path.
pub fn shown_path(root: &Path, file: &str) -> String {
    if ploke_core::is_dependency_path(file) {
        return file.to_string();
    }
    let abs = if file.is_empty() {
        root.to_path_buf()
    } else {
        root.join(file)
    };
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

/// Shows events on stderr: progress bars on a terminal (unless `no_bars`), warnings unless
/// `quiet`, information with `-v`.
pub struct TerminalEvents {
    bar: Arc<Mutex<Option<ProgressBar>>>,
    bars: bool,
    verbose: u8,
    quiet: bool,
}

impl TerminalEvents {
    pub fn new(verbose: u8, quiet: bool, no_bars: bool) -> TerminalEvents {
        TerminalEvents {
            bar: Arc::new(Mutex::new(None)),
            bars: !no_bars && std::io::stderr().is_terminal(),
            verbose,
            quiet,
        }
    }

    /// The sink to subscribe to a session.
    pub fn sink(&self) -> EventSink {
        let (slot, bars, verbose, quiet) = (self.bar.clone(), self.bars, self.verbose, self.quiet);
        Arc::new(move |ev: &Event| {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            let say = |slot: &Option<ProgressBar>, line: String| match slot {
                Some(b) => b.suspend(|| {
                    let _ = writeln_stderr(line);
                }),
                None => {
                    let _ = writeln_stderr(line);
                }
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
                Event::Warning { message } if !quiet => say(
                    &slot,
                    format!("{}: {message}", paint(style::WARN, "warning")),
                ),
                Event::Info { message } if verbose > 0 && !quiet => {
                    say(&slot, format!("{}: {message}", paint(style::NOTE, "note")))
                }
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
