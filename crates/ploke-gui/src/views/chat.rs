//! Chat with the model about the code: each turn's request, the tool calls as they happen,
//! the answer as it streams (fenced code drawn as code), and a footer once it ends. Ask
//! (Ctrl+Enter) or Edit (the proposal ends in the review tab); Cancel while it works.

use egui::{Button, Key, KeyboardShortcut, Modifiers, Panel, RichText, ScrollArea, TextEdit, Ui};
use ploke_app::{Action, State, Turn, TurnKind};

use crate::code;
use crate::theme::Palette;
use crate::widgets;

/// The chat view's own state.
#[derive(Default)]
pub(crate) struct ChatView {
    /// The request being typed.
    input: String,
    /// The turns there were when a request was sent: the input is cleared once a new turn
    /// shows that it was taken (a refused request keeps its text).
    sent_at: Option<usize>,
}

impl ChatView {
    pub(crate) fn show(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        let chat = &state.chat;
        if let Some(n) = self.sent_at {
            if chat.turns.len() > n {
                self.input.clear();
                self.sent_at = None;
            }
        }
        Panel::bottom("ploke-chat-input")
            .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(0, 8)))
            .show_inside(ui, |ui| self.input(ui, state, out));
        if chat.turns.is_empty() {
            ui.add_space(24.0);
            ui.vertical_centered(|ui| {
                ui.label(
                    RichText::new(
                        "Ask about the code, or ask for an edit: the model proposes it as diffs to review.",
                    )
                    .color(p.weak)
                    .size(15.0),
                );
                ui.label(
                    RichText::new(format!(
                        "{} · {}",
                        state.settings.provider, state.settings.model
                    ))
                    .color(p.weak),
                );
            });
            return;
        }
        ScrollArea::vertical()
            .id_salt("ploke-chat")
            .stick_to_bottom(true)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let last = chat.turns.len() - 1;
                for (i, turn) in chat.turns.iter().enumerate() {
                    ui.push_id(i, |ui| self::turn(ui, turn, i == last && chat.busy, p));
                    ui.add_space(10.0);
                }
            });
    }

    fn input(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let busy = state.chat.busy;
        let ask_key = ui.input_mut(|i| {
            i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter))
        });
        ui.add(
            TextEdit::multiline(&mut self.input)
                .id_salt("ploke-chat-input")
                .hint_text("Ask about the code, or describe an edit…  (Ctrl+Enter asks)")
                .desired_rows(3)
                .desired_width(f32::INFINITY),
        );
        ui.horizontal(|ui| {
            let ready = !busy && !self.input.trim().is_empty();
            let ask = ui
                .add_enabled(ready, Button::new("Ask"))
                .on_hover_text("Ask the model about the code (Ctrl+Enter)");
            if ask.clicked() || (ask_key && ready) {
                out.push(Action::Ask(self.input.trim().to_string()));
                self.sent_at = Some(state.chat.turns.len());
            }
            let edit = ui.add_enabled(ready, Button::new("Edit")).on_hover_text(
                "Ask the model for an edit; you review it before anything is written",
            );
            if edit.clicked() {
                out.push(Action::Edit(self.input.trim().to_string()));
                self.sent_at = Some(state.chat.turns.len());
            }
            if busy {
                if ui.button("Cancel").clicked() {
                    out.push(Action::Cancel);
                }
                ui.spinner();
            }
        });
    }
}

/// One turn: the request, the tool calls, the answer, the footer or the error.
fn turn(ui: &mut Ui, turn: &Turn, working: bool, p: &Palette) {
    egui::Frame::new()
        .fill(p.selected.gamma_multiply(0.6))
        .corner_radius(8)
        .inner_margin(egui::Margin::symmetric(10, 8))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                let (kind, color) = match turn.kind {
                    TurnKind::Ask => ("ask", p.accent),
                    TurnKind::Edit => ("edit", p.warn),
                };
                widgets::badge(ui, kind, color);
                ui.label(RichText::new(&turn.request).color(p.strong));
            });
        });
    ui.add_space(4.0);
    egui::Frame::new()
        .inner_margin(egui::Margin {
            left: 12,
            right: 4,
            top: 2,
            bottom: 2,
        })
        .show(ui, |ui| {
            for t in &turn.tools {
                ui.horizontal(|ui| {
                    ui.label(RichText::new("⚙").color(p.weak));
                    ui.label(
                        RichText::new(&t.name)
                            .monospace()
                            .color(p.syntax(ploke_app::highlight::Class::Function)),
                    );
                    ui.add(
                        egui::Label::new(
                            RichText::new(&t.arguments)
                                .monospace()
                                .small()
                                .color(p.weak),
                        )
                        .truncate(),
                    );
                    match t.chars {
                        Some(c) => {
                            ui.label(
                                RichText::new(format!("· {} chars", widgets::count(c)))
                                    .small()
                                    .color(p.weak),
                            );
                        }
                        None if working => {
                            ui.spinner();
                        }
                        None => {}
                    }
                });
            }
            if !turn.answer.is_empty() {
                ui.add_space(4.0);
                answer(ui, &turn.answer, p);
            }
            if working {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(RichText::new("working…").color(p.weak));
                });
            }
            if let Some(f) = &turn.footer {
                ui.add_space(2.0);
                ui.label(RichText::new(f).small().color(p.weak));
            }
            if let Some(e) = &turn.error {
                ui.label(RichText::new(format!("⚠ {e}")).color(p.bad));
            }
        });
}

/// The answer's text, its fenced code blocks drawn as code.
fn answer(ui: &mut Ui, text: &str, p: &Palette) {
    let mut in_code = false;
    let mut block = String::new();
    let mut prose = String::new();
    let flush_prose = |ui: &mut Ui, prose: &mut String| {
        let t = prose.trim_end();
        if !t.is_empty() {
            ui.label(RichText::new(t).color(p.text));
        }
        prose.clear();
    };
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            if in_code {
                code::block(ui, block.trim_end());
                block.clear();
            } else {
                flush_prose(ui, &mut prose);
            }
            in_code = !in_code;
            continue;
        }
        let buf = if in_code { &mut block } else { &mut prose };
        buf.push_str(line);
        buf.push('\n');
    }
    if in_code && !block.is_empty() {
        // Still streaming: the block so far.
        code::block(ui, block.trim_end());
    }
    flush_prose(ui, &mut prose);
}
