//! Frame times of the window, drawn headless (no GPU, no display): the egui pass plus the
//! tessellation of its shapes, what the UI thread spends per frame. Side by side, measured
//! alternately: 100 vs 10,000 search results, and an item of 50 vs 5,000 source lines, each
//! still (a repaint with nothing new) and scrolling. Also the one-off cost of opening an
//! item (its source highlighted once, then cached).
//!
//! `cargo bench -p ploke-gui --bench frames` (`FRAMES=n` for another number of frames).

#![allow(clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use ploke_app::{Neighbourhood, State, GRAPH_PER_SIDE};
use ploke_gui::{Side, Tab};

fn frames() -> usize {
    std::env::var("FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn row(what: &str, t: &[Duration]) {
    let (med, p90, max) = common::stats(t);
    println!("  {what:<34} median {med:>7.3} ms   p90 {p90:>7.3} ms   max {max:>7.3} ms");
}

/// Frames of `a` and `b` alternately, still or scrolling over `at`.
fn pair(title: &str, (na, a): (&str, State), (nb, b): (&str, State), at: egui::Pos2) {
    let n = frames();
    let mut ha = common::settled(a, Tab::Item, Side::Results);
    let mut hb = common::settled(b, Tab::Item, Side::Results);
    common::hover(&mut ha, at);
    common::hover(&mut hb, at);
    println!("{title} ({n} frames each)");
    for scroll in [false, true] {
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        // Warm up: the layout caches fill, the scroll animation starts.
        for _ in 0..10 {
            common::frame(&mut ha, scroll);
            common::frame(&mut hb, scroll);
        }
        for _ in 0..n {
            ta.push(common::frame(&mut ha, scroll));
            tb.push(common::frame(&mut hb, scroll));
        }
        let how = if scroll { "scrolling" } else { "still" };
        row(&format!("{na}, {how}"), &ta);
        row(&format!("{nb}, {how}"), &tb);
        let ratio = common::stats(&tb).0 / common::stats(&ta).0;
        println!("  {:<34} {ratio:.2}x", "ratio of medians");
    }
}

/// The first frame after an item of `lines` lines arrives (highlighting it), `n` times.
fn open(lines: usize) -> Vec<Duration> {
    let mut h = common::settled(common::sized_state(100, 50), Tab::Item, Side::Results);
    (0..20)
        .map(|k| {
            let mut v = common::long_view(lines);
            // A new text each time: nothing cached.
            v.source.push_str(&format!("// {k}\n"));
            let s = &mut h.state_mut().state;
            s.item.graph = Neighbourhood::of(&v, GRAPH_PER_SIDE);
            s.item.current = Some(v);
            let t = Instant::now();
            common::frame(&mut h, false);
            t.elapsed()
        })
        .collect()
}

fn main() {
    pair(
        "search results",
        ("100 results", common::sized_state(100, 50)),
        ("10,000 results", common::sized_state(10_000, 50)),
        common::OVER_RESULTS,
    );
    pair(
        "item source",
        ("50 lines", common::sized_state(100, 50)),
        ("5,000 lines", common::sized_state(100, 5_000)),
        common::OVER_SOURCE,
    );
    println!("opening an item (first frame: highlight, cache; 20 times)");
    row("50 lines", &open(50));
    row("5,000 lines", &open(5_000));
}
