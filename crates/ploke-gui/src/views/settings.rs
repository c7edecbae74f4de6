//! Settings: the chat model (provider, model, base URL; Apply opens the session again with
//! them), whether an API key was found (never the key), the embedding model, the theme and
//! the keyboard shortcuts.

use egui::{Grid, RichText, TextEdit, Ui};
use ploke_app::{Action, SettingsView, State};

use crate::theme::Palette;
use crate::widgets;

/// The form's fields, filled from the settings until the user edits them.
#[derive(Default)]
pub(crate) struct SettingsForm {
    provider: String,
    model: String,
    base_url: String,
    /// The settings the fields were filled from.
    from: Option<SettingsView>,
}

const KEYS: &[(&str, &str)] = &[
    ("Ctrl+K", "search"),
    ("Up, Down, Enter", "pick a result (in the search box)"),
    ("Alt+Left, Alt+Right", "back, forward"),
    ("Ctrl+Enter", "ask (in the chat box)"),
];

impl SettingsForm {
    pub(crate) fn show(
        &mut self,
        ui: &mut Ui,
        state: &State,
        light: &mut bool,
        out: &mut Vec<Action>,
    ) {
        let p = Palette::of(ui);
        let s = &state.settings;
        if self.from.as_ref() != Some(s) {
            self.provider = s.provider.clone();
            self.model = s.model.clone();
            self.base_url = s.base_url.clone();
            self.from = Some(s.clone());
        }
        widgets::heading(ui, "Chat model", "used by Chat (ask and edit)");
        widgets::card(ui, |ui| {
            Grid::new("ploke-settings")
                .num_columns(2)
                .spacing([24.0, 8.0])
                .show(ui, |ui| {
                    ui.label(RichText::new("Provider").color(p.weak));
                    ui.add(
                        TextEdit::singleline(&mut self.provider)
                            .hint_text("openai, anthropic, ollama, …")
                            .desired_width(360.0),
                    );
                    ui.end_row();
                    ui.label(RichText::new("Model").color(p.weak));
                    ui.add(TextEdit::singleline(&mut self.model).desired_width(360.0));
                    ui.end_row();
                    ui.label(RichText::new("Base URL").color(p.weak));
                    ui.add(
                        TextEdit::singleline(&mut self.base_url)
                            .hint_text("the provider's default")
                            .desired_width(360.0),
                    );
                    ui.end_row();
                    ui.label(RichText::new("API key").color(p.weak));
                    if s.key_set {
                        ui.label(RichText::new("set from the environment").color(p.good));
                    } else {
                        ui.label(RichText::new("not set (PLOKE_API_KEY)").color(p.warn));
                    }
                    ui.end_row();
                });
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let edited = self.provider != s.provider
                    || self.model != s.model
                    || self.base_url != s.base_url;
                if ui
                    .add_enabled(edited, egui::Button::new("Apply"))
                    .on_hover_text("Open the session again with this model")
                    .clicked()
                {
                    out.push(Action::SetModel {
                        provider: self.provider.trim().to_string(),
                        model: self.model.trim().to_string(),
                        base_url: self.base_url.trim().to_string(),
                    });
                }
                if ui.add_enabled(edited, egui::Button::new("Reset")).clicked() {
                    self.from = None;
                }
            });
            ui.label(
                RichText::new(
                    "Keys are read from the environment only; ploke never shows or stores them.",
                )
                .small()
                .color(p.weak),
            );
        });
        ui.add_space(10.0);
        widgets::heading(ui, "Embeddings", "");
        widgets::card(ui, |ui| match &s.embed {
            Some(e) => {
                ui.label(RichText::new(e).monospace());
            }
            None => {
                ui.label(RichText::new("off: search is lexical and graph-ranked").color(p.weak));
            }
        });
        ui.add_space(10.0);
        widgets::heading(ui, "Appearance", "");
        ui.horizontal(|ui| {
            ui.radio_value(light, false, "Dark");
            ui.radio_value(light, true, "Light");
        });
        ui.add_space(10.0);
        widgets::heading(ui, "Keys", "");
        Grid::new("ploke-keys")
            .num_columns(2)
            .spacing([24.0, 4.0])
            .show(ui, |ui| {
                for (k, what) in KEYS {
                    ui.label(RichText::new(*k).monospace().color(p.strong));
                    ui.label(RichText::new(*what).color(p.text));
                    ui.end_row();
                }
            });
    }
}
