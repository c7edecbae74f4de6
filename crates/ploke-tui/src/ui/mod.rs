//! Drawing: [`draw`] paints one frame of a [`State`] and a [`ViewState`] (the tab bar, the
//! screen on view, a message line and the keys of the screen), nothing else. Every list
//! draws only the rows that fit, so a frame costs the same for 100 results as for 10,000.

pub(crate) mod chat;
pub(crate) mod context;
pub(crate) mod item;
pub(crate) mod modules;
pub(crate) mod review;
pub(crate) mod search;
pub(crate) mod status;

use ploke_app::highlight::Class;
use ploke_app::{EditPhase, State};
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::keys::{help_for, GLOBAL_KEYS};
use crate::view::{Screen, Target, ViewState};

/// Draws `state` as `view` shows it into `frame`.
pub fn draw(frame: &mut Frame, state: &State, view: &ViewState) {
    view.targets.borrow_mut().clear();
    let area = frame.area();
    if area.width < 10 || area.height < 4 {
        frame.render_widget(Paragraph::new("ploke: the terminal is too small"), area);
        return;
    }
    let [tabs, body, message, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    tab_bar(frame, tabs, state, view);
    match view.screen {
        Screen::Search => search::draw(frame, body, state, view),
        Screen::Item => item::draw(frame, body, state, view),
        Screen::Modules => modules::draw(frame, body, state, view),
        Screen::Context => context::draw(frame, body, state, view),
        Screen::Chat => chat::draw(frame, body, state, view),
        Screen::Review => review::draw(frame, body, state, view),
        Screen::Status => status::draw(frame, body, state, view),
    }
    message_line(frame, message, state, view);
    help_bar(frame, help, view);
    if view.help {
        help_overlay(frame, body, view);
    }
}

/// Whether a worker is on something the user waits for (the spinner turns).
pub(crate) fn busy(state: &State) -> bool {
    state.search.busy
        || state.item.loading
        || state.pack.busy
        || state.chat.busy
        || state.status.indexing
        || matches!(
            state.edit.phase,
            EditPhase::Proposing | EditPhase::Applying | EditPhase::Checking(_)
        )
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner's glyph for this frame.
pub(crate) fn spinner(view: &ViewState) -> &'static str {
    SPINNER[view.tick % SPINNER.len()]
}

fn tab_bar(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let buf = frame.buffer_mut();
    buf.set_style(area, theme::BAR);
    let mut x = area.x;
    let title = " ploke ";
    buf.set_string(x, area.y, title, theme::BAR.add_modifier(Modifier::BOLD));
    x += title.len() as u16;
    // Narrow: the other tabs by number only.
    let full: usize = Screen::ALL.iter().map(|s| s.title().len() + 4).sum();
    let compact = x as usize + full + 12 > area.right() as usize;
    for (i, s) in Screen::ALL.iter().enumerate() {
        let label = if compact && *s != view.screen {
            format!(" {} ", i + 1)
        } else {
            format!(" {} {} ", i + 1, s.title())
        };
        let w = label.len() as u16;
        if x + w > area.right() {
            break;
        }
        let style = if *s == view.screen {
            theme::TAB_ON
        } else {
            theme::BAR
        };
        buf.set_string(x, area.y, &label, style);
        view.mark(Rect::new(x, area.y, w, 1), Target::Tab(*s));
        x += w;
    }
    // The workspace (its end, which names it) and the spinner, at the right.
    let mut right = String::new();
    if busy(state) {
        right.push_str(spinner(view));
        right.push(' ');
    }
    right.push_str(&state.workspace);
    right.push(' ');
    let room = area.right().saturating_sub(x + 2) as usize;
    if room > 3 {
        let text = fit_start(&right, room.min(right.width()));
        let w = text.width() as u16;
        buf.set_string(area.right() - w, area.y, &text, theme::BAR);
    }
}

fn message_line(frame: &mut Frame, area: Rect, state: &State, view: &ViewState) {
    let (text, style) = if let Some(f) = &view.flash {
        (f.clone(), theme::FLASH)
    } else if let Some(n) = state.notices.last() {
        let style = if n.warning { theme::WARN } else { theme::DIM };
        (n.text.clone(), style)
    } else {
        (String::new(), theme::DIM)
    };
    let text = fit(&one_line(&text), area.width as usize);
    frame.render_widget(Paragraph::new(Span::styled(text, style)), area);
}

fn help_bar(frame: &mut Frame, area: Rect, view: &ViewState) {
    let keys = help_for(view);
    let mut spans = Vec::new();
    let mut used = 0usize;
    let max = area.width as usize;
    for (k, what) in keys.short {
        let w = k.width() + what.width() + 3;
        if used + w > max {
            break;
        }
        spans.push(Span::styled(format!(" {k}"), theme::KEY));
        spans.push(Span::styled(format!(" {what} "), theme::BAR));
        used += w;
    }
    let buf = frame.buffer_mut();
    buf.set_style(area, theme::BAR);
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme::BAR), area);
}

fn help_overlay(frame: &mut Frame, body: Rect, view: &ViewState) {
    let keys = help_for(view);
    let mut lines = vec![Line::styled(
        format!("{} screen", view.screen.title()),
        theme::HEADING,
    )];
    let kw = keys
        .full
        .iter()
        .chain(GLOBAL_KEYS)
        .map(|(k, _)| k.width())
        .max()
        .unwrap_or(0);
    for (k, what) in keys.full {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<kw$}  "), theme::KEY),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Everywhere", theme::HEADING));
    for (k, what) in GLOBAL_KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {k:<kw$}  "), theme::KEY),
            Span::raw(*what),
        ]));
    }
    let w = (lines.iter().map(Line::width).max().unwrap_or(20) as u16 + 4).min(body.width);
    let h = (lines.len() as u16 + 2).min(body.height);
    let area = Rect::new(
        body.x + (body.width - w) / 2,
        body.y + (body.height - h) / 2,
        w,
        h,
    );
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme::FOCUS)
                .title(" Keys (? or Esc closes) ")
                .title_alignment(Alignment::Center),
        ),
        area,
    );
}

/// A bordered pane titled `title`, its border bright when it has the keys.
pub(crate) fn pane(title: impl Into<Line<'static>>, focused: bool) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused { theme::FOCUS } else { theme::BORDER })
        .title(title)
}

/// A one-line text input in a bordered pane; places the terminal's cursor when `focused`.
pub(crate) fn input_pane(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    input: &crate::view::Input,
    placeholder: &str,
    focused: bool,
) {
    let block = pane(format!(" {title} "), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let prompt = "› ";
    let room = (inner.width as usize).saturating_sub(prompt.width() + 1);
    // Scroll sideways so that the cursor shows.
    let before: String = input.text.chars().take(input.cursor).collect();
    let skip_w = before.width().saturating_sub(room);
    let (shown, cursor_w) = skip_width(&input.text, skip_w, before.width());
    let line = if input.text.is_empty() {
        Line::from(vec![
            Span::styled(prompt, theme::KEY),
            Span::styled(placeholder.to_string(), theme::DIM),
        ])
    } else {
        Line::from(vec![Span::styled(prompt, theme::KEY), Span::raw(shown)])
    };
    frame.render_widget(Paragraph::new(line), inner);
    if focused {
        let x = inner.x + (prompt.width() + cursor_w) as u16;
        frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
    }
}

/// `s` without its first `skip` columns, and the cursor's column (`at` columns into `s`)
/// within what is left.
fn skip_width(s: &str, skip: usize, at: usize) -> (String, usize) {
    let mut w = 0;
    let mut out = String::new();
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w >= skip {
            out.push(c);
        }
        w += cw;
    }
    (out, at - skip)
}

/// An empty screen's explanation, centred.
pub(crate) fn empty(frame: &mut Frame, area: Rect, lines: &[&str]) {
    let text: Vec<Line> = lines
        .iter()
        .map(|l| Line::styled(l.to_string(), theme::DIM))
        .collect();
    let h = text.len() as u16;
    let area = Rect::new(
        area.x,
        area.y + area.height.saturating_sub(h) / 2,
        area.width,
        h.min(area.height),
    );
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// The text's first line (a message drawn on one row).
pub(crate) fn one_line(s: &str) -> String {
    let mut it = s.lines();
    let first = it.next().unwrap_or("").to_string();
    if it.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}

/// `s` in exactly `w` columns: cut with `…`, or padded.
pub(crate) fn fit(s: &str, w: usize) -> String {
    let sw = s.width();
    if sw <= w {
        return format!("{s}{}", " ".repeat(w - sw));
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w - 1 {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    used += 1;
    out.push_str(&" ".repeat(w.saturating_sub(used)));
    out
}

/// `s` in at most `w` columns, cut at the start (`…ry::retry_delay`): the end of a path
/// names it.
pub(crate) fn fit_start(s: &str, w: usize) -> String {
    let sw = s.width();
    if sw <= w {
        return format!("{s}{}", " ".repeat(w - sw));
    }
    if w == 0 {
        return String::new();
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let cw = c.width().unwrap_or(0);
        if used + cw > w - 1 {
            break;
        }
        tail.push(c);
        used += cw;
    }
    let mut out = String::from("…");
    out.extend(tail.into_iter().rev());
    out.push_str(&" ".repeat(w.saturating_sub(used + 1)));
    out
}

/// `text` wrapped at word boundaries into lines of at most `w` columns (its own line
/// breaks kept; a word longer than a line is cut).
pub(crate) fn wrap(text: &str, w: usize) -> Vec<String> {
    let w = w.max(1);
    let mut out = Vec::new();
    for para in text.split('\n') {
        // A paragraph's indentation starts each of its lines.
        let body = para.trim_start_matches(' ');
        let indent = &para[..para.len() - body.len()];
        let iw = indent.len().min(w / 2);
        let indent = &indent[..iw];
        let w = w - iw;
        let start = out.len();
        let mut line = String::new();
        let mut lw = 0;
        for word in body.split(' ') {
            let word = word.replace('\t', "    ");
            let ww = word.width();
            if lw > 0 && lw + 1 + ww > w {
                out.push(std::mem::take(&mut line));
                lw = 0;
            } else if lw > 0 {
                line.push(' ');
                lw += 1;
            }
            if ww > w {
                // A long word: cut it into lines.
                for c in word.chars() {
                    let cw = c.width().unwrap_or(0);
                    if lw + cw > w {
                        out.push(std::mem::take(&mut line));
                        lw = 0;
                    }
                    line.push(c);
                    lw += cw;
                }
            } else {
                line.push_str(&word);
                lw += ww;
            }
        }
        out.push(line);
        if !indent.is_empty() {
            for l in &mut out[start..] {
                l.insert_str(0, indent);
            }
        }
    }
    out
}

/// Highlighted pieces of one source line as spans (tabs as four spaces).
pub(crate) fn code_spans<'a>(pieces: impl Iterator<Item = (&'a str, Class)>) -> Vec<Span<'a>> {
    pieces
        .map(|(text, class)| {
            let style = theme::code(class);
            if text.contains('\t') {
                Span::styled(text.replace('\t', "    "), style)
            } else {
                Span::styled(text, style)
            }
        })
        .collect()
}

/// `line` as a list row: the selected row is one solid bar, its own colours dropped.
pub(crate) fn selectable(line: Line<'_>, selected: bool) -> Line<'_> {
    if !selected {
        return line;
    }
    Line::from(
        line.spans
            .into_iter()
            .map(|s| Span::styled(s.content, theme::SELECTED))
            .collect::<Vec<_>>(),
    )
    .style(theme::SELECTED)
}

/// A horizontal bar of `value` in `[0, 1]` in one cell.
pub(crate) fn bar(value: f32) -> &'static str {
    const BARS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
    let v = if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    };
    BARS[(v * 8.0).round() as usize]
}

/// Colours and emphasis, in the 16 colours every terminal (and every SSH client) has.
pub(crate) mod theme {
    use super::*;

    pub const BAR: Style = Style::new().fg(Color::White).bg(Color::Blue);
    pub const TAB_ON: Style = Style::new()
        .fg(Color::Black)
        .bg(Color::White)
        .add_modifier(Modifier::BOLD);
    pub const KEY: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    pub const DIM: Style = Style::new().fg(Color::DarkGray);
    pub const FLASH: Style = Style::new()
        .fg(Color::LightYellow)
        .add_modifier(Modifier::BOLD);
    pub const WARN: Style = Style::new().fg(Color::Yellow);
    pub const ERROR: Style = Style::new().fg(Color::LightRed);
    pub const OK: Style = Style::new().fg(Color::LightGreen);
    pub const HEADING: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    pub const BORDER: Style = Style::new().fg(Color::DarkGray);
    pub const FOCUS: Style = Style::new().fg(Color::Cyan);
    pub const SELECTED: Style = Style::new().add_modifier(Modifier::REVERSED);
    pub const PATH: Style = Style::new().fg(Color::White).add_modifier(Modifier::BOLD);
    pub const KIND: Style = Style::new().fg(Color::Magenta);
    pub const FILE: Style = Style::new().fg(Color::Blue);
    pub const NUMBER: Style = Style::new().fg(Color::DarkGray);
    pub const ADDED: Style = Style::new().fg(Color::Green);
    pub const REMOVED: Style = Style::new().fg(Color::Red);
    pub const HUNK: Style = Style::new().fg(Color::Cyan);

    /// The colour of a class of Rust source.
    pub fn code(class: Class) -> Style {
        match class {
            Class::Plain | Class::Punct => Style::new(),
            Class::Keyword => Style::new().fg(Color::Magenta),
            Class::Type => Style::new().fg(Color::Yellow),
            Class::Function => Style::new().fg(Color::Blue),
            Class::Macro => Style::new().fg(Color::Cyan),
            Class::Str => Style::new().fg(Color::Green),
            Class::Number => Style::new().fg(Color::LightRed),
            Class::Comment => Style::new().fg(Color::DarkGray),
            Class::DocComment => Style::new().fg(Color::Gray).add_modifier(Modifier::ITALIC),
            Class::Lifetime => Style::new().fg(Color::LightCyan),
            Class::Attribute => Style::new().fg(Color::LightMagenta),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_cuts_and_pads_by_columns() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit_start("a::b::cdef", 6), "…:cdef");
        assert_eq!(fit("日本語", 4), "日… ");
        assert_eq!(fit("x", 0), "");
    }

    #[test]
    fn wrapping_keeps_words_and_line_breaks() {
        assert_eq!(wrap("one two three", 8), ["one two", "three"]);
        assert_eq!(wrap("a\n\nb", 8), ["a", "", "b"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("  one two", 7), ["  one", "  two"]);
    }

    #[test]
    fn bars_span_zero_to_one() {
        assert_eq!(bar(0.0), " ");
        assert_eq!(bar(1.0), "█");
        assert_eq!(bar(f32::NAN), " ");
        assert_eq!(bar(2.0), "█");
    }
}
