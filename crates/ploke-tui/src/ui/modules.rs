//! The modules screen: the workspace's crates and their module trees with item counts,
//! expanded and collapsed by the user.

use ploke_app::State;
use ploke_session::ModuleEntry;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{empty, fit, fit_start, pane, selectable, theme};
use crate::view::{Target, ViewState};

/// A row of the tree as drawn.
pub(crate) struct Row<'a> {
    pub entry: &'a ModuleEntry,
    pub depth: usize,
    /// The row of its crate or module.
    pub parent: Option<usize>,
}

/// The rows the tree shows: every crate, and the children of each expanded entry.
pub(crate) fn rows<'a>(state: &'a State, view: &ViewState) -> Vec<Row<'a>> {
    fn walk<'a>(
        e: &'a ModuleEntry,
        depth: usize,
        parent: Option<usize>,
        view: &ViewState,
        out: &mut Vec<Row<'a>>,
    ) {
        let me = out.len();
        out.push(Row {
            entry: e,
            depth,
            parent,
        });
        if view.modules.expanded.contains(&e.item.id) {
            for c in &e.children {
                walk(c, depth + 1, Some(me), view, out);
            }
        }
    }
    let mut out = Vec::new();
    for e in &state.outline {
        walk(e, 0, None, view, &mut out);
    }
    out
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let total: usize = state.outline.iter().map(|e| e.total).sum();
    let block = pane(
        format!(
            " {} crates · {} items (per row: items in it, with its submodules) ",
            state.outline.len(),
            total
        ),
        true,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if state.outline.is_empty() {
        empty(frame, inner, &["No crates indexed yet (see Status, 7)."]);
        return;
    }
    let rows = rows(state, view);
    let height = inner.height as usize;
    let off = view.modules.list.scroll(height, rows.len());
    let w = inner.width as usize;
    let file_w = (w / 3).clamp(10, 40);
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(n, r)| {
            let selected = n == view.modules.list.selected;
            view.mark(
                Rect::new(inner.x, inner.y + (n - off) as u16, inner.width, 1),
                Target::ModuleRow(n),
            );
            let e = r.entry;
            let mark = if e.children.is_empty() {
                "  "
            } else if view.modules.expanded.contains(&e.item.id) {
                "▾ "
            } else {
                "▸ "
            };
            let indent = "  ".repeat(r.depth);
            let counts = format!("{:>6} {:>7}", e.items, e.total);
            let name_w = w.saturating_sub(indent.len() + 2 + counts.len() + file_w + 3);
            let name_style = if r.depth == 0 {
                theme::HEADING
            } else {
                theme::PATH
            };
            selectable(
                Line::from(vec![
                    Span::raw(indent),
                    Span::styled(mark, theme::DIM),
                    Span::styled(fit(&e.item.name, name_w), name_style),
                    Span::raw(" "),
                    Span::styled(counts, theme::NUMBER),
                    Span::raw("  "),
                    Span::styled(fit_start(&e.item.file, file_w), theme::FILE),
                ]),
                selected,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
