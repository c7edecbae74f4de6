//! The chat screen: the conversation (requests, tool calls as they happen, the answer as it
//! streams, code in fences highlighted, a footer per turn) and the request line.

use ploke_app::{State, TurnKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{code_spans, empty, input_pane, pane, spinner, theme, wrap};
use crate::view::{Target, ViewState};

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let [talk, input] = Layout::vertical([Constraint::Min(0), Constraint::Length(3)]).areas(area);
    let st = &state.settings;
    let title = Line::from(vec![
        Span::raw(" chat · "),
        Span::styled(format!("{} {}", st.provider, st.model), theme::PATH),
        Span::styled(
            if st.key_set {
                " · key set "
            } else {
                " · no API key "
            },
            theme::DIM,
        ),
    ]);
    let block = pane(title, false);
    let inner = block.inner(talk);
    frame.render_widget(block, talk);
    view.mark(inner, Target::Transcript);
    let busy = state.chat.busy;
    input_pane(
        frame,
        input,
        if busy {
            "Request (the model is answering: Esc cancels)"
        } else {
            "Request (Enter asks, Ctrl-E asks for an edit)"
        },
        &view.chat.input,
        "ask about the code, or describe an edit",
        !view.help,
    );
    if state.chat.turns.is_empty() {
        empty(
            frame,
            inner,
            &[
                "Ask about the code (Enter), or ask for an edit (Ctrl-E): the model reads the index",
                "with its tools; an edit ends in the review screen (6), where you accept each file.",
            ],
        );
        return;
    }
    let lines = transcript(state, view, inner.width as usize);
    let height = inner.height as usize;
    // `pos` counts lines up from the end.
    let up = view.chat.scroll.start(height, lines.len());
    let max = lines.len().saturating_sub(height);
    let start = max - up;
    let shown: Vec<Line> = lines.into_iter().skip(start).take(height).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

fn transcript(state: &State, view: &ViewState, w: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let n = state.chat.turns.len();
    for (i, t) in state.chat.turns.iter().enumerate() {
        let (who, style) = match t.kind {
            TurnKind::Ask => ("ask › ", theme::KEY),
            TurnKind::Edit => ("edit › ", theme::FLASH),
        };
        for (k, l) in wrap(&t.request, w.saturating_sub(who.len()).max(8))
            .into_iter()
            .enumerate()
        {
            let lead = if k == 0 {
                who.to_string()
            } else {
                " ".repeat(who.len())
            };
            out.push(Line::from(vec![
                Span::styled(lead, style),
                Span::styled(l, theme::PATH),
            ]));
        }
        for tool in &t.tools {
            let result = match tool.chars {
                Some(c) => format!(" → {c} chars"),
                None => " …".to_string(),
            };
            let text = format!("  ⚙ {} {}{}", tool.name, tool.arguments, result);
            for l in wrap(&text, w) {
                out.push(Line::styled(l, theme::HUNK));
            }
        }
        let mut fence = false;
        for raw in t.answer.trim_end().lines() {
            if raw.trim_start().starts_with("```") {
                fence = !fence;
                out.push(Line::styled(raw.to_string(), theme::DIM));
                continue;
            }
            if fence {
                let hl = ploke_app::highlight::highlight(raw);
                let spans: Vec<Span<'static>> =
                    code_spans(hl.iter().map(|(r, c)| (&raw[r.clone()], *c)))
                        .into_iter()
                        .map(|s| Span::styled(s.content.into_owned(), s.style))
                        .collect();
                out.push(Line::from(spans));
            } else {
                for l in wrap(raw, w) {
                    out.push(Line::raw(l));
                }
            }
        }
        let last = i + 1 == n;
        if last && state.chat.busy {
            let doing = match t.kind {
                TurnKind::Ask => "answering…",
                TurnKind::Edit => "proposing edits…",
            };
            out.push(Line::styled(
                format!("{} {doing} (Esc cancels)", spinner(view)),
                theme::WARN,
            ));
        }
        if let Some(e) = &t.error {
            for l in wrap(e, w) {
                out.push(Line::styled(l, theme::ERROR));
            }
        }
        if let Some(f) = &t.footer {
            for l in wrap(f, w) {
                out.push(Line::styled(l, theme::DIM));
            }
        }
        if !last {
            out.push(Line::raw(""));
        }
    }
    out
}
