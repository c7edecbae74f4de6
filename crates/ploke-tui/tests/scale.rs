//! Only the rows in view are drawn: a frame of 10,000 search results, or of a 10,000-line
//! item, costs about what one of 100 does (generous bounds: the machine may be loaded; the
//! figures themselves come from `cargo bench -p ploke-tui --bench frames`).

mod common;

use std::time::{Duration, Instant};

use ploke_app::State;
use ploke_tui::{Screen, ViewState};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// The fastest of a few frames (the least disturbed by other work on the machine).
fn fastest(state: &State, view: &ViewState) -> Duration {
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    (0..15)
        .map(|_| {
            let t = Instant::now();
            term.clear().unwrap();
            term.draw(|f| ploke_tui::draw(f, state, view)).unwrap();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn with_hits(n: usize) -> State {
    let mut s = common::sample_state();
    let base = s.search.hits.clone();
    s.search.hits = (0..n).map(|i| base[i % base.len()].clone()).collect();
    s.search.shown = (0..n).collect();
    s
}

fn with_source_lines(n: usize) -> State {
    let mut s = common::sample_state();
    s.item.current.as_mut().unwrap().source = (0..n)
        .map(|i| format!("    let v{i} = f({i}) * 2; // {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    s
}

#[test]
fn frames_cost_the_same_for_100_and_10000_rows() {
    let (small, big) = (with_hits(100), with_hits(10_000));
    let mut vs = common::view_on(&small, Screen::Search);
    let mut vb = common::view_on(&big, Screen::Search);
    vs.search.list.selected = 50;
    vb.search.list.selected = 5_000;
    let (a, b) = (fastest(&small, &vs), fastest(&big, &vb));
    assert!(
        b < a * 5 + Duration::from_millis(2),
        "10,000 results: {b:?}, 100: {a:?}"
    );

    let (small, big) = (with_source_lines(100), with_source_lines(10_000));
    let mut vs = common::view_on(&small, Screen::Item);
    let mut vb = common::view_on(&big, Screen::Item);
    vs.item.source.pos = 50;
    vb.item.source.pos = 5_000;
    let (a, b) = (fastest(&small, &vs), fastest(&big, &vb));
    assert!(
        b < a * 5 + Duration::from_millis(2),
        "10,000 source lines: {b:?}, 100: {a:?}"
    );
    // What was drawn is the part scrolled to.
    let t = common::text(&common::frame(&big, &vb, 100, 30));
    assert!(t.contains("let v5000 = f(5000) * 2;"), "{t}");
}
