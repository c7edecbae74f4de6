//! The review screen: the edit under way, its files (accepted or rejected, lines added and
//! removed) and the selected file's diff with line numbers; then what applying and
//! `cargo check` did.

use ploke_app::diff::{self, LineKind};
use ploke_app::{EditPhase, State};
use ploke_session::{AppliedEdit, CheckOutcome, ReviewFile};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{empty, fit_start, pane, selectable, spinner, theme, wrap};
use crate::view::{Target, ViewState};

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let ed = &state.edit;
    let w = area.width.saturating_sub(2) as usize;
    let mut head: Vec<Line> = Vec::new();
    if !ed.request.is_empty() {
        head.push(Line::from(vec![
            Span::styled("edit › ", theme::FLASH),
            Span::styled(super::one_line(&ed.request), theme::PATH),
        ]));
    }
    let phase = match &ed.phase {
        EditPhase::Idle => ("no edit under way".to_string(), theme::DIM),
        EditPhase::Proposing => (
            format!("{} the model is proposing edits…", spinner(view)),
            theme::WARN,
        ),
        EditPhase::Review { files, .. } => {
            let acc = files.iter().filter(|f| f.accepted).count();
            (
                format!(
                    "review: {acc} of {} files accepted · a applies them · d discards",
                    files.len()
                ),
                theme::HEADING,
            )
        }
        EditPhase::Applying => (format!("{} applying…", spinner(view)), theme::WARN),
        EditPhase::Applied(a) => (
            format!(
                "applied (edit #{}) · c runs cargo check · u undoes it",
                a.entry
            ),
            theme::OK,
        ),
        EditPhase::Checking(_) => (format!("{} cargo check…", spinner(view)), theme::WARN),
        EditPhase::Checked { outcome, .. } => match outcome {
            CheckOutcome::Passed => ("cargo check passed · u undoes the edit".into(), theme::OK),
            CheckOutcome::Failed { repair: true, .. } => (
                "cargo check failed: the errors went back to the model for a repair".into(),
                theme::ERROR,
            ),
            CheckOutcome::Failed { repair: false, .. } => (
                "cargo check failed (no repair rounds left) · u undoes the edit".into(),
                theme::ERROR,
            ),
        },
    };
    let mut status = vec![Span::styled(phase.0, phase.1)];
    if ed.round > 0 {
        status.push(Span::styled(
            format!(" · repair round {}", ed.round),
            theme::DIM,
        ));
    }
    head.push(Line::from(status));
    if let EditPhase::Review {
        summary, changed, ..
    } = &ed.phase
    {
        for l in wrap(summary.trim(), w).into_iter().take(3) {
            head.push(Line::raw(l));
        }
        if !changed.is_empty() {
            head.push(Line::styled(
                format!(
                    "changed on disk since the last review, diff made again: {}",
                    changed.join(", ")
                ),
                theme::WARN,
            ));
        }
    }
    if let Some(e) = &ed.error {
        head.push(Line::styled(super::one_line(e), theme::ERROR));
    }
    let [top, body] = Layout::vertical([
        Constraint::Length(head.len() as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(head).block(pane(" Edit ", false)), top);
    match &ed.phase {
        EditPhase::Review { files, .. } => review(frame, body, files, view),
        EditPhase::Idle => {
            let mut lines = vec![
                "Ask for an edit in Chat (5) with Ctrl-E: the proposal shows here, file by file.",
                "u undoes the newest applied edit.",
            ];
            let undone;
            if let Some(u) = &ed.undone {
                undone = u.clone();
                lines.insert(0, &undone);
            }
            empty(frame, body, &lines);
        }
        EditPhase::Proposing | EditPhase::Applying | EditPhase::Checking(_) => {}
        EditPhase::Applied(a) => applied(frame, body, a, None, view),
        EditPhase::Checked {
            applied: a,
            outcome,
        } => applied(frame, body, a, Some(outcome), view),
    }
}

fn review(frame: &mut Frame, area: Rect, files: &[ReviewFile], view: &ViewState) {
    let list_w = (area.width / 3).clamp(20, 48).min(area.width);
    let [list, diff_area] =
        Layout::horizontal([Constraint::Length(list_w), Constraint::Min(0)]).areas(area);
    let block = pane(format!(" files ({}) ", files.len()), true);
    let inner = block.inner(list);
    frame.render_widget(block, list);
    let height = inner.height as usize;
    let off = view.review.list.scroll(height, files.len());
    let w = inner.width as usize;
    let lines: Vec<Line> = files
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(n, f)| {
            let selected = n == view.review.list.selected;
            view.mark(
                Rect::new(inner.x, inner.y + (n - off) as u16, inner.width, 1),
                Target::ReviewFile(n),
            );
            let (add, del) = diff::counts(&f.diff);
            let counts = format!(" +{add} -{del}");
            let mark = if f.accepted { "[✓] " } else { "[ ] " };
            let path_w = w.saturating_sub(5 + counts.len() + if f.new_file { 4 } else { 0 });
            let mut spans = vec![
                Span::raw(if selected { "▶" } else { " " }),
                Span::styled(mark, if f.accepted { theme::OK } else { theme::ERROR }),
                Span::styled(
                    fit_start(&f.path, path_w),
                    if f.accepted { theme::PATH } else { theme::DIM },
                ),
                Span::styled(format!(" +{add}"), theme::ADDED),
                Span::styled(format!(" -{del}"), theme::REMOVED),
            ];
            if f.new_file {
                spans.push(Span::styled(" new", theme::WARN));
            }
            selectable(Line::from(spans), selected)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some(f) = files.get(view.review.list.selected) {
        diff_pane(frame, diff_area, f, view);
    }
}

fn diff_pane(frame: &mut Frame, area: Rect, f: &ReviewFile, view: &ViewState) {
    let lines = diff::lines(&f.diff);
    let inner_h = area.height.saturating_sub(2) as usize;
    let start = view.review.diff.start(inner_h, lines.len());
    let (add, del) = diff::counts(&f.diff);
    let title = Line::from(vec![
        Span::raw(" "),
        Span::styled(f.path.clone(), theme::PATH),
        Span::styled(format!(" +{add}"), theme::ADDED),
        Span::styled(format!(" -{del} "), theme::REMOVED),
        Span::styled(
            if f.accepted { "accepted " } else { "rejected " },
            if f.accepted { theme::OK } else { theme::ERROR },
        ),
    ]);
    let block = pane(title, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    view.mark(inner, Target::Diff);
    let num_w = lines
        .iter()
        .filter_map(|l| l.old.max(l.new))
        .max()
        .unwrap_or(1)
        .to_string()
        .len();
    let num = |n: Option<u32>| n.map_or(" ".repeat(num_w), |n| format!("{n:>num_w$}"));
    let shown: Vec<Line> = lines
        .iter()
        .skip(start)
        .take(inner_h)
        .map(|l| {
            let text = l.text.replace('\t', "    ");
            match l.kind {
                LineKind::Header => Line::styled(text, theme::DIM),
                LineKind::Hunk => Line::styled(text, theme::HUNK),
                LineKind::Note => Line::styled(text, theme::DIM),
                kind => {
                    let (mark, style) = match kind {
                        LineKind::Added => ("+", theme::ADDED),
                        LineKind::Removed => ("-", theme::REMOVED),
                        _ => (" ", ratatui::style::Style::new()),
                    };
                    Line::from(vec![
                        Span::styled(format!("{} {} ", num(l.old), num(l.new)), theme::NUMBER),
                        Span::styled(format!("{mark}{text}"), style),
                    ])
                }
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

fn applied(
    frame: &mut Frame,
    area: Rect,
    a: &AppliedEdit,
    outcome: Option<&CheckOutcome>,
    view: &ViewState,
) {
    let mut lines = vec![Line::styled(
        format!("edit #{} wrote {} file(s):", a.entry, a.files.len()),
        theme::OK,
    )];
    for f in &a.files {
        lines.push(Line::styled(format!("  {f}"), theme::PATH));
    }
    match outcome {
        None => lines.push(Line::styled(
            "c runs cargo check on it · u undoes it · a new request in Chat (5) starts another",
            theme::DIM,
        )),
        Some(CheckOutcome::Passed) => lines.push(Line::styled("cargo check: passed", theme::OK)),
        Some(CheckOutcome::Failed { errors, .. }) => {
            lines.push(Line::styled("cargo check: failed", theme::ERROR));
            for l in errors.lines() {
                lines.push(Line::styled(l.to_string(), theme::ERROR));
            }
        }
    }
    let block = pane(" applied ", false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    view.mark(inner, Target::Diff);
    let start = view.review.diff.start(inner.height as usize, lines.len());
    let shown: Vec<Line> = lines.into_iter().skip(start).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
