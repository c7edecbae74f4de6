//! The search screen: the query line, a summary with the filters, and the results (kind,
//! path, file and line, score, and a bar per ranking signal), drawn a screenful at a time.

use ploke_app::{State, TestFilter};
use ploke_session::SearchHit;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Color;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{bar, empty, fit, fit_start, input_pane, spinner, theme};
use crate::view::{Target, ViewState};

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let [input, summary, list] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    input_pane(
        frame,
        input,
        "Search",
        &view.search.input,
        "type to search the workspace",
        !view.help,
    );
    frame.render_widget(Paragraph::new(summary_line(state, view)), summary);
    let s = &state.search;
    if s.query.trim().is_empty() {
        empty(
            frame,
            list,
            &[
                "Type to search the workspace's items: names, paths, docs and code.",
                "↑↓ select · Enter opens a result · Ctrl-K kind · Ctrl-T tests · Ctrl-R crate",
            ],
        );
        return;
    }
    if s.shown.is_empty() {
        if !s.busy && s.error.is_none() {
            let line = if s.hits.is_empty() {
                format!("No results for “{}”.", s.answered)
            } else {
                format!(
                    "No result passes the filters ({} hidden): Ctrl-K, Ctrl-T, Ctrl-R change them.",
                    s.hits.len()
                )
            };
            empty(frame, list, &[&line]);
        }
        return;
    }
    rows(frame, list, state, view);
}

fn summary_line(state: &State, view: &ViewState) -> Line<'static> {
    let s = &state.search;
    let mut spans = Vec::new();
    if let Some(e) = &s.error {
        spans.push(Span::styled(
            format!(" {} ", super::one_line(e)),
            theme::ERROR,
        ));
    } else if !s.answered.is_empty() {
        let count = if s.shown.len() == s.hits.len() {
            format!(" {} results", s.hits.len())
        } else {
            format!(" {} of {} results", s.shown.len(), s.hits.len())
        };
        spans.push(Span::styled(count, theme::PATH));
        spans.push(Span::styled(
            format!(" · {} ms ", s.took.as_millis()),
            theme::DIM,
        ));
    } else {
        spans.push(Span::raw(" "));
    }
    let f = &s.filters;
    let kind = f.kinds.iter().cloned().collect::<Vec<_>>().join(",");
    let filter = |name: &'static str, value: String, on: bool| {
        [
            Span::styled(format!(" {name} "), theme::DIM),
            Span::styled(value, if on { theme::FLASH } else { theme::DIM }),
        ]
    };
    spans.extend(filter(
        "kind",
        if kind.is_empty() { "all".into() } else { kind },
        !f.kinds.is_empty(),
    ));
    let tests = match f.tests {
        TestFilter::All => "all",
        TestFilter::Exclude => "excluded",
        TestFilter::Only => "only",
    };
    spans.extend(filter("tests", tests.into(), f.tests != TestFilter::All));
    spans.extend(filter(
        "crate",
        f.crate_name.clone().unwrap_or_else(|| "all".into()),
        f.crate_name.is_some(),
    ));
    if s.busy {
        spans.push(Span::styled(
            format!("  {} searching…", spinner(view)),
            theme::WARN,
        ));
    }
    Line::from(spans)
}

/// Column widths for a row `w` wide: kind, path, location, score, signals.
fn columns(w: usize) -> [usize; 5] {
    let (kind, score, signals) = (8, 6, 9);
    let loc = (w / 4).clamp(12, 36);
    // A marker column and a space between columns.
    let path = w.saturating_sub(1 + kind + loc + score + signals + 4);
    [kind, path, loc, score, signals]
}

fn rows(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let s = &state.search;
    if area.height < 2 {
        return;
    }
    let w = area.width as usize;
    let [kw, pw, lw, sw, gw] = columns(w);
    let header = format!(
        " {} {} {} {} {}",
        fit("kind", kw),
        fit("path", pw),
        fit("file:line", lw),
        fit(" score", sw),
        fit("signals", gw)
    );
    let buf = frame.buffer_mut();
    buf.set_string(area.x, area.y, fit(&header, w), theme::DIM);
    let list = Rect::new(area.x, area.y + 1, area.width, area.height - 1);
    let height = list.height as usize;
    let off = view.search.list.scroll(height, s.shown.len());
    let lines: Vec<Line> = s.shown[off..(off + height).min(s.shown.len())]
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let n = off + k;
            let selected = n == view.search.list.selected;
            view.mark(
                Rect::new(list.x, list.y + k as u16, list.width, 1),
                Target::SearchRow(n),
            );
            row(&s.hits[i], selected, [kw, pw, lw, sw, gw])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}

fn row(hit: &SearchHit, selected: bool, [kw, pw, lw, sw, _]: [usize; 5]) -> Line<'static> {
    let it = &hit.item;
    let mut path = it.path.clone();
    if it.test {
        path.push_str(" ·test");
    }
    if it.dependency {
        path.push_str(&format!(" ·{}", it.version.as_deref().unwrap_or("dep")));
    }
    let loc = if it.dependency {
        format!("{}:{}", hit.package_file, it.start_line)
    } else {
        format!("{}:{}", it.file, it.start_line)
    };
    let sig = &hit.signals;
    let signal = |letter: &'static str, v: f32, color: Color| {
        [
            Span::styled(letter, theme::DIM),
            Span::styled(bar(v), ratatui::style::Style::new().fg(color)),
            Span::raw(" "),
        ]
    };
    let mut spans = vec![
        Span::raw(if selected { "▶" } else { " " }),
        Span::styled(
            fit(&it.kind, kw),
            if it.test { theme::DIM } else { theme::KIND },
        ),
        Span::raw(" "),
        Span::styled(fit_start(&path, pw), theme::PATH),
        Span::raw(" "),
        Span::styled(fit_start(&loc, lw), theme::FILE),
        Span::raw(" "),
        Span::styled(format!("{:>w$.2}", hit.score, w = sw), theme::NUMBER),
        Span::raw(" "),
    ];
    spans.extend(signal("L", sig.lexical, Color::Yellow));
    spans.extend(signal("D", sig.dense, Color::Cyan));
    spans.extend(signal("G", sig.graph, Color::Magenta));
    super::selectable(Line::from(spans), selected)
}
