//! The context screen: the request, the budget with a gauge of the tokens the pack takes,
//! the pack's items (role, kind, name, place, tokens, why it is there) and the selected
//! item's text.

use ploke_app::State;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};
use ratatui::Frame;

use super::{code_spans, empty, fit, fit_start, input_pane, pane, selectable, spinner, theme};
use crate::view::{Target, ViewState};

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let [input, info, gauge, rest] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let editing = view.context.editing && !view.help;
    input_pane(
        frame,
        input,
        if editing {
            "Request (Enter packs, Esc done)"
        } else {
            "Request (/ edits)"
        },
        &view.context.input,
        "what you are about to ask a model",
        editing,
    );
    let p = &state.pack;
    let mut spans = vec![
        Span::styled(" budget ", theme::DIM),
        Span::styled(format!("{} tokens", p.budget), theme::PATH),
        Span::styled(" (+/-)", theme::KEY),
    ];
    if let Some(pack) = &p.pack {
        let mut roles: Vec<(String, usize)> = Vec::new();
        for it in &pack.items {
            let r = it.role.as_str().to_string();
            match roles.iter_mut().find(|(n, _)| *n == r) {
                Some((_, c)) => *c += 1,
                None => roles.push((r, 1)),
            }
        }
        let roles: Vec<String> = roles.iter().map(|(r, c)| format!("{c} {r}")).collect();
        spans.push(Span::styled(
            format!(
                " · {} items: {} · {} omitted · {} ms",
                pack.items.len(),
                roles.join(", "),
                pack.omitted,
                p.took.as_millis()
            ),
            theme::DIM,
        ));
    }
    if p.busy {
        spans.push(Span::styled(
            format!("  {} packing…", spinner(view)),
            theme::WARN,
        ));
    }
    if let Some(e) = &p.error {
        spans.push(Span::styled(
            format!("  {}", super::one_line(e)),
            theme::ERROR,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), info);
    let Some(pack) = &p.pack else {
        if !p.busy {
            empty(
                frame,
                rest,
                &[
                    "Type a request and press Enter: the pack is the code ploke would send a model with it,",
                    "the best items whole, then outlines of their neighbours, within the budget.",
                ],
            );
        }
        return;
    };
    let ratio = if pack.budget == 0 {
        0.0
    } else {
        (pack.tokens as f64 / pack.budget as f64).clamp(0.0, 1.0)
    };
    frame.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(format!(
                "{} / {} tokens ({:.0}%)",
                pack.tokens,
                pack.budget,
                ratio * 100.0
            ))
            .gauge_style(Style::new().fg(Color::Green).bg(Color::Black))
            .use_unicode(true),
        gauge,
    );
    let [list, preview] =
        Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(rest);
    items(frame, list, state, view);
    preview_pane(frame, preview, state, view);
}

fn items(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let Some(pack) = &state.pack.pack else {
        return;
    };
    let block = pane(
        format!(" pack: {} items ", pack.items.len()),
        !view.context.editing,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height as usize;
    let off = view.context.list.scroll(height, pack.items.len());
    let w = inner.width as usize;
    let (role_w, kind_w, tok_w) = (10, 7, 6);
    let loc_w = (w / 5).clamp(10, 30);
    let rest = w.saturating_sub(2 + role_w + kind_w + loc_w + tok_w + 3);
    let name_w = rest / 2;
    let reason_w = rest - name_w;
    let lines: Vec<Line> = pack
        .items
        .iter()
        .enumerate()
        .skip(off)
        .take(height)
        .map(|(n, it)| {
            let selected = n == view.context.list.selected;
            view.mark(
                Rect::new(inner.x, inner.y + (n - off) as u16, inner.width, 1),
                Target::PackRow(n),
            );
            let role_style = match it.role.as_str() {
                "primary" => theme::OK,
                "outline" => theme::WARN,
                _ => theme::HUNK,
            };
            selectable(
                Line::from(vec![
                    Span::raw(if selected { "▶ " } else { "  " }),
                    Span::styled(fit(it.role.as_str(), role_w), role_style),
                    Span::styled(fit(it.kind.as_str(), kind_w), theme::KIND),
                    Span::raw(" "),
                    Span::styled(fit_start(&it.name, name_w), theme::PATH),
                    Span::raw(" "),
                    Span::styled(
                        fit_start(&format!("{}:{}", it.file, it.start_line), loc_w),
                        theme::FILE,
                    ),
                    Span::styled(format!("{:>tok_w$}", it.tokens), theme::NUMBER),
                    Span::raw(" "),
                    Span::styled(fit(&it.reason, reason_w), theme::DIM),
                ]),
                selected,
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn preview_pane(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let Some(it) = state
        .pack
        .pack
        .as_ref()
        .and_then(|p| p.items.get(view.context.list.selected))
    else {
        return;
    };
    let inner_h = area.height.saturating_sub(2) as usize;
    let hl = ploke_app::highlight::lines(&it.text);
    let start = view.context.preview.start(inner_h, hl.len());
    let block = pane(
        Line::from(vec![
            Span::raw(" "),
            Span::styled(it.path.clone(), theme::PATH),
            Span::styled(format!(" · {} ", it.role.as_str()), theme::DIM),
        ]),
        false,
    );
    let inner = block.inner(area);
    frame.render_widget(block, area);
    view.mark(inner, Target::PackPreview);
    let lines: Vec<Line> = hl
        .into_iter()
        .skip(start)
        .take(inner_h)
        .map(|pieces| Line::from(code_spans(pieces.into_iter().map(|p| (p.text, p.class)))))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
