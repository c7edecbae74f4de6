//! The crate browser: each crate of the workspace with its module tree, every module with
//! the items defined in it and in all of it (`name (items/total)`); clicking a module opens
//! it in the item view.

use egui::{RichText, ScrollArea, Ui};
use ploke_app::{Action, State};
use ploke_session::ModuleEntry;

use crate::theme::Palette;

/// Draws the module tree of every crate.
pub(crate) fn show(ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
    let p = Palette::of(ui);
    if state.outline.is_empty() {
        ui.add_space(12.0);
        let text = if state.status.indexing {
            "Indexing…"
        } else {
            "No crates in the index yet."
        };
        ui.label(RichText::new(text).color(p.weak));
        return;
    }
    let current = state.item.current.as_ref().map(|v| v.item.id.as_str());
    ScrollArea::vertical()
        .id_salt("ploke-modules")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for krate in &state.outline {
                entry(ui, krate, true, current, out);
            }
        });
}

fn entry(ui: &mut Ui, m: &ModuleEntry, top: bool, current: Option<&str>, out: &mut Vec<Action>) {
    let p = Palette::of(ui);
    let name = if top {
        m.item.crate_name.as_str()
    } else {
        m.item.name.rsplit("::").next().unwrap_or(&m.item.name)
    };
    let label = format!("{name} ({}/{})", m.items, m.total);
    let is_current = current == Some(m.item.id.as_str());
    let mut text = RichText::new(&label);
    text = if top {
        text.strong().color(p.strong)
    } else if is_current {
        text.color(p.accent)
    } else {
        text.color(p.text)
    };
    if m.children.is_empty() {
        // A leaf: indented like a header's children, so names line up.
        ui.horizontal(|ui| {
            ui.add_space(ui.spacing().icon_width + ui.spacing().icon_spacing);
            let resp = ui
                .selectable_label(is_current, text)
                .on_hover_text(format!("{} · {}", m.item.path, m.item.file));
            if resp.clicked() {
                out.push(Action::Open(m.item.id.clone()));
            }
        });
        return;
    }
    // The arrow folds; the name opens the module.
    let id = ui.make_persistent_id(("module", &m.item.id));
    egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, top)
        .show_header(ui, |ui| {
            let resp = ui
                .selectable_label(is_current, text)
                .on_hover_text(format!("{} · {}", m.item.path, m.item.file));
            if resp.clicked() {
                out.push(Action::Open(m.item.id.clone()));
            }
        })
        .body(|ui| {
            for child in &m.children {
                entry(ui, child, false, current, out);
            }
        });
}
