//! A drawn frame as an SVG picture, for the README's screenshots: one background rectangle
//! per run of cells with the same background, one `<text>` per run with the same style
//! (stretched to its cells, so columns line up whatever the viewer's monospace font).
//! Colours are the 16 ANSI colours of a common dark terminal theme.

use std::fmt::Write as _;

use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// Cell width and height in SVG units; the font size that fills them.
const CW: usize = 9;
const CH: usize = 18;
const FONT: usize = 15;
const FG: &str = "#d4d4d4";
const BG: &str = "#1e1e1e";

/// `buf` as an SVG document.
pub fn to_svg(buf: &Buffer) -> String {
    let area = buf.area;
    let (w, h) = (area.width as usize * CW, area.height as usize * CH);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT}">"#
    );
    let _ = writeln!(out, r#"<rect width="{w}" height="{h}" fill="{BG}"/>"#);
    for y in 0..area.height {
        let cells: Vec<&Cell> = (0..area.width)
            .map(|x| &buf[(area.x + x, area.y + y)])
            .collect();
        // A wide character's second cell is drawn by the first, in its look.
        let mut looks: Vec<Look> = Vec::with_capacity(cells.len());
        let mut covered = vec![false; cells.len()];
        for x in 0..cells.len() {
            let behind = (1..x.min(3) + 1).find(|&k| cells[x - k].symbol().width() > k);
            match behind {
                Some(k) => {
                    covered[x] = true;
                    looks.push(looks[x - k].clone());
                }
                None => looks.push(Look::of(cells[x])),
            }
        }
        let top = y as usize * CH;
        // Backgrounds.
        let mut x = 0;
        while x < cells.len() {
            let bg = &looks[x].bg;
            let start = x;
            while x < cells.len() && looks[x].bg == *bg {
                x += 1;
            }
            if bg != BG {
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{top}" width="{}" height="{CH}" fill="{bg}"/>"#,
                    start * CW,
                    (x - start) * CW
                );
            }
        }
        // Text, by runs of one style (blank cells at either end left out); a wide
        // character covers the cell after it.
        let mut x = 0;
        while x < cells.len() {
            let look = looks[x].clone();
            let mut start = x;
            while x < cells.len() && looks[x].text_style() == look.text_style() {
                x += 1;
            }
            let blank = |i: usize| !covered[i] && cells[i].symbol().trim().is_empty();
            let mut end = x;
            while start < end && blank(start) {
                start += 1;
            }
            while end > start && blank(end - 1) {
                end -= 1;
            }
            if start == end {
                continue;
            }
            let text: String = (start..end)
                .filter(|&i| !covered[i])
                .map(|i| cells[i].symbol())
                .collect();
            let mut attrs = format!(r#" fill="{}""#, look.fg);
            if look.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if look.italic {
                attrs.push_str(r#" font-style="italic""#);
            }
            if look.dim {
                attrs.push_str(r#" opacity="0.7""#);
            }
            if look.underline {
                attrs.push_str(r#" text-decoration="underline""#);
            }
            let _ = writeln!(
                out,
                r#"<text x="{}" y="{}" textLength="{}" lengthAdjust="spacingAndGlyphs" xml:space="preserve"{attrs}>{}</text>"#,
                start * CW,
                top + CH * 3 / 4,
                (end - start) * CW,
                escape(&text)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// How a cell looks once reversing is applied.
#[derive(Debug, Clone, PartialEq)]
struct Look {
    fg: String,
    bg: String,
    bold: bool,
    italic: bool,
    dim: bool,
    underline: bool,
}

impl Look {
    fn of(c: &Cell) -> Look {
        let mut fg = colour(c.fg).unwrap_or_else(|| FG.to_string());
        let mut bg = colour(c.bg).unwrap_or_else(|| BG.to_string());
        if c.modifier.contains(Modifier::REVERSED) {
            std::mem::swap(&mut fg, &mut bg);
        }
        Look {
            fg,
            bg,
            bold: c.modifier.contains(Modifier::BOLD),
            italic: c.modifier.contains(Modifier::ITALIC),
            dim: c.modifier.contains(Modifier::DIM),
            underline: c.modifier.contains(Modifier::UNDERLINED),
        }
    }

    fn text_style(&self) -> (&str, bool, bool, bool, bool) {
        (&self.fg, self.bold, self.italic, self.dim, self.underline)
    }
}

/// A terminal colour as `#rrggbb` (`None`: the default).
fn colour(c: Color) -> Option<String> {
    let hex = match c {
        Color::Reset => return None,
        Color::Black => "#000000",
        Color::Red => "#cd3131",
        Color::Green => "#0dbc79",
        Color::Yellow => "#e5e510",
        Color::Blue => "#2472c8",
        Color::Magenta => "#bc3fbc",
        Color::Cyan => "#11a8cd",
        Color::Gray => "#e5e5e5",
        Color::DarkGray => "#767676",
        Color::LightRed => "#f14c4c",
        Color::LightGreen => "#23d18b",
        Color::LightYellow => "#f5f543",
        Color::LightBlue => "#3b8eea",
        Color::LightMagenta => "#d670d6",
        Color::LightCyan => "#29b8db",
        Color::White => "#ffffff",
        Color::Rgb(r, g, b) => return Some(format!("#{r:02x}{g:02x}{b:02x}")),
        Color::Indexed(i) => return Some(indexed(i)),
    };
    Some(hex.to_string())
}

/// An xterm 256-colour index as `#rrggbb`.
fn indexed(i: u8) -> String {
    const BASE: [Color; 16] = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::Gray,
        Color::DarkGray,
        Color::LightRed,
        Color::LightGreen,
        Color::LightYellow,
        Color::LightBlue,
        Color::LightMagenta,
        Color::LightCyan,
        Color::White,
    ];
    match i {
        0..=15 => colour(BASE[i as usize]).unwrap_or_else(|| FG.to_string()),
        16..=231 => {
            let n = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            format!(
                "#{:02x}{:02x}{:02x}",
                level(n / 36),
                level(n / 6 % 6),
                level(n % 6)
            )
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            format!("#{v:02x}{v:02x}{v:02x}")
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn runs_of_one_style_become_one_text() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 8, 1));
        buf.set_string(0, 0, "ab", Style::new().fg(Color::Red));
        buf.set_string(2, 0, "<c", Style::new().bg(Color::Blue));
        let svg = to_svg(&buf);
        assert!(svg.contains(r##"fill="#cd3131">ab</text>"##), "{svg}");
        assert!(svg.contains(r##"fill="#d4d4d4">&lt;c</text>"##), "{svg}");
        assert!(
            svg.contains(r##"<rect x="18" y="0" width="18" height="18" fill="#2472c8"/>"##),
            "{svg}"
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }

    #[test]
    fn reversed_cells_swap_colours_and_wide_chars_cover_two_cells() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        buf.set_string(0, 0, "日x", Style::new().add_modifier(Modifier::REVERSED));
        let svg = to_svg(&buf);
        assert!(svg.contains(r##"fill="#1e1e1e">日x</text>"##), "{svg}");
        assert!(
            svg.contains(r##"width="27" height="18" fill="#d4d4d4""##),
            "{svg}"
        );
        assert_eq!(indexed(196), "#ff0000");
        assert_eq!(indexed(244), "#808080");
    }
}
