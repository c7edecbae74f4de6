//! Source text drawn fast: each line of an item is highlighted into a [`LayoutJob`] once,
//! when the item (or the theme) changes, and kept; a frame lays out only the lines in view
//! (`ScrollArea::show_rows`), so a 5,000-line item costs a frame what a 50-line one does.

use std::sync::Arc;

use egui::text::{LayoutJob, TextFormat};
use egui::{Color32, Label, ScrollArea, Ui};
use ploke_app::highlight;

use crate::theme::{mono, Palette, CODE_SIZE};

/// The highlighted lines of an item.
pub(crate) type Lines = Arc<Highlighted>;

/// A text highlighted line by line.
pub(crate) struct Highlighted {
    pub(crate) jobs: Vec<LayoutJob>,
    /// Characters of the longest line (the width to scroll over).
    pub(crate) max_chars: usize,
}

/// Items kept highlighted (the current one and a few of the history).
const KEPT: usize = 8;

/// What identifies a text's highlighting: the item, its text, the theme.
#[derive(Clone, PartialEq, Eq)]
struct Key {
    id: String,
    hash: u64,
    dark: bool,
}

/// Highlighted lines by item, most recently used last.
#[derive(Default)]
pub(crate) struct CodeCache {
    entries: Vec<(Key, Lines)>,
    /// The address and length of the text last asked for, and its hash: a frame that draws
    /// the same text again does not hash it again.
    last: Option<(usize, usize, u64)>,
    /// Texts highlighted since the cache was made (for tests of the cache).
    pub(crate) built: usize,
}

impl CodeCache {
    /// The highlighted lines of item `id` whose text is `source`.
    pub(crate) fn lines(&mut self, id: &str, source: &str, dark: bool) -> Lines {
        let addr = (source.as_ptr() as usize, source.len());
        let hash = match self.last {
            Some((p, l, h)) if (p, l) == addr => h,
            _ => {
                let h = fnv(source.as_bytes());
                self.last = Some((addr.0, addr.1, h));
                h
            }
        };
        let key = Key {
            id: id.to_string(),
            hash,
            dark,
        };
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            let e = self.entries.remove(i);
            let lines = e.1.clone();
            self.entries.push(e);
            return lines;
        }
        let lines: Lines = Arc::new(highlight_lines(source, Palette::for_dark(dark)));
        self.built += 1;
        self.entries.push((key, lines.clone()));
        if self.entries.len() > KEPT {
            self.entries.remove(0);
        }
        lines
    }
}

/// Each line of `source` as a job in its syntax colours.
fn highlight_lines(source: &str, p: &Palette) -> Highlighted {
    let font = mono(CODE_SIZE);
    let jobs: Vec<LayoutJob> = highlight::lines(source)
        .into_iter()
        .map(|pieces| {
            let mut job = LayoutJob::default();
            for piece in pieces {
                // Tabs as four spaces: the monospace grid stays aligned.
                let text = piece.text.replace('\t', "    ");
                job.append(
                    &text,
                    0.0,
                    TextFormat {
                        font_id: font.clone(),
                        color: p.syntax(piece.class),
                        ..TextFormat::default()
                    },
                );
            }
            job.wrap.max_rows = 1;
            job
        })
        .collect();
    let max_chars = jobs
        .iter()
        .map(|j| j.text.chars().count())
        .max()
        .unwrap_or(0);
    Highlighted { jobs, max_chars }
}

/// A 64-bit FNV-1a hash (stable, no allocation).
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Draws `lines` with line numbers from `first_line`, only the rows in view, in a scroll
/// area that takes the space left (`id` keeps its scroll offset apart from other views).
/// Each row is painted (no widget per line) and named for accessibility by its text.
pub(crate) fn show(ui: &mut Ui, id: &str, lines: &Highlighted, first_line: u32) {
    let p = Palette::of(ui);
    let font = mono(CODE_SIZE);
    let row_h = ui.fonts_mut(|f| f.row_height(&font));
    let glyph = ui.fonts_mut(|f| f.glyph_width(&font, '0'));
    let last = first_line as usize + lines.jobs.len().saturating_sub(1);
    let digits = last.to_string().len();
    let gutter = glyph * digits as f32 + 16.0;
    let content_w = gutter + glyph * lines.max_chars as f32 + 16.0;
    egui::Frame::new()
        .fill(ui.visuals().extreme_bg_color)
        .corner_radius(6)
        .inner_margin(egui::Margin::symmetric(8, 6))
        .show(ui, |ui| {
            // Rows touch: no spacing between them (`show_rows` counts it in the row height).
            ui.spacing_mut().item_spacing.y = 0.0;
            ScrollArea::both()
                .id_salt(("code", id))
                .auto_shrink([false, false])
                .show_rows(ui, row_h, lines.jobs.len(), |ui, range| {
                    let width = content_w.max(ui.available_width());
                    for i in range {
                        let (rect, resp) =
                            ui.allocate_exact_size(egui::vec2(width, row_h), egui::Sense::hover());
                        let job = &lines.jobs[i];
                        resp.widget_info(|| {
                            egui::WidgetInfo::labeled(egui::WidgetType::Label, true, &job.text)
                        });
                        let painter = ui.painter();
                        let n = first_line as usize + i;
                        painter.text(
                            egui::pos2(rect.left() + gutter - 12.0, rect.top()),
                            egui::Align2::RIGHT_TOP,
                            n.to_string(),
                            font.clone(),
                            p.weak.gamma_multiply(0.7),
                        );
                        let galley = ui.fonts_mut(|f| f.layout_job(job.clone()));
                        painter.galley(
                            egui::pos2(rect.left() + gutter, rect.top()),
                            galley,
                            p.text,
                        );
                    }
                });
        });
}

/// A code block that is not virtualized (signatures, short outlines): `text` highlighted.
pub(crate) fn block(ui: &mut Ui, text: &str) {
    let p = Palette::of(ui);
    let font = mono(CODE_SIZE);
    let mut job = LayoutJob::default();
    for (range, class) in highlight::highlight(text) {
        job.append(
            &text[range],
            0.0,
            TextFormat {
                font_id: font.clone(),
                color: p.syntax(class),
                ..TextFormat::default()
            },
        );
    }
    job.wrap.max_width = ui.available_width() - 16.0;
    egui::Frame::new()
        .fill(ui.visuals().extreme_bg_color)
        .corner_radius(6)
        .inner_margin(egui::Margin::symmetric(8, 6))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(Label::new(job));
        });
}

/// Plain monospace text in `color`, as one job (diff lines).
pub(crate) fn plain(text: &str, color: Color32) -> LayoutJob {
    let mut job = LayoutJob::single_section(
        text.replace('\t', "    "),
        TextFormat {
            font_id: mono(CODE_SIZE),
            color,
            ..TextFormat::default()
        },
    );
    job.wrap.max_rows = 1;
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_highlighted_once_per_theme() {
        let mut cache = CodeCache::default();
        let src = "fn go() {\n    1\n}\n".to_string();
        let a = cache.lines("id1", &src, true);
        assert_eq!(a.jobs.len(), 3);
        let b = cache.lines("id1", &src, true);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(cache.built, 1);
        cache.lines("id1", &src, false);
        assert_eq!(cache.built, 2);
        // The same item with another text (after an edit) is highlighted again.
        let edited = "fn go() {\n    2\n}\n".to_string();
        cache.lines("id1", &edited, true);
        assert_eq!(cache.built, 3);
        // Back to the first text: still kept.
        let again = src.clone();
        let c = cache.lines("id1", &again, true);
        assert!(Arc::ptr_eq(&a, &c));
        assert_eq!(cache.built, 3);
    }
}
