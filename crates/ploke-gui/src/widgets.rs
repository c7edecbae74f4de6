//! Small pieces the views share: badges, one-line truncated text, section headings, the
//! signal bars of a search result, and the formatting of counts, sizes and times.

use std::sync::Arc;
use std::time::Duration;

use egui::text::{LayoutJob, TextFormat, TextWrapping};
use egui::{Color32, FontId, Galley, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2};

use crate::theme::Palette;

/// The mark before the name: a small diamond.
pub(crate) fn logo(ui: &mut Ui, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(16.0), Sense::hover());
    let c = rect.center();
    let r = 6.5;
    ui.painter().add(egui::Shape::convex_polygon(
        vec![
            Pos2::new(c.x, c.y - r),
            Pos2::new(c.x + r, c.y),
            Pos2::new(c.x, c.y + r),
            Pos2::new(c.x - r, c.y),
        ],
        color,
        Stroke::NONE,
    ));
}

/// A small rounded badge: `text` in `color` on a faint fill of it.
pub(crate) fn badge(ui: &mut Ui, text: &str, color: Color32) -> egui::Response {
    let font = FontId::proportional(11.5);
    let galley = ui.fonts_mut(|f| f.layout_no_wrap(text.to_string(), font, color));
    let size = galley.size() + Vec2::new(10.0, 4.0);
    let (rect, resp) = ui.allocate_exact_size(size, Sense::hover());
    paint_badge(ui.painter(), rect, galley, color);
    resp
}

/// Paints a badge holding `galley` in `rect`.
pub(crate) fn paint_badge(
    painter: &egui::Painter,
    rect: Rect,
    galley: Arc<Galley>,
    color: Color32,
) {
    painter.rect(
        rect,
        4.0,
        color.gamma_multiply(0.16),
        Stroke::new(1.0, color.gamma_multiply(0.45)),
        egui::StrokeKind::Inside,
    );
    let pos = rect.center() - galley.size() / 2.0;
    painter.galley(pos, galley, color);
}

/// `text` laid out on one line at most `width` wide, cut with `…`.
pub(crate) fn one_line(
    ui: &Ui,
    text: &str,
    font: FontId,
    color: Color32,
    width: f32,
) -> Arc<Galley> {
    let mut job = LayoutJob::single_section(
        text.to_string(),
        TextFormat {
            font_id: font,
            color,
            ..TextFormat::default()
        },
    );
    job.wrap = TextWrapping {
        max_width: width.max(8.0),
        max_rows: 1,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    ui.fonts_mut(|f| f.layout_job(job))
}

/// A section heading: a strong title and a weak note after it.
pub(crate) fn heading(ui: &mut Ui, title: &str, note: &str) {
    let p = Palette::of(ui);
    ui.horizontal(|ui| {
        ui.label(RichText::new(title).size(16.0).strong().color(p.strong));
        if !note.is_empty() {
            ui.label(RichText::new(note).color(p.weak));
        }
    });
}

/// A card: a framed group on the surface colour.
pub(crate) fn card<R>(ui: &mut Ui, add: impl FnOnce(&mut Ui) -> R) -> R {
    let p = Palette::of(ui);
    egui::Frame::new()
        .fill(ui.visuals().faint_bg_color)
        .stroke(Stroke::new(1.0, p.border))
        .corner_radius(8)
        .inner_margin(egui::Margin::same(10))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add(ui)
        })
        .inner
}

/// Paints three small horizontal bars (lexical, dense, graph) in `rect`, each as long as its
/// signal (0..1).
pub(crate) fn signal_bars(painter: &egui::Painter, rect: Rect, values: [f32; 3], p: &Palette) {
    let gap = 2.0;
    let h = ((rect.height() - 2.0 * gap) / 3.0).max(1.0);
    for (k, (v, color)) in values.iter().zip(p.signals()).enumerate() {
        let y = rect.top() + k as f32 * (h + gap);
        let track = Rect::from_min_size(Pos2::new(rect.left(), y), Vec2::new(rect.width(), h));
        painter.rect_filled(track, 1.0, color.gamma_multiply(0.15));
        let w = rect.width() * v.clamp(0.0, 1.0);
        if w > 0.5 {
            painter.rect_filled(Rect::from_min_size(track.min, Vec2::new(w, h)), 1.0, color);
        }
    }
}

/// The strongest of the signals, named: what ranked the result.
pub(crate) fn why(values: [f32; 3]) -> &'static str {
    let names = ["lexical", "vector", "graph"];
    let (mut best, mut at) = (0.0f32, None);
    for (i, v) in values.iter().enumerate() {
        if *v > best {
            (best, at) = (*v, Some(i));
        }
    }
    at.map_or("", |i| names[i])
}

/// `12345` as `12,345`.
pub(crate) fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes as `1.2 MB`.
pub(crate) fn bytes(n: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// A duration as milliseconds (`3.2 ms`, `120 ms`).
pub(crate) fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// Seconds since the Unix epoch as `2025-06-01 14:03 UTC`.
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
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

/// The last component of a workspace path (`/home/me/retry` → `retry`).
pub(crate) fn short_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches(['/', '\\']);
    trimmed
        .rsplit(['/', '\\'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_717_250_580), "2024-06-01 14:03 UTC");
        assert_eq!(short_name("/home/me/retry/"), "retry");
        assert_eq!(short_name("retry"), "retry");
        assert_eq!(why([0.2, 0.9, 0.1]), "vector");
        assert_eq!(why([0.0, 0.0, 0.0]), "");
    }
}
