//! The context pack of a request: the items chosen, their roles and the reasons, the tokens
//! each takes of the budget (a stacked bar), a budget slider that packs again as it moves,
//! and "Copy as markdown" (what `ploke context` prints).

use egui::{
    Button, CollapsingHeader, Key, Pos2, Rect, RichText, ScrollArea, Sense, Slider, TextEdit, Ui,
    Vec2,
};
use ploke_app::{Action, State};
use ploke_session::Pack;

use crate::code;
use crate::theme::Palette;
use crate::widgets;

/// The budgets the slider offers, in tokens.
const BUDGETS: std::ops::RangeInclusive<usize> = 500..=64_000;

/// The context view's own state.
#[derive(Default)]
pub(crate) struct ContextView {
    /// The request being typed.
    request: String,
    /// What was copied last (shown until the pack changes).
    copied: Option<usize>,
}

impl ContextView {
    pub(crate) fn show(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        let ps = &state.pack;
        widgets::heading(
            ui,
            "Context pack",
            "the items an LLM would be given for a request, within a token budget",
        );
        ui.add_space(4.0);
        let editing = ui.memory(|m| m.has_focus(request_id()));
        if !editing && self.request != ps.request {
            self.request = ps.request.clone();
        }
        ui.horizontal(|ui| {
            let resp = ui.add(
                TextEdit::singleline(&mut self.request)
                    .id(request_id())
                    .hint_text("What is the context for? e.g. retry delay with backoff")
                    .desired_width((ui.available_width() - 120.0).max(120.0)),
            );
            let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if ui.button("Pack").clicked() || enter {
                out.push(Action::SetPackRequest(self.request.clone()));
            }
            if ps.busy {
                ui.spinner();
            }
        });
        ui.horizontal(|ui| {
            ui.label("Budget");
            ui.spacing_mut().slider_width = 320.0;
            let mut budget = ps.budget.clamp(*BUDGETS.start(), *BUDGETS.end());
            let resp = ui.add(
                Slider::new(&mut budget, BUDGETS)
                    .logarithmic(true)
                    .suffix(" tokens")
                    .step_by(100.0),
            );
            if resp.changed() && budget != ps.budget {
                out.push(Action::SetBudget(budget));
            }
        });
        if let Some(e) = &ps.error {
            ui.label(RichText::new(format!("⚠ {e}")).color(p.bad));
        }
        let Some(pack) = &ps.pack else {
            ui.add_space(16.0);
            ui.label(
                RichText::new("Type a request and press Enter: the pack shows which items fit the budget and why.")
                    .color(p.weak),
            );
            return;
        };
        ui.add_space(6.0);
        widgets::card(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!(
                        "{} / {} tokens",
                        widgets::count(pack.tokens),
                        widgets::count(pack.budget)
                    ))
                    .strong()
                    .color(p.strong),
                );
                ui.label(RichText::new(summary(pack)).color(p.weak));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let copy = ui.add(Button::new("Copy as markdown"));
                    if copy.clicked() {
                        ui.ctx().copy_text(pack.to_markdown());
                        self.copied = Some(pack.tokens);
                    }
                    if self.copied == Some(pack.tokens) {
                        ui.label(RichText::new("copied").color(p.good));
                    }
                    ui.label(RichText::new(widgets::ms(ps.took)).color(p.weak));
                });
            });
            budget_bar(ui, pack, p);
            ui.horizontal(|ui| {
                for role in ["primary", "outline", "neighbour"] {
                    let (r, _) = ui.allocate_exact_size(Vec2::splat(10.0), Sense::hover());
                    ui.painter().rect_filled(r, 2.0, p.role(role));
                    ui.label(RichText::new(role).small().color(p.weak));
                }
            });
        });
        ui.add_space(6.0);
        ScrollArea::vertical()
            .id_salt("ploke-pack-items")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                for i in 0..pack.items.len() {
                    ui.push_id(i, |ui| entry(ui, pack, i, p));
                }
            });
    }
}

/// The request box's id.
fn request_id() -> egui::Id {
    egui::Id::new("ploke-pack-request")
}

/// `3 primary, 2 outline · 4 ranked items left out`.
fn summary(pack: &Pack) -> String {
    let mut counts = Vec::new();
    for role in ["primary", "outline", "neighbour"] {
        let n = pack
            .items
            .iter()
            .filter(|i| i.role.as_str() == role)
            .count();
        if n > 0 {
            counts.push(format!("{n} {role}"));
        }
    }
    let mut s = if counts.is_empty() {
        "no items".to_string()
    } else {
        counts.join(", ")
    };
    if pack.omitted > 0 {
        s.push_str(&format!(" · {} ranked items left out", pack.omitted));
    }
    s
}

/// The budget as a bar, each item a segment as wide as its tokens, in its role's colour.
fn budget_bar(ui: &mut Ui, pack: &Pack, p: &Palette) {
    let w = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(Vec2::new(w, 14.0), Sense::hover());
    let painter = ui.painter();
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let budget = pack.budget.max(1) as f32;
    let mut x = rect.left();
    for item in &pack.items {
        let seg = w * item.tokens as f32 / budget;
        if seg <= 0.0 {
            continue;
        }
        let r = Rect::from_min_max(
            Pos2::new(x, rect.top()),
            Pos2::new((x + seg).min(rect.right()), rect.bottom()),
        );
        painter.rect_filled(
            r.shrink2(Vec2::new(0.5, 0.0)),
            2.0,
            p.role(item.role.as_str()),
        );
        let resp = ui.interact(r, ui.id().with(("seg", &item.path)), Sense::hover());
        resp.on_hover_text(format!("{} · {} tokens", item.name, item.tokens));
        x += seg;
    }
}

/// One item of the pack: role, name, place, tokens, reason, and its text folded.
fn entry(ui: &mut Ui, pack: &Pack, i: usize, p: &Palette) {
    let item = &pack.items[i];
    widgets::card(ui, |ui| {
        ui.horizontal(|ui| {
            widgets::badge(ui, item.role.as_str(), p.role(item.role.as_str()));
            let kind = item.kind.as_str();
            widgets::badge(ui, kind, p.kind(kind));
            ui.label(RichText::new(&item.name).strong().color(p.strong));
            ui.label(
                RichText::new(format!(
                    "{}:{}–{}",
                    item.file, item.start_line, item.end_line
                ))
                .color(p.weak),
            );
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                ui.label(
                    RichText::new(format!("{} tokens", widgets::count(item.tokens))).monospace(),
                );
                let share = item.tokens as f32 / pack.budget.max(1) as f32;
                let (r, _) = ui.allocate_exact_size(Vec2::new(60.0, 6.0), Sense::hover());
                ui.painter()
                    .rect_filled(r, 2.0, ui.visuals().extreme_bg_color);
                let fill =
                    Rect::from_min_size(r.min, Vec2::new(r.width() * share.min(1.0), r.height()));
                ui.painter()
                    .rect_filled(fill, 2.0, p.role(item.role.as_str()));
            });
        });
        // The reason; unfolds the entry's text.
        CollapsingHeader::new(RichText::new(&item.reason).italics().color(p.weak))
            .id_salt(("pack-text", &item.path))
            .default_open(false)
            .show(ui, |ui| code::block(ui, &item.text));
    });
}
