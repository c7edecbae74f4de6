//! The status screen: the index (generation, files, items, vectors, freshness, size), the
//! watcher, the chat model's settings, the progress of an index run, and the notices.

use ploke_app::State;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Gauge, Paragraph};
use ratatui::Frame;

use super::{pane, spinner, theme, wrap};
use crate::view::{Target, ViewState};

pub(crate) fn draw(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let st = &state.status;
    let index = index_lines(state);
    let model = model_lines(state);
    let top_h = (index.len().max(model.len()) as u16 + 2).min(area.height / 2 + 2);
    let [top, progress, notices] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(top);
    frame.render_widget(
        Paragraph::new(index).block(pane(" Index (r updates, R rebuilds) ", false)),
        left,
    );
    frame.render_widget(
        Paragraph::new(model).block(pane(" Live index and model ", false)),
        right,
    );
    match &st.progress {
        Some(p) => {
            let label = match p.fraction() {
                Some(f) => format!("{} {}/{} ({:.0}%)", p.stage, p.done, p.total, f * 100.0),
                None => format!("{} {}", p.stage, p.done),
            };
            frame.render_widget(
                Gauge::default()
                    .ratio(p.fraction().unwrap_or(0.0) as f64)
                    .label(label)
                    .gauge_style(Style::new().fg(Color::Cyan).bg(Color::Black))
                    .use_unicode(true),
                progress,
            );
        }
        None if st.indexing => frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" {} indexing…", spinner(view)),
                theme::WARN,
            )),
            progress,
        ),
        None => {}
    }
    notice_pane(frame, notices, state, view);
}

fn row(name: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!(" {name:<12}"), theme::DIM),
        Span::raw(value.into()),
    ])
}

fn index_lines(state: &State) -> Vec<Line<'static>> {
    let st = &state.status;
    let mut out = vec![row("workspace", state.workspace.clone())];
    let Some(i) = &st.index else {
        out.push(row("index", "asking…"));
        return out;
    };
    out.push(row("directory", i.db.clone()));
    out.push(row("generation", i.generation.to_string()));
    out.push(row("files", i.files.to_string()));
    out.push(row("items", i.items.to_string()));
    out.push(row(
        "vectors",
        match &i.model {
            Some(m) => format!("{} of {} ({m})", i.embedded, i.embeddable),
            None => "none (lexical and graph search only)".into(),
        },
    ));
    if let Some(t) = i.written_at {
        out.push(row("written", utc(t)));
    }
    let fresh = match (i.changed_files, i.workspace_changed) {
        (Some(0), false) => Span::styled("up to date", theme::OK),
        (Some(n), changed) => Span::styled(
            format!(
                "{n} file(s) changed since{}",
                if changed {
                    ", and the workspace's layout"
                } else {
                    ""
                }
            ),
            theme::WARN,
        ),
        (None, _) => Span::styled("unknown", theme::DIM),
    };
    out.push(Line::from(vec![
        Span::styled(format!(" {:<12}", "freshness"), theme::DIM),
        fresh,
    ]));
    out.push(row("size", format!("{:.1} MB", i.db_bytes as f64 / 1e6)));
    if !i.dependencies.is_empty() {
        out.push(row(
            "deps",
            format!("{} attached (read-only)", i.dependencies.len()),
        ));
    }
    out
}

fn model_lines(state: &State) -> Vec<Line<'static>> {
    let st = &state.status;
    let s = &state.settings;
    let watch = if st.watching {
        Span::styled("on (w stops)", theme::OK)
    } else if let Some(other) = st.index.as_ref().and_then(|i| i.live_elsewhere.clone()) {
        Span::styled(format!("off here; kept live by {other}"), theme::DIM)
    } else {
        Span::styled("off (w starts it)", theme::DIM)
    };
    let mut out = vec![Line::from(vec![
        Span::styled(format!(" {:<12}", "watching"), theme::DIM),
        watch,
    ])];
    if let Some(u) = &st.last_update {
        out.push(row(
            "last update",
            format!(
                "gen {}: {} file(s), {} items, {:.0} ms",
                u.generation,
                u.files.len(),
                u.items,
                u.ms
            ),
        ));
    }
    if let Some(x) = &st.last_index {
        let ms: f64 = x.stages_ms.iter().map(|(_, ms)| ms).sum();
        out.push(row(
            "last index",
            format!("{} files, {} items in {ms:.0} ms", x.files, x.items),
        ));
    }
    out.push(Line::raw(""));
    out.push(row("provider", s.provider.clone()));
    out.push(row("model", s.model.clone()));
    if !s.base_url.is_empty() {
        out.push(row("url", s.base_url.clone()));
    }
    out.push(row("api key", if s.key_set { "set" } else { "not set" }));
    out.push(row(
        "embeddings",
        s.embed.clone().unwrap_or_else(|| "off".into()),
    ));
    out
}

fn notice_pane(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let block = pane(format!(" Notices ({}) ", state.notices.len()), false);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    view.mark(inner, Target::Notices);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    for n in &state.notices {
        let (mark, style) = if n.warning {
            ("! ", theme::WARN)
        } else {
            ("· ", Style::new())
        };
        for (k, l) in wrap(&n.text, w.saturating_sub(2)).into_iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(if k == 0 { mark } else { "  " }, style),
                Span::styled(l, style),
            ]));
        }
    }
    if lines.is_empty() {
        lines.push(Line::styled("nothing to report", theme::DIM));
    }
    let height = inner.height as usize;
    let up = view.status.notices.start(height, lines.len());
    let start = lines.len().saturating_sub(height) - up;
    let shown: Vec<Line> = lines.into_iter().skip(start).take(height).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// Seconds since the Unix epoch as `2024-05-01 12:00 UTC`.
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_in_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(1_714_564_800), "2024-05-01 12:00 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00 UTC");
    }
}
