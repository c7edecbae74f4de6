//! Frame cost does not grow with what is listed: the results list and the item's source
//! draw only the rows in view (`show_rows`), so a frame of 10,000 results costs about what a
//! frame of 100 does, and a 5,000-line item about what a 50-line one does. Structural, not
//! a timing figure (those come from `cargo bench -p ploke-gui --bench frames`): the two are
//! measured interleaved, and the bound is generous (5x plus 4 ms).

mod common;

use std::time::Duration;

use ploke_gui::{Side, Tab};

const FRAMES: usize = 40;

/// Medians of `FRAMES` frames of `small` and `big`, measured alternately, scrolling over `at`.
fn compare(small: ploke_app::State, big: ploke_app::State, tab: Tab, at: egui::Pos2) -> (f64, f64) {
    let mut hs = common::settled(small, tab, Side::Results);
    let mut hb = common::settled(big, tab, Side::Results);
    common::hover(&mut hs, at);
    common::hover(&mut hb, at);
    let (mut ts, mut tb): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for i in 0..FRAMES {
        // Still frames and scrolled ones, both.
        let scroll = i % 2 == 0;
        ts.push(common::frame(&mut hs, scroll));
        tb.push(common::frame(&mut hb, scroll));
    }
    (common::stats(&ts).0, common::stats(&tb).0)
}

fn assert_flat(what: &str, small: f64, big: f64) {
    assert!(
        big <= small * 5.0 + 4.0,
        "{what}: a frame of the big one took {big:.2} ms, of the small one {small:.2} ms"
    );
}

#[test]
fn ten_thousand_results_cost_a_frame_what_a_hundred_do() {
    let (small, big) = compare(
        common::sized_state(100, 50),
        common::sized_state(10_000, 50),
        Tab::Item,
        common::OVER_RESULTS,
    );
    assert_flat("search", small, big);
}

#[test]
fn a_five_thousand_line_item_costs_a_frame_what_fifty_lines_do() {
    let (small, big) = compare(
        common::sized_state(100, 50),
        common::sized_state(100, 5_000),
        Tab::Item,
        common::OVER_SOURCE,
    );
    assert_flat("item", small, big);
}
