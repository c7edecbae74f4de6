//! What a frame costs: each screen of the fixed state drawn on a 100x30 `TestBackend` (the
//! buffer diff included, the terminal's own I/O not), and the lists and the source at 100
//! and 10,000 rows, to show that only the rows in view are drawn. Prints the median and the
//! 90th percentile of 300 frames per case.
//!
//! `cargo bench -p ploke-tui --bench frames`

#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use ploke_app::State;
use ploke_tui::{Screen, ViewState};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

const FRAMES: usize = 300;

/// Median and 90th percentile of drawing `state` as `view` shows it.
fn time(state: &State, view: &ViewState) -> (Duration, Duration) {
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    for _ in 0..20 {
        term.draw(|f| ploke_tui::draw(f, state, view)).unwrap();
    }
    let mut t: Vec<Duration> = (0..FRAMES)
        .map(|_| {
            let start = Instant::now();
            // The buffer is cleared between frames, as a changed screen would be.
            term.clear().unwrap();
            term.draw(|f| ploke_tui::draw(f, state, view)).unwrap();
            start.elapsed()
        })
        .collect();
    t.sort();
    (t[FRAMES / 2], t[FRAMES * 9 / 10])
}

fn with_hits(n: usize) -> State {
    let mut s = common::sample_state();
    let base = s.search.hits.clone();
    s.search.hits = (0..n)
        .map(|i| {
            let mut h = base[i % base.len()].clone();
            h.item.path = format!("{}_{i}", h.item.path);
            h
        })
        .collect();
    s.search.shown = (0..n).collect();
    s
}

fn with_source_lines(n: usize) -> State {
    let mut s = common::sample_state();
    let cur = s.item.current.as_mut().unwrap();
    cur.source = (0..n)
        .map(|i| format!("    let value_{i} = compute(\"{i}\", {i}) * 2; // line {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    s
}

fn main() {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let report = |name: &str, state: &State, view: &ViewState| {
        let (median, p90) = time(state, view);
        println!(
            "{name:<34} median {:>7.1} µs   p90 {:>7.1} µs",
            us(median),
            us(p90)
        );
        median
    };
    println!("frames of 100x30 ({FRAMES} each)");
    let state = common::sample_state();
    for screen in Screen::ALL {
        let view = common::view_on(&state, screen);
        report(&format!("screen {}", screen.title()), &state, &view);
    }
    let mut medians = Vec::new();
    for n in [100, 10_000] {
        let s = with_hits(n);
        let mut view = common::view_on(&s, Screen::Search);
        view.search.list.selected = n / 2;
        medians.push(report(&format!("search, {n} results (middle)"), &s, &view));
    }
    println!(
        "  10,000 / 100 results: {:.2}x",
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
    let mut medians = Vec::new();
    for n in [100, 10_000] {
        let s = with_source_lines(n);
        let mut view = common::view_on(&s, Screen::Item);
        view.sync(&s);
        view.item.source.pos = n / 2;
        medians.push(report(
            &format!("item, {n}-line source (middle)"),
            &s,
            &view,
        ));
    }
    println!(
        "  10,000 / 100 source lines: {:.2}x",
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
    // Highlighting an item when it opens (once, in sync), not per frame.
    let s = with_source_lines(10_000);
    let start = Instant::now();
    let mut view = ViewState::default();
    view.sync(&s);
    println!(
        "opening a 10,000-line item (highlight once): {:.2} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
}
