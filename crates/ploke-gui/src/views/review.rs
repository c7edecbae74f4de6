//! The edit review: each file the model proposed to change as a coloured diff with old and
//! new line numbers, accepted or rejected with its checkbox; Apply writes the accepted ones,
//! then `cargo check` and its result, and Undo reverts the newest applied edit.

use egui::{Button, FontId, Pos2, RichText, ScrollArea, Sense, Ui, Vec2};
use ploke_app::diff::{self, LineKind};
use ploke_app::{Action, EditPhase, State};
use ploke_session::{AppliedEdit, CheckOutcome, ReviewFile};

use crate::code;
use crate::theme::{mono, Palette, CODE_SIZE};
use crate::widgets;
use crate::Tab;

/// Tallest a file's diff gets before it scrolls.
const DIFF_MAX_H: f32 = 420.0;

/// The review view's own state.
#[derive(Default)]
pub(crate) struct ReviewView {
    /// Whether the last frame saw a review waiting (to switch to it once when one comes;
    /// `None` before the first frame).
    reviewing: Option<bool>,
}

impl ReviewView {
    /// Switches to the review tab when a proposal arrives.
    pub(crate) fn follow(&mut self, state: &State, tab: &mut Tab) {
        let now = matches!(state.edit.phase, EditPhase::Review { .. });
        if now && self.reviewing == Some(false) {
            *tab = Tab::Review;
        }
        self.reviewing = Some(now);
    }

    pub(crate) fn show(&self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        let ed = &state.edit;
        let round = if ed.round > 0 {
            format!("repair round {}", ed.round)
        } else {
            String::new()
        };
        widgets::heading(ui, "Edit review", &round);
        if !ed.request.is_empty() {
            ui.label(RichText::new(&ed.request).color(p.text));
        }
        if let Some(e) = &ed.error {
            ui.label(RichText::new(format!("⚠ {e}")).color(p.bad));
        }
        ui.add_space(4.0);
        match &ed.phase {
            EditPhase::Idle => {
                ui.label(
                    RichText::new("No edit under way. Ask for one in the Chat tab (Edit).")
                        .color(p.weak),
                );
                if let Some(u) = &ed.undone {
                    ui.label(RichText::new(u).color(p.good));
                }
                ui.add_space(6.0);
                if ui
                    .button("Undo the last applied edit")
                    .on_hover_text("Reverts the newest edit ploke applied, byte for byte")
                    .clicked()
                {
                    out.push(Action::Undo);
                }
            }
            EditPhase::Proposing => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("The model is proposing edits…");
                    if ui.button("Cancel").clicked() {
                        out.push(Action::Cancel);
                    }
                });
            }
            EditPhase::Review {
                files,
                summary,
                changed,
            } => review(ui, files, summary, changed, out, p),
            EditPhase::Applying => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Applying…");
                });
            }
            EditPhase::Applied(a) => {
                applied(ui, a, p);
                ui.horizontal(|ui| {
                    if ui.button("Run cargo check").clicked() {
                        out.push(Action::Check);
                    }
                    undo_done(ui, out);
                });
            }
            EditPhase::Checking(a) => {
                applied(ui, a, p);
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("cargo check…");
                });
            }
            EditPhase::Checked {
                applied: a,
                outcome,
            } => {
                applied(ui, a, p);
                match outcome {
                    CheckOutcome::Passed => {
                        ui.label(RichText::new("✔ cargo check passed").color(p.good).strong());
                    }
                    CheckOutcome::Failed { errors, repair } => {
                        ui.label(RichText::new("✖ cargo check failed").color(p.bad).strong());
                        if *repair {
                            ui.label(
                                RichText::new(
                                    "The errors went back to the model for a repair round.",
                                )
                                .color(p.weak),
                            );
                        }
                        ScrollArea::vertical()
                            .id_salt("ploke-check-errors")
                            .max_height(240.0)
                            .show(ui, |ui| {
                                ui.label(RichText::new(errors).monospace().color(p.bad));
                            });
                    }
                }
                ui.horizontal(|ui| undo_done(ui, out));
            }
        }
    }
}

fn undo_done(ui: &mut Ui, out: &mut Vec<Action>) {
    if ui
        .button("Undo")
        .on_hover_text("Revert the files to what they were before the edit")
        .clicked()
    {
        out.push(Action::Undo);
    }
    if ui
        .button("Done")
        .on_hover_text("Keep the edit and close the review")
        .clicked()
    {
        out.push(Action::Discard);
    }
}

fn applied(ui: &mut Ui, a: &AppliedEdit, p: &Palette) {
    ui.label(
        RichText::new(format!(
            "✔ Applied edit #{} to {}",
            a.entry,
            a.files.join(", ")
        ))
        .color(p.good)
        .strong(),
    );
}

fn review(
    ui: &mut Ui,
    files: &[ReviewFile],
    summary: &str,
    changed: &[String],
    out: &mut Vec<Action>,
    p: &Palette,
) {
    if !summary.trim().is_empty() {
        ui.label(RichText::new(summary.trim()).color(p.text));
    }
    if !changed.is_empty() {
        ui.label(
            RichText::new(format!(
                "⚠ changed on disk since the proposal, diff made again: {}",
                changed.join(", ")
            ))
            .color(p.warn),
        );
    }
    let accepted = files.iter().filter(|f| f.accepted).count();
    egui::Panel::bottom("ploke-review-actions")
        .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(0, 8)))
        .show_inside(ui, |ui| {
            ui.horizontal(|ui| {
                let text = format!("Apply {accepted} of {} files", files.len());
                if ui
                    .add_enabled(accepted > 0, Button::new(RichText::new(text).strong()))
                    .clicked()
                {
                    out.push(Action::Apply);
                }
                if ui
                    .button("Discard")
                    .on_hover_text("Drop the proposal; nothing is written")
                    .clicked()
                {
                    out.push(Action::Discard);
                }
            });
        });
    ScrollArea::vertical()
        .id_salt("ploke-review")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (i, f) in files.iter().enumerate() {
                ui.push_id(i, |ui| file(ui, f, out, p));
                ui.add_space(8.0);
            }
        });
}

/// One file: accept checkbox (named by the path), counts, and the diff.
fn file(ui: &mut Ui, f: &ReviewFile, out: &mut Vec<Action>, p: &Palette) {
    let (added, removed) = diff::counts(&f.diff);
    widgets::card(ui, |ui| {
        ui.horizontal(|ui| {
            let mut accept = f.accepted;
            let resp = ui
                .checkbox(&mut accept, RichText::new(&f.path).monospace().strong())
                .on_hover_text("Accepted files are written by Apply");
            if resp.changed() {
                out.push(Action::Decide {
                    file: f.path.clone(),
                    accept,
                });
            }
            if f.new_file {
                widgets::badge(ui, "new file", p.accent);
            }
            ui.label(RichText::new(format!("+{added}")).color(p.good).monospace());
            ui.label(
                RichText::new(format!("−{removed}"))
                    .color(p.bad)
                    .monospace(),
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let (t, c) = if f.accepted {
                    ("accepted", p.good)
                } else {
                    ("rejected", p.weak)
                };
                widgets::badge(ui, t, c);
            });
        });
        ui.add_space(4.0);
        if f.accepted {
            lines(ui, &f.diff, p);
        } else {
            ui.scope(|ui| {
                ui.multiply_opacity(0.45);
                lines(ui, &f.diff, p);
            });
        }
    });
}

/// The diff's lines with old and new numbers, added and removed lines on coloured rows;
/// only the rows in view are drawn.
fn lines(ui: &mut Ui, text: &str, p: &Palette) {
    let ls: Vec<diff::DiffLine<'_>> = diff::lines(text)
        .into_iter()
        .filter(|l| l.kind != LineKind::Header)
        .collect();
    let font = mono(CODE_SIZE);
    let row_h = ui.fonts_mut(|f| f.row_height(&font)) + 2.0;
    let glyph = ui.fonts_mut(|f| f.glyph_width(&font, '0'));
    let num_w = glyph * 4.0 + 8.0;
    let max_chars = ls.iter().map(|l| l.text.chars().count()).max().unwrap_or(0);
    let content_w = 2.0 * num_w + 24.0 + glyph * max_chars as f32;
    egui::Frame::new()
        .fill(ui.visuals().extreme_bg_color)
        .corner_radius(6)
        .inner_margin(egui::Margin::symmetric(0, 4))
        .show(ui, |ui| {
            ui.spacing_mut().item_spacing.y = 0.0;
            ScrollArea::both()
                .max_height(DIFF_MAX_H)
                .auto_shrink([false, true])
                .show_rows(ui, row_h, ls.len(), |ui, range| {
                    let width = content_w.max(ui.available_width());
                    for l in &ls[range] {
                        let (rect, resp) =
                            ui.allocate_exact_size(Vec2::new(width, row_h), Sense::hover());
                        let (bg, fg, mark) = match l.kind {
                            LineKind::Added => (Some(p.added_bg), p.good, "+"),
                            LineKind::Removed => (Some(p.removed_bg), p.bad, "−"),
                            LineKind::Hunk => (Some(p.accent.gamma_multiply(0.10)), p.accent, ""),
                            LineKind::Note => (None, p.weak, ""),
                            _ => (None, p.text, " "),
                        };
                        let marker = match l.kind {
                            LineKind::Added => '+',
                            LineKind::Removed => '-',
                            _ => ' ',
                        };
                        resp.widget_info(|| {
                            egui::WidgetInfo::labeled(
                                egui::WidgetType::Label,
                                true,
                                format!("{marker}{}", l.text),
                            )
                        });
                        let painter = ui.painter();
                        if let Some(bg) = bg {
                            painter.rect_filled(rect, 0.0, bg);
                        }
                        let y = rect.top() + 1.0;
                        let num = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
                        let small = FontId::monospace(CODE_SIZE - 1.0);
                        let nc = p.weak.gamma_multiply(0.8);
                        painter.text(
                            Pos2::new(rect.left() + num_w - 4.0, y),
                            egui::Align2::RIGHT_TOP,
                            num(l.old),
                            small.clone(),
                            nc,
                        );
                        painter.text(
                            Pos2::new(rect.left() + 2.0 * num_w - 4.0, y),
                            egui::Align2::RIGHT_TOP,
                            num(l.new),
                            small,
                            nc,
                        );
                        let x = rect.left() + 2.0 * num_w + 6.0;
                        painter.text(
                            Pos2::new(x, y),
                            egui::Align2::LEFT_TOP,
                            mark,
                            font.clone(),
                            fg,
                        );
                        let g = ui.fonts_mut(|f| f.layout_job(code::plain(l.text, fg)));
                        painter.galley(Pos2::new(x + 14.0, y), g, fg);
                    }
                });
        });
}
