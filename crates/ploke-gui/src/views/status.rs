//! The index: its status (files, items, generation, embeddings, dependencies, whether it is
//! kept live), an index run's progress, Re-index and the watcher's toggle; the notices, and
//! the status bar at the bottom of the window.

use egui::{Grid, ProgressBar, RichText, ScrollArea, Ui};
use ploke_app::{Action, Progress, State};

use crate::theme::Palette;
use crate::widgets;

/// The status tab.
pub(crate) fn show(ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
    let p = Palette::of(ui);
    let st = &state.status;
    ScrollArea::vertical()
        .id_salt("ploke-status-tab")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            widgets::heading(ui, "Index", "");
            if let Some(pr) = &st.progress {
                progress(ui, pr, 420.0);
            } else if st.indexing {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Indexing…");
                });
            }
            widgets::card(ui, |ui| match &st.index {
                None => {
                    ui.label(RichText::new("No status yet.").color(p.weak));
                }
                Some(s) => {
                    Grid::new("ploke-index-status")
                        .num_columns(2)
                        .spacing([24.0, 6.0])
                        .show(ui, |ui| {
                            let row = |ui: &mut Ui, k: &str, v: RichText| {
                                ui.label(RichText::new(k).color(p.weak));
                                ui.label(v);
                                ui.end_row();
                            };
                            row(ui, "Workspace", RichText::new(&s.workspace).monospace());
                            row(ui, "Index", RichText::new(&s.db).monospace());
                            row(
                                ui,
                                "Generation",
                                RichText::new(s.generation.to_string()).strong(),
                            );
                            row(ui, "Files", RichText::new(widgets::count(s.files)).strong());
                            row(ui, "Items", RichText::new(widgets::count(s.items)).strong());
                            let embedded = match &s.model {
                                Some(m) => format!(
                                    "{} / {} ({m})",
                                    widgets::count(s.embedded),
                                    widgets::count(s.embeddable)
                                ),
                                None if s.embeddable == 0 => {
                                    "off (lexical and graph search)".into()
                                }
                                None => format!(
                                    "{} / {}",
                                    widgets::count(s.embedded),
                                    widgets::count(s.embeddable)
                                ),
                            };
                            row(ui, "Embedded", RichText::new(embedded));
                            let deps = if s.dependencies.is_empty() {
                                "none attached".to_string()
                            } else {
                                format!("{} attached", s.dependencies.len())
                            };
                            ui.label(RichText::new("Dependencies").color(p.weak));
                            ui.label(deps).on_hover_text(s.dependencies.join("\n"));
                            ui.end_row();
                            let live = if st.watching || s.live {
                                RichText::new("⏺ watching files in this window").color(p.good)
                            } else if let Some(e) = &s.live_elsewhere {
                                RichText::new(format!("⏺ kept live by {e}")).color(p.good)
                            } else {
                                RichText::new("○ not watching").color(p.weak)
                            };
                            row(ui, "Live", live);
                            if let Some(t) = s.written_at {
                                row(ui, "Written", RichText::new(widgets::utc(t)));
                            }
                            match s.changed_files {
                                Some(0) if !s.workspace_changed => {
                                    row(ui, "Changed since", RichText::new("nothing").color(p.good))
                                }
                                Some(n) => {
                                    let mut t =
                                        format!("{n} file{}", if n == 1 { "" } else { "s" });
                                    if s.workspace_changed {
                                        t.push_str(" · manifests or targets changed");
                                    }
                                    row(ui, "Changed since", RichText::new(t).color(p.warn));
                                }
                                None => {}
                            }
                            row(ui, "Size", RichText::new(widgets::bytes(s.db_bytes)));
                        });
                }
            });
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let idle = !st.indexing;
                if ui
                    .add_enabled(idle, egui::Button::new("Re-index"))
                    .on_hover_text("Bring the index up to date with the files")
                    .clicked()
                {
                    out.push(Action::Index { rebuild: false });
                }
                if ui
                    .add_enabled(idle, egui::Button::new("Rebuild"))
                    .on_hover_text("Index everything again from scratch")
                    .clicked()
                {
                    out.push(Action::Index { rebuild: true });
                }
                let mut watching = st.watching;
                if ui
                    .checkbox(&mut watching, "Watch files")
                    .on_hover_text("Keep the index live as files change")
                    .changed()
                {
                    out.push(Action::Watch(watching));
                }
                if ui.button("Refresh").clicked() {
                    out.push(Action::RefreshStatus);
                }
            });
            if let Some(sum) = &st.last_index {
                let ms: f64 = sum.stages_ms.iter().map(|(_, ms)| ms).sum();
                ui.label(
                    RichText::new(format!(
                        "Last run: {} files, {} items, {} edges in {ms:.0} ms (generation {})",
                        widgets::count(sum.files),
                        widgets::count(sum.items),
                        widgets::count(sum.edges),
                        sum.generation
                    ))
                    .color(p.weak),
                );
                if !sum.problems.is_empty() {
                    egui::CollapsingHeader::new(
                        RichText::new(format!("{} problems", sum.problems.len())).color(p.warn),
                    )
                    .id_salt("ploke-index-problems")
                    .show(ui, |ui| {
                        for pr in &sum.problems {
                            ui.label(RichText::new(pr).monospace().small());
                        }
                    });
                }
            }
            if let Some(u) = &st.last_update {
                ui.label(
                    RichText::new(format!(
                        "Live update: generation {}, {} files, {} items in {:.0} ms",
                        u.generation,
                        u.files.len(),
                        u.items,
                        u.ms
                    ))
                    .color(p.weak),
                );
            }

            ui.add_space(14.0);
            widgets::heading(ui, "Notices", "newest first");
            if state.notices.is_empty() {
                ui.label(RichText::new("Nothing to report.").color(p.weak));
            }
            for n in state.notices.iter().rev() {
                let (icon, color) = if n.warning {
                    ("⚠", p.warn)
                } else {
                    ("ℹ", p.weak)
                };
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(icon).color(color));
                    ui.label(RichText::new(&n.text).color(if n.warning { p.warn } else { p.text }));
                });
            }
        });
}

fn progress(ui: &mut Ui, pr: &Progress, width: f32) {
    let text = if pr.total > 0 {
        format!("{} {}/{}", pr.stage, pr.done, pr.total)
    } else {
        format!("{}…", pr.stage)
    };
    let bar = match pr.fraction() {
        Some(f) => ProgressBar::new(f),
        None => ProgressBar::new(0.0).animate(true),
    };
    ui.add(bar.text(text).desired_width(width));
}

/// The bar at the bottom of the window: the index in a line, progress, the watcher, and the
/// latest refusal or notice.
pub(crate) fn bar(ui: &mut Ui, state: &State, refusal: Option<&str>) {
    let p = Palette::of(ui);
    let st = &state.status;
    ui.horizontal(|ui| {
        match &st.index {
            Some(s) => {
                let stale = s.changed_files.is_some_and(|n| n > 0) || s.workspace_changed;
                let dot = if stale { p.warn } else { p.good };
                ui.label(RichText::new("⏺").color(dot));
                ui.label(
                    RichText::new(format!(
                        "generation {} · {} files · {} items",
                        s.generation,
                        widgets::count(s.files),
                        widgets::count(s.items)
                    ))
                    .color(p.weak),
                );
                if let Some(m) = &s.model {
                    ui.label(
                        RichText::new(format!("· {}/{} embedded ({m})", s.embedded, s.embeddable))
                            .color(p.weak),
                    );
                }
            }
            None => {
                ui.label(RichText::new("○ no index status").color(p.weak));
            }
        }
        if st.watching {
            ui.label(RichText::new("· live").color(p.good));
        }
        if let Some(pr) = &st.progress {
            progress(ui, pr, 220.0);
        } else if st.indexing {
            ui.spinner();
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if let Some(r) = refusal {
                ui.label(RichText::new(format!("⚠ {r}")).color(p.warn));
            } else if let Some(n) = state.notices.last() {
                let color = if n.warning { p.warn } else { p.weak };
                ui.add(egui::Label::new(RichText::new(&n.text).color(color)).truncate());
            }
        });
    });
}
