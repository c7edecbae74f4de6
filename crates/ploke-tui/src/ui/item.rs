//! The item screen: a header (kind, path, place, signature, docs), the highlighted source
//! (only the lines in view are drawn) and the item's neighbours grouped by relation, the
//! way `State.item.graph` lays them out: module and parent, callers, callees, the traits it
//! implements and its implementations.

use ploke_app::{Relation, State};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{code_spans, empty, fit, fit_start, pane, selectable, spinner, theme};
use crate::view::{Highlighted, Target, ViewState};

/// The order the neighbour groups are listed in.
const GROUPS: [(Relation, &str); 6] = [
    (Relation::Module, "module"),
    (Relation::Parent, "parent"),
    (Relation::Caller, "callers"),
    (Relation::Callee, "callees"),
    (Relation::Implements, "implements"),
    (Relation::Implementation, "implementations"),
];

/// The neighbours (indices into `State.item.graph.nodes`) in the order they are listed.
pub(crate) fn neighbours(state: &State) -> Vec<usize> {
    let nodes = &state.item.graph.nodes;
    GROUPS
        .iter()
        .flat_map(|(rel, _)| (0..nodes.len()).filter(move |&i| nodes[i].relation == *rel))
        .collect()
}

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let it = &state.item;
    let Some(cur) = &it.current else {
        if it.loading {
            empty(
                frame,
                area,
                &[&format!("{} loading the item…", spinner(view))],
            );
        } else if let Some(e) = &it.error {
            empty(frame, area, &[e.as_str()]);
        } else {
            empty(
                frame,
                area,
                &[
                    "No item open.",
                    "Search (1) and press Enter on a result, or open one from Modules (3).",
                ],
            );
        }
        return;
    };
    let header = header_lines(state, view, area.width as usize, area.height >= 20);
    let [top, body] = Layout::vertical([
        Constraint::Length(header.len() as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(area);
    let title = Line::from(vec![
        Span::raw(" "),
        Span::styled(cur.item.kind.clone(), theme::KIND),
        Span::raw(" "),
        Span::styled(cur.item.name.clone(), theme::PATH),
        Span::raw(" "),
    ]);
    frame.render_widget(
        Paragraph::new(header)
            .wrap(Wrap { trim: false })
            .block(pane(title, false)),
        top,
    );
    let (source, side) = if body.width >= 90 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)])
            .areas(body);
        (a, b)
    } else {
        let [a, b] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(body);
        (a, b)
    };
    source_pane(frame, source, state, view);
    neighbour_pane(frame, side, state, view);
}

fn header_lines(state: &State, view: &ViewState, width: usize, docs: bool) -> Vec<Line<'static>> {
    let it = &state.item;
    let Some(cur) = &it.current else {
        return Vec::new();
    };
    let i = &cur.item;
    let mut place = vec![
        Span::styled(i.path.clone(), theme::PATH),
        Span::styled("  ", theme::DIM),
        Span::styled(
            format!("{}:{}-{}", i.file, i.start_line, i.end_line),
            theme::FILE,
        ),
    ];
    let mut tags = Vec::new();
    if !cur.visibility.is_empty() {
        tags.push(cur.visibility.clone());
    }
    if let Some(p) = &i.package {
        tags.push(format!("package {p}"));
    }
    if i.dependency {
        tags.push(format!("dependency {}", i.version.as_deref().unwrap_or("")));
    }
    if cur.is_test || i.test {
        tags.push("test".into());
    }
    if !cur.cfg.is_empty() {
        tags.push(format!("cfg({})", cur.cfg));
    }
    if !tags.is_empty() {
        place.push(Span::styled(format!("  {}", tags.join(" · ")), theme::DIM));
    }
    let (back, fwd) = (it.back.len(), it.forward.len());
    if back + fwd > 0 {
        place.push(Span::styled(format!("  ◀ {back} ▶ {fwd}"), theme::DIM));
    }
    if it.loading {
        place.push(Span::styled(format!("  {}", spinner(view)), theme::WARN));
    }
    let mut lines = vec![Line::from(place)];
    if !cur.signature.is_empty() {
        let sig = super::one_line(&cur.signature);
        let hl = ploke_app::highlight::highlight(&sig);
        let spans: Vec<Span<'static>> = code_spans(hl.iter().map(|(r, c)| (&sig[r.clone()], *c)))
            .into_iter()
            .map(|s| Span::styled(s.content.into_owned(), s.style))
            .collect();
        lines.push(Line::from(spans));
    }
    let doc_lines = if docs { 2 } else { 0 };
    for d in cur
        .docs
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(doc_lines)
    {
        lines.push(Line::styled(
            fit(d.trim(), width.saturating_sub(2)),
            theme::code(ploke_app::highlight::Class::DocComment),
        ));
    }
    if let Some(e) = &it.error {
        lines.push(Line::styled(super::one_line(e), theme::ERROR));
    }
    lines
}

fn source_pane(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let Some(cur) = &state.item.current else {
        return;
    };
    // The cached lines when sync ran for this item, else classed now.
    let fresh;
    let hl = match &view.item.lines {
        Some(h) if h.is_of(&cur.item.id, &cur.source) => h,
        _ => {
            fresh = Highlighted::of(&cur.item.id, &cur.source);
            &fresh
        }
    };
    let total = hl.lines.len();
    let inner_h = area.height.saturating_sub(2) as usize;
    let start = view.item.source.start(inner_h, total);
    let end = (start + inner_h).min(total);
    let first = cur.item.start_line as usize;
    let title = if total <= inner_h {
        format!(" source · {} lines ", total)
    } else {
        format!(
            " source · lines {}-{} of {}-{} ",
            first + start,
            first + end.saturating_sub(1),
            first,
            first + total - 1
        )
    };
    let block = pane(title, false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    view.mark(inner, Target::Source);
    if cur.source.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "(no source text: a crate root, or a file the index holds no text of)",
                theme::DIM,
            )),
            inner,
        );
        return;
    }
    let gutter = (cur.item.start_line as usize + total).to_string().len();
    let lines: Vec<Line> = hl.lines[start..end]
        .iter()
        .enumerate()
        .map(|(k, pieces)| {
            let n = cur.item.start_line as usize + start + k;
            let mut spans = vec![Span::styled(format!("{n:>gutter$} "), theme::NUMBER)];
            if start + k == 0 && !cur.indent.is_empty() {
                spans.push(Span::raw(cur.indent.replace('\t', "    ")));
            }
            spans.extend(code_spans(
                pieces
                    .iter()
                    .map(|(r, c)| (hl.source.get(r.clone()).unwrap_or(""), *c)),
            ));
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn neighbour_pane(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let g = &state.item.graph;
    let order = neighbours(state);
    let block = pane(format!(" neighbours ({}) ", order.len()), true);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // Rows: a heading per group, then its nodes.
    enum Row {
        Heading(String),
        Node(usize),
        Note(String),
    }
    let mut rows = Vec::new();
    let mut k = 0;
    for (rel, label) in GROUPS {
        let n = g.nodes.iter().filter(|n| n.relation == rel).count();
        if n == 0 {
            continue;
        }
        rows.push(Row::Heading(format!("{label} ({n})")));
        for _ in 0..n {
            rows.push(Row::Node(k));
            k += 1;
        }
    }
    if g.hidden > 0 {
        rows.push(Row::Note(format!("+{} more not shown", g.hidden)));
    }
    if let Some(cur) = &state.item.current {
        if !cur.unresolved_calls.is_empty() {
            rows.push(Row::Heading(format!(
                "unresolved calls ({})",
                cur.unresolved_calls.len()
            )));
            for u in &cur.unresolved_calls {
                rows.push(Row::Note(u.clone()));
            }
        }
    }
    if rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no callers, callees or relations", theme::DIM)),
            inner,
        );
        return;
    }
    let height = inner.height as usize;
    // Keep the selected node's row in view (the list counts nodes; rows add headings).
    let sel_row = rows
        .iter()
        .position(|r| matches!(r, Row::Node(k) if *k == view.item.list.selected))
        .unwrap_or(0);
    let mut off = view
        .item
        .list
        .offset
        .get()
        .min(rows.len().saturating_sub(height));
    if sel_row < off {
        // Show the group's heading with its first node.
        off = sel_row.saturating_sub(1);
    } else if sel_row >= off + height {
        off = sel_row + 1 - height;
    }
    view.item.list.offset.set(off);
    view.item.list.page.set(height.saturating_sub(2).max(1));
    let w = inner.width as usize;
    // The names as wide as the longest (within reason), the places after them.
    let longest = g
        .nodes
        .iter()
        .map(|n| n.item.name.chars().count())
        .max()
        .unwrap_or(8);
    let name_w = longest.clamp(8, w.saturating_sub(14).max(8));
    let loc_w = w.saturating_sub(2 + name_w + 1);
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(r, row)| match row {
            Row::Heading(h) => Line::styled(h.clone(), theme::HEADING),
            Row::Note(n) => Line::styled(fit(&format!("  {n}"), w), theme::DIM),
            Row::Node(k) => {
                let node = &g.nodes[order[*k]];
                let selected = *k == view.item.list.selected;
                view.mark(
                    Rect::new(inner.x, inner.y + (r - off) as u16, inner.width, 1),
                    Target::Neighbour(*k),
                );
                let loc = match node.line {
                    Some(l) => format!("{}:{l}", node.item.file),
                    None => format!("{}:{}", node.item.file, node.item.start_line),
                };
                selectable(
                    Line::from(vec![
                        Span::raw(if selected { "▶ " } else { "  " }),
                        Span::styled(fit(&node.item.name, name_w), theme::PATH),
                        Span::raw(" "),
                        Span::styled(fit_start(&loc, loc_w), theme::FILE),
                    ]),
                    selected,
                )
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
