//! Search as you type: the search box in the top bar, and the results in the left panel:
//! kind, name, canonical path, file and line, score, and the signals that ranked each
//! (lexical, vector, graph) as small bars; filters by kind, crate and test code. Rows are
//! virtualized: a frame draws only the rows in view, so 10,000 results cost what 100 do.

use egui::{
    Align2, ComboBox, FontId, Key, Pos2, Rect, RichText, ScrollArea, Sense, TextEdit, Ui, Vec2,
    WidgetInfo, WidgetType,
};
use ploke_app::{Action, Filters, State, TestFilter};
use ploke_session::SearchHit;

use crate::theme::{mono, Palette};
use crate::widgets;

/// Height of a result row.
pub(crate) const ROW_H: f32 = 60.0;

/// The search view's own state.
#[derive(Default)]
pub(crate) struct SearchView {
    /// The text in the search box.
    pub(crate) query: String,
    /// The id of the row picked with the keyboard or the mouse.
    selected: Option<String>,
    /// Give the search box the keyboard next frame.
    pub(crate) focus: bool,
    facets: Facets,
    /// Where the list is scrolled and how tall it is (from the last frame), to keep the
    /// selected row in view; the offset to scroll to next frame.
    scroll: (f32, f32),
    scroll_to: Option<f32>,
}

/// The kinds and crates among the results, worked out once per answer (not per frame).
#[derive(Default)]
struct Facets {
    key: Option<(String, usize, std::time::Duration)>,
    kinds: Vec<String>,
    crates: Vec<String>,
}

impl Facets {
    fn update(&mut self, state: &State) {
        let s = &state.search;
        let key = (s.answered.clone(), s.hits.len(), s.took);
        if self.key.as_ref() != Some(&key) {
            let (kinds, crates) = s.facets();
            self.kinds = kinds.into_iter().collect();
            self.crates = crates.into_iter().collect();
            self.key = Some(key);
        }
    }
}

impl SearchView {
    /// The search box; whether the user typed in it this frame.
    pub(crate) fn search_box(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) -> bool {
        let p = Palette::of(ui);
        let width = (ui.available_width() - 190.0).clamp(160.0, 640.0);
        // The query as the state has it, unless the user is typing (it only differs when
        // something other than this box set it).
        let editing = ui.memory(|m| m.has_focus(search_id()));
        if !editing && self.query != state.search.query {
            self.query = state.search.query.clone();
        }
        let resp = ui.add(
            TextEdit::singleline(&mut self.query)
                .id(search_id())
                .hint_text("Search the workspace  (Ctrl+K)")
                .desired_width(width)
                .margin(egui::Margin::symmetric(8, 4)),
        );
        if std::mem::take(&mut self.focus) {
            resp.request_focus();
        }
        let mut typed = false;
        if resp.changed() {
            out.push(Action::SetQuery(self.query.clone()));
            self.selected = None;
            self.scroll_to = Some(0.0);
            typed = true;
        }
        if resp.has_focus() {
            let (down, up) =
                ui.input(|i| (i.key_pressed(Key::ArrowDown), i.key_pressed(Key::ArrowUp)));
            if down || up {
                self.step(state, if down { 1 } else { -1 });
            }
        }
        if resp.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)) {
            let pick = self
                .selected
                .clone()
                .or_else(|| first(state).map(|h| h.item.id.clone()));
            if let Some(id) = pick {
                self.selected = Some(id.clone());
                out.push(Action::Open(id));
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let s = &state.search;
            if s.busy {
                ui.spinner();
            } else if let Some(e) = &s.error {
                ui.label(RichText::new("search failed").color(p.bad))
                    .on_hover_text(e);
            } else if !s.answered.is_empty() {
                ui.label(
                    RichText::new(format!(
                        "{} results · {}",
                        widgets::count(s.hits.len()),
                        widgets::ms(s.took)
                    ))
                    .color(p.weak),
                );
            }
        });
        typed
    }

    /// Moves the selection `by` rows among the shown results.
    fn step(&mut self, state: &State, by: isize) {
        let s = &state.search;
        if s.shown.is_empty() {
            return;
        }
        let at = self
            .selected
            .as_ref()
            .and_then(|id| s.shown.iter().position(|&i| s.hits[i].item.id == *id));
        let next = match at {
            None => 0,
            Some(k) => (k as isize + by).clamp(0, s.shown.len() as isize - 1) as usize,
        };
        self.selected = Some(s.hits[s.shown[next]].item.id.clone());
        // Keep it in view.
        let (offset, height) = self.scroll;
        let top = next as f32 * ROW_H;
        if top < offset {
            self.scroll_to = Some(top);
        } else if top + ROW_H > offset + height {
            self.scroll_to = Some(top + ROW_H - height);
        }
    }

    /// The results list and its filters (the left panel).
    pub(crate) fn results(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        let s = &state.search;
        self.facets.update(state);
        if !s.hits.is_empty() {
            self.filters(ui, &s.filters, out);
            ui.add_space(2.0);
        }
        if let Some(e) = &s.error {
            ui.label(RichText::new(e).color(p.bad));
        }
        if s.hits.is_empty() {
            let text = if s.query.trim().is_empty() {
                "Type in the search box: names, paths, words from docs or code."
            } else if s.busy {
                "Searching…"
            } else {
                "Nothing found."
            };
            ui.add_space(12.0);
            ui.label(RichText::new(text).color(p.weak));
            return;
        }
        if s.shown.len() < s.hits.len() {
            ui.label(
                RichText::new(format!(
                    "{} of {} results pass the filters",
                    widgets::count(s.shown.len()),
                    widgets::count(s.hits.len())
                ))
                .small()
                .color(p.weak),
            );
        }
        let current = state.item.current.as_ref().map(|v| v.item.id.as_str());
        let mut area = ScrollArea::vertical()
            .id_salt("ploke-results")
            .auto_shrink([false, false]);
        if let Some(y) = self.scroll_to.take() {
            area = area.vertical_scroll_offset(y);
        }
        // Rows touch: no spacing between them (`show_rows` counts it in the row height).
        ui.spacing_mut().item_spacing.y = 0.0;
        let output = area.show_rows(ui, ROW_H, s.shown.len(), |ui, range| {
            for k in range {
                let hit = &s.hits[s.shown[k]];
                let selected = self.selected.as_deref() == Some(hit.item.id.as_str())
                    || current == Some(hit.item.id.as_str());
                if row(ui, hit, selected, p) {
                    self.selected = Some(hit.item.id.clone());
                    out.push(Action::Open(hit.item.id.clone()));
                }
            }
        });
        self.scroll = (output.state.offset.y, output.inner_rect.height());
    }

    fn filters(&self, ui: &mut Ui, filters: &Filters, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        ui.horizontal_wrapped(|ui| {
            ui.spacing_mut().item_spacing = Vec2::new(4.0, 4.0);
            if ui
                .selectable_label(filters.kinds.is_empty(), "all kinds")
                .clicked()
                && !filters.kinds.is_empty()
            {
                out.push(Action::SetFilters(Filters {
                    kinds: Default::default(),
                    ..filters.clone()
                }));
            }
            for kind in &self.facets.kinds {
                let on = filters.kinds.contains(kind);
                let text = RichText::new(kind).color(p.kind(kind));
                if ui.selectable_label(on, text).clicked() {
                    let mut f = filters.clone();
                    if on {
                        f.kinds.remove(kind);
                    } else {
                        f.kinds.insert(kind.clone());
                    }
                    out.push(Action::SetFilters(f));
                }
            }
        });
        ui.horizontal(|ui| {
            let shown = filters.crate_name.as_deref().unwrap_or("all crates");
            ComboBox::from_id_salt("ploke-crate-filter")
                .selected_text(shown)
                .width(150.0)
                .show_ui(ui, |ui| {
                    if ui
                        .selectable_label(filters.crate_name.is_none(), "all crates")
                        .clicked()
                    {
                        out.push(Action::SetFilters(Filters {
                            crate_name: None,
                            ..filters.clone()
                        }));
                    }
                    for c in &self.facets.crates {
                        let on = filters.crate_name.as_ref() == Some(c);
                        if ui.selectable_label(on, c).clicked() {
                            out.push(Action::SetFilters(Filters {
                                crate_name: Some(c.clone()),
                                ..filters.clone()
                            }));
                        }
                    }
                });
            let tests = |t: TestFilter| match t {
                TestFilter::All => "tests and library",
                TestFilter::Exclude => "library only",
                TestFilter::Only => "tests only",
            };
            ComboBox::from_id_salt("ploke-test-filter")
                .selected_text(tests(filters.tests))
                .width(130.0)
                .show_ui(ui, |ui| {
                    for t in [TestFilter::All, TestFilter::Exclude, TestFilter::Only] {
                        if ui.selectable_label(filters.tests == t, tests(t)).clicked() {
                            out.push(Action::SetFilters(Filters {
                                tests: t,
                                ..filters.clone()
                            }));
                        }
                    }
                });
        });
    }
}

/// The search box's id.
fn search_id() -> egui::Id {
    egui::Id::new("ploke-search-box")
}

/// The first result shown.
fn first(state: &State) -> Option<&SearchHit> {
    let s = &state.search;
    s.shown.first().map(|&i| &s.hits[i])
}

/// One result row, painted; whether it was clicked.
fn row(ui: &mut Ui, hit: &SearchHit, selected: bool, p: &Palette) -> bool {
    let width = ui.available_width();
    let (rect, resp) = ui.allocate_exact_size(Vec2::new(width, ROW_H), Sense::click());
    let it = &hit.item;
    resp.widget_info(|| {
        WidgetInfo::selected(
            WidgetType::SelectableLabel,
            true,
            selected,
            format!("{} {}", it.kind, it.path),
        )
    });
    if !ui.is_rect_visible(rect) {
        return resp.clicked();
    }
    let painter = ui.painter();
    let inner = rect.shrink2(Vec2::new(2.0, 2.0));
    if selected {
        painter.rect_filled(inner, 6.0, p.selected);
    } else if resp.hovered() {
        painter.rect_filled(inner, 6.0, p.hover);
    }
    let left = rect.left() + 10.0;
    let right = rect.right() - 10.0;
    let small = FontId::proportional(11.5);

    // Line 1: kind badge, name, badges for test and dependency items; the score.
    let y1 = rect.top() + 6.0;
    let badge =
        ui.fonts_mut(|f| f.layout_no_wrap(it.kind.clone(), small.clone(), p.kind(&it.kind)));
    let badge_rect = Rect::from_min_size(
        Pos2::new(left, y1 + 1.0),
        badge.size() + Vec2::new(10.0, 3.0),
    );
    widgets::paint_badge(painter, badge_rect, badge, p.kind(&it.kind));
    let score = format!("{:.2}", hit.score);
    painter.text(
        Pos2::new(right, y1 + 2.0),
        Align2::RIGHT_TOP,
        score,
        FontId::monospace(12.0),
        p.weak,
    );
    let mut x = badge_rect.right() + 8.0;
    let mut extra = Vec::new();
    if it.test {
        extra.push(("test", p.warn));
    }
    if it.dependency {
        extra.push(("dep", p.weak));
    }
    let name_w = right - 50.0 - x - extra.len() as f32 * 40.0;
    let name = widgets::one_line(ui, &it.name, FontId::proportional(14.5), p.strong, name_w);
    let name_w = name.size().x;
    painter.galley(Pos2::new(x, y1), name, p.strong);
    x += name_w + 6.0;
    for (text, color) in extra {
        let g = ui.fonts_mut(|f| f.layout_no_wrap(text.to_string(), small.clone(), color));
        let r = Rect::from_min_size(Pos2::new(x, y1 + 2.0), g.size() + Vec2::new(8.0, 2.0));
        widgets::paint_badge(painter, r, g, color);
        x = r.right() + 4.0;
    }

    // Line 2: the canonical path.
    let y2 = rect.top() + 25.0;
    let path = widgets::one_line(ui, &it.path, mono(12.0), p.text, right - left);
    painter.galley(Pos2::new(left, y2), path, p.text);

    // Line 3: file and line; the signals and the strongest of them.
    let y3 = rect.top() + 42.0;
    let sig = [hit.signals.lexical, hit.signals.dense, hit.signals.graph];
    let why = widgets::why(sig);
    let bars = Rect::from_min_size(Pos2::new(right - 44.0, y3 + 1.0), Vec2::new(44.0, 11.0));
    widgets::signal_bars(painter, bars, sig, p);
    let why_w = if why.is_empty() {
        0.0
    } else {
        let g = ui.fonts_mut(|f| f.layout_no_wrap(why.to_string(), small.clone(), p.weak));
        let w = g.size().x;
        painter.galley(Pos2::new(bars.left() - 6.0 - w, y3 - 1.0), g, p.weak);
        w + 6.0
    };
    let file = if it.dependency {
        format!(
            "{} {} · {}:{}",
            it.package.as_deref().unwrap_or(&it.crate_name),
            it.version.as_deref().unwrap_or(""),
            hit.package_file,
            it.start_line
        )
    } else {
        format!("{}:{}", it.file, it.start_line)
    };
    let file = widgets::one_line(ui, &file, small, p.weak, bars.left() - 10.0 - why_w - left);
    painter.galley(Pos2::new(left, y3 - 1.0), file, p.weak);

    let resp = resp.on_hover_ui(|ui| {
        ui.label(RichText::new(&it.path).monospace());
        ui.label(format!(
            "score {:.3} · lexical {:.2} · vector {:.2} (cosine {:.2}) · graph {:.2}",
            hit.score,
            hit.signals.lexical,
            hit.signals.dense,
            hit.signals.cosine,
            hit.signals.graph
        ));
        ui.label(format!(
            "{} · {}:{}-{}",
            it.crate_name, it.file, it.start_line, it.end_line
        ));
    });
    resp.clicked()
}
