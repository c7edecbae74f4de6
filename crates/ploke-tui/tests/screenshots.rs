//! The README's screenshots: every screen of the fixed state drawn at 100x30 and written as
//! SVG to `tests/screenshots/<screen>.svg`. The test compares each with the committed file,
//! so the pictures stay in step with the code; `UPDATE_SNAPSHOTS=1` writes them again.

mod common;

use std::path::PathBuf;

use common::{frame, sample_state, view_on};
use ploke_tui::Screen;

#[test]
fn screenshots_match_the_committed_svgs() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/screenshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1");
    let state = sample_state();
    let mut stale = Vec::new();
    for screen in Screen::ALL {
        let view = view_on(&state, screen);
        let svg = ploke_tui::svg::to_svg(&frame(&state, &view, 100, 30));
        let path = dir.join(format!("{}.svg", screen.title().to_lowercase()));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &svg).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == svg => {}
            _ => stale.push(path.display().to_string()),
        }
    }
    assert!(
        stale.is_empty(),
        "screenshots differ from the drawing: {stale:?} (UPDATE_SNAPSHOTS=1 cargo test -p ploke-tui --test screenshots writes them again)"
    );
}
