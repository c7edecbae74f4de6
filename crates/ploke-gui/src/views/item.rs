//! The item view: what the item is (kind, path, file and lines, visibility, cfg,
//! attributes), its signature and docs, its neighbourhood as a drawn graph, and its source,
//! highlighted once per item and drawn a screenful at a time.

use egui::{RichText, ScrollArea, Ui};
use ploke_app::{Action, State};
use ploke_session::ItemView;

use crate::code::{self, CodeCache};
use crate::theme::Palette;
use crate::views::graph;
use crate::widgets;

/// The item view's own state: the highlighted sources.
#[derive(Default)]
pub(crate) struct ItemPane {
    pub(crate) code: CodeCache,
}

impl ItemPane {
    pub(crate) fn show(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        let it = &state.item;
        if let Some(e) = &it.error {
            ui.label(RichText::new(format!("⚠ {e}")).color(p.bad));
        }
        let Some(view) = &it.current else {
            ui.add_space(24.0);
            ui.vertical_centered(|ui| {
                if it.loading {
                    ui.spinner();
                } else {
                    ui.label(
                        RichText::new("Pick a search result or a module to see its item.")
                            .color(p.weak)
                            .size(15.0),
                    );
                }
            });
            return;
        };
        header(ui, view, it.loading, p);
        ui.add_space(6.0);

        // The graph takes what it needs, up to 45% of what is left; the source the rest.
        let want = graph::height(&it.graph);
        let room = ui.available_height();
        let g_h = want.min((room * 0.45).max(140.0));
        ui.horizontal(|ui| {
            ui.label(RichText::new("Neighbourhood").strong().color(p.strong));
            ui.label(
                RichText::new(format!(
                    "callers {} · callees {} · implementations {} · implements {}",
                    view.callers.len(),
                    view.callees.len(),
                    view.implementations.len(),
                    view.implements.len()
                ))
                .color(p.weak),
            );
        });
        if let Some(id) = graph::show(ui, &it.graph, g_h) {
            out.push(Action::Open(id));
        }
        if !view.unresolved_calls.is_empty() {
            let list = view.unresolved_calls.join(", ");
            ui.label(
                RichText::new(format!("unresolved calls: {list}"))
                    .small()
                    .color(p.weak),
            );
        }
        ui.add_space(6.0);
        let lines = self
            .code
            .lines(&view.item.id, &view.source, ui.visuals().dark_mode);
        ui.horizontal(|ui| {
            ui.label(RichText::new("Source").strong().color(p.strong));
            ui.label(
                RichText::new(format!("{} lines", widgets::count(lines.jobs.len()))).color(p.weak),
            );
            if ui
                .small_button("Copy")
                .on_hover_text("Copy the source")
                .clicked()
            {
                ui.ctx().copy_text(view.source.clone());
            }
        });
        if view.source.is_empty() {
            ui.label(RichText::new("The index holds no text for this item's file.").color(p.weak));
        } else {
            code::show(ui, &view.item.id, &lines, view.item.start_line);
        }
    }
}

/// Kind, name, badges, path and place, signature, attributes and docs.
fn header(ui: &mut Ui, view: &ItemView, loading: bool, p: &Palette) {
    let it = &view.item;
    widgets::card(ui, |ui| {
        ui.horizontal(|ui| {
            widgets::badge(ui, &it.kind, p.kind(&it.kind));
            ui.label(RichText::new(&it.name).size(20.0).strong().color(p.strong));
            if !view.visibility.is_empty() {
                widgets::badge(ui, &view.visibility, p.accent);
            }
            if view.is_test || it.test {
                widgets::badge(ui, "test", p.warn);
            }
            if it.dependency {
                let v = it.version.as_deref().unwrap_or("");
                widgets::badge(ui, &format!("dependency {v}"), p.weak);
            }
            if loading {
                ui.spinner();
            }
        });
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&it.path).monospace().color(p.text));
            ui.label(
                RichText::new(format!("{}:{}–{}", it.file, it.start_line, it.end_line))
                    .color(p.weak),
            );
            if !view.cfg.is_empty() {
                widgets::badge(ui, &format!("cfg({})", view.cfg), p.warn);
            }
        });
        if !view.attrs.is_empty() {
            ui.horizontal_wrapped(|ui| {
                for a in &view.attrs {
                    widgets::badge(ui, a, p.syntax(ploke_app::highlight::Class::Attribute));
                }
            });
        }
        if !view.signature.is_empty() {
            code::block(ui, &view.signature);
        }
        if !view.docs.trim().is_empty() {
            ScrollArea::vertical()
                .id_salt(("docs", &it.id))
                .max_height(96.0)
                .show(ui, |ui| {
                    ui.label(RichText::new(view.docs.trim()).color(p.text));
                });
        }
    });
}
