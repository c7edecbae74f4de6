//! `ploke gui`: a desktop window over [`ploke_app`]. The window only draws: every session
//! call runs on `ploke_app`'s worker threads, which wake the window (`request_repaint`) when
//! a reply waits.
//!
//! The views are functions of the shared [`State`] and their own UI-local state (text being
//! typed, the row selected, the tab shown): [`Gui::show`] draws one frame and returns the
//! [`Action`]s the user asked for; [`Window`] takes the replies in
//! ([`ploke_app::App::poll`]), draws, and dispatches the actions. So a view can be drawn
//! from a hand-built `State` (the snapshot tests) or from a real [`ploke_app::App`] (the flow
//! tests), and nothing here knows how a search or an edit is done.
//!
//! Layout: a top bar (workspace, back and forward, the search box), a left panel (search
//! results with their filters, or the module tree) and a central panel with tabs: the item
//! (source, docs, its neighbourhood as a graph), the context pack, chat, the edit review,
//! the index status and the settings.

mod code;
mod theme;
mod views;
mod widgets;

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use egui::{CentralPanel, Key, KeyboardShortcut, Modifiers, Panel, RichText, Ui};
use ploke_app::{Action, App, EditPhase, State};

use theme::Palette;

/// The tabs of the central panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    /// The item on view: header, neighbourhood graph, source.
    #[default]
    Item,
    /// The context pack of a request.
    Context,
    /// Questions and edit requests to the chat model.
    Chat,
    /// The edit under review: diffs, accept or reject, apply, check, undo.
    Review,
    /// The index and the watcher, and the notices.
    Status,
    /// The chat model and the look.
    Settings,
}

impl Tab {
    /// Every tab, in the order of the tab bar.
    pub const ALL: [Tab; 6] = [
        Tab::Item,
        Tab::Context,
        Tab::Chat,
        Tab::Review,
        Tab::Status,
        Tab::Settings,
    ];

    /// The tab's title.
    pub fn title(self) -> &'static str {
        match self {
            Tab::Item => "Item",
            Tab::Context => "Context",
            Tab::Chat => "Chat",
            Tab::Review => "Review",
            Tab::Status => "Status",
            Tab::Settings => "Settings",
        }
    }
}

/// The tabs of the left panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// Search results and their filters.
    #[default]
    Results,
    /// The crates and their module trees.
    Modules,
}

/// The views and their UI-local state; draws a [`State`] and returns what the user asked.
#[derive(Default)]
pub struct Gui {
    /// The central tab shown.
    pub tab: Tab,
    /// The left panel's tab shown.
    pub side: Side,
    /// The light theme instead of the dark one.
    pub light: bool,
    search: views::search::SearchView,
    item: views::item::ItemPane,
    context: views::context::ContextView,
    chat: views::chat::ChatView,
    review: views::review::ReviewView,
    settings: views::settings::SettingsForm,
    /// The theme installed on the context (`None`: not yet).
    styled: Option<bool>,
    /// Why the last action was refused, until the next one.
    refusal: Option<String>,
}

impl Gui {
    /// A window's views, the dark theme, the item tab and the search results shown.
    pub fn new() -> Gui {
        Gui::default()
    }

    /// Draws one frame of `state` into `ui` (the whole window) and returns the actions the
    /// user asked for, in order.
    pub fn show(&mut self, ui: &mut Ui, state: &State) -> Vec<Action> {
        let mut out = Vec::new();
        if self.styled != Some(self.light) {
            theme::install(ui.ctx(), self.light);
            self.styled = Some(self.light);
            ui.ctx().request_repaint();
        }
        self.keys(ui, state, &mut out);
        self.review.follow(state, &mut self.tab);

        Panel::top("ploke-top")
            .frame(
                egui::Frame::new()
                    .fill(ui.visuals().extreme_bg_color)
                    .inner_margin(egui::Margin::symmetric(12, 8)),
            )
            .show_inside(ui, |ui| self.top_bar(ui, state, &mut out));
        Panel::bottom("ploke-status")
            .frame(
                egui::Frame::new()
                    .fill(ui.visuals().extreme_bg_color)
                    .inner_margin(egui::Margin::symmetric(12, 4)),
            )
            .show_inside(ui, |ui| {
                views::status::bar(ui, state, self.refusal.as_deref())
            });
        Panel::left("ploke-side")
            .resizable(true)
            .default_size(400.0)
            .size_range(260.0..=720.0)
            .frame(
                egui::Frame::new()
                    .fill(ui.visuals().panel_fill)
                    .inner_margin(egui::Margin::symmetric(10, 10)),
            )
            .show_inside(ui, |ui| self.side_panel(ui, state, &mut out));
        CentralPanel::default()
            .frame(
                egui::Frame::new()
                    .fill(ui.visuals().panel_fill)
                    .inner_margin(egui::Margin::symmetric(14, 10)),
            )
            .show_inside(ui, |ui| self.central(ui, state, &mut out));

        if out
            .iter()
            .any(|a| matches!(a, Action::Open(_) | Action::Back | Action::Forward))
        {
            self.tab = Tab::Item;
        }
        if !out.is_empty() {
            self.refusal = None;
            ui.ctx().request_repaint();
        }
        out
    }

    /// Shows why an action was refused (until the next action).
    pub fn refused(&mut self, why: impl Into<String>) {
        self.refusal = Some(why.into());
    }

    /// The search box's text.
    pub fn query(&self) -> &str {
        &self.search.query
    }

    /// Texts highlighted so far (each item's source once, then drawn from the cache).
    pub fn highlighted(&self) -> usize {
        self.item.code.built
    }

    fn keys(&mut self, ui: &Ui, state: &State, out: &mut Vec<Action>) {
        let (back, forward, find) = ui.input_mut(|i| {
            (
                i.consume_shortcut(&KeyboardShortcut::new(Modifiers::ALT, Key::ArrowLeft)),
                i.consume_shortcut(&KeyboardShortcut::new(Modifiers::ALT, Key::ArrowRight)),
                i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::K)),
            )
        });
        if back && !state.item.back.is_empty() {
            out.push(Action::Back);
        }
        if forward && !state.item.forward.is_empty() {
            out.push(Action::Forward);
        }
        if find {
            self.search.focus = true;
            self.side = Side::Results;
        }
    }

    fn top_bar(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        ui.horizontal(|ui| {
            widgets::logo(ui, p.accent);
            ui.label(RichText::new("ploke").color(p.accent).strong().size(16.0));
            ui.label(
                RichText::new(widgets::short_name(&state.workspace))
                    .color(p.strong)
                    .size(15.0),
            )
            .on_hover_text(&state.workspace);
            ui.add_space(8.0);
            let back = ui
                .add_enabled(!state.item.back.is_empty(), egui::Button::new("⏴"))
                .on_hover_text("Back (Alt+Left)");
            if back.clicked() {
                out.push(Action::Back);
            }
            let fwd = ui
                .add_enabled(!state.item.forward.is_empty(), egui::Button::new("⏵"))
                .on_hover_text("Forward (Alt+Right)");
            if fwd.clicked() {
                out.push(Action::Forward);
            }
            ui.add_space(8.0);
            if self.search.search_box(ui, state, out) {
                self.side = Side::Results;
            }
        });
    }

    fn side_panel(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            let n = state.search.shown.len();
            let results = if state.search.hits.is_empty() {
                "Results".to_string()
            } else {
                format!("Results ({})", widgets::count(n))
            };
            ui.selectable_value(&mut self.side, Side::Results, results);
            ui.selectable_value(&mut self.side, Side::Modules, "Modules");
        });
        ui.separator();
        match self.side {
            Side::Results => self.search.results(ui, state, out),
            Side::Modules => views::modules::show(ui, state, out),
        }
    }

    fn central(&mut self, ui: &mut Ui, state: &State, out: &mut Vec<Action>) {
        let p = Palette::of(ui);
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                let note = match tab {
                    Tab::Review => match &state.edit.phase {
                        EditPhase::Review { files, .. } => Some(files.len().to_string()),
                        EditPhase::Proposing | EditPhase::Applying | EditPhase::Checking(_) => {
                            Some("…".into())
                        }
                        _ => None,
                    },
                    Tab::Chat if state.chat.busy => Some("…".into()),
                    Tab::Status if state.status.indexing => Some("…".into()),
                    Tab::Status if state.notices.iter().any(|n| n.warning) => Some("!".into()),
                    _ => None,
                };
                let label = match note {
                    Some(n) => format!("{}  {n}", tab.title()),
                    None => tab.title().to_string(),
                };
                let title = RichText::new(label);
                let title = if self.tab == tab {
                    title.strong().color(p.strong)
                } else {
                    title
                };
                if ui.selectable_label(self.tab == tab, title).clicked() {
                    self.tab = tab;
                }
            }
        });
        ui.separator();
        match self.tab {
            Tab::Item => self.item.show(ui, state, out),
            Tab::Context => self.context.show(ui, state, out),
            Tab::Chat => self.chat.show(ui, state, out),
            Tab::Review => self.review.show(ui, state, out),
            Tab::Status => views::status::show(ui, state, out),
            Tab::Settings => self.settings.show(ui, state, &mut self.light, out),
        }
    }
}

/// A workspace's window: an [`App`] and the [`Gui`] that draws it.
pub struct Window {
    app: App,
    gui: Gui,
}

impl Window {
    /// The window of `app`.
    pub fn new(app: App) -> Window {
        Window {
            app,
            gui: Gui::new(),
        }
    }

    /// One frame: takes the workers' replies in, draws, and does what the user asked.
    pub fn frame(&mut self, ui: &mut Ui) {
        self.app.poll();
        let actions = self.gui.show(ui, self.app.state());
        for action in actions {
            if let Err(why) = self.app.dispatch(action) {
                self.gui.refused(why);
            }
        }
    }

    /// The app behind the window.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The app behind the window, to wait on its workers (tests).
    pub fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }

    /// The views.
    pub fn gui(&self) -> &Gui {
        &self.gui
    }

    /// The views, to switch tabs (tests).
    pub fn gui_mut(&mut self) -> &mut Gui {
        &mut self.gui
    }
}

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }
}

/// Opens the workspace of `opts` and runs the window until the user closes it.
pub fn run(opts: ploke_session::OpenOptions) -> anyhow::Result<()> {
    if !has_display(|name| std::env::var_os(name)) {
        anyhow::bail!(NO_DISPLAY);
    }
    // The workers wake the window once it exists.
    let ctx: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
    let waker = {
        let ctx = ctx.clone();
        Arc::new(move || {
            if let Some(ctx) = ctx.get() {
                ctx.request_repaint();
            }
        })
    };
    let app = App::start(opts, waker).context("opening the workspace")?;
    let title = format!("ploke — {}", widgets::short_name(&app.state().workspace));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title(&title)
            .with_app_id("ploke")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([720.0, 480.0]),
        renderer: eframe::Renderer::Glow,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        &title,
        options,
        Box::new(move |cc| {
            let _ = ctx.set(cc.egui_ctx.clone());
            Ok(Box::new(Window::new(app)))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open a window ({e}): {NO_DISPLAY}"))
}

/// Whether a window can be opened: on Linux, an X11 or Wayland display is named (other
/// systems always have one).
fn has_display(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    !cfg!(target_os = "linux")
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| var(v).is_some_and(|s| !s.is_empty()))
}

/// What `run` says when no window can be opened.
const NO_DISPLAY: &str =
    "ploke gui needs a display (DISPLAY or WAYLAND_DISPLAY); use `ploke tui` in a terminal";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_is_named_by_x11_or_wayland() {
        if cfg!(target_os = "linux") {
            assert!(!has_display(|_| None));
            assert!(!has_display(|_| Some("".into())));
            assert!(has_display(
                |v| (v == "WAYLAND_DISPLAY").then(|| "wayland-0".into())
            ));
            assert!(has_display(|v| (v == "DISPLAY").then(|| ":0".into())));
        }
        assert!(NO_DISPLAY.contains("ploke tui") && !NO_DISPLAY.contains('\n'));
    }
}
