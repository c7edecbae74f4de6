//! Snapshot images of every view, drawn from a hand-built State (fixed workspace, timings and
//! ids) with the software renderer: no GPU, no display. `UPDATE_SNAPSHOTS=1 cargo test -p
//! ploke-gui --test snapshots` writes them again (and the README's copies under
//! docs/screenshots/).

mod common;

use ploke_gui::{Gui, Side, Tab};

/// Draws the state with `tab` and `side` shown and compares the window with the snapshot
/// `name`.
fn snap(name: &str, tab: Tab, side: Side, light: bool) {
    let mut gui = Gui::new();
    gui.tab = tab;
    gui.side = side;
    gui.light = light;
    let mut h = common::harness(gui, common::state(), common::SIZE);
    h.run();
    assert!(h.state().actions.is_empty(), "{:?}", h.state().actions);
    // The software renderer is deterministic; a few pixels of slack for another CPU's
    // rounding in anti-aliased edges.
    h.snapshot_options(
        name,
        &egui_kittest::SnapshotOptions::new().failed_pixel_count_threshold(100),
    );
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some()
        && matches!(name, "search" | "review" | "context")
    {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let dir = std::path::Path::new(root).join("docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/snapshots/{name}.png"));
        std::fs::copy(from, dir.join(format!("gui-{name}.png"))).unwrap();
    }
}

#[test]
fn search() {
    snap("search", Tab::Item, Side::Results, false);
}

#[test]
fn item_and_modules() {
    snap("item", Tab::Item, Side::Modules, false);
}

#[test]
fn context() {
    snap("context", Tab::Context, Side::Results, false);
}

#[test]
fn chat() {
    snap("chat", Tab::Chat, Side::Results, false);
}

#[test]
fn review() {
    snap("review", Tab::Review, Side::Results, false);
}

#[test]
fn status() {
    snap("status", Tab::Status, Side::Results, false);
}

#[test]
fn settings() {
    snap("settings", Tab::Settings, Side::Results, false);
}

#[test]
fn light_theme() {
    snap("light", Tab::Item, Side::Results, true);
}
